// The entry to the API-server edge: everything else gets a KubeConnection and never sees client-node.
import * as k8s from '@kubernetes/client-node';
import { makeKubeApi } from './client.js';
import {
  type InformerHooks,
  type InformerOptions,
  type InformerTarget,
  type KeptInformer,
  makeInformer,
} from './informer.js';
import { type LeaseStore, leaseStore } from './lease.js';
import type { KubeApi } from './types.js';
import { type WorkloadApi, workloadApi } from './workloads.js';

export interface KubeConnection {
  api: KubeApi;
  server: string;
  informer(target: InformerTarget, hooks: InformerHooks, opts?: InformerOptions): KeptInformer;
  leases(namespace: string, name: string): LeaseStore;
  /** Remediation actions and the conditional ledger write. */
  workloads: WorkloadApi;
}

/** Connects with a kubeconfig file, or the in-cluster service account / default kubeconfig when absent. */
export function connect(kubeconfigPath?: string): KubeConnection {
  const kc = new k8s.KubeConfig();
  if (kubeconfigPath) kc.loadFromFile(kubeconfigPath);
  else kc.loadFromDefault();
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('no current cluster in the kubeconfig');
  return {
    api: makeKubeApi(kc),
    server: cluster.server,
    informer: (target, hooks, opts) => makeInformer(kc, target, hooks, opts),
    leases: (namespace, name) => leaseStore(kc, namespace, name),
    workloads: workloadApi(kc),
  };
}

export type { InformerEvent, InformerTarget, KeptInformer } from './informer.js';
export { LeaderElector } from './lease.js';
export * from './types.js';
export type { WorkloadApi, WorkloadKind } from './workloads.js';
