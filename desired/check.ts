// What the operator checks before it changes anything, as one pure function for the reconcilers and
// `vigil validate`: the CRD's schema and rules (api/), then a stack's render problems or an SLO's
// query checks, then every name and label value of what it becomes against Kubernetes' limits.
import type { ObservabilityStack, SLO } from '../api/types.js';
import { type Problem, validateResource } from '../api/validate.js';
import { KIND_SLO, KIND_STACK, Reasons } from '../conventions/index.js';
import {
  type ConfigMap,
  type RuleFile,
  sloDashboardConfigMap,
  sloProblems,
  sloRuleConfigMap,
  sloRules,
} from './slo/index.js';
import { imagePrefixProblems } from './stack/image-policy.js';
import { type KubeObject, type RenderInputs, renderStack } from './stack/index.js';

export type Checked =
  | { ok: true; kind: typeof KIND_STACK; stack: ObservabilityStack; objects: KubeObject[]; problems: [] }
  | { ok: true; kind: typeof KIND_SLO; slo: SLO; rules: RuleFile; configMaps: ConfigMap[]; problems: [] }
  /** A kind with nothing to render offline: the schema and rules are all there is. */
  | { ok: true; kind: 'other'; object: unknown; problems: [] }
  /** `reason`: a condition reason more precise than InvalidSpec (ImageNotAllowed). */
  | { ok: false; problems: Problem[]; reason?: string };

/** What the operator admits beyond the CRD's schema: its flags (operator/config.ts). */
export interface CheckPolicy {
  /** A stack's spec may name only images under these prefixes; any image when empty or absent. */
  allowedImagePrefixes?: readonly string[];
}

/** How renderStack reports an exception it caught: a bug in Vigil, not a problem with the spec. */
const CAUGHT_RENDER_EXCEPTION = 'could not render: ';

/** Rendering threw: Vigil's bug, never the user's InvalidSpec (the reconcilers report ReconcileError). */
export class RenderBug extends Error {
  constructor(message: string) {
    super(`Rendering failed: ${message}. This is a bug in Vigil, not a problem with the spec.`);
    this.name = 'RenderBug';
  }
}

/**
 * Checks one parsed document the way the operator does, stopping at the first stage with problems
 * (as the operator does: a spec the schema refuses is not rendered). On success it hands back what
 * the checks computed, defaults filled, so that the caller need not render twice. `inputs` are what
 * a stack renders from besides its spec (the operator reads them from the cluster). Throws RenderBug
 * when rendering throws; bad input never throws.
 */
export function checkResource(doc: unknown, inputs: RenderInputs = {}, policy: CheckPolicy = {}): Checked {
  const valid = validateResource(doc);
  if (!valid.ok) return { ok: false, problems: valid.problems };
  const object = valid.object as { kind: string };
  if (object.kind === KIND_STACK) {
    const stack = object as ObservabilityStack;
    const images = imagePrefixProblems(stack.spec, policy.allowedImagePrefixes ?? []);
    if (images.length) return { ok: false, problems: images, reason: Reasons.ImageNotAllowed };
    const rendered = renderStack(stack, inputs);
    const caught = rendered.problems.find((p) => p.path === 'spec' && p.message.startsWith(CAUGHT_RENDER_EXCEPTION));
    if (caught) throw new RenderBug(caught.message.slice(CAUGHT_RENDER_EXCEPTION.length));
    if (rendered.problems.length) return { ok: false, problems: rendered.problems };
    const problems = childNameProblems(rendered.objects, [{ path: 'metadata.name', value: stack.metadata.name ?? '' }]);
    if (problems.length) return { ok: false, problems };
    return { ok: true, kind: KIND_STACK, stack, objects: rendered.objects, problems: [] };
  }
  if (object.kind === KIND_SLO) {
    const slo = object as SLO;
    const found = sloProblems(slo);
    if (found.length) return { ok: false, problems: found };
    const rules = sloRules(slo);
    const configMaps = [sloRuleConfigMap(slo, rules), sloDashboardConfigMap(slo)];
    const problems = childNameProblems(configMaps, [
      { path: 'metadata.name', value: slo.metadata.name ?? '' },
      { path: 'spec.stackRef.name', value: slo.spec.stackRef.name },
    ]);
    if (problems.length) return { ok: false, problems };
    return { ok: true, kind: KIND_SLO, slo, rules, configMaps, problems: [] };
  }
  return { ok: true, kind: 'other', object, problems: [] };
}

/**
 * What the operator refuses about an SLO once it has found its stack (the same namespace, named by
 * spec.stackRef.name): a stack without Prometheus, which nothing would load the rules into.
 */
export function sloStackProblems(slo: SLO, stack: { spec?: unknown }): Problem[] {
  const metrics = (stack.spec as { metrics?: { enabled?: boolean } } | undefined)?.metrics;
  if (metrics?.enabled !== false) return [];
  return [
    {
      path: 'spec.stackRef.name',
      message: `ObservabilityStack "${slo.spec.stackRef.name}" has metrics disabled: no Prometheus loads the rules`,
    },
  ];
}

