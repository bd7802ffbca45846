// Which images a stack's spec may name: the operator's --allowed-image-prefixes (and `vigil
// validate`'s). Every `image` field of the spec is checked, wherever it sits, so that a field added
// later is covered without a list to keep. The images Vigil pins (images.ts) are the operator's own
// and not checked. Pure.
import type { Problem } from '../../api/validate.js';

/**
 * The prefixes as given (comma-separated; blanks dropped), with a message for each that would admit
 * more than it says: a prefix must end at a path, tag or digest boundary (`/`, `:` or `@`), so that
 * `registry.example` cannot admit `registry.example.attacker.test/x`.
 */
export function parseImagePrefixes(raw: string | undefined): { prefixes: string[]; errors: string[] } {
  const prefixes = (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const errors = prefixes
    .filter((p) => !/[/:@]$/.test(p) || /\s/.test(p))
    .map((p) => `"${p}" must end with "/", ":" or "@" (e.g. "${p.replace(/[/:@]*$/, '')}/")`);
  return { prefixes, errors };
}

/**
 * The name a container runtime pulls for a reference without a registry: `grafana/grafana` is
 * `docker.io/grafana/grafana`, `nginx` is `docker.io/library/nginx`.
 */
export function qualifiedImage(image: string): string {
  const slash = image.indexOf('/');
  const first = slash < 0 ? '' : image.slice(0, slash);
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost')) return image;
  return slash < 0 ? `docker.io/library/${image}` : `docker.io/${image}`;
}

/** Whether an image is under one of the prefixes, as written or as the runtime resolves it; any image when none. */
export function imageAllowed(image: string, prefixes: readonly string[]): boolean {
  if (!prefixes.length) return true;
  const full = qualifiedImage(image);
  return prefixes.some((p) => image.startsWith(p) || full.startsWith(p));
}

/** Every `image` field of a spec that names an image outside the prefixes, blamed on its path. */
export function imagePrefixProblems(spec: unknown, prefixes: readonly string[]): Problem[] {
  if (!prefixes.length) return [];
  const out: Problem[] = [];
  const allowed = prefixes.join(', ');
  const walk = (v: unknown, path: string) => {
    if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) walk(x, `${path}[${i}]`);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        const at = `${path}.${k}`;
        if (k === 'image' && typeof x === 'string') {
          if (!imageAllowed(x, prefixes)) {
            out.push({ path: at, message: `${JSON.stringify(x)} is not under an allowed prefix (${allowed})` });
          }
        } else walk(x, at);
      }
    }
  };
  walk(spec, 'spec');
  return out;
}
