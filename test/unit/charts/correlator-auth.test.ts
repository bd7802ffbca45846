// Correlator auth is always on in a stack (docs/adr/0018-correlator-auth-on-by-default.md): the
// correlator reads its user and password from the auth Secret, the collector tiers that export to
// it send the Secret's ready-made Authorization header through the environment, and the stack's
// Prometheus scrapes /metrics with the username and password files of the same Secret. The key
// checks the operator applies to a Secret the spec names are here too (pure).
import { describe, expect, it } from '@jest/globals';
import type { ObservabilityStack } from '../../../api/types.js';
import { collectorConfig } from '../../../desired/stack/collector.js';
import { stackContext } from '../../../desired/stack/context.js';
import {
  basicAuthorization,
  correlatorAuthProblems,
  correlatorAuthSecretName,
} from '../../../desired/stack/correlator.js';
import { renderStack } from '../../../desired/stack/index.js';
import { CORRELATOR_SECRET_DIR, prometheusConfig } from '../../../desired/stack/prometheus.js';
import { samplerConfig } from '../../../desired/stack/sampler.js';
import { aStack } from './stacks.js';

// biome-ignore lint/suspicious/noExplicitAny: walking plain JSON
type Any = any;
const find = (s: ObservabilityStack, kind: string, name: string): Any =>
  renderStack(s).objects.find((o) => o.kind === kind && o.metadata.name === name);
const containerOf = (s: ObservabilityStack, kind: string, name: string, container: string): Any =>
  find(s, kind, name)?.spec.template.spec.containers.find((c: Any) => c.name === container);
const envOf = (c: Any) => Object.fromEntries((c?.env ?? []).map((e: Any) => [e.name, e.value ?? e.valueFrom]));
const fromSecret = (name: string, key: string) => ({ secretKeyRef: { name, key } });

const sampled = { collector: { sampling: { errors: true } }, traces: {}, logs: {} };
const ref = { correlation: { basicAuthSecretRef: { name: 'team-auth' } } };

describe('the correlator auth Secret', () => {
  it('is <stack>-correlator-auth unless spec.correlation.basicAuthSecretRef names one', () => {
    expect(correlatorAuthSecretName(stackContext(aStack({}, 'shop')))).toBe('shop-correlator-auth');
    expect(correlatorAuthSecretName(stackContext(aStack(ref, 'shop')))).toBe('team-auth');
  });

  it('is not rendered: the operator generates it (vigil render has no Secret of it)', () => {
    const names = renderStack(aStack({}, 'shop')).objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(names).toContain('Deployment/shop-correlator');
    expect(names.filter((n) => n.startsWith('Secret/'))).toEqual([]);
  });
});

describe('the correlator Deployment', () => {
  it.each([
    ['generated', {}, 't-correlator-auth'],
    ['named by the spec', ref, 'team-auth'],
  ])('reads BASIC_AUTH_USER and BASIC_AUTH_PASSWORD from the %s Secret', (_what, spec, secret) => {
    const env = envOf(containerOf(aStack(spec), 'Deployment', 't-correlator', 'correlator'));
    expect(env.BASIC_AUTH_USER).toEqual(fromSecret(secret, 'username'));
    expect(env.BASIC_AUTH_PASSWORD).toEqual(fromSecret(secret, 'password'));
  });

  it('is probed on /health, which the correlator answers without credentials', () => {
    const c = containerOf(aStack({}), 'Deployment', 't-correlator', 'correlator');
    expect([c.readinessProbe.httpGet.path, c.livenessProbe.httpGet.path]).toEqual(['/health', '/health']);
  });
});

describe('the collector tiers', () => {
  it.each([
    ['one correlator (OTLP/HTTP)', {}],
    ['three correlators (load balancing)', { correlation: { replicas: 3 } }],
  ])('send the Authorization header from the environment to %s, from the gateway and the sampler', (_w, extra) => {
    const s = aStack({ ...sampled, ...extra });
    const ctx = stackContext(s);
    const header = { Authorization: ['$', '{env:CORRELATOR_AUTHORIZATION}'].join('') };
    const exporters = [collectorConfig(ctx).exporters, samplerConfig(ctx).exporters] as Any[];
    for (const e of exporters) {
      const single = e['otlp_http/correlator'];
      const many = e['load_balancing/correlator'];
      expect(single?.headers ?? many?.protocol.otlp.headers).toEqual(header);
    }
    for (const [kind, name] of [
      ['Deployment', 't-collector'],
      ['Deployment', 't-sampler'],
    ]) {
      expect(envOf(containerOf(s, kind, name, 'otelcol')).CORRELATOR_AUTHORIZATION).toEqual(
        fromSecret('t-correlator-auth', 'authorization'),
      );
    }
  });

  it('name the Secret the spec names', () => {
    const env = envOf(containerOf(aStack(ref), 'Deployment', 't-collector', 'otelcol'));
    expect(env.CORRELATOR_AUTHORIZATION).toEqual(fromSecret('team-auth', 'authorization'));
  });

  it('carry no correlator credentials without a correlator, and the agent never does', () => {
    const off = aStack({ correlation: { enabled: false }, logs: {} });
    expect(envOf(containerOf(off, 'Deployment', 't-collector', 'otelcol')).CORRELATOR_AUTHORIZATION).toBeUndefined();
    expect(JSON.stringify(collectorConfig(stackContext(off)))).not.toContain('CORRELATOR_AUTHORIZATION');
    const agent = aStack({ collector: { mode: 'daemonset' }, logs: {} });
    const c = find(agent, 'DaemonSet', 't-agent')?.spec.template.spec.containers[0];
    expect(c).toBeDefined();
    expect(envOf(c).CORRELATOR_AUTHORIZATION).toBeUndefined();
  });
});

