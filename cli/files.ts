import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import type { Flags, FlagValues } from '../lib/args.js';

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

/** A document with where it came from: the file, and `[index]` when the file holds several. */
export interface PlacedDoc {
  where: string;
  doc: unknown;
}

/**
 * Every document of every file, in order, with its place; a file that cannot be read or parsed is
 * passed to `unreadable` (its message names the file) and skipped.
 */
export function readAll(files: readonly string[], unreadable: (message: string) => void): PlacedDoc[] {
  const out: PlacedDoc[] = [];
  for (const file of files) {
    let docs: LoadedDoc[];
    try {
      docs = loadDocs(file);
    } catch (err) {
      unreadable((err as Error).message);
      continue;
    }
    for (const d of docs) out.push({ where: docs.length > 1 ? `${file}[${d.index}]` : file, doc: d.doc });
  }
  return out;
}

/** -f/--file and --filename (kubectl's spelling), each repeatable. */
export const FILE_FLAGS = {
  file: { type: 'string', short: 'f', multiple: true },
  filename: { type: 'string', multiple: true, aliasOf: 'file' },
} as const satisfies Flags;

/** The files named by -f/--file/--filename, in the order given, then the bare arguments. */
export function filesOf(values: FlagValues<typeof FILE_FLAGS>, positionals: readonly string[] = []): string[] {
  return [...(values.file ?? []), ...positionals];
}
