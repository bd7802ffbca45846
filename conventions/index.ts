// Every name Vigil puts on the wire lives here: API group, labels, annotations, field manager,
// condition types and reasons, metric names. Other modules import them; none spells them again.

export const API_GROUP = 'observability.vigil.dev';
export const API_VERSION = 'v1alpha1';
export const API_GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;
export const CATEGORY = 'vigil';

export const KIND_STACK = 'ObservabilityStack';
export const KIND_SLO = 'SLO';
export const PLURAL_STACK = 'observabilitystacks';
export const PLURAL_SLO = 'slos';

export const FIELD_MANAGER = 'vigil';
export const PART_OF = 'vigil';
export const MANAGED_BY = 'vigil-operator';

export const LABEL_NAME = 'app.kubernetes.io/name';
export const LABEL_INSTANCE = 'app.kubernetes.io/instance';
export const LABEL_COMPONENT = 'app.kubernetes.io/component';
export const LABEL_PART_OF = 'app.kubernetes.io/part-of';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_STACK = 'vigil.dev/stack';
/**
 * On cluster-scoped children (ClusterRoles and their bindings): the stack's namespace. They cannot
 * carry an ownerReference to a namespaced stack, so the stack label alone would not tell two
 * namespaces' stacks of one name apart when the operator lists them to prune.
 */
export const LABEL_STACK_NAMESPACE = 'vigil.dev/stack-namespace';
export const LABEL_SLO = 'vigil.dev/slo';
/** Grafana's dashboard sidecar loads every ConfigMap carrying this label. */
export const LABEL_GRAFANA_DASHBOARD = 'grafana_dashboard';

/** Labels and annotation prefixes never copied from a CR to its children (Argo CD tracks and prunes by them). */
export const NEVER_PROPAGATED_LABELS = [LABEL_INSTANCE] as const;
export const NEVER_PROPAGATED_PREFIXES = ['argocd.argoproj.io/'] as const;

/**
 * The external label that tells the replicas of an HA Prometheus pair apart (each pod's name): Thanos
 * Query deduplicates by it, and it is dropped from alerts so that Alertmanager sees one alert.
 */
export const PROMETHEUS_REPLICA_LABEL = 'prometheus_replica';

/** The uids of the datasources every stack's Grafana provisions; dashboards refer to them by uid. */
export const DATASOURCE_UIDS = { prometheus: 'prometheus', loki: 'loki', tempo: 'tempo' } as const;

/** The operator's own metric names (operator/metrics.ts registers them; the shipped dashboards and alerts read them). */
export const OperatorMetrics = {
  reconcileTotal: 'vigil_operator_reconcile_total',
  reconcileDuration: 'vigil_operator_reconcile_duration_seconds',
  workqueueDepth: 'vigil_operator_workqueue_depth',
  childWrites: 'vigil_operator_child_writes_total',
  informerRestarts: 'vigil_operator_informer_restarts_total',
  informerLastEvent: 'vigil_operator_informer_last_event_timestamp_seconds',
  isLeader: 'vigil_operator_leader_is_leader',
} as const;

/**
 * Datadog's sites (docs.datadoghq.com/getting_started/site): the only hosts the correlator's Datadog
 * export may name, so that a stack cannot send an API key to a host of its author's choosing.
 */
export const DATADOG_SITES = [
  'datadoghq.com',
  'us3.datadoghq.com',
  'us5.datadoghq.com',
  'datadoghq.eu',
  'ap1.datadoghq.com',
  'ap2.datadoghq.com',
  'ddog-gov.com',
] as const;

export const CONDITION_READY = 'Ready';
export const CONDITION_PROGRESSING = 'Progressing';
export const CONDITION_DEGRADED = 'Degraded';
export type ConditionType = typeof CONDITION_READY | typeof CONDITION_PROGRESSING | typeof CONDITION_DEGRADED;
/**
 * A warning on a stack that runs, but smaller than its size asks: at size medium or large without
 * spec.objectStorage.s3, Loki and Tempo stay single binaries (docs/adr/0017-scalable-loki-tempo.md).
 */
export const CONDITION_SCALING_LIMITED = 'ScalingLimited';
export const REASON_NO_OBJECT_STORAGE = 'NoObjectStorage';

export const Reasons = {
  AllComponentsReady: 'AllComponentsReady',
  ComponentsNotReady: 'ComponentsNotReady',
  Reconciling: 'Reconciling',
  ReconcileSucceeded: 'ReconcileSucceeded',
  InvalidSpec: 'InvalidSpec',
  /** A spec image outside the operator's --allowed-image-prefixes. */
  ImageNotAllowed: 'ImageNotAllowed',
  SecretMissing: 'SecretMissing',
  /** A referenced Secret has every key, but a value is refused (empty, or not what its other keys say). */
  SecretInvalid: 'SecretInvalid',
  ApplyFailed: 'ApplyFailed',
  StackNotFound: 'StackNotFound',
  StackNotReady: 'StackNotReady',
  RulesGenerated: 'RulesGenerated',
  AsExpected: 'AsExpected',
  /** Vigil's own code failed (render threw, or made a kind it does not manage): a bug to report, not a spec to fix. */
  ReconcileError: 'ReconcileError',
} as const;
export type Reason = (typeof Reasons)[keyof typeof Reasons];

