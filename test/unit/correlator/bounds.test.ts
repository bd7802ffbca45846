// The input bounds piece by piece (issue 12): the protobuf reader agrees with the JSON walker on
// what it keeps, both cut values to the limits and count it, the JSON scan counts records and
// depth from the bytes alone, the store holds to its byte budget and services cap, and the export
// queues hold to their byte caps, give up after the maximum elapsed time and keep an optional
// destination from holding back ingest. hostile.test.ts throws the same at the running process.
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { post, readBounded } from '../../../correlator/export-http.js';
import { type Destination, ExportQueue, type SendResult } from '../../../correlator/export-queue.js';
import { scanJson } from '../../../correlator/json-scan.js';
import { type DecodeLimits, noTruncations } from '../../../correlator/limits.js';
import { createMetrics } from '../../../correlator/metrics.js';
import { LogsRequest, spansFromRequest, TracesRequest } from '../../../correlator/otlp.js';
import { decodeLogs, decodeSpans } from '../../../correlator/otlp-proto.js';
import { CorrelationStore } from '../../../correlator/store.js';
import { aCorrelator, call, closeAll, otlpJsonSpans, SPAN_1, TRACE_A, TRACE_B } from './helpers.js';

afterAll(closeAll);

const limits = (over: Partial<DecodeLimits> = {}): DecodeLimits => ({
  attributeValueLength: 1024,
  attributeCount: 128,
  bodyLength: 4096,
  serviceNameLength: 256,
  maxRecords: 5000,
  maxNestingDepth: 64,
  truncated: noTruncations(),
  ...over,
});

// One AnyValue in both encodings: protobufjs objects (Buffers, numbers) and OTLP/JSON (hex, strings).
const VALUES: [string, object, object][] = [
  ['string', { stringValue: 'C-1' }, { stringValue: 'C-1' }],
  ['int', { intValue: 42 }, { intValue: '42' }],
  ['negative int', { intValue: -5 }, { intValue: '-5' }],
  ['double', { doubleValue: 1.5 }, { doubleValue: 1.5 }],
  ['bool', { boolValue: true }, { boolValue: true }],
  [
    'array',
    { arrayValue: { values: [{ stringValue: 'a' }, { intValue: 1 }] } },
    { arrayValue: { values: [{ stringValue: 'a' }, { intValue: '1' }] } },
  ],
  [
    'kvlist',
    { kvlistValue: { values: [{ key: 'x', value: { stringValue: 'y' } }] } },
    { kvlistValue: { values: [{ key: 'x', value: { stringValue: 'y' } }] } },
  ],
];

function both(
  id: (hex: string) => unknown,
  value: object,
  extra: { resourceAttrs?: object[]; spanAttrs?: object[]; traceId?: string } = {},
) {
  const resource = {
    attributes: [
      { key: 'service.name', value: { stringValue: 'svc' } },
      { key: 'circuit_id', value },
      ...(extra.resourceAttrs ?? []),
    ],
  };
  return {
    resourceSpans: [
      {
        resource,
        scopeSpans: [
          {
            scope: { name: 's', attributes: [{ key: 'request_id', value: { stringValue: 'scope-is-ignored' } }] },
            spans: [
              {
                traceId: id(extra.traceId ?? TRACE_A),
                spanId: id(SPAN_1),
                name: 'op',
                kind: 2,
                traceState: 'a=b',
                flags: 257,
                events: [
                  { name: 'e', attributes: [{ key: 'product_id', value: { stringValue: 'event-is-ignored' } }] },
                ],
                attributes: [{ key: 'request_id', value: { stringValue: 'r-9' } }, ...(extra.spanAttrs ?? [])],
                status: { code: 2, message: 'boom' },
              },
            ],
          },
        ],
      },
    ],
  };
}

const fromHex = (h: string) => Buffer.from(h, 'hex');

