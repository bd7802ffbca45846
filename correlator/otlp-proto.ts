// OTLP protobuf (ExportLogsServiceRequest, ExportTraceServiceRequest) read straight off the wire
// into the engine's records. Only what correlation needs is decoded: ids, times, severity, status,
// service.name and the seed attributes; everything else is skipped by its length without being
// built. So a request costs memory for its accepted records only, decoding stops at the batch cap
// (3,000,000 empty records are refused after MAX_BATCH_SIZE + 1 tags), strings are decoded no
// further than their limit, and nesting is followed only where a value is rendered.
//
// Field numbers are those of the vendored opentelemetry-proto (correlator/proto). A known field
// with an unexpected wire type is skipped, as an unknown one is (what the Go runtime does).

import { BadRequest, type DecodeLimits, tooManyRecords } from './limits.js';
import {
  type Decoded,
  type LogEvent,
  SEED_ATTRIBUTES,
  type SeedAttribute,
  type SeedAttributes,
  type SpanEvent,
} from './model.js';
import { severityOf } from './severity.js';

const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const FIXED32 = 5;

/** A malformed message: one per request, so an Error is fine here. */
class Malformed extends Error {}

class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  get more(): boolean {
    return this.pos < this.end;
  }

  /** A varint of at most 53 bits (tags, lengths, enums, counts). */
  varint(): number {
    const buf = this.buf;
    let result = 0;
    let shift = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Malformed(`truncated varint at offset ${this.pos}`);
      const b = buf[this.pos++];
      if (i < 8) result += (b & 0x7f) * shift;
      shift *= 128;
      if (b < 0x80) return result;
    }
    throw new Malformed(`varint longer than 10 bytes at offset ${this.pos}`);
  }

  /** A 64-bit varint as the decimal string of its int64 value. */
  int64String(): string {
    const start = this.pos;
    const small = this.varint();
    if (this.pos - start <= 7) return String(small);
    let v = 0n;
    for (let i = this.pos - 1; i >= start; i--) v = (v << 7n) | BigInt(this.buf[i] & 0x7f);
    return String(BigInt.asIntN(64, v));
  }

  /** fixed64 as a number (exact up to 2^53, which nanoseconds since 1970 are until 2255). */
  fixed64(): number {
    if (this.pos + 8 > this.end) throw new Malformed(`truncated fixed64 at offset ${this.pos}`);
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readUInt32LE(this.pos + 4);
    this.pos += 8;
    return hi * 4294967296 + lo;
  }

  double(): number {
    if (this.pos + 8 > this.end) throw new Malformed(`truncated double at offset ${this.pos}`);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** The length of a LEN field; the bytes are [pos, pos + length). */
  length(): number {
    const n = this.varint();
    if (n > this.end - this.pos) throw new Malformed(`length ${n} at offset ${this.pos} runs past the end`);
    return n;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case VARINT:
        this.varint();
        return;
      case FIXED64:
        if (this.pos + 8 > this.end) throw new Malformed(`truncated fixed64 at offset ${this.pos}`);
        this.pos += 8;
        return;
      case LEN: {
        // Read the length first: `this.pos += this.length()` would add it to the position before it.
        const n = this.length();
        this.pos += n;
        return;
      }
      case FIXED32:
        if (this.pos + 4 > this.end) throw new Malformed(`truncated fixed32 at offset ${this.pos}`);
        this.pos += 4;
        return;
      default:
        // Groups (3, 4) are proto2-only and never in OTLP; 6 and 7 do not exist.
        throw new Malformed(`wire type ${wireType} at offset ${this.pos}`);
    }
  }
}

const SEED_KEYS = SEED_ATTRIBUTES.map((k) => ({ key: k, bytes: Buffer.from(k) }));
const SERVICE_NAME = Buffer.from('service.name');

function keyIs(buf: Buffer, start: number, end: number, want: Buffer): boolean {
  return end - start === want.length && buf.compare(want, 0, want.length, start, end) === 0;
}

