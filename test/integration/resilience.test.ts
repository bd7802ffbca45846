// The operator under faults: killed mid-reconcile, the API server restarted, two replicas with one
// leader. Each scenario runs real operator processes against the real control plane.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freshNamespace, kubectl, kubectlOk } from '../support/kubectl.js';
import { clusterDir, eventually, type RunningOperator, startOperator } from '../support/operator.js';
import { REPO_ROOT } from '../support/paths.js';
import { bindInNamespace } from '../support/rbac.js';
import { desiredChildren, exampleDoc, liveChildren } from '../support/stacks.js';

const running: RunningOperator[] = [];
const start = async (...args: Parameters<typeof startOperator>) => {
  const op = await startOperator(...args);
  running.push(op);
  return op;
};
afterEach(async () => {
  await Promise.all(running.splice(0).map((o) => (o.proc.exitCode === null ? o.kill() : undefined)));
});

const stackDoc = (name: string, file = 'core.yaml') => JSON.stringify(exampleDoc(file, name));
const desired = (name: string, ns: string, file = 'core.yaml') => desiredChildren(exampleDoc(file, name), ns);
const children = liveChildren;
const ready = (ns: string, name: string) =>
  kubectl(['get', 'ostack', name, '-n', ns, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])
    .stdout === 'True';

/**
 * Flags for one of two replicas electing a leader through a Lease in the test namespace, where the
 * operator's user holds the manifests' lease Role (bound by the test, as an install binds it).
 */
const leaderArgs = (ns: string, id: string) => [
  '--namespaces',
  ns,
  '--leader-elect',
  'true',
  '--leader-election-namespace',
  ns,
  '--identity',
  id,
];

describe('the operator under faults', () => {
  it('converges with no duplicates after being killed mid-reconcile', async () => {
    const ns = freshNamespace('kill');
    const names = ['a', 'b', 'c', 'd'];
    let op = await start(['--namespaces', ns]);
    for (const n of names) kubectlOk(['apply', '-n', ns, '-f', '-'], stackDoc(n));
    await eventually('the first applies', () => op.logs.some((l) => String(l.msg).startsWith('Applied')), 20_000, 20);
    await op.kill();
    op = await start(['--namespaces', ns]);
    for (const n of names) await eventually(`${n} Ready`, () => ready(ns, n), 60_000);
    for (const n of names) expect(children(ns, n)).toEqual(desired(n, ns));
  });

  it('keeps its informers alive across an API server restart', async () => {
    const ns = freshNamespace('restart');
    const op = await start(['--namespaces', ns], { VIGIL_WATCH_TIMEOUT_SECONDS: '30' });
    kubectlOk(['apply', '-n', ns, '-f', '-'], stackDoc('r'));
    await eventually('r Ready', () => ready(ns, 'r'), 60_000);
    execFileSync(join(REPO_ROOT, 'hack', 'cluster.sh'), ['restart-apiserver'], {
      env: {
        ...process.env,
        VIGIL_CLUSTER_DIR: clusterDir(),
        VIGIL_APISERVER_DOWN_SECONDS: '5',
        VIGIL_APISERVER_SIGNAL: 'KILL',
      },
      stdio: 'ignore',
    });
    await eventually(
      'an informer restart',
      async () => ((await op.metric('vigil_operator_informer_restarts_total')) ?? 0) > 0,
      60_000,
    );
    // A change after the restart is seen: a hand-deleted child comes back, a new stack is built.
    kubectlOk(['delete', 'deployment', 'r-grafana', '-n', ns, '--wait=false']);
    await eventually(
      'r-grafana restored',
      () => kubectl(['get', 'deployment', 'r-grafana', '-n', ns]).code === 0,
      60_000,
    );
    kubectlOk(['apply', '-n', ns, '-f', '-'], stackDoc('r2'));
    await eventually('r2 Ready', () => ready(ns, 'r2'), 60_000);
  });

  it('lets only the leader write, and hands over within 20 s when the leader dies', async () => {
    const ns = freshNamespace('lease');
    bindInNamespace(ns, ['leader-election']);
    const le = (id: string) => leaderArgs(ns, id);
    const a = await start(le('a'));
    await eventually('a leads', async () => (await a.metric('vigil_operator_leader_is_leader')) === 1, 20_000);
    const b = await start(le('b'));
    kubectlOk(['apply', '-n', ns, '-f', '-'], stackDoc('l'));
    await eventually('l Ready', () => ready(ns, 'l'), 60_000);
    expect(await b.metric('vigil_operator_leader_is_leader')).toBe(0);
    expect((await a.metric('vigil_operator_child_writes_total')) ?? 0).toBeGreaterThan(0);
    expect((await b.metric('vigil_operator_child_writes_total')) ?? 0).toBe(0);
    expect(kubectlOk(['get', 'lease', 'vigil-operator', '-n', ns, '-o', 'jsonpath={.spec.holderIdentity}'])).toBe('a');

    await a.kill(); // no release: b must wait out the lease
    const killed = Date.now();
    await eventually('b leads', async () => (await b.metric('vigil_operator_leader_is_leader')) === 1, 25_000, 200);
    const handover = Date.now() - killed;
    expect(handover).toBeLessThan(20_000);
    kubectlOk(['delete', 'deployment', 'l-grafana', '-n', ns, '--wait=false']);
    await eventually(
      'l-grafana restored by b',
      () => kubectl(['get', 'deployment', 'l-grafana', '-n', ns]).code === 0,
      30_000,
    );
    process.stderr.write(`[vigil] leader handover after SIGKILL took ${(handover / 1000).toFixed(1)}s\n`);
  });

  it('releases the lease on SIGTERM so that a standby takes over at once', async () => {
    const ns = freshNamespace('release');
    bindInNamespace(ns, ['leader-election']);
    const le = (id: string) => leaderArgs(ns, id);
    const a = await start(le('a'));
    await eventually('a leads', async () => (await a.metric('vigil_operator_leader_is_leader')) === 1, 20_000);
    const b = await start(le('b'));
    expect(await a.stop()).toBe(0);
    const stopped = Date.now();
    await eventually('b leads', async () => (await b.metric('vigil_operator_leader_is_leader')) === 1, 20_000, 100);
    expect(Date.now() - stopped).toBeLessThan(6000);
  });
});
