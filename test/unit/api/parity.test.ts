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
import { sloProblems } from '../../../desired/slo/index.js';
import { renderStack } from '../../../desired/stack/index.js';
import { INVALID_DIR, REPO_ROOT } from '../../support/paths.js';

/** Accepted by the API server, refused by the operator when it renders or checks the queries. */
const DEGRADED_DIR = join(REPO_ROOT, 'test', 'fixtures', 'degraded');

const fixtures = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(dir, f));

/**
 * The outcome a reconciler returns for this object before it touches the cluster: the CRD's schema
 * and rules, then render (a stack) or the query checks (an SLO). Undefined when it would go on.
 */
function operatorOutcome(doc: { apiVersion: string; kind: string; metadata: { name: string }; spec: unknown }) {
  const { name } = doc.metadata;
  const valid = validateResource({ apiVersion: doc.apiVersion, kind: doc.kind, metadata: { name }, spec: doc.spec });
  if (!valid.ok) return { stage: 'schema', outcome: problem(Reasons.InvalidSpec, valid.problems) };
  const found =
    doc.kind === KIND_STACK
      ? renderStack({ ...(valid.object as ObservabilityStack), metadata: { name, namespace: 'default' } }).problems
      : sloProblems({ ...(valid.object as SLO), metadata: { name, namespace: 'default' } });
  if (found.length) return { stage: 'render', outcome: problem(Reasons.InvalidSpec, found) };
  return undefined;
}

function degradedMessage(o: Outcome): string {
  const [, , degraded] = conditionsFor(o);
  expect(degraded.status).toBe('True');
  return degraded.message;
}

async function validate(file: string) {
  const out: string[] = [];
  const code = await main(['validate', '-f', file], { out: (l) => out.push(l), err: () => undefined });
  return { code, problems: out.map((l) => l.slice(`${file}: `.length)) };
}

describe('vigil validate and the operator', () => {
  it.each([...fixtures(INVALID_DIR), ...fixtures(DEGRADED_DIR)].map((f) => [f.slice(REPO_ROOT.length + 1), f]))(
    '%s: the operator marks it Degraded, and vigil validate exits 1 naming the same problems',
    async (_name, file) => {
      const [{ doc }] = loadDocs(file);
      const operator = operatorOutcome(doc as Parameters<typeof operatorOutcome>[0]);
      if (!operator) throw new Error(`${file}: the operator would not mark it Degraded`);
      const cli = await validate(file);
      expect(cli.code).toBe(1);
      expect(cli.problems.join('; ')).toBe(degradedMessage(operator.outcome));
    },
  );

  it.each(fixtures(DEGRADED_DIR).map((f) => [f.slice(REPO_ROOT.length + 1), f]))(
    '%s passes the schema and rules (the API server accepts it): render or the query checks refuse it',
    (_name, file) => {
      const [{ doc }] = loadDocs(file);
      expect(operatorOutcome(doc as Parameters<typeof operatorOutcome>[0])?.stage).toBe('render');
    },
  );
});
