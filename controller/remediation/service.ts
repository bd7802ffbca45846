// Turns one webhook delivery into decisions, one alert and one policy at a time. The policy's
// status is the ledger and the point of decision: it is read fresh (not from the cache), the
// decision is written back conditional on the resourceVersion it was taken on (a conflict means
// another writer decided in between: read again, decide again), and only then does the action run.
// The outcome is written after the call; a crash in between leaves a `started` mark that still
// counts against the budget, so a restart never acts twice inside a cooldown.
import type { Logger } from 'pino';
import type { RemediationPolicy, RemediationPolicyStatus } from '../../api/remediation.js';
import { validateResource } from '../../api/validate.js';
import { API_GROUP_VERSION, LABEL_MANAGED_BY, MANAGED_BY } from '../../conventions/index.js';
import {
  type DecisionResult,
  DecisionResults,
  KIND_REMEDIATION,
  PLURAL_REMEDIATION,
  RemediationReasons,
} from '../../conventions/remediation.js';
import type { KubeApi, KubeObject, ObjectRef, WorkloadApi } from '../../kube/index.js';
import { KubeError } from '../../kube/index.js';
import { complete, type Decision, decide, type TargetLookup } from './engine.js';
import { alertMatches, resolveTarget, type TargetRef, targetId } from './match.js';
import type { WebhookAlert, WebhookPayload } from './payload.js';

export type RemediationKube = Pick<KubeApi, 'get' | 'event'> &
  Pick<WorkloadApi, 'writeStatusIf' | 'rolloutRestart' | 'deletePod' | 'scale'>;

export interface BlockedNotice {
  namespace: string;
  stack: string;
  policy: string;
  target: string;
  receiver?: string;
  blockedUntil: string;
  message: string;
}

export interface RemediationServiceDeps {
  kube: RemediationKube;
  /** The policies of a namespace, from the informer cache (only to find candidates; decisions read fresh). */
  listPolicies(namespace: string): KubeObject[];
  log: Logger;
  now(): Date;
  /** Counts a decision (the vigil_remediation_decisions_total metric). */
  onDecision?(policy: string, action: string, result: DecisionResult): void;
  /** Tells the stack's receiver that a target is blocked; a failure is logged, not fatal. */
  notifyBlocked?(n: BlockedNotice): Promise<void>;
}

export interface DecisionLog {
  policy: string;
  alert: string;
  result: DecisionResult;
  target?: string;
  message: string;
}

const MAX_CONFLICT_RETRIES = 5;
const apiVersionOf = (kind: string) => (kind === 'Pod' ? 'v1' : 'apps/v1');

const REASON: Partial<Record<DecisionResult, string>> = {
  [DecisionResults.acted]: RemediationReasons.Acted,
  [DecisionResults.failed]: RemediationReasons.Failed,
  [DecisionResults.dryRun]: RemediationReasons.DryRun,
  [DecisionResults.tripped]: RemediationReasons.Blocked,
};

export class RemediationService {
  private readonly locks = new Map<string, Promise<unknown>>();
  constructor(private readonly d: RemediationServiceDeps) {}

  /**
   * Decides every alert of a delivery from a stack's Alertmanager against the policies of that
   * stack. Resolves once every decision is recorded; throws when one could not be (the receiver
   * answers 5xx and Alertmanager sends again, which the ledger then recognises).
   */
  async handle(namespace: string, stack: string, payload: WebhookPayload): Promise<DecisionLog[]> {
    const policies = this.d
      .listPolicies(namespace)
      .filter((p) => (p.spec as RemediationPolicy['spec'] | undefined)?.stackRef?.name === stack);
    const out: DecisionLog[] = [];
    for (const alert of payload.alerts) {
      for (const p of policies) {
        const spec = p.spec as RemediationPolicy['spec'];
        if (!spec?.match || !alertMatches(spec, alert.labels)) continue;
        out.push(
          await this.serial(`${namespace}/${p.metadata.name}`, () => this.decideOne(namespace, p.metadata.name, alert)),
        );
      }
    }
    return out;
  }

