// An informer that keeps itself alive. client-node 1.4's ListWatch stops on any watch error but 410
// and never restarts, has no client-side watch timeout, and its stop() fires an error event. This
// wrapper asks the server to end each watch after a jittered timeout (so the client reconnects from
// the last resourceVersion), requests bookmarks, restarts on error with jittered backoff (never after
// a deliberate stop), relists on 410 (ListWatch does), and restarts a watch that has gone quiet for
// too long (a half-open connection). Handlers only see plain events; they must only enqueue.
import * as k8s from '@kubernetes/client-node';
import { backoffMs } from '../lib/backoff.js';
import { apiConfiguration, toApiNames, toKubeError } from './client.js';
import type { KubeObject } from './types.js';

export type InformerEvent = 'add' | 'update' | 'delete';

export interface InformerTarget {
  apiVersion: string;
  kind: string;
  /** Lower-case plural resource name, e.g. deployments. */
  plural: string;
  /** Watch one namespace; all namespaces when absent. */
  namespace?: string;
  labelSelector?: string;
  /**
   * Keep only metadata (and status) in the cache. Child watches exist to notice changes, not to be
   * read: without this, every ConfigMap's data (SLO dashboards are tens of KB each) sits in memory.
   */
  metadataOnly?: boolean;
}

export interface InformerHooks {
  onEvent(type: InformerEvent, obj: KubeObject): void;
  /** A restart after an error or a stale stream; for metrics and logs. */
  onRestart?(reason: string, err?: unknown): void;
  /** Any sign of life: an event, a (re)connect. */
  onActivity?(at: number): void;
}

export interface InformerOptions {
  /** Server-side watch timeout; a random 0–20% is added per informer. */
  watchTimeoutSeconds?: number;
  /** A stream with no event or reconnect for this long is restarted. */
  staleAfterMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  now?: () => number;
  random?: () => number;
}

export interface KeptInformer {
  /** Lists and starts watching; resolves once the first list is in the cache (or after 60 s). */
  start(): Promise<void>;
  stop(): Promise<void>;
  list(): KubeObject[];
  get(name: string, namespace?: string): KubeObject | undefined;
  readonly synced: boolean;
  readonly restarts: number;
}

/**
 * Shrinks an object in place. The ListWatch cache holds this very object, so what is removed here
 * is not kept in memory; updates are detected by resourceVersion, which stays.
 */
function slim(obj: k8s.KubernetesObject, metadataOnly: boolean): void {
  const o = obj as Record<string, unknown> & { metadata?: Record<string, unknown> };
  if (o.metadata) {
    delete o.metadata.managedFields;
    const ann = o.metadata.annotations as Record<string, string> | undefined;
    if (ann) delete ann['kubectl.kubernetes.io/last-applied-configuration'];
  }
  if (metadataOnly) {
    for (const k of Object.keys(o)) if (!['apiVersion', 'kind', 'metadata', 'status'].includes(k)) delete o[k];
  }
}

function pathOf(t: InformerTarget): string {
  const [group, version] = t.apiVersion.includes('/') ? t.apiVersion.split('/') : ['', t.apiVersion];
  const base = group ? `/apis/${group}/${version}` : `/api/${version}`;
  return t.namespace ? `${base}/namespaces/${t.namespace}/${t.plural}` : `${base}/${t.plural}`;
}

export function makeInformer(
  kc: k8s.KubeConfig,
  target: InformerTarget,
  hooks: InformerHooks,
  opts: InformerOptions = {},
): KeptInformer {
  const random = opts.random ?? Math.random;
  const now = opts.now ?? Date.now;
  const timeout = Math.round((opts.watchTimeoutSeconds ?? 300) * (1 + random() * 0.2));
  const staleAfter = opts.staleAfterMs ?? 2 * timeout * 1000 + 30_000;
  const minBackoff = opts.minBackoffMs ?? 1000;
  const maxBackoff = opts.maxBackoffMs ?? 30_000;
  const objects = new k8s.KubernetesObjectApi(apiConfiguration(kc, 120_000));
  // The list comes through client-node's models, the watch events as the API sends them: the list's
  // items are put back in the API's names (client.ts toApiNames) so that the cache holds one form.
  const listFn = async () => {
    const l = (await objects.list(
      target.apiVersion,
      target.kind,
      target.namespace,
      undefined,
      undefined,
      undefined,
      undefined,
      target.labelSelector,
    )) as k8s.KubernetesListObject<k8s.KubernetesObject>;
    const api = (i: k8s.KubernetesObject) => toApiNames(i as KubeObject, target.apiVersion, target.kind);
    return { ...l, items: l.items.map((i) => api(i) as k8s.KubernetesObject) };
  };
  const inf = new k8s.ListWatch<k8s.KubernetesObject>(
    `${pathOf(target)}?allowWatchBookmarks=true&timeoutSeconds=${timeout}`,
    new k8s.Watch(kc),
    listFn,
    false,
    target.labelSelector,
  );

  let stopping = false;
  let synced = false;
  let restarts = 0;
  let failures = 0;
  let lastActivity = now();
  let restartTimer: NodeJS.Timeout | undefined;
  let watchdog: NodeJS.Timeout | undefined;

  const touch = () => {
    lastActivity = now();
    hooks.onActivity?.(lastActivity);
  };
  const emit = (type: InformerEvent) => (obj: k8s.KubernetesObject) => {
    slim(obj, target.metadataOnly === true);
    touch();
    failures = 0;
    hooks.onEvent(type, { ...obj, apiVersion: target.apiVersion, kind: target.kind } as KubeObject);
  };
  inf.on('add', emit('add'));
  inf.on('update', emit('update'));
  inf.on('delete', emit('delete'));
  inf.on('connect', touch);

  // At least half of each wait is kept, so a watch that keeps failing never restarts at once.
  const backoff = () => backoffMs(failures, { baseMs: minBackoff, maxMs: maxBackoff, jitter: 0.5 }, random);

  const restart = (reason: string, err?: unknown) => {
    if (stopping || restartTimer) return;
    failures++;
    restarts++;
    // The raw error embeds the response body and headers; pass on only the code and reason.
    hooks.onRestart?.(reason, err === undefined ? undefined : toKubeError(err, `watch ${target.kind}`));
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (stopping) return;
      touch();
      void run();
    }, backoff());
    restartTimer.unref();
  };

  inf.on('error', (err: unknown) => {
    // stop() aborts the request and that surfaces here as an AbortError: not a failure.
    if (stopping) return;
    restart('watch error', err);
  });

  const run = async () => {
    try {
      await inf.start();
      synced = true;
    } catch (err) {
      restart('start failed', err);
    }
  };

  return {
    async start() {
      stopping = false;
      touch();
      watchdog = setInterval(
        () => {
          if (!stopping && now() - lastActivity > staleAfter) {
            // A half-open connection delivers nothing and never errors: drop it and watch again.
            void inf.stop().then(() => restart('stale stream'));
          }
        },
        Math.min(30_000, Math.max(1000, staleAfter / 4)),
      );
      watchdog.unref();
      await Promise.race([run(), new Promise((r) => setTimeout(r, 60_000).unref())]);
    },
    async stop() {
      stopping = true;
      if (restartTimer) clearTimeout(restartTimer);
      if (watchdog) clearInterval(watchdog);
      await inf.stop();
    },
    list: () => inf.list() as KubeObject[],
    get: (name, namespace) => inf.get(name, namespace) as KubeObject | undefined,
    get synced() {
      return synced;
    },
    get restarts() {
      return restarts;
    },
  };
}
