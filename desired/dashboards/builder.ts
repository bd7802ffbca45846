// The one Grafana dashboard builder: rows of panels laid out left to right on Grafana's 24-column
// grid, ids and refIds numbered in order, every query on a provisioned datasource. The JSON model
// comes from Grafana's foundation SDK (@grafana/grafana-foundation-sdk), so field names and enum
// values are Grafana's own types; this file only decides the layout and Vigil's defaults.
//
// Where the SDK fills in a default that differs from what Grafana itself assumes for a missing
// field (the SDK hides timeseries legends, sorts tooltips, reduces stats with no calcs and puts
// links in the controls menu), the builder sets Grafana's value, so a dashboard looks as it did
// when those fields were left out.

import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dash from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as statetimeline from '@grafana/grafana-foundation-sdk/statetimeline';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { DATASOURCE_UIDS } from '../../conventions/index.js';
import { type DashboardName, dashboardUid } from '../../conventions/shipped.js';

export type Json = Record<string, unknown>;

export interface Query {
  expr: string;
  legend?: string;
  /** An instant query (tables, stats of the current value). */
  instant?: boolean;
}

/**
 * Panel options with a typed setter in the SDK. Any other key is copied into the panel's options
 * as given (Grafana reads the JSON model), so a dashboard can use an option the builder does not
 * know yet.
 */
export interface PanelOptions {
  /** stat, bargauge: how each series becomes one value (Grafana's default: calcs ['lastNotNull']). */
  reduceOptions?: { calcs?: string[]; values?: boolean; fields?: string; limit?: number };
  /** stat, bargauge, timeseries. */
  orientation?: `${common.VizOrientation}`;
  /** bargauge. */
  displayMode?: `${common.BarGaugeDisplayMode}`;
  /** timeseries, bargauge, state-timeline. */
  legend?: {
    showLegend?: boolean;
    displayMode?: `${common.LegendDisplayMode}`;
    placement?: `${common.LegendPlacement}`;
    calcs?: string[];
  };
  /** timeseries, state-timeline. */
  tooltip?: { mode?: `${common.TooltipDisplayMode}`; sort?: `${common.SortOrder}` };
  [option: string]: unknown;
}

export interface PanelSpec {
  type: 'timeseries' | 'stat' | 'table' | 'bargauge' | 'state-timeline';
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
  /** Field colour; stat and bargauge default to 'thresholds'. */
  colorMode?: `${dash.FieldColorModeId}`;
  /** Text (and colour) shown instead of a value, e.g. { '1': { text: 'firing', color: 'red' } }. */
  valueText?: Record<string, { text: string; color?: string }>;
  /** timeseries: stack the series (fill 30 instead of 10). */
  stack?: boolean;
  /** timeseries: line width (default 1). */
  lineWidth?: number;
  /** timeseries: fill under the line, 0-100 (default 10, 30 when stacked). */
  fillOpacity?: number;
  /** timeseries: draw the thresholds as lines and/or areas. */
  thresholdsStyle?: `${common.GraphThresholdsStyleMode}`;
  options?: PanelOptions;
  transformations?: Json[];
}

export interface RowSpec {
  /** A row header; without one the panels follow the previous row's with no header. */
  title?: string;
  panels: PanelSpec[];
}

interface DashboardFields {
  title: string;
  description: string;
  tags: string[];
  time?: string;
  rows: RowSpec[];
  links?: Json[];
  /** Share the crosshair across panels (default true). */
  sharedCrosshair?: boolean;
}

/** A shipped dashboard is named (its uid follows from the name); any other gives its uid. */
export type DashboardSpec = DashboardFields &
  ({ name: DashboardName; uid?: undefined } | { uid: string; name?: undefined });

const DEFAULT_HEIGHT = 8;
const prometheus = (): common.DataSourceRef => ({ type: 'prometheus', uid: DATASOURCE_UIDS.prometheus });

/** An SDK enum member from its string value; a value the SDK does not know names the field. */
function member<E extends Record<string, string>>(values: E, value: string, field: string): E[keyof E] {
  if (!(Object.values(values) as string[]).includes(value)) {
    throw new Error(`${field}: ${JSON.stringify(value)} is not one of ${Object.values(values).join(', ')}`);
  }
  return value as E[keyof E];
}

