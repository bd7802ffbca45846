// Exponential backoff, capped, with jitter: the wait before retry number `attempt` (0 for the
// first). Jitter spreads the retries of many clients (keys, watches, export queues) that failed
// together, so that they do not come back in step.

export interface BackoffPolicy {
  /** The ceiling of the first wait (attempt 0); it doubles with every attempt. */
  readonly baseMs: number;
  /** No wait is longer than this. */
  readonly maxMs: number;
  /**
   * The random share of each wait, 0..1. 1 (the default) is full jitter, uniform in [0, ceiling]
   * (the AWS architecture blog's "full jitter"); 0.5 keeps at least half, [ceiling/2, ceiling];
   * 0 waits exactly the ceiling.
   */
  readonly jitter?: number;
}

function check(attempt: number, p: BackoffPolicy): void {
  if (!Number.isInteger(attempt) || attempt < 0)
    throw new RangeError(`attempt must be an integer >= 0 (got ${attempt})`);
  if (!(p.baseMs >= 0)) throw new RangeError(`baseMs must be >= 0 (got ${p.baseMs})`);
  if (!(p.maxMs >= p.baseMs)) throw new RangeError(`maxMs must be >= baseMs (got ${p.maxMs} < ${p.baseMs})`);
  const j = p.jitter ?? 1;
  if (!(j >= 0 && j <= 1)) throw new RangeError(`jitter must be within 0..1 (got ${j})`);
}

/** The longest wait before retry `attempt`: min(maxMs, baseMs × 2^attempt). */
export function backoffCeilingMs(attempt: number, p: BackoffPolicy): number {
  check(attempt, p);
  // 2^52 × any base is past every cap; a larger exponent could only overflow to Infinity.
  return Math.min(p.maxMs, p.baseMs * 2 ** Math.min(attempt, 52));
}

/**
 * The wait before retry `attempt`, in whole milliseconds: the ceiling less a random share of it
 * (`random` returns [0, 1), like Math.random, which is the default; tests pass their own).
 */
export function backoffMs(attempt: number, p: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = backoffCeilingMs(attempt, p);
  const jitter = p.jitter ?? 1;
  return Math.round(ceiling * (1 - jitter) + random() * ceiling * jitter);
}