describe('the protobuf reader', () => {
  it.each(VALUES)('keeps what the JSON walker keeps for a %s attribute', (_name, protoValue, jsonValue) => {
    const proto = decodeSpans(Buffer.from(TracesRequest.encode(both(fromHex, protoValue)).finish()), limits());
    const json = spansFromRequest(JSON.parse(JSON.stringify(both((h) => h, jsonValue))), limits());
    expect(proto).toEqual(json);
    expect(proto.items[0]).toMatchObject({ service: 'svc', error: true, attrs: { request_id: 'r-9' } });
  });

  it('rejects a record with a malformed id without refusing the request, naming the first problem', () => {
    const req = {
      resourceLogs: [
        {
          scopeLogs: [
            {
              logRecords: [
                { traceId: Buffer.alloc(5, 1), timeUnixNano: 1 },
                { traceId: Buffer.alloc(3, 1) },
                { traceId: fromHex(TRACE_B), observedTimeUnixNano: 1_760_000_000_000_000_000, severityText: 'warning' },
              ],
            },
          ],
        },
      ],
    };
    const d = decodeLogs(Buffer.from(LogsRequest.encode(req).finish()), limits(), false);
    expect(d.rejected).toBe(2);
    expect(d.firstError).toBe('traceId must be 16 bytes, got 5');
    expect(d.items).toEqual([
      expect.objectContaining({
        traceId: TRACE_B,
        timeMs: 1_760_000_000_000,
        severity: 'WARN',
        service: 'unknown_service',
      }),
    ]);
  });

  it('cuts long values to the limits and counts each cut', () => {
    const t = noTruncations();
    const big = 'é'.repeat(5000);
    const req = both(fromHex, { stringValue: big }, { resourceAttrs: [] });
    req.resourceSpans[0].resource.attributes[0] = { key: 'service.name', value: { stringValue: 's'.repeat(300) } };
    const d = decodeSpans(Buffer.from(TracesRequest.encode(req).finish()), limits({ truncated: t }));
    expect(d.items[0].attrs?.circuit_id).toBe('é'.repeat(1024));
    expect(d.items[0].service).toBe('s'.repeat(256));
    expect(t).toEqual({ attribute_value: 1, attribute_count: 0, body: 0, service_name: 1 });
  });

  it('looks at the first ATTRIBUTE_COUNT_LIMIT attributes only, in protobuf and JSON alike', () => {
    const filler = Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: { stringValue: 'x' } }));
    const late = { key: 'product_id', value: { stringValue: 'too-late' } };
    for (const decode of [
      (l: DecodeLimits) =>
        decodeSpans(
          Buffer.from(
            TracesRequest.encode(both(fromHex, { stringValue: 'C' }, { spanAttrs: [...filler, late] })).finish(),
          ),
          l,
        ),
      (l: DecodeLimits) =>
        spansFromRequest(
          both((h) => h, { stringValue: 'C' }, { spanAttrs: [...filler, late] }),
          l,
        ),
    ]) {
      const t = noTruncations();
      const d = decode(limits({ attributeCount: 5, truncated: t }));
      expect(d.items[0].attrs).toEqual({ circuit_id: 'C', request_id: 'r-9' });
      expect(t.attribute_count).toBe(7);
    }
  });

  it('stops at the record cap and refuses malformed bytes with 400 reasons', () => {
    const spans = Array.from({ length: 4 }, () => ({ traceId: fromHex(TRACE_A), spanId: fromHex(SPAN_1) }));
    const body = Buffer.from(TracesRequest.encode({ resourceSpans: [{ scopeSpans: [{ spans }] }] }).finish());
    expect(() => decodeSpans(body, limits({ maxRecords: 3 }))).toThrow(
      'batch has more than 3 records, over MAX_BATCH_SIZE (3)',
    );
    expect(decodeSpans(body, limits({ maxRecords: 4 })).items).toHaveLength(4);
    expect(() => decodeSpans(body.subarray(0, body.length - 3), limits())).toThrow(
      /^body is not a valid protobuf ExportTraceServiceRequest: length \d+ at offset \d+ runs past the end$/,
    );
    expect(() => decodeSpans(Buffer.from([0x0b]), limits())).toThrow(/wire type 3/);
  });
});

