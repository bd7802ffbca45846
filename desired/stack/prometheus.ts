// Prometheus: scrapes every component of the stack and annotated pods of the namespace, loads the
// SLO rule ConfigMaps (collected by a sidecar, reloaded without a restart) and Vigil's own alerts,
// receives OTLP metrics and Tempo's remote write, stores exemplars.
import type { Construct } from 'constructs';
import yaml from 'js-yaml';
import { LABEL_COMPONENT, LABEL_RULES_FOR, LABEL_STACK } from '../../conventions/index.js';
import { PORTS, type StackContext } from './context.js';
import { IMAGES } from './images.js';
import type { ComponentName } from './labels.js';
import {
  configHash,
  configMap,
  configMapVolume,
  configSidecar,
  container,
  emptyDir,
  podTemplate,
  role,
  service,
  serviceAccount,
  statefulSet,
} from './pod.js';
import { stackAlertFiles } from './stack-alerts.js';

export const RULES_DIR = '/etc/prometheus/rules';
const SLO_RULES_DIR = `${RULES_DIR}/slo`;
const STACK_RULES_DIR = `${RULES_DIR}/vigil`;

/** Which container port each scraped component serves its metrics on. */
const METRICS_PORT: Partial<Record<ComponentName, string>> = {
  collector: 'metrics',
  alertmanager: 'http',
  loki: 'http',
  tempo: 'http',
  grafana: 'http',
  correlator: 'http',
};

type Config = Record<string, unknown>;

