import { validateResource } from '../api/validate.js';
import type { Output } from '../lib/output.js';
import { expandPaths, fileArgs, loadDocs } from './files.js';

export type { Output } from '../lib/output.js';

/** `vigil validate -f FILE...`: prints `file: field.path: message` per problem; 1 on any problem. */
export function runValidate(args: string[], io: Output): number {
  const { files, rest } = fileArgs(args);
  files.push(...rest.filter((a) => !a.startsWith('-')));
  if (files.length === 0) {
    io.err('usage: vigil validate -f FILE [-f FILE...]   (files or directories of YAML)');
    return 2;
  }
  let problems = 0;
  let checked = 0;
  for (const file of expandPaths(files)) {
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
      const r = validateResource(d.doc);
      for (const p of r.problems) io.out(`${where}: ${p.path}: ${p.message}`);
      problems += r.problems.length;
    }
  }
  io.err(problems ? `${problems} problem(s) in ${checked} resource(s)` : `${checked} resource(s) valid`);
  return problems ? 1 : 0;
}