describe('the JSON scan before parsing', () => {
  const caps = { maxDepth: 8, maxValues: 1000, maxRecords: 3 };

  it('counts records where OTLP puts them, whatever the strings and escapes around them say', () => {
    const tricky = '{"resourceLogs":[{"scopeLogs":[{"scope":{"name":"]}{[,\\"x"},"log\\u0052ecords":[{},1,"a"]}]}]}';
    expect(scanJson(Buffer.from(tricky), 'logs', caps)).toBe(3);
    expect(() => scanJson(Buffer.from(tricky.replace('[{},1,"a"]', '[{},1,"a",null]')), 'logs', caps)).toThrow(
      'batch has more than 3 records, over MAX_BATCH_SIZE (3)',
    );
    // Arrays elsewhere are not records.
    expect(scanJson(Buffer.from('{"resourceLogs":[{"resource":{"attributes":[1,2,3,4]}}]}'), 'logs', caps)).toBe(0);
    expect(scanJson(Buffer.from('{"records":[{},{}]}'), 'seed', caps)).toBe(2);
  });

  it('refuses nesting past the cap with 400 and too many values with 413', () => {
    expect(() => scanJson(Buffer.from(`${'['.repeat(9)}${']'.repeat(9)}`), 'logs', caps)).toThrow(
      'body is nested deeper than MAX_NESTING_DEPTH (8)',
    );
    expect(scanJson(Buffer.from(`${'['.repeat(8)}${']'.repeat(8)}`), 'logs', caps)).toBe(0);
    const many = Buffer.from(`{"resourceLogs":[${Array(1000).fill('0').join(',')}]}`);
    let err: unknown;
    try {
      scanJson(many, 'logs', caps);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ statusCode: 413, message: 'body has more than MAX_JSON_VALUES (1000) JSON values' });
  });

  it('keeps a 4 MiB attribute value from JSON as 1024 characters of its own (the request is not retained)', () => {
    const t = noTruncations();
    const d = spansFromRequest(
      JSON.parse(JSON.stringify(both((h) => h, { stringValue: 'v'.repeat(4 * 2 ** 20) }))),
      limits({ truncated: t }),
    );
    expect(d.items[0].attrs?.circuit_id).toHaveLength(1024);
    expect(t.attribute_value).toBe(1);
  });
});

describe('the store budgets', () => {
  const store = (maxBytes: number, maxServices = 64) =>
    new CorrelationStore({
      windowMs: 60_000,
      maxCorrelations: 1_000_000,
      maxBytes,
      maxServices,
      now: () => 1,
      onClose: () => {},
    });
  const trace = (i: number) => i.toString(16).padStart(32, '0');

  it('evicts the oldest records once their estimated bytes pass MAX_STORE_BYTES', () => {
    const s = store(200_000);
    for (let i = 1; i <= 2000; i++) {
      s.addSpans([
        {
          traceId: trace(i),
          spanId: SPAN_1,
          service: 'svc',
          name: 'op',
          startMs: 1,
          endMs: 2,
          error: false,
          attrs: { circuit_id: 'x'.repeat(100) },
        },
      ]);
    }
    expect(s.bytes).toBeLessThanOrEqual(200_000);
    expect(s.size).toBeGreaterThan(100);
    expect(s.size).toBeLessThan(2000);
    expect(s.evictedOpen).toBe(2000 - s.size);
    expect(s.query({ limit: 1 })[0].traceId).toBe(trace(2000));
  });

  it('lists at most maxServices services on a record and counts the rest', () => {
    const s = store(10_000_000, 3);
    s.addSpans(
      ['a', 'b', 'c', 'd', 'e', 'a'].map((service) => ({
        traceId: TRACE_A,
        spanId: SPAN_1,
        service,
        name: '',
        startMs: 0,
        endMs: 0,
        error: false,
        attrs: undefined,
      })),
    );
    expect(s.query({ traceId: TRACE_A, limit: 1 })[0].services).toEqual(['a', 'b', 'c']);
    expect(s.servicesDropped).toBe(2);
    expect(s.query({ service: 'd', limit: 10 })).toEqual([]);
  });
});