function seedKey(buf: Buffer, start: number, end: number): SeedAttribute | undefined {
  const n = end - start;
  for (const k of SEED_KEYS) {
    if (n === k.bytes.length && buf.compare(k.bytes, 0, n, start, end) === 0) return k.key;
  }
  return undefined;
}

/** At most `max` characters of the UTF-8 string in [start, end), decoding no more than it needs. */
function text(buf: Buffer, start: number, end: number, max: number, onCut: () => void): string {
  if (end - start <= max) return buf.toString('utf8', start, end);
  // Four bytes make at most one character (two UTF-16 units), so 4 * max bytes hold max characters.
  const s = buf.toString('utf8', start, Math.min(end, start + 4 * max));
  if (s.length > max || start + 4 * max < end) {
    onCut();
    return s.slice(0, max);
  }
  return s;
}

interface Ctx {
  readonly limits: DecodeLimits;
  firstError: string | undefined;
  /** Counters of the cuts, made once per request (not per value). */
  readonly cutAttribute: () => void;
  readonly cutService: () => void;
  readonly cutBody: () => void;
}

/** AnyValue to the string the JSON walker renders (otlp.ts anyToString), within `max` characters. */
function anyValue(
  buf: Buffer,
  start: number,
  end: number,
  ctx: Ctx,
  depth: number,
  max: number,
  onCut: () => void,
): string {
  if (depth > ctx.limits.maxNestingDepth) {
    throw new BadRequest(`an AnyValue is nested deeper than MAX_NESTING_DEPTH (${ctx.limits.maxNestingDepth})`);
  }
  const r = new Reader(buf, start, end);
  let out = '';
  while (r.more) {
    const tag = r.varint();
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 1 && wt === LEN) {
      const n = r.length();
      out = text(buf, r.pos, r.pos + n, max, onCut);
      r.pos += n;
    } else if (field === 2 && wt === VARINT) out = r.varint() === 0 ? 'false' : 'true';
    else if (field === 3 && wt === VARINT) out = r.int64String();
    else if (field === 4 && wt === FIXED64) out = String(r.double());
    else if ((field === 5 || field === 6) && wt === LEN) {
      const n = r.length();
      out =
        field === 5
          ? arrayValue(buf, r.pos, r.pos + n, ctx, depth + 1, max, onCut)
          : kvList(buf, r.pos, r.pos + n, ctx, depth + 1, max, onCut);
      r.pos += n;
    } else if (field === 7 && wt === LEN) {
      const n = r.length();
      // Base64 of 3 bytes is 4 characters: encode only what the limit keeps.
      const take = Math.min(n, Math.ceil((max * 3) / 4) + 3);
      out = buf.toString('base64', r.pos, r.pos + take);
      if (take < n || out.length > max) {
        onCut();
        out = out.slice(0, max);
      }
      r.pos += n;
    } else r.skip(wt);
  }
  return out;
}

function arrayValue(
  buf: Buffer,
  start: number,
  end: number,
  ctx: Ctx,
  depth: number,
  max: number,
  onCut: () => void,
): string {
  const r = new Reader(buf, start, end);
  const items: string[] = [];
  let chars = 2;
  while (r.more) {
    const tag = r.varint();
    if (tag >>> 3 === 1 && (tag & 7) === LEN) {
      const n = r.length();
      if (chars <= max) {
        const v = anyValue(buf, r.pos, r.pos + n, ctx, depth, max, onCut);
        items.push(v);
        chars += v.length + 3;
      }
      r.pos += n;
    } else r.skip(tag & 7);
  }
  return fitTo(JSON.stringify(items), max, onCut);
}

function kvList(
  buf: Buffer,
  start: number,
  end: number,
  ctx: Ctx,
  depth: number,
  max: number,
  onCut: () => void,
): string {
  const r = new Reader(buf, start, end);
  const out: Record<string, string> = {};
  let chars = 2;
  while (r.more) {
    const tag = r.varint();
    if (tag >>> 3 === 1 && (tag & 7) === LEN) {
      const n = r.length();
      if (chars <= max) {
        const kv = keyValue(buf, r.pos, r.pos + n);
        if (kv.key >= 0) {
          const key = text(buf, kv.key, kv.keyEnd, max, onCut);
          const v = kv.value >= 0 ? anyValue(buf, kv.value, kv.valueEnd, ctx, depth, max, onCut) : '';
          out[key] = v;
          chars += key.length + v.length + 6;
        }
      }
      r.pos += n;
    } else r.skip(tag & 7);
  }
  return fitTo(JSON.stringify(out), max, onCut);
}

