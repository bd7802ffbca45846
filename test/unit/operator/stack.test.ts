import { describe, expect, it } from '@jest/globals';
import type { ObservabilityStack } from '../../../api/types.js';
import { validateResource } from '../../../api/validate.js';
import { forEachLimit } from '../../../controller/apply.js';
import { problem, progressing, ready, withConditions } from '../../../controller/outcome.js';
import { componentStatus, referencedSecrets, scalingCondition, workloadReady } from '../../../controller/stack.js';
import type { KubeObject as RenderedObject } from '../../../desired/stack/index.js';
import type { KubeObject } from '../../../kube/types.js';
import { aStack } from '../../support/builders.js';

const spec = (s: Record<string, unknown>) => {
  const v = validateResource(aStack(s));
  if (!v.ok) throw new Error(JSON.stringify(v.problems));
  return (v.object as ObservabilityStack).spec;
};
const workload = (kind: string, generation: number, spec: object, status: object): KubeObject => ({
  apiVersion: 'apps/v1',
  kind,
  metadata: { name: 'w', generation },
  spec,
  status,
});

describe('referencedSecrets', () => {
  it('names the spec field of every Secret a stack needs, and only for enabled parts', () => {
    const s = spec({
      grafana: {
        enabled: true,
        adminSecretRef: { name: 'admin' },
        database: {
          type: 'postgres',
          host: 'pg:5432',
          name: 'grafana',
          user: 'grafana',
          passwordSecretRef: { name: 'pg', key: 'password' },
        },
      },
      logs: { enabled: true },
      objectStorage: { s3: { endpoint: 'minio:9000', bucket: 'logs', secretRef: { name: 's3' } } },
      correlation: { enabled: true, datadog: { apiKeySecretRef: { name: 'dd', key: 'api-key' } } },
      alerting: { receivers: [{ name: 'pd', pagerduty: { routingKeySecretRef: { name: 'pd', key: 'key' } } }] },
    });
    expect(referencedSecrets(s)).toEqual([
      { path: 'spec.grafana.adminSecretRef.name', name: 'admin' },
      { path: 'spec.objectStorage.s3.secretRef.name', name: 's3', key: 'AWS_ACCESS_KEY_ID' },
      { path: 'spec.objectStorage.s3.secretRef.name', name: 's3', key: 'AWS_SECRET_ACCESS_KEY' },
      { path: 'spec.grafana.database.passwordSecretRef', name: 'pg', key: 'password' },
      { path: 'spec.correlation.datadog.apiKeySecretRef', name: 'dd', key: 'api-key' },
      { path: 'spec.alerting.receivers[0].pagerduty.routingKeySecretRef', name: 'pd', key: 'key' },
    ]);
    expect(referencedSecrets(spec({ grafana: { enabled: false, adminSecretRef: { name: 'admin' } } }))).toEqual([]);
  });

  it('names each remote write credential by its list index, only while metrics are on', () => {
    const remoteWrite = [
      {
        url: 'https://lts.example/api/v1/push',
        basicAuth: { usernameSecretRef: { name: 'lts', key: 'user' }, passwordSecretRef: { name: 'lts', key: 'pass' } },
      },
      { url: 'https://other.example/write', bearerTokenSecretRef: { name: 'tok', key: 'token' } },
    ];
    const s = spec({ grafana: { enabled: false }, metrics: { enabled: true, remoteWrite } });
    expect(referencedSecrets(s)).toEqual([
      { path: 'spec.metrics.remoteWrite[0].basicAuth.usernameSecretRef', name: 'lts', key: 'user' },
      { path: 'spec.metrics.remoteWrite[0].basicAuth.passwordSecretRef', name: 'lts', key: 'pass' },
      { path: 'spec.metrics.remoteWrite[1].bearerTokenSecretRef', name: 'tok', key: 'token' },
    ]);
    expect(referencedSecrets(spec({ grafana: { enabled: false }, metrics: { enabled: false, remoteWrite } }))).toEqual(
      [],
    );
  });
});

