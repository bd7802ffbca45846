import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import type { MetricsSpec } from '../../../api/types.js';
import { toYaml } from '../../../cli/render.js';
import {
  LABEL_COMPONENT,
  LABEL_GRAFANA_DASHBOARD,
  LABEL_INSTANCE,
  LABEL_MANAGED_BY,
  LABEL_NAME,
  LABEL_PART_OF,
  LABEL_STACK,
} from '../../../conventions/index.js';
import { DASHBOARDS, dashboardConfigMapName, dashboardFileKey } from '../../../desired/shipped/index.js';
import { CLUSTER_SCOPED_KINDS } from '../../../desired/stack/cluster-rbac.js';
import { type KubeObject, renderStack, stackEndpoints, workloadsByComponent } from '../../../desired/stack/index.js';
import { COMPONENTS } from '../../../desired/stack/labels.js';
import { aStack, FIXTURES, GOLDEN_DIR, loadStack, REPO } from './stacks.js';

const render = (s: ReturnType<typeof aStack>) => {
  const r = renderStack(s);
  expect(r.problems).toEqual([]);
  return r.objects;
};
const key = (o: KubeObject) => `${o.kind}/${o.metadata.name}`;

/**
 * The stack's objects with each shipped dashboard's ConfigMap data replaced by a reference to its
 * file in dashboards/, after checking that the data is that file: one golden per dashboard (the
 * file `make gen --check` keeps current) instead of a copy in every stack golden.
 */
function withDashboardReferences(stack: string, objects: KubeObject[]): KubeObject[] {
  return objects.map((o) => {
    const d = DASHBOARDS.find((n) => o.kind === 'ConfigMap' && o.metadata.name === dashboardConfigMapName(stack, n));
    if (!d) return o;
    const fileKey = dashboardFileKey(d);
    const data = (o as { data?: Record<string, string> }).data ?? {};
    expect(Object.keys(data)).toEqual([fileKey]);
    expect(data[fileKey]).toBe(readFileSync(join(REPO, 'dashboards', `${d}.json`), 'utf8'));
    return { ...o, data: { [fileKey]: `<dashboards/${d}.json>` } } as KubeObject;
  });
}

describe('golden files', () => {
  for (const [name, file] of Object.entries(FIXTURES)) {
    it(`renders the ${name} stack exactly as golden/${name}.yaml (UPDATE_GOLDEN=1 rewrites it)`, () => {
      const stack = loadStack(file);
      const objects = render(stack);
      const text = withDashboardReferences(stack.metadata.name as string, objects)
        .map(toYaml)
        .join('---\n');
      // Every dashboard ConfigMap the stack ships became a reference.
      const shipped = objects.filter((o) => o.metadata.labels?.[LABEL_GRAFANA_DASHBOARD] === '1');
      expect(text.match(/<dashboards\/[a-z-]+\.json>/g) ?? []).toHaveLength(shipped.length);
      const golden = join(GOLDEN_DIR, `${name}.yaml`);
      if (process.env.UPDATE_GOLDEN === '1') {
        mkdirSync(GOLDEN_DIR, { recursive: true });
        writeFileSync(golden, text);
      }
      expect(existsSync(golden)).toBe(true);
      expect(text).toBe(readFileSync(golden, 'utf8'));
    });
  }
});

