// The metric names the cluster dashboards and alerts read, and where each one comes from. The tests
// that run a real component (node-exporter.test.ts, test/integration/cluster-state.test.ts) check
// that it exposes every name attributed to it; names of components that cannot run here are listed
// with the documentation they come from.
import { parser as promql } from '@prometheus-io/lezer-promql';
import { shippedDashboard, shippedRuleFile } from '../../../desired/shipped/index.js';
import type { AlertingRule } from '../../../desired/slo/rules.js';
import { concreteExpr, dashboardQueries } from '../../../hack/check/dashboards.js';

/**
 * The metric names a PromQL expression selects, read by PromQL's own grammar (the parser
 * desired/slo/promql.ts uses): each vector selector's metric name. Grafana's variables are replaced
 * first; an expression that does not parse is an error, not an empty list.
 */
export function metricNames(expr: string): string[] {
  const text = concreteExpr(expr);
  const out = new Set<string>();
  const errors: number[] = [];
  promql.parse(text).iterate({
    enter: (n) => {
      if (n.type.isError) errors.push(n.from);
      if (n.name !== 'VectorSelector') return;
      const id = n.node.getChild('Identifier');
      if (id) out.add(text.slice(id.from, id.to));
    },
  });
  if (errors.length) throw new Error(`does not parse at ${errors[0]}: ${text}`);
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
