// Cluster-scoped RBAC for the parts of a stack that read beyond its namespace (Prometheus's node,
// kubelet and API server scrapes; the cluster-state collector). Names carry the stack's namespace,
// because ClusterRoles share one cluster-wide namespace of names.
import { k8s } from 'cdk8s-plus-33';
import type { Construct } from 'constructs';
import { LABEL_STACK_NAMESPACE } from '../../conventions/index.js';
import type { StackContext } from './context.js';
import type { ComponentName } from './labels.js';

/** The cluster-wide name of a component's ClusterRole and ClusterRoleBinding. */
export const clusterRoleName = (ctx: StackContext, c: ComponentName): string => `vigil:${ctx.namespace}:${ctx.name(c)}`;

/** Kinds that have no namespace: renderStack leaves their metadata.namespace unset. */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set(['ClusterRole', 'ClusterRoleBinding']);

/** A ClusterRole + ClusterRoleBinding for the component's ServiceAccount (in the stack's namespace). */
export function clusterRole(scope: Construct, ctx: StackContext, c: ComponentName, rules: k8s.PolicyRule[]): void {
  const name = clusterRoleName(ctx, c);
  const labels = { [LABEL_STACK_NAMESPACE]: ctx.namespace };
  new k8s.KubeClusterRole(scope, 'cluster-role', { metadata: { name, labels }, rules });
  new k8s.KubeClusterRoleBinding(scope, 'cluster-role-binding', {
    metadata: { name, labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
    subjects: [{ kind: 'ServiceAccount', name: ctx.name(c), namespace: ctx.namespace }],
  });
}