describe('renderStack', () => {
  it('is deterministic: the same stack renders to the same objects twice', () => {
    const s = loadStack(FIXTURES.full);
    expect(renderStack(s)).toEqual(renderStack(structuredClone(s)));
  });

  it('labels every object, puts it in the stack namespace and sets no ownerReferences', () => {
    for (const file of Object.values(FIXTURES)) {
      const s = loadStack(file);
      for (const o of render(s)) {
        // ClusterRoles and their bindings have no namespace; their names carry the stack's.
        const clusterScoped = CLUSTER_SCOPED_KINDS.has(o.kind);
        expect(o.metadata.namespace).toBe(clusterScoped ? undefined : s.metadata.namespace);
        const prefix = clusterScoped ? `vigil:${s.metadata.namespace}:${s.metadata.name}-` : `${s.metadata.name}-`;
        expect(o.metadata.name.startsWith(prefix)).toBe(true);
        expect(o.metadata).not.toHaveProperty('ownerReferences');
        const l = o.metadata.labels;
        for (const k of [LABEL_NAME, LABEL_INSTANCE, LABEL_COMPONENT, LABEL_PART_OF, LABEL_MANAGED_BY]) {
          expect(l[k]).toBeTruthy();
        }
        expect(l[LABEL_STACK]).toBe(s.metadata.name);
      }
    }
  });

  it("never copies the CR's app.kubernetes.io/instance or argocd.argoproj.io labels to children", () => {
    const s = loadStack(FIXTURES['s3-large']);
    expect(s.metadata.labels?.[LABEL_INSTANCE]).toBe('argo-app');
    const text = JSON.stringify(render(s));
    expect(text).not.toContain('argo-app');
    expect(text).not.toContain('argocd.argoproj.io');
  });

  it('turning traces off removes Tempo and its wiring and changes nothing else', () => {
    const on = render(loadStack(FIXTURES.full));
    const full = loadStack(FIXTURES.full);
    const off = render({ ...full, spec: { ...full.spec, traces: { ...full.spec.traces!, enabled: false } } });
    const offByKey = new Map(off.map((o) => [key(o), o]));
    const changed: string[] = [];
    for (const o of on) {
      const other = offByKey.get(key(o));
      if (!other) expect(o.metadata.labels[LABEL_COMPONENT]).toBe('tempo');
      else if (JSON.stringify(other) !== JSON.stringify(o)) changed.push(key(o));
    }
    expect(off.every((o) => on.some((x) => key(x) === key(o)))).toBe(true);
    expect(on.filter((o) => o.metadata.labels[LABEL_COMPONENT] === 'tempo').length).toBeGreaterThan(0);
    // Only what points at Tempo changes: the sampling tier's exporter (kept traces go from there;
    // the gateway only balances them to it), Grafana's datasource, Prometheus's scrape job for Tempo,
    // and the config hashes of those pods, and Prometheus's NetworkPolicy (Tempo's remote write into
    // it goes). The shipped alerts are the same in every stack (alerts/), so the rules ConfigMap does
    // not change.
    expect(changed.sort()).toEqual([
      'ConfigMap/full-grafana-datasources',
      'ConfigMap/full-prometheus',
      'ConfigMap/full-sampler',
      'Deployment/full-grafana',
      'Deployment/full-sampler',
      'NetworkPolicy/full-prometheus',
      'StatefulSet/full-prometheus',
    ]);
    const promOn = on.find((o) => key(o) === 'ConfigMap/full-prometheus')!;
    const promOff = off.find((o) => key(o) === 'ConfigMap/full-prometheus')!;
    // biome-ignore lint/suspicious/noExplicitAny: walking plain JSON
    const jobs = (o: KubeObject) => (yaml.load((o as any).data['prometheus.yml']) as any).scrape_configs;
    expect(jobs(promOn).filter((j: { job_name: string }) => j.job_name !== 'tempo')).toEqual(jobs(promOff));
    const offText = JSON.stringify(off);
    expect(offText).not.toContain('full-tempo');
    expect(offText).not.toContain('otlp_grpc/tempo');
    expect(offText).not.toContain('uid: tempo');
  });

  it('renders nothing for a disabled component', () => {
    const objects = render(aStack({ grafana: { enabled: false }, correlation: { enabled: false } }));
    const components = new Set(objects.map((o) => o.metadata.labels[LABEL_COMPONENT]));
    expect([...components].sort()).toEqual(['alertmanager', 'collector', 'prometheus']);
  });

  it('sets every pod default on purpose: pull policy, resources, security context, token mounting', () => {
    for (const o of render(loadStack(FIXTURES['s3-large']))) {
      if (!['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind)) continue;
      // biome-ignore lint/suspicious/noExplicitAny: walking plain JSON
      const pod = (o as any).spec.template.spec;
      expect(typeof pod.automountServiceAccountToken).toBe('boolean');
      // The node agent alone reads root's log files as uid 0 (docs/collection.md); it still drops
      // every capability and keeps a read-only root file system.
      expect(pod.securityContext.runAsNonRoot).toBe(o.metadata.labels[LABEL_COMPONENT] !== 'agent');
      for (const c of pod.containers) {
        expect(c.imagePullPolicy).toBe('IfNotPresent');
        expect(c.resources.requests.memory).toBeTruthy();
        expect(c.resources.limits.memory).toBeTruthy();
        expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
      }
    }
  });

  it('sizes components by profile and lets a component override replicas and resources', () => {
    const replicas = (objects: KubeObject[], name: string) =>
      // biome-ignore lint/suspicious/noExplicitAny: walking plain JSON
      (objects.find((o) => o.metadata.name === name && o.kind === 'Deployment') as any).spec.replicas;
    expect(replicas(render(aStack({}, 'a')), 'a-collector')).toBe(1);
    expect(
      replicas(render({ ...aStack({}, 'a'), spec: { ...aStack({}, 'a').spec, size: 'large' } }), 'a-collector'),
    ).toBe(3);
    const custom = render(aStack({ collector: { replicas: 5, resources: { limits: { memory: '3Gi' } } } }, 'a'));
    expect(replicas(custom, 'a-collector')).toBe(5);
    // biome-ignore lint/suspicious/noExplicitAny: walking plain JSON
    const config = yaml.load((custom.find((o) => key(o) === 'ConfigMap/a-collector') as any).data['collector.yaml']);
    expect(JSON.stringify(config)).toContain('"limit_mib":2457');
  });
});

describe('workloadsByComponent', () => {
  it('lists the Deployments, StatefulSets and DaemonSets of every enabled component', () => {
    // With the cluster's own metrics on too (not in the fixture: promtool check config wants the
    // ServiceAccount token file their scrape jobs name, which exists only in a pod).
    const s = loadStack(FIXTURES['s3-large']);
    const metrics = { ...(s.spec.metrics as MetricsSpec), cluster: { enabled: true, kubelet: true, apiServer: true } };
    const w = workloadsByComponent(render({ ...s, spec: { ...s.spec, metrics } }));
    expect(Object.keys(w).sort()).toEqual([...COMPONENTS].sort());
    expect(w['node-exporter']).toEqual([{ kind: 'DaemonSet', name: 'prod-node-exporter', target: 'node-exporter' }]);
    expect(w['cluster-state']).toEqual([
      { kind: 'Deployment', name: 'prod-cluster-state', target: 'cluster-state', quorum: 1 },
    ]);
    // daemonset mode: the gateway stays a Deployment, the agent is the DaemonSet.
    expect(w.agent).toEqual([{ kind: 'DaemonSet', name: 'prod-agent', target: 'agent' }]);
    expect(w.prometheus).toEqual([{ kind: 'StatefulSet', name: 'prod-prometheus', target: 'prometheus', quorum: 1 }]);
    // Replicated: the quorum is what the PodDisruptionBudget keeps (replicas minus maxUnavailable).
    const objects = render({ ...s, spec: { ...s.spec, metrics } });
    for (const c of ['collector', 'sampler', 'alertmanager', 'correlator'] as const) {
      const [ref] = w[c] ?? [];
      const workload = objects.find((o) => o.kind === ref.kind && o.metadata.name === ref.name);
      const pdb = objects.find((o) => o.kind === 'PodDisruptionBudget' && o.metadata.name === `${ref.name}-pdb`);
      const replicas = (workload?.spec as { replicas?: number } | undefined)?.replicas ?? 0;
      const maxUnavailable = (pdb?.spec as { maxUnavailable?: number } | undefined)?.maxUnavailable ?? 0;
      expect(replicas).toBeGreaterThan(1);
      expect(maxUnavailable).toBe(1);
      expect(ref).toEqual({ kind: ref.kind, name: `prod-${c}`, target: c, quorum: replicas - maxUnavailable });
    }
  });
});

describe('stackEndpoints', () => {
  it('gives cluster DNS URLs of the enabled components only', () => {
    expect(stackEndpoints(loadStack(FIXTURES.core))).toEqual({
      grafana: 'http://core-grafana.observability.svc:3000',
      prometheus: 'http://core-prometheus.observability.svc:9090',
      alertmanager: 'http://core-alertmanager.observability.svc:9093',
      otlpGrpc: 'http://core-collector.observability.svc:4317',
      otlpHttp: 'http://core-collector.observability.svc:4318',
      correlator: 'http://core-correlator.observability.svc:8080',
    });
    const full = stackEndpoints(loadStack(FIXTURES.full));
    expect(full.loki).toBe('http://full-loki.observability.svc:3100');
    expect(full.tempo).toBe('http://full-tempo.observability.svc:3200');
  });
});
