// Reconciles one ObservabilityStack: validate → Secrets → render → apply what drifted and prune →
// observe the workloads → an Outcome, which outcome.ts turns into status (once) and the queue's
// next step. Level-based: it re-reads the object from the cache and acts on what it finds. A spec a
// person must fix leaves the children already running as they are.
//
// Cluster-scoped children (ClusterRoles and their bindings) cannot carry an ownerReference to the
// namespaced stack, so they are found by their labels (vigil.dev/stack + vigil.dev/stack-namespace),
// pruned like the others, and deleted here when the stack is gone: its deletion enqueues it (the
// informer's DELETED event), and one deleted while the operator was down is found at the next start,
// whose list of cluster-scoped children enqueues a stack that no longer exists. No finalizer, so
// uninstalling the operator never leaves stacks stuck in deletion.
import type { Logger } from 'pino';
import type { ComponentStatus, ObservabilityStack, TargetStatus } from '../api/types.js';
import type { Problem } from '../api/validate.js';
import {
  API_GROUP_VERSION,
  CONDITION_SCALING_LIMITED,
  KIND_STACK,
  LABEL_COMPONENT,
  LABEL_MANAGED_BY,
  LABEL_STACK,
  LABEL_STACK_NAMESPACE,
  MANAGED_BY,
  PLURAL_STACK,
  REASON_AGENT_POD_SECURITY,
  REASON_COLLECTION_OVERLAP,
  REASON_NO_OBJECT_STORAGE,
  Reasons,
} from '../conventions/index.js';
import { checkResource } from '../desired/check.js';
import {
  agentNamespaceProblem,
  collected,
  collectionOverlaps,
  type NamespaceInfo,
} from '../desired/stack/collection.js';
import { stackContext } from '../desired/stack/context.js';
import {
  basicAuthorization,
  CORRELATOR_AUTH_KEYS,
  CORRELATOR_AUTH_USER,
  correlatorAuthProblems,
  correlatorAuthSecretName,
  credentialProblem,
} from '../desired/stack/correlator.js';
import { grafanaAdminSecretName } from '../desired/stack/grafana.js';
import {
  type KubeObject as RenderedObject,
  type RenderInputs,
  stackEndpoints,
  workloadsByComponent,
} from '../desired/stack/index.js';
import {
  QUERY_AUTH_KEYS,
  QUERY_AUTH_USER,
  type QueryApi,
  queryAuthOn,
  queryAuthSecretName,
  queryAuthSecretPath,
  webConfigSecretName,
} from '../desired/stack/query-auth.js';
import { scalingLimited } from '../desired/stack/scalable.js';
import { generatedSecretNames } from '../desired/stack/secrets.js';
import { S3_SECRET_KEYS } from '../desired/stack/storage.js';
import type { KubeApi, KubeObject } from '../kube/types.js';
import { applyChildren, childKey, clusterChildren, controlledBy, type Owner, owned, ownerOf } from './apply.js';
import { generatedSecret, randomPassword, secretValues } from './generated-secret.js';
import { BY_NAME_KINDS, CLUSTER_KINDS, LISTED_KINDS, managedKind } from './kinds.js';
import {
  degraded,
  type Outcome,
  problem,
  progressing,
  ReconcileBug,
  ready,
  reconcileObject,
  rendering,
  withConditions,
} from './outcome.js';
import type { HandlerResult } from './queue.js';
import type { ConditionInput } from './status.js';
import { webConfigValues } from './web-config.js';

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
  /**
   * Every ObservabilityStack the operator watches (the informer cache), for the collection overlap
   * check; listed from the API server when absent. Read only for a stack that runs the node agent.
   */
  listStacks?(): KubeObject[] | undefined;
  /** Every namespace with its labels (the informer cache); listed from the API server when absent. */
  listNamespaces?(): NamespaceInfo[] | undefined;
  /** The operator's --allowed-image-prefixes: a spec image outside them is Degraded (ImageNotAllowed). */
  allowedImagePrefixes?: readonly string[];
}

/** The component whose objects a refused stack does not apply (docs/collection.md). */
const AGENT = 'agent';

/** A message of desired/stack/collection.ts ("spec.x: what") as a Problem blamed on its field. */
function asProblem(message: string): Problem {
  const m = /^(spec(?:\.[A-Za-z]+)+): (.*)$/s.exec(message);
  return m ? { path: m[1], message: m[2] } : { path: 'spec.collector', message };
}

