// The built Prometheus 3.5.0 (hack/build-prometheus.sh) scrapes the engine's /metrics (behind Basic auth) on 127.0.0.1.
import { afterEach, describe, expect, it } from '@jest/globals';
import { aCorrelator, call, otlpJsonLogs, TRACE_A } from './helpers.js';
import { startPrometheus, waitFor } from './peers.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe('Prometheus scraping the engine', () => {
  it('reports the target up and stores the seed metric names', async () => {
    const c = aCorrelator({ BASIC_AUTH_USER: 'prom', BASIC_AUTH_PASSWORD: 'scrape' }, { now: Date.now });
    const engine = new URL(await c.start());
    cleanup.push(() => c.stop());
    const r = await call(c, {
      method: 'POST',
      url: '/v1/logs',
      headers: { authorization: `Basic ${Buffer.from('prom:scrape').toString('base64')}` },
      payload: otlpJsonLogs('checkout', [{ traceId: TRACE_A }, { traceId: TRACE_A }, {}]),
    });
    expect(r.statusCode).toBe(200);
    const prom = await startPrometheus([
      {
        job_name: 'correlator',
        basic_auth: { username: 'prom', password: 'scrape' },
        static_configs: [{ targets: [engine.host] }],
      },
    ]);
    cleanup.push(() => prom.close());

    const up = await waitFor(
      'a first scrape',
      async () => {
        const v = await prom.query('up{job="correlator"}');
        return v.length > 0 ? v : undefined;
      },
      20_000,
      250,
    );
    expect(up).toEqual([{ metric: expect.objectContaining({ job: 'correlator' }), value: [expect.any(Number), '1'] }]);
    const received = await prom.query('log_records_received_total{job="correlator"}');
    expect(received.map((s) => [s.metric.source, s.value[1]])).toEqual([['otlp', '3']]);
    expect((await prom.query('log_records_without_trace_total'))[0]?.value[1]).toBe('1');
    const names = (await (await fetch(`${prom.url}/api/v1/label/__name__/values`)).json()) as { data: string[] };
    // Labelled counters with no samples yet (traces_received_total, export_*) have no series.
    expect(names.data).toEqual(
      expect.arrayContaining(['correlation_events_total', 'correlations_held', 'correlations_open']),
    );
  }, 60_000);
});
