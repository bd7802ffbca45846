// The collector gives a log record's resource the attributes Loki indexes as the stack's stream
// labels: the real OpenTelemetry Collector (hack/build-otelcol.sh) runs the rendered resource
// processor between an OTLP receiver and an otlp_http exporter to a local sink, which then holds
// exactly what Loki's OTLP endpoint would be sent. Loki itself is AGPL and never runs here: its
// otlp_config is checked structurally in render.test.ts.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { stackContext } from '../../../desired/stack/context.js';
import { LOKI_LABELS_PROCESSOR, lokiLabelsProcessor } from '../../../desired/stack/loki.js';
import { TRACE_A } from '../correlator/helpers.js';
import { freePort, type OtelcolPeer, startOtelcol, waitFor } from '../correlator/peers.js';
import { aValidStack } from './support.js';

type Attr = { key: string; value: { stringValue?: string } };
type Body = {
  resourceLogs: { resource: { attributes: Attr[] }; scopeLogs: { logRecords: { traceId?: string }[] }[] }[];
};

const received: Body[] = [];
let sink: Server;
let sinkUrl: string;
let otelcol: OtelcolPeer | undefined;
let receiver: string;

async function collectorWith(labels?: string[]): Promise<void> {
  await otelcol?.close();
  received.length = 0;
  const ctx = stackContext(aValidStack({ logs: { enabled: true, ...(labels && { labels }) } }));
  const port = await freePort();
  receiver = `http://127.0.0.1:${port}`;
  otelcol = await startOtelcol({
    receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${port}` } } } },
    processors: { [LOKI_LABELS_PROCESSOR]: lokiLabelsProcessor(ctx) },
    exporters: {
      otlp_http: { endpoint: sinkUrl, encoding: 'json', compression: 'none', retry_on_failure: { enabled: false } },
    },
    service: {
      pipelines: { logs: { receivers: ['otlp'], processors: [LOKI_LABELS_PROCESSOR], exporters: ['otlp_http'] } },
    },
  });
}

/** One log record of checkout's pod, as the agent's k8sattributes leaves it. */
async function send(resource: Record<string, string>): Promise<Record<string, string>> {
  const body = {
    resourceLogs: [
      {
        resource: { attributes: Object.entries(resource).map(([key, v]) => ({ key, value: { stringValue: v } })) },
        scopeLogs: [
          { logRecords: [{ timeUnixNano: `${Date.now()}000000`, body: { stringValue: 'paid' }, traceId: TRACE_A }] },
        ],
      },
    ],
  };
  const res = await fetch(`${receiver}/v1/logs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  const got = await waitFor('the sink to receive the record', () => received[0], 15_000, 100);
  const rl = got.resourceLogs[0];
  expect(rl.scopeLogs[0].logRecords[0].traceId?.toLowerCase()).toBe(TRACE_A);
  return Object.fromEntries(rl.resource.attributes.map((a) => [a.key, a.value.stringValue ?? '']));
}

const POD = {
  'service.name': 'checkout',
  'k8s.namespace.name': 'shop',
  'k8s.container.name': 'app',
  'k8s.pod.name': 'checkout-7d9f-x2',
  'deployment.environment': 'staging',
};

beforeAll(async () => {
  sink = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => {
      data += c;
    });
    req.on('end', () => {
      if (req.url === '/v1/logs') received.push(JSON.parse(data) as Body);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
}, 30_000);

afterAll(async () => {
  await otelcol?.close();
  await new Promise((r) => sink?.close(r));
});

describe('the stream labels on the way to Loki, through a real collector', () => {
  it('adds service, namespace and container next to the attributes they come from', async () => {
    await collectorWith();
    const attrs = await send(POD);
    expect(attrs).toEqual({ ...POD, service: 'checkout', namespace: 'shop', container: 'app' });
  }, 60_000);

  it("follows spec.logs.labels, and keeps an application's own attribute of a label's name", async () => {
    await collectorWith(['service', 'env', 'team']);
    const attrs = await send({ ...POD, service: 'checkout-api', team: 'payments' });
    expect(attrs).toMatchObject({ service: 'checkout-api', env: 'staging', team: 'payments' });
    expect(attrs.namespace).toBeUndefined();
  }, 60_000);
});
