// The dashboards every stack's Grafana gets: stack health (each component's own metrics), the
// correlation overview (the seed service's dashboard, on the correlator's metric names) and the SLO
// overview (every SLO of the stack, from the recording rules desired/slo writes). All queries go
// to the stack's Prometheus, so the dashboards work in any stack whatever else it runs.
import { CorrelatorMetrics as C, DATASOURCE_UIDS, ClusterJobs as J, OperatorMetrics } from '../../conventions/index.js';
import { type DashboardName, RUNBOOK_BASE } from '../../conventions/shipped.js';
import {
  ALERT_ABSENT,
  ALERT_BURN,
  L_SERVICE,
  L_SLO,
  L_SLO_NAMESPACE,
  RECORD_BUDGET_REMAINING,
  RECORD_CURRENT_BURN_RATE,
  RECORD_OBJECTIVE,
  RECORD_PERIOD_BURN_RATE,
} from '../../conventions/slo.js';
import { dashboard, type Json, type PanelSpec } from '../dashboards/builder.js';
import { COMPONENT_JOBS, STALE_WATCH_SECONDS } from './alerts.js';
import { remediationDashboard } from './remediation.js';

const R = '$__rate_interval';
const rate = (metric: string, by: string, sel = '') => `sum by (${by}) (rate(${metric}${sel}[${R}]))`;

/** The collector's three signals as separate queries; its counters carry no _total suffix. */
function signals(prefix: string, by: string, legend: string): PanelSpec['queries'] {
  return [
    ['spans', 'spans'],
    ['log_records', 'logs'],
    ['metric_points', 'metric points'],
  ].map(([suffix, name]) => ({ expr: rate(`${prefix}${suffix}`, by), legend: `${name} ${legend}` }));
}

const ts = (title: string, queries: PanelSpec['queries'], unit: string, extra: Partial<PanelSpec> = {}): PanelSpec => ({
  type: 'timeseries',
  title,
  queries,
  unit,
  w: 8,
  ...extra,
});

