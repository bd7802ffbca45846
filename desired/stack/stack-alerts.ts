// Alerts every stack ships about itself (the stack monitors itself): the rule files of alerts/,
// generated from desired/shipped. SLO alerts come separately, from the SLO resources, as
// ConfigMaps the Prometheus sidecar collects.
import { ALERT_FILES, shippedRuleFile, stackRuleFiles } from '../shipped/index.js';
import type { RuleFile } from '../slo/rules.js';
import type { StackContext } from './context.js';

/**
 * Every shipped alert group in one rule file. The same for every stack: an alert about a component
 * that is off has no series to fire on, and a stack that turns one on needs no new rules.
 */
export function stackAlerts(_ctx?: StackContext): RuleFile {
  return { groups: ALERT_FILES.flatMap((name) => shippedRuleFile(name).groups) };
}

/** The `<stack>-prometheus-rules` ConfigMap data: file name → the text of alerts/<area>.yaml. */
export function stackAlertFiles(_ctx?: StackContext): Record<string, string> {
  return stackRuleFiles();
}
