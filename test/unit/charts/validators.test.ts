// The generated configs, checked by the real programs that will read them: the OpenTelemetry
// Collector (built with the collector builder), promtool and amtool (built from Go modules), at
// the versions desired/stack/images.ts deploys (amtool: not older than the image). A real
// Alertmanager runs the rendered config to prove that a page inhibits its ticket.
// Loki and Tempo are AGPL: they are never built or run here (docs/adr/0006, 0010), so their configs
// get a STRUCTURAL CHECK, labelled as such: a schema of the keys and types Vigil emits, from their
// configuration references, that rejects unknown keys (./structural.ts).
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import type { SLO } from '../../../api/types.js';
import { SIZE_PROFILES } from '../../../api/types.js';
import { validateResource } from '../../../api/validate.js';
import { sloRules } from '../../../desired/slo/index.js';
import { alertmanagerConfig } from '../../../desired/stack/alertmanager.js';
import { collectorConfig } from '../../../desired/stack/collector.js';
import { stackContext } from '../../../desired/stack/context.js';
import { escapeDollars, grafanaDatasources } from '../../../desired/stack/grafana.js';
import { renderStack } from '../../../desired/stack/index.js';
import { lokiConfig } from '../../../desired/stack/loki.js';
import { prometheusConfig, RULES_DIR } from '../../../desired/stack/prometheus.js';
import { basicAuthFiles, queryAuthOn } from '../../../desired/stack/query-auth.js';
import { stackAlerts } from '../../../desired/stack/stack-alerts.js';
import { tempoConfig } from '../../../desired/stack/tempo.js';
import { anSLO } from '../../support/builders.js';
import { freePort, Peer, waitFor } from '../correlator/peers.js';
import { aStack, FIXTURES, loadStack, REPO } from './stacks.js';
import { LOKI_SCHEMA, structuralProblems, TEMPO_SCHEMA } from './structural.js';
import { alertmanager, amtool, otelcol, promtool, run } from './tools.js';

const tmp = mkdtempSync(join(tmpdir(), 'vigil-render-'));
let n = 0;
const write = (name: string, text: string) => {
  const file = join(tmp, `${n++}-${name}`);
  writeFileSync(file, text);
  return file;
};
const dump = (o: unknown) => yaml.dump(o, { noRefs: true, lineWidth: -1 });
const SECRET_ENV = {
  CORRELATOR_AUTHORIZATION: 'Basic dGVzdDp0ZXN0',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
};

const SAMPLINGS = {
  'no sampling': undefined,
  'errors only': { errors: true },
  'errors, slow, baseline': { errors: true, slowerThan: '2s', baselinePercent: 10 },
  'baseline only': { errors: false, baselinePercent: 25 },
};

/** The example stacks of `make deploy-core` / `deploy-traces` / `deploy-logs`. */
const STAGES = readdirSync(join(REPO, 'examples/stages'))
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f): [string, ReturnType<typeof aStack>] => [`stage ${f}`, loadStack(join(REPO, 'examples/stages', f))]);

const VARIANTS: [string, ReturnType<typeof aStack>][] = [
  ...Object.entries(FIXTURES).map(([name, file]): [string, ReturnType<typeof aStack>] => [name, loadStack(file)]),
  ...STAGES,
  ...SIZE_PROFILES.flatMap((size) =>
    Object.entries(SAMPLINGS).map(([label, sampling]): [string, ReturnType<typeof aStack>] => [
      `${size}, ${label}`,
      aStack({ size, traces: {}, logs: {}, collector: sampling ? { sampling } : {} }),
    ]),
  ),
  [
    'three correlators with basic auth',
    aStack({ traces: {}, logs: {}, correlation: { replicas: 3, basicAuthSecretRef: { name: 'auth' } } }),
  ],
  ['daemonset collector', aStack({ collector: { mode: 'daemonset' } })],
  ['metrics only', aStack({ correlation: { enabled: false } })],
  ['correlation only', aStack({ metrics: { enabled: false } })],
  [
    'S3 storage',
    aStack({
      traces: {},
      logs: {},
      objectStorage: { s3: { endpoint: 'https://s3.example.com', bucket: 'telemetry', secretRef: { name: 's3' } } },
    }),
  ],
];

