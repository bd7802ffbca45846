// The rendered gateway and sampling-tier configs, run as real collector processes: three gateway
// (load-balancing) replicas and three sampling replicas on their own 127.0.0.x addresses, and two
// real `vigil correlator` processes. Each trace's spans are sent to different gateways, as a
// Service spreads an application's requests. Only listen addresses and the headless Services'
// DNS lookups are replaced (test/support/collectors.ts: `localize`); every processor, exporter,
// pipeline and sampling policy is the rendered one. Tempo and Loki are off in this stack (they
// cannot run here), so the correlators are where kept traces land. Auth is on, as in a stack: the
// correlators get BASIC_AUTH_* and the collectors CORRELATOR_AUTHORIZATION from one Secret's values
// (made the way the operator generates them), through the rendered env's secretKeyRefs.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { randomPassword } from '../../../controller/generated-secret.js';
import { collectorConfig } from '../../../desired/stack/collector.js';
import { stackContext } from '../../../desired/stack/context.js';
import { basicAuthorization, CORRELATOR_AUTH_USER, correlatorEnv } from '../../../desired/stack/correlator.js';
import { renderStack } from '../../../desired/stack/index.js';
import { samplerConfig } from '../../../desired/stack/sampler.js';
import {
  gatewayOtelcol,
  localize,
  type Ports,
  type Running,
  startCollector,
  startCorrelator,
} from '../../support/collectors.js';
import { freePort, metricSum, waitFor } from '../correlator/peers.js';
import { aStack } from './stacks.js';

const stack = aStack({
  size: 'large',
  traces: { enabled: false },
  logs: { enabled: false },
  collector: { sampling: { errors: true, baselinePercent: 25 }, replicas: 3, sampler: { replicas: 3 } },
  correlation: { replicas: 2 },
});
const ctx = stackContext(stack);

// The correlator auth Secret's values, and each container's env resolved from its secretKeyRefs.
const password = randomPassword();
const secret: Record<string, string> = {
  username: CORRELATOR_AUTH_USER,
  password,
  authorization: basicAuthorization(CORRELATOR_AUTH_USER, password),
};
// biome-ignore lint/suspicious/noExplicitAny: rendered env entries
const fromSecret = (env: any[]): Record<string, string> =>
  Object.fromEntries(
    env.filter((e) => e.valueFrom?.secretKeyRef).map((e) => [e.name, secret[e.valueFrom.secretKeyRef.key]]),
  );
const otelcolEnv = (name: string): Record<string, string> => {
  // biome-ignore lint/suspicious/noExplicitAny: a rendered Deployment
  const d = renderStack(stack).objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name) as any;
  return fromSecret(d.spec.template.spec.containers.find((c: { name: string }) => c.name === 'otelcol').env);
};
const credentials = { authorization: secret.authorization };

const N = 60;
const SPANS = 4;
const LOGS = 3;
const hex = (n: number, len: number) => n.toString(16).padStart(len, '0');
const traceId = (i: number) => `7a${hex(i, 6)}${'c0ffee'.repeat(4).slice(0, 24)}`;
const isError = (i: number) => i % 5 === 0;
const now = BigInt(Date.now()) * 1_000_000n;

function spanJson(i: number, s: number) {
  return {
    traceId: traceId(i),
    spanId: `${hex(i, 8)}${hex(s + 1, 8)}`,
    parentSpanId: s === 0 ? undefined : `${hex(i, 8)}${hex(1, 8)}`,
    name: s === 0 ? 'GET /checkout' : `step-${s}`,
    kind: s === 0 ? 2 : 1,
    startTimeUnixNano: `${now + BigInt(s) * 1_000_000n}`,
    endTimeUnixNano: `${now + BigInt(s + 1) * 1_000_000n}`,
    status: isError(i) && s === SPANS - 1 ? { code: 2, message: 'boom' } : { code: 1 },
  };
}
const resource = (service: string) => ({ attributes: [{ key: 'service.name', value: { stringValue: service } }] });

const procs: { stop(): Promise<void> }[] = [];
let gateways: Running[] = [];
let samplers: Running[] = [];
const CORRELATOR_IPS = ['127.0.0.31', '127.0.0.32'];
const correlators: { url: string; grpc: string; peer: { stop(graceMs?: number): Promise<void> } }[] = [];
let ports: Ports;

