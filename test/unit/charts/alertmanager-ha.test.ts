// Three real Alertmanagers (the version hack/build-alertmanager.sh builds from Go modules) run the
// RENDERED alertmanager.yml and the RENDERED arguments of the `large` StatefulSet, form one
// cluster, and turn one alert sent by two Prometheus replicas into exactly one notification; with
// one peer killed (SIGKILL), a new alert still gives exactly one.
//
// What the test substitutes, and only that, because a pod's network is not 127.0.0.x:
// - hosts: `--web.listen-address=:9093` and `--cluster.listen-address=0.0.0.0:9094` listen on the
//   peer's own loopback address 127.0.R.i (the rendered ports stay), and each DNS peer name
//   `<stack>-alertmanager-<i>.<stack>-alertmanager-headless.<ns>.svc:9094` becomes 127.0.R.(i+1):9094
//   (what the headless Service's DNS would answer with the pod's address), and $(POD_IP) in
//   --cluster.advertise-address is expanded to 127.0.R.i as the kubelet expands it to the pod IP;
// - paths: --config.file and --storage.path point into a temporary folder;
// - the webhook receivers' URLs point to a sink in this test on 127.0.0.1;
// - group_wait 30s becomes 2s so that the test is bounded (group_interval and repeat_interval stay:
//   they are longer than the test, so a second notification can only be a duplicate).
// The two "Prometheus replicas" are two clients that POST the same alert to every Alertmanager's
// /api/v2/alerts, as each Prometheus does with its list of Alertmanager pods.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { PORTS } from '../../../desired/stack/context.js';
import { type KubeObject, renderStack } from '../../../desired/stack/index.js';
import { Peer, waitFor } from '../correlator/peers.js';
import { FIXTURES, loadStack } from './stacks.js';
import { alertmanager } from './tools.js';

// biome-ignore lint/suspicious/noExplicitAny: walking rendered JSON
type Loose = any;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Alertmanager's default --cluster.peer-timeout (not rendered): peer i waits i times it before it sends. */
const PEER_TIMEOUT_MS = 15_000;
const GROUP_WAIT = '2s';

const stack = loadStack(FIXTURES.full);
stack.spec.size = 'large';
const objects = renderStack(stack).objects;
const amName = `${stack.metadata.name}-alertmanager`;
const sts = objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === amName) as Loose;
const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === amName) as KubeObject & {
  data: Record<string, string>;
};
const container = sts.spec.template.spec.containers.find((c: Loose) => c.name === 'alertmanager');
const renderedArgs: string[] = container.args;

// A /24 of loopback of its own per run, so that concurrent test runs do not meet on 9093/9094.
const subnet = 100 + (process.pid % 150);
const ip = (i: number) => `127.0.${subnet}.${i + 1}`;

/** The rendered arguments with the substitutions above, for pod `i`. */
function argsFor(i: number, dir: string): string[] {
  const peerName = new RegExp(
    `^--cluster\\.peer=${amName}-(\\d+)\\.${amName}-headless\\.${stack.metadata.namespace}\\.svc:(\\d+)$`,
  );
  const env = Object.fromEntries(
    (container.env ?? []).map((e: Loose) => [e.name, e.value ?? e.valueFrom?.fieldRef?.fieldPath]),
  );
  return renderedArgs.map((a) => {
    if (a.startsWith('--config.file=')) return `--config.file=${join(dir, 'alertmanager.yml')}`;
    if (a.startsWith('--storage.path=')) return `--storage.path=${join(dir, 'data')}`;
    if (a === `--web.listen-address=:${PORTS.alertmanager}`)
      return `--web.listen-address=${ip(i)}:${PORTS.alertmanager}`;
    if (a === `--cluster.listen-address=0.0.0.0:${PORTS.alertmanagerCluster}`) {
      return `--cluster.listen-address=${ip(i)}:${PORTS.alertmanagerCluster}`;
    }
    // The kubelet expands $(POD_IP) from the container's env (status.podIP): here, the peer's address.
    if (a.includes('$(POD_IP)') && env.POD_IP === 'status.podIP') return a.replaceAll('$(POD_IP)', ip(i));
    const m = peerName.exec(a);
    if (m) return `--cluster.peer=${ip(Number(m[1]))}:${m[2]}`;
    throw new Error(`the test does not know how to run the rendered argument ${a}`);
  });
}

interface Notification {
  receiver: string;
  status: string;
  alerts: { labels: Record<string, string> }[];
}

