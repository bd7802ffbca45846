// The decision engine: one alert delivery + a policy + the ledger in its status → a decision and
// the next ledger. Pure (the clock comes in as `now`), so the operator, `vigil remediation simulate`
// and the tests run the same code. The guard, in the order it is checked:
//   suspended → no target / refused → breaker open (Blocked) → cooldown or backoff since the last
//   action → budget spent in the window (breaker trips if the alert never resolved) → act.
// A delivery is its alert's fingerprint and startsAt; a repeat of one already decided, with nothing
// changed since, is a duplicate: it records nothing and never acts twice.
import type { RemediationPolicySpec, RemediationPolicyStatus, TargetLedger } from '../../api/remediation.js';
import { type DecisionResult, DecisionResults, TargetStates } from '../../conventions/remediation.js';
import { durationMs } from '../../lib/durations.js';
import type { WebhookAlert } from './payload.js';

export { durationMs };

/** Bounds of the ledger in status: it must stay small however many alerts arrive. */
export const MAX_DELIVERIES = 100;
export const MAX_TARGETS = 50;

export interface Decision {
  result: DecisionResult;
  /** Enforce and the guard allows it: the caller runs the action, then calls complete(). */
  act: boolean;
  key: string;
  /** Kind/name, when a target was found. */
  target?: string;
  message: string;
  /** Set when this decision opened the breaker. */
  blockedUntil?: string;
  /** Set when a resolved or expired block closed the breaker now. */
  unblocked?: boolean;
}

/** Where the alert points, as the caller found it: a live target, or why there is none. */
export type TargetLookup =
  | { found: true; id: string }
  | { found: false; result: typeof DecisionResults.noTarget | typeof DecisionResults.refused; message: string };

export interface DecideInput {
  spec: RemediationPolicySpec;
  status: RemediationPolicyStatus | undefined;
  alert: WebhookAlert;
  target: TargetLookup;
  now: Date;
}

export const deliveryKey = (a: Pick<WebhookAlert, 'fingerprint' | 'startsAt'>): string =>
  `${a.fingerprint}@${a.startsAt}`;

const iso = (ms: number) => new Date(ms).toISOString();
const ms = (s: string | undefined) => (s ? Date.parse(s) : Number.NaN);
const isActionResult = (r: string) => r === 'started' || r === 'acted' || r === 'failed' || r === 'dry-run';

/** The wait after the n-th attempt on an alert that has not resolved: cooldown × factor^(n-1), capped. */
export function waitAfter(spec: RemediationPolicySpec, attempts: number): number {
  const cooldown = durationMs(spec.guard.cooldown);
  const factor = spec.guard.backoffFactor;
  const wait = cooldown * factor ** Math.max(0, attempts - 1);
  return Math.min(Math.max(cooldown, durationMs(spec.guard.maxBackoff)), wait);
}

function clone(status: RemediationPolicyStatus | undefined): RemediationPolicyStatus {
  return structuredClone({ ...(status ?? {}), targets: status?.targets ?? [], deliveries: status?.deliveries ?? [] });
}

/** The actions that count in this mode: a DryRun's pretend actions never spend Enforce's budget. */
const counted = (t: TargetLedger, spec: RemediationPolicySpec) =>
  t.actions.filter((a) => (spec.mode === 'DryRun' ? a.result === 'dry-run' : a.result !== 'dry-run'));

function stateOf(t: TargetLedger, now: number): string {
  if (t.blockedUntil && ms(t.blockedUntil) > now) return TargetStates.Blocked;
  if (t.nextAllowedAt && ms(t.nextAllowedAt) > now) return TargetStates.CoolingDown;
  return TargetStates.Ready;
}

/** Drops what the guard no longer needs and keeps the ledger within its bounds. */
export function prune(
  spec: RemediationPolicySpec,
  status: RemediationPolicyStatus,
  now: Date,
): RemediationPolicyStatus {
  const t0 = now.getTime();
  const windowStart = t0 - durationMs(spec.guard.window);
  const targets = (status.targets ?? []).map((t) => {
    const actions = t.actions.filter((a) => ms(a.at) >= windowStart).slice(-(spec.guard.maxActions * 2 + 2));
    return { ...t, actions, state: stateOf(t, t0) };
  });
  // Idle targets (nothing in the window, no block, no wait) carry nothing the guard reads.
  const live = targets.filter(
    (t) =>
      t.actions.length > 0 || t.state !== TargetStates.Ready || (t.attempts > 0 && ms(t.nextAllowedAt) > windowStart),
  );
  const last = (t: TargetLedger) => Math.max(0, ...t.actions.map((a) => ms(a.at)));
  live.sort((a, b) => last(b) - last(a));
  const kept = live.slice(0, MAX_TARGETS).sort((a, b) => a.target.localeCompare(b.target));
  const deliveries = (status.deliveries ?? []).slice(-MAX_DELIVERIES);
  const blockedTargets = kept.filter((t) => t.state === TargetStates.Blocked).length;
  return { ...status, targets: kept, deliveries, blockedTargets };
}

function record(next: RemediationPolicyStatus, key: string, target: string | undefined, result: string, now: Date) {
  const list = next.deliveries ?? [];
  next.deliveries = [
    ...list.filter((d) => d.key !== key),
    { key, ...(target ? { target } : {}), at: now.toISOString(), result },
  ];
}