beforeAll(async () => {
  ports = {
    otlpGrpc: await freePort(),
    otlpHttp: await freePort(),
    health: await freePort(),
    metrics: await freePort(),
  };
  const http = await freePort();
  // Each correlator's peers as the rendered env gives them (desired/stack/correlator.ts), with the
  // headless Service's DNS name replaced by the list it would resolve to, and its own pod IP.
  const peers = CORRELATOR_IPS.map((ip) => `${ip}:${http}`).join(',');
  for (const ip of CORRELATOR_IPS) {
    const c = await startCorrelator(
      ip,
      { http, grpc: ports.otlpGrpc },
      {
        CORR_WINDOW_SECONDS: '300',
        ENV: 'gateway-test',
        CORRELATOR_PEERS: peers,
        POD_IP: ip,
        ...fromSecret(correlatorEnv(ctx)),
      },
    );
    procs.push(c);
    correlators.push(c);
  }
  const backends = {
    'load_balancing/correlator': correlators.map((c) => c.grpc),
    'load_balancing/sampler': ['127.0.0.21', '127.0.0.22', '127.0.0.23'].map((ip) => `${ip}:${ports.otlpGrpc}`),
  };
  samplers = await Promise.all(
    [21, 22, 23].map((n) =>
      startCollector(`sampler-${n}`, gatewayOtelcol(), localize(samplerConfig(ctx), `127.0.0.${n}`, ports, backends), {
        ...process.env,
        ...otelcolEnv('t-sampler'),
      }),
    ),
  );
  procs.push(...samplers);
  gateways = await Promise.all(
    [11, 12, 13].map((n) =>
      startCollector(
        `gateway-${n}`,
        gatewayOtelcol(),
        localize(collectorConfig(ctx), `127.0.0.${n}`, ports, backends),
        { ...process.env, ...otelcolEnv('t-collector') },
      ),
    ),
  );
  procs.push(...gateways);
}, 120_000);

afterAll(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop()));
});

