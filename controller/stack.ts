// Reconciles one ObservabilityStack: validate → render → apply what drifted → prune → observe →
// write status once. Level-based: it re-reads the object from the cache and acts on what it finds.
// A spec error a user can fix becomes Degraded with the field path and an Event; the children
// already running are left as they are. Transient API errors are thrown, and the queue retries.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { ComponentStatus, ObservabilityStack, ObservabilityStackStatus } from '../api/types.js';
import { type Problem, validateResource } from '../api/validate.js';
import {
  API_GROUP_VERSION,
  CONDITION_DEGRADED,
  CONDITION_PROGRESSING,
  CONDITION_READY,
  KIND_STACK,
  LABEL_COMPONENT,
  LABEL_MANAGED_BY,
  LABEL_STACK,
  MANAGED_BY,
  PLURAL_STACK,
  Reasons,
} from '../conventions/index.js';
import { stackContext } from '../desired/stack/context.js';
import { grafanaAdminSecretName } from '../desired/stack/grafana.js';
import { renderStack, stackEndpoints, workloadsByComponent } from '../desired/stack/index.js';
import { type KubeApi, KubeError, type KubeObject, type ObjectRef } from '../kube/types.js';
import { MANAGED_KINDS, managedKind } from './kinds.js';
import { outcome } from './outcome.js';
import type { HandlerResult } from './queue.js';
import { isSubset } from './status.js';

export interface StackReconcilerDeps {
  kube: KubeApi;
  /** The latest ObservabilityStack from the informer cache. */
  getStack(namespace: string, name: string): KubeObject | undefined;
  log: Logger;
  now(): Date;
  /** Counts applies and prunes by kind (metrics). */
  onWrite?(verb: 'apply' | 'delete', kind: string): void;
  /** How often a stack that is not Ready yet is looked at again without an event. */
  notReadyRecheckMs?: number;
}

interface SecretNeed {
  path: string;
  name: string;
  key?: string;
}

/** The Secrets a stack references, with the spec path to blame when one is missing. */
export function referencedSecrets(s: ObservabilityStack['spec']): SecretNeed[] {
  const out: SecretNeed[] = [];
  if (s.grafana?.enabled && s.grafana.adminSecretRef) {
    out.push({ path: 'spec.grafana.adminSecretRef.name', name: s.grafana.adminSecretRef.name });
  }
  const s3 = s.objectStorage?.s3;
  if (s3?.secretRef && (s.logs?.enabled || s.traces?.enabled)) {
    out.push({ path: 'spec.objectStorage.s3.secretRef.name', name: s3.secretRef.name });
  }
  if (s.correlation?.enabled) {
    if (s.correlation.basicAuthSecretRef) {
      out.push({ path: 'spec.correlation.basicAuthSecretRef.name', name: s.correlation.basicAuthSecretRef.name });
    }
    const dd = s.correlation.datadog?.apiKeySecretRef;
    if (dd) out.push({ path: 'spec.correlation.datadog.apiKeySecretRef', name: dd.name, key: dd.key });
  }
  if (s.metrics?.enabled && s.metrics.alertmanager?.enabled) {
    for (const [i, r] of (s.alerting?.receivers ?? []).entries()) {
      if (r.slack)
        out.push({ path: `spec.alerting.receivers[${i}].slack.apiURLSecretRef`, ...r.slack.apiURLSecretRef });
      if (r.pagerduty) {
        out.push({
          path: `spec.alerting.receivers[${i}].pagerduty.routingKeySecretRef`,
          ...r.pagerduty.routingKeySecretRef,
        });
      }
    }
  }
  return out;
}

/** Ready when the controller has seen the latest spec and every desired replica is available. */
export function workloadReady(o: KubeObject | undefined): { ready: boolean; replicas: string } {
  // biome-ignore lint/suspicious/noExplicitAny: workload status is read loosely across kinds
  const st = (o?.status ?? {}) as any;
  // biome-ignore lint/suspicious/noExplicitAny: workload spec is read loosely across kinds
  const spec = (o?.spec ?? {}) as any;
  if (!o) return { ready: false, replicas: '0/?' };
  const seen = (st.observedGeneration ?? 0) >= (o.metadata.generation ?? 0);
  if (o.kind === 'DaemonSet') {
    const want = st.desiredNumberScheduled ?? 0;
    const have = st.numberReady ?? 0;
    return { ready: seen && have >= want && (st.updatedNumberScheduled ?? 0) >= want, replicas: `${have}/${want}` };
  }
  const want = spec.replicas ?? 1;
  if (o.kind === 'StatefulSet') {
    const have = st.readyReplicas ?? 0;
    return { ready: seen && have >= want && (st.updatedReplicas ?? 0) >= want, replicas: `${have}/${want}` };
  }
  const have = st.availableReplicas ?? 0;
  return { ready: seen && have >= want && (st.updatedReplicas ?? 0) >= want, replicas: `${have}/${want}` };
}

