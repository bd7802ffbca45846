// A small builder for Grafana dashboards as plain data: rows of panels laid out left to right on
// Grafana's 24-column grid, ids and refIds numbered in order, every query on a provisioned datasource.
import { DATASOURCE_UIDS } from '../../conventions/index.js';
import { type DashboardName, dashboardUid } from '../../conventions/shipped.js';

export type Json = Record<string, unknown>;

const prometheus = () => ({ type: 'prometheus', uid: DATASOURCE_UIDS.prometheus });

export interface Query {
  expr: string;
  legend?: string;
  /** An instant query (tables, stats of the current value). */
  instant?: boolean;
}

export interface PanelSpec {
  type: 'timeseries' | 'stat' | 'table' | 'bargauge';
  title: string;
  description?: string;
  queries: Query[];
  /** Columns out of 24; a row's panels wrap when they do not fit. */
  w: number;
  h?: number;
  unit?: string;
  decimals?: number;
  min?: number;
  max?: number;
  thresholds?: [color: string, value: number | null][];
  stack?: boolean;
  options?: Json;
  transformations?: Json[];
}

export interface RowSpec {
  title: string;
  panels: PanelSpec[];
}

export interface DashboardSpec {
  name: DashboardName;
  title: string;
  description: string;
  tags: string[];
  time?: string;
  rows: RowSpec[];
  links?: Json[];
}

const DEFAULT_HEIGHT = 8;

function panelJson(p: PanelSpec, id: number, gridPos: Json): Json {
  const defaults: Json = {};
  if (p.unit) defaults.unit = p.unit;
  if (p.decimals !== undefined) defaults.decimals = p.decimals;
  if (p.min !== undefined) defaults.min = p.min;
  if (p.max !== undefined) defaults.max = p.max;
  if (p.thresholds) {
    defaults.thresholds = { mode: 'absolute', steps: p.thresholds.map(([color, value]) => ({ color, value })) };
  }
  if (p.type === 'timeseries') {
    defaults.custom = {
      lineWidth: 1,
      fillOpacity: p.stack ? 30 : 10,
      ...(p.stack && { stacking: { mode: 'normal' } }),
    };
  }
  if (p.type === 'stat' || p.type === 'bargauge') defaults.color = { mode: 'thresholds' };
  return {
    id,
    type: p.type,
    title: p.title,
    ...(p.description && { description: p.description }),
    datasource: prometheus(),
    gridPos,
    targets: p.queries.map((q, i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: prometheus(),
      expr: q.expr,
      legendFormat: q.legend ?? '__auto',
      ...(q.instant ? { instant: true, range: false, format: p.type === 'table' ? 'table' : 'time_series' } : {}),
    })),
    fieldConfig: { defaults, overrides: [] },
    options: p.options ?? {},
    ...(p.transformations && { transformations: p.transformations }),
  };
}

export function dashboard(d: DashboardSpec): Json {
  const panels: Json[] = [];
  let id = 1;
  let y = 0;
  for (const row of d.rows) {
    panels.push({ id: id++, type: 'row', title: row.title, collapsed: false, gridPos: { x: 0, y, w: 24, h: 1 } });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const p of row.panels) {
      const h = p.h ?? DEFAULT_HEIGHT;
      if (x + p.w > 24) {
        y += rowHeight;
        x = 0;
        rowHeight = 0;
      }
      panels.push(panelJson(p, id++, { x, y, w: p.w, h }));
      x += p.w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return {
    uid: dashboardUid(d.name),
    title: d.title,
    description: d.description,
    tags: ['vigil', ...d.tags],
    editable: false,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '1m',
    time: { from: d.time ?? 'now-6h', to: 'now' },
    timezone: 'browser',
    annotations: { list: [] },
    templating: { list: [] },
    links: d.links ?? [],
    panels,
  };
}