function stackHealth(): Json {
  return dashboard({
    name: 'stack-health',
    title: 'Vigil / Stack health',
    description:
      "Each component of the observability stack, from its own metrics. A flat line at zero in an 'errors' panel is the goal.",
    tags: ['stack'],
    links: [{ title: 'Runbooks', type: 'link', url: RUNBOOK_BASE, targetBlank: true }],
    rows: [
      {
        title: 'Components',
        panels: [
          {
            type: 'stat',
            title: 'Scrape targets up',
            queries: [
              { expr: `sum by (job) (up{job=~"${COMPONENT_JOBS.join('|')}"})`, legend: '{{job}}', instant: true },
            ],
            w: 16,
            h: 4,
            thresholds: [
              ['red', null],
              ['green', 1],
            ],
          },
          {
            type: 'stat',
            title: 'Firing Vigil alerts',
            queries: [
              {
                expr: 'count(ALERTS{service="vigil", alertstate="firing"}) or vector(0)',
                legend: 'firing',
                instant: true,
              },
            ],
            w: 8,
            h: 4,
            thresholds: [
              ['green', null],
              ['red', 1],
            ],
          },
        ],
      },
      {
        title: 'OpenTelemetry collector',
        panels: [
          ts('Receiver accepted', signals('otelcol_receiver_accepted_', 'receiver', '{{receiver}}'), 'short'),
          ts(
            'Receiver refused (memory limiter)',
            signals('otelcol_receiver_refused_', 'receiver', '{{receiver}}'),
            'short',
          ),
          ts(
            'Exporter queue fill',
            [
              {
                expr: 'max by (exporter, data_type) (otelcol_exporter_queue_size / otelcol_exporter_queue_capacity)',
                legend: '{{exporter}} {{data_type}}',
              },
            ],
            'percentunit',
            { max: 1, min: 0 },
          ),
          ts('Exporter sent', signals('otelcol_exporter_sent_', 'exporter', '{{exporter}}'), 'short'),
          ts('Exporter send failed', signals('otelcol_exporter_send_failed_', 'exporter', '{{exporter}}'), 'short'),
          ts(
            'Collector memory (RSS)',
            [{ expr: 'max by (pod) (otelcol_process_memory_rss)', legend: '{{pod}}' }],
            'bytes',
          ),
        ],
      },
      {
        title: 'Prometheus',
        panels: [
          ts(
            'Rule evaluation failures',
            [{ expr: rate('prometheus_rule_evaluation_failures_total', 'rule_group'), legend: '{{rule_group}}' }],
            'short',
          ),
          {
            type: 'stat',
            title: 'Last config reload successful',
            queries: [{ expr: 'min(prometheus_config_last_reload_successful)', legend: 'reload', instant: true }],
            w: 4,
            thresholds: [
              ['red', null],
              ['green', 1],
            ],
            options: { reduceOptions: { calcs: ['lastNotNull'] } },
          },
          ts(
            'TSDB head series',
            [{ expr: 'sum by (instance) (prometheus_tsdb_head_series)', legend: '{{instance}}' }],
            'short',
            {
              w: 6,
            },
          ),
          ts(
            'Samples appended',
            [{ expr: rate('prometheus_tsdb_head_samples_appended_total', 'instance'), legend: '{{instance}}' }],
            'short',
            { w: 6 },
          ),
          ts(
            'Alertmanager notifications',
            [
              { expr: rate('alertmanager_notifications_total', 'integration'), legend: 'sent {{integration}}' },
              {
                expr: rate('alertmanager_notifications_failed_total', 'integration'),
                legend: 'failed {{integration}}',
              },
            ],
            'short',
          ),
        ],
      },
      {
        title: 'Loki',
        panels: [
          ts(
            'Distributor lines received',
            [
              { expr: 'sum(rate(loki_distributor_lines_received_total[$__rate_interval]))', legend: 'lines' },
              { expr: 'sum(rate(loki_distributor_bytes_received_total[$__rate_interval]))', legend: 'bytes' },
            ],
            'short',
            { w: 6 },
          ),
          ts(
            'Push requests by status',
            [
              {
                expr: rate(
                  'loki_request_duration_seconds_count',
                  'route, status_code',
                  '{route=~"loki_api_v1_push|otlp_v1_logs"}',
                ),
                legend: '{{route}} {{status_code}}',
              },
            ],
            'reqps',
            { w: 6 },
          ),
          ts(
            'Discarded lines',
            [{ expr: rate('loki_discarded_samples_total', 'reason'), legend: '{{reason}}' }],
            'short',
            {
              w: 6,
            },
          ),
          ts(
            'Ingester streams and flush failures',
            [
              { expr: 'sum(loki_ingester_memory_streams)', legend: 'streams in memory' },
              {
                expr: 'sum(rate(loki_ingester_chunks_flush_failures_total[$__rate_interval]))',
                legend: 'flush failures/s',
              },
            ],
            'short',
            { w: 6 },
          ),
        ],
      },
      {
        title: 'Tempo',
        panels: [
          ts(
            'Distributor spans received',
            [{ expr: 'sum(rate(tempo_distributor_spans_received_total[$__rate_interval]))', legend: 'spans' }],
            'short',
            { w: 6 },
          ),
          ts(
            'Discarded spans',
            [{ expr: rate('tempo_discarded_spans_total', 'reason'), legend: '{{reason}}' }],
            'short',
            {
              w: 6,
            },
          ),
          ts('Ingester live traces', [{ expr: 'sum(tempo_ingester_live_traces)', legend: 'live traces' }], 'short', {
            w: 6,
          }),
          ts(
            'Ingester flushes',
            [
              { expr: 'sum(rate(tempo_ingester_blocks_flushed_total[$__rate_interval]))', legend: 'blocks flushed' },
              { expr: 'sum(rate(tempo_ingester_failed_flushes_total[$__rate_interval]))', legend: 'failed flushes' },
            ],
            'short',
            { w: 6 },
          ),
        ],
      },
      {
        title: 'Grafana',
        panels: [
          ts(
            'HTTP requests by status',
            [{ expr: rate('grafana_http_request_duration_seconds_count', 'status_code'), legend: '{{status_code}}' }],
            'reqps',
            { w: 12 },
          ),
          ts(
            'HTTP latency p95',
            [
              {
                expr: `histogram_quantile(0.95, ${rate('grafana_http_request_duration_seconds_bucket', 'le')})`,
                legend: 'p95',
              },
            ],
            's',
            { w: 12 },
          ),
        ],
      },
      {
        title: 'Correlation engine',
        panels: [
          ts(
            'Records in and correlations out',
            [
              { expr: rate(C.logRecordsReceived, 'job', '{job="correlator"}'), legend: 'log records' },
              { expr: rate(C.tracesReceived, 'job', '{job="correlator"}'), legend: 'spans' },
              { expr: rate(C.correlationEvents, 'job', '{job="correlator"}'), legend: 'correlations' },
            ],
            'short',
          ),
          ts(
            'Export attempts by result',
            [
              {
                expr: rate(C.exportAttempts, 'destination, result', '{job="correlator"}'),
                legend: '{{destination}} {{result}}',
              },
            ],
            'reqps',
          ),
          ts(
            'Export queue fill',
            [
              {
                expr: `max by (destination) (${C.exportQueueDepth}{job="correlator"} / ${C.exportQueueCapacity}{job="correlator"})`,
                legend: '{{destination}}',
              },
            ],
            'percentunit',
            { min: 0, max: 1 },
          ),
        ],
      },
      {
        title: 'Vigil operator',
        panels: [
          ts(
            'Reconciles by result',
            [{ expr: rate(OperatorMetrics.reconcileTotal, 'kind, result'), legend: '{{kind}} {{result}}' }],
            'ops',
            { w: 6 },
          ),
          ts(
            'Reconcile duration p95',
            [
              {
                expr: `histogram_quantile(0.95, ${rate(`${OperatorMetrics.reconcileDuration}_bucket`, 'kind, le')})`,
                legend: '{{kind}}',
              },
            ],
            's',
            { w: 6 },
          ),
          ts(
            'Work queue depth and child writes',
            [
              { expr: `max(${OperatorMetrics.workqueueDepth})`, legend: 'queue depth' },
              { expr: rate(OperatorMetrics.childWrites, 'verb'), legend: 'writes/s {{verb}}' },
            ],
            'short',
            { w: 6 },
          ),
          ts(
            'Seconds since last watch event',
            [
              {
                expr: `time() - max by (kind) (${OperatorMetrics.informerLastEvent})`,
                legend: '{{kind}}',
              },
              {
                expr: rate(OperatorMetrics.informerRestarts, 'kind, reason'),
                legend: 'restarts/s {{kind}} {{reason}}',
              },
            ],
            's',
            {
              w: 6,
              thresholds: [
                ['green', null],
                ['red', STALE_WATCH_SECONDS],
              ],
              description: `The stale-watch alert fires above ${STALE_WATCH_SECONDS}s.`,
            },
          ),
        ],
      },
    ],
  });
}