async function post(gateway: number, path: string, body: object) {
  const res = await fetch(`http://127.0.0.${11 + gateway}:${ports.otlpHttp}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
}

interface View {
  correlation_id: string;
  trace_id: string;
  span_count: number;
  log_count: number;
  error_spans: number;
}

async function held(): Promise<View[][]> {
  return Promise.all(
    correlators.map(async (c) => {
      // Each replica's own store (local=1): which one joined a trace is what is checked here.
      const r = await fetch(`${c.url}/api/correlations?limit=1000&local=1`, { headers: credentials });
      return ((await r.json()) as { correlations: View[] }).correlations;
    }),
  );
}

describe('the rendered gateway: 3 load-balancing and 3 sampling replicas, 2 correlators', () => {
  it('renders the tiers this test runs: a gateway Deployment, a sampling Deployment and its headless Service', () => {
    const names = renderStack(stack).objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(names).toEqual(
      expect.arrayContaining(['Deployment/t-collector', 'Deployment/t-sampler', 'Service/t-sampler-headless']),
    );
    expect(yaml.dump(samplerConfig(ctx))).toContain('tail_sampling');
  });

  it('keeps every error trace, keeps every kept trace whole, and joins each trace’s logs and spans on one correlator', async () => {
    // Each span of a trace goes to another gateway; each log record to yet another.
    for (let i = 0; i < N; i++) {
      for (let s = 0; s < SPANS; s++) {
        await post((i + s) % 3, '/v1/traces', {
          resourceSpans: [
            { resource: resource(s % 2 ? 'payments' : 'checkout'), scopeSpans: [{ spans: [spanJson(i, s)] }] },
          ],
        });
      }
      for (let l = 0; l < LOGS; l++) {
        await post((i + l + 1) % 3, '/v1/logs', {
          resourceLogs: [
            {
              resource: resource('checkout'),
              scopeLogs: [
                {
                  logRecords: [
                    {
                      timeUnixNano: `${now + BigInt(l) * 1_000_000n}`,
                      traceId: traceId(i),
                      spanId: `${hex(i, 8)}${hex(1, 8)}`,
                      severityNumber: 9,
                      body: { stringValue: `trace ${i} log ${l}` },
                    },
                  ],
                },
              ],
            },
          ],
        });
      }
    }
    // Logs without a trace id are not sent to the correlators (they cannot be joined).
    await post(0, '/v1/logs', {
      resourceLogs: [
        { resource: resource('checkout'), scopeLogs: [{ logRecords: [{ body: { stringValue: 'no trace' } }] }] },
      ],
    });

    // Tail sampling decides 10 s after a trace's first span (decision_wait), then the batches flush.
    const errors = [...Array(N).keys()].filter(isError).map(traceId);
    let last: View[][] = [];
    const views = await waitFor(
      'every error trace with its spans at a correlator',
      async () => {
        last = await held();
        const withSpans = new Set(
          last
            .flat()
            .filter((c) => c.span_count > 0)
            .map((c) => c.trace_id),
        );
        return errors.every((t) => withSpans.has(t)) ? last : undefined;
      },
      60_000,
      500,
    ).catch((err) => {
      const logs = [...samplers, ...gateways].map((p) => `--- ${p.name}\n${p.peer.output().slice(-3000)}`);
      throw new Error(`${err.message}\nheld: ${JSON.stringify(last.map((l) => l.slice(0, 5)))}\n${logs.join('\n')}`);
    });
    // A last look after every batch has had time to leave.
    await new Promise((r) => setTimeout(r, 6_000));
    const final = await held();
    expect(final.flat().length).toBeGreaterThanOrEqual(views.flat().length);

    const kept: string[] = [];
    for (let i = 0; i < N; i++) {
      const t = traceId(i);
      const where = final.map((list) => list.filter((c) => c.trace_id === t));
      const holders = where.flatMap((list, replica) => list.map((c) => ({ replica, ...c })));
      // One record, on one correlator, whatever happened to the trace's spans.
      expect({ t, n: holders.length }).toEqual({ t, n: 1 });
      const [h] = holders;
      expect({ t, logs: h.log_count }).toEqual({ t, logs: LOGS });
      if (h.span_count > 0) {
        kept.push(t);
        expect({ t, spans: h.span_count }).toEqual({ t, spans: SPANS });
      }
      if (isError(i)) expect({ t, errorSpans: h.error_spans }).toEqual({ t, errorSpans: 1 });
    }
    // The 25% baseline keeps some of the others, and drops some.
    expect(kept.length).toBeGreaterThan(errors.length);
    expect(kept.length).toBeLessThan(N);
    // Both correlators and all three samplers took part.
    expect(final.every((list) => list.some((c) => c.span_count > 0))).toBe(true);
    for (const s of samplers) {
      const m = await (await fetch(s.metricsUrl)).text();
      expect({ sampler: s.name, accepted: metricSum(m, 'otelcol_receiver_accepted_spans') > 0 }).toEqual({
        sampler: s.name,
        accepted: true,
      });
      expect(metricSum(m, 'otelcol_exporter_send_failed_spans')).toBe(0);
    }
    for (const g of gateways) {
      const m = await (await fetch(g.metricsUrl)).text();
      expect(metricSum(m, 'otelcol_exporter_send_failed_log_records')).toBe(0);
    }
  }, 120_000);

  it('answers a query through either correlator for every trace, and with one killed names it and answers partial', async () => {
    interface Merged {
      count: number;
      correlations: View[];
      partial: boolean;
      failed: string[];
      replicas: number;
    }
    const query = async (c: { url: string }, search: string) => {
      const r = await fetch(`${c.url}/api/correlations?${search}`, { headers: credentials });
      expect(r.status).toBe(200);
      return (await r.json()) as Merged;
    };
    const own = await held();
    const holder = new Map<string, number>();
    own.forEach((list, replica) => {
      for (const c of list) holder.set(c.trace_id, replica);
    });
    // The first test saw each trace joined once, on one of them; both hold some.
    expect(holder.size).toBe(N);
    expect(new Set(holder.values()).size).toBe(2);

    for (const c of correlators) {
      const all = await query(c, 'limit=1000');
      expect(all).toMatchObject({ count: N, partial: false, failed: [], replicas: 2 });
      expect(new Set(all.correlations.map((x) => x.correlation_id)).size).toBe(N);
      for (let i = 0; i < N; i++) {
        const t = traceId(i);
        const one = await query(c, `trace_id=${t}`);
        const mine = own[holder.get(t) as number].find((x) => x.trace_id === t);
        expect({ t, found: one.correlations.map((x) => x.correlation_id) }).toEqual({
          t,
          found: [mine?.correlation_id],
        });
        expect({ t, logs: one.correlations[0].log_count }).toEqual({ t, logs: LOGS });
      }
      // The seed API's service filter over both: every trace has checkout logs.
      expect((await query(c, 'service=checkout&limit=1000')).count).toBe(N);
    }

    // One replica killed (SIGKILL, as a node failure): the other answers for itself and names it.
    const [alive, dead] = correlators;
    await dead.peer.stop(0);
    const after = await query(alive, 'limit=1000');
    expect(after).toMatchObject({ partial: true, failed: [new URL(dead.url).host] });
    expect(after.replicas).toBe(1);
    expect(after.correlations.map((x) => x.trace_id).sort()).toEqual(
      [...holder]
        .filter(([, r]) => r === 0)
        .map(([t]) => t)
        .sort(),
    );
    const lost = [...holder].find(([, r]) => r === 1)?.[0] as string;
    expect(await query(alive, `trace_id=${lost}`)).toMatchObject({ count: 0, partial: true });
  }, 60_000);
});
