// --allowed-image-prefixes: every image a stack's spec names is checked, the refusal names the
// field, the operator refuses before it changes anything, and `vigil validate` agrees.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { stackSpecSchema } from '../../../api/schema.js';
import { runValidate } from '../../../cli/validate.js';
import { StackReconciler } from '../../../controller/stack.js';
import { API_GROUP_VERSION, KIND_STACK } from '../../../conventions/index.js';
import { checkResource } from '../../../desired/check.js';
import {
  imageAllowed,
  imagePrefixProblems,
  parseImagePrefixes,
  qualifiedImage,
} from '../../../desired/stack/image-policy.js';
import type { KubeObject } from '../../../kube/types.js';
import { loadConfig } from '../../../operator/config.js';
import { aStack } from '../../support/builders.js';
import { capturingLogger, FakeKube } from './fake-kube.js';

const ALLOWED = ['registry.example/'];

/** The path of every `image` property in the stack spec's JSON Schema. */
function schemaImagePaths(schema: unknown, path: string[] = []): string[][] {
  const s = schema as { properties?: Record<string, unknown>; items?: unknown };
  const out: string[][] = [];
  for (const [k, sub] of Object.entries(s.properties ?? {})) {
    if (k === 'image') out.push([...path, k]);
    else out.push(...schemaImagePaths(sub, [...path, k]));
  }
  return out;
}

describe('imagePrefixProblems', () => {
  it('finds every image field of the spec schema and names each one', () => {
    const paths = schemaImagePaths(stackSpecSchema);
    // The components, node-exporter and the cluster-state collector.
    expect(paths.length).toBeGreaterThanOrEqual(9);
    const spec: Record<string, unknown> = {};
    for (const p of paths) {
      let at = spec;
      for (const k of p.slice(0, -1)) {
        at[k] ??= {};
        at = at[k] as Record<string, unknown>;
      }
      at.image = `evil.example/${p.join('-')}`;
    }
    const problems = imagePrefixProblems(spec, ALLOWED);
    expect(problems.map((p) => p.path).sort()).toEqual(paths.map((p) => `spec.${p.join('.')}`).sort());
    expect(problems.find((p) => p.path === 'spec.grafana.image')?.message).toBe(
      '"evil.example/grafana-image" is not under an allowed prefix (registry.example/)',
    );
  });

  it('admits images under a prefix, as written or as the runtime resolves them, and anything without prefixes', () => {
    const spec = {
      grafana: { enabled: true, image: 'registry.example/grafana:12' },
      metrics: { enabled: true, image: 'registry.example.attacker.test/prometheus:1' },
      logs: { enabled: true, image: 'grafana/loki:3' },
    };
    expect(imagePrefixProblems(spec, ALLOWED).map((p) => p.path)).toEqual(['spec.metrics.image', 'spec.logs.image']);
    expect(imagePrefixProblems(spec, [...ALLOWED, 'docker.io/grafana/']).map((p) => p.path)).toEqual([
      'spec.metrics.image',
    ]);
    expect(imagePrefixProblems(spec, [])).toEqual([]);
    expect(qualifiedImage('nginx')).toBe('docker.io/library/nginx');
    expect(qualifiedImage('localhost:5000/x')).toBe('localhost:5000/x');
    expect(imageAllowed('quay.io/prometheus/prometheus:v3.5.0', ['quay.io/prometheus/'])).toBe(true);
  });

  it('refuses a prefix that does not end at a boundary', () => {
    expect(parseImagePrefixes(' registry.example/ ,, quay.io/prometheus/ ')).toEqual({
      prefixes: ['registry.example/', 'quay.io/prometheus/'],
      errors: [],
    });
    expect(parseImagePrefixes('registry.example').errors).toEqual([
      '"registry.example" must end with "/", ":" or "@" (e.g. "registry.example/")',
    ]);
    expect(parseImagePrefixes(undefined)).toEqual({ prefixes: [], errors: [] });
  });
});

