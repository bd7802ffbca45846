// The reconcile contract, for both kinds. A reconcile returns an Outcome; settle() turns it into the
// object's status (written here and nowhere else: once per reconcile, only when it changed, with
// observedGeneration), a Warning Event when something went wrong that a person must see, and the
// work queue's next step: look again after N, retry with backoff, or wait until the object changes.
import type { Logger } from 'pino';
import type { Condition } from '../api/types.js';
import type { Problem } from '../api/validate.js';
import { CONDITION_DEGRADED, CONDITION_PROGRESSING, CONDITION_READY, Reasons } from '../conventions/index.js';
import { RenderBug } from '../desired/check.js';
import { type KubeApi, KubeError, type KubeObject } from '../kube/types.js';
import { type HandlerResult, TerminalError } from './queue.js';
import { type ConditionInput, jsonEqual, mergePatch, setConditions } from './status.js';

/** The status fields a kind adds to observedGeneration and conditions (components, ruleCount, ...). */
export type StatusFields = Record<string, unknown>;

export type Outcome =
  /** Everything is applied and available. `extra` conditions (an SLO's BudgetCurrent) are set too. */
  | {
      kind: 'ready';
      fields: StatusFields;
      reason: string;
      message: string;
      requeueAfterMs?: number;
      extra?: ConditionInput[];
    }
  /** Applied; waiting for something that happens by itself (replicas, the stack). */
  | {
      kind: 'progressing';
      fields: StatusFields;
      reason: string;
      message: string;
      requeueAfterMs?: number;
      extra?: ConditionInput[];
    }
  /**
   * Applied all it could, but a person must fix something that keeps part of it from running (a
   * stack whose agent overlaps an older stack's collection, or that its namespace's Pod Security
   * level refuses): the status fields are written, Degraded is True, nothing progresses by itself.
   */
  | {
      kind: 'degraded';
      fields: StatusFields;
      reason: string;
      problems: Problem[];
      waitingFor: string;
      requeueAfterMs?: number;
      extra?: ConditionInput[];
    }
  /** A person must fix the spec or create what it references; the children are left as they are. */
  | { kind: 'problem'; reason: string; problems: Problem[]; waitingFor: string; requeueAfterMs?: number }
  /** The reconcile failed: retried with backoff when retryable, otherwise left until the object changes. */
  | { kind: 'failed'; reason: string; error: Error; retryable: boolean };

export const ready = (
  fields: StatusFields,
  reason: string,
  message: string,
  more: { requeueAfterMs?: number; extra?: ConditionInput[] } = {},
): Outcome => ({ kind: 'ready', fields, reason, message, ...more });
export const progressing = (
  fields: StatusFields,
  reason: string,
  message: string,
  requeueAfterMs: number,
): Outcome => ({ kind: 'progressing', fields, reason, message, requeueAfterMs });
export const degraded = (
  fields: StatusFields,
  reason: string,
  problems: Problem[],
  more: { waitingFor?: string; requeueAfterMs?: number } = {},
): Outcome => ({
  kind: 'degraded',
  fields,
  reason,
  problems,
  waitingFor: more.waitingFor ?? 'Waiting for the spec to be fixed.',
  requeueAfterMs: more.requeueAfterMs,
});
export const problem = (
  reason: string,
  problems: Problem[],
  more: { waitingFor?: string; requeueAfterMs?: number } = {},
): Outcome => ({
  kind: 'problem',
  reason,
  problems,
  waitingFor: more.waitingFor ?? 'Waiting for the spec to be fixed.',
  requeueAfterMs: more.requeueAfterMs,
});

/**
 * Vigil's own code failed: render threw, or produced a kind Vigil does not manage. A bug to report,
 * not a spec to fix, so never InvalidSpec; and retrying the same spec would fail the same way.
 */
export class ReconcileBug extends Error {
  constructor(
    what: string,
    readonly origin?: unknown,
  ) {
    super(`${what}. This is a bug in Vigil, not a problem with the spec: please report it with the operator's log.`);
    this.name = 'ReconcileBug';
  }
}