describe('workloadReady', () => {
  it('is ready only when the controller saw the latest generation and every replica is available', () => {
    expect(
      workloadReady(
        workload('Deployment', 2, { replicas: 2 }, { observedGeneration: 2, availableReplicas: 2, updatedReplicas: 2 }),
      ),
    ).toEqual({
      ready: true,
      quorate: true,
      replicas: '2/2',
    });
    expect(
      workloadReady(
        workload('Deployment', 3, { replicas: 2 }, { observedGeneration: 2, availableReplicas: 2, updatedReplicas: 2 }),
      ).ready,
    ).toBe(false);
    expect(
      workloadReady(workload('StatefulSet', 1, { replicas: 1 }, { observedGeneration: 1, readyReplicas: 0 })).ready,
    ).toBe(false);
    expect(
      workloadReady(
        workload(
          'DaemonSet',
          1,
          {},
          { observedGeneration: 1, desiredNumberScheduled: 3, numberReady: 3, updatedNumberScheduled: 3 },
        ),
      ).ready,
    ).toBe(true);
    expect(workloadReady(undefined)).toEqual({ ready: false, quorate: false, replicas: '0/?' });
  });

  it('serves with its quorum: a ring member down is below full strength, not unavailable', () => {
    const ring = (ready: number, generation = 1) =>
      workload(
        'StatefulSet',
        generation,
        { replicas: 3 },
        { observedGeneration: 1, readyReplicas: ready, updatedReplicas: 3 },
      );
    expect(workloadReady(ring(2), 2)).toEqual({ ready: false, quorate: true, replicas: '2/3' });
    expect(workloadReady(ring(1), 2)).toEqual({ ready: false, quorate: false, replicas: '1/3' });
    // Without a quorum every replica is needed; an unseen spec is never serving the new one.
    expect(workloadReady(ring(2)).quorate).toBe(false);
    expect(workloadReady(ring(3, 2), 2).quorate).toBe(false);
    // A DaemonSet needs every scheduled pod, whatever quorum is passed.
    const ds = workload('DaemonSet', 1, {}, { observedGeneration: 1, desiredNumberScheduled: 3, numberReady: 2 });
    expect(workloadReady(ds, 1).quorate).toBe(false);
  });
});

describe('componentStatus', () => {
  const sts = (name: string, replicas: number, ready: number): KubeObject => ({
    ...workload(
      'StatefulSet',
      1,
      { replicas },
      { observedGeneration: 1, readyReplicas: ready, updatedReplicas: replicas },
    ),
    metadata: { name, namespace: 'o', generation: 1 },
  });
  const rendered = (name: string, replicas: number, maxUnavailable?: number): RenderedObject[] => [
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name, labels: { 'vigil.dev/stack': 's', 'app.kubernetes.io/component': 'loki' } },
      spec: { replicas },
    },
    ...(maxUnavailable === undefined
      ? []
      : [
          {
            apiVersion: 'policy/v1',
            kind: 'PodDisruptionBudget',
            metadata: { name: `${name}-pdb`, labels: {} },
            spec: { maxUnavailable },
          },
        ]),
  ];

  it('shows each target against its size and is ready only when every target has quorum', () => {
    const objects = [...rendered('s-loki-write', 3, 1), ...rendered('s-loki-read', 2, 1)];
    const live = (w: number, r: number) =>
      new Map([
        ['StatefulSet/s-loki-write', sts('s-loki-write', 3, w)],
        ['StatefulSet/s-loki-read', sts('s-loki-read', 2, r)],
      ]);
    const serving = componentStatus(objects, live(2, 2)).loki;
    expect(serving).toEqual({
      ready: true,
      replicas: '2/3, 2/2',
      targets: {
        'loki-write': { ready: false, replicas: '2/3', quorum: 2 },
        'loki-read': { ready: true, replicas: '2/2', quorum: 1 },
      },
      message: 'serving with quorum: loki-write 2/3 (quorum 2)',
    });
    const down = componentStatus(objects, live(1, 2)).loki;
    expect(down.ready).toBe(false);
    expect(down.message).toBe('waiting for replicas: loki-write 1/3 (quorum 2)');
    expect(componentStatus(objects, live(3, 2)).loki).toEqual({
      ready: true,
      replicas: '3/3, 2/2',
      targets: {
        'loki-write': { ready: true, replicas: '3/3', quorum: 2 },
        'loki-read': { ready: true, replicas: '2/2', quorum: 1 },
      },
    });
  });
});

