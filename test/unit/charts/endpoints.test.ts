// Every address a rendered stack names, at every size: each in-cluster host in a config file, an
// argument or an environment value (collector → Loki/Tempo/Prometheus/correlator, Grafana's
// datasources, Tempo's remote write, Prometheus's Alertmanagers, the correlator's exports, the
// agent → gateway, status.endpoints) must be a Service the same render makes, on one of that
// Service's ports, and that port must reach a container port of the pods the Service selects.
// A name that resolves to nothing is an outage no schema check sees.
import { describe, expect, it } from '@jest/globals';
import type { ObservabilityStack, SizeProfile } from '../../../api/types.js';
import { SIZE_PROFILES } from '../../../api/types.js';
import { type KubeObject, renderStack, stackEndpoints } from '../../../desired/stack/index.js';
import { walkRendered } from '../../../desired/stack/wiring.js';
import { FIXTURES, loadStack } from './stacks.js';

interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
}
interface Service {
  ports: ServicePort[];
  selector: Record<string, string>;
  headless: boolean;
}

interface Address {
  where: string;
  text: string;
  service: string;
  /** The port number, or a named port (a DNS SRV name `_grpc._tcp.<service>`). */
  port?: number;
  portName?: string;
}

const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Every in-cluster address of this stack's own Services found in the rendered objects. */
function addresses(stack: string, namespace: string, objects: readonly KubeObject[]): Address[] {
  const s = reEscape(stack);
  const ns = reEscape(namespace);
  // [pod.]service.namespace.svc[.cluster.local][:port]; or _name._tcp.service.namespace.svc (SRV).
  const re = new RegExp(
    `(?<![\\w.-])(?:_([a-z0-9-]+)\\._tcp\\.)?(?:${s}-[a-z0-9-]+-\\d+\\.)?(${s}-[a-z0-9-]+)\\.${ns}\\.svc(?:\\.cluster\\.local)?(?::(\\d+))?`,
    'g',
  );
  const out: Address[] = [];
  const scan = (text: string, where: string, portBeside?: number) => {
    for (const m of text.matchAll(re)) {
      const port = m[3] ? Number(m[3]) : portBeside;
      out.push({ where, text: m[0], service: m[2], port, portName: m[1] });
    }
  };
  walkRendered(objects, (_o, text, where, portBeside) => scan(text, where, portBeside));
  return out;
}

interface Pod {
  labels: Record<string, string>;
  ports: { name?: string; containerPort: number }[];
}

/** What is wrong with each address: no such Service, no such port, or no pod port behind it. */
function unresolved(objects: readonly KubeObject[], found: readonly Address[]): string[] {
  const services = new Map<string, Service>();
  const pods: Pod[] = [];
  for (const o of objects) {
    // biome-ignore lint/suspicious/noExplicitAny: rendered specs are read loosely across kinds
    const spec = o.spec as any;
    if (o.kind === 'Service') {
      services.set(o.metadata.name, {
        ports: spec.ports ?? [],
        selector: spec.selector ?? {},
        headless: spec.clusterIP === 'None',
      });
    } else if (spec?.template?.spec?.containers) {
      pods.push({
        labels: spec.template.metadata?.labels ?? {},
        ports: spec.template.spec.containers.flatMap((c: { ports?: Pod['ports'] }) => c.ports ?? []),
      });
    }
  }
  const problems: string[] = [];
  for (const a of found) {
    const svc = services.get(a.service);
    const at = `${a.where}: ${a.text}`;
    if (!svc) {
      problems.push(`${at}: no Service ${a.service} is rendered`);
      continue;
    }
    const port = a.portName
      ? svc.ports.find((p) => p.name === a.portName)
      : (svc.ports.find((p) => p.port === a.port) ??
        // A headless Service's per-pod names reach every container port.
        (svc.headless ? { port: a.port ?? -1, targetPort: a.port } : undefined));
    if (a.port === undefined && !a.portName) {
      problems.push(`${at}: names no port`);
      continue;
    }
    if (!port) {
      problems.push(`${at}: Service ${a.service} has no port ${a.portName ?? a.port}`);
      continue;
    }
    const target = port.targetPort ?? port.port;
    const selected = pods.filter(
      (p) => Object.keys(svc.selector).length > 0 && Object.entries(svc.selector).every(([k, v]) => p.labels[k] === v),
    );
    if (!selected.length) {
      problems.push(`${at}: Service ${a.service} selects no rendered pods`);
      continue;
    }
    const served = selected.every((p) =>
      p.ports.some((cp) => (typeof target === 'number' ? cp.containerPort === target : cp.name === target)),
    );
    if (!served) problems.push(`${at}: the pods behind ${a.service} have no container port ${target}`);
  }
  return problems;
}

