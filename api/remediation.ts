// The RemediationPolicy kind: an alert that matches becomes an action on a workload of the policy's
// own namespace, under a guard (budget per window, cooldown, backoff, breaker). Its type, JSON
// Schema and cross-field rules live here, beside each other, like the other kinds' in types.ts,
// schema.ts and rules.ts.
import type { JSONSchemaType } from 'ajv';
import { DURATION_PATTERN } from '../lib/durations.js';
import type { CrossFieldRule } from './rules.js';
import { conditions } from './schema.js';
import type { Condition } from './types.js';

export type MatcherOp = '=' | '!=' | '=~' | '!~';
export interface LabelMatcher {
  name: string;
  /** Defaults to '='. Regular expressions are anchored, as in Alertmanager. */
  op: MatcherOp;
  value: string;
}
export interface RemediationMatch {
  alertname: string;
  matchers?: LabelMatcher[];
}
export type TargetKind = 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Pod';
export const TARGET_KINDS: readonly TargetKind[] = ['Deployment', 'StatefulSet', 'DaemonSet', 'Pod'];
export interface RemediationTarget {
  kind: TargetKind;
  /** A fixed object name; otherwise the name comes from the alert label `nameLabel`. */
  name?: string;
  /** The alert label that carries the object's name; default: the kind in lower case (deployment, pod...). */
  nameLabel?: string;
  /** The alert label that carries the namespace; it must equal the policy's namespace. Default `namespace`. */
  namespaceLabel: string;
  /** Allow acting on a workload that a stack renders (label app.kubernetes.io/managed-by=vigil-operator). */
  allowStackComponents: boolean;
}
export type ActionType = 'rolloutRestart' | 'deletePod' | 'scale';
export interface ScaleAction {
  /** Replicas added per action. */
  by: number;
  /** Never scale above this many replicas. */
  max: number;
}
export interface RemediationAction {
  type: ActionType;
  scale?: ScaleAction;
}
export interface RemediationGuard {
  /** At most this many actions per target within `window`; then the breaker opens. */
  maxActions: number;
  window: string;
  /** No action on a target within this long after the last one. */
  cooldown: string;
  /** Each further attempt on an alert that did not resolve waits cooldown × factor^(attempt-1). */
  backoffFactor: number;
  /** The longest wait backoff gives. */
  maxBackoff: string;
  /** How long an open breaker blocks the target. */
  blockFor: string;
  /** A receiver of the stack (spec.alerting.receivers) told when the breaker opens. */
  notifyReceiver?: string;
}
export type RemediationMode = 'DryRun' | 'Enforce';
export interface RemediationPolicySpec {
  /** The stack whose Alertmanager routes matching alerts here and receives the Blocked notification. */
  stackRef: { name: string };
  match: RemediationMatch;
  target: RemediationTarget;
  action: RemediationAction;
  guard: RemediationGuard;
  mode: RemediationMode;
  suspend: boolean;
}

/** One action (or dry-run decision) on a target, as the ledger remembers it. */
export interface LedgerAction {
  at: string;
  /** The delivery key: the alert's fingerprint and startsAt. */
  alert: string;
  /** started (recorded before the call), acted, failed, dry-run. */
  result: string;
}
export interface TargetLedger {
  /** Kind/name in the policy's namespace. */
  target: string;
  state: string;
  actions: LedgerAction[];
  /** Attempts since the alert last resolved (drives backoff). */
  attempts: number;
  nextAllowedAt?: string;
  blockedUntil?: string;
  lastResolvedAt?: string;
}
export interface DeliveryRecord {
  key: string;
  target?: string;
  at: string;
  result: string;
}
export interface RemediationPolicyStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  /** Bounded: the targets acted on recently, each with the actions inside its window. */
  targets?: TargetLedger[];
  /** Bounded: the last deliveries decided, so a repeat or a retry is recognised. */
  deliveries?: DeliveryRecord[];
  blockedTargets?: number;
}

export interface RemediationPolicy {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; generation?: number; uid?: string; resourceVersion?: string };
  spec: RemediationPolicySpec;
  status?: RemediationPolicyStatus;
}

const DNS_NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const LABEL_NAME_PATTERN = '^[a-zA-Z_][a-zA-Z0-9_]*$';
const duration = (def: string, description: string) =>
  ({ type: 'string', default: def, pattern: DURATION_PATTERN, description }) as const;

