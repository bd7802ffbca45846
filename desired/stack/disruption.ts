// Disruption: a generic pass over a stack's rendered objects. Every replicated workload (a
// Deployment or StatefulSet with replicas > 1; a DaemonSet runs one pod per node and is not one)
// gets a PodDisruptionBudget that lets one pod go at a time, a spread of its pods across nodes,
// and a rollout that keeps the others serving: a Deployment surges one new pod before it stops an
// old one, a StatefulSet replaces one pod at a time (RollingUpdate; its maxUnavailable is alpha).
// A StatefulSet's podManagementPolicy is left as its chart renders it: the field is immutable, and
// it orders only scaling and first creation, never a rolling update.

/** A rendered object as far as this pass reads it (index.ts's KubeObject, without the import cycle). */
interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels: Record<string, string> };
  [key: string]: unknown;
}

/** The PodDisruptionBudget's name: the workload's own plus this suffix (a DNS-1123 subdomain). */
export const PDB_SUFFIX = '-pdb';
const HOSTNAME = 'kubernetes.io/hostname';

interface Workload extends KubeObject {
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    strategy?: unknown;
    updateStrategy?: unknown;
    template: { spec: { topologySpreadConstraints?: unknown[] } & Record<string, unknown> };
  } & Record<string, unknown>;
}

const isReplicated = (o: KubeObject): o is KubeObject & Workload =>
  (o.kind === 'Deployment' || o.kind === 'StatefulSet') && ((o as Workload).spec?.replicas ?? 1) > 1;

/** Adds the budget, spread and rollout of every replicated workload; returns the objects with the budgets. */
export function withDisruptionBudgets<T extends KubeObject>(objects: readonly T[]): T[] {
  const out: T[] = [];
  for (const o of objects) {
    out.push(o);
    if (!isReplicated(o)) continue;
    const matchLabels = { ...o.spec.selector.matchLabels };
    const pod = o.spec.template.spec;
    pod.topologySpreadConstraints = [
      // ScheduleAnyway: fewer nodes than replicas still schedules every pod.
      { maxSkew: 1, topologyKey: HOSTNAME, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels } },
    ];
    // A chart's Recreate stays (cluster-state: two pods at once would report every object twice).
    if (o.kind === 'Deployment' && (o.spec.strategy as { type?: string } | undefined)?.type !== 'Recreate') {
      o.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } };
    } else if (o.kind === 'StatefulSet') {
      o.spec.updateStrategy = { type: 'RollingUpdate' };
    }
    const pdb: KubeObject = {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: {
        name: `${o.metadata.name}${PDB_SUFFIX}`,
        ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
        labels: { ...o.metadata.labels },
      },
      spec: { maxUnavailable: 1, selector: { matchLabels } },
    };
    out.push(pdb as T);
  }
  return out;
}
