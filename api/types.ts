// The v1alpha1 API as TypeScript types. schema.ts ties a JSON Schema to each of these with ajv's
// JSONSchemaType, so the types, the CRDs in crds/ and `vigil validate` cannot drift apart.

export type SizeProfile = 'demo' | 'small' | 'medium' | 'large';
export const SIZE_PROFILES: readonly SizeProfile[] = ['demo', 'small', 'medium', 'large'];

export interface ResourceList {
  cpu?: string;
  memory?: string;
}
export interface ResourceRequirements {
  requests?: ResourceList;
  limits?: ResourceList;
}
export interface LocalObjectRef {
  name: string;
}
export interface SecretKeyRef {
  name: string;
  key: string;
}
export interface StorageSpec {
  size?: string;
  storageClassName?: string;
}

/** What every component of a stack has. */
export interface ComponentSpec {
  enabled: boolean;
  image?: string;
  replicas?: number;
  resources?: ResourceRequirements;
}

export interface SamplingSpec {
  /** Keep every trace that has an error span. */
  errors: boolean;
  /** Keep every trace slower than this duration (e.g. 2s). */
  slowerThan?: string;
  /** Keep this percent of all other traces. */
  baselinePercent?: number;
}
/**
 * deployment: the gateway only (applications push OTLP to it). daemonset: the gateway and an agent
 * on every node that reads the collected pods' logs and serves node-local OTLP (docs/collection.md).
 */
export type CollectorMode = 'deployment' | 'daemonset';
export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}
/** metav1.LabelSelector */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}
/** Which pods the agent collects: those of the named namespaces and of the namespaces the selector matches. */
export interface CollectSpec {
  namespaces?: string[];
  namespaceSelector?: LabelSelector;
  /** Pod labels copied onto every record the agent sends, as k8s.pod.label.<name>. */
  podLabels?: string[];
}
export interface AgentSpec {
  resources?: ResourceRequirements;
}
export interface SamplerSpec {
  replicas?: number;
  resources?: ResourceRequirements;
}
export interface CollectorSpec extends ComponentSpec {
  mode: CollectorMode;
  sampling?: SamplingSpec;
  /** Needs mode: daemonset; absent there, the agent collects the stack's own namespace. */
  collect?: CollectSpec;
  /** The per-node agent (mode: daemonset). */
  agent?: AgentSpec;
  /** The tail-sampling tier behind the gateway's trace-ID load balancing (with sampling). */
  sampler?: SamplerSpec;
  /**
   * Namespaces whose pods may send OTLP to the gateway and the agent (NetworkPolicy); absent: the
   * stack's own namespace and the ones it collects (docs/network-policies.md).
   */
  otlpFrom?: NamespacesSpec;
}
/** Namespaces by name and by label selector. */
export interface NamespacesSpec {
  namespaces?: string[];
  namespaceSelector?: LabelSelector;
}
/** A NetworkPolicy peer: pods of the selected namespaces (the stack's own when absent) that the pod selector matches. */
export interface PeerSpec {
  namespaceSelector?: LabelSelector;
  podSelector?: LabelSelector;
}

