// Load generator for bench/correlator.ts, run as its own process so that the engine's CPU time
// is measured alone. Sends OTLP batches of 512 records (128 traces of 4 records) to URL for
// DURATION_MS with CONCURRENCY requests in flight; prints {requests, records, errors, ms} as JSON.
//   SIGNAL   logs (default) or traces
//   ENCODING json or protobuf
//   RATE     records per second to pace at (0, the default: as fast as the receiver answers)
//   UNIQUE   1: every request carries new trace ids (else 64 prepared bodies repeat, which is
//            cheaper for the sender but reuses trace ids every 64 requests)
import { LogsRequest, TracesRequest } from '../correlator/otlp.js';

const url = process.env.URL ?? 'http://127.0.0.1:8080/v1/logs';
const proto = process.env.ENCODING === 'protobuf';
const traces = process.env.SIGNAL === 'traces';
const durationMs = Number(process.env.DURATION_MS ?? '5000');
const concurrency = Number(process.env.CONCURRENCY ?? '8');
const rate = Number(process.env.RATE ?? '0');
const unique = process.env.UNIQUE === '1';
const BATCH = 512;
const BODIES = 64;
const seed = Number(process.env.SEED ?? '1');

function hex(n: number, len: number): string {
  return n.toString(16).padStart(len, '0');
}

const idBytes = (h: string) => Buffer.from(h, 'hex');

function logsBatch(b: number): Buffer {
  const base = 1_760_000_000_000_000_000n;
  const records = Array.from({ length: BATCH }, (_, i) => {
    const trace = `${hex(seed, 8)}${hex(b, 8)}${hex(Math.floor(i / 4), 16)}`;
    return {
      timeUnixNano: String(base + BigInt(b * BATCH + i) * 1000n),
      severityNumber: i % 10 === 0 ? 17 : 9,
      severityText: i % 10 === 0 ? 'ERROR' : 'INFO',
      body: { stringValue: `request ${i} handled in ${i % 97} ms by worker ${i % 7}` },
      traceId: trace,
      spanId: hex(i + 1, 16),
      attributes: [
        { key: 'circuit_id', value: { stringValue: `CIRCUIT-${i % 50}` } },
        { key: 'http.status_code', value: { intValue: '200' } },
      ],
    };
  });
  const resource = { attributes: [{ key: 'service.name', value: { stringValue: `svc-${b % 4}` } }] };
  if (!proto) {
    return Buffer.from(
      JSON.stringify({ resourceLogs: [{ resource, scopeLogs: [{ scope: { name: 'bench' }, logRecords: records }] }] }),
    );
  }
  const logRecords = records.map((r) => ({
    ...r,
    traceId: idBytes(r.traceId),
    spanId: idBytes(r.spanId),
    attributes: [r.attributes[0], { key: 'http.status_code', value: { intValue: 200 } }],
  }));
  return Buffer.from(
    LogsRequest.encode({
      resourceLogs: [{ resource, scopeLogs: [{ scope: { name: 'bench' }, logRecords }] }],
    }).finish(),
  );
}

function tracesBatch(b: number): Buffer {
  const base = 1_760_000_000_000_000_000n;
  const spans = Array.from({ length: BATCH }, (_, i) => {
    const start = base + BigInt(b * BATCH + i) * 1000n;
    return {
      traceId: `${hex(seed, 8)}${hex(b, 8)}${hex(Math.floor(i / 4), 16)}`,
      spanId: hex(i + 1, 16),
      parentSpanId: i % 4 === 0 ? '' : hex(i - (i % 4) + 1, 16),
      name: `GET /orders/${i % 13}`,
      kind: 2,
      startTimeUnixNano: String(start),
      endTimeUnixNano: String(start + 2_500_000n),
      attributes: [
        { key: 'circuit_id', value: { stringValue: `CIRCUIT-${i % 50}` } },
        { key: 'http.status_code', value: { intValue: '200' } },
      ],
      status: { code: i % 10 === 0 ? 2 : 0 },
    };
  });
  const resource = { attributes: [{ key: 'service.name', value: { stringValue: `svc-${b % 4}` } }] };
  if (!proto) {
    return Buffer.from(
      JSON.stringify({ resourceSpans: [{ resource, scopeSpans: [{ scope: { name: 'bench' }, spans }] }] }),
    );
  }
  const pbSpans = spans.map((s) => ({
    ...s,
    traceId: idBytes(s.traceId),
    spanId: idBytes(s.spanId),
    parentSpanId: s.parentSpanId ? idBytes(s.parentSpanId) : undefined,
    attributes: [s.attributes[0], { key: 'http.status_code', value: { intValue: 200 } }],
  }));
  return Buffer.from(
    TracesRequest.encode({
      resourceSpans: [{ resource, scopeSpans: [{ scope: { name: 'bench' }, spans: pbSpans }] }],
    }).finish(),
  );
}

const batch = traces ? tracesBatch : logsBatch;
const bodies = unique ? [] : Array.from({ length: BODIES }, (_, b) => batch(b));

// New trace ids per request without encoding a new body (which would make this process the
// bottleneck): one body built for a marker batch number, whose 4 bytes (8 hex digits) after the
// seed in every trace id are overwritten with the request's number.
const MARKER = 0xdeadbeef;
const template = unique ? batch(MARKER) : Buffer.alloc(0);
const markerAt: number[] = [];
const needle = proto
  ? Buffer.from(`${hex(seed, 8)}${hex(MARKER, 8)}`, 'hex')
  : Buffer.from(`${hex(seed, 8)}${hex(MARKER, 8)}`);
for (let at = template.indexOf(needle); at >= 0; at = template.indexOf(needle, at + 1))
  markerAt.push(at + needle.length / 2);
if (unique && markerAt.length !== BATCH)
  throw new Error(`found ${markerAt.length} trace ids in the template, want ${BATCH}`);

/** A plain ArrayBuffer view (the body type fetch accepts), with this request's trace ids. */
function body(i: number): Uint8Array<ArrayBuffer> {
  if (!unique) return new Uint8Array(bodies[i % BODIES]);
  const out = new Uint8Array(template);
  const id = proto ? Buffer.alloc(4) : Buffer.from(hex(i, 8));
  if (proto) id.writeUInt32BE(i);
  for (const at of markerAt) out.set(id, at);
  return out;
}
const headers = { 'content-type': proto ? 'application/x-protobuf' : 'application/json' };
const intervalMs = rate > 0 ? (1000 * BATCH) / rate : 0;
let requests = 0;
let errors = 0;
let next = 0;
const start = Date.now();
async function worker() {
  for (;;) {
    const i = next++;
    const due = start + i * intervalMs;
    if (due - start >= durationMs || Date.now() - start >= durationMs) return;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    try {
      // Bounded: a receiver that stops answering ends the run with errors instead of hanging it.
      const res = await fetch(url, { method: 'POST', body: body(i), headers, signal: AbortSignal.timeout(30_000) });
      await res.arrayBuffer();
      if (res.status === 200) requests++;
      else errors++;
    } catch {
      errors++;
    }
  }
}
await Promise.all(Array.from({ length: concurrency }, () => worker()));
const ms = Date.now() - start;
process.stdout.write(
  `${JSON.stringify({ requests, records: requests * BATCH, errors, ms, bytesPerRequest: body(0).length })}\n`,
);
