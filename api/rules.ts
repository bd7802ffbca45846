// Cross-field rules that a JSON Schema cannot say. Each rule is written twice, side by side: as CEL
// for the API server (x-kubernetes-validations in the CRD) and as a predicate for `vigil validate`
// and the operator. The integration tests apply the same bad files to both and compare.

/** Where a rule attaches: property names from spec (or the object, for object rules) down, '*' for the items of an array. */
export type SchemaPath = readonly string[];

export interface CrossFieldRule {
  at: SchemaPath;
  /** CEL, evaluated with `self` bound to the value at `at`. */
  rule: string;
  message: string;
  /** Relative path (CEL fieldPath) of the field to blame, e.g. '.traces.enabled'. */
  fieldPath?: string;
  // biome-ignore lint/suspicious/noExplicitAny: mirrors CEL's dynamic `self`
  check(self: any): boolean;
}

const has = (o: unknown, k: string): boolean =>
  o != null && typeof o === 'object' && (o as Record<string, unknown>)[k] != null;

export const stackRules: readonly CrossFieldRule[] = [
  {
    at: [],
    rule: '!has(self.traces) || !self.traces.enabled || (has(self.collector) && self.collector.enabled)',
    message: 'traces need the collector: set spec.collector.enabled to true or disable traces',
    fieldPath: '.traces.enabled',
    check: (s) => !s.traces?.enabled || s.collector?.enabled === true,
  },
  {
    at: [],
    rule: '!has(self.logs) || !self.logs.enabled || (has(self.collector) && self.collector.enabled)',
    message: 'logs need the collector: set spec.collector.enabled to true or disable logs',
    fieldPath: '.logs.enabled',
    check: (s) => !s.logs?.enabled || s.collector?.enabled === true,
  },
  {
    at: ['logs'],
    rule: "!has(self.labels) || !self.labels.exists(l, l in ['trace_id', 'span_id', 'traceID', 'spanID'])",
    message:
      'trace and span ids are unbounded and must not be stream labels; Vigil keeps trace_id as structured metadata',
    fieldPath: '.labels',
    check: (l) =>
      !has(l, 'labels') || !l.labels.some((x: string) => ['trace_id', 'span_id', 'traceID', 'spanID'].includes(x)),
  },
  {
    at: ['collector'],
    rule: "!has(self.collect) || self.mode == 'daemonset'",
    message: 'collect needs mode: daemonset (the agent on every node reads the pod logs)',
    fieldPath: '.collect',
    check: (c) => !has(c, 'collect') || c.mode === 'daemonset',
  },
  {
    at: ['collector', 'collect', 'namespaceSelector', 'matchExpressions', '*'],
    rule: "self.operator in ['In', 'NotIn'] ? (has(self.values) && size(self.values) > 0) : !has(self.values)",
    message: 'In and NotIn need values; Exists and DoesNotExist take none',
    fieldPath: '.values',
    check: (e) =>
      ['In', 'NotIn'].includes(e.operator) ? Array.isArray(e.values) && e.values.length > 0 : !has(e, 'values'),
  },
  {
    at: ['alerting', 'receivers', '*'],
    rule: '[has(self.webhook), has(self.slack), has(self.pagerduty)].filter(x, x).size() == 1',
    message: 'a receiver needs exactly one of webhook, slack or pagerduty',
    check: (r) => ['webhook', 'slack', 'pagerduty'].filter((k) => has(r, k)).length === 1,
  },
  {
    at: ['alerting'],
    rule: '!has(self.receivers) || self.receivers.all(a, self.receivers.exists_one(b, b.name == a.name))',
    message: 'receiver names must be unique',
    fieldPath: '.receivers',
    check: (a) =>
      !has(a, 'receivers') || new Set(a.receivers.map((r: { name: string }) => r.name)).size === a.receivers.length,
  },
  {
    at: ['alerting'],
    rule: '!has(self.routes) || self.routes.all(r, has(self.receivers) && self.receivers.exists(x, x.name == r.receiver))',
    message: 'every route must name a receiver defined in spec.alerting.receivers',
    fieldPath: '.routes',
    check: (a) =>
      !has(a, 'routes') ||
      a.routes.every((r: { receiver: string }) =>
        (a.receivers ?? []).some((x: { name: string }) => x.name === r.receiver),
      ),
  },
  {
    at: ['metrics', 'remoteWrite', '*'],
    rule: '!(has(self.basicAuth) && has(self.bearerTokenSecretRef))',
    message: 'a remote write takes basicAuth or bearerTokenSecretRef, not both',
    fieldPath: '.bearerTokenSecretRef',
    check: (w) => !(has(w, 'basicAuth') && has(w, 'bearerTokenSecretRef')),
  },
  {
    at: ['metrics'],
    rule: '!has(self.remoteWrite) || self.remoteWrite.all(a, self.remoteWrite.exists_one(b, b.url == a.url))',
    message: 'remote write URLs must be unique: each sends every sample once',
    fieldPath: '.remoteWrite',
    check: (m) =>
      !has(m, 'remoteWrite') || new Set(m.remoteWrite.map((w: { url: string }) => w.url)).size === m.remoteWrite.length,
  },
  {
    at: ['metrics'],
    rule: '!has(self.remoteWrite) || self.remoteWrite.all(a, !has(a.name) || self.remoteWrite.exists_one(b, has(b.name) && b.name == a.name))',
    message: 'remote write names must be unique (Prometheus refuses two queues of one name)',
    fieldPath: '.remoteWrite',
    check: (m) => {
      if (!has(m, 'remoteWrite')) return true;
      const names = m.remoteWrite.map((w: { name?: string }) => w.name).filter((n: unknown) => n != null);
      return new Set(names).size === names.length;
    },
  },
  {
    at: ['metrics', 'remoteWrite', '*', 'queue'],
    rule: '!has(self.minShards) || !has(self.maxShards) || self.minShards <= self.maxShards',
    message: 'minShards must not exceed maxShards',
    fieldPath: '.minShards',
    check: (q) => !has(q, 'minShards') || !has(q, 'maxShards') || q.minShards <= q.maxShards,
  },
];

