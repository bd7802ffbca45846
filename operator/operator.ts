// buildOperator wires informers, the work queue, the reconcilers, leader election and the health
// server. It reads no env and handles no signals: main.ts does, and passes a validated config.
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { Fetch } from '../controller/budget.js';
import { childWatchTargets } from '../controller/kinds.js';
import { TerminalError, WorkQueue } from '../controller/queue.js';
import { SLOReconciler } from '../controller/slo.js';
import { StackReconciler } from '../controller/stack.js';
import {
  API_GROUP_VERSION,
  KIND_SLO,
  KIND_STACK,
  LABEL_MANAGED_BY,
  LABEL_SLO,
  LABEL_STACK,
  LABEL_STACK_NAMESPACE,
  MANAGED_BY,
  PLURAL_SLO,
  PLURAL_STACK,
} from '../conventions/index.js';
import { KIND_REMEDIATION, PLURAL_REMEDIATION } from '../conventions/remediation.js';
import { collected } from '../desired/stack/collection.js';
import { type InformerEvent, type KeptInformer, type KubeConnection, LeaderElector } from '../kube/index.js';
import type { KubeObject } from '../kube/types.js';
import { healthServer } from './health.js';
import { type OperatorMetrics, operatorMetrics } from './metrics.js';
import { type RemediationConfig, remediationWiring } from './remediation.js';

export interface OperatorConfig {
  /** Watch these namespaces only; all namespaces when undefined. */
  namespaces?: string[];
  workers: number;
  resyncMs: number;
  watchTimeoutSeconds: number;
  /** Port for /metrics, /healthz, /readyz; 0 picks a free one, undefined serves none. */
  healthPort?: number;
  leaderElection?: { namespace: string; name: string; identity: string };
  /** How often a stack that is not Ready is looked at again without an event. */
  notReadyRecheckMs?: number;
  /** Overrides every stack's Prometheus URL for the live SLO budget (an operator outside the cluster). */
  prometheusUrl?: string;
  /** How often each SLO's live budget is read. */
  budgetIntervalMs?: number;
  /** The remediation receiver and the RemediationPolicy controller; off when undefined. */
  remediation?: RemediationConfig;
  /** A stack's spec may name only images under these prefixes; any image when empty or undefined. */
  allowedImagePrefixes?: string[];
}

export interface OperatorDeps {
  kube: KubeConnection;
  log: Logger;
  config: OperatorConfig;
  metrics?: OperatorMetrics;
  now?: () => Date;
  /** Called when this replica loses the lease; main exits so that a fresh process stands by. */
  onLostLeadership?: () => void;
  /** Extra reconcilers by kind. */
  reconcilers?: Partial<Record<string, KindReconciler>>;
  /** For the live SLO budget; the global fetch by default. */
  fetch?: Fetch;
}

export interface KindReconciler {
  plural: string;
  reconcile(
    namespace: string,
    name: string,
    cache: { get(ns: string, name: string): KubeObject | undefined },
  ): Promise<{ requeueAfterMs?: number } | undefined>;
}

export interface Operator {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly healthAddress: { port: number } | undefined;
  readonly isLeader: boolean;
  readonly metrics: OperatorMetrics;
  /** Where the remediation receiver listens, when it is on. */
  readonly remediationAddress?: { port: number };
}