// Grafana's defaults for a panel without these options (the SDK's differ: legend hidden, tooltip sorted).
function legend(o: PanelOptions['legend'] = {}, showLegend = true): common.VizLegendOptionsBuilder {
  return new common.VizLegendOptionsBuilder()
    .showLegend(o.showLegend ?? showLegend)
    .displayMode(member(common.LegendDisplayMode, o.displayMode ?? 'list', 'options.legend.displayMode'))
    .placement(member(common.LegendPlacement, o.placement ?? 'bottom', 'options.legend.placement'))
    .calcs(o.calcs ?? []);
}

function tooltip(o: PanelOptions['tooltip'] = {}): common.VizTooltipOptionsBuilder {
  return new common.VizTooltipOptionsBuilder()
    .mode(member(common.TooltipDisplayMode, o.mode ?? 'single', 'options.tooltip.mode'))
    .sort(member(common.SortOrder, o.sort ?? 'none', 'options.tooltip.sort'));
}

function reduce(o: PanelOptions['reduceOptions'] = {}): common.ReduceDataOptionsBuilder {
  const b = new common.ReduceDataOptionsBuilder().calcs(o.calcs ?? ['lastNotNull']);
  if (o.values !== undefined) b.values(o.values);
  if (o.fields !== undefined) b.fields(o.fields);
  if (o.limit !== undefined) b.limit(o.limit);
  return b;
}

const orientation = (o: PanelOptions) =>
  member(common.VizOrientation, o.orientation ?? 'auto', 'options.orientation') as common.VizOrientation;

/** The options each panel type sets through the SDK; the rest of PanelOptions is copied as given. */
const TYPED_OPTIONS: Record<PanelSpec['type'], readonly string[]> = {
  timeseries: ['legend', 'tooltip', 'orientation'],
  stat: ['reduceOptions', 'orientation'],
  bargauge: ['reduceOptions', 'orientation', 'displayMode', 'legend'],
  table: [],
  'state-timeline': ['legend', 'tooltip'],
};

type AnyPanel =
  | timeseries.PanelBuilder
  | stat.PanelBuilder
  | table.PanelBuilder
  | bargauge.PanelBuilder
  | statetimeline.PanelBuilder;

function typedPanel(p: PanelSpec): AnyPanel {
  const o = p.options ?? {};
  switch (p.type) {
    case 'timeseries': {
      const b = new timeseries.PanelBuilder()
        .lineWidth(p.lineWidth ?? 1)
        .fillOpacity(p.fillOpacity ?? (p.stack ? 30 : 10))
        .legend(legend(o.legend))
        .tooltip(tooltip(o.tooltip));
      if (p.stack) b.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
      if (p.thresholdsStyle) {
        b.thresholdsStyle(
          new common.GraphThresholdsStyleConfigBuilder().mode(
            member(common.GraphThresholdsStyleMode, p.thresholdsStyle, 'thresholdsStyle'),
          ),
        );
      }
      if (o.orientation) b.orientation(orientation(o));
      return b;
    }
    case 'stat':
      return new stat.PanelBuilder().reduceOptions(reduce(o.reduceOptions)).orientation(orientation(o));
    case 'bargauge': {
      const b = new bargauge.PanelBuilder().reduceOptions(reduce(o.reduceOptions)).orientation(orientation(o));
      if (o.displayMode) b.displayMode(member(common.BarGaugeDisplayMode, o.displayMode, 'options.displayMode'));
      // Grafana's bar gauge hides its legend unless asked, as the SDK does.
      if (o.legend) b.legend(legend(o.legend, false));
      return b;
    }
    case 'table':
      return new table.PanelBuilder();
    case 'state-timeline':
      return new statetimeline.PanelBuilder().legend(legend(o.legend)).tooltip(tooltip(o.tooltip));
  }
}

function target(q: Query, refId: string, type: PanelSpec['type']): DataqueryBuilder {
  const t = new DataqueryBuilder()
    .refId(refId)
    .datasource(prometheus())
    .expr(q.expr)
    .legendFormat(q.legend ?? '__auto');
  // A range query stays without range/instant flags, which Grafana reads as a range query.
  if (q.instant) t.instant().format(type === 'table' ? PromQueryFormat.Table : PromQueryFormat.TimeSeries);
  return t;
}

