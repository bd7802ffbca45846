// Render-time validation: specs the schema accepts but that cannot become a working stack. One
// problem per fault, each naming its field. Pure.

import type { Problem } from '../../api/validate.js';
import { componentSpec, durationSeconds, SPEC_PATHS, type StackContext } from './context.js';
import { COMPONENTS } from './labels.js';
import { LOKI_TARGETS, lokiTargetSizing, REPLICATION_FACTOR, scalable, tempoScalableSizing } from './scalable.js';
import { quantityBytes, type Sizing } from './sizing.js';

const HOUR = 3600;
const DAY = 24 * HOUR;

/** Loki's TSDB index period; retention is enforced per whole index period. */
const LOKI_INDEX_PERIOD = DAY;

export function renderProblems(ctx: StackContext): Problem[] {
  const out: Problem[] = [];
  const spec = ctx.spec;
  const add = (path: string, message: string) => out.push({ path, message });

  if (ctx.on.prometheus && spec.metrics) {
    const r = durationSeconds(spec.metrics.retention);
    if (r < 2 * HOUR) {
      add('spec.metrics.retention', `must be at least 2h (Prometheus's block duration), got ${spec.metrics.retention}`);
    }
    const interval = durationSeconds(spec.metrics.scrapeInterval);
    if (!(interval > 0)) add('spec.metrics.scrapeInterval', 'must be longer than 0s');
  }
  if (ctx.on.loki && spec.logs) {
    const r = durationSeconds(spec.logs.retention);
    if (r < LOKI_INDEX_PERIOD) {
      add('spec.logs.retention', `must be at least 24h (Loki's index period), got ${spec.logs.retention}`);
    } else if (r % LOKI_INDEX_PERIOD !== 0) {
      add(
        'spec.logs.retention',
        `must be a whole number of days (Loki's index period is 24h), got ${spec.logs.retention}`,
      );
    }
  }
  if (ctx.on.tempo && spec.traces) {
    const r = durationSeconds(spec.traces.retention);
    if (r < DAY) add('spec.traces.retention', `must be at least 24h, got ${spec.traces.retention}`);
  }

  const s3 = spec.objectStorage?.s3;
  if (s3 && (ctx.on.loki || ctx.on.tempo) && !s3.secretRef) {
    add(
      'spec.objectStorage.s3.secretRef',
      'required with S3 storage: a Secret with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for Loki and Tempo',
    );
  }

  const collector = spec.collector;
  if (ctx.on.collector) {
    if (!ctx.on.prometheus && !ctx.on.loki && !ctx.on.tempo && !ctx.on.correlator) {
      add(
        'spec.collector.enabled',
        'the collector has nowhere to send data: enable metrics, logs, traces or correlation',
      );
    }
    const sampling = collector?.sampling;
    if (sampling) {
      const keepsSomething =
        sampling.errors || sampling.slowerThan !== undefined || (sampling.baselinePercent ?? 0) > 0;
      if (!keepsSomething) {
        add(
          'spec.collector.sampling',
          'tail sampling would drop every trace: set errors: true, slowerThan or a baselinePercent above 0',
        );
      }
      if (sampling.slowerThan !== undefined && !(durationSeconds(sampling.slowerThan) > 0)) {
        add('spec.collector.sampling.slowerThan', `must be longer than 0s, got ${sampling.slowerThan}`);
      }
      if (!ctx.on.tempo && !ctx.on.correlator) {
        add('spec.collector.sampling', 'tail sampling needs a trace destination: enable traces or correlation');
      }
    }
    if (collector?.collect && collector.mode !== 'daemonset') {
      add('spec.collector.collect', 'needs mode: daemonset (the agent on every node reads the pod logs)');
    }
  }

  scalingProblems(ctx, add);

  for (const c of COMPONENTS) {
    if (!ctx.on[c]) continue;
    const res = componentSpec(spec, c)?.resources;
    const size = ctx.size[c].resources;
    for (const r of ['cpu', 'memory'] as const) {
      const req = size.requests[r];
      const lim = size.limits[r];
      if (req === undefined || lim === undefined || (!res?.requests?.[r] && !res?.limits?.[r])) continue;
      if (quantityBytes(req) > quantityBytes(lim)) {
        const which = res?.requests?.[r] ? 'requests' : 'limits';
        add(`${SPEC_PATHS[c]}.resources.${which}.${r}`, `requests.${r} (${req}) must not exceed limits.${r} (${lim})`);
      }
    }
  }

  for (const [i, r] of (spec.alerting?.receivers ?? []).entries()) {
    if (r.name === 'vigil-null')
      add(`spec.alerting.receivers[${i}].name`, '"vigil-null" is reserved for unrouted alerts');
  }
  return out;
}

