// Names of the remediation feature (RemediationPolicy): the kind, the receiver Alertmanager posts to,
// the labels of the Blocked notification, the decision results and the Event reasons.

export const KIND_REMEDIATION = 'RemediationPolicy';
export const PLURAL_REMEDIATION = 'remediationpolicies';
export const SHORT_NAME_REMEDIATION = 'rpol';

/** What `kubectl rollout restart` sets on the pod template; a change of it rolls the pods. */
export const ANNOTATION_RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

/** The Alertmanager receiver a stack routes matching alerts to. */
export const REMEDIATION_RECEIVER = 'vigil-remediation';
/** The path of the operator's webhook receiver. */
export const REMEDIATION_WEBHOOK_PATH = '/api/v1/remediation/alerts';
/**
 * The Secret in each namespace with policies that holds a copy of the operator's bearer token; the
 * stack's Alertmanager mounts it (a pod cannot mount a Secret of another namespace).
 */
export const REMEDIATION_TOKEN_SECRET = 'vigil-remediation-token';
export const REMEDIATION_TOKEN_KEY = 'token';
/** Where the stack's Alertmanager mounts that Secret. */
export const REMEDIATION_TOKEN_DIR = '/etc/alertmanager/remediation';
/** The largest webhook body the receiver reads (Alertmanager's max_alerts bounds a group). */
export const REMEDIATION_MAX_BODY_BYTES = 1024 * 1024;

/** The alert the operator sends to the stack's Alertmanager when a policy blocks a target. */
export const ALERT_REMEDIATION_BLOCKED = 'VigilRemediationBlocked';
export const ALERT_LABEL_POLICY = 'vigil_remediation_policy';
export const ALERT_LABEL_TARGET = 'vigil_remediation_target';

/** Metric names (operator/metrics.ts registers them; the shipped panel and alert read them). */
export const RemediationMetrics = {
  decisions: 'vigil_remediation_decisions_total',
  blockedTargets: 'vigil_remediation_blocked_targets',
} as const;

/** The result of one decision: the metric's `result` label and the ledger's record. */
export const DecisionResults = {
  /** The action ran. */
  acted: 'acted',
  /** The action was tried and failed; it counts against the budget and is not retried blindly. */
  failed: 'failed',
  /** Would have acted; the policy is in DryRun. */
  dryRun: 'dry-run',
  cooldown: 'cooldown',
  backoff: 'backoff',
  budget: 'budget',
  blocked: 'blocked',
  /** The budget was spent without the alert resolving: the breaker opened just now. */
  tripped: 'tripped',
  noTarget: 'no-target',
  suspended: 'suspended',
  /** The same delivery (fingerprint + startsAt) was already decided: a repeat or a retry. */
  duplicate: 'duplicate',
  /** A resolved notification: recorded, never acts. */
  resolved: 'resolved',
  /** The target is one of a stack's own components and the policy does not name it. */
  refused: 'refused',
} as const;
export type DecisionResult = (typeof DecisionResults)[keyof typeof DecisionResults];

/** Event reasons, on the policy and on the target. */
export const RemediationReasons = {
  Acted: 'RemediationActed',
  Failed: 'RemediationFailed',
  DryRun: 'RemediationDryRun',
  Skipped: 'RemediationSkipped',
  Blocked: 'RemediationBlocked',
  Unblocked: 'RemediationUnblocked',
} as const;

/** The condition that is True while any target of the policy is blocked by the breaker. */
export const CONDITION_BLOCKED = 'Blocked';
export const RemediationConditionReasons = {
  Accepted: 'PolicyAccepted',
  InvalidSpec: 'InvalidSpec',
  Suspended: 'Suspended',
  BreakerOpen: 'BreakerOpen',
  NoTargetBlocked: 'NoTargetBlocked',
} as const;

/** A target's state in the policy's status. */
export const TargetStates = { Ready: 'Ready', CoolingDown: 'CoolingDown', Blocked: 'Blocked' } as const;
export type TargetState = (typeof TargetStates)[keyof typeof TargetStates];
