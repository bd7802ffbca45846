// renderStack: an ObservabilityStack (defaults filled by validateResource) → the Kubernetes objects
// it needs. Pure and deterministic: no client, clock or environment; bad input gives problems.
import { App, Chart } from 'cdk8s';
import type { ObservabilityStack } from '../../api/types.js';
import type { Problem } from '../../api/validate.js';
import { LABEL_COMPONENT, LABEL_STACK } from '../../conventions/index.js';
import { agentChart } from './agent.js';
import { alertmanagerChart } from './alertmanager.js';
import { CLUSTER_SCOPED_KINDS } from './cluster-rbac.js';
import { clusterStateChart } from './cluster-state.js';
import { collectorChart } from './collector.js';
import { PORTS, type StackContext, stackContext } from './context.js';
import { correlatorChart } from './correlator.js';
import { PDB_SUFFIX, withDisruptionBudgets } from './disruption.js';
import { grafanaChart } from './grafana.js';
import { COMPONENTS, type ComponentName, componentLabels } from './labels.js';
import { lokiChart, lokiHost } from './loki.js';
import { networkPolicies } from './network-policies.js';
import { nodeExporterChart } from './node-exporter.js';
import { renderProblems } from './problems.js';
import { prometheusChart } from './prometheus.js';
import type { RemediationRouting } from './remediation.js';
import { samplerChart } from './sampler.js';
import { tempoChart } from './tempo.js';
import { thanosQueryChart } from './thanos-query.js';
import { metricsQuery } from './wiring.js';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    /** Absent on cluster-scoped kinds (ClusterRole, ClusterRoleBinding). */
    namespace?: string;
    labels: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [key: string]: unknown;
}

export interface RenderResult {
  objects: KubeObject[];
  problems: Problem[];
}

type ChartFn = (scope: Chart, ctx: StackContext) => void;
const CHARTS: Record<ComponentName, ChartFn> = {
  collector: collectorChart,
  sampler: samplerChart,
  agent: agentChart,
  prometheus: prometheusChart,
  alertmanager: alertmanagerChart,
  'thanos-query': thanosQueryChart,
  loki: lokiChart,
  tempo: tempoChart,
  grafana: grafanaChart,
  correlator: correlatorChart,
  'node-exporter': nodeExporterChart,
  'cluster-state': clusterStateChart,
};

/** What a render takes besides the stack: objects of other kinds that shape it. */
export interface RenderInputs {
  /** The RemediationPolicies naming this stack (the operator passes them; none by default). */
  remediation?: RemediationRouting;
}

export function renderStack(stack: ObservabilityStack, inputs: RenderInputs = {}): RenderResult {
  let ctx: StackContext;
  try {
    ctx = { ...stackContext(stack), remediation: inputs.remediation };
    const problems = renderProblems(ctx);
    if (problems.length) return { objects: [], problems };
    // A fresh App per render: construct ids must be unique within a scope, and stay stable
    // because they are part of nothing the cluster sees (names and selectors are explicit).
    const app = new App();
    const objects: KubeObject[] = [];
    for (const c of COMPONENTS) {
      if (!ctx.on[c]) continue;
      const chart = new Chart(app, c, {
        namespace: ctx.namespace,
        labels: componentLabels(ctx.stack, c),
        disableResourceNameHashes: true,
      });
      CHARTS[c](chart, ctx);
      for (const o of chart.toJson() as KubeObject[]) {
        // The chart names its namespace on every object; a ClusterRole has none.
        if (CLUSTER_SCOPED_KINDS.has(o.kind)) delete (o.metadata as { namespace?: string }).namespace;
        objects.push(o);
      }
    }
    // Derived from the objects above: the wiring their configs use.
    objects.push(...networkPolicies(ctx, objects));
    return { objects: withDisruptionBudgets(objects), problems: [] };
  } catch (err) {
    // A bug, not bad input: still reported as a problem rather than thrown at the reconciler.
    return { objects: [], problems: [{ path: 'spec', message: `could not render: ${(err as Error).message}` }] };
  }
}

