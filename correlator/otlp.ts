// OTLP/HTTP requests to the correlator's records. protobufjs decodes application/x-protobuf over
// the vendored opentelemetry-proto files into camelCase objects of the same shape OTLP/JSON has,
// so one walker serves both; the helpers below absorb the differences (Long vs string/number
// 64-bit ints, Buffer vs hex ids).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import {
  type Decoded,
  type LogEvent,
  SEED_ATTRIBUTES,
  type SeedAttribute,
  type SeedAttributes,
  type Severity,
  type SpanEvent,
} from './model.js';

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

/** A request body that is not OTLP at all: answered 400, never retried by OTLP clients. */
export class BadRequest extends Error {
  readonly statusCode = 400;
}

export interface DecodeOptions {
  /** Render log bodies to strings; costs time, only needed when log lines are exported. */
  readonly withBody: boolean;
}

type Obj = Record<string, unknown>;
const SEED_SET: ReadonlySet<string> = new Set(SEED_ATTRIBUTES);
const HEX = /^[0-9a-fA-F]*$/;

class InvalidRecord extends Error {}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function arr(v: unknown, field: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new BadRequest(`${field} must be an array`);
  return v;
}

/** Ids: Buffer from protobuf, hex string from JSON. Absent, empty or all-zero mean "no id". */
function id(v: unknown, bytes: number, field: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') {
    if (v === '') return null;
    if (v.length !== bytes * 2 || !HEX.test(v)) {
      throw new InvalidRecord(`${field} must be ${bytes * 2} hex digits, got "${v.slice(0, 40)}"`);
    }
    const hex = v.toLowerCase();
    return /^0+$/.test(hex) ? null : hex;
  }
  if (v instanceof Uint8Array) {
    if (v.length === 0) return null;
    if (v.length !== bytes) throw new InvalidRecord(`${field} must be ${bytes} bytes, got ${v.length}`);
    const hex = Buffer.from(v.buffer, v.byteOffset, v.length).toString('hex');
    return v.every((b) => b === 0) ? null : hex;
  }
  if (Array.isArray(v) && v.length === 0) return null;
  throw new InvalidRecord(`${field} must be a hex string`);
}

interface LongLike {
  toNumber(): number;
}

/** fixed64 nanoseconds (Long, decimal string or JSON number) to milliseconds; 0 = unknown. */
function nsToMs(v: unknown, field: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v / 1e6;
  if (typeof v === 'string') {
    if (v === '') return 0;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new InvalidRecord(`${field} must be a count of nanoseconds, got "${v}"`);
    return n / 1e6;
  }
  if (typeof v === 'object' && typeof (v as LongLike).toNumber === 'function') return (v as LongLike).toNumber() / 1e6;
  throw new InvalidRecord(`${field} must be a count of nanoseconds`);
}

function enumInt(v: unknown, names: Readonly<Record<string, number>>): number {
  if (typeof v === 'number') return v;
  // Enum names are not OTLP/JSON, but some hand-written senders use them; accepting is harmless.
  if (typeof v === 'string') return names[v] ?? (/^\d+$/.test(v) ? Number(v) : 0);
  return 0;
}

/** AnyValue to a string; 64-bit ints arrive as Long, string or number. */
function anyToString(v: unknown): string {
  if (!isObj(v)) return '';
  if (typeof v.stringValue === 'string') return v.stringValue;
  if (v.intValue !== undefined && v.intValue !== null) return String(v.intValue);
  if (v.doubleValue !== undefined && v.doubleValue !== null) return String(v.doubleValue);
  if (v.boolValue !== undefined && v.boolValue !== null) return String(v.boolValue);
  if (isObj(v.arrayValue)) return JSON.stringify(arr(v.arrayValue.values, 'arrayValue.values').map(anyToString));
  if (isObj(v.kvlistValue)) {
    const out: Record<string, string> = {};
    for (const kv of arr(v.kvlistValue.values, 'kvlistValue.values')) {
      if (isObj(kv) && typeof kv.key === 'string') out[kv.key] = anyToString(kv.value);
    }
    return JSON.stringify(out);
  }
  if (v.bytesValue instanceof Uint8Array) return Buffer.from(v.bytesValue).toString('base64');
  if (typeof v.bytesValue === 'string') return v.bytesValue;
  return '';
}

/** Reads only service.name and the seed attributes: the rest is not needed to correlate. */
function scanAttributes(list: unknown, into: SeedAttributes | undefined): SeedAttributes | undefined {
  if (!Array.isArray(list)) return into;
  let out = into;
  for (const kv of list) {
    if (!isObj(kv) || typeof kv.key !== 'string' || !SEED_SET.has(kv.key)) continue;
    out = out === into ? { ...into } : out;
    (out as SeedAttributes)[kv.key as SeedAttribute] = anyToString(kv.value);
  }
  return out;
}

function serviceName(resource: unknown): string {
  if (isObj(resource) && Array.isArray(resource.attributes)) {
    for (const kv of resource.attributes) {
      if (isObj(kv) && kv.key === 'service.name') {
        const s = anyToString(kv.value);
        if (s) return s;
      }
    }
  }
  return 'unknown_service';
}

const SEVERITY_ALIASES: Readonly<Record<string, Severity>> = {
  TRACE: 'TRACE',
  DEBUG: 'DEBUG',
  INFO: 'INFO',
  INFORMATION: 'INFO',
  NOTICE: 'INFO',
  WARN: 'WARN',
  WARNING: 'WARN',
  ERROR: 'ERROR',
  ERR: 'ERROR',
  FATAL: 'FATAL',
  CRITICAL: 'FATAL',
  CRIT: 'FATAL',
  EMERG: 'FATAL',
  ALERT: 'FATAL',
};
const BY_NUMBER: readonly Severity[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];

