// The generated rules under synthetic traffic, evaluated by the real promtool. Each scenario writes
// a rule file and a promtool unit test, runs `promtool test rules`, and shows promtool's report when
// it fails. Alerts are read back from the ALERTS series promtool records, so "never fires" is a
// count over the whole run, not a look at a few instants.
import { describe, expect, it } from '@jest/globals';
import { sloRules } from '../../../desired/slo/index.js';
import { anSLO } from '../../support/builders.js';
import { counter, outcome, type Series, slo, testRules } from './promtool.js';

const H = 60;
const D = 24 * H;
const BURN = 'SLOErrorBudgetBurn';
const firing = (tier: string, range?: string) => {
  const sel = `ALERTS{alertname="${BURN}", alertstate="firing", tier="${tier}"}`;
  return range ? `count_over_time(${sel}[${range}])` : `count by (tier) (${sel})`;
};
const fires = (tier: string, at: number) => ({ at, expr: firing(tier), samples: [{ labels: { tier }, value: 1 }] });
const quietFor = (tier: string, at: number, minutes: number) => ({
  at,
  expr: firing(tier, `${minutes}m`),
  samples: [],
});

/**
 * Requests to checkout at `rps`, sampled every `step` minutes; each segment is [minutes, share of
 * requests that fail].
 */
function traffic(rps: number, step: number, ...segments: [minutes: number, errorShare: number][]): Series[] {
  const perStep = rps * 60 * step;
  const seg = (share: (e: number) => number) =>
    counter(...segments.map(([m, e]): [number, number] => [m / step, perStep * share(e)]));
  return [
    { series: 'http_requests_total{job="checkout", code="200"}', values: seg((e) => 1 - e) },
    { series: 'http_requests_total{job="checkout", code="500"}', values: seg((e) => e) },
  ];
}

// 99.9% over 30d: the budget is 0.1% of requests, so a burn rate of b means b × 0.1% of requests fail.
const budget = 0.001;
const ratioSLO = (alerting: Record<string, unknown> = {}) =>
  slo(
    anSLO({
      alerting: { labels: { team: 'payments' }, runbookURL: 'https://runbooks.example.com/checkout', ...alerting },
    }),
  );

