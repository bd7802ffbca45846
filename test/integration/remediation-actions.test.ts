// deletePod and scale against the real API server (kwok runs the pods), a stack's own component
// refused unless the policy allows it, and a target in another namespace never touched. The test
// sends Alertmanager's payload itself; remediation.test.ts runs the real Alertmanager.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { freshNamespace, kubectlOk } from '../support/kubectl.js';
import { eventually, freePort, type RunningOperator, startOperator } from '../support/operator.js';
import { bindInNamespace } from '../support/rbac.js';

const TOKEN = 'it-actions-token-5566778899';
let ns: string;
let other: string;
let operator: RunningOperator;
let port: number;

const json = (args: string[], namespace = ns) => JSON.parse(kubectlOk([...args, '-n', namespace, '-o', 'json']));
const deployment = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, labels },
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
  spec: {
    stackRef: { name: 'shop' },
    match: { alertname },
    guard: { maxActions: 5, window: '1h', cooldown: '1s', backoffFactor: 1, maxBackoff: '1s' },
    mode: 'Enforce',
    ...spec,
  },
});

let n = 0;
async function deliver(alertname: string, labels: Record<string, string>) {
  const alert = {
    status: 'firing',
    labels: { alertname, namespace: ns, ...labels },
    annotations: {},
    startsAt: new Date().toISOString(),
    fingerprint: `fp-${++n}`,
  };
  const r = await fetch(`http://127.0.0.1:${port}/api/v1/remediation/alerts/${ns}/shop`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ version: '4', status: 'firing', alerts: [alert] }),
  });
  expect(r.status).toBe(200);
  return ((await r.json()) as { decisions: { result: string; message: string }[] }).decisions;
}

beforeAll(async () => {
  ns = freshNamespace('remact');
  other = freshNamespace('remother');
  kubectlOk(['create', 'secret', 'generic', 'operator-token', '-n', ns, `--from-literal=token=${TOKEN}`]);
  const docs = [
    deployment('worker'),
    deployment('api'),
    deployment('shop-prometheus', { 'app.kubernetes.io/managed-by': 'vigil-operator' }),
    policy('delete-worker-pod', 'WorkerStuck', { target: { kind: 'Pod' }, action: { type: 'deletePod' } }),
    policy('scale-api', 'ApiSaturated', {
      target: { kind: 'Deployment' },
      action: { type: 'scale', scale: { by: 1, max: 3 } },
    }),
    policy('restart-component', 'ComponentDown', {
      target: { kind: 'Deployment' },
      action: { type: 'rolloutRestart' },
    }),
  ];
  kubectlOk(['apply', '-n', ns, '-f', '-'], docs.map((d) => yaml.dump(d)).join('---\n'));
  kubectlOk(['apply', '-n', other, '-f', '-'], yaml.dump(deployment('api')));
  // As docs/remediation.md says: the actions' role is bound in the policies' namespace only.
  bindInNamespace(ns, ['remediation-actions']);
  port = await freePort();
  operator = await startOperator([
    '--namespaces',
    `${ns},${other}`,
    '--remediation-token-secret',
    `${ns}/operator-token`,
    '--remediation-port',
    `127.0.0.1:${port}`,
  ]);
  await eventually('the policies to be Ready', () =>
    json(['get', 'remediationpolicies']).items.every(
      (p: { status?: { conditions?: { type: string; status: string }[] } }) =>
        p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    ),
  );
}, 120_000);
afterAll(async () => {
  await operator?.stop();
});

describe('remediation actions on the real API server', () => {
  it('deletePod deletes the one pod the alert names, and the Deployment replaces it', async () => {
    const pods = await eventually(
      'a worker pod',
      () => {
        const items = json(['get', 'pods', '-l', 'app=worker']).items as { metadata: { name: string; uid: string } }[];
        return items.length === 1 ? items : undefined;
      },
      60_000,
    );
    const victim = pods[0].metadata;
    expect((await deliver('WorkerStuck', { pod: victim.name })).map((d) => d.result)).toEqual(['acted']);
    const replaced = await eventually(
      'a new worker pod',
      () => {
        const items = json(['get', 'pods', '-l', 'app=worker']).items as {
          metadata: { name: string; uid: string; deletionTimestamp?: string };
        }[];
        const live = items.filter((p) => !p.metadata.deletionTimestamp);
        return live.length === 1 && live[0].metadata.uid !== victim.uid ? live : undefined;
      },
      60_000,
    );
    expect(replaced[0].metadata.name).not.toBe(victim.name);
  }, 120_000);

  it('scale adds replicas up to the maximum and no further', async () => {
    const replicas = () => json(['get', 'deployment', 'api']).spec.replicas as number;
    expect((await deliver('ApiSaturated', { deployment: 'api' }))[0]).toMatchObject({
      result: 'acted',
      message: expect.stringContaining('from 1 to 2'),
    });
    expect(replicas()).toBe(2);
    await new Promise((r) => setTimeout(r, 1100)); // the cooldown
    await deliver('ApiSaturated', { deployment: 'api' });
    expect(replicas()).toBe(3);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await deliver('ApiSaturated', { deployment: 'api' }))[0].message).toContain('already at the maximum 3');
    expect(replicas()).toBe(3);
  }, 60_000);

  it("never acts in another namespace, even where the alert's labels point there", async () => {
    await new Promise((r) => setTimeout(r, 1100));
    const decisions = await deliver('ApiSaturated', { deployment: 'api', namespace: other });
    expect(decisions.map((d) => d.result)).toEqual(['no-target']);
    expect(json(['get', 'deployment', 'api'], other).spec.replicas).toBe(1);
  }, 60_000);

  it("refuses a stack's own component unless the policy allows it", async () => {
    const annotations = () => json(['get', 'deployment', 'shop-prometheus']).spec.template.metadata.annotations ?? {};
    expect((await deliver('ComponentDown', { deployment: 'shop-prometheus' })).map((d) => d.result)).toEqual([
      'refused',
    ]);
    expect(annotations()['kubectl.kubernetes.io/restartedAt']).toBeUndefined();
    kubectlOk([
      'patch',
      'remediationpolicy',
      'restart-component',
      '-n',
      ns,
      '--type=merge',
      '-p',
      '{"spec":{"target":{"allowStackComponents":true}}}',
    ]);
    await eventually(
      'the informer to see the change',
      async () => {
        const d = await deliver('ComponentDown', { deployment: 'shop-prometheus' });
        return d[0].result === 'acted';
      },
      30_000,
    );
    expect(annotations()['kubectl.kubernetes.io/restartedAt']).toBeDefined();
  }, 60_000);
});
