// Operator benchmark against a local control plane of its own (hack/cluster.sh), with the real
// operator process. Prints:
//   1. kubectl apply of a stack → all children applied (status written): p50/p95 over 20 runs (goal p50 < 1 s)
//   2. 50 stacks applied at once → all Ready (goal < 30 s)
//   3. operator RSS with 100 stacks and 1000 SLOs watched (goal < 150 MB)
//   4. writes per idle minute, from the API server's audit log (goal 0)
//   5. 20 `large` stacks with object storage (test/unit/charts/fixtures/s3-large.yaml) → all Ready, the
//      objects they own, and the RSS of a fresh operator holding them
// BENCH_ONLY=large runs part 5 alone.
// Bounded: fixed counts, every wait has a deadline, the cluster and operator are stopped at the end.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { s3LargeSecretManifests } from '../test/support/fixture-secrets.js';

const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-'));
const clusterDir = join(dir, 'cluster');
// Ten fake nodes of 64 CPUs: the 20 large stacks of part 5 request about 25 CPUs and 78 GiB each.
const env = { ...process.env, VIGIL_CLUSTER_DIR: clusterDir, VIGIL_FAKE_VOLUMES: '600', VIGIL_FAKE_NODES: '10' };
const onlyLarge = process.env.BENCH_ONLY === 'large';
const kubeconfig = join(clusterDir, 'kubeconfig');
const log = (m: string) => process.stdout.write(`[bench-operator] ${m}\n`);

const kubectl = (args: string[], input?: string) => {
  const r = spawnSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {
    input,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  if (r.status !== 0) throw new Error(`kubectl ${args.slice(0, 3).join(' ')}: ${r.stderr}`);
  return r.stdout;
};

/** One GET; retried a few times, since a loaded API server may drop a connection. */
async function api(path: string): Promise<{ status: number; body: string }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await apiOnce(path);
    } catch (err) {
      if (attempt >= 5) throw err;
      await sleep(500 * attempt);
    }
  }
}

