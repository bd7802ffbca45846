// The shipped self-monitoring alerts, judged by the real promtool: every file loads, and the
// hand-written unit tests in alerts/tests/ make every alert fire and keep it quiet.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { headingAnchor, RUNBOOK_BASE, shippedAlerts } from '../../../desired/shipped/index.js';
import type { AlertingRule } from '../../../desired/slo/rules.js';
import { findPromtool, runPromtool } from '../../../hack/check/promtool.js';

const REPO = join(import.meta.dirname, '../../..');
const PROMTOOL = findPromtool(process.env);
const ALERT_DIR = join(REPO, 'alerts');
const TEST_DIR = join(ALERT_DIR, 'tests');
const ruleFiles = readdirSync(ALERT_DIR).filter((f) => f.endsWith('.yaml'));
const testFiles = readdirSync(TEST_DIR).filter((f) => f.endsWith('.yaml'));

const outcome = (r: { code: number | null; output: string }) =>
  r.code === 0 ? 'passed' : `promtool exited ${r.code}:\n${r.output}`;

describe('alerts/ with promtool', () => {
  it('promtool check rules accepts every rule file', () => {
    expect(ruleFiles.length).toBeGreaterThanOrEqual(7);
    const r = runPromtool(PROMTOOL, ['check', 'rules', ...ruleFiles.map((f) => join(ALERT_DIR, f))]);
    expect(outcome(r)).toBe('passed');
    expect(r.output.match(/SUCCESS: \d+ rules found/g)).toHaveLength(ruleFiles.length);
  });

  it('promtool test rules passes every test file in alerts/tests', () => {
    const r = runPromtool(PROMTOOL, ['test', 'rules', ...testFiles], TEST_DIR);
    expect(outcome(r)).toBe('passed');
  });
});

interface AlertTest {
  alertname: string;
  exp_alerts?: unknown[];
}
interface TestFile {
  rule_files: string[];
  tests: { name: string; alert_rule_test?: AlertTest[] }[];
}

describe('alerts/tests cover every alert', () => {
  const cases = testFiles.flatMap((f) => {
    const doc = yaml.load(readFileSync(join(TEST_DIR, f), 'utf8')) as TestFile;
    return doc.tests.flatMap((t) => (t.alert_rule_test ?? []).map((a) => ({ file: f, test: t.name, ...a })));
  });

  it.each(shippedAlerts().map((a) => [a.alert]))('%s has a case that fires it and one that keeps it quiet', (name) => {
    const mine = cases.filter((c) => c.alertname === name);
    expect(mine.some((c) => (c.exp_alerts ?? []).length > 0)).toBe(true);
    expect(mine.some((c) => (c.exp_alerts ?? []).length === 0)).toBe(true);
  });

  it('every test file loads a shipped rule file', () => {
    for (const f of testFiles) {
      const doc = yaml.load(readFileSync(join(TEST_DIR, f), 'utf8')) as TestFile;
      for (const r of doc.rule_files) expect(ruleFiles).toContain(r.replace(/^\.\.\//, ''));
    }
  });
});

describe('every shipped alert', () => {
  const runbooks = readFileSync(join(REPO, 'docs/runbooks.md'), 'utf8');
  const anchors = new Set([...runbooks.matchAll(/^#{2,3} (.+)$/gm)].map((m) => headingAnchor(m[1])));

  it.each(shippedAlerts().map((a): [string, AlertingRule] => [a.alert, a]))(
    '%s has a severity, a summary, a description and a runbook section',
    (_n, a) => {
      expect(['critical', 'warning']).toContain(a.labels?.severity);
      expect(a.labels?.service).toBe('vigil');
      expect(a.annotations?.summary).toMatch(/\S/);
      expect(a.annotations?.description).toMatch(/\S/);
      const url = a.annotations?.runbook_url ?? '';
      expect(url.startsWith(`${RUNBOOK_BASE}#`)).toBe(true);
      expect(anchors).toContain(url.slice(RUNBOOK_BASE.length + 1));
    },
  );

  it('has a unique name', () => {
    const names = shippedAlerts().map((a) => a.alert);
    expect(new Set(names).size).toBe(names.length);
  });
});
