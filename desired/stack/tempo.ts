// Tempo: OTLP in, the metrics generator (service graphs, span metrics) remote-writes to Prometheus
// with exemplars, retention by the compactor. A single binary on a PVC or S3; at sizes medium and
// large with S3, the scalable single binary: every replica runs every target (distributor,
// ingester, querier, query frontend, compactor, metrics generator) in one memberlist ring
// (scalable.ts, docs/adr/0017-scalable-loki-tempo.md).
import type { Construct } from 'constructs';
import yaml from 'js-yaml';
import { goDuration, PORTS, placeholder, type StackContext } from './context.js';
import { IMAGES } from './images.js';
import {
  configHash,
  configMap,
  configMapVolume,
  container,
  emptyDir,
  podTemplate,
  service,
  serviceAccount,
  statefulSet,
} from './pod.js';
import { authSecretMount, authSecretVolume, basicAuthFiles, queryAuthOn } from './query-auth.js';
import { GOSSIP_PORT, REPLICATION_FACTOR, scalable, tempoScalableSizing } from './scalable.js';
import { s3Endpoint, s3Env } from './storage.js';

type Config = Record<string, unknown>;

/** The headless Service the scalable replicas join the ring and find the query frontends through. */
const tempoHeadless = (ctx: StackContext) => `${ctx.name('tempo')}-headless.${ctx.namespace}.svc`;

/** tempo.yaml for a stack. */
export function tempoConfig(ctx: StackContext): Config {
  const t = ctx.spec.traces;
  const s3 = ctx.spec.objectStorage?.s3;
  const processors = [
    ...(t?.serviceGraphs !== false ? ['service-graphs'] : []),
    ...(t?.spanMetrics !== false ? ['span-metrics'] : []),
  ];
  const generate = ctx.on.prometheus && processors.length > 0;
  const config: Config = {
    stream_over_http_enabled: true,
    server: { http_listen_port: PORTS.tempo, grpc_listen_port: 9095, log_level: 'info' },
    distributor: {
      receivers: {
        otlp: {
          protocols: {
            grpc: { endpoint: `0.0.0.0:${PORTS.otlpGrpc}` },
            http: { endpoint: `0.0.0.0:${PORTS.otlpHttp}` },
          },
        },
      },
    },
    ingester: scalable(ctx)
      ? { max_block_duration: '5m', lifecycler: { ring: { replication_factor: REPLICATION_FACTOR } } }
      : { max_block_duration: '5m' },
    compactor: { compaction: { block_retention: goDuration(t?.retention ?? '7d') } },
    storage: {
      trace: s3
        ? {
            backend: 's3',
            wal: { path: '/var/tempo/wal' },
            s3: {
              bucket: s3.bucket,
              prefix: 'tempo',
              endpoint: s3Endpoint(s3).host,
              insecure: s3Endpoint(s3).insecure,
              region: s3.region,
              forcepathstyle: true,
              access_key: placeholder('AWS_ACCESS_KEY_ID'),
              secret_key: placeholder('AWS_SECRET_ACCESS_KEY'),
            },
          }
        : { backend: 'local', wal: { path: '/var/tempo/wal' }, local: { path: '/var/tempo/blocks' } },
    },
    usage_report: { reporting_enabled: false },
  };
  if (scalable(ctx)) {
    config.memberlist = {
      join_members: [`${tempoHeadless(ctx)}:${GOSSIP_PORT}`],
      bind_port: GOSSIP_PORT,
      abort_if_cluster_join_fails: false,
    };
    // Every querier takes work from every query frontend (the headless name resolves to all pods).
    config.querier = { frontend_worker: { frontend_address: `${tempoHeadless(ctx)}:9095` } };
  }
  if (generate) {
    config.metrics_generator = {
      registry: { external_labels: { source: 'tempo', vigil_stack: ctx.stack } },
      storage: {
        path: '/var/tempo/generator/wal',
        remote_write: [
          {
            url: `http://${ctx.host('prometheus')}:${PORTS.prometheus}/api/v1/write`,
            send_exemplars: true,
            // Prometheus's remote write config: the credentials from the auth Secret's mounted files.
            ...(queryAuthOn(ctx, 'prometheus') && { basic_auth: basicAuthFiles('prometheus') }),
          },
        ],
      },
      traces_storage: { path: '/var/tempo/generator/traces' },
    };
    config.overrides = { defaults: { metrics_generator: { processors } } };
  }
  return config;
}

/** Whether Tempo's metrics generator remote-writes to a Prometheus that asks for Basic auth. */
function tempoWritesWithAuth(ctx: StackContext): boolean {
  return queryAuthOn(ctx, 'prometheus') && !!tempoConfig(ctx).metrics_generator;
}

export function tempoChart(scope: Construct, ctx: StackContext): void {
  const c = 'tempo';
  const text = yaml.dump(tempoConfig(ctx), { noRefs: true, lineWidth: -1 });
  configMap(scope, 'config', ctx.name(c), { 'tempo.yaml': text });
  serviceAccount(scope, ctx, c);
  const s3 = ctx.spec.objectStorage?.s3;
  const ring = scalable(ctx);
  const size = ring ? tempoScalableSizing(ctx) : ctx.size.tempo;
  const pod = podTemplate(ctx, c, {
    uid: 10001,
    configHash: configHash(text),
    containers: [
      container({
        name: 'tempo',
        image: ctx.spec.traces?.image ?? IMAGES.tempo,
        args: [
          '-config.file=/etc/tempo/tempo.yaml',
          '-config.expand-env=true',
          `-target=${ring ? 'scalable-single-binary' : 'all'}`,
        ],
        env: s3 ? s3Env(s3) : undefined,
        ports: [
          { name: 'http', port: PORTS.tempo },
          { name: 'grpc', port: 9095 },
          { name: 'otlp-grpc', port: PORTS.otlpGrpc },
          { name: 'otlp-http', port: PORTS.otlpHttp },
          ...(ring ? [{ name: 'gossip', port: GOSSIP_PORT }] : []),
        ],
        mounts: [
          { name: 'config', mountPath: '/etc/tempo', readOnly: true },
          { name: 'data', mountPath: '/var/tempo' },
          { name: 'tmp', mountPath: '/tmp' },
          ...(tempoWritesWithAuth(ctx) ? [authSecretMount('prometheus')] : []),
        ],
        resources: size.resources,
        probe: { path: '/ready', port: 'http' },
      }),
    ],
    volumes: [
      configMapVolume('config', ctx.name(c)),
      emptyDir('tmp'),
      ...(tempoWritesWithAuth(ctx) ? [authSecretVolume(ctx, 'prometheus')] : []),
    ],
  });
  statefulSet(scope, ctx, c, pod, {
    replicas: size.replicas,
    serviceName: ctx.name(c),
    volume: {
      name: 'data',
      size: size.storage ?? '10Gi',
      storageClassName: ctx.spec.traces?.storage?.storageClassName,
    },
  });
  service(scope, ctx, c, [
    { name: 'http', port: PORTS.tempo },
    { name: 'grpc', port: 9095 },
    { name: 'otlp-grpc', port: PORTS.otlpGrpc },
    { name: 'otlp-http', port: PORTS.otlpHttp },
  ]);
  if (ring) {
    service(
      scope,
      ctx,
      c,
      [
        { name: 'grpc', port: 9095 },
        { name: 'gossip', port: GOSSIP_PORT },
      ],
      { id: 'headless', name: `${ctx.name(c)}-headless`, headless: true },
    );
  }
}