const correlator = '{job="correlator"}';

function correlationOverview(): Json {
  const total = (m: string) => `sum(rate(${m}${correlator}[${R}]))`;
  const exportOk = `sum by (destination) (rate(${C.exportAttempts}{job="correlator", result="success"}[${R}]))\n/\nsum by (destination) (rate(${C.exportAttempts}${correlator}[${R}]))`;
  const q = (p: number) =>
    `histogram_quantile(${p}, sum by (destination, le) (rate(${C.exportDuration}_bucket${correlator}[${R}])))`;
  return dashboard({
    name: 'correlation-overview',
    title: 'Vigil / Correlation overview',
    description: 'The correlation engine: logs and traces in, correlations per second, export success and latency.',
    tags: ['correlation'],
    time: 'now-1h',
    rows: [
      {
        title: 'Throughput',
        panels: [
          {
            type: 'stat',
            title: 'Correlations per second',
            queries: [{ expr: total(C.correlationEvents) }],
            w: 6,
            h: 4,
            unit: 'ops',
          },
          {
            type: 'stat',
            title: 'Log records per second',
            queries: [{ expr: total(C.logRecordsReceived) }],
            w: 6,
            h: 4,
            unit: 'ops',
          },
          {
            type: 'stat',
            title: 'Spans per second',
            queries: [{ expr: total(C.tracesReceived) }],
            w: 6,
            h: 4,
            unit: 'ops',
          },
          {
            type: 'stat',
            title: 'Export success',
            queries: [
              {
                expr: `sum(rate(${C.exportAttempts}{job="correlator", result="success"}[${R}])) / sum(rate(${C.exportAttempts}${correlator}[${R}]))`,
              },
            ],
            w: 6,
            h: 4,
            unit: 'percentunit',
            decimals: 2,
            thresholds: [
              ['red', null],
              ['orange', 0.9],
              ['green', 0.99],
            ],
          },
          ts('Correlations per second', [{ expr: total(C.correlationEvents), legend: 'correlations' }], 'ops', {
            w: 12,
          }),
          ts(
            'Logs and traces received',
            [
              { expr: rate(C.logRecordsReceived, 'source', correlator), legend: 'logs {{source}}' },
              { expr: rate(C.tracesReceived, 'source', correlator), legend: 'spans {{source}}' },
            ],
            'ops',
            { w: 12 },
          ),
        ],
      },
      {
        title: 'Export',
        panels: [
          ts('Export success ratio', [{ expr: exportOk, legend: '{{destination}}' }], 'percentunit', {
            min: 0,
            max: 1,
          }),
          ts(
            'Export attempts',
            [{ expr: rate(C.exportAttempts, 'destination, result', correlator), legend: '{{destination}} {{result}}' }],
            'reqps',
            { stack: true },
          ),
          ts(
            'Export latency',
            [
              { expr: q(0.5), legend: 'p50 {{destination}}' },
              { expr: q(0.95), legend: 'p95 {{destination}}' },
              { expr: q(0.99), legend: 'p99 {{destination}}' },
            ],
            's',
          ),
          ts(
            'Export queues',
            [
              { expr: `max by (destination) (${C.exportQueueDepth}${correlator})`, legend: 'depth {{destination}}' },
              {
                expr: `max by (destination) (${C.exportQueueCapacity}${correlator})`,
                legend: 'capacity {{destination}}',
              },
            ],
            'short',
          ),
          ts(
            'Records dropped by destinations',
            [{ expr: rate(C.exportDropped, 'destination', correlator), legend: '{{destination}}' }],
            'ops',
          ),
          ts(
            'Ingest refused',
            [
              { expr: rate(C.requestsRefused, 'reason', correlator), legend: 'requests {{reason}}' },
              { expr: rate(C.recordsRejected, 'signal', correlator), legend: 'records {{signal}}' },
            ],
            'ops',
          ),
        ],
      },
      {
        title: 'Correlation state',
        panels: [
          ts(
            'Correlations open and held',
            [
              { expr: `sum(${C.correlationsOpen}${correlator})`, legend: 'open' },
              { expr: `sum(${C.correlationsHeld}${correlator})`, legend: 'held' },
            ],
            'short',
          ),
          ts(
            'Evictions at the cap',
            [{ expr: rate(C.correlationEvictions, 'state', correlator), legend: '{{state}}' }],
            'ops',
          ),
          ts(
            'Uncorrelated data',
            [
              { expr: total(C.logsWithoutTrace), legend: 'logs without trace id' },
              { expr: total(C.correlationsWithoutSpans), legend: 'correlations without spans' },
            ],
            'ops',
          ),
        ],
      },
    ],
  });
}

