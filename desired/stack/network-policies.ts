// A NetworkPolicy per component of a stack: ingress is denied except for the flows the rendered
// configs use (wiring.ts, read from the same objects) and the outside sources the stack names —
// OTLP into the gateway and the agent, Grafana's users, the operator's budget reader on Prometheus
// and its remediation Blocked notice on Alertmanager (docs/network-policies.md). Egress is not restricted.
import type { LabelSelector } from '../../api/types.js';
import { LABEL_STACK } from '../../conventions/index.js';
import { PORTS, type StackContext } from './context.js';
import { type ComponentName, componentLabels, selectorLabels } from './labels.js';
import { remediationTokenSecret } from './remediation.js';
import {
  containerPorts,
  type Flow,
  hostNetworkComponents,
  type KubeObject,
  metricsQuery,
  stackFlows,
} from './wiring.js';

/** The label every namespace carries with its own name (set by the API server). */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
/** Where the operator runs unless spec.metrics.scrapeOperator names it. */
export const OPERATOR_NAMESPACE = 'vigil-system';

interface Peer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
}
interface IngressRule {
  from: Peer[];
  ports: { protocol: 'TCP'; port: number }[];
}

const byName = (names: string[]): LabelSelector => ({
  matchExpressions: [{ key: NAMESPACE_NAME_LABEL, operator: 'In', values: [...new Set(names)].sort() }],
});

/**
 * The pods of the stack's own namespace that are not the stack's: its components reach each other
 * only through the wiring's rules.
 */
const ownNamespaceOutsiders = (ctx: StackContext): Peer => ({
  podSelector: { matchExpressions: [{ key: LABEL_STACK, operator: 'NotIn', values: [ctx.stack] }] },
});

/** Namespaces by name: the stack's own (less its components) and the others. */
function namespacePeers(ctx: StackContext, names: readonly string[]): Peer[] {
  const others = names.filter((n) => n !== ctx.namespace);
  const peers: Peer[] = names.includes(ctx.namespace) ? [ownNamespaceOutsiders(ctx)] : [];
  if (others.length) peers.push({ namespaceSelector: byName(others) });
  return peers;
}

/** Namespaces whose pods may send OTLP: spec.collector.otlpFrom, or the stack's own and the collected ones. */
export function otlpPeers(ctx: StackContext): Peer[] {
  const from = ctx.spec.collector?.otlpFrom;
  if (from) {
    const peers = namespacePeers(ctx, from.namespaces ?? []);
    if (from.namespaceSelector) peers.push({ namespaceSelector: from.namespaceSelector });
    return peers;
  }
  const collect = ctx.spec.collector?.mode === 'daemonset' ? ctx.spec.collector.collect : undefined;
  const peers = namespacePeers(ctx, [ctx.namespace, ...(collect?.namespaces ?? [])]);
  if (collect?.namespaceSelector) peers.push({ namespaceSelector: collect.namespaceSelector });
  return peers;
}

/** Who may reach Grafana: spec.grafana.allowFrom, or the pods of the stack's namespace. */
export function grafanaPeers(ctx: StackContext): Peer[] {
  const allow = ctx.spec.grafana?.allowFrom;
  if (!allow) return [ownNamespaceOutsiders(ctx)];
  // A peer with neither selector would be every pod of the cluster: as in a NetworkPolicy, an
  // empty podSelector alone means the stack's own namespace.
  return allow.map((p) => (p.namespaceSelector || p.podSelector ? { ...p } : { podSelector: {} }));
}

/** The operator's namespace: the SLO budget reader queries Prometheus (or Thanos Query: wiring.ts's metricsQuery). */
export function operatorNamespace(ctx: StackContext): string {
  return ctx.spec.metrics?.scrapeOperator?.namespace ?? OPERATOR_NAMESPACE;
}

/** The ingress rules of one component's pods, outside sources included. */
function ingressRules(ctx: StackContext, c: ComponentName, flows: Flow[], ports: Map<string, number>): IngressRule[] {
  const rules: IngressRule[] = [];
  const tcp = (ps: number[]) =>
    [...new Set(ps)].sort((a, b) => a - b).map((port) => ({ protocol: 'TCP' as const, port }));
  const sources = [...new Set(flows.filter((f) => f.to === c).map((f) => f.from))].sort();
  for (const from of sources) {
    const ps = flows.filter((f) => f.to === c && f.from === from).map((f) => f.port);
    rules.push({ from: [{ podSelector: { matchLabels: selectorLabels(ctx.stack, from) } }], ports: tcp(ps) });
  }
  if (c === 'collector' || c === 'agent') {
    const otlp = [ports.get('otlp-grpc'), ports.get('otlp-http')].filter((p): p is number => p !== undefined);
    const peers = otlpPeers(ctx);
    if (otlp.length && peers.length) rules.push({ from: peers, ports: tcp(otlp) });
  }
  // An empty `from` would be everyone: an empty list of peers means no rule at all.
  const grafana = c === 'grafana' ? grafanaPeers(ctx) : [];
  if (grafana.length) rules.push({ from: grafana, ports: tcp([PORTS.grafana]) });
  const query = metricsQuery(ctx);
  if (c === query.to) {
    rules.push({ from: [{ namespaceSelector: byName([operatorNamespace(ctx)]) }], ports: tcp([query.port]) });
  }
  // A RemediationPolicy routes here: the operator posts its Blocked notice to Alertmanager's API
  // (operator/remediation.ts postBlockedNotice).
  if (c === 'alertmanager' && remediationTokenSecret(ctx.remediation)) {
    rules.push({ from: [{ namespaceSelector: byName([operatorNamespace(ctx)]) }], ports: tcp([PORTS.alertmanager]) });
  }
  return rules;
}

/**
 * One NetworkPolicy per component that runs pods in the pod network (host-network pods, such as
 * node-exporter's, are outside NetworkPolicy's reach). Each selects its component's pods, so every
 * pod of the stack is denied ingress except for the rules listed.
 */
export function networkPolicies(ctx: StackContext, objects: readonly KubeObject[]): KubeObject[] {
  const flows = stackFlows(ctx, objects);
  const ports = containerPorts(objects);
  const host = hostNetworkComponents(objects);
  const out: KubeObject[] = [];
  for (const [c, p] of [...ports.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    if (host.has(c)) continue;
    out.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: ctx.name(c), namespace: ctx.namespace, labels: componentLabels(ctx.stack, c) },
      spec: {
        podSelector: { matchLabels: selectorLabels(ctx.stack, c) },
        policyTypes: ['Ingress'],
        ingress: ingressRules(ctx, c, flows, p),
      },
    });
  }
  return out;
}
