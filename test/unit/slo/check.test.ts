// promtool check rules on generated files, and sloProblems agreeing with promtool on bad queries.
import { describe, expect, it } from '@jest/globals';
import { sloProblems, sloRules } from '../../../desired/slo/index.js';
import { anSLO } from '../../support/builders.js';
import { checkRules, outcome, scratch, slo, writeRules } from './promtool.js';

const indicators = {
  ratio: {
    ratio: {
      errors: 'sum(rate(http_requests_total{job="checkout",code=~"5.."}[{{window}}]))',
      total: 'sum(rate(http_requests_total{job="checkout"}[{{window}}]))',
    },
  },
  latency: {
    latency: { histogram: 'http_request_duration_seconds', thresholdSeconds: 0.3, selector: '{job="checkout"}' },
  },
  raw: {
    raw: {
      errorRatio:
        'sum(rate(grpc_server_handled_total{grpc_code!="OK"}[{{window}}])) / sum(rate(grpc_server_handled_total[{{window}}]))',
    },
  },
};
const cases = (Object.keys(indicators) as (keyof typeof indicators)[]).flatMap((ind) =>
  [99, 99.9, 99.95].flatMap((objective) => ['28d', '30d'].map((window) => [ind, objective, window] as const)),
);

describe('promtool check rules', () => {
  const dir = scratch();
  it.each(cases)('accepts the rules of a %s SLO at %s%% over %s', (ind, objective, window) => {
    const s = slo(
      anSLO({
        objective,
        window,
        indicator: indicators[ind],
        alerting: { minTrafficPerSecond: ind === 'raw' ? undefined : 0.1, labels: { team: 'payments' } },
      }),
    );
    expect(sloProblems(s)).toEqual([]);
    expect(outcome(checkRules(writeRules(dir, `${ind}-${objective}-${window}.yaml`, sloRules(s))))).toBe('passed');
  });

  it('accepts a whole-number latency threshold and a namespaced SLO', () => {
    const s = slo({
      ...anSLO({ indicator: { latency: { histogram: 'rpc_duration_milliseconds', thresholdSeconds: 1 } } }),
      metadata: { name: 'rpc', namespace: 'shop' },
    });
    expect(outcome(checkRules(writeRules(dir, 'whole.yaml', sloRules(s))))).toBe('passed');
  });
});

// Queries that are wrong in the ways people get them wrong, and some that are right. For each,
// sloProblems must flag it exactly when promtool rejects the generated file.
const queries: [string, string][] = [
  ['a closing bracket missing', 'sum(rate(http_requests_total{code=~"5.."}[{{window}}])'],
  ['an unterminated string', 'sum(rate(http_requests_total{code=~"5..}[{{window}}]))'],
  ['an unquoted label value', 'sum(rate(http_requests_total{code=500}[{{window}}]))'],
  ["Sloth's {{.window}} placeholder", 'sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))'],
  ['a range that is not a duration', 'sum(rate(http_requests_total{code=~"5.."}[5 minutes]))'],
  ['brackets closed in the wrong order', 'sum(rate(http_requests_total{code=~"5.."}[{{window}})])'],
  ['a stray closing brace', 'sum(rate(http_requests_total}[{{window}}]))'],
  ['a good query', 'sum(rate(http_requests_total{code=~"5..", job!="test"}[{{window}}]))'],
  ['a good query with a subquery', 'max_over_time(sum(rate(http_requests_total{code=~"5.."}[5m]))[{{window}}:1m])'],
  ['a good query with a comment and raw string', 'sum(rate(http_requests_total{code=~`5..`}[{{window}}])) # 5xx only'],
];

describe('sloProblems agrees with promtool on query syntax', () => {
  const dir = scratch();
  it.each(queries)('%s', (_what, errors) => {
    const s = slo(anSLO({ indicator: { ratio: { errors, total: 'sum(rate(http_requests_total[{{window}}]))' } } }));
    const ours = sloProblems(s);
    const theirs = checkRules(writeRules(dir, `${ours.length}-${Math.random()}.yaml`, sloRules(s)));
    expect({ ours: ours.length > 0, promtool: theirs.code !== 0 }).toEqual({
      ours: theirs.code !== 0,
      promtool: theirs.code !== 0,
    });
    for (const p of ours) expect(p.path).toBe('spec.indicator.ratio.errors');
  });
});
