// The engine's Loki export against a real receiver of Loki's push API: VictoriaLogs, the binary
// hack/build-victorialogs.sh builds (single process on 127.0.0.1, storage in a temp folder). Loki
// itself is AGPL and is never built or run here, so this is a STAND-IN, and where it differs from
// Loki the test says so (docs/adr/0010-victorialogs-stands-in-for-loki-push.md):
// - labels: VictoriaLogs keeps the pushed stream labels as its stream fields (_stream) and each
//   structured metadata entry as a plain field; Loki would also add service_name to the labels
//   (discover_service_name), VictoriaLogs adds nothing.
// - tenants: VictoriaLogs reads X-Scope-OrgID as a numeric AccountID[:ProjectID]; Loki takes any
//   tenant name. A name such as "team-a" is refused with 400 by VictoriaLogs.
// - status codes: both answer 204 to a good push and 400 to a malformed one; VictoriaLogs never
//   answers 429 (Loki's rate limit), so the retry paths are driven here by a stopped process.
// The exact bytes of a push are checked in export.test.ts.
import { afterEach, describe, expect, it } from '@jest/globals';
import { sendTraffic } from '../../../correlator/traffic/sdk.js';
import { aCorrelator } from './helpers.js';
import {
  fieldNames,
  type LogLine,
  logsQuery,
  metricSum,
  startVictoriaLogs,
  type VictoriaLogsPeer,
  waitFor,
} from './peers.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function withVictoriaLogs(): Promise<VictoriaLogsPeer> {
  const vl = await startVictoriaLogs();
  cleanup.push(() => vl.close());
  return vl;
}

/** The engine on 127.0.0.1:0 with the real clock, short windows and short export linger. */
async function engineFor(vl: VictoriaLogsPeer, env: string, extra: Record<string, string> = {}) {
  const c = aCorrelator(
    {
      LOKI_URL: vl.lokiUrl,
      EXPORT_RECEIVED_LOGS: 'true',
      ENV: env,
      // Long enough that one trace's records, sent one after another, land in one window on a busy
      // machine (at 1 s a load of 20 split a trace in two correlations); short enough to wait out.
      CORR_WINDOW_SECONDS: '3',
      EXPORT_INTERVAL_MS: '100',
      ...extra,
    },
    // A test cannot wait out the production 30 s backoff cap after the destination returns.
    { now: Date.now, sweepIntervalMs: 100, backoff: { baseMs: 200, maxMs: 2000 } },
  );
  const endpoint = await c.start();
  cleanup.push(() => c.stop());
  return { c, endpoint };
}

/** Lines of one env label, grouped by the trace_id structured metadata. */
async function linesByTrace(vl: VictoriaLogsPeer, env: string): Promise<Map<string, LogLine[]>> {
  const byTrace = new Map<string, LogLine[]>();
  for (const l of await logsQuery(vl.url, `_stream:{env="${env}"}`)) {
    const id = l.metadata.trace_id ?? '';
    byTrace.set(id, [...(byTrace.get(id) ?? []), l]);
  }
  return byTrace;
}

const isCorrelation = (l: LogLine) => l.line.startsWith('{"kind":"correlation"');