describe('the operator flag', () => {
  it('reads --allowed-image-prefixes over VIGIL_ALLOWED_IMAGE_PREFIXES; empty admits any image', () => {
    expect(loadConfig({}, []).operator.allowedImagePrefixes).toBeUndefined();
    expect(loadConfig({ VIGIL_ALLOWED_IMAGE_PREFIXES: '' }, []).operator.allowedImagePrefixes).toBeUndefined();
    expect(loadConfig({ VIGIL_ALLOWED_IMAGE_PREFIXES: 'a.example/' }, []).operator.allowedImagePrefixes).toEqual([
      'a.example/',
    ]);
    const c = loadConfig({ VIGIL_ALLOWED_IMAGE_PREFIXES: 'a.example/' }, [
      '--allowed-image-prefixes',
      'registry.example/,quay.io/',
    ]);
    expect(c.operator.allowedImagePrefixes).toEqual(['registry.example/', 'quay.io/']);
    expect(() => loadConfig({}, ['--allowed-image-prefixes=registry.example'])).toThrow(
      /VIGIL_ALLOWED_IMAGE_PREFIXES: "registry.example" must end with/,
    );
  });
});

describe('checkResource and the stack reconciler', () => {
  const bad = aStack({ grafana: { enabled: true, image: 'evil.example/x' } });

  it('checkResource refuses with ImageNotAllowed naming the field', () => {
    expect(checkResource(bad, {}, { allowedImagePrefixes: ALLOWED })).toEqual({
      ok: false,
      reason: 'ImageNotAllowed',
      problems: [
        { path: 'spec.grafana.image', message: '"evil.example/x" is not under an allowed prefix (registry.example/)' },
      ],
    });
    expect(checkResource(bad).ok).toBe(true);
  });

  it('turns a running stack Degraded and leaves its children as they are', async () => {
    const fake = new FakeKube();
    const stored = fake.put({
      ...(aStack({ grafana: { enabled: true, image: 'registry.example/grafana:12' } }) as KubeObject),
      metadata: { name: 'demo', namespace: 'team' },
    });
    const reconciler = new StackReconciler({
      kube: fake,
      getStack: (ns, name) => fake.cached(API_GROUP_VERSION, KIND_STACK, ns, name),
      log: capturingLogger().log,
      now: () => new Date('2026-01-02T03:04:05Z'),
      allowedImagePrefixes: ALLOWED,
    });
    const conditions = () =>
      Object.fromEntries(
        // biome-ignore lint/suspicious/noExplicitAny: reading status loosely
        ((fake.cached(API_GROUP_VERSION, KIND_STACK, 'team', 'demo')?.status as any)?.conditions ?? []).map(
          (c: { type: string }) => [c.type, c],
        ),
      );
    await reconciler.reconcile('team', 'demo');
    expect(conditions().Ready).toMatchObject({ status: 'True' });
    const grafana = () => fake.cached('apps/v1', 'Deployment', 'team', 'demo-grafana');
    expect(JSON.stringify(grafana())).toContain('registry.example/grafana:12');

    fake.editSpec(stored, (spec) => {
      spec.grafana = { enabled: true, image: 'evil.example/x' };
    });
    fake.writes.length = 0;
    await reconciler.reconcile('team', 'demo');
    expect(conditions().Degraded).toMatchObject({
      status: 'True',
      reason: 'ImageNotAllowed',
      message: expect.stringContaining(
        'spec.grafana.image: "evil.example/x" is not under an allowed prefix (registry.example/)',
      ),
    });
    expect(fake.writes.filter((w) => !w.startsWith('status '))).toEqual([]);
    expect(JSON.stringify(grafana())).toContain('registry.example/grafana:12');
  });
});

describe('vigil validate --allowed-image-prefixes', () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
  };
  const file = join(mkdtempSync(join(tmpdir(), 'vigil-images-')), 'stack.yaml');
  writeFileSync(file, yaml.dump({ ...aStack({ grafana: { enabled: true, image: 'evil.example/x' } }) }));

  it('refuses what the operator with the same flag refuses, naming the field', () => {
    const c = io();
    expect(runValidate(['-f', file, '--allowed-image-prefixes', 'registry.example/'], c.io)).toBe(1);
    expect(c.out).toEqual([
      `${file}: spec.grafana.image: "evil.example/x" is not under an allowed prefix (registry.example/)`,
    ]);
    const any = io();
    expect(runValidate(['-f', file], any.io)).toBe(0);
    const wrong = io();
    expect(runValidate(['-f', file, '--allowed-image-prefixes', 'registry.example'], wrong.io)).toBe(2);
    expect(wrong.err.join('\n')).toContain('--allowed-image-prefixes: "registry.example" must end with');
  });
});
