// The generated configs, checked by the real programs that will read them: the OpenTelemetry
// Collector (built with the collector builder), promtool and Loki (built from Go modules), all at
// the versions desired/stack/images.ts deploys. Tempo has no binary here, so its config gets a structural
// check, labelled as such: no Tempo release can be fetched as a Go module through the module proxy
// this project can reach. Its v2.x tags are not module versions of github.com/grafana/tempo (no
// /v2 path); the proxy answers 403 "This module version is not available" for @v2.9.0,
// @release-v2.9, the version list, and commit hashes (short or full, even for a commit it serves);
// the only Tempo pseudo-versions it serves are main-branch commits pinned by Grafana
// (v1.5.1-0.20241001135150-ed943d7a56b2, v1.5.1-0.20250529124718-87c2dc380cec: v2.8.0-rc.0 plus
// two changes), never a release tag's commit, and sum.golang.org answers 404 for them.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
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
import { stackAlerts } from '../../../desired/stack/stack-alerts.js';
import { tempoConfig } from '../../../desired/stack/tempo.js';
import { anSLO } from '../../support/builders.js';
import { aStack, FIXTURES, loadStack } from './stacks.js';
import { loki, otelcol, promtool, run } from './tools.js';

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

const VARIANTS: [string, ReturnType<typeof aStack>][] = [
  ...Object.entries(FIXTURES).map(([name, file]): [string, ReturnType<typeof aStack>] => [name, loadStack(file)]),
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

  it('the validators reject what is wrong: an unknown exporter type and an unknown Loki field', () => {
    const badCollector = { ...collectorConfig(stackContext(aStack())), exporters: { 'otlphttp_bogus/x': {} } };
    expect(() => run(otelcol(), ['validate', `--config=${write('bad-collector.yaml', dump(badCollector))}`])).toThrow(
      /unknown type/,
    );
    const badLoki = { ...lokiConfig(stackContext(aStack({ logs: {} }))), bogus_field: 1 };
    expect(() => run(loki(), ['-verify-config', `-config.file=${write('bad-loki.yaml', dump(badLoki))}`])).toThrow(
      /bogus_field/,
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

describe('Loki accepts every generated config (loki -verify-config)', () => {
  it.each(VARIANTS.filter(([, s]) => stackContext(s).on.loki))('%s', (_name, stack) => {
    const file = write('loki.yaml', dump(lokiConfig(stackContext(stack))));
    run(loki(), ['-verify-config', `-config.file=${file}`, '-config.expand-env=true'], SECRET_ENV);
  });
});

describe('Tempo config, STRUCTURAL CHECK ONLY, not Tempo itself (no Tempo release is fetchable as a Go module)', () => {
  const goDuration = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/;
  it.each(VARIANTS.filter(([, s]) => stackContext(s).on.tempo))('%s', (_name, stack) => {
    const ctx = stackContext(stack);
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
      });
      expect(t.overrides.defaults.metrics_generator.processors.length).toBeGreaterThan(0);
    }
  });
});

describe('Alertmanager config', () => {
  const stack = loadStack(FIXTURES['s3-large']);
  // biome-ignore lint/suspicious/noExplicitAny: walking plain JSON
  const am = alertmanagerConfig(stackContext(stack)) as any;

  it('groups by alertname and service, and a page inhibits the ticket of the same SLO', () => {
    expect(am.route.group_by).toEqual(['alertname', 'service']);
    expect(am.inhibit_rules).toEqual([
      {
        source_matchers: ['tier="page"'],
        target_matchers: ['tier="ticket"'],
        equal: ['slo', 'slo_namespace', 'service'],
      },
    ]);
  });

  it('inhibits on labels the generated SLO alerts really carry', () => {
    const v = validateResource(anSLO({}));
    if (!v.ok) throw new Error(JSON.stringify(v.problems));
    const slo = v.object as SLO;
    slo.metadata.namespace = 'team';
    const alerts = sloRules(slo)
      .groups.flatMap((g) => g.rules)
      .filter((r) => 'alert' in r && r.alert === 'SLOErrorBudgetBurn') as { labels: Record<string, string> }[];
    const tiers = alerts.map((a) => a.labels.tier).sort();
    expect(tiers).toEqual(['page', 'ticket']);
    for (const a of alerts) for (const l of am.inhibit_rules[0].equal) expect(a.labels[l]).toBeDefined();
  });

  it('reads Slack and PagerDuty keys from mounted Secret files, never inline', () => {
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

  it('routes every spec route to its receiver', () => {
    expect(am.route.routes).toEqual([
      { receiver: 'pager', matchers: ['severity="page"'] },
      { receiver: 'chat', matchers: ['severity="ticket"'] },
    ]);
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
