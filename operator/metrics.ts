// The operator's own metrics. Labels stay bounded: kind and result, never an object's name.
import client from 'prom-client';
import { OperatorMetrics as NAMES } from '../conventions/index.js';

export function operatorMetrics(register = new client.Registry()) {
  client.collectDefaultMetrics({ register, prefix: 'vigil_operator_' });
  const m = {
    register,
    reconciles: new client.Counter({
      name: NAMES.reconcileTotal,
      help: 'Reconciles by kind and result.',
      labelNames: ['kind', 'result'] as const,
      registers: [register],
    }),
    reconcileDuration: new client.Histogram({
      name: NAMES.reconcileDuration,
      help: 'Time one reconcile took, by kind and result.',
      labelNames: ['kind', 'result'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [register],
    }),
    queueDepth: new client.Gauge({
      name: NAMES.workqueueDepth,
      help: 'Keys waiting in the work queue.',
      registers: [register],
    }),
    writes: new client.Counter({
      name: NAMES.childWrites,
      help: 'Server-side applies and deletes of child objects, by verb and kind.',
      labelNames: ['verb', 'kind'] as const,
      registers: [register],
    }),
    informerRestarts: new client.Counter({
      name: NAMES.informerRestarts,
      help: 'Informer restarts after a watch error or a stale stream, by kind.',
      labelNames: ['kind', 'reason'] as const,
      registers: [register],
    }),
    lastWatchEvent: new client.Gauge({
      name: NAMES.informerLastEvent,
      help: 'Unix time of the last watch event or reconnect, by kind.',
      labelNames: ['kind'] as const,
      registers: [register],
    }),
    leader: new client.Gauge({
      name: NAMES.isLeader,
      help: '1 while this replica holds the leader Lease.',
      registers: [register],
    }),
  };
  return m;
}
export type OperatorMetrics = ReturnType<typeof operatorMetrics>;
