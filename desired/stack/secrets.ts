// The Secrets the operator itself generates for a stack (not rendered: their values are random and
// kept across reconciles). The operator may not list Secrets (manifests/rbac/cluster-role.yaml), so
// it finds its own by these names: get to compare and carry values over, delete to prune.
import type { StackContext } from './context.js';
import { correlatorAuthSecretName } from './correlator.js';
import { grafanaAdminSecretName } from './grafana.js';
import { queryAuthSecretName, webConfigSecretName } from './query-auth.js';

/**
 * Every name the operator gives a Secret it generates for this stack, whether or not the stack
 * wants it now (one it no longer wants is found by name and pruned). Each is what its naming
 * function returns when the spec names no Secret of its own; a Secret the spec names is the user's
 * and never pruned (it carries no ownerReference to the stack).
 */
export function generatedSecretNames(ctx: StackContext): string[] {
  const spec = ctx.spec;
  const unreferenced: StackContext = {
    ...ctx,
    spec: {
      ...spec,
      grafana: spec.grafana && { ...spec.grafana, adminSecretRef: undefined },
      correlation: spec.correlation && { ...spec.correlation, basicAuthSecretRef: undefined },
      metrics: spec.metrics && { ...spec.metrics, basicAuth: undefined },
      alerting: spec.alerting && { ...spec.alerting, basicAuth: undefined },
    },
  };
  return [
    ...new Set([
      grafanaAdminSecretName(unreferenced),
      correlatorAuthSecretName(unreferenced),
      // The query APIs' auth Secrets, and their web configs (always the operator's: ADR 20).
      queryAuthSecretName(unreferenced, 'prometheus'),
      queryAuthSecretName(unreferenced, 'alertmanager'),
      webConfigSecretName(ctx, 'prometheus'),
      webConfigSecretName(ctx, 'alertmanager'),
    ]),
  ].sort();
}
