// What a stack renders for spec.metrics.cluster and spec.metrics.scrapeOperator, the Loki stream
// labels and the Grafana exemplar links: the pod settings node-exporter needs and no more, the
// least-privilege ClusterRoles, every scrape job with its limits, and the rendered prometheus.yml
// accepted by promtool (the build with Kubernetes discovery).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { ClusterJobs, LABEL_STACK, LABEL_STACK_NAMESPACE } from '../../../conventions/index.js';
import { shippedDashboard } from '../../../desired/shipped/index.js';
import { CLUSTER_STATE_RULES, clusterStateConfig } from '../../../desired/stack/cluster-state.js';
import { stackContext } from '../../../desired/stack/context.js';
import { EXEMPLAR_TRACE_ID_LABELS, grafanaDatasources } from '../../../desired/stack/grafana.js';
import { OTELCOL_AGENT_VERSION } from '../../../desired/stack/images.js';
import { type KubeObject, renderStack } from '../../../desired/stack/index.js';
import { lokiConfig, lokiStreamLabels } from '../../../desired/stack/loki.js';
import { prometheusConfig, SCRAPE_LIMITS } from '../../../desired/stack/prometheus.js';
import { promtool, run } from '../charts/tools.js';
import { aValidStack, cachedTool } from './support.js';

type Json = Record<string, unknown>;
const CLUSTER = { metrics: { enabled: true, cluster: { enabled: true } } };
const render = (spec: Json) => {
  const r = renderStack(aValidStack(spec));
  expect(r.problems).toEqual([]);
  return r.objects;
};
const find = (objects: KubeObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name) as Json | undefined;
const jobs = (spec: Json) => prometheusConfig(stackContext(aValidStack(spec))).scrape_configs as Json[];
const jobNames = (spec: Json) => jobs(spec).map((j) => j.job_name);
// biome-ignore lint/suspicious/noExplicitAny: rendered objects are read loosely
const podSpec = (o: Json | undefined): any => (o?.spec as any)?.template?.spec;