export const remediationSpecSchema: JSONSchemaType<RemediationPolicySpec> = {
  type: 'object',
  additionalProperties: false,
  required: ['stackRef', 'match', 'target', 'action', 'guard', 'mode', 'suspend'],
  properties: {
    stackRef: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      description: 'The stack (same namespace) whose Alertmanager sends the matching alerts.',
      properties: { name: { type: 'string', minLength: 1, maxLength: 63, pattern: DNS_NAME_PATTERN } },
    },
    match: {
      type: 'object',
      additionalProperties: false,
      required: ['alertname'],
      properties: {
        alertname: { type: 'string', minLength: 1, pattern: '^[a-zA-Z_:][a-zA-Z0-9_:]*$' },
        matchers: {
          type: 'array',
          nullable: true,
          maxItems: 20,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'op', 'value'],
            properties: {
              name: { type: 'string', pattern: LABEL_NAME_PATTERN },
              op: { type: 'string', enum: ['=', '!=', '=~', '!~'], default: '=' },
              value: { type: 'string' },
            },
          },
        },
      },
    },
    target: {
      type: 'object',
      additionalProperties: false,
      required: ['kind', 'namespaceLabel', 'allowStackComponents'],
      description: "The object acted on, found from the alert's labels, always in the policy's namespace.",
      properties: {
        kind: { type: 'string', enum: ['Deployment', 'StatefulSet', 'DaemonSet', 'Pod'] },
        name: { type: 'string', nullable: true, minLength: 1, maxLength: 253, pattern: DNS_NAME_PATTERN },
        nameLabel: { type: 'string', nullable: true, pattern: LABEL_NAME_PATTERN },
        namespaceLabel: { type: 'string', default: 'namespace', pattern: LABEL_NAME_PATTERN },
        allowStackComponents: { type: 'boolean', default: false },
      },
    },
    action: {
      type: 'object',
      additionalProperties: false,
      required: ['type'],
      properties: {
        type: { type: 'string', enum: ['rolloutRestart', 'deletePod', 'scale'] },
        scale: {
          type: 'object',
          nullable: true,
          additionalProperties: false,
          required: ['by', 'max'],
          properties: {
            by: { type: 'integer', minimum: 1, maximum: 100 },
            max: { type: 'integer', minimum: 1, maximum: 1000 },
          },
        },
      },
    },
    guard: {
      type: 'object',
      additionalProperties: false,
      required: ['maxActions', 'window', 'cooldown', 'backoffFactor', 'maxBackoff', 'blockFor'],
      properties: {
        maxActions: { type: 'integer', minimum: 1, maximum: 20, default: 3 },
        window: duration('1h', 'The window maxActions counts in.'),
        cooldown: duration('5m', 'No action on a target within this long after the last one.'),
        backoffFactor: { type: 'number', minimum: 1, maximum: 10, default: 2 },
        maxBackoff: duration('1h', 'The longest wait between attempts.'),
        blockFor: duration('1h', 'How long an open breaker blocks the target.'),
        notifyReceiver: { type: 'string', nullable: true, minLength: 1 },
      },
    },
    mode: { type: 'string', enum: ['DryRun', 'Enforce'], default: 'DryRun' },
    suspend: { type: 'boolean', default: false },
  },
};

export const remediationStatusSchema: JSONSchemaType<RemediationPolicyStatus> = {
  type: 'object',
  properties: {
    observedGeneration: { type: 'integer', nullable: true },
    conditions: { ...conditions, nullable: true },
    blockedTargets: { type: 'integer', nullable: true },
    targets: {
      type: 'array',
      nullable: true,
      maxItems: 100,
      items: {
        type: 'object',
        required: ['target', 'state', 'actions', 'attempts'],
        properties: {
          target: { type: 'string' },
          state: { type: 'string' },
          attempts: { type: 'integer' },
          nextAllowedAt: { type: 'string', nullable: true },
          blockedUntil: { type: 'string', nullable: true },
          lastResolvedAt: { type: 'string', nullable: true },
          actions: {
            type: 'array',
            maxItems: 50,
            items: {
              type: 'object',
              required: ['at', 'alert', 'result'],
              properties: { at: { type: 'string' }, alert: { type: 'string' }, result: { type: 'string' } },
            },
          },
        },
      },
    },
    deliveries: {
      type: 'array',
      nullable: true,
      maxItems: 200,
      items: {
        type: 'object',
        required: ['key', 'at', 'result'],
        properties: {
          key: { type: 'string' },
          target: { type: 'string', nullable: true },
          at: { type: 'string' },
          result: { type: 'string' },
        },
      },
    },
  },
};

// The nested defaults (guard, target) fill in when the section is absent or partial.
type Node = { default?: unknown; properties?: Record<string, Node> };
(remediationSpecSchema as Node).properties!.guard.default = {};

const has = (o: unknown, k: string): boolean =>
  o != null && typeof o === 'object' && (o as Record<string, unknown>)[k] != null;

export const remediationRules: readonly CrossFieldRule[] = [
  {
    at: ['action'],
    rule: "(self.type == 'scale') == has(self.scale)",
    message: 'action.scale is required with type scale and allowed only with it',
    fieldPath: '.scale',
    check: (a) => (a.type === 'scale') === has(a, 'scale'),
  },
  {
    at: [],
    rule: "self.action.type != 'deletePod' || self.target.kind == 'Pod'",
    message: 'deletePod acts on a Pod: set target.kind to Pod',
    fieldPath: '.target.kind',
    check: (s) => s.action?.type !== 'deletePod' || s.target?.kind === 'Pod',
  },
  {
    at: [],
    rule: "self.action.type != 'rolloutRestart' || self.target.kind != 'Pod'",
    message: 'rolloutRestart acts on a Deployment, StatefulSet or DaemonSet, not a Pod',
    fieldPath: '.target.kind',
    check: (s) => s.action?.type !== 'rolloutRestart' || s.target?.kind !== 'Pod',
  },
  {
    at: [],
    rule: "self.action.type != 'scale' || self.target.kind in ['Deployment', 'StatefulSet']",
    message: 'scale acts on a Deployment or a StatefulSet',
    fieldPath: '.target.kind',
    check: (s) => s.action?.type !== 'scale' || ['Deployment', 'StatefulSet'].includes(s.target?.kind),
  },
  {
    at: ['target'],
    rule: '!(has(self.name) && has(self.nameLabel))',
    message: 'set either target.name or target.nameLabel, not both',
    fieldPath: '.name',
    check: (t) => !(has(t, 'name') && has(t, 'nameLabel')),
  },
  {
    at: ['match'],
    rule: "!has(self.matchers) || self.matchers.all(m, m.name != 'alertname')",
    message: 'the alert name goes in match.alertname, not in a matcher',
    fieldPath: '.matchers',
    check: (m) => !has(m, 'matchers') || m.matchers.every((x: LabelMatcher) => x.name !== 'alertname'),
  },
];

/** The alert label that names the target when the policy sets neither name nor nameLabel. */
export const defaultNameLabel = (kind: TargetKind): string => kind.toLowerCase();
