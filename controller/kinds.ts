// The kinds of child objects Vigil creates, prunes and watches. A rendered object of another kind
// is a bug and fails the reconcile loudly rather than leaking an object that is never pruned.
import type { InformerTarget } from '../kube/informer.js';

export interface ManagedKind {
  apiVersion: string;
  kind: string;
  plural: string;
  /** Watched, so that a hand edit or deletion is restored within seconds. */
  watch: boolean;
  /**
   * Cluster-scoped: no ownerReference to the namespaced stack (the garbage collector would delete
   * it), found by the labels vigil.dev/stack and vigil.dev/stack-namespace instead, and deleted by
   * the operator when the stack goes (controller/stack.ts).
   */
  clusterScoped?: boolean;
  /**
   * Never listed: the reconciler knows the names of the ones it makes (Secrets:
   * desired/stack/secrets.ts generatedSecretNames) and gets and deletes them by name, so that the
   * operator holds no `list` (or `watch`) on them, which would read every Secret in the cluster.
   */
  byName?: boolean;
}

export const MANAGED_KINDS: readonly ManagedKind[] = [
  { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', watch: true },
  { apiVersion: 'apps/v1', kind: 'StatefulSet', plural: 'statefulsets', watch: true },
  { apiVersion: 'apps/v1', kind: 'DaemonSet', plural: 'daemonsets', watch: true },
  { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', watch: true },
  { apiVersion: 'v1', kind: 'Secret', plural: 'secrets', watch: false, byName: true },
  { apiVersion: 'v1', kind: 'Service', plural: 'services', watch: true },
  { apiVersion: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', watch: false },
  { apiVersion: 'v1', kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', watch: false },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', plural: 'roles', watch: false },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', plural: 'rolebindings', watch: false },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', watch: false },
  // Watched: a deleted or edited policy opens the stack's data plane until it is restored.
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', plural: 'networkpolicies', watch: true },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    plural: 'clusterroles',
    watch: true,
    clusterScoped: true,
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    plural: 'clusterrolebindings',
    watch: true,
    clusterScoped: true,
  },
];

export const NAMESPACED_KINDS = MANAGED_KINDS.filter((k) => !k.clusterScoped);
/** The namespaced kinds whose children are found by a list with the stack's labels. */
export const LISTED_KINDS = NAMESPACED_KINDS.filter((k) => !k.byName);
/** The namespaced kinds whose children are found by name. */
export const BY_NAME_KINDS = NAMESPACED_KINDS.filter((k) => k.byName);
export const CLUSTER_KINDS = MANAGED_KINDS.filter((k) => k.clusterScoped);

export const kindKey = (apiVersion: string, kind: string) => `${apiVersion}/${kind}`;
const byKey = new Map(MANAGED_KINDS.map((k) => [kindKey(k.apiVersion, k.kind), k]));
export const managedKind = (apiVersion: string, kind: string) => byKey.get(kindKey(apiVersion, kind));

export function childWatchTargets(namespaces: readonly string[] | undefined, labelSelector: string): InformerTarget[] {
  const out: InformerTarget[] = [];
  for (const k of MANAGED_KINDS.filter((m) => m.watch)) {
    // Cluster-scoped children are watched cluster-wide even by an operator limited to namespaces.
    const where = k.clusterScoped ? [undefined] : (namespaces ?? [undefined]);
    for (const namespace of where) {
      const { clusterScoped: _c, byName: _b, ...target } = k;
      out.push({ ...target, namespace, labelSelector, metadataOnly: true });
    }
  }
  return out;
}
