// sloDashboard(slo): one Grafana dashboard per SLO, as data. It reads only the series sloRules
// records (and ALERTS), so it shows exactly what the alerts act on.
import { createHash } from 'node:crypto';
import type { SLO } from '../../api/types.js';
import {
  L_TIER,
  L_WINDOW,
  PROMETHEUS_DATASOURCE_UID,
  RECORD_BUDGET_REMAINING,
  RECORD_CURRENT_BURN_RATE,
  RECORD_OBJECTIVE,
  sliErrorRatio,
} from '../../conventions/slo.js';
import { matchers, tidy } from './promql.js';
import { sloFacts } from './rules.js';
import { type BurnWindow, burnFactor, DEFAULT_WINDOWS, SLI_WINDOWS } from './windows.js';

/** Grafana's uid limit is 40 characters; a hash of namespace/name stays stable across renames of nothing else. */
export function sloDashboardUid(slo: SLO): string {
  const key = `${slo.metadata.namespace ?? ''}/${slo.metadata.name ?? ''}`;
  return `vigil-slo-${createHash('sha256').update(key).digest('hex').slice(0, 20)}`;
}

const datasource = { type: 'prometheus', uid: PROMETHEUS_DATASOURCE_UID };

interface Target {
  expr: string;
  legendFormat: string;
}

function panel(
  id: number,
  type: string,
  title: string,
  gridPos: { x: number; y: number; w: number; h: number },
  targets: Target[],
  fieldConfig: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id,
    type,
    title,
    datasource,
    gridPos,
    targets: targets.map((t, i) => ({ refId: String.fromCharCode(65 + i), datasource, ...t })),
    fieldConfig: { defaults: fieldConfig, overrides: [] },
    ...extra,
  };
}

const steps = (...s: [color: string, value: number | null][]) => ({
  mode: 'absolute',
  steps: s.map(([color, value]) => ({ color, value })),
});

export function sloDashboard(slo: SLO, windows: readonly BurnWindow[] = DEFAULT_WINDOWS): Record<string, unknown> {
  const f = sloFacts(slo);
  const sel = f.selector;
  const period = sliErrorRatio(f.period);
  const factors = [...new Set(windows.map((w) => tidy(burnFactor(w, f.periodHours))))].sort((a, b) => a - b);
  const windowRe = SLI_WINDOWS.join('|');
  const alertSel = matchers({ ...f.id, alertstate: 'firing' });
  const runbook = slo.spec.alerting?.runbookURL;

  const panels = [
    panel(
      1,
      'stat',
      'Objective',
      { x: 0, y: 0, w: 6, h: 4 },
      [{ expr: `${RECORD_OBJECTIVE}${sel}`, legendFormat: 'objective' }],
      {
        unit: 'percentunit',
        decimals: 3,
      },
    ),
    panel(
      2,
      'stat',
      `SLI over ${f.period}`,
      { x: 6, y: 0, w: 6, h: 4 },
      [{ expr: `1 - ${period}${sel}`, legendFormat: 'SLI' }],
      { unit: 'percentunit', decimals: 3, thresholds: steps(['red', null], ['green', f.objective]) },
    ),
    panel(
      3,
      'stat',
      'Error budget remaining',
      { x: 12, y: 0, w: 6, h: 4 },
      [{ expr: `${RECORD_BUDGET_REMAINING}${sel}`, legendFormat: 'remaining' }],
      { unit: 'percentunit', decimals: 1, thresholds: steps(['red', null], ['orange', 0], ['green', 0.25]) },
    ),
    panel(
      4,
      'stat',
      'Burn rate (5m)',
      { x: 18, y: 0, w: 6, h: 4 },
      [{ expr: `${RECORD_CURRENT_BURN_RATE}${sel}`, legendFormat: 'burn rate' }],
      { unit: 'x', decimals: 2, thresholds: steps(['green', null], ['orange', 1], ['red', factors.at(-1) ?? 1]) },
    ),
    panel(
      5,
      'timeseries',
      'SLI against objective',
      { x: 0, y: 4, w: 12, h: 8 },
      [
        { expr: `1 - ${sliErrorRatio('5m')}${sel}`, legendFormat: 'SLI (5m)' },
        { expr: `1 - ${sliErrorRatio('1h')}${sel}`, legendFormat: 'SLI (1h)' },
        { expr: `${RECORD_OBJECTIVE}${sel}`, legendFormat: 'objective' },
      ],
      { unit: 'percentunit', decimals: 3, custom: { lineWidth: 1 } },
    ),
    panel(
      6,
      'timeseries',
      'Burn rate per window',
      { x: 12, y: 4, w: 12, h: 8 },
      [
        {
          expr: `{__name__=~"slo:sli_error:ratio_rate(${windowRe})", ${sel.slice(1, -1)}} / ${f.budget}`,
          legendFormat: `{{${L_WINDOW}}}`,
        },
      ],
      {
        unit: 'x',
        custom: { lineWidth: 1, thresholdsStyle: { mode: 'line+area' } },
        thresholds: steps(['transparent', null], ...factors.map((v): [string, number] => ['red', v])),
      },
      {
        description: `Alert thresholds: ${factors.join('×, ')}× (the page and ticket window pairs for a ${f.period} period).`,
      },
    ),
    panel(
      7,
      'timeseries',
      `Error budget remaining over ${f.period}`,
      { x: 0, y: 12, w: 12, h: 8 },
      [{ expr: `${RECORD_BUDGET_REMAINING}${sel}`, legendFormat: 'remaining' }],
      { unit: 'percentunit', custom: { lineWidth: 2 }, thresholds: steps(['red', null], ['green', 0]) },
    ),
    panel(
      8,
      'state-timeline',
      'Alerts',
      { x: 12, y: 12, w: 12, h: 8 },
      [{ expr: `sum by (alertname, ${L_TIER}) (ALERTS${alertSel})`, legendFormat: `{{alertname}} {{${L_TIER}}}` }],
      {
        color: { mode: 'thresholds' },
        thresholds: steps(['green', null], ['red', 1]),
        mappings: [{ type: 'value', options: { '1': { text: 'firing', color: 'red' } } }],
      },
    ),
  ];

  return {
    uid: sloDashboardUid(slo),
    title: `SLO ${f.service} / ${f.name}`,
    description: slo.spec.description ?? `${f.objectivePercent}% over ${f.period} for ${f.service}`,
    tags: ['vigil', 'slo', f.service],
    editable: false,
    schemaVersion: 39,
    version: 1,
    refresh: '1m',
    time: { from: `now-${f.period}`, to: 'now' },
    timezone: 'browser',
    annotations: { list: [] },
    templating: { list: [] },
    links: runbook ? [{ title: 'Runbook', type: 'link', url: runbook, targetBlank: true }] : [],
    panels,
  };
}
