// Every name the SLO rules and dashboards put on the wire: recording-rule names, label names,
// alert names, ConfigMap names and keys. The recording-rule names follow Sloth's (slo:sli_error:…)
// so that people who know Sloth's rules can read ours; the label names are Vigil's own.

/** `slo:sli_error:ratio_rate5m`, …: the SLI error ratio over one window. */
export const sliErrorRatio = (window: string): string => `slo:sli_error:ratio_rate${window}`;
/** `slo:sli_total:rate1h`: requests per second over one window, only written for the traffic guard. */
export const sliTotalRate = (window: string): string => `slo:sli_total:rate${window}`;
export const RECORD_OBJECTIVE = 'slo:objective:ratio';
export const RECORD_ERROR_BUDGET = 'slo:error_budget:ratio';
export const RECORD_TIME_PERIOD_DAYS = 'slo:time_period:days';
export const RECORD_CURRENT_BURN_RATE = 'slo:current_burn_rate:ratio';
export const RECORD_PERIOD_BURN_RATE = 'slo:period_burn_rate:ratio';
export const RECORD_BUDGET_REMAINING = 'slo:period_error_budget_remaining:ratio';
export const RECORD_INFO = 'vigil_slo_info';

/** The SLO's name (metadata.name). */
export const L_SLO = 'slo';
/** The SLO's namespace; set only when the SLO has one (the operator always does). */
export const L_SLO_NAMESPACE = 'slo_namespace';
export const L_SERVICE = 'service';
/** The window a recording rule covers (5m … 3d, or the SLO period). */
export const L_WINDOW = 'slo_window';
/** page | ticket | absent: Vigil's tier. */
export const L_TIER = 'tier';
/** critical (page) | warning (ticket, absent): the Alertmanager convention kube-prometheus uses. */
export const L_SEVERITY = 'severity';
/** Labels of vigil_slo_info. */
export const L_OBJECTIVE = 'objective';
export const L_INDICATOR = 'indicator';

/** Labels a user may not set: Vigil's identity labels and Prometheus's own. */
export const RESERVED_LABELS: readonly string[] = [
  L_SLO,
  L_SLO_NAMESPACE,
  L_SERVICE,
  L_WINDOW,
  L_TIER,
  'alertname',
  'le',
];

export const ALERT_BURN = 'SLOErrorBudgetBurn';
export const ALERT_ABSENT = 'SLOMetricAbsent';

export const TIER_PAGE = 'page';
export const TIER_TICKET = 'ticket';
export const TIER_ABSENT = 'absent';
export type Tier = typeof TIER_PAGE | typeof TIER_TICKET;
export const SEVERITY_BY_TIER = { page: 'critical', ticket: 'warning', absent: 'warning' } as const;

export const ANNOTATION_SUMMARY = 'summary';
export const ANNOTATION_DESCRIPTION = 'description';
export const ANNOTATION_RUNBOOK = 'runbook_url';

export const COMPONENT_SLO_RULES = 'slo-rules';
export const COMPONENT_SLO_DASHBOARD = 'slo-dashboard';
export const sloRuleConfigMapName = (slo: string): string => `vigil-slo-${slo}-rules`;
export const sloDashboardConfigMapName = (slo: string): string => `vigil-slo-${slo}-dashboard`;
/** Data keys carry the SLO name so a projected volume can merge every SLO's ConfigMap into one folder. */
export const sloRuleFileKey = (slo: string): string => `vigil-slo-${slo}.rules.yaml`;
export const sloDashboardFileKey = (slo: string): string => `vigil-slo-${slo}.json`;

/** The stack renderer provisions its Prometheus datasource with this uid; the SLO dashboards refer to it. */
export const PROMETHEUS_DATASOURCE_UID = 'prometheus' as const;
