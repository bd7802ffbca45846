import { describe, expect, it } from '@jest/globals';
import { sloCrd, stackCrd, toStructural } from '../../../api/crd.js';
import { sloObjectRules, sloRules, stackObjectRules, stackRules } from '../../../api/rules.js';

type Json = Record<string, unknown>;
const schemaOf = (crd: Json): Json =>
  // biome-ignore lint/suspicious/noExplicitAny: walking generated JSON
  (crd as any).spec.versions[0].schema.openAPIV3Schema;

function walk(node: unknown, visit: (n: Json, path: string) => void, path = ''): void {
  if (Array.isArray(node)) {
    for (const [i, n] of node.entries()) walk(n, visit, `${path}[${i}]`);
  } else if (node && typeof node === 'object') {
    visit(node as Json, path);
    for (const [k, v] of Object.entries(node)) walk(v, visit, `${path}.${k}`);
  }
}

describe('generated CRDs', () => {
  it.each([
    ['ObservabilityStack', stackCrd()],
    ['SLO', sloCrd()],
  ])('%s has a structural schema: a type on every node, no nullable, no additionalProperties: false', (_k, crd) => {
    const bad: string[] = [];
    walk(schemaOf(crd).properties, (n, path) => {
      if (path.endsWith('.x-kubernetes-validations') || /x-kubernetes-validations\[\d+\]$/.test(path)) return;
      if ('nullable' in n) bad.push(`${path}: nullable`);
      if (n.additionalProperties === false) bad.push(`${path}: additionalProperties false`);
    });
    expect(bad).toEqual([]);
  });

  it('attaches every cross-field rule as CEL where it applies', () => {
    const celOf = (crd: Json) => {
      const rules: string[] = [];
      walk(schemaOf(crd), (n) => {
        for (const v of (n['x-kubernetes-validations'] as Json[] | undefined) ?? []) rules.push(v.rule as string);
      });
      return rules.sort();
    };
    expect(celOf(stackCrd())).toEqual([...stackRules, ...stackObjectRules].map((r) => r.rule).sort());
    expect(celOf(sloCrd())).toEqual([...sloRules, ...sloObjectRules].map((r) => r.rule).sort());
  });

  it('writes exclusive bounds in the OpenAPI 3.0 form the API server understands', () => {
    // biome-ignore lint/suspicious/noExplicitAny: walking generated JSON
    const objective = (schemaOf(sloCrd()) as any).properties.spec.properties.objective;
    expect(objective).toMatchObject({ minimum: 0, exclusiveMinimum: true, maximum: 100, exclusiveMaximum: true });
  });

  it('does not require a field that has a default', () => {
    expect(
      toStructural({
        type: 'object',
        required: ['a', 'b'],
        properties: { a: { type: 'string', default: 'x' }, b: { type: 'string' } },
      }),
    ).toEqual({
      type: 'object',
      required: ['b'],
      properties: { a: { type: 'string', default: 'x' }, b: { type: 'string' } },
    });
  });

  it('has the printer columns kubectl shows', () => {
    // biome-ignore lint/suspicious/noExplicitAny: walking generated JSON
    const cols = (crd: Json) => (crd as any).spec.versions[0].additionalPrinterColumns.map((c: Json) => c.name);
    expect(cols(stackCrd())).toEqual(['Ready', 'Reason', 'Age']);
    expect(cols(sloCrd())).toEqual(['Service', 'Objective', 'Window', 'Ready', 'Age']);
  });

  it('serves the status subresource, a short name and the vigil category', () => {
    for (const [crd, short] of [
      [stackCrd(), 'ostack'],
      [sloCrd(), 'slo'],
    ] as const) {
      // biome-ignore lint/suspicious/noExplicitAny: walking generated JSON
      const spec = (crd as any).spec;
      expect(spec.versions[0].subresources).toEqual({ status: {} });
      expect(spec.names.shortNames).toEqual([short]);
      expect(spec.names.categories).toEqual(['vigil']);
    }
  });
});
