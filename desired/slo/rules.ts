// sloRules(slo): the Prometheus rule file for one SLO. Pure: same SLO in, same rules out.
// Semantics follow Sloth (recording rules per window, the period ratio averaged from the 5m series,
// one alert per tier ORing its window pairs); docs/adr/0003-slo-rule-semantics.md says where and why
// Vigil differs (latency SLIs, no-error series, the traffic guard, the absent alert).
import type { AlertTier, SLO } from '../../api/types.js';
import {
  ALERT_ABSENT,
  ALERT_BURN,
  ANNOTATION_DESCRIPTION,
  ANNOTATION_RUNBOOK,
  ANNOTATION_SUMMARY,
  L_INDICATOR,
  L_OBJECTIVE,
  L_SERVICE,
  L_SEVERITY,
  L_SLO,
  L_SLO_NAMESPACE,
  L_TIER,
  L_WINDOW,
  RECORD_BUDGET_REMAINING,
  RECORD_CURRENT_BURN_RATE,
  RECORD_ERROR_BUDGET,
  RECORD_INFO,
  RECORD_OBJECTIVE,
  RECORD_PERIOD_BURN_RATE,
  RECORD_TIME_PERIOD_DAYS,
  SEVERITY_BY_TIER,
  sliErrorRatio,
  sliTotalRate,
  TIER_ABSENT,
  type Tier,
} from '../../conventions/slo.js';
import { leMatcher, matchers, percentToRatios, tidy, withWindow } from './promql.js';
import { type BurnWindow, burnFactor, DEFAULT_WINDOWS, durationHours, SLI_WINDOWS } from './windows.js';

export interface RecordingRule {
  record: string;
  expr: string;
  labels?: Record<string, string>;
}
export interface AlertingRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export type Rule = RecordingRule | AlertingRule;
export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Rule[];
}
export interface RuleFile {
  groups: RuleGroup[];
}

/** How long the SLI must be missing before the absent alert fires (a restart or a slow scrape is not an outage). */
export const ABSENT_FOR = '10m';

/** Units a histogram's name may declare; the threshold (seconds) is scaled to the bucket unit. */
const HISTOGRAM_UNITS: readonly [suffix: string, perSecond: number][] = [
  ['_milliseconds', 1e3],
  ['_microseconds', 1e6],
  ['_nanoseconds', 1e9],
];

/** The threshold in the histogram's own unit (seconds unless the name says otherwise). */
export function bucketBound(histogram: string, thresholdSeconds: number): number {
  const unit = HISTOGRAM_UNITS.find(([suffix]) => histogram.endsWith(suffix));
  return unit ? tidy(thresholdSeconds * unit[1]) : thresholdSeconds;
}

/** A selector's matchers without the braces, ready to be joined with others. */
export function selectorBody(selector: string | undefined): string {
  return (selector ?? '').trim().replace(/^\{/, '').replace(/\}$/, '').trim().replace(/,\s*$/, '');
}

function joinMatchers(...parts: string[]): string {
  return `{${parts.filter((p) => p !== '').join(', ')}}`;
}

/** Everything the rules need, derived once from the SLO. */
export interface SloFacts {
  name: string;
  namespace?: string;
  service: string;
  objectivePercent: number;
  objective: number;
  budget: number;
  period: string;
  periodHours: number;
  periodDays: number;
  indicator: 'ratio' | 'latency' | 'raw';
  /** Identity labels, as on every Vigil SLO series. */
  id: Record<string, string>;
  /** `{slo="…", slo_namespace="…"}` */
  selector: string;
}

export function sloFacts(slo: SLO): SloFacts {
  const name = slo.metadata.name ?? '';
  const namespace = slo.metadata.namespace;
  const { objective, budget } = percentToRatios(slo.spec.objective);
  const periodHours = durationHours(slo.spec.window);
  const id: Record<string, string> = namespace ? { [L_SLO_NAMESPACE]: namespace, [L_SLO]: name } : { [L_SLO]: name };
  const ind = slo.spec.indicator;
  const indicator = ind.ratio ? 'ratio' : ind.latency ? 'latency' : ind.raw ? 'raw' : undefined;
  if (!indicator) throw new Error(`SLO ${name}: spec.indicator needs one of ratio, latency or raw`);
  return {
    name,
    namespace,
    service: slo.spec.service,
    objectivePercent: slo.spec.objective,
    objective,
    budget,
    period: slo.spec.window,
    periodHours,
    periodDays: periodHours / 24,
    indicator,
    id,
    selector: matchers(id),
  };
}

