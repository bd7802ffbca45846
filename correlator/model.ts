// The correlator's own record shapes, the same whichever wire format they arrived in.

/** Attributes the seed service lifts from spans and logs onto the correlation record. */
export const SEED_ATTRIBUTES = ['circuit_id', 'product_id', 'resource_id', 'resource_type_id', 'request_id'] as const;
export type SeedAttribute = (typeof SEED_ATTRIBUTES)[number];
export type SeedAttributes = Partial<Record<SeedAttribute, string>>;

export const SEVERITIES = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL', 'UNSPECIFIED'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface LogEvent {
  /** 32 lower-case hex digits, or null when the record carries no (valid, non-zero) trace id. */
  readonly traceId: string | null;
  readonly spanId: string | null;
  /** Milliseconds since the epoch; ns precision is not kept (JSON numbers cannot carry it anyway). */
  readonly timeMs: number;
  readonly severity: Severity;
  readonly service: string;
  /** Only filled when the log line itself is exported (EXPORT_RECEIVED_LOGS). */
  readonly body: string;
  readonly attrs: SeedAttributes | undefined;
}

export interface SpanEvent {
  readonly traceId: string;
  readonly spanId: string;
  readonly service: string;
  readonly name: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly error: boolean;
  readonly attrs: SeedAttributes | undefined;
}

/** What one request decoded to: the accepted items, and a count and reason for the rest. */
export interface Decoded<T> {
  readonly items: T[];
  rejected: number;
  firstError: string | undefined;
}
