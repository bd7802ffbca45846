// The operator as a client of a stack's query APIs (the SLO budget reader → Prometheus or Thanos
// Query, remediation's Blocked notice → Alertmanager): with the stack's basic auth on, it reads the
// auth Secret by name (get; the operator may not list Secrets) and sends its `authorization` key as
// the header. Never logged; an error names the Secret and key, never a value.
import type { ObservabilityStack } from '../api/types.js';
import { validateResource } from '../api/validate.js';
import { API_GROUP_VERSION, KIND_STACK } from '../conventions/index.js';
import { stackContext } from '../desired/stack/context.js';
import { QUERY_AUTH_KEYS, type QueryApi, queryAuthOn, queryAuthSecretName } from '../desired/stack/query-auth.js';
import type { KubeApi } from '../kube/types.js';
import { secretValues } from './generated-secret.js';

/**
 * The Authorization header for the stack's API, or undefined when the API asks for none. Throws
 * when it asks for one and the Secret or its key is not there.
 */
export async function queryAuthorization(
  kube: Pick<KubeApi, 'get'>,
  stack: ObservabilityStack,
  api: QueryApi,
): Promise<string | undefined> {
  const ctx = stackContext(stack);
  if (!queryAuthOn(ctx, api)) return undefined;
  const name = queryAuthSecretName(ctx, api);
  const namespace = stack.metadata.namespace as string;
  const secret = await kube.get({ apiVersion: 'v1', kind: 'Secret', namespace, name });
  if (!secret) throw new Error(`the ${api} auth Secret "${name}" is not found in ${namespace}`);
  const header = secretValues(secret)[QUERY_AUTH_KEYS.authorization];
  if (!header) throw new Error(`the ${api} auth Secret "${name}" has no key "${QUERY_AUTH_KEYS.authorization}"`);
  return header;
}

/**
 * queryAuthorization for a stack known by name (remediation's Blocked notice): the stack is read
 * from the API server and validated (defaults filled); undefined when it is gone or invalid.
 */
export async function stackQueryAuthorization(
  kube: Pick<KubeApi, 'get'>,
  namespace: string,
  name: string,
  api: QueryApi,
): Promise<string | undefined> {
  const raw = await kube.get({ apiVersion: API_GROUP_VERSION, kind: KIND_STACK, namespace, name });
  if (!raw) return undefined;
  const { apiVersion, kind, spec } = raw as typeof raw & { spec?: unknown };
  const v = validateResource({ apiVersion, kind, metadata: { name, namespace }, spec });
  return v.ok ? queryAuthorization(kube, v.object as ObservabilityStack, api) : undefined;
}