/** The SLI's error ratio over one window, from the user's indicator. */
export function sliErrorExpr(slo: SLO, window: string): string {
  const { ratio, latency, raw } = slo.spec.indicator;
  if (ratio) {
    const errors = withWindow(ratio.errors, window);
    const total = withWindow(ratio.total, window);
    // A service without a single error yet has no error series at all; `or total * 0` turns that
    // into a ratio of 0 instead of no data. `> 0` drops windows without traffic: 0/0 would be NaN,
    // and one NaN in the 5m series would poison the period average for the whole period.
    return `((${errors}) or (${total}) * 0) / ((${total}) > 0)`;
  }
  if (latency) {
    const sel = selectorBody(latency.selector);
    const good = `${latency.histogram}_bucket${joinMatchers(sel, leMatcher(bucketBound(latency.histogram, latency.thresholdSeconds)))}`;
    const all = `${latency.histogram}_count${joinMatchers(sel)}`;
    return `1 - (sum(rate(${good}[${window}])) / (sum(rate(${all}[${window}])) > 0))`;
  }
  if (raw) return `(${withWindow(raw.errorRatio, window)})`;
  throw new Error('spec.indicator needs one of ratio, latency or raw');
}

/**
 * Requests per second over one window, for the traffic guard; undefined for a raw SLI, which
 * gives Vigil a ratio but no request count to guard on (sloProblems rejects the combination).
 */
export function sliTotalExpr(slo: SLO, window: string): string | undefined {
  const { ratio, latency } = slo.spec.indicator;
  if (ratio) return withWindow(ratio.total, window);
  if (latency) return `sum(rate(${latency.histogram}_count${joinMatchers(selectorBody(latency.selector))}[${window}]))`;
  return undefined;
}

/** The expression whose absence means the SLI cannot be computed. */
export function sliPresenceExpr(slo: SLO): string {
  const { ratio, latency, raw } = slo.spec.indicator;
  if (ratio) return withWindow(ratio.total, SLI_WINDOWS[0]);
  if (latency) {
    // The threshold bucket itself: absent both when the histogram is missing and when the
    // threshold is not one of its bucket bounds, which offline validation cannot see.
    const sel = selectorBody(latency.selector);
    return `${latency.histogram}_bucket${joinMatchers(sel, leMatcher(bucketBound(latency.histogram, latency.thresholdSeconds)))}`;
  }
  if (raw) return withWindow(raw.errorRatio, SLI_WINDOWS[0]);
  throw new Error('spec.indicator needs one of ratio, latency or raw');
}

/** A tier alerts unless it says `enabled: false`. */
export function tierEnabled(slo: SLO, tier: Tier): boolean {
  return slo.spec.alerting?.[tier]?.enabled !== false;
}

/** The traffic guard applies to the page tier when minTrafficPerSecond is above zero and the SLI has a request rate. */
export function trafficGuard(slo: SLO): number | undefined {
  const min = slo.spec.alerting?.minTrafficPerSecond;
  return min && min > 0 && !slo.spec.indicator.raw ? min : undefined;
}

function groupName(f: SloFacts, part: string): string {
  return ['vigil-slo', f.namespace, f.name, part].filter(Boolean).join('/');
}

export function sloRules(slo: SLO, windows: readonly BurnWindow[] = DEFAULT_WINDOWS): RuleFile {
  const f = sloFacts(slo);
  const base = { ...f.id, [L_SERVICE]: f.service };
  const guard = trafficGuard(slo);
  const tiers = (['page', 'ticket'] as const).filter((t) => tierEnabled(slo, t));

  const sli: Rule[] = SLI_WINDOWS.map((w) => ({
    record: sliErrorRatio(w),
    expr: sliErrorExpr(slo, w),
    labels: { ...base, [L_WINDOW]: w },
  }));
  const short = sliErrorRatio(SLI_WINDOWS[0]);
  sli.push({
    record: sliErrorRatio(f.period),
    expr: `sum_over_time(${short}${f.selector}[${f.period}])\n/ ignoring (${L_WINDOW})\ncount_over_time(${short}${f.selector}[${f.period}])`,
    labels: { ...base, [L_WINDOW]: f.period },
  });
  if (guard !== undefined && tiers.includes('page')) {
    const longs = [...new Set(windows.filter((w) => w.tier === 'page').map((w) => w.long))];
    for (const w of longs) {
      sli.push({ record: sliTotalRate(w), expr: sliTotalExpr(slo, w)!, labels: { ...base, [L_WINDOW]: w } });
    }
  }

  const meta: Rule[] = [
    { record: RECORD_OBJECTIVE, expr: `vector(${f.objective})`, labels: base },
    { record: RECORD_ERROR_BUDGET, expr: `vector(${f.budget})`, labels: base },
    { record: RECORD_TIME_PERIOD_DAYS, expr: `vector(${tidy(f.periodDays)})`, labels: base },
    {
      record: RECORD_CURRENT_BURN_RATE,
      expr: `${short}${f.selector} / ${f.budget}`,
      labels: { ...base, [L_WINDOW]: SLI_WINDOWS[0] },
    },
    {
      record: RECORD_PERIOD_BURN_RATE,
      expr: `${sliErrorRatio(f.period)}${f.selector} / ${f.budget}`,
      labels: { ...base, [L_WINDOW]: f.period },
    },
    {
      record: RECORD_BUDGET_REMAINING,
      expr: `1 - ${RECORD_PERIOD_BURN_RATE}${f.selector}`,
      labels: { ...base, [L_WINDOW]: f.period },
    },
    {
      record: RECORD_INFO,
      expr: 'vector(1)',
      labels: { ...base, [L_OBJECTIVE]: String(f.objectivePercent), [L_WINDOW]: f.period, [L_INDICATOR]: f.indicator },
    },
  ];

  const alerts: Rule[] = tiers.map((tier) => burnAlert(slo, f, tier, windows, guard));
  if (tiers.length > 0) alerts.push(absentAlert(slo, f));

  const groups: RuleGroup[] = [
    { name: groupName(f, 'sli'), rules: sli },
    { name: groupName(f, 'meta'), rules: meta },
  ];
  if (alerts.length > 0) groups.push({ name: groupName(f, 'alerts'), rules: alerts });
  return { groups };
}

