// Wires the remediation feature into the operator: the receiver's HTTP server, the bearer token read
// from its Secret (and re-read, so a rotation needs no restart), the service that decides, the
// policy reconciler, the stacks' routing as a render input, the Blocked notice to the stack's
// Alertmanager, and the decision metrics.
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import client from 'prom-client';
import type { ObservabilityStack } from '../api/types.js';
import { stackQueryAuthorization } from '../controller/query-auth.js';
import { PolicyReconciler } from '../controller/remediation/reconciler.js';
import { routingFor } from '../controller/remediation/routing.js';
import { type BlockedNotice, RemediationService } from '../controller/remediation/service.js';
import {
  ALERT_LABEL_POLICY,
  ALERT_LABEL_TARGET,
  ALERT_REMEDIATION_BLOCKED,
  RemediationMetrics,
} from '../conventions/remediation.js';
import { ALERT_SERVICE, SEVERITY_WARNING } from '../conventions/shipped.js';
import type { RenderInputs } from '../desired/stack/index.js';
import type { KubeConnection, KubeObject } from '../kube/index.js';
import { remediationReceiver } from './remediation-server.js';

export interface RemediationConfig {
  /** Where the receiver listens; port 0 picks a free one. */
  host: string;
  port: number;
  /** The Secret with the bearer token Alertmanager sends. */
  tokenSecret: { namespace: string; name: string; key: string };
  /** The receiver's address as the stacks' Alertmanagers reach it (the path is appended). */
  url: string;
  /** Overrides every stack's Alertmanager URL for the Blocked notice (an operator outside the cluster). */
  alertmanagerUrl?: string;
  /** How often the token Secret is read again. */
  tokenRefreshMs?: number;
}

export interface RemediationWiringDeps {
  kube: KubeConnection;
  log: Logger;
  now(): Date;
  register: client.Registry;
  config: RemediationConfig;
  /** Leader, with its caches synced: only then does a delivery act. */
  isActive(): boolean;
  listPolicies(): KubeObject[];
  getPolicy(namespace: string, name: string): KubeObject | undefined;
  enqueueStack(namespace: string, name: string): void;
  fetch?: typeof fetch;
}

/**
 * Posts the Blocked notice to the stack's Alertmanager (or `alertmanagerUrl`), as an alert that
 * resolves by itself when the block ends; with spec.alerting.basicAuth on, with the header from the
 * stack's Alertmanager auth Secret (controller/query-auth.ts).
 */
export async function postBlockedNotice(
  d: {
    kube: Pick<KubeConnection['api'], 'get'>;
    fetch: typeof fetch;
    now(): Date;
    alertmanagerUrl?: string;
  },
  n: BlockedNotice,
): Promise<void> {
  const base = d.alertmanagerUrl ?? `http://${n.stack}-alertmanager.${n.namespace}.svc:9093`;
  const authorization = await stackQueryAuthorization(d.kube, n.namespace, n.stack, 'alertmanager');
  const res = await d.fetch(`${base.replace(/\/+$/, '')}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization && { authorization }) },
    body: JSON.stringify([
      {
        labels: {
          alertname: ALERT_REMEDIATION_BLOCKED,
          [ALERT_LABEL_POLICY]: n.policy,
          [ALERT_LABEL_TARGET]: n.target,
          namespace: n.namespace,
          service: ALERT_SERVICE,
          severity: SEVERITY_WARNING,
        },
        annotations: {
          summary: `Remediation policy ${n.namespace}/${n.policy} blocked ${n.target} until ${n.blockedUntil}`,
          description: n.message,
        },
        startsAt: d.now().toISOString(),
        // The notice resolves by itself when the block ends.
        endsAt: n.blockedUntil,
      },
    ]),
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`Alertmanager answered ${res.status}`);
}

export function remediationWiring(d: RemediationWiringDeps) {
  const log = d.log.child({ controller: 'remediation' });
  const doFetch = d.fetch ?? fetch;
  let token: string | undefined;
  let server: Server | undefined;
  let refresh: NodeJS.Timeout | undefined;

  const decisions = new client.Counter({
    name: RemediationMetrics.decisions,
    help: 'Remediation decisions by policy, action and result (acted, dry-run, cooldown, blocked, ...).',
    labelNames: ['policy', 'action', 'result'] as const,
    registers: [d.register],
  });
  const blocked = new client.Gauge({
    name: RemediationMetrics.blockedTargets,
    help: 'Targets a policy has blocked (its breaker is open), by namespace and policy.',
    labelNames: ['namespace', 'policy'] as const,
    registers: [d.register],
  });

  const inNamespace = (ns: string) => d.listPolicies().filter((p) => p.metadata.namespace === ns);

  const notifyBlocked = async (n: BlockedNotice): Promise<void> => {
    await postBlockedNotice(
      { kube: d.kube.api, fetch: doFetch, now: d.now, alertmanagerUrl: d.config.alertmanagerUrl },
      n,
    );
    log.info(
      { policy: n.policy, namespace: n.namespace, target: n.target, receiver: n.receiver },
      'Sent the Blocked notice',
    );
  };

  const service = new RemediationService({
    kube: { ...d.kube.api, ...d.kube.workloads },
    listPolicies: inNamespace,
    log,
    now: d.now,
    onDecision: (policy, action, result) => decisions.inc({ policy, action, result }),
    notifyBlocked,
  });

  const reconciler = new PolicyReconciler({
    kube: d.kube.api,
    getPolicy: d.getPolicy,
    log,
    now: d.now,
    token: () => token,
    onStackChanged: d.enqueueStack,
    onBlocked: (namespace, policy, count) => blocked.set({ namespace, policy }, count),
  });

  async function readToken(): Promise<void> {
    const s = d.config.tokenSecret;
    try {
      const t = (await d.kube.workloads.readSecretKey(s.namespace, s.name, s.key))?.trim();
      if (!t)
        log.warn(
          { namespace: s.namespace, name: s.name, key: s.key },
          'The remediation token Secret or key is missing; refusing every delivery',
        );
      if (t && t !== token && token) log.info({ namespace: s.namespace, name: s.name }, 'Read a new remediation token');
      token = t || undefined;
    } catch (err) {
      // Keep the last token: a passing API error must not lock Alertmanager out.
      log.warn({ err: (err as Error).message }, 'Failed to read the remediation token Secret');
    }
  }

  return {
    reconciler,
    service,
    /** renderStack's extra input for one stack. */
    renderInputs(stack: ObservabilityStack): RenderInputs {
      const ns = stack.metadata.namespace ?? 'default';
      return { remediation: routingFor(ns, stack.metadata.name ?? '', inNamespace(ns), d.config.url) };
    },
    get address(): { port: number } | undefined {
      const a = server?.address();
      return a && typeof a === 'object' ? { port: a.port } : undefined;
    },
    async start(): Promise<void> {
      await readToken();
      refresh = setInterval(() => void readToken(), d.config.tokenRefreshMs ?? 30_000);
      refresh.unref();
      server = remediationReceiver({
        token: () => token,
        isLeader: d.isActive,
        handle: (ns, stack, payload) => service.handle(ns, stack, payload),
        log,
      });
      await new Promise<void>((resolve) => server!.listen(d.config.port, d.config.host, resolve));
      log.info({ port: this.address?.port }, 'Serving the remediation receiver');
    },
    async stop(): Promise<void> {
      if (refresh) clearInterval(refresh);
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    },
  };
}
export type RemediationWiring = ReturnType<typeof remediationWiring>;
