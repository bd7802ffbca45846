// The rendered NetworkPolicies, evaluated with NetworkPolicy's ingress semantics (below): for every
// ordered pair of a stack's components and every port the destination listens on, a connection is
// allowed exactly when the wiring (read from the rendered configs) uses it; outside sources reach
// only what the stack names.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import type { LabelSelector, ObservabilityStack } from '../../../api/types.js';
import { collectedBy, selectorMatches } from '../../../desired/stack/collection.js';
import { PORTS, stackContext } from '../../../desired/stack/context.js';
import { type KubeObject, type RenderInputs, renderStack } from '../../../desired/stack/index.js';
import type { ComponentName } from '../../../desired/stack/labels.js';
import { NAMESPACE_NAME_LABEL } from '../../../desired/stack/network-policies.js';
import { stackFlows } from '../../../desired/stack/wiring.js';
import { aStack, FIXTURES, loadStack, REPO } from './stacks.js';

// ---- NetworkPolicy ingress semantics (networking.k8s.io/v1), for TCP and pod peers ----

interface Pod {
  namespace: string;
  labels: Record<string, string>;
  /** Container ports by name. */
  ports: Map<string, number>;
  hostNetwork?: boolean;
}
interface PolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: unknown;
}
interface PolicyPort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}
interface Policy {
  metadata: { namespace: string };
  spec: {
    podSelector: LabelSelector;
    policyTypes?: string[];
    ingress?: { from?: PolicyPeer[]; ports?: PolicyPort[] }[];
  };
}

const nsLabels = (ns: string, extra: Record<string, Record<string, string>>) => ({
  [NAMESPACE_NAME_LABEL]: ns,
  ...(extra[ns] ?? {}),
});

function portMatches(p: PolicyPort, port: number, dst: Pod): boolean {
  if ((p.protocol ?? 'TCP') !== 'TCP') return false;
  if (p.port === undefined) return true;
  // A named port is the destination container's port of that name.
  const n = typeof p.port === 'string' ? dst.ports.get(p.port) : p.port;
  if (n === undefined) return false;
  return p.endPort === undefined ? n === port : port >= n && port <= p.endPort;
}

function peerMatches(peer: PolicyPeer, src: Pod, policyNs: string, extra: Record<string, Record<string, string>>) {
  if (peer.ipBlock) return false; // pod-to-pod traffic only: ipBlock is meant for outside the cluster
  const nsOk = peer.namespaceSelector
    ? selectorMatches(peer.namespaceSelector, nsLabels(src.namespace, extra))
    : src.namespace === policyNs;
  const podOk = peer.podSelector ? selectorMatches(peer.podSelector, src.labels) : true;
  return nsOk && podOk;
}

/** Whether the policies let src open a TCP connection to dst's port. */
function allowed(
  policies: Policy[],
  src: Pod,
  dst: Pod,
  port: number,
  extra: Record<string, Record<string, string>> = {},
): boolean {
  if (dst.hostNetwork) return true; // NetworkPolicy does not apply to host-network pods
  const selecting = policies.filter(
    (p) =>
      p.metadata.namespace === dst.namespace &&
      (p.spec.policyTypes ?? ['Ingress']).includes('Ingress') &&
      selectorMatches(p.spec.podSelector, dst.labels),
  );
  if (!selecting.length) return true;
  return selecting.some((p) =>
    (p.spec.ingress ?? []).some(
      (rule) =>
        (!rule.ports?.length || rule.ports.some((pp) => portMatches(pp, port, dst))) &&
        (!rule.from?.length || rule.from.some((peer) => peerMatches(peer, src, p.metadata.namespace, extra))),
    ),
  );
}

