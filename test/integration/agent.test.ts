// The rendered agent config, run by the real collector (the agent's build, OTELCOL_AGENT_VERSION)
// against the local API server: container log lines in CRI format, written here into a
// /var/log/pods-shaped folder for pods that exist in the cluster (a Deployment's pods, run by
// kwok), arrive at an OTLP sink with their namespace, pod, container and owning Deployment looked
// up from the API server by k8sattributes; partial lines arrive joined; another namespace's pods
// are not collected; a JSON line's trace_id becomes the record's trace context.
//
// Substituted for the run, and why: the log folder (/var/log/pods is the host's), k8sattributes'
// auth_type serviceAccount -> kubeConfig (this process is not in a pod: no mounted token; the
// kubeconfig is the test cluster's), kubeletstats' endpoint and auth (kwok nodes run no kubelet:
// it is pointed at a closed local port and scrapes nothing), the listen addresses, and the gateway
// address (the sink below stands in for the gateway: it records what the agent sends).
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LogsRequest } from '../../correlator/otlp.js';
import { agentConfig, POD_LOG_DIR } from '../../desired/stack/agent.js';
import { stackContext } from '../../desired/stack/context.js';
import { agentOtelcol, localize, type Running, startCollector } from '../support/collectors.js';
import { freshNamespace, kubectl, kubectlOk } from '../support/kubectl.js';
import { aStack } from '../unit/charts/stacks.js';
import { freePort, waitFor } from '../unit/correlator/peers.js';

interface Received {
  resource: Record<string, string>;
  body: string;
  attributes: Record<string, string>;
  traceId: string;
  spanId: string;
}

// biome-ignore lint/suspicious/noExplicitAny: decoded protobuf
const flat = (attrs: any[] = []) =>
  Object.fromEntries(attrs.map((a) => [a.key, String(a.value?.stringValue ?? a.value?.intValue ?? '')]));

/** An OTLP/gRPC logs sink: what the agent would hand the gateway. */
async function startSink(): Promise<{ address: string; received: Received[]; stop(): Promise<void> }> {
  const received: Received[] = [];
  const server = new grpc.Server();
  server.register(
    '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
    (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      // biome-ignore lint/suspicious/noExplicitAny: decoded protobuf
      const req = LogsRequest.toObject(LogsRequest.decode(call.request), { longs: String }) as any;
      for (const rl of req.resourceLogs ?? []) {
        for (const sl of rl.scopeLogs ?? []) {
          for (const lr of sl.logRecords ?? []) {
            received.push({
              resource: flat(rl.resource?.attributes),
              body: String(lr.body?.stringValue ?? ''),
              attributes: flat(lr.attributes),
              traceId: lr.traceId?.length ? Buffer.from(lr.traceId).toString('hex') : '',
              spanId: lr.spanId?.length ? Buffer.from(lr.spanId).toString('hex') : '',
            });
          }
        }
      }
      cb(null, Buffer.alloc(0));
    },
    (b: Buffer) => b,
    (b: Buffer) => b,
    'unary',
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return {
    address: `127.0.0.1:${port}`,
    received,
    stop: () => new Promise((r) => server.tryShutdown(() => r())),
  };
}

interface PodInfo {
  name: string;
  uid: string;
  node: string;
}

function pods(ns: string, selector: string): PodInfo[] {
  const list = JSON.parse(kubectlOk(['get', 'pods', '-n', ns, '-l', selector, '-o', 'json']));
  // biome-ignore lint/suspicious/noExplicitAny: Pod JSON
  return list.items.map((p: any) => ({ name: p.metadata.name, uid: p.metadata.uid, node: p.spec.nodeName ?? '' }));
}

function deployment(ns: string, name: string, replicas: number): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, team: 'shop' } },
        spec: { containers: [{ name: 'web', image: 'example.invalid/web:1' }] },
      },
    },
  });
}

const logDir = join(tmpdir(), `vigil-agent-pods-${process.pid}`);
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
let ns: string;
let other: string;
let sink: Awaited<ReturnType<typeof startSink>>;
let agent: Running | undefined;
let web: PodInfo[];
let stranger: PodInfo;

/** The file the kubelet would write for a pod's container: <ns>_<pod>_<uid>/<container>/0.log. */
function logFile(namespace: string, p: PodInfo, container = 'web'): string {
  const dir = join(logDir, `${namespace}_${p.name}_${p.uid}`, container);
  mkdirSync(dir, { recursive: true });
  const f = join(dir, '0.log');
  writeFileSync(f, '', { flag: 'a' });
  return f;
}
const cri = (stream: 'stdout' | 'stderr', tag: 'P' | 'F', text: string) =>
  `${new Date().toISOString().replace('Z', '000000Z')} ${stream} ${tag} ${text}\n`;

