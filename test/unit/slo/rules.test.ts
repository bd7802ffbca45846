import { describe, expect, it } from '@jest/globals';
import {
  type AlertingRule,
  burnFactor,
  countRules,
  DEFAULT_WINDOWS,
  type RecordingRule,
  sloRules,
} from '../../../desired/slo/index.js';
import { formatGoFloat, leMatcher, leValues, percentToRatios } from '../../../desired/slo/promql.js';
import { durationHours } from '../../../desired/slo/windows.js';
import { anSLO } from '../../support/builders.js';
import { slo } from './promtool.js';

const records = (s: ReturnType<typeof slo>) =>
  sloRules(s).groups.flatMap((g) => g.rules.filter((r): r is RecordingRule => 'record' in r));
const alerts = (s: ReturnType<typeof slo>) =>
  sloRules(s).groups.flatMap((g) => g.rules.filter((r): r is AlertingRule => 'alert' in r));
const latencySLO = (latency: Record<string, unknown>) =>
  slo(
    anSLO({
      indicator: { latency: { histogram: 'http_request_duration_seconds', thresholdSeconds: 0.3, ...latency } },
    }),
  );

describe('burn-rate factors', () => {
  it('are 14.4, 6, 3 and 1 for a 30-day period, the Google and Sloth values', () => {
    expect(DEFAULT_WINDOWS.map((w) => burnFactor(w, durationHours('30d')))).toEqual([14.4, 6, 3, 1]);
  });

  it('scale with the period, so 28 days gets 13.44, 5.6, 2.8 and 0.93', () => {
    const f = DEFAULT_WINDOWS.map((w) => burnFactor(w, durationHours('28d')));
    expect(f.slice(0, 3)).toEqual([13.44, 5.6, 2.8]);
    expect(f[3]).toBeCloseTo(0.9333, 4);
  });

  it('treat 4w like 28d', () => {
    expect(DEFAULT_WINDOWS.map((w) => burnFactor(w, durationHours('4w')))).toEqual(
      DEFAULT_WINDOWS.map((w) => burnFactor(w, durationHours('28d'))),
    );
  });

  it('end up in the alert expressions', () => {
    const [page, ticket] = alerts(slo(anSLO({ window: '28d' })));
    expect(page.expr).toContain('/ 0.001 > 13.44');
    expect(page.expr).toContain('/ 0.001 > 5.6');
    expect(ticket.expr).toContain('/ 0.001 > 2.8');
    expect(ticket.expr).toContain('/ 0.001 > 0.933333333333');
  });
});