describe('every variant renders without problems', () => {
  it.each(VARIANTS)('%s', (_name, stack) => {
    expect(renderStack(stack).problems).toEqual([]);
  });
});

describe('the OpenTelemetry Collector accepts every generated config (otelcol validate)', () => {
  it.each(VARIANTS)('%s', (_name, stack) => {
    const file = write('collector.yaml', dump(collectorConfig(stackContext(stack))));
    run(otelcol(), ['validate', `--config=${file}`], SECRET_ENV);
  });
});

describe('collector component names', () => {
  it('uses the current type names of the pinned collector, not their deprecated aliases', () => {
    const deprecated = new Set(['otlp', 'otlphttp', 'loadbalancing']);
    for (const [, stack] of VARIANTS) {
      const config = collectorConfig(stackContext(stack)) as { exporters: Record<string, unknown> };
      for (const id of Object.keys(config.exporters)) expect(deprecated.has(id.split('/')[0])).toBe(false);
    }
  });

  it('the collector rejects an unknown exporter type', () => {
    const badCollector = { ...collectorConfig(stackContext(aStack())), exporters: { 'otlphttp_bogus/x': {} } };
    expect(() => run(otelcol(), ['validate', `--config=${write('bad-collector.yaml', dump(badCollector))}`])).toThrow(
      /unknown type/,
    );
  });
});

describe('promtool accepts the Prometheus config and the shipped rules', () => {
  it.each(VARIANTS.filter(([, s]) => stackContext(s).on.prometheus))('%s', (_name, stack) => {
    const ctx = stackContext(stack);
    const dir = join(tmp, `rules-${n++}`);
    mkdirSync(join(dir, 'vigil'), { recursive: true });
    mkdirSync(join(dir, 'slo'), { recursive: true });
    const rules = join(dir, 'vigil', 'vigil-stack.rules.yaml');
    writeFileSync(rules, dump(stackAlerts(ctx)));
    // Point rule_files at the temporary folder, so that `check config` also loads the rules.
    const config = dump(prometheusConfig(ctx)).replaceAll(RULES_DIR, dir);
    const out = run(promtool(), ['check', 'config', write('prometheus.yml', config)]);
    expect(out).toContain(`SUCCESS: ${stackAlerts(ctx).groups.flatMap((g) => g.rules).length} rules found`);
    run(promtool(), ['check', 'rules', rules]);
  });
});

/** A config as its program reads it: the YAML text the chart writes, parsed again. */
const asRead = (config: unknown) => yaml.load(dump(config));

describe('Loki config, STRUCTURAL CHECK ONLY, not Loki itself (AGPL: never built or run here)', () => {
  it.each(VARIANTS.filter(([, s]) => stackContext(s).on.loki))('%s', (_name, stack) => {
    const ctx = stackContext(stack);
    const config = lokiConfig(ctx);
    expect(structuralProblems(LOKI_SCHEMA, asRead(config))).toEqual([]);
    // biome-ignore lint/suspicious/noExplicitAny: walking plain JSON
    const l = config as any;
    // trace_id lives in structured metadata, which needs schema v13 on TSDB.
    expect(l.limits_config.allow_structured_metadata).toBe(true);
    expect(l.schema_config.configs.at(-1)).toMatchObject({ store: 'tsdb', schema: 'v13' });
    expect(l.schema_config.configs.at(-1).object_store).toBe(ctx.spec.objectStorage?.s3 ? 's3' : 'filesystem');
    expect(Object.keys(l.common.storage)).toEqual([ctx.spec.objectStorage?.s3 ? 's3' : 'filesystem']);
  });

  it('the structural check rejects an unknown key, a wrong type and an unknown otlp_config action, naming each', () => {
    // biome-ignore lint/suspicious/noExplicitAny: walking plain JSON
    const l = asRead(lokiConfig(stackContext(aStack({ logs: {} })))) as any;
    l.bogus_field = 1;
    l.limits_config.retention_perod = '7d';
    l.server.http_listen_port = '3100';
    l.limits_config.otlp_config = {
      resource_attributes: { attributes_config: [{ action: 'index_label', attributes: ['service.name'] }] },
      log_attributes: [{ action: 'label', attributes: ['level'] }],
    };
    expect(structuralProblems(LOKI_SCHEMA, l).sort()).toEqual([
      'bogus_field: unknown key (not in the schema from the configuration reference)',
      'limits_config.otlp_config.log_attributes.0.action: must be equal to one of the allowed values: index_label, structured_metadata, drop',
      'limits_config.retention_perod: unknown key (not in the schema from the configuration reference)',
      'server.http_listen_port: must be integer',
    ]);
  });

  it('the structural check accepts otlp_config as the configuration reference describes it', () => {
    // biome-ignore lint/suspicious/noExplicitAny: walking plain JSON
    const l = asRead(lokiConfig(stackContext(aStack({ logs: {} })))) as any;
    l.limits_config.otlp_config = {
      resource_attributes: {
        ignore_defaults: true,
        attributes_config: [
          { action: 'index_label', attributes: ['service.name', 'deployment.environment'] },
          { action: 'structured_metadata', regex: 'k8s\\..*' },
        ],
      },
      scope_attributes: [{ action: 'drop', attributes: ['otel.scope.version'] }],
      log_attributes: [{ action: 'structured_metadata', attributes: ['trace_id', 'span_id'] }],
      severity_text_as_label: false,
    };
    expect(structuralProblems(LOKI_SCHEMA, l)).toEqual([]);
  });
});

