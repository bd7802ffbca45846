// Grafana with the datasources wired for correlation: exemplars → Tempo, Loki trace_id → Tempo,
// Tempo → Loki (tracesToLogsV2) and → Prometheus (tracesToMetrics, serviceMap), node graph.
// Dashboards come from ConfigMaps labelled grafana_dashboard, collected by a sidecar at runtime.
import { k8s } from 'cdk8s-plus-33';
import type { Construct } from 'constructs';
import yaml from 'js-yaml';
import { DATASOURCE_UIDS, LABEL_GRAFANA_DASHBOARD } from '../../conventions/index.js';
import { DASHBOARDS, dashboardConfigMapName, dashboardFileKey, dashboardText } from '../shipped/index.js';
import { PORTS, placeholder, type StackContext } from './context.js';
import { IMAGES } from './images.js';
import { lokiHost, lokiStreamLabels } from './loki.js';
import {
  configHash,
  configMap,
  configMapVolume,
  configSidecar,
  container,
  deployment,
  emptyDir,
  podTemplate,
  role,
  service,
  serviceAccount,
} from './pod.js';
import {
  authEnv,
  GRAFANA_PROMETHEUS_PASSWORD_ENV,
  GRAFANA_PROMETHEUS_USER_ENV,
  QUERY_AUTH_KEYS,
  queryAuthOn,
} from './query-auth.js';
import { metricsQuery } from './wiring.js';

const DASHBOARDS_DIR = '/var/lib/grafana/dashboards';

/** The Secret the operator generates when spec.grafana.adminSecretRef is absent. */
export function grafanaAdminSecretName(ctx: StackContext): string {
  return ctx.spec.grafana?.adminSecretRef?.name ?? `${ctx.name('grafana')}-admin`;
}

type Config = Record<string, unknown>;

/**
 * The exemplar labels that carry a trace id: `trace_id` on OTLP application metrics (Prometheus's
 * OTLP receiver), `traceID` on the span metrics and service graphs of Tempo's metrics generator.
 */
export const EXEMPLAR_TRACE_ID_LABELS = ['trace_id', 'traceID'] as const;