function queue(dest: Destination<number>, opts: Partial<ConstructorParameters<typeof ExportQueue<number>>[1]> = {}) {
  const metrics = createMetrics();
  const q = new ExportQueue<number>(
    dest,
    { maxRecords: 100, batchSize: 10, lingerMs: 5, backoffBaseMs: 5, backoffMaxMs: 20, size: (n) => n, ...opts },
    metrics,
    pino({ level: 'silent' }),
  );
  return { q, metrics };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the export queues', () => {
  it('is full by bytes as by records', () => {
    const { q } = queue({ name: 'x', send: async () => ({ ok: true }) }, { maxBytes: 1000 });
    expect(q.hasRoom(1, 1000)).toBe(true);
    q.push([600]);
    expect(q.hasRoom(1, 401)).toBe(false);
    q.push([400]);
    expect(q.full).toBe(true);
    expect(q.bytes).toBe(1000);
  });

  it('gives up on a batch after the maximum elapsed time, counts it, and clamps Retry-After to the backoff maximum', async () => {
    const attempts: number[] = [];
    const fail: SendResult = { ok: false, retryable: true, message: 'HTTP 503', retryAfterMs: 3_600_000 };
    const { q, metrics } = queue(
      {
        name: 'down',
        send: async () => {
          attempts.push(Date.now());
          return fail;
        },
      },
      { maxElapsedMs: 300 },
    );
    q.start();
    q.push([1, 2, 3]);
    const t0 = Date.now();
    while (q.depth > 0 && Date.now() - t0 < 5000) await sleep(20);
    expect(q.depth).toBe(0);
    // An hour's Retry-After, honoured only up to the 20 ms backoff maximum: many attempts in 300 ms.
    expect(attempts.length).toBeGreaterThan(5);
    expect(await metrics.registry.getSingleMetricAsString('export_records_abandoned_total')).toMatch(
      /export_records_abandoned_total\{destination="down",reason="retry_timeout"\} 3/,
    );
    await q.stop(0);
  });

  it('drops what does not fit an optional queue and counts it, never being full', () => {
    const { q, metrics } = queue(
      { name: 'datadog', send: async () => ({ ok: false, retryable: true, message: 'down' }) },
      { optional: true, maxRecords: 5 },
    );
    q.push([1, 1, 1, 1, 1, 1, 1]);
    expect(q.depth).toBe(5);
    expect(q.optional).toBe(true);
    return metrics.registry
      .getSingleMetricAsString('export_records_abandoned_total')
      .then((m) => expect(m).toMatch(/destination="datadog",reason="queue_full"\} 2/));
  });

  it('reads at most ERROR_BODY_BYTES of a destination answer that never ends', async () => {
    const server: Server = createServer((_req, res) => {
      res.writeHead(500);
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      const more = () => {
        while (res.write(chunk));
      };
      res.on('drain', more);
      more();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const result = await post(`http://127.0.0.1:${port}/`, 'x', {}, 5000);
    expect(result).toMatchObject({ ok: false, retryable: true });
    expect((result as { message: string }).message).toHaveLength('HTTP 500: '.length + 300);
    server.closeAllConnections();
    server.close();
    expect(await readBounded(new Response('abcdef').body, 3)).toBe('abc');
  });
});