describe('scalable Loki and Tempo configs, STRUCTURAL CHECK ONLY (docs/adr/0017-scalable-loki-tempo.md)', () => {
  const scalableStack = aStack({
    size: 'large',
    logs: {},
    traces: {},
    objectStorage: { s3: { endpoint: 'https://s3.example.com', bucket: 'telemetry', secretRef: { name: 's3' } } },
  });

  it('the scalable configs carry the ring keys and pass the check', () => {
    const ctx = stackContext(scalableStack);
    // biome-ignore lint/suspicious/noExplicitAny: walking plain JSON
    const l = asRead(lokiConfig(ctx)) as any;
    // biome-ignore lint/suspicious/noExplicitAny: walking plain JSON
    const t = asRead(tempoConfig(ctx)) as any;
    expect(structuralProblems(LOKI_SCHEMA, l)).toEqual([]);
    expect(structuralProblems(TEMPO_SCHEMA, t)).toEqual([]);
    expect(Object.keys(l.memberlist).sort()).toEqual(['bind_port', 'join_members']);
    expect(l.common.compactor_address).toMatch(/^http:\/\//);
    expect(Object.keys(t.memberlist).sort()).toEqual(['abort_if_cluster_join_fails', 'bind_port', 'join_members']);
    expect(t.ingester.lifecycler.ring.replication_factor).toBe(3);
  });

  it('the structural check names a misspelt memberlist key, a join address without port and a bad frontend address', () => {
    const ctx = stackContext(scalableStack);
    // biome-ignore lint/suspicious/noExplicitAny: walking plain JSON
    const l = asRead(lokiConfig(ctx)) as any;
    l.memberlist.join_member = l.memberlist.join_members;
    l.memberlist.join_members = ['loki-memberlist'];
    l.common.compactor_address = 'loki-backend:3100';
    expect(structuralProblems(LOKI_SCHEMA, l).sort()).toEqual([
      'common.compactor_address: must match pattern "^https?://"',
      'memberlist.join_member: unknown key (not in the schema from the configuration reference)',
      'memberlist.join_members.0: must match pattern "^[^\\s:]*:[0-9]+$"',
    ]);
    // biome-ignore lint/suspicious/noExplicitAny: walking plain JSON
    const t = asRead(tempoConfig(ctx)) as any;
    t.querier.frontend_worker = { frontend_adress: 'x:9095' };
    t.ingester.lifecycler.ring.replication_factor = '3';
    expect(structuralProblems(TEMPO_SCHEMA, t).sort()).toEqual([
      'ingester.lifecycler.ring.replication_factor: must be integer',
      'querier.frontend_worker.frontend_adress: unknown key (not in the schema from the configuration reference)',
      "querier.frontend_worker: must have required property 'frontend_address'",
    ]);
  });
});

describe('Tempo config, STRUCTURAL CHECK ONLY, not Tempo itself (AGPL: never built or run here)', () => {
  const goDuration = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/;
  it.each(VARIANTS.filter(([, s]) => stackContext(s).on.tempo))('%s', (_name, stack) => {
    const ctx = stackContext(stack);
    expect(structuralProblems(TEMPO_SCHEMA, asRead(tempoConfig(ctx)))).toEqual([]);
    // biome-ignore lint/suspicious/noExplicitAny: walking plain JSON
    const t = tempoConfig(ctx) as any;
    expect(t.distributor.receivers.otlp.protocols.grpc.endpoint).toBe('0.0.0.0:4317');
    expect(t.distributor.receivers.otlp.protocols.http.endpoint).toBe('0.0.0.0:4318');
    expect(t.compactor.compaction.block_retention).toMatch(goDuration);
    expect(t.ingester.max_block_duration).toMatch(goDuration);
    expect(['local', 's3']).toContain(t.storage.trace.backend);
    expect(t.storage.trace[t.storage.trace.backend]).toBeDefined();
    if (ctx.on.prometheus) {
      expect(t.metrics_generator.storage.remote_write[0]).toEqual({
        url: `http://${ctx.host('prometheus')}:9090/api/v1/write`,
        send_exemplars: true,
        // With spec.metrics.basicAuth: the auth Secret's files (desired/stack/query-auth.ts).
        ...(queryAuthOn(ctx, 'prometheus') && { basic_auth: basicAuthFiles('prometheus') }),
      });
      expect(t.overrides.defaults.metrics_generator.processors.length).toBeGreaterThan(0);
    }
  });

  it('the structural check rejects an unknown key and a backend without its block, naming each', () => {
    // biome-ignore lint/suspicious/noExplicitAny: walking plain JSON
    const t = asRead(tempoConfig(stackContext(aStack({ traces: {} })))) as any;
    t.distributor.receivers.jaeger = {};
    t.storage.trace.backend = 's3';
    t.compactor.compaction.block_retention = '7d';
    expect(structuralProblems(TEMPO_SCHEMA, t).sort()).toEqual([
      'compactor.compaction.block_retention: must match pattern "^(0|([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$"',
      'distributor.receivers.jaeger: unknown key (not in the schema from the configuration reference)',
      "storage.trace: must have required property 's3'",
    ]);
  });
});

// ---------------------------------------------------------------- Alertmanager, by amtool

/** The routes of a rendered alertmanager.yml, as amtool sees them. */
interface AmRoute {
  receiver: string;
  matchers?: string[];
  continue?: boolean;
}

/** `name="value"` matchers as labels; amtool's routes test takes label=value pairs. */
function labelsOf(matchers: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    matchers.map((m) => {
      const eq = /^([A-Za-z_][A-Za-z0-9_]*)="(.*)"$/.exec(m);
      if (!eq) throw new Error(`test cannot build labels for the matcher ${m} (only name="value")`);
      return [eq[1], eq[2]];
    }),
  );
}

