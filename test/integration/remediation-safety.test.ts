// The receiver's safety against the real API server and real operator processes: two replicas
// (only the leader acts; the other answers 503, which Alertmanager retries), a repeated delivery and
// a retry after a 5xx act once, a leader killed right after an action and its successor (and a
// fresh process) do not act again inside the cooldown because the ledger is in the policy's status,
// DryRun touches nothing, a resolved notification never acts, and bad requests get 400/401/413.
// Here the test sends the deliveries itself, with Alertmanager's payload (version 4) and headers;
// remediation.test.ts runs the real Alertmanager.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { freshNamespace, kubectlOk } from '../support/kubectl.js';
import { eventually, freePort, operatorWrites, type RunningOperator, startOperator } from '../support/operator.js';
import { bindInNamespace } from '../support/rbac.js';

const TOKEN = 'it-safety-token-9f8e7d6c5b4a';
const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

let ns: string;
const running: RunningOperator[] = [];
const ports = new Map<RunningOperator, number>();
const since = new Date();

const json = (args: string[]) => JSON.parse(kubectlOk([...args, '-n', ns, '-o', 'json']));
const restartedAt = (name: string): string | undefined =>
  json(['get', 'deployment', name]).spec.template.metadata.annotations?.[RESTARTED_AT];
const ledger = (policy: string) => json(['get', 'remediationpolicy', policy]).status ?? {};

function alert(
  fingerprint: string,
  status: 'firing' | 'resolved' = 'firing',
  alertname = 'CheckoutDown',
  deployment = 'checkout',
) {
  return {
    status,
    labels: { alertname, severity: 'critical', namespace: ns, deployment },
    annotations: {},
    startsAt: '2026-12-02T06:00:00.000Z',
    endsAt: status === 'resolved' ? '2026-12-02T06:10:00.000Z' : '0001-01-01T00:00:00Z',
    generatorURL: 'http://prometheus/graph',
    fingerprint,
  };
}
const payload = (alerts: unknown[]) =>
  JSON.stringify({
    version: '4',
    groupKey: '{}:{alertname="CheckoutDown"}',
    status: 'firing',
    receiver: 'vigil-remediation',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://am',
    truncatedAlerts: 0,
    alerts,
  });

async function deliver(
  op: RunningOperator,
  body: string,
  headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` },
) {
  const r = await fetch(`http://127.0.0.1:${ports.get(op)}/api/v1/remediation/alerts/${ns}/shop`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'Alertmanager/0.35.0', ...headers },
    body,
  }).catch((err: Error) => ({ status: `failed: ${err.message}`, json: async () => ({}) }));
  return { status: r.status, body: (await r.json().catch(() => ({}))) as { decisions?: { result: string }[] } };
}

async function replica(id: string): Promise<RunningOperator> {
  const port = await freePort();
  const op = await startOperator([
    '--namespaces',
    ns,
    '--leader-elect',
    'true',
    '--leader-election-namespace',
    ns,
    '--identity',
    id,
    '--remediation-token-secret',
    `${ns}/operator-token`,
    '--remediation-port',
    `127.0.0.1:${port}`,
  ]);
  ports.set(op, port);
  running.push(op);
  return op;
}
const leaderOf = async (ops: RunningOperator[]) => {
  for (const op of ops)
    if ((await op.metric('vigil_operator_leader_is_leader')) === 1 && op.proc.exitCode === null) return op;
  return undefined;
};
const patches = (name: string) =>
  operatorWrites(since).filter((w) => w.resource === 'deployments' && w.name === name && w.verb === 'patch');

beforeAll(() => {
  ns = freshNamespace('remsafe');
  bindInNamespace(ns, ['leader-election']);
  kubectlOk(['create', 'secret', 'generic', 'operator-token', '-n', ns, `--from-literal=token=${TOKEN}`]);
  const deployment = (name: string) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: `${name}:1` }] } },
    },
  });
  const policy = (name: string, alertname: string, mode: string) => ({
    apiVersion: 'observability.vigil.dev/v1alpha1',
    kind: 'RemediationPolicy',
    metadata: { name },
    spec: {
      stackRef: { name: 'shop' },
      match: { alertname },
      target: { kind: 'Deployment' },
      action: { type: 'rolloutRestart' },
      guard: { maxActions: 3, window: '1h', cooldown: '10m' },
      mode,
    },
  });
  kubectlOk(
    ['apply', '-n', ns, '-f', '-'],
    [
      deployment('checkout'),
      deployment('billing'),
      policy('restart-checkout', 'CheckoutDown', 'Enforce'),
      policy('dry-billing', 'BillingDown', 'DryRun'),
    ]
      .map((d) => yaml.dump(d))
      .join('---\n'),
  );
});

afterAll(async () => {
  for (const op of running) if (op.proc.exitCode === null) await op.stop();
});

