import { describe, expect, it } from '@jest/globals';
import type { ObservabilityStack } from '../../../api/types.js';
import { validateResource } from '../../../api/validate.js';
import { forEachLimit } from '../../../controller/apply.js';
import { referencedSecrets, workloadReady } from '../../../controller/stack.js';
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
      grafana: { enabled: true, adminSecretRef: { name: 'admin' } },
      logs: { enabled: true },
      objectStorage: { s3: { endpoint: 'minio:9000', bucket: 'logs', secretRef: { name: 's3' } } },
      correlation: { enabled: true, datadog: { apiKeySecretRef: { name: 'dd', key: 'api-key' } } },
      alerting: { receivers: [{ name: 'pd', pagerduty: { routingKeySecretRef: { name: 'pd', key: 'key' } } }] },
    });
    expect(referencedSecrets(s)).toEqual([
      { path: 'spec.grafana.adminSecretRef.name', name: 'admin' },
      { path: 'spec.objectStorage.s3.secretRef.name', name: 's3' },
      { path: 'spec.correlation.datadog.apiKeySecretRef', name: 'dd', key: 'api-key' },
      { path: 'spec.alerting.receivers[0].pagerduty.routingKeySecretRef', name: 'pd', key: 'key' },
    ]);
    expect(referencedSecrets(spec({ grafana: { enabled: false, adminSecretRef: { name: 'admin' } } }))).toEqual([]);
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
    expect(workloadReady(undefined)).toEqual({ ready: false, replicas: '0/?' });
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
