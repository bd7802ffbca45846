// The webhook receiver over real HTTP on 127.0.0.1, with the real service and decision engine on
// an in-memory API server (fake-remediation-kube.ts).
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { RemediationService } from '../../../controller/remediation/service.js';
import { KubeError, type KubeObject } from '../../../kube/types.js';
import { remediationReceiver } from '../../../operator/remediation-server.js';
import { FakeRemediationKube } from './fake-remediation-kube.js';
import { anAlert, aPolicy } from './policies.js';

const TOKEN = 'a-long-random-token';
const PATH = '/api/v1/remediation/alerts/shop/full';

let kube: FakeRemediationKube;
let leader: boolean;
let clock: Date;
let base: string;
let close: () => Promise<void>;
let decisions: string[];

const deployment = (labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'checkout', namespace: 'shop', labels },
  spec: {},
});

beforeEach(async () => {
  kube = new FakeRemediationKube();
  kube.put(aPolicy() as unknown as KubeObject);
  kube.put(deployment());
  leader = true;
  clock = new Date('2026-01-01T10:00:05.000Z');
  decisions = [];
  const service = new RemediationService({
    kube,
    listPolicies: (ns) =>
      [kube.object('RemediationPolicy', ns, 'restart-crashloop')].filter((x): x is KubeObject => !!x),
    log: pino({ level: 'silent' }),
    now: () => clock,
    onDecision: (policy, action, result) => decisions.push(`${policy} ${action} ${result}`),
  });
  const server = remediationReceiver({
    token: () => TOKEN,
    isLeader: () => leader,
    handle: (ns, stack, p) => service.handle(ns, stack, p),
    log: pino({ level: 'silent' }),
    maxBodyBytes: 64 * 1024,
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => new Promise((r) => server.close(() => r()));
});
afterEach(async () => close());

const payload = (alerts = [anAlert()], version: unknown = '4') =>
  JSON.stringify({ version, status: 'firing', receiver: 'vigil-remediation', groupKey: 'k', alerts });
const post = (body: string, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }, path = PATH) =>
  fetch(`${base}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

describe('the remediation receiver', () => {
  it('restarts the target of a firing alert and answers 200 with the recorded decision', async () => {
    const r = await post(payload());
    expect(r.status).toBe(200);
    expect(((await r.json()) as { decisions: { result: string }[] }).decisions.map((d) => d.result)).toEqual(['acted']);
    expect(kube.actions).toEqual(['restart Deployment shop/checkout 2026-01-01T10:00:05.000Z']);
    const ledger = (
      kube.object('RemediationPolicy', 'shop', 'restart-crashloop')!.status as {
        targets: { actions: { result: string }[] }[];
      }
    ).targets;
    expect(ledger[0].actions.map((a) => a.result)).toEqual(['acted']);
    expect(decisions).toEqual(['restart-crashloop rolloutRestart acted']);
    expect(kube.events.map((e) => [e.involved.kind, e.reason])).toEqual([
      ['RemediationPolicy', 'RemediationActed'],
      ['Deployment', 'RemediationActed'],
    ]);
  });

  it.each([
    ['no Authorization header', {}],
    ['a wrong token', { authorization: 'Bearer not-the-token' }],
    ['a token of another scheme', { authorization: `Basic ${TOKEN}` }],
    ['a token that is a prefix of the right one', { authorization: `Bearer ${TOKEN.slice(0, 5)}` }],
  ])('refuses a delivery with %s: 401, nothing acts', async (_what, headers) => {
    const r = await post(payload(), headers as Record<string, string>);
    expect(r.status).toBe(401);
    expect(kube.actions).toEqual([]);
    expect(kube.statusWrites).toBe(0);
  });

  it.each([
    ['malformed JSON', '{"version": "4", "alerts": [', 'body is not JSON'],
    ['an unknown payload version', payload([anAlert()], '3'), 'version: must be "4"'],
    ['a payload without alerts', JSON.stringify({ version: '4' }), 'alerts: must be an array'],
    ['an alert without a fingerprint', payload([{ ...anAlert(), fingerprint: '' }]), 'alerts[0].fingerprint'],
    ['an alert with a bad status', payload([{ ...anAlert(), status: 'pending' as 'firing' }]), 'alerts[0].status'],
    [
      'labels that are not strings',
      payload([{ ...anAlert(), labels: { alertname: 1 } as unknown as Record<string, string> }]),
      'alerts[0].labels',
    ],
  ])('refuses %s: 400 naming the problem, nothing acts', async (_what, body, error) => {
    const r = await post(body);
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toContain(error);
    expect(kube.actions).toEqual([]);
    expect(kube.statusWrites).toBe(0);
  });

  it('refuses an oversized body with 413 and keeps serving', async () => {
    const big = payload(
      Array.from({ length: 600 }, (_, i) => anAlert({ fingerprint: `f${i}` }, { pad: 'x'.repeat(100) })),
    );
    expect(big.length).toBeGreaterThan(64 * 1024);
    const r = await post(big).catch((err: Error) => ({ status: `reset: ${err.message}` }));
    expect(r.status).toBe(413);
    expect(kube.actions).toEqual([]);
    expect((await post(payload())).status).toBe(200);
    expect(kube.actions).toHaveLength(1);
  });

  it('keeps running after every kind of bad request', async () => {
    await post('{', {});
    await post('{');
    await post('x'.repeat(70 * 1024)).catch(() => undefined);
    await post(payload(), { authorization: 'Bearer nope' });
    expect((await fetch(`${base}${PATH}`)).status).toBe(405);
    expect((await post(payload(), undefined, '/api/v1/remediation/alerts/shop')).status).toBe(404);
    expect((await post(payload())).status).toBe(200);
  });

  it('answers 503 on a replica that is not the leader, and acts on nothing', async () => {
    leader = false;
    expect((await post(payload())).status).toBe(503);
    expect(kube.actions).toEqual([]);
    expect(kube.statusWrites).toBe(0);
  });

  it('acts once for a repeated delivery and for a retry after a 5xx', async () => {
    // The first delivery's decision is written, then the answer fails: Alertmanager sends again.
    kube.failStatusWrite = { nth: 2, error: new KubeError('apiserver hiccup', 500) };
    expect((await post(payload())).status).toBe(200); // the outcome write failed, the started mark stays
    clock = new Date('2026-01-01T10:00:06.000Z');
    expect((await post(payload())).status).toBe(200);
    clock = new Date('2026-01-01T10:00:36.000Z');
    expect((await post(payload())).status).toBe(200);
    expect(kube.actions).toHaveLength(1);
    expect(decisions).toEqual([
      'restart-crashloop rolloutRestart acted',
      'restart-crashloop rolloutRestart duplicate',
      'restart-crashloop rolloutRestart duplicate',
    ]);
  });

  it('answers 500 when the decision cannot be recorded, and has not acted', async () => {
    kube.failStatusWrite = { nth: 1, error: new KubeError('etcd unavailable', 503) };
    expect((await post(payload())).status).toBe(500);
    expect(kube.actions).toEqual([]);
    expect((await post(payload())).status).toBe(200); // Alertmanager's retry
    expect(kube.actions).toHaveLength(1);
  });

  it('decides again on the fresh ledger when another writer changed the policy in between', async () => {
    kube.failStatusWrite = { nth: 1, error: new KubeError('conflict', 409, 'Conflict') };
    expect((await post(payload())).status).toBe(200);
    expect(kube.actions).toHaveLength(1);
  });

  it('never acts on a resolved notification', async () => {
    const r = await post(payload([anAlert({ status: 'resolved', endsAt: '2026-01-01T10:00:04Z' })]));
    expect(r.status).toBe(200);
    expect(kube.actions).toEqual([]);
    expect(decisions).toEqual(['restart-crashloop rolloutRestart resolved']);
  });

  it('records a failed action, answers 200 and does not retry it on the redelivery', async () => {
    kube.failAction = new KubeError('forbidden', 403);
    expect((await post(payload())).status).toBe(200);
    kube.failAction = undefined;
    clock = new Date('2026-01-01T10:00:30.000Z');
    expect((await post(payload())).status).toBe(200);
    expect(kube.actions).toEqual([]);
    expect(decisions).toEqual([
      'restart-crashloop rolloutRestart failed',
      'restart-crashloop rolloutRestart duplicate',
    ]);
    expect(kube.events.filter((e) => e.type === 'Warning').map((e) => e.reason)).toContain('RemediationFailed');
  });

  it("refuses a stack's own component unless the policy allows it, and an alert for another namespace", async () => {
    kube.put(deployment({ 'app.kubernetes.io/managed-by': 'vigil-operator' }));
    await post(payload());
    await post(payload([anAlert({ fingerprint: 'other-ns' }, { namespace: 'payments' })]));
    expect(kube.actions).toEqual([]);
    expect(decisions).toEqual([
      'restart-crashloop rolloutRestart refused',
      'restart-crashloop rolloutRestart no-target',
    ]);
  });

  it('acts on nothing in DryRun, but records the decision', async () => {
    kube.put(aPolicy({ mode: 'DryRun' }) as unknown as KubeObject);
    expect((await post(payload())).status).toBe(200);
    expect(kube.actions).toEqual([]);
    expect(decisions).toEqual(['restart-crashloop rolloutRestart dry-run']);
    const status = kube.object('RemediationPolicy', 'shop', 'restart-crashloop')?.status as {
      deliveries: { result: string }[];
    };
    expect(status.deliveries.map((d) => d.result)).toEqual(['dry-run']);
  });
});