describe('the service under the bounds', () => {
  it('keeps ingesting and exporting to Loki while an optional Datadog destination is down', async () => {
    const loki = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((r) => loki.listen(0, '127.0.0.1', r));
    const lokiPort = (loki.address() as AddressInfo).port;
    const c = aCorrelator(
      {
        LOKI_URL: `http://127.0.0.1:${lokiPort}`,
        DATADOG_API_KEY: 'k',
        DATADOG_LOGS_URL: 'http://127.0.0.1:9/api/v2/logs',
        EXPORT_QUEUE_MAX_RECORDS: '5000',
        EXPORT_INTERVAL_MS: '10',
      },
      { now: Date.now },
    );
    await c.start();
    try {
      for (let i = 0; i < 12; i++) {
        const r = await call(c, {
          method: 'POST',
          url: '/v1/traces',
          payload: otlpJsonSpans(
            'svc',
            Array.from({ length: 1000 }, (_, k) => ({
              traceId: (i * 1000 + k + 1).toString(16).padStart(32, '0'),
              spanId: SPAN_1,
            })),
          ),
        });
        expect(r.statusCode).toBe(200);
        c.store.closeAll();
        // Loki keeps up; only the optional queue, whose destination is down, overflows.
        const lokiQueue = c.queues.find((q) => q.name === 'loki');
        while ((lokiQueue?.depth ?? 0) > 0) await sleep(10);
      }
      const m = await c.metrics.registry.getSingleMetricAsString('export_records_abandoned_total');
      expect(m).toMatch(/destination="datadog",reason="queue_full"\} \d+/);
      const dd = c.queues.find((q) => q.name === 'datadog');
      expect(dd?.depth).toBeLessThanOrEqual(5000);
    } finally {
      await c.stop();
      loki.close();
    }
  });

  it('counts a body without Content-Length against the in-flight budget as it arrives', async () => {
    const c = aCorrelator({ MAX_BODY_BYTES: '1024', MAX_INFLIGHT_BYTES: '2048' });
    await call(c, { url: '/health' });
    const { port } = c.app.server.address() as AddressInfo;
    const head =
      'POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
    const chunk = `384\r\n${' '.repeat(900)}\r\n`;
    const open = () =>
      new Promise<{ socket: Socket; answer: Promise<string> }>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.write(head + chunk);
          let text = '';
          const answer = new Promise<string>((r) => {
            socket.on('data', (d) => {
              text += d.toString('latin1');
              if (text.includes('\r\n\r\n')) r(text);
            });
            socket.on('close', () => r(text));
          });
          resolve({ socket, answer });
        });
      });
    const first = await open();
    const second = await open();
    await sleep(200);
    const third = await open();
    expect(await third.answer).toMatch(/^HTTP\/1\.1 429 [\s\S]*retry-after: 1\r\n/i);
    // The first two finish their bodies within the budget and are answered as usual.
    first.socket.write('0\r\n\r\n');
    second.socket.write('0\r\n\r\n');
    expect(await first.answer).toMatch(/^HTTP\/1\.1 400 /);
    for (const s of [first, second, third]) s.socket.destroy();
  });

  it('never puts an internal message in a 5xx answer', async () => {
    const c = aCorrelator();
    // A store that throws stands in for a bug deep in ingest.
    c.store.addSpans = () => {
      throw new Error('secret internal detail at /srv/app.ts:12');
    };
    const r = await call(c, {
      method: 'POST',
      url: '/v1/traces',
      payload: otlpJsonSpans('svc', [{ traceId: TRACE_A, spanId: SPAN_1 }]),
    });
    expect(r.statusCode).toBe(500);
    expect(r.json().message).toBe('internal error');
    expect(r.body).not.toContain('secret');
    expect(c.lines.some((l) => JSON.stringify(l).includes('secret internal detail'))).toBe(true);
  });

  it('compares both halves of Basic credentials and refuses any wrong one', async () => {
    const c = aCorrelator({ BASIC_AUTH_USER: 'otel', BASIC_AUTH_PASSWORD: 'pw' });
    const basic = (s: string) => ({ authorization: `Basic ${Buffer.from(s).toString('base64')}` });
    const status = async (h: Record<string, string>) => (await call(c, { url: '/metrics', headers: h })).statusCode;
    expect(await status(basic('otel:pw'))).toBe(200);
    for (const wrong of ['otel:px', 'oteX:pw', 'otel', ':pw', 'otel:pw:']) expect(await status(basic(wrong))).toBe(401);
  });
});
