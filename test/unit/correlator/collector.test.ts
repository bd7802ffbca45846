// A real OpenTelemetry Collector (the build hack/build-otelcol.sh makes) between the JS SDK and
// the engine: OTLP receiver → otlp_http exporter → engine on 127.0.0.1. The collector must take
// the engine's answers as success: everything arrives exactly once and its own metrics show
// nothing failed (a retried send would also show as a duplicate count in the engine).
import { afterEach, describe, expect, it } from '@jest/globals';
import { sendTraffic } from '../../../correlator/traffic/sdk.js';
import { aCorrelator } from './helpers.js';
import { freePort, metricSum, startOtelcol, waitFor } from './peers.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** The engine (Basic auth on) behind a collector whose otlp_http exporter sends `password`. */
async function engineBehindCollector(encoding: 'proto' | 'json', password: string) {
  const c = aCorrelator({ BASIC_AUTH_USER: 'collector', BASIC_AUTH_PASSWORD: 's3cret' }, { now: Date.now });
  const engine = await c.start();
  cleanup.push(() => c.stop());
  const receiverPort = await freePort();
  const exporter = {
    endpoint: engine,
    encoding,
    headers: { authorization: `Basic ${Buffer.from(`collector:${password}`).toString('base64')}` },
  };
  const otelcol = await startOtelcol({
    receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${receiverPort}` } } } },
    exporters: { otlp_http: exporter },
    service: {
      pipelines: {
        traces: { receivers: ['otlp'], exporters: ['otlp_http'] },
        logs: { receivers: ['otlp'], exporters: ['otlp_http'] },
      },
    },
  });
  cleanup.push(() => otelcol.close());
  return { c, otelcol, receiver: `http://127.0.0.1:${receiverPort}` };
}

describe.each(['proto', 'json'] as const)('the collector forwarding to the engine with otlp_http (%s)', (encoding) => {
  it('delivers every span and log record once and counts no failed sends', async () => {
    const { c, otelcol, receiver } = await engineBehindCollector(encoding, 's3cret');
    const sent = await sendTraffic({ endpoint: receiver, protocol: 'http/protobuf', traces: 8 });
    const engineCount = async () => {
      const m = await c.metrics.registry.metrics();
      return { spans: metricSum(m, 'traces_received_total'), logs: metricSum(m, 'log_records_received_total') };
    };
    await waitFor(
      'the engine to receive 16 spans and 16 log records',
      async () => {
        const n = await engineCount();
        return n.spans >= 16 && n.logs >= 16 ? n : undefined;
      },
      15_000,
    );
    const col = await waitFor(
      "the collector's exporter metrics",
      async () => {
        const m = await otelcol.metrics();
        return metricSum(m, 'otelcol_exporter_sent_spans') >= 16 &&
          metricSum(m, 'otelcol_exporter_sent_log_records') >= 16
          ? m
          : undefined;
      },
      15_000,
    );
    expect(metricSum(col, 'otelcol_exporter_sent_spans')).toBe(16);
    expect(metricSum(col, 'otelcol_exporter_sent_log_records')).toBe(16);
    expect(metricSum(col, 'otelcol_exporter_send_failed_spans')).toBe(0);
    expect(metricSum(col, 'otelcol_exporter_send_failed_log_records')).toBe(0);
    expect(await engineCount()).toEqual({ spans: 16, logs: 16 });

    for (const t of sent) {
      const [found] = c.store.query({ traceId: t.traceId, limit: 10 });
      expect(found).toMatchObject({ spanCount: 2, logCount: 2, errorSpans: t.errorSpans });
      expect([...found.services].sort()).toEqual([...t.services].sort());
    }
  });
});

describe('the failed-send check', () => {
  it('sees failures: a collector the engine refuses (wrong password, 401) counts its sends as failed', async () => {
    const { c, otelcol, receiver } = await engineBehindCollector('proto', 'wrong');
    await sendTraffic({ endpoint: receiver, protocol: 'http/protobuf', traces: 2 });
    const m = await waitFor(
      'failed sends in the collector metrics',
      async () => {
        const text = await otelcol.metrics();
        return metricSum(text, 'otelcol_exporter_send_failed_spans') >= 4 ? text : undefined;
      },
      15_000,
    );
    expect(metricSum(m, 'otelcol_exporter_sent_spans')).toBe(0);
    expect(metricSum(await c.metrics.registry.metrics(), 'traces_received_total')).toBe(0);
  });
});
