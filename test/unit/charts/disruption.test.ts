// Every replicated workload (Deployment or StatefulSet with replicas > 1) of every example stack at
// every size: exactly one PodDisruptionBudget whose selector picks exactly that workload's pods
// (checked against the pod template labels of every workload of the stack), a spread across nodes,
// and a rollout that keeps the others serving. DaemonSets and single replicas get no budget.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { SIZE_PROFILES } from '../../../api/types.js';
import { checkResource } from '../../../desired/check.js';
import { PDB_SUFFIX } from '../../../desired/stack/disruption.js';
import { type KubeObject, renderStack } from '../../../desired/stack/index.js';
import { FIXTURES, loadStack, REPO } from './stacks.js';

// biome-ignore lint/suspicious/noExplicitAny: walking rendered JSON
type Loose = any;

const EXAMPLES: [string, string][] = [
  ...Object.entries(FIXTURES),
  ...readdirSync(join(REPO, 'examples/stages'))
    .filter((f) => f.endsWith('.yaml'))
    .map((f): [string, string] => [`stage ${f}`, join(REPO, 'examples/stages', f)]),
];
const CASES = EXAMPLES.flatMap(([name, file]) =>
  SIZE_PROFILES.map((size): [string, string, string] => [name, size, file]),
);

function render(file: string, size: string): KubeObject[] {
  const stack = loadStack(file);
  const r = renderStack({ ...stack, spec: { ...stack.spec, size: size as never } });
  if (r.problems.length) throw new Error(JSON.stringify(r.problems));
  return r.objects;
}

const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);
const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

describe.each(CASES)('%s at size %s', (_name, size, file) => {
  const objects = render(file, size);
  const workloads = objects.filter((o) => WORKLOADS.has(o.kind)) as Loose[];
  const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget') as Loose[];
  const replicated = workloads.filter((w) => w.kind !== 'DaemonSet' && (w.spec.replicas ?? 1) > 1);

  it('gives each replicated workload exactly one budget, selecting exactly its pods', () => {
    for (const w of replicated) {
      const podLabels = w.spec.template.metadata.labels;
      const mine = pdbs.filter((p) => matches(p.spec.selector.matchLabels, podLabels));
      expect(mine.map((p) => p.metadata.name)).toEqual([`${w.metadata.name}${PDB_SUFFIX}`]);
      const [pdb] = mine;
      expect(pdb.apiVersion).toBe('policy/v1');
      expect(pdb.spec.maxUnavailable).toBe(1);
      expect(pdb.metadata.namespace).toBe(w.metadata.namespace);
      // No other workload's pods fall under it.
      const selected = workloads.filter((o) => matches(pdb.spec.selector.matchLabels, o.spec.template.metadata.labels));
      expect(selected.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([`${w.kind}/${w.metadata.name}`]);
    }
    // And no budget for anything else (single replicas, DaemonSets).
    expect(pdbs).toHaveLength(replicated.length);
  });

  it('spreads the pods of each replicated workload across nodes and rolls them out one at a time', () => {
    for (const w of replicated) {
      expect(w.spec.template.spec.topologySpreadConstraints).toEqual([
        {
          maxSkew: 1,
          topologyKey: 'kubernetes.io/hostname',
          whenUnsatisfiable: 'ScheduleAnyway',
          labelSelector: { matchLabels: w.spec.selector.matchLabels },
        },
      ]);
      if (w.kind === 'Deployment') {
        expect(w.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
      } else {
        expect(w.spec.updateStrategy).toEqual({ type: 'RollingUpdate' });
      }
    }
    for (const w of workloads.filter((o) => !replicated.includes(o))) {
      expect(w.spec.template.spec.topologySpreadConstraints).toBeUndefined();
    }
  });
});

describe('names', () => {
  it('a stack named with the longest name allowed (39 characters) passes the child-name check with its budgets', () => {
    const doc = yaml.load(readFileSync(FIXTURES.full, 'utf8')) as Loose;
    doc.metadata.name = 'a'.repeat(39);
    doc.spec.size = 'large';
    const checked = checkResource(doc);
    expect(checked.problems).toEqual([]);
    const pdbs =
      checked.ok && checked.kind === 'ObservabilityStack'
        ? checked.objects.filter((o) => o.kind === 'PodDisruptionBudget')
        : [];
    expect(pdbs.length).toBeGreaterThan(0);
  });
});

describe('the sizes that replicate', () => {
  it('large replicates the collector, sampler, Alertmanager and correlator, each with a budget', () => {
    const names = render(FIXTURES.full, 'large')
      .filter((o) => o.kind === 'PodDisruptionBudget')
      .map((o) => o.metadata.name)
      .sort();
    expect(names).toEqual(
      expect.arrayContaining([
        'full-alertmanager-pdb',
        'full-collector-pdb',
        'full-correlator-pdb',
        'full-sampler-pdb',
      ]),
    );
  });
});
