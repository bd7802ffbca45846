// The multi-window multi-burn-rate table, as data. The pairs and budget shares are Google's SRE
// workbook ("recommended parameters") plus Sloth's fourth pair (1d/2h). The burn-rate factors are
// not stored: they follow from the share of the budget a pair may consume within its long window,
// so any SLO period gets the right factors (14.4, 6, 3, 1 for 30d; 13.44, 5.6, 2.8, 0.93 for 28d).
import { TIER_PAGE, TIER_TICKET, type Tier } from '../../conventions/slo.js';
import { durationHours } from '../../lib/durations.js';

export interface BurnWindow {
  tier: Tier;
  short: string;
  long: string;
  /** Percent of the period's error budget this pair lets burn within its long window before alerting. */
  budgetPercent: number;
}

export const DEFAULT_WINDOWS: readonly BurnWindow[] = [
  { tier: TIER_PAGE, short: '5m', long: '1h', budgetPercent: 2 },
  { tier: TIER_PAGE, short: '30m', long: '6h', budgetPercent: 5 },
  { tier: TIER_TICKET, short: '2h', long: '1d', budgetPercent: 10 },
  { tier: TIER_TICKET, short: '6h', long: '3d', budgetPercent: 10 },
];

/** The windows the SLI error ratio is recorded over; the first one also feeds the period ratio. */
export const SLI_WINDOWS: readonly string[] = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'];

// Hours in a window or period (5m, 6h, 30d, 4w); lib/durations.ts reads every duration.
export { durationHours } from '../../lib/durations.js';

/**
 * The burn rate above which a pair alerts: burning `budgetPercent`% of the budget within the long
 * window means an error ratio of share × budget × period / long, i.e. a burn rate of share × period / long.
 * Written as one integer division so that 30d gives exactly 14.4, 6, 3 and 1.
 */
export function burnFactor(w: BurnWindow, periodHours: number): number {
  return (w.budgetPercent * periodHours) / (100 * durationHours(w.long));
}

/** The longest window any alert pair reads; an SLO period must be longer than this. */
export function longestAlertWindow(windows: readonly BurnWindow[] = DEFAULT_WINDOWS): BurnWindow {
  return windows.reduce((a, b) => (durationHours(b.long) > durationHours(a.long) ? b : a));
}