function sloOverview(): Json {
  const id = [L_SLO_NAMESPACE, L_SLO, L_SERVICE].join(', ');
  const per = (record: string) => `max by (${id}) (${record})`;
  const alerts = `ALERTS{alertname=~"${ALERT_BURN}|${ALERT_ABSENT}", alertstate="firing"}`;
  return dashboard({
    name: 'slo-overview',
    title: 'Vigil / SLO overview',
    description: "Every SLO of this stack with its error budget remaining. Each SLO's own dashboard has the detail.",
    tags: ['slo'],
    time: 'now-7d',
    rows: [
      {
        title: 'Summary',
        panels: [
          {
            type: 'stat',
            title: 'SLOs',
            queries: [{ expr: `count(${RECORD_OBJECTIVE}) or vector(0)`, instant: true }],
            w: 6,
            h: 4,
          },
          {
            type: 'stat',
            title: 'SLOs out of budget',
            queries: [{ expr: `count(${RECORD_BUDGET_REMAINING} <= 0) or vector(0)`, instant: true }],
            w: 6,
            h: 4,
            thresholds: [
              ['green', null],
              ['red', 1],
            ],
          },
          {
            type: 'stat',
            title: 'SLO alerts firing',
            queries: [{ expr: `count(${alerts}) or vector(0)`, instant: true }],
            w: 6,
            h: 4,
            thresholds: [
              ['green', null],
              ['red', 1],
            ],
          },
          {
            type: 'stat',
            title: 'Lowest budget remaining',
            queries: [{ expr: `min(${RECORD_BUDGET_REMAINING})`, instant: true }],
            w: 6,
            h: 4,
            unit: 'percentunit',
            decimals: 1,
            thresholds: [
              ['red', null],
              ['orange', 0],
              ['green', 0.25],
            ],
          },
        ],
      },
      {
        title: 'Every SLO',
        panels: [
          {
            type: 'table',
            title: 'SLOs',
            description:
              'Objective, error budget remaining over the SLO period, and burn rates (1 = spending the budget exactly over the period).',
            queries: [
              { expr: per(RECORD_OBJECTIVE), instant: true },
              { expr: per(RECORD_BUDGET_REMAINING), instant: true },
              { expr: per(RECORD_CURRENT_BURN_RATE), instant: true },
              { expr: per(RECORD_PERIOD_BURN_RATE), instant: true },
            ],
            w: 24,
            h: 10,
            transformations: [
              { id: 'merge', options: {} },
              {
                id: 'organize',
                options: {
                  excludeByName: { Time: true },
                  renameByName: {
                    'Value #A': 'objective',
                    'Value #B': 'budget remaining',
                    'Value #C': 'burn rate (5m)',
                    'Value #D': 'burn rate (period)',
                  },
                },
              },
              { id: 'sortBy', options: { sort: [{ field: 'budget remaining' }] } },
            ],
          },
          {
            type: 'bargauge',
            title: 'Error budget remaining',
            queries: [
              {
                expr: `sort(${per(RECORD_BUDGET_REMAINING)})`,
                legend: `{{${L_SLO_NAMESPACE}}}/{{${L_SLO}}}`,
                instant: true,
              },
            ],
            w: 12,
            h: 10,
            unit: 'percentunit',
            min: -1,
            max: 1,
            thresholds: [
              ['red', null],
              ['orange', 0],
              ['green', 0.25],
            ],
            options: { orientation: 'horizontal', displayMode: 'gradient' },
          },
          ts(
            'Error budget remaining over time',
            [{ expr: per(RECORD_BUDGET_REMAINING), legend: `{{${L_SLO_NAMESPACE}}}/{{${L_SLO}}}` }],
            'percentunit',
            { w: 12, h: 10 },
          ),
          ts(
            'SLO alerts firing',
            [
              {
                expr: `sum by (alertname, ${L_SLO_NAMESPACE}, ${L_SLO}, tier) (${alerts})`,
                legend: `{{alertname}} {{${L_SLO}}} {{tier}}`,
              },
            ],
            'short',
            { w: 24 },
          ),
        ],
      },
    ],
  });
}

