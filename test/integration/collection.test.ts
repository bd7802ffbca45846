// Stacks that run the node agent, reconciled by the real operator against the real API server:
// their cluster-scoped children (ClusterRoles and bindings, which no namespaced stack can own) are
// applied without an ownerReference, restored, pruned and deleted by the operator itself; two stacks
// collecting one namespace's pods leave the newer one Degraded with CollectionOverlap and without its
// agent; a namespace's Pod Security level that refuses the agent is reported, and a label change on
// a namespace (the operator watches namespaces) or a stack going away makes the others look again.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { freshNamespace, kubectl, kubectlOk } from '../support/kubectl.js';
import { eventually, type RunningOperator, startOperator } from '../support/operator.js';
import { desiredChildren } from '../support/stacks.js';

let a: string;
let b: string;
let apps: string;
let operator: RunningOperator;

const stackObject = (name: string, collect: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'observability.vigil.dev/v1alpha1',
  kind: 'ObservabilityStack',
  metadata: { name },
  spec: {
    environment: 'dev',
    size: 'demo',
    collector: { enabled: true, mode: 'daemonset', collect },
    ...extra,
  } as Record<string, unknown>,
});
/** The cluster-scoped children renderStack wants for this stack, as kind/name. */
const wantedClusterScoped = (ns: string, doc: unknown, without?: string) =>
  desiredChildren(structuredClone(doc), ns)
    .filter((c) => c.startsWith('ClusterRole'))
    .filter((c) => !without || !c.endsWith(`-${without}`))
    .sort((x, y) => x.localeCompare(y));
const OLD_SPEC = () =>
  stackObject('old', { namespaces: [apps] }, { metrics: { enabled: true, cluster: { enabled: true } } });
const NEW_SPEC = () => stackObject('new', { namespaces: [apps, b] });

const condition = (ns: string, name: string, type: string) => {
  const r = kubectl(['get', 'ostack', name, '-n', ns, '-o', 'json']);
  if (r.code !== 0) return undefined;
  return (JSON.parse(r.stdout).status?.conditions ?? []).find((c: { type: string }) => c.type === type) as
    | { status: string; reason: string; message: string }
    | undefined;
};
/** The cluster-scoped children labelled for a stack, as kind/name, with their ownerReferences. */
const clusterChildren = (ns: string, stack: string) =>
  (
    JSON.parse(
      kubectlOk([
        'get',
        'clusterroles,clusterrolebindings',
        '-l',
        `vigil.dev/stack=${stack},vigil.dev/stack-namespace=${ns}`,
        '-o',
        'json',
      ]),
    ).items as { kind: string; metadata: { name: string; ownerReferences?: unknown[] } }[]
  )
    .map((o) => ({ key: `${o.kind}/${o.metadata.name}`, owners: o.metadata.ownerReferences ?? [] }))
    .sort((x, y) => x.key.localeCompare(y.key));
const hasAgent = (ns: string, stack: string) => kubectl(['get', 'daemonset', `${stack}-agent`, '-n', ns]).code === 0;

beforeAll(async () => {
  a = freshNamespace('coll-a');
  b = freshNamespace('coll-b');
  apps = freshNamespace('coll-apps');
  operator = await startOperator(['--namespaces', `${a},${b}`]);
});
afterAll(async () => {
  await operator?.stop();
  for (const ns of [a, b, apps]) kubectl(['delete', 'namespace', ns, '--wait=false']);
  // What the operator did not get to delete (a failed test) goes too: cluster-scoped, no namespace takes it.
  for (const ns of [a, b]) {
    kubectl(['delete', 'clusterroles,clusterrolebindings', '-l', `vigil.dev/stack-namespace=${ns}`]);
  }
});

