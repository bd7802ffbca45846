// Vigil's correlation engine: joins logs and spans by trace_id in a window. With more than one
// replica the collector tiers route spans and logs by the same hex trace-id attribute over the
// headless Service, so a trace's spans and logs meet on one pod (desired/stack/otelcol.ts).
import type { k8s } from 'cdk8s-plus-33';
import type { Construct } from 'constructs';
import { PORTS, type StackContext } from './context.js';
import { IMAGES } from './images.js';
import { lokiHost } from './loki.js';
import { container, deployment, podTemplate, service, serviceAccount } from './pod.js';
import { quantityBytes } from './sizing.js';

const LOKI_LABELS = ['service', 'env'];

/**
 * The keys of the correlator's auth Secret: the Basic auth user and password the correlator
 * accepts, and the whole `Authorization` header value (`Basic base64(username:password)`), which
 * the collector tiers send as a header (the collector build has no basicauth extension).
 */
export const CORRELATOR_AUTH_KEYS = {
  username: 'username',
  password: 'password',
  authorization: 'authorization',
} as const;

/** The user name in the Secret the operator generates. */
export const CORRELATOR_AUTH_USER = 'vigil';

/**
 * The correlator's auth Secret: the one spec.correlation.basicAuthSecretRef names, else
 * `<stack>-correlator-auth`, which the operator generates (once; not part of `vigil render`; desired/stack/secrets.ts).
 * Auth is always on in a stack (docs/adr/0018-correlator-auth-on-by-default.md).
 */
export function correlatorAuthSecretName(ctx: StackContext): string {
  return ctx.spec.correlation?.basicAuthSecretRef?.name ?? `${ctx.name('correlator')}-auth`;
}

/** The header value the collector tiers send for a user and password. */
export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

/**
 * What is wrong with a username or password value, or undefined. Prometheus trims the files it
 * reads them from, and Basic auth splits user from password at the first `:`.
 */
export function credentialProblem(key: 'username' | 'password', value: string | undefined): string | undefined {
  if (value === undefined) return `has no key "${key}"`;
  if (value === '') return `key "${key}" is empty`;
  if (key === 'username' && value.includes(':')) return `key "${key}" contains ":", which Basic auth cannot carry`;
  if (value.trim() !== value) return `key "${key}" begins or ends with whitespace (a newline from echo?)`;
  return undefined;
}

/**
 * What is wrong with the values of a correlator auth Secret, one sentence per key (`has no key
 * "password"`); empty when it is good. Never quotes a value.
 */
export function correlatorAuthProblems(values: Readonly<Record<string, string>>): string[] {
  const k = CORRELATOR_AUTH_KEYS;
  const out = [credentialProblem('username', values[k.username]), credentialProblem('password', values[k.password])];
  const header = values[k.authorization];
  if (header === undefined) out.push(`has no key "${k.authorization}"`);
  else if (header === '') out.push(`key "${k.authorization}" is empty`);
  else if (!out.some(Boolean) && header !== basicAuthorization(values[k.username], values[k.password])) {
    out.push(`key "${k.authorization}" is not "Basic " + base64(username:password) of its username and password keys`);
  }
  return out.filter((m): m is string => m !== undefined);
}

export function correlatorEnv(ctx: StackContext): k8s.EnvVar[] {
  const s = ctx.spec.correlation;
  const env: k8s.EnvVar[] = [
    { name: 'PORT', value: `${PORTS.correlator}` },
    { name: 'GRPC_PORT', value: `${PORTS.otlpGrpc}` },
    { name: 'ENV', value: ctx.spec.environment },
    { name: 'CORR_WINDOW_SECONDS', value: `${s?.windowSeconds ?? 60}` },
    { name: 'MAX_BATCH_SIZE', value: `${s?.batchSize ?? 5000}` },
  ];
  // Node sizes its heap by the host, not the container: cap it at 75% of the memory limit so the
  // engine stays under it (measured: 364 MiB peak at 1M spans/min with a 512 MiB limit).
  const limit = quantityBytes(ctx.size.correlator.resources.limits.memory ?? '');
  if (Number.isFinite(limit) && limit > 0) {
    env.push({ name: 'NODE_OPTIONS', value: `--max-old-space-size=${Math.floor((limit * 0.75) / 2 ** 20)}` });
  }
  if (ctx.on.loki) {
    env.push({ name: 'LOKI_URL', value: `http://${lokiHost(ctx, 'read')}:${PORTS.loki}` });
    // The correlator accepts only the low-cardinality labels it knows.
    const labels = (ctx.spec.logs?.labels ?? LOKI_LABELS).filter((l) => LOKI_LABELS.includes(l));
    if (labels.length) env.push({ name: 'LOKI_LABELS', value: labels.join(',') });
  }
  // Always on: /metrics and everything but /health and /ready ask for these credentials.
  const auth = correlatorAuthSecretName(ctx);
  env.push(
    { name: 'BASIC_AUTH_USER', valueFrom: { secretKeyRef: { name: auth, key: CORRELATOR_AUTH_KEYS.username } } },
    {
      name: 'BASIC_AUTH_PASSWORD',
      valueFrom: { secretKeyRef: { name: auth, key: CORRELATOR_AUTH_KEYS.password } },
    },
  );
  if (ctx.size.correlator.replicas > 1) {
    // Each replica holds the traces routed to it: a query fans out to the others, found by the
    // headless Service's DNS on every query, and leaves itself out by its pod IP (correlator/fanout.ts).
    env.push(
      {
        name: 'CORRELATOR_PEERS_DNS',
        value: `${ctx.name('correlator')}-headless.${ctx.namespace}.svc:${PORTS.correlator}`,
      },
      { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
    );
  }
  if (s?.datadog) {
    env.push({
      name: 'DATADOG_API_KEY',
      valueFrom: { secretKeyRef: { name: s.datadog.apiKeySecretRef.name, key: s.datadog.apiKeySecretRef.key } },
    });
    if (s.datadog.site) env.push({ name: 'DD_SITE', value: s.datadog.site });
  }
  return env;
}

export function correlatorChart(scope: Construct, ctx: StackContext): void {
  const c = 'correlator';
  serviceAccount(scope, ctx, c);
  const ports = [
    { name: 'http', port: PORTS.correlator },
    { name: 'otlp-grpc', port: PORTS.otlpGrpc },
  ];
  const pod = podTemplate(ctx, c, {
    uid: 1000,
    containers: [
      container({
        name: 'correlator',
        image: ctx.spec.correlation?.image ?? IMAGES.correlator,
        args: ['correlator'],
        env: correlatorEnv(ctx),
        ports,
        resources: ctx.size.correlator.resources,
        probe: { path: '/health', port: 'http' },
      }),
    ],
  });
  deployment(scope, ctx, c, pod, ctx.size.correlator.replicas);
  service(scope, ctx, c, ports);
  service(scope, ctx, c, ports, { id: 'headless', name: `${ctx.name(c)}-headless`, headless: true });
}
