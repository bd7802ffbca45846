// Shared pod and container settings. Every field a default would otherwise decide is set here on
// purpose: resources, security context, pull policy, service-account token mounting.
import { createHash } from 'node:crypto';
import { k8s } from 'cdk8s-plus-33';
import type { Construct } from 'constructs';
import { ANNOTATION_CONFIG_HASH } from '../../conventions/index.js';
import type { StackContext } from './context.js';
import { type ComponentName, componentLabels, selectorLabels } from './labels.js';
import type { Sizing } from './sizing.js';

export interface Port {
  name: string;
  port: number;
}

export interface ContainerOptions {
  name: string;
  image: string;
  args?: string[];
  env?: k8s.EnvVar[];
  ports?: Port[];
  mounts?: k8s.VolumeMount[];
  resources: Sizing['resources'];
  /**
   * HTTP path and port name for readiness and liveness, or a port name for a TCP probe (a server
   * whose every path asks for credentials); none for sidecars.
   */
  probe?: { path: string; port: string } | { tcpPort: string };
}

export function quantities(list: { cpu?: string; memory?: string }): Record<string, k8s.Quantity> {
  const out: Record<string, k8s.Quantity> = {};
  for (const [k, v] of Object.entries(list)) if (v !== undefined) out[k] = k8s.Quantity.fromString(v);
  return out;
}

export function container(o: ContainerOptions): k8s.Container {
  const probe = !o.probe
    ? undefined
    : 'tcpPort' in o.probe
      ? { tcpSocket: { port: k8s.IntOrString.fromString(o.probe.tcpPort) }, periodSeconds: 10 }
      : { httpGet: { path: o.probe.path, port: k8s.IntOrString.fromString(o.probe.port) }, periodSeconds: 10 };
  return {
    name: o.name,
    image: o.image,
    imagePullPolicy: 'IfNotPresent',
    args: o.args,
    env: o.env,
    ports: o.ports?.map((p) => ({ name: p.name, containerPort: p.port, protocol: 'TCP' })),
    volumeMounts: o.mounts,
    resources: { requests: quantities(o.resources.requests), limits: quantities(o.resources.limits) },
    readinessProbe: probe && { ...probe, initialDelaySeconds: 5, failureThreshold: 3 },
    livenessProbe: probe && { ...probe, initialDelaySeconds: 30, failureThreshold: 6 },
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    },
  };
}

/**
 * Sidecar that copies ConfigMaps carrying one label into a folder (rules, dashboards). It only
 * writes files: the reader notices them itself (Prometheus's auto-reload, Grafana's provisioning
 * poll), so no container needs an admin endpoint of another to be open.
 */
export function configSidecar(o: {
  image: string;
  label: string;
  labelValue?: string;
  namespace: string;
  folder: string;
  mount: k8s.VolumeMount;
}): k8s.Container {
  const env: k8s.EnvVar[] = [
    { name: 'LABEL', value: o.label },
    ...(o.labelValue ? [{ name: 'LABEL_VALUE', value: o.labelValue }] : []),
    { name: 'FOLDER', value: o.folder },
    { name: 'NAMESPACE', value: o.namespace },
    { name: 'RESOURCE', value: 'configmap' },
    { name: 'UNIQUE_FILENAMES', value: 'true' },
  ];
  return container({
    name: 'config-sidecar',
    image: o.image,
    env,
    mounts: [o.mount],
    resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '128Mi' } },
  });
}

/** sha256 of the rendered config files, on the pod template, so a config change rolls the pods. */
export function configHash(...parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 16);
}

export interface PodOptions {
  containers: k8s.Container[];
  volumes?: k8s.Volume[];
  /** Only pods whose sidecars call the API server mount a token. */
  apiAccess?: boolean;
  uid: number;
  configHash?: string;
  /** Labels beside the component's (a target's, e.g. vigil.dev/target: write). */
  labels?: Record<string, string>;
}

export function podTemplate(ctx: StackContext, c: ComponentName, o: PodOptions): k8s.PodTemplateSpec {
  return {
    metadata: {
      labels: { ...componentLabels(ctx.stack, c), ...o.labels },
      annotations: o.configHash ? { [ANNOTATION_CONFIG_HASH]: o.configHash } : undefined,
    },
    spec: {
      serviceAccountName: ctx.name(c),
      automountServiceAccountToken: o.apiAccess ?? false,
      enableServiceLinks: false,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: o.uid,
        runAsGroup: o.uid,
        fsGroup: o.uid,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: o.containers,
      volumes: o.volumes,
    },
  };
}

