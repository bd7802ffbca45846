// OTLP requests to the correlator's records. Protobuf bodies are read off the wire by
// otlp-proto.ts; JSON bodies are scanned first (json-scan.ts: depth, values, records), parsed, and
// walked here. Both stop at MAX_BATCH_SIZE records, keep only what correlation needs, cut it to the
// ingest limits and count a bad record without building an Error for it. protobufjs (over the
// vendored opentelemetry-proto files) encodes the answers.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { type JsonCaps, type JsonShape, scanJson } from './json-scan.js';
import { BadRequest, bounded, cut, type DecodeLimits, type Truncations, tooManyRecords } from './limits.js';
import {
  type Decoded,
  type LogEvent,
  SEED_ATTRIBUTES,
  type SeedAttribute,
  type SeedAttributes,
  type SpanEvent,
} from './model.js';
import { decodeLogs, decodeSpans } from './otlp-proto.js';
import { BY_NUMBER, severityOf } from './severity.js';

// Beside this file when run from source; tsc does not copy .proto files, so a build in dist/
// reads them from the source tree (the image must ship correlator/proto/).
export const PROTO_DIR = [new URL('./proto/', import.meta.url), new URL('../../correlator/proto/', import.meta.url)]
  .map((u) => fileURLToPath(u))
  .find((dir) => existsSync(`${dir}vigil/responses.proto`)) as string;

function loadRoot(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => PROTO_DIR + target;
  root.loadSync([
    'opentelemetry/proto/collector/logs/v1/logs_service.proto',
    'opentelemetry/proto/collector/trace/v1/trace_service.proto',
    'vigil/responses.proto',
  ]);
  return root;
}

const root = loadRoot();
export const LogsRequest = root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');
export const TracesRequest = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
const LogsResponse = root.lookupType('vigil.otlp.ExportLogsServiceResponse');
const TracesResponse = root.lookupType('vigil.otlp.ExportTraceServiceResponse');
const RpcStatus = root.lookupType('vigil.otlp.Status');
const RetryInfo = root.lookupType('vigil.otlp.RetryInfo');

export { BadRequest } from './limits.js';
export { severityOf } from './severity.js';

type Obj = Record<string, unknown>;
const SEED_SET: ReadonlySet<string> = new Set(SEED_ATTRIBUTES);
const HEX = /^[0-9a-fA-F]*$/;

/** Returned by a field reader for a bad record; the reason goes into `Bad.message` once per request. */
const INVALID = Symbol('invalid');

/** The request's first rejection reason; later ones are only counted (no message is built). */
interface Bad {
  message: string | undefined;
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function arr(v: unknown, field: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new BadRequest(`${field} must be an array`);
  return v;
}

/** Ids: hex strings in OTLP/JSON. Absent, empty or all-zero mean "no id". */
function id(v: unknown, bytes: number, field: string, bad: Bad): string | null | typeof INVALID {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') {
    if (v === '') return null;
    if (v.length !== bytes * 2 || !HEX.test(v)) {
      bad.message ??= `${field} must be ${bytes * 2} hex digits, got "${cut(v, 40)}"`;
      return INVALID;
    }
    const hex = v.toLowerCase();
    return /^0+$/.test(hex) ? null : hex;
  }
  if (Array.isArray(v) && v.length === 0) return null;
  bad.message ??= `${field} must be a hex string`;
  return INVALID;
}

/** int64 nanoseconds (decimal string or JSON number) to milliseconds; 0 = unknown. */
function nsToMs(v: unknown, field: string, bad: Bad): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v / 1e6;
  if (typeof v === 'string') {
    if (v === '') return 0;
    const n = Number(v);
    if (Number.isFinite(n) && n >= 0) return n / 1e6;
    bad.message ??= `${field} must be a count of nanoseconds, got "${cut(v, 40)}"`;
    return Number.NaN;
  }
  bad.message ??= `${field} must be a count of nanoseconds`;
  return Number.NaN;
}

function enumInt(v: unknown, names: Readonly<Record<string, number>>): number {
  if (typeof v === 'number') return v;
  // Enum names are not OTLP/JSON, but some hand-written senders use them; accepting is harmless.
  if (typeof v === 'string') return names[v] ?? (/^\d+$/.test(v) ? Number(v) : 0);
  return 0;
}