/**
 * Replicas of Loki, Tempo and Grafana (docs/adr/0017-scalable-loki-tempo.md): a single binary keeps
 * its ring in memory and Grafana its state in the pod, so either runs one replica; scalable Loki and
 * Tempo (sizes medium and large with spec.objectStorage.s3) replicate to REPLICATION_FACTOR
 * ingesters, so the writing side needs at least that many; more than one Grafana needs its database.
 */
function scalingProblems(ctx: StackContext, add: (path: string, message: string) => void): void {
  const spec = ctx.spec;
  const ring = scalable(ctx);
  const need = REPLICATION_FACTOR;
  const single = (c: 'loki' | 'tempo') =>
    `single-binary ${c} keeps its ring in memory; sizes medium and large with spec.objectStorage.s3 run it scalable`;
  if (ctx.on.loki) {
    const replicas = spec.logs?.replicas;
    if (!ring && replicas !== undefined && replicas > 1) {
      add('spec.logs.replicas', `must be 0 or 1 (${single('loki')}), got ${replicas}`);
    } else if (ring && replicas !== undefined && replicas > 1) {
      add(
        'spec.logs.replicas',
        `scalable Loki is sized per target: set spec.logs.targets.write|read|backend.replicas (0 stops every target), got ${replicas}`,
      );
    }
    // spec.logs.targets of a stack that runs the single binary waits unused (a size change uses it).
    if (ring) {
      const write = lokiTargetSizing(ctx, 'write').replicas;
      if (write > 0 && write < need) {
        add(
          'spec.logs.targets.write.replicas',
          `must be 0 or at least ${need} (the replication factor: each stream is written to ${need} ingesters), got ${write}`,
        );
      }
      for (const t of LOKI_TARGETS) requestsWithinLimits(lokiTargetSizing(ctx, t), `spec.logs.targets.${t}`, add);
    }
  }
  if (ctx.on.tempo) {
    const replicas = spec.traces?.replicas;
    if (!ring && replicas !== undefined && replicas > 1) {
      add('spec.traces.replicas', `must be 0 or 1 (${single('tempo')}), got ${replicas}`);
    }
    if (ring) {
      const n = tempoScalableSizing(ctx).replicas;
      if (n > 0 && n < need) {
        add(
          'spec.traces.replicas',
          `must be 0 or at least ${need} (the replication factor: each trace is written to ${need} ingesters), got ${n}`,
        );
      }
      requestsWithinLimits(tempoScalableSizing(ctx), 'spec.traces', add);
    }
  }
  const grafana = spec.grafana?.replicas;
  if (ctx.on.grafana && grafana !== undefined && grafana > 1 && !spec.grafana?.database) {
    add(
      'spec.grafana.replicas',
      `must be 0 or 1 without spec.grafana.database (Grafana keeps its state in the pod), got ${grafana}`,
    );
  }
}

/** A size whose requests exceed its limits (an override of one against the profile's other). */
function requestsWithinLimits(size: Sizing, path: string, add: (path: string, message: string) => void): void {
  for (const r of ['cpu', 'memory'] as const) {
    const req = size.resources.requests[r];
    const lim = size.resources.limits[r];
    if (req === undefined || lim === undefined) continue;
    if (quantityBytes(req) > quantityBytes(lim)) {
      add(`${path}.resources.requests.${r}`, `requests.${r} (${req}) must not exceed limits.${r} (${lim})`);
    }
  }
}
