// sloProblems(slo): what the JSON Schema and the CEL rules cannot say about an SLO. Run it on the
// object validateResource returns (defaults filled). Each problem names the field to fix.

import type { SLO } from '../../api/types.js';
import type { Problem } from '../../api/validate.js';
import { RESERVED_LABELS, type Tier } from '../../conventions/slo.js';
import {
  formatGoFloat,
  LABEL_NAME_RE,
  percentToRatios,
  promqlShapeProblems,
  selectorShapeProblems,
  tidy,
} from './promql.js';
import { bucketBound, tierEnabled } from './rules.js';
import { type BurnWindow, burnFactor, DEFAULT_WINDOWS, durationHours, longestAlertWindow } from './windows.js';

/** Suffixes of the series a histogram exposes, or of other metric types: none names a histogram. */
const NOT_HISTOGRAM: readonly [suffix: string, why: string][] = [
  ['_bucket', 'give the histogram name without the _bucket suffix'],
  ['_count', 'give the histogram name without the _count suffix'],
  ['_sum', 'give the histogram name without the _sum suffix'],
  ['_total', 'a name ending in _total is a counter, not a histogram'],
  ['_created', 'a name ending in _created is a timestamp series, not a histogram'],
  ['_info', 'a name ending in _info is an info metric, not a histogram'],
];

/** A bucket bound with more significant digits than this is float noise, not something a histogram declares. */
const MAX_BOUND_DIGITS = 10;

export function sloProblems(slo: SLO, windows: readonly BurnWindow[] = DEFAULT_WINDOWS): Problem[] {
  const out: Problem[] = [];
  const add = (path: string, messages: string[]) => {
    for (const message of messages) out.push({ path, message });
  };
  const spec = slo.spec;

  const periodHours = durationHours(spec.window);
  const longest = longestAlertWindow(windows);
  if (!(periodHours > durationHours(longest.long))) {
    add('spec.window', [
      `must be longer than ${longest.long}, the longest alert window (the ${longest.tier} tier compares ${longest.short} with ${longest.long})`,
    ]);
  }

  const { ratio, latency, raw } = spec.indicator;
  if (ratio) {
    add('spec.indicator.ratio.errors', promqlShapeProblems(ratio.errors, { template: true }));
    add('spec.indicator.ratio.total', promqlShapeProblems(ratio.total, { template: true }));
  }
  if (raw) add('spec.indicator.raw.errorRatio', promqlShapeProblems(raw.errorRatio, { template: true }));
  if (latency) {
    const bad = NOT_HISTOGRAM.find(([suffix]) => latency.histogram.endsWith(suffix));
    if (bad) add('spec.indicator.latency.histogram', [`${latency.histogram} is not a histogram name: ${bad[1]}`]);
    if (latency.selector !== undefined) add('spec.indicator.latency.selector', selectorShapeProblems(latency.selector));
    add('spec.indicator.latency.thresholdSeconds', thresholdProblems(latency.histogram, latency.thresholdSeconds));
  }

  const alerting = spec.alerting;
  add('spec.alerting.labels', labelProblems(alerting?.labels, true));
  add('spec.alerting.annotations', labelProblems(alerting?.annotations, false));
  for (const tier of ['page', 'ticket'] as const) {
    add(`spec.alerting.${tier}.labels`, labelProblems(alerting?.[tier]?.labels, true));
    add(`spec.alerting.${tier}.annotations`, labelProblems(alerting?.[tier]?.annotations, false));
  }
  if (raw && alerting?.minTrafficPerSecond) {
    add('spec.alerting.minTrafficPerSecond', [
      'a raw SLI gives an error ratio but no request rate to guard on; remove minTrafficPerSecond or use a ratio SLI',
    ]);
  }

  if (periodHours > 0) {
    const { budget } = percentToRatios(spec.objective);
    for (const tier of ['page', 'ticket'] as Tier[]) {
      if (!tierEnabled(slo, tier)) continue;
      for (const w of windows.filter((x) => x.tier === tier)) {
        const needed = burnFactor(w, periodHours) * budget;
        if (needed >= 1) {
          add('spec.objective', [
            `with an error budget of ${tidy(budget * 100)}%, the ${tier} pair ${w.short}/${w.long} would need an error ratio of ${Number((needed * 100).toPrecision(4))}% and can never fire; raise the objective or disable the ${tier} tier`,
          ]);
        }
      }
    }
  }
  return out;
}

/**
 * Without the series Vigil cannot list a histogram's buckets, so "must be a bucket bound" is checked
 * as far as the number itself allows: the bound (in the histogram's unit, from a _milliseconds etc.
 * suffix) is written into `le` the way Prometheus formats floats, and a bound with float noise
 * (0.30000000000000004) can match no bucket. The absent alert catches a bound the histogram lacks.
 */
function thresholdProblems(histogram: string, thresholdSeconds: number): string[] {
  const bound = bucketBound(histogram, thresholdSeconds);
  const digits = formatGoFloat(bound).replace(/e.*$/, '').replace(/[-.]/g, '').replace(/^0+/, '').length;
  if (!Number.isFinite(bound) || digits > MAX_BOUND_DIGITS) {
    return [
      `${thresholdSeconds} is not a bucket bound a histogram declares (le="${formatGoFloat(bound)}"); use the bucket's upper bound as written in the histogram, e.g. 0.25 or 0.3`,
    ];
  }
  return [];
}

function labelProblems(map: Record<string, string> | undefined, isLabel: boolean): string[] {
  const out: string[] = [];
  for (const key of Object.keys(map ?? {})) {
    if (!LABEL_NAME_RE.test(key))
      out.push(`${JSON.stringify(key)} is not a valid Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)`);
    else if (key.startsWith('__'))
      out.push(`${JSON.stringify(key)}: names starting with __ are reserved by Prometheus`);
    else if (isLabel && RESERVED_LABELS.includes(key)) {
      out.push(`${JSON.stringify(key)} is set by Vigil on every SLO alert and cannot be overridden`);
    }
  }
  return out;
}
