// Alertmanager: routes and receivers from spec.alerting, Slack/PagerDuty keys read from mounted
// Secrets (never inlined), a page inhibits the ticket of the same SLO, grouping by alertname+service.
import type { k8s } from 'cdk8s-plus-33';
import type { Construct } from 'constructs';
import yaml from 'js-yaml';
import type { SecretKeyRef } from '../../api/types.js';
import {
  ALERT_LABEL_SLO,
  ALERT_LABEL_SLO_NAMESPACE,
  ALERT_LABEL_TIER,
  TIER_PAGE,
  TIER_TICKET,
} from '../../conventions/index.js';
import { REMEDIATION_TOKEN_DIR } from '../../conventions/remediation.js';
import { PORTS, type StackContext } from './context.js';
import { IMAGES } from './images.js';
import {
  configHash,
  configMap,
  configMapVolume,
  container,
  podTemplate,
  service,
  serviceAccount,
  statefulSet,
} from './pod.js';
import { queryAuthOn, WEB_CONFIG_DIR, WEB_CONFIG_KEYS, webConfigMount, webConfigVolume } from './query-auth.js';
import { remediationReceivers, remediationRoutes, remediationTokenSecret } from './remediation.js';

const SECRETS_DIR = '/etc/alertmanager/secrets';
/** Receives alerts that no route matches; has no integrations. */
const FALLBACK_RECEIVER = 'vigil-null';

type Config = Record<string, unknown>;

const secretFile = (ref: SecretKeyRef) => `${SECRETS_DIR}/${ref.name}/${ref.key}`;

/** Secrets the receivers reference, each mounted once. */
export function alertmanagerSecrets(ctx: StackContext): string[] {
  const names = new Set<string>();
  for (const r of ctx.spec.alerting?.receivers ?? []) {
    if (r.slack) names.add(r.slack.apiURLSecretRef.name);
    if (r.pagerduty) names.add(r.pagerduty.routingKeySecretRef.name);
  }
  return [...names].sort();
}

/** alertmanager.yml for a stack. */
export function alertmanagerConfig(ctx: StackContext): Config {
  const a = ctx.spec.alerting ?? {};
  const receivers: Config[] = [{ name: FALLBACK_RECEIVER }];
  for (const r of a.receivers ?? []) {
    const out: Config = { name: r.name };
    if (r.webhook) out.webhook_configs = [{ url: r.webhook.url, send_resolved: true }];
    if (r.slack) {
      out.slack_configs = [
        { api_url_file: secretFile(r.slack.apiURLSecretRef), channel: r.slack.channel, send_resolved: true },
      ];
    }
    if (r.pagerduty) out.pagerduty_configs = [{ routing_key_file: secretFile(r.pagerduty.routingKeySecretRef) }];
    receivers.push(out);
  }
  receivers.push(...remediationReceivers(ctx.remediation));
  return {
    route: {
      receiver: FALLBACK_RECEIVER,
      group_by: ['alertname', 'service'],
      group_wait: '30s',
      group_interval: '5m',
      repeat_interval: '4h',
      routes: [
        ...remediationRoutes(
          ctx.remediation,
          (a.receivers ?? []).map((r) => r.name),
        ),
        ...(a.routes ?? []).map((r) => ({ receiver: r.receiver, matchers: r.matchers, continue: r.continue })),
      ],
    },
    receivers,
    inhibit_rules: [
      {
        // By tier, not severity: a tier's labels may override severity, the tier label is Vigil's.
        source_matchers: [`${ALERT_LABEL_TIER}="${TIER_PAGE}"`],
        target_matchers: [`${ALERT_LABEL_TIER}="${TIER_TICKET}"`],
        equal: [ALERT_LABEL_SLO, ALERT_LABEL_SLO_NAMESPACE, 'service'],
      },
    ],
  };
}

