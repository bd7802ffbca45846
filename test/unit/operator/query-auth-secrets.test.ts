// The query APIs' Secrets (docs/adr/0020-basic-auth-on-query-apis.md), as the stack reconciler
// writes them against FakeKube (Secret lists refused, as the ClusterRole refuses them): the auth
// Secrets generated once and kept, the web-config Secrets whose bcrypt hash is kept while it matches
// the password (and costs no bcrypt work in steady state), a named Secret checked like the
// correlator's, and the operator's own clients (the SLO budget reader) sending the header.
import { beforeEach, describe, expect, it } from '@jest/globals';
import bcrypt from 'bcryptjs';
import yaml from 'js-yaml';
import type { ObservabilityStack } from '../../../api/types.js';
import { validateResource } from '../../../api/validate.js';
import { readBudget } from '../../../controller/budget.js';
import { queryAuthorization, stackQueryAuthorization } from '../../../controller/query-auth.js';
import { StackReconciler } from '../../../controller/stack.js';
import { BCRYPT_COST, bcryptWork, forgetCompares, webConfigValues } from '../../../controller/web-config.js';
import { API_GROUP_VERSION, KIND_STACK } from '../../../conventions/index.js';
import { basicAuthorization } from '../../../desired/stack/correlator.js';
import { KubeError, type KubeObject } from '../../../kube/types.js';
import { postBlockedNotice } from '../../../operator/remediation.js';
import { aStack } from '../../support/builders.js';
import { capturingLogger, FakeKube } from './fake-kube.js';

// biome-ignore lint/suspicious/noExplicitAny: reading objects loosely
type Any = any;
const NS = 'team';
const decode = (s: KubeObject | undefined): Record<string, string> =>
  Object.fromEntries(
    Object.entries(((s as Any)?.data ?? {}) as Record<string, string>).map(([k, v]) => [
      k,
      Buffer.from(v, 'base64').toString('utf8'),
    ]),
  );
const encode = (values: Record<string, string>) =>
  Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));

const spec = (metrics: object = {}, alerting: object = {}) => ({
  grafana: { enabled: false },
  correlation: { enabled: false },
  metrics: { enabled: true, basicAuth: { enabled: true, ...metrics } },
  alerting: { basicAuth: { enabled: true, ...alerting } },
});

