// SLO generation benchmark: rules and dashboards for 1000 different SLOs in one process, as the
// operator would at start-up (goal: under 1 s in total, serialised into their ConfigMaps).
// Run: make bench-slo.
import type { SLO } from '../api/types.js';
import { validateResource } from '../api/validate.js';
import { countRules, sloDashboard, sloDashboardConfigMap, sloRuleConfigMap, sloRules } from '../desired/slo/index.js';

const N = 1000;

function thousandSLOs(): SLO[] {
  return Array.from({ length: N }, (_, i) => {
    const kind = i % 3;
    const indicator =
      kind === 0
        ? {
            ratio: {
              errors: `sum(rate(http_requests_total{job="svc-${i}",code=~"5.."}[{{window}}]))`,
              total: `sum(rate(http_requests_total{job="svc-${i}"}[{{window}}]))`,
            },
          }
        : kind === 1
          ? {
              latency: {
                histogram: 'http_request_duration_seconds',
                thresholdSeconds: [0.1, 0.25, 0.5, 1][i % 4],
                selector: `{job="svc-${i}"}`,
              },
            }
          : { raw: { errorRatio: `avg_over_time(job:error_ratio{job="svc-${i}"}[{{window}}])` } };
    const v = validateResource({
      apiVersion: 'observability.vigil.dev/v1alpha1',
      kind: 'SLO',
      metadata: { name: `slo-${i}`, namespace: `team-${i % 13}` },
      spec: {
        service: `svc-${i}`,
        stackRef: { name: 'core' },
        objective: [99, 99.5, 99.9, 99.95][i % 4],
        window: i % 2 ? '30d' : '28d',
        indicator,
        alerting: {
          page: { enabled: i % 5 !== 0 },
          ticket: { enabled: i % 7 !== 0 },
          labels: { team: `team-${i % 13}` },
          runbookURL: `https://runbooks.example.com/svc-${i}`,
          ...(kind !== 2 ? { minTrafficPerSecond: 0.1 } : {}),
        },
      },
    });
    if (!v.ok) throw new Error(JSON.stringify(v.problems));
    return v.object as SLO;
  });
}

function once(slos: SLO[]): { ms: number; rules: number; bytes: number } {
  const t = performance.now();
  let rules = 0;
  let bytes = 0;
  for (const s of slos) {
    const file = sloRules(s);
    rules += countRules(file);
    const rcm = sloRuleConfigMap(s, file);
    const dcm = sloDashboardConfigMap(s, sloDashboard(s));
    for (const v of [...Object.values(rcm.data), ...Object.values(dcm.data)]) bytes += v.length;
  }
  return { ms: performance.now() - t, rules, bytes };
}

const slos = thousandSLOs();
const cold = once(slos);
const warm = Array.from({ length: 5 }, () => once(slos).ms).sort((a, b) => a - b);

const rulesOnly = performance.now();
for (const s of slos) sloRules(s);
const rulesMs = performance.now() - rulesOnly;
const dashOnly = performance.now();
for (const s of slos) sloDashboard(s);
const dashMs = performance.now() - dashOnly;

const f = (x: number) => x.toFixed(1);
console.log(`slo: ${N} SLOs -> ${cold.rules} rules, ${(cold.bytes / 1e6).toFixed(1)} MB of ConfigMap data`);
console.log(`slo: rules + dashboards + ConfigMaps, first run (cold JIT): ${f(cold.ms)} ms (goal < 1000 ms)`);
console.log(`slo: same, warm: min ${f(warm[0])} ms, median ${f(warm[2])} ms`);
console.log(`slo: objects only (no serialisation): rules ${f(rulesMs)} ms, dashboards ${f(dashMs)} ms`);
if (cold.ms >= 1000) {
  console.log('slo: GOAL MISSED');
  process.exitCode = 1;
}