/** AnyValue to a string of at most `max` characters (the scan before parsing bounded the nesting). */
function anyToString(v: unknown, max: number, limit: keyof Truncations, t: Truncations): string {
  if (!isObj(v)) return '';
  let s = '';
  if (typeof v.stringValue === 'string') s = v.stringValue;
  else if (v.intValue !== undefined && v.intValue !== null) s = String(v.intValue);
  else if (v.doubleValue !== undefined && v.doubleValue !== null) s = String(v.doubleValue);
  else if (v.boolValue !== undefined && v.boolValue !== null) s = String(v.boolValue);
  else if (isObj(v.arrayValue)) {
    const values = arr(v.arrayValue.values, 'arrayValue.values');
    s = JSON.stringify(values.slice(0, max).map((x) => anyToString(x, max, limit, t)));
  } else if (isObj(v.kvlistValue)) {
    const out: Record<string, string> = {};
    for (const kv of arr(v.kvlistValue.values, 'kvlistValue.values').slice(0, max)) {
      if (isObj(kv) && typeof kv.key === 'string') out[cut(kv.key, max)] = anyToString(kv.value, max, limit, t);
    }
    s = JSON.stringify(out);
  } else if (typeof v.bytesValue === 'string') s = v.bytesValue;
  return bounded(s, max, limit, t);
}

/** Reads only the seed attributes, among the first ATTRIBUTE_COUNT_LIMIT: the rest is not needed to correlate. */
function scanAttributes(
  list: unknown,
  into: SeedAttributes | undefined,
  limits: DecodeLimits,
): SeedAttributes | undefined {
  if (!Array.isArray(list)) return into;
  let out = into;
  const n = Math.min(list.length, limits.attributeCount);
  if (list.length > n) limits.truncated.attribute_count += list.length - n;
  for (let i = 0; i < n; i++) {
    const kv = list[i];
    if (!isObj(kv) || typeof kv.key !== 'string' || !SEED_SET.has(kv.key)) continue;
    out = out === into ? { ...into } : out;
    (out as SeedAttributes)[kv.key as SeedAttribute] = anyToString(
      kv.value,
      limits.attributeValueLength,
      'attribute_value',
      limits.truncated,
    );
  }
  return out;
}

function serviceName(resource: unknown, limits: DecodeLimits): string {
  if (isObj(resource) && Array.isArray(resource.attributes)) {
    const list = resource.attributes;
    const n = Math.min(list.length, limits.attributeCount);
    for (let i = 0; i < n; i++) {
      const kv = list[i];
      if (isObj(kv) && kv.key === 'service.name') {
        const s = anyToString(kv.value, limits.serviceNameLength, 'service_name', limits.truncated);
        if (s) return s;
      }
    }
  }
  return 'unknown_service';
}

const SEVERITY_NAMES: Record<string, number> = {};
const STATUS_NAMES: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };
for (let i = 0; i < 24; i++) {
  const level = BY_NUMBER[Math.floor(i / 4)];
  SEVERITY_NAMES[`SEVERITY_NUMBER_${level}${i % 4 === 0 ? '' : (i % 4) + 1}`] = i + 1;
}

function rejectRecord<T>(out: Decoded<T>, bad: Bad, message?: string): void {
  out.rejected++;
  if (message !== undefined) bad.message ??= message;
}

