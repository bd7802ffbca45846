// One prom-client Registry per correlator instance (never the global one), so tests and
// benchmarks can build many side by side.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { CorrelatorMetrics as M } from '../conventions/index.js';

export type CorrelatorMetricSet = ReturnType<typeof createMetrics>;

export function createMetrics() {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    correlationEvents: new Counter({
      name: M.correlationEvents,
      help: 'Correlation records closed (window ended, evicted while open, or shutdown).',
      registers,
    }),
    logRecordsReceived: new Counter({
      name: M.logRecordsReceived,
      help: 'Log records accepted, by endpoint.',
      labelNames: ['source'] as const,
      registers,
    }),
    tracesReceived: new Counter({
      name: M.tracesReceived,
      help: 'Spans accepted over OTLP (the seed service counted spans under this name).',
      labelNames: ['source'] as const,
      registers,
    }),
    exportAttempts: new Counter({
      name: M.exportAttempts,
      help: 'Export requests, by destination and result (success, retry, rejected).',
      labelNames: ['destination', 'result'] as const,
      registers,
    }),
    exportDuration: new Histogram({
      name: M.exportDuration,
      help: 'Duration of one export request, by destination.',
      labelNames: ['destination'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    exportQueueDepth: new Gauge({
      name: M.exportQueueDepth,
      help: 'Records waiting (or in flight) in an export queue.',
      labelNames: ['destination'] as const,
      registers,
    }),
    exportQueueCapacity: new Gauge({
      name: M.exportQueueCapacity,
      help: 'Records an export queue holds before ingest answers 429.',
      labelNames: ['destination'] as const,
      registers,
    }),
    exportDropped: new Counter({
      name: M.exportDropped,
      help: 'Records a destination refused with a non-retryable status (logged with the reason).',
      labelNames: ['destination'] as const,
      registers,
    }),
    correlationsHeld: new Gauge({ name: M.correlationsHeld, help: 'Correlation records held for queries.', registers }),
    correlationsOpen: new Gauge({
      name: M.correlationsOpen,
      help: 'Correlation records still in their window.',
      registers,
    }),
    correlationEvictions: new Counter({
      name: M.correlationEvictions,
      help: 'Correlation records evicted at the MAX_CORRELATIONS or MAX_STORE_BYTES cap, oldest first; state=open means closed early.',
      labelNames: ['state'] as const,
      registers,
    }),
    recordsRejected: new Counter({
      name: M.recordsRejected,
      help: 'Records refused inside an accepted request (OTLP partial success), by signal.',
      labelNames: ['signal'] as const,
      registers,
    }),
    requestsRefused: new Counter({
      name: M.requestsRefused,
      help: 'Ingest requests answered with an error status, by reason.',
      labelNames: ['reason'] as const,
      registers,
    }),
    logsWithoutTrace: new Counter({
      name: M.logsWithoutTrace,
      help: 'Log records accepted without a trace id (not correlated).',
      registers,
    }),
    correlationsWithoutSpans: new Counter({
      name: M.correlationsWithoutSpans,
      help: 'Closed correlation records that saw logs but no span (sampling mismatch, lost spans).',
      registers,
    }),
    ingestTruncations: new Counter({
      name: M.ingestTruncations,
      help: 'Values cut to an ingest limit, by limit (attribute_value, attribute_count, body, service_name).',
      labelNames: ['limit'] as const,
      registers,
    }),
    ingestInflightBytes: new Gauge({
      name: M.ingestInflightBytes,
      help: 'Request bytes held right now (bodies and decompressed copies), against MAX_INFLIGHT_BYTES.',
      registers,
    }),
    correlationsHeldBytes: new Gauge({
      name: M.correlationsHeldBytes,
      help: 'Estimated bytes of the correlation records held, against MAX_STORE_BYTES.',
      registers,
    }),
    correlationServicesDropped: new Counter({
      name: M.correlationServicesDropped,
      help: 'Services not listed on a record that already had MAX_SERVICES_PER_CORRELATION.',
      registers,
    }),
    exportQueueBytes: new Gauge({
      name: M.exportQueueBytes,
      help: 'Estimated bytes waiting (or in flight) in an export queue.',
      labelNames: ['destination'] as const,
      registers,
    }),
    exportQueueCapacityBytes: new Gauge({
      name: M.exportQueueCapacityBytes,
      help: 'Estimated bytes an export queue holds before it is full.',
      labelNames: ['destination'] as const,
      registers,
    }),
    exportAbandoned: new Counter({
      name: M.exportAbandoned,
      help: "Records given up: retried for EXPORT_RETRY_MAX_ELAPSED_SECONDS (retry_timeout), or not fitting an optional destination's full queue (queue_full).",
      labelNames: ['destination', 'reason'] as const,
      registers,
    }),
    queryFanoutDuration: new Histogram({
      name: M.queryFanoutDuration,
      help: 'Duration of a query answered for every replica (this one and its peers), merge included.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    queryPeerRequests: new Counter({
      name: M.queryPeerRequests,
      help: 'Requests to a peer replica for a fanned-out query, by result (ok, timeout, unreachable, status, too_large, invalid, resolve).',
      labelNames: ['result'] as const,
      registers,
    }),
    queryPeerDuration: new Histogram({
      name: M.queryPeerDuration,
      help: "Duration of one peer replica's answer to a fanned-out query, whatever its result.",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    queryFanoutPartial: new Counter({
      name: M.queryFanoutPartial,
      help: 'Fanned-out queries answered without at least one peer (partial: true in the answer).',
      registers,
    }),
  };
}
