// The SLO package's public face: pure functions from a validated SLO to rules, dashboard and
// ConfigMaps. Validate with validateResource, then sloProblems, before generating.

export * from '../../conventions/slo.js';
export * from './configmaps.js';
export { sloDashboard, sloDashboardUid } from './dashboard.js';
export {
  type AlertingRule,
  countRules,
  type RecordingRule,
  type Rule,
  type RuleFile,
  type RuleGroup,
  sloRules,
} from './rules.js';
export { sloProblems } from './validate.js';
export { type BurnWindow, burnFactor, DEFAULT_WINDOWS, SLI_WINDOWS } from './windows.js';
