// Which pods a stack's agent collects, as data (namespaces by name and by label selector), and the
// check that two stacks in one cluster never collect the same pod. Pure: the reconciler passes the
// stacks and namespaces it has listed (docs/collection.md, "Wiring the overlap check").
import type { CollectSpec, LabelSelector, ObservabilityStack, ObservabilityStackSpec } from '../../api/types.js';
import { REASON_COLLECTION_OVERLAP } from '../../conventions/index.js';

/** What a stack's agent collects; undefined when the stack runs no agent. */
export interface Collected {
  /** Namespaces named in spec.collector.collect.namespaces (or the stack's own). */
  names: string[];
  selector?: LabelSelector;
}

/** spec.collector.collect with its default: the stack's own namespace. */
export function collected(stack: ObservabilityStack): Collected | undefined {
  return collectedBy(stack.spec, stack.metadata.namespace ?? 'default');
}

export function collectedBy(stackSpec: ObservabilityStackSpec, namespace: string): Collected | undefined {
  const c = stackSpec.collector;
  if (!c || c.enabled === false || c.mode !== 'daemonset') return undefined;
  const spec: CollectSpec = c.collect ?? {};
  if (!spec.namespaces?.length && !spec.namespaceSelector) return { names: [namespace] };
  return { names: [...new Set(spec.namespaces ?? [])].sort(), selector: spec.namespaceSelector };
}

/** Kubernetes label-selector semantics; an empty selector matches everything. */
export function selectorMatches(sel: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const inValues = has && (e.values ?? []).includes(labels[e.key]);
    const ok =
      e.operator === 'In' ? inValues : e.operator === 'NotIn' ? !inValues : e.operator === 'Exists' ? has : !has;
    if (!ok) return false;
  }
  return true;
}

export interface NamespaceInfo {
  name: string;
  labels?: Record<string, string>;
}

export function collectsNamespace(c: Collected, ns: NamespaceInfo): boolean {
  return c.names.includes(ns.name) || (c.selector !== undefined && selectorMatches(c.selector, ns.labels ?? {}));
}

export interface CollectionConflict {
  /** `namespace/name` of the other stack. */
  other: string;
  /** The namespaces both collect, sorted. */
  namespaces: string[];
}

export interface CollectionVerdict {
  conflicts: CollectionConflict[];
  /**
   * True when this stack must not run its agent: it overlaps a stack created before it (ties: the
   * smaller `namespace/name` wins). The older stack keeps collecting, so nothing running is lost.
   */
  refused: boolean;
  /** For the condition: names both stacks and the namespaces, or undefined without conflicts. */
  message?: string;
  reason?: typeof REASON_COLLECTION_OVERLAP;
}

const keyOf = (s: ObservabilityStack) => `${s.metadata.namespace ?? 'default'}/${s.metadata.name ?? ''}`;

/**
 * Every pair of stacks whose agents would collect a common namespace's pods, given the cluster's
 * namespaces (a namespace named in a spec counts even before it exists). Returned per stack key
 * `namespace/name`; stacks without conflicts are absent.
 */
