// `make check-imports`: the import direction of the source folders. Runs dependency-cruiser with
// .dependency-cruiser.cjs (one-way layers, no cycle between modules, client-node only in kube/,
// desired/ pure), then collapses the module graph to folders and fails on any folder-level cycle,
// so that a new folder nobody has written a rule for still cannot close a loop.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseResult } from 'dependency-cruiser';

export const SOURCE_FOLDERS = [
  'api',
  'cli',
  'conventions',
  'controller',
  'correlator',
  'desired',
  'kube',
  'lib',
  'operator',
];

/** Folder-level edges (from → to) of the modules' imports, our own source only. */
export function folderEdges(result: ICruiseResult): Map<string, Set<string>> {
  const ours = (p: string) => SOURCE_FOLDERS.some((f) => p.startsWith(`${f}/`));
  const edges = new Map<string, Set<string>>();
  for (const m of result.modules) {
    if (!ours(m.source)) continue;
    const from = dirname(m.source);
    for (const d of m.dependencies) {
      if (!ours(d.resolved)) continue;
      const to = dirname(d.resolved);
      if (to === from) continue;
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from)?.add(to);
    }
  }
  return edges;
}

/** Every cycle's folders, found by a depth-first search (each cycle reported once per entry point). */
export function folderCycles(edges: Map<string, Set<string>>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string) => {
    state.set(n, 'open');
    stack.push(n);
    for (const next of edges.get(n) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of [...edges.keys()].sort()) if (!state.has(n)) visit(n);
  return cycles;
}

async function main(): Promise<number> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  process.chdir(root);
  const start = Date.now();
  const ruleSet = createRequire(import.meta.url)(join(root, '.dependency-cruiser.cjs'));
  const { output } = await cruise(SOURCE_FOLDERS, {
    validate: true,
    ruleSet,
    ...ruleSet.options,
    outputType: 'json',
  });
  const result: ICruiseResult = typeof output === 'string' ? JSON.parse(output) : output;
  const problems: string[] = [];
  for (const v of result.summary.violations) {
    problems.push(
      `${v.rule.name}: ${v.from} → ${v.to}${v.cycle ? ` (cycle: ${v.cycle.map((c) => c.name).join(' → ')})` : ''}`,
    );
  }
  const edges = folderEdges(result);
  for (const c of folderCycles(edges)) problems.push(`folder cycle: ${c.join(' → ')}`);
  const folders = new Set([...edges.keys(), ...[...edges.values()].flatMap((s) => [...s])]);
  const took = ((Date.now() - start) / 1000).toFixed(1);
  if (problems.length) {
    console.error(`[vigil] import direction: ${problems.length} problem(s) (${took}s)\n  ${problems.join('\n  ')}`);
    return 1;
  }
  console.log(
    `[vigil] import direction: ${result.summary.totalCruised} modules, ${result.summary.totalDependenciesCruised} imports, ${folders.size} folders, no back-edge and no cycle (${took}s)`,
  );
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then((code) => process.exit(code));
}
