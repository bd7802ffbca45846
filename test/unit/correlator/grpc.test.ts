// OTLP/gRPC ingest: the same path as OTLP/HTTP protobuf (partial success, backpressure, auth),
// first with a grpc-js client, then behind the real collector's otlp_grpc exporter. How the
// stack's collectors spread a trace's spans and logs over several engines (one engine per trace)
// is run with the rendered configs in test/unit/charts/gateway.test.ts.

import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from '@jest/globals';
import {
  decodeExportResponse,
  decodeRetryInfo,
  decodeStatus,
  LogsRequest,
  TracesRequest,
} from '../../../correlator/otlp.js';
import { sendTraffic } from '../../../correlator/traffic/sdk.js';
import { aCorrelator, SPAN_1, SPAN_2, TRACE_A, TRACE_B } from './helpers.js';
import { freePort, logsQuery, metricSum, startOtelcol, startVictoriaLogs, waitFor } from './peers.js';

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function started(env: Record<string, string> = {}) {
  const c = aCorrelator(env, { now: Date.now });
  await c.start();
  cleanup.push(() => c.stop());
  return c;
}

const PATHS = {
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
};

/** A raw OTLP/gRPC client: bytes in, bytes or a ServiceError out. */
function client(port: number, options: grpc.ClientOptions = {}) {
  const cl = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), options);
  cleanup.push(() => cl.close());
  return (signal: 'logs' | 'traces', body: Uint8Array, metadata = new grpc.Metadata()) =>
    new Promise<{ ok: Buffer } | { err: grpc.ServiceError }>((resolve) => {
      cl.makeUnaryRequest(
        PATHS[signal],
        (b: Uint8Array) => Buffer.from(b),
        (b: Buffer) => b,
        body,
        metadata,
        (err, res) => resolve(err ? { err } : { ok: res as Buffer }),
      );
    });
}

const span = (traceId: string, spanId: string, name = 'op') => ({
  traceId: Buffer.from(traceId, 'hex'),
  spanId: Buffer.from(spanId, 'hex'),
  name,
  startTimeUnixNano: 1_760_000_000_000_000_000,
  endTimeUnixNano: 1_760_000_000_500_000_000,
});
const res = (service: string) => ({ attributes: [{ key: 'service.name', value: { stringValue: service } }] });
const spansBody = (service: string, spans: object[]) =>
  TracesRequest.encode({ resourceSpans: [{ resource: res(service), scopeSpans: [{ spans }] }] }).finish();
const logsBody = (service: string, logRecords: object[]) =>
  LogsRequest.encode({ resourceLogs: [{ resource: res(service), scopeLogs: [{ logRecords }] }] }).finish();
const log = (traceId: string, body: string) => ({
  traceId: Buffer.from(traceId, 'hex'),
  timeUnixNano: 1_760_000_000_100_000_000,
  severityNumber: 9,
  body: { stringValue: body },
});

describe('OTLP/gRPC ingest', () => {
  it('correlates logs and spans sent over gRPC, gzip-compressed, and answers partial success for invalid spans', async () => {
    const c = await started();
    const send = client(c.grpcPort() ?? 0, { 'grpc.default_compression_algorithm': grpc.compressionAlgorithms.gzip });
    const spans = await send(
      'traces',
      spansBody('checkout', [span(TRACE_A, SPAN_1), span(TRACE_A, SPAN_2), span('00'.repeat(16), SPAN_1)]),
    );
    if (!('ok' in spans)) throw spans.err;
    expect(decodeExportResponse('traces', spans.ok)).toEqual({
      partialSuccess: { rejectedSpans: 1, errorMessage: 'span traceId is missing or all zero' },
    });
    const logs = await send('logs', logsBody('payments', [log(TRACE_A, 'paid'), log(TRACE_B, 'other')]));
    if (!('ok' in logs)) throw logs.err;
    expect(decodeExportResponse('logs', logs.ok)).toEqual({});

    const [a] = c.store.query({ traceId: TRACE_A, limit: 10 });
    expect(a).toMatchObject({ spanCount: 2, logCount: 1, services: ['checkout', 'payments'] });
    const m = await c.metrics.registry.metrics();
    expect(m).toMatch(/^traces_received_total\{source="otlp_grpc"\} 2$/m);
    expect(m).toMatch(/^log_records_received_total\{source="otlp_grpc"\} 2$/m);
  });

  it('answers RESOURCE_EXHAUSTED with a RetryInfo when the export queue is full', async () => {
    const deadPort = await freePort();
    const c = await started({
      SHUTDOWN_TIMEOUT_SECONDS: '0',
      LOKI_URL: `http://127.0.0.1:${deadPort}`,
      EXPORT_RECEIVED_LOGS: 'true',
      MAX_BATCH_SIZE: '20',
      EXPORT_QUEUE_MAX_RECORDS: '40',
      EXPORT_INTERVAL_MS: '10',
    });
    const send = client(c.grpcPort() ?? 0);
    const batch = (tag: string) =>
      logsBody(
        'svc',
        Array.from({ length: 20 }, (_, i) => log(TRACE_A, `${tag}-${i}`)),
      );
    expect('ok' in (await send('logs', batch('a')))).toBe(true);
    expect('ok' in (await send('logs', batch('b')))).toBe(true);
    const refused = await send('logs', batch('c'));
    if (!('err' in refused)) throw new Error('expected RESOURCE_EXHAUSTED');
    expect(refused.err.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(refused.err.details).toBe('export queue "loki" is full; retry later');
    const status = decodeStatus(refused.err.metadata.get('grpc-status-details-bin')[0] as Buffer);
    expect(status.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(status.details[0].typeUrl).toBe('type.googleapis.com/google.rpc.RetryInfo');
    expect(decodeRetryInfo(status.details[0].value)).toEqual({ retryDelay: { seconds: 5 } });
    expect(await c.metrics.registry.getSingleMetricAsString('ingest_requests_refused_total')).toMatch(
      /reason="queue_full"\} 1/,
    );
  });

  it('refuses malformed protobuf with INVALID_ARGUMENT and missing credentials with UNAUTHENTICATED, then keeps serving', async () => {
    const c = await started({ BASIC_AUTH_USER: 'u', BASIC_AUTH_PASSWORD: 'p' });
    const send = client(c.grpcPort() ?? 0);
    const auth = new grpc.Metadata();
    auth.set('authorization', `Basic ${Buffer.from('u:p').toString('base64')}`);
    const bad = await send('logs', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]), auth);
    expect('err' in bad && bad.err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect('err' in bad && bad.err.details).toMatch(/not a valid protobuf ExportLogsServiceRequest/);
    const anonymous = await send('logs', logsBody('svc', [log(TRACE_A, 'x')]));
    expect('err' in anonymous && anonymous.err.code).toBe(grpc.status.UNAUTHENTICATED);
    const good = await send('logs', logsBody('svc', [log(TRACE_A, 'x')]), auth);
    expect('ok' in good).toBe(true);
    expect(c.store.size).toBe(1);
  });
});

