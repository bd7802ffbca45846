// The operator against the real control plane (API server, controller-manager, scheduler, kwok), as
// a ServiceAccount holding only manifests/rbac/cluster-role.yaml (test/support/rbac.ts).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freshNamespace, kubectl, kubectlOk } from '../support/kubectl.js';
import { eventually, operatorWrites, type RunningOperator, startOperator } from '../support/operator.js';
import { EXAMPLES_DIR } from '../support/paths.js';
import { forbiddenRequests, type ManifestsRoleUser, manifestsRoleUser } from '../support/rbac.js';
import { CHILD_KINDS, childrenNotAsRendered, desiredChildren, exampleDoc, liveChildren } from '../support/stacks.js';

interface Item {
  kind: string;
  metadata: { name: string; resourceVersion: string };
}

let ns: string;
let operator: RunningOperator;
let role: ManifestsRoleUser;
const children = (stack: string) => liveChildren(ns, stack);
const desired = (file: string, namespace: string) => desiredChildren(exampleDoc(file), namespace);
/** A JSON merge patch of the `full` stack. */
const patchFull = (patch: string) => kubectlOk(['patch', 'ostack', 'full', '-n', ns, '--type=merge', '-p', patch]);

const condition = (kind: string, name: string, type: string) => {
  const r = kubectl(['get', kind, name, '-n', ns, '-o', 'json']);
  if (r.code !== 0) return undefined;
  const o = JSON.parse(r.stdout);
  const c = (o.status?.conditions ?? []).find((x: { type: string }) => x.type === type);
  return c ? { ...c, generation: o.metadata.generation } : undefined;
};

const resourceVersions = (stack: string) => {
  const out = kubectlOk(['get', CHILD_KINDS, '-n', ns, '-l', `vigil.dev/stack=${stack}`, '-o', 'json']);
  return Object.fromEntries(
    JSON.parse(out).items.map((o: Item) => [`${o.kind}/${o.metadata.name}`, o.metadata.resourceVersion]),
  );
};

beforeAll(async () => {
  ns = freshNamespace('op');
  role = manifestsRoleUser(ns);
  operator = await startOperator(['--namespaces', ns], {}, { kubeconfig: role.kubeconfig });
});
afterAll(async () => {
  await operator?.stop();
  role?.remove();
  operator?.printWarnings();
});

