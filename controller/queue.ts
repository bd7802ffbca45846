// A level-based work queue in the manner of client-go's: keys deduplicate while waiting; a key is
// never handled by two workers at once (one added while it is being handled runs again after);
// failures retry with per-key exponential backoff and jitter, except a TerminalError, which is
// not retried at all (a later add, from an event or the resync, handles the key again); a bounded
// number of workers.
import { backoffMs } from '../lib/backoff.js';

export interface HandlerResult {
  /** Handle the key again after this many milliseconds (a periodic check), even on success. */
  requeueAfterMs?: number;
}
export type Handler = (key: string) => Promise<HandlerResult | undefined>;

/**
 * A failure that retrying the same work cannot fix (a permanent 4xx, a bug): the queue forgets the
 * key's backoff and does not requeue it. `cause` is the error itself.
 */
export class TerminalError extends Error {
  constructor(override readonly cause: Error) {
    super(cause.message);
    this.name = 'TerminalError';
  }
}

export interface QueueOptions {
  workers: number;
  handler: Handler;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Called after each handling, for metrics and logs. */
  onResult?: (key: string, outcome: 'success' | 'error' | 'terminal', error?: unknown) => void;
  random?: () => number;
}

export class WorkQueue {
  private readonly waiting: string[] = [];
  private readonly waitingSet = new Set<string>();
  private readonly processing = new Set<string>();
  /** Keys added while being processed: handled again when the current run ends. */
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly idleWorkers: (() => void)[] = [];
  private readonly running: Promise<void>[] = [];
  private shuttingDown = false;
  private readonly base: number;
  private readonly max: number;
  private readonly random: () => number;

  constructor(private readonly opts: QueueOptions) {
    if (!Number.isInteger(opts.workers) || opts.workers < 1) throw new Error('workers must be a positive integer');
    this.base = opts.baseDelayMs ?? 500;
    this.max = opts.maxDelayMs ?? 60_000;
    this.random = opts.random ?? Math.random;
  }

  /** Keys waiting to be handled (not counting those being handled now). */
  get depth(): number {
    return this.waiting.length;
  }

  add(key: string): void {
    if (this.shuttingDown) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.waitingSet.has(key)) return;
    this.waitingSet.add(key);
    this.waiting.push(key);
    this.idleWorkers.shift()?.();
  }

  /** Adds the key after a delay; an earlier pending delay for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    if (this.timers.has(key)) return;
    const t = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    t.unref();
    this.timers.set(key, t);
  }

  /** Drops a key's backoff history (e.g. when its object is deleted). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  start(): void {
    for (let i = 0; i < this.opts.workers; i++) this.running.push(this.worker());
  }

  /** Stops taking new work and resolves when every in-flight handler has finished. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.waiting.length = 0;
    this.waitingSet.clear();
    for (const wake of this.idleWorkers.splice(0)) wake();
    await Promise.all(this.running);
  }

  backoffFor(key: string): number {
    const n = this.failures.get(key) ?? 0;
    // Half jitter, in [ceiling/2, ceiling], keeps retries of many keys from marching in step.
    return backoffMs(Math.max(0, n - 1), { baseMs: this.base, maxMs: this.max, jitter: 0.5 }, this.random);
  }

  private async next(): Promise<string | undefined> {
    while (!this.shuttingDown) {
      const key = this.waiting.shift();
      if (key !== undefined) {
        this.waitingSet.delete(key);
        return key;
      }
      await new Promise<void>((resolve) => this.idleWorkers.push(resolve));
    }
    return undefined;
  }

  private async worker(): Promise<void> {
    for (;;) {
      const key = await this.next();
      if (key === undefined) return;
      this.processing.add(key);
      let requeueAfter: number | undefined;
      try {
        const r = await this.opts.handler(key);
        this.failures.delete(key);
        requeueAfter = r?.requeueAfterMs;
        this.opts.onResult?.(key, 'success');
      } catch (err) {
        if (err instanceof TerminalError) {
          this.failures.delete(key);
          this.opts.onResult?.(key, 'terminal', err);
        } else {
          this.failures.set(key, (this.failures.get(key) ?? 0) + 1);
          requeueAfter = this.backoffFor(key);
          this.opts.onResult?.(key, 'error', err);
        }
      } finally {
        this.processing.delete(key);
      }
      if (this.dirty.delete(key)) this.add(key);
      else if (requeueAfter !== undefined) this.addAfter(key, requeueAfter);
    }
  }
}