describe('spec.metrics.cluster', () => {
  it('is off by default: no node-exporter, no cluster-state, no ClusterRole, no cluster job', () => {
    const objects = render({});
    expect(objects.filter((o) => /node-exporter|cluster-state/.test(o.metadata.name))).toEqual([]);
    expect(objects.filter((o) => o.kind.startsWith('Cluster'))).toEqual([]);
    expect(jobNames({})).not.toEqual(expect.arrayContaining([ClusterJobs.nodeExporter]));
    for (const j of Object.values(ClusterJobs)) expect(jobNames({})).not.toContain(j);
  });

  it('renders node-exporter with host namespaces and read-only host mounts, and nothing else of privilege', () => {
    const ds = find(render(CLUSTER), 'DaemonSet', 'core-node-exporter');
    const pod = podSpec(ds);
    expect(pod).toMatchObject({ hostPID: true, hostNetwork: true, automountServiceAccountToken: false });
    expect(pod.hostIPC).toBeUndefined();
    expect(pod.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65534 });
    expect(pod.volumes).toEqual([
      { name: 'proc', hostPath: { path: '/proc', type: 'Directory' } },
      { name: 'sys', hostPath: { path: '/sys', type: 'Directory' } },
      { name: 'root', hostPath: { path: '/', type: 'Directory' } },
    ]);
    const [c] = pod.containers;
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(c.volumeMounts.every((m: Json) => m.readOnly === true)).toBe(true);
    expect(c.ports).toEqual([{ name: 'metrics', containerPort: 9100, hostPort: 9100, protocol: 'TCP' }]);
    expect(c.args[0]).toBe('--web.listen-address=$(HOST_IP):9100');
  });

  it('moves node-exporter to another host port when asked, so two stacks can both run one', () => {
    const ds = find(
      render({ metrics: { enabled: true, cluster: { enabled: true, nodeExporter: { port: 9110 } } } }),
      'DaemonSet',
      'core-node-exporter',
    );
    expect(podSpec(ds).containers[0].ports[0]).toMatchObject({ containerPort: 9110, hostPort: 9110 });
  });

  it('runs one cluster-state collector, recreated rather than rolled, with read-only ClusterRole rules', () => {
    const objects = render(CLUSTER);
    const d = find(objects, 'Deployment', 'core-cluster-state') as Json;
    expect(d.spec).toMatchObject({ replicas: 1, strategy: { type: 'Recreate' } });
    const role = find(objects, 'ClusterRole', 'vigil:obs:core-cluster-state') as Json;
    expect(role.rules).toEqual(CLUSTER_STATE_RULES);
    const verbs = new Set((role.rules as { verbs: string[] }[]).flatMap((r) => r.verbs));
    expect([...verbs].sort()).toEqual(['get', 'list', 'watch']);
    const resources = (role.rules as { resources: string[] }[]).flatMap((r) => r.resources);
    expect(resources).not.toContain('secrets');
    expect(resources).not.toContain('configmaps');
    const binding = find(objects, 'ClusterRoleBinding', 'vigil:obs:core-cluster-state') as Json;
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'core-cluster-state', namespace: 'obs' }]);
  });

  it('leaves cluster-scoped objects without a namespace', () => {
    const cluster = render(CLUSTER).filter((o) => o.kind.startsWith('Cluster'));
    expect(cluster.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ClusterRole/vigil:obs:core-cluster-state',
      'ClusterRole/vigil:obs:core-prometheus',
      'ClusterRoleBinding/vigil:obs:core-cluster-state',
      'ClusterRoleBinding/vigil:obs:core-prometheus',
    ]);
    for (const o of cluster) {
      expect(o.metadata.namespace).toBeUndefined();
      expect(o.metadata.labels).toMatchObject({ [LABEL_STACK]: 'core', [LABEL_STACK_NAMESPACE]: 'obs' });
    }
  });

  it("gives Prometheus nodes/metrics for the kubelets, never nodes/proxy, and the API server's /metrics", () => {
    const role = find(render(CLUSTER), 'ClusterRole', 'vigil:obs:core-prometheus') as { rules: Json[] };
    const resources = role.rules.flatMap((r) => (r.resources as string[] | undefined) ?? []);
    expect(resources).toEqual(expect.arrayContaining(['nodes', 'nodes/metrics', 'endpointslices']));
    expect(resources).not.toContain('nodes/proxy');
    expect(role.rules).toContainEqual({ nonResourceURLs: ['/metrics'], verbs: ['get'] });
  });

  it('scrapes node-exporter, cluster-state, the kubelets, cAdvisor and the API server, each job with its limits', () => {
    const all = jobs(CLUSTER);
    expect(all.map((j) => j.job_name)).toEqual(
      expect.arrayContaining(['node-exporter', 'cluster-state', 'kubelet', 'cadvisor', 'apiserver']),
    );
    for (const j of all) {
      expect([j.job_name, typeof j.sample_limit, typeof j.label_limit]).toEqual([j.job_name, 'number', 'number']);
    }
    const kubelet = all.find((j) => j.job_name === 'kubelet') as Json;
    expect(kubelet).toMatchObject({ scheme: 'https', kubernetes_sd_configs: [{ role: 'node' }] });
    expect(all.find((j) => j.job_name === 'cadvisor')).toMatchObject({ metrics_path: '/metrics/cadvisor' });
    expect(all.find((j) => j.job_name === 'cluster-state')).toMatchObject(SCRAPE_LIMITS['cluster-state']);
  });

  it('drops the kubelet and API server jobs a stack turns off', () => {
    const names = jobNames({
      metrics: { enabled: true, cluster: { enabled: true, kubelet: false, apiServer: false } },
    });
    expect(names).toEqual(expect.arrayContaining(['node-exporter', 'cluster-state']));
    expect(names).not.toEqual(expect.arrayContaining(['kubelet']));
    expect(names).not.toContain('cadvisor');
    expect(names).not.toContain('apiserver');
  });

  it('renames the receiver’s object attributes to namespace, pod, container and node', () => {
    const job = jobs(CLUSTER).find((j) => j.job_name === 'cluster-state') as { metric_relabel_configs: Json[] };
    const renames = job.metric_relabel_configs
      .filter((r) => r.target_label)
      .map((r) => [r.source_labels, r.target_label]);
    expect(renames).toEqual([
      [['k8s_namespace_name'], 'namespace'],
      [['k8s_pod_name'], 'pod'],
      [['k8s_container_name'], 'container'],
      [['k8s_node_name'], 'node'],
    ]);
  });

  it('reports the CrashLoopBackOff and OOMKilled reasons the alerts read', () => {
    const r = (clusterStateConfig(stackContext(aValidStack(CLUSTER))).receivers as Json).k8s_cluster as Json;
    expect(r.metrics).toEqual({ 'k8s.container.status.reason': { enabled: true } });
    expect(r.resource_attributes).toEqual({ 'k8s.container.status.last_terminated_reason': { enabled: true } });
  });

  it("is a cluster-state config the agent's collector build accepts (otelcol validate)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-cluster-state-'));
    const file = join(dir, 'cluster-state.yaml');
    writeFileSync(file, yaml.dump(clusterStateConfig(stackContext(aValidStack(CLUSTER)))));
    const otelcol = cachedTool('otelcol-agent', OTELCOL_AGENT_VERSION, 'otelcol', 'hack/build-otelcol.sh agent');
    expect(() => run(otelcol, ['validate', `--config=${file}`])).not.toThrow();
  });

  it('is a prometheus.yml that promtool accepts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-cluster-prom-'));
    const file = join(dir, 'prometheus.yml');
    const config = prometheusConfig(
      stackContext(aValidStack({ metrics: { ...CLUSTER.metrics, scrapeOperator: { enabled: true } } })),
    );
    // rule_files point into the pod; promtool would try to read them.
    writeFileSync(file, yaml.dump({ ...config, rule_files: [] }));
    expect(run(promtool(), ['check', 'config', '--syntax-only', file])).toMatch(/SUCCESS/);
  });
});