describe('the remediation receiver on real operator replicas', () => {
  let leader: RunningOperator;
  let standby: RunningOperator;

  it('acts only on the leader: the standby answers 503 and a retry on the leader acts once', async () => {
    const a = await replica('a');
    const b = await replica('b');
    leader = await eventually('a leader', () => leaderOf([a, b]), 60_000);
    standby = leader === a ? b : a;
    await eventually(
      'the leader to accept deliveries',
      async () => (await deliver(leader, payload([]))).status === 200,
      30_000,
    );
    // The standby's receiver may start listening after the leader's: wait until it answers at all
    // (a loaded cold run once sent the delivery below before it listened).
    await eventually(
      'the standby to answer',
      async () => typeof (await deliver(standby, payload([]))).status === 'number',
      30_000,
    );

    const first = payload([alert('f1')]);
    expect((await deliver(standby, first)).status).toBe(503);
    expect(restartedAt('checkout')).toBeUndefined();
    const acted = await deliver(leader, first); // Alertmanager's retry after the 503
    expect(acted).toMatchObject({ status: 200, body: { decisions: [{ result: 'acted' }] } });
    expect(restartedAt('checkout')).toBeDefined();
    // Alertmanager repeats the notification (repeat_interval) or retries a delivery it thinks failed.
    expect((await deliver(leader, first)).body.decisions?.map((d) => d.result)).toEqual(['duplicate']);
    expect((await deliver(standby, first)).status).toBe(503);
    expect(patches('checkout')).toHaveLength(1);
  }, 120_000);

  it('keeps the budget across a leader killed right after acting: the successor does not act inside the cooldown', async () => {
    const before = restartedAt('checkout');
    await leader.kill();
    const next = await eventually('the standby to take over', () => leaderOf([standby]), 60_000);
    await eventually(
      'the new leader to accept deliveries',
      async () => (await deliver(next, payload([]))).status === 200,
      30_000,
    );
    expect((await deliver(next, payload([alert('f1')]))).body.decisions?.map((d) => d.result)).toEqual(['duplicate']);
    expect((await deliver(next, payload([alert('f2')]))).body.decisions?.map((d) => d.result)).toEqual(['cooldown']);
    expect(restartedAt('checkout')).toBe(before);
    expect(patches('checkout')).toHaveLength(1);
    leader = next;
  }, 120_000);

  it('keeps it across a restart of a lone operator too', async () => {
    const before = restartedAt('checkout');
    await leader.kill();
    const fresh = await replica('c');
    await eventually('the fresh process to lead', () => leaderOf([fresh]), 60_000);
    await eventually('it to accept deliveries', async () => (await deliver(fresh, payload([]))).status === 200, 30_000);
    expect((await deliver(fresh, payload([alert('f3')]))).body.decisions?.map((d) => d.result)).toEqual(['cooldown']);
    expect(restartedAt('checkout')).toBe(before);
    const status = ledger('restart-checkout');
    expect(status.targets[0].actions.map((x: { result: string }) => x.result)).toEqual(['acted']);
    leader = fresh;
  }, 120_000);

  it('records DryRun decisions and touches nothing', async () => {
    const r = await deliver(leader, payload([alert('d1', 'firing', 'BillingDown', 'billing')]));
    expect(r.body.decisions?.map((d) => d.result)).toEqual(['dry-run']);
    expect(restartedAt('billing')).toBeUndefined();
    expect(patches('billing')).toEqual([]);
    expect(ledger('dry-billing').deliveries.map((d: { result: string }) => d.result)).toEqual(['dry-run']);
    const events = json([
      'get',
      'events',
      '--field-selector',
      'reason=RemediationDryRun,involvedObject.name=billing',
    ]).items;
    expect(events).toHaveLength(1);
  }, 60_000);

  it('never acts on a resolved notification', async () => {
    const r = await deliver(
      leader,
      payload([alert('r1', 'resolved', 'BillingDown', 'billing'), alert('r2', 'resolved')]),
    );
    expect(r.body.decisions?.map((d) => d.result)).toEqual(['resolved', 'resolved']);
    expect(restartedAt('billing')).toBeUndefined();
    expect(patches('checkout')).toHaveLength(1);
  }, 60_000);

  it('refuses bad deliveries with 400, 401 and 413, acts on nothing and keeps running', async () => {
    const writes = () => operatorWrites(since).filter((w) => w.resource !== 'leases').length;
    const before = { checkout: restartedAt('checkout'), writes: writes() };
    const good = payload([alert('bad-1')]);
    expect((await deliver(leader, good, {})).status).toBe(401);
    expect((await deliver(leader, good, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await deliver(leader, '{"version": "4", "alerts": [')).status).toBe(400);
    expect((await deliver(leader, payload([alert('bad-2')]).replace('"version":"4"', '"version":"3"'))).status).toBe(
      400,
    );
    const huge = payload(Array.from({ length: 5000 }, (_, i) => alert(`h${i}`)));
    expect(huge.length).toBeGreaterThan(1024 * 1024);
    expect([413, 'failed: fetch failed']).toContain((await deliver(leader, huge)).status);
    expect(await fetch(`http://127.0.0.1:${leader.port}/healthz`).then((r) => r.status)).toBe(200);
    expect(leader.proc.exitCode).toBeNull();
    expect(restartedAt('checkout')).toBe(before.checkout);
    expect(writes()).toBe(before.writes);
    expect((await deliver(leader, payload([alert('f1')]))).status).toBe(200);
  }, 60_000);
});
