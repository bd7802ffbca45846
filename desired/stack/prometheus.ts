// Prometheus: scrapes every component of the stack and annotated pods of the namespace, loads the
// SLO rule ConfigMaps (collected by a sidecar, reloaded without a restart) and Vigil's own alerts,
// receives OTLP metrics and Tempo's remote write, stores exemplars.
import type { k8s } from 'cdk8s-plus-33';
import type { Construct } from 'constructs';
import yaml from 'js-yaml';
import type { SecretKeyRef } from '../../api/types.js';
import {
  ClusterJobs,
  LABEL_COMPONENT,
  LABEL_NAME,
  LABEL_RULES_FOR,
  LABEL_STACK,
  OPERATOR_APP_NAME,
  PROMETHEUS_REPLICA_LABEL,
} from '../../conventions/index.js';
import { clusterRole } from './cluster-rbac.js';
import { collectedBy } from './collection.js';
import { PORTS, placeholder, type StackContext } from './context.js';
import { CORRELATOR_AUTH_KEYS, correlatorAuthSecretName } from './correlator.js';
import { IMAGES } from './images.js';
import type { ComponentName } from './labels.js';
import {
  configHash,
  configMap,
  configMapVolume,
  configSidecar,
  container,
  emptyDir,
  podTemplate,
  role,
  service,
  serviceAccount,
  statefulSet,
} from './pod.js';
import {
  authSecretMount,
  authSecretVolume,
  basicAuthFiles,
  type QueryApi,
  queryAuthOn,
  WEB_CONFIG_DIR,
  WEB_CONFIG_KEYS,
  webConfigMount,
  webConfigVolume,
} from './query-auth.js';
import { stackAlertFiles } from './stack-alerts.js';
import { prometheusStoresService } from './thanos-query.js';

export const RULES_DIR = '/etc/prometheus/rules';
const SLO_RULES_DIR = `${RULES_DIR}/slo`;
const STACK_RULES_DIR = `${RULES_DIR}/vigil`;

/** Which container port each scraped component serves its metrics on. */
const METRICS_PORT: Partial<Record<ComponentName, string>> = {
  collector: 'metrics',
  alertmanager: 'http',
  loki: 'http',
  tempo: 'http',
  grafana: 'http',
  correlator: 'http',
  'thanos-query': 'http',
};

type Config = Record<string, unknown>;

/**
 * Per-job limits: a target that exposes more samples, or a series with more labels, fails its whole
 * scrape (up == 0, VigilScrapeLimitHit) instead of flooding the TSDB. Sized for a large cluster.
 */
export const SCRAPE_LIMITS: Record<string, { sample_limit: number; label_limit: number }> = {
  prometheus: { sample_limit: 50_000, label_limit: 30 },
  component: { sample_limit: 50_000, label_limit: 30 },
  'annotated-pods': { sample_limit: 20_000, label_limit: 30 },
  [ClusterJobs.nodeExporter]: { sample_limit: 20_000, label_limit: 30 },
  // Every object of the cluster, each series with its object's resource attributes as labels.
  [ClusterJobs.clusterState]: { sample_limit: 500_000, label_limit: 40 },
  [ClusterJobs.kubelet]: { sample_limit: 50_000, label_limit: 30 },
  [ClusterJobs.cadvisor]: { sample_limit: 200_000, label_limit: 30 },
  [ClusterJobs.apiServer]: { sample_limit: 100_000, label_limit: 30 },
  [ClusterJobs.operator]: { sample_limit: 10_000, label_limit: 30 },
};
const limits = (job: string) => SCRAPE_LIMITS[job] ?? SCRAPE_LIMITS.component;

/** The ServiceAccount's token and CA, for the kubelets and the API server. */
const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const inClusterAuth = { authorization: { type: 'Bearer', credentials_file: `${SA_DIR}/token` } };

/** Pods of one component of this stack, by the container port's name. */
function stackPodsSd(ctx: StackContext, c: ComponentName): Config[] {
  return [
    {
      role: 'pod',
      namespaces: { names: [ctx.namespace] },
      selectors: [{ role: 'pod', label: `${LABEL_STACK}=${ctx.stack},${LABEL_COMPONENT}=${c}` }],
    },
  ];
}

