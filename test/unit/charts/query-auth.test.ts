// Basic auth on the query APIs (docs/adr/0020-basic-auth-on-query-apis.md), as rendered: with
// spec.metrics.basicAuth / spec.alerting.basicAuth on, Prometheus, Thanos Query and Alertmanager
// read a web config from the operator's web-config Secret and every client of theirs sends the
// credentials, read from the auth Secret's files or environment; with them off, nothing of it is
// rendered. No ConfigMap names anything but file paths and variable names.
import { describe, expect, it } from '@jest/globals';
import type { ObservabilityStack } from '../../../api/types.js';
import { collectorConfig } from '../../../desired/stack/collector.js';
import { stackContext } from '../../../desired/stack/context.js';
import { renderStack } from '../../../desired/stack/index.js';
import { prometheusConfig } from '../../../desired/stack/prometheus.js';
import { queryAuthSecretName, webConfigSecretName } from '../../../desired/stack/query-auth.js';
import { tempoConfig } from '../../../desired/stack/tempo.js';
import { aStack } from './stacks.js';

// biome-ignore lint/suspicious/noExplicitAny: walking plain JSON
type Any = any;
const objectsOf = (s: ObservabilityStack): Any[] => renderStack(s).objects as Any[];
const find = (s: ObservabilityStack, kind: string, name: string): Any =>
  objectsOf(s).find((o) => o.kind === kind && o.metadata.name === name);
const podOf = (s: ObservabilityStack, kind: string, name: string): Any => find(s, kind, name)?.spec.template.spec;
const ctr = (pod: Any, name: string): Any => pod?.containers.find((c: Any) => c.name === name);
const envOf = (c: Any) => Object.fromEntries((c?.env ?? []).map((e: Any) => [e.name, e.value ?? e.valueFrom]));
const fromSecret = (name: string, key: string) => ({ secretKeyRef: { name, key } });

/** Every component that talks to a query API: an HA pair (Thanos), Tempo's generator, Grafana, the gateway. */
const base = {
  size: 'medium' as const,
  metrics: { alertmanager: { enabled: true } },
  traces: {},
  logs: {},
  grafana: {},
  collector: {},
};
const on = (metrics: object = {}, alerting: object = {}) =>
  aStack({
    ...base,
    metrics: { ...base.metrics, basicAuth: { enabled: true, ...metrics } },
    alerting: { basicAuth: { enabled: true, ...alerting } },
  } as Any);
const off = () => aStack(base as Any);

const promFiles = {
  username_file: '/etc/vigil/auth/prometheus/username',
  password_file: '/etc/vigil/auth/prometheus/password',
};
const amFiles = {
  username_file: '/etc/vigil/auth/alertmanager/username',
  password_file: '/etc/vigil/auth/alertmanager/password',
};

/** The volume a container mounts at the folder of a path, and the Secret and key behind the path. */
function secretBehind(pod: Any, c: Any, path: string): { secret: string; key: string } | undefined {
  const mount = (c.volumeMounts ?? []).find((m: Any) => path.startsWith(`${m.mountPath}/`));
  if (!mount) return undefined;
  const vol = pod.volumes.find((v: Any) => v.name === mount.name);
  const file = path.slice(mount.mountPath.length + 1);
  const item = vol?.secret?.items?.find((i: Any) => i.path === file);
  return vol?.secret && item ? { secret: vol.secret.secretName, key: item.key } : undefined;
}

