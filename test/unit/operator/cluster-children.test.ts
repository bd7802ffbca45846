// The stack reconciler's cluster-scoped children (ClusterRoles and their bindings, which cannot be
// owned by a namespaced stack) and the node agent's admission: the collection overlap check between
// stacks and the namespace's Pod Security level. Against FakeKube, the calls the reconciler makes.
import { beforeEach, describe, expect, it } from '@jest/globals';
import type { Condition } from '../../../api/types.js';
import { StackReconciler } from '../../../controller/stack.js';
import {
  API_GROUP_VERSION,
  KIND_STACK,
  LABEL_COMPONENT,
  LABEL_MANAGED_BY,
  LABEL_STACK,
  LABEL_STACK_NAMESPACE,
  MANAGED_BY,
} from '../../../conventions/index.js';
import type { KubeObject } from '../../../kube/types.js';
import { aStack } from '../../support/builders.js';
import { capturingLogger, FakeKube } from './fake-kube.js';

const RBAC = 'rbac.authorization.k8s.io/v1';
const NOW = new Date('2026-01-02T03:04:05Z');
const CLUSTER = { metrics: { enabled: true, cluster: { enabled: true } } };
const agent = (collect?: Record<string, unknown>) => ({
  collector: { enabled: true, mode: 'daemonset', ...(collect ? { collect } : {}) },
});

const statusOf = (o: KubeObject | undefined) =>
  (o?.status ?? {}) as { conditions?: Condition[]; components?: Record<string, unknown> };
const conditionsOf = (o: KubeObject | undefined): Record<string, Condition> =>
  Object.fromEntries((statusOf(o).conditions ?? []).map((c) => [c.type, c]));
const names = (objects: KubeObject[]) => objects.map((o) => o.metadata.name).sort();

