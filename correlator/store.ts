// Correlation by trace_id in a window of arrival time. A trace opens when its first span or log
// arrives and stays open for `windowMs`; what arrives meanwhile joins it; when the window ends
// the record is closed and handed to `onClose` (export). Data for the trace after that opens a
// new record, as the Collector's groupbytrace processor does with late spans.
//
// Records are kept in creation order. Windows have one length, so they also close in that order:
// the open records are always a suffix of the list, and eviction (oldest first) and closing both
// work from the front without scanning.
//
// Queries walk the list newest first and stop at `limit`. So that a filter matching little of
// what is held does not walk all of it, the list is cut into blocks of BLOCK consecutive records,
// each summarising the event times and services its records have ever had; a block that cannot
// match is skipped whole. Summaries only ever widen, so they may keep a block that no longer
// matches (it is then scanned), never skip one that does.
//
// Two budgets bound what is held, whichever is reached first evicting the oldest record: the
// record count (MAX_CORRELATIONS) and an estimate of their bytes (MAX_STORE_BYTES), which a sender
// moves with long attribute values and many services. A record lists at most maxServices services
// (the rest are counted), and a service name is held once however many records name it.
import type { LogEvent, SeedAttributes, Severity, SpanEvent } from './model.js';

export interface Correlation {
  readonly id: number;
  readonly traceId: string;
  /** Services in the order they were first seen (replaced, not grown: exact-size arrays). */
  services: readonly string[];
  spanCount: number;
  errorSpans: number;
  logCount: number;
  logsBySeverity: Partial<Record<Severity, number>>;
  /** Event time range (ms since epoch) over spans and logs; 0 while unknown. */
  firstMs: number;
  lastMs: number;
  attributes: SeedAttributes;
  /** Arrival time of the first record (engine clock). */
  readonly openedAt: number;
  closedAt: number | undefined;
  /** Estimated heap bytes of the record, its index entries and what only it references. */
  bytes: number;
}

export interface CorrelationView {
  correlation_id: string;
  trace_id: string;
  status: 'open' | 'closed';
  services: string[];
  span_count: number;
  error_spans: number;
  log_count: number;
  logs_by_severity: Partial<Record<Severity, number>>;
  first_time: string | null;
  last_time: string | null;
  attributes: SeedAttributes;
  opened_at: string;
  closed_at: string | null;
}

export interface Query {
  readonly traceId?: string;
  readonly service?: string;
  /** Keeps records whose event range overlaps [startMs, endMs]. */
  readonly startMs?: number;
  readonly endMs?: number;
  readonly limit: number;
}

export interface StoreOptions {
  readonly windowMs: number;
  readonly maxCorrelations: number;
  /** Estimated bytes held; past it the oldest records are evicted as for maxCorrelations. */
  readonly maxBytes?: number;
  /** Services one record lists; more are counted in servicesDropped. */
  readonly maxServices?: number;
  readonly now: () => number;
  /** Called once per record when its window ends or it is evicted while still open. */
  readonly onClose: (c: Correlation) => void;
  readonly onEvict?: (c: Correlation, wasOpen: boolean) => void;
}

export function view(c: Correlation): CorrelationView {
  const iso = (ms: number) => (ms > 0 ? new Date(ms).toISOString() : null);
  return {
    correlation_id: `${c.traceId}-${c.id}`,
    trace_id: c.traceId,
    status: c.closedAt === undefined ? 'open' : 'closed',
    services: [...c.services],
    span_count: c.spanCount,
    error_spans: c.errorSpans,
    log_count: c.logCount,
    logs_by_severity: { ...c.logsBySeverity },
    first_time: iso(c.firstMs),
    last_time: iso(c.lastMs),
    attributes: { ...c.attributes },
    opened_at: new Date(c.openedAt).toISOString(),
    closed_at: c.closedAt === undefined ? null : new Date(c.closedAt).toISOString(),
  };
}

