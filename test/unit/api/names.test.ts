// The longest names the CRDs accept, derived from what the renderers produce: every child's name
// and label values must fit Kubernetes' limits, so the rules on metadata.name (api/rules.ts) must
// refuse exactly the names that would make some child too long.
import { describe, expect, it } from '@jest/globals';
import { MAX_SLO_NAME_LENGTH, MAX_STACK_NAME_LENGTH } from '../../../api/rules.js';
import type { ObservabilityStack, SLO } from '../../../api/types.js';
import { validateResource } from '../../../api/validate.js';
import { LABEL_COMPONENT } from '../../../conventions/index.js';
import { checkResource, childNameProblems, childNames } from '../../../desired/check.js';
import { sloDashboardConfigMap, sloRuleConfigMap } from '../../../desired/slo/index.js';
import { SPEC_PATHS } from '../../../desired/stack/context.js';
import { renderStack } from '../../../desired/stack/index.js';
import { COMPONENTS } from '../../../desired/stack/labels.js';
import { anSLO, aStack } from '../../support/builders.js';
import { FIXTURES, loadStack } from '../charts/stacks.js';

/**
 * Every component switched on through its own section of the spec, whatever the components are:
 * `enabled: true` on the section and on every section it sits in (spec.metrics.cluster.nodeExporter).
 */
function everyComponentOn(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const spec: Record<string, unknown> = {};
  for (const c of COMPONENTS) {
    // The agent and the sampling tier have no switch of their own: daemonset mode and tail
    // sampling turn them on (the second WIDE stack below).
    // Thanos Query has none either: two Prometheus replicas turn it on (the first WIDE stack).
    if (c === 'agent' || c === 'sampler' || c === 'thanos-query') continue;
    let node = spec;
    for (const key of SPEC_PATHS[c].split('.').slice(1)) {
      node[key] ??= {};
      node = node[key] as Record<string, unknown>;
      node.enabled = true;
    }
  }
  for (const [k, v] of Object.entries(extra)) spec[k] = { ...(spec[k] as object), ...(v as object) };
  return spec;
}

function filled(doc: Record<string, unknown>): ObservabilityStack {
  const v = validateResource(doc);
  if (!v.ok) throw new Error(`test stack is invalid: ${JSON.stringify(v.problems)}`);
  return { ...(v.object as ObservabilityStack), metadata: { name: 'x', namespace: 'observability' } };
}

/** Stacks that render as many children, with names as long, as any spec can. */
const WIDE: Record<string, ObservabilityStack> = {
  'every component': filled(aStack(everyComponentOn({ metrics: { replicas: 2 } }))),
  'every component, collector as a DaemonSet, tail sampling': filled(
    aStack(everyComponentOn({ collector: { mode: 'daemonset', sampling: { errors: true } } })),
  ),
  ...Object.fromEntries(Object.entries(FIXTURES).map(([k, f]) => [k, loadStack(f)])),
};

const named = (stack: ObservabilityStack, name: string): ObservabilityStack => ({
  ...stack,
  metadata: { ...stack.metadata, name },
});

