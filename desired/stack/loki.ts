// Loki: schema v13 on TSDB, structured metadata (trace_id lives there, never in a label),
// retention through the compactor. A single binary on a PVC or S3; at sizes medium and large with
// S3, the simple scalable targets write, read and backend in one memberlist ring (scalable.ts,
// docs/adr/0017-scalable-loki-tempo.md).

import type { k8s } from 'cdk8s-plus-33';
import type { Construct } from 'constructs';
import yaml from 'js-yaml';
import { DEFAULT_LOKI_LABELS, LOKI_LABEL_SOURCES } from '../../conventions/index.js';
import { goDuration, PORTS, placeholder, type StackContext } from './context.js';
import { IMAGES } from './images.js';
import { LABEL_TARGET } from './labels.js';
import {
  configHash,
  configMap,
  configMapVolume,
  container,
  deployment,
  emptyDir,
  podTemplate,
  service,
  serviceAccount,
  statefulSet,
} from './pod.js';
import {
  GOSSIP_PORT,
  LOKI_TARGETS,
  type LokiTarget,
  lokiTargetSizing,
  REPLICATION_FACTOR,
  scalable,
} from './scalable.js';
import type { Sizing } from './sizing.js';
import { s3Endpoint, s3Env } from './storage.js';

type Config = Record<string, unknown>;

export interface StreamLabel {
  /** The Loki stream label, and the OTLP resource attribute Loki indexes under that name. */
  label: string;
  /** The resource attribute the collector copies it from (the label itself when they are one). */
  source: string;
}

/**
 * The stream labels of application logs: spec.logs.labels, or namespace, container and service. The
 * collector's logs pipeline to Loki copies each `source` into a resource attribute named `label`
 * (Loki indexes attributes by name and cannot rename them); Loki keeps every other attribute, the
 * log record's trace_id and span_id included, as structured metadata.
 */
export function lokiStreamLabels(ctx: StackContext): StreamLabel[] {
  const labels = ctx.spec.logs?.labels ?? DEFAULT_LOKI_LABELS;
  return [...new Set(labels)].map((label) => ({ label, source: LOKI_LABEL_SOURCES[label] ?? label }));
}

/** The resource processor's name in the collector's logs pipeline to Loki. */
export const LOKI_LABELS_PROCESSOR = 'resource/loki-labels';

/**
 * The resource processor that gives each log record's resource the attributes Loki indexes: every
 * stream label whose source is another attribute is copied from it (`insert`: a resource that
 * already has an attribute of the label's name keeps it). Belongs in the logs pipeline to Loki.
 */
export function lokiLabelsProcessor(ctx: StackContext): Config {
  return {
    attributes: lokiStreamLabels(ctx)
      .filter((l) => l.source !== l.label)
      .map((l) => ({ key: l.label, from_attribute: l.source, action: 'insert' })),
  };
}

/** limits_config.otlp_config: exactly the stack's stream labels are index labels. */
export function lokiOtlpConfig(ctx: StackContext): Config {
  return {
    resource_attributes: {
      // Loki's own list (service.name, k8s.pod.name... under dotted names) would add pod and more.
      ignore_defaults: true,
      attributes_config: [
        { action: 'index_label', attributes: lokiStreamLabels(ctx).map((l) => l.label) },
        { action: 'structured_metadata', regex: '.*' },
      ],
    },
  };
}

/**
 * The in-cluster host of Loki, for one side of it: `write` takes pushes, `read` answers queries. The
 * single binary's Service does both.
 */
export function lokiHost(ctx: StackContext, side: 'write' | 'read' | 'backend'): string {
  return scalable(ctx) ? `${ctx.name('loki')}-${side}.${ctx.namespace}.svc` : ctx.host('loki');
}

/** The headless Service every scalable Loki pod joins the ring through. */
const memberlistHost = (ctx: StackContext) => `${ctx.name('loki')}-memberlist.${ctx.namespace}.svc`;

/** loki.yaml for a stack; exported for its structural check (test/unit/charts/structural.ts). */
export function lokiConfig(ctx: StackContext): Config {
  const s3 = ctx.spec.objectStorage?.s3;
  const store = s3 ? 's3' : 'filesystem';
  const storage: Config = s3
    ? {
        s3: {
          endpoint: s3Endpoint(s3).host,
          insecure: s3Endpoint(s3).insecure,
          bucketnames: s3.bucket,
          region: s3.region,
          s3forcepathstyle: true,
          // Expanded by Loki from the environment (-config.expand-env), never written here.
          access_key_id: placeholder('AWS_ACCESS_KEY_ID'),
          secret_access_key: placeholder('AWS_SECRET_ACCESS_KEY'),
        },
      }
    : { filesystem: { chunks_directory: '/var/loki/chunks', rules_directory: '/var/loki/rules' } };
  const ring = scalable(ctx);
  const common: Config = ring
    ? {
        // Each member gossips its own pod address (no instance_addr): the others reach it there.
        path_prefix: '/var/loki',
        replication_factor: REPLICATION_FACTOR,
        ring: { kvstore: { store: 'memberlist' } },
        compactor_address: `http://${lokiHost(ctx, 'backend')}:${PORTS.loki}`,
        storage,
      }
    : {
        instance_addr: '127.0.0.1',
        path_prefix: '/var/loki',
        replication_factor: 1,
        ring: { kvstore: { store: 'inmemory' } },
        storage,
      };
  return {
    auth_enabled: false,
    server: { http_listen_port: PORTS.loki, grpc_listen_port: 9095, log_level: 'info' },
    common,
    ...(ring && {
      memberlist: { join_members: [`${memberlistHost(ctx)}:${GOSSIP_PORT}`], bind_port: GOSSIP_PORT },
    }),
    schema_config: {
      configs: [
        {
          from: '2024-01-01',
          store: 'tsdb',
          object_store: store,
          schema: 'v13',
          index: { prefix: 'index_', period: '24h' },
        },
      ],
    },
    limits_config: {
      allow_structured_metadata: true,
      otlp_config: lokiOtlpConfig(ctx),
      // Loki would otherwise add a service_name label guessed from the others.
      discover_service_name: [],
      retention_period: goDuration(ctx.spec.logs?.retention ?? '7d'),
      volume_enabled: true,
    },
    compactor: {
      working_directory: '/var/loki/compactor',
      compaction_interval: '10m',
      retention_enabled: true,
      retention_delete_delay: '2h',
      delete_request_store: store,
    },
    pattern_ingester: { enabled: false },
    analytics: { reporting_enabled: false },
  };
}

