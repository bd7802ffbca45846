// One bounded queue and one worker per destination, so a slow or failing backend holds back
// only its own data. Items leave the queue only when the destination accepted them or refused
// them for good (a non-retryable status, logged and counted); retryable failures (429, 5xx,
// connection errors) are retried with exponential backoff and full jitter, for as long as it
// takes. The queue never drops: when it is over capacity, ingest refuses new requests instead
// (the sender gets 429 and retries), which is how "nothing accepted is lost" holds.
import type { Logger } from 'pino';
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

/** Full jitter (AWS architecture blog): uniform in [0, min(max, base * 2^attempt)]. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  return Math.floor(random() * Math.min(maxMs, baseMs * 2 ** attempt));
}

/** What the server needs from a queue without knowing its item type. */
export interface QueueHandle {
  readonly name: string;
  readonly depth: number;
  readonly full: boolean;
  hasRoom(records: number): boolean;
  start(): void;
  stop(timeoutMs: number): Promise<number>;
}

export class ExportQueue<T> implements QueueHandle {
  private items: T[] = [];
  private weights: number[] = [];
  private depthRecords = 0;
  private running = false;
  private stopping = false;
  private deadline = Number.POSITIVE_INFINITY;
  private wake: (() => void) | undefined;
  /** Cuts a retry backoff short when stop() is called (new data must not, or an outage would be hammered). */
  private wakeBackoff: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly weight: (item: T) => number;
  private readonly random: () => number;

  constructor(
    private readonly dest: Destination<T>,
    private readonly opts: QueueOptions<T>,
    private readonly metrics: CorrelatorMetricSet,
    private readonly log: Logger,
  ) {
    this.weight = opts.weight ?? (() => 1);
    this.random = opts.random ?? Math.random;
    metrics.exportQueueCapacity.set({ destination: dest.name }, opts.maxRecords);
    metrics.exportQueueDepth.set({ destination: dest.name }, 0);
  }

  get name(): string {
    return this.dest.name;
  }

  /** Records waiting, including a batch in flight. */
  get depth(): number {
    return this.depthRecords;
  }

  get full(): boolean {
    return this.depthRecords >= this.opts.maxRecords;
  }

  /** Whether `records` more fit under the cap. */
  hasRoom(records: number): boolean {
    return this.depthRecords + records <= this.opts.maxRecords;
  }

  /** Always accepts: callers check hasRoom() before accepting data from a client. */
  push(items: readonly T[]): void {
    for (const it of items) {
      const w = this.weight(it);
      this.items.push(it);
      this.weights.push(w);
      this.depthRecords += w;
    }
    this.metrics.exportQueueDepth.set({ destination: this.dest.name }, this.depthRecords);
    if (this.depthRecords >= this.opts.batchSize) this.wake?.();
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
      for (let i = 0; i < n; i++) w += this.weights[i];
      this.items.splice(0, n);
      this.weights.splice(0, n);
      this.depthRecords -= w;
      this.metrics.exportQueueDepth.set({ destination: this.dest.name }, this.depthRecords);
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

  /** True once the batch is done with (accepted or refused for good). */
  private async deliver(batch: readonly T[]): Promise<boolean> {
    const labels = { destination: this.dest.name };
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
      const wait = Math.max(
        result.retryAfterMs ?? 0,
        backoffMs(attempt, this.opts.backoffBaseMs ?? 250, this.opts.backoffMaxMs ?? 30_000, this.random),
      );
      if (this.stopping && Date.now() >= this.deadline) return false;
      this.log.warn(
        { destination: this.dest.name, attempt: attempt + 1, retryInMs: wait, reason: result.message },
        'Export failed; retrying',
      );
      await this.sleep(wait, true);
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
