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