export function serviceAccount(scope: Construct, ctx: StackContext, c: ComponentName, apiAccess = false): void {
  new k8s.KubeServiceAccount(scope, 'service-account', {
    metadata: { name: ctx.name(c) },
    automountServiceAccountToken: apiAccess,
  });
}

/** A namespaced Role + RoleBinding for the component's ServiceAccount. */
export function role(scope: Construct, ctx: StackContext, c: ComponentName, rules: k8s.PolicyRule[]): void {
  new k8s.KubeRole(scope, 'role', { metadata: { name: ctx.name(c) }, rules });
  new k8s.KubeRoleBinding(scope, 'role-binding', {
    metadata: { name: ctx.name(c) },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: ctx.name(c) },
    subjects: [{ kind: 'ServiceAccount', name: ctx.name(c), namespace: ctx.namespace }],
  });
}

export function service(
  scope: Construct,
  ctx: StackContext,
  c: ComponentName,
  ports: Port[],
  o: { id?: string; name?: string; headless?: boolean; selector?: Record<string, string> } = {},
): void {
  new k8s.KubeService(scope, o.id ?? 'service', {
    metadata: { name: o.name ?? ctx.name(c) },
    spec: {
      type: 'ClusterIP',
      clusterIp: o.headless ? 'None' : undefined,
      publishNotReadyAddresses: o.headless ? true : undefined,
      selector: { ...selectorLabels(ctx.stack, c), ...o.selector },
      ports: ports.map((p) => ({
        name: p.name,
        port: p.port,
        targetPort: k8s.IntOrString.fromString(p.name),
        protocol: 'TCP',
      })),
    },
  });
}

export function configMap(scope: Construct, id: string, name: string, data: Record<string, string>): void {
  new k8s.KubeConfigMap(scope, id, { metadata: { name }, data });
}

export function pvcTemplate(name: string, size: string, storageClassName?: string): k8s.KubePersistentVolumeClaimProps {
  return {
    metadata: { name },
    spec: {
      accessModes: ['ReadWriteOnce'],
      storageClassName,
      resources: { requests: { storage: k8s.Quantity.fromString(size) } },
    },
  };
}

/** A StatefulSet with one PVC per replica (or none, when volumeSize is undefined). */
export function statefulSet(
  scope: Construct,
  ctx: StackContext,
  c: ComponentName,
  pod: k8s.PodTemplateSpec,
  o: {
    replicas: number;
    serviceName: string;
    volume?: { name: string; size: string; storageClassName?: string };
    /** A target's own workload (`<stack>-loki-write`): its id, name and selector labels. */
    id?: string;
    name?: string;
    selector?: Record<string, string>;
  },
): void {
  new k8s.KubeStatefulSet(scope, o.id ?? 'statefulset', {
    metadata: { name: o.name ?? ctx.name(c) },
    spec: {
      replicas: o.replicas,
      serviceName: o.serviceName,
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: { ...selectorLabels(ctx.stack, c), ...o.selector } },
      template: pod,
      volumeClaimTemplates: o.volume
        ? [pvcTemplate(o.volume.name, o.volume.size, o.volume.storageClassName)]
        : undefined,
    },
  });
}

export function deployment(
  scope: Construct,
  ctx: StackContext,
  c: ComponentName,
  pod: k8s.PodTemplateSpec,
  replicas: number,
  o: { id?: string; name?: string; selector?: Record<string, string> } = {},
): void {
  new k8s.KubeDeployment(scope, o.id ?? 'deployment', {
    metadata: { name: o.name ?? ctx.name(c) },
    spec: {
      replicas,
      revisionHistoryLimit: 5,
      selector: { matchLabels: { ...selectorLabels(ctx.stack, c), ...o.selector } },
      template: pod,
    },
  });
}

export const emptyDir = (name: string): k8s.Volume => ({ name, emptyDir: {} });
export const configMapVolume = (name: string, configMapName: string): k8s.Volume => ({
  name,
  configMap: { name: configMapName },
});

/** Mebibytes in a Kubernetes quantity (lib/quantities.ts). */
export { quantityMiB as quantityBytesMiB } from '../../lib/quantities.js';