/** The longest n from 1 to 253 for which fits(n) holds; a longer name never fits where a shorter does not. */
function longest(fits: (n: number) => boolean): number {
  let [lo, hi] = [0, 253];
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The longest name with which this stack's children all fit (the CEL rule is not asked). */
const longestStackName = (stack: ObservabilityStack): number =>
  longest((n) => {
    const s = named(stack, 'a'.repeat(n));
    const r = renderStack(s);
    if (r.problems.length) throw new Error(`the wide stack does not render: ${JSON.stringify(r.problems)}`);
    return childNameProblems(r.objects, [{ path: 'metadata.name', value: s.metadata.name ?? '' }]).length === 0;
  });

describe('the longest stack name', () => {
  it('is derived from stacks that together render every component', () => {
    const rendered = new Set(
      Object.values(WIDE).flatMap((s) => renderStack(s).objects.map((o) => o.metadata.labels[LABEL_COMPONENT])),
    );
    // A new component that none of them switches on: extend everyComponentOn's extras.
    expect(COMPONENTS.filter((c) => !rendered.has(c))).toEqual([]);
  });

  it.each(Object.keys(WIDE))('leaves every child of "%s" within its limits', (k) => {
    expect(longestStackName(WIDE[k])).toBeGreaterThanOrEqual(MAX_STACK_NAME_LENGTH);
  });

  it('is what the stack with the longest child names allows, no less', () => {
    expect(Math.min(...Object.values(WIDE).map(longestStackName))).toBe(MAX_STACK_NAME_LENGTH);
  });

  it('is refused one character longer, offline and by the rule the CRD carries', () => {
    const ok = checkResource(aStack({}, 'a'.repeat(MAX_STACK_NAME_LENGTH)));
    expect(ok.problems).toEqual([]);
    const long = checkResource(aStack({}, 'a'.repeat(MAX_STACK_NAME_LENGTH + 1)));
    expect(long.problems).toEqual([
      { path: 'metadata.name', message: expect.stringContaining(`at most ${MAX_STACK_NAME_LENGTH} characters`) },
    ]);
  });
});

describe('the longest SLO name', () => {
  const slo = validateResource(anSLO()).ok ? (validateResource(anSLO()) as { object: SLO }).object : undefined;
  const longestSloName = () =>
    longest((len) => {
      const s = { ...(slo as SLO), metadata: { name: 'a'.repeat(len), namespace: 'observability' } };
      const children = [sloRuleConfigMap(s), sloDashboardConfigMap(s)];
      return childNameProblems(children, [{ path: 'metadata.name', value: s.metadata.name }]).length === 0;
    });

  it('is what its ConfigMaps allow', () => {
    expect(longestSloName()).toBe(MAX_SLO_NAME_LENGTH);
  });
});

describe('child names', () => {
  it('include the revision label a StatefulSet puts on its pods and the claims it makes', () => {
    const objects = renderStack(named(WIDE['every component'], 'obs')).objects;
    const sts = objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'obs-alertmanager');
    if (!sts) throw new Error('no Alertmanager StatefulSet');
    const values = childNames(sts).map((n) => [n.format, n.value]);
    expect(values).toContainEqual(['label value', 'obs-alertmanager-0000000000']);
    expect(values).toContainEqual(['DNS-1123 label', 'obs-alertmanager-0']);
    expect(values).toContainEqual(['DNS-1123 subdomain', 'data-obs-alertmanager-0']);
  });

  it('blame the field the bad value comes from, once per field, naming the worst child', () => {
    const objects = renderStack(named(WIDE['every component'], 'a'.repeat(45))).objects;
    const problems = childNameProblems(objects, [{ path: 'metadata.name', value: 'a'.repeat(45) }]);
    expect(problems).toEqual([
      {
        path: 'metadata.name',
        message: expect.stringMatching(
          /^the label controller-revision-hash="a{45}-alertmanager-<hash>" on the pods of StatefulSet "a{45}-alertmanager" would be 69 characters, over Kubernetes' limit of 63 for a label value \(and \d+ more\)$/,
        ),
      },
    ]);
  });

  it("blame an SLO's stackRef when the stack's name is what makes a label too long", () => {
    const r = checkResource(anSLO({ stackRef: { name: 'b'.repeat(64) } }));
    expect(r.problems).toEqual([
      {
        path: 'spec.stackRef.name',
        message: expect.stringContaining(`the label vigil.dev/stack="${'b'.repeat(64)}"`),
      },
    ]);
  });

  it('refuse a Service name that is not a DNS-1035 label', () => {
    const objects = renderStack(named(WIDE.core, '1st')).objects;
    const problems = childNameProblems(objects, [{ path: 'metadata.name', value: '1st' }]);
    expect(problems).toEqual([
      {
        path: 'metadata.name',
        message: expect.stringMatching(/^the Service name "1st-.*" would not be a valid DNS-1035 label/),
      },
    ]);
  });
});
