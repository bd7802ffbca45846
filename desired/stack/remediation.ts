// The part of alertmanager.yml that sends a stack's alerts to the operator's remediation receiver:
// one route per RemediationPolicy of the stack (each alert its own group, continue: true so the
// stack's own routes still see it), the receiver with the bearer token read from a mounted file, and
// the route that brings the operator's Blocked notice to the policy's notifyReceiver. Pure: the
// policies arrive as an input of the render (RemediationRouting), never from a client.
import {
  ALERT_LABEL_POLICY,
  ALERT_LABEL_TARGET,
  ALERT_REMEDIATION_BLOCKED,
  REMEDIATION_RECEIVER,
  REMEDIATION_TOKEN_DIR,
  REMEDIATION_TOKEN_KEY,
  REMEDIATION_TOKEN_SECRET,
} from '../../conventions/remediation.js';

/** What the render needs to know of the policies that name a stack. */
export interface RemediationRouting {
  /** The receiver's address for this stack, as its Alertmanager reaches it (…/alerts/<namespace>/<stack>). */
  url: string;
  policies: readonly RoutedPolicy[];
}
export interface RoutedPolicy {
  name: string;
  /** Alertmanager matchers, alertname first. */
  matchers: readonly string[];
  /** The policy's cooldown in seconds: a still-firing alert is sent again after it. */
  cooldownSeconds: number;
  notifyReceiver?: string;
}

type Config = Record<string, unknown>;

export const remediationTokenFile = `${REMEDIATION_TOKEN_DIR}/${REMEDIATION_TOKEN_KEY}`;
/** The volume the Alertmanager pod mounts the token from; absent when no policy routes here. */
export const remediationTokenSecret = (r: RemediationRouting | undefined): string | undefined =>
  r?.policies.length ? REMEDIATION_TOKEN_SECRET : undefined;

const goSeconds = (s: number) => (s % 3600 === 0 ? `${s / 3600}h` : s % 60 === 0 ? `${s / 60}m` : `${s}s`);

export function remediationReceivers(r: RemediationRouting | undefined): Config[] {
  if (!r?.policies.length) return [];
  return [
    {
      name: REMEDIATION_RECEIVER,
      webhook_configs: [
        {
          url: r.url,
          send_resolved: true,
          max_alerts: 0,
          http_config: { authorization: { type: 'Bearer', credentials_file: remediationTokenFile } },
        },
      ],
    },
  ];
}

/**
 * Routes that go before the stack's own. `receivers` are the stack's receiver names: a notify route
 * to a receiver the stack lacks would make the whole file invalid, so it is left out.
 */
export function remediationRoutes(r: RemediationRouting | undefined, receivers: readonly string[]): Config[] {
  if (!r?.policies.length) return [];
  const routes: Config[] = [];
  for (const p of [...r.policies].sort((a, b) => a.name.localeCompare(b.name))) {
    if (p.notifyReceiver && receivers.includes(p.notifyReceiver)) {
      routes.push({
        receiver: p.notifyReceiver,
        matchers: [`alertname="${ALERT_REMEDIATION_BLOCKED}"`, `${ALERT_LABEL_POLICY}="${p.name}"`],
        group_by: [ALERT_LABEL_POLICY, ALERT_LABEL_TARGET],
        group_wait: '0s',
        continue: false,
      });
    }
  }
  for (const p of [...r.policies].sort((a, b) => a.name.localeCompare(b.name))) {
    const cooldown = Math.max(1, Math.round(p.cooldownSeconds));
    routes.push({
      receiver: REMEDIATION_RECEIVER,
      matchers: [...p.matchers],
      // Every alert its own group, so one delivery is one alert (the ledger's unit).
      group_by: ['...'],
      group_wait: goSeconds(Math.min(10, cooldown)),
      group_interval: goSeconds(Math.min(60, cooldown)),
      repeat_interval: goSeconds(cooldown),
      continue: true,
    });
  }
  return routes;
}