/** Text if it names a known level, else the number's range (1-4 TRACE ... 21-24 FATAL). */
export function severityOf(text: unknown, num: number): Severity {
  if (typeof text === 'string' && text !== '') {
    const known = SEVERITY_ALIASES[text.toUpperCase()];
    if (known) return known;
  }
  if (num >= 1 && num <= 24) return BY_NUMBER[Math.floor((num - 1) / 4)];
  return 'UNSPECIFIED';
}

const SEVERITY_NAMES: Record<string, number> = {};
const STATUS_NAMES: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };
for (let i = 0; i < 24; i++) {
  const level = BY_NUMBER[Math.floor(i / 4)];
  SEVERITY_NAMES[`SEVERITY_NUMBER_${level}${i % 4 === 0 ? '' : (i % 4) + 1}`] = i + 1;
}

function reject<T>(out: Decoded<T>, err: unknown): void {
  if (!(err instanceof InvalidRecord)) throw err;
  out.rejected++;
  out.firstError ??= err.message;
}

/** ExportLogsServiceRequest (decoded protobuf or parsed JSON) to log events. */
export function logsFromRequest(req: unknown, opts: DecodeOptions): Decoded<LogEvent> {
  if (!isObj(req)) throw new BadRequest('body must be an ExportLogsServiceRequest object');
  const out: Decoded<LogEvent> = { items: [], rejected: 0, firstError: undefined };
  for (const rl of arr(req.resourceLogs, 'resourceLogs')) {
    if (!isObj(rl)) throw new BadRequest('resourceLogs[] must be objects');
    const service = serviceName(rl.resource);
    const resAttrs = scanAttributes(isObj(rl.resource) ? rl.resource.attributes : undefined, undefined);
    const scopes = [
      ...arr(rl.scopeLogs, 'scopeLogs'),
      ...arr(rl.instrumentationLibraryLogs, 'instrumentationLibraryLogs'),
    ];
    for (const sl of scopes) {
      if (!isObj(sl)) throw new BadRequest('scopeLogs[] must be objects');
      for (const r of arr(sl.logRecords ?? sl.logs, 'logRecords')) {
        try {
          if (!isObj(r)) throw new InvalidRecord('logRecords[] must be objects');
          const time = nsToMs(r.timeUnixNano, 'timeUnixNano') || nsToMs(r.observedTimeUnixNano, 'observedTimeUnixNano');
          out.items.push({
            traceId: id(r.traceId, 16, 'traceId'),
            spanId: id(r.spanId, 8, 'spanId'),
            timeMs: time,
            severity: severityOf(r.severityText, enumInt(r.severityNumber, SEVERITY_NAMES)),
            service,
            body: opts.withBody ? anyToString(r.body) : '',
            attrs: scanAttributes(r.attributes, resAttrs),
          });
        } catch (err) {
          reject(out, err);
        }
      }
    }
  }
  return out;
}

/** ExportTraceServiceRequest (decoded protobuf or parsed JSON) to span events. */
export function spansFromRequest(req: unknown): Decoded<SpanEvent> {
  if (!isObj(req)) throw new BadRequest('body must be an ExportTraceServiceRequest object');
  const out: Decoded<SpanEvent> = { items: [], rejected: 0, firstError: undefined };
  for (const rs of arr(req.resourceSpans, 'resourceSpans')) {
    if (!isObj(rs)) throw new BadRequest('resourceSpans[] must be objects');
    const service = serviceName(rs.resource);
    const resAttrs = scanAttributes(isObj(rs.resource) ? rs.resource.attributes : undefined, undefined);
    const scopes = [
      ...arr(rs.scopeSpans, 'scopeSpans'),
      ...arr(rs.instrumentationLibrarySpans, 'instrumentationLibrarySpans'),
    ];
    for (const ss of scopes) {
      if (!isObj(ss)) throw new BadRequest('scopeSpans[] must be objects');
      for (const s of arr(ss.spans, 'spans')) {
        try {
          if (!isObj(s)) throw new InvalidRecord('spans[] must be objects');
          const traceId = id(s.traceId, 16, 'traceId');
          const spanId = id(s.spanId, 8, 'spanId');
          // A span without ids is invalid OTLP (the spec requires both), unlike a log without one.
          if (traceId === null) throw new InvalidRecord('span traceId is missing or all zero');
          if (spanId === null) throw new InvalidRecord('span spanId is missing or all zero');
          const status = isObj(s.status) ? enumInt(s.status.code, STATUS_NAMES) : 0;
          out.items.push({
            traceId,
            spanId,
            service,
            name: typeof s.name === 'string' ? s.name : '',
            startMs: nsToMs(s.startTimeUnixNano, 'startTimeUnixNano'),
            endMs: nsToMs(s.endTimeUnixNano, 'endTimeUnixNano'),
            error: status === 2,
            attrs: scanAttributes(s.attributes, resAttrs),
          });
        } catch (err) {
          reject(out, err);
        }
      }
    }
  }
  return out;
}

export function decodeProto(type: protobuf.Type, body: Buffer): unknown {
  try {
    return type.decode(body);
  } catch (err) {
    throw new BadRequest(`body is not a valid protobuf ${type.name}: ${(err as Error).message}`);
  }
}

export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new BadRequest(`body is not valid JSON: ${(err as Error).message}`);
  }
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
