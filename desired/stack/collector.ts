// The gateway: the stack's OTLP entry (`<stack>-collector`, where applications and the agents send).
// It is stateless: metrics go to Prometheus, logs to Loki and the correlator, and traces, when they
// are tail-sampled, to the sampling tier by trace ID (every span of a trace reaches one sampler,
// whatever the replica counts on either side); otherwise straight to Tempo and the correlator.
import type { Construct } from 'constructs';
import yaml from 'js-yaml';
import { PORTS, placeholder, type StackContext } from './context.js';
import { LOKI_LABELS_PROCESSOR, lokiHost, lokiLabelsProcessor } from './loki.js';
import {
  BATCH,
  CONFIG_FILE,
  type Config,
  correlatorRoute,
  healthCheck,
  memoryLimiter,
  mergeRoutes,
  otelcolContainer,
  otlpReceiver,
  telemetry,
  tempoExporter,
} from './otelcol.js';
import { configHash, configMap, configMapVolume, deployment, podTemplate, service, serviceAccount } from './pod.js';
import { PROMETHEUS_AUTHORIZATION_ENV, queryAuthOn } from './query-auth.js';
import { samplerEndpoint, samplingTier } from './sampler.js';

export { CORRELATOR_GRPC_PORT } from './otelcol.js';

/** The gateway's config.yaml for a stack; exported for validation and runs with a real collector. */
export function collectorConfig(ctx: StackContext): Config {
  const spec = ctx.spec;
  const processors: Config = {
    memory_limiter: memoryLimiter(ctx, 'collector'),
    resource: {
      attributes: [
        { key: 'deployment.environment', value: spec.environment, action: 'upsert' },
        { key: 'vigil.stack', value: `${ctx.namespace}/${ctx.stack}`, action: 'upsert' },
      ],
    },
    batch: BATCH,
  };
  const exporters: Config = {};
  const connectors: Config = {};
  const pipelines: Config = {};
  const traces: string[] = [];
  const logs: string[] = [];
  const metrics: string[] = [];

  if (samplingTier(ctx)) {
    // Trace-ID load balancing (the exporter hashes span trace ids as bytes; only spans go this way).
    exporters['load_balancing/sampler'] = {
      routing_key: 'traceID',
      protocol: { otlp: { tls: { insecure: true } } },
      resolver: { dns: samplerEndpoint(ctx) },
    };
    traces.push('load_balancing/sampler');
  } else {
    if (ctx.on.tempo) {
      Object.assign(exporters, tempoExporter(ctx));
      traces.push('otlp_grpc/tempo');
    }
    if (ctx.on.correlator) {
      const r = correlatorRoute(ctx, 'traces');
      mergeRoutes({ exporters, processors, connectors, pipelines }, [r]);
      traces.push(r.entry);
    }
  }
  const logsProc = ['memory_limiter', 'resource'];
  if (ctx.on.loki) {
    exporters['otlp_http/loki'] = { endpoint: `http://${lokiHost(ctx, 'write')}:${PORTS.loki}/otlp` };
    logs.push('otlp_http/loki');
    // The attributes Loki indexes as the stack's stream labels (desired/stack/loki.ts).
    const labels = lokiLabelsProcessor(ctx);
    if ((labels.attributes as unknown[]).length) {
      processors[LOKI_LABELS_PROCESSOR] = labels;
      logsProc.push(LOKI_LABELS_PROCESSOR);
    }
  }
  logsProc.push('batch');
  if (ctx.on.correlator) {
    const r = correlatorRoute(ctx, 'logs');
    mergeRoutes({ exporters, processors, connectors, pipelines }, [r]);
    logs.push(r.entry);
  }
  if (ctx.on.prometheus) {
    exporters['otlp_http/prometheus'] = {
      metrics_endpoint: `http://${ctx.host('prometheus')}:${PORTS.prometheus}/api/v1/otlp/v1/metrics`,
      // Basic auth as a ready-made header from the environment, like the correlator's (no basicauth extension).
      ...(queryAuthOn(ctx, 'prometheus') && {
        headers: { Authorization: placeholder(`env:${PROMETHEUS_AUTHORIZATION_ENV}`) },
      }),
    };
    metrics.push('otlp_http/prometheus');
  }

  const main: Config = {};
  const proc = ['memory_limiter', 'resource', 'batch'];
  if (traces.length) main.traces = { receivers: ['otlp'], processors: proc, exporters: traces };
  if (metrics.length) main.metrics = { receivers: ['otlp'], processors: proc, exporters: metrics };
  if (logs.length) main.logs = { receivers: ['otlp'], processors: logsProc, exporters: logs };

  const extensions = healthCheck();
  return {
    extensions,
    receivers: otlpReceiver(),
    processors,
    exporters,
    ...(Object.keys(connectors).length ? { connectors } : {}),
    service: {
      extensions: Object.keys(extensions),
      pipelines: { ...main, ...pipelines },
      telemetry: telemetry(),
    },
  };
}

/** The same config under the name the docs use for it. */
export const gatewayConfig = collectorConfig;

export function collectorChart(scope: Construct, ctx: StackContext): void {
  const c = 'collector';
  const text = yaml.dump(collectorConfig(ctx), { noRefs: true, lineWidth: -1, sortKeys: false });
  configMap(scope, 'config', ctx.name(c), { [CONFIG_FILE]: text });
  serviceAccount(scope, ctx, c);
  const ports = [
    { name: 'otlp-grpc', port: PORTS.otlpGrpc },
    { name: 'otlp-http', port: PORTS.otlpHttp },
  ];
  const pod = podTemplate(ctx, c, {
    uid: 10001,
    configHash: configHash(text),
    containers: [otelcolContainer(ctx, c, { ports })],
    volumes: [configMapVolume('config', ctx.name(c))],
  });
  deployment(scope, ctx, c, pod, ctx.size.collector.replicas);
  service(scope, ctx, c, [...ports, { name: 'metrics', port: PORTS.collectorMetrics }]);
}