function fitTo(s: string, max: number, onCut: () => void): string {
  if (s.length <= max) return s;
  onCut();
  return s.slice(0, max);
}

/** A KeyValue's key and value positions (-1 when absent); the last occurrence of each wins. */
function keyValue(
  buf: Buffer,
  start: number,
  end: number,
): { key: number; keyEnd: number; value: number; valueEnd: number } {
  const r = new Reader(buf, start, end);
  const kv = { key: -1, keyEnd: -1, value: -1, valueEnd: -1 };
  while (r.more) {
    const tag = r.varint();
    const field = tag >>> 3;
    if ((field === 1 || field === 2) && (tag & 7) === LEN) {
      const n = r.length();
      if (field === 1) {
        kv.key = r.pos;
        kv.keyEnd = r.pos + n;
      } else {
        kv.value = r.pos;
        kv.valueEnd = r.pos + n;
      }
      r.pos += n;
    } else r.skip(tag & 7);
  }
  return kv;
}

/**
 * Walks a repeated KeyValue field (`field` of the message in [start, end)) for the seed attributes
 * and, when `service` is given, service.name. Looks at the first attributeCount entries only.
 */
class AttributeScan {
  attrs: SeedAttributes | undefined;
  service: string | undefined;
  seen = 0;

  constructor(
    private readonly ctx: Ctx,
    private readonly inherited: SeedAttributes | undefined,
    private readonly wantService: boolean,
  ) {
    this.attrs = inherited;
  }

  add(buf: Buffer, start: number, end: number): void {
    const limits = this.ctx.limits;
    if (this.seen++ >= limits.attributeCount) {
      limits.truncated.attribute_count++;
      return;
    }
    const kv = keyValue(buf, start, end);
    if (kv.key < 0) return;
    if (this.wantService && keyIs(buf, kv.key, kv.keyEnd, SERVICE_NAME)) {
      if (this.service !== undefined || kv.value < 0) return;
      const s = anyValue(buf, kv.value, kv.valueEnd, this.ctx, 1, limits.serviceNameLength, this.ctx.cutService);
      if (s) this.service = s;
      return;
    }
    const seed = seedKey(buf, kv.key, kv.keyEnd);
    if (seed === undefined) return;
    if (this.attrs === this.inherited) this.attrs = { ...this.inherited };
    (this.attrs as SeedAttributes)[seed] =
      kv.value < 0
        ? ''
        : anyValue(buf, kv.value, kv.valueEnd, this.ctx, 1, limits.attributeValueLength, this.ctx.cutAttribute);
  }
}

/** A 16- or 8-byte id: hex, null when absent, empty or all zero, undefined when malformed. */
function idAt(buf: Buffer, start: number, end: number, bytes: number): string | null | undefined {
  const n = end - start;
  if (n === 0) return null;
  if (n !== bytes) return undefined;
  let zero = true;
  for (let i = start; i < end; i++) {
    if (buf[i] !== 0) {
      zero = false;
      break;
    }
  }
  return zero ? null : buf.toString('hex', start, end);
}

/** The resource of a ResourceLogs/ResourceSpans: its service name and seed attributes. */
function resourceOf(buf: Buffer, ranges: number[], ctx: Ctx): { service: string; attrs: SeedAttributes | undefined } {
  const scan = new AttributeScan(ctx, undefined, true);
  for (let k = 0; k < ranges.length; k += 2) {
    const r = new Reader(buf, ranges[k], ranges[k + 1]);
    while (r.more) {
      const tag = r.varint();
      if (tag >>> 3 === 1 && (tag & 7) === LEN) {
        const n = r.length();
        scan.add(buf, r.pos, r.pos + n);
        r.pos += n;
      } else r.skip(tag & 7);
    }
  }
  return { service: scan.service ?? 'unknown_service', attrs: scan.attrs };
}

