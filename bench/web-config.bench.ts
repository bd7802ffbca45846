// The bcrypt cost of basic auth on the query APIs (docs/adr/0020-basic-auth-on-query-apis.md):
//   1. bcryptjs hash and compare at cost 10 (median of 10)
//   2. webConfigValues: first (a hash), steady (the remembered compare: no bcrypt), after a restart (one compare)
//   3. a stack's first reconcile against FakeKube with both APIs' auth on vs. off (median of 5), and
//      its next reconcile (median of 20)
// In process, no cluster. Run: make bench-web-config.
import bcrypt from 'bcryptjs';
import { StackReconciler } from '../controller/stack.js';
import { BCRYPT_COST, bcryptWork, forgetCompares, webConfigValues } from '../controller/web-config.js';
import { API_GROUP_VERSION, KIND_STACK } from '../conventions/index.js';
import type { KubeObject } from '../kube/types.js';
import { aStack } from '../test/support/builders.js';
import { capturingLogger, FakeKube } from '../test/unit/operator/fake-kube.js';

const log = (m: string) => process.stdout.write(`[bench-web-config] ${m}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
async function time(n: number, f: () => Promise<unknown>): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await f();
    ms.push(performance.now() - t);
  }
  return median(ms);
}

const pw = 'p'.repeat(32);
const hash = await bcrypt.hash(pw, BCRYPT_COST);
log(`bcrypt hash, cost ${BCRYPT_COST}: ${(await time(10, () => bcrypt.hash(pw, BCRYPT_COST))).toFixed(1)} ms`);
log(`bcrypt compare, cost ${BCRYPT_COST}: ${(await time(10, () => bcrypt.compare(pw, hash))).toFixed(1)} ms`);

let first: Record<string, string> = {};
log(
  `webConfigValues, first: ${(
    await time(5, async () => {
      first = await webConfigValues('prometheus', {}, 'vigil', pw);
    })
  ).toFixed(1)} ms`,
);
log(
  `webConfigValues, steady: ${(await time(1000, () => webConfigValues('prometheus', first, 'vigil', pw))).toFixed(3)} ms`,
);
log(
  `webConfigValues, after a restart: ${(
    await time(5, async () => {
      forgetCompares();
      await webConfigValues('prometheus', first, 'vigil', pw);
    })
  ).toFixed(1)} ms`,
);

async function reconcileCost(auth: boolean): Promise<{ first: number; next: number; hashes: number }> {
  const spec = {
    size: 'medium',
    metrics: { enabled: true, basicAuth: { enabled: auth }, alertmanager: { enabled: true } },
    alerting: { basicAuth: { enabled: auth } },
    traces: { enabled: true },
    grafana: { enabled: true },
  };
  const firsts: number[] = [];
  const before = bcryptWork.hashes;
  let fake = new FakeKube();
  const reconciler = () =>
    new StackReconciler({
      kube: fake,
      getStack: (ns, name) => fake.cached(API_GROUP_VERSION, KIND_STACK, ns, name),
      log: capturingLogger().log,
      now: () => new Date(),
    });
  for (let i = 0; i < 5; i++) {
    fake = new FakeKube();
    fake.put({ ...(aStack(spec) as KubeObject), metadata: { name: 'demo', namespace: 'team' } });
    forgetCompares();
    const t = performance.now();
    await reconciler().reconcile('team', 'demo');
    firsts.push(performance.now() - t);
  }
  const hashes = (bcryptWork.hashes - before) / 5;
  const next = await time(20, () => reconciler().reconcile('team', 'demo'));
  return { first: median(firsts), next, hashes };
}
for (const auth of [false, true]) {
  const r = await reconcileCost(auth);
  log(
    `medium stack, basic auth ${auth ? 'on ' : 'off'}: first reconcile ${r.first.toFixed(0)} ms (${r.hashes} bcrypt hashes), next ${r.next.toFixed(0)} ms`,
  );
}