// Kubernetes' name formats (k8s.io/apimachinery/pkg/util/validation).
const LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const FORMATS = {
  'DNS-1123 subdomain': { max: 253, re: new RegExp(`^${LABEL}(\\.${LABEL})*$`) },
  'DNS-1123 label': { max: 63, re: new RegExp(`^${LABEL}$`) },
  'DNS-1035 label': { max: 63, re: /^[a-z]([-a-z0-9]*[a-z0-9])?$/ },
  'label value': { max: 63, re: /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/ },
  // RBAC objects' names only need to be a URL path segment (vigil:<namespace>:<name> is fine).
  'path segment': { max: 253, re: /^(?!\.\.?$)[^/%]+$/ },
} as const;
type Format = keyof typeof FORMATS;

const NAME_FORMAT: Record<string, Format> = {
  Service: 'DNS-1035 label',
  Role: 'path segment',
  RoleBinding: 'path segment',
  ClusterRole: 'path segment',
  ClusterRoleBinding: 'path segment',
};

/**
 * The hash the StatefulSet controller appends to a ControllerRevision's name: a uint32 in decimal
 * digits, safe-encoded, so at most 10 characters. Its pods carry the revision's name as a label.
 */
const REVISION_HASH = 10;
const REVISION_LABEL = 'controller-revision-hash';

interface Name {
  /** What it names, for the message: `the Service name "x"`. */
  what: string;
  value: string;
  format: Format;
}

/** A child as far as names go: every kind the renderers produce has these. */
interface Child {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: unknown;
}

/** Every name and label value a child puts in the cluster, including those its controllers derive from it. */
export function childNames(o: Child): Name[] {
  const ref = `${o.kind} "${o.metadata.name}"`;
  const out: Name[] = [];
  const format = NAME_FORMAT[o.kind] ?? 'DNS-1123 subdomain';
  out.push({ what: `the ${o.kind} name "${o.metadata.name}"`, value: o.metadata.name, format });
  // biome-ignore lint/suspicious/noExplicitAny: reading a workload's spec loosely across kinds
  const spec = (o.spec ?? {}) as any;
  if (o.kind === 'StatefulSet') {
    const replicas = typeof spec.replicas === 'number' ? spec.replicas : 1;
    const pod = `${o.metadata.name}-${Math.max(replicas - 1, 0)}`;
    // The pod's name is its hostname, and a label (statefulset.kubernetes.io/pod-name) too.
    out.push({ what: `the name "${pod}" of a pod of ${ref}`, value: pod, format: 'DNS-1123 label' });
    out.push({
      what: `the label ${REVISION_LABEL}="${o.metadata.name}-<hash>" on the pods of ${ref}`,
      value: `${o.metadata.name}-${'0'.repeat(REVISION_HASH)}`,
      format: 'label value',
    });
    for (const t of spec.volumeClaimTemplates ?? []) {
      const claim = `${t.metadata?.name}-${pod}`;
      out.push({ what: `the PersistentVolumeClaim name "${claim}"`, value: claim, format: 'DNS-1123 subdomain' });
    }
  }
  const labels = (where: string, map: unknown) => {
    if (!map || typeof map !== 'object' || Array.isArray(map)) return;
    for (const [k, v] of Object.entries(map)) {
      if (typeof v === 'string') out.push({ what: `the label ${k}="${v}" ${where}`, value: v, format: 'label value' });
    }
  };
  if (o.kind === 'Service') labels(`in the selector of ${ref}`, spec.selector);
  const walk = (node: unknown, inTemplate: boolean) => {
    if (!node || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node)) {
      if (k === 'data' || k === 'stringData' || k === 'binaryData') continue;
      if (k === 'labels' || k === 'matchLabels') labels(inTemplate ? `in the pod template of ${ref}` : `of ${ref}`, v);
      else walk(v, inTemplate || k === 'template');
    }
  };
  walk(o, false);
  return out;
}

function nameProblem(n: Name): { excess: number; message: string } | undefined {
  const f = FORMATS[n.format];
  if (n.value.length > f.max) {
    return {
      excess: n.value.length - f.max,
      message: `${n.what} would be ${n.value.length} characters, over Kubernetes' limit of ${f.max} for a ${n.format}`,
    };
  }
  if (!f.re.test(n.value)) return { excess: 0, message: `${n.what} would not be a valid ${n.format}` };
  return undefined;
}

interface Source {
  /** The field to blame, e.g. metadata.name. */
  path: string;
  value: string;
}

/**
 * The names and label values of children that Kubernetes would refuse, one problem per field they
 * come from (the longest field value found in the bad name; the first source otherwise), naming the
 * worst offender and how many more there are.
 */
export function childNameProblems(children: readonly Child[], sources: readonly Source[]): Problem[] {
  const byPath = new Map<string, { excess: number; message: string }[]>();
  const blame = (value: string) =>
    [...sources].sort((a, b) => b.value.length - a.value.length).find((s) => s.value && value.includes(s.value)) ??
    sources[0];
  for (const child of children) {
    for (const n of childNames(child)) {
      const p = nameProblem(n);
      if (!p) continue;
      const path = blame(n.value).path;
      byPath.set(path, [...(byPath.get(path) ?? []), p]);
    }
  }
  return [...byPath].map(([path, found]) => {
    const worst = found.reduce((a, b) => (b.excess > a.excess ? b : a));
    const more = found.length > 1 ? ` (and ${found.length - 1} more)` : '';
    return { path, message: `${worst.message}${more}` };
  });
}
