// Every metric name the cluster dashboards and alerts read has a source, and the test that runs that
// source checks it (node-exporter.test.ts, test/integration/cluster-state.test.ts); the names of the
// two sources that cannot run here must be in their documented lists.
import { describe, expect, it } from '@jest/globals';
import { clusterMetricNames, DOCUMENTED_METRICS, metricNames, namesFrom, sourceOf } from './metric-names.js';

describe('metricNames', () => {
  it('finds selected metrics, not functions, labels, keywords, durations or strings', () => {
    expect(() => metricNames('sum(rate(x[5m])')).toThrow(/does not parse/);
    expect(
      metricNames(
        'sum by (instance, device) (rate(node_network_receive_errs_total{job="node-exporter", device!~"lo|veth.*"}[5m])) / on (instance) group_left count by (instance) (node_cpu_seconds_total offset 1h) > bool 1e3',
      ).sort(),
    ).toEqual(['node_cpu_seconds_total', 'node_network_receive_errs_total']);
    expect(metricNames('label_replace(up, "dst", "$1", "src", "(.*)") or vector(0)')).toEqual(['up']);
    expect(
      metricNames('histogram_quantile(0.95, sum by (le) (rate(traces_spanmetrics_latency_bucket[$__rate_interval])))'),
    ).toEqual(['traces_spanmetrics_latency_bucket']);
  });
});

describe('the names the cluster dashboards and alerts read', () => {
  const names = clusterMetricNames();

  it('each come from a component a test runs or documents', () => {
    expect(names.length).toBeGreaterThan(25);
    expect(names.filter((n) => sourceOf(n) === undefined)).toEqual([]);
  });

  it('from the kubelet, cAdvisor and Tempo are all in the documented lists', () => {
    expect(namesFrom('kubelet').filter((n) => !DOCUMENTED_METRICS.kubelet.names.includes(n))).toEqual([]);
    expect(namesFrom('tempo').filter((n) => !DOCUMENTED_METRICS.tempo.names.includes(n))).toEqual([]);
  });

  it('cover every source: node-exporter, cluster-state, Prometheus, the kubelet and Tempo', () => {
    for (const s of ['node-exporter', 'cluster-state', 'prometheus', 'kubelet', 'tempo'] as const) {
      expect([s, namesFrom(s).length > 0]).toEqual([s, true]);
    }
  });
});