describe('the NetworkPolicy evaluator', () => {
  const dst: Pod = { namespace: 'a', labels: { app: 'db' }, ports: new Map([['sql', 5432]]) };
  const src = (namespace: string, labels: Record<string, string> = {}): Pod => ({
    namespace,
    labels,
    ports: new Map(),
  });
  const policy = (ingress: Policy['spec']['ingress']): Policy => ({
    metadata: { namespace: 'a' },
    spec: { podSelector: { matchLabels: { app: 'db' } }, policyTypes: ['Ingress'], ingress },
  });
  it('allows everything when no policy selects the pod, nothing when one with no rules does', () => {
    expect(allowed([], src('b'), dst, 5432)).toBe(true);
    expect(allowed([policy([])], src('a'), dst, 5432)).toBe(false);
  });
  it('reads a podSelector alone as the policy namespace, a namespaceSelector alone as every pod there', () => {
    const p = policy([{ from: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port: 5432 }] }]);
    expect(allowed([p], src('a', { app: 'web' }), dst, 5432)).toBe(true);
    expect(allowed([p], src('b', { app: 'web' }), dst, 5432)).toBe(false);
    expect(allowed([p], src('a', { app: 'web' }), dst, 5433)).toBe(false);
    const q = policy([{ from: [{ namespaceSelector: { matchLabels: { team: 'x' } } }] }]);
    expect(allowed([q], src('b'), dst, 1, { b: { team: 'x' } })).toBe(true);
    expect(allowed([q], src('c'), dst, 1)).toBe(false);
  });
  it('resolves named ports against the destination and ANDs both selectors of one peer', () => {
    const p = policy([
      {
        from: [{ namespaceSelector: { matchLabels: { team: 'x' } }, podSelector: { matchLabels: { app: 'web' } } }],
        ports: [{ port: 'sql' }],
      },
    ]);
    expect(allowed([p], src('b', { app: 'web' }), dst, 5432, { b: { team: 'x' } })).toBe(true);
    expect(allowed([p], src('b', { app: 'api' }), dst, 5432, { b: { team: 'x' } })).toBe(false);
    expect(allowed([p], src('b', { app: 'web' }), dst, 5432)).toBe(false);
  });
});

// ---- the stacks ----

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

interface Rendered {
  stack: ObservabilityStack;
  objects: KubeObject[];
  pods: Map<ComponentName, Pod>;
  policies: Policy[];
  flows: Set<string>;
}

function rendered(stack: ObservabilityStack, inputs?: RenderInputs): Rendered {
  const r = renderStack(stack, inputs);
  expect(r.problems).toEqual([]);
  const pods = new Map<ComponentName, Pod>();
  for (const o of r.objects) {
    if (!WORKLOADS.has(o.kind)) continue;
    const t = (o.spec as { template: { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> } })
      .template;
    const ports = new Map<string, number>();
    for (const c of t.spec.containers as { ports?: { name: string; containerPort: number }[] }[]) {
      for (const p of c.ports ?? []) ports.set(p.name, p.containerPort);
    }
    const c = o.metadata.labels['app.kubernetes.io/component'] as ComponentName;
    pods.set(c, {
      namespace: o.metadata.namespace as string,
      labels: t.metadata.labels,
      ports,
      hostNetwork: t.spec.hostNetwork === true,
    });
  }
  const policies = r.objects.filter((o) => o.kind === 'NetworkPolicy') as unknown as Policy[];
  const flows = new Set(stackFlows(stackContext(stack), r.objects).map((f) => `${f.from}>${f.to}:${f.port}`));
  return { stack, objects: r.objects, pods, policies, flows };
}

const other = (namespace: string, labels: Record<string, string> = { app: 'someone' }): Pod => ({
  namespace,
  labels,
  ports: new Map(),
});

const STACKS: [string, () => ObservabilityStack][] = [
  ...Object.entries(FIXTURES).map(([n, f]): [string, () => ObservabilityStack] => [n, () => loadStack(f)]),
  ['cluster', () => loadStack(join(REPO, 'examples/cluster.yaml'))],
  ...readdirSync(join(REPO, 'examples/stages'))
    .filter((f) => f.endsWith('.yaml'))
    .map((f): [string, () => ObservabilityStack] => [`stage ${f}`, () => loadStack(join(REPO, 'examples/stages', f))]),
  [
    'daemonset collecting two namespaces, sampling, three Alertmanagers',
    () =>
      aStack({
        collector: {
          mode: 'daemonset',
          collect: { namespaces: ['team-a', 'team-b'] },
          sampling: { errors: true, slowerThan: '1500ms' } as never,
        },
        traces: { enabled: true },
        logs: { enabled: true },
        metrics: { alertmanager: { enabled: true, replicas: 3 } } as never,
      }),
  ],
];

