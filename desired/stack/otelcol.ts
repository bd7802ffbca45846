// What the three collector tiers share: the memory limiter, the self-monitoring endpoints, the pod
// they run in, and the route to the correlator that keeps a trace's spans and logs on one replica.
import type { k8s } from 'cdk8s-plus-33';
import { CORRELATOR_ROUTING_ATTRIBUTE } from '../../conventions/index.js';
import { PORTS, placeholder, type StackContext } from './context.js';
import { CORRELATOR_AUTH_KEYS, correlatorAuthSecretName } from './correlator.js';
import { IMAGES } from './images.js';
import type { ComponentName } from './labels.js';
import { type ContainerOptions, container, quantityBytesMiB } from './pod.js';
import { authEnv, PROMETHEUS_AUTHORIZATION_ENV, QUERY_AUTH_KEYS, queryAuthOn } from './query-auth.js';

export type Config = Record<string, unknown>;
export const CONFIG_FILE = 'collector.yaml';
/** The correlator's OTLP/gRPC port, used by the load_balancing exporter (which speaks only gRPC). */
export const CORRELATOR_GRPC_PORT = PORTS.otlpGrpc;

/** The variable that carries the correlator's Authorization header into a collector tier. */
export const CORRELATOR_AUTHORIZATION_ENV = 'CORRELATOR_AUTHORIZATION';

const memLimitMiB = (ctx: StackContext, c: ComponentName) =>
  quantityBytesMiB(ctx.size[c].resources.limits.memory ?? '512Mi');

/** Refuse data at 80% of the container limit, before the kernel kills the pod. */
export function memoryLimiter(ctx: StackContext, c: ComponentName): Config {
  const mem = memLimitMiB(ctx, c);
  return { check_interval: '1s', limit_mib: Math.floor(mem * 0.8), spike_limit_mib: Math.floor(mem * 0.2) };
}

export const BATCH: Config = { send_batch_size: 1024, send_batch_max_size: 2048, timeout: '5s' };

export const healthCheck = (): Config => ({ health_check: { endpoint: `0.0.0.0:${PORTS.collectorHealth}` } });

export function telemetry(): Config {
  return {
    metrics: {
      level: 'normal',
      readers: [{ pull: { exporter: { prometheus: { host: '0.0.0.0', port: PORTS.collectorMetrics } } } }],
    },
  };
}

export function otlpReceiver(grpcOnly = false): Config {
  const grpc = { endpoint: `0.0.0.0:${PORTS.otlpGrpc}` };
  return { otlp: { protocols: grpcOnly ? { grpc } : { grpc, http: { endpoint: `0.0.0.0:${PORTS.otlpHttp}` } } } };
}

/** The otelcol container of a tier: config from /conf, GOMEMLIMIT at 80% of the limit. */
export function otelcolContainer(
  ctx: StackContext,
  c: ComponentName,
  o: Pick<ContainerOptions, 'ports' | 'mounts'> & { env?: k8s.EnvVar[] },
): k8s.Container {
  const env: k8s.EnvVar[] = [{ name: 'GOMEMLIMIT', value: `${Math.floor(memLimitMiB(ctx, c) * 0.8)}MiB` }];
  // The tiers that export to the correlator (the agent sends to the gateway only).
  if (ctx.on.correlator && c !== 'agent') {
    env.push({
      name: CORRELATOR_AUTHORIZATION_ENV,
      valueFrom: {
        secretKeyRef: { name: correlatorAuthSecretName(ctx), key: CORRELATOR_AUTH_KEYS.authorization },
      },
    });
  }
  // The gateway writes metrics to Prometheus (collector.ts).
  if (c === 'collector' && queryAuthOn(ctx, 'prometheus')) {
    env.push(authEnv(ctx, 'prometheus', PROMETHEUS_AUTHORIZATION_ENV, QUERY_AUTH_KEYS.authorization));
  }
  return container({
    name: 'otelcol',
    image: ctx.spec.collector?.image ?? (c === 'agent' ? IMAGES.agent : IMAGES.collector),
    args: [`--config=/conf/${CONFIG_FILE}`],
    env: [...env, ...(o.env ?? [])],
    ports: [
      ...(o.ports ?? []),
      { name: 'metrics', port: PORTS.collectorMetrics },
      { name: 'health', port: PORTS.collectorHealth },
    ],
    mounts: [{ name: 'config', mountPath: '/conf', readOnly: true }, ...(o.mounts ?? [])],
    resources: ctx.size[c].resources,
    probe: { path: '/', port: 'health' },
  });
}

