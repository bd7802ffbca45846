import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { validateResource } from '../../../api/validate.js';
import { loadDocs } from '../../../cli/files.js';
import { main } from '../../../cli/index.js';
import { anSLO, aStack } from '../../support/builders.js';
import { EXAMPLES_DIR, INVALID_DIR, REPO_ROOT } from '../../support/paths.js';

const expected: Record<string, string[]> = JSON.parse(
  readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'expected-problems.json'), 'utf8'),
);

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

describe('validateResource', () => {
  it.each(readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.yaml')))('accepts the example %s', (file) => {
    for (const { doc } of loadDocs(join(EXAMPLES_DIR, file))) {
      expect(validateResource(doc).problems).toEqual([]);
    }
  });

  it.each(Object.entries(expected))('rejects %s naming exactly the bad field', (file, paths) => {
    const [{ doc }] = loadDocs(join(INVALID_DIR, file));
    const r = validateResource(doc);
    expect(r.ok).toBe(false);
    expect(r.problems.map((p) => p.path)).toEqual(paths);
  });

  it('fills the defaults the API server would fill', () => {
    const r = validateResource(aStack({}));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const spec = r.object.spec as unknown as Record<string, Record<string, unknown>>;
    expect(spec.collector).toMatchObject({ enabled: true, mode: 'deployment' });
    expect(spec.metrics).toMatchObject({ enabled: true, retention: '15d', scrapeInterval: '30s' });
    expect(spec.metrics.alertmanager).toMatchObject({ enabled: true });
    expect(spec.logs).toMatchObject({ enabled: false, retention: '7d' });
    expect(spec.traces).toMatchObject({ enabled: false, serviceGraphs: true, spanMetrics: true });
    expect(spec.correlation).toMatchObject({ enabled: true, windowSeconds: 60, batchSize: 5000 });
  });

  it('does not change the document it is given', () => {
    const doc = aStack({});
    const before = JSON.stringify(doc);
    validateResource(doc);
    expect(JSON.stringify(doc)).toBe(before);
  });

  it('reports every problem of a document, not only the first', () => {
    const r = validateResource(anSLO({ objective: 0, window: '30x', service: '' }));
    expect(r.problems.map((p) => p.path).sort()).toEqual(['spec.objective', 'spec.service', 'spec.window']);
  });

  it('rejects an unknown kind and a wrong apiVersion by name', () => {
    expect(validateResource({ ...aStack(), apiVersion: 'v1' }).problems.map((p) => p.path)).toEqual(['apiVersion']);
    expect(validateResource({ ...aStack(), kind: 'Stack' }).problems.map((p) => p.path)).toContain('kind');
  });

  it('blames the receiver entry that has two kinds', () => {
    const r = validateResource(
      aStack({
        alerting: {
          receivers: [
            { name: 'a', webhook: { url: 'http://a' } },
            { name: 'b', webhook: { url: 'http://b' }, pagerduty: { routingKeySecretRef: { name: 'pd', key: 'k' } } },
          ],
        },
      }),
    );
    expect(r.problems).toEqual([
      { path: 'spec.alerting.receivers[1]', message: 'a receiver needs exactly one of webhook, slack or pagerduty' },
    ]);
  });

  it('accepts an objective just inside the bounds and rejects the bounds', () => {
    expect(validateResource(anSLO({ objective: 99.999 })).ok).toBe(true);
    expect(validateResource(anSLO({ objective: 0.001 })).ok).toBe(true);
    expect(validateResource(anSLO({ objective: 0 })).ok).toBe(false);
    expect(validateResource(anSLO({ objective: 100 })).ok).toBe(false);
  });
});

describe('vigil validate', () => {
  it('prints file: field.path: message for each problem and exits 1', async () => {
    const c = capture();
    const file = join(INVALID_DIR, 'slo-objective-100.yaml');
    const code = await main(['validate', '-f', file], c.io);
    expect(code).toBe(1);
    expect(c.out).toEqual([`${file}: spec.objective: must be < 100`]);
  });

  it('exits 0 for the examples folder', async () => {
    const c = capture();
    expect(await main(['validate', '-f', EXAMPLES_DIR], c.io)).toBe(0);
    expect(c.out).toEqual([]);
    expect(c.err.join('\n')).toMatch(/10 resource\(s\) valid/);
  });

  it('reports every bad file of a folder and exits 1', async () => {
    const c = capture();
    expect(await main(['validate', '-f', INVALID_DIR], c.io)).toBe(1);
    for (const [file, paths] of Object.entries(expected)) {
      for (const p of paths) expect(c.out.some((l) => l.startsWith(`${join(INVALID_DIR, file)}: ${p}:`))).toBe(true);
    }
  });

  it('reports a YAML syntax error with the file name', async () => {
    const c = capture();
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'vigil-')), 'broken.yaml');
    writeFileSync(file, 'kind: SLO\n  bad: [indent\n');
    expect(await main(['validate', '-f', file], c.io)).toBe(1);
    expect(c.out[0]).toMatch(new RegExp(`^${file}: `));
  });

  it('takes --file=, --filename and bare arguments as files, like -f', async () => {
    const c = capture();
    const file = join(INVALID_DIR, 'slo-objective-100.yaml');
    expect(await main(['validate', `--file=${file}`, '--filename', file, file], c.io)).toBe(1);
    expect(c.out).toEqual(Array(3).fill(`${file}: spec.objective: must be < 100`));
  });

  it('refuses an unknown flag by name with exit 2', async () => {
    const c = capture();
    expect(await main(['validate', '--strict', '-f', EXAMPLES_DIR], c.io)).toBe(2);
    expect(c.err[0]).toMatch(
      /^unknown flag --strict \(known: -f\/--file, --filename, --allowed-image-prefixes, -h\/--help\)/,
    );
    expect(c.err[0]).toMatch(/usage: vigil validate/);
  });

  it('says which flag lacks its value', async () => {
    const c = capture();
    expect(await main(['validate', '-f'], c.io)).toBe(2);
    expect(c.err[0]).toMatch(/^-f needs a value/);
  });

  it('exits 2 naming a file that does not exist', async () => {
    const c = capture();
    expect(await main(['validate', '-f', join(INVALID_DIR, 'no-such.yaml')], c.io)).toBe(2);
    expect(c.err[0]).toContain('no-such.yaml');
  });

  it('exits 2 with usage when no file is given', async () => {
    const c = capture();
    expect(await main(['validate'], c.io)).toBe(2);
    expect(c.err[0]).toMatch(/usage/);
  });
});

describe('vigil', () => {
  it('refuses a flag given before the command, and an unknown command, with usage and exit 2', async () => {
    const flag = capture();
    expect(await main(['--verbose', 'validate'], flag.io)).toBe(2);
    expect(flag.err[0]).toMatch(/^unknown flag --verbose: give a command first/);
    const cmd = capture();
    expect(await main(['valdate'], cmd.io)).toBe(2);
    expect(cmd.err[0]).toMatch(/^unknown command "valdate"/);
  });

  it('prints usage for -h, --help and help with exit 0, and without a command with exit 2', async () => {
    for (const h of ['-h', '--help', 'help']) {
      const c = capture();
      expect(await main([h], c.io)).toBe(0);
      expect(c.out[0]).toMatch(/^usage: vigil <command>/);
    }
    expect(await main([], capture().io)).toBe(2);
  });

  it('refuses flags that crds does not take', async () => {
    const c = capture();
    expect(await main(['crds', '--all'], c.io)).toBe(2);
    expect(c.err[0]).toMatch(/^unknown flag --all/);
  });
});
