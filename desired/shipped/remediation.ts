// What every stack ships about remediation (RemediationPolicy): a dashboard of the decisions the
// operator took, by policy and result, with the blocked targets; and the alert for a policy whose
// breaker is open. Both read the operator's metrics (conventions/remediation.ts).
import { RemediationMetrics as M } from '../../conventions/remediation.js';
import { ALERT_SERVICE, RUNBOOK_BASE, runbookUrl, SEVERITY_WARNING } from '../../conventions/shipped.js';
import { dashboard, type Json } from '../dashboards/builder.js';
import type { AlertingRule } from '../slo/rules.js';

export const ALERT_POLICY_BLOCKED = 'VigilRemediationPolicyBlocked';
export const ALERT_ACTIONS_FAILING = 'VigilRemediationActionsFailing';

export const remediationAlerts: AlertingRule[] = [
  {
    alert: ALERT_POLICY_BLOCKED,
    expr: `max by (namespace, policy) (${M.blockedTargets}) > 0`,
    for: '1m',
    labels: { severity: SEVERITY_WARNING, service: ALERT_SERVICE, component: 'remediation' },
    annotations: {
      summary: 'A remediation policy has stopped acting on a target (its breaker is open).',
      description:
        'RemediationPolicy {{ $labels.namespace }}/{{ $labels.policy }} blocks {{ $value }} target(s): its actions did not resolve the alert. A person has to look; the status of the policy says until when.',
      runbook_url: runbookUrl(ALERT_POLICY_BLOCKED),
    },
  },
  {
    alert: ALERT_ACTIONS_FAILING,
    expr: `sum by (policy, action) (increase(${M.decisions}{result="failed"}[15m])) > 0`,
    for: '0m',
    labels: { severity: SEVERITY_WARNING, service: ALERT_SERVICE, component: 'remediation' },
    annotations: {
      summary: 'Remediation actions fail.',
      description:
        'Policy {{ $labels.policy }} tried {{ $labels.action }} and it failed {{ $value | humanize }} time(s) in 15 minutes; failed actions are not retried blindly and count against the budget.',
      runbook_url: runbookUrl(ALERT_ACTIONS_FAILING),
    },
  },
];

const R = '$__rate_interval';

export function remediationDashboard(): Json {
  return dashboard({
    name: 'remediation',
    title: 'Vigil / Remediation',
    description:
      'What the RemediationPolicies decided: actions taken, skipped (cooldown, backoff, budget, dry-run, no target) and blocked targets.',
    tags: ['remediation'],
    links: [{ title: 'Runbooks', type: 'link', url: RUNBOOK_BASE, targetBlank: true }],
    rows: [
      {
        title: 'Decisions',
        panels: [
          {
            type: 'stat',
            title: 'Blocked targets',
            description: 'Targets whose breaker is open, by policy; kubectl get rpol shows until when.',
            queries: [
              {
                expr: `sum by (namespace, policy) (${M.blockedTargets}) > 0 or vector(0)`,
                legend: '{{namespace}}/{{policy}}',
                instant: true,
              },
            ],
            w: 8,
            thresholds: [
              ['green', null],
              ['red', 1],
            ],
          },
          {
            type: 'timeseries',
            title: 'Actions by policy',
            queries: [
              {
                expr: `sum by (policy, action) (increase(${M.decisions}{result=~"acted|failed"}[${R}]))`,
                legend: '{{policy}} {{action}}',
              },
            ],
            unit: 'short',
            w: 16,
          },
          {
            type: 'timeseries',
            title: 'Breaker trips and DryRun decisions',
            description:
              'tripped: a budget spent without the alert resolving; dry-run: what a DryRun policy would have done.',
            queries: [
              {
                expr: `sum by (policy, result) (increase(${M.decisions}{result=~"tripped|dry-run"}[${R}]))`,
                legend: '{{policy}} {{result}}',
              },
            ],
            unit: 'short',
            w: 12,
          },
          {
            type: 'timeseries',
            title: 'Decisions by result',
            description:
              'acted, failed, dry-run, cooldown, backoff, budget, blocked, tripped, no-target, refused, suspended, duplicate, resolved.',
            queries: [{ expr: `sum by (result) (increase(${M.decisions}[${R}]))`, legend: '{{result}}' }],
            unit: 'short',
            w: 12,
          },
        ],
      },
    ],
  });
}
