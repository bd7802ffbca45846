// The engine against a real Loki (the binary hack/build-loki.sh builds, single process on
// 127.0.0.1, filesystem storage in a temp folder): what it exports is found by a trace_id query
// over structured metadata, the stream labels stay low-cardinality, and a Loki that is down for
// a minute gets everything the engine accepted meanwhile once it is back.
import { afterEach, describe, expect, it } from '@jest/globals';
import { sendTraffic } from '../../../correlator/traffic/sdk.js';
import { aCorrelator } from './helpers.js';
import { type LokiLine, type LokiPeer, lokiQuery, metricSum, startLoki, waitFor } from './peers.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function withLoki(): Promise<LokiPeer> {
  const loki = await startLoki();
  cleanup.push(() => loki.close());
  return loki;
}

/** The engine on 127.0.0.1:0 with the real clock, short windows and short export linger. */
async function engineFor(loki: LokiPeer, env: string) {
  const c = aCorrelator(
    {
      LOKI_URL: loki.url,
      EXPORT_RECEIVED_LOGS: 'true',
      ENV: env,
      CORR_WINDOW_SECONDS: '1',
      EXPORT_INTERVAL_MS: '100',
    },
    // A test cannot wait out the production 30 s backoff cap after Loki returns.
    { now: Date.now, sweepIntervalMs: 100, backoff: { baseMs: 200, maxMs: 2000 } },
  );
  const endpoint = await c.start();
  cleanup.push(() => c.stop());
  return { c, endpoint };
}

/** Lines of one env label, grouped by the trace_id structured metadata. */
async function linesByTrace(loki: LokiPeer, env: string, sinceMs: number): Promise<Map<string, LokiLine[]>> {
  const byTrace = new Map<string, LokiLine[]>();
  for (const l of await lokiQuery(loki.url, `{env="${env}"}`, sinceMs)) {
    const id = l.metadata.trace_id ?? '';
    byTrace.set(id, [...(byTrace.get(id) ?? []), l]);
  }
  return byTrace;
}

const isCorrelation = (l: LokiLine) => l.line.startsWith('{"kind":"correlation"');

describe('export to a real Loki', () => {
  it('stores received logs and correlation records that a trace_id query over structured metadata finds, under only the allowed labels', async () => {
    const since = Date.now() - 60_000;
    const loki = await withLoki();
    const { endpoint } = await engineFor(loki, 'loki-real');
    const sent = await sendTraffic({ endpoint, protocol: 'http/protobuf', traces: 4 });

    for (const [i, t] of sent.entries()) {
      // Both services' lines and the correlation record (filed under the first service seen).
      const all = await waitFor(
        `three lines for trace ${t.traceId}`,
        async () => {
          const found = await lokiQuery(loki.url, `{service=~"frontend|inventory"} | trace_id="${t.traceId}"`, since);
          return found.length >= 3 ? found : undefined;
        },
        60_000,
      );
      expect(all).toHaveLength(3);
      const fromFrontend = await lokiQuery(loki.url, `{service="frontend"} | trace_id="${t.traceId}"`, since);
      expect(fromFrontend.map((l) => l.line)).toContain(`order ${i} received`);
      const logs = all.filter((l) => !isCorrelation(l)).map((l) => l.line);
      expect(logs).toHaveLength(2);
      const record = JSON.parse(all.find(isCorrelation)?.line ?? '{}');
      expect(record).toMatchObject({ trace_id: t.traceId, span_count: 2, log_count: 2, status: 'closed' });
      for (const l of all) {
        expect(l.metadata.trace_id).toBe(t.traceId);
        // service_name is Loki's own: it copies the `service` label into it (discover_service_name).
        expect(l.stream).toEqual({ env: 'loki-real', service: l.stream.service, service_name: l.stream.service });
      }
    }

    const labels = (await (await fetch(`${loki.url}/loki/api/v1/labels?start=${since}000000`)).json()) as {
      data: string[];
    };
    expect(labels.data.sort()).toEqual(['env', 'service', 'service_name']);
    const traceIdValues = (await (await fetch(`${loki.url}/loki/api/v1/label/trace_id/values`)).json()) as {
      data?: string[];
    };
    expect(traceIdValues.data ?? []).toEqual([]);
  });

  it('loses nothing accepted while Loki is stopped for a minute: all of it arrives once Loki is back', async () => {
    const since = Date.now() - 60_000;
    const loki = await withLoki();
    const { c, endpoint } = await engineFor(loki, 'loki-down');
    const received = async () => metricSum(await c.metrics.registry.metrics(), 'log_records_received_total');

    const sent = await sendTraffic({ endpoint, protocol: 'http/json', traces: 3 });
    await loki.stop();
    const stoppedAt = Date.now();
    expect(loki.peer.running).toBe(false);

    // Three rounds while Loki is down, 20 s apart: each is accepted (counted once, nothing refused).
    for (let round = 0; round < 3; round++) {
      await new Promise((r) => setTimeout(r, Math.max(0, stoppedAt + round * 20_000 - Date.now())));
      const before = await received();
      const batch = await sendTraffic({
        endpoint,
        protocol: round % 2 ? 'http/json' : 'http/protobuf',
        traces: 5,
      });
      sent.push(...batch);
      expect((await received()) - before).toBe(10);
    }
    const metrics = await c.metrics.registry.metrics();
    expect(metrics).not.toMatch(/ingest_requests_refused_total\{/);
    await new Promise((r) => setTimeout(r, Math.max(0, stoppedAt + 60_000 - Date.now())));
    expect(c.queues[0].depth).toBeGreaterThan(0);
    expect(await c.metrics.registry.getSingleMetricAsString('export_attempts_total')).toMatch(
      /export_attempts_total\{destination="loki",result="retry"\} [1-9]/,
    );

    await loki.restart();
    const ids = sent.map((t) => t.traceId);
    const byTrace = await waitFor(
      `all ${ids.length} traces in Loki`,
      async () => {
        const got = await linesByTrace(loki, 'loki-down', since);
        return ids.every((id) => (got.get(id)?.length ?? 0) >= 3) ? got : undefined;
      },
      120_000,
      500,
    );
    expect([...byTrace.keys()].sort()).toEqual([...ids].sort());
    for (const id of ids) {
      const lines = byTrace.get(id) ?? [];
      expect(lines.filter(isCorrelation)).toHaveLength(1);
      expect(lines.filter((l) => !isCorrelation(l))).toHaveLength(2);
    }
    await waitFor('the Loki queue to drain', () => (c.queues[0].depth === 0 ? true : undefined), 60_000);
  }, 400_000);
});
