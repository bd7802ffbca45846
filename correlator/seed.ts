// The seed service's own JSON endpoints: POST /api/logs ({resource, records}) and POST /api/events.
import { BadRequest, bounded, type DecodeLimits, tooManyRecords } from './limits.js';
import { type Decoded, type LogEvent, SEED_ATTRIBUTES, type SeedAttributes } from './model.js';
import { parseTime } from './query.js';
import { severityOf } from './severity.js';

/** A bad record of a batch: thrown and caught per record, so it carries no stack (unlike an Error). */
class Invalid {
  constructor(readonly message: string) {}
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** 32 hex digits, or 16 (64-bit ids, zero-padded as W3C trace context does); all-zero = none. */
function traceIdOf(v: unknown, field: string): string | null {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string' || !/^([0-9a-fA-F]{16}|[0-9a-fA-F]{32})$/.test(v)) {
    throw new Invalid(`${field} must be 16 or 32 hex digits`);
  }
  const id = v.toLowerCase().padStart(32, '0');
  return /^0+$/.test(id) ? null : id;
}

function spanIdOf(v: unknown, field: string): string | null {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string' || !/^[0-9a-fA-F]{16}$/.test(v)) throw new Invalid(`${field} must be 16 hex digits`);
  return /^0+$/.test(v) ? null : v.toLowerCase();
}

function timeOf(v: unknown, field: string, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'number' && Number.isFinite(v)) return v > 1e14 ? v / 1e6 : v; // ns or ms
  if (typeof v === 'string') {
    const ms = parseTime(v);
    if (ms !== undefined) return ms;
  }
  throw new Invalid(`${field} must be an RFC 3339 time or epoch milliseconds`);
}

function attrsOf(r: Obj, labels: unknown, limits: DecodeLimits): SeedAttributes | undefined {
  let out: SeedAttributes | undefined;
  for (const k of SEED_ATTRIBUTES) {
    const v = r[k] ?? (isObj(labels) ? labels[k] : undefined);
    if (v !== undefined && v !== null) {
      out ??= {};
      const s = typeof v === 'string' ? v : JSON.stringify(v);
      out[k] = bounded(s, limits.attributeValueLength, 'attribute_value', limits.truncated);
    }
  }
  return out;
}

function recordOf(r: unknown, service: string, limits: DecodeLimits, withBody: boolean, at: string): LogEvent {
  if (!isObj(r)) throw new Invalid(`${at} must be an object`);
  const message = withBody ? (typeof r.message === 'string' ? r.message : JSON.stringify(r.message ?? '')) : '';
  return {
    traceId: traceIdOf(r.trace_id, `${at}.trace_id`),
    spanId: spanIdOf(r.span_id, `${at}.span_id`),
    timeMs: timeOf(r.timestamp, `${at}.timestamp`, 0),
    severity: severityOf(r.severity, 0),
    service:
      typeof r.service === 'string' && r.service
        ? bounded(r.service, limits.serviceNameLength, 'service_name', limits.truncated)
        : service,
    body: bounded(message, limits.bodyLength, 'body', limits.truncated),
    attrs: attrsOf(r, r.labels, limits),
  };
}

export function seedLogs(body: unknown, limits: DecodeLimits, withBody: boolean): Decoded<LogEvent> {
  if (!isObj(body)) throw new BadRequest('body must be an object {resource, records}');
  if (body.resource !== undefined && !isObj(body.resource)) throw new BadRequest('resource must be an object');
  if (!Array.isArray(body.records)) throw new BadRequest('records must be an array');
  const resource = (body.resource ?? {}) as Obj;
  const service =
    typeof resource.service === 'string' && resource.service
      ? bounded(resource.service, limits.serviceNameLength, 'service_name', limits.truncated)
      : 'unknown_service';
  const out: Decoded<LogEvent> = { items: [], rejected: 0, firstError: undefined };
  // The scan before parsing refused more already; this keeps the function safe on its own.
  if (body.records.length > limits.maxRecords) throw tooManyRecords(limits.maxRecords);
  body.records.forEach((r, i) => {
    try {
      out.items.push(recordOf(r, service, limits, withBody, `records[${i}]`));
    } catch (err) {
      if (!(err instanceof Invalid)) throw err;
      out.rejected++;
      out.firstError ??= err.message;
    }
  });
  return out;
}

/** A synthetic event: joins (or opens) its trace's correlation as a log record would. */
export function seedEvent(body: unknown, limits: DecodeLimits): LogEvent {
  if (!isObj(body)) throw new BadRequest('body must be an object {trace_id, service, ...}');
  if (typeof body.service !== 'string' || body.service === '') throw new BadRequest('service: required');
  try {
    const service = bounded(body.service, limits.serviceNameLength, 'service_name', limits.truncated);
    const e = recordOf({ ...body, message: body.message ?? body.event ?? '' }, service, limits, true, 'event');
    if (e.traceId === null) throw new Invalid('trace_id: required, 16 or 32 hex digits, not all zero');
    return e;
  } catch (err) {
    if (err instanceof Invalid) throw new BadRequest(err.message);
    throw err;
  }
}
