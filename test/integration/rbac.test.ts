// manifests/ installs with `kubectl apply -k`, and the operator runs with only the RBAC it grants.
// kwok's pods run nothing, so the real operator process runs here, outside the cluster, with a
// token of the manifests' ServiceAccount; the API server authorizes with RBAC, so a missing rule
// fails for real.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import type { ObservabilityStack } from '../../api/types.js';
import { validateResource } from '../../api/validate.js';
import { expandPaths, loadDocs } from '../../cli/files.js';
import { MANAGED_KINDS } from '../../controller/kinds.js';
import { renderStack } from '../../desired/stack/index.js';
import { freshNamespace, kubectl, kubectlOk } from '../support/kubectl.js';
import { eventually, operatorWrites, type RunningOperator, startOperator } from '../support/operator.js';
import { EXAMPLES_DIR, REPO_ROOT } from '../support/paths.js';
import { forbiddenRequests, serviceAccountKubeconfig } from '../support/rbac.js';
import { desiredChildren, exampleDoc, liveChildren } from '../support/stacks.js';

const MANIFESTS = join(REPO_ROOT, 'manifests');
const SA_USER = 'system:serviceaccount:vigil-system:vigil-operator';

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
}
interface Doc {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: Rule[];
  spec?: Record<string, unknown>;
}

const built = yaml.loadAll(kubectlOk(['kustomize', MANIFESTS])) as Doc[];
const clusterRole = built.find((d) => d.kind === 'ClusterRole' && d.metadata.name === 'vigil-operator') as Doc;

/** What a ClusterRole without resourceNames allows, as group/resource:verb. */
function grants(rules: Rule[]): Set<string> {
  const out = new Set<string>();
  for (const r of rules.filter((x) => !x.resourceNames)) {
    for (const g of r.apiGroups ?? [''])
      for (const res of r.resources ?? []) for (const v of r.verbs) out.add(`${g}/${res}:${v}`);
  }
  return out;
}

let ns: string;
let operator: RunningOperator | undefined;
let installStart = 0;
const children = (stack: string) => liveChildren(ns, stack);
const desired = (file: string) => desiredChildren(exampleDoc(file), ns);

beforeAll(async () => {
  installStart = Date.now();
  kubectlOk(['apply', '--server-side', '-k', MANIFESTS]);
  kubectlOk(['wait', '-n', 'vigil-system', '--for=condition=Available', '--timeout=55s', 'deployment/vigil-operator']);
  ns = freshNamespace('rbac');
  operator = await startOperator(
    ['--leader-elect', 'true', '--leader-election-namespace', 'vigil-system', '--identity', 'rbac-test'],
    {},
    { kubeconfig: serviceAccountKubeconfig('vigil-system', 'vigil-operator') },
  );
});

afterAll(async () => {
  await operator?.stop();
  kubectl(['delete', 'namespace', ns, '--wait=false']);
  // The CRDs stay: the other integration tests use them. The rest of manifests/ goes.
  // Waits, so that a later test file installing manifests/ does not meet a terminating namespace.
  kubectl(['delete', 'namespace', 'vigil-system', '--wait=true', '--timeout=55s']);
  kubectl(['delete', 'clusterrole,clusterrolebinding', 'vigil-operator', '--ignore-not-found']);
});

