// What importing desired/ costs a process: the resident set size of a fresh node (with tsx, as
// `make bench-render` runs) before and after importing desired/stack/index.ts, the whole renderer
// the operator loads, and the Grafana foundation SDK's modules on their own. Each figure is the
// median of fresh child processes, measured after a full GC.
// Run: make bench-render (which runs this at the end), or node --import tsx bench/import-memory.ts.
import { spawnSync } from 'node:child_process';

const RUNS = 7;
const SDK = ['dashboard', 'timeseries', 'stat', 'table', 'bargauge', 'statetimeline', 'prometheus', 'common'].map(
  (m) => `@grafana/grafana-foundation-sdk/${m}`,
);
const TARGETS: Record<string, string[]> = {
  'node + tsx, nothing imported': [],
  'desired/stack/index.ts (the renderer)': ['../desired/stack/index.js'],
  'the SDK modules the dashboard builder uses': SDK,
};

async function child(modules: string[]): Promise<void> {
  for (const m of modules) await import(m.startsWith('.') ? new URL(m, import.meta.url).href : m);
  (globalThis as { gc?: () => void }).gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  console.log(JSON.stringify({ rss, heapUsed }));
}

function measure(modules: string[]): { rss: number; heapUsed: number } {
  const runs: { rss: number; heapUsed: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = spawnSync(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', import.meta.filename, '--child', JSON.stringify(modules)],
      { encoding: 'utf8', cwd: import.meta.dirname },
    );
    if (r.status !== 0) throw new Error(`child for ${modules.join(', ') || '(nothing)'} failed: ${r.stderr}`);
    runs.push(JSON.parse(r.stdout.trim().split('\n').at(-1) as string));
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { rss: median(runs.map((r) => r.rss)), heapUsed: median(runs.map((r) => r.heapUsed)) };
}

export function importMemory(): void {
  const mib = (b: number) => (b / 2 ** 20).toFixed(1);
  const base = measure([]);
  for (const [what, modules] of Object.entries(TARGETS)) {
    const m = modules.length ? measure(modules) : base;
    console.log(
      `import ${what}: RSS ${mib(m.rss)} MiB (+${mib(m.rss - base.rss)}), heap after GC ${mib(m.heapUsed)} MiB (+${mib(m.heapUsed - base.heapUsed)})  [median of ${RUNS} processes]`,
    );
  }
}

const at = process.argv.indexOf('--child');
if (at >= 0) await child(JSON.parse(process.argv[at + 1]) as string[]);
else if (process.argv[1] === import.meta.filename) importMemory();