// Shared until a record's first log or attribute: most of a record's memory is empty containers
// otherwise (the sustained benchmark holds 300k records).
const NO_COUNTS: Partial<Record<Severity, number>> = Object.freeze({});
const NO_ATTRIBUTES: SeedAttributes = Object.freeze({});

/** Records per block summary: small enough to skip precisely, large enough to be few (400 at 100k). */
const BLOCK = 256;

// Byte estimates (64-bit V8, measured with the sustained benchmark: ~620 bytes per one-span record).
/** A record with its trace id, list slot, open and trace index entries and its share of a block. */
const RECORD_BYTES = 620;
/** One service of a record: its array slot and the block summary's set entry. */
const SERVICE_REF_BYTES = 24;
/** A held service name's own entry, besides its characters. */
const SERVICE_NAME_BYTES = 80;
/** One seed attribute besides its value's characters; and the object that holds them, once. */
const ATTRIBUTE_BYTES = 40;
const OBJECT_BYTES = 64;

/** Characters to bytes: one per Latin-1 character, two otherwise (V8's two string kinds). */
function stringBytes(s: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the Latin-1 range itself
  return 24 + (/^[\x00-\xff]*$/.test(s) ? s.length : 2 * s.length);
}

interface HeldService {
  /** The one copy of the name that every record naming it shares. */
  readonly name: string;
  records: number;
}

interface Block {
  /** Smallest and largest event (or arrival) time any record of the block had. */
  minMs: number;
  maxMs: number;
  readonly services: Set<string>;
}

export class CorrelationStore {
  private list: Correlation[] = [];
  /** Index of the first live entry of `list`; entries before it were evicted. */
  private head = 0;
  /** Index of the first open entry; everything from here on is open. */
  private openFrom = 0;
  private readonly open = new Map<string, Correlation>();
  /** A trace's records: the record itself while it has one (the usual case), else an array. */
  private readonly byTrace = new Map<string, Correlation | Correlation[]>();
  /** Held records per service, so a query for a service nobody has skips the scan. */
  private readonly serviceCounts = new Map<string, HeldService>();
  private heldBytes = 0;
  private nextId = 1;
  /** Block summaries; blocks[k] covers record ids [(blockBase + k) * BLOCK, +BLOCK). */
  private blocks: Block[] = [];
  private blockBase = 0;
  evictedOpen = 0;
  evictedClosed = 0;
  /** Services not added to a record already listing maxServices. */
  servicesDropped = 0;
  /** Blocks queries skipped unread (tests check the summaries are used at all). */
  skippedBlocks = 0;

  constructor(private readonly opts: StoreOptions) {}

  get size(): number {
    return this.list.length - this.head;
  }

  get openCount(): number {
    return this.open.size;
  }

  /** Estimated bytes of what is held. */
  get bytes(): number {
    return this.heldBytes;
  }

  addSpans(spans: readonly SpanEvent[]): void {
    const now = this.opts.now();
    for (const s of spans) {
      const c = this.entry(s.traceId, now);
      c.spanCount++;
      if (s.error) c.errorSpans++;
      this.addService(c, s.service);
      this.widen(c, s.startMs);
      this.widen(c, s.endMs);
      if (s.attrs) this.merge(c, s.attrs);
    }
    this.keepWithinBytes(now);
  }

  /** Logs without a trace id are not correlated; the caller counts them. */
  addLogs(logs: readonly LogEvent[]): void {
    const now = this.opts.now();
    for (const l of logs) {
      if (l.traceId === null) continue;
      const c = this.entry(l.traceId, now);
      c.logCount++;
      if (c.logsBySeverity === NO_COUNTS) {
        c.logsBySeverity = {};
        this.grow(c, OBJECT_BYTES);
      }
      c.logsBySeverity[l.severity] = (c.logsBySeverity[l.severity] ?? 0) + 1;
      this.addService(c, l.service);
      this.widen(c, l.timeMs);
      if (l.attrs) this.merge(c, l.attrs);
    }
    this.keepWithinBytes(now);
  }

