// The one module that talks to the API server (with informer.ts and lease.ts beside it). Errors
// come out as KubeError with the status code and reason, never with the response body, which can
// hold secret data.
import * as k8s from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, FIELD_MANAGER } from '../conventions/index.js';
import { type KubeApi, KubeError, type KubeObject, type ObjectRef } from './types.js';

const REQUEST_TIMEOUT_MS = 30_000;
const SERVES_TTL_MS = 5 * 60_000;

/** client-node 1.4 sets no timeout on API calls; a hung request would stall a worker forever. */
export function apiConfiguration(kc: k8s.KubeConfig, timeoutMs = REQUEST_TIMEOUT_MS): k8s.Configuration {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  return k8s.createConfiguration({
    baseServer: new k8s.ServerConfiguration(cluster.server, {}),
    authMethods: { default: kc },
    promiseMiddleware: [
      {
        pre: async (ctx) => {
          ctx.setSignal(AbortSignal.timeout(timeoutMs));
          return ctx;
        },
        post: async (r) => r,
      },
    ],
  });
}

export function toKubeError(err: unknown, what: string): Error {
  if (err instanceof k8s.ApiException) {
    let reason: string | undefined;
    let message = '';
    try {
      const body = JSON.parse(String(err.body));
      reason = body.reason;
      message = body.message ?? '';
    } catch {
      // Not a Status object; the code alone has to do.
    }
    return new KubeError(
      `${what}: HTTP ${err.code}${reason ? ` ${reason}` : ''}${message ? `: ${message}` : ''}`,
      err.code,
      reason,
    );
  }
  if (err instanceof Error) return new Error(`${what}: ${err.name}: ${err.message.split('\n')[0]}`);
  return new Error(`${what}: ${String(err)}`);
}

/**
 * client-node 1.4 sends and reads objects through its typed models, which name a field the way
 * TypeScript allows: a NetworkPolicy rule's `from` is the model's `_from`. A body given in the
 * API's own names loses that field on the way out (the server got rules without `from`, which
 * admit every source), and what comes back carries `_from`. So our objects are turned into the
 * models' names before a write and back after every read: the API's names are the only ones the
 * rest of the operator sees. The models' other renamed fields are in kinds Vigil does not write.
 */
const MODEL_NAMES: Record<string, { rules: string[]; api: string; model: string }> = {
  'networking.k8s.io/v1/NetworkPolicy': { rules: ['ingress'], api: 'from', model: '_from' },
};

function renamed(obj: KubeObject, from: 'api' | 'model', apiVersion: string, kind: string): KubeObject {
  const names = MODEL_NAMES[`${apiVersion}/${kind}`];
  const spec = (obj as { spec?: Record<string, unknown> }).spec;
  if (!names || !spec) return obj;
  const [src, dst] = from === 'api' ? [names.api, names.model] : [names.model, names.api];
  const out: Record<string, unknown> = { ...spec };
  for (const key of names.rules) {
    const rules = spec[key];
    if (!Array.isArray(rules)) continue;
    out[key] = rules.map((r: Record<string, unknown>) => {
      if (!r || typeof r !== 'object' || !(src in r)) return r;
      const { [src]: peers, ...rest } = r;
      return { ...rest, [dst]: peers };
    });
  }
  return { ...obj, spec: out } as KubeObject;
}
/** An object in client-node's model names, for a write (see MODEL_NAMES). */
export const toModelNames = (obj: KubeObject): KubeObject => renamed(obj, 'api', obj.apiVersion, obj.kind);
/** An object client-node read, back in the API's names (see MODEL_NAMES); a list's items name no kind. */
export const toApiNames = (obj: KubeObject, apiVersion = obj.apiVersion, kind = obj.kind): KubeObject =>
  renamed(obj, 'model', apiVersion, kind);

/** Strips what must not be in an apply body: a resourceVersion would make it a conditional write. */
export function applyBody(obj: KubeObject): KubeObject {
  const {
    resourceVersion: _rv,
    uid: _uid,
    creationTimestamp: _ct,
    managedFields: _mf,
    generation: _g,
    ...meta
  } = obj.metadata as Record<string, unknown>;
  const { status: _status, ...rest } = obj;
  return { ...rest, metadata: meta } as KubeObject;
}

