// The cluster-state collector for real: the agent's otelcol build (k8s_cluster receiver and
// prometheus exporter, hack/build-otelcol.sh) runs the config the stack renders against the local
// API server, with a token of a ServiceAccount that holds exactly the rendered ClusterRole's rules
// (the API server authorizes with RBAC, so a missing rule fails for real). Debian's Prometheus scrapes
// it with the rendered cluster-state job. Substitutions, because the collector runs on this machine and
// not in a pod: auth_type kubeConfig instead of serviceAccount (the same token, from a file), the
// listen addresses on 127.0.0.1, and the job's kubernetes_sd_configs replaced by a static target with
// the meta label the pod role would give it (Debian's Prometheus has no Kubernetes discovery).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { ClusterJobs } from '../../conventions/index.js';
import { CLUSTER_STATE_RULES, clusterStateConfig } from '../../desired/stack/cluster-state.js';
import { stackContext } from '../../desired/stack/context.js';
import { OTELCOL_AGENT_VERSION } from '../../desired/stack/images.js';
import { prometheusConfig } from '../../desired/stack/prometheus.js';
import { freshNamespace, kubectl, kubectlOk } from '../support/kubectl.js';
import { serviceAccountKubeconfig } from '../support/rbac.js';
import { namesFrom } from '../unit/cluster/metric-names.js';
import { aValidStack, cachedTool } from '../unit/cluster/support.js';
import { freePort, Peer, type PrometheusPeer, startPrometheus, waitFor } from '../unit/correlator/peers.js';

type Json = Record<string, unknown>;
const ctx = stackContext(aValidStack({ metrics: { enabled: true, cluster: { enabled: true } } }));
const otelcol = () => cachedTool('otelcol-agent', OTELCOL_AGENT_VERSION, 'otelcol', 'hack/build-otelcol.sh agent');

let ns: string;
let dir: string;
let collector: Peer;
let prom: PrometheusPeer;
let metricsUrl: string;
const roleName = () => `vigil-test:${ns}:cluster-state`;

/** A ServiceAccount bound to exactly CLUSTER_STATE_RULES, and a kubeconfig with its token. */
function leastPrivilegeKubeconfig(): string {
  kubectlOk(['-n', ns, 'create', 'serviceaccount', 'cluster-state']);
  const docs = [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: roleName() },
      rules: CLUSTER_STATE_RULES,
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: roleName() },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName() },
      subjects: [{ kind: 'ServiceAccount', name: 'cluster-state', namespace: ns }],
    },
  ];
  kubectlOk(['apply', '-f', '-'], docs.map((d) => yaml.dump(d)).join('---\n'));
  return serviceAccountKubeconfig(ns, 'cluster-state');
}

/** Two Deployments (one that cannot become available) and a StatefulSet, with requests and limits. */
function workloads(): string {
  const pod = (app: string, extra: Json = {}) => ({
    metadata: { labels: { app } },
    spec: {
      containers: [
        {
          name: 'app',
          image: 'registry.example/app:1',
          resources: { requests: { cpu: '100m', memory: '32Mi' }, limits: { cpu: '500m', memory: '64Mi' } },
        },
      ],
      ...extra,
    },
  });
  const docs = [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: ns },
      spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: pod('web') },
    },
    {
      // No node has this label: its pod stays Pending, and the Deployment one replica short.
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'stuck', namespace: ns },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'stuck' } },
        template: pod('stuck', { nodeSelector: { 'vigil.dev/no-such-node': 'true' } }),
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db', namespace: ns },
      spec: { replicas: 1, serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: pod('db') },
    },
  ];
  return docs.map((d) => yaml.dump(d)).join('---\n');
}

