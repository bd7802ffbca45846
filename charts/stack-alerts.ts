// Alerts every stack ships about itself (the stack monitors itself). SLO alerts come separately,
// from the SLO resources, as ConfigMaps the Prometheus sidecar collects.
import type { StackContext } from './context.js';
import type { ComponentName } from './labels.js';

interface Rule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export function stackAlerts(ctx: StackContext): { groups: { name: string; rules: Rule[] }[] } {
  const jobs = (['collector', 'alertmanager', 'loki', 'tempo', 'grafana', 'correlator'] as ComponentName[]).filter(
    (c) => ctx.on[c],
  );
  const rules: Rule[] = [
    {
      alert: 'VigilComponentDown',
      expr: `up{job=~"${['prometheus', ...jobs].join('|')}"} == 0`,
      for: '5m',
      labels: { severity: 'ticket', service: 'vigil' },
      annotations: {
        summary: 'A component of the observability stack is not scraped.',
        description: '{{ $labels.job }} pod {{ $labels.pod }} has been down for 5 minutes.',
      },
    },
    {
      alert: 'VigilRuleEvaluationFailing',
      expr: 'increase(prometheus_rule_evaluation_failures_total[10m]) > 0',
      for: '10m',
      labels: { severity: 'ticket', service: 'vigil' },
      annotations: {
        summary: 'Prometheus fails to evaluate rules.',
        description: 'Rule group {{ $labels.rule_group }} failed to evaluate in the last 10 minutes.',
      },
    },
  ];
  if (ctx.on.collector) {
    rules.push({
      alert: 'VigilCollectorRefusingData',
      expr: 'sum by (pod) (rate(otelcol_receiver_refused_spans_total[5m]) + rate(otelcol_receiver_refused_log_records_total[5m]) + rate(otelcol_receiver_refused_metric_points_total[5m])) > 0',
      for: '10m',
      labels: { severity: 'ticket', service: 'vigil' },
      annotations: {
        summary: 'The collector refuses telemetry (memory limit reached).',
        description: 'Collector {{ $labels.pod }} has refused data for 10 minutes; raise its memory or replicas.',
      },
    });
    rules.push({
      alert: 'VigilCollectorExportFailing',
      expr: 'sum by (pod, exporter) (rate(otelcol_exporter_send_failed_spans_total[5m]) + rate(otelcol_exporter_send_failed_log_records_total[5m]) + rate(otelcol_exporter_send_failed_metric_points_total[5m])) > 0',
      for: '10m',
      labels: { severity: 'ticket', service: 'vigil' },
      annotations: {
        summary: 'The collector cannot deliver telemetry.',
        description: 'Exporter {{ $labels.exporter }} on {{ $labels.pod }} has failed for 10 minutes.',
      },
    });
  }
  return { groups: [{ name: 'vigil-stack', rules }] };
}