/**
 * Where the correlator's auth Secret (its username and password keys only) is mounted in the
 * Prometheus pod, for the correlator job's basic_auth: the correlator asks for credentials on
 * /metrics too. Files, so that Prometheus rereads them on each scrape and the config holds no secret.
 */
export const CORRELATOR_SECRET_DIR = '/etc/prometheus/secrets/correlator';

/** The correlator job's basic_auth, from the files of CORRELATOR_SECRET_DIR. */
export function correlatorBasicAuth(dir = CORRELATOR_SECRET_DIR): Config {
  return {
    username_file: `${dir}/${CORRELATOR_AUTH_KEYS.username}`,
    password_file: `${dir}/${CORRELATOR_AUTH_KEYS.password}`,
  };
}

/** Which query API's credentials a component's /metrics asks for when its auth is on. */
const SCRAPE_AUTH: Partial<Record<ComponentName, QueryApi>> = {
  'thanos-query': 'prometheus',
  alertmanager: 'alertmanager',
};

/** The basic_auth a scrape of the component sends: the correlator always, the query APIs when their auth is on. */
function scrapeAuth(ctx: StackContext, c: ComponentName): Config | undefined {
  if (c === 'correlator') return correlatorBasicAuth();
  const api = SCRAPE_AUTH[c];
  return api && queryAuthOn(ctx, api) ? basicAuthFiles(api) : undefined;
}