export interface WorkloadRef {
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet';
  name: string;
  /** The workload's name without the stack's prefix (`loki-write`): the key of its readiness in status. */
  target: string;
  /**
   * How many of its pods must be ready for it to serve: what its PodDisruptionBudget keeps
   * (replicas minus maxUnavailable, or minAvailable), every replica when it has no budget. A ring
   * (Alertmanager's mesh, a replicated Loki or Tempo target) answers while this many are up.
   * Undefined for a DaemonSet, which needs every scheduled pod.
   */
  quorum?: number;
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

// biome-ignore lint/suspicious/noExplicitAny: rendered specs are read loosely across kinds
type AnySpec = any;

/** The number of pods a workload's budget keeps, from the rendered PodDisruptionBudget. */
function quorumOf(o: KubeObject, budgets: ReadonlyMap<string, KubeObject>): number | undefined {
  if (o.kind === 'DaemonSet') return undefined;
  const replicas: number = (o.spec as AnySpec)?.replicas ?? 1;
  const pdb = budgets.get(`${o.metadata.name}${PDB_SUFFIX}`)?.spec as AnySpec;
  if (typeof pdb?.minAvailable === 'number') return Math.min(replicas, pdb.minAvailable);
  if (typeof pdb?.maxUnavailable === 'number') return Math.max(1, replicas - pdb.maxUnavailable);
  return replicas;
}

/** The Deployments, StatefulSets and DaemonSets of each component, for per-component readiness. */
export function workloadsByComponent(objects: readonly KubeObject[]): Partial<Record<ComponentName, WorkloadRef[]>> {
  const out: Partial<Record<ComponentName, WorkloadRef[]>> = {};
  const budgets = new Map(
    objects.filter((o) => o.kind === 'PodDisruptionBudget').map((o) => [o.metadata.name, o] as const),
  );
  for (const o of objects) {
    if (!WORKLOAD_KINDS.has(o.kind)) continue;
    const c = o.metadata.labels?.[LABEL_COMPONENT] as ComponentName | undefined;
    if (!c) continue;
    const stack = o.metadata.labels?.[LABEL_STACK];
    const name = o.metadata.name;
    const target = stack && name.startsWith(`${stack}-`) ? name.slice(stack.length + 1) : name;
    const quorum = quorumOf(o, budgets);
    const list = out[c] ?? [];
    list.push({ kind: o.kind as WorkloadRef['kind'], name, target, ...(quorum === undefined ? {} : { quorum }) });
    out[c] = list;
  }
  return out;
}

/** In-cluster URLs of the stack's services, for status.endpoints. Only enabled components appear. */
export function stackEndpoints(stack: ObservabilityStack): Record<string, string> {
  const ctx = stackContext(stack);
  const url = (c: ComponentName, port: number) => `http://${ctx.host(c)}:${port}`;
  const out: Record<string, string> = {};
  if (ctx.on.grafana) out.grafana = url('grafana', PORTS.grafana);
  // PromQL: Thanos Query in front of an HA pair (wiring.ts's metricsQuery); the SLO budget reader reads it.
  if (ctx.on.prometheus) out.prometheus = metricsQuery(ctx).url;
  if (ctx.on.alertmanager) out.alertmanager = url('alertmanager', PORTS.alertmanager);
  if (ctx.on.collector) {
    out.otlpGrpc = url('collector', PORTS.otlpGrpc);
    out.otlpHttp = url('collector', PORTS.otlpHttp);
  }
  // The node-local OTLP endpoint: the Service routes to the agent on the caller's own node.
  if (ctx.on.agent) out.otlpHttpNodeLocal = url('agent', PORTS.otlpHttp);
  // Scalable Loki: queries go to its read target (pushes come through the collector).
  if (ctx.on.loki) out.loki = `http://${lokiHost(ctx, 'read')}:${PORTS.loki}`;
  if (ctx.on.tempo) out.tempo = url('tempo', PORTS.tempo);
  if (ctx.on.correlator) out.correlator = url('correlator', PORTS.correlator);
  return out;
}
