// Scalable Loki and Tempo, replicated Grafana (docs/adr/0017-scalable-loki-tempo.md): at sizes
// medium and large with S3, Loki renders its write, read and backend targets and Tempo its scalable
// single binary, both in a memberlist ring that the NetworkPolicies admit; without S3 both stay
// single binaries; Grafana runs more than one replica only with its external database.
import { describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { componentStatus } from '../../../controller/stack.js';
import { type KubeObject, renderStack, stackEndpoints } from '../../../desired/stack/index.js';
import type { KubeObject as LiveObject } from '../../../kube/types.js';
import { aStack, FIXTURES, loadStack } from './stacks.js';

// biome-ignore lint/suspicious/noExplicitAny: rendered specs are read loosely across kinds
type Any = any;

const s3 = { s3: { endpoint: 'https://s3.example.com', bucket: 'telemetry', secretRef: { name: 's3' } } };
const render = (s: ReturnType<typeof aStack>) => {
  const r = renderStack(s);
  expect(r.problems).toEqual([]);
  return r.objects;
};
const find = (objects: KubeObject[], kind: string, name: string): Any =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);
const names = (objects: KubeObject[], kind: string, part: string) =>
  objects
    .filter((o) => o.kind === kind && o.metadata.name.includes(part))
    .map((o) => o.metadata.name)
    .sort();
const configOf = (objects: KubeObject[], name: string, key: string): Any =>
  yaml.load((find(objects, 'ConfigMap', name).data as Record<string, string>)[key]);

