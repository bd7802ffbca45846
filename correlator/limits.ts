// What ingest refuses and what it truncates, shared by the OTLP decoders (JSON and protobuf), the
// seed endpoints and the store. A refusal is one error per request; a bad record inside an
// accepted request is counted without an Error of its own (a batch of them must stay cheap).
import type { IngestLimits } from './config.js';

/** A request body that is not OTLP at all: answered 400, never retried by OTLP clients. */
export class BadRequest extends Error {
  readonly statusCode = 400;
}

/** A request over one of the size caps (body, decompressed body, records, JSON values): 413. */
export class TooLarge extends Error {
  readonly statusCode = 413;
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

/** What the ingest limits cut, by limit; the server adds these to ingest_truncations_total. */
export interface Truncations {
  attribute_value: number;
  attribute_count: number;
  body: number;
  service_name: number;
}

export const noTruncations = (): Truncations => ({ attribute_value: 0, attribute_count: 0, body: 0, service_name: 0 });

/** The limits one request is decoded under, with the counters it fills. */
export interface DecodeLimits extends IngestLimits {
  readonly maxRecords: number;
  readonly maxNestingDepth: number;
  readonly truncated: Truncations;
}

/**
 * The first `max` characters as a string of their own: a slice of a JSON.parse result would keep
 * the whole original alive (V8 slices point into their parent), which is what a 4 MiB attribute
 * value must not do.
 */
export function cut(s: string, max: number): string {
  return s.length <= max ? s : Buffer.from(s.slice(0, max), 'utf8').toString('utf8');
}

/** `cut` that counts what it cut under `limit`. */
export function bounded(s: string, max: number, limit: keyof Truncations, t: Truncations): string {
  if (s.length <= max) return s;
  t[limit]++;
  return cut(s, max);
}

export function tooManyRecords(max: number): TooLarge {
  return new TooLarge(`batch has more than ${max} records, over MAX_BATCH_SIZE (${max})`, 'batch_size');
}
