// The agent (mode: daemonset): one collector per node that reads the collected pods' logs from
// /var/log/pods (containerd, CRI-O and Docker formats, partial lines joined), adds the pod's
// Kubernetes metadata from the API server, serves OTLP to the applications on its node (a Service
// with internalTrafficPolicy: Local), and forwards everything to the gateway. Read-only hostPath
// means it needs a namespace that admits privileged pods (docs/adr/0014-collector-agent-and-gateway.md).
import { k8s } from 'cdk8s-plus-33';
import type { Construct } from 'constructs';
import yaml from 'js-yaml';
import { POD_LABEL_ATTRIBUTE_PREFIX } from '../../conventions/index.js';
import { clusterRole } from './cluster-rbac.js';
import { collectedBy, collectedCondition, namespaceLabelAttribute, selectorKeys } from './collection.js';
import { PORTS, placeholder, type StackContext } from './context.js';
import { selectorLabels } from './labels.js';
import {
  BATCH,
  CONFIG_FILE,
  type Config,
  healthCheck,
  memoryLimiter,
  otelcolContainer,
  otlpReceiver,
  telemetry,
} from './otelcol.js';
import { configHash, configMap, configMapVolume, podTemplate, serviceAccount } from './pod.js';

/** Where the kubelet writes container logs: /var/log/pods/<namespace>_<pod>_<uid>/<container>/<n>.log. */
export const POD_LOG_DIR = '/var/log/pods';

/** Metadata the agent looks up for each record (k8sattributes); owners come from the ReplicaSet's name. */
export const AGENT_METADATA = [
  'k8s.namespace.name',
  'k8s.pod.name',
  'k8s.pod.uid',
  'k8s.pod.start_time',
  'k8s.node.name',
  'k8s.container.name',
  'k8s.deployment.name',
  'k8s.replicaset.name',
  'k8s.statefulset.name',
  'k8s.daemonset.name',
  'k8s.job.name',
  'k8s.cronjob.name',
] as const;

/** The signals the gateway has a pipeline for; the agent sends nothing else. */
function gatewaySignals(ctx: StackContext) {
  return {
    traces: ctx.on.tempo || ctx.on.correlator,
    logs: ctx.on.loki || ctx.on.correlator,
    metrics: ctx.on.prometheus,
  };
}