  /** Evicts the oldest records while the estimate is over the byte budget (keeping at least one). */
  private keepWithinBytes(now: number): void {
    const max = this.opts.maxBytes;
    if (max === undefined) return;
    while (this.heldBytes > max && this.size > 1) this.evictOldest(now);
  }

  /** Closes every record whose window has ended. Returns how many it closed. */
  sweep(): number {
    const now = this.opts.now();
    let closed = 0;
    while (this.openFrom < this.list.length) {
      const c = this.list[this.openFrom];
      if (c.openedAt + this.opts.windowMs > now) break;
      this.close(c, now);
      this.openFrom++;
      closed++;
    }
    return closed;
  }

  /** Closes every open record now (shutdown), so that it is exported. */
  closeAll(): number {
    const now = this.opts.now();
    let closed = 0;
    for (; this.openFrom < this.list.length; this.openFrom++) {
      this.close(this.list[this.openFrom], now);
      closed++;
    }
    return closed;
  }

  /** Newest first (by creation), filtered; stops after `limit` matches. */
  query(q: Query): Correlation[] {
    const out: Correlation[] = [];
    if (q.limit <= 0) return out;
    if (q.service !== undefined && !this.serviceCounts.has(q.service)) return out;
    const matches = (c: Correlation) =>
      (q.service === undefined || c.services.includes(q.service)) &&
      (q.startMs === undefined || (c.lastMs || c.openedAt) >= q.startMs) &&
      (q.endMs === undefined || (c.firstMs || c.openedAt) <= q.endMs);
    if (q.traceId !== undefined) {
      const held = this.byTrace.get(q.traceId);
      const forTrace = held === undefined ? [] : Array.isArray(held) ? held : [held];
      for (let i = forTrace.length - 1; i >= 0 && out.length < q.limit; i--) {
        if (matches(forTrace[i])) out.push(forTrace[i]);
      }
      return out;
    }
    const filtered = q.service !== undefined || q.startMs !== undefined || q.endMs !== undefined;
    const firstId = this.list.length > 0 ? this.list[0].id : 0;
    let i = this.list.length - 1;
    while (i >= this.head && out.length < q.limit) {
      const c = this.list[i];
      if (filtered && (c.id % BLOCK === BLOCK - 1 || i === this.list.length - 1)) {
        const b = this.blocks[Math.floor(c.id / BLOCK) - this.blockBase];
        const skip =
          b !== undefined &&
          ((q.service !== undefined && !b.services.has(q.service)) ||
            (q.startMs !== undefined && b.maxMs < q.startMs) ||
            (q.endMs !== undefined && b.minMs > q.endMs));
        if (skip) {
          this.skippedBlocks++;
          // Jump to the last record of the previous block.
          i = Math.floor(c.id / BLOCK) * BLOCK - 1 - firstId;
          continue;
        }
      }
      if (matches(c)) out.push(c);
      i--;
    }
    return out;
  }

  private block(c: Correlation): Block {
    const k = Math.floor(c.id / BLOCK) - this.blockBase;
    let b = this.blocks[k];
    if (b === undefined) {
      b = { minMs: c.openedAt, maxMs: c.openedAt, services: new Set() };
      this.blocks[k] = b;
    }
    return b;
  }

  private entry(traceId: string, now: number): Correlation {
    const existing = this.open.get(traceId);
    if (existing) return existing;
    const c: Correlation = {
      id: this.nextId++,
      traceId,
      services: [],
      spanCount: 0,
      errorSpans: 0,
      logCount: 0,
      logsBySeverity: NO_COUNTS,
      firstMs: 0,
      lastMs: 0,
      attributes: NO_ATTRIBUTES,
      openedAt: now,
      closedAt: undefined,
      bytes: RECORD_BYTES,
    };
    if (this.size >= this.opts.maxCorrelations) this.evictOldest(now);
    this.heldBytes += RECORD_BYTES;
    this.list.push(c);
    const b = this.block(c);
    if (now < b.minMs) b.minMs = now;
    if (now > b.maxMs) b.maxMs = now;
    this.open.set(traceId, c);
    const forTrace = this.byTrace.get(traceId);
    if (forTrace === undefined) this.byTrace.set(traceId, c);
    else if (Array.isArray(forTrace)) forTrace.push(c);
    else this.byTrace.set(traceId, [forTrace, c]);
    return c;
  }

