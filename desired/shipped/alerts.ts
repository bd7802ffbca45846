// The self-monitoring alerts every stack ships about itself, as data: alerts/*.yaml are generated
// from here and the stack's `<stack>-prometheus-rules` ConfigMap carries the same text. The rule set
// does not depend on which components a stack runs: an alert about a component that is off has no
// series to fire on. Metric names are the ones the pinned images expose (the collector's were read
// from a running v0.161 collector: its counters carry no _total suffix).
import { CorrelatorMetrics as C, ClusterJobs as J, OperatorMetrics } from '../../conventions/index.js';
import {
  ALERT_SERVICE,
  type AlertFile,
  runbookUrl,
  SEVERITY_CRITICAL,
  SEVERITY_WARNING,
  type Severity,
} from '../../conventions/shipped.js';
import type { AlertingRule, RuleFile } from '../slo/rules.js';
import { remediationAlerts } from './remediation.js';

/** The scrape jobs desired/stack/prometheus.ts gives the stack's components (job_name = component). */
export const COMPONENT_JOBS = ['prometheus', 'collector', 'alertmanager', 'loki', 'tempo', 'grafana', 'correlator'];

interface AlertSpec {
  name: string;
  expr: string;
  for: string;
  severity: Severity;
  component: string;
  summary: string;
  description: string;
}

function alert(a: AlertSpec): AlertingRule {
  return {
    alert: a.name,
    expr: a.expr,
    for: a.for,
    labels: { severity: a.severity, service: ALERT_SERVICE, component: a.component },
    annotations: { summary: a.summary, description: a.description, runbook_url: runbookUrl(a.name) },
  };
}

/**
 * The collector counts spans, log records and metric points in separate series with the same labels.
 * A plain `a + b` yields nothing when one signal's pipeline is off, and rate() over a name regex
 * collides once the names are dropped, so each signal gets a `signal` label before they are summed.
 */
export function perSignal(prefix: string, by: string[], range = '5m'): string {
  const parts = [
    ['spans', 'spans'],
    ['log_records', 'logs'],
    ['metric_points', 'metrics'],
  ].map(([suffix, signal]) => `label_replace(rate(${prefix}${suffix}[${range}]), "signal", "${signal}", "", "")`);
  return `sum by (${[...by, 'signal'].join(', ')}) (\n  ${parts.join('\n  or\n  ')}\n)`;
}

const CORRELATOR = 'job="correlator"';

const stack: AlertingRule[] = [
  alert({
    name: 'VigilComponentDown',
    expr: `up{job=~"${COMPONENT_JOBS.join('|')}"} == 0`,
    for: '5m',
    severity: SEVERITY_WARNING,
    component: 'stack',
    summary: 'A component of the observability stack cannot be scraped.',
    description: '{{ $labels.job }} {{ $labels.pod }} has not answered its metrics scrape for 5 minutes.',
  }),
];

const collector: AlertingRule[] = [
  alert({
    name: 'VigilCollectorRefusingData',
    expr: `${perSignal('otelcol_receiver_refused_', ['namespace', 'pod', 'receiver'])} > 0`,
    for: '10m',
    severity: SEVERITY_WARNING,
    component: 'collector',
    summary: 'The collector refuses incoming telemetry.',
    description:
      'Collector {{ $labels.pod }} receiver {{ $labels.receiver }} has refused {{ $labels.signal }} for 10 minutes ({{ $value | humanize }}/s), usually because the memory_limiter is at its limit; senders retry or lose data.',
  }),
  alert({
    name: 'VigilCollectorExportFailing',
    expr: `${perSignal('otelcol_exporter_send_failed_', ['namespace', 'pod', 'exporter'])} > 0`,
    for: '10m',
    severity: SEVERITY_WARNING,
    component: 'collector',
    summary: 'The collector cannot deliver telemetry to a backend.',
    description:
      'Exporter {{ $labels.exporter }} on {{ $labels.pod }} has failed to send {{ $labels.signal }} for 10 minutes ({{ $value | humanize }}/s); the data is lost once retries run out.',
  }),
  alert({
    name: 'VigilCollectorQueueFilling',
    expr: 'max by (namespace, pod, exporter, data_type) (otelcol_exporter_queue_size / otelcol_exporter_queue_capacity) > 0.8',
    for: '10m',
    severity: SEVERITY_WARNING,
    component: 'collector',
    summary: "A collector exporter's sending queue is nearly full.",
    description:
      'Exporter {{ $labels.exporter }} ({{ $labels.data_type }}) on {{ $labels.pod }} has its queue {{ $value | humanizePercentage }} full; when it is full the collector drops new data.',
  }),
];