function apiOnce(path: string): Promise<{ status: number; body: string }> {
  const server = readFileSync(kubeconfig, 'utf8').match(/server: (\S+)/)![1];
  const token = readFileSync(join(clusterDir, 'pki', 'admin.token'), 'utf8').trim();
  const ca = readFileSync(join(clusterDir, 'pki', 'ca.crt'));
  return new Promise((resolve, reject) => {
    const req = request(`${server}${path}`, { ca, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(
  what: string,
  fn: () => Promise<boolean> | boolean,
  timeoutMs: number,
  everyMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

const stack = (name: string) => ({
  apiVersion: 'observability.vigil.dev/v1alpha1',
  kind: 'ObservabilityStack',
  metadata: { name },
  spec: { environment: 'bench', size: 'demo' },
});
const slo = (name: string, stackName: string) => ({
  apiVersion: 'observability.vigil.dev/v1alpha1',
  kind: 'SLO',
  metadata: { name },
  spec: {
    service: name,
    stackRef: { name: stackName },
    objective: 99.9,
    window: '30d',
    indicator: {
      ratio: {
        errors: `sum(rate(http_requests_total{job="${name}",code=~"5.."}[{{window}}]))`,
        total: `sum(rate(http_requests_total{job="${name}"}[{{window}}]))`,
      },
    },
  },
});
const many = (docs: unknown[]) => docs.map((d) => yaml.dump(d)).join('---\n');
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

function writesSince(since: Date): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of readFileSync(join(clusterDir, 'audit.log'), 'utf8').split('\n')) {
    if (!line) continue;
    const e = JSON.parse(line);
    if (e.user?.username !== 'vigil-operator' || e.stage !== 'ResponseComplete' || new Date(e.stageTimestamp) < since)
      continue;
    if (!['create', 'update', 'patch', 'delete', 'deletecollection'].includes(e.verb)) continue; // the log has its reads too
    const key = `${e.verb} ${[e.objectRef?.resource, e.objectRef?.subresource].filter(Boolean).join('/')}`;
    out.set(key, (out.get(key) ?? 0) + 1);
  }
  return out;
}

const stacksReady = async (n: number) => {
  const r = await api('/apis/observability.vigil.dev/v1alpha1/namespaces/bench/observabilitystacks');
  const items = JSON.parse(r.body).items as { status?: { conditions?: { type: string; status: string }[] } }[];
  return items.filter((o) => o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length >= n;
};

/** The real operator process, with the V8 flags the manifests' Deployment sets. */
function startOperator() {
  return spawn(
    process.execPath,
    [
      // A small young generation keeps RSS near the live heap.
      '--max-semi-space-size=2',
      '--max-old-space-size=192',
      join(root, 'bin', 'vigil.js'),
      'operator',
      '--kubeconfig',
      join(clusterDir, 'operator.kubeconfig'),
      '--metrics-port',
      '0',
      '--namespaces',
      'bench',
    ],
    { stdio: 'ignore', env: { PATH: process.env.PATH ?? '' } },
  );
}

const rssOf = (pid: number | undefined) =>
  Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)![1]) / 1024;

function largeStack(name: string) {
  const doc = yaml.load(readFileSync(join(root, 'test/unit/charts/fixtures/s3-large.yaml'), 'utf8')) as {
    metadata: Record<string, unknown>;
    spec: { metrics?: { storage?: { storageClassName?: string } }; collector?: Record<string, unknown> };
  };
  // The local control plane's volumes are of its default class (hack/cluster.sh).
  delete doc.spec.metrics?.storage?.storageClassName;
  // Twenty stacks share one namespace, and only one of them may run the node agent that collects it
  // (the others would be refused with CollectionOverlap): the gateway alone here.
  doc.spec.collector = { ...doc.spec.collector, mode: 'deployment' };
  return { ...doc, metadata: { name } };
}

async function main() {
  log(`starting a local control plane (${env.VIGIL_FAKE_VOLUMES} static volumes)...`);
  execFileSync(join(root, 'hack', 'cluster.sh'), ['up'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  kubectl(['apply', '--server-side', '-f', join(root, 'crds')]);
  kubectl(['wait', '--for=condition=Established', '-f', join(root, 'crds')]);
  kubectl(['create', 'namespace', 'bench']);
  let op = startOperator();
  const results: Record<string, string> = {};
  try {
    await sleep(2000);
    if (!onlyLarge) {
      // 1. apply → all children applied
      const times: number[] = [];
      for (let i = 0; i < 20; i++) {
        const name = `lat-${i}`;
        const t0 = performance.now();
        kubectl(['apply', '-n', 'bench', '-f', '-'], yaml.dump(stack(name)));
        await until(
          `${name} status`,
          async () => {
            const r = await api(`/apis/observability.vigil.dev/v1alpha1/namespaces/bench/observabilitystacks/${name}`);
            return r.status === 200 && JSON.parse(r.body).status?.components !== undefined;
          },
          30_000,
        );
        times.push(performance.now() - t0);
      }
      results['apply → children (p50)'] =
        `${pct(times, 50).toFixed(0)} ms (p95 ${pct(times, 95).toFixed(0)} ms, n=20; includes kubectl's own ~100 ms)`;
      log(results['apply → children (p50)']);
      kubectl(['delete', 'ostack', '--all', '-n', 'bench', '--wait=false']);
      await sleep(3000);

      // 2. 50 stacks at once → all Ready
      const names = Array.from({ length: 50 }, (_, i) => `s-${i}`);
      const t1 = performance.now();
      kubectl(['apply', '-n', 'bench', '-f', '-'], many(names.map(stack)));
      await until(
        '50 stacks Ready',
        async () => {
          const r = await api('/apis/observability.vigil.dev/v1alpha1/namespaces/bench/observabilitystacks');
          const items = JSON.parse(r.body).items as {
            metadata: { name: string };
            status?: { conditions?: { type: string; status: string }[] };
          }[];
          return (
            items.filter(
              (o) =>
                o.metadata.name.startsWith('s-') &&
                o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
            ).length === 50
          );
        },
        180_000,
        250,
      );
      results['50 stacks → all Ready'] = `${((performance.now() - t1) / 1000).toFixed(1)} s`;
      log(results['50 stacks → all Ready']);

      // 3. RSS with 100 stacks and 1000 SLOs
      kubectl(['apply', '-n', 'bench', '-f', '-'], many(Array.from({ length: 50 }, (_, i) => stack(`t-${i}`))));
      const all = [...names, ...Array.from({ length: 50 }, (_, i) => `t-${i}`)];
      for (let batch = 0; batch < 10; batch++) {
        kubectl(
          ['apply', '-n', 'bench', '-f', '-'],
          many(Array.from({ length: 100 }, (_, i) => slo(`slo-${batch * 100 + i}`, all[(batch * 100 + i) % 100]))),
        );
      }
      await until(
        '1000 SLOs reconciled',
        async () => {
          const r = await api('/apis/observability.vigil.dev/v1alpha1/namespaces/bench/slos');
          return (
            (JSON.parse(r.body).items as { status?: { ruleCount?: number } }[]).filter((s) => s.status?.ruleCount)
              .length === 1000
          );
        },
        600_000,
        1000,
      );
      await sleep(10_000);
      const rss = rssOf(op.pid);
      results['RSS, 100 stacks + 1000 SLOs'] = `${rss.toFixed(0)} MB`;
      log(results['RSS, 100 stacks + 1000 SLOs']);

      // 4. writes per idle minute, once every stack is Ready and nothing changes
      await until('100 stacks Ready', () => stacksReady(100), 300_000, 1000);
      await sleep(15_000);
      const since = new Date();
      await sleep(60_000);
      const writes = writesSince(since);
      const total = [...writes.values()].reduce((a, b) => a + b, 0);
      results['writes per idle minute'] =
        `${total}${total ? ` (${[...writes].map(([k, v]) => `${k}: ${v}`).join(', ')})` : ''}`;
      log(`writes per idle minute: ${results['writes per idle minute']}`);
    }

    // 5. 20 large stacks, held by a fresh operator
    if (!onlyLarge) {
      op.kill('SIGTERM');
      kubectl(['delete', 'slo,ostack', '--all', '-n', 'bench', '--wait=true', '--timeout=300s']);
      op = startOperator();
      await sleep(2000);
    }
    kubectl(['apply', '-n', 'bench', '-f', '-'], many(s3LargeSecretManifests()));
    const large = Array.from({ length: 20 }, (_, i) => `large-${i}`);
    const t5 = performance.now();
    kubectl(['apply', '-n', 'bench', '-f', '-'], many(large.map(largeStack)));
    await until('20 large stacks Ready', () => stacksReady(20), 600_000, 1000);
    results['20 large stacks → all Ready'] = `${((performance.now() - t5) / 1000).toFixed(1)} s`;
    log(results['20 large stacks → all Ready']);
    const owned = JSON.parse(
      kubectl([
        'get',
        'all,configmaps,secrets,serviceaccounts,roles,rolebindings,networkpolicies,poddisruptionbudgets',
        '-n',
        'bench',
        '-l',
        'vigil.dev/stack=large-0',
        '-o',
        'json',
      ]),
    ).items.filter(
      (o: { kind: string }) =>
        o.kind !== 'Pod' && o.kind !== 'ReplicaSet' && o.kind !== 'ControllerRevision' && o.kind !== 'EndpointSlice',
    ).length;
    results['objects of one large stack'] = `${owned} (kinds the operator applies, without pods)`;
    log(results['objects of one large stack']);
    await sleep(15_000);
    results['RSS, 20 large stacks'] = `${rssOf(op.pid).toFixed(0)} MB`;
    log(results['RSS, 20 large stacks']);
  } finally {
    op.kill('SIGTERM');
    execFileSync(join(root, 'hack', 'cluster.sh'), ['down'], { env, stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(
    `\nOperator benchmark\n${Object.entries(results)
      .map(([k, v]) => `  ${k.padEnd(30)} ${v}`)
      .join('\n')}\n`,
  );
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
