// Size profiles: replicas, requests/limits and volume sizes per component. A component's own
// replicas, resources and storage in the spec override the profile field by field.
import type { ResourceRequirements, SizeProfile, StorageSpec } from '../../api/types.js';
import type { ComponentName } from './labels.js';

export interface Sizing {
  replicas: number;
  resources: Required<Pick<ResourceRequirements, 'requests' | 'limits'>>;
  /** Volume size; undefined for components without a volume. */
  storage?: string;
}

type Row = [replicas: number, cpuReq: string, memReq: string, memLimit: string, storage?: string];

// Limits set memory only: a CPU limit throttles latency-sensitive ingest without protecting anyone.
const PROFILES: Record<SizeProfile, Record<ComponentName, Row>> = {
  demo: {
    collector: [1, '50m', '128Mi', '256Mi'],
    sampler: [1, '50m', '128Mi', '256Mi'],
    // One pod per node; its replicas is not used.
    agent: [1, '25m', '64Mi', '128Mi'],
    prometheus: [1, '100m', '256Mi', '512Mi', '2Gi'],
    alertmanager: [1, '10m', '32Mi', '64Mi', '256Mi'],
    // Only with two or more Prometheus replicas (the HA pair it deduplicates).
    'thanos-query': [2, '25m', '64Mi', '128Mi'],
    loki: [1, '50m', '128Mi', '512Mi', '2Gi'],
    tempo: [1, '50m', '128Mi', '512Mi', '2Gi'],
    grafana: [1, '50m', '128Mi', '256Mi'],
    correlator: [1, '50m', '128Mi', '256Mi'],
    // node-exporter runs one pod per node (its replicas is not used); cluster-state runs one.
    'node-exporter': [1, '20m', '32Mi', '64Mi'],
    'cluster-state': [1, '20m', '64Mi', '128Mi'],
  },
  small: {
    collector: [1, '200m', '256Mi', '512Mi'],
    sampler: [1, '200m', '256Mi', '512Mi'],
    // One pod per node; its replicas is not used.
    agent: [1, '100m', '128Mi', '256Mi'],
    prometheus: [1, '250m', '1Gi', '2Gi', '20Gi'],
    alertmanager: [1, '20m', '64Mi', '128Mi', '1Gi'],
    // Only with two or more Prometheus replicas (the HA pair it deduplicates).
    'thanos-query': [2, '50m', '128Mi', '256Mi'],
    loki: [1, '200m', '512Mi', '1Gi', '20Gi'],
    tempo: [1, '200m', '512Mi', '1Gi', '20Gi'],
    grafana: [1, '100m', '256Mi', '512Mi'],
    correlator: [1, '200m', '256Mi', '512Mi'],
    'node-exporter': [1, '50m', '64Mi', '128Mi'],
    'cluster-state': [1, '50m', '128Mi', '256Mi'],
  },
  medium: {
    collector: [2, '500m', '512Mi', '1Gi'],
    sampler: [2, '500m', '512Mi', '1Gi'],
    // One pod per node; its replicas is not used.
    agent: [1, '200m', '256Mi', '512Mi'],
    // From medium on an HA pair behind Thanos Query (docs/adr/0016-prometheus-ha-thanos.md).
    prometheus: [2, '1', '4Gi', '8Gi', '100Gi'],
    alertmanager: [2, '50m', '128Mi', '256Mi', '2Gi'],
    // Only with two or more Prometheus replicas (the HA pair it deduplicates).
    'thanos-query': [2, '200m', '512Mi', '1Gi'],
    loki: [1, '1', '2Gi', '4Gi', '100Gi'],
    tempo: [1, '1', '2Gi', '4Gi', '100Gi'],
    grafana: [1, '200m', '512Mi', '1Gi'],
    correlator: [2, '500m', '512Mi', '1Gi'],
    'node-exporter': [1, '100m', '64Mi', '128Mi'],
    'cluster-state': [1, '100m', '256Mi', '512Mi'],
  },
  large: {
    collector: [3, '1', '1Gi', '2Gi'],
    sampler: [3, '1', '1Gi', '2Gi'],
    // One pod per node; its replicas is not used.
    agent: [1, '500m', '512Mi', '1Gi'],
    prometheus: [2, '2', '16Gi', '32Gi', '500Gi'],
    alertmanager: [3, '100m', '256Mi', '512Mi', '5Gi'],
    // Only with two or more Prometheus replicas (the HA pair it deduplicates).
    'thanos-query': [2, '500m', '1Gi', '2Gi'],
    loki: [1, '2', '8Gi', '16Gi', '500Gi'],
    tempo: [1, '2', '8Gi', '16Gi', '500Gi'],
    grafana: [1, '500m', '1Gi', '2Gi'],
    correlator: [3, '1', '1Gi', '2Gi'],
    'node-exporter': [1, '200m', '128Mi', '256Mi'],
    'cluster-state': [1, '250m', '512Mi', '1Gi'],
  },
};

export interface SizeOverride {
  replicas?: number;
  resources?: ResourceRequirements;
  storage?: StorageSpec;
}

export function sizing(profile: SizeProfile, component: ComponentName, override: SizeOverride = {}): Sizing {
  const [replicas, cpu, memory, memLimit, storage] = PROFILES[profile][component];
  return {
    replicas: override.replicas ?? replicas,
    resources: {
      requests: { cpu, memory, ...override.resources?.requests },
      limits: { memory: memLimit, ...override.resources?.limits },
    },
    storage: storage === undefined ? undefined : (override.storage?.size ?? storage),
  };
}

// Quantities are read by lib/quantities.ts; re-exported for the charts that read them from here.
export { quantityBytes } from '../../lib/quantities.js';
