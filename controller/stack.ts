// Reconciles one ObservabilityStack: validate → Secrets → render → apply what drifted and prune →
// observe the workloads → an Outcome, which outcome.ts turns into status (once) and the queue's
// next step. Level-based: it re-reads the object from the cache and acts on what it finds. A spec a
// person must fix leaves the children already running as they are.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { ComponentStatus, ObservabilityStack } from '../api/types.js';
import type { Problem } from '../api/validate.js';
import {
  KIND_STACK,
  LABEL_COMPONENT,
  LABEL_MANAGED_BY,
  LABEL_STACK,
  MANAGED_BY,
  PLURAL_STACK,
  Reasons,
} from '../conventions/index.js';
import { checkResource } from '../desired/check.js';
import { stackContext } from '../desired/stack/context.js';
import { grafanaAdminSecretName } from '../desired/stack/grafana.js';
import {
  type KubeObject as RenderedObject,
  type RenderInputs,
  stackEndpoints,
  workloadsByComponent,
} from '../desired/stack/index.js';
import type { KubeApi, KubeObject } from '../kube/types.js';
import { applyChildren, childKey, controlledBy, type Owner, owned, ownerOf } from './apply.js';
import { MANAGED_KINDS, managedKind } from './kinds.js';
import { type Outcome, problem, progressing, ReconcileBug, ready, reconcileObject, rendering } from './outcome.js';
import type { HandlerResult } from './queue.js';

/** The API-server calls a stack reconcile makes. */
export type StackKube = Pick<KubeApi, 'get' | 'list' | 'apply' | 'delete' | 'patchStatus' | 'event'>;

export interface StackReconcilerDeps {
  kube: StackKube;
  /** The latest ObservabilityStack from the informer cache. */
  getStack(namespace: string, name: string): KubeObject | undefined;
  log: Logger;
  now(): Date;
  /** Counts applies and prunes by kind (metrics). */
  onWrite?(verb: 'apply' | 'delete', kind: string): void;
  /** How often a stack that is not Ready yet is looked at again without an event. */
  notReadyRecheckMs?: number;
  /** What the stack renders from besides its spec (the RemediationPolicies naming it); none by default. */
  renderInputs?: (stack: ObservabilityStack) => RenderInputs;
  /** checkResource; a test passes its own. */
  check?: typeof checkResource;
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

/** The referenced Secrets that are missing (or lack the key), blamed on their spec field. */
async function missingSecrets(kube: Pick<KubeApi, 'get'>, stack: ObservabilityStack): Promise<Problem[]> {
  const namespace = stack.metadata.namespace as string;
  const missing: Problem[] = [];
  for (const need of referencedSecrets(stack.spec)) {
    const secret = await kube.get({ apiVersion: 'v1', kind: 'Secret', namespace, name: need.name });
    // biome-ignore lint/suspicious/noExplicitAny: only key names are read, never values
    const keys = Object.keys({ ...((secret as any)?.data ?? {}), ...((secret as any)?.stringData ?? {}) });
    if (!secret) missing.push({ path: need.path, message: `Secret "${need.name}" not found in ${namespace}` });
    else if (need.key && !keys.includes(need.key)) {
      missing.push({ path: need.path, message: `Secret "${need.name}" has no key "${need.key}"` });
    }
  }
  return missing;
}

/** Each component's readiness, from the live state of its workloads. */
function componentStatus(rendered: readonly RenderedObject[], live: ReadonlyMap<string, KubeObject>) {
  const components: Record<string, ComponentStatus> = {};
  for (const [component, workloads] of Object.entries(workloadsByComponent(rendered))) {
    const states = (workloads ?? []).map((w) => workloadReady(live.get(`${w.kind}/${w.name}`)));
    const allReady = states.every((s) => s.ready);
    components[component] = {
      ready: allReady,
      replicas: states.map((s) => s.replicas).join(', '),
      ...(allReady ? {} : { message: 'waiting for replicas to become available' }),
    };
  }
  return components;
}

export class StackReconciler {
  constructor(private readonly d: StackReconcilerDeps) {}

  reconcile(namespace: string, name: string): Promise<HandlerResult | undefined> {
    return reconcileObject(this.d, PLURAL_STACK, this.d.getStack(namespace, name), (raw, log) => this.run(raw, log));
  }

  private async run(raw: KubeObject, log: Logger): Promise<Outcome> {
    const { namespace, name } = raw.metadata as { namespace: string; name: string };
    // What vigil validate checks: the CRD's schema and rules (defaults filled for objects stored
    // earlier), render problems, and the names of what it renders. The render inputs depend on the
    // object's namespace and name only, so the object as stored will do.
    const { apiVersion, kind, metadata, spec } = raw;
    const inputs = this.d.renderInputs?.(raw as unknown as ObservabilityStack) ?? {};
    const checked = rendering(() => (this.d.check ?? checkResource)({ apiVersion, kind, metadata, spec }, inputs));
    if (!checked.ok) return problem(Reasons.InvalidSpec, checked.problems);
    if (checked.kind !== KIND_STACK) throw new ReconcileBug(`An ${KIND_STACK} was checked as ${checked.kind}`);
    const { stack, objects } = checked;

    const missing = await missingSecrets(this.d.kube, stack);
    // Secrets are not watched: look again soon so that the stack proceeds once they appear.
    if (missing.length) {
      return problem(Reasons.SecretMissing, missing, {
        waitingFor: 'Waiting for the Secrets.',
        requeueAfterMs: 15_000,
      });
    }

    const owner = ownerOf(raw);
    const desired = owned(objects, owner, namespace);
    if (stack.spec.grafana?.enabled && !stack.spec.grafana.adminSecretRef) {
      desired.push(await this.grafanaAdmin(stack, owner));
    }
    const unmanaged = desired.find((o) => !managedKind(o.apiVersion, o.kind));
    if (unmanaged)
      throw new ReconcileBug(
        `Rendering made a ${unmanaged.apiVersion} ${unmanaged.kind}, a kind Vigil does not manage`,
      );

    const live = await applyChildren(this.d, desired, await this.liveChildren(namespace, name, owner.uid), log);
    const components = componentStatus(objects, live);
    const fields = { components, endpoints: stackEndpoints(stack) };
    const waiting = Object.keys(components)
      .filter((c) => !components[c].ready)
      .sort();
    if (waiting.length) {
      const message = `Waiting for ${waiting.join(', ')}.`;
      return progressing(fields, Reasons.ComponentsNotReady, message, this.d.notReadyRecheckMs ?? 30_000);
    }
    return ready(fields, Reasons.AllComponentsReady, 'All components are available.');
  }

  /** Children of this stack that it controls, by kind/name, from every managed kind. */
  private async liveChildren(namespace: string, stack: string, uid: string): Promise<Map<string, KubeObject>> {
    const selector = `${LABEL_STACK}=${stack},${LABEL_MANAGED_BY}=${MANAGED_BY}`;
    const lists = await Promise.all(
      MANAGED_KINDS.map((k) => this.d.kube.list(k.apiVersion, k.kind, namespace, selector)),
    );
    // SLO rule ConfigMaps and dashboards carry the stack label too, but the SLO controls them.
    return new Map(
      lists
        .flat()
        .filter((o) => controlledBy(o, uid))
        .map((o) => [childKey(o), o]),
    );
  }

  private async grafanaAdmin(stack: ObservabilityStack, owner: Owner): Promise<KubeObject> {
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
    };
  }
}
