// A real node_exporter (built from its Go module by hack/build-node-exporter.sh) runs with the
// container arguments the stack renders, and Debian's Prometheus scrapes it with the rendered
// node-exporter job. Two substitutions, both because this machine is the host rather than a pod on
// it: the host paths the DaemonSet mounts under /host are the machine's own, and the job's
// kubernetes_sd_configs becomes a static target carrying the meta labels the pod role would give it
// (Debian's Prometheus is built without Kubernetes discovery, and there is no kubelet to run a pod).
// Everything else of the job runs as rendered: the keep rule, the node and instance relabelling, the
// sample and label limits.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ClusterJobs } from '../../../conventions/index.js';
import { stackContext } from '../../../desired/stack/context.js';
import { NODE_EXPORTER_VERSION } from '../../../desired/stack/images.js';
import { HOST_MOUNTS, nodeExporterArgs } from '../../../desired/stack/node-exporter.js';
import { prometheusConfig, SCRAPE_LIMITS } from '../../../desired/stack/prometheus.js';
import { freePort, Peer, type PrometheusPeer, startPrometheus, tempDir, waitFor } from '../correlator/peers.js';
import { namesFrom } from './metric-names.js';
import { aValidStack, cachedTool } from './support.js';

type Job = Record<string, unknown>;
const NODE = 'node-a';

const nodeExporterBinary = () =>
  cachedTool('node-exporter', NODE_EXPORTER_VERSION, 'node_exporter', 'hack/build-node-exporter.sh');

/** The rendered arguments with the DaemonSet's host mounts pointed at this machine's own paths. */
function hostArgs(args: string[], port: number): string[] {
  const unmount = (a: string) =>
    a
      .replace(`=${HOST_MOUNTS.root}/`, '=/')
      .replace(`=${HOST_MOUNTS.root}`, '=/')
      .replace(HOST_MOUNTS.proc, '/proc')
      .replace(HOST_MOUNTS.sys, '/sys');
  return args.map((a) =>
    a.startsWith('--web.listen-address=') ? `--web.listen-address=127.0.0.1:${port}` : unmount(a),
  );
}

const ctx = stackContext(aValidStack({ metrics: { enabled: true, cluster: { enabled: true } } }));
const rendered = (prometheusConfig(ctx).scrape_configs as Job[]).find((j) => j.job_name === ClusterJobs.nodeExporter);

let exporter: Peer;
let prom: PrometheusPeer;
let dir: { path: string; remove(): void };
let port: number;

beforeAll(async () => {
  dir = tempDir('node-exporter');
  port = await freePort();
  const args = hostArgs(nodeExporterArgs(ctx), port);
  exporter = new Peer('node_exporter', nodeExporterBinary(), args, dir.path);
  exporter.start();
  await exporter.waitReady(`http://127.0.0.1:${port}/metrics`, 30_000);
  if (!rendered) throw new Error('the stack renders no node-exporter job');
  const { kubernetes_sd_configs: _sd, ...job } = rendered;
  prom = await startPrometheus([
    {
      ...job,
      static_configs: [
        {
          targets: [`127.0.0.1:${port}`],
          // What the pod role gives a node-exporter pod (hostNetwork: its address is the node's).
          labels: {
            __meta_kubernetes_pod_container_port_name: 'metrics',
            __meta_kubernetes_pod_node_name: NODE,
            __meta_kubernetes_pod_name: 'core-node-exporter-x7k2p',
          },
        },
      ],
    },
  ]);
}, 60_000);

afterAll(async () => {
  await prom?.close();
  await exporter?.stop();
  dir?.remove();
});

describe('node-exporter scraped by Prometheus with the rendered job', () => {
  it('renders the job with its own sample and label limits', () => {
    expect(rendered).toMatchObject({
      job_name: 'node-exporter',
      sample_limit: SCRAPE_LIMITS[ClusterJobs.nodeExporter].sample_limit,
      label_limit: SCRAPE_LIMITS[ClusterJobs.nodeExporter].label_limit,
    });
  });

  it('stores node_* series under the node name, within the sample limit', async () => {
    const up = await waitFor(
      'a first scrape of node-exporter',
      async () => {
        const v = await prom.query('up{job="node-exporter"}');
        return v.length ? v : undefined;
      },
      20_000,
      250,
    );
    expect(up).toEqual([
      {
        metric: { __name__: 'up', job: 'node-exporter', instance: NODE, node: NODE },
        value: [expect.any(Number), '1'],
      },
    ]);
    const cpu = await prom.query('count(node_cpu_seconds_total{job="node-exporter", instance="node-a", mode="idle"})');
    expect(Number(cpu[0]?.value[1])).toBeGreaterThanOrEqual(1);
    const samples = await prom.query('scrape_samples_scraped{job="node-exporter"}');
    const n = Number(samples[0]?.value[1]);
    expect(n).toBeGreaterThan(100);
    expect(n).toBeLessThan(SCRAPE_LIMITS[ClusterJobs.nodeExporter].sample_limit);
  });

  it('exposes every node_* name the cluster dashboards and alerts read', async () => {
    const stored = await waitFor(
      'the series names',
      async () => {
        const r = (await (await fetch(`${prom.url}/api/v1/label/__name__/values`)).json()) as { data: string[] };
        return r.data.some((n) => n.startsWith('node_')) ? new Set(r.data) : undefined;
      },
      20_000,
      250,
    );
    const used = namesFrom('node-exporter');
    expect(used.length).toBeGreaterThan(10);
    expect(used.filter((n) => !stored.has(n))).toEqual([]);
  });

  it("exposes Prometheus's own scrape-limit counters the VigilScrapeLimitHit alert reads", async () => {
    const own = await (await fetch(`${prom.url}/metrics`)).text();
    const names = new Set(own.split('\n').map((l) => /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(l)?.[1]));
    expect(namesFrom('prometheus').filter((n) => n !== 'up' && !names.has(n))).toEqual([]);
  });
});
