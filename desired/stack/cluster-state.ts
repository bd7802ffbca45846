// The state of the cluster's Kubernetes objects (pods' phases and restarts, containers' requests and
// limits, Deployments' and StatefulSets' replicas, nodes' conditions): the collector's k8s_cluster
// receiver, exposed by its prometheus exporter for the stack's Prometheus to scrape. It stands in for
// kube-state-metrics, whose v2 module no package registry here serves. One replica: two would report
// every object twice.
import { k8s } from 'cdk8s-plus-33';
import type { Construct } from 'constructs';
import yaml from 'js-yaml';
import { clusterRole } from './cluster-rbac.js';
import { PORTS, type StackContext } from './context.js';
import { IMAGES } from './images.js';
import { selectorLabels } from './labels.js';
import {
  configHash,
  configMap,
  configMapVolume,
  container,
  podTemplate,
  quantityBytesMiB,
  serviceAccount,
} from './pod.js';

export const CLUSTER_STATE_CONFIG_FILE = 'cluster-state.yaml';
/** The prometheus exporter's port (container port name `metrics`), which Prometheus scrapes. */
export const CLUSTER_STATE_METRICS_PORT = 8889;

/** Node conditions reported as k8s_node_condition_<name> (1 true, 0 false, -1 unknown). */
export const NODE_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'] as const;

/**
 * What the receiver reads: get/list/watch of the kinds it builds metrics from, nothing else (no
 * Secrets, no ConfigMaps, no writes). Checked against the real receiver with a token of exactly
 * these rules (test/integration/cluster-state.test.ts).
 */
export const CLUSTER_STATE_RULES: k8s.PolicyRule[] = [
  {
    apiGroups: [''],
    resources: ['pods', 'nodes', 'namespaces', 'services', 'replicationcontrollers', 'resourcequotas'],
    verbs: ['get', 'list', 'watch'],
  },
  {
    apiGroups: ['apps'],
    resources: ['deployments', 'replicasets', 'statefulsets', 'daemonsets'],
    verbs: ['get', 'list', 'watch'],
  },
  { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: ['get', 'list', 'watch'] },
];

type Config = Record<string, unknown>;

/** The collector config of the cluster-state Deployment; exported for `otelcol validate` and the tests. */
export function clusterStateConfig(ctx: StackContext): Config {
  const interval = ctx.spec.metrics?.scrapeInterval ?? '30s';
  return {
    extensions: { health_check: { endpoint: `0.0.0.0:${PORTS.collectorHealth}` } },
    receivers: {
      k8s_cluster: {
        auth_type: 'serviceAccount',
        collection_interval: interval,
        node_conditions_to_report: [...NODE_CONDITIONS],
        allocatable_types_to_report: ['cpu', 'memory'],
        // Why a container waits (CrashLoopBackOff) and why it last ended (OOMKilled).
        metrics: { 'k8s.container.status.reason': { enabled: true } },
        resource_attributes: { 'k8s.container.status.last_terminated_reason': { enabled: true } },
      },
    },
    processors: {
      memory_limiter: { check_interval: '1s', limit_percentage: 80, spike_limit_percentage: 25 },
      batch: {},
    },
    exporters: {
      prometheus: {
        endpoint: `0.0.0.0:${CLUSTER_STATE_METRICS_PORT}`,
        // k8s.namespace.name, k8s.pod.name... become labels of every series, not only of target_info;
        // Prometheus renames the four the alerts join on (desired/stack/prometheus.ts).
        resource_to_telemetry_conversion: { enabled: true },
        // A deleted object's series end this long after its last report.
        metric_expiration: '5m',
      },
    },
    service: {
      extensions: ['health_check'],
      pipelines: {
        metrics: { receivers: ['k8s_cluster'], processors: ['memory_limiter', 'batch'], exporters: ['prometheus'] },
      },
      telemetry: { metrics: { level: 'none' } },
    },
  };
}

export function clusterStateChart(scope: Construct, ctx: StackContext): void {
  const c = 'cluster-state';
  const text = yaml.dump(clusterStateConfig(ctx), { noRefs: true, lineWidth: -1, sortKeys: false });
  configMap(scope, 'config', ctx.name(c), { [CLUSTER_STATE_CONFIG_FILE]: text });
  serviceAccount(scope, ctx, c, true);
  clusterRole(scope, ctx, c, CLUSTER_STATE_RULES);
  const size = ctx.size[c];
  const pod = podTemplate(ctx, c, {
    uid: 10001,
    apiAccess: true,
    configHash: configHash(text),
    containers: [
      container({
        name: 'otelcol',
        image: ctx.spec.metrics?.cluster?.clusterState?.image ?? IMAGES.agent,
        args: [`--config=/conf/${CLUSTER_STATE_CONFIG_FILE}`],
        env: [
          {
            name: 'GOMEMLIMIT',
            value: `${Math.floor(quantityBytesMiB(size.resources.limits.memory ?? '256Mi') * 0.8)}MiB`,
          },
        ],
        ports: [
          { name: 'metrics', port: CLUSTER_STATE_METRICS_PORT },
          { name: 'health', port: PORTS.collectorHealth },
        ],
        mounts: [{ name: 'config', mountPath: '/conf', readOnly: true }],
        resources: size.resources,
        probe: { path: '/', port: 'health' },
      }),
    ],
    volumes: [configMapVolume('config', ctx.name(c))],
  });
  // Recreate: during a rolling update two replicas would report every object twice.
  new k8s.KubeDeployment(scope, 'deployment', {
    metadata: { name: ctx.name(c) },
    spec: {
      replicas: 1,
      revisionHistoryLimit: 5,
      strategy: { type: 'Recreate' },
      selector: { matchLabels: selectorLabels(ctx.stack, c) },
      template: pod,
    },
  });
}