export function makeKubeApi(kc: k8s.KubeConfig): KubeApi {
  const cfg = apiConfiguration(kc);
  const objects = new k8s.KubernetesObjectApi(cfg);
  const custom = new k8s.CustomObjectsApi(cfg);
  const core = new k8s.CoreV1Api(cfg);
  const discovery = new k8s.ApisApi(cfg);
  const served = new Map<string, { at: number; value: boolean }>();
  const refOf = (r: ObjectRef) => ({
    apiVersion: r.apiVersion,
    kind: r.kind,
    metadata: { name: r.name, namespace: r.namespace },
  });
  const describe = (r: KubeObject | ObjectRef) =>
    'metadata' in r ? `${r.kind} ${r.metadata.namespace}/${r.metadata.name}` : `${r.kind} ${r.namespace}/${r.name}`;

  return {
    async apply(obj) {
      try {
        const applied = await objects.patch(
          toModelNames(applyBody(obj)) as k8s.KubernetesObject,
          undefined,
          undefined,
          FIELD_MANAGER,
          true,
          k8s.PatchStrategy.ServerSideApply,
        );
        return toApiNames(applied as KubeObject);
      } catch (err) {
        throw toKubeError(err, `apply ${describe(obj)}`);
      }
    },
    async delete(ref) {
      try {
        await objects.delete(refOf(ref), undefined, undefined, undefined, undefined, 'Background');
      } catch (err) {
        const e = toKubeError(err, `delete ${describe(ref)}`);
        if (e instanceof KubeError && e.notFound) return;
        throw e;
      }
    },
    async get(ref) {
      try {
        return toApiNames((await objects.read(refOf(ref))) as KubeObject);
      } catch (err) {
        const e = toKubeError(err, `get ${describe(ref)}`);
        if (e instanceof KubeError && e.notFound) return undefined;
        throw e;
      }
    },
    async list(apiVersion, kind, namespace, labelSelector) {
      try {
        const out = await objects.list(
          apiVersion,
          kind,
          namespace,
          undefined,
          undefined,
          undefined,
          undefined,
          labelSelector,
        );
        // Items of a list carry no apiVersion/kind.
        return out.items.map((i) => toApiNames({ ...(i as KubeObject), apiVersion, kind }));
      } catch (err) {
        throw toKubeError(err, `list ${kind} in ${namespace ?? 'the cluster'}`);
      }
    },
    async patchStatus(plural, namespace, name, status) {
      try {
        await custom.patchNamespacedCustomObjectStatus(
          { group: API_GROUP, version: API_VERSION, namespace, plural, name, body: { status } },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
        );
      } catch (err) {
        throw toKubeError(err, `patch status of ${plural} ${namespace}/${name}`);
      }
    },
    async event(e) {
      const now = new Date();
      try {
        await core.createNamespacedEvent({
          namespace: e.involved.namespace,
          body: {
            metadata: { generateName: `${e.involved.name}.`, namespace: e.involved.namespace },
            involvedObject: {
              apiVersion: e.involved.apiVersion,
              kind: e.involved.kind,
              name: e.involved.name,
              namespace: e.involved.namespace,
              uid: e.involved.uid,
            },
            type: e.type,
            reason: e.reason,
            message: e.message.slice(0, 1024),
            source: { component: FIELD_MANAGER },
            reportingComponent: FIELD_MANAGER,
            reportingInstance: FIELD_MANAGER,
            firstTimestamp: now,
            lastTimestamp: now,
            count: 1,
          },
        });
      } catch (err) {
        throw toKubeError(err, `create event for ${describe(e.involved)}`);
      }
    },
    async serves(apiVersion, kind) {
      // Asked on every SLO reconcile: remember the answer for a while instead of asking discovery each time.
      const key = `${apiVersion}/${kind}`;
      const known = served.get(key);
      if (known && Date.now() - known.at < SERVES_TTL_MS) return known.value;
      const value = await discover(apiVersion, kind);
      served.set(key, { at: Date.now(), value });
      return value;
    },
  };

  async function discover(apiVersion: string, kind: string): Promise<boolean> {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    try {
      if (!group) return true;
      const groups = await discovery.getAPIVersions();
      if (!groups.groups.some((g) => g.name === group && g.versions.some((v) => v.version === version))) return false;
      const res = (await objects.list(
        apiVersion,
        kind,
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
        1,
      )) as unknown;
      return res !== undefined;
    } catch (err) {
      const e = toKubeError(err, `discover ${apiVersion} ${kind}`);
      if (e instanceof KubeError && e.notFound) return false;
      if (String((err as Error)?.message).includes('Unrecognized API version and kind')) return false;
      throw e;
    }
  }
}
