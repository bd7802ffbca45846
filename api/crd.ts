// Builds the CustomResourceDefinitions from the JSON Schemas in schema.ts and the rules in rules.ts.
// `npm run gen` (hack/gen.ts) writes them to crds/; the operator and the tests use the same objects.
import {
  API_GROUP,
  API_VERSION,
  CATEGORY,
  KIND_SLO,
  KIND_STACK,
  PLURAL_SLO,
  PLURAL_STACK,
} from '../conventions/index.js';
import { KIND_REMEDIATION, PLURAL_REMEDIATION, SHORT_NAME_REMEDIATION } from '../conventions/remediation.js';
import { bounded } from './bounds.js';
import { remediationRules, remediationSpecSchema, remediationStatusSchema } from './remediation.js';
import { type CrossFieldRule, sloObjectRules, sloRules, stackObjectRules, stackRules } from './rules.js';
import { sloSpecSchema, sloStatusSchema, stackSpecSchema, stackStatusSchema } from './schema.js';

type Json = Record<string, unknown>;

/**
 * Turns an ajv (draft-07) schema into a structural Kubernetes openAPIV3Schema:
 * - `nullable` is dropped (an absent field is how Kubernetes says "unset");
 * - `additionalProperties: false` is dropped (structural schemas forbid it next to `properties`;
 *   the API server's strict field validation and pruning play its part);
 * - numeric `exclusiveMinimum/Maximum: n` become `minimum/maximum: n` + `exclusive…: true` (OpenAPI 3.0);
 * - a property with a default is not required (the default fills it before validation).
 */
export function toStructural(schema: unknown): Json {
  if (Array.isArray(schema)) return schema.map(toStructural) as unknown as Json;
  if (schema === null || typeof schema !== 'object') return schema as Json;
  const out: Json = {};
  const s = schema as Json;
  for (const [k, v] of Object.entries(s)) {
    if (k === 'nullable') continue;
    if (k === 'additionalProperties' && v === false) continue;
    if (k === 'exclusiveMinimum' && typeof v === 'number') {
      out.minimum = v;
      out.exclusiveMinimum = true;
      continue;
    }
    if (k === 'exclusiveMaximum' && typeof v === 'number') {
      out.maximum = v;
      out.exclusiveMaximum = true;
      continue;
    }
    if (k === 'default') {
      out[k] = v;
      continue;
    }
    if (k === 'properties') {
      const props: Json = {};
      for (const [pk, pv] of Object.entries(v as Json)) props[pk] = toStructural(pv);
      out.properties = props;
      continue;
    }
    out[k] = typeof v === 'object' ? toStructural(v) : v;
  }
  if (Array.isArray(out.required)) {
    const props = (out.properties ?? {}) as Record<string, Json>;
    const req = (out.required as string[]).filter((r) => props[r]?.default === undefined);
    if (req.length) out.required = req;
    else delete out.required;
  }
  return out;
}

/** Attaches each rule's CEL as x-kubernetes-validations at its place in the schema (spec's, or the object's). */
function attachRules(schema: Json, rules: readonly CrossFieldRule[]): Json {
  for (const r of rules) {
    let node = schema;
    for (const seg of r.at) {
      node = seg === '*' ? (node.items as Json) : ((node.properties as Json)[seg] as Json);
      if (!node) throw new Error(`rule ${r.rule} attaches to a path the schema lacks: ${r.at.join('.')}`);
    }
    if (!node['x-kubernetes-validations']) node['x-kubernetes-validations'] = [];
    const list = node['x-kubernetes-validations'] as Json[];
    list.push({ rule: r.rule, message: r.message, ...(r.fieldPath ? { fieldPath: r.fieldPath } : {}) });
  }
  return schema;
}

function listMapConditions(status: Json): Json {
  const conditions = (status.properties as Json).conditions as Json;
  conditions['x-kubernetes-list-type'] = 'map';
  conditions['x-kubernetes-list-map-keys'] = ['type'];
  return status;
}

interface CrdInput {
  kind: string;
  plural: string;
  shortName: string;
  spec: unknown;
  status: unknown;
  rules: readonly CrossFieldRule[];
  /** Rules on the whole object, at the root of the schema (where CEL sees metadata.name). */
  objectRules: readonly CrossFieldRule[];
  columns: Json[];
  description: string;
}

function crd(i: CrdInput): Json {
  const spec = attachRules(toStructural(bounded(i.spec)), i.rules);
  const status = listMapConditions(toStructural(bounded(i.status)));
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${i.plural}.${API_GROUP}` },
    spec: {
      group: API_GROUP,
      names: {
        kind: i.kind,
        listKind: `${i.kind}List`,
        plural: i.plural,
        singular: i.kind.toLowerCase(),
        shortNames: [i.shortName],
        categories: [CATEGORY],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: i.columns,
          schema: {
            openAPIV3Schema: attachRules(
              {
                type: 'object',
                description: i.description,
                required: ['spec'],
                properties: {
                  apiVersion: { type: 'string', maxLength: 253 },
                  kind: { type: 'string', maxLength: 63 },
                  // Declared so that a rule's fieldPath may name it; the API server allows no other
                  // restriction on metadata than on name and generateName.
                  metadata: { type: 'object', properties: { name: { type: 'string', maxLength: 253 } } },
                  spec: spec,
                  status: status,
                },
              },
              i.objectRules,
            ),
          },
        },
      ],
    },
  };
}

const readyColumn = { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' };
const ageColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

export const stackCrd = (): Json =>
  crd({
    kind: KIND_STACK,
    plural: PLURAL_STACK,
    shortName: 'ostack',
    spec: stackSpecSchema,
    status: stackStatusSchema,
    rules: stackRules,
    objectRules: stackObjectRules,
    description: 'A complete, correlated observability stack: collector, Prometheus, Loki, Tempo, Grafana.',
    columns: [
      readyColumn,
      { name: 'Reason', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason' },
      ageColumn,
    ],
  });

export const sloCrd = (): Json =>
  crd({
    kind: KIND_SLO,
    plural: PLURAL_SLO,
    shortName: 'slo',
    spec: sloSpecSchema,
    status: sloStatusSchema,
    rules: sloRules,
    objectRules: sloObjectRules,
    description: 'A service level objective: multi-window multi-burn-rate rules and a dashboard.',
    columns: [
      { name: 'Service', type: 'string', jsonPath: '.spec.service' },
      { name: 'Objective', type: 'number', jsonPath: '.spec.objective' },
      { name: 'Window', type: 'string', jsonPath: '.spec.window' },
      readyColumn,
      ageColumn,
    ],
  });

export const remediationCrd = (): Json =>
  crd({
    kind: KIND_REMEDIATION,
    plural: PLURAL_REMEDIATION,
    shortName: SHORT_NAME_REMEDIATION,
    spec: remediationSpecSchema,
    status: remediationStatusSchema,
    rules: remediationRules,
    objectRules: [],
    description: 'Alerts that repair what they safely can: an action on a workload, under a guard.',
    columns: [
      { name: 'Alert', type: 'string', jsonPath: '.spec.match.alertname' },
      { name: 'Action', type: 'string', jsonPath: '.spec.action.type' },
      { name: 'Mode', type: 'string', jsonPath: '.spec.mode' },
      { name: 'Blocked', type: 'string', jsonPath: '.status.conditions[?(@.type=="Blocked")].status' },
      readyColumn,
      ageColumn,
    ],
  });

export const allCrds = (): Json[] => [stackCrd(), sloCrd(), remediationCrd()];
