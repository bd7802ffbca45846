// The kinds of child objects Vigil creates, prunes and watches. A rendered object of another kind
// is a bug and fails the reconcile loudly rather than leaking an object that is never pruned.
import type { InformerTarget } from '../kube/informer.js';

export interface ManagedKind {
  apiVersion: string;
  kind: string;
  plural: string;
  /** Watched, so that a hand edit or deletion is restored within seconds. */
  watch: boolean;
}

export const MANAGED_KINDS: readonly ManagedKind[] = [
  { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', watch: true },
  { apiVersion: 'apps/v1', kind: 'StatefulSet', plural: 'statefulsets', watch: true },
  { apiVersion: 'apps/v1', kind: 'DaemonSet', plural: 'daemonsets', watch: true },
  { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', watch: true },
  { apiVersion: 'v1', kind: 'Secret', plural: 'secrets', watch: false },
  { apiVersion: 'v1', kind: 'Service', plural: 'services', watch: true },
  { apiVersion: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', watch: false },
  { apiVersion: 'v1', kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', watch: false },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', plural: 'roles', watch: false },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', plural: 'rolebindings', watch: false },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', watch: false },
];

export const kindKey = (apiVersion: string, kind: string) => `${apiVersion}/${kind}`;
const byKey = new Map(MANAGED_KINDS.map((k) => [kindKey(k.apiVersion, k.kind), k]));
export const managedKind = (apiVersion: string, kind: string) => byKey.get(kindKey(apiVersion, kind));

export function childWatchTargets(namespaces: readonly string[] | undefined, labelSelector: string): InformerTarget[] {
  const out: InformerTarget[] = [];
  for (const k of MANAGED_KINDS.filter((m) => m.watch)) {
    for (const namespace of namespaces ?? [undefined]) out.push({ ...k, namespace, labelSelector, metadataOnly: true });
  }
  return out;
}
