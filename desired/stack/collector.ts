// The OpenTelemetry Collector: OTLP in; traces to Tempo and the correlator, logs to Loki's native
// OTLP endpoint and the correlator, metrics to Prometheus's OTLP receiver.
import { k8s } from 'cdk8s-plus-33';
import type { Construct } from 'constructs';
import yaml from 'js-yaml';
import { PORTS, placeholder, type StackContext } from './context.js';
import { IMAGES } from './images.js';
import { selectorLabels } from './labels.js';
import {
  configHash,
  configMap,
  configMapVolume,
  container,
  deployment,
  podTemplate,
  quantityBytesMiB,
  service,
  serviceAccount,
} from './pod.js';

const CONFIG_FILE = 'collector.yaml';
/** The correlator's OTLP/gRPC port, used by the loadbalancing exporter (which speaks only gRPC). */
export const CORRELATOR_GRPC_PORT = PORTS.otlpGrpc;

type Config = Record<string, unknown>;

/** The collector's config.yaml for a stack; exported for validation with a real collector. */
export function collectorConfig(ctx: StackContext): Config {
  const spec = ctx.spec;
  const memLimit = quantityBytesMiB(ctx.size.collector.resources.limits.memory ?? '512Mi');
  const extensions: Config = { health_check: { endpoint: `0.0.0.0:${PORTS.collectorHealth}` } };
  const processors: Config = {
    // Refuse data at 80% of the container limit, before the kernel kills the pod.
    memory_limiter: {
      check_interval: '1s',
      limit_mib: Math.floor(memLimit * 0.8),
      spike_limit_mib: Math.floor(memLimit * 0.2),
    },
    resource: {
      attributes: [
        { key: 'deployment.environment', value: spec.environment, action: 'upsert' },
        { key: 'vigil.stack', value: `${ctx.namespace}/${ctx.stack}`, action: 'upsert' },
      ],
    },
    batch: { send_batch_size: 1024, send_batch_max_size: 2048, timeout: '5s' },
  };
  const exporters: Config = {};
  const traces: string[] = [];
  const logs: string[] = [];
  const metrics: string[] = [];

  if (ctx.on.tempo) {
    exporters['otlp_grpc/tempo'] = { endpoint: `${ctx.host('tempo')}:${PORTS.otlpGrpc}`, tls: { insecure: true } };
    traces.push('otlp_grpc/tempo');
  }
  if (ctx.on.loki) {
    exporters['otlp_http/loki'] = { endpoint: `http://${ctx.host('loki')}:${PORTS.loki}/otlp` };
    logs.push('otlp_http/loki');
  }
  if (ctx.on.prometheus) {
    exporters['otlp_http/prometheus'] = {
      metrics_endpoint: `http://${ctx.host('prometheus')}:${PORTS.prometheus}/api/v1/otlp/v1/metrics`,
    };
    metrics.push('otlp_http/prometheus');
  }
  if (ctx.on.correlator) {
    // The basicauth extension cannot be fetched from the module proxy here (see docs/adr), so the
    // header comes ready-made from the Secret's `authorization` key.
    const headers = spec.correlation?.basicAuthSecretRef
      ? { Authorization: placeholder('env:CORRELATOR_AUTHORIZATION') }
      : undefined;
    if (ctx.size.correlator.replicas > 1) {
      // Every span and log of a trace must reach the same correlator instance to be joined.
      exporters['load_balancing/correlator'] = {
        routing_key: 'traceID',
        protocol: { otlp: { tls: { insecure: true }, headers } },
        resolver: {
          dns: { hostname: `${ctx.name('correlator')}-headless.${ctx.namespace}.svc`, port: `${CORRELATOR_GRPC_PORT}` },
        },
      };
      traces.push('load_balancing/correlator');
      logs.push('load_balancing/correlator');
    } else {
      const base = `http://${ctx.host('correlator')}:${PORTS.correlator}/api/otlp`;
      exporters['otlp_http/correlator'] = {
        traces_endpoint: `${base}/v1/traces`,
        logs_endpoint: `${base}/v1/logs`,
        headers,
      };
      traces.push('otlp_http/correlator');
      logs.push('otlp_http/correlator');
    }
  }

  const sampling = spec.collector?.sampling;
  const tracesProcessors = ['memory_limiter', 'resource'];
  if (sampling && traces.length) {
    const policies: Config[] = [];
    if (sampling.errors) {
      policies.push({ name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } });
    }
    if (sampling.slowerThan) {
      policies.push({
        name: 'slow',
        type: 'latency',
        latency: { threshold_ms: Math.round(durationMs(sampling.slowerThan)) },
      });
    }
    if (sampling.baselinePercent) {
      policies.push({
        name: 'baseline',
        type: 'probabilistic',
        probabilistic: { sampling_percentage: sampling.baselinePercent },
      });
    }
    processors.tail_sampling = { decision_wait: '10s', num_traces: 50000, expected_new_traces_per_sec: 1000, policies };
    tracesProcessors.push('tail_sampling');
  }
  tracesProcessors.push('batch');

  const pipelines: Config = {};
  const clean = (list: string[]) => [...new Set(list)];
  if (traces.length) pipelines.traces = { receivers: ['otlp'], processors: tracesProcessors, exporters: clean(traces) };
  if (metrics.length) {
    pipelines.metrics = {
      receivers: ['otlp'],
      processors: ['memory_limiter', 'resource', 'batch'],
      exporters: metrics,
    };
  }
  if (logs.length) {
    pipelines.logs = {
      receivers: ['otlp'],
      processors: ['memory_limiter', 'resource', 'batch'],
      exporters: clean(logs),
    };
  }

  return {
    extensions,
    receivers: {
      otlp: {
        protocols: {
          grpc: { endpoint: `0.0.0.0:${PORTS.otlpGrpc}` },
          http: { endpoint: `0.0.0.0:${PORTS.otlpHttp}` },
        },
      },
    },
    processors,
    exporters,
    service: {
      extensions: Object.keys(extensions),
      pipelines,
      telemetry: {
        metrics: {
          level: 'normal',
          readers: [{ pull: { exporter: { prometheus: { host: '0.0.0.0', port: PORTS.collectorMetrics } } } }],
        },
      },
    },
  };
}