/** Runs a pure check or render step; an exception in it is a ReconcileBug (desired/'s RenderBug is one already). */
export function rendering<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof RenderBug) throw err;
    throw new ReconcileBug(`Rendering failed: ${(err as Error)?.message ?? String(err)}`, err);
  }
}

const isBug = (err: unknown) => err instanceof ReconcileBug || err instanceof RenderBug;

/**
 * Whether doing the same again later can succeed: 408, 429, 5xx, an optimistic-concurrency 409
 * (Conflict) and errors without a status code (the network, timeouts) can; other 4xx (400, 403,
 * 404, 409 AlreadyExists, 422) cannot until something changes.
 */
export function isRetryable(err: unknown): boolean {
  if (isBug(err)) return false;
  if (err instanceof KubeError) return err.conflict ? (err.reason ?? 'Conflict') === 'Conflict' : !err.permanent;
  return true;
}

/** The outcome of a reconcile that threw. */
export function failure(err: unknown): Outcome {
  const error = err instanceof Error ? err : new Error(String(err));
  const reason = isBug(err) ? Reasons.ReconcileError : Reasons.ApplyFailed;
  return { kind: 'failed', reason, error, retryable: isRetryable(err) };
}

const problemText = (problems: readonly Problem[]) => problems.map((p) => `${p.path}: ${p.message}`).join('; ');

/**
 * The one rule for Ready, Progressing and Degraded, from the outcome alone. Ready is True only when
 * all is applied and available, and then nothing progresses and nothing is wrong. Degraded is True
 * whenever something is wrong (a spec to fix, a failed reconcile), and then Ready is False.
 * Progressing is True while Vigil moves on by itself (waiting for replicas or the stack, retrying an
 * error), False when it is done or waits for a person (a spec to fix, an error it does not retry).
 */
export function conditionsFor(o: Outcome): [ConditionInput, ConditionInput, ConditionInput] {
  const cond = (type: string, on: boolean, reason: string, message: string): ConditionInput => ({
    type,
    status: on ? 'True' : 'False',
    reason,
    message,
  });
  switch (o.kind) {
    case 'ready':
      return [
        cond(CONDITION_READY, true, o.reason, o.message),
        cond(CONDITION_PROGRESSING, false, Reasons.ReconcileSucceeded, 'Up to date.'),
        cond(CONDITION_DEGRADED, false, Reasons.AsExpected, 'No problems.'),
      ];
    case 'progressing':
      return [
        cond(CONDITION_READY, false, o.reason, o.message),
        cond(CONDITION_PROGRESSING, true, o.reason, o.message),
        cond(CONDITION_DEGRADED, false, Reasons.AsExpected, 'No problems.'),
      ];
    case 'degraded':
    case 'problem': {
      const message = problemText(o.problems);
      return [
        cond(CONDITION_READY, false, o.reason, message),
        cond(CONDITION_PROGRESSING, false, o.reason, o.waitingFor),
        cond(CONDITION_DEGRADED, true, o.reason, message),
      ];
    }
    case 'failed':
      return [
        cond(CONDITION_READY, false, o.reason, o.error.message),
        cond(
          CONDITION_PROGRESSING,
          o.retryable,
          o.reason,
          o.retryable ? 'Retrying with backoff.' : 'Not retried until the object changes.',
        ),
        cond(CONDITION_DEGRADED, true, o.reason, o.error.message),
      ];
  }
}

export interface SettleDeps {
  kube: Pick<KubeApi, 'patchStatus' | 'event'>;
  log: Logger;
  now(): Date;
}

interface StatusBase {
  observedGeneration?: number;
  conditions?: Condition[];
  [field: string]: unknown;
}

/**
 * Reconciles one object with `run`, then settles its outcome. A deleted object (not in the cache, or
 * being deleted) is left alone: its children carry ownerReferences and the garbage collector removes
 * them. What `run` throws is an outcome too (failure()).
 */