const APPLY_CONCURRENCY = 8;

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

const refOf = (o: KubeObject): ObjectRef => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  namespace: o.metadata.namespace as string,
  name: o.metadata.name,
});
const keyOf = (o: { kind: string; metadata: { name: string } }) => `${o.kind}/${o.metadata.name}`;

export class StackReconciler {
  constructor(private readonly d: StackReconcilerDeps) {}

  async reconcile(namespace: string, name: string): Promise<HandlerResult | undefined> {
    const raw = this.d.getStack(namespace, name);
    // Gone: its children carry ownerReferences, and the garbage collector removes them.
    if (!raw || raw.metadata.deletionTimestamp) return undefined;
    const log = this.d.log.child({ kind: KIND_STACK, namespace, name });
    const owner = { apiVersion: API_GROUP_VERSION, kind: KIND_STACK, name, uid: raw.metadata.uid as string };
    const current = (raw.status ?? {}) as ObservabilityStackStatus;

    const out = outcome<ObservabilityStackStatus>(this.d.kube, PLURAL_STACK, raw, log, this.d.now);
    const finish = out.finish;
    // Keep the last known components and endpoints: nothing was touched.
    const degrade = (reason: string, problems: Problem[]) =>
      out.degrade(reason, problems, { components: current.components, endpoints: current.endpoints });

    // 1. Validate with the CRD's own schema and rules (fills defaults for objects stored earlier).
    const valid = validateResource({ apiVersion: raw.apiVersion, kind: raw.kind, metadata: { name }, spec: raw.spec });
    if (!valid.ok) {
      await degrade(Reasons.InvalidSpec, valid.problems);
      return undefined;
    }
    const stack = valid.object as ObservabilityStack;
    stack.metadata = { ...raw.metadata, name, namespace };

    // 2. Secrets: referenced ones must exist; the Grafana admin one is generated when not referenced.
    const missing: Problem[] = [];
    for (const need of referencedSecrets(stack.spec)) {
      const secret = await this.d.kube.get({ apiVersion: 'v1', kind: 'Secret', namespace, name: need.name });
      // biome-ignore lint/suspicious/noExplicitAny: only key names are read, never values
      const keys = Object.keys({ ...((secret as any)?.data ?? {}), ...((secret as any)?.stringData ?? {}) });
      if (!secret) missing.push({ path: need.path, message: `Secret "${need.name}" not found in ${namespace}` });
      else if (need.key && !keys.includes(need.key)) {
        missing.push({ path: need.path, message: `Secret "${need.name}" has no key "${need.key}"` });
      }
    }
    if (missing.length) {
      await degrade(Reasons.SecretMissing, missing);
      // Secrets are not watched; look again soon so that the stack proceeds once they appear.
      return { requeueAfterMs: 15_000 };
    }

    // 3. Render (pure). Problems the schema cannot catch are spec errors too.
    const rendered = renderStack(stack);
    if (rendered.problems.length) {
      await degrade(Reasons.InvalidSpec, rendered.problems);
      return undefined;
    }
    const desired: KubeObject[] = rendered.objects.map((o) => ({
      ...o,
      metadata: {
        ...o.metadata,
        namespace,
        ownerReferences: [{ ...owner, controller: true, blockOwnerDeletion: true }],
      },
    }));
    if (stack.spec.grafana?.enabled && !stack.spec.grafana.adminSecretRef) {
      desired.push(await this.grafanaAdmin(stack, owner));
    }
    for (const o of desired) {
      if (!managedKind(o.apiVersion, o.kind))
        throw new Error(`render produced an unmanaged kind ${o.apiVersion} ${o.kind}`);
    }

    // 4. Apply what is missing or drifted; 5. prune what is no longer desired.
    const live = await this.liveChildren(namespace, name, owner.uid);
    const result = new Map<string, KubeObject>();
    try {
      // Children do not depend on each other at apply time: apply the drifted ones a few at a time.
      await forEachLimit(desired, APPLY_CONCURRENCY, async (want) => {
        const have = live.get(keyOf(want));
        if (have && isSubset(want, have)) {
          result.set(keyOf(want), have);
          return;
        }
        const applied = await this.d.kube.apply(want);
        this.d.onWrite?.('apply', want.kind);
        log.info(
          { childKind: want.kind, child: want.metadata.name },
          have ? `Updated ${want.kind}` : `Applied ${want.kind}`,
        );
        result.set(keyOf(want), applied);
      });
      const wanted = new Set(desired.map(keyOf));
      for (const [key, have] of live) {
        if (wanted.has(key)) continue;
        await this.d.kube.delete(refOf(have));
        this.d.onWrite?.('delete', have.kind);
        log.info({ childKind: have.kind, child: have.metadata.name }, `Pruned ${have.kind}`);
      }
    } catch (err) {
      if (err instanceof KubeError && err.permanent) {
        // The API server refused what we rendered: a bug or an admission policy. Say so, then retry slowly.
        await degrade(Reasons.ApplyFailed, [{ path: 'spec', message: err.message }]);
      } else {
        await finish(current, [
          {
            type: CONDITION_READY,
            status: 'False',
            reason: Reasons.ApplyFailed,
            message: String((err as Error).message),
          },
        ]).catch(() => undefined);
      }
      throw err;
    }

    // 6. Observe the workloads, 7. write status once.
    const components: Record<string, ComponentStatus> = {};
    for (const [component, workloads] of Object.entries(workloadsByComponent(rendered.objects))) {
      const states = (workloads ?? []).map((w) => workloadReady(result.get(`${w.kind}/${w.name}`)));
      const ready = states.every((s) => s.ready);
      components[component] = {
        ready,
        replicas: states.map((s) => s.replicas).join(', '),
        ...(ready ? {} : { message: 'waiting for replicas to become available' }),
      };
    }
    const notReady = Object.entries(components)
      .filter(([, c]) => !c.ready)
      .map(([n]) => n)
      .sort();
    const ready = notReady.length === 0;
    await finish({ components, endpoints: stackEndpoints(stack) }, [
      ready
        ? {
            type: CONDITION_READY,
            status: 'True',
            reason: Reasons.AllComponentsReady,
            message: 'All components are available.',
          }
        : {
            type: CONDITION_READY,
            status: 'False',
            reason: Reasons.ComponentsNotReady,
            message: `Waiting for ${notReady.join(', ')}.`,
          },
      ready
        ? { type: CONDITION_PROGRESSING, status: 'False', reason: Reasons.ReconcileSucceeded, message: 'Up to date.' }
        : {
            type: CONDITION_PROGRESSING,
            status: 'True',
            reason: Reasons.Reconciling,
            message: `Waiting for ${notReady.join(', ')}.`,
          },
      { type: CONDITION_DEGRADED, status: 'False', reason: Reasons.AsExpected, message: 'No problems.' },
    ]);
    return ready ? undefined : { requeueAfterMs: this.d.notReadyRecheckMs ?? 30_000 };
  }

