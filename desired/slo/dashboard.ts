// sloDashboard(slo): one Grafana dashboard per SLO, as data. It reads only the series sloRules
// records (and ALERTS), so it shows exactly what the alerts act on.
import { createHash } from 'node:crypto';
import type { SLO } from '../../api/types.js';
import {
  L_TIER,
  L_WINDOW,
  RECORD_BUDGET_REMAINING,
  RECORD_CURRENT_BURN_RATE,
  RECORD_OBJECTIVE,
  sliErrorRatio,
} from '../../conventions/slo.js';
import { dashboard, type Json, type PanelSpec } from '../dashboards/builder.js';
import { matchers, tidy } from './promql.js';
import { sloFacts } from './rules.js';
import { type BurnWindow, burnFactor, DEFAULT_WINDOWS, SLI_WINDOWS } from './windows.js';

/** Grafana's uid limit is 40 characters; a hash of namespace/name stays stable across renames of nothing else. */
export function sloDashboardUid(slo: SLO): string {
  const key = `${slo.metadata.namespace ?? ''}/${slo.metadata.name ?? ''}`;
  return `vigil-slo-${createHash('sha256').update(key).digest('hex').slice(0, 20)}`;
}

export function sloDashboard(slo: SLO, windows: readonly BurnWindow[] = DEFAULT_WINDOWS): Json {
  const f = sloFacts(slo);
  const sel = f.selector;
  const period = sliErrorRatio(f.period);
  const factors = [...new Set(windows.map((w) => tidy(burnFactor(w, f.periodHours))))].sort((a, b) => a - b);
  const windowRe = SLI_WINDOWS.join('|');
  const alertSel = matchers({ ...f.id, alertstate: 'firing' });
  const runbook = slo.spec.alerting?.runbookURL;
  const stat = (title: string, expr: string, legend: string, extra: Partial<PanelSpec>): PanelSpec => ({
    type: 'stat',
    title,
    queries: [{ expr, legend }],
    w: 6,
    h: 4,
    unit: 'percentunit',
    ...extra,
  });
  const ts = (title: string, queries: PanelSpec['queries'], extra: Partial<PanelSpec>): PanelSpec => ({
    type: 'timeseries',
    title,
    queries,
    w: 12,
    h: 8,
    unit: 'percentunit',
    lineWidth: 1,
    fillOpacity: 0,
    ...extra,
  });

  return dashboard({
    uid: sloDashboardUid(slo),
    title: `SLO ${f.service} / ${f.name}`,
    description: slo.spec.description ?? `${f.objectivePercent}% over ${f.period} for ${f.service}`,
    tags: ['slo', f.service],
    time: `now-${f.period}`,
    sharedCrosshair: false,
    links: runbook ? [{ title: 'Runbook', type: 'link', url: runbook, targetBlank: true }] : [],
    rows: [
      {
        panels: [
          stat('Objective', `${RECORD_OBJECTIVE}${sel}`, 'objective', { decimals: 3 }),
          stat(`SLI over ${f.period}`, `1 - ${period}${sel}`, 'SLI', {
            decimals: 3,
            thresholds: [
              ['red', null],
              ['green', f.objective],
            ],
          }),
          stat('Error budget remaining', `${RECORD_BUDGET_REMAINING}${sel}`, 'remaining', {
            decimals: 1,
            thresholds: [
              ['red', null],
              ['orange', 0],
              ['green', 0.25],
            ],
          }),
          stat('Burn rate (5m)', `${RECORD_CURRENT_BURN_RATE}${sel}`, 'burn rate', {
            unit: 'x',
            decimals: 2,
            thresholds: [
              ['green', null],
              ['orange', 1],
              ['red', factors.at(-1) ?? 1],
            ],
          }),
          ts(
            'SLI against objective',
            [
              { expr: `1 - ${sliErrorRatio('5m')}${sel}`, legend: 'SLI (5m)' },
              { expr: `1 - ${sliErrorRatio('1h')}${sel}`, legend: 'SLI (1h)' },
              { expr: `${RECORD_OBJECTIVE}${sel}`, legend: 'objective' },
            ],
            { decimals: 3 },
          ),
          ts(
            'Burn rate per window',
            [
              {
                expr: `{__name__=~"slo:sli_error:ratio_rate(${windowRe})", ${sel.slice(1, -1)}} / ${f.budget}`,
                legend: `{{${L_WINDOW}}}`,
              },
            ],
            {
              unit: 'x',
              description: `Alert thresholds: ${factors.join('×, ')}× (the page and ticket window pairs for a ${f.period} period).`,
              thresholdsStyle: 'line+area',
              thresholds: [['transparent', null], ...factors.map((v): [string, number] => ['red', v])],
            },
          ),
          ts(
            `Error budget remaining over ${f.period}`,
            [{ expr: `${RECORD_BUDGET_REMAINING}${sel}`, legend: 'remaining' }],
            {
              lineWidth: 2,
              thresholds: [
                ['red', null],
                ['green', 0],
              ],
            },
          ),
          {
            type: 'state-timeline',
            title: 'Alerts',
            queries: [
              { expr: `sum by (alertname, ${L_TIER}) (ALERTS${alertSel})`, legend: `{{alertname}} {{${L_TIER}}}` },
            ],
            w: 12,
            h: 8,
            colorMode: 'thresholds',
            thresholds: [
              ['green', null],
              ['red', 1],
            ],
            valueText: { '1': { text: 'firing', color: 'red' } },
          },
        ],
      },
    ],
  });
}