/** The receivers a label set reaches by the routing tree's rules (first match, unless continue). */
function expectedReceivers(am: { route: { receiver: string; routes?: AmRoute[] } }, labels: Record<string, string>) {
  const out: string[] = [];
  for (const r of am.route.routes ?? []) {
    if (Object.entries(labelsOf(r.matchers ?? [])).every(([k, v]) => labels[k] === v)) {
      out.push(r.receiver);
      if (!r.continue) break;
    }
  }
  return out.length ? out : [am.route.receiver];
}

const ALERTMANAGER_VARIANTS = VARIANTS.filter(([, s]) => stackContext(s).on.alertmanager);

describe('amtool check-config accepts every rendered alertmanager.yml', () => {
  it.each(ALERTMANAGER_VARIANTS)('%s', (_name, stack) => {
    const file = write('alertmanager.yml', dump(alertmanagerConfig(stackContext(stack))));
    const out = run(amtool(), ['check-config', file]);
    expect(out).toContain(`Checking '${file}'  SUCCESS`);
  });

  it('fails on a route to a receiver that does not exist, naming the file and the receiver', () => {
    const am = alertmanagerConfig(stackContext(loadStack(FIXTURES.full))) as { route: { routes: AmRoute[] } };
    am.route.routes[0].receiver = 'nobody';
    const file = write('broken-receiver-alertmanager.yml', dump(am));
    expect(() => run(amtool(), ['check-config', file])).toThrow(
      new RegExp(`Checking '${file}'  FAILED: undefined receiver "nobody" used in route`),
    );
  });
});

