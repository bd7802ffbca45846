// node-exporter: one pod per node, the node's CPU, memory, filesystems and network for the stack's
// Prometheus. It reads the host's /proc, /sys and / (read-only) and lives in the host's network and
// PID namespaces, so it cannot meet the restricted Pod Security Standard: it runs only in a stack whose
// namespace admits privileged pods (docs/cluster-metrics.md). Nothing else of the restricted profile
// is given up: non-root, no capabilities, no privilege escalation, read-only root file system, no
// API token.
import { k8s } from 'cdk8s-plus-33';
import type { Construct } from 'constructs';
import type { StackContext } from './context.js';
import { IMAGES } from './images.js';
import { selectorLabels } from './labels.js';
import { container, podTemplate, serviceAccount } from './pod.js';

/** Where the host's file systems are mounted in the container. */
export const HOST_MOUNTS = { proc: '/host/proc', sys: '/host/sys', root: '/host/root' } as const;

export const nodeExporterPort = (ctx: StackContext): number => ctx.spec.metrics?.cluster?.nodeExporter?.port ?? 9100;

// Pod, container-runtime and kubelet mounts repeat the node's own file systems once per pod.
const MOUNT_POINTS_EXCLUDE =
  '^/(dev|proc|sys|run/credentials/.+|run/containerd/.+|run/k3s/.+|var/lib/docker/.+|var/lib/containers/storage/.+|var/lib/containerd/.+|var/lib/kubelet/pods/.+|var/lib/kubelet/plugins/.+)($|/)';
// Pod network interfaces (veth pairs, CNI bridges' per-pod links) come and go with every pod.
const DEVICE_EXCLUDE = '^(veth.*|cali.*|flannel.*|cni.*|lxc.*|[a-f0-9]{15})$';

/**
 * The container's arguments. It listens on the node's own address only (HOST_IP, from the
 * downward API), not on every interface of the host.
 */
export function nodeExporterArgs(ctx: StackContext): string[] {
  return [
    `--web.listen-address=$(HOST_IP):${nodeExporterPort(ctx)}`,
    `--path.procfs=${HOST_MOUNTS.proc}`,
    `--path.sysfs=${HOST_MOUNTS.sys}`,
    `--path.rootfs=${HOST_MOUNTS.root}`,
    `--path.udev.data=${HOST_MOUNTS.root}/run/udev/data`,
    `--collector.filesystem.mount-points-exclude=${MOUNT_POINTS_EXCLUDE}`,
    `--collector.netdev.device-exclude=${DEVICE_EXCLUDE}`,
    `--collector.netclass.ignored-devices=${DEVICE_EXCLUDE}`,
    // Off by default upstream too, listed so that nobody turns them on by accident: both walk
    // every process of the host (hostPID) and their series grow with it.
    '--no-collector.processes',
    '--no-collector.systemd',
  ];
}

export function nodeExporterChart(scope: Construct, ctx: StackContext): void {
  const c = 'node-exporter';
  const port = nodeExporterPort(ctx);
  serviceAccount(scope, ctx, c);
  const main = container({
    name: 'node-exporter',
    image: ctx.spec.metrics?.cluster?.nodeExporter?.image ?? IMAGES.nodeExporter,
    args: nodeExporterArgs(ctx),
    env: [{ name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } }],
    ports: [{ name: 'metrics', port }],
    mounts: [
      { name: 'proc', mountPath: HOST_MOUNTS.proc, readOnly: true },
      { name: 'sys', mountPath: HOST_MOUNTS.sys, readOnly: true },
      { name: 'root', mountPath: HOST_MOUNTS.root, readOnly: true, mountPropagation: 'HostToContainer' },
    ],
    resources: ctx.size['node-exporter'].resources,
    probe: { path: '/', port: 'metrics' },
  });
  // With hostNetwork the container port is the host port; naming it lets the scheduler refuse a
  // second node-exporter on the same port instead of starting one that cannot bind.
  const withHostPort: k8s.Container = {
    ...main,
    ports: main.ports?.map((p) => ({ ...p, hostPort: p.containerPort })),
  };
  const template = podTemplate(ctx, c, { uid: 65534, containers: [withHostPort] });
  const hostPath = (name: string, path: string): k8s.Volume => ({ name, hostPath: { path, type: 'Directory' } });
  const pod: k8s.PodTemplateSpec = {
    ...template,
    spec: {
      ...(template.spec as k8s.PodSpec),
      hostPid: true,
      hostNetwork: true,
      dnsPolicy: 'ClusterFirstWithHostNet',
      // Every node, tainted ones included: a node without node-exporter is a node nobody watches.
      tolerations: [{ operator: 'Exists' }],
      volumes: [hostPath('proc', '/proc'), hostPath('sys', '/sys'), hostPath('root', '/')],
    },
  };
  new k8s.KubeDaemonSet(scope, 'daemonset', {
    metadata: { name: ctx.name(c) },
    spec: {
      selector: { matchLabels: selectorLabels(ctx.stack, c) },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: k8s.IntOrString.fromString('10%') } },
      template: pod,
    },
  });
}
