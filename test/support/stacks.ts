// What a stack should have and what it has, for the integration tests: the children renderStack
// wants (plus the Secrets the operator generates: Grafana's admin, the correlator's auth) and the children in the cluster.
import { join } from 'node:path';
import type { ObservabilityStack } from '../../api/types.js';
import { validateResource } from '../../api/validate.js';
import { loadDocs } from '../../cli/files.js';
import { isSubset } from '../../controller/status.js';
import { stackContext } from '../../desired/stack/context.js';
import { correlatorAuthSecretName } from '../../desired/stack/correlator.js';
import { renderStack } from '../../desired/stack/index.js';
import { kubectlOk } from './kubectl.js';
import { EXAMPLES_DIR } from './paths.js';

export const CHILD_KINDS =
  'deployments,statefulsets,daemonsets,services,configmaps,secrets,serviceaccounts,roles,rolebindings,networkpolicies';

/** An example file's first document, optionally renamed. */
export function exampleDoc(file: string, name?: string): Record<string, unknown> {
  const [{ doc }] = loadDocs(join(EXAMPLES_DIR, file));
  if (name) (doc as { metadata: { name: string } }).metadata.name = name;
  return doc as Record<string, unknown>;
}

/** kind/name of every child the operator should create for this stack document in `namespace`. */
export function desiredChildren(doc: unknown, namespace: string): string[] {
  const v = validateResource(doc);
  if (!v.ok) throw new Error(`invalid stack: ${JSON.stringify(v.problems)}`);
  const stack = v.object as ObservabilityStack;
  stack.metadata.namespace = namespace;
  const ctx = stackContext(stack);
  return [
    ...renderStack(stack).objects.map((o) => `${o.kind}/${o.metadata.name}`),
    `Secret/${stack.metadata.name}-grafana-admin`,
    // Generated for a stack with a correlator that names no Secret of its own.
    ...(ctx.on.correlator && !stack.spec.correlation?.basicAuthSecretRef
      ? [`Secret/${correlatorAuthSecretName(ctx)}`]
      : []),
  ].sort();
}

/** kind/name of every object in the namespace labelled as this stack's child. */
export function liveChildren(namespace: string, stack: string): string[] {
  const out = JSON.parse(
    kubectlOk(['get', CHILD_KINDS, '-n', namespace, '-l', `vigil.dev/stack=${stack}`, '-o', 'json']),
  );
  return out.items.map((o: { kind: string; metadata: { name: string } }) => `${o.kind}/${o.metadata.name}`).sort();
}

/**
 * The rendered children of a stack whose live object (as the API server serves it to kubectl)
 * lacks a field the render sets, or holds another value there: what the operator sent did not
 * arrive whole. Each as kind/name with the first path that differs. Only the children in the
 * stack's namespace; the Secrets the operator generates are not rendered and not compared.
 */
export function childrenNotAsRendered(doc: unknown, namespace: string): string[] {
  const v = validateResource(doc);
  if (!v.ok) throw new Error(`invalid stack: ${JSON.stringify(v.problems)}`);
  const stack = v.object as ObservabilityStack;
  stack.metadata.namespace = namespace;
  const rendered = renderStack(stack).objects.filter((o) => o.metadata.namespace === namespace);
  const out = JSON.parse(
    kubectlOk([
      'get',
      `${CHILD_KINDS},poddisruptionbudgets`,
      '-n',
      namespace,
      '-l',
      `vigil.dev/stack=${stack.metadata.name}`,
      '-o',
      'json',
    ]),
  );
  const live = new Map<string, unknown>(
    out.items.map((o: { kind: string; metadata: { name: string } }) => [`${o.kind}/${o.metadata.name}`, o]),
  );
  return rendered.flatMap((o) => {
    const key = `${o.kind}/${o.metadata.name}`;
    const have = live.get(key);
    if (!have) return [`${key}: not found`];
    const at = firstDifference(o, have, '');
    return at === undefined ? [] : [`${key}: ${at}`];
  });
}

/** The first path where `want` is not within `have` (controller/status.ts isSubset's rule), or undefined. */
function firstDifference(want: unknown, have: unknown, path: string): string | undefined {
  if (isSubset(want, have)) return undefined;
  if (want === null || typeof want !== 'object' || have === null || typeof have !== 'object') return path || '.';
  if (Array.isArray(want)) {
    if (!Array.isArray(have) || have.length !== want.length) return `${path} (length)`;
    for (const [i, w] of want.entries()) {
      const d = firstDifference(w, have[i], `${path}[${i}]`);
      if (d) return d;
    }
    return path;
  }
  for (const [k, w] of Object.entries(want as Record<string, unknown>)) {
    if (w === undefined) continue;
    const h = (have as Record<string, unknown>)[k];
    if (h === undefined) return `${path}.${k} (missing)`;
    const d = firstDifference(w, h, `${path}.${k}`);
    if (d) return d;
  }
  return path;
}