type RecordReader<T> = (
  buf: Buffer,
  start: number,
  end: number,
  service: string,
  resAttrs: SeedAttributes | undefined,
  ctx: Ctx,
  out: Decoded<T>,
) => void;

/** Request → resource → scope → record, with the resource read first whatever the field order. */
function walk<T>(buf: Buffer, limits: DecodeLimits, readRecord: RecordReader<T>): Decoded<T> {
  const out: Decoded<T> = { items: [], rejected: 0, firstError: undefined };
  const t = limits.truncated;
  const ctx: Ctx = {
    limits,
    firstError: undefined,
    cutAttribute: () => {
      t.attribute_value++;
    },
    cutService: () => {
      t.service_name++;
    },
    cutBody: () => {
      t.body++;
    },
  };
  let records = 0;
  const top = new Reader(buf, 0, buf.length);
  while (top.more) {
    const tag = top.varint();
    if (tag >>> 3 !== 1 || (tag & 7) !== LEN) {
      top.skip(tag & 7);
      continue;
    }
    const resLength = top.length();
    const resEnd = top.pos + resLength;
    // Pass 1: where the resource (possibly split in several occurrences, which merge) and the scopes are.
    const resource: number[] = [];
    const scopes: number[] = [];
    const rr = new Reader(buf, top.pos, resEnd);
    while (rr.more) {
      const t = rr.varint();
      const f = t >>> 3;
      if ((f === 1 || f === 2 || f === 1000) && (t & 7) === LEN) {
        const n = rr.length();
        (f === 1 ? resource : scopes).push(rr.pos, rr.pos + n);
        rr.pos += n;
      } else rr.skip(t & 7);
    }
    top.pos = resEnd;
    const { service, attrs } = resourceOf(buf, resource, ctx);
    for (let k = 0; k < scopes.length; k += 2) {
      const sr = new Reader(buf, scopes[k], scopes[k + 1]);
      while (sr.more) {
        const t = sr.varint();
        if (t >>> 3 !== 2 || (t & 7) !== LEN) {
          sr.skip(t & 7);
          continue;
        }
        const n = sr.length();
        if (++records > limits.maxRecords) throw tooManyRecords(limits.maxRecords);
        readRecord(buf, sr.pos, sr.pos + n, service, attrs, ctx, out);
        sr.pos += n;
      }
    }
  }
  out.firstError = out.firstError ?? ctx.firstError;
  return out;
}

/** Counts a bad record; only the request's first one gets its message built. */
function invalid<T>(out: Decoded<T>, what: string, want?: number, got?: number): void {
  out.rejected++;
  if (out.firstError === undefined)
    out.firstError = want === undefined ? what : `${what} must be ${want} bytes, got ${got}`;
}

