// Hostile input against the real correlator process (issue 12), run as a pod of the small profile
// runs it: Node with a 384 MiB heap (75 % of the profile's 512 MiB memory limit, as the chart
// sets NODE_OPTIONS), every setting at its default. Each case sends what an attacker would, over
// HTTP and OTLP/gRPC on 127.0.0.1, and checks the answer; throughout, the process's VmRSS is read
// from /proc every 20 ms and must stay under the memory limit; afterwards ordinary traffic must
// still be correlated. The figures (peak RSS per case, answers, time) are printed at the end.
//
// JSON is not a gRPC encoding (OTLP/gRPC is protobuf only), so the JSON bombs go over HTTP alone.
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { deflateSync, gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeStatus, LogsRequest, TracesRequest } from '../../../correlator/otlp.js';
import { quantityBytes, sizing } from '../../../desired/stack/sizing.js';
import { freePort, Peer } from './peers.js';

const LIMIT_BYTES = quantityBytes(sizing('small', 'correlator').resources.limits.memory ?? '');
const HEAP_MIB = Math.floor((LIMIT_BYTES * 0.75) / 2 ** 20);
const RSS_BOUND_MIB = LIMIT_BYTES / 2 ** 20;
const MiB = 2 ** 20;

const repoDir = fileURLToPath(new URL('../../..', import.meta.url));
const entry = fileURLToPath(new URL('./engine-main.ts', import.meta.url));

let engine: Peer;
let base = '';
let grpcPort = 0;
let grpcClient: grpc.Client;
const figures: { case: string; answers: string; peakRssMiB: number; ms: number }[] = [];

