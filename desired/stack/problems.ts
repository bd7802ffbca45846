// Render-time validation: specs the schema accepts but that cannot become a working stack. One
// problem per fault, each naming its field. Pure.

import type { Problem } from '../../api/validate.js';
import { componentSpec, durationSeconds, SPEC_PATHS, type StackContext } from './context.js';
import { COMPONENTS } from './labels.js';
import { quantityBytes } from './sizing.js';

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

  for (const c of ['loki', 'tempo', 'grafana'] as const) {
    const replicas = componentSpec(spec, c)?.replicas;
    if (ctx.on[c] && replicas !== undefined && replicas > 1) {
      const why =
        c === 'grafana' ? 'Grafana keeps its state in the pod' : `single-binary ${c} keeps its ring in memory`;
      add(`${SPEC_PATHS[c]}.replicas`, `must be 0 or 1 (${why}), got ${replicas}`);
    }
  }

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