function panel(p: PanelSpec, id: number, gridPos: dash.GridPos): cog.Builder<dash.Panel> {
  // Every panel builder of the SDK has these setters; the union's overloads do not combine, so
  // they are called through the shape they share.
  const b = typedPanel(p) as unknown as timeseries.PanelBuilder;
  b.id(id).title(p.title).datasource(prometheus()).gridPos(gridPos);
  if (p.description) b.description(p.description);
  p.queries.forEach((q, i) => {
    b.withTarget(target(q, String.fromCharCode(65 + i), p.type));
  });
  if (p.unit) b.unit(p.unit);
  if (p.decimals !== undefined) b.decimals(p.decimals);
  if (p.min !== undefined) b.min(p.min);
  if (p.max !== undefined) b.max(p.max);
  if (p.thresholds) {
    b.thresholds(
      new dash.ThresholdsConfigBuilder()
        .mode(dash.ThresholdsMode.Absolute)
        .steps(p.thresholds.map(([color, value]) => ({ color, value }))),
    );
  }
  const colorMode = p.colorMode ?? (p.type === 'stat' || p.type === 'bargauge' ? 'thresholds' : undefined);
  if (colorMode)
    b.colorScheme(new dash.FieldColorBuilder().mode(member(dash.FieldColorModeId, colorMode, 'colorMode')));
  if (p.valueText) b.mappings([{ type: dash.MappingType.ValueToText, options: p.valueText }]);
  for (const t of p.transformations ?? []) {
    if (typeof t.id !== 'string' || t.id === '') throw new Error(`panel "${p.title}": a transformation needs an id`);
    b.withTransformation({ options: {}, ...t } as dash.DataTransformerConfig);
  }
  const built = b.build();
  // A query carries a marker function of the SDK's (its variant tag), not part of the JSON model.
  for (const t of built.targets ?? []) {
    for (const [k, v] of Object.entries(t)) if (typeof v === 'function') delete (t as unknown as Json)[k];
  }
  const typed = TYPED_OPTIONS[p.type];
  const rest = Object.entries(p.options ?? {}).filter(([k]) => !typed.includes(k));
  if (rest.length) built.options = { ...built.options, ...Object.fromEntries(rest) };
  return { build: () => built };
}

function link(l: Json): cog.Builder<dash.DashboardLink> {
  const { title, type, url, targetBlank, tooltip: tip, icon, tags, asDropdown, includeVars, keepTime, ...rest } = l;
  const b = new dash.DashboardLinkBuilder(String(title ?? ''));
  b.type(member(dash.DashboardLinkType, String(type ?? 'link'), 'links[].type'));
  if (url !== undefined) b.url(String(url));
  if (targetBlank !== undefined) b.targetBlank(Boolean(targetBlank));
  if (tip !== undefined) b.tooltip(String(tip));
  if (icon !== undefined) b.icon(String(icon));
  if (Array.isArray(tags)) b.tags(tags.map(String));
  if (asDropdown !== undefined) b.asDropdown(Boolean(asDropdown));
  if (includeVars !== undefined) b.includeVars(Boolean(includeVars));
  if (keepTime !== undefined) b.keepTime(Boolean(keepTime));
  const built: Json = { ...b.build(), ...rest };
  // The SDK defaults placement to the controls menu, which hides the link from the dashboard's top
  // bar; without the field Grafana shows it there.
  if (!('placement' in l)) delete built.placement;
  return { build: () => built as unknown as dash.DashboardLink };
}

export function dashboard(d: DashboardSpec): Json {
  const b = new dash.DashboardBuilder(d.title)
    .uid(d.uid ?? dashboardUid(d.name as DashboardName))
    .description(d.description)
    .tags(['vigil', ...d.tags])
    .readonly()
    .tooltip(d.sharedCrosshair === false ? dash.DashboardCursorSync.Off : dash.DashboardCursorSync.Crosshair)
    .version(1)
    .refresh('1m')
    .time({ from: d.time ?? 'now-6h', to: 'now' })
    .timezone('browser')
    .annotations([])
    .variables([])
    .links((d.links ?? []).map(link));
  let id = 1;
  let y = 0;
  for (const row of d.rows) {
    if (row.title !== undefined) {
      b.withRow(new dash.RowBuilder(row.title).id(id++).gridPos({ x: 0, y, w: 24, h: 1 }));
      y += 1;
    }
    let x = 0;
    let rowHeight = 0;
    for (const p of row.panels) {
      const h = p.h ?? DEFAULT_HEIGHT;
      if (x + p.w > 24) {
        y += rowHeight;
        x = 0;
        rowHeight = 0;
      }
      b.withPanel(panel(p, id++, { x, y, w: p.w, h }));
      x += p.w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return b.build() as unknown as Json;
}
