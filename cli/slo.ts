// `vigil slo rules|dashboard -f FILE...`: what the operator would load into Prometheus and Grafana,
// printed offline. Bad input prints `file: field.path: message` and exits 1.
import { KIND_SLO } from '../conventions/index.js';
import { type Checked, checkResource } from '../desired/check.js';
import { dashboardJson, ruleFileYaml } from '../desired/slo/configmaps.js';
import { sloDashboard } from '../desired/slo/dashboard.js';
import type { RuleFile } from '../desired/slo/rules.js';
import { parseFlags } from '../lib/args.js';
import { expandPaths, FILE_FLAGS, filesOf, readAll } from './files.js';
import type { Output } from './validate.js';

const USAGE = `usage: vigil slo rules -f FILE...       print the Prometheus rule file for the SLOs in FILE
       vigil slo dashboard -f FILE...   print the Grafana dashboard JSON (an array for several SLOs)`;

const FLAGS = { ...FILE_FLAGS, help: { type: 'boolean', short: 'h' } } as const;

export function runSlo(args: string[], io: Output): number {
  const [sub, ...rest] = args;
  if (sub === '-h' || sub === '--help') {
    io.out(USAGE);
    return 0;
  }
  if (sub !== 'rules' && sub !== 'dashboard') {
    io.err(sub === undefined ? USAGE : `unknown subcommand "${sub}"\n${USAGE}`);
    return 2;
  }
  const { values, positionals, errors } = parseFlags(rest, FLAGS, { positionals: true });
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  let files = filesOf(values, positionals);
  try {
    if (errors.length) throw new Error(errors.join('\n'));
    if (files.length === 0) throw new Error('no file given');
    files = expandPaths(files);
  } catch (err) {
    io.err(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }

  const found: Extract<Checked, { kind: typeof KIND_SLO }>[] = [];
  let problems = 0;
  const docs = readAll(files, (message) => {
    io.out(message);
    problems++;
  });
  for (const { where, doc } of docs) {
    // Stacks and other kinds in the same files are not SLOs; `vigil validate` is for them.
    if ((doc as { kind?: unknown } | null)?.kind !== KIND_SLO) continue;
    const r = checkResource(doc);
    for (const p of r.problems) io.out(`${where}: ${p.path}: ${p.message}`);
    problems += r.problems.length;
    if (r.ok && r.kind === KIND_SLO) found.push(r);
  }
  if (problems > 0) {
    io.err(`${problems} problem(s); nothing generated`);
    return 1;
  }
  if (found.length === 0) {
    io.err(`no SLO in ${files.join(', ')}`);
    return 1;
  }

  if (sub === 'rules') {
    const file: RuleFile = { groups: found.flatMap((s) => s.rules.groups) };
    io.out(ruleFileYaml(file).trimEnd());
  } else {
    const boards = found.map((s) => sloDashboard(s.slo));
    io.out(dashboardJson(boards.length === 1 ? boards[0] : boards).trimEnd());
  }
  return 0;
}