const prometheus: AlertingRule[] = [
  alert({
    name: 'VigilPrometheusRuleEvaluationFailing',
    expr: 'sum by (instance, rule_group) (increase(prometheus_rule_evaluation_failures_total[10m])) > 0',
    for: '10m',
    severity: SEVERITY_WARNING,
    component: 'prometheus',
    summary: 'Prometheus fails to evaluate rules.',
    description:
      'Rule group {{ $labels.rule_group }} has failed to evaluate for 10 minutes; its recording rules have gaps and its alerts cannot fire.',
  }),
  alert({
    name: 'VigilPrometheusConfigReloadFailed',
    expr: 'max_over_time(prometheus_config_last_reload_successful[5m]) == 0',
    for: '10m',
    severity: SEVERITY_WARNING,
    component: 'prometheus',
    summary: 'Prometheus could not load its configuration.',
    description:
      'The last configuration or rule reload of {{ $labels.instance }} failed; Prometheus keeps running the previous configuration.',
  }),
  alert({
    name: 'VigilAlertmanagerNotificationsFailing',
    expr: 'sum by (namespace, pod, integration) (rate(alertmanager_notifications_failed_total[5m])) > 0',
    for: '10m',
    severity: SEVERITY_WARNING,
    component: 'alertmanager',
    summary: 'Alertmanager cannot deliver notifications.',
    description:
      'The {{ $labels.integration }} integration on {{ $labels.pod }} has failed to send notifications for 10 minutes.',
  }),
  alert({
    name: 'VigilScrapeLimitHit',
    expr: 'sum by (instance) (increase(prometheus_target_scrapes_exceeded_sample_limit_total[10m])) + sum by (instance) (increase(prometheus_target_scrape_pool_exceeded_label_limits_total[10m])) > 0',
    for: '5m',
    severity: SEVERITY_WARNING,
    component: 'prometheus',
    summary: "Scrapes fail on a job's sample or label limit.",
    description:
      'Prometheus {{ $labels.instance }} refused {{ $value | humanize }} scrapes in 10 minutes because a target exposed more samples, or a series more labels, than its job allows; those targets show up == 0 and store nothing.',
  }),
];

const lokiPush = 'route=~"loki_api_v1_push|otlp_v1_logs"';
const loki: AlertingRule[] = [
  alert({
    name: 'VigilLokiIngestionErrors',
    expr: `sum by (namespace, pod) (rate(loki_request_duration_seconds_count{${lokiPush}, status_code=~"5.."}[5m]))\n/\nsum by (namespace, pod) (rate(loki_request_duration_seconds_count{${lokiPush}}[5m]))\n> 0.05`,
    for: '10m',
    severity: SEVERITY_WARNING,
    component: 'loki',
    summary: 'Loki fails log pushes.',
    description:
      '{{ $value | humanizePercentage }} of the pushes to {{ $labels.pod }} have failed with a server error for 10 minutes.',
  }),
  alert({
    name: 'VigilLokiDiscardingLogs',
    expr: 'sum by (namespace, reason) (rate(loki_discarded_samples_total[5m])) > 0',
    for: '15m',
    severity: SEVERITY_WARNING,
    component: 'loki',
    summary: 'Loki discards log lines.',
    description:
      'Loki has discarded log lines for 15 minutes ({{ $value | humanize }}/s), reason {{ $labels.reason }}.',
  }),
];

const tempo: AlertingRule[] = [
  alert({
    name: 'VigilTempoDiscardingSpans',
    expr: 'sum by (namespace, reason) (rate(tempo_discarded_spans_total[5m])) > 0',
    for: '15m',
    severity: SEVERITY_WARNING,
    component: 'tempo',
    summary: 'Tempo discards spans.',
    description: 'Tempo has discarded spans for 15 minutes ({{ $value | humanize }}/s), reason {{ $labels.reason }}.',
  }),
  alert({
    name: 'VigilTempoFlushesFailing',
    expr: 'sum by (namespace, pod) (increase(tempo_ingester_failed_flushes_total[1h])) > 2',
    for: '5m',
    severity: SEVERITY_CRITICAL,
    component: 'tempo',
    summary: 'Tempo cannot write trace blocks to storage.',
    description:
      'Ingester {{ $labels.pod }} failed {{ $value | humanize }} flushes in the last hour; traces held in memory are lost if it restarts.',
  }),
];