describe('the operator', () => {
  it('gives a new stack every child and turns it Ready once kwok runs the pods', async () => {
    kubectlOk(['apply', '-n', ns, '-f', join(EXAMPLES_DIR, 'full.yaml')]);
    const r = kubectl(['wait', '-n', ns, '--for=condition=Ready', '--timeout=90s', 'ostack/full']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(children('full')).toEqual(desired('full.yaml', ns));
    // Every field the render sets arrived (a NetworkPolicy rule's peers once did not: client-node's
    // model calls `from` `_from`).
    expect(childrenNotAsRendered(exampleDoc('full.yaml'), ns)).toEqual([]);
    const ready = condition('ostack', 'full', 'Ready');
    expect(ready).toMatchObject({ status: 'True', reason: 'AllComponentsReady' });
    expect(ready.observedGeneration).toBe(ready.generation);
    const status = JSON.parse(kubectlOk(['get', 'ostack', 'full', '-n', ns, '-o', 'jsonpath={.status}']));
    expect(Object.keys(status.components).sort()).toEqual(
      ['alertmanager', 'collector', 'correlator', 'grafana', 'loki', 'prometheus', 'sampler', 'tempo'].sort(),
    );
    expect(status.endpoints.grafana).toMatch(new RegExp(`^http://full-grafana\\.${ns}\\.svc:`));
  });

  it('generates the Grafana admin Secret without logging it', () => {
    const data = JSON.parse(kubectlOk(['get', 'secret', 'full-grafana-admin', '-n', ns, '-o', 'jsonpath={.data}']));
    const password = Buffer.from(data['admin-password'], 'base64').toString();
    expect(password.length).toBeGreaterThanOrEqual(24);
    expect(JSON.stringify(operator.logs)).not.toContain(password);
    expect(JSON.stringify(operator.logs)).not.toContain(data['admin-password']);
  });

  it("generates the correlator's auth Secret once, its three keys agreeing, without logging it", async () => {
    const read = () =>
      JSON.parse(kubectlOk(['get', 'secret', 'full-correlator-auth', '-n', ns, '-o', 'jsonpath={.data}'])) as Record<
        string,
        string
      >;
    const window = () =>
      kubectlOk([
        'get',
        'deployment',
        'full-correlator',
        '-n',
        ns,
        '-o',
        'jsonpath={.spec.template.spec.containers[0].env[?(@.name=="CORR_WINDOW_SECONDS")].value}',
      ]);
    const data = read();
    const text = (k: string) => Buffer.from(data[k], 'base64').toString();
    expect(Object.keys(data).sort()).toEqual(['authorization', 'password', 'username']);
    expect(text('username')).toBe('vigil');
    expect(text('password').length).toBeGreaterThanOrEqual(32);
    expect(text('authorization')).toBe(`Basic ${Buffer.from(`vigil:${text('password')}`).toString('base64')}`);
    for (const v of [text('password'), data.password, data.authorization]) {
      expect(JSON.stringify(operator.logs)).not.toContain(v);
    }
    // A later reconcile (a spec edit) keeps it as it is.
    patchFull('{"spec":{"correlation":{"windowSeconds":61}}}');
    await eventually('the correlator Deployment to take the new window', () => window() === '61', 20_000);
    expect(read()).toEqual(data);
    patchFull('{"spec":{"correlation":{"windowSeconds":60}}}');
    await eventually('the correlator Deployment back at the old window', () => window() === '60', 20_000);
  });

  it('writes nothing while idle', async () => {
    await new Promise((r) => setTimeout(r, 3000)); // let child status updates settle
    const since = new Date();
    await new Promise((r) => setTimeout(r, 15_000));
    expect(operatorWrites(since, role.username)).toEqual([]);
  });

  it('restores a child deleted by hand within seconds', async () => {
    kubectlOk(['delete', 'deployment', 'full-grafana', '-n', ns, '--wait=false']);
    await eventually(
      'full-grafana to be recreated',
      () => kubectl(['get', 'deployment', 'full-grafana', '-n', ns]).code === 0,
      10_000,
    );
  });

  it('restores replicas and a config key edited by hand within seconds', async () => {
    kubectlOk(['scale', 'statefulset', 'full-prometheus', '-n', ns, '--replicas=3']);
    const cm = JSON.parse(kubectlOk(['get', 'configmap', 'full-collector', '-n', ns, '-o', 'json']));
    const key = Object.keys(cm.data)[0];
    kubectlOk([
      'patch',
      'configmap',
      'full-collector',
      '-n',
      ns,
      '--type=merge',
      '-p',
      JSON.stringify({ data: { [key]: 'edited: true\n' } }),
    ]);
    await eventually(
      'replicas back to 1',
      () => kubectlOk(['get', 'statefulset', 'full-prometheus', '-n', ns, '-o', 'jsonpath={.spec.replicas}']) === '1',
      10_000,
    );
    await eventually(
      'the collector config restored',
      () =>
        JSON.parse(kubectlOk(['get', 'configmap', 'full-collector', '-n', ns, '-o', 'json'])).data[key] ===
        cm.data[key],
      10_000,
    );
  });

  it('prunes Tempo and its wiring when traces are turned off, and restores them when turned on', async () => {
    const withTraces = children('full');
    patchFull('{"spec":{"traces":{"enabled":false}}}');
    await eventually('Tempo pruned', () => !children('full').some((c) => c.includes('tempo')), 20_000);
    const collector = kubectlOk(['get', 'configmap', 'full-collector', '-n', ns, '-o', 'jsonpath={.data}']);
    expect(collector).not.toMatch(/tempo/);
    const datasources = kubectlOk(['get', 'configmap', 'full-grafana-datasources', '-n', ns, '-o', 'jsonpath={.data}']);
    expect(datasources).not.toMatch(/uid: tempo/);
    const status = JSON.parse(kubectlOk(['get', 'ostack', 'full', '-n', ns, '-o', 'jsonpath={.status}']));
    await eventually('the tempo endpoint and component gone from status', () => {
      const st = JSON.parse(kubectlOk(['get', 'ostack', 'full', '-n', ns, '-o', 'jsonpath={.status}']));
      return st.endpoints.tempo === undefined && st.components.tempo === undefined;
    });
    expect(status.endpoints.grafana).toBeDefined();
    patchFull('{"spec":{"traces":{"enabled":true}}}');
    await eventually('Tempo restored', () => JSON.stringify(children('full')) === JSON.stringify(withTraces), 20_000);
    expect(kubectl(['wait', '-n', ns, '--for=condition=Ready', '--timeout=60s', 'ostack/full']).code).toBe(0);
  });

  it('turns basic auth on for Prometheus and Alertmanager: generated Secrets, the web config flag, nothing written while idle, all pruned by name when off', async () => {
    const authSecrets = [
      'full-alertmanager-auth',
      'full-alertmanager-web-config',
      'full-prometheus-auth',
      'full-prometheus-web-config',
    ];
    const present = () => authSecrets.filter((s) => kubectl(['get', 'secret', s, '-n', ns]).code === 0);
    const args = (kind: string, name: string) =>
      kubectlOk(['get', kind, name, '-n', ns, '-o', 'jsonpath={.spec.template.spec.containers[0].args}']);
    const basicAuth = (enabled: boolean) =>
      patchFull(
        JSON.stringify({ spec: { metrics: { basicAuth: { enabled } }, alerting: { basicAuth: { enabled } } } }),
      );
    expect(present()).toEqual([]);
    basicAuth(true);
    await eventually('the four Secrets', () => present().length === 4, 30_000);
    await eventually(
      'Prometheus with its web config',
      () => args('statefulset', 'full-prometheus').includes('--web.config.file'),
      30_000,
    );
    expect(args('statefulset', 'full-alertmanager')).toContain('--web.config.file');
    expect(kubectl(['wait', '-n', ns, '--for=condition=Ready', '--timeout=60s', 'ostack/full']).code).toBe(0);
    const web = JSON.parse(
      kubectlOk(['get', 'secret', 'full-prometheus-web-config', '-n', ns, '-o', 'jsonpath={.data}']),
    ) as Record<string, string>;
    const password = Buffer.from(
      kubectlOk(['get', 'secret', 'full-prometheus-auth', '-n', ns, '-o', 'jsonpath={.data.password}']),
      'base64',
    ).toString();
    expect(Buffer.from(web['web.yml'], 'base64').toString()).toMatch(/basic_auth_users:\s+vigil: \$2[aby]\$10\$/);
    expect(JSON.stringify(operator.logs)).not.toContain(password);
    // The salted hash is kept: the reconciles that follow (the pods' status settling) write no Secret.
    await new Promise((r) => setTimeout(r, 3000));
    const since = new Date();
    await new Promise((r) => setTimeout(r, 12_000));
    expect(operatorWrites(since, role.username)).toEqual([]);
    basicAuth(false);
    await eventually('the four Secrets pruned', () => present().length === 0, 30_000);
    expect(args('statefulset', 'full-prometheus')).not.toContain('--web.config.file');
    expect(kubectl(['wait', '-n', ns, '--for=condition=Ready', '--timeout=60s', 'ostack/full']).code).toBe(0);
  });

  it('reports a spec that passes the schema but cannot be rendered as Degraded, naming the field, and touches nothing', async () => {
    await new Promise((r) => setTimeout(r, 1000));
    const before = resourceVersions('full');
    patchFull('{"spec":{"objectStorage":{"s3":{"endpoint":"minio.storage:9000","bucket":"vigil-logs"}}}}');
    const degraded = await eventually('Degraded', () => {
      const c = condition('ostack', 'full', 'Degraded');
      return c?.status === 'True' && c.observedGeneration === c.generation ? c : undefined;
    });
    expect(degraded.reason).toBe('InvalidSpec');
    expect(degraded.message).toContain('spec.objectStorage.s3.secretRef');
    expect(condition('ostack', 'full', 'Ready')?.status).toBe('False');
    const events = kubectlOk([
      'get',
      'events',
      '-n',
      ns,
      '--field-selector',
      'involvedObject.name=full,reason=InvalidSpec',
      '-o',
      'json',
    ]);
    expect(JSON.parse(events).items.length).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 2000));
    expect(resourceVersions('full')).toEqual(before);
  });

  it('waits for a referenced Secret that is missing and proceeds once it appears', async () => {
    patchFull('{"spec":{"objectStorage":{"s3":{"secretRef":{"name":"s3-creds"}}}}}');
    const c = await eventually('SecretMissing', () => {
      const d = condition('ostack', 'full', 'Degraded');
      return d?.reason === 'SecretMissing' && d.observedGeneration === d.generation ? d : undefined;
    });
    expect(c.message).toContain('spec.objectStorage.s3.secretRef.name');
    kubectlOk([
      'create',
      'secret',
      'generic',
      's3-creds',
      '-n',
      ns,
      '--from-literal=AWS_ACCESS_KEY_ID=a',
      '--from-literal=AWS_SECRET_ACCESS_KEY=b',
    ]);
    await eventually('Ready again', () => condition('ostack', 'full', 'Ready')?.status === 'True', 60_000);
    expect(condition('ostack', 'full', 'Degraded')?.status).toBe('False');
  });

  it('lets the garbage collector remove every child when the stack is deleted', async () => {
    kubectlOk(['delete', 'ostack', 'full', '-n', ns]);
    await eventually('children gone', () => children('full').length === 0, 60_000);
  });

  it('was never refused by RBAC: no Forbidden in its log, no 403 in the audit log, and it did write', () => {
    expect(JSON.stringify(operator.logs)).not.toMatch(/Forbidden|HTTP 403/);
    expect(forbiddenRequests(role.username)).toEqual([]);
    expect(operatorWrites(undefined, role.username).length).toBeGreaterThan(10);
  });
});
