// Basic auth on the query APIs with real processes (docs/adr/0020-basic-auth-on-query-apis.md): the
// s3-medium fixture (an HA pair, basic auth on both APIs, Secrets the operator generates) as
// rendered, run by a real Prometheus 3.5 (hack/build-prometheus.sh), a real Thanos 0.42 sidecar and
// querier (hack/build-thanos.sh) and a real Alertmanager 0.35 (hack/build-alertmanager.sh). The
// auth Secrets' values and the web-config Secrets are what the operator writes (controller/web-config.ts,
// a real bcrypt hash). Each server answers 401 without credentials and with a wrong password; with
// the rendered scrape and alerting config, `up` is 1 for the self-scrape, the querier and
// Alertmanager, the sidecar reaches its Prometheus (the querier answers through it), an alert
// reaches Alertmanager, and the SLO budget reader's request with the Secret's header is answered.
// A real gateway collector (hack/build-otelcol.sh) runs the rendered `otlp_http/prometheus` exporter
// with the Authorization header from its environment, and the metric it is sent arrives.
//
// What the test substitutes, and only that (a pod's network is not 127.0.x.y, there is no
// Kubernetes API here):
// - hosts: pod addresses are 127.0.S.1 (Prometheus and its sidecar), .2 (Thanos Query), .3
//   (Alertmanager) on the rendered ports; the sidecar's --prometheus.url=http://localhost:9090 and the
//   self-scrape's localhost:9090 name .1;
// - Kubernetes service discovery: the rendered `thanos-query` and `alertmanager` jobs and the
//   Alertmanager of `alerting` keep everything (their basic_auth too) but get static targets in
//   place of kubernetes_sd_configs and relabel_configs; the other jobs, which need an API server,
//   are left out; intervals are 1s, the rule files one always-firing alert, and firing alerts are
//   resent every 2s (--rules.alert.resend-delay, not rendered: the default minute would bound the test);
// - Secrets: the mounted folders /etc/vigil/web and /etc/vigil/auth/<api> are folders of a temporary
//   directory holding the Secrets' keys as files, as the kubelet projects them;
// - the gateway: only its rendered metrics pipeline (receiver, processors, the Prometheus exporter
//   as rendered, its endpoint on 127.0.S.1), listening on 127.0.S.5 (test/support/collectors.ts's localize);
// - paths: --config.file, --storage.* and --tsdb.path point into the temporary directory; one
//   Alertmanager runs, with clustering off (the mesh is alertmanager-ha.test.ts's business).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { readBudget } from '../../../controller/budget.js';
import { randomPassword } from '../../../controller/generated-secret.js';
import { webConfigValues } from '../../../controller/web-config.js';
import { collectorConfig } from '../../../desired/stack/collector.js';
import { PORTS, stackContext } from '../../../desired/stack/context.js';
import { basicAuthorization } from '../../../desired/stack/correlator.js';
import { renderStack } from '../../../desired/stack/index.js';
import { WEB_CONFIG_KEYS } from '../../../desired/stack/query-auth.js';
import { gatewayOtelcol, localize, type Running, startCollector } from '../../support/collectors.js';
import { freePort, Peer, waitFor } from '../correlator/peers.js';
import { FIXTURES, loadStack } from './stacks.js';
import { alertmanager, prometheus, thanos } from './tools.js';

// biome-ignore lint/suspicious/noExplicitAny: walking rendered JSON
type Loose = any;

const stack = loadStack(FIXTURES['s3-medium']);
const { name } = stack.metadata as { name: string };
const objects = renderStack(stack).objects as Loose[];
const find = (kind: string, n: string) => objects.find((o) => o.kind === kind && o.metadata.name === n);
const promSts = find('StatefulSet', `${name}-prometheus`);
const promCtr = promSts.spec.template.spec.containers.find((c: Loose) => c.name === 'prometheus');
const sidecarCtr = promSts.spec.template.spec.containers.find((c: Loose) => c.name === 'thanos-sidecar');
const queryCtr = find('Deployment', `${name}-thanos-query`).spec.template.spec.containers[0];
const amCtr = find('StatefulSet', `${name}-alertmanager`).spec.template.spec.containers[0];
const promConfigText: string = find('ConfigMap', `${name}-prometheus`).data['prometheus.yml'];
const amConfigText: string = find('ConfigMap', `${name}-alertmanager`).data['alertmanager.yml'];