function burnAlert(
  slo: SLO,
  f: SloFacts,
  tier: Tier,
  windows: readonly BurnWindow[],
  guard: number | undefined,
): AlertingRule {
  const pairs = windows.filter((w) => w.tier === tier);
  const guarded = tier === 'page' ? guard : undefined;
  const ratio = (w: string) => `max without (${L_WINDOW}) (${sliErrorRatio(w)}${f.selector})`;
  const terms = pairs.map((w) => {
    const factor = tidy(burnFactor(w, f.periodHours));
    // The long window first: `and` keeps the left side's value, so $value is the sustained burn rate.
    const lines = [`${ratio(w.long)} / ${f.budget} > ${factor}`, 'and', `${ratio(w.short)} / ${f.budget} > ${factor}`];
    if (guarded !== undefined) {
      lines.push('and', `max without (${L_WINDOW}) (${sliTotalRate(w.long)}${f.selector}) >= ${guarded}`);
    }
    return `(\n${lines.map((l) => `  ${l}`).join('\n')}\n)`;
  });
  const rules = pairs.map((w) => {
    const factor = tidy(burnFactor(w, f.periodHours));
    return `over ${w.short} and ${w.long} above ${factor}× the budget rate (${w.budgetPercent}% of the ${f.period} budget in ${w.long})`;
  });
  const guardText =
    guarded !== undefined ? ` It holds while fewer than ${guarded} requests/s arrive over the long window.` : '';
  const cfg: AlertTier | undefined = slo.spec.alerting?.[tier];
  return {
    alert: ALERT_BURN,
    expr: terms.join('\nor\n'),
    labels: alertLabels(slo, f, tier, cfg),
    annotations: {
      [ANNOTATION_SUMMARY]: `${f.service}: SLO ${f.name} is burning its ${f.period} error budget (objective ${f.objectivePercent}%) at {{ $value | humanize }}× the rate that would use it up in exactly ${f.period}.`,
      [ANNOTATION_DESCRIPTION]: `The ${tier} tier fires when the error ratio is ${rules.join(', or ')}.${guardText}`,
      ...runbook(slo),
      ...slo.spec.alerting?.annotations,
      ...cfg?.annotations,
    },
  };
}

function absentAlert(slo: SLO, f: SloFacts): AlertingRule {
  const presence = sliPresenceExpr(slo);
  const why =
    f.indicator === 'latency'
      ? ` Either the histogram is missing or ${slo.spec.indicator.latency?.thresholdSeconds}s is not one of its bucket bounds.`
      : '';
  return {
    alert: ALERT_ABSENT,
    expr: `absent(${presence})`,
    for: ABSENT_FOR,
    // The user's alerting labels route it like the SLO's other alerts; their annotations describe
    // burn alerts, so only the runbook is copied.
    labels: alertLabels(slo, f, TIER_ABSENT, undefined),
    annotations: {
      [ANNOTATION_SUMMARY]: `${f.service}: the SLI of SLO ${f.name} has no data, so its error budget cannot be tracked.`,
      [ANNOTATION_DESCRIPTION]: `No series for ${presence} for ${ABSENT_FOR}.${why}`,
      ...runbook(slo),
    },
  };
}

function alertLabels(
  slo: SLO,
  f: SloFacts,
  tier: Tier | typeof TIER_ABSENT,
  cfg: AlertTier | undefined,
): Record<string, string> {
  // severity is a default a user may override (e.g. severity: page for their routes); the identity
  // labels are not (sloProblems rejects them).
  return {
    [L_SEVERITY]: SEVERITY_BY_TIER[tier],
    ...slo.spec.alerting?.labels,
    ...cfg?.labels,
    ...f.id,
    [L_SERVICE]: f.service,
    [L_TIER]: tier,
  };
}

function runbook(slo: SLO): Record<string, string> {
  const url = slo.spec.alerting?.runbookURL;
  return url ? { [ANNOTATION_RUNBOOK]: url } : {};
}

/** How many rules a rule file holds (for status.ruleCount). */
export function countRules(file: RuleFile): number {
  return file.groups.reduce((n, g) => n + g.rules.length, 0);
}
