// A `large` stack with object storage (test/unit/charts/fixtures/s3-large.yaml: everything on, S3 for
// logs and traces, three correlators) on the real control plane: it becomes Ready with every replica
// of every workload up, each replicated workload has a PodDisruptionBudget that selects its pods, the
// status counts each target, and an edit of one replicated member's count is put back.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { s3LargeSecretManifests } from '../support/fixture-secrets.js';
import { freshNamespace, kubectl, kubectlOk } from '../support/kubectl.js';
import { eventually, type RunningOperator, startOperator } from '../support/operator.js';
import { REPO_ROOT } from '../support/paths.js';
import { forbiddenRequests, type ManifestsRoleUser, manifestsRoleUser } from '../support/rbac.js';
import { childrenNotAsRendered } from '../support/stacks.js';

interface Workload {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: { replicas?: number; selector: { matchLabels: Record<string, string> } };
  status?: {
    readyReplicas?: number;
    availableReplicas?: number;
    numberReady?: number;
    desiredNumberScheduled?: number;
  };
}

let ns: string;
let operator: RunningOperator;
let role: ManifestsRoleUser;
const STACK = 'prod';

const workloads = (): Workload[] =>
  JSON.parse(kubectlOk(['get', 'deployments,statefulsets', '-n', ns, '-l', `vigil.dev/stack=${STACK}`, '-o', 'json']))
    .items;

const ready = (w: Workload) => (w.kind === 'StatefulSet' ? w.status?.readyReplicas : w.status?.availableReplicas) ?? 0;

beforeAll(async () => {
  ns = freshNamespace('large');
  kubectlOk(
    ['apply', '-n', ns, '-f', '-'],
    s3LargeSecretManifests()
      .map((d) => yaml.dump(d))
      .join('---\n'),
  );
  // As the manifests' ServiceAccount: every kind a large stack renders must be in its ClusterRole.
  role = manifestsRoleUser(ns);
  operator = await startOperator(['--namespaces', ns], {}, { kubeconfig: role.kubeconfig });
}, 60_000);

afterAll(async () => {
  await operator?.stop();
  role?.remove();
  operator?.printWarnings();
});

describe('a large stack with object storage', () => {
  it('becomes Ready with every replica of every workload running', async () => {
    const doc = yaml.load(readFileSync(join(REPO_ROOT, 'test/unit/charts/fixtures/s3-large.yaml'), 'utf8')) as {
      metadata: { namespace?: string };
      spec: { metrics?: { storage?: { storageClassName?: string } } };
    };
    doc.metadata.namespace = ns;
    // The local control plane's pre-created volumes are of its default class (hack/cluster.sh), not `fast`.
    delete doc.spec.metrics?.storage?.storageClassName;
    kubectlOk(['apply', '-f', '-'], yaml.dump(doc));
    const r = kubectl(['wait', '-n', ns, '--for=condition=Ready', '--timeout=150s', `ostack/${STACK}`]);
    const conditions = () => kubectl(['get', 'ostack', STACK, '-n', ns, '-o', 'jsonpath={.status.conditions}']).stdout;
    expect({ code: r.code, stderr: r.stderr, conditions: r.code ? conditions() : '' }).toEqual({
      code: 0,
      stderr: '',
      conditions: '',
    });
    // Every field the render sets arrived as rendered.
    expect(childrenNotAsRendered(doc, ns)).toEqual([]);
    // Ready means quorum; wait for full strength too, then check it workload by workload.
    const all = await eventually(
      'every replica of every workload',
      () => {
        const ws = workloads();
        return ws.length > 0 && ws.every((w) => ready(w) === (w.spec.replicas ?? 1)) ? ws : undefined;
      },
      120_000,
      1000,
    );
    const replicated = all.filter((w) => (w.spec.replicas ?? 1) > 1).map((w) => w.metadata.name);
    // The large size with object storage replicates every ring and pair: Loki's three targets, Tempo,
    // the Prometheus pair and its querier, the Alertmanager mesh and the correlator shards.
    expect(replicated).toEqual(
      expect.arrayContaining(
        [
          'loki-write',
          'loki-read',
          'loki-backend',
          'tempo',
          'prometheus',
          'thanos-query',
          'alertmanager',
          'correlator',
        ].map((t) => `${STACK}-${t}`),
      ),
    );
    const status = JSON.parse(kubectlOk(['get', 'ostack', STACK, '-n', ns, '-o', 'jsonpath={.status}']));
    const targets = Object.values(status.components as Record<string, { targets?: Record<string, unknown> }>)
      .flatMap((c) => Object.entries(c.targets ?? {}))
      .map(([name, t]) => ({ name, ...(t as { ready: boolean; replicas: string }) }));
    expect(targets.length).toBeGreaterThanOrEqual(all.length);
    for (const t of targets) expect(t).toMatchObject({ ready: true });
    for (const w of all.filter((x) => (x.spec.replicas ?? 1) > 1)) {
      const want = w.spec.replicas as number;
      expect(targets.find((t) => `${STACK}-${t.name}` === w.metadata.name)?.replicas).toBe(`${want}/${want}`);
    }
  }, 400_000);

  it('gives every replicated workload a PodDisruptionBudget that selects its pods', () => {
    const pdbs = JSON.parse(
      kubectlOk(['get', 'poddisruptionbudgets', '-n', ns, '-l', `vigil.dev/stack=${STACK}`, '-o', 'json']),
    ).items as { metadata: { name: string }; spec: { selector: { matchLabels: Record<string, string> } } }[];
    const replicated = workloads().filter((w) => (w.spec.replicas ?? 1) > 1);
    expect(replicated.length).toBeGreaterThan(0);
    for (const w of replicated) {
      const selects = pdbs.filter((p) =>
        Object.entries(p.spec.selector.matchLabels).every(([k, v]) => w.spec.selector.matchLabels[k] === v),
      );
      expect({ workload: w.metadata.name, pdbs: selects.length }).toEqual({ workload: w.metadata.name, pdbs: 1 });
    }
  });

  it('puts back the replica count of a replicated member edited by hand', async () => {
    const sets = workloads().filter((w) => w.kind === 'StatefulSet' && (w.spec.replicas ?? 1) > 1);
    expect(sets.length).toBeGreaterThan(0);
    for (const w of sets) {
      const want = String(w.spec.replicas);
      kubectlOk(['scale', 'statefulset', w.metadata.name, '-n', ns, `--replicas=${Number(want) - 1}`]);
      await eventually(
        `${w.metadata.name} back to ${want} replicas`,
        () => kubectlOk(['get', 'statefulset', w.metadata.name, '-n', ns, '-o', 'jsonpath={.spec.replicas}']) === want,
        15_000,
      );
    }
  }, 120_000);

  it('was never refused a request by the manifests ClusterRole', () => {
    expect(forbiddenRequests(role.username)).toEqual([]);
    expect(operator.logs.filter((l) => /forbidden/i.test(JSON.stringify(l)))).toEqual([]);
  });
});