describe('three real Alertmanagers with the rendered config and cluster flags', () => {
  const delivered: Notification[] = [];
  let sink: Server;
  let sinkUrl = '';
  const peers: Peer[] = [];
  const dirs: string[] = [];
  const url = (i: number) => `http://${ip(i)}:${PORTS.alertmanager}`;

  beforeAll(async () => {
    sink = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        delivered.push({ ...(JSON.parse(body) as Notification) });
        res.end();
      });
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await Promise.all(peers.map((p) => p.stop(5000)));
    await new Promise((r) => sink.close(r));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('renders three replicas that name each other as peers', () => {
    expect(sts.spec.replicas).toBe(3);
    expect(renderedArgs.filter((a) => a.startsWith('--cluster.peer='))).toHaveLength(3);
    expect(renderedArgs).toContain(`--cluster.advertise-address=[$(POD_IP)]:${PORTS.alertmanagerCluster}`);
  });

  it('forms one cluster; two Prometheus replicas sending one alert give one notification; with a peer killed, still one', async () => {
    const config = yaml.load(configMap.data['alertmanager.yml']) as Loose;
    expect(config.route.group_wait).toBe('30s');
    config.route.group_wait = GROUP_WAIT;
    for (const r of config.receivers) {
      for (const w of r.webhook_configs ?? []) w.url = `${sinkUrl}/${r.name}`;
    }
    const text = yaml.dump(config, { noRefs: true, lineWidth: -1 });
    for (let i = 0; i < 3; i++) {
      const dir = mkdtempSync(join(tmpdir(), `vigil-am-ha-${i}-`));
      dirs.push(dir);
      mkdirSync(join(dir, 'data'));
      writeFileSync(join(dir, 'alertmanager.yml'), text);
      const p = new Peer(`alertmanager-${i}`, alertmanager(), [...argsFor(i, dir), '--log.level=warn'], dir);
      peers.push(p);
      p.start();
    }
    for (let i = 0; i < 3; i++) await peers[i].waitReady(`${url(i)}/-/ready`, 30_000);

    type Status = { cluster: { status: string; name: string; peers: { name: string; address: string }[] } };
    const status = async (i: number) => (await (await fetch(`${url(i)}/api/v2/status`)).json()) as Status;
    const clustered = await waitFor(
      'three peers seen by every Alertmanager',
      async () => {
        const all = await Promise.all([0, 1, 2].map(status));
        return all.every((s) => s.cluster.peers.length === 3 && s.cluster.status === 'ready') ? all : undefined;
      },
      30_000,
      250,
    );
    expect(clustered.map((s) => s.cluster.peers.map((p) => p.address).sort())).toEqual(
      [0, 1, 2].map(() => [0, 1, 2].map((i) => `${ip(i)}:${PORTS.alertmanagerCluster}`).sort()),
    );

    const postFromBothReplicas = async (alertname: string, live: number[]) => {
      const now = Date.now();
      for (const replica of [0, 1]) {
        // Each replica sends to every Alertmanager it lists; their startsAt differ a little, as two
        // Prometheus evaluating the same rule would.
        const alert = {
          labels: { alertname, service: 'checkout', severity: 'critical' },
          annotations: { summary: 'always firing' },
          startsAt: new Date(now - 1000 * replica).toISOString(),
          endsAt: new Date(now + 10 * 60_000).toISOString(),
          generatorURL: `http://prometheus-${replica}/graph`,
        };
        for (const i of live) {
          const res = await fetch(`${url(i)}/api/v2/alerts`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify([alert]),
          });
          expect(res.status).toBe(200);
        }
      }
    };
    const firing = (alertname: string) =>
      delivered.filter((d) => d.status === 'firing' && d.alerts.some((a) => a.labels.alertname === alertname));

    // Every peer holds the alert; the first in the cluster's order sends after group_wait, the
    // others wait one and two peer timeouts, then find the send in the gossiped notification log.
    await postFromBothReplicas('VigilHATestOne', [0, 1, 2]);
    await waitFor('the first notification', () => (firing('VigilHATestOne').length ? true : undefined), 20_000, 100);
    await sleep(2 * PEER_TIMEOUT_MS + 5000);
    expect(firing('VigilHATestOne').map((d) => d.receiver)).toEqual(['oncall']);

    // Kill the peer that sends first (the lowest name: Alertmanager orders peers by name), so that
    // the next one must take over.
    const first = clustered[0].cluster.peers.map((p) => p.name).sort()[0];
    const victim = clustered.findIndex((s) => s.cluster.name === first);
    expect(victim).toBeGreaterThanOrEqual(0);
    const pid = peers[victim].pid as number;
    process.kill(pid, 'SIGKILL');
    await waitFor(`alertmanager-${victim} gone`, () => (peers[victim].running ? undefined : true), 5000, 50);
    const live = [0, 1, 2].filter((i) => i !== victim);

    await postFromBothReplicas('VigilHATestTwo', live);
    await waitFor(
      'the notification after the kill',
      () => (firing('VigilHATestTwo').length ? true : undefined),
      2 * PEER_TIMEOUT_MS + 20_000,
      100,
    );
    await sleep(2 * PEER_TIMEOUT_MS + 5000);
    expect(firing('VigilHATestTwo').map((d) => d.receiver)).toEqual(['oncall']);
    // And nothing else arrived meanwhile (no duplicate of the first, no resolved message).
    expect(delivered).toHaveLength(2);
  }, 180_000);
});