describe('forEachLimit', () => {
  it('never runs more than the limit at once and visits every item', async () => {
    let inFlight = 0;
    let max = 0;
    const seen: number[] = [];
    await forEachLimit([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      inFlight++;
      max = Math.max(max, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      seen.push(n);
      inFlight--;
    });
    expect(max).toBe(3);
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('rejects with the first error, after the others have settled', async () => {
    const done: number[] = [];
    await expect(
      forEachLimit([1, 2, 3], 3, async (n) => {
        await new Promise((r) => setTimeout(r, n * 5));
        if (n === 1) throw new Error('first');
        done.push(n);
      }),
    ).rejects.toThrow('first');
    expect(done).toEqual([2, 3]);
  });
});

describe('scalingCondition (docs/adr/0017-scalable-loki-tempo.md)', () => {
  const stack = (s: Record<string, unknown>): ObservabilityStack => ({
    apiVersion: 'observability.vigil.dev/v1alpha1',
    kind: 'ObservabilityStack',
    metadata: { name: 's', namespace: 'o' },
    spec: spec(s),
  });
  const raw = (conditions: { type: string }[] = []): KubeObject =>
    ({ apiVersion: 'v1', kind: 'ObservabilityStack', metadata: { name: 's' }, status: { conditions } }) as KubeObject;
  const s3 = { s3: { endpoint: 'minio:9000', bucket: 'logs', secretRef: { name: 's3' } } };

  it('warns a medium or large stack whose Loki or Tempo stays a single binary for want of S3, naming the field', () => {
    const [c] = scalingCondition(stack({ size: 'large', logs: { enabled: true }, traces: { enabled: true } }), raw());
    expect(c).toMatchObject({ type: 'ScalingLimited', status: 'True', reason: 'NoObjectStorage' });
    expect(c.message).toBe(
      'spec.objectStorage.s3 is not set: Loki and Tempo run as a single binary with one replica at size large; set spec.objectStorage.s3 to run them scalable',
    );
    expect(scalingCondition(stack({ size: 'medium', logs: { enabled: true } }), raw())[0].message).toContain(
      'Loki runs as a single binary',
    );
  });

  it('is absent where nothing is limited, and False once a stack that had it no longer does', () => {
    expect(scalingCondition(stack({ size: 'small', logs: { enabled: true } }), raw())).toEqual([]);
    expect(scalingCondition(stack({ size: 'large' }), raw())).toEqual([]);
    const fixed = stack({ size: 'large', logs: { enabled: true }, objectStorage: s3 });
    expect(scalingCondition(fixed, raw())).toEqual([]);
    expect(scalingCondition(fixed, raw([{ type: 'ScalingLimited' }]))).toEqual([
      expect.objectContaining({ type: 'ScalingLimited', status: 'False', reason: 'AsExpected' }),
    ]);
  });

  it('rides on every outcome that applied, never on one that did not', () => {
    const c = scalingCondition(stack({ size: 'large', logs: { enabled: true } }), raw());
    expect(withConditions(progressing({}, 'R', 'm', 1), c)).toMatchObject({ kind: 'progressing', extra: c });
    expect(withConditions(ready({}, 'R', 'm'), c)).toMatchObject({ kind: 'ready', extra: c });
    expect(withConditions(problem('R', []), c)).not.toHaveProperty('extra');
  });
});