/** Metric names of the correlation engine (`vigil correlator`); the first five are the seed service's. */
export const CorrelatorMetrics = {
  correlationEvents: 'correlation_events_total',
  logRecordsReceived: 'log_records_received_total',
  tracesReceived: 'traces_received_total',
  exportAttempts: 'export_attempts_total',
  exportDuration: 'export_duration_seconds',
  exportQueueDepth: 'export_queue_depth',
  exportQueueCapacity: 'export_queue_capacity',
  exportDropped: 'export_records_dropped_total',
  correlationsHeld: 'correlations_held',
  correlationsOpen: 'correlations_open',
  correlationEvictions: 'correlation_evictions_total',
  recordsRejected: 'ingest_records_rejected_total',
  requestsRefused: 'ingest_requests_refused_total',
  logsWithoutTrace: 'log_records_without_trace_total',
  correlationsWithoutSpans: 'correlations_without_spans_total',
  ingestTruncations: 'ingest_truncations_total',
  ingestInflightBytes: 'ingest_inflight_bytes',
  correlationsHeldBytes: 'correlations_held_bytes',
  correlationServicesDropped: 'correlation_services_dropped_total',
  exportQueueBytes: 'export_queue_bytes',
  exportQueueCapacityBytes: 'export_queue_capacity_bytes',
  exportAbandoned: 'export_records_abandoned_total',
  queryFanoutDuration: 'query_fanout_duration_seconds',
  queryPeerRequests: 'query_peer_requests_total',
  queryPeerDuration: 'query_peer_duration_seconds',
  queryFanoutPartial: 'query_fanout_partial_total',
} as const;

/** On pod templates: a hash of the rendered config files, so a config change rolls the pods. */
export const ANNOTATION_CONFIG_HASH = 'vigil.dev/config-hash';
/**
 * On SLO rule ConfigMaps: the stack whose Prometheus loads them. The rules sidecar selects on this one
 * label and value, so two stacks in a namespace never load each other's SLO rules.
 */
export const LABEL_RULES_FOR = 'vigil.dev/rules-for';
/** Alert labels that Alertmanager inhibits by: the SLO alerts' own labels (conventions/slo.ts). */
export {
  L_SLO as ALERT_LABEL_SLO,
  L_SLO_NAMESPACE as ALERT_LABEL_SLO_NAMESPACE,
  L_TIER as ALERT_LABEL_TIER,
  TIER_PAGE,
  TIER_TICKET,
} from './slo.js';

/**
 * Scrape job names of the cluster metrics and of the operator (desired/stack/prometheus.ts); the
 * cluster dashboards and alerts select on them.
 */
export const ClusterJobs = {
  nodeExporter: 'node-exporter',
  clusterState: 'cluster-state',
  kubelet: 'kubelet',
  cadvisor: 'cadvisor',
  apiServer: 'apiserver',
  operator: 'vigil-operator',
} as const;
/** app.kubernetes.io/name of the operator's pods (manifests/operator/), which its scrape job selects. */
export const OPERATOR_APP_NAME = 'vigil-operator';

/**
 * Loki stream labels a stack may name in spec.logs.labels and the OTLP resource attribute each one
 * is copied from; a name not listed here is read from a resource attribute of that very name. The
 * collector copies each source into an attribute named like the label, and Loki indexes exactly
 * those (desired/stack/loki.ts): Loki can turn a dot into an underscore but cannot rename.
 */
export const LOKI_LABEL_SOURCES: Readonly<Record<string, string>> = {
  service: 'service.name',
  namespace: 'k8s.namespace.name',
  container: 'k8s.container.name',
  pod: 'k8s.pod.name',
  node: 'k8s.node.name',
  deployment: 'k8s.deployment.name',
  env: 'deployment.environment',
};
/** The stream labels of application logs when spec.logs.labels is not set. */
export const DEFAULT_LOKI_LABELS = ['namespace', 'container', 'service'] as const;

/**
 * The attribute the collector routes spans and logs to a correlator replica by (the hex trace id;
 * set only on the copy sent to the correlator; docs/adr/0014-collector-agent-and-gateway.md).
 */
export const CORRELATOR_ROUTING_ATTRIBUTE = 'vigil.trace_id';
/** Prefix of the resource attributes the agent copies pod labels into (collector k8sattributes). */
export const POD_LABEL_ATTRIBUTE_PREFIX = 'k8s.pod.label.';
/** Condition reason: two stacks in one cluster would collect the same pods (desired/stack/collection.ts). */
export const REASON_COLLECTION_OVERLAP = 'CollectionOverlap';
/** Condition reason: the stack namespace's Pod Security level refuses the node agent's pods (agentNamespaceProblem). */
export const REASON_AGENT_POD_SECURITY = 'AgentRefusedByPodSecurity';
