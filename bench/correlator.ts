// `make bench-correlator`: ingest + correlation throughput (OTLP logs, batches of 512, JSON and
// protobuf) with the load generator in another process, measured as records per second and per
// CPU-second of the engine process (the "one core" figure); then p99 query latency with 100k
// correlations held. Goals (issue 6): 50k/s JSON, 100k/s protobuf, p99 < 20 ms.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { loadConfig } from '../correlator/config.js';
import { parseQuery } from '../correlator/query.js';
import { buildCorrelator } from '../correlator/server.js';
import { view } from '../correlator/store.js';

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

const queryScript = fileURLToPath(new URL('./correlator-query.ts', import.meta.url));

function runQueries(url: string, queries: string[]): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(tsx, [queryScript], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`query client exited ${code}`)),
    );
    child.stdin.end(JSON.stringify({ url, queries }));
  });
}

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