beforeAll(async () => {
  ns = freshNamespace('agent');
  other = freshNamespace('agent-other');
  kubectlOk(['apply', '-f', '-'], deployment(ns, 'web', 2));
  kubectlOk(['apply', '-f', '-'], deployment(other, 'web', 1));
  const scheduled = (n: string, want: number) => {
    const list = pods(n, 'app=web');
    return list.length === want && list.every((p) => p.node) ? list : undefined;
  };
  web = await waitFor('the Deployment’s two pods scheduled on kwok nodes', () => scheduled(ns, 2), 60_000, 500);
  [stranger] = await waitFor('the other namespace’s pod', () => scheduled(other, 1), 60_000, 500);

  sink = await startSink();
  const stack = aStack({ collector: { mode: 'daemonset', collect: { podLabels: ['team'] } } }, 'cluster');
  stack.metadata.namespace = ns;
  // biome-ignore lint/suspicious/noExplicitAny: editing plain JSON
  const config: any = agentConfig(stackContext(stack));
  const ports = {
    otlpGrpc: await freePort(),
    otlpHttp: await freePort(),
    health: await freePort(),
    metrics: await freePort(),
  };
  const run = localize(config, '127.0.0.1', ports) as typeof config;
  run.receivers.filelog.include = run.receivers.filelog.include.map((p: string) => p.replace(POD_LOG_DIR, logDir));
  run.processors.k8sattributes.auth_type = 'kubeConfig';
  if (run.receivers.kubeletstats) {
    Object.assign(run.receivers.kubeletstats, { auth_type: 'none', endpoint: `http://127.0.0.1:${await freePort()}` });
    delete run.receivers.kubeletstats.insecure_skip_verify;
  }
  run.exporters['otlp_grpc/gateway'].endpoint = sink.address;
  mkdirSync(logDir, { recursive: true });
  agent = await startCollector('agent', agentOtelcol(), run, {
    ...process.env,
    KUBECONFIG: process.env.VIGIL_TEST_KUBECONFIG,
    // The node whose pods this agent serves: where the first web pod runs.
    K8S_NODE_NAME: web[0].node,
    K8S_NODE_IP: '127.0.0.1',
  });
}, 150_000);

afterAll(async () => {
  await agent?.stop();
  await sink?.stop();
  rmSync(logDir, { recursive: true, force: true });
  for (const n of [ns, other]) if (n) kubectl(['delete', 'namespace', n, '--wait=false']);
});

describe('the rendered agent config, run by the real collector against the API server', () => {
  it('sends CRI log lines of a collected pod with its namespace, pod, container and owning Deployment', async () => {
    const mine = web.filter((p) => p.node === web[0].node);
    const f = logFile(ns, mine[0]);
    const strangerFile = logFile(other, stranger);
    // Give the receiver a poll to find the new files (it reads files found later from their start).
    await new Promise((r) => setTimeout(r, 1000));
    appendFileSync(f, cri('stdout', 'F', 'GET /checkout 200'));
    appendFileSync(f, cri('stderr', 'P', 'a long line,'));
    appendFileSync(f, cri('stderr', 'F', 'joined from two parts'));
    appendFileSync(strangerFile, cri('stdout', 'F', 'not collected'));
    const json = JSON.stringify({ msg: 'paid', trace_id: TRACE, span_id: SPAN, level: 'info' });
    appendFileSync(f, cri('stdout', 'F', json));

    const got = await waitFor(
      'three records from the web pod at the sink',
      () => (sink.received.length >= 3 ? sink.received : undefined),
      60_000,
      250,
    ).catch((err) => {
      throw new Error(`${err.message}\nagent output:\n${agent?.peer.output().slice(-4000)}`);
    });
    const bodies = got.map((r) => r.body);
    expect(bodies).toEqual(expect.arrayContaining(['GET /checkout 200', 'a long line,joined from two parts']));
    const rec = got.find((r) => r.body === 'GET /checkout 200');
    expect(rec?.resource).toMatchObject({
      'k8s.namespace.name': ns,
      'k8s.pod.name': mine[0].name,
      'k8s.pod.uid': mine[0].uid,
      'k8s.container.name': 'web',
      // Looked up from the API server, not from the file path:
      'k8s.deployment.name': 'web',
      'k8s.node.name': web[0].node,
      'k8s.pod.label.team': 'shop',
    });
    expect(rec?.resource['k8s.replicaset.name']).toMatch(/^web-[a-z0-9]+$/);
    expect(rec?.attributes['log.iostream']).toBe('stdout');
    expect(got.find((r) => r.body.startsWith('a long'))?.attributes['log.iostream']).toBe('stderr');
    // A JSON line's trace_id and span_id become the record's trace context, so it joins its trace.
    const paid = got.find((r) => r.body.includes('"paid"'));
    expect(paid).toMatchObject({ traceId: TRACE, spanId: SPAN, attributes: { msg: 'paid', level: 'info' } });
    expect(rec?.traceId).toBe('');
  });

  it('does not collect the pods of a namespace the stack does not name', async () => {
    // The stranger's line was written with the others; a second later it has still not come.
    await new Promise((r) => setTimeout(r, 2000));
    expect(sink.received.map((r) => r.body)).not.toContain('not collected');
    expect(sink.received.every((r) => r.resource['k8s.namespace.name'] === ns)).toBe(true);
  });
});