export function buildOperator(deps: OperatorDeps): Operator {
  const { kube, log, config } = deps;
  const metrics = deps.metrics ?? operatorMetrics();
  const now = deps.now ?? (() => new Date());
  const informers: KeptInformer[] = [];
  const primary = new Map<string, KeptInformer[]>();
  let controllersRunning = false;
  let server: Server | undefined;
  let resync: NodeJS.Timeout | undefined;
  let elector: LeaderElector | undefined;
  let stopping = false;

  const cacheGet = (kind: string) => (namespace: string, name: string) => {
    for (const inf of primary.get(kind) ?? []) {
      const o = inf.get(name, namespace);
      if (o) return o;
    }
    return undefined;
  };

  const remediation = config.remediation
    ? remediationWiring({
        kube,
        log,
        now,
        register: metrics.register,
        config: config.remediation,
        isActive: () => (elector ? elector.isLeader : true) && controllersRunning && informers.every((i) => i.synced),
        listPolicies: () => (primary.get(KIND_REMEDIATION) ?? []).flatMap((i) => i.list()),
        getPolicy: cacheGet(KIND_REMEDIATION),
        enqueueStack: (ns, name) => enqueue(KIND_STACK, ns, name),
      })
    : undefined;

  let namespaceInformer: KeptInformer | undefined;
  const allStacks = () => (primary.get(KIND_STACK) ?? []).flatMap((i) => i.list());
  // biome-ignore lint/suspicious/noExplicitAny: collected() reads only spec.collector and metadata
  const runsAgent = (o: KubeObject) => collected(o as any) !== undefined;
  /** Stacks whose node agent's collection or admission may have changed: re-check them. */
  const recheckAgents = (except?: KubeObject) => {
    for (const s of allStacks()) {
      if (s === except || !runsAgent(s)) continue;
      enqueue(KIND_STACK, s.metadata.namespace, s.metadata.name);
    }
  };
  // Last seen spec.collector and namespace labels by key: other events (status writes) re-check nothing.
  const seenCollector = new Map<string, string>();
  const seenNamespace = new Map<string, string>();
  const changed = (seen: Map<string, string>, key: string, value: unknown, deleted: boolean) => {
    const now = deleted ? undefined : JSON.stringify(value ?? null);
    const before = seen.get(key);
    if (now === undefined) seen.delete(key);
    else seen.set(key, now);
    return before !== now;
  };

  const stacks = new StackReconciler({
    listStacks: allStacks,
    listNamespaces: () =>
      namespaceInformer?.list().map((n) => ({ name: n.metadata.name, labels: n.metadata.labels ?? {} })),
    renderInputs: remediation ? (s) => remediation.renderInputs(s) : undefined,
    kube: kube.api,
    getStack: cacheGet(KIND_STACK),
    log,
    now,
    onWrite: (verb, kind) => metrics.writes.inc({ verb, kind }),
    notReadyRecheckMs: config.notReadyRecheckMs,
    allowedImagePrefixes: config.allowedImagePrefixes,
  });

  const slos = new SLOReconciler({
    kube: kube.api,
    getSLO: cacheGet(KIND_SLO),
    getStack: cacheGet(KIND_STACK),
    log,
    now,
    fetch: deps.fetch ?? ((url, init) => fetch(url, init)),
    prometheusUrl: config.prometheusUrl,
    budgetIntervalMs: config.budgetIntervalMs ?? 120_000,
    onWrite: (verb, kind) => metrics.writes.inc({ verb, kind }),
  });

  const handlers: Record<string, (ns: string, name: string) => Promise<{ requeueAfterMs?: number } | undefined>> = {
    [KIND_STACK]: (ns, name) => stacks.reconcile(ns, name),
    [KIND_SLO]: (ns, name) => slos.reconcile(ns, name),
  };
  if (remediation) handlers[KIND_REMEDIATION] = (ns, name) => remediation.reconciler.reconcile(ns, name);
  for (const [kind, r] of Object.entries(deps.reconcilers ?? {})) {
    if (r) handlers[kind] = (ns, name) => r.reconcile(ns, name, { get: cacheGet(kind) });
  }

  const queue = new WorkQueue({
    workers: config.workers,
    handler: async (key) => {
      const [kind, ns, name] = key.split('/');
      const end = metrics.reconcileDuration.startTimer({ kind });
      try {
        const handle = handlers[kind];
        if (!handle) throw new TerminalError(new Error(`no reconciler for kind ${kind}`));
        const r = await handle(ns, name);
        end({ result: 'success' });
        metrics.reconciles.inc({ kind, result: 'success' });
        return r;
      } catch (err) {
        end({ result: 'error' });
        metrics.reconciles.inc({ kind, result: 'error' });
        // Only the code and reason: an API error's body can carry object data.
        const next = err instanceof TerminalError ? 'not retrying until it changes' : 'will retry';
        log.warn({ kind, namespace: ns, name, err: (err as Error).message }, `Failed to reconcile ${kind}; ${next}`);
        throw err;
      } finally {
        metrics.queueDepth.set(queue.depth);
      }
    },
  });
  const enqueue = (kind: string, ns: string | undefined, name: string | undefined) => {
    if (!ns || !name) return;
    queue.add(`${kind}/${ns}/${name}`);
    metrics.queueDepth.set(queue.depth);
  };

  const watch = (
    target: Parameters<KubeConnection['informer']>[0],
    onEvent: (o: KubeObject, type: InformerEvent) => void,
  ) => {
    const inf = kube.informer(
      target,
      {
        onEvent: (type, o) => onEvent(o, type),
        onRestart: (reason, err) => {
          metrics.informerRestarts.inc({ kind: target.kind, reason });
          log.warn(
            { kind: target.kind, reason, err: err instanceof Error ? err.message : String(err ?? '') },
            'Restarting informer',
          );
        },
        onActivity: (at) => metrics.lastWatchEvent.set({ kind: target.kind }, at / 1000),
      },
      { watchTimeoutSeconds: config.watchTimeoutSeconds },
    );
    informers.push(inf);
    return inf;
  };

  async function startControllers(): Promise<void> {
    if (controllersRunning || stopping) return;
    controllersRunning = true;
    const namespaces = config.namespaces ?? [undefined];
    const primaries: [string, string][] = [
      [KIND_STACK, PLURAL_STACK],
      [KIND_SLO, PLURAL_SLO],
      ...(remediation ? [[KIND_REMEDIATION, PLURAL_REMEDIATION] as [string, string]] : []),
      ...Object.entries(deps.reconcilers ?? {}).map(([k, r]) => [k, (r as KindReconciler).plural] as [string, string]),
    ];
    for (const [kind, plural] of primaries) {
      const list: KeptInformer[] = [];
      for (const namespace of namespaces) {
        list.push(
          watch({ apiVersion: API_GROUP_VERSION, kind, plural, namespace }, (o, type) => {
            enqueue(kind, o.metadata.namespace, o.metadata.name);
            // Another stack's collection changed (or it went): the stacks it overlapped look again.
            if (kind === KIND_STACK) {
              const key = `${o.metadata.namespace}/${o.metadata.name}`;
              // biome-ignore lint/suspicious/noExplicitAny: reading a stack's spec loosely
              if (changed(seenCollector, key, (o.spec as any)?.collector, type === 'delete')) recheckAgents(o);
            }
            // An SLO waits for its stack: a change to the stack (created, turned Ready) wakes its SLOs.
            if (kind === KIND_STACK) {
              for (const inf of primary.get(KIND_SLO) ?? []) {
                for (const slo of inf.list()) {
                  // biome-ignore lint/suspicious/noExplicitAny: reading an SLO's spec loosely
                  const ref = (slo.spec as any)?.stackRef?.name;
                  if (slo.metadata.namespace === o.metadata.namespace && ref === o.metadata.name) {
                    enqueue(KIND_SLO, slo.metadata.namespace, slo.metadata.name);
                  }
                }
              }
            }
          }),
        );
      }
      primary.set(kind, list);
    }
    // Children: an edit or deletion by hand re-enqueues the owner, which restores it. A
    // cluster-scoped child names its stack's namespace in a label; one whose stack is gone (deleted
    // while the operator was down) is enqueued by the informer's first list, and deleted.
    const watched = (ns: string | undefined) => !!ns && (!config.namespaces || config.namespaces.includes(ns));
    for (const target of childWatchTargets(config.namespaces, `${LABEL_MANAGED_BY}=${MANAGED_BY}`)) {
      watch(target, (o) => {
        const labels = o.metadata.labels ?? {};
        const ns = o.metadata.namespace ?? labels[LABEL_STACK_NAMESPACE];
        if (!watched(ns)) return;
        if (labels[LABEL_SLO]) enqueue(KIND_SLO, ns, labels[LABEL_SLO]);
        else enqueue(KIND_STACK, ns, labels[LABEL_STACK]);
      });
    }
    // Namespaces (metadata only): a label change can move a stack's collection (namespaceSelector)
    // or its Pod Security level; only stacks that run the node agent look again.
    namespaceInformer = watch(
      { apiVersion: 'v1', kind: 'Namespace', plural: 'namespaces', metadataOnly: true },
      (o, type) => {
        if (changed(seenNamespace, o.metadata.name, o.metadata.labels, type === 'delete')) recheckAgents();
      },
    );
    await Promise.all(informers.map((i) => i.start()));
    queue.start();
    resync = setInterval(() => {
      for (const [kind, list] of primary)
        for (const inf of list) for (const o of inf.list()) enqueue(kind, o.metadata.namespace, o.metadata.name);
    }, config.resyncMs);
    resync.unref();
    log.info({ informers: informers.length, workers: config.workers }, 'Started controllers');
  }

  return {
    get healthAddress() {
      const a = server?.address();
      return a && typeof a === 'object' ? { port: a.port } : undefined;
    },
    get isLeader() {
      return elector ? elector.isLeader : controllersRunning;
    },
    metrics,
    get remediationAddress() {
      return remediation?.address;
    },
    async start() {
      if (config.healthPort !== undefined) {
        server = healthServer(metrics.register, {
          live: () => true,
          ready: () => !controllersRunning || informers.every((i) => i.synced),
        });
        await new Promise<void>((resolve) => server!.listen(config.healthPort, '0.0.0.0', resolve));
      }
      await remediation?.start();
      if (!config.leaderElection) {
        await startControllers();
        return;
      }
      const le = config.leaderElection;
      elector = new LeaderElector(kube.leases(le.namespace, le.name), {
        ...le,
        onStartedLeading: () => {
          metrics.leader.set(1);
          log.info({ identity: le.identity }, 'Became leader');
          void startControllers().catch((err) =>
            log.error({ err: (err as Error).message }, 'Failed to start controllers'),
          );
        },
        onStoppedLeading: () => {
          metrics.leader.set(0);
          if (stopping) return;
          log.warn({ identity: le.identity }, 'Lost leadership; stopping');
          deps.onLostLeadership?.();
        },
        onError: (err) => log.warn({ err: err.message }, 'Leader election attempt failed'),
      });
      elector.start();
    },
    async stop() {
      stopping = true;
      if (resync) clearInterval(resync);
      await Promise.all(informers.map((i) => i.stop()));
      await queue.shutdown();
      await elector?.stop();
      await remediation?.stop();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      log.info('Stopped operator');
    },
  };
}