/** Pieces of a config that a tier merges into its own. */
export interface Route {
  exporters: Config;
  processors: Config;
  connectors: Config;
  pipelines: Config;
  /** What the tier's own pipeline lists among its exporters to send there. */
  entry: string;
}

/**
 * The way a tier sends one signal to the correlator. One replica: OTLP/HTTP. More: a load_balancing
 * exporter over the headless Service, keyed for spans and logs alike. v0.161's exporter hashes a
 * span's trace id as its 16 bytes and a log's as its hex string, so routing both by `traceID` splits
 * a trace's logs from its spans; both are routed instead by an attribute that holds the hex trace id,
 * set on a copy of the data (forward connector) so Tempo and Loki never see it
 * (docs/adr/0014-collector-agent-and-gateway.md). Logs without a trace id cannot be joined and do
 * not go to the correlator there: keyed alike, they would all land on one replica.
 */
export function correlatorRoute(ctx: StackContext, signal: 'traces' | 'logs'): Route {
  // Basic auth as a ready-made header from the correlator's auth Secret, through the environment.
  const headers = { Authorization: placeholder(`env:${CORRELATOR_AUTHORIZATION_ENV}`) };
  if (ctx.size.correlator.replicas <= 1) {
    const base = `http://${ctx.host('correlator')}:${PORTS.correlator}/api/otlp`;
    return {
      exporters: {
        'otlp_http/correlator': { traces_endpoint: `${base}/v1/traces`, logs_endpoint: `${base}/v1/logs`, headers },
      },
      processors: {},
      connectors: {},
      pipelines: {},
      entry: 'otlp_http/correlator',
    };
  }
  const key = `attributes["${CORRELATOR_ROUTING_ATTRIBUTE}"]`;
  // One transform for both signals, so that the routes of a tier that sends both merge into one.
  const processors: Config = {
    'transform/correlator_key': {
      error_mode: 'ignore',
      trace_statements: [`set(span.${key}, span.trace_id.string)`],
      log_statements: [`set(log.${key}, log.trace_id.string) where log.trace_id.string != ""`],
    },
  };
  if (signal === 'logs') {
    processors['filter/correlator_traceless'] = {
      error_mode: 'ignore',
      logs: { log_record: ['trace_id.string == ""'] },
    };
  }
  return {
    exporters: {
      'load_balancing/correlator': {
        routing_key: 'attributes',
        routing_attributes: [CORRELATOR_ROUTING_ATTRIBUTE],
        protocol: { otlp: { tls: { insecure: true }, headers } },
        resolver: {
          dns: { hostname: `${ctx.name('correlator')}-headless.${ctx.namespace}.svc`, port: `${CORRELATOR_GRPC_PORT}` },
        },
      },
    },
    processors,
    connectors: { 'forward/correlator': {} },
    pipelines: {
      [`${signal}/correlator`]: {
        receivers: ['forward/correlator'],
        processors: Object.keys(processors).reverse(),
        exporters: ['load_balancing/correlator'],
      },
    },
    entry: 'forward/correlator',
  };
}

/** Merges routes into a config's sections (exporters, processors, connectors, pipelines). */
export function mergeRoutes(
  target: { exporters: Config; processors: Config; connectors: Config; pipelines: Config },
  routes: Route[],
) {
  for (const r of routes) {
    Object.assign(target.exporters, r.exporters);
    Object.assign(target.processors, r.processors);
    Object.assign(target.connectors, r.connectors);
    Object.assign(target.pipelines, r.pipelines);
  }
}

/** The otlp_grpc exporter to Tempo. */
export const tempoExporter = (ctx: StackContext): Config => ({
  'otlp_grpc/tempo': { endpoint: `${ctx.host('tempo')}:${PORTS.otlpGrpc}`, tls: { insecure: true } },
});
