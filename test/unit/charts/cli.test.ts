import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
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

  it('prints usage and exits 2 without a file', () => {
    const c = capture();
    expect(runRender([], c.io)).toBe(2);
    expect(c.err[0]).toContain('usage: vigil render');
  });
});