/** A dashboard variable over one label of one series (a Prometheus label_values query). */
function variable(name: string, label: string, series: string, o: { all?: boolean } = {}): Json {
  const query = `label_values(${series}, ${label})`;
  return {
    name,
    label: name,
    type: 'query',
    datasource: { type: 'prometheus', uid: DATASOURCE_UIDS.prometheus },
    definition: query,
    query: { query, refId: `${name}-variable` },
    refresh: 2,
    sort: 1,
    multi: true,
    includeAll: o.all ?? true,
    allValue: '.+',
    current: {},
    options: [],
  };
}

/**
 * Exemplars on the queries of the panels `which` picks: their points link to the trace (the
 * Prometheus datasource's exemplarTraceIdDestinations, desired/stack/grafana.ts).
 */
function withExemplars(d: Json, which: (panel: Json) => boolean): Json {
  const panels = (d.panels as Json[]).map((p) =>
    which(p) && Array.isArray(p.targets)
      ? { ...p, targets: (p.targets as Json[]).map((t) => ({ ...t, exemplar: true })) }
      : p,
  );
  return { ...d, panels };
}

/** The builder writes no variables; these dashboards filter by node, namespace or service. */
function withVariables(d: Json, variables: Json[]): Json {
  return { ...d, templating: { list: variables } };
}

const NE = `job="${J.nodeExporter}"`;
const KS = `job="${J.clusterState}"`;
const node = `instance=~"$node"`;
const ns = `namespace=~"$namespace"`;
const CONTAINERS = `job="${J.cadvisor}", container!="", container!="POD", ${ns}`;
const FS = `${NE}, ${node}, fstype!~"tmpfs|ramfs|squashfs|overlay|nsfs|fuse.*", mountpoint!~"/run.*|/var/lib/kubelet/pods/.*"`;