describe.each(STACKS)('%s', (_name, make) => {
  const r = rendered(make());
  const ns = r.stack.metadata.namespace as string;
  const components = [...r.pods.keys()];

  it('renders a policy for every pod-network component, selecting only its pods', () => {
    for (const pod of r.pods.values()) {
      const selecting = r.policies.filter((p) => selectorMatches(p.spec.podSelector, pod.labels));
      expect(selecting.length).toBe(pod.hostNetwork ? 0 : 1);
    }
    expect(r.policies.length).toBe([...r.pods.values()].filter((p) => !p.hostNetwork).length);
  });

  it('uses only ports the destination listens on', () => {
    for (const f of r.flows) {
      const [, to, port] = f.match(/^[^>]+>([^:]+):(\d+)$/) as RegExpMatchArray;
      expect([...(r.pods.get(to as ComponentName)?.ports.values() ?? [])]).toContain(Number(port));
    }
  });

  it('allows a component-to-component connection exactly when the wiring uses it', () => {
    let checked = 0;
    for (const from of components) {
      for (const to of components) {
        const dst = r.pods.get(to) as Pod;
        if (dst.hostNetwork) continue;
        for (const port of new Set(dst.ports.values())) {
          const used = r.flows.has(`${from}>${to}:${port}`);
          expect({ from, to, port, allowed: allowed(r.policies, r.pods.get(from) as Pod, dst, port) }).toEqual({
            from,
            to,
            port,
            allowed: used,
          });
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(components.length);
  });

  it('lets OTLP in from its own and the collected namespaces only', () => {
    const collected = collectedBy(r.stack.spec, ns)?.names ?? [];
    for (const c of ['collector', 'agent'] as const) {
      const dst = r.pods.get(c);
      if (!dst) continue;
      for (const port of [PORTS.otlpGrpc, PORTS.otlpHttp]) {
        expect(allowed(r.policies, other(ns), dst, port)).toBe(true);
        for (const n of collected) expect(allowed(r.policies, other(n), dst, port)).toBe(true);
        expect(allowed(r.policies, other('elsewhere'), dst, port)).toBe(false);
      }
      // Not its metrics or health ports, from anywhere but the wiring.
      expect(allowed(r.policies, other(ns), dst, PORTS.collectorMetrics)).toBe(false);
    }
  });

  it('lets its namespace reach Grafana, the operator reach Prometheus (Thanos Query with an HA pair), and no outsider anything else', () => {
    const outsiders = [other(ns), other('elsewhere'), other('vigil-system')];
    // The SLO budget reader's endpoint: the querier in front of an HA pair, else Prometheus.
    const query = r.pods.has('thanos-query')
      ? { c: 'thanos-query', port: PORTS.thanosHttp }
      : { c: 'prometheus', port: PORTS.prometheus };
    for (const [c, dst] of r.pods) {
      if (dst.hostNetwork) continue;
      for (const port of new Set(dst.ports.values())) {
        for (const src of outsiders) {
          const expected =
            (c === 'grafana' && port === PORTS.grafana && src.namespace === ns) ||
            (c === query.c && port === query.port && src.namespace === 'vigil-system') ||
            ((c === 'collector' || c === 'agent') &&
              (port === PORTS.otlpGrpc || port === PORTS.otlpHttp) &&
              src.namespace === ns);
          expect({ c, port, from: src.namespace, allowed: allowed(r.policies, src, dst, port) }).toEqual({
            c,
            port,
            from: src.namespace,
            allowed: expected,
          });
        }
      }
    }
  });
});

describe('sources a stack names', () => {
  it("the operator reaches Alertmanager's API only while a RemediationPolicy routes to the stack (its Blocked notice)", () => {
    const stack = aStack({});
    const routing = {
      url: 'http://vigil-operator.vigil-system.svc:8081/alerts/observability/test',
      policies: [{ name: 'restart', matchers: ['alertname="X"'], cooldownSeconds: 300 }],
    };
    const operator = other('vigil-system');
    const am = (r: Rendered) => r.pods.get('alertmanager') as Pod;
    const routed = rendered(stack, { remediation: routing });
    expect(allowed(routed.policies, operator, am(routed), PORTS.alertmanager)).toBe(true);
    expect(allowed(routed.policies, other('elsewhere'), am(routed), PORTS.alertmanager)).toBe(false);
    const plain = rendered(stack);
    expect(allowed(plain.policies, operator, am(plain), PORTS.alertmanager)).toBe(false);
  });
  it('spec.collector.otlpFrom replaces the default namespaces, by name and by selector', () => {
    const r = rendered(
      aStack({
        collector: {
          mode: 'daemonset',
          collect: { namespaces: ['team-a'] },
          otlpFrom: { namespaces: ['apps'], namespaceSelector: { matchLabels: { otlp: 'yes' } } },
        },
      }),
    );
    const extra = { labelled: { otlp: 'yes' } };
    for (const c of ['collector', 'agent'] as const) {
      const dst = r.pods.get(c) as Pod;
      expect(allowed(r.policies, other('apps'), dst, PORTS.otlpGrpc)).toBe(true);
      expect(allowed(r.policies, other('labelled'), dst, PORTS.otlpHttp, extra)).toBe(true);
      expect(allowed(r.policies, other('team-a'), dst, PORTS.otlpGrpc)).toBe(false);
      expect(allowed(r.policies, other('observability'), dst, PORTS.otlpGrpc)).toBe(false);
    }
    // The wiring still reaches the gateway: the agent forwards to it.
    expect(allowed(r.policies, r.pods.get('agent') as Pod, r.pods.get('collector') as Pod, PORTS.otlpGrpc)).toBe(true);
  });

  it('a namespace selector in spec.collector.collect lets the namespaces it matches send OTLP', () => {
    const r = rendered(
      aStack({ collector: { mode: 'daemonset', collect: { namespaceSelector: { matchLabels: { logs: 'on' } } } } }),
    );
    const dst = r.pods.get('agent') as Pod;
    expect(allowed(r.policies, other('x'), dst, PORTS.otlpGrpc, { x: { logs: 'on' } })).toBe(true);
    expect(allowed(r.policies, other('y'), dst, PORTS.otlpGrpc)).toBe(false);
  });

  it('an empty spec.grafana.allowFrom lets nobody in (not everybody)', () => {
    const r = rendered(aStack({ grafana: { allowFrom: [] } }));
    const dst = r.pods.get('grafana') as Pod;
    expect(allowed(r.policies, other('observability'), dst, PORTS.grafana)).toBe(false);
    expect(allowed(r.policies, other('elsewhere'), dst, PORTS.grafana)).toBe(false);
    // Prometheus still scrapes it: that flow is the wiring's.
    expect(allowed(r.policies, r.pods.get('prometheus') as Pod, dst, PORTS.grafana)).toBe(true);
  });

  it('Alertmanager peers gossip with each other, and only they reach the cluster port', () => {
    const r = rendered(aStack({ metrics: { alertmanager: { enabled: true, replicas: 3 } } as never }));
    expect(r.flows).toContain(`alertmanager>alertmanager:${PORTS.alertmanagerCluster}`);
    const am = r.pods.get('alertmanager') as Pod;
    expect(allowed(r.policies, am, am, PORTS.alertmanagerCluster)).toBe(true);
    for (const src of [other('observability'), r.pods.get('prometheus') as Pod, r.pods.get('grafana') as Pod]) {
      expect(allowed(r.policies, src, am, PORTS.alertmanagerCluster)).toBe(false);
    }
    // Its API (silences) only from Prometheus, which sends the alerts.
    expect(allowed(r.policies, other('observability'), am, PORTS.alertmanager)).toBe(false);
    expect(allowed(r.policies, r.pods.get('prometheus') as Pod, am, PORTS.alertmanager)).toBe(true);
  });

  it('correlator replicas reach each other on their HTTP port (query fan-out) only when there are several', () => {
    const one = rendered(aStack({ correlation: { replicas: 1 } } as never));
    const c1 = one.pods.get('correlator') as Pod;
    expect(one.flows).not.toContain(`correlator>correlator:${PORTS.correlator}`);
    expect(allowed(one.policies, c1, c1, PORTS.correlator)).toBe(false);
    const two = rendered(aStack({ correlation: { replicas: 2 } } as never));
    const c2 = two.pods.get('correlator') as Pod;
    expect(two.flows).toContain(`correlator>correlator:${PORTS.correlator}`);
    expect(allowed(two.policies, c2, c2, PORTS.correlator)).toBe(true);
    // Not their OTLP/gRPC port: only the collector tiers send spans and logs there.
    expect(allowed(two.policies, c2, c2, PORTS.otlpGrpc)).toBe(false);
    expect(allowed(two.policies, other('observability'), c2, PORTS.correlator)).toBe(false);
  });

  it('spec.grafana.allowFrom names who reaches Grafana', () => {
    const r = rendered(
      aStack({
        grafana: {
          allowFrom: [
            {
              namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: 'ingress' } },
              podSelector: { matchLabels: { app: 'proxy' } },
            },
          ],
        },
      }),
    );
    const dst = r.pods.get('grafana') as Pod;
    expect(allowed(r.policies, other('ingress', { app: 'proxy' }), dst, PORTS.grafana)).toBe(true);
    expect(allowed(r.policies, other('ingress', { app: 'other' }), dst, PORTS.grafana)).toBe(false);
    expect(allowed(r.policies, other('observability'), dst, PORTS.grafana)).toBe(false);
  });

  it('an HA pair: Grafana and the budget reader query Thanos Query, and only the querier reaches the sidecars', () => {
    const r = rendered(aStack({ metrics: { replicas: 2 } as never }));
    expect(r.flows).toContain(`grafana>thanos-query:${PORTS.thanosHttp}`);
    expect(r.flows).toContain(`thanos-query>prometheus:${PORTS.thanosGrpc}`);
    expect(r.flows).not.toContain(`grafana>prometheus:${PORTS.prometheus}`);
    const prom = r.pods.get('prometheus') as Pod;
    const query = r.pods.get('thanos-query') as Pod;
    expect(allowed(r.policies, query, prom, PORTS.thanosGrpc)).toBe(true);
    for (const src of [r.pods.get('grafana') as Pod, other('observability'), other('vigil-system')]) {
      expect(allowed(r.policies, src, prom, PORTS.thanosGrpc)).toBe(false);
    }
    expect(allowed(r.policies, other('vigil-system'), query, PORTS.thanosHttp)).toBe(true);
    expect(allowed(r.policies, other('vigil-system'), prom, PORTS.prometheus)).toBe(false);
    expect(allowed(r.policies, other('elsewhere'), query, PORTS.thanosHttp)).toBe(false);
  });

  it('the operator namespace spec.metrics.scrapeOperator names is the one that reaches Prometheus', () => {
    const r = rendered(aStack({ metrics: { scrapeOperator: { enabled: true, namespace: 'ops' } } as never }));
    const dst = r.pods.get('prometheus') as Pod;
    expect(allowed(r.policies, other('ops'), dst, PORTS.prometheus)).toBe(true);
    expect(allowed(r.policies, other('vigil-system'), dst, PORTS.prometheus)).toBe(false);
  });
});

describe('the wiring', () => {
  const stack = aStack();
  const ctx = stackContext(stack);
  const cm = (data: Record<string, string>): KubeObject => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'x', labels: { 'app.kubernetes.io/component': 'grafana' } },
    data,
  });
  it('reads addresses in config files, with a resolver hostname beside its port', () => {
    const flows = stackFlows(ctx, [
      cm({
        'a.yaml': `url: http://${ctx.host('loki')}:3100/x\nresolver: {hostname: ${ctx.name('sampler')}-headless.${ctx.namespace}.svc, port: '4317'}`,
      }),
    ]);
    expect(flows).toEqual([
      { from: 'grafana', to: 'loki', port: 3100 },
      { from: 'grafana', to: 'sampler', port: 4317 },
    ]);
  });
  it('refuses an address without a port, naming where it is', () => {
    expect(() => stackFlows(ctx, [cm({ 'a.yaml': `url: http://${ctx.host('loki')}/x` })])).toThrow(
      /ConfigMap\/x\.data\.a\.yaml.*names no port/,
    );
  });
  it('refuses a discovery keeping a port name the component does not have', () => {
    const sd = {
      kubernetes_sd_configs: [
        {
          role: 'pod',
          namespaces: { names: [ctx.namespace] },
          selectors: [{ role: 'pod', label: `vigil.dev/stack=${ctx.stack},app.kubernetes.io/component=loki` }],
        },
      ],
      relabel_configs: [
        { source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: 'nope', action: 'keep' },
      ],
    };
    expect(() => stackFlows(ctx, [cm({ 'p.yml': JSON.stringify({ scrape_configs: [sd] }) })])).toThrow(
      /loki has no container port named nope/,
    );
  });
});
