// Test stacks: the example files, this folder's fixtures, and a builder for one-off variations.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import type { ObservabilityStack, ObservabilityStackSpec } from '../../../api/types.js';
import { validateResource } from '../../../api/validate.js';

export const REPO = join(import.meta.dirname, '../../..');
export const GOLDEN_DIR = join(import.meta.dirname, 'golden');

/** Golden fixtures: the four example stacks plus this folder's own. */
export const FIXTURES: Record<string, string> = {
  core: join(REPO, 'examples/core.yaml'),
  traces: join(REPO, 'examples/traces.yaml'),
  logs: join(REPO, 'examples/logs.yaml'),
  full: join(REPO, 'examples/full.yaml'),
  's3-large': join(import.meta.dirname, 'fixtures/s3-large.yaml'),
  's3-medium': join(import.meta.dirname, 'fixtures/s3-medium.yaml'),
};

/** Validates (filling defaults) like the operator does; throws on a bad test stack. */
export function validated(doc: unknown, namespace = 'observability'): ObservabilityStack {
  const v = validateResource(doc);
  if (!v.ok) throw new Error(`test stack is invalid: ${JSON.stringify(v.problems)}`);
  const s = v.object as ObservabilityStack;
  return { ...s, metadata: { namespace, ...s.metadata } };
}

export function loadStack(file: string): ObservabilityStack {
  return validated(yaml.load(readFileSync(file, 'utf8')));
}

type Partial1<T> = { [K in keyof T]?: T[K] extends object | undefined ? Partial<NonNullable<T[K]>> : T[K] };

/** aStack({ traces: { enabled: true } }): a valid stack named `t`, every section merged over defaults. */
export function aStack(spec: Partial1<ObservabilityStackSpec> = {}, name = 't'): ObservabilityStack {
  const base: Record<string, unknown> = { environment: 'test', size: 'demo' };
  for (const [k, v] of Object.entries(spec)) {
    base[k] = v && typeof v === 'object' && !Array.isArray(v) ? { enabled: true, ...v } : v;
  }
  if (spec.alerting) base.alerting = spec.alerting;
  if (spec.objectStorage) base.objectStorage = spec.objectStorage;
  return validated({
    apiVersion: 'observability.vigil.dev/v1alpha1',
    kind: 'ObservabilityStack',
    metadata: { name },
    spec: base,
  });
}