/** VmRSS of the engine, sampled every 20 ms; `during` runs a case and returns its peak. */
const rss = {
  peak: 0,
  timer: undefined as NodeJS.Timeout | undefined,
  read(): number {
    const status = readFileSync(`/proc/${engine.pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? Number.NaN) / 1024;
  },
  start() {
    this.timer = setInterval(() => {
      if (engine.running) this.peak = Math.max(this.peak, this.read());
    }, 20);
  },
};

async function during<T>(name: string, run: () => Promise<T>, answers: (r: T) => string): Promise<T> {
  rss.peak = rss.read();
  const t0 = performance.now();
  const result = await run();
  const ms = Math.round(performance.now() - t0);
  rss.peak = Math.max(rss.peak, rss.read());
  figures.push({ case: name, answers: answers(result), peakRssMiB: Math.round(rss.peak), ms });
  expect(engine.running).toBe(true);
  expect(rss.peak).toBeLessThan(RSS_BOUND_MIB);
  return result;
}

interface Answer {
  status: number;
  retryAfter: string | null;
  body: Buffer;
}

async function post(path: string, body: Uint8Array, headers: Record<string, string>): Promise<Answer> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    body: body as Uint8Array<ArrayBuffer>,
    headers,
    signal: AbortSignal.timeout(60_000),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: Buffer.from(await res.arrayBuffer()) };
}

const PROTO = { 'content-type': 'application/x-protobuf' };
const JSON_TYPE = { 'content-type': 'application/json' };
const GZIP = { 'content-encoding': 'gzip' };

/** The message of an error answer, protobuf (google.rpc.Status) or JSON. */
function messageOf(a: Answer, proto: boolean): string {
  return proto ? decodeStatus(a.body).message : (JSON.parse(a.body.toString()) as { message: string }).message;
}

const GRPC_PATHS = {
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
};

function grpcSend(signal: 'logs' | 'traces', body: Uint8Array): Promise<{ code: grpc.status; details: string }> {
  return new Promise((resolve) => {
    grpcClient.makeUnaryRequest(
      GRPC_PATHS[signal],
      (b: Uint8Array) => Buffer.from(b),
      (b: Buffer) => b,
      body,
      new grpc.Metadata(),
      { deadline: Date.now() + 60_000 },
      (err) => resolve(err ? { code: err.code, details: err.details } : { code: grpc.status.OK, details: '' }),
    );
  });
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

/**
 * ExportLogsServiceRequest and ExportTraceServiceRequest share this shape: field 1 → field 2 →
 * `records` empty messages as field 2 (log_records, spans). Built by hand: 3,000,000 records are
 * 6 MB, which protobufjs would have to build as objects first.
 */
function emptyRecordsProto(records: number): Buffer {
  const inner = Buffer.alloc(records * 2);
  for (let i = 0; i < inner.length; i += 2) inner[i] = 0x12;
  const resource = Buffer.concat([Buffer.from([0x12, ...varint(inner.length)]), inner]);
  return Buffer.concat([Buffer.from([0x0a, ...varint(resource.length)]), resource]);
}

function emptyRecordsJson(signal: 'logs' | 'traces', records: number): Buffer {
  const list = `{}${',{}'.repeat(records - 1)}`;
  return Buffer.from(
    signal === 'logs'
      ? `{"resourceLogs":[{"scopeLogs":[{"logRecords":[${list}]}]}]}`
      : `{"resourceSpans":[{"scopeSpans":[{"spans":[${list}]}]}]}`,
  );
}

/** An AnyValue nested `depth` levels deep (array in array), written outside in from precomputed sizes. */
function deepAnyValue(depth: number): Buffer {
  // sizes[i]: bytes of the AnyValue at level i (level 0 is the innermost, empty one).
  const anySizes = [0];
  const arraySizes = [0];
  for (let i = 1; i <= depth; i++) {
    const inner = anySizes[i - 1];
    const array = 1 + varint(inner).length + inner;
    arraySizes.push(array);
    anySizes.push(1 + varint(array).length + array);
  }
  const out = Buffer.alloc(anySizes[depth]);
  let p = 0;
  for (let i = depth; i >= 1; i--) {
    for (const b of [0x2a, ...varint(arraySizes[i]), 0x0a, ...varint(anySizes[i - 1])]) out[p++] = b;
  }
  return out;
}

const hex = (n: number, bytes: number) => n.toString(16).padStart(bytes * 2, '0');
const traceId = (n: number) => hex(n + 0x1000, 16);
const spanId = (n: number) => hex(n + 1, 8);
const NOW_NS = () => `${Date.now()}000000`;

function spansProto(spans: { trace: string; service: string; attrs?: Record<string, string> }[]): Uint8Array {
  return TracesRequest.encode({
    resourceSpans: spans.map((s, i) => ({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: s.service } }] },
      scopeSpans: [
        {
          spans: [
            {
              traceId: Buffer.from(s.trace, 'hex'),
              spanId: Buffer.from(spanId(i), 'hex'),
              name: 'op',
              startTimeUnixNano: Date.now() * 1e6,
              endTimeUnixNano: Date.now() * 1e6 + 1e6,
              attributes: Object.entries(s.attrs ?? {}).map(([key, v]) => ({ key, value: { stringValue: v } })),
            },
          ],
        },
      ],
    })),
  }).finish();
}

function logsProto(service: string, records: { trace: string; body?: string }[]): Uint8Array {
  return LogsRequest.encode({
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeLogs: [
          {
            logRecords: records.map((r) => ({
              traceId: Buffer.from(r.trace, 'hex'),
              timeUnixNano: Date.now() * 1e6,
              severityNumber: 9,
              body: { stringValue: r.body ?? 'hello' },
            })),
          },
        ],
      },
    ],
  }).finish();
}

function spansJson(trace: string, service: string, attrs: Record<string, string> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId: trace,
                  spanId: spanId(7),
                  name: 'op',
                  startTimeUnixNano: NOW_NS(),
                  endTimeUnixNano: NOW_NS(),
                  attributes: Object.entries(attrs).map(([key, v]) => ({ key, value: { stringValue: v } })),
                },
              ],
            },
          ],
        },
      ],
    }),
  );
}

function logsJson(trace: string, service: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
          scopeLogs: [
            {
              logRecords: [{ traceId: trace, timeUnixNano: NOW_NS(), severityNumber: 17, body: { stringValue: 'x' } }],
            },
          ],
        },
      ],
    }),
  );
}

async function correlation(trace: string): Promise<Record<string, unknown> | undefined> {
  const res = await fetch(`${base}/api/correlations?trace_id=${trace}`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { correlations: Record<string, unknown>[] };
  return body.correlations[0];
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{')) {
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}

const codes = (answers: { status: number }[]) => {
  const n = new Map<number, number>();
  for (const a of answers) n.set(a.status, (n.get(a.status) ?? 0) + 1);
  return [...n].map(([code, count]) => (count > 1 ? `${count}×${code}` : String(code))).join(', ');
};

beforeAll(async () => {
  const port = await freePort();
  grpcPort = await freePort();
  engine = new Peer(
    'correlator',
    process.execPath,
    [`--max-old-space-size=${HEAP_MIB}`, '--import', 'tsx', entry],
    repoDir,
    {
      ...process.env,
      NODE_OPTIONS: '',
      HOST: '127.0.0.1',
      PORT: String(port),
      GRPC_PORT: String(grpcPort),
      LOG_LEVEL: 'error',
    },
  );
  engine.start();
  base = `http://127.0.0.1:${port}`;
  await engine.waitReady(`${base}/ready`, 60_000);
  grpcClient = new grpc.Client(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure(), {
    'grpc.default_compression_algorithm': grpc.compressionAlgorithms.gzip,
    'grpc.max_send_message_length': -1,
  });
  rss.start();
}, 90_000);

afterAll(async () => {
  clearInterval(rss.timer);
  grpcClient?.close();
  await engine?.stop();
  const rows = figures.map((f) => `| ${f.case} | ${f.answers} | ${f.peakRssMiB} | ${f.ms} |`);
  process.stdout.write(
    [
      `hostile-input suite: heap ${HEAP_MIB} MiB, RSS bound ${RSS_BOUND_MIB} MiB (small profile's memory limit)`,
      '| case | answers | peak RSS MiB | ms |',
      '|---|---|---|---|',
      ...rows,
      '',
    ].join('\n'),
  );
});

describe('the correlator process under hostile input (small profile heap)', () => {
  it.each([
    ['logs', 'protobuf'],
    ['traces', 'protobuf'],
    ['logs', 'json'],
    ['traces', 'json'],
  ] as const)(
    'refuses a gzip bomb of 3,000,000 empty %s records in %s over HTTP with 413',
    async (signal, encoding) => {
      const raw = encoding === 'protobuf' ? emptyRecordsProto(3_000_000) : emptyRecordsJson(signal, 3_000_000);
      const zipped = gzipSync(raw, { level: 9 });
      const proto = encoding === 'protobuf';
      const a = await during(
        `gzip bomb, ${signal}, ${encoding}, HTTP (${(raw.length / MiB).toFixed(1)} MiB in ${(zipped.length / 1024).toFixed(0)} KiB)`,
        () => post(`/v1/${signal}`, zipped, { ...(proto ? PROTO : JSON_TYPE), ...GZIP }),
        (r) => codes([r]),
      );
      expect(a.status).toBe(413);
      expect(messageOf(a, proto)).toBe('batch has more than 5000 records, over MAX_BATCH_SIZE (5000)');
    },
  );

  it.each(['logs', 'traces'] as const)(
    'refuses a gzip bomb of 3,000,000 empty %s records over gRPC with RESOURCE_EXHAUSTED',
    async (signal) => {
      const raw = emptyRecordsProto(3_000_000);
      const a = await during(
        `gzip bomb, ${signal}, protobuf, gRPC (gzip)`,
        () => grpcSend(signal, raw),
        (r) => grpc.status[r.code],
      );
      expect(a.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(a.details).toMatch(/over MAX_BATCH_SIZE/);
    },
  );

  it('refuses 64 MiB of zeros, gzip and deflate, over HTTP and gRPC, without inflating past the cap', async () => {
    const zeros = Buffer.alloc(64 * MiB);
    const gz = gzipSync(zeros, { level: 9 });
    const df = deflateSync(zeros, { level: 9 });
    const answers = await during(
      `64 MiB of zeros: gzip ${(gz.length / 1024).toFixed(0)} KiB and deflate over HTTP, gzip over gRPC`,
      async () => ({
        gzip: await post('/v1/logs', gz, { ...PROTO, ...GZIP }),
        deflate: await post('/v1/traces', df, { ...JSON_TYPE, 'content-encoding': 'deflate' }),
        grpc: await grpcSend('logs', zeros),
      }),
      (r) => `${r.gzip.status}, ${r.deflate.status}, ${grpc.status[r.grpc.code]}`,
    );
    expect(answers.gzip.status).toBe(413);
    expect(messageOf(answers.gzip, true)).toMatch(/MAX_BODY_BYTES \(16777216\) after gunzip/);
    expect(answers.deflate.status).toBe(413);
    expect(messageOf(answers.deflate, false)).toMatch(/after inflate/);
    expect(answers.grpc.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  });

  it('accepts thirty 4 MiB attribute values but keeps 1024 characters of each', async () => {
    const value = 'v'.repeat(4 * MiB);
    const before = await metric('ingest_truncations_total');
    const answers = await during(
      'thirty 4 MiB attribute values (protobuf and JSON spans)',
      async () => {
        const out: Answer[] = [];
        for (let i = 0; i < 30; i++) {
          const trace = traceId(100 + i);
          const body =
            i % 2 === 0
              ? spansProto([{ trace, service: 'big', attrs: { circuit_id: value, other: value.slice(0, 1000) } }])
              : spansJson(trace, 'big', { circuit_id: value });
          out.push(await post('/v1/traces', body, i % 2 === 0 ? PROTO : JSON_TYPE));
        }
        return out;
      },
      codes,
    );
    expect(answers.map((a) => a.status)).toEqual(Array(30).fill(200));
    for (const i of [0, 1, 29]) {
      const rec = await correlation(traceId(100 + i));
      expect(rec?.attributes).toEqual({ circuit_id: 'v'.repeat(1024) });
    }
    expect((await metric('ingest_truncations_total')) - before).toBe(30);
    expect(rss.read()).toBeLessThan(RSS_BOUND_MIB);
  });

  it('holds a trace from 10,000 services as one record listing 64 of them', async () => {
    const trace = traceId(9);
    const answers = await during(
      'a trace with 10,000 services (5 requests of 2,000 resources)',
      async () => {
        const out: Answer[] = [];
        for (let r = 0; r < 5; r++) {
          const spans = Array.from({ length: 2000 }, (_, i) => ({ trace, service: `svc-${r * 2000 + i}` }));
          out.push(await post('/v1/traces', spansProto(spans), PROTO));
        }
        return out;
      },
      codes,
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    const rec = await correlation(trace);
    expect(rec?.span_count).toBe(10_000);
    expect(rec?.services).toHaveLength(64);
    expect(await metric('correlation_services_dropped_total')).toBe(10_000 - 64);
  });

  it('refuses nesting 200,000 deep in JSON and in protobuf with 400', async () => {
    const n = 200_000;
    const deepJson = Buffer.from(
      `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":${'{"arrayValue":{"values":['.repeat(n)}${']}}'.repeat(n)}}]}]}]}`,
    );
    const bare = Buffer.from(`${'['.repeat(n)}${']'.repeat(n)}`);
    // A seed attribute whose value nests arrays 200,000 deep: only rendered values are followed.
    const attr = deepAnyValue(n);
    const kv = Buffer.concat([
      Buffer.from([0x0a, 10]),
      Buffer.from('circuit_id'),
      Buffer.from([0x12, ...varint(attr.length)]),
      attr,
    ]);
    const span = Buffer.concat([
      Buffer.from([0x0a, 16]),
      Buffer.from(traceId(5), 'hex'),
      Buffer.from([0x12, 8]),
      Buffer.from(spanId(5), 'hex'),
      Buffer.from([0x4a, ...varint(kv.length)]),
      kv,
    ]);
    const scope = Buffer.concat([Buffer.from([0x12, ...varint(span.length)]), span]);
    const resource = Buffer.concat([Buffer.from([0x12, ...varint(scope.length)]), scope]);
    const deepProto = Buffer.concat([Buffer.from([0x0a, ...varint(resource.length)]), resource]);
    const answers = await during(
      'nesting 200,000 deep: JSON body, bare JSON array, protobuf AnyValue over HTTP and gRPC',
      async () => ({
        json: await post('/v1/logs', deepJson, JSON_TYPE),
        bare: await post('/v1/traces', gzipSync(bare), { ...JSON_TYPE, ...GZIP }),
        proto: await post('/v1/traces', deepProto, PROTO),
        grpc: await grpcSend('traces', deepProto),
      }),
      (r) => `${r.json.status}, ${r.bare.status}, ${r.proto.status}, ${grpc.status[r.grpc.code]}`,
    );
    expect(answers.json.status).toBe(400);
    expect(messageOf(answers.json, false)).toBe('body is nested deeper than MAX_NESTING_DEPTH (64)');
    expect(answers.bare.status).toBe(400);
    expect(answers.proto.status).toBe(400);
    expect(messageOf(answers.proto, true)).toMatch(/nested deeper than MAX_NESTING_DEPTH \(64\)/);
    expect(answers.grpc.code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it('answers 2,000 concurrent requests with 200 or 429 + Retry-After, never anything else', async () => {
    // 16 KiB each (ten log records with 1.5 KiB bodies), all sent at once over their own connections.
    const body = logsProto(
      'burst',
      Array.from({ length: 10 }, (_, i) => ({ trace: traceId(200 + i), body: 'b'.repeat(1536) })),
    );
    const answers = await during(
      '2,000 concurrent requests of 16 KiB',
      () => Promise.all(Array.from({ length: 2000 }, () => post('/v1/logs', body, PROTO))),
      codes,
    );
    for (const a of answers) {
      expect([200, 429]).toContain(a.status);
      if (a.status === 429) expect(a.retryAfter).toBe('1');
    }
    expect(answers.some((a) => a.status === 200)).toBe(true);
  });

  it('answers 429 + Retry-After while slow senders hold the in-flight budget, and lets them go when they leave', async () => {
    // Three senders announce 16 MiB bodies and send 1 KiB: 48 MiB asked for, over the budget of
    // 10 % of the heap (43 MiB), so the third is refused at once, before its body is read.
    const head = `POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\nContent-Length: ${16 * MiB}\r\n\r\n`;
    const port = Number(new URL(base).port);
    const openSlow = () =>
      new Promise<{ socket: Socket; answer: Promise<string> }>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.write(head);
          socket.write(Buffer.alloc(1024));
          resolve({
            socket,
            answer: new Promise((r) => {
              let text = '';
              socket.on('data', (d) => {
                text += d.toString('latin1');
                if (text.includes('\r\n\r\n')) r(text);
              });
              socket.on('close', () => r(text));
            }),
          });
        });
      });
    const slow = [await openSlow(), await openSlow()];
    // The third only once the engine holds the first two.
    for (let i = 0; i < 200 && (await metric('ingest_inflight_bytes')) < 32 * MiB; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    slow.push(await openSlow());
    const answers = await during(
      'three slow 16 MiB senders, then one more request',
      async () => {
        const third = await slow[2].answer;
        // What is left of the budget (11 MiB) still takes a small request, not a 12 MiB one.
        const small = await post('/v1/logs', logsProto('late', [{ trace: traceId(300) }]), PROTO);
        const next = await post(
          '/v1/logs',
          logsProto('late', [{ trace: traceId(300), body: 'b'.repeat(12 * MiB) }]),
          PROTO,
        );
        for (const s of slow) s.socket.destroy();
        // Their reservations go with their connections.
        await new Promise((r) => setTimeout(r, 200));
        const after = await post('/v1/logs', logsProto('late', [{ trace: traceId(301) }]), PROTO);
        return { third, small, next, after };
      },
      (r) =>
        `third ${/^HTTP\/1\.1 (\d+)/.exec(r.third)?.[1]}, small ${r.small.status}, 12 MiB ${r.next.status}, after they left ${r.after.status}`,
    );
    expect(answers.third).toMatch(/^HTTP\/1\.1 429 /);
    expect(answers.third).toMatch(/\r\nretry-after: 1\r\n/i);
    expect(answers.small.status).toBe(200);
    expect(answers.next.status).toBe(429);
    expect(messageOf(answers.next, true)).toMatch(/MAX_INFLIGHT_BYTES/);
    expect(answers.after.status).toBe(200);
    expect(await metric('ingest_inflight_bytes')).toBe(0);
  });

  it('still correlates ordinary traffic afterwards, over HTTP (protobuf and JSON) and gRPC', async () => {
    const trace = traceId(7777);
    const other = traceId(7778);
    const answers = await during(
      'ordinary traffic afterwards',
      async () => [
        await post('/v1/traces', spansProto([{ trace, service: 'checkout' }]), PROTO),
        await post('/v1/logs', logsJson(trace, 'payments'), JSON_TYPE),
        await post('/v1/traces', spansJson(other, 'checkout'), JSON_TYPE),
        { status: (await grpcSend('logs', logsProto('cart', [{ trace }, { trace: other }]))).code === 0 ? 200 : 500 },
      ],
      codes,
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(await correlation(trace)).toMatchObject({
      status: 'open',
      services: ['checkout', 'payments', 'cart'],
      span_count: 1,
      log_count: 2,
    });
    expect(await correlation(other)).toMatchObject({ services: ['checkout', 'cart'], span_count: 1, log_count: 1 });
    expect((await fetch(`${base}/health`)).status).toBe(200);
    expect(rss.read()).toBeLessThan(RSS_BOUND_MIB);
  });
});