describe('the stack reconciler and its cluster-scoped children', () => {
  let fake: FakeKube;
  let logs: ReturnType<typeof capturingLogger>;
  const reconciler = () =>
    new StackReconciler({
      kube: fake,
      getStack: (ns, name) => fake.cached(API_GROUP_VERSION, KIND_STACK, ns, name),
      listStacks: () => fake.all(KIND_STACK),
      log: logs.log,
      now: () => NOW,
    });
  const putStack = (namespace: string, name: string, spec: Record<string, unknown>, created = '2026-01-01T00:00:00Z') =>
    fake.put({
      ...(aStack(spec, name) as KubeObject),
      metadata: { name, namespace, creationTimestamp: created } as KubeObject['metadata'],
    });
  const stack = (namespace: string, name: string) => fake.cached(API_GROUP_VERSION, KIND_STACK, namespace, name);
  const clusterRoles = () => fake.all('ClusterRole');

  beforeEach(() => {
    fake = new FakeKube();
    logs = capturingLogger();
  });

  it('applies ClusterRoles and bindings without namespace or ownerReference, labelled with the stack and its namespace', async () => {
    putStack('team', 'demo', { ...agent(), ...CLUSTER });
    await reconciler().reconcile('team', 'demo');
    const want = ['vigil:team:demo-agent', 'vigil:team:demo-cluster-state', 'vigil:team:demo-prometheus'];
    expect(names(clusterRoles())).toEqual(want);
    expect(names(fake.all('ClusterRoleBinding'))).toEqual(want);
    for (const o of [...clusterRoles(), ...fake.all('ClusterRoleBinding')]) {
      expect(o.metadata.namespace).toBeUndefined();
      expect(o.metadata.ownerReferences).toBeUndefined();
      expect(o.metadata.labels).toMatchObject({
        [LABEL_STACK]: 'demo',
        [LABEL_STACK_NAMESPACE]: 'team',
        [LABEL_MANAGED_BY]: MANAGED_BY,
      });
    }
    // The namespaced children still carry the stack as their controller.
    const ds = fake.cached('apps/v1', 'DaemonSet', 'team', 'demo-agent') as KubeObject;
    expect(ds.metadata.ownerReferences?.[0]).toMatchObject({ kind: KIND_STACK, name: 'demo', controller: true });
    expect(conditionsOf(stack('team', 'demo')).Ready).toMatchObject({ status: 'True' });
  });

  it('restores a hand-edited ClusterRole and writes nothing when none drifted', async () => {
    putStack('team', 'demo', { ...agent(), ...CLUSTER });
    await reconciler().reconcile('team', 'demo');
    const before = fake.writes.length;
    await reconciler().reconcile('team', 'demo');
    expect(fake.writes.length).toBe(before);
    const role = fake.cached(
      RBAC,
      'ClusterRole',
      undefined as unknown as string,
      'vigil:team:demo-agent',
    ) as KubeObject;
    const rules = structuredClone(role.rules);
    role.rules = [];
    await reconciler().reconcile('team', 'demo');
    expect(fake.writes.slice(before)).toEqual(['apply ClusterRole/vigil:team:demo-agent']);
    expect(
      (fake.cached(RBAC, 'ClusterRole', undefined as unknown as string, 'vigil:team:demo-agent') as KubeObject).rules,
    ).toEqual(rules);
  });

  it('prunes by label the ones no longer desired, and only those of this stack in this namespace', async () => {
    putStack('team', 'demo', { ...agent(), ...CLUSTER });
    // Same stack name in another namespace, and one labelled alike that Vigil does not manage.
    const foreign = (name: string, labels: Record<string, string>) =>
      fake.put({ apiVersion: RBAC, kind: 'ClusterRole', metadata: { name, labels }, rules: [] });
    foreign('vigil:other:demo-prometheus', {
      [LABEL_STACK]: 'demo',
      [LABEL_STACK_NAMESPACE]: 'other',
      [LABEL_MANAGED_BY]: MANAGED_BY,
    });
    foreign('someone-elses', { [LABEL_STACK]: 'demo', [LABEL_STACK_NAMESPACE]: 'team' });
    await reconciler().reconcile('team', 'demo');
    fake.editSpec(stack('team', 'demo') as KubeObject, (s) => {
      s.metrics = { enabled: true };
    });
    await reconciler().reconcile('team', 'demo');
    expect(names(clusterRoles())).toEqual(['someone-elses', 'vigil:other:demo-prometheus', 'vigil:team:demo-agent']);
    expect(names(fake.all('ClusterRoleBinding'))).toEqual(['vigil:team:demo-agent']);
    expect(fake.writes).toEqual(
      expect.arrayContaining([
        'delete ClusterRole/vigil:team:demo-prometheus',
        'delete ClusterRoleBinding/vigil:team:demo-cluster-state',
      ]),
    );
  });

  it('deletes none while the cache lacks a stack that the API server still has', async () => {
    putStack('team', 'demo', { ...agent(), ...CLUSTER });
    await reconciler().reconcile('team', 'demo');
    const before = fake.writes.length;
    const lagging = new StackReconciler({
      kube: fake,
      getStack: () => undefined,
      listStacks: () => [],
      log: logs.log,
      now: () => NOW,
    });
    await expect(lagging.reconcile('team', 'demo')).resolves.toBeUndefined();
    expect(fake.writes.length).toBe(before);
    expect(clusterRoles().length).toBe(3);
  });

  it('deletes them when the stack is gone (no ownerReference lets the garbage collector do it)', async () => {
    putStack('team', 'demo', { ...agent(), ...CLUSTER });
    putStack('other', 'demo', CLUSTER);
    await reconciler().reconcile('team', 'demo');
    await reconciler().reconcile('other', 'demo');
    expect(clusterRoles().length).toBe(5);
    await fake.delete({ apiVersion: API_GROUP_VERSION, kind: KIND_STACK, namespace: 'team', name: 'demo' });
    await expect(reconciler().reconcile('team', 'demo')).resolves.toBeUndefined();
    expect(names(clusterRoles())).toEqual(['vigil:other:demo-cluster-state', 'vigil:other:demo-prometheus']);
    expect(names(fake.all('ClusterRoleBinding'))).toEqual(names(clusterRoles()));
    // Being deleted (a foreground deletion's deletionTimestamp) counts as gone too.
    (stack('other', 'demo') as KubeObject).metadata.deletionTimestamp = NOW.toISOString();
    await reconciler().reconcile('other', 'demo');
    expect(clusterRoles()).toEqual([]);
  });
});