interface SecretNeed {
  path: string;
  name: string;
  key?: string;
  /** What is wrong with its values (one sentence each, never quoting a value); absent: any will do. */
  check?: (values: Readonly<Record<string, string>>) => string[];
}

/** The Secrets a stack references, with the spec path to blame when one is missing. */
export function referencedSecrets(s: ObservabilityStack['spec']): SecretNeed[] {
  const out: SecretNeed[] = [];
  if (s.grafana?.enabled && s.grafana.adminSecretRef) {
    out.push({ path: 'spec.grafana.adminSecretRef.name', name: s.grafana.adminSecretRef.name });
  }
  const s3 = s.objectStorage?.s3;
  if (s3?.secretRef && (s.logs?.enabled || s.traces?.enabled)) {
    // Loki and Tempo read both keys from the environment (desired/stack/storage.ts): a missing one
    // would start them without credentials.
    for (const key of S3_SECRET_KEYS) {
      out.push({ path: 'spec.objectStorage.s3.secretRef.name', name: s3.secretRef.name, key });
    }
  }
  const db = s.grafana?.database;
  if (s.grafana?.enabled && db) {
    out.push({ path: 'spec.grafana.database.passwordSecretRef', ...db.passwordSecretRef });
  }
  if (s.correlation?.enabled) {
    if (s.correlation.basicAuthSecretRef) {
      out.push({
        path: 'spec.correlation.basicAuthSecretRef.name',
        name: s.correlation.basicAuthSecretRef.name,
        check: correlatorAuthProblems,
      });
    }
    const dd = s.correlation.datadog?.apiKeySecretRef;
    if (dd) out.push({ path: 'spec.correlation.datadog.apiKeySecretRef', name: dd.name, key: dd.key });
  }
  if (s.metrics?.enabled) {
    // Mounted into every Prometheus pod: a missing one would keep the pods from starting.
    for (const [i, w] of (s.metrics.remoteWrite ?? []).entries()) {
      const at = `spec.metrics.remoteWrite[${i}]`;
      if (w.basicAuth) {
        out.push({ path: `${at}.basicAuth.usernameSecretRef`, ...w.basicAuth.usernameSecretRef });
        out.push({ path: `${at}.basicAuth.passwordSecretRef`, ...w.basicAuth.passwordSecretRef });
      }
      if (w.bearerTokenSecretRef) out.push({ path: `${at}.bearerTokenSecretRef`, ...w.bearerTokenSecretRef });
    }
  }
  // The query APIs' auth Secrets the spec names: checked like the correlator's (three keys that agree).
  if (s.metrics?.enabled && s.metrics.basicAuth?.enabled && s.metrics.basicAuth.secretRef) {
    const name = s.metrics.basicAuth.secretRef.name;
    out.push({ path: queryAuthSecretPath('prometheus'), name, check: correlatorAuthProblems });
  }
  const am = s.metrics?.enabled && s.metrics.alertmanager?.enabled;
  if (am && s.alerting?.basicAuth?.enabled && s.alerting.basicAuth.secretRef) {
    const name = s.alerting.basicAuth.secretRef.name;
    out.push({ path: queryAuthSecretPath('alertmanager'), name, check: correlatorAuthProblems });
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

export interface WorkloadState {
  /** At full strength: the controller saw the latest spec and every desired replica is up to date and available. */
  ready: boolean;
  /** Serving: the controller saw the latest spec and at least `quorum` replicas are available. */
  quorate: boolean;
  replicas: string;
}

/**
 * A workload's state. `quorum` is how many available pods it needs to serve (WorkloadRef.quorum,
 * from its PodDisruptionBudget); without one it needs every replica. A DaemonSet needs every
 * scheduled pod.
 */
export function workloadReady(o: KubeObject | undefined, quorum?: number): WorkloadState {
  // biome-ignore lint/suspicious/noExplicitAny: workload status is read loosely across kinds
  const st = (o?.status ?? {}) as any;
  // biome-ignore lint/suspicious/noExplicitAny: workload spec is read loosely across kinds
  const spec = (o?.spec ?? {}) as any;
  if (!o) return { ready: false, quorate: false, replicas: '0/?' };
  const seen = (st.observedGeneration ?? 0) >= (o.metadata.generation ?? 0);
  let want: number;
  let have: number;
  let updated: number;
  if (o.kind === 'DaemonSet') {
    want = st.desiredNumberScheduled ?? 0;
    have = st.numberReady ?? 0;
    updated = st.updatedNumberScheduled ?? 0;
  } else {
    want = spec.replicas ?? 1;
    have = (o.kind === 'StatefulSet' ? st.readyReplicas : st.availableReplicas) ?? 0;
    updated = st.updatedReplicas ?? 0;
  }
  const ready = seen && have >= want && updated >= want;
  const need = o.kind === 'DaemonSet' || quorum === undefined ? want : Math.min(want, quorum);
  return { ready, quorate: ready || (seen && have >= need), replicas: `${have}/${want}` };
}

/**
 * The referenced Secrets that are missing, lack the key, or whose values their check refuses,
 * blamed on their spec field and naming the Secret and key (never a value). `missing` tells
 * whether any is absent (SecretMissing) rather than only wrong (SecretInvalid).
 */
async function secretProblems(
  kube: Pick<KubeApi, 'get'>,
  stack: ObservabilityStack,
): Promise<{ problems: Problem[]; missing: boolean }> {
  const namespace = stack.metadata.namespace as string;
  const problems: Problem[] = [];
  let missing = false;
  for (const need of referencedSecrets(stack.spec)) {
    const secret = await kube.get({ apiVersion: 'v1', kind: 'Secret', namespace, name: need.name });
    const values = secretValues(secret);
    if (!secret) {
      missing = true;
      // One Secret with two needed keys is reported missing once.
      const gone = `Secret "${need.name}" not found in ${namespace}`;
      if (!problems.some((m) => m.path === need.path && m.message === gone))
        problems.push({ path: need.path, message: gone });
    } else if (need.key && !Object.hasOwn(values, need.key)) {
      missing = true;
      problems.push({ path: need.path, message: `Secret "${need.name}" has no key "${need.key}"` });
    } else {
      for (const m of need.check?.(values) ?? []) {
        missing ||= m.startsWith('has no key');
        problems.push({ path: need.path, message: `Secret "${need.name}" ${m}` });
      }
    }
  }
  return { problems, missing };
}

/**
 * Each component's readiness, from the live state of its workloads (its targets: `loki-write`,
 * `alertmanager`). A component is ready when every target has its quorum; `targets` shows each
 * one's count against its size, so a ring serving with a member down reads `loki-write 2/3`.
 */
/** The targets below full strength, as `loki-write 2/3 (quorum 2)`. */
function belowFullStrength(targets: Record<string, TargetStatus>): string[] {
  return Object.entries(targets)
    .filter(([, t]) => !t.ready)
    .map(([name, t]) => `${name} ${t.replicas}${t.quorum === undefined ? '' : ` (quorum ${t.quorum})`}`);
}

export function componentStatus(
  rendered: readonly RenderedObject[],
  live: ReadonlyMap<string, KubeObject>,
): Record<string, ComponentStatus> {
  const components: Record<string, ComponentStatus> = {};
  for (const [component, workloads] of Object.entries(workloadsByComponent(rendered))) {
    const targets: Record<string, TargetStatus> = {};
    let quorate = true;
    for (const w of workloads ?? []) {
      const s = workloadReady(live.get(`${w.kind}/${w.name}`), w.quorum);
      targets[w.target] = {
        ready: s.ready,
        replicas: s.replicas,
        ...(w.quorum === undefined ? {} : { quorum: w.quorum }),
      };
      quorate &&= s.quorate;
    }
    const short = belowFullStrength(targets);
    components[component] = {
      ready: quorate,
      replicas: Object.values(targets)
        .map((t) => t.replicas)
        .join(', '),
      targets,
      ...(short.length
        ? { message: `${quorate ? 'serving with quorum' : 'waiting for replicas'}: ${short.join(', ')}` }
        : {}),
    };
  }
  return components;
}

/**
 * The ScalingLimited condition (docs/adr/0017-scalable-loki-tempo.md): True while a medium or large
 * stack runs Loki or Tempo as a single binary for want of object storage; False once a stack that
 * had it no longer does; absent on every other stack.
 */
export function scalingCondition(stack: ObservabilityStack, raw: KubeObject): ConditionInput[] {
  const why = scalingLimited(stackContext(stack));
  if (why) return [{ type: CONDITION_SCALING_LIMITED, status: 'True', reason: REASON_NO_OBJECT_STORAGE, message: why }];
  const had = (
    ((raw as { status?: unknown }).status as { conditions?: { type: string }[] } | undefined)?.conditions ?? []
  ).some((c) => c.type === CONDITION_SCALING_LIMITED);
  return had
    ? [
        {
          type: CONDITION_SCALING_LIMITED,
          status: 'False',
          reason: Reasons.AsExpected,
          message: 'Loki and Tempo run as the size asks.',
        },
      ]
    : [];
}

/**
 * A generated auth Secret's values: a username or password edited by hand is kept when it is good
 * (a rotation); the header always follows them, so the three never disagree.
 */
function authValues(old: Record<string, string>, user: string): Record<string, string> {
  const k = CORRELATOR_AUTH_KEYS;
  const username = credentialProblem('username', old[k.username]) ? user : old[k.username];
  const password = credentialProblem('password', old[k.password]) ? randomPassword() : old[k.password];
  return { [k.username]: username, [k.password]: password, [k.authorization]: basicAuthorization(username, password) };
}

export class StackReconciler {
  constructor(private readonly d: StackReconcilerDeps) {}

  async reconcile(namespace: string, name: string): Promise<HandlerResult | undefined> {
    const raw = this.d.getStack(namespace, name);
    // Gone or going: its namespaced children go with it (ownerReferences), the cluster-scoped ones here.
    if (!raw || raw.metadata.deletionTimestamp) await this.deleteClusterChildren(namespace, name);
    return reconcileObject(this.d, PLURAL_STACK, raw, (r, log) => this.run(r, log));
  }

  /**
   * Deletes the cluster-scoped children labelled for this stack, once the API server confirms that
   * the stack is gone or being deleted: a cache that has not synced yet (or lags) deletes nothing.
   */
  private async deleteClusterChildren(namespace: string, name: string): Promise<void> {
    const live = await this.liveClusterChildren(namespace, name);
    if (!live.size) return;
    const stored = await this.d.kube.get({ apiVersion: API_GROUP_VERSION, kind: KIND_STACK, namespace, name });
    if (stored && !stored.metadata.deletionTimestamp) return;
    const log = this.d.log.child({ kind: KIND_STACK, namespace, name });
    await applyChildren(this.d, [], live, log);
  }

  /**
   * Which parts of a stack that runs the node agent cannot run: the agent when it would collect
   * pods an older stack collects (collectionOverlaps; not applied, already applied ones pruned), or
   * when the namespace's Pod Security level would refuse its pods (applied; they start once the
   * namespace allows them). Undefined for a stack without agent.
   */
  private async agentProblems(
    stack: ObservabilityStack,
  ): Promise<{ refused: boolean; reason: string; problems: Problem[] } | undefined> {
    if (!collected(stack)) return undefined;
    const namespace = stack.metadata.namespace as string;
    const [stacks, namespaces] = await Promise.all([
      this.d.listStacks?.() ?? this.d.kube.list(API_GROUP_VERSION, KIND_STACK, undefined),
      this.d.listNamespaces?.() ??
        this.d.kube
          .list('v1', 'Namespace', undefined)
          .then((l) => l.map((n) => ({ name: n.metadata.name, labels: n.metadata.labels }))),
    ]);
    // This reconcile's own object, whatever the cache holds of it.
    const others = stacks.filter(
      (s) => !(s.metadata.namespace === namespace && s.metadata.name === stack.metadata.name),
    );
    const all = [...(others as unknown as ObservabilityStack[]), stack];
    const verdict = collectionOverlaps(all, namespaces).get(`${namespace}/${stack.metadata.name}`);
    if (verdict?.refused && verdict.message) {
      return { refused: true, reason: REASON_COLLECTION_OVERLAP, problems: [asProblem(verdict.message)] };
    }
    const psa = agentNamespaceProblem(namespace, namespaces.find((n) => n.name === namespace)?.labels);
    if (psa) return { refused: false, reason: REASON_AGENT_POD_SECURITY, problems: [asProblem(psa)] };
    return undefined;
  }

  private async run(raw: KubeObject, log: Logger): Promise<Outcome> {
    const { namespace, name } = raw.metadata as { namespace: string; name: string };
    // What vigil validate checks: the CRD's schema and rules (defaults filled for objects stored
    // earlier), render problems, and the names of what it renders. The render inputs depend on the
    // object's namespace and name only, so the object as stored will do.
    const { apiVersion, kind, metadata, spec } = raw;
    const inputs = this.d.renderInputs?.(raw as unknown as ObservabilityStack) ?? {};
    const policy = { allowedImagePrefixes: this.d.allowedImagePrefixes };
    const checked = rendering(() =>
      (this.d.check ?? checkResource)({ apiVersion, kind, metadata, spec }, inputs, policy),
    );
    // Refused before anything is applied or pruned: what runs keeps running.
    if (!checked.ok) return problem(checked.reason ?? Reasons.InvalidSpec, checked.problems);
    if (checked.kind !== KIND_STACK) throw new ReconcileBug(`An ${KIND_STACK} was checked as ${checked.kind}`);
    const { stack } = checked;
    const agent = await this.agentProblems(stack);
    const objects = agent?.refused
      ? checked.objects.filter((o) => o.metadata.labels?.[LABEL_COMPONENT] !== AGENT)
      : checked.objects;

    const secrets = await secretProblems(this.d.kube, stack);
    // Secrets are not watched: look again soon so that the stack proceeds once they are fixed.
    if (secrets.problems.length) {
      return problem(secrets.missing ? Reasons.SecretMissing : Reasons.SecretInvalid, secrets.problems, {
        waitingFor: 'Waiting for the Secrets.',
        requeueAfterMs: 15_000,
      });
    }

    const owner = ownerOf(raw);
    const isCluster = (o: RenderedObject) =>
      CLUSTER_KINDS.some((k) => k.apiVersion === o.apiVersion && k.kind === o.kind);
    const desired = [
      ...owned(
        objects.filter((o) => !isCluster(o)),
        owner,
        namespace,
      ),
      ...clusterChildren(objects.filter(isCluster), namespace, name),
    ];
    desired.push(...(await this.generatedSecrets(stack, owner)));
    const unmanaged = desired.find((o) => !managedKind(o.apiVersion, o.kind));
    if (unmanaged)
      throw new ReconcileBug(
        `Rendering made a ${unmanaged.apiVersion} ${unmanaged.kind}, a kind Vigil does not manage`,
      );

    const have = new Map([
      ...(await this.liveChildren(stack, owner.uid)),
      ...(await this.liveClusterChildren(namespace, name)),
    ]);
    const live = await applyChildren(this.d, desired, have, log);
    const scaling = scalingCondition(stack, raw);
    const components = componentStatus(objects, live);
    const fields = { components, endpoints: stackEndpoints(stack) };
    if (agent) {
      const waitingFor = agent.refused
        ? 'The agent is not run until the overlap is removed.'
        : "Waiting for the namespace's Pod Security level to admit the agent.";
      return withConditions(degraded(fields, agent.reason, agent.problems, { waitingFor }), scaling);
    }
    const waiting = Object.keys(components)
      .filter((c) => !components[c].ready)
      .sort();
    if (waiting.length) {
      const message = `Waiting for ${waiting.join(', ')}.`;
      return withConditions(
        progressing(fields, Reasons.ComponentsNotReady, message, this.d.notReadyRecheckMs ?? 30_000),
        scaling,
      );
    }
    const short = Object.keys(components)
      .sort()
      .flatMap((c) => belowFullStrength(components[c].targets ?? {}));
    if (short.length) {
      // Serving, a member short (a rollout, a lost node): Ready, and the status says which.
      return withConditions(
        ready(
          fields,
          Reasons.AllComponentsReady,
          `All components have quorum; below full strength: ${short.join(', ')}.`,
        ),
        scaling,
      );
    }
    return withConditions(ready(fields, Reasons.AllComponentsReady, 'All components are available.'), scaling);
  }

  /**
   * Children of this stack that it controls, by kind/name, from every managed kind: listed by the
   * stack's labels, except Secrets, which are got by the names the operator gives them.
   */
  private async liveChildren(stack: ObservabilityStack, uid: string): Promise<Map<string, KubeObject>> {
    const namespace = stack.metadata.namespace as string;
    const selector = `${LABEL_STACK}=${stack.metadata.name},${LABEL_MANAGED_BY}=${MANAGED_BY}`;
    const known: Record<string, string[]> = { Secret: generatedSecretNames(stackContext(stack)) };
    const lists = await Promise.all([
      ...LISTED_KINDS.map((k) => this.d.kube.list(k.apiVersion, k.kind, namespace, selector)),
      ...BY_NAME_KINDS.flatMap((k) => {
        const names = known[k.kind];
        if (!names) throw new ReconcileBug(`No names are known for the ${k.kind} children of a stack`);
        return names.map((name) =>
          this.d.kube.get({ apiVersion: k.apiVersion, kind: k.kind, namespace, name }).then((o) => (o ? [o] : [])),
        );
      }),
    ]);
    // SLO rule ConfigMaps and dashboards carry the stack label too, but the SLO controls them; a
    // Secret of the same name that someone else made is not this stack's either.
    return new Map(
      lists
        .flat()
        .filter((o) => controlledBy(o, uid))
        .map((o) => [childKey(o), o]),
    );
  }

  /** Cluster-scoped children of this stack, by kind/name: labelled for it, as they carry no owner. */
  private async liveClusterChildren(namespace: string, stack: string): Promise<Map<string, KubeObject>> {
    const selector = `${LABEL_STACK}=${stack},${LABEL_STACK_NAMESPACE}=${namespace},${LABEL_MANAGED_BY}=${MANAGED_BY}`;
    const lists = await Promise.all(
      CLUSTER_KINDS.map((k) => this.d.kube.list(k.apiVersion, k.kind, undefined, selector)),
    );
    return new Map(lists.flat().map((o) => [childKey(o), o]));
  }

  /** The Secrets the operator generates for what the spec names no Secret for. */
  private async generatedSecrets(stack: ObservabilityStack, owner: Owner): Promise<KubeObject[]> {
    const ctx = stackContext(stack);
    const out: KubeObject[] = [];
    if (ctx.on.grafana && !stack.spec.grafana?.adminSecretRef) {
      out.push(
        await generatedSecret(this.d.kube, stack, owner, {
          name: grafanaAdminSecretName(ctx),
          component: 'grafana',
          values: (old) => ({ 'admin-user': 'admin', 'admin-password': old['admin-password'] || randomPassword() }),
        }),
      );
    }
    if (ctx.on.correlator && !stack.spec.correlation?.basicAuthSecretRef) {
      out.push(
        await generatedSecret(this.d.kube, stack, owner, {
          name: correlatorAuthSecretName(ctx),
          component: 'correlator',
          values: (old) => authValues(old, CORRELATOR_AUTH_USER),
        }),
      );
    }
    for (const api of ['prometheus', 'alertmanager'] as const) {
      if (queryAuthOn(ctx, api)) out.push(...(await this.queryAuthSecrets(stack, owner, api)));
    }
    return out;
  }

  /**
   * A query API's auth Secret when the spec names none (generated like the correlator's), and its
   * web-config Secret in every case, from the auth Secret's user and password. A named Secret has
   * passed secretProblems by now, so its values are good.
   */
  private async queryAuthSecrets(stack: ObservabilityStack, owner: Owner, api: QueryApi): Promise<KubeObject[]> {
    const ctx = stackContext(stack);
    const out: KubeObject[] = [];
    let creds: Record<string, string>;
    const named = (api === 'prometheus' ? stack.spec.metrics?.basicAuth : stack.spec.alerting?.basicAuth)?.secretRef;
    if (named) {
      const namespace = stack.metadata.namespace as string;
      creds = secretValues(await this.d.kube.get({ apiVersion: 'v1', kind: 'Secret', namespace, name: named.name }));
    } else {
      const auth = await generatedSecret(this.d.kube, stack, owner, {
        name: queryAuthSecretName(ctx, api),
        component: api,
        values: (old) => authValues(old, QUERY_AUTH_USER),
      });
      out.push(auth);
      creds = secretValues(auth);
    }
    const k = QUERY_AUTH_KEYS;
    out.push(
      await generatedSecret(this.d.kube, stack, owner, {
        name: webConfigSecretName(ctx, api),
        component: api,
        values: (old) => webConfigValues(api, old, creds[k.username], creds[k.password]),
      }),
    );
    return out;
  }
}