export function decide(input: DecideInput): { decision: Decision; status: RemediationPolicyStatus } {
  const { spec, alert, now } = input;
  const t0 = now.getTime();
  const next = clone(input.status);
  const resolved = alert.status === 'resolved';
  const key = resolved ? `${deliveryKey(alert)}:resolved` : deliveryKey(alert);
  const previous = next.deliveries?.find((d) => d.key === key);
  const targetId = input.target.found ? input.target.id : undefined;

  const finish = (d: Omit<Decision, 'key' | 'target' | 'act'> & { act?: boolean }) => {
    const decision: Decision = { act: false, ...d, key, ...(targetId ? { target: targetId } : {}) };
    // A repeat that would be decided the same way again changes nothing and says nothing.
    const pretendAction = decision.result === DecisionResults.dryRun;
    if (previous && previous.result === decision.result && !decision.act && !pretendAction && !decision.blockedUntil) {
      return {
        decision: { ...decision, result: DecisionResults.duplicate, message: `already decided: ${previous.result}` },
        status: input.status ?? {},
      };
    }
    record(next, key, targetId, decision.result, now);
    return { decision, status: prune(spec, next, now) };
  };

  let ledger: TargetLedger | undefined;
  if (targetId) {
    ledger = next.targets?.find((t) => t.target === targetId);
    if (!ledger) {
      ledger = { target: targetId, state: TargetStates.Ready, actions: [], attempts: 0 };
      next.targets?.push(ledger);
    }
  }

  if (resolved) {
    if (ledger) {
      ledger.lastResolvedAt = now.toISOString();
      ledger.attempts = 0;
      // The backoff was for an alert that would not resolve; it did: only the plain cooldown is left.
      const lastAt = ms(ledger.actions.at(-1)?.at);
      const cooled = lastAt + durationMs(spec.guard.cooldown);
      if (ledger.nextAllowedAt && cooled < ms(ledger.nextAllowedAt)) ledger.nextAllowedAt = iso(cooled);
    }
    return finish({
      result: DecisionResults.resolved,
      message: 'the alert resolved; a resolved notification never acts',
    });
  }
  if (spec.suspend) return finish({ result: DecisionResults.suspended, message: 'the policy is suspended' });
  if (!input.target.found) return finish({ result: input.target.result, message: input.target.message });
  const t = ledger as TargetLedger;

  // The breaker closes when its time is up, or once the alert resolved and a cooldown has passed.
  let unblocked = false;
  if (t.blockedUntil) {
    const until = ms(t.blockedUntil);
    const resolvedAt = ms(t.lastResolvedAt);
    const resolvedAfterBlock = resolvedAt > until - durationMs(spec.guard.blockFor);
    const reopenAt = resolvedAfterBlock ? Math.min(until, resolvedAt + durationMs(spec.guard.cooldown)) : until;
    if (t0 < reopenAt) {
      return finish({
        result: DecisionResults.blocked,
        message: `blocked until ${iso(reopenAt)}: ${spec.guard.maxActions} actions did not resolve the alert`,
      });
    }
    // A fresh start: the actions before the block are no longer the budget's.
    t.blockedUntil = undefined;
    t.actions = [];
    t.attempts = 0;
    t.nextAllowedAt = undefined;
    unblocked = true;
  }

  const actions = counted(t, spec);
  const last = actions.at(-1);
  if (t.nextAllowedAt && t0 < ms(t.nextAllowedAt) && last) {
    if (last.alert === key && previous && isActionResult(previous.result)) {
      return {
        decision: {
          act: false,
          key,
          target: targetId,
          result: DecisionResults.duplicate,
          message: `already ${previous.result} for this delivery`,
        },
        status: input.status ?? {},
      };
    }
    const backoff = t.attempts > 1;
    return finish({
      result: backoff ? DecisionResults.backoff : DecisionResults.cooldown,
      message: `${backoff ? `backoff after ${t.attempts} attempts` : 'cooldown'}: next action allowed at ${t.nextAllowedAt}`,
      unblocked,
    });
  }

  const windowStart = t0 - durationMs(spec.guard.window);
  const inWindow = actions.filter((a) => ms(a.at) >= windowStart);
  if (inWindow.length >= spec.guard.maxActions) {
    const resolvedSince = ms(t.lastResolvedAt) >= ms(inWindow[0].at);
    if (!resolvedSince) {
      t.blockedUntil = iso(t0 + durationMs(spec.guard.blockFor));
      return finish({
        result: DecisionResults.tripped,
        message: `${inWindow.length} actions in ${spec.guard.window} did not resolve the alert: blocked until ${t.blockedUntil}`,
        blockedUntil: t.blockedUntil,
      });
    }
    return finish({
      result: DecisionResults.budget,
      message: `${inWindow.length} actions in ${spec.guard.window} (budget ${spec.guard.maxActions}); next when the oldest leaves the window`,
      unblocked,
    });
  }

  // Still firing after an action in the window: another attempt, with a longer wait after it.
  t.attempts = inWindow.length > 0 ? t.attempts + 1 : 1;
  t.nextAllowedAt = iso(t0 + waitAfter(spec, t.attempts));
  const dry = spec.mode === 'DryRun';
  t.actions.push({ at: now.toISOString(), alert: key, result: dry ? 'dry-run' : 'started' });
  return finish({
    result: dry ? DecisionResults.dryRun : DecisionResults.acted,
    act: !dry,
    message: `${dry ? 'would run' : 'running'} ${spec.action.type} (attempt ${t.attempts}, next allowed at ${t.nextAllowedAt})`,
    unblocked,
  });
}

/** After the action ran: its outcome replaces the `started` mark (a failure is not retried blindly). */
export function complete(
  status: RemediationPolicyStatus,
  target: string,
  key: string,
  result: 'acted' | 'failed',
): RemediationPolicyStatus {
  const next = structuredClone(status);
  const t = next.targets?.find((x) => x.target === target);
  const a = [...(t?.actions ?? [])].reverse().find((x) => x.alert === key && x.result === 'started');
  if (a) a.result = result;
  const d = next.deliveries?.find((x) => x.key === key);
  if (d && result === 'failed') d.result = DecisionResults.failed;
  return next;
}