/** Resend firing alerts every 2s, not every minute: the first send can precede the Alertmanager's discovery. */
const RESEND = '--rules.alert.resend-delay=2s';

const subnet = 90 + (process.pid % 10);
const ip = (i: number) => `127.0.${subnet}.${i}`;
const PROM = `${ip(1)}:${PORTS.prometheus}`;
const QUERY = `${ip(2)}:${PORTS.thanosHttp}`;
const AM = `${ip(3)}:${PORTS.alertmanager}`;

const creds = {
  prometheus: { username: 'vigil', password: randomPassword() },
  alertmanager: { username: 'vigil', password: randomPassword() },
};
const header = (api: keyof typeof creds, password = creds[api].password) =>
  basicAuthorization(creds[api].username, password);

let dir = '';
/** A rendered path under /etc/vigil (a mounted Secret) as the test's file. */
const local = (s: string) => s.replaceAll('/etc/vigil/', `${dir}/etc/vigil/`);

function mapArgs(args: string[], map: Record<string, string | null>): string[] {
  return args.flatMap((a) => {
    const key = Object.keys(map).find((k) => a === k || a.startsWith(k));
    if (key === undefined) {
      if (a.includes('0.0.0.0') || a.includes('localhost') || a.includes('.svc'))
        throw new Error(`the test cannot run the rendered ${a}`);
      return [local(a)];
    }
    const v = map[key];
    return v === null ? [] : [v];
  });
}

async function status(url: string, authorization?: string): Promise<number> {
  const res = await fetch(url, { headers: authorization ? { authorization } : {}, signal: AbortSignal.timeout(5000) });
  await res.arrayBuffer();
  return res.status;
}

async function waitOk(p: Peer, url: string, authorization: string): Promise<void> {
  await waitFor(
    `${p.name} ready`,
    async () => {
      if (!p.running) throw new Error(`${p.name} exited:\n${p.output()}`);
      return (await status(url, authorization)) === 200 ? true : undefined;
    },
    90_000,
    200,
  ).catch((err) => {
    throw new Error(`${err}\n${p.output().slice(-4000)}`);
  });
}

