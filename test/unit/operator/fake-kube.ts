// A small in-memory stand-in for the API-server calls the reconcilers make (StackKube, SLOKube), not
// for client-node: objects by kind, namespace and name; status patches applied as JSON merge patches
// onto the stored custom resource (which is also what the fake informer cache returns); Events;
// and failures a test injects per call. Workloads it applies report their replicas available, as
// kwok makes them in the integration tests, unless `available` is false.
import pino, { type Logger } from 'pino';
import type { SLOKube } from '../../../controller/slo.js';
import type { StackKube } from '../../../controller/stack.js';
import { KIND_SLO, KIND_STACK, PLURAL_SLO, PLURAL_STACK } from '../../../conventions/index.js';
import { type EventInput, KubeError, type KubeObject, type ObjectRef } from '../../../kube/types.js';

const KIND_BY_PLURAL: Record<string, string> = { [PLURAL_STACK]: KIND_STACK, [PLURAL_SLO]: KIND_SLO };

type Call = 'get' | 'list' | 'apply' | 'delete' | 'patchStatus' | 'event' | 'serves';

const keyOf = (apiVersion: string, kind: string, namespace: string | undefined, name: string) =>
  `${apiVersion}/${kind}/${namespace ?? ''}/${name}`;

function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

export class FakeKube implements StackKube, SLOKube {
  private readonly objects = new Map<string, KubeObject>();
  readonly events: EventInput[] = [];
  /** Every write, as "verb Kind/name" (status patches as "status plural/name"). */
  readonly writes: string[] = [];
  /** apiVersion/kind pairs the fake API server serves beyond the built-in ones. */
  readonly served = new Set<string>();
  available = true;
  /** Milliseconds an apply of that kind takes, as a round trip to a real API server does. */
  readonly applyLatency: Partial<Record<string, number>> = {};
  /** An error to throw from every call of that kind (a function may pick which objects fail). */
  readonly failures: Partial<Record<Call, Error | ((target: string) => Error | undefined)>> = {};
  private uids = 0;

  /** Stores an object as the API server (and the informer cache) has it. */
  put(o: KubeObject): KubeObject {
    const stored = structuredClone(o);
    stored.metadata.uid ??= `uid-${++this.uids}`;
    stored.metadata.generation ??= 1;
    this.objects.set(keyOf(o.apiVersion, o.kind, o.metadata.namespace, o.metadata.name), stored);
    return stored;
  }

  /** What the informer cache would return (the stored object itself, as a cache shares it). */
  cached(apiVersion: string, kind: string, namespace: string, name: string): KubeObject | undefined {
    return this.objects.get(keyOf(apiVersion, kind, namespace, name));
  }

  /** A spec edit: the server bumps the generation. */
  editSpec(o: KubeObject, edit: (spec: Record<string, unknown>) => void): void {
    const stored = this.cached(o.apiVersion, o.kind, o.metadata.namespace as string, o.metadata.name) as KubeObject;
    edit(stored.spec as Record<string, unknown>);
    stored.metadata.generation = (stored.metadata.generation ?? 1) + 1;
  }

  all(kind: string): KubeObject[] {
    return [...this.objects.values()].filter((o) => o.kind === kind);
  }

  private fail(call: Call, target: string): void {
    const f = this.failures[call];
    const err = typeof f === 'function' ? f(target) : f;
    if (err) throw err;
  }

  async get(ref: ObjectRef): Promise<KubeObject | undefined> {
    this.fail('get', `${ref.kind}/${ref.name}`);
    const o = this.objects.get(keyOf(ref.apiVersion, ref.kind, ref.namespace, ref.name));
    return o && structuredClone(o);
  }

  /** Lists one namespace's objects; undefined lists across namespaces and cluster-scoped objects. */
  async list(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    labelSelector = '',
  ): Promise<KubeObject[]> {
    this.fail('list', kind);
    const want = labelSelector
      .split(',')
      .filter(Boolean)
      .map((kv) => kv.split('='));
    return [...this.objects.values()]
      .filter((o) => o.apiVersion === apiVersion && o.kind === kind)
      .filter((o) => namespace === undefined || o.metadata.namespace === namespace)
      .filter((o) => want.every(([k, v]) => o.metadata.labels?.[k] === v))
      .map((o) => structuredClone(o));
  }

  async apply(obj: KubeObject): Promise<KubeObject> {
    this.fail('apply', `${obj.kind}/${obj.metadata.name}`);
    const latency = this.applyLatency[obj.kind];
    if (latency) await new Promise((r) => setTimeout(r, latency));
    this.checkRoleRef(obj);
    const key = keyOf(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name);
    const before = this.objects.get(key);
    const stored = structuredClone(obj);
    stored.metadata.uid = before?.metadata.uid ?? `uid-${++this.uids}`;
    stored.metadata.generation = (before?.metadata.generation ?? 0) + 1;
    if (['Deployment', 'StatefulSet', 'DaemonSet'].includes(obj.kind)) {
      // biome-ignore lint/suspicious/noExplicitAny: a workload's spec, read loosely
      const replicas = (obj.spec as any)?.replicas ?? 1;
      const n = this.available ? replicas : 0;
      stored.status = {
        observedGeneration: stored.metadata.generation,
        availableReplicas: n,
        readyReplicas: n,
        updatedReplicas: n,
        desiredNumberScheduled: replicas,
        numberReady: n,
        updatedNumberScheduled: n,
      };
    }
    this.objects.set(key, stored);
    this.writes.push(`apply ${obj.kind}/${obj.metadata.name}`);
    return structuredClone(stored);
  }

  /**
   * As the API server does for a user without `bind` or `escalate` (the operator's role): a binding
   * is refused with 404 while the role it names does not exist, because the server looks the role
   * up to check that the user holds what it grants.
   */
  private checkRoleRef(obj: KubeObject): void {
    if (obj.kind !== 'RoleBinding' && obj.kind !== 'ClusterRoleBinding') return;
    const ref = (obj as unknown as { roleRef: { kind: string; name: string } }).roleRef;
    const namespace = ref.kind === 'Role' ? obj.metadata.namespace : undefined;
    if (!this.objects.has(keyOf('rbac.authorization.k8s.io/v1', ref.kind, namespace, ref.name)))
      throw new KubeError(`${obj.kind.toLowerCase()}s "${obj.metadata.name}" not found`, 404, 'NotFound');
  }

  async delete(ref: ObjectRef): Promise<void> {
    this.fail('delete', `${ref.kind}/${ref.name}`);
    this.objects.delete(keyOf(ref.apiVersion, ref.kind, ref.namespace, ref.name));
    this.writes.push(`delete ${ref.kind}/${ref.name}`);
  }

  async patchStatus(plural: string, namespace: string, name: string, status: unknown): Promise<void> {
    this.fail('patchStatus', `${plural}/${name}`);
    const o = [...this.objects.values()].find(
      (x) => x.metadata.namespace === namespace && x.metadata.name === name && x.kind === KIND_BY_PLURAL[plural],
    );
    if (!o) throw new Error(`fake: no ${plural} ${namespace}/${name}`);
    o.status = applyMergePatch(o.status, status);
    this.writes.push(`status ${plural}/${name}`);
  }

  async event(e: EventInput): Promise<void> {
    this.fail('event', e.involved.name);
    this.events.push(e);
  }

  async serves(apiVersion: string, kind: string): Promise<boolean> {
    this.fail('serves', kind);
    return this.served.has(`${apiVersion}/${kind}`);
  }
}

/** A logger whose lines a test reads as data. */
export function capturingLogger(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => lines.push(JSON.parse(s)) });
  return { log, lines };
}
