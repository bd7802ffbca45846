// End to end with real components: a real Prometheus evaluates a rule over a synthetic series and
// sends to a real Alertmanager running the alertmanager.yml the operator rendered for the stack (the
// one change: the token file's path, which in a cluster is a mounted Secret); Alertmanager posts to
// the operator's receiver; the operator restarts the Deployment on the real API server and kwok
// replaces its pods. Then the guard: M actions, the breaker, one notice at a webhook sink, a
// resolve, and a new firing that acts again.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { type Proc, startAlertmanager, startPrometheus, syntheticSeries, webhookSink } from '../support/alerting.js';
import { freshNamespace, kubectl, kubectlOk } from '../support/kubectl.js';
import { eventually, freePort, operatorWrites, type RunningOperator, startOperator } from '../support/operator.js';

const TOKEN = 'it-remediation-token-0123456789abcdef';
const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

let ns: string;
let operator: RunningOperator;
let alertmanager: Proc | undefined;
let prometheus: Proc | undefined;
let series: Awaited<ReturnType<typeof syntheticSeries>>;
let sink: Awaited<ReturnType<typeof webhookSink>>;
let receiverPort: number;
let amPort: number;
const started = new Date();

const json = (args: string[]) => JSON.parse(kubectlOk([...args, '-n', ns, '-o', 'json']));
const restartedAt = (): string | undefined =>
  json(['get', 'deployment', 'checkout']).spec.template.metadata.annotations?.[RESTARTED_AT];
const policy = () => json(['get', 'remediationpolicy', 'restart-checkout']);
const condition = (type: string) =>
  (policy().status?.conditions ?? []).find((c: { type: string }) => c.type === type) as
    | { status: string; reason: string; message: string }
    | undefined;
const actedCount = (): number =>
  (policy().status?.targets ?? [])
    .flatMap((t: { actions: { result: string }[] }) => t.actions)
    .filter((a: { result: string }) => a.result === 'acted').length;
const runningPods = (): string[] =>
  json(['get', 'pods', '-l', 'app=checkout'])
    .items.filter(
      (p: { status: { phase: string }; metadata: { deletionTimestamp?: string } }) =>
        p.status.phase === 'Running' && !p.metadata.deletionTimestamp,
    )
    .map((p: { metadata: { name: string } }) => p.metadata.name)
    .sort();
const events = (reason: string, kind: string) =>
  json(['get', 'events', '--field-selector', `reason=${reason},involvedObject.kind=${kind}`]).items as {
    message: string;
  }[];

beforeAll(async () => {
  ns = freshNamespace('remediate');
  sink = await webhookSink();
  series = await syntheticSeries('checkout_up', 1);
  receiverPort = await freePort();
  amPort = await freePort(); // the notice goes to the Alertmanager the test starts on this port
  kubectlOk(['create', 'secret', 'generic', 'operator-token', '-n', ns, `--from-literal=token=${TOKEN}`]);
  kubectlOk(
    ['apply', '-n', ns, '-f', '-'],
    [
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'checkout', labels: { app: 'checkout' } },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'checkout' } },
          template: {
            metadata: { labels: { app: 'checkout' } },
            spec: { containers: [{ name: 'app', image: 'checkout:1' }] },
          },
        },
      },
      {
        apiVersion: 'observability.vigil.dev/v1alpha1',
        kind: 'ObservabilityStack',
        metadata: { name: 'shop' },
        spec: {
          environment: 'test',
          size: 'demo',
          grafana: { enabled: false },
          correlation: { enabled: false },
          alerting: { receivers: [{ name: 'sink', webhook: { url: sink.url } }] },
        },
      },
      {
        apiVersion: 'observability.vigil.dev/v1alpha1',
        kind: 'RemediationPolicy',
        metadata: { name: 'restart-checkout' },
        spec: {
          stackRef: { name: 'shop' },
          match: { alertname: 'CheckoutDown', matchers: [{ name: 'severity', op: '=', value: 'critical' }] },
          target: { kind: 'Deployment' },
          action: { type: 'rolloutRestart' },
          guard: {
            maxActions: 2,
            window: '30m',
            cooldown: '5s',
            backoffFactor: 1,
            maxBackoff: '5s',
            blockFor: '30m',
            notifyReceiver: 'sink',
          },
          mode: 'Enforce',
        },
      },
    ]
      .map((d) => yaml.dump(d))
      .join('---\n'),
  );
  operator = await startOperator([
    '--namespaces',
    ns,
    '--remediation-token-secret',
    `${ns}/operator-token`,
    '--remediation-port',
    `127.0.0.1:${receiverPort}`,
    '--remediation-url',
    `http://127.0.0.1:${receiverPort}`,
    '--alertmanager-url',
    `http://127.0.0.1:${amPort}`,
  ]);
}, 120_000);

afterAll(async () => {
  await prometheus?.stop();
  await alertmanager?.stop();
  await operator?.stop();
  await series?.close();
  await sink?.close();
  operator?.printWarnings();
});

