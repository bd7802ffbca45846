// `make bench-correlator`: ingest + correlation throughput (OTLP logs, batches of 512, JSON and
// protobuf) with the load generator in another process, measured as records per second and per
// CPU-second of the engine process (the "one core" figure); then p99 query latency with 100k
// correlations held. Goals (issue 6): 50k/s JSON, 100k/s protobuf, p99 < 20 ms.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { loadConfig } from '../correlator/config.js';
import { parseQuery } from '../correlator/query.js';
import { buildCorrelator } from '../correlator/server.js';
import { view } from '../correlator/store.js';
import { freePort, metricSum, Peer, startOtelcol, startVictoriaLogs } from '../test/unit/correlator/peers.js';
import { runQueries } from './query-client.js';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? '8000');
const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
const loadScript = fileURLToPath(new URL('./correlator-load.ts', import.meta.url));

function runLoad(
  env: Record<string, string>,
): Promise<{ requests: number; records: number; errors: number; ms: number; bytesPerRequest: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(tsx, [loadScript], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`load generator exited ${code}`)),
    );
  });
}

const repoDir = fileURLToPath(new URL('..', import.meta.url));
const engineScript = fileURLToPath(new URL('./correlator-engine.ts', import.meta.url));

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MiB`;

async function throughput(encoding: 'json' | 'protobuf', seed: number) {
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    GRPC_PORT: '0',
    LOG_LEVEL: 'warn',
    MAX_CORRELATIONS: '200000',
  });
  const c = buildCorrelator(config, { logger: pino({ level: 'warn' }) });
  const url = await c.start();
  // Warm up the JIT before measuring.
  await runLoad({ URL: `${url}/v1/logs`, ENCODING: encoding, DURATION_MS: '1500', SEED: String(seed + 100) });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await runLoad({
    URL: `${url}/v1/logs`,
    ENCODING: encoding,
    DURATION_MS: String(DURATION_MS),
    SEED: String(seed),
  });
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const rss = process.memoryUsage().rss;
  const held = c.store.size;
  await c.stop();
  return {
    encoding,
    records: r.records,
    errors: r.errors,
    bytesPerRequest: r.bytesPerRequest,
    perSecond: Math.round(r.records / (r.ms / 1000)),
    perCpuSecond: Math.round(r.records / cpuSeconds),
    cpuShare: cpuSeconds / wall,
    rss,
    held,
  };
}

async function queryLatency() {
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    GRPC_PORT: '0',
    LOG_LEVEL: 'warn',
    MAX_CORRELATIONS: '100000',
  });
  const c = buildCorrelator(config, { logger: pino({ level: 'warn' }) });
  const url = await c.start();
  const ids: string[] = [];
  const base = Date.UTC(2025, 9, 15);
  for (let i = 0; i < 100_000; i++) {
    const traceId = (i + 1).toString(16).padStart(32, '0');
    ids.push(traceId);
    const t = base + i * 10;
    c.store.addSpans([
      {
        traceId,
        spanId: '00000000000000a1',
        service: `svc-${i % 20}`,
        name: 'op',
        startMs: t,
        endMs: t + 5,
        error: i % 9 === 0,
        attrs: { circuit_id: `C-${i % 100}` },
      },
    ]);
    c.store.addLogs([
      {
        traceId,
        spanId: null,
        timeMs: t + 1,
        severity: 'INFO',
        service: `svc-${(i + 1) % 20}`,
        body: '',
        attrs: undefined,
      },
    ]);
  }
  const queries = [
    () => `trace_id=${ids[Math.floor(Math.random() * ids.length)]}`,
    () => 'limit=100',
    () => `service=svc-${Math.floor(Math.random() * 20)}&limit=100`,
    () =>
      `start_time=${new Date(base + 200_000).toISOString()}&end_time=${new Date(base + 300_000).toISOString()}&limit=1000`,
    // Worst case: a service nothing has, so the whole store is scanned.
    () => 'service=nobody&limit=1000',
  ];
  // The load above left ~100k records' worth of garbage; collect it so that its pause is not
  // charged to the queries (run with --expose-gc, as `make bench-correlator` does).
  (globalThis as { gc?: () => void }).gc?.();
  // In-engine cost per kind (filter + views + JSON), apart from HTTP and the client.
  const engineKind = queries.map(() => [] as number[]);
  for (let i = 0; i < 2500; i++) {
    const params = Object.fromEntries(new URLSearchParams(queries[i % queries.length]()));
    const t0 = performance.now();
    const parsed = parseQuery(params);
    if (!parsed.ok) throw new Error(parsed.error);
    const found = c.store.query(parsed.query);
    JSON.stringify({ count: found.length, held: c.store.size, correlations: found.map(view) });
    engineKind[i % queries.length].push(performance.now() - t0);
  }
  (globalThis as { gc?: () => void }).gc?.();
  const list = Array.from({ length: 2500 }, (_, i) => queries[i % queries.length]());
  // Warm-up round (JIT, connection), then the measured one.
  await runQueries(url, list.slice(0, 250));
  const times = await runQueries(url, list);
  const byKind = queries.map((_, k) => times.filter((_, i) => i % queries.length === k));
  const pct = (xs: number[], q: number) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor(q * s.length))].toFixed(2);
  };
  const kinds = ['trace_id', 'limit=100', 'service', 'time range (1000)', 'unknown service'].map(
    (k, i) => `${k} ${pct(byKind[i], 0.99)} (in engine ${pct(engineKind[i], 0.99)})`,
  );
  const p = (q: number) => pct(times, q);
  const held = c.store.size;
  const rss = process.memoryUsage().rss;
  await c.stop();
  return { held, p50: p(0.5), p99: p(0.99), max: pct(times, 1), rss, kinds };
}

/** RSS (MiB) and CPU seconds of one process, from /proc. */
function procStats(pid: number): { rssMiB: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKiB = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? '0');
  // utime and stime are fields 14 and 15, after the parenthesised command name.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { rssMiB: rssKiB / 1024, cpuSeconds: (Number(fields[11]) + Number(fields[12])) / 100 };
}

const RATE = 1_000_000 / 60;
const SUSTAIN_MS = Number(process.env.BENCH_SUSTAIN_MS ?? '90000');
/** The correlator's memory limit in the chart's small profile (desired/stack/sizing.ts), one replica. */
const RSS_BOUND_MIB = Number(process.env.RSS_BOUND_MIB ?? '512');
/**
 * Traces held by both the engine (MAX_CORRELATIONS) and groupbytrace (num_traces): a full minute
 * of this load (250k traces) fits, so neither evicts. Below that, groupbytrace v0.161.0 can
 * deadlock once its ring and event queue are both full (contrib issue #33719): at 200k it stopped
 * accepting here after ~1.1M spans.
 */
const HELD = 300_000;

/** 1M spans per minute (protobuf, new trace ids in every request) into `pid` for SUSTAIN_MS, sampling it. */
async function sustained(pid: number, url: string) {
  const samples: number[] = [];
  const cpu0 = procStats(pid).cpuSeconds;
  const timer = setInterval(() => samples.push(procStats(pid).rssMiB), 500);
  const load = await runLoad({
    URL: url,
    SIGNAL: 'traces',
    ENCODING: 'protobuf',
    UNIQUE: '1',
    RATE: String(RATE),
    CONCURRENCY: '4',
    DURATION_MS: String(SUSTAIN_MS),
    SEED: '7',
  });
  clearInterval(timer);
  const end = procStats(pid);
  return {
    load,
    maxRssMiB: Math.max(...samples),
    endRssMiB: end.rssMiB,
    cpuSeconds: end.cpuSeconds - cpu0,
  };
}

/**
 * The engine as its own process, correlation records exported over Loki's push API (to
 * VictoriaLogs: Loki is AGPL and never run here), under 1M spans/min.
 */
async function engineAtRate() {
  const loki = await startVictoriaLogs();
  const [port, grpc] = [await freePort(), await freePort()];
  const env = {
    ...process.env,
    HOST: '127.0.0.1',
    PORT: String(port),
    GRPC_PORT: String(grpc),
    LOKI_URL: loki.lokiUrl,
    LOG_LEVEL: 'warn',
    MAX_CORRELATIONS: String(HELD),
  };
  // The heap sized to the memory bound, as a container limit would have it (NODE_OPTIONS in the
  // image); unconstrained, V8 grows its heap lazily towards a quarter of the host's 24 GiB.
  const heap = `--max-old-space-size=${Math.floor(RSS_BOUND_MIB * 0.75)}`;
  const engine = new Peer('correlator', process.execPath, [heap, '--import', 'tsx', engineScript], repoDir, env);
  engine.start();
  try {
    const url = `http://127.0.0.1:${port}`;
    await engine.waitReady(`${url}/ready`);
    const r = await sustained(engine.pid ?? 0, `${url}/v1/traces`);
    const m = await (await fetch(`${url}/metrics`)).text();
    return {
      ...r,
      accepted: metricSum(m, 'traces_received_total'),
      held: metricSum(m, 'correlations_held'),
      evicted: metricSum(m, 'correlation_evictions_total'),
      exported: metricSum(m, 'export_attempts_total'),
      queueDepth: metricSum(m, 'export_queue_depth'),
    };
  } finally {
    await engine.stop();
    await loki.close();
  }
}

