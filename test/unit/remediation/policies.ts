// Builders for RemediationPolicy tests: a valid policy with the schema's defaults filled, and alerts.
import type { RemediationPolicy, RemediationPolicySpec } from '../../../api/remediation.js';
import { validateResource } from '../../../api/validate.js';
import type { WebhookAlert } from '../../../controller/remediation/payload.js';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

export function aPolicyDoc(
  spec: DeepPartial<RemediationPolicySpec> = {},
  name = 'restart-crashloop',
): Record<string, unknown> {
  return {
    apiVersion: 'observability.vigil.dev/v1alpha1',
    kind: 'RemediationPolicy',
    metadata: { name, namespace: 'shop' },
    spec: {
      stackRef: { name: 'full' },
      match: { alertname: 'CheckoutDown' },
      target: { kind: 'Deployment' },
      action: { type: 'rolloutRestart' },
      mode: 'Enforce',
      ...spec,
      guard: {
        maxActions: 3,
        window: '1h',
        cooldown: '5m',
        backoffFactor: 2,
        maxBackoff: '30m',
        blockFor: '2h',
        ...spec.guard,
      },
    },
  };
}

/** A policy with every default filled (what the API server stores). */
export function aPolicy(spec: DeepPartial<RemediationPolicySpec> = {}, name?: string): RemediationPolicy {
  const v = validateResource(aPolicyDoc(spec, name));
  if (!v.ok) throw new Error(`builder made an invalid policy: ${JSON.stringify(v.problems)}`);
  return v.object as RemediationPolicy;
}

export function anAlert(over: Partial<WebhookAlert> = {}, labels: Record<string, string> = {}): WebhookAlert {
  return {
    status: 'firing',
    labels: { alertname: 'CheckoutDown', namespace: 'shop', deployment: 'checkout', ...labels },
    annotations: {},
    startsAt: '2026-01-01T10:00:00.000Z',
    fingerprint: 'aaaa1111',
    ...over,
  };
}

export const at = (hhmmss: string): Date => new Date(`2026-01-01T${hhmmss}.000Z`);