export function agentConfig(ctx: StackContext): Config {
  const what = collectedBy(ctx.spec, ctx.namespace) ?? { names: [ctx.namespace] };
  const signals = gatewaySignals(ctx);
  const podLabels = ctx.spec.collector?.collect?.podLabels ?? [];
  const nsKeys = what.selector ? selectorKeys(what.selector) : [];
  const labels: Config[] = [
    ...podLabels.map((key) => ({ tag_name: `${POD_LABEL_ATTRIBUTE_PREFIX}${key}`, key, from: 'pod' })),
    ...nsKeys.map((key) => ({ tag_name: namespaceLabelAttribute(key), key, from: 'namespace' })),
  ];
  const processors: Config = {
    memory_limiter: memoryLimiter(ctx, 'agent'),
    k8sattributes: {
      auth_type: 'serviceAccount',
      // Only the pods of this node: the watch (and the memory it takes) grows with the node, not the cluster.
      filter: { node_from_env_var: 'K8S_NODE_NAME' },
      extract: { metadata: [...AGENT_METADATA], ...(labels.length ? { labels } : {}) },
      pod_association: [
        { sources: [{ from: 'resource_attribute', name: 'k8s.pod.uid' }] },
        { sources: [{ from: 'resource_attribute', name: 'k8s.pod.ip' }] },
        { sources: [{ from: 'connection' }] },
      ],
    },
    batch: BATCH,
  };
  const podsProcessors = ['memory_limiter', 'k8sattributes'];
  if (what.selector) {
    // File paths name namespaces, not their labels: read every pod's files and keep the collected ones.
    processors['filter/collect'] = { error_mode: 'ignore', logs: { resource: [`not (${collectedCondition(what)})`] } };
    podsProcessors.push('filter/collect');
    if (nsKeys.length) {
      processors['resource/collect'] = {
        attributes: nsKeys.map((k) => ({ key: namespaceLabelAttribute(k), action: 'delete' })),
      };
      podsProcessors.push('resource/collect');
    }
  }
  podsProcessors.push('batch');

  const receivers: Config = { ...otlpReceiver() };
  const pipelines: Config = {};
  const out = ['otlp_grpc/gateway'];
  const otlpProcessors = ['memory_limiter', 'k8sattributes', 'batch'];
  if (signals.logs) {
    receivers.filelog = {
      include: what.selector ? [`${POD_LOG_DIR}/*/*/*.log`] : what.names.map((n) => `${POD_LOG_DIR}/${n}_*/*/*.log`),
      // Files present at start are read from their end (a restart re-reads nothing); files that
      // appear later are read from their start.
      start_at: 'end',
      include_file_path: true,
      include_file_name: false,
      max_log_size: '1MiB',
      operators: [
        { type: 'container', id: 'container-parser' },
        // A JSON line's fields become attributes, and its trace_id/span_id the record's trace
        // context, so pod logs join their traces (correlator, Loki's structured metadata).
        { type: 'json_parser', id: 'json', if: 'body matches "^\\\\s*\\\\{"', on_error: 'send_quiet' },
        {
          type: 'trace_parser',
          id: 'trace',
          if: 'attributes.trace_id != nil',
          on_error: 'send_quiet',
          trace_id: { parse_from: 'attributes.trace_id' },
          span_id: { parse_from: 'attributes.span_id' },
        },
      ],
    };
    pipelines['logs/pods'] = { receivers: ['filelog'], processors: podsProcessors, exporters: out };
    pipelines.logs = { receivers: ['otlp'], processors: otlpProcessors, exporters: out };
  }
  if (signals.traces) pipelines.traces = { receivers: ['otlp'], processors: otlpProcessors, exporters: out };
  if (signals.metrics) pipelines.metrics = { receivers: ['otlp'], processors: otlpProcessors, exporters: out };
  if (kubeletStats(ctx)) {
    // Node, pod and container CPU, memory, file system and network from this node's kubelet
    // (read-only: nodes/stats). Pod and container series keep only the collected namespaces.
    receivers.kubeletstats = {
      collection_interval: ctx.spec.metrics?.scrapeInterval ?? '30s',
      auth_type: 'serviceAccount',
      endpoint: `https://${placeholder('env:K8S_NODE_IP')}:10250`,
      // Kubelets serve self-signed certificates unless the cluster bootstraps serving certificates.
      insecure_skip_verify: true,
      metric_groups: ['node', 'pod', 'container'],
    };
    processors['filter/collect_metrics'] = {
      error_mode: 'ignore',
      metrics: {
        resource: [`resource.attributes["k8s.namespace.name"] != nil and not (${collectedCondition(what)})`],
      },
    };
    const metricsProcessors = ['memory_limiter', 'k8sattributes', 'filter/collect_metrics'];
    if (nsKeys.length) metricsProcessors.push('resource/collect');
    pipelines['metrics/kubelet'] = {
      receivers: ['kubeletstats'],
      processors: [...metricsProcessors, 'batch'],
      exporters: out,
    };
  }

  const extensions = healthCheck();
  return {
    extensions,
    receivers,
    processors,
    exporters: {
      'otlp_grpc/gateway': {
        endpoint: `${ctx.host('collector')}:${PORTS.otlpGrpc}`,
        tls: { insecure: true },
        sending_queue: { enabled: true, queue_size: 1000 },
        retry_on_failure: { enabled: true, max_elapsed_time: '300s' },
      },
    },
    service: { extensions: Object.keys(extensions), pipelines, telemetry: telemetry() },
  };
}

