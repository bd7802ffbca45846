// The Secrets the operator generates for a stack are found by the names it gives them
// (desired/stack/secrets.ts), never by a list: the ClusterRole holds no list or watch on Secrets.
// Against FakeKube with every Secret list refused, as the API server refuses it.
import { beforeEach, describe, expect, it } from '@jest/globals';
import type { ObservabilityStack } from '../../../api/types.js';
import { StackReconciler } from '../../../controller/stack.js';
import { API_GROUP_VERSION, KIND_STACK } from '../../../conventions/index.js';
import { stackContext } from '../../../desired/stack/context.js';
import { correlatorAuthSecretName } from '../../../desired/stack/correlator.js';
import { grafanaAdminSecretName } from '../../../desired/stack/grafana.js';
import { queryAuthSecretName, webConfigSecretName } from '../../../desired/stack/query-auth.js';
import { generatedSecretNames } from '../../../desired/stack/secrets.js';
import { KubeError, type KubeObject } from '../../../kube/types.js';
import { aStack } from '../../support/builders.js';
import { capturingLogger, FakeKube } from './fake-kube.js';

const NS = 'team';
const ctxOf = (spec: Record<string, unknown>, name = 'demo') =>
  stackContext({ ...(aStack(spec, name) as unknown as ObservabilityStack), metadata: { name, namespace: NS } });

const GENERATED = [
  'demo-alertmanager-auth',
  'demo-alertmanager-web-config',
  'demo-correlator-auth',
  'demo-grafana-admin',
  'demo-prometheus-auth',
  'demo-prometheus-web-config',
];

describe('generatedSecretNames', () => {
  it('names every Secret the operator generates (Grafana admin, correlator and query API auth, web configs), from their naming functions', () => {
    const ctx = ctxOf({});
    expect(generatedSecretNames(ctx)).toEqual(GENERATED);
    expect(generatedSecretNames(ctx)).toEqual(
      [
        grafanaAdminSecretName(ctx),
        correlatorAuthSecretName(ctx),
        queryAuthSecretName(ctx, 'prometheus'),
        queryAuthSecretName(ctx, 'alertmanager'),
        webConfigSecretName(ctx, 'prometheus'),
        webConfigSecretName(ctx, 'alertmanager'),
      ].sort(),
    );
  });

  it('keeps the generated names when the spec references Secrets of its own (those are the user’s)', () => {
    const ctx = ctxOf({
      grafana: { enabled: true, adminSecretRef: { name: 'mine' } },
      correlation: { enabled: true, basicAuthSecretRef: { name: 'theirs' } },
      metrics: { enabled: true, basicAuth: { enabled: true, secretRef: { name: 'prom-creds' } } },
      alerting: { basicAuth: { enabled: true, secretRef: { name: 'am-creds' } } },
    });
    expect(grafanaAdminSecretName(ctx)).toBe('mine');
    expect(correlatorAuthSecretName(ctx)).toBe('theirs');
    expect(queryAuthSecretName(ctx, 'prometheus')).toBe('prom-creds');
    expect(queryAuthSecretName(ctx, 'alertmanager')).toBe('am-creds');
    expect(generatedSecretNames(ctx)).toEqual(GENERATED);
  });
});

describe('the stack reconciler and the Secrets it generates', () => {
  let fake: FakeKube;
  const reconciler = () =>
    new StackReconciler({
      kube: fake,
      getStack: (ns, name) => fake.cached(API_GROUP_VERSION, KIND_STACK, ns, name),
      log: capturingLogger().log,
      now: () => new Date('2026-01-02T03:04:05Z'),
    });
  const secret = (name: string) => fake.cached('v1', 'Secret', NS, name);
  const stored = () => fake.cached(API_GROUP_VERSION, KIND_STACK, NS, 'demo') as KubeObject;
  const ready = () =>
    // biome-ignore lint/suspicious/noExplicitAny: reading status loosely
    ((stored().status as any)?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready');

  beforeEach(() => {
    fake = new FakeKube();
    fake.failures.list = (kind) =>
      kind === 'Secret' ? new KubeError('list Secret: HTTP 403 Forbidden', 403, 'Forbidden') : undefined;
    fake.put({
      ...(aStack({ grafana: { enabled: true }, correlation: { enabled: false } }) as KubeObject),
      metadata: { name: 'demo', namespace: NS },
    });
  });

  it('applies the Grafana admin Secret, keeps its password, and prunes it by name once Grafana is off', async () => {
    await reconciler().reconcile(NS, 'demo');
    expect(ready()).toMatchObject({ status: 'True' });
    const admin = secret('demo-grafana-admin');
    // biome-ignore lint/suspicious/noExplicitAny: Secret data
    const password = (admin?.data as any)?.['admin-password'];
    expect(password).toEqual(expect.any(String));

    fake.writes.length = 0;
    await reconciler().reconcile(NS, 'demo');
    // biome-ignore lint/suspicious/noExplicitAny: Secret data
    expect((secret('demo-grafana-admin')?.data as any)?.['admin-password']).toBe(password);
    expect(fake.writes).toEqual([]);

    fake.editSpec(stored(), (spec) => {
      spec.grafana = { enabled: false };
    });
    await reconciler().reconcile(NS, 'demo');
    expect(fake.writes).toContain('delete Secret/demo-grafana-admin');
    expect(secret('demo-grafana-admin')).toBeUndefined();
  });

  it('prunes a generated Secret it controls, never one of that name that someone else made', async () => {
    fake.put({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'demo-correlator-auth', namespace: NS },
      data: { password: 'eA==' },
    });
    const uid = stored().metadata.uid as string;
    const owner = { apiVersion: API_GROUP_VERSION, kind: KIND_STACK, name: 'demo', uid, controller: true };
    fake.put({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'stale-not-generated', namespace: NS, ownerReferences: [owner] },
    });
    await reconciler().reconcile(NS, 'demo');
    expect(ready()).toMatchObject({ status: 'True' });
    expect(secret('demo-correlator-auth')).toBeDefined();
    // Not a name the operator gives: found by no list, so left alone (it never made one).
    expect(secret('stale-not-generated')).toBeDefined();

    fake.put({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'demo-correlator-auth', namespace: NS, ownerReferences: [owner] },
    });
    await reconciler().reconcile(NS, 'demo');
    expect(fake.writes).toContain('delete Secret/demo-correlator-auth');
  });
});
