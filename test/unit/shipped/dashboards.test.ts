// The shipped dashboards: valid Grafana JSON on provisioned datasources, every PromQL query parsed
// by promtool, and the checks themselves (shared with hack/validate-dashboards.ts) catching breakage.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { CorrelatorMetrics, DATASOURCE_UIDS } from '../../../conventions/index.js';
import { RECORD_BUDGET_REMAINING } from '../../../conventions/slo.js';
import { DASHBOARDS, dashboardUid, shippedDashboard } from '../../../desired/shipped/index.js';
import { concreteExpr, dashboardProblems, dashboardQueries } from '../../../hack/check/dashboards.js';
import { checkQueriesWithPromtool, findPromtool } from '../../../hack/check/promtool.js';

const REPO = join(import.meta.dirname, '../../..');
const PROMTOOL = findPromtool(process.env);
const files = readdirSync(join(REPO, 'dashboards')).filter((f) => f.endsWith('.json'));
const read = (f: string) => readFileSync(join(REPO, 'dashboards', f), 'utf8');
type Json = Record<string, unknown>;
const panelsOf = (d: Json) => d.panels as Json[];

describe('dashboards/', () => {
  it('holds every shipped dashboard', () => {
    expect(files.sort()).toEqual(DASHBOARDS.map((d) => `${d}.json`).sort());
  });

  it.each(files)('%s loads as a valid Grafana dashboard with unique panel ids and provisioned datasources', (f) => {
    expect(dashboardProblems(f, read(f))).toEqual([]);
    const d = JSON.parse(read(f)) as Json;
    expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
    const uids = new Set(JSON.stringify(d).match(/"uid":"[^"]+"/g));
    for (const u of uids) expect([...Object.values(DATASOURCE_UIDS), d.uid]).toContain(JSON.parse(`{${u}}`).uid);
  });

  it.each(files)('every PromQL query in %s parses (promtool check rules)', (f) => {
    const queries = dashboardQueries(JSON.parse(read(f)));
    expect(queries.length).toBeGreaterThan(3);
    expect(checkQueriesWithPromtool(PROMTOOL, f, queries)).toEqual([]);
  });

  it('has fixed uids, the same on every build', () => {
    for (const name of DASHBOARDS) {
      expect(shippedDashboard(name).uid).toBe(dashboardUid(name));
      expect(shippedDashboard(name)).toEqual(shippedDashboard(name));
    }
  });

  it("the correlation overview reads the correlator's metric names, on its own scrape job", () => {
    const exprs = dashboardQueries(shippedDashboard('correlation-overview')).map((q) => q.expr);
    for (const m of ['correlationEvents', 'logRecordsReceived', 'tracesReceived', 'exportAttempts'] as const) {
      expect(exprs.some((e) => e.includes(`${CorrelatorMetrics[m]}{job="correlator"`))).toBe(true);
    }
    expect(exprs.some((e) => e.includes(`${CorrelatorMetrics.exportDuration}_bucket{job="correlator"}`))).toBe(true);
  });

  it('the SLO overview shows the error budget remaining of every SLO', () => {
    const d = shippedDashboard('slo-overview');
    const titles = panelsOf(d).map((p) => p.title);
    expect(titles).toContain('Error budget remaining');
    const exprs = dashboardQueries(d).map((q) => q.expr);
    expect(exprs).toContain(`sort(max by (slo_namespace, slo, service) (${RECORD_BUDGET_REMAINING}))`);
  });

  it("stack health has a row for every component and the operator's own metrics", () => {
    const d = shippedDashboard('stack-health');
    const rows = panelsOf(d)
      .filter((p) => p.type === 'row')
      .map((p) => p.title);
    expect(rows).toEqual(
      expect.arrayContaining([
        'OpenTelemetry collector',
        'Prometheus',
        'Loki',
        'Tempo',
        'Grafana',
        'Correlation engine',
        'Vigil operator',
      ]),
    );
    const exprs = dashboardQueries(d)
      .map((q) => q.expr)
      .join('\n');
    for (const m of [
      'otelcol_receiver_accepted_spans',
      'otelcol_receiver_refused_spans',
      'otelcol_exporter_sent_spans',
      'otelcol_exporter_send_failed_spans',
      'otelcol_exporter_queue_size',
      'prometheus_rule_evaluation_failures_total',
      'prometheus_config_last_reload_successful',
      'prometheus_tsdb_head_series',
      'loki_distributor_lines_received_total',
      'tempo_distributor_spans_received_total',
      'grafana_http_request_duration_seconds_count',
      'vigil_operator_reconcile_total',
      'vigil_operator_informer_last_event_timestamp_seconds',
    ]) {
      expect(exprs).toContain(m);
    }
  });
});

/** A valid dashboard to break in one place. */
function aDashboard(): Json {
  return structuredClone(shippedDashboard('correlation-overview'));
}
const problemsOf = (d: unknown) => dashboardProblems('broken.json', typeof d === 'string' ? d : JSON.stringify(d));

describe('dashboardProblems names the file and the panel', () => {
  it('reports JSON that does not load', () => {
    expect(problemsOf('{"panels": [')).toEqual([expect.stringMatching(/^broken\.json: is not valid JSON/)]);
  });

  it('reports a duplicate panel id', () => {
    const d = aDashboard();
    panelsOf(d)[3].id = panelsOf(d)[2].id;
    expect(problemsOf(d)).toEqual([expect.stringMatching(/^broken\.json: panel 3 ".+": id 3 is also used by panel 3/)]);
  });

  it('reports a panel without gridPos', () => {
    const d = aDashboard();
    delete panelsOf(d)[2].gridPos;
    expect(problemsOf(d)).toEqual([
      `broken.json: panel 3 "Log records per second": gridPos must have integer x, y, w, h`,
    ]);
  });

  it('reports a datasource uid that is not provisioned', () => {
    const d = aDashboard();
    (panelsOf(d)[1].targets as Json[])[0].datasource = { type: 'prometheus', uid: 'PBFA97CFB590B2093' };
    expect(problemsOf(d)).toEqual([
      'broken.json: panel 2 "Correlations per second": target 0: datasource uid "PBFA97CFB590B2093" is not a provisioned one (prometheus, loki, tempo)',
    ]);
  });

  it('reports a target without refId or query', () => {
    const d = aDashboard();
    const t = (panelsOf(d)[1].targets as Json[])[0];
    delete t.refId;
    t.expr = ' ';
    expect(problemsOf(d)).toEqual([
      'broken.json: panel 2 "Correlations per second": target 0: refId must be a non-empty string',
      'broken.json: panel 2 "Correlations per second": target 0: expr must be a non-empty query',
    ]);
  });

  it('promtool reports a query that does not parse, naming the panel and query', () => {
    const d = aDashboard();
    (panelsOf(d)[1].targets as Json[])[0].expr = 'sum(rate(correlation_events_total[$__rate_interval])';
    const problems = checkQueriesWithPromtool(PROMTOOL, 'broken.json', dashboardQueries(d));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^broken\.json: panel 2 "Correlations per second" query A: .*(parse|unclosed)/);
  });

  it('replaces Grafana variables with concrete values before parsing', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Grafana variable, not a template
    expect(concreteExpr('rate(x{ns="$namespace", pod=~"${pod:regex}"}[$__rate_interval]) offset $__range')).toBe(
      'rate(x{ns="vigil", pod=~"vigil"}[5m]) offset 1h',
    );
  });
});

describe('hack/validate-dashboards.ts', () => {
  const tsx = join(REPO, 'node_modules/.bin/tsx');
  const run = (args: string[]) =>
    spawnSync(tsx, [join(REPO, 'hack/validate-dashboards.ts'), ...args], { encoding: 'utf8', cwd: REPO });

  it('passes on the repository', () => {
    const r = run([]);
    expect(`${r.status}\n${r.stdout}${r.stderr}`).toMatch(
      new RegExp(`^0\n.*${DASHBOARDS.length} dashboard\\(s\\) valid`),
    );
  });

  it('exits 1 naming the file and the panel on a broken dashboard', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-dash-'));
    const d = aDashboard();
    (panelsOf(d)[4].targets as Json[])[0].datasource = { type: 'prometheus', uid: 'nope' };
    const file = join(dir, 'broken.json');
    writeFileSync(file, JSON.stringify(d));
    const r = run([file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('broken.json: panel 5 "Export success": target 0: datasource uid "nope"');
  });
});
