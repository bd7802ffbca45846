// renderStack benchmark: one full stack rendered warm (goal p50 < 20 ms), 100 different stacks in
// one process (goal < 2 s), and heap growth across repetitions of the 100 (goal: none).
// Last, what importing desired/ costs a fresh process in RSS (bench/import-memory.ts).
// Run: make bench-render (node --expose-gc, so that heap figures are taken after a full GC).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import type { ObservabilityStack } from '../api/types.js';
import { SIZE_PROFILES } from '../api/types.js';
import { validateResource } from '../api/validate.js';
import { renderStack } from '../desired/stack/index.js';
import { importMemory } from './import-memory.js';

const root = join(import.meta.dirname, '..');
const gc = (globalThis as { gc?: () => void }).gc;

function validated(doc: unknown): ObservabilityStack {
  const v = validateResource(doc);
  if (!v.ok) throw new Error(JSON.stringify(v.problems));
  return v.object as ObservabilityStack;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function render(stack: ObservabilityStack): number {
  const r = renderStack(stack);
  if (r.problems.length) throw new Error(JSON.stringify(r.problems));
  return r.objects.length;
}

/** 100 stacks that differ in name, namespace, size, enabled parts, sampling and replicas. */
function hundredStacks(): ObservabilityStack[] {
  return Array.from({ length: 100 }, (_, i) =>
    validated({
      apiVersion: 'observability.vigil.dev/v1alpha1',
      kind: 'ObservabilityStack',
      metadata: { name: `stack-${i}`, namespace: `team-${i % 7}` },
      spec: {
        environment: ['dev', 'staging', 'prod'][i % 3],
        size: SIZE_PROFILES[i % 4],
        collector: {
          enabled: true,
          mode: i % 5 === 0 ? 'daemonset' : 'deployment',
          ...(i % 2 ? { sampling: { errors: true, baselinePercent: i % 50 } } : {}),
        },
        metrics: { enabled: true, retention: `${7 + (i % 20)}d` },
        logs: { enabled: i % 3 !== 0, retention: `${1 + (i % 10)}d` },
        traces: { enabled: i % 4 !== 0, retention: `${2 + (i % 5)}d` },
        correlation: { enabled: i % 6 !== 0, replicas: 1 + (i % 3) },
      },
    }),
  );
}

const full = validated(yaml.load(readFileSync(join(root, 'test/unit/charts/fixtures/s3-large.yaml'), 'utf8')));

// 1. One full stack, warm.
for (let i = 0; i < 300; i++) render(full);
const times: number[] = [];
let objects = 0;
for (let i = 0; i < 1000; i++) {
  const t = process.hrtime.bigint();
  objects = render(full);
  times.push(Number(process.hrtime.bigint() - t) / 1e6);
}
times.sort((a, b) => a - b);
const p50 = percentile(times, 50);
console.log(
  `large stack, everything on (s3-large.yaml, ${objects} objects), warm, 1000 runs: p50 ${p50.toFixed(2)} ms, p95 ${percentile(times, 95).toFixed(2)} ms, max ${times[times.length - 1].toFixed(2)} ms  [goal p50 < 20 ms: ${p50 < 20 ? 'met' : 'MISSED'}]`,
);

// 2. 100 different stacks in one process.
const stacks = hundredStacks();
const t0 = process.hrtime.bigint();
let total = 0;
for (const s of stacks) total += render(s);
const hundredMs = Number(process.hrtime.bigint() - t0) / 1e6;
console.log(
  `100 different stacks (${total} objects): ${hundredMs.toFixed(0)} ms  [goal < 2000 ms: ${hundredMs < 2000 ? 'met' : 'MISSED'}]`,
);

// 3. Heap after a full GC, across 30 repetitions of the 100.
if (!gc) console.log('heap: run with node --expose-gc for heap figures');
else {
  const heap: number[] = [];
  for (let rep = 0; rep < 30; rep++) {
    for (const s of stacks) render(s);
    gc();
    heap.push(process.memoryUsage().heapUsed / 2 ** 20);
  }
  const first = heap.slice(2, 7).reduce((a, b) => a + b) / 5;
  const last = heap.slice(-5).reduce((a, b) => a + b) / 5;
  console.log(
    `heap after GC over 30 x 100 renders: reps 3-7 avg ${first.toFixed(1)} MiB, reps 26-30 avg ${last.toFixed(1)} MiB, growth ${(last - first).toFixed(2)} MiB  [goal: no growth (< 2 MiB): ${last - first < 2 ? 'met' : 'MISSED'}]`,
  );
}

// 4. RSS of a fresh process before and after importing desired/.
importMemory();
