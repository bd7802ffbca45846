// An in-memory stand-in for the remediation's API-server calls (RemediationKube), not for
// client-node: objects with resourceVersions, the conditional status write (409 on a stale
// resourceVersion, like the API server's merge patch with metadata.resourceVersion), and a log of
// the actions taken. The integration test runs the same service against the real API server.
import type { RemediationKube } from '../../../controller/remediation/service.js';
import { type EventInput, KubeError, type KubeObject, type ObjectRef } from '../../../kube/types.js';

const keyOf = (r: { kind: string; namespace?: string; name: string }) => `${r.kind}/${r.namespace}/${r.name}`;

export class FakeRemediationKube implements RemediationKube {
  private readonly objects = new Map<string, KubeObject>();
  private rv = 1;
  readonly events: EventInput[] = [];
  readonly actions: string[] = [];
  /** Fail the n-th status write from now (1 = the next one) with this error. */
  failStatusWrite?: { nth: number; error: Error };
  failAction?: Error;
  statusWrites = 0;

  put(o: KubeObject): KubeObject {
    const stored = structuredClone(o);
    stored.metadata.uid ??= `uid-${this.rv}`;
    stored.metadata.resourceVersion = String(++this.rv);
    this.objects.set(keyOf({ kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name }), stored);
    return stored;
  }
  object(kind: string, namespace: string, name: string): KubeObject | undefined {
    return this.objects.get(keyOf({ kind, namespace, name }));
  }
  async get(ref: ObjectRef) {
    const o = this.objects.get(keyOf(ref));
    return o ? structuredClone(o) : undefined;
  }
  async event(e: EventInput) {
    this.events.push(e);
  }
  async writeStatusIf(_plural: string, namespace: string, name: string, resourceVersion: string, status: unknown) {
    this.statusWrites++;
    if (this.failStatusWrite && --this.failStatusWrite.nth === 0) {
      const e = this.failStatusWrite.error;
      this.failStatusWrite = undefined;
      throw e;
    }
    const o = this.objects.get(keyOf({ kind: 'RemediationPolicy', namespace, name }));
    if (!o) throw new KubeError('not found', 404);
    if (o.metadata.resourceVersion !== resourceVersion) throw new KubeError('conflict', 409, 'Conflict');
    o.status = structuredClone(status);
    o.metadata.resourceVersion = String(++this.rv);
    return o.metadata.resourceVersion;
  }
  async rolloutRestart(kind: string, namespace: string, name: string, at: Date) {
    if (this.failAction) throw this.failAction;
    this.actions.push(`restart ${kind} ${namespace}/${name} ${at.toISOString()}`);
  }
  async deletePod(namespace: string, name: string) {
    if (this.failAction) throw this.failAction;
    this.actions.push(`delete Pod ${namespace}/${name}`);
  }
  async scale(kind: string, namespace: string, name: string, by: number, max: number) {
    if (this.failAction) throw this.failAction;
    this.actions.push(`scale ${kind} ${namespace}/${name} +${by} max ${max}`);
    return { from: 1, to: Math.min(max, 1 + by) };
  }
}