const correlator: AlertingRule[] = [
  alert({
    name: 'VigilCorrelatorExportFailing',
    expr: `sum by (namespace, pod, destination) (rate(${C.exportAttempts}{${CORRELATOR}, result!="success"}[5m]))\n/\nsum by (namespace, pod, destination) (rate(${C.exportAttempts}{${CORRELATOR}}[5m]))\n> 0.1`,
    for: '10m',
    severity: SEVERITY_WARNING,
    component: 'correlator',
    summary: 'The correlation engine fails to export.',
    description:
      '{{ $value | humanizePercentage }} of the export requests from {{ $labels.pod }} to {{ $labels.destination }} have failed for 10 minutes.',
  }),
  alert({
    name: 'VigilCorrelatorDroppingRecords',
    expr: `sum by (namespace, pod, destination) (increase(${C.exportDropped}{${CORRELATOR}}[10m])) > 0`,
    for: '5m',
    severity: SEVERITY_WARNING,
    component: 'correlator',
    summary: 'A destination refuses records from the correlation engine.',
    description:
      '{{ $labels.destination }} refused {{ $value | humanize }} records from {{ $labels.pod }} in 10 minutes with a non-retryable status; they are lost (the correlator logs the reason).',
  }),
  alert({
    name: 'VigilCorrelatorQueueFull',
    expr: `max by (namespace, pod, destination) (${C.exportQueueDepth}{${CORRELATOR}} / ${C.exportQueueCapacity}{${CORRELATOR}}) > 0.9`,
    for: '5m',
    severity: SEVERITY_WARNING,
    component: 'correlator',
    summary: "A correlation engine's export queue is full.",
    description:
      'The {{ $labels.destination }} queue on {{ $labels.pod }} has been {{ $value | humanizePercentage }} full for 5 minutes; ingest answers 429 and the collector backs off.',
  }),
];

/** Seconds without a watch event or reconnect before a watch counts as stale (reconnects come every ~6 min). */
export const STALE_WATCH_SECONDS = 900;

const operator: AlertingRule[] = [
  alert({
    name: 'VigilOperatorReconcileErrors',
    expr: `sum by (namespace, kind) (rate(${OperatorMetrics.reconcileTotal}{result="error"}[10m]))\n/\nsum by (namespace, kind) (rate(${OperatorMetrics.reconcileTotal}[10m]))\n> 0.1`,
    for: '15m',
    severity: SEVERITY_WARNING,
    component: 'operator',
    summary: 'The Vigil operator fails to reconcile.',
    description:
      '{{ $value | humanizePercentage }} of the {{ $labels.kind }} reconciles have failed for 15 minutes; the resources it manages drift from their spec.',
  }),
  alert({
    name: 'VigilOperatorWatchStale',
    expr: `time() - max by (namespace, pod, kind) (${OperatorMetrics.informerLastEvent}) > ${STALE_WATCH_SECONDS}`,
    for: '5m',
    severity: SEVERITY_WARNING,
    component: 'operator',
    summary: 'The Vigil operator no longer watches a kind.',
    description:
      'Operator {{ $labels.pod }} has seen no {{ $labels.kind }} watch event or reconnect for {{ $value | humanizeDuration }}; changes to those resources are not reconciled.',
  }),
];

// The cluster's own metrics (spec.metrics.cluster; docs/cluster-metrics.md). Names are the ones the
// components really expose: node-exporter's node_*, the k8s_cluster receiver's k8s_* through the
// prometheus exporter (read from the real ones by test/unit/cluster/ and
// test/integration/cluster-state.test.ts), the kubelet's and cAdvisor's from their documentation.
// Object labels are the ones desired/stack/prometheus.ts gives them: namespace, pod, container, node.
const NE = `job="${J.nodeExporter}"`;
const KS = `job="${J.clusterState}"`;
const CADVISOR = `job="${J.cadvisor}", container!="", container!="POD"`;
const CONTAINER = 'namespace, pod, container';
/** node_filesystem_* of the node's real file systems, not of its pseudo and in-memory ones. */
const FS = `${NE}, fstype!~"tmpfs|ramfs|squashfs|overlay|nsfs|fuse.*", mountpoint!~"/run.*|/var/lib/kubelet/pods/.*"`;

const CLUSTER_JOBS = [J.nodeExporter, J.clusterState, J.kubelet, J.cadvisor, J.apiServer];