describe('the generated rules under synthetic traffic (promtool test rules)', () => {
  it('pages within 5 minutes of a total outage, and not before it', () => {
    const T0 = 6 * H;
    const r = testRules({
      rules: sloRules(ratioSLO()),
      series: traffic(10, 1, [T0, 0], [30, 1]),
      exprs: [
        { at: T0 - 1, expr: 'ALERTS', samples: [] },
        {
          at: T0 + 5,
          expr: `ALERTS{alertname="${BURN}", tier="page"}`,
          samples: [
            {
              labels: {
                __name__: 'ALERTS',
                alertname: BURN,
                alertstate: 'firing',
                severity: 'critical',
                team: 'payments',
                slo: 'checkout-availability',
                service: 'checkout',
                tier: 'page',
              },
              value: 1,
            },
          ],
        },
      ],
    });
    expect(outcome(r)).toBe('passed');
  });

  it('pages within about an hour of a 15x burn, hours before any ticket', () => {
    // Three healthy days first, so that the 1d and 3d windows see real history.
    const T0 = 3 * D;
    const r = testRules({
      rules: sloRules(ratioSLO()),
      // 2m samples and evaluations: three days at 1m take promtool too long for a unit test.
      interval: '2m',
      evaluationInterval: '2m',
      series: traffic(10, 2, [T0, 0], [6 * H, 15 * budget]),
      exprs: [
        quietFor('page', T0 + 50, 50),
        fires('page', T0 + 66),
        quietFor('ticket', T0 + 66, 66),
        // The ticket does come, from the 2h/1d pair once a day's worth of budget share has burned.
        fires('ticket', T0 + 6 * H),
      ],
    });
    expect(outcome(r)).toBe('passed');
  });

  it('raises a ticket within two days of a steady 2x burn and never pages', () => {
    const T0 = 3 * D;
    const r = testRules({
      rules: sloRules(ratioSLO()),
      interval: '2m',
      evaluationInterval: '4m',
      series: traffic(10, 2, [T0, 0], [2 * D, 2 * budget]),
      exprs: [
        // At 2x the 6h/3d pair needs 3d × 1/2 = 36h of burning; nothing before that.
        quietFor('ticket', T0 + 30 * H, 30 * H),
        fires('ticket', T0 + 2 * D),
        quietFor('page', T0 + 2 * D, T0 + 2 * D),
      ],
    });
    expect(outcome(r)).toBe('passed');
  });

  it('raises nothing over a whole 30-day window at a 0.5x burn, leaving half the budget', () => {
    // Samples every 150s and evaluations every 10m: at 1m promtool needs many minutes for 30 days.
    // 150s keeps two samples in every 5m range, also with Prometheus 3's left-open ranges.
    const end = 30 * D;
    const r = testRules({
      rules: sloRules(ratioSLO()),
      interval: '150s',
      evaluationInterval: '10m',
      series: traffic(10, 2.5, [end, 0.5 * budget]),
      exprs: [
        { at: end, expr: `count_over_time(ALERTS{alertstate="firing"}[${end}m])`, samples: [] },
        {
          at: end,
          expr: 'count(slo:period_error_budget_remaining:ratio > 0.49 < 0.51)',
          samples: [{ labels: {}, value: 1 }],
        },
      ],
    });
    expect(outcome(r)).toBe('passed');
  });

  it('holds the page at 0.01 requests/s with one error when minTrafficPerSecond is 0.1', () => {
    const T0 = 6 * H;
    // One error in the minute after T0, otherwise 0.01 req/s of successes.
    const series: Series[] = [
      { series: 'http_requests_total{job="checkout", code="200"}', values: counter([T0 + 2 * H, 0.6]) },
      { series: 'http_requests_total{job="checkout", code="500"}', values: counter([T0, 0], [1, 1], [2 * H - 1, 0]) },
    ];
    const guarded = testRules({
      rules: sloRules(ratioSLO({ minTrafficPerSecond: 0.1 })),
      series,
      exprs: [quietFor('page', T0 + 2 * H, 2 * H + 10)],
    });
    expect(outcome(guarded)).toBe('passed');
    // The same traffic without the guard pages: it is the guard that holds it.
    // Checked 3 minutes after the error, while the 5m range still holds the sample before the jump
    // (Prometheus 3's ranges are left-open, so at T0+5m it would see no increase).
    const unguarded = testRules({ rules: sloRules(ratioSLO()), series, exprs: [fires('page', T0 + 3)] });
    expect(outcome(unguarded)).toBe('passed');
  });

  it('pages a latency SLO when the slow share burns the budget at 20x', () => {
    const latency = slo(
      anSLO(
        {
          objective: 99,
          window: '28d',
          indicator: {
            latency: {
              histogram: 'http_request_duration_seconds',
              thresholdSeconds: 0.3,
              selector: '{job="checkout"}',
            },
          },
          alerting: { ticket: { enabled: false } },
        },
        'checkout-latency',
      ),
    );
    const T0 = 6 * H;
    const perMin = 600;
    // Budget 1%: healthy is 0.5% slow (0.5x), the burn 20% slow (20x).
    const healthySlow = 0.005;
    const burnSlow = 0.2;
    const bucket = (le: string, share: (slow: number) => number) => ({
      series: `http_request_duration_seconds_bucket{job="checkout", le="${le}"}`,
      values: counter([T0, perMin * share(healthySlow)], [2 * H, perMin * share(burnSlow)]),
    });
    const r = testRules({
      rules: sloRules(latency),
      series: [
        bucket('0.1', (slow) => 0.5 * (1 - slow)),
        bucket('0.3', (slow) => 1 - slow),
        bucket('+Inf', () => 1),
        { series: 'http_request_duration_seconds_count{job="checkout"}', values: counter([T0 + 2 * H, perMin]) },
      ],
      exprs: [
        { at: T0 - 1, expr: 'ALERTS', samples: [] },
        fires('page', T0 + H),
        { at: T0 + H, expr: firing('ticket', `${T0 + H}m`), samples: [] },
      ],
    });
    expect(outcome(r)).toBe('passed');
  });

  it('raises the absent alert when the SLI has no series', () => {
    const r = testRules({
      rules: sloRules(ratioSLO()),
      series: [{ series: 'http_requests_total{job="cart", code="200"}', values: counter([30, 600]) }],
      alerts: [
        { at: 5, alertname: 'SLOMetricAbsent', alerts: [] },
        {
          at: 15,
          alertname: 'SLOMetricAbsent',
          alerts: [
            {
              labels: {
                severity: 'warning',
                team: 'payments',
                slo: 'checkout-availability',
                service: 'checkout',
                tier: 'absent',
              },
              annotations: {
                summary:
                  'checkout: the SLI of SLO checkout-availability has no data, so its error budget cannot be tracked.',
                description: 'No series for sum(rate(http_requests_total{job="checkout"}[5m])) for 10m.',
                runbook_url: 'https://runbooks.example.com/checkout',
              },
            },
          ],
        },
      ],
    });
    expect(outcome(r)).toBe('passed');
  });

  it('never fires a disabled page tier, even in a total outage that tickets', () => {
    const T0 = 6 * H;
    const r = testRules({
      rules: sloRules(ratioSLO({ page: { enabled: false } })),
      series: traffic(10, 1, [T0, 0], [2 * H, 1]),
      exprs: [quietFor('page', T0 + 2 * H, T0 + 2 * H), fires('ticket', T0 + 2 * H)],
    });
    expect(outcome(r)).toBe('passed');
  });

  it('never fires a disabled ticket tier under a steady 2x burn', () => {
    const T0 = 3 * D;
    const r = testRules({
      rules: sloRules(ratioSLO({ ticket: { enabled: false } })),
      interval: '2m',
      evaluationInterval: '4m',
      series: traffic(10, 2, [T0, 0], [2 * D, 2 * budget]),
      exprs: [{ at: T0 + 2 * D, expr: `count_over_time(ALERTS{alertname="${BURN}"}[${T0 + 2 * D}m])`, samples: [] }],
    });
    expect(outcome(r)).toBe('passed');
  });
});
