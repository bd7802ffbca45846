import { describe, expect, it } from '@jest/globals';
import { sloProblems } from '../../../desired/slo/index.js';
import { anSLO } from '../../support/builders.js';
import { slo } from './promtool.js';

const latency = (l: Record<string, unknown>, spec: Record<string, unknown> = {}) =>
  sloProblems(
    slo(
      anSLO({
        indicator: { latency: { histogram: 'http_request_duration_seconds', thresholdSeconds: 0.3, ...l } },
        ...spec,
      }),
    ),
  );

describe('sloProblems', () => {
  it('finds nothing wrong with the example-style SLOs', () => {
    expect(sloProblems(slo(anSLO({})))).toEqual([]);
    expect(latency({ selector: '{job="checkout", route!~"/health|/ready"}' })).toEqual([]);
  });

  it('names the ratio field whose query is broken and says what is wrong', () => {
    const p = sloProblems(
      slo(
        anSLO({ indicator: { ratio: { errors: 'sum(rate(x{code="5xx"}[{{window}}])', total: 'sum(rate(x[5m]))' } } }),
      ),
    );
    expect(p).toEqual([
      { path: 'spec.indicator.ratio.errors', message: "'(' at character 4 is never closed" },
      {
        path: 'spec.indicator.ratio.total',
        message: 'must contain {{window}} in its range selectors, e.g. rate(x[{{window}}])',
      },
    ]);
  });

  it("points Sloth users from {{.window}} to Vigil's {{window}}", () => {
    const [p] = sloProblems(slo(anSLO({ indicator: { raw: { errorRatio: 'avg_over_time(r[{{.window}}])' } } })));
    expect(p).toEqual({
      path: 'spec.indicator.raw.errorRatio',
      message: 'unknown placeholder {{.window}} at character 17: Vigil replaces only {{window}}',
    });
  });

  it('wants {{window}} inside a range selector', () => {
    const [p] = sloProblems(slo(anSLO({ indicator: { raw: { errorRatio: 'errors_{{window}}' } } })));
    expect(p.message).toContain('must stand inside a range selector');
  });

  it('rejects a latency selector that is not label matchers in braces, or that matches le', () => {
    expect(latency({ selector: 'job="checkout"' })).toEqual([
      { path: 'spec.indicator.latency.selector', message: 'must be label matchers in braces, e.g. {job="checkout"}' },
    ]);
    expect(latency({ selector: '{job=checkout}' })[0].path).toBe('spec.indicator.latency.selector');
    expect(latency({ selector: '{le="0.5"}' })[0].message).toContain('must not match on le');
  });

  it('rejects a histogram name that names one of its series or another metric type', () => {
    expect(latency({ histogram: 'http_request_duration_seconds_bucket' })).toEqual([
      {
        path: 'spec.indicator.latency.histogram',
        message:
          'http_request_duration_seconds_bucket is not a histogram name: give the histogram name without the _bucket suffix',
      },
    ]);
    expect(latency({ histogram: 'http_requests_total' })[0].message).toContain('is a counter, not a histogram');
  });

  it('rejects a threshold that no histogram would declare as a bucket bound', () => {
    const [p] = latency({ thresholdSeconds: 0.1 + 0.2 });
    expect(p.path).toBe('spec.indicator.latency.thresholdSeconds');
    expect(p.message).toContain('is not a bucket bound');
  });

  it('rejects minTrafficPerSecond on a raw SLI, which has no request rate', () => {
    const p = sloProblems(
      slo(
        anSLO({
          indicator: { raw: { errorRatio: 'avg_over_time(r[{{window}}])' } },
          alerting: { minTrafficPerSecond: 1 },
        }),
      ),
    );
    expect(p.map((x) => x.path)).toEqual(['spec.alerting.minTrafficPerSecond']);
  });

  it('rejects labels Vigil sets itself and names that are not Prometheus label names', () => {
    const p = sloProblems(
      slo(
        anSLO({
          alerting: { labels: { slo: 'x', 'team-name': 'a' }, page: { enabled: true, annotations: { __x: 'y' } } },
        }),
      ),
    );
    expect(p.map((x) => x.path)).toEqual([
      'spec.alerting.labels',
      'spec.alerting.labels',
      'spec.alerting.page.annotations',
    ]);
  });

  it('rejects a period no longer than the longest alert window', () => {
    expect(sloProblems(slo(anSLO({ window: '3d' })))).toEqual([
      {
        path: 'spec.window',
        message: 'must be longer than 3d, the longest alert window (the ticket tier compares 6h with 3d)',
      },
    ]);
    expect(sloProblems(slo(anSLO({ window: '1w' })))).toEqual([]);
  });

  it('rejects an objective so low that an enabled tier could never fire, and accepts it with that tier off', () => {
    const p = sloProblems(slo(anSLO({ objective: 93 })));
    expect(p).toEqual([
      {
        path: 'spec.objective',
        message:
          'with an error budget of 7%, the page pair 5m/1h would need an error ratio of 100.8% and can never fire; raise the objective or disable the page tier',
      },
    ]);
    expect(sloProblems(slo(anSLO({ objective: 93, alerting: { page: { enabled: false } } })))).toEqual([]);
  });
});
