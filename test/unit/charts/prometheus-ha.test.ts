// An HA Prometheus pair as a `medium` stack renders it, with real processes: two real Prometheus
// (the image's release, hack/build-prometheus.sh) run the RENDERED prometheus.yml's global section
// (external labels with the per-replica label) and its alerting relabels, with the RENDERED
// arguments; a real Thanos sidecar beside each runs the RENDERED sidecar arguments, and a real
// Thanos Query the RENDERED querier arguments (hack/build-thanos.sh). Both replicas scrape one
// target; the querier returns ONE deduplicated series for it, and still answers with one
// Prometheus stopped, and with that replica's sidecar gone too. Both replicas' alerts reach the
// Alertmanager API without the replica label, so Alertmanager sees one alert, and each replica's
// rendered remote write reaches a store with the basic-auth credentials of its Secret.
//
// What the test substitutes, and only that, because a pod's network is not 127.0.0.x and there is
// no Kubernetes API here:
// - hosts: each "pod" i is the loopback address 127.0.S.(i+1): Prometheus gets
//   --web.listen-address=127.0.S.(i+1):9090 (rendered: the default :9090), the sidecar's
//   --prometheus.url=http://localhost:9090 and its 0.0.0.0 listen addresses name that address (the
//   rendered ports stay), and the querier's listen addresses name its own;
// - DNS: the querier's one endpoint dns+<stack>-prometheus-headless.<ns>.svc:10901 (in
//   --endpoint.sd-config) becomes one endpoint per pod address on the same port (the A records that
//   headless Service answers with; the endpoints test proves the Service and port are rendered and
//   reach the sidecars);
// - the kubelet: $(POD_NAME), which the rendered env takes from metadata.name, is set to the pod
//   name `<stack>-prometheus-<i>` a StatefulSet gives;
// - paths: --config.file, --storage.tsdb.path and the sidecar's --tsdb.path point into a
//   temporary folder;
// - prometheus.yml: the scrape jobs and rule files (Kubernetes service discovery, which needs an
//   API server) become one static job scraping this test's target and one rule file with an
//   always-firing alert, the Alertmanager discovery becomes a static sink in this test, and the
//   scrape and evaluation intervals become 1s so that the test is bounded; the remote write's URL
//   becomes the sink's and its credential files the Secret's keys written into the folder. The
//   global external labels, alert_relabel_configs and the rest of remote_write stay as rendered.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { PROMETHEUS_REPLICA_LABEL } from '../../../conventions/index.js';
import { PORTS, placeholder } from '../../../desired/stack/context.js';
import { type KubeObject, renderStack, stackEndpoints } from '../../../desired/stack/index.js';
import { Peer, waitFor } from '../correlator/peers.js';
import { FIXTURES, validated } from './stacks.js';
import { prometheus, thanos } from './tools.js';

// biome-ignore lint/suspicious/noExplicitAny: walking rendered JSON
type Loose = any;

// The full example at size medium, with one remote write with basic auth (Secret-referenced).
const doc = yaml.load(readFileSync(FIXTURES.full, 'utf8')) as Loose;
doc.spec.size = 'medium';
doc.spec.metrics.remoteWrite = [
  {
    url: 'https://metrics-lts.example.com/api/v1/push',
    name: 'lts',
    basicAuth: {
      usernameSecretRef: { name: 'lts-credentials', key: 'username' },
      passwordSecretRef: { name: 'lts-credentials', key: 'password' },
    },
    queue: { maxShards: 2, batchSendDeadline: '1s' },
  },
];
const stack = validated(doc);
const { name, namespace } = stack.metadata as { name: string; namespace: string };
const objects = renderStack(stack).objects;
const find = (kind: string, n: string) => objects.find((o) => o.kind === kind && o.metadata.name === n) as Loose;
const promName = `${name}-prometheus`;
const sts = find('StatefulSet', promName);
const containers: Loose[] = sts?.spec.template.spec.containers ?? [];
const promCtr = containers.find((c) => c.name === 'prometheus');
const sidecarCtr = containers.find((c) => c.name === 'thanos-sidecar');
const queryCtr = find('Deployment', `${name}-thanos-query`)?.spec.template.spec.containers[0];
const configText = (find('ConfigMap', promName) as KubeObject & { data: Record<string, string> }).data[
  'prometheus.yml'
];

