// Which policies route a stack's alerts, as the render input desired/stack/remediation.ts takes.
// The operator passes it to renderStack; a change of a policy re-renders its stack.
import type { RemediationPolicy } from '../../api/remediation.js';
import { validateResource } from '../../api/validate.js';
import { REMEDIATION_WEBHOOK_PATH } from '../../conventions/remediation.js';
import type { RemediationRouting } from '../../desired/stack/remediation.js';
import { durationMs } from './engine.js';
import { routeMatchers } from './match.js';

/** The receiver URL for one stack: `<base>/api/v1/remediation/alerts/<namespace>/<stack>`. */
export const receiverUrl = (base: string, namespace: string, stack: string): string =>
  `${base.replace(/\/+$/, '')}${REMEDIATION_WEBHOOK_PATH}/${namespace}/${stack}`;

/**
 * The routing of one stack from the policies of its namespace (raw objects, as the cache holds
 * them): those that name the stack and pass validation. Undefined when none does.
 */
export function routingFor(
  namespace: string,
  stack: string,
  policies: readonly { metadata: { name: string; namespace?: string }; spec?: unknown }[],
  base: string,
): RemediationRouting | undefined {
  const routed = [];
  for (const raw of policies) {
    if ((raw.metadata.namespace ?? namespace) !== namespace) continue;
    const v = validateResource({
      apiVersion: 'observability.vigil.dev/v1alpha1',
      kind: 'RemediationPolicy',
      metadata: { name: raw.metadata.name },
      spec: raw.spec,
    });
    if (!v.ok) continue;
    const p = v.object as RemediationPolicy;
    if (p.spec.stackRef.name !== stack) continue;
    routed.push({
      name: p.metadata.name,
      matchers: routeMatchers(p.spec),
      cooldownSeconds: durationMs(p.spec.guard.cooldown) / 1000,
      ...(p.spec.guard.notifyReceiver ? { notifyReceiver: p.spec.guard.notifyReceiver } : {}),
    });
  }
  if (!routed.length) return undefined;
  return { url: receiverUrl(base, namespace, stack), policies: routed.sort((a, b) => a.name.localeCompare(b.name)) };
}