/** The collector built here, OTLP receiver → groupbytrace (same window and cap) → debug, same load. */
async function collectorAtRate() {
  const port = await freePort();
  const col = await startOtelcol({
    receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${port}` } } } },
    processors: { groupbytrace: { wait_duration: '60s', num_traces: HELD } },
    exporters: { debug: { verbosity: 'basic' } },
    service: { pipelines: { traces: { receivers: ['otlp'], processors: ['groupbytrace'], exporters: ['debug'] } } },
  });
  try {
    const r = await sustained(col.peer.pid ?? 0, `http://127.0.0.1:${port}/v1/traces`);
    const m = await col.metrics();
    return {
      ...r,
      accepted: metricSum(m, 'otelcol_receiver_accepted_spans'),
      refused: metricSum(m, 'otelcol_receiver_refused_spans'),
    };
  } finally {
    await col.close();
  }
}

// BENCH_ONLY=ingest|query|... runs one part (comma-separated list).
const only = new Set((process.env.BENCH_ONLY ?? '').split(',').filter(Boolean));
const runs = (part: string) => only.size === 0 || only.has(part);

if (runs('ingest')) {
  const results = [await throughput('json', 1), await throughput('protobuf', 2)];
  for (const r of results) {
    const goal = r.encoding === 'json' ? 50_000 : 100_000;
    console.log(
      `correlator ingest ${r.encoding.padEnd(8)} batch=512 (${r.bytesPerRequest} B/request): ${r.perSecond} records/s wall, ` +
        `${r.perCpuSecond} records per engine CPU-second (goal ${goal}: ${r.perCpuSecond >= goal ? 'met' : 'NOT met'}), ` +
        `engine CPU ${(r.cpuShare * 100).toFixed(0)}%, errors ${r.errors}, ${r.held} correlations held, RSS ${mb(r.rss)}`,
    );
  }
}
if (runs('query')) {
  const q = await queryLatency();
  console.log(
    `correlator query: ${q.held} correlations held, p50 ${q.p50} ms, p99 ${q.p99} ms (goal < 20: ${Number(q.p99) < 20 ? 'met' : 'NOT met'}), max ${q.max} ms, RSS ${mb(q.rss)}; p99 by query (ms): ${q.kinds.join(', ')}`,
  );
}

if (runs('rss')) {
  const e = await engineAtRate();
  const perMin = (r: { load: { records: number; ms: number } }) => Math.round(r.load.records / (r.load.ms / 60_000));
  console.log(
    `correlator at 1M spans/min for ${SUSTAIN_MS / 1000} s, MAX_CORRELATIONS ${HELD}, heap cap ${Math.floor(RSS_BOUND_MIB * 0.75)} MiB (sent ${perMin(e)}/min, errors ${e.load.errors}; Loki export on): ` +
      `RSS max ${e.maxRssMiB.toFixed(0)} MiB, end ${e.endRssMiB.toFixed(0)} MiB (bound ${RSS_BOUND_MIB} MiB: ` +
      `${e.maxRssMiB < RSS_BOUND_MIB ? 'met' : 'NOT met'}), CPU ${e.cpuSeconds.toFixed(1)} s ` +
      `(${((e.cpuSeconds / e.load.records) * 1e6).toFixed(1)} µs/span), accepted ${e.accepted}, held ${e.held}, ` +
      `evicted ${e.evicted}, export requests ${e.exported}, queue depth at end ${e.queueDepth}`,
  );
  const c = runs('collector') ? await collectorAtRate() : undefined;
  if (c) {
    console.log(
      `collector (otlp → groupbytrace 60 s/${HELD / 1000}k traces → debug) same load (sent ${perMin(c)}/min, errors ${c.load.errors}): ` +
        `RSS max ${c.maxRssMiB.toFixed(0)} MiB, end ${c.endRssMiB.toFixed(0)} MiB, CPU ${c.cpuSeconds.toFixed(1)} s ` +
        `(${((c.cpuSeconds / c.load.records) * 1e6).toFixed(1)} µs/span), accepted ${c.accepted}, refused ${c.refused}`,
    );
    console.log(
      `ratio correlator/collector: CPU ${(e.cpuSeconds / c.cpuSeconds).toFixed(2)}, RSS max ${(e.maxRssMiB / c.maxRssMiB).toFixed(2)}`,
    );
  }
}