describe('the node agent: collection overlap and Pod Security', () => {
  let fake: FakeKube;
  let logs: ReturnType<typeof capturingLogger>;
  const reconciler = () =>
    new StackReconciler({
      kube: fake,
      getStack: (ns, name) => fake.cached(API_GROUP_VERSION, KIND_STACK, ns, name),
      listStacks: () => fake.all(KIND_STACK),
      // Namespaces are listed from the (fake) API server: the default without an informer.
      log: logs.log,
      now: () => NOW,
    });
  const putStack = (namespace: string, name: string, spec: Record<string, unknown>, created: string) =>
    fake.put({
      ...(aStack(spec, name) as KubeObject),
      metadata: { name, namespace, creationTimestamp: created } as KubeObject['metadata'],
    });
  const stack = (namespace: string, name: string) => fake.cached(API_GROUP_VERSION, KIND_STACK, namespace, name);
  const agentObjects = (namespace: string) =>
    [...fake.all('DaemonSet'), ...fake.all('ConfigMap'), ...fake.all('Service'), ...fake.all('ClusterRole')]
      .filter((o) => o.metadata.labels?.[LABEL_COMPONENT] === 'agent')
      .filter((o) => (o.metadata.namespace ?? o.metadata.labels?.[LABEL_STACK_NAMESPACE]) === namespace)
      .map((o) => `${o.kind}/${o.metadata.name}`)
      .sort();

  beforeEach(() => {
    fake = new FakeKube();
    logs = capturingLogger();
    for (const n of ['team-a', 'team-b', 'apps']) {
      fake.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: n, labels: {} } });
    }
  });

  it('refuses the newer of two stacks collecting one namespace: Degraded CollectionOverlap naming both, no agent', async () => {
    putStack('team-a', 'old', agent({ namespaces: ['apps'] }), '2026-01-01T00:00:00Z');
    putStack('team-b', 'new', agent({ namespaces: ['apps', 'team-b'] }), '2026-01-01T00:05:00Z');
    await reconciler().reconcile('team-b', 'new');
    await reconciler().reconcile('team-a', 'old');

    const refused = conditionsOf(stack('team-b', 'new'));
    expect(refused.Degraded).toMatchObject({ status: 'True', reason: 'CollectionOverlap' });
    expect(refused.Degraded.message).toMatch(/^spec\.collector\.collect: stack team-b\/new would collect/);
    expect(refused.Degraded.message).toContain('stack team-a/old also collects namespace(s) apps');
    expect(refused.Ready).toMatchObject({ status: 'False', reason: 'CollectionOverlap' });
    expect(refused.Progressing).toMatchObject({ status: 'False' });
    expect(fake.events.map((e) => [e.involved.name, e.reason])).toEqual([['new', 'CollectionOverlap']]);
    expect(agentObjects('team-b')).toEqual([]);
    // The rest of the refused stack runs, and its status lists no agent.
    expect(fake.cached('apps/v1', 'Deployment', 'team-b', 'new-collector')).toBeDefined();
    expect(Object.keys(statusOf(stack('team-b', 'new')).components ?? {})).not.toContain('agent');

    // The older one keeps collecting.
    const kept = conditionsOf(stack('team-a', 'old')).Ready;
    expect(kept).toMatchObject({ status: 'True' });
    expect(agentObjects('team-a')).toEqual([
      'ClusterRole/vigil:team-a:old-agent',
      'ConfigMap/old-agent',
      'DaemonSet/old-agent',
      'Service/old-agent',
    ]);
  });

  it('prunes the agent of a stack that becomes the newer one of an overlap, and runs it again once the overlap goes', async () => {
    putStack(
      'team-b',
      'new',
      agent({ namespaceSelector: { matchLabels: { collect: 'yes' } } }),
      '2026-01-01T00:05:00Z',
    );
    await reconciler().reconcile('team-b', 'new');
    expect(agentObjects('team-b')).toContain('DaemonSet/new-agent');

    // An older stack collects apps by name; then apps gets the label the newer one selects.
    putStack('team-a', 'old', agent({ namespaces: ['apps'] }), '2026-01-01T00:00:00Z');
    await reconciler().reconcile('team-b', 'new');
    expect(agentObjects('team-b')).toContain('DaemonSet/new-agent');
    fake.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apps', labels: { collect: 'yes' } } });
    await reconciler().reconcile('team-b', 'new');
    expect(agentObjects('team-b')).toEqual([]);
    expect(fake.all('ClusterRoleBinding').map((o) => o.metadata.name)).toEqual([]);

    await fake.delete({ apiVersion: API_GROUP_VERSION, kind: KIND_STACK, namespace: 'team-a', name: 'old' });
    await reconciler().reconcile('team-b', 'new');
    expect(agentObjects('team-b')).toContain('DaemonSet/new-agent');
    const c = conditionsOf(stack('team-b', 'new')).Degraded;
    expect(c).toMatchObject({ status: 'False', reason: 'AsExpected' });
  });

  it('reports a namespace whose Pod Security level refuses the agent, and clears it once the namespace admits it', async () => {
    fake.put({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'team-a', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
    });
    putStack('team-a', 'obs', agent(), '2026-01-01T00:00:00Z');
    await reconciler().reconcile('team-a', 'obs');
    const conds = statusOf(stack('team-a', 'obs')).conditions ?? [];
    const degraded = conds.find((c) => c.type === 'Degraded');
    expect(degraded).toMatchObject({ status: 'True', reason: 'AgentRefusedByPodSecurity' });
    expect(degraded?.message).toMatch(/^spec\.collector\.mode: daemonset runs the node agent/);
    expect(degraded?.message).toContain('namespace team-a enforces Pod Security "restricted"');
    expect(conds.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False' });
    // Applied all the same: the DaemonSet's pods start once the namespace admits them.
    expect(agentObjects('team-a')).toContain('DaemonSet/obs-agent');

    fake.put({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'team-a', labels: { 'pod-security.kubernetes.io/enforce': 'privileged' } },
    });
    await reconciler().reconcile('team-a', 'obs');
    const after = statusOf(stack('team-a', 'obs')).conditions ?? [];
    expect(after.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True' });
  });

  it('does not look at other stacks or namespaces for a stack without the node agent', async () => {
    putStack('team-a', 'plain', {}, '2026-01-01T00:00:00Z');
    fake.failures.list = (kind) => (kind === 'Namespace' || kind === KIND_STACK ? new Error('not listed') : undefined);
    await reconciler().reconcile('team-a', 'plain');
    const ready = conditionsOf(stack('team-a', 'plain')).Ready;
    expect(ready).toMatchObject({ status: 'True' });
  });
});
