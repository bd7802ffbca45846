// Reconciles one RemediationPolicy: its conditions (Ready: the spec is accepted; Blocked: a target's
// breaker is open) with observedGeneration, written only when they change; the namespace's copy
// of the receiver token for the stack's Alertmanager to mount; and a wake-up of the stack, whose
// Alertmanager routes change with the policy. The ledger in status belongs to the service: a
// merge patch of conditions leaves it as it is.
import type { Logger } from 'pino';
import type { RemediationPolicyStatus } from '../../api/remediation.js';
import { validateResource } from '../../api/validate.js';
import { LABEL_MANAGED_BY, LABEL_PART_OF, MANAGED_BY, PART_OF } from '../../conventions/index.js';
import {
  CONDITION_BLOCKED,
  PLURAL_REMEDIATION,
  REMEDIATION_TOKEN_KEY,
  REMEDIATION_TOKEN_SECRET,
  RemediationConditionReasons,
  RemediationReasons,
} from '../../conventions/remediation.js';
import type { KubeApi, KubeObject } from '../../kube/index.js';
import { jsonEqual, setConditions } from '../status.js';

export type PolicyKube = Pick<KubeApi, 'patchStatus' | 'apply' | 'event'>;

export interface PolicyReconcilerDeps {
  kube: PolicyKube;
  getPolicy(namespace: string, name: string): KubeObject | undefined;
  log: Logger;
  now(): Date;
  /** The receiver's bearer token; undefined when the receiver is off. */
  token(): string | undefined;
  /** A stack whose routing may have changed (the policy names it, or named it before). */
  onStackChanged(namespace: string, stack: string): void;
  /** Blocked targets per policy, for the vigil_remediation_blocked_targets gauge. */
  onBlocked?(namespace: string, policy: string, count: number): void;
}

export class PolicyReconciler {
  /** The stack each policy named when last seen, so a change or a deletion wakes the old one too. */
  private readonly stackOf = new Map<string, { stack: string; generation?: number }>();
  /** The token last applied per namespace: an idle operator writes nothing. */
  private readonly tokenIn = new Map<string, string>();

  constructor(private readonly d: PolicyReconcilerDeps) {}

  async reconcile(namespace: string, name: string): Promise<{ requeueAfterMs?: number } | undefined> {
    const key = `${namespace}/${name}`;
    const raw = this.d.getPolicy(namespace, name);
    const generation = raw?.metadata.generation;
    const before = this.stackOf.get(key);
    if (!raw || raw.metadata.deletionTimestamp) {
      this.stackOf.delete(key);
      if (before) this.d.onStackChanged(namespace, before.stack);
      this.d.onBlocked?.(namespace, name, 0);
      return undefined;
    }
    const now = this.d.now();
    const status = (raw.status ?? {}) as RemediationPolicyStatus;
    const valid = validateResource({ apiVersion: raw.apiVersion, kind: raw.kind, metadata: { name }, spec: raw.spec });
    const stack = valid.ok ? ((valid.object.spec as { stackRef?: { name: string } }).stackRef?.name ?? '') : '';
    if (stack) this.stackOf.set(key, { stack, generation });
    else this.stackOf.delete(key);
    // Any change of the spec may change the routes (matchers, cooldown, notifyReceiver).
    if (before?.stack !== stack || before?.generation !== generation) {
      if (before?.stack && before.stack !== stack) this.d.onStackChanged(namespace, before.stack);
      if (stack) this.d.onStackChanged(namespace, stack);
    }
    if (valid.ok) await this.ensureToken(namespace);

    const blocked = (status.targets ?? []).filter((t) => t.blockedUntil && Date.parse(t.blockedUntil) > now.getTime());
    this.d.onBlocked?.(namespace, name, blocked.length);
    const suspended = valid.ok && (valid.object.spec as { suspend?: boolean }).suspend === true;
    const conditions = setConditions(
      status.conditions,
      [
        valid.ok
          ? {
              type: 'Ready',
              status: 'True',
              reason: suspended ? RemediationConditionReasons.Suspended : RemediationConditionReasons.Accepted,
              message: suspended
                ? 'suspended: every decision is recorded, none acts'
                : `routes alerts from stack ${stack}`,
            }
          : {
              type: 'Ready',
              status: 'False',
              reason: RemediationConditionReasons.InvalidSpec,
              message: valid.problems.map((p) => `${p.path}: ${p.message}`).join('; '),
            },
        blocked.length
          ? {
              type: CONDITION_BLOCKED,
              status: 'True',
              reason: RemediationConditionReasons.BreakerOpen,
              message: blocked.map((t) => `${t.target} until ${t.blockedUntil}`).join(', '),
            }
          : {
              type: CONDITION_BLOCKED,
              status: 'False',
              reason: RemediationConditionReasons.NoTargetBlocked,
              message: 'no target is blocked',
            },
      ],
      generation,
      now.toISOString(),
    );
    if (!jsonEqual(conditions, status.conditions) || status.observedGeneration !== generation) {
      await this.d.kube.patchStatus(PLURAL_REMEDIATION, namespace, name, {
        observedGeneration: generation,
        conditions,
      });
      if (!valid.ok) {
        await this.d.kube.event({
          involved: { apiVersion: raw.apiVersion, kind: raw.kind, namespace, name, uid: raw.metadata.uid },
          type: 'Warning',
          reason: RemediationConditionReasons.InvalidSpec,
          message: conditions[0].message,
        });
      }
      const wasBlocked = status.conditions?.find((c) => c.type === CONDITION_BLOCKED)?.status === 'True';
      if (wasBlocked && !blocked.length) {
        this.d.log.info({ policy: name, namespace }, 'Closed the remediation breaker');
        await this.d.kube.event({
          involved: { apiVersion: raw.apiVersion, kind: raw.kind, namespace, name, uid: raw.metadata.uid },
          type: 'Normal',
          reason: RemediationReasons.Unblocked,
          message: 'no target is blocked any more',
        });
      }
    }
    // Wake up when the first block ends, so that Blocked turns False without an event.
    const ends = blocked.map((t) => Date.parse(t.blockedUntil ?? '') - now.getTime()).filter((ms) => ms > 0);
    return ends.length ? { requeueAfterMs: Math.min(...ends) + 1000 } : undefined;
  }

  /** The stack's Alertmanager mounts the token from a Secret of its own namespace. */
  private async ensureToken(namespace: string): Promise<void> {
    const token = this.d.token();
    if (!token || this.tokenIn.get(namespace) === token) return;
    await this.d.kube.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: REMEDIATION_TOKEN_SECRET,
        namespace,
        labels: { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_PART_OF]: PART_OF },
      },
      type: 'Opaque',
      data: { [REMEDIATION_TOKEN_KEY]: Buffer.from(token).toString('base64') },
    });
    this.tokenIn.set(namespace, token);
    this.d.log.info({ namespace, name: REMEDIATION_TOKEN_SECRET, kind: 'Secret' }, 'Applied Secret');
  }
}
