// spec.metrics.scrapeOperator: the operator's real /metrics (operator/metrics.ts behind
// operator/health.ts) scraped by Debian's Prometheus with the rendered vigil-operator job, so the
// shipped operator alerts have series to fire on. The job's kubernetes_sd_configs becomes a static
// target with the meta labels the pod role gives an operator pod (Debian's Prometheus has no
// Kubernetes discovery); its keep rule and pod/namespace relabelling run as rendered.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ClusterJobs, KIND_STACK } from '../../../conventions/index.js';
import { shippedRuleFile } from '../../../desired/shipped/index.js';
import type { AlertingRule } from '../../../desired/slo/rules.js';
import { stackContext } from '../../../desired/stack/context.js';
import { prometheusConfig } from '../../../desired/stack/prometheus.js';
import { healthServer } from '../../../operator/health.js';
import { operatorMetrics } from '../../../operator/metrics.js';
import { type PrometheusPeer, startPrometheus, waitFor } from '../correlator/peers.js';
import { aValidStack } from './support.js';

type Job = Record<string, unknown>;
const ctx = stackContext(aValidStack({ metrics: { enabled: true, scrapeOperator: { enabled: true } } }));
const rendered = (prometheusConfig(ctx).scrape_configs as Job[]).find((j) => j.job_name === ClusterJobs.operator);
const alertExpr = (name: string) =>
  (shippedRuleFile('operator').groups.flatMap((g) => g.rules) as AlertingRule[]).find((r) => r.alert === name)?.expr;

let server: Server;
let prom: PrometheusPeer;

beforeAll(async () => {
  const m = operatorMetrics();
  // A watch silent for an hour: what VigilOperatorWatchStale is about.
  m.lastWatchEvent.set({ kind: KIND_STACK }, Date.now() / 1000 - 3600);
  m.reconciles.inc({ kind: KIND_STACK, result: 'success' }, 3);
  server = healthServer(m.register, { live: () => true, ready: () => true });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  if (!rendered) throw new Error('the stack renders no vigil-operator job');
  const { kubernetes_sd_configs: _sd, ...job } = rendered;
  prom = await startPrometheus([
    {
      ...job,
      static_configs: [
        {
          targets: [`127.0.0.1:${port}`],
          labels: {
            __meta_kubernetes_pod_container_port_name: 'metrics',
            __meta_kubernetes_pod_name: 'vigil-operator-6f7d9-abcde',
            __meta_kubernetes_namespace: 'vigil-system',
          },
        },
      ],
    },
  ]);
}, 60_000);

afterAll(async () => {
  await prom?.close();
  await new Promise((r) => server?.close(r));
});

describe("the operator's metrics in a stack that asks for them", () => {
  it('are stored under the operator pod and namespace', async () => {
    const v = await waitFor(
      'a first scrape of the operator',
      async () => {
        const r = await prom.query(`vigil_operator_reconcile_total{job="${ClusterJobs.operator}"}`);
        return r.length ? r : undefined;
      },
      20_000,
      250,
    );
    expect(v[0].metric).toMatchObject({
      namespace: 'vigil-system',
      pod: 'vigil-operator-6f7d9-abcde',
      kind: KIND_STACK,
    });
  });

  it("make VigilOperatorWatchStale's condition true for a silent watch", async () => {
    const expr = alertExpr('VigilOperatorWatchStale');
    expect(expr).toBeDefined();
    const r = await waitFor(
      'the alert condition',
      async () => {
        const out = await prom.query(expr as string);
        return out.length ? out : undefined;
      },
      20_000,
      250,
    );
    expect(r.map((s) => [s.metric.namespace, s.metric.pod, s.metric.kind])).toEqual([
      ['vigil-system', 'vigil-operator-6f7d9-abcde', KIND_STACK],
    ]);
  });
});
