import { describe, expect, it } from '@jest/globals';
import type { RemediationPolicyStatus } from '../../../api/remediation.js';
import {
  complete,
  type DecideInput,
  decide,
  MAX_DELIVERIES,
  MAX_TARGETS,
  waitAfter,
} from '../../../controller/remediation/engine.js';
import { alertMatches } from '../../../controller/remediation/match.js';
import { anAlert, aPolicy, at } from './policies.js';

const found = { found: true as const, id: 'Deployment/checkout' };

/** Feeds deliveries one after another, carrying the ledger, and returns each decision. */
function run(
  steps: { at: string; alert?: Parameters<typeof anAlert>[0]; target?: DecideInput['target'] }[],
  spec = aPolicy().spec,
  start?: RemediationPolicyStatus,
) {
  let status = start;
  const out = [];
  for (const s of steps) {
    const r = decide({ spec, status, alert: anAlert(s.alert), target: s.target ?? found, now: at(s.at) });
    // The caller marks a started action done, as the service does after the call.
    status = r.decision.act ? complete(r.status, r.decision.target!, r.decision.key, 'acted') : r.status;
    out.push(r.decision);
  }
  return { decisions: out, results: out.map((d) => d.result), status: status! };
}

describe('the remediation decision engine', () => {
  it('acts on the first firing delivery and records the action in the ledger', () => {
    const { decisions, status } = run([{ at: '10:00:05' }]);
    expect(decisions[0]).toMatchObject({
      result: 'acted',
      act: true,
      target: 'Deployment/checkout',
      key: 'aaaa1111@2026-01-01T10:00:00.000Z',
    });
    expect(status.targets).toEqual([
      expect.objectContaining({
        target: 'Deployment/checkout',
        attempts: 1,
        actions: [expect.objectContaining({ result: 'acted' })],
      }),
    ]);
    expect(status.targets?.[0].nextAllowedAt).toBe('2026-01-01T10:05:05.000Z');
  });

  it('never acts on a resolved notification', () => {
    const { results } = run([{ at: '10:00:05', alert: { status: 'resolved', endsAt: '2026-01-01T10:00:04Z' } }]);
    expect(results).toEqual(['resolved']);
  });

  it('treats a repeat or a retry of the same delivery as a duplicate that changes nothing', () => {
    const first = run([{ at: '10:00:05' }]);
    const again = decide({
      spec: aPolicy().spec,
      status: first.status,
      alert: anAlert(),
      target: found,
      now: at('10:00:06'),
    });
    expect(again.decision).toMatchObject({ result: 'duplicate', act: false });
    expect(again.status).toBe(first.status);
    const later = decide({
      spec: aPolicy().spec,
      status: first.status,
      alert: anAlert(),
      target: found,
      now: at('10:04:00'),
    });
    expect(later.decision.result).toBe('duplicate');
  });

  it('skips a different alert on the same target during the cooldown', () => {
    const { results } = run([{ at: '10:00:05' }, { at: '10:01:00', alert: { fingerprint: 'bbbb' } }]);
    expect(results).toEqual(['acted', 'cooldown']);
  });

  it('waits longer after each attempt that did not resolve the alert (exponential backoff)', () => {
    const spec = aPolicy({ guard: { maxActions: 5 } }).spec;
    expect([1, 2, 3, 4, 5].map((n) => waitAfter(spec, n) / 60_000)).toEqual([5, 10, 20, 30, 30]);
    const { results } = run(
      [
        { at: '10:00:00' }, // attempt 1, next at 10:05
        { at: '10:05:00' }, // attempt 2 (still firing), next at 10:15
        { at: '10:10:00', alert: { fingerprint: 'cccc' } }, // inside the doubled wait
        { at: '10:15:00' }, // attempt 3, next at 10:35
      ],
      spec,
    );
    expect(results).toEqual(['acted', 'acted', 'backoff', 'acted']);
  });

  it('after a resolve only the plain cooldown is left, not the grown backoff', () => {
    const spec = aPolicy({ guard: { maxActions: 5 } }).spec;
    const { results, status } = run(
      [
        { at: '10:00:00' },
        { at: '10:05:00' }, // attempt 2: the next one would wait 10 minutes, until 10:15
        { at: '10:06:00', alert: { status: 'resolved' } },
        { at: '10:11:00', alert: { startsAt: '2026-01-01T10:10:30.000Z' } }, // past 10:05 + 5m
      ],
      spec,
    );
    expect(results).toEqual(['acted', 'acted', 'resolved', 'acted']);
    expect(status.targets?.[0].attempts).toBe(1);
  });

  it('opens the breaker after maxActions without the alert resolving, then stays blocked and quiet', () => {
    const { decisions, results, status } = run([
      { at: '10:00:00' },
      { at: '10:05:00' },
      { at: '10:15:00' },
      { at: '10:35:00' }, // a 4th attempt: the budget of 3 is spent, nothing resolved
      { at: '10:40:00', alert: { fingerprint: 'dddd' } },
      { at: '10:45:00', alert: { fingerprint: 'dddd' } },
    ]);
    expect(results).toEqual(['acted', 'acted', 'acted', 'tripped', 'blocked', 'duplicate']);
    expect(decisions[3].blockedUntil).toBe('2026-01-01T12:35:00.000Z');
    expect(status.targets?.[0]).toMatchObject({ state: 'Blocked', blockedUntil: '2026-01-01T12:35:00.000Z' });
    expect(status.blockedTargets).toBe(1);
    expect(status.targets?.[0].actions.filter((a) => a.result === 'acted')).toHaveLength(3);
  });

  it('closes the breaker once the alert resolved and a cooldown passed, and acts on a new firing', () => {
    const tripped = run([{ at: '10:00:00' }, { at: '10:05:00' }, { at: '10:15:00' }, { at: '10:35:00' }]).status;
    const { results } = run(
      [
        { at: '10:36:00', alert: { status: 'resolved' } },
        { at: '10:38:00', alert: { startsAt: '2026-01-01T10:37:30.000Z' } }, // within the cooldown after resolving
        { at: '10:42:00', alert: { startsAt: '2026-01-01T10:41:30.000Z' } },
      ],
      undefined,
      tripped,
    );
    expect(results).toEqual(['resolved', 'blocked', 'acted']);
  });

  it('closes the breaker when blockFor has passed even if the alert never resolved', () => {
    const tripped = run([{ at: '10:00:00' }, { at: '10:05:00' }, { at: '10:15:00' }, { at: '10:35:00' }]).status;
    const { decisions } = run([{ at: '12:35:01' }], undefined, tripped);
    expect(decisions[0]).toMatchObject({ result: 'acted', unblocked: true });
  });

  it('skips for budget, without blocking, when a flapping alert spent it while resolving in between', () => {
    const steps = ['10:00', '10:06', '10:12'].flatMap((t, i) => [
      { at: `${t}:00`, alert: { startsAt: `2026-01-01T${t}:00.000Z` } },
      {
        at: `${t}:30`,
        alert: { status: 'resolved' as const, startsAt: `2026-01-01T${t}:00.000Z`, fingerprint: `r${i}` },
      },
    ]);
    const { results } = run([...steps, { at: '10:20:00', alert: { startsAt: '2026-01-01T10:20:00.000Z' } }]);
    expect(results).toEqual(['acted', 'resolved', 'acted', 'resolved', 'acted', 'resolved', 'budget']);
  });

  it('counts actions only inside the window', () => {
    const spec = aPolicy({ guard: { maxActions: 1, window: '10m', cooldown: '1m' } }).spec;
    const { results } = run([{ at: '10:00:00' }, { at: '10:05:00' }], spec);
    expect(results).toEqual(['acted', 'tripped']);
    const spec2 = aPolicy({ guard: { maxActions: 1, window: '10m', cooldown: '1m' } }).spec;
    expect(run([{ at: '10:00:00' }, { at: '10:11:00' }], spec2).results).toEqual(['acted', 'acted']);
  });

  it('in DryRun records what it would do, acts on nothing, and its records never spend the Enforce budget', () => {
    const dry = aPolicy({ mode: 'DryRun' }).spec;
    const d = run([{ at: '10:00:00' }, { at: '10:01:00', alert: { fingerprint: 'x' } }], dry);
    expect(d.decisions.map((x) => [x.result, x.act])).toEqual([
      ['dry-run', false],
      ['cooldown', false],
    ]);
    expect(d.status.targets?.[0].actions.map((a) => a.result)).toEqual(['dry-run']);
    const enforce = run([{ at: '10:02:00', alert: { fingerprint: 'y' } }], aPolicy().spec, d.status);
    expect(enforce.results).toEqual(['acted']);
  });

  it('does nothing while suspended', () => {
    expect(run([{ at: '10:00:00' }], aPolicy({ suspend: true }).spec).results).toEqual(['suspended']);
  });

  it('records why there is no target, and a refused stack component', () => {
    const { decisions } = run([
      { at: '10:00:00', target: { found: false, result: 'no-target', message: 'Deployment checkout not found' } },
      {
        at: '10:00:01',
        alert: { fingerprint: 'z' },
        target: { found: false, result: 'refused', message: 'a stack component' },
      },
    ]);
    expect(decisions.map((d) => [d.result, d.act, d.message])).toEqual([
      ['no-target', false, 'Deployment checkout not found'],
      ['refused', false, 'a stack component'],
    ]);
  });

  it('keeps a failed action in the budget and does not retry it on the redelivery', () => {
    const spec = aPolicy().spec;
    const r = decide({ spec, status: undefined, alert: anAlert(), target: found, now: at('10:00:00') });
    const failed = complete(r.status, 'Deployment/checkout', r.decision.key, 'failed');
    expect(failed.targets?.[0].actions.map((a) => a.result)).toEqual(['failed']);
    const retry = decide({ spec, status: failed, alert: anAlert(), target: found, now: at('10:00:10') });
    expect(retry.decision).toMatchObject({ result: 'duplicate', act: false });
  });

  it('counts a started action whose outcome was never written (a crash right after acting)', () => {
    const spec = aPolicy().spec;
    const r = decide({ spec, status: undefined, alert: anAlert(), target: found, now: at('10:00:00') });
    // No complete(): the operator died between the call and the second write.
    const again = decide({
      spec,
      status: r.status,
      alert: anAlert({ fingerprint: 'other' }),
      target: found,
      now: at('10:01:00'),
    });
    expect(again.decision.result).toBe('cooldown');
  });

  it('keeps the ledger bounded however many alerts arrive', () => {
    const spec = aPolicy({ guard: { cooldown: '1s', maxActions: 20 } }).spec;
    let status: RemediationPolicyStatus | undefined;
    for (let i = 0; i < 400; i++) {
      const target = { found: true as const, id: `Deployment/app-${i % 80}` };
      const r = decide({
        spec,
        status,
        alert: anAlert({ fingerprint: `f${i}` }),
        target,
        now: new Date(at('10:00:00').getTime() + i * 1000),
      });
      status = r.status;
    }
    expect(status?.deliveries?.length).toBe(MAX_DELIVERIES);
    expect(status?.targets?.length).toBe(MAX_TARGETS);
    expect(JSON.stringify(status).length).toBeLessThan(64 * 1024);
  });

  it('matches labels as Alertmanager does, and a pattern that does not compile matches nothing', () => {
    const spec = (op: '=' | '!=' | '=~' | '!~', value: string) =>
      aPolicy({ match: { alertname: 'CheckoutDown', matchers: [{ name: 'severity', op, value }] } }).spec;
    const labels = { alertname: 'CheckoutDown', severity: 'critical' };
    expect(alertMatches(spec('=~', 'crit.*'), labels)).toBe(true);
    expect(alertMatches(spec('=~', 'crit'), labels)).toBe(false); // anchored
    expect(alertMatches(spec('!~', 'warn.*'), labels)).toBe(true);
    expect(alertMatches(spec('!=', 'critical'), labels)).toBe(false);
    expect(alertMatches(spec('=', ''), { alertname: 'CheckoutDown' })).toBe(true); // a missing label is ""
    expect(alertMatches(spec('=~', '(unclosed'), labels)).toBe(false);
    expect(alertMatches(spec('!~', '(unclosed'), labels)).toBe(false);
    expect(alertMatches(spec('=', 'critical'), { ...labels, alertname: 'Other' })).toBe(false);
  });
});