  /** Children of this stack that we own, by kind/name, from every managed kind. */
  private async liveChildren(namespace: string, stack: string, uid: string): Promise<Map<string, KubeObject>> {
    const out = new Map<string, KubeObject>();
    const selector = `${LABEL_STACK}=${stack},${LABEL_MANAGED_BY}=${MANAGED_BY}`;
    const lists = await Promise.all(
      MANAGED_KINDS.map((k) => this.d.kube.list(k.apiVersion, k.kind, namespace, selector)),
    );
    for (const o of lists.flat()) {
      // Only what this very stack owns: never prune an object someone else labelled alike.
      if (!o.metadata.ownerReferences?.some((r) => r.uid === uid && r.controller)) continue;
      // SLO rule ConfigMaps and dashboards carry the stack label too, but their owner is the SLO.
      out.set(keyOf(o), o);
    }
    return out;
  }

  private async grafanaAdmin(
    stack: ObservabilityStack,
    owner: { apiVersion: string; kind: string; name: string; uid: string },
  ) {
    const namespace = stack.metadata.namespace as string;
    const name = grafanaAdminSecretName(stackContext(stack));
    const existing = await this.d.kube.get({ apiVersion: 'v1', kind: 'Secret', namespace, name });
    // biome-ignore lint/suspicious/noExplicitAny: Secret data is carried over untouched, never logged
    const data = ((existing as any)?.data ?? {}) as Record<string, string>;
    const password = data['admin-password'] ?? Buffer.from(randomBytes(24).toString('base64url')).toString('base64');
    return {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: {
        name,
        namespace,
        labels: {
          [LABEL_STACK]: stack.metadata.name as string,
          [LABEL_MANAGED_BY]: MANAGED_BY,
          [LABEL_COMPONENT]: 'grafana',
          'app.kubernetes.io/name': 'grafana',
          'app.kubernetes.io/part-of': 'vigil',
        },
        ownerReferences: [{ ...owner, controller: true, blockOwnerDeletion: true }],
      },
      data: { 'admin-user': Buffer.from('admin').toString('base64'), 'admin-password': password },
    } as KubeObject;
  }
}