describe('amtool config routes test: every route reaches its receiver, and the rest the fallback', () => {
  it.each(ALERTMANAGER_VARIANTS)('%s', (_name, stack) => {
    const am = alertmanagerConfig(stackContext(stack)) as { route: { receiver: string; routes?: AmRoute[] } };
    const file = write('alertmanager.yml', dump(am));
    const cases = [
      ...(am.route.routes ?? []).map((r) => labelsOf(r.matchers ?? [])),
      { alertname: 'RoutedNowhere', severity: 'none' },
    ];
    for (const labels of cases) {
      const want = expectedReceivers(am, labels).join(',');
      const pairs = Object.entries({ alertname: 'VigilRouteTest', ...labels }).map(([k, v]) => `${k}=${v}`);
      const out = run(amtool(), [
        'config',
        'routes',
        'test',
        `--config.file=${file}`,
        `--verify.receivers=${want}`,
        ...pairs,
      ]);
      expect(out.trim()).toBe(want);
    }
  });
});

/** The alerts an SLO's rules raise, with the labels Prometheus would send (rule labels + alertname). */
function sloAlerts(name: string) {
  const v = validateResource(anSLO({}, name));
  if (!v.ok) throw new Error(JSON.stringify(v.problems));
  const slo = v.object as SLO;
  slo.metadata.namespace = 'team';
  return sloRules(slo)
    .groups.flatMap((g) => g.rules)
    .filter((r) => 'alert' in r && r.alert === 'SLOErrorBudgetBurn')
    .map((r) => {
      const rule = r as { alert: string; labels: Record<string, string> };
      return { alertname: rule.alert, ...rule.labels } as Record<string, string>;
    });
}

