// The real OpenTelemetry JS SDK exporters as peers: spans and logs with shared trace ids over
// OTLP/HTTP JSON and protobuf, to the engine listening on 127.0.0.1:0.
import { afterAll, describe, expect, it } from '@jest/globals';
import { type Protocol, sendTraffic } from '../../../correlator/traffic/sdk.js';
import { aCorrelator } from './helpers.js';

const running: ReturnType<typeof aCorrelator>[] = [];
afterAll(async () => {
  await Promise.all(running.map((c) => c.stop()));
});

describe.each(['http/json', 'http/protobuf'] as Protocol[])('OpenTelemetry JS SDK over %s', (protocol) => {
  it('sends spans and logs whose correlations the query API returns, each accepted once', async () => {
    const c = aCorrelator({ BASIC_AUTH_USER: 'otel', BASIC_AUTH_PASSWORD: 'pw' });
    running.push(c);
    const endpoint = await c.start();
    const authorization = `Basic ${Buffer.from('otel:pw').toString('base64')}`;
    const sent = await sendTraffic({ endpoint, protocol, traces: 6, headers: { authorization } });
    expect(new Set(sent.map((t) => t.traceId)).size).toBe(6);
    for (const t of sent) {
      const res = await fetch(`${endpoint}/api/correlations?trace_id=${t.traceId}`, { headers: { authorization } });
      expect(res.status).toBe(200);
      const { correlations } = (await res.json()) as { correlations: Record<string, unknown>[] };
      expect(correlations).toHaveLength(1);
      expect(correlations[0]).toMatchObject({
        trace_id: t.traceId,
        services: expect.arrayContaining(t.services),
        span_count: t.spans,
        error_spans: t.errorSpans,
        log_count: t.logs,
        logs_by_severity: t.errorSpans ? { INFO: 1, ERROR: 1 } : { INFO: 2 },
        attributes: expect.objectContaining({ circuit_id: t.circuitId }),
      });
    }
    // Exact totals: a retried (not accepted) export would have counted twice.
    const metrics = await c.metrics.registry.metrics();
    expect(metrics).toMatch(/^traces_received_total\{source="otlp"\} 12$/m);
    expect(metrics).toMatch(/^log_records_received_total\{source="otlp"\} 12$/m);
    expect(metrics).not.toMatch(/ingest_requests_refused_total\{/);
  });
});
