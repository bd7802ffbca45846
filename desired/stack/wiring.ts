// The flows between a stack's components, read from the rendered objects themselves: every address
// a component's configs, arguments and environment name (`<stack>-<component>[-<target>][-headless].<ns>.svc:<port>`,
// a resolver's `hostname` and `port`, Alertmanager's `--cluster.peer`), and every Kubernetes service
// discovery that selects one component's pods with a container port's name (Prometheus's scrape jobs
// and its Alertmanagers). One source: the NetworkPolicies (network-policies.ts) allow exactly these.
import yaml from 'js-yaml';
import { LABEL_COMPONENT, LABEL_STACK } from '../../conventions/index.js';
import { PORTS, type StackContext } from './context.js';
import { COMPONENTS, type ComponentName } from './labels.js';
import { GOSSIP_PORT, TARGET_SUFFIXES } from './scalable.js';

/** A rendered object as far as the wiring reads it (index.ts's KubeObject). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels: Record<string, string> };
  [key: string]: unknown;
}

export interface Flow {
  from: ComponentName;
  to: ComponentName;
  port: number;
}

/**
 * Where the stack's metrics are queried with PromQL: Thanos Query in front of an HA pair (it
 * deduplicates the replicas), else the one Prometheus. Grafana's Prometheus datasource,
 * status.endpoints.prometheus and the operator's SLO budget reader (which reads that endpoint, from
 * the operator's namespace: an outside source network-policies.ts admits here) all use it.
 */
export function metricsQuery(ctx: StackContext): { to: 'prometheus' | 'thanos-query'; port: number; url: string } {
  const to = ctx.on['thanos-query'] ? 'thanos-query' : 'prometheus';
  const port = to === 'thanos-query' ? PORTS.thanosHttp : PORTS.prometheus;
  return { to, port, url: `http://${ctx.host(to)}:${port}` };
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

interface PodTemplateSpec {
  hostNetwork?: boolean;
  containers?: { ports?: { name?: string; containerPort: number }[] }[];
}

const podSpec = (o: KubeObject): PodTemplateSpec | undefined =>
  (o.spec as { template?: { spec?: PodTemplateSpec } } | undefined)?.template?.spec;

/** Container ports by name, per component, from the rendered workloads. */
export function containerPorts(objects: readonly KubeObject[]): Map<ComponentName, Map<string, number>> {
  const out = new Map<ComponentName, Map<string, number>>();
  for (const o of objects) {
    const c = o.metadata.labels?.[LABEL_COMPONENT] as ComponentName | undefined;
    const spec = WORKLOAD_KINDS.has(o.kind) ? podSpec(o) : undefined;
    if (!c || !spec) continue;
    const ports = out.get(c) ?? new Map<string, number>();
    for (const ctr of spec.containers ?? [])
      for (const p of ctr.ports ?? []) if (p.name) ports.set(p.name, p.containerPort);
    out.set(c, ports);
  }
  return out;
}

/** Components whose pods run in the node's network namespace: NetworkPolicies do not apply to them. */
export function hostNetworkComponents(objects: readonly KubeObject[]): Set<ComponentName> {
  const out = new Set<ComponentName>();
  for (const o of objects) {
    const c = o.metadata.labels?.[LABEL_COMPONENT] as ComponentName | undefined;
    if (c && WORKLOAD_KINDS.has(o.kind) && podSpec(o)?.hostNetwork) out.add(c);
  }
  return out;
}

/**
 * Every string in the rendered objects, with where it is: configuration files in ConfigMaps and
 * Secrets are read as the YAML (or JSON) they are, so that fields next to each other are seen
 * together; a `hostname` with a `port` beside it (a resolver, as the collector's load-balancing
 * exporter has) comes with that port. `node` sees every object node on the way (a discovery block).
 * One walk for the NetworkPolicies' flows and for the tests that check each address.
 */
export function walkRendered(
  objects: readonly KubeObject[],
  visit: (o: KubeObject, text: string, where: string, portBeside?: number) => void,
  node?: (o: KubeObject, n: Record<string, unknown>, where: string) => void,
): void {
  const walk = (o: KubeObject, v: unknown, where: string): void => {
    if (typeof v === 'string') {
      visit(o, v, where);
      return;
    }
    if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) walk(o, x, `${where}[${i}]`);
      return;
    }
    if (!v || typeof v !== 'object') return;
    const n = v as Record<string, unknown>;
    node?.(o, n, where);
    const beside = Number(n.port);
    for (const [k, x] of Object.entries(n)) {
      if (k === 'hostname' && typeof x === 'string' && n.port !== undefined && Number.isInteger(beside)) {
        visit(o, x, `${where}.${k}`, beside);
        continue;
      }
      walk(o, x, `${where}.${k}`);
    }
  };
  for (const o of objects) {
    const where = `${o.kind}/${o.metadata.name}`;
    if (o.kind === 'ConfigMap' || o.kind === 'Secret') {
      for (const [key, text] of Object.entries((o.data ?? o.stringData ?? {}) as Record<string, string>)) {
        let parsed: unknown = text;
        try {
          parsed = yaml.load(text);
        } catch {
          // Not YAML: scanned as text.
        }
        walk(o, typeof parsed === 'object' && parsed !== null ? parsed : text, `${where}.data.${key}`);
      }
      continue;
    }
    const { metadata: _m, ...rest } = o;
    walk(o, rest, where);
  }
}