describe('basic auth on, with generated Secrets', () => {
  const s = on();
  const ctx = stackContext(s);
  const prom = podOf(s, 'StatefulSet', 't-prometheus');
  const config = prometheusConfig(ctx) as Any;
  const job = (name: string) => config.scrape_configs.find((j: Any) => j.job_name === name);

  it('names <stack>-prometheus-auth and -alertmanager-auth, and the web-config Secrets', () => {
    expect(queryAuthSecretName(ctx, 'prometheus')).toBe('t-prometheus-auth');
    expect(queryAuthSecretName(ctx, 'alertmanager')).toBe('t-alertmanager-auth');
    expect(webConfigSecretName(ctx, 'prometheus')).toBe('t-prometheus-web-config');
    expect(webConfigSecretName(ctx, 'alertmanager')).toBe('t-alertmanager-web-config');
  });

  it('renders no Secret: the operator writes them (vigil render has none)', () => {
    expect(objectsOf(s).filter((o) => o.kind === 'Secret')).toEqual([]);
  });

  it('runs Prometheus with --web.config.file from its web-config Secret, probed on TCP', () => {
    const p = ctr(prom, 'prometheus');
    expect(p.args).toContain('--web.config.file=/etc/vigil/web/web.yml');
    expect(secretBehind(prom, p, '/etc/vigil/web/web.yml')).toEqual({
      secret: 't-prometheus-web-config',
      key: 'web.yml',
    });
    for (const probe of [p.readinessProbe, p.livenessProbe]) {
      expect(probe.tcpSocket).toEqual({ port: 'http' });
      expect(probe.httpGet).toBeUndefined();
    }
  });

  it('scrapes itself and Thanos Query with the Prometheus credentials, Alertmanager with its own', () => {
    expect(job('prometheus').basic_auth).toEqual(promFiles);
    expect(job('thanos-query').basic_auth).toEqual(promFiles);
    expect(job('alertmanager').basic_auth).toEqual(amFiles);
    // The rest are unchanged: the correlator's own, and none elsewhere.
    expect(job('correlator').basic_auth.username_file).toMatch(/correlator/);
    expect(job('tempo').basic_auth).toBeUndefined();
  });

  it('sends alerts to Alertmanager with its credentials', () => {
    expect(config.alerting.alertmanagers[0].basic_auth).toEqual(amFiles);
  });

  it('mounts each credential file the Prometheus config names from the right Secret and key', () => {
    const p = ctr(prom, 'prometheus');
    for (const files of [promFiles, amFiles]) {
      const secret = files === promFiles ? 't-prometheus-auth' : 't-alertmanager-auth';
      expect(secretBehind(prom, p, files.username_file)).toEqual({ secret, key: 'username' });
      expect(secretBehind(prom, p, files.password_file)).toEqual({ secret, key: 'password' });
    }
  });

  it('gives the Thanos sidecar its client config and the password file it names', () => {
    const side = ctr(prom, 'thanos-sidecar');
    expect(side.args).toContain('--prometheus.http-client-file=/etc/vigil/web/thanos-http-client.yml');
    expect(secretBehind(prom, side, '/etc/vigil/web/thanos-http-client.yml')).toEqual({
      secret: 't-prometheus-web-config',
      key: 'thanos-http-client.yml',
    });
    expect(secretBehind(prom, side, promFiles.password_file)).toEqual({ secret: 't-prometheus-auth', key: 'password' });
  });

  it('runs Thanos Query with --http.config from the same web config, probed on TCP', () => {
    const pod = podOf(s, 'Deployment', 't-thanos-query');
    const q = ctr(pod, 'thanos-query');
    expect(q.args).toContain('--http.config=/etc/vigil/web/web.yml');
    expect(secretBehind(pod, q, '/etc/vigil/web/web.yml')).toEqual({
      secret: 't-prometheus-web-config',
      key: 'web.yml',
    });
    expect(q.readinessProbe.tcpSocket).toEqual({ port: 'http' });
  });

  it('runs Alertmanager with --web.config.file from its own web config, probed on TCP', () => {
    const pod = podOf(s, 'StatefulSet', 't-alertmanager');
    const a = ctr(pod, 'alertmanager');
    expect(a.args).toContain('--web.config.file=/etc/vigil/web/web.yml');
    expect(secretBehind(pod, a, '/etc/vigil/web/web.yml')).toEqual({
      secret: 't-alertmanager-web-config',
      key: 'web.yml',
    });
    expect(a.livenessProbe.tcpSocket).toEqual({ port: 'http' });
  });

  it("has Tempo's metrics generator remote-write with the Prometheus credentials' files", () => {
    const rw = (tempoConfig(ctx) as Any).metrics_generator.storage.remote_write[0];
    expect(rw.basic_auth).toEqual(promFiles);
    const pod = podOf(s, 'StatefulSet', 't-tempo');
    const t = ctr(pod, 'tempo');
    expect(secretBehind(pod, t, promFiles.username_file)).toEqual({ secret: 't-prometheus-auth', key: 'username' });
    expect(secretBehind(pod, t, promFiles.password_file)).toEqual({ secret: 't-prometheus-auth', key: 'password' });
  });

  it("gives Grafana's Prometheus datasource basic auth from variables the pod takes from the Secret", () => {
    const text = find(s, 'ConfigMap', 't-grafana-datasources').data['datasources.yaml'] as string;
    // Grafana expands ${VAR}: these two stay references, every other $ is escaped.
    expect(text).toContain('basicAuth: true');
    const ref = (name: string) => ['$', `{${name}}`].join('');
    expect(text).toContain(`basicAuthUser: ${ref('VIGIL_PROMETHEUS_USER')}`);
    expect(text).toContain(`basicAuthPassword: ${ref('VIGIL_PROMETHEUS_PASSWORD')}`);
    expect(text).toContain('$${__value.raw}');
    const env = envOf(ctr(podOf(s, 'Deployment', 't-grafana'), 'grafana'));
    expect(env.VIGIL_PROMETHEUS_USER).toEqual(fromSecret('t-prometheus-auth', 'username'));
    expect(env.VIGIL_PROMETHEUS_PASSWORD).toEqual(fromSecret('t-prometheus-auth', 'password'));
  });

  it("has the gateway send Prometheus's Authorization header from the environment", () => {
    const exp = (collectorConfig(ctx) as Any).exporters['otlp_http/prometheus'];
    expect(exp.headers).toEqual({ Authorization: ['$', '{env:PROMETHEUS_AUTHORIZATION}'].join('') });
    const env = envOf(ctr(podOf(s, 'Deployment', 't-collector'), 'otelcol'));
    expect(env.PROMETHEUS_AUTHORIZATION).toEqual(fromSecret('t-prometheus-auth', 'authorization'));
  });

  it('puts no credential in any ConfigMap: only file paths and variable names', () => {
    for (const cm of objectsOf(s).filter((o) => o.kind === 'ConfigMap')) {
      const text = Object.values(cm.data ?? {}).join('\n');
      expect(text).not.toMatch(/Basic [A-Za-z0-9+/=]{8,}/);
      expect(text).not.toMatch(/^\s*password:/m);
      expect(text).not.toMatch(/basic_auth_users/);
    }
  });
});