beforeAll(async () => {
  ns = freshNamespace('cluster-state');
  dir = mkdtempSync(join(tmpdir(), 'vigil-cluster-state-'));
  const kubeconfig = leastPrivilegeKubeconfig();
  kubectlOk(['apply', '-f', '-'], workloads());
  kubectlOk(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=120s']);
  kubectlOk(['-n', ns, 'rollout', 'status', 'statefulset/db', '--timeout=120s']);

  const port = await freePort();
  const health = await freePort();
  const config = clusterStateConfig(ctx) as {
    receivers: { k8s_cluster: Json };
    exporters: { prometheus: Json };
    extensions: { health_check: Json };
  };
  config.receivers.k8s_cluster.auth_type = 'kubeConfig';
  config.receivers.k8s_cluster.collection_interval = '2s';
  config.exporters.prometheus.endpoint = `127.0.0.1:${port}`;
  config.extensions.health_check.endpoint = `127.0.0.1:${health}`;
  writeFileSync(join(dir, 'cluster-state.yaml'), yaml.dump(config));
  collector = new Peer('otelcol (cluster-state)', otelcol(), ['--config=cluster-state.yaml'], dir, {
    ...process.env,
    KUBECONFIG: kubeconfig,
  });
  collector.start();
  await collector.waitReady(`http://127.0.0.1:${health}/`, 60_000);
  metricsUrl = `http://127.0.0.1:${port}/metrics`;

  const rendered = (prometheusConfig(ctx).scrape_configs as Json[]).find(
    (j) => j.job_name === ClusterJobs.clusterState,
  );
  if (!rendered) throw new Error('the stack renders no cluster-state job');
  const { kubernetes_sd_configs: _sd, ...job } = rendered;
  prom = await startPrometheus([
    {
      ...job,
      static_configs: [
        { targets: [`127.0.0.1:${port}`], labels: { __meta_kubernetes_pod_container_port_name: 'metrics' } },
      ],
    },
  ]);
}, 240_000);

afterAll(async () => {
  await prom?.close();
  await collector?.stop();
  if (ns) {
    kubectl(['delete', 'namespace', ns, '--wait=false']);
    kubectl(['delete', 'clusterrole,clusterrolebinding', roleName(), '--ignore-not-found']);
  }
});

/** The value of the one series a query returns, once Prometheus has it. */
async function value(promql: string): Promise<number> {
  const v = await waitFor(
    promql,
    async () => {
      const r = await prom.query(promql);
      return r.length === 1 ? Number(r[0].value[1]) : undefined;
    },
    60_000,
    500,
  );
  return v;
}

describe('the cluster-state collector against the API server', () => {
  it("reports the test's Deployments with their desired and available replicas, under the renamed labels", async () => {
    const sel = (name: string) => `{job="cluster-state", namespace="${ns}", k8s_deployment_name="${name}"}`;
    expect(await value(`k8s_deployment_desired${sel('web')}`)).toBe(2);
    expect(await value(`k8s_deployment_available${sel('web')} == 2`)).toBe(2);
    expect(await value(`k8s_deployment_desired${sel('stuck')}`)).toBe(1);
    expect(await value(`k8s_deployment_available${sel('stuck')}`)).toBe(0);
  });

  it('reports the StatefulSet, the Pending pod, the containers’ requests and limits and the nodes’ Ready condition', async () => {
    expect(await value(`k8s_statefulset_ready_pods{namespace="${ns}", k8s_statefulset_name="db"} == 1`)).toBe(1);
    expect(await value(`max(k8s_pod_phase{namespace="${ns}", pod=~"stuck-.*"})`)).toBe(1);
    expect(
      await value(`max(k8s_container_memory_limit_bytes{namespace="${ns}", pod=~"web-.*", container="app"})`),
    ).toBe(64 * 2 ** 20);
    expect(await value(`max(k8s_container_cpu_request{namespace="${ns}", pod=~"web-.*", container="app"})`)).toBe(0.1);
    expect(await value('min(k8s_node_condition_ready{job="cluster-state"})')).toBe(1);
    // Renamed, and the originals and uids dropped (desired/stack/prometheus.ts).
    const [series] = await prom.query(`k8s_container_restarts{namespace="${ns}", pod=~"web-.*"}`);
    expect(Object.keys(series.metric)).toEqual(expect.arrayContaining(['namespace', 'pod', 'container', 'node']));
    expect(
      Object.keys(series.metric).filter((l) =>
        /^k8s_(namespace|pod|container|node)_name$|_uid$|^container_id$/.test(l),
      ),
    ).toEqual([]);
  });

  it('exposes every k8s_* name the cluster dashboards and alerts read', async () => {
    const text = await (await fetch(metricsUrl)).text();
    const exposed = new Set(text.split('\n').map((l) => /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(l)?.[1]));
    const used = namesFrom('cluster-state');
    expect(used.length).toBeGreaterThan(10);
    expect(used.filter((n) => !exposed.has(n))).toEqual([]);
  });

  it('needs no permission beyond the rendered ClusterRole', () => {
    expect(collector.output()).not.toMatch(/forbidden/i);
  });
});