export interface AlertmanagerSpec extends ComponentSpec {
  storage?: StorageSpec;
}
/** node-exporter, one pod per node (needs host namespaces: see docs/cluster-metrics.md). */
export interface NodeExporterSpec {
  enabled: boolean;
  image?: string;
  resources?: ResourceRequirements;
  /** The host port it listens on (hostNetwork); two stacks with node-exporter in one cluster need two ports. */
  port: number;
}
/** The collector's k8s_cluster receiver: the state of Kubernetes objects, one replica per cluster. */
export interface ClusterStateSpec {
  enabled: boolean;
  image?: string;
  resources?: ResourceRequirements;
}
/** The cluster the stack runs in, scraped by the stack's Prometheus. */
export interface ClusterMetricsSpec {
  enabled: boolean;
  nodeExporter?: NodeExporterSpec;
  clusterState?: ClusterStateSpec;
  /** The kubelets' /metrics and /metrics/cadvisor (10250, the ServiceAccount token). */
  kubelet: boolean;
  /** The API servers' /metrics. */
  apiServer: boolean;
}
/** The Vigil operator's /metrics, so the shipped operator alerts have series. */
export interface ScrapeOperatorSpec {
  enabled: boolean;
  /** Where the operator runs (manifests/ installs it into vigil-system). */
  namespace: string;
}
/** The Thanos sidecar beside each Prometheus replica and the querier that deduplicates them (two or more replicas). */
export interface ThanosSpec {
  /** Overrides the pinned Thanos image (sidecars and querier). */
  image?: string;
  query?: { replicas?: number; resources?: ResourceRequirements };
  sidecar?: { resources?: ResourceRequirements };
}
export interface RemoteWriteBasicAuth {
  usernameSecretRef: SecretKeyRef;
  passwordSecretRef: SecretKeyRef;
}
/** Prometheus's queue_config, field for field. */
export interface RemoteWriteQueue {
  capacity?: number;
  minShards?: number;
  maxShards?: number;
  maxSamplesPerSend?: number;
  batchSendDeadline?: string;
}
/** A long-term store every Prometheus replica also writes to. Credentials by Secret reference only. */
export interface RemoteWriteSpec {
  url: string;
  name?: string;
  basicAuth?: RemoteWriteBasicAuth;
  bearerTokenSecretRef?: SecretKeyRef;
  queue?: RemoteWriteQueue;
}
/**
 * Basic auth on a query API (Prometheus and Thanos Query, or Alertmanager): off by default. With no
 * secretRef the operator generates `<stack>-<component>-auth` (username, password, authorization).
 */
export interface QueryBasicAuth {
  enabled: boolean;
  secretRef?: LocalObjectRef;
}
export interface MetricsSpec extends ComponentSpec {
  retention: string;
  retentionSize?: string;
  scrapeInterval: string;
  storage?: StorageSpec;
  alertmanager?: AlertmanagerSpec;
  cluster?: ClusterMetricsSpec;
  scrapeOperator?: ScrapeOperatorSpec;
  thanos?: ThanosSpec;
  remoteWrite?: RemoteWriteSpec[];
  basicAuth?: QueryBasicAuth;
}
export interface LogsSpec extends ComponentSpec {
  retention: string;
  storage?: StorageSpec;
  /** Stream labels; low-cardinality only. */
  labels?: string[];
  /** Per-target sizes of scalable Loki (sizes medium and large with spec.objectStorage.s3). */
  targets?: LokiTargetsSpec;
}
export interface TracesSpec extends ComponentSpec {
  retention: string;
  storage?: StorageSpec;
  serviceGraphs: boolean;
  spanMetrics: boolean;
}
export interface GrafanaSpec extends ComponentSpec {
  adminSecretRef?: LocalObjectRef;
  /** Who may reach Grafana's web port (NetworkPolicy); absent: every pod of the stack's namespace. */
  allowFrom?: PeerSpec[];
  /** An external database for Grafana's state; needed for more than one replica. */
  database?: GrafanaDatabaseSpec;
}

// ---- Scalable Loki and Tempo, Grafana's external database (issue 11; docs/adr/0017-scalable-loki-tempo.md)
/** One target of a scalable component (loki-write): its replicas and resources over the size's. */
export interface TargetSpec {
  replicas?: number;
  resources?: ResourceRequirements;
  storage?: StorageSpec;
}
/** Loki's simple scalable targets. */
export interface LokiTargetsSpec {
  write?: TargetSpec;
  read?: TargetSpec;
  backend?: TargetSpec;
}
export type GrafanaDatabaseType = 'postgres' | 'mysql';
export interface GrafanaDatabaseSpec {
  type: GrafanaDatabaseType;
  /** host:port */
  host: string;
  name: string;
  user: string;
  passwordSecretRef: SecretKeyRef;
}
// ---- end of issue 11's scalable block

