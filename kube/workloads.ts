// The narrow API-server calls a remediation makes: restart, delete a pod, scale, and the
// conditional status write that makes the policy's ledger the one place a decision is taken.
import * as k8s from '@kubernetes/client-node';
import { API_GROUP, API_VERSION } from '../conventions/index.js';
import { ANNOTATION_RESTARTED_AT } from '../conventions/remediation.js';
import { apiConfiguration, toKubeError } from './client.js';

/** The field manager of remediation writes, so `managedFields` tells them from the stack's applies. */
export const REMEDIATION_FIELD_MANAGER = 'vigil-remediation';

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

export interface WorkloadApi {
  /**
   * Merge-patches a custom resource's status only if its resourceVersion is still `resourceVersion`
   * (409 otherwise: someone else decided in between). Returns the new resourceVersion.
   */
  writeStatusIf(
    plural: string,
    namespace: string,
    name: string,
    resourceVersion: string,
    status: unknown,
  ): Promise<string>;
  /** What `kubectl rollout restart` does: a new restartedAt annotation on the pod template. */
  rolloutRestart(kind: WorkloadKind, namespace: string, name: string, at: Date): Promise<void>;
  /** Deletes one pod, only the one with this uid (a replacement of the same name is left alone). */
  deletePod(namespace: string, name: string, uid?: string): Promise<void>;
  /** Adds `by` replicas up to `max` through the scale subresource, conditional on its resourceVersion. */
  scale(
    kind: 'Deployment' | 'StatefulSet',
    namespace: string,
    name: string,
    by: number,
    max: number,
  ): Promise<{ from: number; to: number }>;
  /** One key of a Secret, decoded; undefined when the Secret or the key is absent. */
  readSecretKey(namespace: string, name: string, key: string): Promise<string | undefined>;
}

const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

export function workloadApi(kc: k8s.KubeConfig): WorkloadApi {
  const cfg = apiConfiguration(kc);
  const apps = new k8s.AppsV1Api(cfg);
  const core = new k8s.CoreV1Api(cfg);
  const custom = new k8s.CustomObjectsApi(cfg);
  return {
    async writeStatusIf(plural, namespace, name, resourceVersion, status) {
      try {
        const out = (await custom.patchNamespacedCustomObjectStatus(
          {
            group: API_GROUP,
            version: API_VERSION,
            namespace,
            plural,
            name,
            body: { metadata: { resourceVersion }, status },
            fieldManager: REMEDIATION_FIELD_MANAGER,
          },
          merge,
        )) as { metadata?: { resourceVersion?: string } };
        return out.metadata?.resourceVersion ?? '';
      } catch (err) {
        throw toKubeError(err, `write status of ${plural} ${namespace}/${name}`);
      }
    },
    async rolloutRestart(kind, namespace, name, at) {
      // RFC 3339 without fractions, as kubectl writes it.
      const body = {
        spec: {
          template: {
            metadata: { annotations: { [ANNOTATION_RESTARTED_AT]: at.toISOString().replace(/\.\d{3}Z$/, 'Z') } },
          },
        },
      };
      const req = { name, namespace, body, fieldManager: REMEDIATION_FIELD_MANAGER };
      try {
        if (kind === 'Deployment') await apps.patchNamespacedDeployment(req, merge);
        else if (kind === 'StatefulSet') await apps.patchNamespacedStatefulSet(req, merge);
        else await apps.patchNamespacedDaemonSet(req, merge);
      } catch (err) {
        throw toKubeError(err, `restart ${kind} ${namespace}/${name}`);
      }
    },
    async deletePod(namespace, name, uid) {
      try {
        await core.deleteNamespacedPod({ name, namespace, body: uid ? { preconditions: { uid } } : {} });
      } catch (err) {
        throw toKubeError(err, `delete Pod ${namespace}/${name}`);
      }
    },
    async scale(kind, namespace, name, by, max) {
      try {
        const read =
          kind === 'Deployment'
            ? apps.readNamespacedDeploymentScale({ name, namespace })
            : apps.readNamespacedStatefulSetScale({ name, namespace });
        const current = await read;
        const from = current.spec?.replicas ?? 0;
        const to = Math.min(max, from + by);
        if (to === from) return { from, to };
        const body: k8s.V1Scale = { ...current, spec: { replicas: to } };
        const req = { name, namespace, body, fieldManager: REMEDIATION_FIELD_MANAGER };
        if (kind === 'Deployment') await apps.replaceNamespacedDeploymentScale(req);
        else await apps.replaceNamespacedStatefulSetScale(req);
        return { from, to };
      } catch (err) {
        throw toKubeError(err, `scale ${kind} ${namespace}/${name}`);
      }
    },
    async readSecretKey(namespace, name, key) {
      try {
        const s = await core.readNamespacedSecret({ name, namespace });
        const v = s.data?.[key];
        return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
      } catch (err) {
        const e = toKubeError(err, `read Secret ${namespace}/${name}`);
        if ((e as { code?: number }).code === 404) return undefined;
        throw e;
      }
    },
  };
}
