// Plain shapes the rest of the operator uses; nothing here imports @kubernetes/client-node.

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: OwnerReference[];
    deletionTimestamp?: string;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
}

export interface EventInput {
  involved: ObjectRef & { uid?: string };
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** The operations the controllers need from the API server. */
export interface KubeApi {
  /** Server-side apply with field manager vigil and force. */
  apply(obj: KubeObject): Promise<KubeObject>;
  /** Deletes an object; a missing one is not an error. */
  delete(ref: ObjectRef): Promise<void>;
  get(ref: ObjectRef): Promise<KubeObject | undefined>;
  /** Lists in one namespace; undefined lists a cluster-scoped kind (or a namespaced one in all namespaces). */
  list(apiVersion: string, kind: string, namespace: string | undefined, labelSelector?: string): Promise<KubeObject[]>;
  /** Merge-patches the status subresource of one of our custom resources. */
  patchStatus(plural: string, namespace: string, name: string, status: unknown): Promise<void>;
  event(e: EventInput): Promise<void>;
  /** Whether the API server serves this group/version and kind (e.g. monitoring.coreos.com/v1 PrometheusRule). */
  serves(apiVersion: string, kind: string): Promise<boolean>;
}

/** An HTTP-level failure from the API server, with what a controller needs to decide. */
export class KubeError extends Error {
  constructor(
    message: string,
    readonly code: number,
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'KubeError';
  }
  get notFound(): boolean {
    return this.code === 404;
  }
  get conflict(): boolean {
    return this.code === 409;
  }
  /** 4xx other than 408/409/429 are the request's fault: retrying the same request will not help. */
  get permanent(): boolean {
    return this.code >= 400 && this.code < 500 && ![408, 409, 429].includes(this.code);
  }
}