const nodes: AlertingRule[] = [
  alert({
    name: 'VigilClusterScrapeFailing',
    expr: `up{job=~"${CLUSTER_JOBS.join('|')}"} == 0`,
    for: '10m',
    severity: SEVERITY_WARNING,
    component: 'cluster',
    summary: 'A source of cluster metrics cannot be scraped.',
    description:
      '{{ $labels.job }} target {{ $labels.instance }} has not answered its scrape for 10 minutes; the cluster alerts that read it are blind.',
  }),
  alert({
    name: 'VigilNodeNotReady',
    expr: `max by (node) (k8s_node_condition_ready{${KS}}) != 1`,
    for: '5m',
    severity: SEVERITY_WARNING,
    component: 'node',
    summary: 'A node is not Ready.',
    description:
      'Node {{ $labels.node }} has reported Ready {{ if eq $value -1.0 }}Unknown{{ else }}False{{ end }} for 5 minutes; its pods are not scheduled and may be evicted.',
  }),
  alert({
    name: 'VigilNodeCPUHigh',
    expr: `1 - avg by (instance) (rate(node_cpu_seconds_total{${NE}, mode="idle"}[5m])) > 0.9`,
    for: '15m',
    severity: SEVERITY_WARNING,
    component: 'node',
    summary: 'A node is short of CPU.',
    description: 'Node {{ $labels.instance }} has been {{ $value | humanizePercentage }} busy for 15 minutes.',
  }),
  alert({
    name: 'VigilNodeMemoryHigh',
    expr: `1 - node_memory_MemAvailable_bytes{${NE}} / node_memory_MemTotal_bytes{${NE}} > 0.9`,
    for: '15m',
    severity: SEVERITY_WARNING,
    component: 'node',
    summary: 'A node is short of memory.',
    description:
      'Node {{ $labels.instance }} has used {{ $value | humanizePercentage }} of its memory for 15 minutes; the kernel OOM killer or kubelet evictions come next.',
  }),
  alert({
    name: 'VigilNodeFilesystemFilling',
    expr: `node_filesystem_avail_bytes{${FS}} / node_filesystem_size_bytes{${FS}} < 0.1 and node_filesystem_readonly{${FS}} == 0`,
    for: '15m',
    severity: SEVERITY_WARNING,
    component: 'node',
    summary: "A node's file system is nearly full.",
    description:
      '{{ $labels.mountpoint }} on node {{ $labels.instance }} has {{ $value | humanizePercentage }} space left; below the kubelet eviction threshold pods are evicted and images removed.',
  }),
  alert({
    name: 'VigilNodeNetworkErrors',
    expr: `sum by (instance, device) (rate(node_network_receive_errs_total{${NE}}[5m]) + rate(node_network_transmit_errs_total{${NE}}[5m])) > 1`,
    for: '15m',
    severity: SEVERITY_WARNING,
    component: 'node',
    summary: 'A node network interface reports errors.',
    description:
      'Interface {{ $labels.device }} on node {{ $labels.instance }} has seen {{ $value | humanize }} receive and transmit errors per second for 15 minutes.',
  }),
];

/** One series per container whatever its last termination reason (a label that changes on restart). */
const restarts = (offset = '') => `max by (${CONTAINER}) (k8s_container_restarts{${KS}}${offset})`;

