// `vigil slo rules|dashboard -f FILE...`: what the operator would load into Prometheus and Grafana,
// printed offline. Bad input prints `file: field.path: message` and exits 1.
import type { SLO } from '../api/types.js';
import { validateResource } from '../api/validate.js';
import { KIND_SLO } from '../conventions/index.js';
import { dashboardJson, ruleFileYaml } from '../desired/slo/configmaps.js';
import { sloDashboard } from '../desired/slo/dashboard.js';
import { type RuleFile, sloRules } from '../desired/slo/rules.js';
import { sloProblems } from '../desired/slo/validate.js';
import { expandPaths, fileArgs, loadDocs } from './files.js';
import type { Output } from './validate.js';

const USAGE = `usage: vigil slo rules -f FILE...       print the Prometheus rule file for the SLOs in FILE
       vigil slo dashboard -f FILE...   print the Grafana dashboard JSON (an array for several SLOs)`;

export function runSlo(args: string[], io: Output): number {
  const [sub, ...rest] = args;
  if (sub !== 'rules' && sub !== 'dashboard') {
    io.err(USAGE);
    return 2;
  }
  let files: string[];
  try {
    const parsed = fileArgs(rest);
    files = [...parsed.files, ...parsed.rest.filter((a) => !a.startsWith('-'))];
    if (files.length === 0) throw new Error('no file given');
    files = expandPaths(files);
  } catch (err) {
    io.err(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }

  const slos: SLO[] = [];
  let problems = 0;
  for (const file of files) {
    let docs: ReturnType<typeof loadDocs>;
    try {
      docs = loadDocs(file);
    } catch (err) {
      io.out((err as Error).message);
      problems++;
      continue;
    }
    for (const d of docs) {
      // Stacks and other kinds in the same files are not SLOs; `vigil validate` is for them.
      if ((d.doc as { kind?: unknown } | null)?.kind !== KIND_SLO) continue;
      const where = docs.length > 1 ? `${file}[${d.index}]` : file;
      const r = validateResource(d.doc);
      const found = r.ok ? sloProblems(r.object as SLO) : r.problems;
      for (const p of found) io.out(`${where}: ${p.path}: ${p.message}`);
      problems += found.length;
      if (r.ok && found.length === 0) slos.push(r.object as SLO);
    }
  }
  if (problems > 0) {
    io.err(`${problems} problem(s); nothing generated`);
    return 1;
  }
  if (slos.length === 0) {
    io.err(`no SLO in ${files.join(', ')}`);
    return 1;
  }

  if (sub === 'rules') {
    const file: RuleFile = { groups: slos.flatMap((s) => sloRules(s).groups) };
    io.out(ruleFileYaml(file).trimEnd());
  } else {
    const boards = slos.map((s) => sloDashboard(s));
    io.out(dashboardJson(boards.length === 1 ? boards[0] : boards).trimEnd());
  }
  return 0;
}