describe('the query APIs’ Secrets', () => {
  let fake: FakeKube;
  let logs: ReturnType<typeof capturingLogger>;
  const reconcile = () =>
    new StackReconciler({
      kube: fake,
      getStack: (ns, name) => fake.cached(API_GROUP_VERSION, KIND_STACK, ns, name),
      log: logs.log,
      now: () => new Date('2026-01-02T03:04:05Z'),
    }).reconcile(NS, 'demo');
  const secret = (name: string) => fake.cached('v1', 'Secret', NS, name);
  const stored = () => fake.cached(API_GROUP_VERSION, KIND_STACK, NS, 'demo') as KubeObject;
  const condition = (type: string) =>
    ((stored().status as Any)?.conditions ?? []).find((c: { type: string }) => c.type === type);
  const putStack = (s: Record<string, unknown>) =>
    fake.put({ ...(aStack(s) as KubeObject), metadata: { name: 'demo', namespace: NS } });
  const putSecret = (name: string, values: Record<string, string>) =>
    fake.put({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: NS }, data: encode(values) });
  const hashOf = (webYml: string) => {
    const users = (yaml.load(webYml) as { basic_auth_users: Record<string, string> }).basic_auth_users;
    return Object.entries(users);
  };

  beforeEach(() => {
    fake = new FakeKube();
    logs = capturingLogger();
    fake.failures.list = (kind) =>
      kind === 'Secret' ? new KubeError('list Secret: HTTP 403 Forbidden', 403, 'Forbidden') : undefined;
    forgetCompares();
  });

  it('generates <stack>-prometheus-auth and -alertmanager-auth once, with the header matching', async () => {
    putStack(spec());
    await reconcile();
    expect(condition('Ready')).toMatchObject({ status: 'True' });
    for (const api of ['prometheus', 'alertmanager']) {
      const v = decode(secret(`demo-${api}-auth`));
      expect(v.username).toBe('vigil');
      expect(v.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(v.authorization).toBe(basicAuthorization(v.username, v.password));
      expect(secret(`demo-${api}-auth`)?.metadata.ownerReferences?.[0]).toMatchObject({ kind: KIND_STACK });
    }
  });

  it('writes web.yml with a bcrypt hash (cost 10) of the password, and the Thanos client config', async () => {
    putStack(spec());
    await reconcile();
    const auth = decode(secret('demo-prometheus-auth'));
    const web = decode(secret('demo-prometheus-web-config'));
    const [[user, hash]] = hashOf(web['web.yml']);
    expect(user).toBe('vigil');
    expect(bcrypt.getRounds(hash)).toBe(BCRYPT_COST);
    expect(await bcrypt.compare(auth.password, hash)).toBe(true);
    expect(yaml.load(web['thanos-http-client.yml'])).toEqual({
      basic_auth: { username: 'vigil', password_file: '/etc/vigil/auth/prometheus/password' },
    });
    // Alertmanager's has only web.yml.
    expect(Object.keys(decode(secret('demo-alertmanager-web-config')))).toEqual(['web.yml']);
  });

  it('keeps both Secrets as they are on the next reconcile, with no bcrypt work and no write', async () => {
    putStack(spec());
    await reconcile();
    const before = { ...bcryptWork };
    const web = decode(secret('demo-prometheus-web-config'));
    fake.writes.length = 0;
    await reconcile();
    expect(fake.writes.filter((w) => w.includes('Secret/'))).toEqual([]);
    expect(decode(secret('demo-prometheus-web-config'))).toEqual(web);
    expect(bcryptWork).toEqual(before);
  });

  it('keeps a matching hash after a restart (one compare per Secret, no new hash)', async () => {
    putStack(spec());
    await reconcile();
    const web = decode(secret('demo-alertmanager-web-config'));
    forgetCompares();
    const before = { ...bcryptWork };
    await reconcile();
    expect(decode(secret('demo-alertmanager-web-config'))).toEqual(web);
    expect(bcryptWork.hashes - before.hashes).toBe(0);
    expect(bcryptWork.compares - before.compares).toBe(2);
  });

  it('rehashes when the password is changed by hand, and rewrites the header', async () => {
    putStack(spec());
    await reconcile();
    const old = decode(secret('demo-prometheus-auth'));
    putSecret('demo-prometheus-auth', { ...old, password: 'a-new-password-set-by-hand' });
    (secret('demo-prometheus-auth') as Any).metadata.ownerReferences =
      secret('demo-alertmanager-auth')?.metadata.ownerReferences;
    await reconcile();
    const now = decode(secret('demo-prometheus-auth'));
    expect(now.password).toBe('a-new-password-set-by-hand');
    expect(now.authorization).toBe(basicAuthorization('vigil', 'a-new-password-set-by-hand'));
    const [[, hash]] = hashOf(decode(secret('demo-prometheus-web-config'))['web.yml']);
    expect(await bcrypt.compare('a-new-password-set-by-hand', hash)).toBe(true);
  });

  it('replaces a web.yml that was edited into something else', async () => {
    putStack(spec());
    await reconcile();
    const auth = decode(secret('demo-alertmanager-auth'));
    const live = secret('demo-alertmanager-web-config') as Any;
    live.data = encode({ 'web.yml': 'basic_auth_users:\n  vigil: not-a-hash\n' });
    await reconcile();
    const [[, hash]] = hashOf(decode(secret('demo-alertmanager-web-config'))['web.yml']);
    expect(await bcrypt.compare(auth.password, hash)).toBe(true);
  });

  it('prunes the auth and web-config Secrets by name once basic auth is off', async () => {
    putStack(spec());
    await reconcile();
    fake.editSpec(stored(), (s) => {
      (s.metrics as Any).basicAuth = { enabled: false };
    });
    await reconcile();
    expect(fake.writes).toContain('delete Secret/demo-prometheus-auth');
    expect(fake.writes).toContain('delete Secret/demo-prometheus-web-config');
    expect(secret('demo-alertmanager-web-config')).toBeDefined();
  });

  it('puts no password and no header in any ConfigMap it applies', async () => {
    putStack({ ...spec(), grafana: { enabled: true }, traces: { enabled: true }, collector: { enabled: true } });
    await reconcile();
    const values = ['prometheus', 'alertmanager'].flatMap((api) => {
      const v = decode(secret(`demo-${api}-auth`));
      return [v.password, v.authorization, v.authorization.slice('Basic '.length)];
    });
    const hashes = ['prometheus', 'alertmanager'].map(
      (api) => hashOf(decode(secret(`demo-${api}-web-config`))['web.yml'])[0][1],
    );
    const configMaps = fake.all('ConfigMap');
    expect(configMaps.length).toBeGreaterThan(3);
    for (const cm of configMaps) {
      const text = JSON.stringify(cm);
      for (const v of [...values, ...hashes]) expect(text.includes(v)).toBe(false);
    }
    // Nor in a log line.
    const logged = JSON.stringify(logs.lines);
    for (const v of values) expect(logged.includes(v)).toBe(false);
  });

  describe('a Secret the spec names', () => {
    it('is Degraded SecretMissing naming the field and the Secret when absent; nothing is applied', async () => {
      putStack(spec({ secretRef: { name: 'prom-creds' } }));
      await reconcile();
      expect(condition('Degraded')).toMatchObject({ status: 'True', reason: 'SecretMissing' });
      expect(condition('Degraded').message).toContain('spec.metrics.basicAuth.secretRef.name');
      expect(condition('Degraded').message).toContain('"prom-creds"');
      expect(fake.writes.filter((w) => w.startsWith('apply'))).toEqual([]);
    });

    it('is Degraded SecretInvalid naming the key, never a value, when its header disagrees', async () => {
      putSecret('am-creds', { username: 'ops', password: 'sekrit-value-1', authorization: 'Basic d3Jvbmc=' });
      putStack(spec({}, { secretRef: { name: 'am-creds' } }));
      await reconcile();
      const d = condition('Degraded');
      expect(d).toMatchObject({ status: 'True', reason: 'SecretInvalid' });
      expect(d.message).toContain('spec.alerting.basicAuth.secretRef.name');
      expect(d.message).toContain('"authorization"');
      expect(d.message).not.toContain('sekrit-value-1');
      expect(d.message).not.toContain('d3Jvbmc=');
      expect(fake.writes.filter((w) => w.startsWith('apply'))).toEqual([]);
    });

    it('is used as it is: the web config from its user and password, no <stack>-prometheus-auth', async () => {
      putSecret('prom-creds', {
        username: 'ops',
        password: 'team-password',
        authorization: basicAuthorization('ops', 'team-password'),
      });
      putStack(spec({ secretRef: { name: 'prom-creds' } }));
      await reconcile();
      expect(condition('Ready')).toMatchObject({ status: 'True' });
      expect(secret('demo-prometheus-auth')).toBeUndefined();
      const web = decode(secret('demo-prometheus-web-config'));
      const [[user, hash]] = hashOf(web['web.yml']);
      expect(user).toBe('ops');
      expect(await bcrypt.compare('team-password', hash)).toBe(true);
      expect((yaml.load(web['thanos-http-client.yml']) as Any).basic_auth.username).toBe('ops');
      expect(decode(secret('prom-creds')).password).toBe('team-password');
    });
  });
});

