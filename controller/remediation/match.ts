// Which policies an alert matches and which object it points at. Pure.
import {
  defaultNameLabel,
  type LabelMatcher,
  type RemediationPolicySpec,
  type TargetKind,
} from '../../api/remediation.js';

export interface TargetRef {
  kind: TargetKind;
  namespace: string;
  name: string;
}
export const targetId = (t: Pick<TargetRef, 'kind' | 'name'>): string => `${t.kind}/${t.name}`;

/** An anchored regular expression, or undefined when it does not compile (then nothing matches). */
function anchored(re: string): RegExp | undefined {
  try {
    return new RegExp(`^(?:${re})$`);
  } catch {
    return undefined;
  }
}

/**
 * Alertmanager's matcher semantics: regular expressions are anchored, a missing label is "". A
 * pattern that does not compile matches nothing (both =~ and !~): a bad policy never acts.
 */
export function matcherMatches(m: LabelMatcher, labels: Record<string, string>): boolean {
  const v = labels[m.name] ?? '';
  switch (m.op) {
    case '=':
      return v === m.value;
    case '!=':
      return v !== m.value;
    case '=~':
      return anchored(m.value)?.test(v) ?? false;
    case '!~':
      return anchored(m.value) ? !anchored(m.value)?.test(v) : false;
    default:
      return false;
  }
}

export function alertMatches(spec: RemediationPolicySpec, labels: Record<string, string>): boolean {
  return (
    labels.alertname === spec.match.alertname && (spec.match.matchers ?? []).every((m) => matcherMatches(m, labels))
  );
}

/** The matchers as Alertmanager route matchers (`name="value"`), for the rendered route. */
export function routeMatchers(spec: RemediationPolicySpec): string[] {
  return [
    `alertname="${spec.match.alertname}"`,
    ...(spec.match.matchers ?? []).map((m) => `${m.name}${m.op}${JSON.stringify(m.value)}`),
  ];
}

/**
 * The target from the alert's labels. Only ever in the policy's own namespace: an alert whose
 * namespace label names another namespace has no target here.
 */
export function resolveTarget(
  spec: RemediationPolicySpec,
  policyNamespace: string,
  labels: Record<string, string>,
): { ok: true; ref: TargetRef } | { ok: false; message: string } {
  const t = spec.target;
  const ns = labels[t.namespaceLabel];
  if (ns !== undefined && ns !== policyNamespace) {
    return {
      ok: false,
      message: `the alert's ${t.namespaceLabel}="${ns}" is not the policy's namespace ${policyNamespace}`,
    };
  }
  const label = t.nameLabel ?? defaultNameLabel(t.kind);
  const name = t.name ?? labels[label];
  if (!name) return { ok: false, message: `the alert has no ${label} label naming the ${t.kind}` };
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) || name.length > 253) {
    return { ok: false, message: `the alert's ${label}="${name}" is not an object name` };
  }
  return { ok: true, ref: { kind: t.kind, namespace: policyNamespace, name } };
}
