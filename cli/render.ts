// `vigil render -f stack.yaml [-o DIR] [-n NAMESPACE]`: the manifests a stack produces, without an
// operator, for teams that commit rendered YAML or point Argo CD at it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import type { ObservabilityStack } from '../api/types.js';
import { validateResource } from '../api/validate.js';
import { KIND_STACK } from '../conventions/index.js';
import { type KubeObject, renderStack } from '../desired/stack/index.js';
import { expandPaths, fileArgs, loadDocs } from './files.js';
import type { Output } from './validate.js';

const USAGE = 'usage: vigil render -f FILE [-f FILE...] [-o DIR] [-n NAMESPACE]';

export const toYaml = (o: KubeObject) => yaml.dump(o, { noRefs: true, lineWidth: -1 });

function option(rest: string[], flags: string[]): { value?: string; rest: string[] } {
  const out: string[] = [];
  let value: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    if (flags.includes(rest[i])) value = rest[++i];
    else out.push(rest[i]);
  }
  return { value, rest: out };
}

/** Prints multi-document YAML, or writes DIR/<stack>/<kind>-<name>.yaml per object with -o. */
export function runRender(args: string[], io: Output): number {
  let files: string[];
  let rest: string[];
  try {
    ({ files, rest } = fileArgs(args));
  } catch (err) {
    io.err(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const out = option(rest, ['-o', '--output-dir']);
  const ns = option(out.rest, ['-n', '--namespace']);
  if (files.length === 0 || ns.rest.length > 0) {
    io.err(USAGE);
    return 2;
  }
  let problems = 0;
  const docs: string[] = [];
  for (const file of expandPaths(files)) {
    let loaded: ReturnType<typeof loadDocs>;
    try {
      loaded = loadDocs(file);
    } catch (err) {
      io.err((err as Error).message);
      problems++;
      continue;
    }
    for (const d of loaded) {
      const where = loaded.length > 1 ? `${file}[${d.index}]` : file;
      if ((d.doc as { kind?: unknown })?.kind !== KIND_STACK) continue;
      const v = validateResource(d.doc);
      const r = v.ok
        ? renderStack(withNamespace(v.object as ObservabilityStack, ns.value))
        : { objects: [], problems: v.problems };
      for (const p of r.problems) io.err(`${where}: ${p.path}: ${p.message}`);
      problems += r.problems.length;
      if (r.problems.length) continue;
      if (out.value) {
        const dir = join(out.value, (v.ok && v.object.metadata.name) || 'stack');
        mkdirSync(dir, { recursive: true });
        for (const o of r.objects)
          writeFileSync(join(dir, `${o.kind.toLowerCase()}-${o.metadata.name}.yaml`), toYaml(o));
        io.err(`${where}: wrote ${r.objects.length} objects to ${dir}`);
      } else docs.push(...r.objects.map(toYaml));
    }
  }
  if (docs.length) io.out(docs.join('---\n'));
  return problems ? 1 : 0;
}

function withNamespace(stack: ObservabilityStack, namespace: string | undefined): ObservabilityStack {
  if (!namespace || stack.metadata.namespace) return stack;
  return { ...stack, metadata: { ...stack.metadata, namespace } };
}
