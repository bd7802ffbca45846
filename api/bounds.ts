// Every string, list and map in the CRDs has an upper bound, so that no field can carry more than
// a spec needs (a multi-megabyte "name", ten thousand receivers) and the API server's CEL cost
// estimates stay small. A field that sets its own bound keeps it; the rest get these.
type Json = Record<string, unknown>;

export const DEFAULT_BOUNDS = {
  /** Characters in a string without an enum: PromQL, URLs and descriptions fit, a payload does not. */
  maxLength: 4096,
  /** Items in a list. */
  maxItems: 256,
  /** Keys in a map (labels, annotations, endpoints). */
  maxProperties: 128,
} as const;

/** A copy of a JSON Schema with a bound on every string, array and map that lacks one. */
export function bounded<T>(schema: T): T {
  return walk(schema) as T;
}

function walk(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(walk);
  if (node === null || typeof node !== 'object') return node;
  const s = node as Json;
  const out: Json = {};
  for (const [k, v] of Object.entries(s)) {
    // Literal values are data, not schemas.
    out[k] = k === 'default' || k === 'enum' || k === 'const' || k === 'required' ? v : walk(v);
  }
  const type = s.type;
  if (type === 'string' && s.enum === undefined && s.maxLength === undefined) out.maxLength = DEFAULT_BOUNDS.maxLength;
  if (type === 'array' && s.maxItems === undefined) out.maxItems = DEFAULT_BOUNDS.maxItems;
  if (
    type === 'object' &&
    s.additionalProperties !== undefined &&
    typeof s.additionalProperties === 'object' &&
    s.maxProperties === undefined
  ) {
    out.maxProperties = DEFAULT_BOUNDS.maxProperties;
  }
  return out;
}

/** Paths of the strings, arrays and maps in a schema that have no bound (for tests). */
export function unboundedPaths(node: unknown, path = ''): string[] {
  if (Array.isArray(node)) return node.flatMap((n, i) => unboundedPaths(n, `${path}[${i}]`));
  if (node === null || typeof node !== 'object') return [];
  const s = node as Json;
  const here: string[] = [];
  if (s.type === 'string' && s.enum === undefined && s.maxLength === undefined) here.push(`${path || '.'}: string`);
  if (s.type === 'array' && s.maxItems === undefined) here.push(`${path || '.'}: array`);
  if (s.type === 'object' && typeof s.additionalProperties === 'object' && s.maxProperties === undefined) {
    here.push(`${path || '.'}: map`);
  }
  const nested = Object.entries(s)
    .filter(([k]) => k !== 'default' && k !== 'enum' && k !== 'const' && k !== 'required')
    .flatMap(([k, v]) => unboundedPaths(v, k === 'properties' ? path : k === 'items' ? `${path}[*]` : `${path}.${k}`));
  return [...here, ...nested];
}
