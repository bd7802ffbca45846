// The seed service's own JSON endpoints: POST /api/logs ({resource, records}) and POST /api/events.
import { type Decoded, type LogEvent, SEED_ATTRIBUTES, type SeedAttributes } from './model.js';
import { BadRequest, severityOf } from './otlp.js';
import { parseTime } from './query.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** 32 hex digits, or 16 (64-bit ids, zero-padded as W3C trace context does); all-zero = none. */
function traceIdOf(v: unknown, field: string): string | null {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string' || !/^([0-9a-fA-F]{16}|[0-9a-fA-F]{32})$/.test(v)) {
    throw new Error(`${field} must be 16 or 32 hex digits`);
  }
  const id = v.toLowerCase().padStart(32, '0');
  return /^0+$/.test(id) ? null : id;
}

function spanIdOf(v: unknown, field: string): string | null {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string' || !/^[0-9a-fA-F]{16}$/.test(v)) throw new Error(`${field} must be 16 hex digits`);
  return /^0+$/.test(v) ? null : v.toLowerCase();
}

function timeOf(v: unknown, field: string, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'number' && Number.isFinite(v)) return v > 1e14 ? v / 1e6 : v; // ns or ms
  if (typeof v === 'string') {
    const ms = parseTime(v);
    if (ms !== undefined) return ms;
  }
  throw new Error(`${field} must be an RFC 3339 time or epoch milliseconds`);
}

function attrsOf(r: Obj, labels: unknown): SeedAttributes | undefined {
  let out: SeedAttributes | undefined;
  for (const k of SEED_ATTRIBUTES) {
    const v = r[k] ?? (isObj(labels) ? labels[k] : undefined);
    if (v !== undefined && v !== null) {
      out ??= {};
      out[k] = String(v);
    }
  }
  return out;
}

function recordOf(r: unknown, service: string, withBody: boolean, at: string): LogEvent {
  if (!isObj(r)) throw new Error(`${at} must be an object`);
  return {
    traceId: traceIdOf(r.trace_id, `${at}.trace_id`),
    spanId: spanIdOf(r.span_id, `${at}.span_id`),
    timeMs: timeOf(r.timestamp, `${at}.timestamp`, 0),
    severity: severityOf(r.severity, 0),
    service: typeof r.service === 'string' && r.service ? r.service : service,
    body: withBody ? (typeof r.message === 'string' ? r.message : JSON.stringify(r.message ?? '')) : '',
    attrs: attrsOf(r, r.labels),
  };
}

export function seedLogs(body: unknown, opts: { withBody: boolean }, maxBatch: number): Decoded<LogEvent> {
  if (!isObj(body)) throw new BadRequest('body must be an object {resource, records}');
  if (body.resource !== undefined && !isObj(body.resource)) throw new BadRequest('resource must be an object');
  if (!Array.isArray(body.records)) throw new BadRequest('records must be an array');
  const resource = (body.resource ?? {}) as Obj;
  const service = typeof resource.service === 'string' && resource.service ? resource.service : 'unknown_service';
  const out: Decoded<LogEvent> = { items: [], rejected: 0, firstError: undefined };
  // Checked by the caller too; failing before the walk keeps a huge bad batch cheap.
  if (body.records.length > maxBatch) {
    out.rejected = body.records.length;
    return out;
  }
  body.records.forEach((r, i) => {
    try {
      out.items.push(recordOf(r, service, opts.withBody, `records[${i}]`));
    } catch (err) {
      out.rejected++;
      out.firstError ??= (err as Error).message;
    }
  });
  return out;
}

/** A synthetic event: joins (or opens) its trace's correlation as a log record would. */
export function seedEvent(body: unknown): LogEvent {
  if (!isObj(body)) throw new BadRequest('body must be an object {trace_id, service, ...}');
  if (typeof body.service !== 'string' || body.service === '') throw new BadRequest('service: required');
  try {
    const e = recordOf({ ...body, message: body.message ?? body.event ?? '' }, body.service, true, 'event');
    if (e.traceId === null) throw new Error('trace_id: required, 16 or 32 hex digits, not all zero');
    return e;
  } catch (err) {
    if (err instanceof BadRequest) throw err;
    throw new BadRequest((err as Error).message);
  }
}