function componentJob(ctx: StackContext, c: ComponentName, port: string): Config {
  const auth = scrapeAuth(ctx, c);
  return {
    job_name: c,
    ...limits('component'),
    ...(auth && { basic_auth: auth }),
    kubernetes_sd_configs: [
      {
        role: 'pod',
        namespaces: { names: [ctx.namespace] },
        selectors: [{ role: 'pod', label: `${LABEL_STACK}=${ctx.stack},${LABEL_COMPONENT}=${c}` }],
      },
    ],
    relabel_configs: [
      { source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: port, action: 'keep' },
      { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
      { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
    ],
  };
}

/**
 * Where annotated pods are scraped: the stack's namespace and the namespaces its agent collects by
 * name (spec.collector.collect.namespaces). Namespaces matched only by the agent's selector are not:
 * Prometheus discovers pods by namespace name.
 */
export function annotatedNamespaces(ctx: StackContext): string[] {
  return [...new Set([ctx.namespace, ...(collectedBy(ctx.spec, ctx.namespace)?.names ?? [])])].sort();
}

/** Pods that opt in with the prometheus.io/scrape, /port, /path annotations. */
function annotatedPodsJob(ctx: StackContext): Config {
  const ann = (a: string) => `__meta_kubernetes_pod_annotation_prometheus_io_${a}`;
  return {
    job_name: 'annotated-pods',
    ...limits('annotated-pods'),
    kubernetes_sd_configs: [{ role: 'pod', namespaces: { names: annotatedNamespaces(ctx) } }],
    relabel_configs: [
      { source_labels: [ann('scrape')], regex: 'true', action: 'keep' },
      // Stack components are scraped by their own jobs above.
      {
        source_labels: [`__meta_kubernetes_pod_label_${LABEL_STACK.replace(/[./]/g, '_')}`],
        regex: '.+',
        action: 'drop',
      },
      { source_labels: [ann('path')], regex: '(.+)', target_label: '__metrics_path__' },
      {
        source_labels: ['__address__', ann('port')],
        regex: '([^:]+)(?::\\d+)?;(\\d+)',
        replacement: '$1:$2',
        target_label: '__address__',
      },
      { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
      { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
    ],
  };
}

const keepPort = (port: string): Config => ({
  source_labels: ['__meta_kubernetes_pod_container_port_name'],
  regex: port,
  action: 'keep',
});

/** One series set per node: instance and node are the node's name, whatever its address. */
const nodeLabels = (meta: string): Config[] => [
  { source_labels: [meta], target_label: 'node' },
  { source_labels: [meta], target_label: 'instance' },
];

/** node-exporter's pods (hostNetwork: the pod address is the node's). */
function nodeExporterJob(ctx: StackContext): Config {
  return {
    job_name: ClusterJobs.nodeExporter,
    ...limits(ClusterJobs.nodeExporter),
    kubernetes_sd_configs: stackPodsSd(ctx, 'node-exporter'),
    relabel_configs: [keepPort('metrics'), ...nodeLabels('__meta_kubernetes_pod_node_name')],
  };
}

/** The k8s_cluster receiver's resource attributes that alerts join on, under the names cAdvisor uses. */
export const CLUSTER_STATE_LABELS: Record<string, string> = {
  k8s_namespace_name: 'namespace',
  k8s_pod_name: 'pod',
  k8s_container_name: 'container',
  k8s_node_name: 'node',
};

/** The cluster-state collector's prometheus exporter: the state of every object of the cluster. */
function clusterStateJob(ctx: StackContext): Config {
  return {
    job_name: ClusterJobs.clusterState,
    ...limits(ClusterJobs.clusterState),
    kubernetes_sd_configs: stackPodsSd(ctx, 'cluster-state'),
    // No pod or namespace target labels: here they name the object a series is about.
    relabel_configs: [keepPort('metrics')],
    metric_relabel_configs: [
      ...Object.entries(CLUSTER_STATE_LABELS).map(([from, to]) => ({
        source_labels: [from],
        regex: '(.+)',
        target_label: to,
      })),
      // The originals, and uids and container ids, which change on every restart and are never queried.
      { regex: `${Object.keys(CLUSTER_STATE_LABELS).join('|')}|k8s_[a-z_]+_uid|container_id`, action: 'labeldrop' },
    ],
  };
}

/** The kubelets, straight on 10250 with the ServiceAccount's token (nodes/metrics, not nodes/proxy). */
function kubeletJob(name: string, path: string, drop?: string): Config {
  return {
    job_name: name,
    ...limits(name),
    scheme: 'https',
    metrics_path: path,
    ...inClusterAuth,
    // Kubelet serving certificates are self-signed on most clusters (serverTLSBootstrap is off by default).
    tls_config: { ca_file: `${SA_DIR}/ca.crt`, insecure_skip_verify: true },
    kubernetes_sd_configs: [{ role: 'node' }],
    relabel_configs: nodeLabels('__meta_kubernetes_node_name'),
    ...(drop && { metric_relabel_configs: [{ source_labels: ['__name__'], regex: drop, action: 'drop' }] }),
  };
}

// Per-cgroup series nobody charts; the biggest of cAdvisor's.
const CADVISOR_DROP = 'container_(tasks_state|memory_failures_total|blkio_device_usage_total)';
// The API server's largest histograms (tens of thousands of buckets); their _sum and _count stay.
const APISERVER_DROP =
  '(apiserver_request_duration_seconds|apiserver_request_sli_duration_seconds|apiserver_request_body_size_bytes|apiserver_response_sizes|apiserver_watch_events_sizes|etcd_request_duration_seconds|apiserver_watch_list_duration_seconds)_bucket';

/** The API servers, found through the `kubernetes` Service's EndpointSlices in `default`. */
function apiServerJob(): Config {
  return {
    job_name: ClusterJobs.apiServer,
    ...limits(ClusterJobs.apiServer),
    scheme: 'https',
    ...inClusterAuth,
    tls_config: { ca_file: `${SA_DIR}/ca.crt`, server_name: 'kubernetes' },
    kubernetes_sd_configs: [{ role: 'endpointslice', namespaces: { names: ['default'] } }],
    relabel_configs: [
      {
        source_labels: ['__meta_kubernetes_service_name', '__meta_kubernetes_endpointslice_port_name'],
        regex: 'kubernetes;https',
        action: 'keep',
      },
    ],
    metric_relabel_configs: [{ source_labels: ['__name__'], regex: APISERVER_DROP, action: 'drop' }],
  };
}

/** The Vigil operator's pods (both replicas: the standby reports vigil_operator_leader_is_leader 0). */
function operatorJob(namespace: string): Config {
  return {
    job_name: ClusterJobs.operator,
    ...limits(ClusterJobs.operator),
    kubernetes_sd_configs: [
      {
        role: 'pod',
        namespaces: { names: [namespace] },
        selectors: [{ role: 'pod', label: `${LABEL_NAME}=${OPERATOR_APP_NAME}` }],
      },
    ],
    relabel_configs: [
      keepPort('metrics'),
      { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
      { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
    ],
  };
}

/** The cluster-wide scrape jobs a stack asks for (spec.metrics.cluster, spec.metrics.scrapeOperator). */
export function clusterJobs(ctx: StackContext): Config[] {
  const m = ctx.spec.metrics;
  const jobs: Config[] = [];
  if (ctx.on['node-exporter']) jobs.push(nodeExporterJob(ctx));
  if (ctx.on['cluster-state']) jobs.push(clusterStateJob(ctx));
  if (ctx.on.prometheus && m?.cluster?.enabled) {
    if (m.cluster.kubelet ?? true) {
      jobs.push(
        kubeletJob(ClusterJobs.kubelet, '/metrics'),
        kubeletJob(ClusterJobs.cadvisor, '/metrics/cadvisor', CADVISOR_DROP),
      );
    }
    if (m.cluster.apiServer ?? true) jobs.push(apiServerJob());
  }
  if (m?.scrapeOperator?.enabled) jobs.push(operatorJob(m.scrapeOperator.namespace ?? 'vigil-system'));
  return jobs;
}

/** What Prometheus reads beyond its own namespace: nodes and kubelets, the API server, the operator's pods. */
export function prometheusClusterRules(ctx: StackContext): k8s.PolicyRule[] {
  const m = ctx.spec.metrics;
  const cluster = ctx.on.prometheus && !!m?.cluster?.enabled;
  const kubelet = cluster && (m?.cluster?.kubelet ?? true);
  const apiServer = cluster && (m?.cluster?.apiServer ?? true);
  const rules: k8s.PolicyRule[] = [];
  if (kubelet) {
    rules.push({ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] });
    rules.push({ apiGroups: [''], resources: ['nodes/metrics'], verbs: ['get'] });
  }
  // endpointslice discovery also watches the Services and Pods the slices point to.
  const otherNamespaces = annotatedNamespaces(ctx).some((n) => n !== ctx.namespace);
  if (apiServer || m?.scrapeOperator?.enabled || otherNamespaces) {
    rules.push({ apiGroups: [''], resources: ['pods', 'services'], verbs: ['get', 'list', 'watch'] });
  }
  if (apiServer) {
    rules.push({ apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] });
    rules.push({ nonResourceUrLs: ['/metrics'], verbs: ['get'] });
  }
  return rules;
}

// ---- HA pair (two or more replicas): docs/adr/0016-prometheus-ha-thanos.md ----

/** Two or more replicas: each with its own replica label and a Thanos sidecar, behind Thanos Query. */
export const prometheusHA = (ctx: StackContext): boolean => ctx.on['thanos-query'];

/** Where the referenced remote write credentials are mounted: `<dir>/<Secret>/<key>`. */
const REMOTE_WRITE_SECRETS_DIR = '/etc/prometheus/remote-write';
const secretPath = (ref: SecretKeyRef) => `${REMOTE_WRITE_SECRETS_DIR}/${ref.name}/${ref.key}`;

/** spec.metrics.remoteWrite as Prometheus's remote_write, credentials read from the mounted Secrets. */
export function remoteWriteConfig(ctx: StackContext): Config[] {
  return (ctx.spec.metrics?.remoteWrite ?? []).map((w) => {
    const q = w.queue;
    const queue: Config = {
      ...(q?.capacity !== undefined && { capacity: q.capacity }),
      ...(q?.minShards !== undefined && { min_shards: q.minShards }),
      ...(q?.maxShards !== undefined && { max_shards: q.maxShards }),
      ...(q?.maxSamplesPerSend !== undefined && { max_samples_per_send: q.maxSamplesPerSend }),
      ...(q?.batchSendDeadline !== undefined && { batch_send_deadline: q.batchSendDeadline }),
    };
    return {
      url: w.url,
      ...(w.name && { name: w.name }),
      ...(w.basicAuth && {
        basic_auth: {
          username_file: secretPath(w.basicAuth.usernameSecretRef),
          password_file: secretPath(w.basicAuth.passwordSecretRef),
        },
      }),
      ...(w.bearerTokenSecretRef && {
        authorization: { type: 'Bearer', credentials_file: secretPath(w.bearerTokenSecretRef) },
      }),
      ...(Object.keys(queue).length && { queue_config: queue }),
    };
  });
}

/** One projected volume with every Secret key the remote writes name; undefined without any. */
function remoteWriteSecretsVolume(ctx: StackContext): k8s.Volume | undefined {
  const keys = new Map<string, Set<string>>();
  for (const w of ctx.spec.metrics?.remoteWrite ?? []) {
    const refs = [w.basicAuth?.usernameSecretRef, w.basicAuth?.passwordSecretRef, w.bearerTokenSecretRef];
    for (const r of refs) if (r) keys.set(r.name, (keys.get(r.name) ?? new Set()).add(r.key));
  }
  if (!keys.size) return undefined;
  const sources = [...keys.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, ks]) => ({
      secret: { name, items: [...ks].sort().map((key) => ({ key, path: `${name}/${key}` })) },
    }));
  return { name: 'remote-write-secrets', projected: { sources, defaultMode: 0o440 } };
}

/**
 * The Thanos sidecar beside each replica: serves the replica's TSDB as a StoreAPI to Thanos Query.
 * It never reloads Prometheus (no --reloader flags): that is the rules sidecar's job.
 */
export function thanosSidecarArgs(ctx: StackContext): string[] {
  return [
    'sidecar',
    `--prometheus.url=http://localhost:${PORTS.prometheus}`,
    // With basic auth on Prometheus: the user and the password file, from the web-config Secret.
    ...(queryAuthOn(ctx, 'prometheus')
      ? [`--prometheus.http-client-file=${WEB_CONFIG_DIR}/${WEB_CONFIG_KEYS.thanosClient}`]
      : []),
    '--tsdb.path=/prometheus',
    `--grpc-address=0.0.0.0:${PORTS.thanosGrpc}`,
    `--http-address=0.0.0.0:${PORTS.thanosHttp}`,
    '--log.format=json',
  ];
}

function thanosSidecar(ctx: StackContext): k8s.Container {
  return container({
    name: 'thanos-sidecar',
    image: ctx.spec.metrics?.thanos?.image ?? IMAGES.thanos,
    args: thanosSidecarArgs(ctx),
    ports: [
      { name: 'grpc', port: PORTS.thanosGrpc },
      { name: 'thanos-http', port: PORTS.thanosHttp },
    ],
    mounts: [
      { name: 'data', mountPath: '/prometheus', readOnly: true },
      ...(queryAuthOn(ctx, 'prometheus') ? [webConfigMount(), authSecretMount('prometheus')] : []),
    ],
    resources: {
      requests: { cpu: '50m', memory: '128Mi', ...ctx.spec.metrics?.thanos?.sidecar?.resources?.requests },
      limits: { memory: '512Mi', ...ctx.spec.metrics?.thanos?.sidecar?.resources?.limits },
    },
    probe: { path: '/-/ready', port: 'thanos-http' },
  });
}

/** prometheus.yml for a stack; exported for `promtool check config`. */
export function prometheusConfig(ctx: StackContext): Config {
  const interval = ctx.spec.metrics?.scrapeInterval ?? '30s';
  const jobs: Config[] = [
    {
      job_name: 'prometheus',
      ...limits('prometheus'),
      ...(queryAuthOn(ctx, 'prometheus') && { basic_auth: basicAuthFiles('prometheus') }),
      static_configs: [{ targets: [`localhost:${PORTS.prometheus}`] }],
    },
  ];
  for (const [c, port] of Object.entries(METRICS_PORT) as [ComponentName, string][]) {
    if (ctx.on[c]) jobs.push(componentJob(ctx, c, port));
  }
  jobs.push(annotatedPodsJob(ctx), ...clusterJobs(ctx));
  const config: Config = {
    global: {
      scrape_interval: interval,
      evaluation_interval: interval,
      external_labels: {
        vigil_stack: ctx.stack,
        vigil_namespace: ctx.namespace,
        // Prometheus expands ${POD_NAME} from its environment (the pod's name, from the downward API).
        ...(prometheusHA(ctx) && { [PROMETHEUS_REPLICA_LABEL]: placeholder('POD_NAME') }),
      },
    },
    rule_files: [`${STACK_RULES_DIR}/*.yaml`, `${SLO_RULES_DIR}/*`],
    scrape_configs: jobs,
    storage: { exemplars: { max_exemplars: 100000 } },
  };
  const remoteWrite = remoteWriteConfig(ctx);
  if (remoteWrite.length) config.remote_write = remoteWrite;
  if (ctx.on.alertmanager) {
    config.alerting = {
      // Both replicas send each alert without their replica label: Alertmanager sees one alert.
      ...(prometheusHA(ctx) && {
        alert_relabel_configs: [{ regex: PROMETHEUS_REPLICA_LABEL, action: 'labeldrop' }],
      }),
      // Every Alertmanager pod, not the Service: the mesh deduplicates what each one is sent.
      alertmanagers: [
        {
          ...(queryAuthOn(ctx, 'alertmanager') && { basic_auth: basicAuthFiles('alertmanager') }),
          kubernetes_sd_configs: [
            {
              role: 'pod',
              namespaces: { names: [ctx.namespace] },
              selectors: [{ role: 'pod', label: `${LABEL_STACK}=${ctx.stack},${LABEL_COMPONENT}=alertmanager` }],
            },
          ],
          relabel_configs: [
            { source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: 'http', action: 'keep' },
          ],
        },
      ],
    };
  }
  return config;
}

/**
 * How often Prometheus compares the checksum of its config and rule files with what it loaded, and
 * reloads on a change (the auto-reload-config feature): how the SLO rules the sidecar writes are
 * picked up. No lifecycle API, no signal from another container (docs/adr/0019).
 */
export const PROMETHEUS_RELOAD_INTERVAL = '10s';

export function prometheusArgs(ctx: StackContext): string[] {
  const m = ctx.spec.metrics;
  const args = [
    '--config.file=/etc/prometheus/prometheus.yml',
    '--storage.tsdb.path=/prometheus',
    `--storage.tsdb.retention.time=${m?.retention ?? '15d'}`,
    // No --web.enable-lifecycle: whoever reaches the port could POST /-/quit. Rule files reload
    // by themselves (auto-reload-config); SIGHUP still reloads too.
    '--web.enable-otlp-receiver',
    '--web.enable-remote-write-receiver',
    '--enable-feature=exemplar-storage',
    '--enable-feature=auto-reload-config',
    `--config.auto-reload-interval=${PROMETHEUS_RELOAD_INTERVAL}`,
  ];
  if (m?.retentionSize) args.push(`--storage.tsdb.retention.size=${m.retentionSize}`);
  // Basic auth on every path (the web config has no exemptions): probes are TCP (prometheusChart).
  if (queryAuthOn(ctx, 'prometheus')) args.push(`--web.config.file=${WEB_CONFIG_DIR}/${WEB_CONFIG_KEYS.web}`);
  return args;
}

/** The correlator's auth Secret as files, without the Authorization header Prometheus does not use. */
function correlatorAuthVolume(ctx: StackContext): k8s.Volume {
  const keys = [CORRELATOR_AUTH_KEYS.username, CORRELATOR_AUTH_KEYS.password];
  return {
    name: 'correlator-auth',
    secret: { secretName: correlatorAuthSecretName(ctx), items: keys.map((k) => ({ key: k, path: k })) },
  };
}

export function prometheusChart(scope: Construct, ctx: StackContext): void {
  const c = 'prometheus';
  const config = yaml.dump(prometheusConfig(ctx), { noRefs: true, lineWidth: -1 });
  const rules = stackAlertFiles(ctx);
  configMap(scope, 'config', ctx.name(c), { 'prometheus.yml': config });
  configMap(scope, 'rules', `${ctx.name(c)}-rules`, rules);
  serviceAccount(scope, ctx, c, true);
  role(scope, ctx, c, [
    // kubernetes_sd (pods) and the rules sidecar (configmaps), in this namespace only.
    { apiGroups: [''], resources: ['pods', 'services', 'endpoints'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] },
  ]);
  const clusterRules = prometheusClusterRules(ctx);
  if (clusterRules.length) clusterRole(scope, ctx, c, clusterRules);
  const size = ctx.size.prometheus;
  const ha = prometheusHA(ctx);
  const secrets = remoteWriteSecretsVolume(ctx);
  const auth = queryAuthOn(ctx, 'prometheus');
  const alertAuth = ctx.on.alertmanager && queryAuthOn(ctx, 'alertmanager');
  const webKeys = ha ? [WEB_CONFIG_KEYS.web, WEB_CONFIG_KEYS.thanosClient] : [WEB_CONFIG_KEYS.web];
  const pod = podTemplate(ctx, c, {
    uid: 65534,
    apiAccess: true,
    configHash: configHash(config, ...Object.values(rules)),
    containers: [
      container({
        name: 'prometheus',
        image: ctx.spec.metrics?.image ?? IMAGES.prometheus,
        args: prometheusArgs(ctx),
        // The replica label's value (prometheus.yml's ${POD_NAME}).
        env: ha ? [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] : undefined,
        ports: [{ name: 'http', port: PORTS.prometheus }],
        mounts: [
          { name: 'config', mountPath: '/etc/prometheus/prometheus.yml', subPath: 'prometheus.yml', readOnly: true },
          { name: 'stack-rules', mountPath: STACK_RULES_DIR, readOnly: true },
          { name: 'slo-rules', mountPath: SLO_RULES_DIR, readOnly: true },
          { name: 'data', mountPath: '/prometheus' },
          ...(ctx.on.correlator ? [{ name: 'correlator-auth', mountPath: CORRELATOR_SECRET_DIR, readOnly: true }] : []),
          ...(secrets ? [{ name: secrets.name, mountPath: REMOTE_WRITE_SECRETS_DIR, readOnly: true }] : []),
          ...(auth ? [webConfigMount(), authSecretMount('prometheus')] : []),
          ...(alertAuth ? [authSecretMount('alertmanager')] : []),
        ],
        resources: size.resources,
        // /-/ready asks for credentials too once basic auth is on, and a kubelet probe has none.
        probe: auth ? { tcpPort: 'http' } : { path: '/-/ready', port: 'http' },
      }),
      configSidecar({
        image: IMAGES.configSidecar,
        label: LABEL_RULES_FOR,
        labelValue: ctx.stack,
        namespace: ctx.namespace,
        folder: SLO_RULES_DIR,
        // Writes the files only: Prometheus notices the change itself (PROMETHEUS_RELOAD_INTERVAL).
        mount: { name: 'slo-rules', mountPath: SLO_RULES_DIR },
      }),
      ...(ha ? [thanosSidecar(ctx)] : []),
    ],
    volumes: [
      configMapVolume('config', ctx.name(c)),
      configMapVolume('stack-rules', `${ctx.name(c)}-rules`),
      emptyDir('slo-rules'),
      ...(ctx.on.correlator ? [correlatorAuthVolume(ctx)] : []),
      ...(secrets ? [secrets] : []),
      ...(auth ? [webConfigVolume(ctx, 'prometheus', webKeys), authSecretVolume(ctx, 'prometheus')] : []),
      ...(alertAuth ? [authSecretVolume(ctx, 'alertmanager')] : []),
    ],
  });
  statefulSet(scope, ctx, c, pod, {
    replicas: size.replicas,
    serviceName: ctx.name(c),
    volume: {
      name: 'data',
      size: size.storage ?? '10Gi',
      storageClassName: ctx.spec.metrics?.storage?.storageClassName,
    },
  });
  service(scope, ctx, c, [{ name: 'http', port: PORTS.prometheus }]);
  // Thanos Query finds every replica's sidecar through this Service's DNS (one A record per pod).
  if (ha) {
    service(scope, ctx, c, [{ name: 'grpc', port: PORTS.thanosGrpc }], {
      id: 'stores',
      name: prometheusStoresService(ctx),
      headless: true,
    });
  }
}