function clusterNodes(): Json {
  const d = dashboard({
    name: 'cluster-nodes',
    title: 'Vigil / Cluster nodes',
    description:
      "The cluster's nodes from node-exporter and the k8s_cluster receiver (spec.metrics.cluster): CPU, memory, file systems, network, conditions.",
    tags: ['cluster'],
    links: [{ title: 'Runbooks', type: 'link', url: RUNBOOK_BASE, targetBlank: true }],
    rows: [
      {
        title: 'Nodes',
        panels: [
          {
            type: 'stat',
            title: 'Nodes Ready',
            queries: [{ expr: `sum(k8s_node_condition_ready{${KS}} == 1) or vector(0)`, instant: true }],
            w: 6,
            h: 4,
          },
          {
            type: 'stat',
            title: 'Nodes not Ready',
            queries: [{ expr: `count(k8s_node_condition_ready{${KS}} != 1) or vector(0)`, instant: true }],
            w: 6,
            h: 4,
            thresholds: [
              ['green', null],
              ['red', 1],
            ],
          },
          {
            type: 'stat',
            title: 'Nodes under pressure',
            description: 'MemoryPressure, DiskPressure or PIDPressure True.',
            queries: [
              {
                expr: `count(max by (node) (${['memory', 'disk', 'pid'].map((c) => `k8s_node_condition_${c}_pressure{${KS}} == 1`).join(' or ')})) or vector(0)`,
                instant: true,
              },
            ],
            w: 6,
            h: 4,
            thresholds: [
              ['green', null],
              ['orange', 1],
            ],
          },
          {
            type: 'stat',
            title: 'node-exporter targets up',
            queries: [{ expr: `sum(up{${NE}}) or vector(0)`, instant: true }],
            w: 6,
            h: 4,
          },
        ],
      },
      {
        title: 'CPU and memory',
        panels: [
          ts(
            'CPU busy',
            [
              {
                expr: `1 - avg by (instance) (rate(node_cpu_seconds_total{${NE}, ${node}, mode="idle"}[${R}]))`,
                legend: '{{instance}}',
              },
            ],
            'percentunit',
            { w: 12, max: 1 },
          ),
          ts(
            'Load (1m) per CPU',
            [
              {
                expr: `node_load1{${NE}, ${node}} / on (instance) count by (instance) (node_cpu_seconds_total{${NE}, ${node}, mode="idle"})`,
                legend: '{{instance}}',
              },
            ],
            'short',
            { w: 12 },
          ),
          ts(
            'Memory used',
            [
              {
                expr: `1 - node_memory_MemAvailable_bytes{${NE}, ${node}} / node_memory_MemTotal_bytes{${NE}, ${node}}`,
                legend: '{{instance}}',
              },
            ],
            'percentunit',
            { w: 12, max: 1 },
          ),
          ts(
            'Memory available',
            [{ expr: `node_memory_MemAvailable_bytes{${NE}, ${node}}`, legend: '{{instance}}' }],
            'bytes',
            { w: 12 },
          ),
        ],
      },
      {
        title: 'File systems and network',
        panels: [
          ts(
            'File system space used',
            [
              {
                expr: `1 - node_filesystem_avail_bytes{${FS}} / node_filesystem_size_bytes{${FS}}`,
                legend: '{{instance}} {{mountpoint}}',
              },
            ],
            'percentunit',
            { w: 12, max: 1 },
          ),
          ts(
            'Disk I/O time',
            [
              {
                expr: `rate(node_disk_io_time_seconds_total{${NE}, ${node}}[${R}])`,
                legend: '{{instance}} {{device}}',
              },
            ],
            'percentunit',
            { w: 12 },
          ),
          ts(
            'Network received',
            [
              {
                expr: `sum by (instance) (rate(node_network_receive_bytes_total{${NE}, ${node}, device!="lo"}[${R}]))`,
                legend: '{{instance}}',
              },
            ],
            'Bps',
            { w: 8 },
          ),
          ts(
            'Network sent',
            [
              {
                expr: `sum by (instance) (rate(node_network_transmit_bytes_total{${NE}, ${node}, device!="lo"}[${R}]))`,
                legend: '{{instance}}',
              },
            ],
            'Bps',
            { w: 8 },
          ),
          ts(
            'Network errors',
            [
              {
                expr: `sum by (instance) (rate(node_network_receive_errs_total{${NE}, ${node}}[${R}]) + rate(node_network_transmit_errs_total{${NE}, ${node}}[${R}]))`,
                legend: '{{instance}}',
              },
            ],
            'pps',
            { w: 8 },
          ),
        ],
      },
    ],
  });
  return withVariables(d, [variable('node', 'instance', `node_uname_info{${NE}}`)]);
}