/** Datasources as Grafana's provisioning reads them, before `$` is escaped. */
export function grafanaDatasources(ctx: StackContext): Config {
  const ds: Config[] = [];
  const { prometheus, loki, tempo } = { prometheus: ctx.on.prometheus, loki: ctx.on.loki, tempo: ctx.on.tempo };
  if (prometheus) {
    ds.push({
      name: 'Prometheus',
      type: 'prometheus',
      uid: DATASOURCE_UIDS.prometheus,
      access: 'proxy',
      // Thanos Query in front of an HA pair: one deduplicated series per replica pair.
      url: metricsQuery(ctx).url,
      isDefault: true,
      // Basic auth from the pod's environment (Grafana expands $VAR in provisioning files): the
      // credentials stay in the auth Secret, the ConfigMap names only the variables.
      ...(queryAuthOn(ctx, 'prometheus') && {
        basicAuth: true,
        basicAuthUser: GRAFANA_ENV_REF(GRAFANA_PROMETHEUS_USER_ENV),
        secureJsonData: { basicAuthPassword: GRAFANA_ENV_REF(GRAFANA_PROMETHEUS_PASSWORD_ENV) },
      }),
      jsonData: {
        httpMethod: 'POST',
        ...(tempo && {
          // One destination per label name an exemplar's trace id arrives under.
          exemplarTraceIdDestinations: EXEMPLAR_TRACE_ID_LABELS.map((name) => ({
            name,
            datasourceUid: DATASOURCE_UIDS.tempo,
            urlDisplayLabel: `Trace: ${placeholder('__value.raw')}`,
          })),
        }),
      },
    });
  }
  if (loki) {
    ds.push({
      name: 'Loki',
      type: 'loki',
      uid: DATASOURCE_UIDS.loki,
      access: 'proxy',
      url: `http://${lokiHost(ctx, 'read')}:${PORTS.loki}`,
      jsonData: {
        maxLines: 1000,
        ...(tempo && {
          // trace_id is OTLP structured metadata, so the field is matched by label name.
          derivedFields: [
            {
              name: 'trace_id',
              matcherType: 'label',
              matcherRegex: 'trace_id',
              url: placeholder('__value.raw'),
              datasourceUid: DATASOURCE_UIDS.tempo,
              urlDisplayLabel: `Trace: ${placeholder('__value.raw')}`,
            },
          ],
        }),
      },
    });
  }
  if (tempo) {
    ds.push({
      name: 'Tempo',
      type: 'tempo',
      uid: DATASOURCE_UIDS.tempo,
      access: 'proxy',
      url: `http://${ctx.host('tempo')}:${PORTS.tempo}`,
      jsonData: {
        ...(loki && {
          tracesToLogsV2: {
            datasourceUid: DATASOURCE_UIDS.loki,
            spanStartTimeShift: '-5m',
            spanEndTimeShift: '5m',
            // A span's resource attribute → the Loki stream label the collector copied it into.
            tags: lokiStreamLabels(ctx)
              .filter((l) => l.source !== l.label)
              .map((l) => ({ key: l.source, value: l.label })),
            customQuery: true,
            query: `{${placeholder('__tags')}} | trace_id="${placeholder('__trace.traceId')}"`,
          },
        }),
        ...(prometheus && {
          tracesToMetrics: {
            datasourceUid: DATASOURCE_UIDS.prometheus,
            spanStartTimeShift: '-5m',
            spanEndTimeShift: '5m',
            tags: [{ key: 'service.name', value: 'service' }],
            queries: [
              {
                name: 'Request rate',
                query: `sum(rate(traces_spanmetrics_calls_total{${placeholder('__tags')}}[5m]))`,
              },
              {
                name: 'Latency p95',
                query: `histogram_quantile(0.95, sum by (le) (rate(traces_spanmetrics_latency_bucket{${placeholder('__tags')}}[5m])))`,
              },
            ],
          },
          serviceMap: { datasourceUid: DATASOURCE_UIDS.prometheus },
        }),
        nodeGraph: { enabled: true },
        search: { hide: false },
        traceQuery: { timeShiftEnabled: true, spanStartTimeShift: '-5m', spanEndTimeShift: '5m' },
      },
    });
  }
  return { apiVersion: 1, datasources: ds };
}

/**
 * A reference to one of the pod's variables in a datasource. escapeDollars leaves exactly these
 * unescaped (the names are Vigil's, never a user's text).
 */
const GRAFANA_ENV_REF = (name: string): string => `\${${name}}`;
const GRAFANA_ENV_NAMES = [GRAFANA_PROMETHEUS_USER_ENV, GRAFANA_PROMETHEUS_PASSWORD_ENV];

/**
 * Grafana expands $VAR in provisioning files, so every literal `$` is written `$$`; the variables
 * Vigil itself refers to (GRAFANA_ENV_REF) stay references.
 */
export function escapeDollars(text: string): string {
  let out = text.replace(/\$/g, '$$$$');
  for (const name of GRAFANA_ENV_NAMES) out = out.split(`$$\{${name}}`).join(GRAFANA_ENV_REF(name));
  return out;
}

