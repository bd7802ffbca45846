// The dashboard builder on Grafana's foundation SDK: layout and numbering are the builder's, and
// where the SDK's defaults differ from what Grafana assumes for a missing field, the dashboard
// carries Grafana's value.
import { describe, expect, it } from '@jest/globals';
import { type DashboardSpec, dashboard, type PanelSpec } from '../../../desired/dashboards/builder.js';
import { dashboardProblems, dashboardQueries } from '../../../hack/check/dashboards.js';

type Json = Record<string, unknown>;
const spec = (rows: DashboardSpec['rows'], extra: Partial<DashboardSpec> = {}): DashboardSpec =>
  ({
    uid: 'vigil-test',
    title: 'Test',
    description: 'A test dashboard.',
    tags: ['test'],
    rows,
    ...extra,
  }) as DashboardSpec;
const ts = (title: string, w: number, extra: Partial<PanelSpec> = {}): PanelSpec => ({
  type: 'timeseries',
  title,
  queries: [{ expr: 'up' }],
  w,
  ...extra,
});
const panels = (d: Json) => d.panels as Json[];
const byTitle = (d: Json, title: string) => panels(d).find((p) => p.title === title) as Json;
const at = (o: unknown, path: string) =>
  path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], o);

describe('dashboard()', () => {
  it('lays rows and panels out on the 24-column grid, wrapping a panel that does not fit', () => {
    const d = dashboard(
      spec([
        { title: 'One', panels: [ts('a', 8), ts('b', 8), ts('c', 6), ts('d', 8, { h: 4 }), ts('e', 24)] },
        { title: 'Two', panels: [ts('f', 12)] },
      ]),
    );
    expect(panels(d).map((p) => [p.id, p.type, p.title, p.gridPos])).toEqual([
      [1, 'row', 'One', { x: 0, y: 0, w: 24, h: 1 }],
      [2, 'timeseries', 'a', { x: 0, y: 1, w: 8, h: 8 }],
      [3, 'timeseries', 'b', { x: 8, y: 1, w: 8, h: 8 }],
      [4, 'timeseries', 'c', { x: 16, y: 1, w: 6, h: 8 }],
      [5, 'timeseries', 'd', { x: 0, y: 9, w: 8, h: 4 }],
      [6, 'timeseries', 'e', { x: 0, y: 13, w: 24, h: 8 }],
      [7, 'row', 'Two', { x: 0, y: 21, w: 24, h: 1 }],
      [8, 'timeseries', 'f', { x: 0, y: 22, w: 12, h: 8 }],
    ]);
    expect(dashboardProblems('test.json', JSON.stringify(d))).toEqual([]);
  });

  it('starts a row without a title at the top with no row header', () => {
    const d = dashboard(spec([{ panels: [ts('a', 12), ts('b', 12)] }]));
    expect(panels(d).map((p) => [p.id, p.gridPos])).toEqual([
      [1, { x: 0, y: 0, w: 12, h: 8 }],
      [2, { x: 12, y: 0, w: 12, h: 8 }],
    ]);
  });

  it('numbers refIds A, B, … on the provisioned Prometheus datasource; instant table queries ask for a table', () => {
    const d = dashboard(
      spec([
        {
          panels: [
            { type: 'table', title: 't', queries: [{ expr: 'up', instant: true }, { expr: 'vector(1)' }], w: 24 },
          ],
        },
      ]),
    );
    expect(byTitle(d, 't').targets).toEqual([
      {
        refId: 'A',
        datasource: { type: 'prometheus', uid: 'prometheus' },
        expr: 'up',
        legendFormat: '__auto',
        instant: true,
        range: false,
        format: 'table',
      },
      { refId: 'B', datasource: { type: 'prometheus', uid: 'prometheus' }, expr: 'vector(1)', legendFormat: '__auto' },
    ]);
    expect(dashboardQueries(d).map((q) => `${q.panelId}${q.refId}`)).toEqual(['1A', '1B']);
  });

  it('is a read-only dashboard with a shared crosshair, refreshed every minute, on plain JSON data', () => {
    const d = dashboard(spec([{ panels: [ts('a', 24)] }], { time: 'now-1h' }));
    expect(d).toMatchObject({
      uid: 'vigil-test',
      tags: ['vigil', 'test'],
      editable: false,
      graphTooltip: 1,
      refresh: '1m',
      time: { from: 'now-1h', to: 'now' },
      annotations: { list: [] },
      templating: { list: [] },
    });
    // Nothing but JSON values: no function, no undefined (strict equality with its own JSON copy).
    expect(d).toStrictEqual(JSON.parse(JSON.stringify(d)));
    expect(dashboard(spec([{ panels: [ts('a', 24)] }], { sharedCrosshair: false })).graphTooltip).toBe(0);
  });

  it("keeps Grafana's own defaults where the SDK's differ: legends shown, tooltips unsorted, stats on the last non-null value", () => {
    const d = dashboard(
      spec([
        {
          panels: [
            ts('graph', 12),
            { type: 'stat', title: 'stat', queries: [{ expr: 'up' }], w: 6 },
            { type: 'bargauge', title: 'bars', queries: [{ expr: 'up' }], w: 6 },
          ],
        },
      ]),
    );
    expect(at(byTitle(d, 'graph'), 'options.legend.showLegend')).toBe(true);
    expect(at(byTitle(d, 'graph'), 'options.tooltip')).toEqual({ mode: 'single', sort: 'none' });
    expect(at(byTitle(d, 'stat'), 'options.reduceOptions.calcs')).toEqual(['lastNotNull']);
    expect(at(byTitle(d, 'bars'), 'options.reduceOptions.calcs')).toEqual(['lastNotNull']);
    // A bar gauge hides its legend in Grafana too.
    expect(at(byTitle(d, 'bars'), 'options.legend.showLegend')).toBe(false);
    expect(at(byTitle(d, 'stat'), 'fieldConfig.defaults.color')).toEqual({ mode: 'thresholds' });
  });

  it('shows dashboard links in the top bar, not in the controls menu the SDK defaults to', () => {
    const d = dashboard(
      spec([{ panels: [ts('a', 24)] }], {
        links: [{ title: 'Runbooks', type: 'link', url: 'https://example.com/runbooks', targetBlank: true }],
      }),
    );
    const [l] = d.links as Json[];
    expect(l).toMatchObject({
      title: 'Runbooks',
      type: 'link',
      url: 'https://example.com/runbooks',
      targetBlank: true,
    });
    expect(l).not.toHaveProperty('placement');
  });

  it('sets timeseries styles, thresholds, value text and transformations through the typed setters', () => {
    const d = dashboard(
      spec([
        {
          panels: [
            ts('stacked', 8, {
              stack: true,
              unit: 'reqps',
              min: 0,
              max: 1,
              decimals: 2,
              thresholds: [
                ['green', null],
                ['red', 0.5],
              ],
            }),
            ts('lines', 8, { lineWidth: 2, fillOpacity: 0, thresholdsStyle: 'line+area' }),
            {
              type: 'state-timeline',
              title: 'alerts',
              queries: [{ expr: 'ALERTS' }],
              w: 8,
              colorMode: 'thresholds',
              valueText: { '1': { text: 'firing', color: 'red' } },
              transformations: [{ id: 'merge' }],
            },
          ],
        },
      ]),
    );
    expect(at(byTitle(d, 'stacked'), 'fieldConfig.defaults')).toMatchObject({
      unit: 'reqps',
      min: 0,
      max: 1,
      decimals: 2,
      thresholds: {
        mode: 'absolute',
        steps: [
          { color: 'green', value: null },
          { color: 'red', value: 0.5 },
        ],
      },
      custom: { lineWidth: 1, fillOpacity: 30, stacking: { mode: 'normal' } },
    });
    expect(at(byTitle(d, 'lines'), 'fieldConfig.defaults.custom')).toEqual({
      lineWidth: 2,
      fillOpacity: 0,
      thresholdsStyle: { mode: 'line+area' },
    });
    const alerts = byTitle(d, 'alerts');
    expect(at(alerts, 'fieldConfig.defaults.mappings')).toEqual([
      { type: 'value', options: { '1': { text: 'firing', color: 'red' } } },
    ]);
    expect(alerts.transformations).toEqual([{ id: 'merge', options: {} }]);
  });

  it('sets known options through the SDK and copies any other option as given', () => {
    const d = dashboard(
      spec([
        {
          panels: [
            {
              type: 'bargauge',
              title: 'bars',
              queries: [{ expr: 'up' }],
              w: 12,
              options: { orientation: 'horizontal', displayMode: 'lcd', text: { valueSize: 12 } },
            },
            ts('graph', 12, { options: { legend: { displayMode: 'table', placement: 'right' } } }),
          ],
        },
      ]),
    );
    expect(byTitle(d, 'bars').options).toMatchObject({
      orientation: 'horizontal',
      displayMode: 'lcd',
      text: { valueSize: 12 },
    });
    expect(at(byTitle(d, 'graph'), 'options.legend')).toEqual({
      showLegend: true,
      displayMode: 'table',
      placement: 'right',
      calcs: [],
    });
  });

  it('refuses an option value Grafana does not know, naming the field', () => {
    const bad = {
      type: 'bargauge',
      title: 'bars',
      queries: [{ expr: 'up' }],
      w: 12,
      options: { orientation: 'sideways' },
    } as unknown as PanelSpec;
    expect(() => dashboard(spec([{ panels: [bad] }]))).toThrow(
      'options.orientation: "sideways" is not one of auto, vertical, horizontal',
    );
  });
});
