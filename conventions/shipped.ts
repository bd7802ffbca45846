// Names the shipped dashboards and self-monitoring alerts put on the wire: the rule file and
// dashboard names, their ConfigMap keys, the runbook address and the alert labels.

/** Where runbook_url points; every alert has a section here whose heading is the alert's name. */
export const RUNBOOK_BASE = 'https://github.com/vigil-dev/vigil/blob/main/docs/runbooks.md';

/** The GitHub anchor of a Markdown heading (lower case, spaces to dashes, punctuation dropped). */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

export const runbookUrl = (alert: string): string => `${RUNBOOK_BASE}#${headingAnchor(alert)}`;

/** Every self-monitoring alert carries service="vigil", so Alertmanager groups them apart from the apps'. */
export const ALERT_SERVICE = 'vigil';
/** The kube-prometheus convention the SLO alerts follow too (examples/full.yaml routes on it). */
export const SEVERITY_CRITICAL = 'critical';
export const SEVERITY_WARNING = 'warning';
export type Severity = typeof SEVERITY_CRITICAL | typeof SEVERITY_WARNING;

/** Rule files, one per area; `alerts/<name>.yaml` in the repository, the same key in the rules ConfigMap. */
export const ALERT_FILES = [
  'stack',
  'collector',
  'prometheus',
  'loki',
  'tempo',
  'correlator',
  'operator',
  // The cluster the stack runs in (spec.metrics.cluster): nodes, and the workloads on them.
  'nodes',
  'workloads',
  // RemediationPolicy: a policy whose breaker is open, actions that fail.
  'remediation',
] as const;
export type AlertFile = (typeof ALERT_FILES)[number];
export const alertFileKey = (name: AlertFile): string => `vigil-${name}.rules.yaml`;

export const DASHBOARDS = [
  'stack-health',
  'correlation-overview',
  'slo-overview',
  // The cluster (spec.metrics.cluster) and the services' RED metrics from span metrics.
  'cluster-nodes',
  'cluster-workloads',
  'service-red',
  // What the RemediationPolicies decided.
  'remediation',
] as const;
export type DashboardName = (typeof DASHBOARDS)[number];
/** Grafana limits uids to 40 characters; these are fixed so links to a dashboard survive re-renders. */
export const dashboardUid = (name: DashboardName): string => `vigil-${name}`;
/** ConfigMap name in a stack: `<stack>-dashboard-<name>`. */
export const dashboardConfigMapName = (stack: string, name: DashboardName): string => `${stack}-dashboard-${name}`;
/** The data key; the sidecar writes it as the file name, so it carries the vigil- prefix. */
export const dashboardFileKey = (name: DashboardName): string => `vigil-${name}.json`;
