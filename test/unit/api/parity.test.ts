// `vigil validate` against the operator: every fixture the operator marks Degraded must make
// `vigil validate` exit 1 with the very problems (field paths and messages) that the Degraded
// condition names. The operator's side is computed with the pure steps the reconcilers take and the
// function that turns their outcome into conditions; nothing here spells an expected path.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import type { ObservabilityStack, SLO } from '../../../api/types.js';
import { validateResource } from '../../../api/validate.js';
import { loadDocs } from '../../../cli/files.js';
import { main } from '../../../cli/index.js';
import { conditionsFor, type Outcome, problem } from '../../../controller/outcome.js';
import { KIND_STACK, Reasons } from '../../../conventions/index.js';
import { sloStackProblems } from '../../../desired/check.js';
import { sloProblems } from '../../../desired/slo/index.js';
import { renderStack } from '../../../desired/stack/index.js';
import { INVALID_DIR, REPO_ROOT } from '../../support/paths.js';

/** Accepted by the API server, refused by the operator when it renders or checks the queries. */
const DEGRADED_DIR = join(REPO_ROOT, 'test', 'fixtures', 'degraded');

const fixtures = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(dir, f));

type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec: unknown };

/**
 * The outcome a reconciler returns for this object before it touches the cluster: the CRD's schema
 * and rules, then render (a stack) or the query checks and the stack (an SLO; `others` are the
 * objects the cluster holds besides it). Undefined when it would go on.
 */
function operatorOutcome(doc: Doc, others: readonly Doc[]) {
  const { name } = doc.metadata;
  const namespace = doc.metadata.namespace ?? 'default';
  const valid = validateResource({ apiVersion: doc.apiVersion, kind: doc.kind, metadata: { name }, spec: doc.spec });
  if (!valid.ok) return { stage: 'schema', outcome: problem(Reasons.InvalidSpec, valid.problems) };
  if (doc.kind === KIND_STACK) {
    const found = renderStack({ ...(valid.object as ObservabilityStack), metadata: { name, namespace } }).problems;
    return found.length ? { stage: 'render', outcome: problem(Reasons.InvalidSpec, found) } : undefined;
  }
  const slo = { ...(valid.object as SLO), metadata: { name, namespace } };
  const found = sloProblems(slo);
  if (found.length) return { stage: 'render', outcome: problem(Reasons.InvalidSpec, found) };
  const stack = others.find((o) => o.kind === KIND_STACK && o.metadata.name === slo.spec.stackRef.name);
  const against = stack ? sloStackProblems(slo, stack) : [];
  return against.length ? { stage: 'stack', outcome: problem(Reasons.InvalidSpec, against) } : undefined;
}

function degradedMessage(o: Outcome): string {
  const [, , degraded] = conditionsFor(o);
  expect(degraded.status).toBe('True');
  return degraded.message;
}

/** vigil validate on one file: its exit code, and the `path: message` it prints for each document. */
async function validate(file: string, docs: number) {
  const out: string[] = [];
  const code = await main(['validate', '-f', file], { out: (l) => out.push(l), err: () => undefined });
  const where = (i: number) => (docs > 1 ? `${file}[${i}]: ` : `${file}: `);
  const problems = Array.from({ length: docs }, (_, i) =>
    out.filter((l) => l.startsWith(where(i))).map((l) => l.slice(where(i).length)),
  );
  return { code, problems };
}

const docsOf = (file: string) => loadDocs(file).map((d) => d.doc as Doc);

describe('vigil validate and the operator', () => {
  it.each([...fixtures(INVALID_DIR), ...fixtures(DEGRADED_DIR)].map((f) => [f.slice(REPO_ROOT.length + 1), f]))(
    '%s: the operator marks it Degraded, and vigil validate exits 1 naming the same problems',
    async (_name, file) => {
      const docs = docsOf(file);
      const operator = docs.map((d) => operatorOutcome(d, docs));
      if (operator.every((o) => o === undefined)) throw new Error(`${file}: the operator would not mark it Degraded`);
      const cli = await validate(file, docs.length);
      expect(cli.code).toBe(1);
      expect(cli.problems.map((p) => p.join('; '))).toEqual(operator.map((o) => (o ? degradedMessage(o.outcome) : '')));
    },
  );

  it.each(fixtures(DEGRADED_DIR).map((f) => [f.slice(REPO_ROOT.length + 1), f]))(
    '%s passes the schema and rules (the API server accepts it): render, the queries or the stack refuse it',
    (_name, file) => {
      const docs = docsOf(file);
      const stages = docs.map((d) => operatorOutcome(d, docs)?.stage);
      expect(stages).not.toContain('schema');
      expect(stages.some((s) => s !== undefined)).toBe(true);
    },
  );
});
