import type { ObservabilityStack } from '../api/types.js';
import type { Problem } from '../api/validate.js';
import { KIND_SLO, KIND_STACK } from '../conventions/index.js';
import { type Checked, type CheckPolicy, checkResource, sloStackProblems } from '../desired/check.js';
import { parseImagePrefixes } from '../desired/stack/image-policy.js';
import { parseFlags } from '../lib/args.js';
import type { Output } from '../lib/output.js';
import { expandPaths, FILE_FLAGS, filesOf, readAll } from './files.js';

export type { Output } from '../lib/output.js';

/** checkResource, with Vigil's own bug (render threw) reported as a problem of the document too. */
export function checkDoc(doc: unknown, policy: CheckPolicy = {}): Checked {
  try {
    return checkResource(doc, {}, policy);
  } catch (err) {
    return { ok: false, problems: [{ path: 'spec', message: (err as Error).message }] };
  }
}

/** `--allowed-image-prefixes`, shared by validate and render: the operator's flag of the same name. */
export const IMAGE_PREFIX_FLAGS = { 'allowed-image-prefixes': { type: 'string' } } as const;
export const IMAGE_PREFIX_USAGE = [
  '  --allowed-image-prefixes  refuse a stack whose spec names an image outside these prefixes, as the operator',
  '                            with the same flag (or VIGIL_ALLOWED_IMAGE_PREFIXES) does',
].join('\n');
/** The policy from the flag's value; a bad prefix is an error naming the flag. */
export function imagePolicyOf(value: string | undefined, errors: string[]): CheckPolicy {
  const images = parseImagePrefixes(value);
  errors.push(...images.errors.map((e) => `--allowed-image-prefixes: ${e}`));
  return { allowedImagePrefixes: images.prefixes };
}

const USAGE = [
  'usage: vigil validate -f FILE [-f FILE...] [--allowed-image-prefixes P1,P2]   (files or directories of YAML)',
  IMAGE_PREFIX_USAGE,
].join('\n');
const FLAGS = {
  ...FILE_FLAGS,
  ...IMAGE_PREFIX_FLAGS,
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * `vigil validate -f FILE...`: what the operator checks (schema and rules, render problems, SLO
 * queries, the names of the children, an SLO's stack when it is among the files), offline. Prints `file: field.path: message` per problem;
 * exits 1 on any problem, 2 on bad usage.
 */
export function runValidate(args: string[], io: Output): number {
  const { values, positionals, errors } = parseFlags(args, FLAGS, { positionals: true });
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  const files = filesOf(values, positionals);
  const policy = imagePolicyOf(values['allowed-image-prefixes'], errors);
  if (errors.length || files.length === 0) {
    io.err([...errors, USAGE].join('\n'));
    return 2;
  }
  let paths: string[];
  try {
    paths = expandPaths(files);
  } catch (err) {
    io.err(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  let problems = 0;
  const results: { where: string; checked: Checked }[] = [];
  const docs = readAll(paths, (message) => {
    io.out(message);
    problems++;
  });
  for (const d of docs) results.push({ where: d.where, checked: checkDoc(d.doc, policy) });
  // An SLO whose stack is among the files is checked against it too, as the operator does.
  const stacks = new Map<string, ObservabilityStack>();
  for (const { checked } of results) {
    if (checked.ok && checked.kind === KIND_STACK) stacks.set(keyOf(checked.stack.metadata), checked.stack);
  }
  for (const { where, checked } of results) {
    let found = checked.problems as Problem[];
    if (checked.ok && checked.kind === KIND_SLO) {
      const stack = stacks.get(keyOf({ ...checked.slo.metadata, name: checked.slo.spec.stackRef.name }));
      if (stack) found = sloStackProblems(checked.slo, stack);
    }
    for (const p of found) io.out(`${where}: ${p.path}: ${p.message}`);
    problems += found.length;
  }
  const n = results.length;
  io.err(problems ? `${problems} problem(s) in ${n} resource(s)` : `${n} resource(s) valid`);
  return problems ? 1 : 0;
}

const keyOf = (m: { namespace?: string; name?: string }) => `${m.namespace ?? ''}/${m.name ?? ''}`;
