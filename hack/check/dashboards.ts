// Checks a Grafana dashboard file the way Grafana and Prometheus will read it: the JSON loads,
// every panel has a unique id and a gridPos, every query names a provisioned datasource, has a
// refId and a query. The structural checks are pure; the PromQL parse is promtool's (promtool.ts).
// Shared by the tests and hack/validate-dashboards.ts (`make validate`).
import { DATASOURCE_UIDS } from '../../conventions/index.js';
import type { RuleFile } from '../../desired/slo/rules.js';

export interface PanelQuery {
  panelId: number;
  title: string;
  refId: string;
  expr: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** Panels, with the ones nested in collapsed rows. */
function allPanels(d: Obj): unknown[] {
  const top = Array.isArray(d.panels) ? d.panels : [];
  return top.flatMap((p) => (isObj(p) && Array.isArray(p.panels) ? [p, ...p.panels] : [p]));
}

function panelName(p: Obj, index: number): string {
  const id = isInt(p.id) ? String(p.id) : `#${index}`;
  return `panel ${id}${typeof p.title === 'string' ? ` "${p.title}"` : ''}`;
}

function datasourceProblem(ds: unknown, allowed: readonly string[]): string | undefined {
  // A panel may leave its datasource to its targets; a target must name one.
  if (!isObj(ds)) return 'datasource must be an object { type, uid }';
  if (!allowed.includes(ds.uid as string)) {
    return `datasource uid ${JSON.stringify(ds.uid)} is not a provisioned one (${allowed.join(', ')})`;
  }
  return undefined;
}

/** Problems of one dashboard's JSON text, each naming the file and, where it applies, the panel. */
export function dashboardProblems(file: string, text: string): string[] {
  let d: unknown;
  try {
    d = JSON.parse(text);
  } catch (err) {
    return [`${file}: is not valid JSON: ${(err as Error).message}`];
  }
  if (!isObj(d)) return [`${file}: must be a JSON object (a Grafana dashboard model)`];
  const out: string[] = [];
  const allowed = Object.values(DATASOURCE_UIDS) as string[];
  if (typeof d.uid !== 'string' || d.uid === '' || d.uid.length > 40) {
    out.push(`${file}: uid must be a non-empty string of at most 40 characters`);
  }
  if (typeof d.title !== 'string' || d.title === '') out.push(`${file}: title must be a non-empty string`);
  if (!isInt(d.schemaVersion)) out.push(`${file}: schemaVersion must be an integer`);
  if (!Array.isArray(d.panels) || d.panels.length === 0) out.push(`${file}: panels must be a non-empty array`);
  const ids = new Map<number, string>();
  allPanels(d).forEach((p, i) => {
    if (!isObj(p)) {
      out.push(`${file}: panel #${i} must be an object`);
      return;
    }
    const name = panelName(p, i);
    const at = `${file}: ${name}`;
    if (!isInt(p.id)) out.push(`${at}: id must be an integer`);
    else if (ids.has(p.id)) out.push(`${at}: id ${p.id} is also used by ${ids.get(p.id)}`);
    else ids.set(p.id, name);
    if (typeof p.type !== 'string' || p.type === '') out.push(`${at}: type must be a non-empty string`);
    const g = p.gridPos;
    if (!isObj(g) || !['x', 'y', 'w', 'h'].every((k) => isInt(g[k]) && (g[k] as number) >= 0)) {
      out.push(`${at}: gridPos must have integer x, y, w, h`);
    } else if ((g.x as number) + (g.w as number) > 24 || (g.w as number) < 1 || (g.h as number) < 1) {
      out.push(`${at}: gridPos ${JSON.stringify(g)} does not fit Grafana's 24 columns`);
    }
    if (p.type === 'row') return;
    if (p.datasource !== undefined) {
      const bad = datasourceProblem(p.datasource, allowed);
      if (bad) out.push(`${at}: ${bad}`);
    }
    if (!Array.isArray(p.targets) || p.targets.length === 0) {
      out.push(`${at}: targets must be a non-empty array`);
      return;
    }
    const refIds = new Set<string>();
    p.targets.forEach((t, j) => {
      const tat = `${at}: target ${j}`;
      if (!isObj(t)) {
        out.push(`${tat} must be an object`);
        return;
      }
      if (typeof t.refId !== 'string' || t.refId === '') out.push(`${tat}: refId must be a non-empty string`);
      else if (refIds.has(t.refId)) out.push(`${tat}: refId ${t.refId} is used twice`);
      else refIds.add(t.refId);
      if (typeof t.expr !== 'string' || t.expr.trim() === '') out.push(`${tat}: expr must be a non-empty query`);
      const bad = datasourceProblem(t.datasource, allowed);
      if (bad) out.push(`${tat}: ${bad}`);
    });
  });
  return out;
}

/** The Prometheus queries of a dashboard (targets on the prometheus datasource). */
export function dashboardQueries(dashboard: unknown): PanelQuery[] {
  if (!isObj(dashboard)) return [];
  const out: PanelQuery[] = [];
  for (const p of allPanels(dashboard)) {
    if (!isObj(p) || !Array.isArray(p.targets)) continue;
    for (const t of p.targets) {
      if (!isObj(t) || typeof t.expr !== 'string') continue;
      const ds = isObj(t.datasource) ? t.datasource : isObj(p.datasource) ? p.datasource : {};
      if (ds.uid !== undefined && ds.uid !== DATASOURCE_UIDS.prometheus) continue;
      out.push({ panelId: p.id as number, title: String(p.title ?? ''), refId: String(t.refId ?? ''), expr: t.expr });
    }
  }
  return out;
}

/** Values for Grafana's built-in variables; any other variable becomes a label value. */
const BUILTIN: Record<string, string> = {
  __rate_interval: '5m',
  __interval: '1m',
  __range: '1h',
  __range_s: '3600',
  __interval_ms: '60000',
  __range_ms: '3600000',
};

/** A query with Grafana's variables replaced by concrete values, so promtool can parse it. */
export function concreteExpr(expr: string): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (_m, a: string | undefined, b: string | undefined) => {
    const name = (a ?? b) as string;
    return BUILTIN[name] ?? 'vigil';
  });
}

const RECORD_PREFIX = 'vigil_dashboard_check';
export const recordName = (q: PanelQuery): string => `${RECORD_PREFIX}:panel_${q.panelId}_${q.refId}`;

/** A rule file that records every query once; `promtool check rules` on it parses them all. */
export function queriesRuleFile(queries: PanelQuery[]): RuleFile {
  return {
    groups: [
      { name: RECORD_PREFIX, rules: queries.map((q) => ({ record: recordName(q), expr: concreteExpr(q.expr) })) },
    ],
  };
}

/** promtool's complaints about the rule file, mapped back to the file and panel each came from. */
export function promtoolProblems(file: string, queries: PanelQuery[], output: string): string[] {
  const byRecord = new Map(queries.map((q) => [recordName(q), q]));
  const out: string[] = [];
  for (const line of output.split('\n')) {
    const m = /vigil_dashboard_check:panel_\d+_\w+/.exec(line);
    const q = m && byRecord.get(m[0]);
    if (q)
      out.push(
        `${file}: panel ${q.panelId} "${q.title}" query ${q.refId}: ${line.slice(m.index + m[0].length).replace(/^["\s:]+/, '')}`,
      );
  }
  return out;
}
