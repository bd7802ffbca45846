import { type Checked, checkResource } from '../desired/check.js';
import { parseFlags } from '../lib/args.js';
import type { Output } from '../lib/output.js';
import { expandPaths, FILE_FLAGS, filesOf, loadDocs } from './files.js';

export type { Output } from '../lib/output.js';

/** checkResource, with Vigil's own bug (render threw) reported as a problem of the document too. */
export function checkDoc(doc: unknown): Checked {
  try {
    return checkResource(doc);
  } catch (err) {
    return { ok: false, problems: [{ path: 'spec', message: (err as Error).message }] };
  }
}

const USAGE = 'usage: vigil validate -f FILE [-f FILE...]   (files or directories of YAML)';
const FLAGS = { ...FILE_FLAGS, help: { type: 'boolean', short: 'h' } } as const;

/**
 * `vigil validate -f FILE...`: what the operator checks (schema and rules, render problems, SLO
 * queries, the names of the children), offline. Prints `file: field.path: message` per problem;
 * exits 1 on any problem, 2 on bad usage.
 */
export function runValidate(args: string[], io: Output): number {
  const { values, positionals, errors } = parseFlags(args, FLAGS, { positionals: true });
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  const files = filesOf(values, positionals);
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
  let checked = 0;
  for (const file of paths) {
    let docs: ReturnType<typeof loadDocs>;
    try {
      docs = loadDocs(file);
    } catch (err) {
      io.out((err as Error).message);
      problems++;
      continue;
    }
    for (const d of docs) {
      checked++;
      const where = docs.length > 1 ? `${file}[${d.index}]` : file;
      const found = checkDoc(d.doc).problems;
      for (const p of found) io.out(`${where}: ${p.path}: ${p.message}`);
      problems += found.length;
    }
  }
  io.err(problems ? `${problems} problem(s) in ${checked} resource(s)` : `${checked} resource(s) valid`);
  return problems ? 1 : 0;
}