/** Usage of each container against its request and limit (cAdvisor against the k8s_cluster receiver). */
const per = `namespace, pod, container`;
const usage = {
  cpu: `sum by (${per}) (rate(container_cpu_usage_seconds_total{${CONTAINERS}}[${R}]))`,
  memory: `sum by (${per}) (container_memory_working_set_bytes{${CONTAINERS}})`,
};
const spec = (metric: string) => `max by (${per}) (${metric}{${KS}, ${ns}})`;

function clusterWorkloads(): Json {
  const d = dashboard({
    name: 'cluster-workloads',
    title: 'Vigil / Cluster workloads',
    description:
      'Pods and containers of the cluster (spec.metrics.cluster): CPU and memory against requests and limits, restarts, crash loops, replicas, volumes.',
    tags: ['cluster'],
    links: [{ title: 'Runbooks', type: 'link', url: RUNBOOK_BASE, targetBlank: true }],
    rows: [
      {
        title: 'Health',
        panels: [
          {
            type: 'stat',
            title: 'Pods Running',
            queries: [{ expr: `count(k8s_pod_phase{${KS}, ${ns}} == 2) or vector(0)`, instant: true }],
            w: 6,
            h: 4,
          },
          {
            type: 'stat',
            title: 'Pods Pending',
            queries: [{ expr: `count(k8s_pod_phase{${KS}, ${ns}} == 1) or vector(0)`, instant: true }],
            w: 6,
            h: 4,
            thresholds: [
              ['green', null],
              ['orange', 1],
            ],
          },
          {
            type: 'stat',
            title: 'Containers in CrashLoopBackOff',
            queries: [
              {
                expr: `sum(k8s_container_status_reason{${KS}, ${ns}, k8s_container_status_reason="CrashLoopBackOff"}) or vector(0)`,
                instant: true,
              },
            ],
            w: 6,
            h: 4,
            thresholds: [
              ['green', null],
              ['red', 1],
            ],
          },
          {
            type: 'stat',
            title: 'Restarts (1h)',
            queries: [
              {
                expr: `sum(max by (${per}) (k8s_container_restarts{${KS}, ${ns}}) - max by (${per}) (k8s_container_restarts{${KS}, ${ns}} offset 1h)) or vector(0)`,
                instant: true,
              },
            ],
            w: 6,
            h: 4,
            thresholds: [
              ['green', null],
              ['orange', 1],
            ],
          },
        ],
      },
      {
        title: 'CPU',
        panels: [
          ts('CPU used', [{ expr: usage.cpu, legend: '{{namespace}}/{{pod}} {{container}}' }], 'short', { w: 8 }),
          ts(
            'CPU used / requested',
            [
              {
                expr: `${usage.cpu} / ${spec('k8s_container_cpu_request')}`,
                legend: '{{namespace}}/{{pod}} {{container}}',
              },
            ],
            'percentunit',
            { w: 8 },
          ),
          ts(
            'CPU used / limit',
            [
              {
                expr: `${usage.cpu} / ${spec('k8s_container_cpu_limit')}`,
                legend: '{{namespace}}/{{pod}} {{container}}',
              },
            ],
            'percentunit',
            { w: 8 },
          ),
        ],
      },
      {
        title: 'Memory',
        panels: [
          ts('Memory working set', [{ expr: usage.memory, legend: '{{namespace}}/{{pod}} {{container}}' }], 'bytes', {
            w: 8,
          }),
          ts(
            'Memory / requested',
            [
              {
                expr: `${usage.memory} / ${spec('k8s_container_memory_request_bytes')}`,
                legend: '{{namespace}}/{{pod}} {{container}}',
              },
            ],
            'percentunit',
            { w: 8 },
          ),
          ts(
            'Memory / limit',
            [
              {
                expr: `${usage.memory} / ${spec('k8s_container_memory_limit_bytes')}`,
                legend: '{{namespace}}/{{pod}} {{container}}',
              },
            ],
            'percentunit',
            { w: 8 },
          ),
        ],
      },
      {
        title: 'Replicas and volumes',
        panels: [
          {
            type: 'table',
            title: 'Deployments with unavailable replicas',
            queries: [
              {
                expr: `max by (namespace, k8s_deployment_name) (k8s_deployment_desired{${KS}, ${ns}}) - max by (namespace, k8s_deployment_name) (k8s_deployment_available{${KS}, ${ns}}) > 0`,
                instant: true,
              },
            ],
            w: 12,
          },
          {
            type: 'table',
            title: 'StatefulSets with replicas not ready',
            queries: [
              {
                expr: `max by (namespace, k8s_statefulset_name) (k8s_statefulset_desired_pods{${KS}, ${ns}}) - max by (namespace, k8s_statefulset_name) (k8s_statefulset_ready_pods{${KS}, ${ns}}) > 0`,
                instant: true,
              },
            ],
            w: 12,
          },
          ts(
            'Container restarts',
            [
              {
                expr: `max by (${per}) (k8s_container_restarts{${KS}, ${ns}})`,
                legend: '{{namespace}}/{{pod}} {{container}}',
              },
            ],
            'short',
            { w: 12 },
          ),
          ts(
            'PersistentVolumeClaims used',
            [
              {
                expr: `1 - kubelet_volume_stats_available_bytes{job="${J.kubelet}", ${ns}} / kubelet_volume_stats_capacity_bytes{job="${J.kubelet}", ${ns}}`,
                legend: '{{namespace}}/{{persistentvolumeclaim}}',
              },
            ],
            'percentunit',
            { w: 12, max: 1 },
          ),
        ],
      },
    ],
  });
  return withVariables(d, [variable('namespace', 'namespace', `k8s_pod_phase{${KS}}`)]);
}