describe('scalable Loki: sizes medium and large with S3', () => {
  const objects = render(loadStack(FIXTURES['s3-large']));

  it('renders write and backend as StatefulSets and read as a Deployment, each with -target and its own Service', () => {
    expect(names(objects, 'StatefulSet', 'loki')).toEqual(['prod-loki-backend', 'prod-loki-write']);
    expect(names(objects, 'Deployment', 'loki')).toEqual(['prod-loki-read']);
    expect(names(objects, 'Service', 'loki')).toEqual([
      'prod-loki-backend',
      'prod-loki-memberlist',
      'prod-loki-read',
      'prod-loki-write',
    ]);
    for (const t of ['write', 'read', 'backend']) {
      const w = find(objects, t === 'read' ? 'Deployment' : 'StatefulSet', `prod-loki-${t}`);
      expect(w.spec.replicas).toBe(3);
      expect(w.spec.template.spec.containers[0].args).toContain(`-target=${t}`);
      expect(w.spec.selector.matchLabels['vigil.dev/target']).toBe(t);
      // The Service of a target selects that target's pods only.
      expect(find(objects, 'Service', `prod-loki-${t}`).spec.selector['vigil.dev/target']).toBe(t);
      // The disruption pass: a budget, a spread over nodes and a rollout one pod at a time.
      expect(find(objects, 'PodDisruptionBudget', `prod-loki-${t}-pdb`).spec.maxUnavailable).toBe(1);
      expect(w.spec.template.spec.topologySpreadConstraints).toHaveLength(1);
    }
    expect(find(objects, 'StatefulSet', 'prod-loki')).toBeUndefined();
  });

  it('joins one memberlist ring over a headless Service of every Loki pod, replicating each stream three times', () => {
    const svc = find(objects, 'Service', 'prod-loki-memberlist');
    expect(svc.spec.clusterIP).toBe('None');
    expect(svc.spec.ports).toEqual([{ name: 'gossip', port: 7946, targetPort: 'gossip', protocol: 'TCP' }]);
    expect(svc.spec.selector['vigil.dev/target']).toBeUndefined();
    const config = configOf(objects, 'prod-loki', 'loki.yaml');
    expect(config.memberlist.join_members).toEqual(['prod-loki-memberlist.observability.svc:7946']);
    expect(config.common.ring.kvstore.store).toBe('memberlist');
    expect(config.common.replication_factor).toBe(3);
    expect(config.common.instance_addr).toBeUndefined();
    expect(config.common.compactor_address).toBe('http://prod-loki-backend.observability.svc:3100');
    expect(config.compactor.retention_enabled).toBe(true);
  });

  it('the collector pushes to write; Grafana, the correlator and status.endpoints query read', () => {
    const collector = configOf(objects, 'prod-collector', 'collector.yaml');
    expect(collector.exporters['otlp_http/loki'].endpoint).toBe('http://prod-loki-write.observability.svc:3100/otlp');
    const ds = configOf(objects, 'prod-grafana-datasources', 'datasources.yaml');
    expect(ds.datasources.find((d: Any) => d.type === 'loki').url).toBe('http://prod-loki-read.observability.svc:3100');
    const env = find(objects, 'Deployment', 'prod-correlator').spec.template.spec.containers[0].env;
    expect(env.find((e: Any) => e.name === 'LOKI_URL').value).toBe('http://prod-loki-read.observability.svc:3100');
    expect(stackEndpoints(loadStack(FIXTURES['s3-large'])).loki).toBe('http://prod-loki-read.observability.svc:3100');
  });

  it("the Loki NetworkPolicy admits the ring's gossip and gRPC between Loki pods", () => {
    const ingress = find(objects, 'NetworkPolicy', 'prod-loki').spec.ingress as Any[];
    const self = ingress.find((r) => r.from[0].podSelector?.matchLabels?.['app.kubernetes.io/component'] === 'loki');
    expect(self.ports.map((p: Any) => p.port)).toEqual([3100, 7946, 9095]);
  });

  it('sizes each target from spec.logs.targets', () => {
    const medium = render(loadStack(FIXTURES['s3-medium']));
    const write = find(medium, 'StatefulSet', 'shop-loki-write');
    expect(write.spec.replicas).toBe(4);
    expect(write.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('80Gi');
    const read = find(medium, 'Deployment', 'shop-loki-read');
    expect(read.spec.replicas).toBe(3);
    expect(read.spec.template.spec.containers[0].resources.limits.memory).toBe('3Gi');
    expect(find(medium, 'StatefulSet', 'shop-loki-backend').spec.replicas).toBe(2);
  });

  it('status counts each target on its own: loki-write 3/3 beside loki-read 2/3', () => {
    const live = new Map<string, LiveObject>();
    for (const o of objects) {
      if (o.kind !== 'StatefulSet' && o.kind !== 'Deployment') continue;
      const n = (o.spec as Any).replicas as number;
      const up = o.metadata.name === 'prod-loki-read' ? n - 1 : n;
      live.set(`${o.kind}/${o.metadata.name}`, {
        ...(o as unknown as LiveObject),
        metadata: { ...o.metadata, generation: 1 },
        status: { observedGeneration: 1, readyReplicas: up, availableReplicas: up, updatedReplicas: n },
      });
    }
    const loki = componentStatus(objects, live).loki;
    expect(loki.targets).toEqual({
      'loki-write': { ready: true, replicas: '3/3', quorum: 2 },
      'loki-read': { ready: false, replicas: '2/3', quorum: 2 },
      'loki-backend': { ready: true, replicas: '3/3', quorum: 2 },
    });
    expect(loki.ready).toBe(true);
    expect(loki.message).toBe('serving with quorum: loki-read 2/3 (quorum 2)');
  });
});

describe('scalable Tempo: the scalable single binary in a memberlist ring', () => {
  const objects = render(loadStack(FIXTURES['s3-large']));

  it('runs three replicas with -target=scalable-single-binary, replication factor 3, queriers on every frontend', () => {
    const sts = find(objects, 'StatefulSet', 'prod-tempo');
    expect(sts.spec.replicas).toBe(3);
    expect(sts.spec.template.spec.containers[0].args).toContain('-target=scalable-single-binary');
    expect(find(objects, 'PodDisruptionBudget', 'prod-tempo-pdb')).toBeDefined();
    const config = configOf(objects, 'prod-tempo', 'tempo.yaml');
    expect(config.ingester.lifecycler.ring.replication_factor).toBe(3);
    expect(config.memberlist.join_members).toEqual(['prod-tempo-headless.observability.svc:7946']);
    expect(config.querier.frontend_worker.frontend_address).toBe('prod-tempo-headless.observability.svc:9095');
    expect(find(objects, 'Service', 'prod-tempo-headless').spec.clusterIP).toBe('None');
    // The metrics generator still remote-writes to Prometheus.
    expect(config.metrics_generator.storage.remote_write[0].url).toBe(
      'http://prod-prometheus.observability.svc:9090/api/v1/write',
    );
    const ingress = find(objects, 'NetworkPolicy', 'prod-tempo').spec.ingress as Any[];
    const self = ingress.find((r) => r.from[0].podSelector?.matchLabels?.['app.kubernetes.io/component'] === 'tempo');
    expect(self.ports.map((p: Any) => p.port)).toEqual([7946, 9095]);
  });
});

describe('without object storage, medium and large keep the single binaries', () => {
  it.each(['medium', 'large'] as const)('%s', (size) => {
    const objects = render(aStack({ size, logs: {}, traces: {} }));
    expect(names(objects, 'StatefulSet', 'loki')).toEqual(['t-loki']);
    expect(find(objects, 'StatefulSet', 't-loki').spec.replicas).toBe(1);
    expect(find(objects, 'StatefulSet', 't-loki').spec.template.spec.containers[0].args).toContain('-target=all');
    expect(find(objects, 'StatefulSet', 't-tempo').spec.replicas).toBe(1);
    expect(configOf(objects, 't-loki', 'loki.yaml').memberlist).toBeUndefined();
    expect(find(objects, 'Service', 't-loki-memberlist')).toBeUndefined();
  });

  it('and so do demo and small with S3', () => {
    const objects = render(aStack({ size: 'small', logs: {}, traces: {}, objectStorage: s3 }));
    expect(names(objects, 'StatefulSet', 'loki')).toEqual(['t-loki']);
    expect(find(objects, 'StatefulSet', 't-tempo').spec.template.spec.containers[0].args).toContain('-target=all');
  });
});

describe('replicas that cannot work are refused, naming the field', () => {
  const problems = (spec: Parameters<typeof aStack>[0]) => renderStack(aStack(spec)).problems;

  it('a write target below the replication factor', () => {
    expect(problems({ size: 'large', logs: { targets: { write: { replicas: 2 } } }, objectStorage: s3 })).toEqual([
      {
        path: 'spec.logs.targets.write.replicas',
        message: 'must be 0 or at least 3 (the replication factor: each stream is written to 3 ingesters), got 2',
      },
    ]);
    expect(problems({ size: 'large', logs: { targets: { write: { replicas: 0 } } }, objectStorage: s3 })).toEqual([]);
  });

  it('spec.logs.replicas above 1 of scalable Loki points at the targets; of a single binary, at S3', () => {
    expect(problems({ size: 'medium', logs: { replicas: 3 }, objectStorage: s3 })[0]?.path).toBe('spec.logs.replicas');
    expect(problems({ size: 'medium', logs: { replicas: 3 }, objectStorage: s3 })[0]?.message).toContain(
      'spec.logs.targets.write|read|backend.replicas',
    );
    expect(problems({ size: 'medium', logs: { replicas: 3 } })[0]?.message).toContain('spec.objectStorage.s3');
  });

  it('Tempo below the replication factor, and Tempo replicated without S3', () => {
    expect(problems({ size: 'large', traces: { replicas: 2 }, objectStorage: s3 })[0]).toEqual({
      path: 'spec.traces.replicas',
      message: 'must be 0 or at least 3 (the replication factor: each trace is written to 3 ingesters), got 2',
    });
    expect(problems({ size: 'large', traces: { replicas: 5 }, objectStorage: s3 })).toEqual([]);
    expect(problems({ size: 'large', traces: { replicas: 3 } })[0]?.path).toBe('spec.traces.replicas');
  });

  it('Grafana replicas without spec.grafana.database', () => {
    expect(problems({ grafana: { replicas: 2 } })).toEqual([
      {
        path: 'spec.grafana.replicas',
        message: 'must be 0 or 1 without spec.grafana.database (Grafana keeps its state in the pod), got 2',
      },
    ]);
  });
});

describe('Grafana with an external database', () => {
  it('runs its replicas on GF_DATABASE_*, the password from the Secret, with a disruption budget', () => {
    const objects = render(loadStack(FIXTURES['s3-medium']));
    const d = find(objects, 'Deployment', 'shop-grafana');
    expect(d.spec.replicas).toBe(2);
    const env = Object.fromEntries(
      (d.spec.template.spec.containers[0].env as Any[]).map((e) => [e.name, e.value ?? e.valueFrom]),
    );
    expect(env).toMatchObject({
      GF_DATABASE_TYPE: 'postgres',
      GF_DATABASE_HOST: 'grafana-db.databases.svc:5432',
      GF_DATABASE_NAME: 'grafana',
      GF_DATABASE_USER: 'grafana',
      GF_DATABASE_PASSWORD: { secretKeyRef: { name: 'grafana-db', key: 'password' } },
    });
    expect(find(objects, 'PodDisruptionBudget', 'shop-grafana-pdb')).toBeDefined();
  });

  it('without one, Grafana has no database settings', () => {
    const d = find(render(aStack({})), 'Deployment', 't-grafana');
    expect((d.spec.template.spec.containers[0].env as Any[]).some((e) => e.name.startsWith('GF_DATABASE_'))).toBe(
      false,
    );
  });
});
