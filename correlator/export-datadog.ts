// Optional dual-write of correlation records to Datadog's log intake (v2 API: a JSON array of
// at most 1000 entries, the key in DD-API-KEY). trace_id goes into ddtags, Datadog's own place
// for it; the tags are not indexed as Loki labels would be.

import { post } from './export-http.js';
import type { Destination } from './export-queue.js';
import { type Correlation, view } from './store.js';

export const DATADOG_MAX_BATCH = 1000;

export function datadogEntry(c: Correlation, env: string): Record<string, string> {
  return {
    ddsource: 'vigil-correlator',
    service: c.services[0] ?? 'unknown_service',
    ddtags: `env:${env},trace_id:${c.traceId}`,
    message: JSON.stringify({ kind: 'correlation', ...view(c) }),
  };
}

export function datadogDestination(opts: { logsUrl: string; apiKey: string }): Destination<Record<string, string>> {
  return {
    name: 'datadog',
    send: (batch) =>
      post(opts.logsUrl, JSON.stringify(batch), { 'content-type': 'application/json', 'dd-api-key': opts.apiKey }),
  };
}