describe('webConfigValues', () => {
  it('keeps the live web.yml for the same user and password, replaces it for another user', async () => {
    forgetCompares();
    const first = await webConfigValues('alertmanager', {}, 'vigil', 'pw');
    expect(await webConfigValues('alertmanager', first, 'vigil', 'pw')).toEqual(first);
    const other = await webConfigValues('alertmanager', first, 'ops', 'pw');
    expect(hashIn(other)[0]).toBe('ops');
  });
});
const hashIn = (v: Record<string, string>) =>
  Object.entries((yaml.load(v['web.yml']) as { basic_auth_users: Record<string, string> }).basic_auth_users)[0];

describe("the operator's own clients", () => {
  const stack = (metrics: object) => {
    const v = validateResource({ ...aStack(spec(metrics)), metadata: { name: 'demo', namespace: NS } });
    if (!v.ok) throw new Error(JSON.stringify(v.problems));
    return v.object as ObservabilityStack;
  };

  it("read the stack's auth Secret by name and send its header; none when auth is off", async () => {
    const fake = new FakeKube();
    fake.put({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'demo-prometheus-auth', namespace: NS },
      data: encode({ authorization: 'Basic dmlnaWw6cHc=' }),
    });
    expect(await queryAuthorization(fake, stack({}), 'prometheus')).toBe('Basic dmlnaWw6cHc=');
    expect(await queryAuthorization(fake, stack({ enabled: false }), 'prometheus')).toBeUndefined();
    await expect(queryAuthorization(fake, stack({ secretRef: { name: 'gone' } }), 'prometheus')).rejects.toThrow(
      /"gone" is not found/,
    );
    fake.put({ ...(aStack(spec()) as KubeObject), metadata: { name: 'demo', namespace: NS } });
    expect(await stackQueryAuthorization(fake, NS, 'demo', 'prometheus')).toBe('Basic dmlnaWw6cHc=');
    expect(await stackQueryAuthorization(fake, NS, 'nope', 'prometheus')).toBeUndefined();

    const sent: (Record<string, string> | undefined)[] = [];
    const fetchFn = async (_url: string, init?: { headers?: Record<string, string> }) => {
      sent.push(init?.headers);
      return { ok: true, status: 200, json: async () => ({ status: 'success', data: { result: [] } }) };
    };
    await readBudget(fetchFn, 'http://p:9090', NS, 'slo', 1000, 'Basic dmlnaWw6cHc=');
    await readBudget(fetchFn, 'http://p:9090', NS, 'slo', 1000);
    expect(sent).toEqual([
      { authorization: 'Basic dmlnaWw6cHc=' },
      { authorization: 'Basic dmlnaWw6cHc=' },
      undefined,
      undefined,
    ]);
  });

  it("post remediation's Blocked notice to Alertmanager with its auth Secret's header, none when its auth is off", async () => {
    const fake = new FakeKube();
    fake.put({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'demo-alertmanager-auth', namespace: NS },
      data: encode({ authorization: 'Basic YW06cHc=' }),
    });
    const posted: { url: string; headers: Record<string, string> }[] = [];
    const fetchFn = (async (url: string, init?: { headers?: Record<string, string> }) => {
      posted.push({ url, headers: init?.headers ?? {} });
      return new Response('', { status: 200 });
    }) as typeof fetch;
    const notice = {
      namespace: NS,
      stack: 'demo',
      policy: 'restart',
      target: 'Deployment/web',
      receiver: 'ops',
      blockedUntil: '2026-01-02T04:00:00Z',
      message: 'breaker open',
    };
    const deps = { kube: fake, fetch: fetchFn, now: () => new Date('2026-01-02T03:04:05Z') };
    fake.put({ ...(aStack(spec()) as KubeObject), metadata: { name: 'demo', namespace: NS } });
    await postBlockedNotice(deps, notice);
    fake.editSpec(fake.cached(API_GROUP_VERSION, KIND_STACK, NS, 'demo') as KubeObject, (s) => {
      (s.alerting as Any).basicAuth = { enabled: false };
    });
    await postBlockedNotice(deps, notice);
    expect(posted.map((p) => p.url)).toEqual([
      'http://demo-alertmanager.team.svc:9093/api/v2/alerts',
      'http://demo-alertmanager.team.svc:9093/api/v2/alerts',
    ]);
    expect(posted[0].headers.authorization).toBe('Basic YW06cHc=');
    expect(posted[1].headers.authorization).toBeUndefined();
  });
});