describe('basic auth on the query APIs, with real processes', () => {
  const peers: Peer[] = [];
  const start = (p: Peer) => {
    peers.push(p);
    p.start();
    return p;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-query-auth-'));
    // The Secrets as the kubelet mounts them: the web configs the operator writes, the auth keys.
    const web = await webConfigValues('prometheus', {}, creds.prometheus.username, creds.prometheus.password);
    const amWeb = await webConfigValues('alertmanager', {}, creds.alertmanager.username, creds.alertmanager.password);
    for (const [sub, files] of [
      ['etc/vigil/web', { ...web, [WEB_CONFIG_KEYS.thanosClient]: local(web[WEB_CONFIG_KEYS.thanosClient]) }],
      ['etc/vigil/am-web', amWeb],
      ['etc/vigil/auth/prometheus', creds.prometheus],
      ['etc/vigil/auth/alertmanager', creds.alertmanager],
    ] as const) {
      mkdirSync(join(dir, sub), { recursive: true });
      for (const [k, v] of Object.entries(files)) writeFileSync(join(dir, sub, k), v);
    }
    mkdirSync(join(dir, 'prom-data'));
    mkdirSync(join(dir, 'am-data'));
  });

  let gateway: Running | undefined;
  afterAll(async () => {
    await gateway?.stop();
    await Promise.all(peers.map((p) => p.stop(5000)));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The rendered prometheus.yml with the substitutions of the header. */
  function promConfig(): string {
    const config = yaml.load(promConfigText) as Loose;
    config.global.scrape_interval = '1s';
    config.global.evaluation_interval = '1s';
    config.rule_files = [join(dir, 'rules.yml')];
    const job = (j: string) => config.scrape_configs.find((s: Loose) => s.job_name === j);
    const self = job('prometheus');
    expect(self.static_configs).toEqual([{ targets: [`localhost:${PORTS.prometheus}`] }]);
    self.static_configs = [{ targets: [PROM] }];
    const staticJob = (j: string, target: string) => {
      const { kubernetes_sd_configs: _sd, relabel_configs: _relabel, ...rest } = job(j);
      return { ...rest, static_configs: [{ targets: [target] }] };
    };
    config.scrape_configs = [self, staticJob('thanos-query', QUERY), staticJob('alertmanager', AM)];
    const { kubernetes_sd_configs: _sd, relabel_configs: _relabel, ...am } = config.alerting.alertmanagers[0];
    config.alerting.alertmanagers = [{ ...am, static_configs: [{ targets: [AM] }] }];
    return local(yaml.dump(config, { noRefs: true, lineWidth: -1 }));
  }

  it('renders every server with its web config and every client with credentials', () => {
    expect(promCtr.args).toContain('--web.config.file=/etc/vigil/web/web.yml');
    expect(queryCtr.args).toContain('--http.config=/etc/vigil/web/web.yml');
    expect(amCtr.args).toContain('--web.config.file=/etc/vigil/web/web.yml');
    expect(sidecarCtr.args).toContain('--prometheus.http-client-file=/etc/vigil/web/thanos-http-client.yml');
    const config = yaml.load(promConfigText) as Loose;
    for (const j of ['prometheus', 'thanos-query', 'alertmanager']) {
      expect(config.scrape_configs.find((s: Loose) => s.job_name === j).basic_auth).toBeDefined();
    }
    expect(config.alerting.alertmanagers[0].basic_auth).toBeDefined();
  });

  it('answers 401 without credentials; with the rendered clients up is 1 for each job and an alert reaches Alertmanager', async () => {
    // Alertmanager: its own web config is mounted at the same path in its own pod.
    writeFileSync(join(dir, 'alertmanager.yml'), amConfigText);
    const amArgs = mapArgs(amCtr.args, {
      '--config.file=': `--config.file=${join(dir, 'alertmanager.yml')}`,
      '--storage.path=': `--storage.path=${join(dir, 'am-data')}`,
      '--web.listen-address=': `--web.listen-address=${AM}`,
      '--web.config.file=': `--web.config.file=${dir}/etc/vigil/am-web/web.yml`,
      '--cluster.listen-address=': '--cluster.listen-address=',
      '--cluster.peer=': null,
      '--cluster.advertise-address=': null,
    });
    const am = start(new Peer('alertmanager', alertmanager(), [...amArgs, '--log.level=warn'], dir));

    writeFileSync(
      join(dir, 'rules.yml'),
      yaml.dump({ groups: [{ name: 'auth', rules: [{ alert: 'VigilQueryAuthTest', expr: 'vector(1)' }] }] }),
    );
    writeFileSync(join(dir, 'prometheus.yml'), promConfig());
    const promArgs = mapArgs(promCtr.args, {
      '--config.file=': `--config.file=${join(dir, 'prometheus.yml')}`,
      '--storage.tsdb.path=': `--storage.tsdb.path=${join(dir, 'prom-data')}`,
    });
    const env = { ...process.env, POD_NAME: `${name}-prometheus-0` };
    const prom = start(
      new Peer('prometheus', prometheus(), [...promArgs, `--web.listen-address=${PROM}`, RESEND], dir, env),
    );

    await waitOk(am, `http://${AM}/-/ready`, header('alertmanager'));
    await waitOk(prom, `http://${PROM}/-/ready`, header('prometheus'));

    const sidecarArgs = mapArgs(sidecarCtr.args, {
      '--prometheus.url=': `--prometheus.url=http://${PROM}`,
      '--tsdb.path=': `--tsdb.path=${join(dir, 'prom-data')}`,
      '--grpc-address=': `--grpc-address=${ip(1)}:${PORTS.thanosGrpc}`,
      '--http-address=': `--http-address=${ip(1)}:${PORTS.thanosHttp}`,
    });
    const sidecar = start(new Peer('thanos-sidecar', thanos(), sidecarArgs, dir));
    // The sidecar is ready once it has read its Prometheus's external labels: with the credentials.
    await waitOk(sidecar, `http://${ip(1)}:${PORTS.thanosHttp}/-/ready`, '');

    const queryArgs = mapArgs(queryCtr.args, {
      '--endpoint.sd-config=': `--endpoint.sd-config=${JSON.stringify({ endpoints: [{ address: `${ip(1)}:${PORTS.thanosGrpc}` }] })}`,
      '--http-address=': `--http-address=${QUERY}`,
      '--grpc-address=': `--grpc-address=${ip(2)}:${PORTS.thanosGrpc}`,
    });
    const query = start(new Peer('thanos-query', thanos(), queryArgs, dir));
    await waitOk(query, `http://${QUERY}/-/ready`, header('prometheus'));

    // 401 without credentials and with a wrong password, on the query paths and the probe paths.
    const wrong = (api: keyof typeof creds) => header(api, 'not-the-password');
    for (const [url, api] of [
      [`http://${PROM}/api/v1/query?query=up`, 'prometheus'],
      [`http://${PROM}/-/ready`, 'prometheus'],
      [`http://${PROM}/metrics`, 'prometheus'],
      [`http://${QUERY}/api/v1/query?query=up`, 'prometheus'],
      [`http://${QUERY}/metrics`, 'prometheus'],
      [`http://${AM}/api/v2/alerts`, 'alertmanager'],
      [`http://${AM}/-/ready`, 'alertmanager'],
    ] as const) {
      expect([url, await status(url)]).toEqual([url, 401]);
      expect([url, await status(url, wrong(api))]).toEqual([url, 401]);
      expect([url, await status(url, header(api))]).toEqual([url, 200]);
    }

    // Through the querier (and so through the sidecar's authenticated remote read of Prometheus).
    const query1 = async (q: string) => {
      const res = await fetch(`http://${QUERY}/api/v1/query?${new URLSearchParams({ query: q })}`, {
        headers: { authorization: header('prometheus') },
      });
      const body = (await res.json()) as {
        data: { result: { metric: Record<string, string>; value: [number, string] }[] };
      };
      return body.data.result;
    };
    let last: unknown;
    const up = await waitFor(
      'up == 1 for the self-scrape, the querier and Alertmanager',
      async () => {
        const r = await query1('up');
        last = r;
        const byJob = Object.fromEntries(r.map((s) => [s.metric.job, s.value[1]]));
        return byJob.prometheus === '1' && byJob['thanos-query'] === '1' && byJob.alertmanager === '1'
          ? byJob
          : undefined;
      },
      60_000,
      500,
    ).catch((err) => {
      throw new Error(
        `${err}\nlast: ${JSON.stringify(last)}\n${peers.map((p) => `--- ${p.name}\n${p.output().slice(-2000)}`).join('\n')}`,
      );
    });
    expect(up).toEqual({ prometheus: '1', 'thanos-query': '1', alertmanager: '1' });

    // The rendered alerting config, with its basic_auth, delivers the alert.
    const alerts = await waitFor(
      'the alert in Alertmanager',
      async () => {
        const res = await fetch(`http://${AM}/api/v2/alerts`, { headers: { authorization: header('alertmanager') } });
        const body = (await res.json()) as { labels: Record<string, string> }[];
        return body.some((a) => a.labels.alertname === 'VigilQueryAuthTest') ? body : undefined;
      },
      60_000,
      500,
    );
    expect(alerts.find((a) => a.labels.alertname === 'VigilQueryAuthTest')?.labels.vigil_stack).toBe(name);
    // Prometheus's own counters (its self-scrape lags the send by up to a scrape interval).
    await waitFor(
      'a sent notification in prometheus_notifications_sent_total',
      async () =>
        Number((await query1('sum(prometheus_notifications_sent_total)'))[0]?.value[1]) > 0 ? true : undefined,
      30_000,
      500,
    );
    const errors = await query1('sum(prometheus_notifications_errors_total)');
    expect(errors[0]?.value[1]).toBe('0');

    // The control: a sidecar without the rendered client config never gets its Prometheus's labels.
    const bareArgs = sidecarArgs
      .filter((a) => !a.startsWith('--prometheus.http-client-file='))
      .map((a) => a.replace(`${ip(1)}:${PORTS.thanosGrpc}`, `${ip(4)}:${PORTS.thanosGrpc}`))
      .map((a) => a.replace(`${ip(1)}:${PORTS.thanosHttp}`, `${ip(4)}:${PORTS.thanosHttp}`));
    const bare = start(new Peer('thanos-sidecar-without-client-config', thanos(), bareArgs, dir));
    await waitFor(
      'the bare sidecar to be refused',
      () => (bare.output().includes('401') ? true : undefined),
      30_000,
      200,
    );
    expect(await status(`http://${ip(4)}:${PORTS.thanosHttp}/-/ready`)).not.toBe(200);
    await bare.stop(5000);

    // The SLO budget reader, as the operator sends it: answered with the header, refused without.
    await expect(
      readBudget(fetch, `http://${QUERY}`, 'observability', 'none', 5000, header('prometheus')),
    ).resolves.toBeUndefined();
    await expect(readBudget(fetch, `http://${QUERY}`, 'observability', 'none', 5000)).rejects.toThrow(/HTTP 401/);
  }, 240_000);
  it("delivers the gateway collector's OTLP metrics with the Authorization header from its environment", async () => {
    expect(peers.find((p) => p.name === 'prometheus')?.running).toBe(true);
    const rendered = collectorConfig(stackContext(stack)) as Loose;
    const exporter = rendered.exporters['otlp_http/prometheus'];
    expect(exporter.headers).toEqual({ Authorization: ['$', '{env:PROMETHEUS_AUTHORIZATION}'].join('') });
    const ports = {
      otlpGrpc: await freePort(),
      otlpHttp: await freePort(),
      health: await freePort(),
      metrics: await freePort(),
    };
    const metrics = rendered.service.pipelines.metrics;
    expect(metrics.exporters).toEqual(['otlp_http/prometheus']);
    const config = localize(
      {
        ...rendered,
        exporters: {
          'otlp_http/prometheus': {
            ...exporter,
            metrics_endpoint: exporter.metrics_endpoint.replace(/^http:\/\/[^/]+/, `http://${PROM}`),
          },
        },
        connectors: undefined,
        service: { ...rendered.service, pipelines: { metrics } },
      },
      ip(5),
      ports,
    );
    delete (config as Loose).connectors;
    const env = { ...process.env, PROMETHEUS_AUTHORIZATION: header('prometheus') };
    gateway = await startCollector('gateway', gatewayOtelcol(), config, env);
    const now = `${Date.now()}000000`;
    const body = {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'auth-test' } }] },
          scopeMetrics: [
            {
              metrics: [{ name: 'vigil_auth_otlp_test', gauge: { dataPoints: [{ asDouble: 7, timeUnixNano: now }] } }],
            },
          ],
        },
      ],
    };
    const res = await fetch(`http://${ip(5)}:${ports.otlpHttp}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    const got = await waitFor(
      'the OTLP metric in Prometheus',
      async () => {
        const r = await fetch(`http://${PROM}/api/v1/query?query=vigil_auth_otlp_test`, {
          headers: { authorization: header('prometheus') },
        });
        const result = ((await r.json()) as Loose).data.result as Loose[];
        return result.length ? result : undefined;
      },
      30_000,
      500,
    ).catch((err) => {
      throw new Error(`${err}\n${gateway?.peer.output().slice(-3000)}`);
    });
    expect(got[0].value[1]).toBe('7');
    expect(got[0].metric.job).toBe('auth-test');

    // The control: the same collector with a wrong password in its environment is refused.
    await gateway.stop();
    const wrongEnv = { ...process.env, PROMETHEUS_AUTHORIZATION: header('prometheus', 'not-the-password') };
    gateway = await startCollector('gateway-wrong-password', gatewayOtelcol(), config, wrongEnv);
    body.resourceMetrics[0].scopeMetrics[0].metrics[0].name = 'vigil_auth_otlp_refused';
    const again = await fetch(`http://${ip(5)}:${ports.otlpHttp}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(again.status).toBe(200);
    const running = gateway;
    await waitFor(
      'a failed send in the collector',
      async () => {
        const text = await (await fetch(running.metricsUrl)).text();
        const failed = /^otelcol_exporter_send_failed_metric_points(?:_total)?\{[^}]*\} (\S+)/m.exec(text);
        return failed && Number(failed[1]) > 0 ? true : undefined;
      },
      30_000,
      500,
    ).catch((err) => {
      throw new Error(`${err}\n${running.peer.output().slice(-3000)}`);
    });
    const refused = await fetch(`http://${PROM}/api/v1/query?query=vigil_auth_otlp_refused`, {
      headers: { authorization: header('prometheus') },
    });
    expect(((await refused.json()) as Loose).data.result).toEqual([]);
  }, 120_000);
});
