// The generated parts of manifests/ (hack/gen.ts writes them, `make test` fails when they are
// stale): the operator Deployment, whose image comes from desired/stack/images.ts so that a stack's
// correlator and the operator run the same build; the Kustomization that lets manifests/ include
// crds/; and the argocd-cm health checks, embedded from the Lua sources in manifests/argocd/health/.
// Pure: the Lua sources are passed in.

import {
  API_GROUP,
  KIND_SLO,
  KIND_STACK,
  LABEL_COMPONENT,
  LABEL_NAME,
  LABEL_PART_OF,
  PART_OF,
} from '../conventions/index.js';
import { IMAGES } from '../desired/stack/images.js';

export const OPERATOR_NAMESPACE = 'vigil-system';
export const OPERATOR_NAME = 'vigil-operator';
export const METRICS_PORT = 8080;
/**
 * V8 flags for the operator: a small young generation keeps RSS near the live heap, and the old
 * space stays well under the memory limit (bench/operator.bench.ts runs with the same flags).
 */
export const OPERATOR_NODE_OPTIONS = '--max-semi-space-size=2 --max-old-space-size=192';

const labels = { [LABEL_NAME]: OPERATOR_NAME, [LABEL_PART_OF]: PART_OF, [LABEL_COMPONENT]: 'operator' };
const selector = { [LABEL_NAME]: OPERATOR_NAME, [LABEL_PART_OF]: PART_OF };

export function operatorDeployment(image: string = IMAGES.correlator): Record<string, unknown> {
  const fieldEnv = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
  const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path, port: 'metrics' },
    periodSeconds,
    failureThreshold,
    timeoutSeconds: 2,
  });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: OPERATOR_NAME, namespace: OPERATOR_NAMESPACE, labels },
    spec: {
      // Two replicas, one leader: the standby takes the Lease within its duration (15 s) when the
      // leader's node goes away, instead of waiting for a reschedule and an image pull.
      replicas: 2,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: OPERATOR_NAME,
          // main.ts forces an exit 25 s after SIGTERM; the kubelet must not kill it sooner.
          terminationGracePeriodSeconds: 30,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 65532,
            runAsGroup: 65532,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                {
                  weight: 100,
                  podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: selector } },
                },
              ],
            },
          },
          containers: [
            {
              name: 'operator',
              image,
              imagePullPolicy: 'IfNotPresent',
              args: ['operator', '--leader-elect', 'true', '--metrics-port', String(METRICS_PORT)],
              env: [
                fieldEnv('POD_NAME', 'metadata.name'),
                fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
                { name: 'NODE_OPTIONS', value: OPERATOR_NODE_OPTIONS },
                // --allowed-image-prefixes (docs/install.md, "Allowed images"): comma-separated,
                // e.g. "registry.example/,quay.io/prometheus/"; empty admits any image.
                { name: 'VIGIL_ALLOWED_IMAGE_PREFIXES', value: '' },
              ],
              ports: [{ name: 'metrics', containerPort: METRICS_PORT, protocol: 'TCP' }],
              // A standby replica is ready too (readyz waits for informers only on the leader), so
              // the Service's endpoints show both and a rollout does not stall on the standby.
              livenessProbe: probe('/healthz', 10, 3),
              readinessProbe: probe('/readyz', 5, 2),
              resources: {
                requests: { cpu: '100m', memory: '128Mi' },
                // No CPU limit (as the stack charts, ADR 5): throttling slows reconciles and protects no one.
                limits: { memory: '512Mi' },
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              // Node writes nothing but may want a temp dir (e.g. for a heap snapshot on demand).
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
        },
      },
    },
  };
}

/** crds/ is a kustomize base too, so manifests/ includes it without a second copy of the CRDs. */
export function crdKustomization(crdFiles: string[]): Record<string, unknown> {
  return {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: [...crdFiles].sort(),
  };
}

export const HEALTH_CHECK_KINDS = [
  // One script serves both kinds: they report the same conditions, and it reads the kind from obj.
  { kind: KIND_STACK, file: 'conditions.lua' },
  { kind: KIND_SLO, file: 'conditions.lua' },
] as const;

export const healthKey = (kind: string) => `resource.customizations.health.${API_GROUP}_${kind}`;

/**
 * The keys to merge into the argocd-cm ConfigMap in the argocd namespace. A ConfigMap of its own
 * would replace the whole argocd-cm, so this one is meant as a strategic-merge patch or for
 * copying the keys over.
 */
export function argocdConfigMap(lua: Record<string, string>): Record<string, unknown> {
  const data: Record<string, string> = {};
  for (const { kind, file } of HEALTH_CHECK_KINDS) {
    const src = lua[file];
    if (src === undefined) throw new Error(`manifests/argocd/health/${file} is missing`);
    data[healthKey(kind)] = src;
  }
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'argocd-cm',
      namespace: 'argocd',
      labels: { 'app.kubernetes.io/name': 'argocd-cm', 'app.kubernetes.io/part-of': 'argocd' },
    },
    data,
  };
}
