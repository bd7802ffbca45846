import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from '@jest/globals';
import { type LokiEntry, lokiDestination, msToNs } from '../../../correlator/export-loki.js';
import { TracesRequest } from '../../../correlator/otlp.js';
import { aCorrelator, call, closeAll, otlpJsonLogs, otlpJsonSpans, SPAN_1, TRACE_A, TRACE_B } from './helpers.js';

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** A local HTTP receiver standing in for a push endpoint; `answer` decides each status. */
async function receiver(answer: (r: Received) => number = () => 204) {
  const got: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      const status = answer(r);
      if (status < 300) got.push(r);
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status < 300 ? '' : 'unavailable');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { got, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const servers: Server[] = [];
afterAll(async () => {
  await closeAll();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface LokiPush {
  streams: { stream: Record<string, string>; values: [string, string, Record<string, string>][] }[];
}

const pushes = (got: Received[]) => got.map((r) => JSON.parse(r.body.toString('utf8')) as LokiPush);
const lines = (got: Received[]) => pushes(got).flatMap((p) => p.streams.flatMap((s) => s.values));

const fast = { EXPORT_INTERVAL_MS: '10', EXPORT_BATCH_SIZE: '50' };

describe('export to Loki', () => {
  it('pushes correlation records and received logs with only service and env as labels, trace_id as structured metadata', async () => {
    const loki = await receiver();
    const c = aCorrelator({ ...fast, LOKI_URL: loki.url, EXPORT_RECEIVED_LOGS: 'true', ENV: 'prod' });
    c.queues.forEach((q) => {
      q.start();
    });
    await call(c, {
      method: 'POST',
      url: '/v1/traces',
      payload: otlpJsonSpans('checkout', [{ traceId: TRACE_A, spanId: SPAN_1 }]),
    });
    await call(c, {
      method: 'POST',
      url: '/v1/logs',
      payload: otlpJsonLogs('checkout', [{ traceId: TRACE_A, spanId: SPAN_1, body: 'paid', severityNumber: 17 }]),
    });
    c.advance(61_000);
    c.sweep();
    await waitFor(() => lines(loki.got).length >= 2, 'two Loki lines');
    expect(loki.got[0].path).toBe('/loki/api/v1/push');
    expect(loki.got[0].headers['content-type']).toBe('application/json');
    for (const p of pushes(loki.got)) {
      for (const s of p.streams) {
        expect(s.stream).toEqual({ service: 'checkout', env: 'prod' });
        for (const [ts, , meta] of s.values) {
          expect(ts).toMatch(/^\d{19}$/);
          expect(meta.trace_id).toBe(TRACE_A);
        }
      }
    }
    const all = lines(loki.got);
    const logLine = all.find(([, l]) => l === 'paid');
    expect(logLine?.[2]).toEqual({ trace_id: TRACE_A, span_id: SPAN_1, severity: 'ERROR' });
    const corr = all.map(([, l]) => l).find((l) => l.startsWith('{'));
    expect(JSON.parse(corr ?? '{}')).toMatchObject({
      kind: 'correlation',
      trace_id: TRACE_A,
      span_count: 1,
      log_count: 1,
      status: 'closed',
    });
    await c.stop();
  });

  it('loses nothing accepted while Loki is down: retries with backoff, refuses new data with 429 when full, delivers all after Loki returns', async () => {
    let up = false;
    let failures = 0;
    const loki = await receiver(() => {
      if (up) return 204;
      failures++;
      return 503;
    });
    const c = aCorrelator({
      ...fast,
      LOKI_URL: loki.url,
      EXPORT_RECEIVED_LOGS: 'true',
      MAX_BATCH_SIZE: '20',
      EXPORT_QUEUE_MAX_RECORDS: '40',
    });
    c.queues.forEach((q) => {
      q.start();
    });
    const sent: string[] = [];
    const send = (n: number, tag: string) => {
      const records = Array.from({ length: n }, (_, i) => ({
        traceId: i % 2 ? TRACE_A : TRACE_B,
        body: `${tag}-${i}`,
      }));
      return call(c, { method: 'POST', url: '/v1/logs', payload: otlpJsonLogs('svc', records) }).then((r) => {
        if (r.statusCode === 200) sent.push(...records.map((x) => x.body));
        return r;
      });
    };
    expect((await send(20, 'a')).statusCode).toBe(200);
    expect((await send(20, 'b')).statusCode).toBe(200);
    const refused = await send(5, 'c');
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.json().message).toMatch(/export queue "loki" is full/);
    await waitFor(() => failures >= 3, 'three failed pushes');
    up = true;
    await waitFor(() => c.queues[0].depth === 0, 'the queue to drain');
    expect((await send(5, 'd')).statusCode).toBe(200);
    c.advance(61_000);
    c.sweep();
    await c.stop();
    const delivered = lines(loki.got).map(([, l]) => l);
    expect(delivered.filter((l) => !l.startsWith('{')).sort()).toEqual([...sent].sort());
    expect(delivered.filter((l) => l.startsWith('{')).length).toBe(2);
    const m = await c.metrics.registry.getSingleMetricAsString('export_attempts_total');
    expect(m).toMatch(/export_attempts_total\{destination="loki",result="retry"\} ([3-9]|\d\d+)/);
  });

  it('flushes open windows and queued records on stop', async () => {
    const loki = await receiver();
    const c = aCorrelator({ EXPORT_INTERVAL_MS: '60000', EXPORT_BATCH_SIZE: '1000', LOKI_URL: loki.url });
    c.queues.forEach((q) => {
      q.start();
    });
    await call(c, {
      method: 'POST',
      url: '/v1/logs',
      payload: otlpJsonLogs('svc', [{ traceId: TRACE_A }, { traceId: TRACE_B }]),
    });
    expect(await c.stop()).toEqual({ unsent: 0 });
    expect(
      lines(loki.got)
        .map(([, , m]) => m.trace_id)
        .sort(),
    ).toEqual([TRACE_B, TRACE_A].sort());
  });

  it('drops a batch Loki refuses with a 400, counting and logging it instead of retrying', async () => {
    const loki = await receiver(() => 400);
    const c = aCorrelator({ ...fast, LOKI_URL: loki.url });
    c.queues.forEach((q) => {
      q.start();
    });
    await call(c, { method: 'POST', url: '/v1/logs', payload: otlpJsonLogs('svc', [{ traceId: TRACE_A }]) });
    c.advance(61_000);
    c.sweep();
    await waitFor(() => c.queues[0].depth === 0, 'the refused batch to leave the queue');
    expect(await c.metrics.registry.getSingleMetricAsString('export_records_dropped_total')).toMatch(
      /destination="loki"\} 1/,
    );
    expect(c.lines.some((l) => l.msg === 'Destination refused a batch for good; dropped it')).toBe(true);
    await c.stop();
  });
});

// The exact bytes of Loki's push API (POST /loki/api/v1/push, JSON): the export tests against a
// real receiver use VictoriaLogs, a stand-in (loki-real.test.ts), so the wire format is pinned here.
describe('the Loki push wire format', () => {
  const entries: LokiEntry[] = [
    {
      service: 'checkout',
      ts: '1700000000123000000',
      line: 'paid',
      metadata: { severity: 'ERROR', trace_id: TRACE_A, span_id: SPAN_1 },
    },
    { service: 'search', ts: '1700000000124000000', line: 'no hits', metadata: { severity: 'INFO' } },
    { service: 'checkout', ts: '1700000000125000000', line: 'shipped "now"', metadata: { trace_id: TRACE_A } },
  ];

  it('posts one stream per label set, values as [ns string, line, structured metadata], with the tenant header', async () => {
    const loki = await receiver();
    const dest = lokiDestination({ url: loki.url, tenant: 'team-a', labels: ['service', 'env'], env: 'prod' });
    expect(await dest.send(entries)).toMatchObject({ ok: true });
    expect(loki.got).toHaveLength(1);
    const [req] = loki.got;
    expect(req.path).toBe('/loki/api/v1/push');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['x-scope-orgid']).toBe('team-a');
    expect(req.body.toString('utf8')).toBe(
      '{"streams":[' +
        `{"stream":{"service":"checkout","env":"prod"},"values":[["1700000000123000000","paid",{"severity":"ERROR","trace_id":"${TRACE_A}","span_id":"${SPAN_1}"}],["1700000000125000000","shipped \\"now\\"",{"trace_id":"${TRACE_A}"}]]},` +
        '{"stream":{"service":"search","env":"prod"},"values":[["1700000000124000000","no hits",{"severity":"INFO"}]]}' +
        ']}',
    );
  });

  it('sends no tenant header without a tenant, and only the configured labels', async () => {
    const loki = await receiver();
    await lokiDestination({ url: loki.url, labels: ['env'], env: 'dev' }).send(entries.slice(0, 2));
    expect(loki.got[0].headers['x-scope-orgid']).toBeUndefined();
    expect(JSON.parse(loki.got[0].body.toString('utf8'))).toEqual({
      streams: [
        {
          stream: { env: 'dev' },
          values: [
            ['1700000000123000000', 'paid', { severity: 'ERROR', trace_id: TRACE_A, span_id: SPAN_1 }],
            ['1700000000124000000', 'no hits', { severity: 'INFO' }],
          ],
        },
      ],
    });
  });

  it('writes timestamps as nanosecond decimal strings (Loki refuses JSON numbers there)', () => {
    expect(msToNs(1700000000123)).toBe('1700000000123000000');
    expect(msToNs(1700000000123.456)).toBe('1700000000123456000');
  });
});

