// Agent benchmark: the real collector (the agent build) running the rendered agent config while
// kubelet-style CRI log files grow at 1k, 5k and 10k lines/s; reports the agent's CPU (cores) and
// RSS, and how many lines reached the OTLP sink that stands in for the gateway. k8sattributes
// looks pods up in a local control plane (hack/cluster.sh; the files belong to a real Deployment's
// pods). Bounded: each rate runs BENCH_AGENT_SECONDS (default 20), then everything stops.
// Run: make bench-agent.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { LogsRequest } from '../correlator/otlp.js';
import { agentConfig, POD_LOG_DIR } from '../desired/stack/agent.js';
import { stackContext } from '../desired/stack/context.js';
import { agentOtelcol, localize, procUsage, startCollector } from '../test/support/collectors.js';
import { REPO_ROOT } from '../test/support/paths.js';
import { aStack } from '../test/unit/charts/stacks.js';
import { freePort, waitFor } from '../test/unit/correlator/peers.js';

const SECONDS = Number(process.env.BENCH_AGENT_SECONDS ?? 20);
const RATES = [1000, 5000, 10_000];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const work = mkdtempSync(join(tmpdir(), 'vigil-bench-agent-'));
const clusterDir = join(work, 'cluster');
const env = { ...process.env, VIGIL_CLUSTER_DIR: clusterDir };
const kubeconfig = join(clusterDir, 'kubeconfig');
const kubectl = (args: string[], input?: string) =>
  execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], { input, encoding: 'utf8' });

let received = 0;
const server = new grpc.Server();
server.register(
  '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
  (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
    // biome-ignore lint/suspicious/noExplicitAny: decoded protobuf
    const req = LogsRequest.decode(call.request) as any;
    for (const rl of req.resourceLogs ?? [])
      for (const sl of rl.scopeLogs ?? []) received += sl.logRecords?.length ?? 0;
    cb(null, Buffer.alloc(0));
  },
  (b: Buffer) => b,
  (b: Buffer) => b,
  'unary',
);

async function main() {
  const started = Date.now();
  console.log('[bench-agent] starting a local control plane (hack/cluster.sh)');
  execFileSync(join(REPO_ROOT, 'hack', 'cluster.sh'), ['up'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const ns = 'bench-agent';
  kubectl(['create', 'namespace', ns]);
  kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: ns },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'web', image: 'x.invalid/web' }] },
        },
      },
    }),
  );
  const pod = await waitFor(
    'the pod scheduled',
    () => {
      const p = JSON.parse(kubectl(['get', 'pods', '-n', ns, '-o', 'json'])).items[0];
      return p?.spec?.nodeName ? { name: p.metadata.name, uid: p.metadata.uid, node: p.spec.nodeName } : undefined;
    },
    60_000,
    500,
  );
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
  );

  const stack = aStack({ collector: { mode: 'daemonset' }, metrics: { enabled: false }, logs: {} }, 'bench');
  stack.metadata.namespace = ns;
  // biome-ignore lint/suspicious/noExplicitAny: editing plain JSON
  const config: any = agentConfig(stackContext(stack));
  const ports = {
    otlpGrpc: await freePort(),
    otlpHttp: await freePort(),
    health: await freePort(),
    metrics: await freePort(),
  };
  const run = localize(config, '127.0.0.1', ports) as typeof config;
  const logs = join(work, 'pods');
  run.receivers.filelog.include = run.receivers.filelog.include.map((p: string) => p.replace(POD_LOG_DIR, logs));
  run.processors.k8sattributes.auth_type = 'kubeConfig';
  run.exporters['otlp_grpc/gateway'].endpoint = `127.0.0.1:${port}`;
  const dir = join(logs, `${ns}_${pod.name}_${pod.uid}`, 'web');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, '0.log');
  writeFileSync(file, '');
  const agent = await startCollector('agent', agentOtelcol(), run, {
    ...process.env,
    KUBECONFIG: kubeconfig,
    K8S_NODE_NAME: pod.node,
    K8S_NODE_IP: '127.0.0.1',
  });
  const pid = agent.peer.pid ?? 0;
  const line = (i: number) =>
    `${new Date().toISOString().replace('Z', '000000Z')} stdout F ts=${Date.now()} level=info msg="GET /checkout 200" req=${i} user=u${i % 97} latency_ms=${i % 250}\n`;

  const rows: string[] = [];
  try {
    for (const rate of RATES) {
      received = 0;
      const before = procUsage(pid);
      const t0 = Date.now();
      let written = 0;
      let peakRss = 0;
      for (let tick = 0; Date.now() - t0 < SECONDS * 1000; tick++) {
        const due = Math.floor(((Date.now() - t0) / 1000) * rate);
        let chunk = '';
        while (written < due) chunk += line(written++);
        if (chunk) appendFileSync(file, chunk);
        if (tick % 50 === 0) peakRss = Math.max(peakRss, procUsage(pid).rssBytes);
        await sleep(10);
      }
      const elapsed = (Date.now() - t0) / 1000;
      const after = procUsage(pid);
      // Let the last batches (5 s batch timeout) arrive before counting.
      await waitFor('the sink to catch up', () => (received >= written ? true : undefined), 15_000, 200).catch(
        () => undefined,
      );
      peakRss = Math.max(peakRss, after.rssBytes);
      const cores = (after.cpuSeconds - before.cpuSeconds) / elapsed;
      rows.push(
        `${String(rate).padStart(6)} lines/s | written ${written} | received ${received} | agent CPU ${cores.toFixed(3)} cores | RSS ${(after.rssBytes / 2 ** 20).toFixed(0)} MiB (peak ${(peakRss / 2 ** 20).toFixed(0)} MiB)`,
      );
      console.log(`[bench-agent] ${rows.at(-1)}`);
    }
  } finally {
    await agent.stop();
    server.forceShutdown();
    execFileSync(join(REPO_ROOT, 'hack', 'cluster.sh'), ['down'], { env, stdio: 'ignore' });
    rmSync(work, { recursive: true, force: true });
  }
  console.log(`\nagent (the agent collector build, rendered config), ${SECONDS} s per rate:`);
  for (const r of rows) console.log(r);
  console.log(`[bench-agent] done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
