// The SLO's rules and dashboard as plain ConfigMaps, ready for the reconciler to apply. The rule
// ConfigMap carries the labels the stack's Prometheus selects on; the dashboard one the label
// Grafana's sidecar watches.
import yaml from 'js-yaml';
import type { SLO } from '../../api/types.js';
import {
  LABEL_COMPONENT,
  LABEL_GRAFANA_DASHBOARD,
  LABEL_MANAGED_BY,
  LABEL_PART_OF,
  LABEL_RULES_FOR,
  LABEL_SLO,
  LABEL_STACK,
  MANAGED_BY,
  PART_OF,
} from '../../conventions/index.js';
import {
  COMPONENT_SLO_DASHBOARD,
  COMPONENT_SLO_RULES,
  sloDashboardConfigMapName,
  sloDashboardFileKey,
  sloRuleConfigMapName,
  sloRuleFileKey,
} from '../../conventions/slo.js';
import { sloDashboard } from './dashboard.js';
import { type RuleFile, sloRules } from './rules.js';

export interface ConfigMap {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: { name: string; namespace?: string; labels: Record<string, string> };
  data: Record<string, string>;
}

/** The rule file as Prometheus reads it. */
export function ruleFileYaml(file: RuleFile): string {
  return yaml.dump(file, { noRefs: true, lineWidth: -1, quotingType: '"' });
}

export function dashboardJson(dashboard: unknown): string {
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}

function labels(slo: SLO, component: string): Record<string, string> {
  return {
    [LABEL_COMPONENT]: component,
    [LABEL_PART_OF]: PART_OF,
    [LABEL_MANAGED_BY]: MANAGED_BY,
    [LABEL_STACK]: slo.spec.stackRef.name,
    [LABEL_SLO]: slo.metadata.name ?? '',
  };
}

function configMap(slo: SLO, name: string, lbls: Record<string, string>, data: Record<string, string>): ConfigMap {
  const metadata: ConfigMap['metadata'] = { name, labels: lbls };
  if (slo.metadata.namespace) metadata.namespace = slo.metadata.namespace;
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata, data };
}

export function sloRuleConfigMap(slo: SLO, rules: RuleFile = sloRules(slo)): ConfigMap {
  const name = slo.metadata.name ?? '';
  const lbls = { ...labels(slo, COMPONENT_SLO_RULES), [LABEL_RULES_FOR]: slo.spec.stackRef.name };
  return configMap(slo, sloRuleConfigMapName(name), lbls, {
    [sloRuleFileKey(name)]: ruleFileYaml(rules),
  });
}

export function sloDashboardConfigMap(slo: SLO, dashboard: Record<string, unknown> = sloDashboard(slo)): ConfigMap {
  const name = slo.metadata.name ?? '';
  return configMap(
    slo,
    sloDashboardConfigMapName(name),
    { ...labels(slo, COMPONENT_SLO_DASHBOARD), [LABEL_GRAFANA_DASHBOARD]: '1' },
    { [sloDashboardFileKey(name)]: dashboardJson(dashboard) },
  );
}
