// Loki push API, JSON flavour: {"streams":[{"stream":{labels},"values":[[ns, line, {metadata}]]}]}.
// Labels are only the low-cardinality ones the config allows (service, env); trace_id and span_id
// travel as structured metadata (Loki 3 with schema v13), queried as {service="x"} | trace_id="...".
import type { LokiLabel } from './config.js';
import { post } from './export-http.js';
import type { Destination } from './export-queue.js';
import type { LogEvent } from './model.js';
import { type Correlation, view } from './store.js';

export interface LokiEntry {
  readonly service: string;
  /** Nanoseconds since the epoch as a decimal string (Loki refuses JSON numbers here). */
  readonly ts: string;
  readonly line: string;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface LokiStream {
  stream: Record<string, string>;
  values: [string, string, Record<string, string>][];
}

export function msToNs(ms: number): string {
  return `${Math.round(ms * 1000)}000`;
}

export function correlationEntry(c: Correlation): LokiEntry {
  return {
    service: c.services[0] ?? 'unknown_service',
    ts: msToNs(c.firstMs || c.openedAt),
    line: JSON.stringify({ kind: 'correlation', ...view(c) }),
    metadata: { trace_id: c.traceId },
  };
}

export function logEntry(l: LogEvent, nowMs: number): LokiEntry {
  const metadata: Record<string, string> = { severity: l.severity };
  if (l.traceId) metadata.trace_id = l.traceId;
  if (l.spanId) metadata.span_id = l.spanId;
  return { service: l.service, ts: msToNs(l.timeMs || nowMs), line: l.body, metadata };
}

/** Groups entries into streams by their label set, in arrival order. */
export function pushBody(
  entries: readonly LokiEntry[],
  labels: readonly LokiLabel[],
  env: string,
): { streams: LokiStream[] } {
  const streams = new Map<string, LokiStream>();
  for (const e of entries) {
    const stream: Record<string, string> = {};
    if (labels.includes('service')) stream.service = e.service;
    if (labels.includes('env')) stream.env = env;
    const key = JSON.stringify(stream);
    let s = streams.get(key);
    if (!s) {
      s = { stream, values: [] };
      streams.set(key, s);
    }
    s.values.push([e.ts, e.line, { ...e.metadata }]);
  }
  return { streams: [...streams.values()] };
}

export function lokiDestination(opts: {
  url: string;
  tenant?: string;
  labels: readonly LokiLabel[];
  env: string;
}): Destination<LokiEntry> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.tenant) headers['x-scope-orgid'] = opts.tenant;
  return {
    name: 'loki',
    send: (batch) =>
      post(`${opts.url}/loki/api/v1/push`, JSON.stringify(pushBody(batch, opts.labels, opts.env)), headers),
  };
}