const withSize = (s: ObservabilityStack, size: SizeProfile): ObservabilityStack => {
  const spec = structuredClone(s.spec);
  spec.size = size;
  // A size's own replica counts: the fixture's explicit replicas would hide them.
  if (spec.correlation) delete spec.correlation.replicas;
  return { ...s, spec };
};

const cases = Object.keys(FIXTURES).flatMap((f) => SIZE_PROFILES.map((size) => [f, size] as const));

describe('every address a rendered stack names is a rendered Service and port', () => {
  it.each(cases)('%s at size %s', (fixture, size) => {
    const stack = withSize(loadStack(FIXTURES[fixture]), size);
    const { objects, problems } = renderStack(stack);
    expect(problems).toEqual([]);
    const { name, namespace } = stack.metadata as { name: string; namespace: string };
    const found = addresses(name, namespace, objects);
    for (const [key, url] of Object.entries(stackEndpoints(stack))) {
      found.push(...addressesOf(name, namespace, url, `status.endpoints.${key}`));
    }
    expect(unresolved(objects, found)).toEqual([]);
    // Every stack names at least its Prometheus (Grafana, the collector's metrics, status).
    expect(found.some((a) => a.service === `${name}-prometheus`)).toBe(true);
  });

  it('finds the wiring of the largest stack: every flow of each part is checked', () => {
    const stack = withSize(loadStack(FIXTURES['s3-large']), 'large');
    const { objects } = renderStack(stack);
    const services = new Set(addresses('prod', 'observability', objects).map((a) => a.service));
    // The collector's exporters, the datasources, Tempo's remote write, the agent, the correlator.
    for (const c of ['prometheus', 'loki', 'tempo', 'correlator', 'collector', 'alertmanager-headless'])
      expect([...services].some((s) => s === `prod-${c}` || s.startsWith(`prod-${c}-`))).toBe(true);
  });

  it('reports a name no Service has, a port the Service lacks, and a port no pod serves', () => {
    const stack = loadStack(FIXTURES.full);
    const { objects } = renderStack(stack);
    const { name, namespace } = stack.metadata as { name: string; namespace: string };
    const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === `${name}-prometheus`);
    expect(svc).toBeDefined();
    const promPort = (svc?.spec as { ports: ServicePort[] } | undefined)?.ports[0].port ?? 0;
    expect(promPort).toBeGreaterThan(0);
    const at = (text: string) => addressesOf(name, namespace, text, 'test');
    expect(unresolved(objects, at(`http://${name}-prometheus.${namespace}.svc:${promPort}`))).toEqual([]);
    expect(unresolved(objects, at(`http://${name}-promethus.${namespace}.svc:${promPort}`))[0]).toContain(
      `no Service ${name}-promethus is rendered`,
    );
    expect(unresolved(objects, at(`http://${name}-prometheus.${namespace}.svc:1`))[0]).toContain('has no port 1');
    expect(unresolved(objects, at(`http://${name}-prometheus.${namespace}.svc`))[0]).toContain('names no port');
    // A Service whose port points at a container port the pods do not have.
    const broken = objects.map((o) =>
      o === svc ? { ...o, spec: { ...(o.spec as object), ports: [{ port: promPort, targetPort: 1 }] } } : o,
    );
    expect(unresolved(broken, at(`${name}-prometheus.${namespace}.svc:${promPort}`))[0]).toContain(
      'have no container port 1',
    );
  });
});

function addressesOf(stack: string, namespace: string, text: string, where: string): Address[] {
  return addresses(stack, namespace, [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: where, labels: {} }, data: { text } },
  ]).map((a) => ({ ...a, where }));
}
