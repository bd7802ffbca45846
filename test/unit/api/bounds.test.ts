import { describe, expect, it } from '@jest/globals';
import { DEFAULT_BOUNDS, unboundedPaths } from '../../../api/bounds.js';
import { allCrds } from '../../../api/crd.js';
import { validateResource } from '../../../api/validate.js';
import { DATADOG_SITES } from '../../../conventions/index.js';
import { anSLO, aStack } from '../../support/builders.js';

const schemaOf = (crd: Record<string, unknown>) =>
  (crd.spec as { versions: { schema: { openAPIV3Schema: unknown } }[] }).versions[0].schema.openAPIV3Schema;
const paths = (doc: unknown) => {
  const r = validateResource(doc);
  return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
};
const receiver = (name: string) => ({ name, webhook: { url: 'http://alert-bot:8080/hook' } });

describe('bounds on every field', () => {
  it.each(allCrds().map((c) => [(c.metadata as { name: string }).name, c] as const))(
    '%s has a maxLength on every string, a maxItems on every list and a maxProperties on every map',
    (_name, crd) => {
      expect(unboundedPaths(schemaOf(crd))).toEqual([]);
    },
  );

  it('finds what is unbounded (the check can fail)', () => {
    expect(
      unboundedPaths({
        type: 'object',
        properties: {
          a: { type: 'string' },
          b: { type: 'array', items: { type: 'string', maxLength: 3 } },
          c: { type: 'object', additionalProperties: { type: 'string', enum: ['x'] } },
        },
      }),
    ).toEqual(['.a: string', '.b: array', '.c: map']);
  });

  it('refuses a string longer than the default bound offline, naming the field', () => {
    const huge = `sum(rate(x[{{window}}]))${' '.repeat(DEFAULT_BOUNDS.maxLength)}`;
    const slo = anSLO({ indicator: { ratio: { errors: huge, total: 'sum(rate(y[{{window}}]))' } } });
    expect(paths(slo)).toEqual([
      `spec.indicator.ratio.errors: must NOT have more than ${DEFAULT_BOUNDS.maxLength} characters`,
    ]);
  });

  it('keeps a bound a field sets itself', () => {
    const receivers = Array.from({ length: 51 }, (_, i) => receiver(`r${i}`));
    expect(paths(aStack({ alerting: { receivers } }))).toEqual([
      'spec.alerting.receivers: must NOT have more than 50 items',
    ]);
  });
});

describe('the Datadog site', () => {
  const stack = (site: string) =>
    aStack({ correlation: { enabled: true, datadog: { apiKeySecretRef: { name: 'dd', key: 'api-key' }, site } } });

  it.each([...DATADOG_SITES])('accepts Datadog site %s', (site) => {
    expect(paths(stack(site))).toEqual([]);
  });

  it('refuses a host that is not a Datadog site, naming the field', () => {
    const problems = paths(stack('attacker.example'));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^spec\.correlation\.datadog\.site: must be one of "datadoghq\.com"/);
  });
});