describe('export to Tempo and Datadog', () => {
  it('forwards trace requests to Tempo over OTLP/HTTP, protobuf concatenated into one request', async () => {
    const tempo = await receiver(() => 200);
    const c = aCorrelator({ ...fast, TEMPO_OTLP_URL: tempo.url });
    c.queues.forEach((q) => {
      q.start();
    });
    for (const id of [TRACE_A, TRACE_B]) {
      const body = TracesRequest.encode({
        resourceSpans: [
          {
            scopeSpans: [
              { spans: [{ traceId: Buffer.from(id, 'hex'), spanId: Buffer.from(SPAN_1, 'hex'), name: id }] },
            ],
          },
        ],
      }).finish();
      const r = await call(c, {
        method: 'POST',
        url: '/v1/traces',
        headers: { 'content-type': 'application/x-protobuf' },
        payload: body,
      });
      expect(r.statusCode).toBe(200);
    }
    await c.stop();
    const forwarded = tempo.got.flatMap((r) => {
      expect(r.path).toBe('/v1/traces');
      const req = TracesRequest.toObject(TracesRequest.decode(r.body)) as {
        resourceSpans: { scopeSpans: { spans: { name: string }[] }[] }[];
      };
      return req.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s.name)));
    });
    expect(forwarded.sort()).toEqual([TRACE_A, TRACE_B].sort());
  });

  it('dual-writes correlation records to Datadog (a local mock: Datadog is a paid service)', async () => {
    const datadogMock = await receiver(() => 202);
    const c = aCorrelator({
      ...fast,
      DATADOG_API_KEY: 'test-key',
      DATADOG_LOGS_URL: `${datadogMock.url}/api/v2/logs`,
      ENV: 'stage',
    });
    c.queues.forEach((q) => {
      q.start();
    });
    await call(c, { method: 'POST', url: '/v1/logs', payload: otlpJsonLogs('svc', [{ traceId: TRACE_A }]) });
    await c.stop();
    expect(datadogMock.got).toHaveLength(1);
    expect(datadogMock.got[0].headers['dd-api-key']).toBe('test-key');
    const [entry] = JSON.parse(datadogMock.got[0].body.toString('utf8'));
    expect(entry).toMatchObject({
      ddsource: 'vigil-correlator',
      service: 'svc',
      ddtags: `env:stage,trace_id:${TRACE_A}`,
    });
  });
});
