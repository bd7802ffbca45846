// Everything renderStack produces, checked by the API server itself: every example stack and every
// chart fixture, in every size profile, server-side applied with --dry-run=server into a fresh
// namespace. The server runs admission, defaulting, strict field validation and the schemas of
// every kind, so a misspelt field or a wrong type fails here even when the YAML looks right.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import type { ObservabilityStack, SizeProfile } from '../../api/types.js';
import { SIZE_PROFILES } from '../../api/types.js';
import { validateResource } from '../../api/validate.js';
import { loadDocs } from '../../cli/files.js';
import { renderStack } from '../../desired/stack/index.js';
import { freshNamespace, kubectl, kubectlOk } from '../support/kubectl.js';
import { EXAMPLES_DIR, REPO_ROOT } from '../support/paths.js';

const FIXTURES_DIR = join(REPO_ROOT, 'test', 'unit', 'charts', 'fixtures');

/** Every ObservabilityStack document in a folder's YAML files (the SLO examples are skipped). */
function stackDocs(dir: string): [string, Record<string, unknown>][] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => loadDocs(join(dir, f)).map((d): [string, Record<string, unknown>] => [f, d.doc as never]))
    .filter(([, doc]) => doc.kind === 'ObservabilityStack');
}

const SOURCES = [...stackDocs(EXAMPLES_DIR), ...stackDocs(FIXTURES_DIR)];

const CASES: [string, SizeProfile, Record<string, unknown>][] = SOURCES.flatMap(([file, doc]) =>
  SIZE_PROFILES.map((size): [string, SizeProfile, Record<string, unknown>] => [file, size, doc]),
);

/** The document with its size replaced, validated (defaults filled) like the operator does. */
function stackIn(doc: Record<string, unknown>, size: SizeProfile, namespace: string): ObservabilityStack {
  const spec = { ...(doc.spec as Record<string, unknown>), size };
  const metadata = { ...(doc.metadata as Record<string, unknown>), namespace };
  const v = validateResource({ ...doc, metadata, spec });
  if (!v.ok) throw new Error(`invalid test stack: ${JSON.stringify(v.problems)}`);
  return v.object as ObservabilityStack;
}

let ns: string;
beforeAll(() => {
  ns = freshNamespace('render-dryrun');
});

describe('the API server accepts every rendered object (kubectl apply --server-side --dry-run=server)', () => {
  it('has stacks to check: the examples and the chart fixtures', () => {
    expect(SOURCES.map(([f]) => f)).toEqual(
      expect.arrayContaining(['core.yaml', 'full.yaml', 'logs.yaml', 'traces.yaml', 's3-large.yaml', 's3-medium.yaml']),
    );
  });

  it.each(CASES)('%s, size %s', (_file, size, doc) => {
    const { objects, problems } = renderStack(stackIn(doc, size, ns));
    expect(problems).toEqual([]);
    expect(objects.length).toBeGreaterThan(0);
    const manifest = objects.map((o) => yaml.dump(o, { noRefs: true, lineWidth: -1 })).join('---\n');
    const r = kubectl(['apply', '--server-side', '--dry-run=server', '-n', ns, '-f', '-'], manifest);
    // Exit code and stderr together, so a failure shows the server's message; warnings count too.
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const applied = r.stdout.split('\n').filter((l) => l.endsWith('serverside-applied (server dry run)'));
    expect(applied).toHaveLength(objects.length);
  });

  it('rejects what is wrong: an unknown field in a rendered Deployment fails with the field named', () => {
    const [file, , doc] = CASES[0];
    const { objects } = renderStack(stackIn(doc, 'demo', ns));
    const deployment = structuredClone(objects.find((o) => o.kind === 'Deployment'));
    if (!deployment) throw new Error(`${file} renders no Deployment`);
    (deployment.spec as Record<string, unknown>).replicaz = 2;
    const r = kubectl(['apply', '--server-side', '--dry-run=server', '-n', ns, '-f', '-'], yaml.dump(deployment));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('replicaz');
  });

  it('leaves the namespace empty: a dry run stores nothing', () => {
    const kinds = 'deployments,statefulsets,daemonsets,services,configmaps,serviceaccounts,roles,rolebindings';
    const left = kubectlOk(['get', kinds, '-n', ns, '-o', 'name']).split('\n').filter(Boolean);
    // Every namespace gets the kube-root-ca.crt ConfigMap and the default ServiceAccount.
    expect(left.sort()).toEqual(['configmap/kube-root-ca.crt', 'serviceaccount/default']);
  });
});
