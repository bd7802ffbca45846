// Everything the component charts need to know about a stack, computed once: which components
// are on, their names, sizes and the in-cluster addresses they reach each other by.
import type { ComponentSpec, ObservabilityStack, ObservabilityStackSpec, StorageSpec } from '../../api/types.js';
import { COMPONENTS, type ComponentName } from './labels.js';
import type { RemediationRouting } from './remediation.js';
import { type SizeOverride, type Sizing, sizing } from './sizing.js';

export const PORTS = {
  otlpGrpc: 4317,
  otlpHttp: 4318,
  collectorMetrics: 8888,
  collectorHealth: 13133,
  prometheus: 9090,
  alertmanager: 9093,
  alertmanagerCluster: 9094,
  loki: 3100,
  tempo: 3200,
  grafana: 3000,
  correlator: 8080,
  /** Thanos's gRPC StoreAPI (the sidecar beside each Prometheus) and HTTP port (the querier's API). */
  thanosGrpc: 10901,
  thanosHttp: 10902,
} as const;

export interface StackContext {
  stack: string;
  namespace: string;
  spec: ObservabilityStackSpec;
  on: Record<ComponentName, boolean>;
  size: Record<ComponentName, Sizing>;
  /** Object name of a component: `<stack>-<component>`. */
  name(c: ComponentName): string;
  /** In-cluster DNS name of a component's Service. */
  host(c: ComponentName): string;
  /** The RemediationPolicies that route this stack's alerts: an input of the render (renderStack). */
  remediation?: RemediationRouting;
}

/** The spec section that configures a component (enabled, image, replicas, resources, storage). */
export function componentSpec(
  spec: ObservabilityStackSpec,
  c: ComponentName,
): (ComponentSpec & { storage?: StorageSpec }) | undefined {
  switch (c) {
    case 'collector':
      return spec.collector;
    // The sampling tier and the agent run the collector's image; only their size is their own.
    case 'sampler':
      return (
        spec.collector && { enabled: spec.collector.enabled, image: spec.collector.image, ...spec.collector.sampler }
      );
    case 'agent':
      return (
        spec.collector && { enabled: spec.collector.enabled, image: spec.collector.image, ...spec.collector.agent }
      );
    case 'prometheus':
      return spec.metrics;
    case 'alertmanager':
      return spec.metrics?.alertmanager;
    // The querier runs the sidecars' image; on only with an HA pair (stackContext).
    case 'thanos-query':
      return (
        spec.metrics && {
          enabled: spec.metrics.enabled,
          image: spec.metrics.thanos?.image,
          ...spec.metrics.thanos?.query,
        }
      );
    case 'loki':
      return spec.logs;
    case 'tempo':
      return spec.traces;
    case 'grafana':
      return spec.grafana;
    case 'correlator':
      return spec.correlation;
    case 'node-exporter':
      return spec.metrics?.cluster?.nodeExporter;
    case 'cluster-state':
      return spec.metrics?.cluster?.clusterState;
  }
}

/** Spec path of a component's section, for problems. */
export const SPEC_PATHS: Record<ComponentName, string> = {
  collector: 'spec.collector',
  sampler: 'spec.collector.sampler',
  agent: 'spec.collector.agent',
  prometheus: 'spec.metrics',
  alertmanager: 'spec.metrics.alertmanager',
  'thanos-query': 'spec.metrics.thanos.query',
  loki: 'spec.logs',
  tempo: 'spec.traces',
  grafana: 'spec.grafana',
  correlator: 'spec.correlation',
  'node-exporter': 'spec.metrics.cluster.nodeExporter',
  'cluster-state': 'spec.metrics.cluster.clusterState',
};

// The schema's defaults for a section that is absent altogether.
const ENABLED_BY_DEFAULT: Record<ComponentName, boolean> = {
  collector: true,
  // Both also depend on the collector's spec (stackContext).
  sampler: true,
  agent: true,
  prometheus: true,
  alertmanager: true,
  // Also needs two or more Prometheus replicas (stackContext).
  'thanos-query': true,
  loki: false,
  tempo: false,
  grafana: true,
  correlator: true,
  // Both also need spec.metrics.cluster.enabled (stackContext).
  'node-exporter': true,
  'cluster-state': true,
};

export function stackContext(stack: ObservabilityStack): StackContext {
  const name = stack.metadata.name ?? 'stack';
  const namespace = stack.metadata.namespace ?? 'default';
  const spec = stack.spec;
  const enabled = (c: ComponentName) => componentSpec(spec, c)?.enabled ?? ENABLED_BY_DEFAULT[c];
  const on = Object.fromEntries(COMPONENTS.map((c) => [c, enabled(c)])) as Record<ComponentName, boolean>;
  on.alertmanager = on.prometheus && on.alertmanager;
  // The sampling tier exists when traces are tail-sampled and have somewhere to go; the agent in
  // daemonset mode (docs/collection.md).
  on.sampler = on.collector && spec.collector?.sampling !== undefined && (on.tempo || on.correlator);
  on.agent = on.collector && spec.collector?.mode === 'daemonset';
  const cluster = on.prometheus && (spec.metrics?.cluster?.enabled ?? false);
  on['node-exporter'] = cluster && on['node-exporter'];
  on['cluster-state'] = cluster && on['cluster-state'];
  const size = Object.fromEntries(
    COMPONENTS.map((c) => {
      const s = componentSpec(spec, c);
      const o: SizeOverride = { replicas: s?.replicas, resources: s?.resources, storage: s?.storage };
      return [c, sizing(spec.size ?? 'small', c, o)];
    }),
  ) as Record<ComponentName, Sizing>;
  // An HA pair (or more): every replica's sidecar behind one deduplicating querier.
  on['thanos-query'] = on.prometheus && size.prometheus.replicas > 1;
  return {
    stack: name,
    namespace,
    spec,
    on,
    size,
    name: (c) => `${name}-${c}`,
    host: (c) => `${name}-${c}.${namespace}.svc`,
  };
}

// Durations are read by lib/durations.ts; re-exported for the charts that read them from here.
export { durationSeconds, goDuration } from '../../lib/durations.js';

/**
 * `${name}` as a literal: a variable that Grafana, Loki, Tempo or the collector expands from the
 * environment or its own context at run time, never here.
 */
export const placeholder = (name: string): string => `\${${name}}`;
