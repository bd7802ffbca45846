// The stack's correlator scrape job, as rendered, run by a real Prometheus (3.5.0, the deployed
// release, hack/build-prometheus.sh) against a real `vigil correlator` process with auth on, as a
// stack runs it (issue 12: turning auth on must not blind the correlator's alerts).
//
// What Kubernetes does is done here by hand, from the rendered objects only: the correlator's
// BASIC_AUTH_* come from the rendered Deployment's secretKeyRefs resolved against a Secret with the
// values the operator generates; the job's username_file/password_file are the items of the
// rendered Secret volume, written into a temporary folder where the rendered mount path was; the
// job's kubernetes_sd_configs becomes a static target with the meta labels the pod role gives a
// correlator pod, so the rendered keep rule and relabelling run as they are.
//
// Beside the rendered job run two copies of it that must fail: one without basic_auth, one whose
// files hold a wrong password. up is 1 for the first and 0 for both others.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomPassword } from '../../../controller/generated-secret.js';
import { stackContext } from '../../../desired/stack/context.js';
import {
  basicAuthorization,
  CORRELATOR_AUTH_KEYS,
  CORRELATOR_AUTH_USER,
  correlatorEnv,
} from '../../../desired/stack/correlator.js';
import { renderStack } from '../../../desired/stack/index.js';
import { CORRELATOR_SECRET_DIR, prometheusConfig } from '../../../desired/stack/prometheus.js';
import { aStack } from '../charts/stacks.js';
import { freePort, Peer, type PrometheusPeer, startPrometheus, tempDir, waitFor } from './peers.js';

// biome-ignore lint/suspicious/noExplicitAny: walking rendered JSON
type Any = any;

const stack = aStack({}, 'shop');
const ctx = stackContext(stack);
const rendered = (prometheusConfig(ctx).scrape_configs as Any[]).find((j) => j.job_name === 'correlator');
const prometheusPod = renderStack(stack).objects.find(
  (o) => o.kind === 'StatefulSet' && o.metadata.name === 'shop-prometheus',
) as Any;

// The Secret as the operator generates it (controller/stack.ts: vigil, a random password, the header).
const password = randomPassword();
const secret: Record<string, string> = {
  [CORRELATOR_AUTH_KEYS.username]: CORRELATOR_AUTH_USER,
  [CORRELATOR_AUTH_KEYS.password]: password,
  [CORRELATOR_AUTH_KEYS.authorization]: basicAuthorization(CORRELATOR_AUTH_USER, password),
};

const repoDir = fileURLToPath(new URL('../../..', import.meta.url));
const entry = fileURLToPath(new URL('./engine-main.ts', import.meta.url));
const dir = tempDir('scrape-auth');

let engine: Peer;
let prom: PrometheusPeer;
let port = 0;

/** The rendered Secret volume's items written as the kubelet would mount them, under `root`. */
function mountSecret(root: string, values: Record<string, string>): string {
  const spec = prometheusPod.spec.template.spec;
  const mount = spec.containers
    .find((c: Any) => c.name === 'prometheus')
    .volumeMounts.find((m: Any) => m.mountPath === CORRELATOR_SECRET_DIR);
  const volume = spec.volumes.find((v: Any) => v.name === mount.name);
  const at = join(root, mount.mountPath);
  mkdirSync(at, { recursive: true });
  for (const item of volume.secret.items) writeFileSync(join(at, item.path), values[item.key]);
  return at;
}

/** The rendered job under another name, its files under `mounted`, its pod found statically. */
function job(name: string, mounted: string | undefined, keepAuth = true): Any {
  const { kubernetes_sd_configs: _sd, basic_auth, ...rest } = rendered;
  const auth =
    keepAuth && mounted
      ? {
          basic_auth: Object.fromEntries(
            Object.entries(basic_auth as Record<string, string>).map(([k, v]) => [
              k,
              v.replace(CORRELATOR_SECRET_DIR, mounted),
            ]),
          ),
        }
      : {};
  return {
    ...rest,
    ...auth,
    job_name: name,
    static_configs: [
      {
        targets: [`127.0.0.1:${port}`],
        labels: {
          __meta_kubernetes_pod_container_port_name: 'http',
          __meta_kubernetes_pod_name: 'shop-correlator-7c9f-abcde',
          __meta_kubernetes_namespace: 'observability',
        },
      },
    ],
  };
}

beforeAll(async () => {
  if (!rendered?.basic_auth) throw new Error('the stack renders no correlator job with basic_auth');
  port = await freePort();
  // The correlator's environment as the rendered Deployment asks for it, Secret keys resolved.
  const env: Record<string, string> = {};
  for (const e of correlatorEnv(ctx)) {
    const key = e.valueFrom?.secretKeyRef?.key;
    if (e.name.startsWith('BASIC_AUTH_')) env[e.name] = key ? secret[key] : (e.value ?? '');
  }
  expect(Object.keys(env).sort()).toEqual(['BASIC_AUTH_PASSWORD', 'BASIC_AUTH_USER']);
  engine = new Peer('correlator', process.execPath, ['--import', 'tsx', entry], repoDir, {
    ...process.env,
    ...env,
    NODE_OPTIONS: '',
    HOST: '127.0.0.1',
    PORT: String(port),
    GRPC_PORT: String(await freePort()),
    LOG_LEVEL: 'error',
  });
  engine.start();
  // /ready answers without credentials (the kubelet's probes carry none).
  await engine.waitReady(`http://127.0.0.1:${port}/ready`, 60_000);
  const right = mountSecret(join(dir.path, 'right'), secret);
  const wrong = mountSecret(join(dir.path, 'wrong'), { ...secret, password: `${password}x` });
  prom = await startPrometheus([
    job('correlator', right),
    job('correlator-no-credentials', undefined, false),
    job('correlator-wrong-password', wrong),
  ]);
}, 90_000);

afterAll(async () => {
  await prom?.close();
  await engine?.stop();
  dir.remove();
});

const upOf = async (job: string) =>
  waitFor(
    `a first scrape by ${job}`,
    async () => {
      const v = await prom.query(`up{job="${job}"}`);
      return v.length ? v : undefined;
    },
    30_000,
    250,
  );

describe("the stack's correlator job, against the correlator with auth on", () => {
  it('scrapes it with the credentials of the mounted Secret: up == 1, the pod and namespace relabelled', async () => {
    const up = await upOf('correlator');
    expect(up.map((s) => [s.metric.pod, s.metric.namespace, s.value[1]])).toEqual([
      ['shop-correlator-7c9f-abcde', 'observability', '1'],
    ]);
    const held = await prom.query('correlations_held{job="correlator"}');
    expect(held.length).toBe(1);
  });

  it('is refused without credentials: up == 0', async () => {
    expect((await upOf('correlator-no-credentials')).map((s) => s.value[1])).toEqual(['0']);
  });

  it('is refused with a wrong password: up == 0', async () => {
    expect((await upOf('correlator-wrong-password')).map((s) => s.value[1])).toEqual(['0']);
  });
});