export const sloRules: readonly CrossFieldRule[] = [
  {
    at: ['indicator'],
    rule: '[has(self.ratio), has(self.latency), has(self.raw)].filter(x, x).size() == 1',
    message: 'exactly one of ratio, latency or raw must be set',
    check: (i) => ['ratio', 'latency', 'raw'].filter((k) => has(i, k)).length === 1,
  },
];

/**
 * The longest ObservabilityStack name whose children all fit Kubernetes' limits. Children are named
 * `<stack>-<component>[-<suffix>]`, and the binding one is the Alertmanager StatefulSet: its pods
 * carry the label controller-revision-hash=`<stack>-alertmanager-<hash of up to 10>`, at most 63
 * characters. test/unit/api/names.test.ts derives this number from what the renderer produces.
 */
export const MAX_STACK_NAME_LENGTH = 39;
/** An SLO's name is a label value (vigil.dev/slo) on the ConfigMaps it becomes. */
export const MAX_SLO_NAME_LENGTH = 63;

const nameOf = (o: { metadata?: { name?: unknown } }): string =>
  typeof o.metadata?.name === 'string' ? o.metadata.name : '';

/**
 * Rules on the whole object, attached at the root of the CRD's schema: there CEL sees
 * metadata.name (of the metadata, only name and generateName are visible to rules).
 */
export const stackObjectRules: readonly CrossFieldRule[] = [
  {
    at: [],
    rule: `self.metadata.name.size() <= ${MAX_STACK_NAME_LENGTH}`,
    message: `must be at most ${MAX_STACK_NAME_LENGTH} characters: the stack's children are named after it, and their names and labels must fit Kubernetes' 63-character limit`,
    fieldPath: '.metadata.name',
    check: (o) => nameOf(o).length <= MAX_STACK_NAME_LENGTH,
  },
  {
    at: [],
    rule: "self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",
    message:
      "must start with a letter and hold only lowercase letters, digits and '-': the stack's Services are named after it (DNS-1035 labels)",
    fieldPath: '.metadata.name',
    check: (o) => /^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(nameOf(o)),
  },
];

export const sloObjectRules: readonly CrossFieldRule[] = [
  {
    at: [],
    rule: `self.metadata.name.size() <= ${MAX_SLO_NAME_LENGTH} && self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')`,
    message: `must be a DNS-1123 label (lowercase letters, digits, '-'), at most ${MAX_SLO_NAME_LENGTH} characters: it is a label value on the SLO's ConfigMaps`,
    fieldPath: '.metadata.name',
    check: (o) => nameOf(o).length <= MAX_SLO_NAME_LENGTH && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(nameOf(o)),
  },
];

export interface RuleViolation {
  /** Dotted path from the object root, e.g. spec.traces.enabled or spec.alerting.receivers[1]. */
  path: string;
  message: string;
}

/** Runs the rules against a spec (or, with root '', a whole object), visiting every value each rule attaches to. */
export function checkRules(rules: readonly CrossFieldRule[], spec: unknown, root = 'spec'): RuleViolation[] {
  const out: RuleViolation[] = [];
  for (const r of rules) {
    for (const { value, path } of visit(spec, r.at, root)) {
      if (value == null) continue;
      if (!r.check(value)) out.push({ path: (path + (r.fieldPath ?? '')).replace(/^\./, ''), message: r.message });
    }
  }
  return out;
}

function* visit(value: unknown, at: SchemaPath, path: string): Generator<{ value: unknown; path: string }> {
  if (at.length === 0) {
    yield { value, path };
    return;
  }
  if (value == null || typeof value !== 'object') return;
  const [head, ...rest] = at;
  if (head === '*') {
    if (!Array.isArray(value)) return;
    for (const [i, item] of value.entries()) yield* visit(item, rest, `${path}[${i}]`);
  } else {
    yield* visit((value as Record<string, unknown>)[head], rest, `${path}.${head}`);
  }
}
