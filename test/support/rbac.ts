// The operator as a ServiceAccount holding only manifests/rbac/cluster-role.yaml (bound
// cluster-wide under a name of the test's own, so that rbac.test.ts's install is not touched): the
// API server authorizes its requests with RBAC, so a verb the role lacks fails for real.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { kubectl, kubectlOk } from './kubectl.js';
import { clusterDir } from './operator.js';
import { REPO_ROOT } from './paths.js';

export interface ManifestsRoleUser {
  kubeconfig: string;
  /** The user name the audit log records (operatorWrites' `user`). */
  username: string;
  /** Deletes the ClusterRole and binding (the ServiceAccount goes with its namespace). */
  remove(): void;
}

/** A kubeconfig for a ServiceAccount: the test cluster's server and CA, and a fresh one-hour token. */
export function serviceAccountKubeconfig(namespace: string, serviceAccount: string): string {
  const admin = yaml.load(readFileSync(join(clusterDir(), 'kubeconfig'), 'utf8')) as {
    clusters: { cluster: unknown }[];
  };
  const token = kubectlOk(['create', 'token', serviceAccount, '-n', namespace, '--duration=1h']).trim();
  const file = join(mkdtempSync(join(tmpdir(), 'vigil-sa-')), 'kubeconfig');
  writeFileSync(
    file,
    yaml.dump({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'it', cluster: admin.clusters[0].cluster }],
      users: [{ name: serviceAccount, user: { token } }],
      contexts: [{ name: 'it', context: { cluster: 'it', user: serviceAccount } }],
      'current-context': 'it',
    }),
    { mode: 0o600 },
  );
  return file;
}

/** A ServiceAccount `vigil-operator` in `namespace`, bound to a copy of the manifests' ClusterRole. */
export function manifestsRoleUser(namespace: string): ManifestsRoleUser {
  const name = `vigil-operator-${namespace}`;
  const role = yaml.load(readFileSync(join(REPO_ROOT, 'manifests/rbac/cluster-role.yaml'), 'utf8')) as {
    metadata: { name: string };
  };
  const docs = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'vigil-operator', namespace } },
    { ...role, metadata: { ...role.metadata, name } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name: 'vigil-operator', namespace }],
    },
  ];
  kubectlOk(['apply', '-f', '-'], docs.map((d) => yaml.dump(d)).join('---\n'));
  const kubeconfig = serviceAccountKubeconfig(namespace, 'vigil-operator');
  return {
    kubeconfig,
    username: `system:serviceaccount:${namespace}:vigil-operator`,
    remove: () => {
      kubectl(['delete', 'clusterrolebinding,clusterrole', name, '--ignore-not-found']);
    },
  };
}

/**
 * What the installed operator gets per namespace, for the user operator.kubeconfig runs as (which
 * hack/cluster.sh binds to the manifests' ClusterRole alone): `leader-election`, the Lease Role of
 * manifests/rbac/leader-election.yaml, for `--leader-election-namespace namespace`;
 * `remediation-actions`, a RoleBinding to the ClusterRole of manifests/rbac/remediation-actions.yaml
 * (created by hack/cluster.sh as vigil-remediation-actions-local), for policies that delete pods or scale.
 */
export function bindInNamespace(
  namespace: string,
  grants: readonly ('leader-election' | 'remediation-actions')[],
  user = 'vigil-operator',
): void {
  const subjects = [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }];
  const docs: unknown[] = [];
  if (grants.includes('leader-election')) {
    const role = yaml
      .loadAll(readFileSync(join(REPO_ROOT, 'manifests/rbac/leader-election.yaml'), 'utf8'))
      .find((d) => (d as { kind?: string })?.kind === 'Role') as { metadata: object };
    docs.push(
      { ...role, metadata: { ...role.metadata, namespace } },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'vigil-operator-leader-election', namespace },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'vigil-operator-leader-election' },
        subjects,
      },
    );
  }
  if (grants.includes('remediation-actions'))
    docs.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'vigil-remediation-actions', namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'vigil-remediation-actions-local' },
      subjects,
    });
  kubectlOk(['apply', '-f', '-'], docs.map((d) => yaml.dump(d)).join('---\n'));
}

/** Requests of `username` that the API server refused (403), from the audit log. */
export function forbiddenRequests(username: string, since?: Date): string[] {
  return readFileSync(join(clusterDir(), 'audit.log'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter(
      (e) =>
        e.user?.username === username &&
        e.stage === 'ResponseComplete' &&
        e.responseStatus?.code === 403 &&
        (!since || new Date(e.stageTimestamp) >= since),
    )
    .map((e) => `${e.verb} ${e.objectRef?.resource}/${e.objectRef?.subresource ?? ''} ${e.objectRef?.namespace}`);
}