/** ExportLogsServiceRequest (parsed OTLP/JSON) to log events. */
export function logsFromRequest(req: unknown, limits: DecodeLimits, withBody: boolean): Decoded<LogEvent> {
  if (!isObj(req)) throw new BadRequest('body must be an ExportLogsServiceRequest object');
  const out: Decoded<LogEvent> = { items: [], rejected: 0, firstError: undefined };
  const bad: Bad = { message: undefined };
  let records = 0;
  for (const rl of arr(req.resourceLogs, 'resourceLogs')) {
    if (!isObj(rl)) throw new BadRequest('resourceLogs[] must be objects');
    const service = serviceName(rl.resource, limits);
    const resAttrs = scanAttributes(isObj(rl.resource) ? rl.resource.attributes : undefined, undefined, limits);
    const scopes = [
      ...arr(rl.scopeLogs, 'scopeLogs'),
      ...arr(rl.instrumentationLibraryLogs, 'instrumentationLibraryLogs'),
    ];
    for (const sl of scopes) {
      if (!isObj(sl)) throw new BadRequest('scopeLogs[] must be objects');
      for (const r of arr(sl.logRecords ?? sl.logs, 'logRecords')) {
        if (++records > limits.maxRecords) throw tooManyRecords(limits.maxRecords);
        if (!isObj(r)) {
          rejectRecord(out, bad, 'logRecords[] must be objects');
          continue;
        }
        const traceId = id(r.traceId, 16, 'traceId', bad);
        const spanId = id(r.spanId, 8, 'spanId', bad);
        const time =
          nsToMs(r.timeUnixNano, 'timeUnixNano', bad) || nsToMs(r.observedTimeUnixNano, 'observedTimeUnixNano', bad);
        if (traceId === INVALID || spanId === INVALID || Number.isNaN(time)) {
          rejectRecord(out, bad);
          continue;
        }
        out.items.push({
          traceId,
          spanId,
          timeMs: time,
          severity: severityOf(r.severityText, enumInt(r.severityNumber, SEVERITY_NAMES)),
          service,
          body: withBody ? anyToString(r.body, limits.bodyLength, 'body', limits.truncated) : '',
          attrs: scanAttributes(r.attributes, resAttrs, limits),
        });
      }
    }
  }
  out.firstError = bad.message;
  return out;
}

/** ExportTraceServiceRequest (parsed OTLP/JSON) to span events. */
export function spansFromRequest(req: unknown, limits: DecodeLimits): Decoded<SpanEvent> {
  if (!isObj(req)) throw new BadRequest('body must be an ExportTraceServiceRequest object');
  const out: Decoded<SpanEvent> = { items: [], rejected: 0, firstError: undefined };
  const bad: Bad = { message: undefined };
  let records = 0;
  for (const rs of arr(req.resourceSpans, 'resourceSpans')) {
    if (!isObj(rs)) throw new BadRequest('resourceSpans[] must be objects');
    const service = serviceName(rs.resource, limits);
    const resAttrs = scanAttributes(isObj(rs.resource) ? rs.resource.attributes : undefined, undefined, limits);
    const scopes = [
      ...arr(rs.scopeSpans, 'scopeSpans'),
      ...arr(rs.instrumentationLibrarySpans, 'instrumentationLibrarySpans'),
    ];
    for (const ss of scopes) {
      if (!isObj(ss)) throw new BadRequest('scopeSpans[] must be objects');
      for (const s of arr(ss.spans, 'spans')) {
        if (++records > limits.maxRecords) throw tooManyRecords(limits.maxRecords);
        if (!isObj(s)) {
          rejectRecord(out, bad, 'spans[] must be objects');
          continue;
        }
        const traceId = id(s.traceId, 16, 'traceId', bad);
        const spanId = traceId === INVALID ? null : id(s.spanId, 8, 'spanId', bad);
        if (traceId === INVALID || spanId === INVALID) {
          rejectRecord(out, bad);
          continue;
        }
        // A span without ids is invalid OTLP (the spec requires both), unlike a log without one.
        if (traceId === null) {
          rejectRecord(out, bad, 'span traceId is missing or all zero');
          continue;
        }
        if (spanId === null) {
          rejectRecord(out, bad, 'span spanId is missing or all zero');
          continue;
        }
        const startMs = nsToMs(s.startTimeUnixNano, 'startTimeUnixNano', bad);
        const endMs = nsToMs(s.endTimeUnixNano, 'endTimeUnixNano', bad);
        if (Number.isNaN(startMs) || Number.isNaN(endMs)) {
          rejectRecord(out, bad);
          continue;
        }
        const status = isObj(s.status) ? enumInt(s.status.code, STATUS_NAMES) : 0;
        out.items.push({
          traceId,
          spanId,
          service,
          name:
            typeof s.name === 'string'
              ? bounded(s.name, limits.attributeValueLength, 'attribute_value', limits.truncated)
              : '',
          startMs,
          endMs,
          error: status === 2,
          attrs: scanAttributes(s.attributes, resAttrs, limits),
        });
      }
    }
  }
  out.firstError = bad.message;
  return out;
}