  private evictOldest(now: number): void {
    const c = this.list[this.head];
    const wasOpen = c.closedAt === undefined;
    if (wasOpen) {
      // Closed early rather than lost: its partial record is still exported.
      this.close(c, now);
      this.openFrom = this.head + 1;
      this.evictedOpen++;
    } else {
      this.evictedClosed++;
    }
    this.opts.onEvict?.(c, wasOpen);
    this.heldBytes -= c.bytes;
    for (const s of c.services) {
      const held = this.serviceCounts.get(s);
      if (held === undefined) continue;
      if (--held.records === 0) {
        this.serviceCounts.delete(s);
        this.heldBytes -= SERVICE_NAME_BYTES + stringBytes(s);
      }
    }
    this.head++;
    if (c.id % BLOCK === BLOCK - 1) {
      // The block's last record left: the summary goes with it.
      this.blocks.shift();
      this.blockBase++;
    }
    // The evicted record is the trace's oldest.
    const forTrace = this.byTrace.get(c.traceId);
    if (forTrace === c) this.byTrace.delete(c.traceId);
    else if (Array.isArray(forTrace)) {
      forTrace.shift();
      if (forTrace.length === 1) this.byTrace.set(c.traceId, forTrace[0]);
    }
    // Drop the evicted prefix once it outweighs the live part, so pushes stay amortised O(1).
    if (this.head > 1024 && this.head * 2 > this.list.length) {
      this.list = this.list.slice(this.head);
      this.openFrom -= this.head;
      this.head = 0;
    }
  }

  private close(c: Correlation, now: number): void {
    c.closedAt = now;
    if (this.open.get(c.traceId) === c) this.open.delete(c.traceId);
    this.opts.onClose(c);
  }

  private addService(c: Correlation, service: string): void {
    if (c.services.includes(service)) return;
    if (c.services.length >= (this.opts.maxServices ?? Number.POSITIVE_INFINITY)) {
      this.servicesDropped++;
      return;
    }
    let held = this.serviceCounts.get(service);
    if (held === undefined) {
      held = { name: service, records: 0 };
      this.serviceCounts.set(service, held);
      this.heldBytes += SERVICE_NAME_BYTES + stringBytes(service);
    }
    held.records++;
    const name = held.name;
    c.services = c.services.length === 0 ? [name] : [...c.services, name];
    this.block(c).services.add(name);
    this.grow(c, SERVICE_REF_BYTES);
  }

  private grow(c: Correlation, bytes: number): void {
    c.bytes += bytes;
    this.heldBytes += bytes;
  }

  private widen(c: Correlation, ms: number): void {
    if (ms <= 0) return;
    if (c.firstMs === 0 || ms < c.firstMs) c.firstMs = ms;
    if (ms > c.lastMs) c.lastMs = ms;
    const b = this.block(c);
    if (ms < b.minMs) b.minMs = ms;
    if (ms > b.maxMs) b.maxMs = ms;
  }

  /** First value wins: later spans of a trace rarely disagree, and a stable record is easier to query. */
  private merge(c: Correlation, attrs: SeedAttributes): void {
    for (const k in attrs) {
      const key = k as keyof SeedAttributes;
      const value = attrs[key];
      if (c.attributes[key] === undefined && value !== undefined) {
        if (c.attributes === NO_ATTRIBUTES) {
          c.attributes = {};
          this.grow(c, OBJECT_BYTES);
        }
        c.attributes[key] = value;
        this.grow(c, ATTRIBUTE_BYTES + stringBytes(value));
      }
    }
  }
}
