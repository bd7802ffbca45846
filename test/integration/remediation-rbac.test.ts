// The permissions docs/remediation.md describes, for real: the operator runs as a ServiceAccount
// with only manifests/rbac/cluster-role.yaml (bound cluster-wide) and
// manifests/rbac/remediation-actions.yaml (bound in one namespace by a RoleBinding), against the API
// server with RBAC on. rolloutRestart works anywhere a policy is; deletePod works where the
// RoleBinding is, and elsewhere fails with 403, recorded as `failed` and not retried. (Copies of the
// two ClusterRoles under names of this test's own, so that rbac.test.ts's install is not touched.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { freshNamespace, kubectl, kubectlOk } from '../support/kubectl.js';
import { eventually, freePort, type RunningOperator, startOperator } from '../support/operator.js';
import { REPO_ROOT } from '../support/paths.js';
import { serviceAccountKubeconfig } from '../support/rbac.js';

const TOKEN = 'it-rbac-remediation-token-424242';
const SUFFIX = `remtest-${process.pid}`;
let bound: string;
let unbound: string;
let operator: RunningOperator;
let port: number;

const role = (file: string, name: string) => {
  const doc = yaml.load(readFileSync(join(REPO_ROOT, 'manifests/rbac', file), 'utf8').split(/^---$/m)[0]) as {
    metadata: { name: string };
  };
  return { ...doc, metadata: { ...doc.metadata, name } };
};

const workload = (name: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: `${name}:1` }] } },
  },
});
const policy = (name: string, alertname: string, spec: Record<string, unknown>) => ({
  apiVersion: 'observability.vigil.dev/v1alpha1',
  kind: 'RemediationPolicy',
  metadata: { name },
  spec: { stackRef: { name: 'shop' }, match: { alertname }, mode: 'Enforce', guard: { cooldown: '1s' }, ...spec },
});
const policies = [
  workload('web'),
  policy('restart-web', 'WebDown', { target: { kind: 'Deployment' }, action: { type: 'rolloutRestart' } }),
  policy('delete-web-pod', 'WebPodStuck', { target: { kind: 'Pod' }, action: { type: 'deletePod' } }),
];

let n = 0;
async function deliver(namespace: string, alertname: string, labels: Record<string, string>) {
  const r = await fetch(`http://127.0.0.1:${port}/api/v1/remediation/alerts/${namespace}/shop`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({
      version: '4',
      alerts: [
        {
          status: 'firing',
          labels: { alertname, namespace, ...labels },
          startsAt: new Date().toISOString(),
          fingerprint: `rb-${++n}`,
        },
      ],
    }),
  });
  expect(r.status).toBe(200);
  return ((await r.json()) as { decisions: { result: string; message: string }[] }).decisions;
}
const webPod = (namespace: string) =>
  eventually(
    `a web pod in ${namespace}`,
    () => {
      const items = JSON.parse(kubectlOk(['get', 'pods', '-n', namespace, '-l', 'app=web', '-o', 'json'])).items as {
        metadata: { name: string; deletionTimestamp?: string };
      }[];
      return items.find((p) => !p.metadata.deletionTimestamp)?.metadata.name;
    },
    60_000,
  );

beforeAll(async () => {
  bound = freshNamespace('rembound');
  unbound = freshNamespace('remunbound');
  kubectlOk(['create', 'serviceaccount', 'vigil-operator', '-n', bound]);
  kubectlOk(['create', 'secret', 'generic', 'operator-token', '-n', bound, `--from-literal=token=${TOKEN}`]);
  const rbac = [
    role('cluster-role.yaml', `vigil-operator-${SUFFIX}`),
    role('remediation-actions.yaml', `vigil-remediation-actions-${SUFFIX}`),
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: `vigil-operator-${SUFFIX}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `vigil-operator-${SUFFIX}` },
      subjects: [{ kind: 'ServiceAccount', name: 'vigil-operator', namespace: bound }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'vigil-remediation-actions', namespace: bound },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: `vigil-remediation-actions-${SUFFIX}`,
      },
      subjects: [{ kind: 'ServiceAccount', name: 'vigil-operator', namespace: bound }],
    },
  ];
  kubectlOk(['apply', '-f', '-'], rbac.map((d) => yaml.dump(d)).join('---\n'));
  for (const ns of [bound, unbound])
    kubectlOk(['apply', '-n', ns, '-f', '-'], policies.map((d) => yaml.dump(d)).join('---\n'));
  port = await freePort();
  operator = await startOperator(
    [
      '--namespaces',
      `${bound},${unbound}`,
      '--remediation-token-secret',
      `${bound}/operator-token`,
      '--remediation-port',
      `127.0.0.1:${port}`,
    ],
    {},
    { kubeconfig: serviceAccountKubeconfig(bound, 'vigil-operator') },
  );
  await eventually(
    'the policies to be Ready',
    () =>
      [bound, unbound].every((ns) =>
        ['restart-web', 'delete-web-pod'].every(
          (p) =>
            kubectl(['get', 'rpol', p, '-n', ns, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])
              .stdout === 'True',
        ),
      ),
    60_000,
  );
}, 120_000);

afterAll(async () => {
  await operator?.stop();
  kubectl(['delete', 'clusterrole,clusterrolebinding', `vigil-operator-${SUFFIX}`, '--ignore-not-found']);
  kubectl(['delete', 'clusterrole', `vigil-remediation-actions-${SUFFIX}`, '--ignore-not-found']);
});

describe("the operator's RBAC for remediation", () => {
  it('restarts a Deployment in any namespace with a policy, with the cluster-wide role alone', async () => {
    for (const ns of [bound, unbound]) {
      expect((await deliver(ns, 'WebDown', { deployment: 'web' })).map((d) => d.result)).toEqual(['acted']);
      const at = kubectlOk([
        'get',
        'deployment',
        'web',
        '-n',
        ns,
        '-o',
        'jsonpath={.spec.template.metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}',
      ]);
      expect(at).not.toBe('');
    }
  }, 60_000);

  it('deletes a pod where vigil-remediation-actions is bound, and records a 403 as failed where it is not', async () => {
    const pod = await webPod(bound);
    expect((await deliver(bound, 'WebPodStuck', { pod })).map((d) => d.result)).toEqual(['acted']);
    const other = await webPod(unbound);
    const [failed] = await deliver(unbound, 'WebPodStuck', { pod: other });
    expect(failed).toMatchObject({ result: 'failed', message: expect.stringContaining('403') });
    expect(kubectl(['get', 'pod', other, '-n', unbound]).code).toBe(0);
    const events = JSON.parse(
      kubectlOk(['get', 'events', '-n', unbound, '--field-selector', 'reason=RemediationFailed', '-o', 'json']),
    ).items as { message: string }[];
    expect(events.length).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it('was refused nothing else: the operator logged no other Forbidden', () => {
    const forbidden = operator.logs.filter(
      (l) => JSON.stringify(l).includes('Forbidden') && !JSON.stringify(l).includes('delete Pod'),
    );
    expect(forbidden).toEqual([]);
  });
});
