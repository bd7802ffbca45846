// Golden files: the rules and dashboard of each example SLO. A change to the generators shows up
// here as a diff to review. Regenerate with UPDATE_GOLDEN=1 (then read the diff before committing).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { loadDocs } from '../../../cli/files.js';
import { dashboardJson, ruleFileYaml, sloDashboard, sloProblems, sloRules } from '../../../desired/slo/index.js';
import { EXAMPLES_DIR, REPO_ROOT } from '../../support/paths.js';
import { slo } from './promtool.js';

const GOLDEN = join(REPO_ROOT, 'test', 'unit', 'slo', 'golden');
const update = process.env.UPDATE_GOLDEN === '1';

function golden(file: string, actual: string): void {
  const path = join(GOLDEN, file);
  if (update) writeFileSync(path, actual);
  if (!existsSync(path)) throw new Error(`${path} is missing; run with UPDATE_GOLDEN=1 to create it`);
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

describe.each(['slo-ratio', 'slo-latency'])('golden files for examples/%s.yaml', (example) => {
  const [{ doc }] = loadDocs(join(EXAMPLES_DIR, `${example}.yaml`));
  const s = slo(doc);

  it('is a valid SLO', () => {
    expect(sloProblems(s)).toEqual([]);
  });

  it('generates the committed rule file (UPDATE_GOLDEN=1 to regenerate)', () => {
    golden(`${example}.rules.yaml`, ruleFileYaml(sloRules(s)));
  });

  it('generates the committed dashboard (UPDATE_GOLDEN=1 to regenerate)', () => {
    golden(`${example}.dashboard.json`, dashboardJson(sloDashboard(s)));
  });
});