describe('sloRules', () => {
  it('records the SLI error ratio over 5m, 30m, 1h, 2h, 6h, 1d, 3d and the period', () => {
    const names = records(slo(anSLO({}))).map((r) => r.record);
    expect(names.filter((n) => n.startsWith('slo:sli_error:'))).toEqual(
      ['5m', '30m', '1h', '2h', '6h', '1d', '3d', '30d'].map((w) => `slo:sli_error:ratio_rate${w}`),
    );
  });

  it('substitutes {{window}} in a ratio SLI and turns "no error series yet" into a ratio of 0', () => {
    const r = records(slo(anSLO({}))).find((x) => x.record === 'slo:sli_error:ratio_rate1h')!;
    expect(r.expr).toBe(
      '((sum(rate(http_requests_total{job="checkout",code=~"5.."}[1h]))) or (sum(rate(http_requests_total{job="checkout"}[1h]))) * 0) / ((sum(rate(http_requests_total{job="checkout"}[1h]))) > 0)',
    );
    expect(r.labels).toEqual({ slo: 'checkout-availability', service: 'checkout', slo_window: '1h' });
  });

  it('derives the period ratio from the 5m series, as Sloth does, not from a 30-day rate', () => {
    const r = records(slo(anSLO({}))).find((x) => x.record === 'slo:sli_error:ratio_rate30d')!;
    expect(r.expr).toContain('sum_over_time(slo:sli_error:ratio_rate5m{slo="checkout-availability"}[30d])');
    expect(r.expr).toContain('count_over_time(slo:sli_error:ratio_rate5m{slo="checkout-availability"}[30d])');
  });

  it('builds a latency SLI from the threshold bucket and _count with the selector', () => {
    const r = records(latencySLO({ selector: '{job="checkout"}' })).find(
      (x) => x.record === 'slo:sli_error:ratio_rate5m',
    )!;
    expect(r.expr).toBe(
      '1 - (sum(rate(http_request_duration_seconds_bucket{job="checkout", le="0.3"}[5m])) / (sum(rate(http_request_duration_seconds_count{job="checkout"}[5m])) > 0))',
    );
  });

  it('matches both spellings of a whole-number bucket bound (le="1" and le="1.0")', () => {
    const r = records(latencySLO({ thresholdSeconds: 1 }))[0];
    expect(r.expr).toContain('_bucket{le=~"1|1\\\\.0"}');
  });

  it('scales the threshold to a histogram whose name says milliseconds', () => {
    const r = records(
      slo(
        anSLO({ indicator: { latency: { histogram: 'http_server_duration_milliseconds', thresholdSeconds: 0.25 } } }),
      ),
    )[0];
    expect(r.expr).toContain('http_server_duration_milliseconds_bucket{le=~"250|250\\\\.0"}');
  });

  it('uses a raw SLI as given, window substituted', () => {
    const r = records(
      slo(anSLO({ indicator: { raw: { errorRatio: 'avg_over_time(job:error_ratio[{{window}}])' } } })),
    )[0];
    expect(r.expr).toBe('(avg_over_time(job:error_ratio[5m]))');
  });

  it('writes metadata rules for objective, budget, period, burn rates and budget remaining', () => {
    const byName = Object.fromEntries(records(slo(anSLO({ objective: 99.95 }))).map((r) => [r.record, r.expr]));
    expect(byName['slo:objective:ratio']).toBe('vector(0.9995)');
    expect(byName['slo:error_budget:ratio']).toBe('vector(0.0005)');
    expect(byName['slo:time_period:days']).toBe('vector(30)');
    expect(byName['slo:current_burn_rate:ratio']).toBe(
      'slo:sli_error:ratio_rate5m{slo="checkout-availability"} / 0.0005',
    );
    expect(byName['slo:period_burn_rate:ratio']).toBe(
      'slo:sli_error:ratio_rate30d{slo="checkout-availability"} / 0.0005',
    );
    expect(byName['slo:period_error_budget_remaining:ratio']).toBe(
      '1 - slo:period_burn_rate:ratio{slo="checkout-availability"}',
    );
  });

  it('labels alerts with slo, service, severity, tier and the user labels, critical for page and warning for ticket', () => {
    const [page, ticket, absent] = alerts(slo(anSLO({ alerting: { labels: { team: 'payments' } } })));
    expect(page.labels).toEqual({
      severity: 'critical',
      team: 'payments',
      slo: 'checkout-availability',
      service: 'checkout',
      tier: 'page',
    });
    expect(ticket.labels?.severity).toBe('warning');
    expect(ticket.labels?.tier).toBe('ticket');
    expect(absent.alert).toBe('SLOMetricAbsent');
    expect(absent.labels?.tier).toBe('absent');
  });

  it('lets a tier override severity for routes that match severity="page"', () => {
    const [page] = alerts(slo(anSLO({ alerting: { page: { enabled: true, labels: { severity: 'page' } } } })));
    expect(page.labels?.severity).toBe('page');
  });

  it('adds slo_namespace to every selector and label set when the SLO has a namespace', () => {
    const s = slo({ ...anSLO({}), metadata: { name: 'checkout-availability', namespace: 'shop' } });
    const file = sloRules(s);
    expect(file.groups.map((g) => g.name)).toEqual([
      'vigil-slo/shop/checkout-availability/sli',
      'vigil-slo/shop/checkout-availability/meta',
      'vigil-slo/shop/checkout-availability/alerts',
    ]);
    expect(alerts(s)[0].expr).toContain('{slo_namespace="shop", slo="checkout-availability"}');
    expect(records(s)[0].labels?.slo_namespace).toBe('shop');
  });

  it('puts the runbook, the user annotations and a summary naming the budget and its burn rate on the alerts', () => {
    const [page] = alerts(
      slo(
        anSLO({
          alerting: { runbookURL: 'https://runbooks.example.com/x', annotations: { dashboard: 'https://grafana/x' } },
        }),
      ),
    );
    expect(page.annotations).toMatchObject({
      runbook_url: 'https://runbooks.example.com/x',
      dashboard: 'https://grafana/x',
      summary:
        'checkout: SLO checkout-availability is burning its 30d error budget (objective 99.9%) at {{ $value | humanize }}× the rate that would use it up in exactly 30d.',
    });
  });

  it('drops a disabled tier and keeps the other', () => {
    const tiers = alerts(slo(anSLO({ alerting: { ticket: { enabled: false } } }))).map((a) => a.labels?.tier);
    expect(tiers).toEqual(['page', 'absent']);
  });

  it('writes no alert group at all when both tiers are disabled', () => {
    const file = sloRules(slo(anSLO({ alerting: { page: { enabled: false }, ticket: { enabled: false } } })));
    expect(file.groups.map((g) => g.name.split('/').at(-1))).toEqual(['sli', 'meta']);
  });

  it('guards only the page tier with the request rate over each long window', () => {
    const s = slo(anSLO({ alerting: { minTrafficPerSecond: 0.5 } }));
    const [page, ticket] = alerts(s);
    expect(page.expr).toContain('max without (slo_window) (slo:sli_total:rate1h{slo="checkout-availability"}) >= 0.5');
    expect(page.expr).toContain('max without (slo_window) (slo:sli_total:rate6h{slo="checkout-availability"}) >= 0.5');
    expect(ticket.expr).not.toContain('sli_total');
    expect(
      records(s)
        .filter((r) => r.record.startsWith('slo:sli_total:'))
        .map((r) => r.expr),
    ).toEqual([
      'sum(rate(http_requests_total{job="checkout"}[1h]))',
      'sum(rate(http_requests_total{job="checkout"}[6h]))',
    ]);
  });

  it('makes the absent alert look for the threshold bucket of a latency SLI', () => {
    const absent = alerts(latencySLO({ selector: '{job="checkout"}' })).at(-1)!;
    expect(absent.expr).toBe('absent(http_request_duration_seconds_bucket{job="checkout", le="0.3"})');
    expect(absent.for).toBe('10m');
    expect(absent.annotations?.description).toContain('0.3s is not one of its bucket bounds');
  });

  it('is pure: the same SLO gives the same rules, and the SLO is left untouched', () => {
    const s = slo(anSLO({ alerting: { minTrafficPerSecond: 1, labels: { team: 'a' } } }));
    const before = structuredClone(s);
    expect(sloRules(s)).toEqual(sloRules(s));
    expect(s).toEqual(before);
    expect(countRules(sloRules(s))).toBe(8 + 2 + 7 + 3);
  });
});

describe('number formatting', () => {
  it('turns objectives into exact ratios', () => {
    expect(percentToRatios(99.9)).toEqual({ objective: 0.999, budget: 0.001 });
    expect(percentToRatios(99.95)).toEqual({ objective: 0.9995, budget: 0.0005 });
    expect(percentToRatios(99.995)).toEqual({ objective: 0.99995, budget: 0.00005 });
    expect(percentToRatios(99)).toEqual({ objective: 0.99, budget: 0.01 });
  });

  it('formats bucket bounds as Go and Prometheus do', () => {
    expect([0.3, 1, 2.5, 0.00001, 1e6, 1234567, 0.0001, 100000].map(formatGoFloat)).toEqual([
      '0.3',
      '1',
      '2.5',
      '1e-05',
      '1e+06',
      '1.234567e+06',
      '0.0001',
      '100000',
    ]);
    expect(leValues(0.25)).toEqual(['0.25']);
    expect(leValues(10)).toEqual(['10', '10.0']);
    expect(leMatcher(0.005)).toBe('le="0.005"');
  });
});
