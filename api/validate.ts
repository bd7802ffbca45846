// Offline validation of Vigil custom resources with the same schemas and rules the CRDs carry.
// Used by `vigil validate`, by the operator before rendering, and by the tests.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { API_GROUP_VERSION, KIND_SLO, KIND_STACK } from '../conventions/index.js';
import { KIND_REMEDIATION } from '../conventions/remediation.js';
import { bounded } from './bounds.js';
import { type RemediationPolicy, remediationRules, remediationSpecSchema } from './remediation.js';
import { type CrossFieldRule, checkRules, sloObjectRules, sloRules, stackObjectRules, stackRules } from './rules.js';
import { sloSpecSchema, stackSpecSchema } from './schema.js';
import type { ObservabilityStack, SLO } from './types.js';

export interface Problem {
  /** Dotted field path from the object root, e.g. spec.metrics.retention. */
  path: string;
  message: string;
}

export type Validated<T> = { ok: true; object: T; problems: [] } | { ok: false; problems: Problem[] };

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: false });
for (const k of ['x-kubernetes-validations', 'x-kubernetes-list-type', 'x-kubernetes-list-map-keys']) ajv.addKeyword(k);

interface KindInfo {
  validate: ValidateFunction;
  rules: readonly CrossFieldRule[];
  /** Rules on the whole object (the name). */
  objectRules: readonly CrossFieldRule[];
}
const kinds: Record<string, KindInfo> = {
  [KIND_STACK]: { validate: ajv.compile(bounded(stackSpecSchema)), rules: stackRules, objectRules: stackObjectRules },
  [KIND_SLO]: { validate: ajv.compile(bounded(sloSpecSchema)), rules: sloRules, objectRules: sloObjectRules },
  [KIND_REMEDIATION]: {
    validate: ajv.compile(bounded(remediationSpecSchema)),
    rules: remediationRules,
    objectRules: [],
  },
};

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const SUPPORTED_KINDS = Object.keys(kinds);

/** ajv's instancePath (/spec/a/0/b) as a Kubernetes field path (spec.a[0].b). */
function fieldPath(root: string, instancePath: string): string {
  let out = root;
  for (const seg of instancePath.split('/').slice(1)) {
    const s = seg.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(s) ? `[${s}]` : `.${s}`;
  }
  return out;
}

function describe(e: ErrorObject, root: string): Problem {
  const path = fieldPath(root, e.instancePath);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return { path: `${path}.${p.additionalProperty}`, message: 'unknown field' };
    case 'required':
      return { path: `${path}.${p.missingProperty}`, message: 'required value' };
    case 'enum':
      return {
        path,
        message: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'pattern':
      return { path, message: `must match ${p.pattern}` };
    case 'type':
      return { path, message: `must be of type ${p.type}` };
    default:
      return { path, message: e.message ?? e.keyword };
  }
}

/**
 * Validates one parsed document. On success returns a deep copy with every default filled in
 * (the object the API server would store). Never throws on bad input.
 */
export function validateResource(doc: unknown): Validated<ObservabilityStack | SLO | RemediationPolicy> {
  const problems: Problem[] = [];
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return { ok: false, problems: [{ path: '(document)', message: 'must be a YAML/JSON object' }] };
  }
  const obj = structuredClone(doc) as Record<string, unknown>;
  if (obj.apiVersion !== API_GROUP_VERSION) {
    problems.push({
      path: 'apiVersion',
      message: `must be ${API_GROUP_VERSION}, got ${JSON.stringify(obj.apiVersion)}`,
    });
  }
  const kind = typeof obj.kind === 'string' ? kinds[obj.kind] : undefined;
  if (!kind) {
    problems.push({
      path: 'kind',
      message: `must be one of ${SUPPORTED_KINDS.join(', ')}, got ${JSON.stringify(obj.kind)}`,
    });
    return { ok: false, problems };
  }
  const meta = obj.metadata as Record<string, unknown> | undefined;
  if (!meta || typeof meta !== 'object') problems.push({ path: 'metadata', message: 'required value' });
  else if (typeof meta.name !== 'string' || meta.name === '') {
    problems.push({ path: 'metadata.name', message: 'required value' });
  } else if (meta.name.length > 253 || !DNS_SUBDOMAIN.test(meta.name)) {
    // What the API server demands of every custom resource's name; each kind's rules narrow it.
    problems.push({
      path: 'metadata.name',
      message: "must be a DNS-1123 subdomain (lowercase letters, digits, '-' and '.'), at most 253 characters",
    });
  } else problems.push(...checkRules(kind.objectRules, obj, ''));
  for (const key of Object.keys(obj)) {
    if (!['apiVersion', 'kind', 'metadata', 'spec', 'status'].includes(key))
      problems.push({ path: key, message: 'unknown field' });
  }
  if (obj.spec === undefined) {
    problems.push({ path: 'spec', message: 'required value' });
  } else if (!kind.validate(obj.spec)) {
    problems.push(...(kind.validate.errors ?? []).map((e) => describe(e, 'spec')));
  } else {
    problems.push(...checkRules(kind.rules, obj.spec));
  }
  if (problems.length) return { ok: false, problems };
  return { ok: true, object: obj as unknown as ObservabilityStack | SLO | RemediationPolicy, problems: [] };
}