describe('annotated pods', () => {
  const annotated = (spec: Json) => jobs(spec).find((j) => j.job_name === 'annotated-pods');

  it("are scraped in the stack's namespace, as before", () => {
    expect(annotated({})).toMatchObject({ kubernetes_sd_configs: [{ role: 'pod', namespaces: { names: ['obs'] } }] });
  });

  it('are scraped in the namespaces the agent collects by name too, with pod discovery granted there', () => {
    const spec = { collector: { enabled: true, mode: 'daemonset', collect: { namespaces: ['shop', 'cart'] } } };
    expect(annotated(spec)).toMatchObject({
      kubernetes_sd_configs: [{ namespaces: { names: ['cart', 'obs', 'shop'] } }],
    });
    const role = find(render(spec), 'ClusterRole', 'vigil:obs:core-prometheus') as { rules: Json[] };
    expect(role.rules).toContainEqual({
      apiGroups: [''],
      resources: ['pods', 'services'],
      verbs: ['get', 'list', 'watch'],
    });
  });
});

describe('spec.metrics.scrapeOperator', () => {
  it("scrapes the operator's pods in its namespace by their metrics port", () => {
    const job = jobs({ metrics: { enabled: true, scrapeOperator: { enabled: true, namespace: 'ops' } } }).find(
      (j) => j.job_name === ClusterJobs.operator,
    );
    expect(job).toMatchObject({
      kubernetes_sd_configs: [
        {
          role: 'pod',
          namespaces: { names: ['ops'] },
          selectors: [{ role: 'pod', label: 'app.kubernetes.io/name=vigil-operator' }],
        },
      ],
    });
  });

  it('needs only pod discovery beyond the stack namespace', () => {
    const objects = render({ metrics: { enabled: true, scrapeOperator: { enabled: true } } });
    const role = find(objects, 'ClusterRole', 'vigil:obs:core-prometheus') as { rules: Json[] };
    expect(role.rules).toEqual([{ apiGroups: [''], resources: ['pods', 'services'], verbs: ['get', 'list', 'watch'] }]);
  });
});

describe('Loki stream labels', () => {
  const otlp = (spec: Json) => (lokiConfig(stackContext(aValidStack(spec))).limits_config as Json).otlp_config;

  it('indexes namespace, container and service by default, everything else as structured metadata', () => {
    expect(otlp({ logs: { enabled: true } })).toEqual({
      resource_attributes: {
        ignore_defaults: true,
        attributes_config: [
          { action: 'index_label', attributes: ['namespace', 'container', 'service'] },
          { action: 'structured_metadata', regex: '.*' },
        ],
      },
    });
    expect(
      (lokiConfig(stackContext(aValidStack({ logs: { enabled: true } }))).limits_config as Json).discover_service_name,
    ).toEqual([]);
  });

  it('indexes exactly spec.logs.labels, each copied from its OTLP attribute', () => {
    const ctx = stackContext(aValidStack({ logs: { enabled: true, labels: ['service', 'env', 'team'] } }));
    expect(lokiStreamLabels(ctx)).toEqual([
      { label: 'service', source: 'service.name' },
      { label: 'env', source: 'deployment.environment' },
      { label: 'team', source: 'team' },
    ]);
    expect(otlp({ logs: { enabled: true, labels: ['service', 'env', 'team'] } })).toMatchObject({
      resource_attributes: {
        attributes_config: [{ action: 'index_label', attributes: ['service', 'env', 'team'] }, {}],
      },
    });
  });
});

describe('Grafana links', () => {
  const datasources = () =>
    grafanaDatasources(stackContext(aValidStack({ logs: { enabled: true }, traces: { enabled: true } })))
      .datasources as Json[];

  it('links exemplars to traces under both trace id label names', () => {
    const prom = datasources().find((d) => d.type === 'prometheus') as { jsonData: Json };
    const dest = prom.jsonData.exemplarTraceIdDestinations as Json[];
    expect(dest.map((d) => d.name)).toEqual([...EXEMPLAR_TRACE_ID_LABELS]);
    expect(EXEMPLAR_TRACE_ID_LABELS).toEqual(['trace_id', 'traceID']);
    for (const d of dest) expect(d.datasourceUid).toBe('tempo');
  });

  it('shows exemplars on the Service RED duration panels, where a slow point links to its trace', () => {
    const panels = (shippedDashboard('service-red').panels as Json[]).filter((p) =>
      String(p.title).startsWith('Duration'),
    );
    expect(panels.length).toBe(2);
    for (const p of panels) for (const t of p.targets as Json[]) expect(t.exemplar).toBe(true);
  });

  it("maps a span's resource attributes to the Loki stream labels for trace → logs", () => {
    const tempo = datasources().find((d) => d.type === 'tempo') as { jsonData: { tracesToLogsV2: Json } };
    expect(tempo.jsonData.tracesToLogsV2.tags).toEqual([
      { key: 'k8s.namespace.name', value: 'namespace' },
      { key: 'k8s.container.name', value: 'container' },
      { key: 'service.name', value: 'service' },
    ]);
  });
});
