// One bounded queue and one worker per destination, so a slow or failing backend holds back
// only its own data. Items leave the queue when the destination accepted them, refused them for
// good (a non-retryable status, logged and counted), or kept failing for maxElapsedMs (dropped,
// logged and counted, as the collector's exporters give up after max_elapsed_time); retryable
// failures (429, 5xx, connection errors) are retried meanwhile with exponential backoff and full
// jitter, a destination's Retry-After honoured up to the backoff maximum. A queue is bounded in
// records and in bytes. A required queue never drops for room: when it is over capacity, ingest
// refuses new requests instead (the sender gets 429 and retries). An optional one (Datadog) drops
// what does not fit and counts it, so that its outage never stops ingest or the other exports.
import type { Logger } from 'pino';
import { backoffMs } from '../lib/backoff.js';
import type { CorrelatorMetricSet } from './metrics.js';

export type SendResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly retryable: boolean; readonly message: string; readonly retryAfterMs?: number };

export interface Destination<T> {
  readonly name: string;
  /** Sends one batch; resolves (never rejects) with what happened. */
  send(batch: readonly T[]): Promise<SendResult>;
}

export interface QueueOptions<T> {
  readonly maxRecords: number;
  /** Estimated bytes held (by `size`); past it the queue is full, as past maxRecords. */
  readonly maxBytes?: number;
  readonly size?: (item: T) => number;
  /** How long one batch is retried before it is dropped. */
  readonly maxElapsedMs?: number;
  /** Drops what does not fit (counted) instead of being full: ingest never waits for it. */
  readonly optional?: boolean;
  readonly batchSize: number;
  /** How long a partial batch waits for more records before it is sent anyway. */
  readonly lingerMs: number;
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  /** Records one item stands for (a forwarded OTLP request carries many spans). */
  readonly weight?: (item: T) => number;
  readonly random?: () => number;
}

/** Classifies an HTTP status the way OTLP and Promtail do: only 429 and 5xx are worth a retry. */
export function resultOfStatus(status: number, body: string, retryAfter: string | null): SendResult {
  if (status >= 200 && status < 300) return { ok: true };
  const retryable = status === 429 || (status >= 500 && status < 600);
  return {
    ok: false,
    retryable,
    message: `HTTP ${status}: ${body.slice(0, 300)}`,
    retryAfterMs: retryAfterMs(retryAfter),
  };
}

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header)) return Number(header) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** What the server needs from a queue without knowing its item type. */
export interface QueueHandle {
  readonly name: string;
  readonly depth: number;
  readonly bytes: number;
  readonly full: boolean;
  /** An optional queue never refuses ingest: it drops what does not fit. */
  readonly optional: boolean;
  hasRoom(records: number, bytes?: number): boolean;
  start(): void;
  stop(timeoutMs: number): Promise<number>;
}

export class ExportQueue<T> implements QueueHandle {
  private items: T[] = [];
  private weights: number[] = [];
  private sizes: number[] = [];
  private depthRecords = 0;
  private depthBytes = 0;
  private running = false;
  private stopping = false;
  private deadline = Number.POSITIVE_INFINITY;
  private wake: (() => void) | undefined;
  /** Cuts a retry backoff short when stop() is called (new data must not, or an outage would be hammered). */
  private wakeBackoff: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly weight: (item: T) => number;
  private readonly size: (item: T) => number;
  private readonly random: () => number;
  private readonly maxBytes: number;

  constructor(
    private readonly dest: Destination<T>,
    private readonly opts: QueueOptions<T>,
    private readonly metrics: CorrelatorMetricSet,
    private readonly log: Logger,
  ) {
    this.weight = opts.weight ?? (() => 1);
    this.size = opts.size ?? (() => 0);
    this.random = opts.random ?? Math.random;
    this.maxBytes = opts.maxBytes ?? Number.POSITIVE_INFINITY;
    metrics.exportQueueCapacity.set({ destination: dest.name }, opts.maxRecords);
    if (opts.maxBytes !== undefined) metrics.exportQueueCapacityBytes.set({ destination: dest.name }, opts.maxBytes);
    metrics.exportQueueDepth.set({ destination: dest.name }, 0);
    metrics.exportQueueBytes.set({ destination: dest.name }, 0);
  }

  get optional(): boolean {
    return this.opts.optional === true;
  }

  /** Estimated bytes waiting, including a batch in flight. */
  get bytes(): number {
    return this.depthBytes;
  }

  get name(): string {
    return this.dest.name;
  }

  /** Records waiting, including a batch in flight. */
  get depth(): number {
    return this.depthRecords;
  }

  get full(): boolean {
    return this.depthRecords >= this.opts.maxRecords || this.depthBytes >= this.maxBytes;
  }

  /** Whether `records` more (of `bytes` estimated bytes) fit under the caps. */
  hasRoom(records: number, bytes = 0): boolean {
    return this.depthRecords + records <= this.opts.maxRecords && this.depthBytes + bytes <= this.maxBytes;
  }