const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The flows the rendered objects use, sorted and without duplicates. Throws when an address names a
 * component without a port, or a discovery keeps a port name the component does not have: the
 * wiring would then be unknown, and a policy derived from it wrong.
 */
export function stackFlows(ctx: StackContext, objects: readonly KubeObject[]): Flow[] {
  const ports = containerPorts(objects);
  // Longest first: `cluster-state` before a shorter name it might start with.
  const names = [...COMPONENTS].sort((a, b) => b.length - a.length).map(reEscape);
  const s = reEscape(ctx.stack);
  // A target's Service (`<stack>-loki-write`) or a pod of one (`<stack>-loki-write-0.<stack>-loki-write`).
  const target = `(?:-(?:${TARGET_SUFFIXES.join('|')}))?`;
  const hostRe = `(?<![\\w.-])${s}-(${names.join('|')})${target}(?:-\\d+\\.${s}-\\1${target})?(?:-headless)?\\.${reEscape(ctx.namespace)}\\.svc(?:\\.cluster\\.local)?`;
  const withPort = new RegExp(`${hostRe}(?::(\\d+))?`, 'g');
  const bareHost = new RegExp(`^${hostRe}$`);
  const flows = new Map<string, Flow>();
  const add = (from: ComponentName, to: ComponentName, port: number) =>
    flows.set(`${from}>${to}:${port}`, { from, to, port });

  const scanString = (from: ComponentName, text: string, where: string) => {
    for (const m of text.matchAll(withPort)) {
      if (!m[2]) throw new Error(`${where}: the address ${m[0]} names no port`);
      const to = m[1] as ComponentName;
      add(from, to, Number(m[2]));
      // A memberlist ring (its join address names the gossip port): the members also call each
      // other at the pod addresses they gossip, on their gRPC port (ingesters, schedulers, frontends).
      if (Number(m[2]) === GOSSIP_PORT) {
        const grpc = ports.get(to)?.get('grpc');
        if (grpc === undefined) throw new Error(`${where}: the ring ${m[0]} has no member with a grpc port`);
        add(from, to, grpc);
      }
    }
  };

  // A Kubernetes service discovery of one component's pods, with the port kept by its name.
  const discovery = (from: ComponentName, node: Record<string, unknown>, where: string) => {
    const sds = node.kubernetes_sd_configs as { namespaces?: { names?: string[] }; selectors?: { label?: string }[] }[];
    const relabels = (node.relabel_configs ?? []) as { source_labels?: string[]; regex?: string; action?: string }[];
    const keep = relabels.find(
      (r) => r.action === 'keep' && r.source_labels?.[0] === '__meta_kubernetes_pod_container_port_name',
    );
    for (const sd of sds) {
      if (!sd.namespaces?.names?.includes(ctx.namespace)) continue;
      for (const sel of sd.selectors ?? []) {
        const labels = Object.fromEntries((sel.label ?? '').split(',').map((kv) => kv.split('=')));
        if (labels[LABEL_STACK] !== ctx.stack || !labels[LABEL_COMPONENT]) continue;
        const to = labels[LABEL_COMPONENT] as ComponentName;
        if (!keep?.regex) throw new Error(`${where}: discovery of ${to} keeps no container port by name`);
        const port = ports.get(to)?.get(keep.regex);
        if (port === undefined) throw new Error(`${where}: ${to} has no container port named ${keep.regex}`);
        add(from, to, port);
      }
    }
  };

  walkRendered(
    objects,
    (o, text, where, portBeside) => {
      const from = o.metadata.labels?.[LABEL_COMPONENT] as ComponentName | undefined;
      if (!from) return;
      const host = portBeside === undefined ? null : text.match(bareHost);
      if (host) add(from, host[1] as ComponentName, portBeside as number);
      else scanString(from, text, where);
    },
    (o, node, where) => {
      const from = o.metadata.labels?.[LABEL_COMPONENT] as ComponentName | undefined;
      if (from && Array.isArray(node.kubernetes_sd_configs)) discovery(from, node, where);
    },
  );
  return [...flows.values()].sort(
    (a, b) => a.to.localeCompare(b.to) || a.port - b.port || a.from.localeCompare(b.from),
  );
}