describe('the node agent stacks of one cluster', () => {
  it('applies ClusterRoles and bindings without ownerReference, labelled for the stack, and turns Ready', async () => {
    kubectlOk(['apply', '-n', a, '-f', '-'], yaml.dump(OLD_SPEC()));
    await eventually('old Ready', () => condition(a, 'old', 'Ready')?.status === 'True', 60_000);
    const children = clusterChildren(a, 'old');
    const want = wantedClusterScoped(a, OLD_SPEC());
    // The agent's, Prometheus's (nodes, kubelets, other namespaces' pods) and cluster-state's.
    expect(want).toEqual(
      expect.arrayContaining([`ClusterRole/vigil:${a}:old-agent`, `ClusterRole/vigil:${a}:old-cluster-state`]),
    );
    expect(children.map((c) => c.key)).toEqual(want);
    expect(children.every((c) => c.owners.length === 0)).toBe(true);
  });

  it('restores a ClusterRole edited or deleted by hand (they are watched)', async () => {
    const role = `vigil:${a}:old-agent`;
    const rules = kubectlOk(['get', 'clusterrole', role, '-o', 'jsonpath={.rules}']);
    kubectlOk(['patch', 'clusterrole', role, '--type=merge', '-p', '{"rules":[]}']);
    await eventually(
      'the rules restored',
      () => kubectlOk(['get', 'clusterrole', role, '-o', 'jsonpath={.rules}']) === rules,
      15_000,
    );
    kubectlOk(['delete', 'clusterrolebinding', role]);
    await eventually('the binding recreated', () => kubectl(['get', 'clusterrolebinding', role]).code === 0, 15_000);
  });

  it('prunes the ones no longer desired by label', async () => {
    kubectlOk(['patch', 'ostack', 'old', '-n', a, '--type=merge', '-p', '{"spec":{"metrics":{"cluster":null}}}']);
    const spec = OLD_SPEC();
    spec.spec.metrics = { enabled: true };
    const want = wantedClusterScoped(a, spec);
    expect(want).not.toContain(`ClusterRole/vigil:${a}:old-cluster-state`);
    await eventually(
      'the cluster-state roles pruned',
      () => JSON.stringify(clusterChildren(a, 'old').map((c) => c.key)) === JSON.stringify(want),
      20_000,
    );
  });

  it('refuses the agent of a newer stack that collects the same namespace: Degraded CollectionOverlap naming both', async () => {
    kubectlOk(['apply', '-n', b, '-f', '-'], yaml.dump(NEW_SPEC()));
    await eventually('new Degraded', () => condition(b, 'new', 'Degraded')?.status === 'True', 30_000);
    const degraded = condition(b, 'new', 'Degraded');
    expect(degraded?.reason).toBe('CollectionOverlap');
    expect(degraded?.message).toContain(`stack ${b}/new would collect`);
    expect(degraded?.message).toContain(`stack ${a}/old also collects namespace(s) ${apps}`);
    expect(hasAgent(b, 'new')).toBe(false);
    // None of the agent's; those of its other components (Prometheus's pod discovery) stay.
    expect(clusterChildren(b, 'new').map((c) => c.key)).toEqual(wantedClusterScoped(b, NEW_SPEC(), 'agent'));
    expect(wantedClusterScoped(b, NEW_SPEC())).toContain(`ClusterRole/vigil:${b}:new-agent`);
    // The rest of the refused stack runs; the older stack keeps collecting.
    expect(kubectl(['get', 'deployment', 'new-collector', '-n', b]).code).toBe(0);
    expect(hasAgent(a, 'old')).toBe(true);
    expect(condition(a, 'old', 'Ready')?.status).toBe('True');
    const events = JSON.parse(
      kubectlOk(['get', 'events', '-n', b, '--field-selector', 'reason=CollectionOverlap', '-o', 'json']),
    );
    expect(events.items.length).toBeGreaterThan(0);
  });

  it("reports, after a label change on the stack's namespace, that its Pod Security level refuses the agent", async () => {
    kubectlOk(['label', 'namespace', a, 'pod-security.kubernetes.io/enforce=restricted', '--overwrite']);
    await eventually(
      'old Degraded by Pod Security',
      () => condition(a, 'old', 'Degraded')?.reason === 'AgentRefusedByPodSecurity',
      20_000,
    );
    expect(condition(a, 'old', 'Degraded')?.message).toContain(`namespace ${a} enforces Pod Security "restricted"`);
    kubectlOk(['label', 'namespace', a, 'pod-security.kubernetes.io/enforce-']);
    await eventually('old Ready again', () => condition(a, 'old', 'Ready')?.status === 'True', 30_000);
  });

  it('runs the newer stack agent once the older stack is gone, whose cluster-scoped children the operator deletes', async () => {
    kubectlOk(['delete', 'ostack', 'old', '-n', a, '--wait=true', '--timeout=55s']);
    await eventually('old cluster-scoped children deleted', () => clusterChildren(a, 'old').length === 0, 20_000);
    await eventually('new runs its agent', () => hasAgent(b, 'new'), 30_000);
    await eventually('new Ready', () => condition(b, 'new', 'Ready')?.status === 'True', 60_000);
    expect(clusterChildren(b, 'new').map((c) => c.key)).toEqual(wantedClusterScoped(b, NEW_SPEC()));
  });

  it('deletes the cluster-scoped children of a stack deleted while the operator was down, at its next start', async () => {
    await operator.stop();
    kubectlOk(['delete', 'ostack', 'new', '-n', b, '--wait=true', '--timeout=55s']);
    expect(clusterChildren(b, 'new').length).toBe(wantedClusterScoped(b, NEW_SPEC()).length);
    operator = await startOperator(['--namespaces', `${a},${b}`]);
    await eventually('new cluster-scoped children deleted', () => clusterChildren(b, 'new').length === 0, 20_000);
  });
});