describe('an alert that a RemediationPolicy matches, through real Prometheus and Alertmanager', () => {
  let oldPods: string[];

  it('renders the stack so that its Alertmanager routes the alert to the operator, and accepts the policy', async () => {
    const config = await eventually(
      'the rendered alertmanager.yml to route to the receiver',
      () => {
        const r = kubectl([
          'get',
          'configmap',
          'shop-alertmanager',
          '-n',
          ns,
          '-o',
          'jsonpath={.data.alertmanager\\.yml}',
        ]);
        return r.code === 0 && r.stdout.includes('vigil-remediation') ? r.stdout : undefined;
      },
      60_000,
    );
    const copy = await eventually('the token copy in the namespace', () => {
      const r = kubectl(['get', 'secret', 'vigil-remediation-token', '-n', ns, '-o', 'jsonpath={.data.token}']);
      return r.code === 0 && r.stdout ? Buffer.from(r.stdout, 'base64').toString() : undefined;
    });
    expect(copy).toBe(TOKEN);
    // The only change to the rendered file: where the token is (a mounted Secret in a cluster).
    expect(config).toContain('credentials_file: /etc/alertmanager/remediation/token');
    const local = config.replace('/etc/alertmanager/remediation/token', 'token');
    // On the port the operator sends its Blocked notice to (--alertmanager-url).
    alertmanager = await startAlertmanager(local, { token: copy }, amPort);
    await eventually('the policy to be Ready', () => condition('Ready')?.status === 'True');
    expect(condition('Blocked')).toMatchObject({ status: 'False', reason: 'NoTargetBlocked' });
    oldPods = await eventually(
      'kwok to run two pods',
      () => (runningPods().length === 2 ? runningPods() : undefined),
      60_000,
    );
  }, 120_000);

  it('restarts the Deployment within a bounded time of the alert firing, and kwok replaces its pods', async () => {
    prometheus = await startPrometheus({
      targets: [series.target],
      alertmanager: `127.0.0.1:${amPort}`,
      rules: {
        groups: [
          {
            name: 'checkout',
            rules: [
              {
                alert: 'CheckoutDown',
                expr: 'checkout_up == 0',
                labels: { severity: 'critical', namespace: ns, deployment: 'checkout' },
              },
            ],
          },
        ],
      },
    });
    expect(restartedAt()).toBeUndefined();
    series.set(0);
    const firedAt = Date.now();
    const at = await eventually('a restartedAt on the pod template', () => restartedAt(), 45_000);
    const took = Date.now() - firedAt;
    process.stderr.write(`[vigil] remediation: restartedAt ${took} ms after the series went to 0\n`);
    expect(Date.parse(at)).toBeGreaterThanOrEqual(started.getTime() - 1000);
    const replaced = await eventually(
      'kwok to replace every pod',
      () => {
        const now = runningPods();
        return now.length === 2 && now.every((p) => !oldPods.includes(p)) ? now : undefined;
      },
      60_000,
    );
    expect(replaced).toHaveLength(2);
    expect(events('RemediationActed', 'Deployment').length).toBeGreaterThanOrEqual(1);
    expect(events('RemediationActed', 'RemediationPolicy').length).toBeGreaterThanOrEqual(1);
    // The operator's log reaches this process through a pipe: wait for it rather than read it once. On a
    // timeout the decisions it did log are in the error, to tell a missing line from a different result.
    const decided = () => operator.logs.filter((l) => l.msg === 'Decided remediation');
    await eventually(
      'the operator to log an acted decision',
      () => decided().some((l) => l.result === 'acted'),
      10_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; decisions logged: ${JSON.stringify(decided())}`);
    });
  }, 120_000);

  it('acts at most M times on an alert that stays firing, then blocks with an Event and one notice at the sink', async () => {
    await eventually('the breaker to open', () => condition('Blocked')?.status === 'True', 60_000);
    expect(condition('Blocked')).toMatchObject({
      reason: 'BreakerOpen',
      message: expect.stringContaining('Deployment/checkout until'),
    });
    expect(actedCount()).toBe(2);
    expect(events('RemediationBlocked', 'RemediationPolicy')).toHaveLength(1);
    const notices = () =>
      sink.received.filter(
        (r) =>
          r.body.status === 'firing' && r.body.alerts.some((a) => a.labels.alertname === 'VigilRemediationBlocked'),
      );
    await eventually('the Blocked notice at the sink', () => notices().length === 1, 30_000);
    expect(notices()[0].body.alerts[0].labels).toMatchObject({
      vigil_remediation_policy: 'restart-checkout',
      vigil_remediation_target: 'Deployment/checkout',
    });
    // Alertmanager keeps sending the still-firing alert every few seconds: nothing more happens.
    const before = restartedAt();
    await new Promise((r) => setTimeout(r, 15_000));
    expect(restartedAt()).toBe(before);
    expect(actedCount()).toBe(2);
    expect(notices()).toHaveLength(1);
    const patches = operatorWrites(started).filter(
      (w) => w.resource === 'deployments' && w.name === 'checkout' && w.verb === 'patch',
    );
    expect(patches).toHaveLength(2);
    expect(
      (await operator.metric(
        'vigil_remediation_decisions_total{policy="restart-checkout",action="rolloutRestart",result="acted"}',
      )) ?? 0,
    ).toBe(2);
    expect(
      (await operator.metric(
        'vigil_remediation_decisions_total{policy="restart-checkout",action="rolloutRestart",result="tripped"}',
      )) ?? 0,
    ).toBe(1);
  }, 120_000);

  it('acts again on a new firing once the alert resolved and the cooldown passed, and closes the breaker', async () => {
    const before = restartedAt();
    series.set(1);
    await eventually(
      'the resolve to reach the ledger',
      () => (policy().status?.targets ?? []).some((t: { lastResolvedAt?: string }) => t.lastResolvedAt),
      60_000,
    );
    expect(restartedAt()).toBe(before); // a resolved notification never acts
    await new Promise((r) => setTimeout(r, 6000)); // the cooldown
    series.set(0);
    const again = await eventually(
      'a new restartedAt',
      () => (restartedAt() !== before ? restartedAt() : undefined),
      60_000,
    );
    expect(Date.parse(again ?? '')).toBeGreaterThan(Date.parse(before ?? ''));
    await eventually('Blocked to turn False', () => condition('Blocked')?.status === 'False', 30_000);
    expect(events('RemediationUnblocked', 'RemediationPolicy').length).toBeGreaterThanOrEqual(1);
    series.set(1);
  }, 150_000);
});
