// Runs the real promtool (hack/ensure-promtool.sh installs it; `make test` runs that first) on
// files written to a temporary folder.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import type { SLO } from '../../../api/types.js';
import { validateResource } from '../../../api/validate.js';
import { ruleFileYaml } from '../../../desired/slo/configmaps.js';
import type { RuleFile } from '../../../desired/slo/rules.js';

export interface PromtoolResult {
  code: number | null;
  output: string;
}

/** PROMTOOL picks another binary (e.g. the v3 one hack/build-promtool.sh builds); PATH otherwise. */
export const PROMTOOL = process.env.PROMTOOL || 'promtool';

export function promtool(args: string[], cwd?: string): PromtoolResult {
  const r = spawnSync(PROMTOOL, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) {
    throw new Error(`cannot run ${PROMTOOL} (${r.error.message}); run hack/ensure-promtool.sh or make test`);
  }
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

/** A fresh temporary folder. */
export function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'vigil-slo-'));
}

export function writeRules(dir: string, name: string, file: RuleFile): string {
  const path = join(dir, name);
  writeFileSync(path, ruleFileYaml(file));
  return path;
}

/** `promtool check rules`; the result's output is the error text when it fails. */
export function checkRules(path: string): PromtoolResult {
  return promtool(['check', 'rules', path]);
}

/** Validates a document the way the operator does and returns the SLO with defaults filled. */
export function slo(doc: unknown): SLO {
  const r = validateResource(doc);
  if (!r.ok) throw new Error(`test SLO is invalid: ${JSON.stringify(r.problems)}`);
  return r.object as SLO;
}

export interface Series {
  series: string;
  values: string;
}

/**
 * A counter in promtool's expanding notation: starts at 0, then for each [steps, increment] adds
 * `increment` per interval for `steps` intervals.
 */
export function counter(...segments: [steps: number, increment: number][]): string {
  const out = ['0'];
  let v = 0;
  for (const [steps, inc] of segments) {
    if (steps <= 0) continue;
    const first = round(v + inc);
    out.push(`${first}+${round(inc)}x${steps - 1}`);
    v = round(v + inc * steps);
  }
  return out.join(' ');
}
const round = (x: number) => Number(x.toPrecision(12));

export interface ExprCheck {
  /** Minutes from the start of the series. */
  at: number;
  expr: string;
  /** The samples expected; [] means "no result". */
  samples: { labels: Record<string, string>; value: number }[];
}

export interface AlertCheck {
  at: number;
  alertname: string;
  alerts: { labels: Record<string, string>; annotations: Record<string, string> }[];
}

export interface Scenario {
  rules: RuleFile;
  /** Scrape interval of the input series and rule evaluation interval. */
  interval?: string;
  evaluationInterval?: string;
  series: Series[];
  exprs?: ExprCheck[];
  alerts?: AlertCheck[];
}

const labelText = (l: Record<string, string>) =>
  `{${Object.entries(l)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ')}}`;

/** Writes the rules and a promtool unit-test file for the scenario and runs `promtool test rules`. */
export function testRules(s: Scenario): PromtoolResult {
  const dir = scratch();
  writeRules(dir, 'rules.yaml', s.rules);
  const test = {
    rule_files: ['rules.yaml'],
    evaluation_interval: s.evaluationInterval ?? '1m',
    // Prometheus runs groups independently; fixing the order removes one interval of lag between
    // the SLI and the alerts, which keeps the expected times exact.
    group_eval_order: s.rules.groups.map((g) => g.name),
    tests: [
      {
        interval: s.interval ?? '1m',
        input_series: s.series,
        promql_expr_test: (s.exprs ?? []).map((c) => ({
          expr: c.expr,
          eval_time: `${c.at}m`,
          exp_samples: c.samples.map((x) => ({ labels: labelText(x.labels), value: x.value })),
        })),
        alert_rule_test: (s.alerts ?? []).map((c) => ({
          alertname: c.alertname,
          eval_time: `${c.at}m`,
          exp_alerts: c.alerts.map((a) => ({ exp_labels: a.labels, exp_annotations: a.annotations })),
        })),
      },
    ],
  };
  writeFileSync(join(dir, 'test.yaml'), yaml.dump(test, { noRefs: true, lineWidth: -1 }));
  return promtool(['test', 'rules', 'test.yaml'], dir);
}

/** For expect(): 'passed', or promtool's own report of what failed. */
export function outcome(r: PromtoolResult): string {
  return r.code === 0 ? 'passed' : `promtool exited ${r.code}:\n${r.output}`;
}