// A /24 of loopback of its own per run, so that concurrent runs do not meet on 9090/10901/10902.
const subnet = 10 + (process.pid % 80);
const ip = (i: number) => `127.0.${subnet}.${i + 1}`;
const QUERY = 2;
const podName = (i: number) => `${promName}-${i}`;

/** The rendered Prometheus arguments for pod i, with the substitutions above. */
function prometheusArgs(i: number, dir: string): string[] {
  const args = (promCtr.args as string[]).map((a) => {
    if (a.startsWith('--config.file=')) return `--config.file=${join(dir, 'prometheus.yml')}`;
    if (a.startsWith('--storage.tsdb.path=')) return `--storage.tsdb.path=${join(dir, 'data')}`;
    if (a.startsWith('--web.listen-address=')) throw new Error(`unexpected rendered ${a}`);
    return a;
  });
  return [...args, `--web.listen-address=${ip(i)}:${PORTS.prometheus}`];
}

/** The rendered sidecar arguments for pod i. */
function sidecarArgs(i: number, dir: string): string[] {
  return (sidecarCtr.args as string[]).map((a) => {
    if (a === `--prometheus.url=http://localhost:${PORTS.prometheus}`)
      return `--prometheus.url=http://${ip(i)}:${PORTS.prometheus}`;
    if (a.startsWith('--tsdb.path=')) return `--tsdb.path=${join(dir, 'data')}`;
    if (a === `--grpc-address=0.0.0.0:${PORTS.thanosGrpc}`) return `--grpc-address=${ip(i)}:${PORTS.thanosGrpc}`;
    if (a === `--http-address=0.0.0.0:${PORTS.thanosHttp}`) return `--http-address=${ip(i)}:${PORTS.thanosHttp}`;
    if (a.includes('0.0.0.0') || a.includes('localhost')) throw new Error(`the test cannot run the rendered ${a}`);
    return a;
  });
}

/** The rendered querier arguments, at address `at`, without the flags `drop` names. */
function queryArgs(at: string, drop: (a: string) => boolean = () => false): string[] {
  const headless = `dns+${promName}-headless.${namespace}.svc:${PORTS.thanosGrpc}`;
  const pods = { endpoints: [0, 1].map((i) => ({ address: `${ip(i)}:${PORTS.thanosGrpc}` })) };
  return (queryCtr.args as string[])
    .filter((a) => !drop(a))
    .flatMap((a) => {
      if (a.startsWith('--endpoint.sd-config=')) {
        expect(yaml.load(a.slice('--endpoint.sd-config='.length))).toEqual({ endpoints: [{ address: headless }] });
        return [`--endpoint.sd-config=${JSON.stringify(pods)}`];
      }
      if (a.startsWith('--endpoint')) throw new Error(`the test does not know the rendered ${a}`);
      if (a === `--http-address=0.0.0.0:${PORTS.thanosHttp}`) return [`--http-address=${at}:${PORTS.thanosHttp}`];
      if (a === `--grpc-address=0.0.0.0:${PORTS.thanosGrpc}`) return [`--grpc-address=${at}:${PORTS.thanosGrpc}`];
      return [a];
    });
}

interface Sample {
  metric: Record<string, string>;
  value?: [number, string];
  values?: [number, string][];
}

