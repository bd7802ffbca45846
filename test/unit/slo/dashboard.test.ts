import { describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import {
  type RecordingRule,
  sloDashboard,
  sloDashboardConfigMap,
  sloDashboardUid,
  sloRuleConfigMap,
  sloRules,
} from '../../../desired/slo/index.js';
import { dashboardProblems } from '../../../hack/check/dashboards.js';
import { anSLO } from '../../support/builders.js';
import { checkRules, outcome, scratch, slo, writeRules } from './promtool.js';

interface Panel {
  title: string;
  datasource: { uid: string };
  targets: { expr: string; datasource: { uid: string } }[];
}
const namespaced = (namespace: string, name = 'checkout-availability') =>
  slo({ ...anSLO({ alerting: { minTrafficPerSecond: 0.1 } }), metadata: { name, namespace } });
const panels = (d: Record<string, unknown>) => d.panels as Panel[];
const exprs = (d: Record<string, unknown>) => panels(d).flatMap((p) => p.targets.map((t) => t.expr));

describe('sloDashboard', () => {
  it('derives a stable uid of at most 40 characters from namespace and name', () => {
    const uid = sloDashboardUid(namespaced('shop'));
    expect(uid).toBe(sloDashboardUid(namespaced('shop')));
    expect(uid).not.toBe(sloDashboardUid(namespaced('staging')));
    expect(uid.length).toBeLessThanOrEqual(40);
    expect(sloDashboard(namespaced('shop')).uid).toBe(uid);
  });

  it('queries the Prometheus datasource with uid "prometheus" in every panel and target', () => {
    for (const p of panels(sloDashboard(namespaced('shop')))) {
      expect(p.datasource.uid).toBe('prometheus');
      for (const t of p.targets) expect(t.datasource.uid).toBe('prometheus');
    }
  });

  it('shows the SLI against the objective, burn rate per window, budget remaining and alert state', () => {
    const d = sloDashboard(namespaced('shop'));
    expect(panels(d).map((p) => p.title)).toEqual([
      'Objective',
      'SLI over 30d',
      'Error budget remaining',
      'Burn rate (5m)',
      'SLI against objective',
      'Burn rate per window',
      'Error budget remaining over 30d',
      'Alerts',
    ]);
    expect(exprs(d)).toContain(
      'sum by (alertname, tier) (ALERTS{slo_namespace="shop", slo="checkout-availability", alertstate="firing"})',
    );
    expect(exprs(d)).toContain(
      '{__name__=~"slo:sli_error:ratio_rate(5m|30m|1h|2h|6h|1d|3d)", slo_namespace="shop", slo="checkout-availability"} / 0.001',
    );
  });

  it('reads only series the rules record, and ALERTS', () => {
    const s = namespaced('shop');
    const recorded = new Set(
      sloRules(s).groups.flatMap((g) => g.rules.filter((r): r is RecordingRule => 'record' in r).map((r) => r.record)),
    );
    for (const e of exprs(sloDashboard(s))) {
      const names = [...e.matchAll(/\b(slo:[a-z_:]+[0-9a-z]*|ALERTS)\{/g)].map((m) => m[1]);
      const byRegex = /__name__=~"slo:sli_error:ratio_rate\(([^)]*)\)"/.exec(e);
      if (byRegex) names.push(...byRegex[1].split('|').map((w) => `slo:sli_error:ratio_rate${w}`));
      expect(names.length).toBeGreaterThan(0);
      for (const n of names) if (n !== 'ALERTS') expect(recorded).toContain(n);
    }
  });

  it('is a valid read-only Grafana dashboard whose runbook link shows in the top bar', () => {
    const s = namespaced('shop');
    s.spec.alerting = { ...s.spec.alerting, runbookURL: 'https://runbooks.example.com/checkout' };
    const d = sloDashboard(s);
    expect(dashboardProblems('slo.json', JSON.stringify(d))).toEqual([]);
    expect(d).toMatchObject({ editable: false, tags: ['vigil', 'slo', 'checkout'], time: { from: 'now-30d' } });
    expect(d.links).toEqual([
      expect.objectContaining({ title: 'Runbook', url: 'https://runbooks.example.com/checkout' }),
    ]);
    expect((d.links as Record<string, unknown>[])[0]).not.toHaveProperty('placement');
    const alerts = (d.panels as Record<string, unknown>[]).find((p) => p.title === 'Alerts');
    expect(alerts).toMatchObject({
      type: 'state-timeline',
      fieldConfig: { defaults: { mappings: [{ type: 'value', options: { '1': { text: 'firing', color: 'red' } } }] } },
    });
  });

  it('has queries promtool parses', () => {
    const rules = exprs(sloDashboard(namespaced('shop'))).map((expr, i) => ({ record: `dashboard:query${i}`, expr }));
    const path = writeRules(scratch(), 'dashboard-queries.yaml', { groups: [{ name: 'q', rules }] });
    expect(outcome(checkRules(path))).toBe('passed');
  });
});

describe('SLO ConfigMaps', () => {
  it('ships the rules in vigil-slo-<name>-rules, labelled for the stack and the SLO', () => {
    const s = namespaced('shop');
    const cm = sloRuleConfigMap(s);
    expect(cm.metadata).toEqual({
      name: 'vigil-slo-checkout-availability-rules',
      namespace: 'shop',
      labels: {
        'app.kubernetes.io/component': 'slo-rules',
        'app.kubernetes.io/part-of': 'vigil',
        'app.kubernetes.io/managed-by': 'vigil-operator',
        'vigil.dev/stack': 'demo',
        'vigil.dev/slo': 'checkout-availability',
        'vigil.dev/rules-for': 'demo',
      },
    });
    expect(Object.keys(cm.data)).toEqual(['vigil-slo-checkout-availability.rules.yaml']);
    expect(yaml.load(cm.data['vigil-slo-checkout-availability.rules.yaml'])).toEqual(sloRules(s));
  });

  it('ships the dashboard in vigil-slo-<name>-dashboard, labelled for the Grafana sidecar', () => {
    const s = namespaced('shop');
    const cm = sloDashboardConfigMap(s);
    expect(cm.metadata.name).toBe('vigil-slo-checkout-availability-dashboard');
    expect(cm.metadata.labels).toMatchObject({
      grafana_dashboard: '1',
      'app.kubernetes.io/component': 'slo-dashboard',
      'vigil.dev/stack': 'demo',
    });
    expect(JSON.parse(cm.data['vigil-slo-checkout-availability.json'])).toEqual(sloDashboard(s));
  });
});