const lokiPorts = [
  { name: 'http', port: PORTS.loki },
  { name: 'grpc', port: 9095 },
];

function lokiContainer(ctx: StackContext, target: string, resources: Sizing['resources']): k8s.Container {
  const s3 = ctx.spec.objectStorage?.s3;
  return container({
    name: 'loki',
    image: ctx.spec.logs?.image ?? IMAGES.loki,
    args: ['-config.file=/etc/loki/loki.yaml', '-config.expand-env=true', `-target=${target}`],
    env: s3 ? s3Env(s3) : undefined,
    ports: target === 'all' ? lokiPorts : [...lokiPorts, { name: 'gossip', port: GOSSIP_PORT }],
    mounts: [
      { name: 'config', mountPath: '/etc/loki', readOnly: true },
      { name: 'data', mountPath: '/var/loki' },
      { name: 'tmp', mountPath: '/tmp' },
    ],
    resources,
    probe: { path: '/ready', port: 'http' },
  });
}

export function lokiChart(scope: Construct, ctx: StackContext): void {
  const c = 'loki';
  const text = yaml.dump(lokiConfig(ctx), { noRefs: true, lineWidth: -1 });
  configMap(scope, 'config', ctx.name(c), { 'loki.yaml': text });
  serviceAccount(scope, ctx, c);
  if (scalable(ctx)) {
    for (const t of LOKI_TARGETS) lokiTarget(scope, ctx, t, text);
    // Every target joins the one ring; not-ready members too, so that a starting ring can form.
    service(scope, ctx, c, [{ name: 'gossip', port: GOSSIP_PORT }], {
      id: 'memberlist',
      name: `${ctx.name(c)}-memberlist`,
      headless: true,
    });
    return;
  }
  const size = ctx.size.loki;
  const pod = podTemplate(ctx, c, {
    uid: 10001,
    configHash: configHash(text),
    containers: [lokiContainer(ctx, 'all', size.resources)],
    volumes: [configMapVolume('config', ctx.name(c)), emptyDir('tmp')],
  });
  // With S3 the volume still holds the WAL, TSDB head and compactor state.
  statefulSet(scope, ctx, c, pod, {
    replicas: size.replicas,
    serviceName: ctx.name(c),
    volume: { name: 'data', size: size.storage ?? '10Gi', storageClassName: ctx.spec.logs?.storage?.storageClassName },
  });
  service(scope, ctx, c, lokiPorts);
}

/**
 * One simple scalable target: write (distributors and ingesters, their WAL on a volume) and backend
 * (compactor with retention, query scheduler, index gateway, ruler) as StatefulSets, read (query
 * frontends and queriers, stateless) as a Deployment; each behind its own Service.
 */
function lokiTarget(scope: Construct, ctx: StackContext, t: LokiTarget, text: string): void {
  const c = 'loki';
  const size = lokiTargetSizing(ctx, t);
  const name = `${ctx.name(c)}-${t}`;
  const selector = { [LABEL_TARGET]: t };
  const stateful = t !== 'read';
  const pod = podTemplate(ctx, c, {
    uid: 10001,
    configHash: configHash(text),
    labels: selector,
    containers: [lokiContainer(ctx, t, size.resources)],
    volumes: [configMapVolume('config', ctx.name(c)), emptyDir('tmp'), ...(stateful ? [] : [emptyDir('data')])],
  });
  if (stateful) {
    statefulSet(scope, ctx, c, pod, {
      id: `statefulset-${t}`,
      name,
      selector,
      replicas: size.replicas,
      serviceName: name,
      volume: {
        name: 'data',
        size: size.storage ?? '10Gi',
        storageClassName:
          ctx.spec.logs?.targets?.[t]?.storage?.storageClassName ?? ctx.spec.logs?.storage?.storageClassName,
      },
    });
  } else {
    deployment(scope, ctx, c, pod, size.replicas, { id: `deployment-${t}`, name, selector });
  }
  service(scope, ctx, c, lokiPorts, { id: `service-${t}`, name, selector });
}