const workloads: AlertingRule[] = [
  alert({
    name: 'VigilContainerRestarting',
    expr: `${restarts()} - ${restarts(' offset 1h')} >= 3`,
    for: '0m',
    severity: SEVERITY_WARNING,
    component: 'workload',
    summary: 'A container keeps restarting.',
    description:
      'Container {{ $labels.container }} of {{ $labels.namespace }}/{{ $labels.pod }} restarted {{ $value }} times in the last hour.',
  }),
  alert({
    name: 'VigilContainerCrashLooping',
    expr: `max by (${CONTAINER}) (k8s_container_status_reason{${KS}, k8s_container_status_reason="CrashLoopBackOff"}) > 0`,
    for: '10m',
    severity: SEVERITY_WARNING,
    component: 'workload',
    summary: 'A container is in CrashLoopBackOff.',
    description:
      'Container {{ $labels.container }} of {{ $labels.namespace }}/{{ $labels.pod }} has been waiting in CrashLoopBackOff for 10 minutes.',
  }),
  alert({
    name: 'VigilContainerOOMKilled',
    expr: `max by (${CONTAINER}) (k8s_container_restarts{${KS}, k8s_container_status_last_terminated_reason="OOMKilled"})\n>\n${restarts(' offset 15m')}`,
    for: '0m',
    severity: SEVERITY_WARNING,
    component: 'workload',
    summary: 'A container was killed for running out of memory.',
    description:
      'Container {{ $labels.container }} of {{ $labels.namespace }}/{{ $labels.pod }} restarted in the last 15 minutes after being OOMKilled; its memory limit is too low for its load.',
  }),
  alert({
    name: 'VigilContainerMemoryNearLimit',
    expr: `sum by (${CONTAINER}) (container_memory_working_set_bytes{${CADVISOR}})\n/\nmax by (${CONTAINER}) (k8s_container_memory_limit_bytes{${KS}})\n> 0.9`,
    for: '15m',
    severity: SEVERITY_WARNING,
    component: 'workload',
    summary: 'A container uses nearly all of its memory limit.',
    description:
      'Container {{ $labels.container }} of {{ $labels.namespace }}/{{ $labels.pod }} has used {{ $value | humanizePercentage }} of its memory limit for 15 minutes; at the limit it is OOMKilled.',
  }),
  alert({
    name: 'VigilContainerCPUNearLimit',
    expr: `sum by (${CONTAINER}) (rate(container_cpu_usage_seconds_total{${CADVISOR}}[5m]))\n/\nmax by (${CONTAINER}) (k8s_container_cpu_limit{${KS}})\n> 0.9`,
    for: '15m',
    severity: SEVERITY_WARNING,
    component: 'workload',
    summary: 'A container uses nearly all of its CPU limit.',
    description:
      'Container {{ $labels.container }} of {{ $labels.namespace }}/{{ $labels.pod }} has used {{ $value | humanizePercentage }} of its CPU limit for 15 minutes; above it the container is throttled.',
  }),
  alert({
    name: 'VigilPodPending',
    expr: `max by (namespace, pod) (k8s_pod_phase{${KS}}) == 1`,
    for: '15m',
    severity: SEVERITY_WARNING,
    component: 'workload',
    summary: 'A pod cannot start.',
    description:
      'Pod {{ $labels.namespace }}/{{ $labels.pod }} has been Pending for 15 minutes: unschedulable, an image that cannot be pulled, or a volume that cannot be bound.',
  }),
  alert({
    name: 'VigilDeploymentReplicasUnavailable',
    expr: `max by (namespace, k8s_deployment_name) (k8s_deployment_desired{${KS}})\n-\nmax by (namespace, k8s_deployment_name) (k8s_deployment_available{${KS}})\n> 0`,
    for: '15m',
    severity: SEVERITY_WARNING,
    component: 'workload',
    summary: 'A Deployment has unavailable replicas.',
    description:
      'Deployment {{ $labels.namespace }}/{{ $labels.k8s_deployment_name }} has had {{ $value }} replicas unavailable for 15 minutes.',
  }),
  alert({
    name: 'VigilStatefulSetReplicasUnavailable',
    expr: `max by (namespace, k8s_statefulset_name) (k8s_statefulset_desired_pods{${KS}})\n-\nmax by (namespace, k8s_statefulset_name) (k8s_statefulset_ready_pods{${KS}})\n> 0`,
    for: '15m',
    severity: SEVERITY_WARNING,
    component: 'workload',
    summary: 'A StatefulSet has replicas that are not ready.',
    description:
      'StatefulSet {{ $labels.namespace }}/{{ $labels.k8s_statefulset_name }} has had {{ $value }} replicas not ready for 15 minutes.',
  }),
  alert({
    name: 'VigilPersistentVolumeFilling',
    expr: `kubelet_volume_stats_available_bytes{job="${J.kubelet}"} / kubelet_volume_stats_capacity_bytes{job="${J.kubelet}"} < 0.1`,
    for: '15m',
    severity: SEVERITY_WARNING,
    component: 'workload',
    summary: 'A PersistentVolumeClaim is nearly full.',
    description:
      'PersistentVolumeClaim {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} has {{ $value | humanizePercentage }} space left.',
  }),
];

const RULES: Record<AlertFile, AlertingRule[]> = {
  stack,
  collector,
  prometheus,
  loki,
  tempo,
  correlator,
  operator,
  nodes,
  workloads,
  remediation: remediationAlerts,
};

/** The rule file shipped for one area. */
export function shippedRuleFile(name: AlertFile): RuleFile {
  return { groups: [{ name: `vigil-${name}`, rules: RULES[name] }] };
}

/** Every shipped alerting rule, in file order. */
export function shippedAlerts(): AlertingRule[] {
  return Object.values(RULES).flat();
}
