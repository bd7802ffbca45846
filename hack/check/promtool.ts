// Runs promtool for the dashboard and rule checks. Prefers PROMTOOL, then the promtool that
// hack/build-promtool.sh builds at the deployed Prometheus version, then promtool on PATH.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ruleFileYaml } from '../../desired/slo/configmaps.js';
import { PROMETHEUS_VERSION } from '../../desired/stack/images.js';
import { type PanelQuery, promtoolProblems, queriesRuleFile } from './dashboards.js';

export interface Env {
  PROMTOOL?: string;
  VIGIL_CACHE?: string;
  HOME?: string;
}

/** The promtool binary to run; the caller passes its environment (this module reads none itself). */
export function findPromtool(env: Env): string {
  if (env.PROMTOOL) return env.PROMTOOL;
  const cache = env.VIGIL_CACHE ?? join(env.HOME ?? homedir(), '.cache/vigil');
  const prefix = `promtool-${PROMETHEUS_VERSION}-`;
  const dirs = existsSync(cache) ? readdirSync(cache).filter((d) => d.startsWith(prefix)) : [];
  for (const d of dirs.sort().reverse()) {
    const bin = join(cache, d, 'promtool');
    if (existsSync(bin)) return bin;
  }
  return 'promtool';
}

export interface RunResult {
  code: number | null;
  output: string;
}

export function runPromtool(bin: string, args: string[], cwd?: string): RunResult {
  const r = spawnSync(bin, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
  if (r.error) throw new Error(`cannot run ${bin} (${r.error.message}); run hack/build-promtool.sh or make test`);
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Parses every query with `promtool check rules`; problems name the file and the panel. */
export function checkQueriesWithPromtool(bin: string, file: string, queries: PanelQuery[]): string[] {
  if (queries.length === 0) return [];
  const dir = mkdtempSync(join(tmpdir(), 'vigil-dashboard-'));
  try {
    const path = join(dir, 'queries.rules.yaml');
    writeFileSync(path, ruleFileYaml(queriesRuleFile(queries)));
    const r = runPromtool(bin, ['check', 'rules', path]);
    if (r.code === 0) return [];
    const mapped = promtoolProblems(file, queries, r.output);
    return mapped.length > 0 ? mapped : [`${file}: promtool check rules exited ${r.code}:\n${r.output}`];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
