// `make bench-correlator-fanout`: query latency of GET /api/correlations on one correlator holding
// 100k correlations, against the same 100k split by trace over 2 and 3 replicas, each its own
// process on its own 127.0.0.x, where the replica asked fans the query out to the others
// (correlator/fanout.ts, peers found as the rendered Deployment finds them: a list of every
// replica and its own POD_IP to leave out). The query client is a process of its own
// (bench/correlator-query.ts). Prints p50/p95/p99 overall and p50/p95 per kind of query.
import { fileURLToPath } from 'node:url';
import { freePort, Peer } from '../test/unit/correlator/peers.js';
import { runQueries } from './query-client.js';

const HELD = Number(process.env.BENCH_HELD ?? '100000');
const QUERIES = Number(process.env.BENCH_QUERIES ?? '2500');
const repoDir = fileURLToPath(new URL('..', import.meta.url));
const engineScript = fileURLToPath(new URL('./correlator-engine.ts', import.meta.url));

const BASE = Date.UTC(2025, 9, 15);
const traceId = (i: number) => (i + 1).toString(16).padStart(32, '0');

/** HELD correlations, trace i on replica i % n (the collector routes by trace id), as seed log batches. */
async function fill(urls: string[]): Promise<void> {
  const n = urls.length;
  for (let r = 0; r < n; r++) {
    let records: object[] = [];
    const flush = async () => {
      const res = await fetch(`${urls[r]}/api/logs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ resource: { service: 'bench' }, records }),
      });
      if (res.status !== 200) throw new Error(`fill answered ${res.status}: ${await res.text()}`);
      records = [];
    };
    for (let i = r; i < HELD; i += n) {
      records.push({
        trace_id: traceId(i),
        service: `svc-${i % 20}`,
        timestamp: new Date(BASE + i * 10).toISOString(),
        severity: 'INFO',
        message: '',
        circuit_id: `C-${i % 100}`,
      });
      if (records.length === 5000) await flush();
    }
    if (records.length) await flush();
  }
}

const KINDS = ['trace_id', 'limit=100', 'service', 'time range (1000)', 'unknown service'] as const;
const kindQuery = [
  () => `trace_id=${traceId(Math.floor(Math.random() * HELD))}`,
  () => 'limit=100',
  () => `service=svc-${Math.floor(Math.random() * 20)}&limit=100`,
  () =>
    `start_time=${new Date(BASE + 200_000).toISOString()}&end_time=${new Date(BASE + 300_000).toISOString()}&limit=1000`,
  () => 'service=nobody&limit=1000',
];

const pct = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

async function setup(replicas: number) {
  const port = await freePort();
  const ips = Array.from({ length: replicas }, (_, i) => `127.0.0.${41 + i}`);
  const peers = ips.map((ip) => `${ip}:${port}`).join(',');
  const engines: Peer[] = [];
  try {
    for (const ip of ips) {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        NODE_OPTIONS: '',
        HOST: ip,
        PORT: String(port),
        GRPC_PORT: String(await freePort()),
        LOG_LEVEL: 'warn',
        CORR_WINDOW_SECONDS: '3600',
        MAX_CORRELATIONS: String(HELD),
        ...(replicas > 1 ? { CORRELATOR_PEERS: peers, POD_IP: ip } : {}),
      };
      const e = new Peer(`correlator-${ip}`, process.execPath, ['--import', 'tsx', engineScript], repoDir, env);
      engines.push(e);
      e.start();
      await e.waitReady(`http://${ip}:${port}/ready`);
    }
    const urls = ips.map((ip) => `http://${ip}:${port}`);
    await fill(urls);
    const check = (await (await fetch(`${urls[0]}/api/correlations?limit=1`)).json()) as {
      held: number;
      partial?: boolean;
    };
    if (check.held !== HELD || check.partial) throw new Error(`expected ${HELD} held: ${JSON.stringify(check)}`);
    const list = Array.from({ length: QUERIES }, (_, i) => kindQuery[i % KINDS.length]());
    await runQueries(urls[0], list.slice(0, 250));
    const times = await runQueries(urls[0], list);
    const byKind = KINDS.map((_, k) => times.filter((_, i) => i % KINDS.length === k));
    return { replicas, times, byKind };
  } finally {
    await Promise.all(engines.map((e) => e.stop()));
  }
}

const f = (n: number) => n.toFixed(2);
const results = [];
for (const n of [1, 2, 3]) results.push(await setup(n));
for (const r of results) {
  const how = r.replicas === 1 ? 'single replica' : `fan-out to ${r.replicas - 1} peer${r.replicas > 2 ? 's' : ''}`;
  console.log(
    `correlator query, ${HELD} held over ${r.replicas} (${how}): p50 ${f(pct(r.times, 0.5))} ms, p95 ${f(pct(r.times, 0.95))} ms, ` +
      `p99 ${f(pct(r.times, 0.99))} ms; p50/p95 by query (ms): ${KINDS.map((k, i) => `${k} ${f(pct(r.byKind[i], 0.5))}/${f(pct(r.byKind[i], 0.95))}`).join(', ')}`,
  );
}