/** protobufjs's full decode; the engine reads requests with otlp-proto.ts, this is for tests and tools. */
export function decodeProto(type: protobuf.Type, body: Buffer): unknown {
  try {
    return type.decode(body);
  } catch (err) {
    throw new BadRequest(`body is not a valid protobuf ${type.name}: ${(err as Error).message}`);
  }
}

/** Parses a JSON body after scanJson has bounded its depth, values and records. */
export function parseJson(body: Buffer, shape: JsonShape, caps: JsonCaps): unknown {
  scanJson(body, shape, caps);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new BadRequest(`body is not valid JSON: ${(err as Error).message}`);
  }
}

/** One OTLP request body, protobuf or JSON, to records under the request's limits. */
export function decodeLogsBody(
  body: Buffer,
  proto: boolean,
  limits: DecodeLimits,
  maxJsonValues: number,
  withBody: boolean,
): Decoded<LogEvent> {
  if (proto) return decodeLogs(body, limits, withBody);
  const caps = { maxDepth: limits.maxNestingDepth, maxValues: maxJsonValues, maxRecords: limits.maxRecords };
  return logsFromRequest(body.length === 0 ? {} : parseJson(body, 'logs', caps), limits, withBody);
}

export function decodeSpansBody(
  body: Buffer,
  proto: boolean,
  limits: DecodeLimits,
  maxJsonValues: number,
): Decoded<SpanEvent> {
  if (proto) return decodeSpans(body, limits);
  const caps = { maxDepth: limits.maxNestingDepth, maxValues: maxJsonValues, maxRecords: limits.maxRecords };
  return spansFromRequest(body.length === 0 ? {} : parseJson(body, 'traces', caps), limits);
}

export type Signal = 'logs' | 'traces';

/** The OTLP success answer; partial_success only when something was rejected. */
export function exportResponse(signal: Signal, proto: boolean, rejected: number, message?: string): Buffer | object {
  const partial =
    rejected > 0
      ? signal === 'logs'
        ? { rejectedLogRecords: rejected, errorMessage: message ?? '' }
        : { rejectedSpans: rejected, errorMessage: message ?? '' }
      : undefined;
  if (proto) {
    const type = signal === 'logs' ? LogsResponse : TracesResponse;
    return Buffer.from(type.encode(partial ? { partialSuccess: partial } : {}).finish());
  }
  if (!partial) return {};
  // OTLP/JSON writes int64 as decimal strings.
  const key = signal === 'logs' ? 'rejectedLogRecords' : 'rejectedSpans';
  return { partialSuccess: { [key]: String(rejected), errorMessage: message ?? '' } };
}

/** google.rpc.Status, the body of an OTLP/HTTP error answer in protobuf. */
export function statusProto(grpcCode: number, message: string): Buffer {
  return Buffer.from(RpcStatus.encode({ code: grpcCode, message }).finish());
}

/** google.rpc.Status with a google.rpc.RetryInfo detail: "retry this, after that long". */
export function retryStatusProto(grpcCode: number, message: string, retryAfterSeconds: number): Buffer {
  const retry = RetryInfo.encode({ retryDelay: { seconds: retryAfterSeconds } }).finish();
  return Buffer.from(
    RpcStatus.encode({
      code: grpcCode,
      message,
      details: [{ typeUrl: 'type.googleapis.com/google.rpc.RetryInfo', value: retry }],
    }).finish(),
  );
}

export function decodeStatus(body: Uint8Array): {
  code: number;
  message: string;
  details: { typeUrl: string; value: Uint8Array }[];
} {
  return RpcStatus.toObject(RpcStatus.decode(body), { defaults: true }) as ReturnType<typeof decodeStatus>;
}

export function decodeRetryInfo(value: Uint8Array): { retryDelay?: { seconds?: number } } {
  return RetryInfo.toObject(RetryInfo.decode(value), { longs: Number }) as { retryDelay?: { seconds?: number } };
}

export function decodeExportResponse(signal: Signal, body: Uint8Array): Record<string, unknown> {
  const type = signal === 'logs' ? LogsResponse : TracesResponse;
  return type.toObject(type.decode(body), { longs: Number }) as Record<string, unknown>;
}