/** Tempo's metrics generator (spec.traces.spanMetrics): rate, errors and duration of each service's spans. */
function serviceRed(): Json {
  const svc = `service=~"$service"`;
  const calls = (sel = '') => `traces_spanmetrics_calls_total{${svc}${sel}}`;
  const server = ', span_kind=~"SPAN_KIND_SERVER|SPAN_KIND_CONSUMER"';
  const d = dashboard({
    name: 'service-red',
    title: 'Vigil / Service RED',
    description:
      "Rate, errors and duration of each service's server spans, from the span metrics Tempo's metrics generator writes into Prometheus (spec.traces.spanMetrics). Exemplars link to the traces.",
    tags: ['traces', 'red'],
    rows: [
      {
        title: 'Rate, errors, duration',
        panels: [
          ts('Requests per second', [{ expr: rate(calls(server), 'service'), legend: '{{service}}' }], 'reqps', {
            w: 8,
          }),
          ts(
            'Error ratio',
            [
              {
                expr: `${rate(calls(`${server}, status_code="STATUS_CODE_ERROR"`), 'service')} / ${rate(calls(server), 'service')}`,
                legend: '{{service}}',
              },
            ],
            'percentunit',
            { w: 8 },
          ),
          ts(
            'Duration p50 / p95 / p99',
            [0.5, 0.95, 0.99].map((q) => ({
              expr: `histogram_quantile(${q}, sum by (service, le) (rate(traces_spanmetrics_latency_bucket{${svc}${server}}[${R}])))`,
              legend: `{{service}} p${q * 100}`,
            })),
            's',
            { w: 8 },
          ),
        ],
      },
      {
        title: 'Operations',
        panels: [
          ts(
            'Requests per second by operation',
            [{ expr: rate(calls(server), 'service, span_name'), legend: '{{service}} {{span_name}}' }],
            'reqps',
            { w: 12 },
          ),
          ts(
            'Errors per second by operation',
            [
              {
                expr: rate(calls(`${server}, status_code="STATUS_CODE_ERROR"`), 'service, span_name'),
                legend: '{{service}} {{span_name}}',
              },
            ],
            'reqps',
            { w: 12 },
          ),
          ts(
            'Duration p95 by operation',
            [
              {
                expr: `histogram_quantile(0.95, sum by (service, span_name, le) (rate(traces_spanmetrics_latency_bucket{${svc}${server}}[${R}])))`,
                legend: '{{service}} {{span_name}}',
              },
            ],
            's',
            { w: 24 },
          ),
        ],
      },
    ],
  });
  return withVariables(
    withExemplars(d, (p) => String(p.title).startsWith('Duration')),
    [variable('service', 'service', 'traces_spanmetrics_calls_total')],
  );
}

const BUILDERS: Record<DashboardName, () => Json> = {
  'stack-health': stackHealth,
  'correlation-overview': correlationOverview,
  'slo-overview': sloOverview,
  'cluster-nodes': clusterNodes,
  'cluster-workloads': clusterWorkloads,
  'service-red': serviceRed,
  remediation: remediationDashboard,
};

/** One shipped dashboard as Grafana JSON model data. */
export function shippedDashboard(name: DashboardName): Json {
  return BUILDERS[name]();
}