export function collectionOverlaps(
  stacks: readonly ObservabilityStack[],
  namespaces: readonly NamespaceInfo[],
): Map<string, CollectionVerdict> {
  const known = new Map(namespaces.map((n) => [n.name, n]));
  const entries = stacks.flatMap((s) => {
    const c = collected(s);
    return c ? [{ stack: s, key: keyOf(s), c }] : [];
  });
  for (const e of entries) for (const n of e.c.names) if (!known.has(n)) known.set(n, { name: n });
  const sets = entries.map((e) => ({
    ...e,
    ns: new Set([...known.values()].filter((n) => collectsNamespace(e.c, n)).map((n) => n.name)),
  }));
  const created = (s: ObservabilityStack) =>
    (s.metadata as { creationTimestamp?: string }).creationTimestamp ?? '9999-12-31T23:59:59Z';
  const older = (a: (typeof sets)[number], b: (typeof sets)[number]) =>
    created(a.stack) < created(b.stack) || (created(a.stack) === created(b.stack) && a.key < b.key);

  const out = new Map<string, CollectionVerdict>();
  const add = (key: string, conflict: CollectionConflict, refused: boolean) => {
    const v = out.get(key) ?? { conflicts: [], refused: false };
    v.conflicts.push(conflict);
    v.refused ||= refused;
    out.set(key, v);
  };
  for (let i = 0; i < sets.length; i++) {
    for (let j = i + 1; j < sets.length; j++) {
      const [a, b] = [sets[i], sets[j]];
      const both = [...a.ns].filter((n) => b.ns.has(n)).sort();
      if (!both.length) continue;
      const aFirst = older(a, b);
      add(a.key, { other: b.key, namespaces: both }, !aFirst);
      add(b.key, { other: a.key, namespaces: both }, aFirst);
    }
  }
  for (const [key, v] of out) {
    v.reason = REASON_COLLECTION_OVERLAP;
    const parts = v.conflicts.map((c) => `stack ${c.other} also collects namespace(s) ${c.namespaces.join(', ')}`);
    v.message = v.refused
      ? `spec.collector.collect: stack ${key} would collect pods another stack already collects (${parts.join('; ')}); its agent is not run until the overlap is removed`
      : `spec.collector.collect: stack ${key} overlaps a newer stack (${parts.join('; ')}), whose agent is refused`;
  }
  return out;
}

// Namespace labels the agent looks up (k8sattributes) to apply a selector, under this prefix.
const NS_LABEL_PREFIX = 'k8s.namespace.label.';
export const namespaceLabelAttribute = (key: string) => `${NS_LABEL_PREFIX}${key}`;

/** The namespace label keys a selector reads. */
export function selectorKeys(sel: LabelSelector): string[] {
  return [
    ...new Set([...Object.keys(sel.matchLabels ?? {}), ...(sel.matchExpressions ?? []).map((e) => e.key)]),
  ].sort();
}

const str = (v: string) => JSON.stringify(v);
const attr = (name: string) => `resource.attributes[${str(name)}]`;

/**
 * An OTTL condition (resource context) that is true for the records of collected namespaces; the
 * agent's filter drops the rest. Label values and keys are Kubernetes label syntax, so quoting them
 * as JSON strings is exact.
 */
export function collectedCondition(c: Collected): string {
  const terms: string[] = c.names.map((n) => `${attr('k8s.namespace.name')} == ${str(n)}`);
  if (c.selector) {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(c.selector.matchLabels ?? {}).sort()) {
      parts.push(`${attr(namespaceLabelAttribute(k))} == ${str(v)}`);
    }
    for (const e of c.selector.matchExpressions ?? []) {
      const a = attr(namespaceLabelAttribute(e.key));
      const values = e.values ?? [];
      if (e.operator === 'Exists') parts.push(`${a} != nil`);
      else if (e.operator === 'DoesNotExist') parts.push(`${a} == nil`);
      else if (e.operator === 'In') parts.push(`(${values.map((v) => `${a} == ${str(v)}`).join(' or ')})`);
      else parts.push(`(${values.map((v) => `${a} != ${str(v)}`).join(' and ')})`);
    }
    terms.push(parts.length ? `(${parts.join(' and ')})` : 'true');
  }
  return terms.length === 1 ? terms[0] : terms.map((t) => (t.startsWith('(') ? t : `(${t})`)).join(' or ');
}

const PSA_ENFORCE = 'pod-security.kubernetes.io/enforce';

/**
 * Why the agent's pods would be refused in a namespace with these labels, or undefined when they
 * are admitted: read-only hostPath needs the privileged Pod Security level (absent label: the
 * cluster's default, usually privileged). For the reconciler, which has the namespace at hand.
 */
export function agentNamespaceProblem(
  namespace: string,
  labels: Readonly<Record<string, string>> = {},
): string | undefined {
  const level = labels[PSA_ENFORCE];
  if (level === undefined || level === 'privileged') return undefined;
  return `spec.collector.mode: daemonset runs the node agent, which reads /var/log/pods through a read-only hostPath; namespace ${namespace} enforces Pod Security "${level}", which refuses it: label the namespace ${PSA_ENFORCE}=privileged or use mode: deployment (docs/collection.md)`;
}
