// Load generator for bench/correlator.ts, run as its own process so that the engine's CPU time
// is measured alone. Sends OTLP logs batches (512 records over 128 traces each) for DURATION_MS
// with CONCURRENCY requests in flight; prints {requests, records, errors, ms} as JSON.
import { LogsRequest } from '../correlator/otlp.js';

const url = process.env.URL ?? 'http://127.0.0.1:8080/v1/logs';
const proto = process.env.ENCODING === 'protobuf';
const durationMs = Number(process.env.DURATION_MS ?? '5000');
const concurrency = Number(process.env.CONCURRENCY ?? '8');
const BATCH = 512;
const BODIES = 64;
const seed = Number(process.env.SEED ?? '1');

function hex(n: number, len: number): string {
  return n.toString(16).padStart(len, '0');
}

function batch(b: number) {
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
  const req = {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: `svc-${b % 4}` } }] },
        scopeLogs: [{ scope: { name: 'bench' }, logRecords: records }],
      },
    ],
  };
  if (!proto) return Buffer.from(JSON.stringify(req));
  const pbReq = {
    resourceLogs: req.resourceLogs.map((rl) => ({
      ...rl,
      scopeLogs: rl.scopeLogs.map((sl) => ({
        ...sl,
        logRecords: sl.logRecords.map((r) => ({
          ...r,
          traceId: Buffer.from(r.traceId, 'hex'),
          spanId: Buffer.from(r.spanId, 'hex'),
          attributes: [r.attributes[0], { key: 'http.status_code', value: { intValue: 200 } }],
        })),
      })),
    })),
  };
  return Buffer.from(LogsRequest.encode(pbReq).finish());
}

const bodies = Array.from({ length: BODIES }, (_, b) => batch(b));
const headers = { 'content-type': proto ? 'application/x-protobuf' : 'application/json' };
let requests = 0;
let errors = 0;
const start = Date.now();
async function worker(w: number) {
  for (let i = w; Date.now() - start < durationMs; i += concurrency) {
    const res = await fetch(url, { method: 'POST', body: bodies[i % BODIES], headers });
    await res.arrayBuffer();
    if (res.status === 200) requests++;
    else errors++;
  }
}
await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
const ms = Date.now() - start;
process.stdout.write(
  `${JSON.stringify({ requests, records: requests * BATCH, errors, ms, bytesPerRequest: bodies[0].length })}\n`,
);
