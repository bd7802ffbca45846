// Prometheus-style durations (1h30m, 7d, 500ms): the form the CRDs accept for retention, intervals
// and thresholds, and the one PromQL range selectors use. One parser, in milliseconds, so that no
// caller sums unit factors of its own.

/** A duration as a regular-expression fragment, for patterns that embed one (PromQL ranges). */
export const DURATION = '(?:[0-9]+(?:ms|s|m|h|d|w|y))+';

/** The JSON-schema pattern of a duration field. */
export const DURATION_PATTERN = '^([0-9]+(ms|s|m|h|d|w|y))+$';

const WHOLE = new RegExp(DURATION_PATTERN);
const PART = /([0-9]+)(ms|s|m|h|d|w|y)/g;

/** Milliseconds per unit; a year is 365 days and a week 7, as Prometheus counts them. */
const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

/** Milliseconds in a duration; NaN when the text is not one. */
export function durationMs(d: string): number {
  if (typeof d !== 'string' || !WHOLE.test(d)) return Number.NaN;
  let total = 0;
  for (const m of d.matchAll(PART)) total += Number(m[1]) * UNIT_MS[m[2]];
  return total;
}

/** Seconds in a duration; NaN when the text is not one. */
export const durationSeconds = (d: string): number => durationMs(d) / 1000;

/** Hours in a duration; NaN when the text is not one. */
export const durationHours = (d: string): number => durationMs(d) / UNIT_MS.h;

/**
 * The same duration in a form Go's time.ParseDuration accepts (no d, w or y), in the largest whole
 * unit: 7d → 168h, 90s → 90s, 1500ms → 1500ms. Throws on text that is not a duration.
 */
export function goDuration(d: string): string {
  const ms = durationMs(d);
  if (Number.isNaN(ms)) throw new RangeError(`${JSON.stringify(d)} is not a duration such as 30s, 1h30m or 7d`);
  if (ms % UNIT_MS.h === 0) return `${ms / UNIT_MS.h}h`;
  if (ms % UNIT_MS.m === 0) return `${ms / UNIT_MS.m}m`;
  if (ms % UNIT_MS.s === 0) return `${ms / UNIT_MS.s}s`;
  return `${ms}ms`;
}
