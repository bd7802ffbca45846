// The metric names the cluster dashboards and alerts read, and where each one comes from. The tests
// that run a real component (node-exporter.test.ts, test/integration/cluster-state.test.ts) check
// that it exposes every name attributed to it; names of components that cannot run here are listed
// with the documentation they come from.
import { shippedDashboard, shippedRuleFile } from '../../../desired/shipped/index.js';
import type { AlertingRule } from '../../../desired/slo/rules.js';
import { dashboardQueries } from '../../../hack/check/dashboards.js';

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'and',
  'or',
  'unless',
  'inf',
  'nan',
]);

/** The metric names a PromQL expression selects (not functions, labels, keywords or durations). */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const out = new Set<string>();
  for (const m of bare.matchAll(/(?<![A-Za-z0-9_:.$])[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const name = m[0];
    if (KEYWORDS.has(name)) continue;
    if (/^\s*\(/.test(bare.slice(m.index + name.length))) continue; // a function call
    out.add(name);
  }
  return [...out];
}

type Json = Record<string, unknown>;

/** Every PromQL expression of a dashboard: its panels' queries and its variables' label_values(). */
function dashboardExprs(d: Json): string[] {
  const vars = ((d.templating as { list?: Json[] } | undefined)?.list ?? []).map((v) =>
    String(v.definition ?? '').replace(/^label_values\((.*),\s*\w+\)$/, '$1'),
  );
  return [...dashboardQueries(d).map((q) => q.expr), ...vars];
}

/** The new dashboards and alerts about the cluster and the services (issue 15). */
export function clusterMetricNames(): string[] {
  const rules = [...shippedRuleFile('nodes').groups, ...shippedRuleFile('workloads').groups].flatMap((g) => g.rules);
  const scrapeLimit = shippedRuleFile('prometheus')
    .groups.flatMap((g) => g.rules)
    .filter((r) => (r as AlertingRule).alert === 'VigilScrapeLimitHit');
  const exprs = [
    ...[...rules, ...scrapeLimit].map((r) => r.expr),
    ...(['cluster-nodes', 'cluster-workloads', 'service-red'] as const).flatMap((n) =>
      dashboardExprs(shippedDashboard(n)),
    ),
  ];
  return [...new Set(exprs.flatMap(metricNames))].sort();
}

/** Which component produces a name, by its prefix. */
export type Source = 'node-exporter' | 'cluster-state' | 'prometheus' | 'kubelet' | 'tempo';
export function sourceOf(name: string): Source | undefined {
  if (name.startsWith('node_')) return 'node-exporter';
  if (name.startsWith('k8s_')) return 'cluster-state';
  if (name === 'up' || name.startsWith('prometheus_')) return 'prometheus';
  if (name.startsWith('container_') || name.startsWith('kubelet_')) return 'kubelet';
  if (name.startsWith('traces_spanmetrics_')) return 'tempo';
  return undefined;
}

/**
 * Names of components that cannot run here, each from its own documentation: kwok's fake nodes have
 * no kubelet (so no cAdvisor either), and Tempo is AGPL (never built or run here).
 */
export const DOCUMENTED_METRICS: Record<'kubelet' | 'tempo', { source: string; names: string[] }> = {
  kubelet: {
    source:
      'cAdvisor: https://github.com/google/cadvisor/blob/master/docs/storage/prometheus.md (served by the kubelet at /metrics/cadvisor); volume stats: https://github.com/kubernetes/kubernetes/blob/master/pkg/kubelet/metrics/collectors/volume_stats.go (kubelet /metrics)',
    names: [
      'container_cpu_usage_seconds_total',
      'container_memory_working_set_bytes',
      'kubelet_volume_stats_available_bytes',
      'kubelet_volume_stats_capacity_bytes',
    ],
  },
  tempo: {
    source:
      'https://grafana.com/docs/tempo/latest/metrics-from-traces/span-metrics/span-metrics-metrics-generator/ (traces_spanmetrics_calls_total, traces_spanmetrics_latency_bucket)',
    names: ['traces_spanmetrics_calls_total', 'traces_spanmetrics_latency_bucket'],
  },
};

/** The names a dashboard or alert uses that come from `source`. */
export const namesFrom = (source: Source): string[] => clusterMetricNames().filter((n) => sourceOf(n) === source);