describe("the collector's otlp_grpc exporter against full queues", () => {
  // The Loki destination is VictoriaLogs, a stand-in for Loki's push API (Loki is AGPL, never run here).
  it('retries what the engine refused with RESOURCE_EXHAUSTED until Loki is back, and nothing is lost', async () => {
    const loki = await startVictoriaLogs();
    cleanup.push(() => loki.close());
    await loki.stop();
    const c = aCorrelator(
      {
        LOKI_URL: loki.lokiUrl,
        EXPORT_RECEIVED_LOGS: 'true',
        ENV: 'grpc-backpressure',
        CORR_WINDOW_SECONDS: '1',
        EXPORT_INTERVAL_MS: '50',
        MAX_BATCH_SIZE: '20',
        EXPORT_QUEUE_MAX_RECORDS: '30',
      },
      { now: Date.now, sweepIntervalMs: 100, backoff: { baseMs: 200, maxMs: 1000 } },
    );
    await c.start();
    cleanup.push(() => c.stop());
    const receiverPort = await freePort();
    const otelcol = await startOtelcol({
      receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${receiverPort}` } } } },
      exporters: {
        otlp_grpc: {
          endpoint: `127.0.0.1:${c.grpcPort()}`,
          tls: { insecure: true },
          retry_on_failure: { enabled: true, initial_interval: '500ms', max_interval: '2s', max_elapsed_time: '120s' },
        },
      },
      service: {
        pipelines: {
          traces: { receivers: ['otlp'], exporters: ['otlp_grpc'] },
          logs: { receivers: ['otlp'], exporters: ['otlp_grpc'] },
        },
      },
    });
    cleanup.push(() => otelcol.close());

    const sent = [];
    for (let round = 0; round < 3; round++) {
      sent.push(
        ...(await sendTraffic({ endpoint: `http://127.0.0.1:${receiverPort}`, protocol: 'http/protobuf', traces: 8 })),
      );
    }
    await waitFor(
      'a refusal for a full queue',
      async () =>
        /reason="queue_full"\} [1-9]/.test(
          await c.metrics.registry.getSingleMetricAsString('ingest_requests_refused_total'),
        )
          ? true
          : undefined,
      15_000,
    );
    await loki.restart();
    const counts = async () => {
      const m = await c.metrics.registry.metrics();
      return { spans: metricSum(m, 'traces_received_total'), logs: metricSum(m, 'log_records_received_total') };
    };
    expect(
      await waitFor(
        'all 48 spans and 48 log records accepted',
        async () => {
          const n = await counts();
          return n.spans >= 48 && n.logs >= 48 ? n : undefined;
        },
        60_000,
        250,
      ),
    ).toEqual({ spans: 48, logs: 48 });
    const ids = sent.map((t) => t.traceId);
    await waitFor(
      'every log line and correlation record in Loki',
      async () => {
        const lines = await logsQuery(loki.url, '_stream:{env="grpc-backpressure"}');
        const logs = lines.filter((l) => !l.line.startsWith('{"kind":"correlation"'));
        const traces = new Set(lines.map((l) => l.metadata.trace_id));
        return logs.length >= 48 && ids.every((id) => traces.has(id)) ? lines : undefined;
      },
      30_000,
      500,
    );
    const m = await otelcol.metrics();
    expect(metricSum(m, 'otelcol_exporter_sent_spans')).toBe(48);
    expect(metricSum(m, 'otelcol_exporter_sent_log_records')).toBe(48);
    expect(metricSum(m, 'otelcol_exporter_send_failed_spans')).toBe(0);
    expect(metricSum(m, 'otelcol_exporter_send_failed_log_records')).toBe(0);
  }, 150_000);
});
