import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';

export interface LoadedDoc {
  file: string;
  /** Index of the document inside a multi-document YAML file. */
  index: number;
  doc: unknown;
}

/** Expands directories to the .yaml/.yml/.json files inside them (recursively), sorted. */
export function expandPaths(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (statSync(p).isDirectory()) {
      const entries = readdirSync(p).sort();
      out.push(
        ...expandPaths(
          entries.map((e) => join(p, e)).filter((e) => statSync(e).isDirectory() || /\.(ya?ml|json)$/.test(e)),
        ),
      );
    } else out.push(p);
  }
  return out;
}

/** Reads every non-empty YAML document of a file. Throws with the file name on a YAML syntax error. */
export function loadDocs(file: string): LoadedDoc[] {
  const text = readFileSync(file, 'utf8');
  try {
    return yaml
      .loadAll(text)
      .map((doc, index) => ({ file, index, doc }))
      .filter((d) => d.doc !== null && d.doc !== undefined);
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** Parses -f/--file options (repeatable, and bare arguments after them). */
export function fileArgs(args: string[]): { files: string[]; rest: string[] } {
  const files: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-f' || a === '--file' || a === '--filename') {
      const v = args[++i];
      if (v === undefined) throw new Error(`${a} needs a file name`);
      files.push(v);
    } else if (a.startsWith('--file=') || a.startsWith('--filename=')) files.push(a.slice(a.indexOf('=') + 1));
    else rest.push(a);
  }
  return { files, rest };
}
