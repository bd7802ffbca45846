import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { loadDocs } from '../../../cli/files.js';
import { main } from '../../../cli/index.js';
import { ruleFileYaml, sloDashboard, sloRules } from '../../../desired/slo/index.js';
import { anSLO } from '../../support/builders.js';
import { EXAMPLES_DIR } from '../../support/paths.js';
import { scratch, slo } from './promtool.js';

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}
const example = (name: string) => join(EXAMPLES_DIR, `${name}.yaml`);

describe('vigil slo', () => {
  it('rules -f prints the rule file the operator would load', async () => {
    const r = await run('slo', 'rules', '-f', example('slo-ratio'));
    expect(r.code).toBe(0);
    expect(`${r.out}\n`).toBe(ruleFileYaml(sloRules(slo(loadDocs(example('slo-ratio'))[0].doc))));
  });

  it('rules over several files prints one rule file with every SLO', async () => {
    const r = await run('slo', 'rules', '-f', example('slo-ratio'), '-f', example('slo-latency'));
    expect(r.code).toBe(0);
    const groups = (yaml.load(r.out) as { groups: { name: string }[] }).groups.map((g) => g.name);
    expect(groups).toContain('vigil-slo/checkout-availability/alerts');
    expect(groups).toContain('vigil-slo/checkout-latency/sli');
  });

  it('dashboard -f prints the dashboard JSON', async () => {
    const r = await run('slo', 'dashboard', '-f', example('slo-latency'));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual(sloDashboard(slo(loadDocs(example('slo-latency'))[0].doc)));
  });

  it('skips the stacks in a folder of examples', async () => {
    const r = await run('slo', 'rules', '-f', EXAMPLES_DIR);
    expect(r.code).toBe(0);
    expect(r.out).toContain('vigil-slo/checkout-latency/alerts');
  });

  it('prints file: field.path: message for a bad SLO, generates nothing and exits 1', async () => {
    const file = join(scratch(), 'bad.yaml');
    const bad = anSLO({
      indicator: { ratio: { errors: 'sum(rate(x{code=~"5.."}[{{.window}}]))', total: 'sum(rate(x[{{window}}]))' } },
    });
    writeFileSync(file, yaml.dump(bad));
    const r = await run('slo', 'rules', '-f', file);
    expect(r.code).toBe(1);
    expect(r.out).toBe(
      `${file}: spec.indicator.ratio.errors: unknown placeholder {{.window}} at character 25: Vigil replaces only {{window}}`,
    );
  });

  it('reports schema problems first, the way vigil validate does', async () => {
    const file = join(scratch(), 'bad.yaml');
    writeFileSync(file, yaml.dump(anSLO({ window: '30x' })));
    const r = await run('slo', 'dashboard', '-f', file);
    expect(r.code).toBe(1);
    expect(r.out).toBe(`${file}: spec.window: must match ^[1-9][0-9]*(d|w)$`);
  });

  it('exits 2 with usage for an unknown subcommand or no file', async () => {
    expect((await run('slo', 'render')).code).toBe(2);
    const r = await run('slo', 'rules');
    expect(r.code).toBe(2);
    expect(r.err).toContain('usage: vigil slo rules -f FILE');
  });

  it('refuses an unknown flag by name and an unknown subcommand with exit 2', async () => {
    const flag = await run('slo', 'rules', '-f', example('slo-ratio'), '--format', 'json');
    expect(flag.code).toBe(2);
    expect(flag.err).toMatch(/^unknown flag --format/);
    const sub = await run('slo', 'render', '-f', example('slo-ratio'));
    expect(sub.code).toBe(2);
    expect(sub.err).toMatch(/^unknown subcommand "render"/);
  });

  it('exits 1 when the files hold no SLO', async () => {
    const r = await run('slo', 'rules', '-f', example('core'));
    expect(r.code).toBe(1);
    expect(r.err).toContain('no SLO in');
  });
});