describe('basic auth on, with Secrets the spec names', () => {
  const s = on({ secretRef: { name: 'prom-creds' } }, { secretRef: { name: 'am-creds' } });
  const prom = podOf(s, 'StatefulSet', 't-prometheus');

  it('reads the credentials from the named Secrets; the web configs stay the operator’s', () => {
    const p = ctr(prom, 'prometheus');
    expect(secretBehind(prom, p, promFiles.password_file)).toEqual({ secret: 'prom-creds', key: 'password' });
    expect(secretBehind(prom, p, amFiles.password_file)).toEqual({ secret: 'am-creds', key: 'password' });
    expect(secretBehind(prom, p, '/etc/vigil/web/web.yml')?.secret).toBe('t-prometheus-web-config');
    const env = envOf(ctr(podOf(s, 'Deployment', 't-grafana'), 'grafana'));
    expect(env.VIGIL_PROMETHEUS_PASSWORD).toEqual(fromSecret('prom-creds', 'password'));
    const gw = envOf(ctr(podOf(s, 'Deployment', 't-collector'), 'otelcol'));
    expect(gw.PROMETHEUS_AUTHORIZATION).toEqual(fromSecret('prom-creds', 'authorization'));
  });
});

describe('basic auth off (the default)', () => {
  const s = off();
  const ctx = stackContext(s);
  const objects = objectsOf(s);
  const text = JSON.stringify(objects);

  it('renders no web config, no query API credentials and HTTP probes', () => {
    const named = [
      'web.config.file',
      '--http.config',
      'http-client-file',
      'prometheus-auth',
      'alertmanager-auth',
      'VIGIL_PROMETHEUS_',
      'PROMETHEUS_AUTHORIZATION',
      'web-config',
    ];
    expect(named.filter((n) => text.includes(n))).toEqual([]);
    const config = prometheusConfig(ctx) as Any;
    const withAuth = config.scrape_configs.filter((j: Any) => j.basic_auth).map((j: Any) => j.job_name);
    expect(withAuth).toEqual(['correlator']);
    expect(config.alerting.alertmanagers[0].basic_auth).toBeUndefined();
    const p = ctr(podOf(s, 'StatefulSet', 't-prometheus'), 'prometheus');
    expect(p.readinessProbe.httpGet.path).toBe('/-/ready');
    expect((collectorConfig(ctx) as Any).exporters['otlp_http/prometheus'].headers).toBeUndefined();
    expect((tempoConfig(ctx) as Any).metrics_generator.storage.remote_write[0].basic_auth).toBeUndefined();
  });

  it('is off by default in the schema', () => {
    const v = aStack({ metrics: { basicAuth: {} }, alerting: { basicAuth: {} } } as Any);
    expect(v.spec.metrics?.basicAuth?.enabled).toBe(false);
    expect(v.spec.alerting?.basicAuth?.enabled).toBe(false);
  });
});

describe('one API on, the other off', () => {
  it('Alertmanager only: Prometheus keeps its open API and sends Alertmanager the credentials', () => {
    const s = aStack({ ...base, alerting: { basicAuth: { enabled: true } } } as Any);
    const config = prometheusConfig(stackContext(s)) as Any;
    expect(config.alerting.alertmanagers[0].basic_auth).toEqual(amFiles);
    expect(config.scrape_configs.find((j: Any) => j.job_name === 'prometheus').basic_auth).toBeUndefined();
    const p = ctr(podOf(s, 'StatefulSet', 't-prometheus'), 'prometheus');
    expect(p.args.join(' ')).not.toMatch(/web\.config/);
  });

  it('Alertmanager off: spec.alerting.basicAuth renders nothing', () => {
    const s = aStack({
      metrics: { alertmanager: { enabled: false } },
      alerting: { basicAuth: { enabled: true } },
    } as Any);
    const text = JSON.stringify(objectsOf(s));
    expect(text.includes('alertmanager-auth') || text.includes('alertmanager-web-config')).toBe(false);
  });

  it('Prometheus only, one replica: no Thanos, the self-scrape and Grafana with credentials', () => {
    const s = aStack({ metrics: { basicAuth: { enabled: true } }, grafana: {} } as Any);
    const prom = podOf(s, 'StatefulSet', 't-prometheus');
    expect(prom.containers.map((c: Any) => c.name)).not.toContain('thanos-sidecar');
    const vol = prom.volumes.find((v: Any) => v.name === 'web-config');
    expect(vol.secret.items.map((i: Any) => i.key)).toEqual(['web.yml']);
    const config = prometheusConfig(stackContext(s)) as Any;
    expect(config.scrape_configs.find((j: Any) => j.job_name === 'prometheus').basic_auth).toEqual(promFiles);
  });
});
