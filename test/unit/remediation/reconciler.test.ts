import { describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { PolicyReconciler } from '../../../controller/remediation/reconciler.js';
import type { EventInput, KubeObject } from '../../../kube/types.js';
import { aPolicy } from './policies.js';

function setup(policy: KubeObject | undefined, token: string | undefined = 'tok') {
  const patches: unknown[] = [];
  const applied: KubeObject[] = [];
  const events: EventInput[] = [];
  const woken: string[] = [];
  const blocked: number[] = [];
  let current = policy;
  const r = new PolicyReconciler({
    kube: {
      patchStatus: async (_p, _ns, _n, status) => {
        patches.push(status);
        if (current) current = { ...current, status: { ...(current.status as object), ...(status as object) } };
      },
      apply: async (o) => {
        applied.push(o);
        return o;
      },
      event: async (e) => {
        events.push(e);
      },
    },
    getPolicy: () => current,
    log: pino({ level: 'silent' }),
    now: () => new Date('2026-01-01T10:00:00.000Z'),
    token: () => token,
    onStackChanged: (ns, s) => woken.push(`${ns}/${s}`),
    onBlocked: (_ns, _p, n) => blocked.push(n),
  });
  return {
    r,
    patches,
    applied,
    events,
    woken,
    blocked,
    set: (p: KubeObject | undefined) => {
      current = p;
    },
  };
}
const asObject = (p: ReturnType<typeof aPolicy>, extra: Record<string, unknown> = {}): KubeObject =>
  ({ ...p, metadata: { ...p.metadata, generation: 1, uid: 'u1' }, ...extra }) as unknown as KubeObject;

describe('the RemediationPolicy reconciler', () => {
  it('accepts a valid policy once, copies the token into the namespace and wakes its stack', async () => {
    const s = setup(asObject(aPolicy()));
    expect(await s.r.reconcile('shop', 'restart-crashloop')).toBeUndefined();
    expect(s.patches).toEqual([
      {
        observedGeneration: 1,
        conditions: [
          expect.objectContaining({ type: 'Ready', status: 'True', reason: 'PolicyAccepted', observedGeneration: 1 }),
          expect.objectContaining({ type: 'Blocked', status: 'False', reason: 'NoTargetBlocked' }),
        ],
      },
    ]);
    expect(
      s.applied.map((o) => [o.kind, o.metadata.namespace, o.metadata.name, (o.data as Record<string, string>).token]),
    ).toEqual([['Secret', 'shop', 'vigil-remediation-token', Buffer.from('tok').toString('base64')]]);
    expect(s.woken).toEqual(['shop/full']);
    // Idle: nothing changed, nothing written.
    await s.r.reconcile('shop', 'restart-crashloop');
    expect(s.patches).toHaveLength(1);
    expect(s.applied).toHaveLength(1);
    expect(s.woken).toEqual(['shop/full']);
  });

  it('reports a blocked target in the Blocked condition and wakes up when the block ends', async () => {
    const status = {
      targets: [
        {
          target: 'Deployment/checkout',
          state: 'Blocked',
          actions: [],
          attempts: 3,
          blockedUntil: '2026-01-01T10:30:00.000Z',
        },
      ],
    };
    const s = setup(asObject(aPolicy(), { status }));
    const next = await s.r.reconcile('shop', 'restart-crashloop');
    expect(next?.requeueAfterMs).toBe(30 * 60_000 + 1000);
    expect(s.patches[0]).toMatchObject({
      conditions: [
        { type: 'Ready', status: 'True' },
        {
          type: 'Blocked',
          status: 'True',
          reason: 'BreakerOpen',
          message: 'Deployment/checkout until 2026-01-01T10:30:00.000Z',
        },
      ],
    });
    expect(s.blocked).toEqual([1]);
  });

  it('says what is wrong with an invalid spec, with a Warning Event, and copies no token', async () => {
    const bad = asObject(aPolicy());
    (bad.spec as { action: unknown }).action = { type: 'scale' };
    const s = setup(bad);
    await s.r.reconcile('shop', 'restart-crashloop');
    expect(s.patches[0]).toMatchObject({
      conditions: [
        {
          type: 'Ready',
          status: 'False',
          reason: 'InvalidSpec',
          message: expect.stringContaining('spec.action.scale'),
        },
        { type: 'Blocked', status: 'False' },
      ],
    });
    expect(s.events.map((e) => [e.type, e.reason])).toEqual([['Warning', 'InvalidSpec']]);
    expect(s.applied).toEqual([]);
  });

  it('wakes the stack it named when the policy is deleted, and the new one when it moves', async () => {
    const s = setup(asObject(aPolicy()));
    await s.r.reconcile('shop', 'restart-crashloop');
    s.set(asObject(aPolicy({ stackRef: { name: 'other' } }), { metadata: { ...aPolicy().metadata, generation: 2 } }));
    await s.r.reconcile('shop', 'restart-crashloop');
    s.set(undefined);
    await s.r.reconcile('shop', 'restart-crashloop');
    expect(s.woken).toEqual(['shop/full', 'shop/full', 'shop/other', 'shop/other']);
  });
});