export function decodeLogs(buf: Buffer, limits: DecodeLimits, withBody: boolean): Decoded<LogEvent> {
  return decoding('ExportLogsServiceRequest', () =>
    walk<LogEvent>(buf, limits, (b, start, end, service, resAttrs, ctx, out) => {
      const r = new Reader(b, start, end);
      let time = 0;
      let observed = 0;
      let severityNumber = 0;
      let severityText: string | undefined;
      let traceAt = -1;
      let traceEnd = -1;
      let spanAt = -1;
      let spanEnd = -1;
      let body = '';
      const scan = new AttributeScan(ctx, resAttrs, false);
      while (r.more) {
        const tag = r.varint();
        const field = tag >>> 3;
        const wt = tag & 7;
        if ((field === 1 || field === 11) && wt === FIXED64) {
          if (field === 1) time = r.fixed64();
          else observed = r.fixed64();
        } else if (field === 2 && wt === VARINT) severityNumber = r.varint();
        else if (wt === LEN && (field === 3 || field === 5 || field === 6 || field === 9 || field === 10)) {
          const n = r.length();
          const s = r.pos;
          r.pos += n;
          if (field === 3) severityText = n <= 32 ? b.toString('latin1', s, s + n) : '';
          else if (field === 5) {
            if (withBody) {
              body = anyValue(b, s, s + n, ctx, 1, limits.bodyLength, ctx.cutBody);
            }
          } else if (field === 6) scan.add(b, s, s + n);
          else if (field === 9) {
            traceAt = s;
            traceEnd = s + n;
          } else {
            spanAt = s;
            spanEnd = s + n;
          }
        } else r.skip(wt);
      }
      const traceId = traceAt < 0 ? null : idAt(b, traceAt, traceEnd, 16);
      if (traceId === undefined) return invalid(out, 'traceId', 16, traceEnd - traceAt);
      const spanId = spanAt < 0 ? null : idAt(b, spanAt, spanEnd, 8);
      if (spanId === undefined) return invalid(out, 'spanId', 8, spanEnd - spanAt);
      out.items.push({
        traceId,
        spanId,
        timeMs: (time || observed) / 1e6,
        severity: severityOf(severityText, severityNumber),
        service,
        body,
        attrs: scan.attrs,
      });
    }),
  );
}

export function decodeSpans(buf: Buffer, limits: DecodeLimits): Decoded<SpanEvent> {
  return decoding('ExportTraceServiceRequest', () =>
    walk<SpanEvent>(buf, limits, (b, start, end, service, resAttrs, ctx, out) => {
      const r = new Reader(b, start, end);
      let traceAt = -1;
      let traceEnd = -1;
      let spanAt = -1;
      let spanEnd = -1;
      let name = '';
      let startNs = 0;
      let endNs = 0;
      let status = 0;
      const scan = new AttributeScan(ctx, resAttrs, false);
      while (r.more) {
        const tag = r.varint();
        const field = tag >>> 3;
        const wt = tag & 7;
        if ((field === 7 || field === 8) && wt === FIXED64) {
          if (field === 7) startNs = r.fixed64();
          else endNs = r.fixed64();
        } else if (wt === LEN && (field === 1 || field === 2 || field === 5 || field === 9 || field === 15)) {
          const n = r.length();
          const s = r.pos;
          r.pos += n;
          if (field === 1) {
            traceAt = s;
            traceEnd = s + n;
          } else if (field === 2) {
            spanAt = s;
            spanEnd = s + n;
          } else if (field === 5) {
            name = text(b, s, s + n, limits.attributeValueLength, ctx.cutAttribute);
          } else if (field === 9) scan.add(b, s, s + n);
          else status = statusCode(b, s, s + n);
        } else r.skip(wt);
      }
      const traceId = traceAt < 0 ? null : idAt(b, traceAt, traceEnd, 16);
      if (traceId === undefined) return invalid(out, 'traceId', 16, traceEnd - traceAt);
      const spanId = spanAt < 0 ? null : idAt(b, spanAt, spanEnd, 8);
      if (spanId === undefined) return invalid(out, 'spanId', 8, spanEnd - spanAt);
      // A span without ids is invalid OTLP (the spec requires both), unlike a log without one.
      if (traceId === null) return invalid(out, 'span traceId is missing or all zero');
      if (spanId === null) return invalid(out, 'span spanId is missing or all zero');
      out.items.push({
        traceId,
        spanId,
        service,
        name,
        startMs: startNs / 1e6,
        endMs: endNs / 1e6,
        error: status === 2,
        attrs: scan.attrs,
      });
    }),
  );
}

function statusCode(buf: Buffer, start: number, end: number): number {
  const r = new Reader(buf, start, end);
  let code = 0;
  while (r.more) {
    const tag = r.varint();
    if (tag >>> 3 === 3 && (tag & 7) === VARINT) code = r.varint();
    else r.skip(tag & 7);
  }
  return code;
}

function decoding<T>(type: string, run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof Malformed) throw new BadRequest(`body is not a valid protobuf ${type}: ${err.message}`);
    throw err;
  }
}
