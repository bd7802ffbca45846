// Checks Grafana dashboard files: `tsx hack/validate-dashboards.ts [FILE...]` (default: dashboards/*.json).
// Exits 1 and names the file and the panel on a broken dashboard: JSON that does not load, a
// missing or duplicate panel id, a panel without gridPos, a datasource uid that is not provisioned,
// a target without refId or query, or a PromQL query promtool cannot parse.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dashboardProblems, dashboardQueries } from './check/dashboards.js';
import { checkQueriesWithPromtool, findPromtool } from './check/promtool.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const files = args.length
  ? args
  : readdirSync(join(root, 'dashboards'))
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => join(root, 'dashboards', f));

const promtool = findPromtool(process.env);
const problems: string[] = [];
for (const file of files) {
  const name = relative(process.cwd(), file) || file;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    problems.push(`${name}: cannot be read: ${(err as Error).message}`);
    continue;
  }
  problems.push(...dashboardProblems(name, text));
  let dashboard: unknown;
  try {
    dashboard = JSON.parse(text);
  } catch {
    continue; // dashboardProblems has reported it
  }
  problems.push(...checkQueriesWithPromtool(promtool, name, dashboardQueries(dashboard)));
}
if (problems.length > 0) {
  console.error(`[vigil] ${problems.length} dashboard problem(s):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`[vigil] ${files.length} dashboard(s) valid (promtool: ${promtool})`);