  /**
   * A required queue always accepts (callers check hasRoom() before accepting data from a client);
   * an optional one drops, and counts, what does not fit.
   */
  push(items: readonly T[]): void {
    let dropped = 0;
    for (const it of items) {
      const w = this.weight(it);
      const b = this.size(it);
      if (this.opts.optional && !this.hasRoom(w, b)) {
        dropped += w;
        continue;
      }
      this.items.push(it);
      this.weights.push(w);
      this.sizes.push(b);
      this.depthRecords += w;
      this.depthBytes += b;
    }
    if (dropped > 0) {
      this.metrics.exportAbandoned.inc({ destination: this.dest.name, reason: 'queue_full' }, dropped);
      if (!this.warnedFull) {
        this.warnedFull = true;
        this.log.warn(
          { destination: this.dest.name, records: dropped },
          'Dropped records for an optional destination whose queue is full; ingest and the other destinations go on',
        );
      }
    } else if (!this.full) this.warnedFull = false;
    this.gauges();
    if (this.depthRecords >= this.opts.batchSize) this.wake?.();
  }

  /** Logged once per spell of a full optional queue, not once per push. */
  private warnedFull = false;

  private gauges(): void {
    this.metrics.exportQueueDepth.set({ destination: this.dest.name }, this.depthRecords);
    this.metrics.exportQueueBytes.set({ destination: this.dest.name }, this.depthBytes);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Sends what is queued until empty or the deadline, then stops. Returns the records left. */
  async stop(timeoutMs: number): Promise<number> {
    this.stopping = true;
    this.deadline = Date.now() + timeoutMs;
    if (!this.running) this.start();
    this.wake?.();
    this.wakeBackoff?.();
    await this.loop;
    if (this.depthRecords > 0) {
      this.log.error(
        { destination: this.dest.name, records: this.depthRecords },
        'Stopped export queue with records unsent: the deadline passed while the destination failed',
      );
    }
    return this.depthRecords;
  }

  private async run(): Promise<void> {
    while (true) {
      if (this.items.length === 0) {
        if (this.stopping) break;
        await this.sleep(this.opts.lingerMs);
        continue;
      }
      if (this.depthRecords < this.opts.batchSize && !this.stopping) {
        await this.sleep(this.opts.lingerMs);
      }
      const n = this.batchLength();
      const delivered = await this.deliver(this.items.slice(0, n));
      if (!delivered) break; // stopping and past the deadline
      let w = 0;
      let b = 0;
      for (let i = 0; i < n; i++) {
        w += this.weights[i];
        b += this.sizes[i];
      }
      this.items.splice(0, n);
      this.weights.splice(0, n);
      this.sizes.splice(0, n);
      this.depthRecords -= w;
      this.depthBytes -= b;
      this.gauges();
    }
    this.running = false;
  }

  /** Items from the front adding up to at most batchSize records (at least one item). */
  private batchLength(): number {
    let w = 0;
    let n = 0;
    while (n < this.items.length && (n === 0 || w + this.weights[n] <= this.opts.batchSize)) {
      w += this.weights[n];
      n++;
    }
    return n;
  }

  /** True once the batch is done with (accepted, refused for good, or retried for too long). */
  private async deliver(batch: readonly T[]): Promise<boolean> {
    const labels = { destination: this.dest.name };
    const startedAt = Date.now();
    const maxElapsedMs = this.opts.maxElapsedMs ?? Number.POSITIVE_INFINITY;
    const backoffMaxMs = this.opts.backoffMaxMs ?? 30_000;
    for (let attempt = 0; ; attempt++) {
      const end = this.metrics.exportDuration.startTimer(labels);
      const result = await this.dest.send(batch);
      end();
      if (result.ok) {
        this.metrics.exportAttempts.inc({ ...labels, result: 'success' });
        return true;
      }
      if (!result.retryable) {
        const records = batch.reduce((s, it) => s + this.weight(it), 0);
        this.metrics.exportAttempts.inc({ ...labels, result: 'rejected' });
        this.metrics.exportDropped.inc(labels, records);
        this.log.error(
          { destination: this.dest.name, records, reason: result.message },
          'Destination refused a batch for good; dropped it',
        );
        return true;
      }
      this.metrics.exportAttempts.inc({ ...labels, result: 'retry' });
      if (Date.now() - startedAt >= maxElapsedMs) {
        const records = batch.reduce((s, it) => s + this.weight(it), 0);
        this.metrics.exportAbandoned.inc({ ...labels, reason: 'retry_timeout' }, records);
        this.log.error(
          { destination: this.dest.name, records, attempts: attempt + 1, reason: result.message },
          'Gave up on a batch after retrying for the maximum elapsed time; dropped it',
        );
        return true;
      }
      // A destination's Retry-After is honoured only up to the backoff maximum: a hostile or broken
      // one must not park the queue for hours.
      const wait = Math.max(
        Math.min(result.retryAfterMs ?? 0, backoffMaxMs),
        backoffMs(attempt, { baseMs: this.opts.backoffBaseMs ?? 250, maxMs: backoffMaxMs }, this.random),
      );
      // The last attempt comes at the end of the elapsed time, not a full backoff after it.
      const left = Math.max(0, startedAt + maxElapsedMs - Date.now());
      if (this.stopping && Date.now() >= this.deadline) return false;
      this.log.warn(
        { destination: this.dest.name, attempt: attempt + 1, retryInMs: wait, reason: result.message },
        'Export failed; retrying',
      );
      await this.sleep(Math.min(wait, left), true);
    }
  }

  private sleep(ms: number, backoff = false): Promise<void> {
    const slot = backoff ? 'wakeBackoff' : 'wake';
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this[slot] = undefined;
        resolve();
      };
      const t = setTimeout(done, this.stopping ? Math.min(ms, Math.max(0, this.deadline - Date.now())) : ms);
      this[slot] = done;
    });
  }
}