describe('a real Alertmanager running the rendered config', () => {
  const servers: Server[] = [];
  const peers: Peer[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    for (const p of peers) await p.stop();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("inhibits the ticket of an SLO whose page fires: the page reaches its receiver, the ticket does not, another SLO's ticket does", async () => {
    // Webhook receivers on 127.0.0.1 record what Alertmanager delivers.
    const delivered: { receiver: string; alerts: { labels: Record<string, string> }[] }[] = [];
    const hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        delivered.push({ receiver: req.url?.slice(1) ?? '', ...JSON.parse(body) });
        res.end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    servers.push(hook);
    const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}`;
    const stack = aStack({
      alerting: {
        receivers: [
          { name: 'oncall', webhook: { url: `${hookUrl}/oncall` } },
          { name: 'tickets', webhook: { url: `${hookUrl}/tickets` } },
        ],
        routes: [
          { receiver: 'oncall', matchers: ['severity="critical"'] },
          { receiver: 'tickets', matchers: ['severity="warning"'] },
        ],
      },
    });
    const dir = mkdtempSync(join(tmpdir(), 'vigil-alertmanager-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'alertmanager.yml'), dump(alertmanagerConfig(stackContext(stack))));
    const port = await freePort();
    const am = new Peer(
      'alertmanager',
      alertmanager(),
      [
        '--config.file=alertmanager.yml',
        `--storage.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=',
        '--log.level=warn',
      ],
      dir,
    );
    peers.push(am);
    am.start();
    const url = `http://127.0.0.1:${port}`;
    await am.waitReady(`${url}/-/ready`, 30_000);

    const [page, ticket] = sloAlerts('checkout-availability');
    expect([page.tier, ticket.tier]).toEqual(['page', 'ticket']);
    const [, otherTicket] = sloAlerts('search-availability');
    const posted = await fetch(`${url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([page, ticket, otherTicket].map((labels) => ({ labels }))),
    });
    expect(posted.status).toBe(200);

    type ApiAlert = {
      labels: Record<string, string>;
      fingerprint: string;
      status: { state: string; inhibitedBy: string[] };
    };
    const alerts = await waitFor(
      'three alerts in the API',
      async () => {
        const got = (await (await fetch(`${url}/api/v2/alerts`)).json()) as ApiAlert[];
        return got.length === 3 ? got : undefined;
      },
      10_000,
    );
    const find = (labels: Record<string, string>) =>
      alerts.find((a) => a.labels.slo === labels.slo && a.labels.tier === labels.tier) as ApiAlert;
    expect(find(page).status).toMatchObject({ state: 'active', inhibitedBy: [] });
    expect(find(ticket).status).toEqual(
      expect.objectContaining({ state: 'suppressed', inhibitedBy: [find(page).fingerprint] }),
    );
    expect(find(otherTicket).status).toMatchObject({ state: 'active', inhibitedBy: [] });
    // The same through amtool's query of inhibited alerts.
    const inhibited = JSON.parse(
      run(amtool(), ['alert', 'query', '--inhibited', '-o', 'json', `--alertmanager.url=${url}`]),
    ) as ApiAlert[];
    expect(inhibited.filter((a) => a.status.state === 'suppressed').map((a) => a.labels.slo)).toEqual([
      'checkout-availability',
    ]);

    // Delivery after the rendered group_wait (30 s): the page to oncall, only the other SLO's ticket to tickets.
    await waitFor('both notifications', () => (delivered.length >= 2 ? true : undefined), 60_000, 250);
    await new Promise((r) => setTimeout(r, 2000));
    const got = delivered.map(
      (d) => `${d.receiver}: ${d.alerts.map((a) => `${a.labels.slo} ${a.labels.tier}`).join(', ')}`,
    );
    expect(got.sort()).toEqual(['oncall: checkout-availability page', 'tickets: search-availability ticket']);
  }, 90_000);
});

describe('Alertmanager secrets', () => {
  it('reads Slack and PagerDuty keys from mounted Secret files, never inline', () => {
    const stack = loadStack(FIXTURES['s3-large']);
    // biome-ignore lint/suspicious/noExplicitAny: walking plain JSON
    const am = alertmanagerConfig(stackContext(stack)) as any;
    const receivers = Object.fromEntries(am.receivers.map((r: { name: string }) => [r.name, r]));
    expect(receivers.pager.pagerduty_configs[0].routing_key_file).toBe(
      '/etc/alertmanager/secrets/pagerduty/routing-key',
    );
    expect(receivers.chat.slack_configs[0].api_url_file).toBe('/etc/alertmanager/secrets/slack/url');
    const sts = renderStack(stack).objects.find(
      (o) => o.kind === 'StatefulSet' && o.metadata.name === 'prod-alertmanager',
    );
    const volumes = JSON.stringify(sts);
    expect(volumes).toContain('"secretName":"pagerduty"');
    expect(volumes).toContain('"secretName":"slack"');
  });
});

describe('Grafana datasources', () => {
  const ctx = stackContext(loadStack(FIXTURES.full));
  const text = escapeDollars(dump(grafanaDatasources(ctx)));

  it('writes every $ as $$ in the provisioning file', () => {
    expect(text).toContain('$$');
    expect(text.replace(/\$\$/g, '')).not.toContain('$');
  });

  it('wires exemplars, Loki trace ids, traces to logs and metrics, the service map and the node graph', () => {
    // biome-ignore lint/suspicious/noExplicitAny: walking plain JSON
    const ds = (yaml.load(text.replace(/\$\$/g, '$')) as any).datasources;
    const by = Object.fromEntries(ds.map((d: { uid: string }) => [d.uid, d]));
    expect(Object.keys(by).sort()).toEqual(['loki', 'prometheus', 'tempo']);
    expect(by.prometheus.jsonData.exemplarTraceIdDestinations[0]).toMatchObject({
      name: 'trace_id',
      datasourceUid: 'tempo',
    });
    expect(by.loki.jsonData.derivedFields[0]).toMatchObject({
      matcherType: 'label',
      matcherRegex: 'trace_id',
      datasourceUid: 'tempo',
    });
    expect(by.tempo.jsonData.tracesToLogsV2.datasourceUid).toBe('loki');
    expect(by.tempo.jsonData.tracesToMetrics.datasourceUid).toBe('prometheus');
    expect(by.tempo.jsonData.serviceMap.datasourceUid).toBe('prometheus');
    expect(by.tempo.jsonData.nodeGraph.enabled).toBe(true);
  });
});
