// The sampling tier: tail_sampling behind the gateway's trace-ID load balancing, so each replica
// decides on whole traces. Kept traces go to Tempo and the correlator. The gateway finds each
// replica through a headless Service (the DNS resolver sees every ready pod's address).
import { k8s } from 'cdk8s-plus-33';
import type { Construct } from 'constructs';
import yaml from 'js-yaml';
import { durationMs } from '../../lib/durations.js';
import { PORTS, type StackContext } from './context.js';
import { selectorLabels } from './labels.js';
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

/** Whether the stack has a sampling tier: traces are tail-sampled and have somewhere to go. */
export const samplingTier = (ctx: StackContext): boolean => ctx.on.sampler;

/** The headless Service of the sampling tier, as the gateway's DNS resolver names it. */
export function samplerEndpoint(ctx: StackContext): { hostname: string; port: string } {
  return { hostname: `${ctx.name('sampler')}-headless.${ctx.namespace}.svc`, port: `${PORTS.otlpGrpc}` };
}

export function tailSampling(ctx: StackContext): Config {
  const sampling = ctx.spec.collector?.sampling;
  const policies: Config[] = [];
  if (sampling?.errors) {
    policies.push({ name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } });
  }
  if (sampling?.slowerThan) {
    policies.push({
      name: 'slow',
      type: 'latency',
      latency: { threshold_ms: Math.round(durationMs(sampling.slowerThan)) },
    });
  }
  if (sampling?.baselinePercent) {
    policies.push({
      name: 'baseline',
      type: 'probabilistic',
      probabilistic: { sampling_percentage: sampling.baselinePercent },
    });
  }
  return { decision_wait: '10s', num_traces: 50000, expected_new_traces_per_sec: 1000, policies };
}

export function samplerConfig(ctx: StackContext): Config {
  const processors: Config = {
    memory_limiter: memoryLimiter(ctx, 'sampler'),
    tail_sampling: tailSampling(ctx),
    batch: BATCH,
  };
  const exporters: Config = {};
  const connectors: Config = {};
  const pipelines: Config = {};
  const out: string[] = [];
  if (ctx.on.tempo) {
    Object.assign(exporters, tempoExporter(ctx));
    out.push('otlp_grpc/tempo');
  }
  if (ctx.on.correlator) {
    const r = correlatorRoute(ctx, 'traces');
    mergeRoutes({ exporters, processors, connectors, pipelines }, [r]);
    out.push(r.entry);
  }
  const extensions = healthCheck();
  return {
    extensions,
    receivers: otlpReceiver(true),
    processors,
    exporters,
    ...(Object.keys(connectors).length ? { connectors } : {}),
    service: {
      extensions: Object.keys(extensions),
      pipelines: {
        traces: { receivers: ['otlp'], processors: ['memory_limiter', 'tail_sampling', 'batch'], exporters: out },
        ...pipelines,
      },
      telemetry: telemetry(),
    },
  };
}

export function samplerChart(scope: Construct, ctx: StackContext): void {
  const c = 'sampler';
  const text = yaml.dump(samplerConfig(ctx), { noRefs: true, lineWidth: -1, sortKeys: false });
  configMap(scope, 'config', ctx.name(c), { [CONFIG_FILE]: text });
  serviceAccount(scope, ctx, c);
  const ports = [{ name: 'otlp-grpc', port: PORTS.otlpGrpc }];
  const pod = podTemplate(ctx, c, {
    uid: 10001,
    configHash: configHash(text),
    containers: [otelcolContainer(ctx, c, { ports })],
    volumes: [configMapVolume('config', ctx.name(c))],
  });
  deployment(scope, ctx, c, pod, ctx.size.sampler.replicas);
  service(scope, ctx, c, [...ports, { name: 'metrics', port: PORTS.collectorMetrics }]);
  // Ready pods only (unlike pod.ts's headless Services): a starting sampler would be handed traces
  // it cannot take yet.
  new k8s.KubeService(scope, 'headless', {
    metadata: { name: `${ctx.name(c)}-headless` },
    spec: {
      type: 'ClusterIP',
      clusterIp: 'None',
      selector: selectorLabels(ctx.stack, c),
      ports: ports.map((p) => ({
        name: p.name,
        port: p.port,
        targetPort: k8s.IntOrString.fromString(p.name),
        protocol: 'TCP',
      })),
    },
  });
}