  private serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(key, tail);
    void tail.then(() => {
      if (this.locks.get(key) === tail) this.locks.delete(key);
    });
    return run;
  }

  private async decideOne(namespace: string, name: string, alert: WebhookAlert): Promise<DecisionLog> {
    const ref: ObjectRef = { apiVersion: API_GROUP_VERSION, kind: KIND_REMEDIATION, namespace, name };
    for (let attempt = 1; ; attempt++) {
      const raw = await this.d.kube.get(ref);
      if (!raw)
        return { policy: name, alert: alert.fingerprint, result: DecisionResults.noTarget, message: 'policy deleted' };
      const valid = validateResource({
        apiVersion: raw.apiVersion,
        kind: raw.kind,
        metadata: { name },
        spec: raw.spec,
      });
      if (!valid.ok) {
        return { policy: name, alert: alert.fingerprint, result: DecisionResults.suspended, message: 'invalid spec' };
      }
      const policy = { ...raw, spec: (valid.object as RemediationPolicy).spec } as unknown as RemediationPolicy;
      const found = await this.lookup(policy, namespace, alert);
      const now = this.d.now();
      const { decision, status } = decide({
        spec: policy.spec,
        status: raw.status as RemediationPolicyStatus | undefined,
        alert,
        target: found.lookup,
        now,
      });
      if (decision.result === DecisionResults.duplicate) {
        this.audit(policy, decision, found.ref, found.live, false);
        return this.entry(name, decision);
      }
      let rv: string;
      try {
        rv = await this.d.kube.writeStatusIf(PLURAL_REMEDIATION, namespace, name, raw.metadata.resourceVersion ?? '', {
          ...status,
          observedGeneration: raw.status ? (raw.status as RemediationPolicyStatus).observedGeneration : undefined,
        });
      } catch (err) {
        if (err instanceof KubeError && err.conflict && attempt < MAX_CONFLICT_RETRIES) continue;
        throw err;
      }
      if (decision.act && found.ref) {
        const result = await this.act(policy, found.ref, found.live, now);
        decision.result = result.ok ? DecisionResults.acted : DecisionResults.failed;
        decision.message = result.message;
        await this.writeOutcome(policy, rv, status, decision, result.ok);
      }
      this.audit(policy, decision, found.ref, found.live, true);
      if (decision.blockedUntil) await this.notify(policy, decision);
      return this.entry(name, decision);
    }
  }

  private entry(policy: string, d: Decision): DecisionLog {
    return { policy, alert: d.key, result: d.result, ...(d.target ? { target: d.target } : {}), message: d.message };
  }

  private async lookup(
    policy: RemediationPolicy,
    namespace: string,
    alert: WebhookAlert,
  ): Promise<{ lookup: TargetLookup; ref?: TargetRef; live?: KubeObject }> {
    // A resolved notification records the resolve against the target named by the labels, live or not.
    const r = resolveTarget(policy.spec, namespace, alert.labels);
    if (!r.ok) return { lookup: { found: false, result: DecisionResults.noTarget, message: r.message } };
    if (alert.status === 'resolved') return { lookup: { found: true, id: targetId(r.ref) }, ref: r.ref };
    const live = await this.d.kube.get({ apiVersion: apiVersionOf(r.ref.kind), ...r.ref });
    if (!live) {
      return {
        lookup: {
          found: false,
          result: DecisionResults.noTarget,
          message: `${r.ref.kind} ${namespace}/${r.ref.name} not found`,
        },
        ref: r.ref,
      };
    }
    const managed = live.metadata.labels?.[LABEL_MANAGED_BY] === MANAGED_BY;
    if (managed && !policy.spec.target.allowStackComponents) {
      return {
        lookup: {
          found: false,
          result: DecisionResults.refused,
          message: `${r.ref.kind} ${r.ref.name} is a component of a stack; set target.allowStackComponents to act on it`,
        },
        ref: r.ref,
        live,
      };
    }
    return { lookup: { found: true, id: targetId(r.ref) }, ref: r.ref, live };
  }

  /** Runs the action once. A failure is reported, recorded and not retried here. */
  private async act(
    policy: RemediationPolicy,
    ref: TargetRef,
    live: KubeObject | undefined,
    now: Date,
  ): Promise<{ ok: boolean; message: string }> {
    const a = policy.spec.action;
    try {
      if (a.type === 'rolloutRestart') {
        if (ref.kind === 'Pod') throw new Error('rolloutRestart needs a workload');
        await this.d.kube.rolloutRestart(ref.kind, ref.namespace, ref.name, now);
        return { ok: true, message: `restarted ${ref.kind} ${ref.name} (restartedAt ${now.toISOString()})` };
      }
      if (a.type === 'deletePod') {
        await this.d.kube.deletePod(ref.namespace, ref.name, live?.metadata.uid);
        return { ok: true, message: `deleted Pod ${ref.name}` };
      }
      if (ref.kind !== 'Deployment' && ref.kind !== 'StatefulSet')
        throw new Error('scale needs a Deployment or StatefulSet');
      const s = a.scale ?? { by: 1, max: 1 };
      const r = await this.d.kube.scale(ref.kind, ref.namespace, ref.name, s.by, s.max);
      return {
        ok: true,
        message:
          r.to === r.from
            ? `${ref.kind} ${ref.name} already at the maximum ${s.max}`
            : `scaled ${ref.kind} ${ref.name} from ${r.from} to ${r.to}`,
      };
    } catch (err) {
      return { ok: false, message: `${a.type} on ${ref.kind} ${ref.name} failed: ${(err as Error).message}` };
    }
  }

  /** The second write: the action's outcome. On a conflict, applied to the fresh ledger. */
  private async writeOutcome(
    policy: RemediationPolicy,
    rv: string,
    status: RemediationPolicyStatus,
    d: Decision,
    ok: boolean,
  ): Promise<void> {
    const ns = policy.metadata.namespace ?? '';
    let current = { rv, status };
    for (let attempt = 1; attempt <= MAX_CONFLICT_RETRIES; attempt++) {
      try {
        await this.d.kube.writeStatusIf(
          PLURAL_REMEDIATION,
          ns,
          policy.metadata.name,
          current.rv,
          complete(current.status, d.target ?? '', d.key, ok ? 'acted' : 'failed'),
        );
        return;
      } catch (err) {
        if (!(err instanceof KubeError && err.conflict)) break;
        const fresh = await this.d.kube.get({
          apiVersion: API_GROUP_VERSION,
          kind: KIND_REMEDIATION,
          namespace: ns,
          name: policy.metadata.name,
        });
        if (!fresh) return;
        current = { rv: fresh.metadata.resourceVersion ?? '', status: (fresh.status ?? {}) as RemediationPolicyStatus };
      }
    }
    // The `started` mark stays: it still counts as an action, which is the safe side.
    this.d.log.warn(
      { policy: policy.metadata.name, namespace: ns, target: d.target },
      'Failed to record a remediation outcome; the action counts as started',
    );
  }

  private audit(
    policy: RemediationPolicy,
    d: Decision,
    ref: TargetRef | undefined,
    live: KubeObject | undefined,
    events: boolean,
  ): void {
    const ns = policy.metadata.namespace ?? '';
    this.d.onDecision?.(policy.metadata.name, policy.spec.action.type, d.result);
    const fields = {
      policy: policy.metadata.name,
      namespace: ns,
      kind: KIND_REMEDIATION,
      target: d.target,
      alert: d.key,
      action: policy.spec.action.type,
      mode: policy.spec.mode,
      result: d.result,
    };
    if (d.result === DecisionResults.duplicate) {
      this.d.log.debug(fields, `Ignored a repeated delivery: ${d.message}`);
      return;
    }
    const failedOrBlocked = d.result === DecisionResults.failed || d.result === DecisionResults.tripped;
    this.d.log[failedOrBlocked ? 'warn' : 'info']({ ...fields, message: d.message }, 'Decided remediation');
    if (!events) return;
    const reason = REASON[d.result] ?? RemediationReasons.Skipped;
    const type = failedOrBlocked ? 'Warning' : 'Normal';
    const message = `${d.result}: ${d.message} (alert ${d.key})`;
    const sends: Promise<void>[] = [
      this.d.kube.event({
        involved: {
          apiVersion: API_GROUP_VERSION,
          kind: KIND_REMEDIATION,
          namespace: ns,
          name: policy.metadata.name,
          uid: policy.metadata.uid,
        },
        type,
        reason,
        message: d.target ? `${d.target}: ${message}` : message,
      }),
    ];
    if (ref && live) {
      sends.push(
        this.d.kube.event({
          involved: {
            apiVersion: apiVersionOf(ref.kind),
            kind: ref.kind,
            namespace: ns,
            name: ref.name,
            uid: live.metadata.uid,
          },
          type,
          reason,
          message: `policy ${policy.metadata.name}: ${message}`,
        }),
      );
    }
    // Events are the audit trail's best effort; the ledger and the log line are its record.
    void Promise.all(sends).catch((err) =>
      this.d.log.warn({ ...fields, err: (err as Error).message }, 'Failed to record a remediation Event'),
    );
  }

  private async notify(policy: RemediationPolicy, d: Decision): Promise<void> {
    if (!this.d.notifyBlocked || !d.blockedUntil) return;
    try {
      await this.d.notifyBlocked({
        namespace: policy.metadata.namespace ?? '',
        stack: policy.spec.stackRef.name,
        policy: policy.metadata.name,
        target: d.target ?? '',
        receiver: policy.spec.guard.notifyReceiver,
        blockedUntil: d.blockedUntil,
        message: d.message,
      });
    } catch (err) {
      this.d.log.warn(
        { policy: policy.metadata.name, err: (err as Error).message },
        'Failed to notify the stack that a target is blocked',
      );
    }
  }
}