export function grafanaChart(scope: Construct, ctx: StackContext): void {
  const c = 'grafana';
  const name = ctx.name(c);
  const datasources = escapeDollars(yaml.dump(grafanaDatasources(ctx), { noRefs: true, lineWidth: -1 }));
  const providers = yaml.dump(
    {
      apiVersion: 1,
      providers: [
        {
          name: 'vigil',
          type: 'file',
          disableDeletion: true,
          allowUiUpdates: false,
          updateIntervalSeconds: 30,
          options: { path: DASHBOARDS_DIR, foldersFromFilesStructure: true },
        },
      ],
    },
    { noRefs: true, lineWidth: -1 },
  );
  configMap(scope, 'datasources', `${name}-datasources`, { 'datasources.yaml': datasources });
  configMap(scope, 'dashboard-providers', `${name}-dashboard-providers`, { 'providers.yaml': providers });
  // The shipped dashboards (dashboards/ in the repository), collected by the sidecar below.
  for (const d of DASHBOARDS) {
    new k8s.KubeConfigMap(scope, `dashboard-${d}`, {
      metadata: { name: dashboardConfigMapName(ctx.stack, d), labels: { [LABEL_GRAFANA_DASHBOARD]: '1' } },
      data: { [dashboardFileKey(d)]: dashboardText(d) },
    });
  }
  serviceAccount(scope, ctx, c, true);
  role(scope, ctx, c, [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }]);
  const admin = grafanaAdminSecretName(ctx);
  const pod = podTemplate(ctx, c, {
    uid: 472,
    apiAccess: true,
    configHash: configHash(datasources, providers),
    containers: [
      container({
        name: 'grafana',
        image: ctx.spec.grafana?.image ?? IMAGES.grafana,
        env: [
          { name: 'GF_SECURITY_ADMIN_USER', valueFrom: { secretKeyRef: { name: admin, key: 'admin-user' } } },
          { name: 'GF_SECURITY_ADMIN_PASSWORD', valueFrom: { secretKeyRef: { name: admin, key: 'admin-password' } } },
          { name: 'GF_PATHS_PROVISIONING', value: '/etc/grafana/provisioning' },
          { name: 'GF_ANALYTICS_REPORTING_ENABLED', value: 'false' },
          { name: 'GF_ANALYTICS_CHECK_FOR_UPDATES', value: 'false' },
          { name: 'GF_FEATURE_TOGGLES_ENABLE', value: 'traceqlEditor' },
          ...grafanaDatabaseEnv(ctx),
          ...(queryAuthOn(ctx, 'prometheus')
            ? [
                authEnv(ctx, 'prometheus', GRAFANA_PROMETHEUS_USER_ENV, QUERY_AUTH_KEYS.username),
                authEnv(ctx, 'prometheus', GRAFANA_PROMETHEUS_PASSWORD_ENV, QUERY_AUTH_KEYS.password),
              ]
            : []),
        ],
        ports: [{ name: 'http', port: PORTS.grafana }],
        mounts: [
          { name: 'datasources', mountPath: '/etc/grafana/provisioning/datasources', readOnly: true },
          { name: 'dashboard-providers', mountPath: '/etc/grafana/provisioning/dashboards', readOnly: true },
          { name: 'dashboards', mountPath: DASHBOARDS_DIR, readOnly: true },
          { name: 'data', mountPath: '/var/lib/grafana' },
          { name: 'tmp', mountPath: '/tmp' },
        ],
        resources: ctx.size.grafana.resources,
        probe: { path: '/api/health', port: 'http' },
      }),
      configSidecar({
        image: IMAGES.configSidecar,
        label: LABEL_GRAFANA_DASHBOARD,
        namespace: ctx.namespace,
        folder: DASHBOARDS_DIR,
        mount: { name: 'dashboards', mountPath: DASHBOARDS_DIR },
      }),
    ],
    // Grafana's own database holds nothing that is not provisioned, so it need not persist; with
    // spec.grafana.database, users, sessions and saved dashboards live there and replicas share them.
    volumes: [
      configMapVolume('datasources', `${name}-datasources`),
      configMapVolume('dashboard-providers', `${name}-dashboard-providers`),
      emptyDir('dashboards'),
      emptyDir('data'),
      emptyDir('tmp'),
    ],
  });
  deployment(scope, ctx, c, pod, ctx.size.grafana.replicas);
  service(scope, ctx, c, [{ name: 'http', port: PORTS.grafana }]);
}

/**
 * GF_DATABASE_*: Grafana's state in the external database of spec.grafana.database (what lets
 * replicas share users, sessions and saved dashboards); the password from its Secret.
 */
export function grafanaDatabaseEnv(ctx: StackContext): k8s.EnvVar[] {
  const db = ctx.spec.grafana?.database;
  if (!db) return [];
  return [
    { name: 'GF_DATABASE_TYPE', value: db.type },
    { name: 'GF_DATABASE_HOST', value: db.host },
    { name: 'GF_DATABASE_NAME', value: db.name },
    { name: 'GF_DATABASE_USER', value: db.user },
    {
      name: 'GF_DATABASE_PASSWORD',
      valueFrom: { secretKeyRef: { name: db.passwordSecretRef.name, key: db.passwordSecretRef.key } },
    },
  ];
}
