// Applying a reconcile's children, for both kinds: every desired object gets the owner's namespace
// and controller ownerReference; only what drifted from the live object is applied (server-side
// apply, a few at a time); what this very owner controls but no longer wants is deleted.
import type { Logger } from 'pino';
import { LABEL_STACK, LABEL_STACK_NAMESPACE } from '../conventions/index.js';
import type { KubeApi, KubeObject, ObjectRef } from '../kube/types.js';
import { isSubset } from './status.js';

export interface Owner {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

export const ownerOf = (raw: KubeObject): Owner => ({
  apiVersion: raw.apiVersion,
  kind: raw.kind,
  name: raw.metadata.name,
  uid: raw.metadata.uid as string,
});

export const childKey = (o: { kind: string; metadata: { name: string } }) => `${o.kind}/${o.metadata.name}`;

/** Whether this very owner controls `o`: an object someone else labelled alike is never pruned. */
export const controlledBy = (o: KubeObject, uid: string) =>
  !!o.metadata.ownerReferences?.some((r) => r.uid === uid && r.controller);

/** The desired objects as children of `owner` in `namespace`. */
export function owned(
  objects: readonly { apiVersion: string; kind: string; metadata: { name: string } }[],
  owner: Owner,
  namespace: string,
): KubeObject[] {
  const ownerReferences = [{ ...owner, controller: true, blockOwnerDeletion: true }];
  return objects.map((o) => ({ ...o, metadata: { ...o.metadata, namespace, ownerReferences } }) as KubeObject);
}

/**
 * Cluster-scoped desired objects: no namespace and no ownerReference (the garbage collector deletes
 * a cluster-scoped dependent of a namespaced owner), labelled with the stack and its namespace so
 * that the reconciler finds, prunes and deletes them itself.
 */
export function clusterChildren(
  objects: readonly { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> } }[],
  namespace: string,
  stack: string,
): KubeObject[] {
  return objects.map((o) => {
    const { namespace: _n, ...metadata } = o.metadata as typeof o.metadata & { namespace?: string };
    const labels = { ...metadata.labels, [LABEL_STACK]: stack, [LABEL_STACK_NAMESPACE]: namespace };
    return { ...o, metadata: { ...metadata, labels } } as KubeObject;
  });
}

/** Runs fn over items with at most `limit` in flight; rejects with the first error after all settle. */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let firstError: unknown;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (err) {
        firstError ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (firstError !== undefined) throw firstError;
}

const APPLY_CONCURRENCY = 8;

const BINDING_KINDS = new Set(['RoleBinding', 'ClusterRoleBinding']);
const isBinding = (o: KubeObject) => o.apiVersion === 'rbac.authorization.k8s.io/v1' && BINDING_KINDS.has(o.kind);

/** Applies the drifted ones of `desired` a few at a time, recording what the server returned. */
async function applyGroup(
  d: ApplyDeps,
  desired: readonly KubeObject[],
  live: ReadonlyMap<string, KubeObject>,
  result: Map<string, KubeObject>,
  log: Logger,
): Promise<void> {
  await forEachLimit(desired, APPLY_CONCURRENCY, async (want) => {
    const have = live.get(childKey(want));
    if (have && isSubset(want, have)) {
      result.set(childKey(want), have);
      return;
    }
    const applied = await d.kube.apply(want);
    d.onWrite?.('apply', want.kind);
    log.info(
      { childKind: want.kind, child: want.metadata.name },
      have ? `Updated ${want.kind}` : `Applied ${want.kind}`,
    );
    result.set(childKey(want), applied);
  });
}

export interface ApplyDeps {
  kube: Pick<KubeApi, 'apply' | 'delete'>;
  /** Counts applies and prunes by kind (metrics). */
  onWrite?(verb: 'apply' | 'delete', kind: string): void;
}

/**
 * Applies every desired object that is missing or drifted from `live` (the owner's children by
 * childKey), then deletes the live ones no longer desired. Returns the live state of each desired
 * object. An API error is thrown; the children written before it stay written.
 */
export async function applyChildren(
  d: ApplyDeps,
  desired: readonly KubeObject[],
  live: ReadonlyMap<string, KubeObject>,
  log: Logger,
): Promise<Map<string, KubeObject>> {
  const result = new Map<string, KubeObject>();
  // Children do not depend on each other at apply time, but for one thing: the API server refuses a
  // RoleBinding or ClusterRoleBinding whose role does not exist yet (404, the role is looked up to
  // check that the operator holds what it grants, as it does not hold `bind` or `escalate`). So the
  // bindings go last; within each group, the drifted ones are applied a few at a time.
  const bindingsLast = [desired.filter((o) => !isBinding(o)), desired.filter(isBinding)];
  for (const group of bindingsLast) await applyGroup(d, group, live, result, log);
  const wanted = new Set(desired.map(childKey));
  for (const [key, have] of live) {
    if (wanted.has(key)) continue;
    const ref: ObjectRef = {
      apiVersion: have.apiVersion,
      kind: have.kind,
      namespace: have.metadata.namespace as string,
      name: have.metadata.name,
    };
    await d.kube.delete(ref);
    d.onWrite?.('delete', have.kind);
    log.info({ childKind: have.kind, child: have.metadata.name }, `Pruned ${have.kind}`);
  }
  return result;
}
