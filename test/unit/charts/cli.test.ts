import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { runRender } from '../../../cli/render.js';
import { FIXTURES } from './stacks.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

describe('vigil render', () => {
  it('prints every object of a stack as multi-document YAML', () => {
    const c = capture();
    expect(runRender(['-f', FIXTURES.core, '-n', 'obs'], c.io)).toBe(0);
    const docs = yaml.loadAll(c.out.join('\n')) as { kind: string; metadata: { namespace: string } }[];
    expect(docs.length).toBeGreaterThan(10);
    expect(new Set(docs.map((d) => d.metadata.namespace))).toEqual(new Set(['obs']));
  });

  it('writes one file per object under DIR/<stack> with -o', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-render-cli-'));
    const c = capture();
    expect(runRender(['-f', FIXTURES.traces, '-o', dir], c.io)).toBe(0);
    const files = readdirSync(join(dir, 'traces'));
    expect(files).toContain('statefulset-traces-tempo.yaml');
    expect(files).toContain('configmap-traces-collector.yaml');
  });

  it('reports render problems with the file and field path and exits 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-render-cli-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      yaml.dump({
        apiVersion: 'observability.vigil.dev/v1alpha1',
        kind: 'ObservabilityStack',
        metadata: { name: 'bad' },
        spec: { metrics: { enabled: true, retention: '1h' } },
      }),
    );
    const c = capture();
    expect(runRender(['-f', file], c.io)).toBe(1);
    expect(c.err).toEqual([expect.stringMatching(/bad\.yaml: spec\.metrics\.retention: must be at least 2h/)]);
    expect(c.out).toEqual([]);
  });

  it('takes --namespace= and --output-dir= as well as -n and -o', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-render-cli-'));
    const c = capture();
    expect(runRender([`--filename=${FIXTURES.traces}`, `--output-dir=${dir}`, '--namespace=obs'], c.io)).toBe(0);
    const sts = yaml.load(readFileSync(join(dir, 'traces', 'statefulset-traces-tempo.yaml'), 'utf8'));
    expect(sts).toMatchObject({ metadata: { namespace: 'obs' } });
  });

  it('refuses an unknown flag, a flag without its value and a bare argument, by name, with exit 2', () => {
    const unknown = capture();
    expect(runRender(['-f', FIXTURES.core, '--dry-run'], unknown.io)).toBe(2);
    expect(unknown.err[0]).toMatch(/^unknown flag --dry-run \(known: .*-o\/--output-dir, -n\/--namespace/);
    const missing = capture();
    expect(runRender(['-f', FIXTURES.core, '-n'], missing.io)).toBe(2);
    expect(missing.err[0]).toMatch(/^-n needs a value/);
    const bare = capture();
    expect(runRender(['-f', FIXTURES.core, 'extra.yaml'], bare.io)).toBe(2);
    expect(bare.err[0]).toMatch(/^unexpected argument "extra.yaml"/);
  });

  it('refuses, as the operator does, a stack whose image is outside --allowed-image-prefixes, naming the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-render-cli-'));
    const file = join(dir, 'img.yaml');
    writeFileSync(
      file,
      yaml.dump({
        apiVersion: 'observability.vigil.dev/v1alpha1',
        kind: 'ObservabilityStack',
        metadata: { name: 'img', namespace: 'obs' },
        spec: { metrics: { enabled: true, image: 'evil.example/prometheus:1' } },
      }),
    );
    const refused = capture();
    expect(runRender(['-f', file, '--allowed-image-prefixes', 'registry.example/'], refused.io)).toBe(1);
    expect(refused.err).toContainEqual(
      expect.stringMatching(
        /img\.yaml: spec\.metrics\.image: "evil\.example\/prometheus:1" is not under an allowed prefix/,
      ),
    );
    expect(refused.out).toEqual([]);
    const admitted = capture();
    expect(runRender(['-f', file, '--allowed-image-prefixes', 'evil.example/'], admitted.io)).toBe(0);
    expect(admitted.out.join('\n')).toContain('image: evil.example/prometheus:1');
    const bad = capture();
    expect(runRender(['-f', file, '--allowed-image-prefixes', 'registry.example'], bad.io)).toBe(2);
    expect(bad.err[0]).toMatch(/^--allowed-image-prefixes: /);
  });

  it('prints usage and exits 2 without a file', () => {
    const c = capture();
    expect(runRender([], c.io)).toBe(2);
    expect(c.err[0]).toContain('usage: vigil render');
  });
});