export interface WebhookReceiver {
  url: string;
}
export interface SlackReceiver {
  channel?: string;
  apiURLSecretRef: SecretKeyRef;
}
export interface PagerDutyReceiver {
  routingKeySecretRef: SecretKeyRef;
}
export interface Receiver {
  name: string;
  webhook?: WebhookReceiver;
  slack?: SlackReceiver;
  pagerduty?: PagerDutyReceiver;
}
export interface Route {
  receiver: string;
  /** Alertmanager matchers, e.g. severity="page". */
  matchers?: string[];
  continue?: boolean;
}
export interface AlertingSpec {
  receivers?: Receiver[];
  routes?: Route[];
  basicAuth?: QueryBasicAuth;
}

export interface DatadogSpec {
  apiKeySecretRef: SecretKeyRef;
  site?: string;
}
export interface CorrelationSpec extends ComponentSpec {
  windowSeconds: number;
  batchSize: number;
  basicAuthSecretRef?: LocalObjectRef;
  datadog?: DatadogSpec;
}

export interface S3Spec {
  endpoint: string;
  bucket: string;
  region?: string;
  insecure?: boolean;
  secretRef?: LocalObjectRef;
}
export interface ObjectStorageSpec {
  s3?: S3Spec;
}

export interface ObservabilityStackSpec {
  environment: string;
  size: SizeProfile;
  collector?: CollectorSpec;
  metrics?: MetricsSpec;
  logs?: LogsSpec;
  traces?: TracesSpec;
  grafana?: GrafanaSpec;
  alerting?: AlertingSpec;
  correlation?: CorrelationSpec;
  objectStorage?: ObjectStorageSpec;
}

/** metav1.Condition */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}
/** One workload of a component (`loki-write`): available pods of its size, and how many it needs to serve. */
export interface TargetStatus {
  /** At full strength: every replica up to date and available. */
  ready: boolean;
  replicas: string;
  /** The available pods it needs to serve (its disruption budget keeps this many); absent: all. */
  quorum?: number;
}
export interface ComponentStatus {
  /** Serving: every target has its quorum. */
  ready: boolean;
  replicas?: string;
  targets?: Record<string, TargetStatus>;
  message?: string;
}
export interface ObservabilityStackStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  components?: Record<string, ComponentStatus>;
  endpoints?: Record<string, string>;
}

export interface RatioIndicator {
  /** PromQL for the rate of bad events; `{{window}}` is replaced by each alert window. */
  errors: string;
  /** PromQL for the rate of all events; `{{window}}` is replaced by each alert window. */
  total: string;
}
export interface LatencyIndicator {
  /** Histogram metric name without the _bucket suffix. */
  histogram: string;
  /** Requests at or under this many seconds are good; must be a bucket boundary. */
  thresholdSeconds: number;
  /** Label matchers, e.g. {job="checkout"}. */
  selector?: string;
}
export interface RawIndicator {
  /** PromQL for the error ratio (0..1); `{{window}}` is replaced by each alert window. */
  errorRatio: string;
}
export interface Indicator {
  ratio?: RatioIndicator;
  latency?: LatencyIndicator;
  raw?: RawIndicator;
}
export interface AlertTier {
  enabled: boolean;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export interface SLOAlerting {
  page?: AlertTier;
  ticket?: AlertTier;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  runbookURL?: string;
  /** Below this many requests per second, the page tier holds (a few errors at very low traffic do not page). */
  minTrafficPerSecond?: number;
}
export interface StackRef {
  name: string;
}
export interface SLOSpec {
  service: string;
  stackRef: StackRef;
  objective: number;
  window: string;
  description?: string;
  indicator: Indicator;
  alerting?: SLOAlerting;
  /** Also write a monitoring.coreos.com/v1 PrometheusRule when that CRD exists. */
  prometheusRule?: boolean;
}
export interface SLOBudgetStatus {
  remainingPercent?: string;
  burnRate?: string;
  observedAt?: string;
}
export interface SLOStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  ruleCount?: number;
  dashboard?: string;
  budget?: SLOBudgetStatus;
}

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  generation?: number;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}
export interface ObservabilityStack {
  apiVersion: string;
  kind: 'ObservabilityStack';
  metadata: ObjectMeta;
  spec: ObservabilityStackSpec;
  status?: ObservabilityStackStatus;
}
export interface SLO {
  apiVersion: string;
  kind: 'SLO';
  metadata: ObjectMeta;
  spec: SLOSpec;
  status?: SLOStatus;
}