export function alertmanagerChart(scope: Construct, ctx: StackContext): void {
  const c = 'alertmanager';
  const name = ctx.name(c);
  const text = yaml.dump(alertmanagerConfig(ctx), { noRefs: true, lineWidth: -1 });
  configMap(scope, 'config', name, { 'alertmanager.yml': text });
  serviceAccount(scope, ctx, c);
  const size = ctx.size.alertmanager;
  const secrets = alertmanagerSecrets(ctx);
  const clustered = size.replicas > 1;
  const peers = Array.from(
    { length: clustered ? size.replicas : 0 },
    (_, i) => `--cluster.peer=${name}-${i}.${name}-headless.${ctx.namespace}.svc:${PORTS.alertmanagerCluster}`,
  );
  // Listening on 0.0.0.0, Alertmanager would advertise the first RFC 1918 address it finds, and
  // refuse to start where the pod's is not one (IPv6, 100.64.0.0/10 pod networks): advertise the pod IP.
  const advertise = clustered ? [`--cluster.advertise-address=[$(POD_IP)]:${PORTS.alertmanagerCluster}`] : [];
  const volumes: k8s.Volume[] = [
    configMapVolume('config', name),
    ...secrets.map((s, i) => ({ name: `secret-${i}`, secret: { secretName: s } })),
  ];
  const token = remediationTokenSecret(ctx.remediation);
  if (token) volumes.push({ name: 'remediation-token', secret: { secretName: token } });
  const auth = queryAuthOn(ctx, c);
  if (auth) volumes.push(webConfigVolume(ctx, c));
  const pod = podTemplate(ctx, c, {
    uid: 65534,
    configHash: configHash(text),
    containers: [
      container({
        name: 'alertmanager',
        image: ctx.spec.metrics?.alertmanager?.image ?? IMAGES.alertmanager,
        args: [
          '--config.file=/etc/alertmanager/alertmanager.yml',
          '--storage.path=/alertmanager',
          `--web.listen-address=:${PORTS.alertmanager}`,
          ...(auth ? [`--web.config.file=${WEB_CONFIG_DIR}/${WEB_CONFIG_KEYS.web}`] : []),
          // An empty listen address turns clustering off for a single replica.
          `--cluster.listen-address=${clustered ? `0.0.0.0:${PORTS.alertmanagerCluster}` : ''}`,
          ...advertise,
          ...peers,
        ],
        env: clustered ? [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }] : undefined,
        ports: [
          { name: 'http', port: PORTS.alertmanager },
          { name: 'cluster', port: PORTS.alertmanagerCluster },
        ],
        mounts: [
          {
            name: 'config',
            mountPath: '/etc/alertmanager/alertmanager.yml',
            subPath: 'alertmanager.yml',
            readOnly: true,
          },
          { name: 'data', mountPath: '/alertmanager' },
          ...secrets.map((s, i) => ({ name: `secret-${i}`, mountPath: `${SECRETS_DIR}/${s}`, readOnly: true })),
          ...(token ? [{ name: 'remediation-token', mountPath: REMEDIATION_TOKEN_DIR, readOnly: true }] : []),
          ...(auth ? [webConfigMount()] : []),
        ],
        resources: size.resources,
        // With the web config every path asks for credentials, /-/ready too: the kubelet checks the port.
        probe: auth ? { tcpPort: 'http' } : { path: '/-/ready', port: 'http' },
      }),
    ],
    volumes,
  });
  statefulSet(scope, ctx, c, pod, {
    replicas: size.replicas,
    serviceName: `${name}-headless`,
    volume: {
      name: 'data',
      size: size.storage ?? '1Gi',
      storageClassName: ctx.spec.metrics?.alertmanager?.storage?.storageClassName,
    },
  });
  service(scope, ctx, c, [{ name: 'http', port: PORTS.alertmanager }]);
  service(
    scope,
    ctx,
    c,
    [
      { name: 'http', port: PORTS.alertmanager },
      { name: 'cluster', port: PORTS.alertmanagerCluster },
    ],
    { id: 'headless', name: `${name}-headless`, headless: true },
  );
}