function durationMs(d: string): number {
  let total = 0;
  const unit: Record<string, number> = { ms: 1, s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7, w: 6.048e8, y: 3.1536e10 };
  for (const m of d.matchAll(/([0-9]+)(ms|s|m|h|d|w|y)/g)) total += Number(m[1]) * unit[m[2]];
  return total;
}

export function collectorChart(scope: Construct, ctx: StackContext): void {
  const c = 'collector';
  const text = yaml.dump(collectorConfig(ctx), { noRefs: true, lineWidth: -1, sortKeys: false });
  configMap(scope, 'config', ctx.name(c), { [CONFIG_FILE]: text });
  serviceAccount(scope, ctx, c);
  const ref = ctx.spec.correlation?.basicAuthSecretRef;
  const env: k8s.EnvVar[] = [
    {
      name: 'GOMEMLIMIT',
      value: `${Math.floor(quantityBytesMiB(ctx.size.collector.resources.limits.memory ?? '512Mi') * 0.8)}MiB`,
    },
  ];
  if (ctx.on.correlator && ref) {
    env.push({
      name: 'CORRELATOR_AUTHORIZATION',
      valueFrom: { secretKeyRef: { name: ref.name, key: 'authorization' } },
    });
  }
  const pod = podTemplate(ctx, c, {
    uid: 10001,
    configHash: configHash(text),
    containers: [
      container({
        name: 'otelcol',
        image: ctx.spec.collector?.image ?? IMAGES.collector,
        args: [`--config=/conf/${CONFIG_FILE}`],
        env,
        ports: [
          { name: 'otlp-grpc', port: PORTS.otlpGrpc },
          { name: 'otlp-http', port: PORTS.otlpHttp },
          { name: 'metrics', port: PORTS.collectorMetrics },
          { name: 'health', port: PORTS.collectorHealth },
        ],
        mounts: [{ name: 'config', mountPath: '/conf', readOnly: true }],
        resources: ctx.size.collector.resources,
        probe: { path: '/', port: 'health' },
      }),
    ],
    volumes: [configMapVolume('config', ctx.name(c))],
  });
  if (ctx.spec.collector?.mode === 'daemonset') {
    new k8s.KubeDaemonSet(scope, 'daemonset', {
      metadata: { name: ctx.name(c) },
      spec: {
        revisionHistoryLimit: 5,
        selector: { matchLabels: selectorLabels(ctx.stack, c) },
        template: pod,
      },
    });
  } else {
    deployment(scope, ctx, c, pod, ctx.size.collector.replicas);
  }
  service(scope, ctx, c, [
    { name: 'otlp-grpc', port: PORTS.otlpGrpc },
    { name: 'otlp-http', port: PORTS.otlpHttp },
    { name: 'metrics', port: PORTS.collectorMetrics },
  ]);
}