export async function reconcileObject(
  d: SettleDeps,
  plural: string,
  raw: KubeObject | undefined,
  run: (raw: KubeObject, log: Logger) => Promise<Outcome>,
): Promise<HandlerResult | undefined> {
  if (!raw || raw.metadata.deletionTimestamp) return undefined;
  const log = d.log.child({ kind: raw.kind, namespace: raw.metadata.namespace, name: raw.metadata.name });
  let o: Outcome;
  try {
    o = await run(raw, log);
  } catch (err) {
    o = failure(err);
  }
  return settle(d, plural, raw, o, log);
}

/**
 * The one place status is written: the outcome's fields (or, when nothing was applied, the fields
 * already there) and conditionsFor(outcome), for the generation acted on, only when they differ from
 * what is stored. Returns the queue's next step; a failed outcome is thrown, a terminal one as a
 * TerminalError so that the queue does not retry it.
 */
export async function settle(
  d: SettleDeps,
  plural: string,
  raw: KubeObject,
  o: Outcome,
  log: Logger,
): Promise<HandlerResult | undefined> {
  const { namespace, name, generation, uid } = raw.metadata as {
    namespace: string;
    name: string;
    generation?: number;
    uid?: string;
  };
  const current = (raw.status ?? {}) as StatusBase;
  const { observedGeneration: _g, conditions: _c, ...kept } = current;
  const applied = o.kind === 'ready' || o.kind === 'progressing' || o.kind === 'degraded';
  // `extra` conditions of an outcome that applied (an SLO's BudgetCurrent, a stack's ScalingLimited).
  const conds = [...conditionsFor(o), ...(applied ? (o.extra ?? []) : [])];
  const next = {
    ...(applied ? o.fields : kept),
    observedGeneration: generation,
    conditions: setConditions(current.conditions, conds, generation, d.now().toISOString()),
  };

  if (o.kind === 'problem')
    log.info({ reason: o.reason, problems: o.problems }, 'Left children as they are: the spec needs a fix');
  if (o.kind === 'failed' && isBug(o.error)) {
    const origin = o.error instanceof ReconcileBug && o.error.origin instanceof Error ? o.error.origin : o.error;
    log.error({ err: origin }, `Failed to reconcile ${raw.kind}: a bug in Vigil`);
  }

  const before = current.conditions?.find((c) => c.type === CONDITION_DEGRADED);
  const degraded = conds[2];
  const news =
    before?.status !== 'True' || before.message !== degraded.message || before.observedGeneration !== generation;
  if (degraded.status === 'True' && news) {
    await d.kube
      .event({
        involved: { apiVersion: raw.apiVersion, kind: raw.kind, namespace, name, uid },
        type: 'Warning',
        reason: degraded.reason,
        message: degraded.message,
      })
      .catch((err) => log.warn({ err: String(err) }, 'Failed to record Event'));
  }
  if (!jsonEqual(next, current)) {
    try {
      await d.kube.patchStatus(plural, namespace, name, mergePatch(current, next));
      log.info({ ready: conds[0].status, reason: conds[0].reason }, `Updated ${raw.kind} status`);
    } catch (err) {
      // A failed reconcile's own error says more than the status write that failed after it.
      if (o.kind !== 'failed') throw isRetryable(err) ? err : new TerminalError(err as Error);
      log.warn({ err: (err as Error).message }, `Failed to update ${raw.kind} status`);
    }
  }

  if (o.kind === 'failed') throw o.retryable ? o.error : new TerminalError(o.error);
  return o.requeueAfterMs === undefined ? undefined : { requeueAfterMs: o.requeueAfterMs };
}

/** The outcome with `extra` conditions added, when it applied (ready, progressing, degraded). */
export function withConditions(o: Outcome, extra: readonly ConditionInput[]): Outcome {
  if (!extra.length || (o.kind !== 'ready' && o.kind !== 'progressing' && o.kind !== 'degraded')) return o;
  return { ...o, extra: [...(o.extra ?? []), ...extra] };
}
