// GET /api/correlations parameters (the seed's filters), validated; errors name the parameter.
import type { Query } from './store.js';

export const MAX_LIMIT = 1000;
const DEFAULT_LIMIT = 100;
const KNOWN = new Set(['trace_id', 'service', 'start_time', 'end_time', 'limit']);

/** RFC 3339 / ISO 8601 date-times, or epoch seconds (as Prometheus and Loki accept). */
export function parseTime(v: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(v)) return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : ms;
}

export function parseQuery(raw: Record<string, unknown>): { ok: true; query: Query } | { ok: false; error: string } {
  const fail = (error: string) => ({ ok: false as const, error });
  for (const key of Object.keys(raw)) {
    if (!KNOWN.has(key)) return fail(`unknown parameter "${key}"; known: ${[...KNOWN].join(', ')}`);
    if (typeof raw[key] !== 'string') return fail(`${key}: give it once`);
  }
  const get = (k: string) => raw[k] as string | undefined;
  let traceId: string | undefined;
  const t = get('trace_id');
  if (t !== undefined) {
    if (!/^[0-9a-fA-F]{32}$/.test(t)) return fail(`trace_id: must be 32 hex digits, got "${t.slice(0, 64)}"`);
    traceId = t.toLowerCase();
  }
  const service = get('service');
  if (service !== undefined && (service === '' || service.length > 256)) {
    return fail('service: must be a non-empty name of at most 256 characters');
  }
  const times: Record<string, number | undefined> = {};
  for (const k of ['start_time', 'end_time']) {
    const v = get(k);
    if (v === undefined) continue;
    const ms = parseTime(v);
    if (ms === undefined)
      return fail(`${k}: must be an RFC 3339 time (2025-10-15T10:30:00Z) or epoch seconds, got "${v.slice(0, 64)}"`);
    times[k] = ms;
  }
  if (times.start_time !== undefined && times.end_time !== undefined && times.start_time > times.end_time) {
    return fail('start_time: must not be after end_time');
  }
  let limit = DEFAULT_LIMIT;
  const l = get('limit');
  if (l !== undefined) {
    if (!/^\d+$/.test(l) || Number(l) < 1 || Number(l) > MAX_LIMIT) {
      return fail(`limit: must be a whole number from 1 to ${MAX_LIMIT}, got "${l.slice(0, 32)}"`);
    }
    limit = Number(l);
  }
  return {
    ok: true,
    query: { traceId, service, startMs: times.start_time, endMs: times.end_time, limit },
  };
}