/**
 * kubeletstats runs unless the stack's Prometheus already scrapes the kubelets' cAdvisor
 * (spec.metrics.cluster.kubelet): the same usage twice would only cost.
 */
export function kubeletStats(ctx: StackContext): boolean {
  const cluster = ctx.spec.metrics?.cluster;
  return ctx.on.prometheus && !(cluster?.enabled && cluster.kubelet);
}

/**
 * What the agent may read cluster-wide: pods (k8sattributes; the node filter narrows the watch),
 * namespaces (their labels, for a namespace selector) and, with kubeletstats, its kubelet's stats.
 * Owners come from the ReplicaSet's name, so ReplicaSets are not read.
 */
export function agentRules(ctx: StackContext): k8s.PolicyRule[] {
  const rules: k8s.PolicyRule[] = [
    { apiGroups: [''], resources: ['pods', 'namespaces'], verbs: ['get', 'list', 'watch'] },
  ];
  if (kubeletStats(ctx)) rules.push({ apiGroups: [''], resources: ['nodes/stats'], verbs: ['get'] });
  return rules;
}

export function agentChart(scope: Construct, ctx: StackContext): void {
  const c = 'agent';
  const text = yaml.dump(agentConfig(ctx), { noRefs: true, lineWidth: -1, sortKeys: false });
  configMap(scope, 'config', ctx.name(c), { [CONFIG_FILE]: text });
  serviceAccount(scope, ctx, c, true);
  clusterRole(scope, ctx, c, agentRules(ctx));
  const ports = [
    { name: 'otlp-grpc', port: PORTS.otlpGrpc },
    { name: 'otlp-http', port: PORTS.otlpHttp },
  ];
  const base = otelcolContainer(ctx, c, {
    ports,
    env: [
      { name: 'K8S_NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
      { name: 'K8S_NODE_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
    ],
    mounts: [{ name: 'pod-logs', mountPath: POD_LOG_DIR, readOnly: true }],
  });
  // Log files are root's (0640): the agent reads them as uid 0, with every capability dropped and a
  // read-only root file system; it writes nothing on the host.
  const root = { runAsNonRoot: false, runAsUser: 0, runAsGroup: 0 };
  const otelcol: k8s.Container = { ...base, securityContext: { ...base.securityContext, ...root } };
  const template = podTemplate(ctx, c, {
    uid: 10001,
    apiAccess: true,
    configHash: configHash(text),
    containers: [otelcol],
    volumes: [
      configMapVolume('config', ctx.name(c)),
      { name: 'pod-logs', hostPath: { path: POD_LOG_DIR, type: 'Directory' } },
    ],
  });
  const pod: k8s.PodTemplateSpec = {
    ...template,
    spec: {
      ...(template.spec as k8s.PodSpec),
      securityContext: { ...template.spec?.securityContext, ...root, fsGroup: undefined },
      // Every node, tainted ones included: a node whose pods are not read is a gap nobody sees.
      tolerations: [{ operator: 'Exists' }],
    },
  };
  new k8s.KubeDaemonSet(scope, 'daemonset', {
    metadata: { name: ctx.name(c) },
    spec: {
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels(ctx.stack, c) },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: k8s.IntOrString.fromString('10%') } },
      template: pod,
    },
  });
  // Applications reach the agent of their own node: traffic never leaves the node (and k8sattributes
  // sees the pod's own address as the connection's).
  new k8s.KubeService(scope, 'service', {
    metadata: { name: ctx.name(c) },
    spec: {
      type: 'ClusterIP',
      internalTrafficPolicy: 'Local',
      selector: selectorLabels(ctx.stack, c),
      ports: ports.map((p) => ({
        name: p.name,
        port: p.port,
        targetPort: k8s.IntOrString.fromString(p.name),
        protocol: 'TCP',
      })),
    },
  });
}
