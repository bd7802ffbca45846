// Secrets the operator generates for a stack that names none of its own (Grafana's admin, the
// correlator's Basic auth): created once with random values, then carried over on every reconcile,
// so a password never rotates by itself. Read by name (get), written by server-side apply like the
// other children. Values are never logged.
import { randomBytes } from 'node:crypto';
import type { ObservabilityStack } from '../api/types.js';
import { LABEL_COMPONENT, LABEL_MANAGED_BY, LABEL_STACK, MANAGED_BY } from '../conventions/index.js';
import type { KubeApi, KubeObject } from '../kube/types.js';
import type { Owner } from './apply.js';

/** A random password: 24 bytes as base64url (32 characters, no `:`). */
export const randomPassword = (): string => randomBytes(24).toString('base64url');

/** A Secret's values as text: `data` decoded from base64, `stringData` as it is. */
export function secretValues(secret: KubeObject | undefined): Record<string, string> {
  // biome-ignore lint/suspicious/noExplicitAny: Secret fields are read loosely, never logged
  const s = (secret ?? {}) as any;
  // No prototype: a key named like an Object member (`constructor`, `__proto__`) is data like any other.
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries((s.data ?? {}) as Record<string, string>)) {
    out[k] = Buffer.from(v, 'base64').toString('utf8');
  }
  for (const [k, v] of Object.entries((s.stringData ?? {}) as Record<string, string>)) out[k] = v;
  return out;
}

export interface GeneratedSecretSpec {
  name: string;
  /** The component it belongs to (its app.kubernetes.io/name and component labels). */
  component: string;
  /**
   * Its values from what the existing Secret holds (empty when there is none): keep what is still
   * good, generate the rest. Called on every reconcile, so it must return the existing values
   * unchanged when they are good.
   */
  values(existing: Record<string, string>): Record<string, string> | Promise<Record<string, string>>;
}

/** The generated Secret as it should be applied, its values carried over from the live one. */
export async function generatedSecret(
  kube: Pick<KubeApi, 'get'>,
  stack: ObservabilityStack,
  owner: Owner,
  spec: GeneratedSecretSpec,
): Promise<KubeObject> {
  const namespace = stack.metadata.namespace as string;
  const existing = await kube.get({ apiVersion: 'v1', kind: 'Secret', namespace, name: spec.name });
  const values = await spec.values(secretValues(existing));
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: spec.name,
      namespace,
      labels: {
        [LABEL_STACK]: stack.metadata.name as string,
        [LABEL_MANAGED_BY]: MANAGED_BY,
        [LABEL_COMPONENT]: spec.component,
        'app.kubernetes.io/name': spec.component,
        'app.kubernetes.io/part-of': 'vigil',
      },
      ownerReferences: [{ ...owner, controller: true, blockOwnerDeletion: true }],
    },
    data: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')])),
  };
}