function componentJob(ctx: StackContext, c: ComponentName, port: string): Config {
  return {
    job_name: c,
    kubernetes_sd_configs: [
      {
        role: 'pod',
        namespaces: { names: [ctx.namespace] },
        selectors: [{ role: 'pod', label: `${LABEL_STACK}=${ctx.stack},${LABEL_COMPONENT}=${c}` }],
      },
    ],
    relabel_configs: [
      { source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: port, action: 'keep' },
      { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
      { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
    ],
  };
}

/** Pods that opt in with the prometheus.io/scrape, /port, /path annotations. */
function annotatedPodsJob(ctx: StackContext): Config {
  const ann = (a: string) => `__meta_kubernetes_pod_annotation_prometheus_io_${a}`;
  return {
    job_name: 'annotated-pods',
    kubernetes_sd_configs: [{ role: 'pod', namespaces: { names: [ctx.namespace] } }],
    relabel_configs: [
      { source_labels: [ann('scrape')], regex: 'true', action: 'keep' },
      // Stack components are scraped by their own jobs above.
      {
        source_labels: [`__meta_kubernetes_pod_label_${LABEL_STACK.replace(/[./]/g, '_')}`],
        regex: '.+',
        action: 'drop',
      },
      { source_labels: [ann('path')], regex: '(.+)', target_label: '__metrics_path__' },
      {
        source_labels: ['__address__', ann('port')],
        regex: '([^:]+)(?::\\d+)?;(\\d+)',
        replacement: '$1:$2',
        target_label: '__address__',
      },
      { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
      { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
    ],
  };
}

/** prometheus.yml for a stack; exported for `promtool check config`. */
export function prometheusConfig(ctx: StackContext): Config {
  const interval = ctx.spec.metrics?.scrapeInterval ?? '30s';
  const jobs: Config[] = [{ job_name: 'prometheus', static_configs: [{ targets: [`localhost:${PORTS.prometheus}`] }] }];
  for (const [c, port] of Object.entries(METRICS_PORT) as [ComponentName, string][]) {
    if (ctx.on[c]) jobs.push(componentJob(ctx, c, port));
  }
  jobs.push(annotatedPodsJob(ctx));
  const config: Config = {
    global: {
      scrape_interval: interval,
      evaluation_interval: interval,
      external_labels: { vigil_stack: ctx.stack, vigil_namespace: ctx.namespace },
    },
    rule_files: [`${STACK_RULES_DIR}/*.yaml`, `${SLO_RULES_DIR}/*`],
    scrape_configs: jobs,
    storage: { exemplars: { max_exemplars: 100000 } },
  };
  if (ctx.on.alertmanager) {
    config.alerting = {
      alertmanagers: [
        {
          kubernetes_sd_configs: [
            {
              role: 'pod',
              namespaces: { names: [ctx.namespace] },
              selectors: [{ role: 'pod', label: `${LABEL_STACK}=${ctx.stack},${LABEL_COMPONENT}=alertmanager` }],
            },
          ],
          relabel_configs: [
            { source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: 'http', action: 'keep' },
          ],
        },
      ],
    };
  }
  return config;
}

export function prometheusArgs(ctx: StackContext): string[] {
  const m = ctx.spec.metrics;
  const args = [
    '--config.file=/etc/prometheus/prometheus.yml',
    '--storage.tsdb.path=/prometheus',
    `--storage.tsdb.retention.time=${m?.retention ?? '15d'}`,
    '--web.enable-lifecycle',
    '--web.enable-otlp-receiver',
    '--web.enable-remote-write-receiver',
    '--enable-feature=exemplar-storage',
  ];
  if (m?.retentionSize) args.push(`--storage.tsdb.retention.size=${m.retentionSize}`);
  return args;
}

export function prometheusChart(scope: Construct, ctx: StackContext): void {
  const c = 'prometheus';
  const config = yaml.dump(prometheusConfig(ctx), { noRefs: true, lineWidth: -1 });
  const rules = stackAlertFiles(ctx);
  configMap(scope, 'config', ctx.name(c), { 'prometheus.yml': config });
  configMap(scope, 'rules', `${ctx.name(c)}-rules`, rules);
  serviceAccount(scope, ctx, c, true);
  role(scope, ctx, c, [
    // kubernetes_sd (pods) and the rules sidecar (configmaps), in this namespace only.
    { apiGroups: [''], resources: ['pods', 'services', 'endpoints'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] },
  ]);
  const size = ctx.size.prometheus;
  const pod = podTemplate(ctx, c, {
    uid: 65534,
    apiAccess: true,
    configHash: configHash(config, ...Object.values(rules)),
    containers: [
      container({
        name: 'prometheus',
        image: ctx.spec.metrics?.image ?? IMAGES.prometheus,
        args: prometheusArgs(ctx),
        ports: [{ name: 'http', port: PORTS.prometheus }],
        mounts: [
          { name: 'config', mountPath: '/etc/prometheus/prometheus.yml', subPath: 'prometheus.yml', readOnly: true },
          { name: 'stack-rules', mountPath: STACK_RULES_DIR, readOnly: true },
          { name: 'slo-rules', mountPath: SLO_RULES_DIR, readOnly: true },
          { name: 'data', mountPath: '/prometheus' },
        ],
        resources: size.resources,
        probe: { path: '/-/ready', port: 'http' },
      }),
      configSidecar({
        image: IMAGES.configSidecar,
        label: LABEL_RULES_FOR,
        labelValue: ctx.stack,
        namespace: ctx.namespace,
        folder: SLO_RULES_DIR,
        mount: { name: 'slo-rules', mountPath: SLO_RULES_DIR },
        reloadUrl: `http://localhost:${PORTS.prometheus}/-/reload`,
      }),
    ],
    volumes: [
      configMapVolume('config', ctx.name(c)),
      configMapVolume('stack-rules', `${ctx.name(c)}-rules`),
      emptyDir('slo-rules'),
    ],
  });
  statefulSet(scope, ctx, c, pod, {
    replicas: size.replicas,
    serviceName: ctx.name(c),
    volume: {
      name: 'data',
      size: size.storage ?? '10Gi',
      storageClassName: ctx.spec.metrics?.storage?.storageClassName,
    },
  });
  service(scope, ctx, c, [{ name: 'http', port: PORTS.prometheus }]);
}
