import {
  LABEL_COMPONENT,
  LABEL_INSTANCE,
  LABEL_MANAGED_BY,
  LABEL_NAME,
  LABEL_PART_OF,
  LABEL_STACK,
  MANAGED_BY,
  PART_OF,
} from '../../conventions/index.js';

/** The parts of a stack, in render order. Object names are `<stack>-<component>`. */
export const COMPONENTS = [
  'collector',
  'sampler',
  'agent',
  'prometheus',
  'alertmanager',
  'thanos-query',
  'loki',
  'tempo',
  'grafana',
  'correlator',
  'node-exporter',
  'cluster-state',
] as const;
export type ComponentName = (typeof COMPONENTS)[number];

const APP_NAMES: Record<ComponentName, string> = {
  collector: 'opentelemetry-collector',
  sampler: 'opentelemetry-collector',
  agent: 'opentelemetry-collector',
  prometheus: 'prometheus',
  alertmanager: 'alertmanager',
  'thanos-query': 'thanos-query',
  loki: 'loki',
  tempo: 'tempo',
  grafana: 'grafana',
  correlator: 'vigil-correlator',
  'node-exporter': 'node-exporter',
  'cluster-state': 'opentelemetry-collector',
};

/**
 * Labels on every object of one component. The instance is `<stack>-<component>`, never the CR's
 * own app.kubernetes.io/instance: Argo CD's label tracking would otherwise adopt and prune them.
 */
export function componentLabels(stack: string, component: ComponentName): Record<string, string> {
  return {
    [LABEL_NAME]: APP_NAMES[component],
    [LABEL_INSTANCE]: `${stack}-${component}`,
    [LABEL_COMPONENT]: component,
    [LABEL_PART_OF]: PART_OF,
    [LABEL_MANAGED_BY]: MANAGED_BY,
    [LABEL_STACK]: stack,
  };
}

/** Pod selector; immutable on Deployments and StatefulSets, so it holds only what never changes. */
export function selectorLabels(stack: string, component: ComponentName): Record<string, string> {
  return { [LABEL_STACK]: stack, [LABEL_COMPONENT]: component };
}

/** The target of a component's workload (`write` of `<stack>-loki-write`); absent on single-target components. */
export const LABEL_TARGET = 'vigil.dev/target';