describe('kubectl apply --server-side -k manifests/', () => {
  it('installs Vigil: two operator replicas Available, restricted pod security enforced and met', () => {
    const d = JSON.parse(kubectlOk(['get', 'deployment', 'vigil-operator', '-n', 'vigil-system', '-o', 'json']));
    expect(d.status.availableReplicas).toBe(2);
    const c = d.spec.template.spec.containers[0];
    expect(c.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(d.spec.template.spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(c.args).toEqual(expect.arrayContaining(['operator', '--leader-elect', 'true']));
    const nsLabels = JSON.parse(kubectlOk(['get', 'namespace', 'vigil-system', '-o', 'jsonpath={.metadata.labels}']));
    expect(nsLabels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    const endpoints = kubectlOk([
      'get',
      'endpointslices',
      '-n',
      'vigil-system',
      '-l',
      'kubernetes.io/service-name=vigil-operator-metrics',
      '-o',
      'json',
    ]);
    expect(JSON.parse(endpoints).items.flatMap((s: { endpoints?: unknown[] }) => s.endpoints ?? [])).toHaveLength(2);
  });
});

describe('the ClusterRole', () => {
  it('allows every verb the operator uses on each kind it manages, watch only where it watches', () => {
    const g = grants(clusterRole.rules ?? []);
    for (const k of MANAGED_KINDS) {
      const group = k.apiVersion.includes('/') ? k.apiVersion.split('/')[0] : '';
      // Server-side apply (create when absent), prune; found by a list, or by name (Secrets).
      for (const verb of ['create', 'patch', 'delete', k.byName ? 'get' : 'list'])
        expect(g).toContain(`${group}/${k.plural}:${verb}`);
      if (k.watch) expect(g).toContain(`${group}/${k.plural}:watch`);
    }
    // Secrets are read one by one, never listed or watched: either would read every Secret.
    expect(g).not.toContain('/secrets:watch');
    expect(g).not.toContain('/secrets:list');
    expect([...g].filter((x) => x.includes('*'))).toEqual([]);
    expect(g).not.toContain('rbac.authorization.k8s.io/roles:escalate');
    expect(g).not.toContain('rbac.authorization.k8s.io/roles:bind');
  });

  it('holds every permission the Roles and ClusterRoles that stacks render grant (RBAC forbids granting more than one holds)', () => {
    const g = grants(clusterRole.rules ?? []);
    const stacks = expandPaths([EXAMPLES_DIR])
      .flatMap((f) => loadDocs(f))
      .map((d) => validateResource(d.doc))
      .flatMap((v) => (v.ok && v.object.kind === 'ObservabilityStack' ? [v.object as ObservabilityStack] : []));
    expect(stacks.length).toBeGreaterThan(0);
    const needed = new Set<string>();
    for (const stack of stacks) {
      stack.metadata.namespace = 'x';
      const roles = renderStack(stack).objects.filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole');
      for (const role of roles as Doc[]) {
        for (const x of grants(role.rules ?? [])) needed.add(x);
      }
    }
    expect(needed.size).toBeGreaterThan(0);
    expect([...needed].filter((x) => !g.has(x))).toEqual([]);
  });
});

describe('the operator as the manifests ServiceAccount', () => {
  it('takes the leader Lease in vigil-system', async () => {
    await eventually(
      'the Lease held by rbac-test',
      () =>
        kubectl(['get', 'lease', 'vigil-operator', '-n', 'vigil-system', '-o', 'jsonpath={.spec.holderIdentity}'])
          .stdout === 'rbac-test',
    );
  });

  it('gives a stack every child and turns it Ready', () => {
    kubectlOk(['apply', '-n', ns, '-f', join(EXAMPLES_DIR, 'full.yaml')]);
    // Under the kubectl helper's own 60 s limit, which would end the wait without a word.
    const r = kubectl(['wait', '-n', ns, '--for=condition=Ready', '--timeout=55s', 'ostack/full']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(children('full')).toEqual(desired('full.yaml'));
  });

  it('prunes Tempo when traces are turned off', async () => {
    kubectlOk(['patch', 'ostack', 'full', '-n', ns, '--type=merge', '-p', '{"spec":{"traces":{"enabled":false}}}']);
    await eventually('Tempo pruned', () => !children('full').some((c) => c.includes('tempo')), 20_000);
    const gen = kubectlOk(['get', 'ostack', 'full', '-n', ns, '-o', 'jsonpath={.metadata.generation}']);
    await eventually('Ready for the new generation', () => {
      const o = JSON.parse(kubectlOk(['get', 'ostack', 'full', '-n', ns, '-o', 'json']));
      const ready = o.status?.conditions?.find((c: { type: string }) => c.type === 'Ready');
      return ready?.status === 'True' && String(ready.observedGeneration) === gen;
    });
  });

  it('restores a child deleted by hand', async () => {
    kubectlOk(['delete', 'deployment', 'full-grafana', '-n', ns, '--wait=false']);
    await eventually(
      'full-grafana recreated',
      () => kubectl(['get', 'deployment', 'full-grafana', '-n', ns]).code === 0,
      15_000,
    );
  });

  it('records Events for a spec it cannot render', async () => {
    kubectlOk([
      'patch',
      'ostack',
      'full',
      '-n',
      ns,
      '--type=merge',
      '-p',
      '{"spec":{"objectStorage":{"s3":{"endpoint":"minio.storage:9000","bucket":"vigil-logs"}}}}',
    ]);
    await eventually('an InvalidSpec Event', () => {
      const out = kubectlOk(['get', 'events', '-n', ns, '--field-selector', 'reason=InvalidSpec', '-o', 'json']);
      return JSON.parse(out).items.length > 0;
    });
    kubectlOk([
      'patch',
      'ostack',
      'full',
      '-n',
      ns,
      '--type=json',
      '-p',
      '[{"op":"remove","path":"/spec/objectStorage"}]',
    ]);
    expect(kubectl(['wait', '-n', ns, '--for=condition=Degraded=False', '--timeout=30s', 'ostack/full']).code).toBe(0);
  });

  it('leaves nothing behind when the stack is deleted', async () => {
    kubectlOk(['delete', 'ostack', 'full', '-n', ns, '--wait=true', '--timeout=55s']);
    await eventually('children garbage-collected', () => children('full').length === 0, 30_000);
  });

  it('creates the ClusterRoles a stack that observes its cluster renders, and deletes them with the stack', async () => {
    kubectlOk(['apply', '-n', ns, '-f', join(EXAMPLES_DIR, 'cluster.yaml')]);
    // Its conditions on a timeout say what it waited for.
    await eventually(
      'the cluster stack Ready',
      () => {
        const o = JSON.parse(kubectlOk(['get', 'ostack', 'cluster', '-n', ns, '-o', 'json']));
        const conditions = o.status?.conditions ?? [];
        if (conditions.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True'))
          return true;
        throw new Error(JSON.stringify(conditions));
      },
      100_000,
    );
    const selector = `vigil.dev/stack=cluster,vigil.dev/stack-namespace=${ns}`;
    const clusterScoped = () =>
      (
        JSON.parse(kubectlOk(['get', 'clusterroles,clusterrolebindings', '-l', selector, '-o', 'json'])).items as {
          kind: string;
          metadata: { name: string };
        }[]
      )
        .map((o) => `${o.kind}/${o.metadata.name}`)
        .sort();
    const want = desired('cluster.yaml').filter((c) => c.startsWith('ClusterRole'));
    expect(want.length).toBeGreaterThan(0);
    expect(clusterScoped()).toEqual(want);
    kubectlOk(['delete', 'ostack', 'cluster', '-n', ns, '--wait=true', '--timeout=55s']);
    await eventually('the cluster-scoped children deleted by the operator', () => clusterScoped().length === 0, 30_000);
  });

  it('was never refused: no Forbidden in its log, no 403 in the audit log', () => {
    const logged = JSON.stringify(operator?.logs ?? []);
    expect(logged).not.toMatch(/Forbidden|HTTP 403/);
    expect(forbiddenRequests(SA_USER)).toEqual([]);
    // It did write as the ServiceAccount (the audit log names it), so the check above means something.
    expect(operatorWrites(new Date(installStart), SA_USER).length).toBeGreaterThan(10);
  });
});
