// `vigil render -f stack.yaml [-o DIR] [-n NAMESPACE]`: the manifests a stack produces, without an
// operator, for teams that commit rendered YAML or point Argo CD at it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import type { ObservabilityStack } from '../api/types.js';
import { KIND_STACK } from '../conventions/index.js';
import type { KubeObject } from '../desired/stack/index.js';
import { parseFlags } from '../lib/args.js';
import { expandPaths, FILE_FLAGS, filesOf, readAll } from './files.js';
import { checkDoc, IMAGE_PREFIX_FLAGS, IMAGE_PREFIX_USAGE, imagePolicyOf, type Output } from './validate.js';

const USAGE = [
  'usage: vigil render -f FILE [-f FILE...] [-o DIR] [-n NAMESPACE] [--allowed-image-prefixes P1,P2]',
  IMAGE_PREFIX_USAGE,
].join('\n');

export const toYaml = (o: KubeObject) => yaml.dump(o, { noRefs: true, lineWidth: -1 });

const FLAGS = {
  ...FILE_FLAGS,
  'output-dir': { type: 'string', short: 'o' },
  namespace: { type: 'string', short: 'n' },
  ...IMAGE_PREFIX_FLAGS,
  help: { type: 'boolean', short: 'h' },
} as const;

/** Prints multi-document YAML, or writes DIR/<stack>/<kind>-<name>.yaml per object with -o. */
export function runRender(args: string[], io: Output): number {
  const { values, errors } = parseFlags(args, FLAGS);
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  const files = filesOf(values);
  const policy = imagePolicyOf(values['allowed-image-prefixes'], errors);
  if (errors.length || files.length === 0) {
    io.err([...errors, USAGE].join('\n'));
    return 2;
  }
  const outDir = values['output-dir'];
  let paths: string[];
  try {
    paths = expandPaths(files);
  } catch (err) {
    io.err(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  let problems = 0;
  const docs: string[] = [];
  const loaded = readAll(paths, (message) => {
    io.err(message);
    problems++;
  });
  for (const { where, doc } of loaded) {
    if ((doc as { kind?: unknown })?.kind !== KIND_STACK) continue;
    const c = checkDoc(withNamespace(doc as ObservabilityStack, values.namespace), policy);
    for (const p of c.problems) io.err(`${where}: ${p.path}: ${p.message}`);
    problems += c.problems.length;
    if (!c.ok || c.kind !== KIND_STACK) continue;
    const objects = c.objects;
    if (outDir) {
      const dir = join(outDir, c.stack.metadata.name || 'stack');
      mkdirSync(dir, { recursive: true });
      for (const o of objects) writeFileSync(join(dir, `${o.kind.toLowerCase()}-${o.metadata.name}.yaml`), toYaml(o));
      io.err(`${where}: wrote ${objects.length} objects to ${dir}`);
    } else docs.push(...objects.map(toYaml));
  }
  if (docs.length) io.out(docs.join('---\n'));
  return problems ? 1 : 0;
}

function withNamespace(stack: ObservabilityStack, namespace: string | undefined): ObservabilityStack {
  if (!namespace || !stack.metadata || stack.metadata.namespace) return stack;
  return { ...stack, metadata: { ...stack.metadata, namespace } };
}
