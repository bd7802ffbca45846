// Pure helpers for conditions and drift: no client, no clock (the time is passed in).
import type { Condition } from '../api/types.js';
import { sameQuantity } from '../lib/quantities.js';

export interface ConditionInput {
  type: string;
  status: Condition['status'];
  reason: string;
  message: string;
}

/**
 * Sets conditions the way metav1 does: lastTransitionTime changes only when the status changes;
 * the others keep their order; observedGeneration is the generation this reconcile acted on.
 */
export function setConditions(
  current: readonly Condition[] | undefined,
  updates: readonly ConditionInput[],
  generation: number | undefined,
  now: string,
): Condition[] {
  const out = [...(current ?? [])];
  for (const u of updates) {
    const i = out.findIndex((c) => c.type === u.type);
    const prev = i >= 0 ? out[i] : undefined;
    const next: Condition = {
      type: u.type,
      status: u.status,
      observedGeneration: generation,
      lastTransitionTime: prev && prev.status === u.status ? prev.lastTransitionTime : now,
      reason: u.reason,
      message: u.message,
    };
    if (i >= 0) out[i] = next;
    else out.push(next);
  }
  return out;
}

/** Deep equality of JSON values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => jsonEqual(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => jsonEqual(ao[k], bo[k]));
}

function sameScalar(want: unknown, have: unknown): boolean {
  if (want === have) return true;
  // The API server canonicalises quantities (1000m → 1, 0.5 → 500m) and accepts numbers for them.
  if (
    (typeof want === 'string' || typeof want === 'number') &&
    (typeof have === 'string' || typeof have === 'number')
  ) {
    return sameQuantity(want, have);
  }
  return false;
}

/**
 * Whether every field we want is present with our value in the live object. The server adds
 * defaults and other managers add fields; those do not count as drift. A hand edit of a field we
 * set (replicas, a ConfigMap key) does. Used so that an idle operator sends no writes at all.
 */
export function isSubset(want: unknown, have: unknown): boolean {
  if (want === null || typeof want !== 'object') return sameScalar(want, have);
  if (have === null || typeof have !== 'object') return false;
  if (Array.isArray(want)) {
    if (!Array.isArray(have) || have.length !== want.length) return false;
    return want.every((w, i) => isSubset(w, have[i]));
  }
  const h = have as Record<string, unknown>;
  for (const [k, w] of Object.entries(want as Record<string, unknown>)) {
    if (w === undefined) continue;
    if (!(k in h)) {
      // Empty objects/arrays and false-y defaults the server drops are not drift.
      if (typeof w === 'object' && w !== null && Object.keys(w).length === 0) continue;
      return false;
    }
    if (!isSubset(w, h[k])) return false;
  }
  return true;
}

/**
 * A JSON merge patch that turns `current` into `next`: keys gone from `next` are sent as null (a
 * merge patch that merely omits them leaves them in place: a pruned component's endpoint, a
 * message that no longer applies). Arrays and scalars are replaced whole.
 */
export function mergePatch(current: unknown, next: unknown): unknown {
  if (!isPlainObject(current) || !isPlainObject(next)) return next;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(next)) if (v !== undefined) out[k] = mergePatch(current[k], v);
  for (const k of Object.keys(current)) if (!(k in next) || next[k] === undefined) out[k] = null;
  return out;
}
const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