async function promql(base: string, path: string, params: Record<string, string>): Promise<Sample[]> {
  const res = await fetch(`${base}${path}?${new URLSearchParams(params)}`, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as { status: string; data?: { result: Sample[] }; error?: string };
  if (body.status !== 'success') throw new Error(`${path}: ${JSON.stringify(body).slice(0, 300)}`);
  return body.data?.result ?? [];
}

const METRIC = 'vigil_ha_test_value';

describe('an HA Prometheus pair as rendered at size medium', () => {
  it('renders two replicas with the replica label, a sidecar each without reloader flags, and a deduplicating querier', () => {
    expect(sts.spec.replicas).toBe(2);
    const config = yaml.load(configText) as Loose;
    expect(config.global.external_labels[PROMETHEUS_REPLICA_LABEL]).toBe(placeholder('POD_NAME'));
    expect(promCtr.env).toContainEqual({ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
    expect(config.alerting.alert_relabel_configs).toEqual([{ regex: PROMETHEUS_REPLICA_LABEL, action: 'labeldrop' }]);
    expect(sidecarCtr.args.filter((a: string) => a.startsWith('--reloader'))).toEqual([]);
    expect(promCtr.args).not.toContain('--web.enable-admin-api');
    expect(queryCtr.args).toContain(`--query.replica-label=${PROMETHEUS_REPLICA_LABEL}`);
    expect(find('Deployment', `${name}-thanos-query`).spec.replicas).toBe(2);
    expect(find('PodDisruptionBudget', `${name}-thanos-query-pdb`).spec.maxUnavailable).toBe(1);
    // Grafana's datasource and status.endpoints (the SLO budget reader's URL) name the querier.
    const ds = yaml.load(find('ConfigMap', `${name}-grafana-datasources`).data['datasources.yaml']) as Loose;
    const querier = `http://${name}-thanos-query.${namespace}.svc:${PORTS.thanosHttp}`;
    expect(ds.datasources?.find((d: Loose) => d.type === 'prometheus')?.url).toBe(querier);
    expect(stackEndpoints(stack).prometheus).toBe(querier);
    // The remote write reads its credentials from the projected Secret volume.
    expect(config.remote_write).toEqual([
      {
        url: 'https://metrics-lts.example.com/api/v1/push',
        name: 'lts',
        basic_auth: {
          username_file: '/etc/prometheus/remote-write/lts-credentials/username',
          password_file: '/etc/prometheus/remote-write/lts-credentials/password',
        },
        queue_config: { max_shards: 2, batch_send_deadline: '1s' },
      },
    ]);
    const volume = sts.spec.template.spec.volumes.find((v: Loose) => v.name === 'remote-write-secrets');
    expect(volume.projected.sources).toEqual([
      {
        secret: {
          name: 'lts-credentials',
          items: [
            { key: 'password', path: 'lts-credentials/password' },
            { key: 'username', path: 'lts-credentials/username' },
          ],
        },
      },
    ]);
    expect(promCtr.volumeMounts).toContainEqual({
      name: 'remote-write-secrets',
      mountPath: '/etc/prometheus/remote-write',
      readOnly: true,
    });
  });

  it('stays one Prometheus without a querier at size small', () => {
    const small = structuredClone(stack);
    small.spec.size = 'small';
    const r = renderStack(small).objects;
    expect(r.filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'thanos-query')).toEqual([]);
    const s = r.find((o) => o.kind === 'StatefulSet' && o.metadata.name === promName) as Loose;
    expect(s.spec.replicas).toBe(1);
    expect(s.spec.template.spec.containers.map((c: Loose) => c.name)).not.toContain('thanos-sidecar');
    const cm = r.find((o) => o.kind === 'ConfigMap' && o.metadata.name === promName) as Loose;
    expect(cm.data['prometheus.yml']).not.toContain(PROMETHEUS_REPLICA_LABEL);
    expect(stackEndpoints(small).prometheus).toBe(`http://${promName}.${namespace}.svc:${PORTS.prometheus}`);
  });

  describe('with real processes', () => {
    let target: Server;
    let sink: Server;
    let targetAddr = '';
    let sinkAddr = '';
    /** Alerts each replica sent, by replica index (the sink path it posts to). */
    const alerts: Record<string, { labels: Record<string, string> }[]> = { '0': [], '1': [] };
    /** Remote write requests each replica sent, with the headers that matter. */
    type Write = { authorization?: string; encoding?: string; type?: string };
    const writes: Record<string, Write[]> = { '0': [], '1': [] };
    const peers: Peer[] = [];
    const dirs: string[] = [];
    const proms: Peer[] = [];
    const sidecars: Peer[] = [];
    const queryUrl = `http://${ip(QUERY)}:${PORTS.thanosHttp}`;

    const listen = (srv: Server) =>
      new Promise<string>((r) =>
        srv.listen(0, '127.0.0.1', () => r(`127.0.0.1:${(srv.address() as AddressInfo).port}`)),
      );

    beforeAll(async () => {
      target = createServer((_req, res) => {
        res.setHeader('content-type', 'text/plain; version=0.0.4');
        res.end(`# TYPE ${METRIC} gauge\n${METRIC} 42\n`);
      });
      sink = createServer((req, res) => {
        let body = '';
        req.on('data', (c) => {
          body += c;
        });
        req.on('end', () => {
          const m = /^\/from-(\d)\/api\/v2\/alerts$/.exec(req.url ?? '');
          if (m && req.method === 'POST') alerts[m[1]].push(...JSON.parse(body));
          const w = /^\/remote-write\/(\d)$/.exec(req.url ?? '');
          if (w && req.method === 'POST') {
            writes[w[1]].push({
              authorization: req.headers.authorization,
              encoding: req.headers['content-encoding'],
              type: req.headers['content-type'],
            });
          }
          res.end();
        });
      });
      targetAddr = await listen(target);
      sinkAddr = await listen(sink);
    });

    afterAll(async () => {
      await Promise.all(peers.map((p) => p.stop(5000)));
      await new Promise((r) => target.close(r));
      await new Promise((r) => sink.close(r));
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    /** prometheus.yml for pod i: the rendered global and alerting relabels, the test's job, rule and sink. */
    function configFor(i: number, dir: string): string {
      const config = yaml.load(configText) as Loose;
      config.global.scrape_interval = '1s';
      config.global.evaluation_interval = '1s';
      config.scrape_configs = [{ job_name: 'ha-target', static_configs: [{ targets: [targetAddr] }] }];
      config.rule_files = [join(dir, 'rules.yml')];
      config.alerting.alertmanagers = [{ path_prefix: `/from-${i}`, static_configs: [{ targets: [sinkAddr] }] }];
      // The rendered remote write, to the sink, reading the credentials from where the test put the
      // Secret's keys (in the pod: the projected volume at /etc/prometheus/remote-write).
      const [rw] = config.remote_write;
      rw.url = `http://${sinkAddr}/remote-write/${i}`;
      for (const k of ['username_file', 'password_file']) {
        rw.basic_auth[k] = rw.basic_auth[k].replace(/^\/etc\/prometheus\/remote-write\//, `${dir}/remote-write/`);
      }
      return yaml.dump(config, { noRefs: true, lineWidth: -1 });
    }

    const start = (p: Peer) => {
      peers.push(p);
      p.start();
      return p;
    };

    it('the querier returns one deduplicated series for what both replicas scraped, and answers with one replica stopped', async () => {
      const rules = {
        groups: [{ name: 'ha', rules: [{ alert: 'VigilHATest', expr: `${METRIC} > 0`, labels: { tier: 'ticket' } }] }],
      };
      for (const i of [0, 1]) {
        const dir = mkdtempSync(join(tmpdir(), `vigil-prom-ha-${i}-`));
        dirs.push(dir);
        mkdirSync(join(dir, 'data'));
        writeFileSync(join(dir, 'prometheus.yml'), configFor(i, dir));
        writeFileSync(join(dir, 'rules.yml'), yaml.dump(rules));
        mkdirSync(join(dir, 'remote-write', 'lts-credentials'), { recursive: true });
        writeFileSync(join(dir, 'remote-write', 'lts-credentials', 'username'), 'vigil');
        writeFileSync(join(dir, 'remote-write', 'lts-credentials', 'password'), 's3cret');
        const env = { ...process.env, POD_NAME: podName(i) };
        proms.push(start(new Peer(`prometheus-${i}`, prometheus(), prometheusArgs(i, dir), dir, env)));
      }
      for (const i of [0, 1]) await proms[i].waitReady(`http://${ip(i)}:${PORTS.prometheus}/-/ready`, 90_000);
      for (const i of [0, 1]) {
        sidecars.push(start(new Peer(`thanos-sidecar-${i}`, thanos(), sidecarArgs(i, dirs[i]), dirs[i])));
      }
      for (const i of [0, 1]) await sidecars[i].waitReady(`http://${ip(i)}:${PORTS.thanosHttp}/-/ready`, 90_000);
      const query = start(new Peer('thanos-query', thanos(), queryArgs(ip(QUERY)), dirs[0]));
      await query.waitReady(`${queryUrl}/-/ready`, 90_000);

      const instant = (q: string, dedup: boolean, base = queryUrl) =>
        promql(base, '/api/v1/query', { query: q, dedup: String(dedup) });
      const replicaOf = (s: Sample) => s.metric[PROMETHEUS_REPLICA_LABEL];

      // Both replicas scraped the target: without deduplication, one series from each.
      let last: unknown;
      const both = await waitFor(
        'the series from both replicas through the querier',
        async () => {
          const r = await instant(METRIC, false);
          last = r;
          return r.length === 2 ? r : undefined;
        },
        90_000,
        250,
      ).catch((err) => {
        const logs = peers.map((p) => `--- ${p.name}\n${p.output().slice(-3000)}`).join('\n');
        throw new Error(`${err}\nlast answer: ${JSON.stringify(last)}\n${logs}`);
      });
      expect(both.map(replicaOf).sort()).toEqual([podName(0), podName(1)]);
      for (const s of both) expect(s.metric).toMatchObject({ vigil_stack: name, vigil_namespace: namespace });

      // Deduplicated by the rendered replica label: one series, without that label.
      const one = await instant(METRIC, true);
      expect(one).toHaveLength(1);
      expect(one[0].metric).toEqual({
        __name__: METRIC,
        job: 'ha-target',
        instance: targetAddr,
        vigil_stack: name,
        vigil_namespace: namespace,
      });
      expect(one[0].value?.[1]).toBe('42');
      // Over a range too (the sidecars advertise their time ranges a moment after they start).
      const range = await waitFor(
        'a deduplicated range',
        async () => {
          const now = Math.floor(Date.now() / 1000);
          const r = await promql(queryUrl, '/api/v1/query_range', {
            query: METRIC,
            start: String(now - 60),
            end: String(now),
            step: '1',
            dedup: 'true',
          });
          return r.length ? r : undefined;
        },
        60_000,
        250,
      );
      expect(range).toHaveLength(1);
      expect(range[0].metric[PROMETHEUS_REPLICA_LABEL]).toBeUndefined();

      // The control: a querier without the replica label sees two series for the same data.
      const bare = start(
        new Peer(
          'thanos-query-no-replica-label',
          thanos(),
          queryArgs(ip(QUERY + 1), (a) => a.startsWith('--query.replica-label=')),
          dirs[1],
        ),
      );
      const bareUrl = `http://${ip(QUERY + 1)}:${PORTS.thanosHttp}`;
      await bare.waitReady(`${bareUrl}/-/ready`, 90_000);
      const undeduplicated = await waitFor(
        'both replicas through the querier without the replica label',
        async () => {
          const r = await instant(METRIC, true, bareUrl);
          return r.length === 2 ? r : undefined;
        },
        60_000,
        250,
      );
      expect(undeduplicated.map(replicaOf).sort()).toEqual([podName(0), podName(1)]);
      await bare.stop(5000);

      // Both replicas fire the alert; each sends it without its replica label: one alert for Alertmanager.
      const fired = await waitFor(
        'the alert from both replicas',
        () => (alerts['0'].length && alerts['1'].length ? [alerts['0'][0], alerts['1'][0]] : undefined),
        60_000,
        250,
      );
      expect(fired[0].labels).toEqual(fired[1].labels);
      expect(fired[0].labels).toMatchObject({ alertname: 'VigilHATest', vigil_stack: name });
      expect(fired[0].labels[PROMETHEUS_REPLICA_LABEL]).toBeUndefined();

      // Each replica remote-writes to the store with the Secret's credentials.
      await waitFor(
        'a remote write from each replica',
        () => (writes['0'].length && writes['1'].length ? true : undefined),
        60_000,
        250,
      );
      const basic = `Basic ${Buffer.from('vigil:s3cret').toString('base64')}`;
      for (const i of ['0', '1']) {
        expect(writes[i][0]).toEqual({ authorization: basic, encoding: 'snappy', type: 'application/x-protobuf' });
      }

      // Prometheus 0 stops (its sidecar still up, failing to reach it): still one series, from replica 1.
      await proms[0].stop(10_000);
      const afterStop = await instant(METRIC, true);
      expect(afterStop).toHaveLength(1);
      expect(afterStop[0].value?.[1]).toBe('42');
      expect((await instant(METRIC, false)).map(replicaOf)).toEqual([podName(1)]);

      // And with the whole pod gone (its sidecar too).
      await sidecars[0].stop(10_000);
      const podGone = await waitFor(
        'an answer with pod 0 gone',
        async () => {
          const r = await instant(METRIC, true);
          return r.length === 1 ? r : undefined;
        },
        30_000,
        250,
      );
      expect(podGone[0].metric[PROMETHEUS_REPLICA_LABEL]).toBeUndefined();
      expect(podGone[0].value?.[1]).toBe('42');
    }, 300_000);
  });
});