describe("the stack's Prometheus", () => {
  const job = (s: ObservabilityStack): Any =>
    (prometheusConfig(stackContext(s)).scrape_configs as Any[]).find((j) => j.job_name === 'correlator');

  it('scrapes the correlator with the username and password files of the mounted Secret', () => {
    const s = aStack(ref);
    expect(job(s).basic_auth).toEqual({
      username_file: `${CORRELATOR_SECRET_DIR}/username`,
      password_file: `${CORRELATOR_SECRET_DIR}/password`,
    });
    const pod = find(s, 'StatefulSet', 't-prometheus').spec.template.spec;
    const mount = pod.containers
      .find((c: Any) => c.name === 'prometheus')
      .volumeMounts.find((m: Any) => m.mountPath === CORRELATOR_SECRET_DIR);
    expect(mount).toMatchObject({ readOnly: true });
    const volume = pod.volumes.find((v: Any) => v.name === mount.name);
    // Only the two keys the job reads: the header stays out of the Prometheus pod.
    expect(volume.secret).toEqual({
      secretName: 'team-auth',
      items: [
        { key: 'username', path: 'username' },
        { key: 'password', path: 'password' },
      ],
    });
  });

  it('sends no credentials to the other components, and mounts nothing without a correlator', () => {
    const jobs = prometheusConfig(stackContext(aStack({ logs: {}, traces: {} }))).scrape_configs as Any[];
    expect(jobs.filter((j) => j.basic_auth).map((j) => j.job_name)).toEqual(['correlator']);
    const off = aStack({ correlation: { enabled: false } });
    expect(job(off)).toBeUndefined();
    expect(JSON.stringify(find(off, 'StatefulSet', 't-prometheus'))).not.toContain(CORRELATOR_SECRET_DIR);
  });
});

describe('correlatorAuthProblems (the key checks of a Secret the spec names)', () => {
  const good = { username: 'vigil', password: 'pw', authorization: basicAuthorization('vigil', 'pw') };

  it('accepts three keys that agree', () => {
    expect(good.authorization).toBe(`Basic ${Buffer.from('vigil:pw').toString('base64')}`);
    expect(correlatorAuthProblems(good)).toEqual([]);
  });

  it.each([
    ['a missing username', { password: 'pw', authorization: good.authorization }, ['has no key "username"']],
    ['an empty password', { ...good, password: '' }, ['key "password" is empty']],
    ['a missing header', { username: 'vigil', password: 'pw' }, ['has no key "authorization"']],
    ['an empty header', { ...good, authorization: '' }, ['key "authorization" is empty']],
    [
      'a username with a colon',
      { ...good, username: 'a:b', authorization: basicAuthorization('a:b', 'pw') },
      ['key "username" contains ":", which Basic auth cannot carry'],
    ],
    [
      'a password with a trailing newline',
      { ...good, password: 'pw\n', authorization: basicAuthorization('vigil', 'pw\n') },
      ['key "password" begins or ends with whitespace (a newline from echo?)'],
    ],
    [
      'a header for another password',
      { ...good, authorization: basicAuthorization('vigil', 'other') },
      ['key "authorization" is not "Basic " + base64(username:password) of its username and password keys'],
    ],
    [
      'a header without "Basic "',
      { ...good, authorization: Buffer.from('vigil:pw').toString('base64') },
      ['key "authorization" is not "Basic " + base64(username:password) of its username and password keys'],
    ],
    ['nothing at all', {}, ['has no key "username"', 'has no key "password"', 'has no key "authorization"']],
  ])('refuses %s, naming the key and never a value', (_what, values, problems) => {
    const found = correlatorAuthProblems(values as Record<string, string>);
    expect(found).toEqual(problems);
    for (const m of found) expect(m).not.toContain('pw');
  });
});