describe("export over Loki's push API to a real VictoriaLogs (stand-in for Loki, which is AGPL)", () => {
  it('stores received logs and correlation records that a trace_id query over structured metadata finds, under only the allowed labels', async () => {
    const vl = await withVictoriaLogs();
    const { endpoint } = await engineFor(vl, 'loki-real');
    const sent = await sendTraffic({ endpoint, protocol: 'http/protobuf', traces: 4 });

    for (const [i, t] of sent.entries()) {
      // Both services' lines and the correlation record (filed under the first service seen).
      const all = await waitFor(
        `three lines for trace ${t.traceId}`,
        async () => {
          const found = await logsQuery(vl.url, `_stream:{service=~"frontend|inventory"} trace_id:="${t.traceId}"`);
          return found.length >= 3 ? found : undefined;
        },
        60_000,
      );
      expect(all).toHaveLength(3);
      const fromFrontend = await logsQuery(vl.url, `_stream:{service="frontend"} trace_id:="${t.traceId}"`);
      expect(fromFrontend.map((l) => l.line)).toContain(`order ${i} received`);
      const logs = all.filter((l) => !isCorrelation(l));
      expect(logs).toHaveLength(2);
      for (const l of logs) {
        // A received log carries its span and severity as structured metadata too.
        expect(Object.keys(l.metadata).sort()).toEqual(['severity', 'span_id', 'trace_id']);
        expect(l.metadata.span_id).toMatch(/^[0-9a-f]{16}$/);
      }
      const corr = all.filter(isCorrelation);
      expect(corr).toHaveLength(1);
      expect(corr[0].metadata).toEqual({ trace_id: t.traceId });
      expect(JSON.parse(corr[0].line)).toMatchObject({
        trace_id: t.traceId,
        span_count: 2,
        log_count: 2,
        status: 'closed',
      });
      for (const l of all) {
        expect(l.metadata.trace_id).toBe(t.traceId);
        // Exactly the pushed labels. Loki would add service_name (discover_service_name); VictoriaLogs does not.
        expect(l.stream).toEqual({ env: 'loki-real', service: l.stream.service });
      }
    }

    // The index holds only the low-cardinality labels; trace_id is a field, never a stream label.
    expect(await fieldNames(vl.url, 'stream_field_names')).toEqual(['env', 'service']);
    expect(await fieldNames(vl.url, 'field_names')).toEqual(
      expect.arrayContaining(['env', 'service', 'severity', 'span_id', 'trace_id']),
    );
  });

  it('files everything under the configured tenant (VictoriaLogs: a numeric AccountID) and nothing under the default one', async () => {
    const vl = await withVictoriaLogs();
    const { endpoint } = await engineFor(vl, 'tenant', { LOKI_TENANT: '42' });
    const [t] = await sendTraffic({ endpoint, protocol: 'http/json', traces: 1 });
    const lines = await waitFor(
      'three lines under tenant 42',
      async () => {
        const found = await logsQuery(vl.url, `trace_id:="${t.traceId}"`, { tenant: '42' });
        return found.length >= 3 ? found : undefined;
      },
      60_000,
    );
    expect(lines).toHaveLength(3);
    expect(await logsQuery(vl.url, `trace_id:="${t.traceId}"`)).toEqual([]);
  });

  it('drops and counts a batch refused for good: a tenant name Loki accepts but VictoriaLogs answers 400', async () => {
    const vl = await withVictoriaLogs();
    const { c, endpoint } = await engineFor(vl, 'named-tenant', { LOKI_TENANT: 'team-a' });
    await sendTraffic({ endpoint, protocol: 'http/json', traces: 1 });
    await waitFor(
      'the refused batches to be dropped',
      async () =>
        metricSum(await c.metrics.registry.metrics(), 'export_records_dropped_total') >= 3 && c.queues[0].depth === 0
          ? true
          : undefined,
      30_000,
    );
    expect(await c.metrics.registry.getSingleMetricAsString('export_attempts_total')).not.toMatch(
      /destination="loki",result="retry"/,
    );
    expect(await logsQuery(vl.url, '*')).toEqual([]);
  });

  it('loses nothing accepted while the destination is stopped for a minute: all of it arrives once it is back', async () => {
    const vl = await withVictoriaLogs();
    const { c, endpoint } = await engineFor(vl, 'loki-down');
    const received = async () => metricSum(await c.metrics.registry.metrics(), 'log_records_received_total');

    const sent = await sendTraffic({ endpoint, protocol: 'http/json', traces: 3 });
    await vl.stop();
    const stoppedAt = Date.now();
    expect(vl.peer.running).toBe(false);

    // Three rounds while it is down, 20 s apart: each is accepted (counted once, nothing refused).
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
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(60_000);
    expect(c.queues[0].depth).toBeGreaterThan(0);
    expect(await c.metrics.registry.getSingleMetricAsString('export_attempts_total')).toMatch(
      /export_attempts_total\{destination="loki",result="retry"\} [1-9]/,
    );

    await vl.restart();
    const ids = sent.map((t) => t.traceId);
    const byTrace = await waitFor(
      `all ${ids.length} traces stored`,
      async () => {
        const got = await linesByTrace(vl, 'loki-down');
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
    expect(await c.metrics.registry.getSingleMetricAsString('export_records_dropped_total')).not.toMatch(
      /destination="loki"\} [1-9]/,
    );
  }, 400_000);
});
