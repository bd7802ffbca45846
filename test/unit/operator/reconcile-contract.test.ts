// The reconcile contract (controller/outcome.ts): every branch of both reconcilers returns an
// outcome, and that outcome alone decides the status written (once, with observedGeneration), the
// Event and whether the work queue retries. The reconcilers run against FakeKube, a small fake of
// the calls they make.
import { beforeEach, describe, expect, it } from '@jest/globals';
import type { Condition } from '../../../api/types.js';
import { secretValues } from '../../../controller/generated-secret.js';
import { conditionsFor, isRetryable, type Outcome, ReconcileBug } from '../../../controller/outcome.js';
import { TerminalError } from '../../../controller/queue.js';
import { SLOReconciler } from '../../../controller/slo.js';
import { StackReconciler } from '../../../controller/stack.js';
import { API_GROUP_VERSION, KIND_SLO, KIND_STACK } from '../../../conventions/index.js';
import { checkResource, RenderBug } from '../../../desired/check.js';
import { renderStack } from '../../../desired/stack/index.js';
import { KubeError, type KubeObject } from '../../../kube/types.js';
import { anSLO, aStack } from '../../support/builders.js';
import { capturingLogger, FakeKube } from './fake-kube.js';

const NS = 'team';
const NOW = new Date('2026-01-02T03:04:05Z');

type Conds = Record<string, Pick<Condition, 'status' | 'reason' | 'message' | 'observedGeneration'>>;
const conditions = (o: KubeObject | undefined): Conds =>
  Object.fromEntries(
    // biome-ignore lint/suspicious/noExplicitAny: reading status loosely
    ((o?.status as any)?.conditions ?? []).map((c: Condition) => [
      c.type,
      { status: c.status, reason: c.reason, message: c.message, observedGeneration: c.observedGeneration },
    ]),
  );
// biome-ignore lint/suspicious/noExplicitAny: reading status loosely
const statusOf = (o: KubeObject | undefined) => (o?.status ?? {}) as any;
const failureOf = async (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (err: unknown) => err,
  );

/** Ready True ⇒ nothing progresses and nothing is wrong; Degraded True ⇒ not Ready. */
function expectConsistent(c: Conds) {
  if (c.Ready.status === 'True') {
    expect(c.Progressing.status).toBe('False');
    expect(c.Degraded.status).toBe('False');
  }
  if (c.Degraded.status === 'True') expect(c.Ready.status).toBe('False');
  if (c.Degraded.status === 'False') expect(c.Degraded.message).toBe('No problems.');
}

describe('conditionsFor (the rule for Ready, Progressing and Degraded)', () => {
  const outcomes: Record<string, Outcome> = {
    ready: { kind: 'ready', fields: {}, reason: 'AllComponentsReady', message: 'All components are available.' },
    progressing: { kind: 'progressing', fields: {}, reason: 'ComponentsNotReady', message: 'Waiting for grafana.' },
    problem: {
      kind: 'problem',
      reason: 'InvalidSpec',
      problems: [{ path: 'spec.size', message: 'must be one of demo, small' }],
      waitingFor: 'Waiting for the spec to be fixed.',
    },
    degraded: {
      kind: 'degraded',
      fields: {},
      reason: 'CollectionOverlap',
      problems: [{ path: 'spec.collector.collect', message: 'stack a/x also collects namespace(s) apps' }],
      waitingFor: 'The agent is not run until the overlap is removed.',
    },
    retryable: { kind: 'failed', reason: 'ApplyFailed', error: new Error('HTTP 503'), retryable: true },
    terminal: { kind: 'failed', reason: 'ApplyFailed', error: new Error('HTTP 422'), retryable: false },
  };
  const table = (o: Outcome) => conditionsFor(o).map((c) => `${c.type}=${c.status} ${c.reason}: ${c.message}`);

  it('derives all three from the outcome, one row per kind of outcome', () => {
    expect(Object.fromEntries(Object.entries(outcomes).map(([k, o]) => [k, table(o)]))).toEqual({
      ready: [
        'Ready=True AllComponentsReady: All components are available.',
        'Progressing=False ReconcileSucceeded: Up to date.',
        'Degraded=False AsExpected: No problems.',
      ],
      progressing: [
        'Ready=False ComponentsNotReady: Waiting for grafana.',
        'Progressing=True ComponentsNotReady: Waiting for grafana.',
        'Degraded=False AsExpected: No problems.',
      ],
      problem: [
        'Ready=False InvalidSpec: spec.size: must be one of demo, small',
        'Progressing=False InvalidSpec: Waiting for the spec to be fixed.',
        'Degraded=True InvalidSpec: spec.size: must be one of demo, small',
      ],
      degraded: [
        'Ready=False CollectionOverlap: spec.collector.collect: stack a/x also collects namespace(s) apps',
        'Progressing=False CollectionOverlap: The agent is not run until the overlap is removed.',
        'Degraded=True CollectionOverlap: spec.collector.collect: stack a/x also collects namespace(s) apps',
      ],
      retryable: [
        'Ready=False ApplyFailed: HTTP 503',
        'Progressing=True ApplyFailed: Retrying with backoff.',
        'Degraded=True ApplyFailed: HTTP 503',
      ],
      terminal: [
        'Ready=False ApplyFailed: HTTP 422',
        'Progressing=False ApplyFailed: Not retried until the object changes.',
        'Degraded=True ApplyFailed: HTTP 422',
      ],
    });
  });

  it('never lets the three contradict each other', () => {
    for (const o of Object.values(outcomes)) {
      expectConsistent(Object.fromEntries(conditionsFor(o).map((c) => [c.type, { ...c, observedGeneration: 1 }])));
    }
  });
});

describe('isRetryable', () => {
  const kube = (code: number, reason?: string) => new KubeError(`HTTP ${code}`, code, reason);

  it('retries what can succeed later: 408, 429, 5xx, an optimistic-concurrency conflict, the network', () => {
    for (const e of [kube(408), kube(429), kube(500), kube(503), kube(409, 'Conflict'), new Error('ECONNRESET')]) {
      expect([e.message, isRetryable(e)]).toEqual([e.message, true]);
    }
  });

  it('does not retry a permanent 4xx or a bug', () => {
    for (const e of [kube(400), kube(403), kube(404), kube(409, 'AlreadyExists'), kube(422), new ReconcileBug('x')]) {
      expect([e.message, isRetryable(e)]).toEqual([e.message, false]);
    }
  });
});

describe('the stack reconciler', () => {
  let fake: FakeKube;
  let logs: ReturnType<typeof capturingLogger>;
  let check: typeof checkResource;

  const reconciler = () =>
    new StackReconciler({
      kube: fake,
      getStack: (ns, name) => fake.cached(API_GROUP_VERSION, KIND_STACK, ns, name),
      log: logs.log,
      now: () => NOW,
      notReadyRecheckMs: 7_000,
      check: (doc, inputs) => check(doc, inputs),
    });
  const reconcile = () => reconciler().reconcile(NS, 'demo');
  const stack = () => fake.cached(API_GROUP_VERSION, KIND_STACK, NS, 'demo');
  const putStack = (spec: Record<string, unknown> = {}) =>
    fake.put({ ...(aStack(spec) as KubeObject), metadata: { name: 'demo', namespace: NS } });
  const childWrites = () => fake.writes.filter((w) => !w.startsWith('status '));

  beforeEach(() => {
    fake = new FakeKube();
    logs = capturingLogger();
    check = checkResource;
  });

  it('applies every child and reports Ready with observedGeneration, in one status write', async () => {
    putStack();
    await expect(reconcile()).resolves.toBeUndefined();
    const c = conditions(stack());
    expect(c.Ready).toEqual({
      status: 'True',
      reason: 'AllComponentsReady',
      message: 'All components are available.',
      observedGeneration: 1,
    });
    expect(c.Progressing).toMatchObject({ status: 'False', reason: 'ReconcileSucceeded' });
    expect(c.Degraded).toMatchObject({ status: 'False', reason: 'AsExpected' });
    expect(statusOf(stack()).observedGeneration).toBe(1);
    expect(Object.values(statusOf(stack()).components).every((x) => (x as { ready: boolean }).ready)).toBe(true);
    expect(fake.writes.filter((w) => w.startsWith('status '))).toEqual(['status observabilitystacks/demo']);
    // + the generated Secrets: Grafana's admin, the correlator's auth.
    expect(childWrites().length).toBe(renderStack(stack() as never).objects.length + 2);
    expect(fake.events).toEqual([]);
  });

  it('applies a Role or ClusterRole before the binding that names it, which the API server refuses until then', async () => {
    // The binding's apply would overtake the slower Role's among the concurrent applies.
    fake.applyLatency.Role = 30;
    fake.applyLatency.ClusterRole = 30;
    putStack({ metrics: { enabled: true, cluster: { nodeExporter: { enabled: true } } } });
    await expect(reconcile()).resolves.toBeUndefined();
    expect(conditions(stack()).Ready).toMatchObject({ status: 'True', reason: 'AllComponentsReady' });
    const order = childWrites();
    const bindings = order.filter((w) => /^apply (Cluster)?RoleBinding\//.test(w));
    expect(bindings.length).toBeGreaterThan(0);
    const lastRole = Math.max(...order.map((w, i) => (/^apply (Cluster)?Role\//.test(w) ? i : -1)));
    expect(order.indexOf(bindings[0])).toBeGreaterThan(lastRole);
  });

  it('writes nothing at all when nothing changed', async () => {
    putStack();
    await reconcile();
    const before = fake.writes.length;
    await expect(reconcile()).resolves.toBeUndefined();
    expect(fake.writes.length).toBe(before);
  });

  it('says Progressing, not Degraded, while replicas are not available yet, and looks again later', async () => {
    fake.available = false;
    putStack();
    await expect(reconcile()).resolves.toEqual({ requeueAfterMs: 7_000 });
    const c = conditions(stack());
    expect(c.Ready).toMatchObject({ status: 'False', reason: 'ComponentsNotReady' });
    expect(c.Ready.message).toMatch(/^Waiting for .*grafana/);
    expect(c.Progressing).toMatchObject({ status: 'True', reason: 'ComponentsNotReady' });
    expect(c.Degraded).toMatchObject({ status: 'False', message: 'No problems.' });
  });

  it('stays Ready with a replica short but quorum kept, and names the target below full strength', async () => {
    putStack({ correlation: { enabled: true, replicas: 3 } });
    await reconcile();
    // One of three correlators goes away; its PodDisruptionBudget (maxUnavailable 1) keeps a quorum of 2.
    const live = fake.cached('apps/v1', 'Deployment', NS, 'demo-correlator') as KubeObject;
    live.status = { ...(live.status as object), availableReplicas: 2, readyReplicas: 2 };
    await expect(reconcile()).resolves.toBeUndefined();
    expect(conditions(stack()).Ready).toMatchObject({
      status: 'True',
      reason: 'AllComponentsReady',
      message: 'All components have quorum; below full strength: correlator 2/3 (quorum 2).',
    });
    expect(statusOf(stack()).components.correlator.targets).toEqual({
      correlator: { ready: false, replicas: '2/3', quorum: 2 },
    });
    // One more gone: below quorum is not Ready.
    live.status = { ...(live.status as object), availableReplicas: 1, readyReplicas: 1 };
    await expect(reconcile()).resolves.toEqual({ requeueAfterMs: 7_000 });
    expect(conditions(stack()).Ready).toMatchObject({ status: 'False', reason: 'ComponentsNotReady' });
  });

  it('reports a spec the schema refuses as InvalidSpec with the field, with one Event, and applies nothing', async () => {
    putStack({ size: 'huge' });
    await expect(reconcile()).resolves.toBeUndefined();
    const c = conditions(stack());
    expect(c.Degraded).toMatchObject({ status: 'True', reason: 'InvalidSpec', observedGeneration: 1 });
    expect(c.Degraded.message).toContain('spec.size');
    expect(c.Ready).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
    expect(c.Progressing).toMatchObject({ status: 'False', message: 'Waiting for the spec to be fixed.' });
    expect(childWrites()).toEqual([]);
    expect(fake.events.map((e) => [e.type, e.reason])).toEqual([['Warning', 'InvalidSpec']]);
    await reconcile();
    expect(fake.events.length).toBe(1);
  });

  it('refuses, as vigil validate does, a stack whose children would get names Kubernetes refuses', async () => {
    fake.put({ ...(aStack({}, 'a'.repeat(60)) as KubeObject), metadata: { name: 'a'.repeat(60), namespace: NS } });
    await expect(reconciler().reconcile(NS, 'a'.repeat(60))).resolves.toBeUndefined();
    const c = conditions(fake.cached(API_GROUP_VERSION, KIND_STACK, NS, 'a'.repeat(60)));
    expect(c.Degraded).toMatchObject({ status: 'True', reason: 'InvalidSpec' });
    expect(c.Degraded.message).toMatch(/^metadata\.name: /);
    expect(childWrites()).toEqual([]);
  });

  it('reports a render problem as InvalidSpec and leaves the running children and their status as they are', async () => {
    putStack();
    await reconcile();
    const components = statusOf(stack()).components;
    const before = childWrites().length;
    fake.editSpec(stack() as KubeObject, (s) => {
      s.logs = { enabled: true };
      s.objectStorage = { s3: { endpoint: 'minio.storage:9000', bucket: 'vigil-logs' } };
    });
    await expect(reconcile()).resolves.toBeUndefined();
    const c = conditions(stack());
    expect(c.Degraded).toMatchObject({ status: 'True', reason: 'InvalidSpec', observedGeneration: 2 });
    expect(c.Degraded.message).toContain('spec.objectStorage.s3.secretRef');
    expect(c.Ready.status).toBe('False');
    expect(childWrites().length).toBe(before);
    expect(statusOf(stack()).components).toEqual(components);
    expect(statusOf(stack()).observedGeneration).toBe(2);
  });

  it('waits for a missing Secret, naming the field, and proceeds once it exists', async () => {
    putStack({ grafana: { enabled: true, adminSecretRef: { name: 'admin' } } });
    await expect(reconcile()).resolves.toEqual({ requeueAfterMs: 15_000 });
    const c = conditions(stack());
    expect(c.Degraded).toMatchObject({ status: 'True', reason: 'SecretMissing' });
    expect(c.Degraded.message).toBe(`spec.grafana.adminSecretRef.name: Secret "admin" not found in ${NS}`);
    expect(c.Progressing).toMatchObject({ status: 'False', message: 'Waiting for the Secrets.' });
    fake.put({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'admin', namespace: NS }, data: {} });
    await expect(reconcile()).resolves.toBeUndefined();
    expect(conditions(stack()).Ready.status).toBe('True');
    expect(conditions(stack()).Degraded).toMatchObject({ status: 'False', message: 'No problems.' });
  });

  describe("the correlator's auth Secret", () => {
    const secretOf = (name: string) => fake.cached('v1', 'Secret', NS, name) as KubeObject | undefined;
    const values = (name: string) => secretValues(secretOf(name));
    const header = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
    const putSecret = (name: string, v: Record<string, string>) =>
      fake.put({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace: NS },
        data: Object.fromEntries(Object.entries(v).map(([k, x]) => [k, Buffer.from(x).toString('base64')])),
      } as KubeObject);

    it('is generated once with three keys that agree, and never rotated by a reconcile (nor is Grafana’s)', async () => {
      putStack();
      await reconcile();
      const first = values('demo-correlator-auth');
      const grafana = values('demo-grafana-admin');
      expect(grafana['admin-user']).toBe('admin');
      expect(grafana['admin-password']).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(Object.keys(first).sort()).toEqual(['authorization', 'password', 'username']);
      expect(first.username).toBe('vigil');
      expect(first.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(first.authorization).toBe(header('vigil', first.password));
      expect(secretOf('demo-correlator-auth')?.metadata.ownerReferences?.[0]).toMatchObject({
        kind: 'ObservabilityStack',
        controller: true,
      });
      const writes = childWrites().length;
      await reconcile();
      await reconcile();
      expect(values('demo-correlator-auth')).toEqual(first);
      expect(values('demo-grafana-admin')).toEqual(grafana);
      expect(childWrites().length).toBe(writes);
      expect(JSON.stringify(logs.lines)).not.toContain(first.password);
    });

    it('keeps a password changed by hand and makes the header follow it', async () => {
      putStack();
      await reconcile();
      putSecret('demo-correlator-auth', { ...values('demo-correlator-auth'), password: 'rotated-by-hand' });
      await reconcile();
      expect(values('demo-correlator-auth')).toEqual({
        username: 'vigil',
        password: 'rotated-by-hand',
        authorization: header('vigil', 'rotated-by-hand'),
      });
    });

    it('is replaced by a generated value where a key was emptied by hand', async () => {
      putStack();
      await reconcile();
      putSecret('demo-correlator-auth', { username: '', password: '' });
      await reconcile();
      const v = values('demo-correlator-auth');
      expect(v.username).toBe('vigil');
      expect(v.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(v.authorization).toBe(header('vigil', v.password));
    });

    it('is not generated when the spec names one, which is used as it is', async () => {
      putSecret('team-auth', { username: 'u', password: 'p', authorization: header('u', 'p') });
      putStack({ correlation: { enabled: true, basicAuthSecretRef: { name: 'team-auth' } } });
      await reconcile();
      expect(conditions(stack()).Ready.status).toBe('True');
      expect(secretOf('demo-correlator-auth')).toBeUndefined();
      expect(childWrites()).not.toContain('apply Secret/team-auth');
    });

    it.each([
      ['missing', undefined, 'SecretMissing', `Secret "team-auth" not found in ${NS}`],
      [
        'without its header',
        { username: 'u', password: 'p' },
        'SecretMissing',
        'Secret "team-auth" has no key "authorization"',
      ],
      [
        'with an empty password',
        { username: 'u', password: '', authorization: header('u', '') },
        'SecretInvalid',
        'Secret "team-auth" key "password" is empty',
      ],
      [
        'with a colon in its username',
        { username: 'u:v', password: 'p', authorization: header('u:v', 'p') },
        'SecretInvalid',
        'Secret "team-auth" key "username" contains ":", which Basic auth cannot carry',
      ],
      [
        'with a header for another password',
        { username: 'u', password: 'p', authorization: header('u', 'q') },
        'SecretInvalid',
        'Secret "team-auth" key "authorization" is not "Basic " + base64(username:password) of its username and password keys',
      ],
    ])(
      'named by the spec but %s: Degraded naming the Secret and key, nothing running touched',
      async (_w, v, reason, message) => {
        putStack();
        await reconcile();
        const before = childWrites();
        if (v) putSecret('team-auth', v);
        fake.editSpec(stack() as KubeObject, (s) => {
          s.correlation = {
            enabled: true,
            windowSeconds: 60,
            batchSize: 5000,
            basicAuthSecretRef: { name: 'team-auth' },
          };
        });
        await expect(reconcile()).resolves.toEqual({ requeueAfterMs: 15_000 });
        const c = conditions(stack());
        expect(c.Degraded).toMatchObject({ status: 'True', reason, observedGeneration: 2 });
        expect(c.Degraded.message).toBe(`spec.correlation.basicAuthSecretRef.name: ${message}`);
        expect(c.Ready).toMatchObject({ status: 'False', reason });
        expect(childWrites()).toEqual(before);
        expect(secretOf('demo-correlator-auth')).toBeDefined();
        // Fixed: the stack proceeds with the named Secret.
        putSecret('team-auth', { username: 'u', password: 'p', authorization: header('u', 'p') });
        await expect(reconcile()).resolves.toBeUndefined();
        expect(conditions(stack()).Ready.status).toBe('True');
      },
    );
  });

  it('waits for a key the S3 Secret lacks and for the Grafana database password, naming each field', async () => {
    putStack({
      logs: { enabled: true },
      grafana: {
        enabled: true,
        replicas: 2,
        database: {
          type: 'postgres',
          host: 'pg:5432',
          name: 'grafana',
          user: 'grafana',
          passwordSecretRef: { name: 'pg', key: 'password' },
        },
      },
      objectStorage: { s3: { endpoint: 'minio.storage:9000', bucket: 'vigil-logs', secretRef: { name: 's3' } } },
    });
    fake.put({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's3', namespace: NS },
      data: { AWS_ACCESS_KEY_ID: 'YQ==' },
    });
    await expect(reconcile()).resolves.toEqual({ requeueAfterMs: 15_000 });
    const c = conditions(stack());
    expect(c.Degraded).toMatchObject({ status: 'True', reason: 'SecretMissing' });
    expect(c.Degraded.message).toBe(
      `spec.objectStorage.s3.secretRef.name: Secret "s3" has no key "AWS_SECRET_ACCESS_KEY"; spec.grafana.database.passwordSecretRef: Secret "pg" not found in ${NS}`,
    );
  });

  it('finds no key named like an Object member in a Secret that lacks it (constructor, __proto__)', async () => {
    putStack({
      correlation: {
        enabled: true,
        datadog: { apiKeySecretRef: { name: 'dd', key: 'constructor' }, site: 'datadoghq.eu' },
      },
    });
    fake.put({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'dd', namespace: NS },
      data: { 'api-key': 'YQ==' },
    });
    await expect(reconcile()).resolves.toEqual({ requeueAfterMs: 15_000 });
    expect(conditions(stack()).Degraded.message).toBe(
      'spec.correlation.datadog.apiKeySecretRef: Secret "dd" has no key "constructor"',
    );
  });

  it('a large stack without object storage runs with single binaries and says so in ScalingLimited', async () => {
    putStack({ size: 'large', logs: { enabled: true } });
    await expect(reconcile()).resolves.toBeUndefined();
    const c = conditions(stack());
    expect(c.Ready.status).toBe('True');
    expect(c.ScalingLimited).toMatchObject({ status: 'True', reason: 'NoObjectStorage' });
    expect(c.ScalingLimited.message).toContain('spec.objectStorage.s3');
  });

  it('reports an exception in render as a ReconcileError bug, logged with its stack, and does not retry it', async () => {
    putStack();
    check = () => {
      throw new TypeError("Cannot read properties of undefined (reading 'port')");
    };
    const err = await failureOf(reconcile());
    expect(err).toBeInstanceOf(TerminalError);
    const c = conditions(stack());
    expect(c.Degraded).toMatchObject({ status: 'True', reason: 'ReconcileError' });
    expect(c.Degraded.message).toContain("reading 'port'");
    expect(c.Degraded.message).toContain('bug in Vigil');
    expect(c.Ready).toMatchObject({ status: 'False', reason: 'ReconcileError' });
    expect(c.Progressing).toMatchObject({ status: 'False', message: 'Not retried until the object changes.' });
    expect(Object.values(c).some((x) => x.reason === 'InvalidSpec')).toBe(false);
    const bug = logs.lines.find((l) => l.level === 50) as { msg: string; err: { stack: string } };
    expect(bug.msg).toBe('Failed to reconcile ObservabilityStack: a bug in Vigil');
    expect(bug.err.stack).toContain('TypeError');
    expect(fake.events.map((e) => e.reason)).toEqual(['ReconcileError']);
    expect(childWrites()).toEqual([]);
  });

  it('reports an exception that render caught itself (a RenderBug) as a ReconcileError too, not as InvalidSpec', async () => {
    putStack();
    check = () => {
      throw new RenderBug('boom');
    };
    expect(await failureOf(reconcile())).toBeInstanceOf(TerminalError);
    expect(conditions(stack()).Degraded).toMatchObject({ status: 'True', reason: 'ReconcileError' });
    expect(conditions(stack()).Degraded.message).toMatch(/^Rendering failed: boom\. This is a bug in Vigil/);
  });

  it('refuses to apply a kind it does not manage (it could never prune it), as a bug', async () => {
    putStack();
    check = (doc, inputs) => {
      const c = checkResource(doc, inputs);
      if (c.ok && c.kind === KIND_STACK) c.objects.push({ ...c.objects[0], apiVersion: 'batch/v1', kind: 'CronJob' });
      return c;
    };
    expect(await failureOf(reconcile())).toBeInstanceOf(TerminalError);
    expect(conditions(stack()).Degraded.reason).toBe('ReconcileError');
    expect(conditions(stack()).Degraded.message).toContain('batch/v1 CronJob');
    expect(childWrites()).toEqual([]);
  });

  it('turns a Ready stack not Ready and Degraded on a transient apply error, and keeps retrying it', async () => {
    putStack();
    await reconcile();
    const components = statusOf(stack()).components;
    fake.editSpec(stack() as KubeObject, (s) => {
      s.metrics = { retention: '30d' };
    });
    const unavailable = new KubeError('apply StatefulSet team/demo-prometheus: HTTP 503', 503);
    fake.failures.apply = unavailable;
    const err = await failureOf(reconcile());
    expect(err).toBe(unavailable); // thrown as is: the queue backs off and retries
    const c = conditions(stack());
    expect(c.Ready).toMatchObject({ status: 'False', reason: 'ApplyFailed', observedGeneration: 2 });
    expect(c.Progressing).toMatchObject({ status: 'True', message: 'Retrying with backoff.' });
    expect(c.Degraded).toMatchObject({ status: 'True', reason: 'ApplyFailed', message: unavailable.message });
    expectConsistent(c);
    expect(statusOf(stack()).components).toEqual(components);
    delete fake.failures.apply;
    await expect(reconcile()).resolves.toBeUndefined();
    expect(conditions(stack()).Ready.status).toBe('True');
    expect(conditions(stack()).Degraded.status).toBe('False');
  });

  it('does not retry an apply the API server refuses for good (403, 422)', async () => {
    for (const code of [403, 422]) {
      fake = new FakeKube();
      putStack();
      fake.failures.apply = (target) =>
        target.startsWith('Role/') ? new KubeError(`apply ${target}: HTTP ${code}`, code) : undefined;
      const err = await failureOf(reconcile());
      expect(err).toBeInstanceOf(TerminalError);
      const c = conditions(stack());
      expect([code, c.Degraded.status, c.Degraded.reason]).toEqual([code, 'True', 'ApplyFailed']);
      expect(c.Progressing).toMatchObject({ status: 'False', message: 'Not retried until the object changes.' });
      expect(fake.events.map((e) => e.reason)).toEqual(['ApplyFailed']);
    }
  });

  it('retries when the API server cannot be reached while reading what it needs', async () => {
    putStack();
    fake.failures.list = new Error('list Deployment in team: Error: connect ECONNREFUSED');
    const err = await failureOf(reconcile());
    expect(err).not.toBeInstanceOf(TerminalError);
    expect(conditions(stack()).Ready).toMatchObject({ status: 'False', reason: 'ApplyFailed' });
  });

  it('retries a status write that failed for now, and gives up on one refused for good', async () => {
    putStack();
    fake.failures.patchStatus = new KubeError('HTTP 500', 500);
    expect(await failureOf(reconcile())).toBeInstanceOf(KubeError);
    fake.failures.patchStatus = new KubeError('HTTP 404', 404);
    expect(await failureOf(reconcile())).toBeInstanceOf(TerminalError);
  });

  it('leaves a stack that is gone or being deleted alone', async () => {
    await expect(reconcile()).resolves.toBeUndefined();
    putStack();
    (stack() as KubeObject).metadata.deletionTimestamp = NOW.toISOString();
    await expect(reconcile()).resolves.toBeUndefined();
    expect(fake.writes).toEqual([]);
  });
});

describe('the SLO reconciler', () => {
  let fake: FakeKube;
  let logs: ReturnType<typeof capturingLogger>;
  let promUp: boolean;
  let fetched: string[];
  let check: typeof checkResource;
  let slos: SLOReconciler;

  const makeReconciler = () =>
    new SLOReconciler({
      kube: fake,
      getSLO: (ns, name) => fake.cached(API_GROUP_VERSION, KIND_SLO, ns, name),
      getStack: (ns, name) => fake.cached(API_GROUP_VERSION, KIND_STACK, ns, name),
      log: logs.log,
      now: () => NOW,
      budgetIntervalMs: 60_000,
      fetch: async (url) => {
        fetched.push(url);
        if (!promUp) throw new Error('connect ECONNREFUSED');
        const value = url.includes('burn_rate') ? '0.5' : '0.75';
        return {
          ok: true,
          status: 200,
          json: async () => ({ status: 'success', data: { result: [{ value: [0, value] }] } }),
        };
      },
      check: (doc, inputs) => check(doc, inputs),
    });
  const reconcile = () => slos.reconcile(NS, 'checkout-availability');
  const slo = () => fake.cached(API_GROUP_VERSION, KIND_SLO, NS, 'checkout-availability') as KubeObject;
  const putSLO = (spec: Record<string, unknown> = {}) =>
    fake.put({ ...(anSLO(spec) as KubeObject), metadata: { name: 'checkout-availability', namespace: NS } });
  const putStack = (ready: boolean, spec: Record<string, unknown> = {}) =>
    fake.put({
      ...(aStack(spec) as KubeObject),
      metadata: { name: 'demo', namespace: NS },
      status: {
        conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason: 'R', message: 'm' }],
        endpoints: { prometheus: 'http://demo-prometheus.team.svc:9090' },
      },
    });
  const childWrites = () => fake.writes.filter((w) => !w.startsWith('status '));

  beforeEach(() => {
    fake = new FakeKube();
    logs = capturingLogger();
    promUp = true;
    fetched = [];
    check = checkResource;
    slos = makeReconciler();
  });
  it('reads the budget from the Prometheus the stack spec renders, not from a URL in its status', async () => {
    fake.put({
      ...(aStack({}) as KubeObject),
      metadata: { name: 'demo', namespace: NS },
      status: {
        conditions: [{ type: 'Ready', status: 'True', reason: 'R', message: 'm' }],
        endpoints: { prometheus: 'http://attacker.example:9090' },
      },
    });
    putSLO();
    await reconcile();
    expect(fetched.length).toBeGreaterThan(0);
    for (const url of fetched) expect(url.startsWith('http://demo-prometheus.team.svc:9090/')).toBe(true);
  });

  it('reads the budget of an HA pair from the deduplicating Thanos Query its spec renders', async () => {
    fake.put({
      ...(aStack({ size: 'medium' }) as KubeObject),
      metadata: { name: 'demo', namespace: NS },
      status: { conditions: [{ type: 'Ready', status: 'True', reason: 'R', message: 'm' }] },
    });
    putSLO();
    await reconcile();
    expect(fetched.length).toBeGreaterThan(0);
    for (const url of fetched)
      expect(url.startsWith('http://demo-thanos-query.team.svc:10902/api/v1/query?')).toBe(true);
  });

  it('writes the rules and dashboard, owned by the SLO, and reports Ready with the live budget', async () => {
    putStack(true);
    putSLO();
    await expect(reconcile()).resolves.toEqual({ requeueAfterMs: 60_000 });
    const c = conditions(slo());
    expect(c.Ready).toMatchObject({ status: 'True', reason: 'RulesGenerated', observedGeneration: 1 });
    expect(c.Ready.message).toMatch(/^\d+ rules loaded by demo\.$/);
    expect(c.Progressing.status).toBe('False');
    expect(c.Degraded).toMatchObject({ status: 'False', message: 'No problems.' });
    expect(c.BudgetCurrent).toMatchObject({ status: 'True', reason: 'BudgetRead' });
    const st = statusOf(slo());
    expect(st.budget).toEqual({ remainingPercent: '75.0', burnRate: '0.50', observedAt: NOW.toISOString() });
    expect(st.ruleCount).toBeGreaterThan(10);
    expect(st.dashboard).toBe('vigil-slo-checkout-availability-dashboard');
    expect(childWrites().sort()).toEqual([
      'apply ConfigMap/vigil-slo-checkout-availability-dashboard',
      'apply ConfigMap/vigil-slo-checkout-availability-rules',
    ]);
    for (const cm of fake.all('ConfigMap'))
      expect(cm.metadata.ownerReferences?.[0]).toMatchObject({
        kind: 'SLO',
        uid: slo().metadata.uid,
        controller: true,
      });
    const before = fake.writes.length;
    await reconcile();
    expect(fake.writes.length).toBe(before);
  });

  it('says Progressing while its stack is not Ready, with the rules already written', async () => {
    putStack(false);
    putSLO();
    await expect(reconcile()).resolves.toEqual({ requeueAfterMs: 30_000 });
    const c = conditions(slo());
    expect(c.Ready).toMatchObject({ status: 'False', reason: 'StackNotReady' });
    expect(c.Progressing).toMatchObject({ status: 'True', reason: 'StackNotReady' });
    expect(c.Degraded).toMatchObject({ status: 'False', message: 'No problems.' });
    expect(childWrites().length).toBe(2);
  });

  it('names the missing stack, writes nothing, and looks again later', async () => {
    putSLO();
    await expect(reconcile()).resolves.toEqual({ requeueAfterMs: 30_000 });
    const c = conditions(slo());
    expect(c.Degraded).toMatchObject({ status: 'True', reason: 'StackNotFound' });
    expect(c.Degraded.message).toBe(`spec.stackRef.name: ObservabilityStack "demo" not found in ${NS}`);
    expect(c.Progressing).toMatchObject({ status: 'False', message: 'Waiting for the stack.' });
    expect(childWrites()).toEqual([]);
    expect(fake.events.map((e) => e.reason)).toEqual(['StackNotFound']);
  });

  it('refuses a stack whose metrics are off: no Prometheus would load the rules', async () => {
    putStack(true, { metrics: { enabled: false } });
    putSLO();
    await expect(reconcile()).resolves.toBeUndefined();
    expect(conditions(slo()).Degraded).toMatchObject({ status: 'True', reason: 'InvalidSpec' });
    expect(conditions(slo()).Degraded.message).toContain('metrics disabled');
  });

  it('reports a query that is not PromQL as InvalidSpec and keeps the rules already loaded', async () => {
    putStack(true);
    putSLO();
    await reconcile();
    const before = childWrites().length;
    const ruleCount = statusOf(slo()).ruleCount;
    fake.editSpec(slo(), (s) => {
      (s.indicator as { ratio: { errors: string } }).ratio.errors = 'sum(rate(x[{{window}}])';
    });
    await expect(reconcile()).resolves.toBeUndefined();
    const c = conditions(slo());
    expect(c.Degraded).toMatchObject({ status: 'True', reason: 'InvalidSpec', observedGeneration: 2 });
    expect(c.Degraded.message).toContain('spec.indicator.ratio.errors');
    expect(c.Ready.status).toBe('False');
    expect(childWrites().length).toBe(before);
    expect(statusOf(slo()).ruleCount).toBe(ruleCount);
  });

  it('turns a Ready SLO not Ready when applying its rules fails, and retries', async () => {
    putStack(true);
    putSLO();
    await reconcile();
    expect(conditions(slo()).Ready.status).toBe('True');
    fake.editSpec(slo(), (s) => {
      s.objective = 99.5;
    });
    fake.failures.apply = new KubeError('apply ConfigMap: HTTP 500', 500);
    const err = await failureOf(reconcile());
    expect(err).toBeInstanceOf(KubeError);
    const c = conditions(slo());
    expect(c.Ready).toMatchObject({ status: 'False', reason: 'ApplyFailed', observedGeneration: 2 });
    expect(c.Progressing).toMatchObject({ status: 'True', reason: 'ApplyFailed' });
    expect(c.Degraded).toMatchObject({ status: 'True', reason: 'ApplyFailed' });
  });

  it('does not retry an apply refused for good', async () => {
    putStack(true);
    putSLO();
    fake.failures.apply = new KubeError('apply ConfigMap: HTTP 403 Forbidden', 403, 'Forbidden');
    expect(await failureOf(reconcile())).toBeInstanceOf(TerminalError);
    expect(conditions(slo()).Progressing).toMatchObject({ status: 'False', reason: 'ApplyFailed' });
  });

  it('reports an exception in rule generation as a ReconcileError bug', async () => {
    putStack(true);
    putSLO();
    check = () => {
      throw new RangeError('Invalid array length');
    };
    expect(await failureOf(reconcile())).toBeInstanceOf(TerminalError);
    const c = conditions(slo());
    expect(c.Degraded).toMatchObject({ status: 'True', reason: 'ReconcileError' });
    expect(c.Degraded.message).toContain('Invalid array length');
    expect(c.Degraded.message).toContain('bug in Vigil');
    expect(logs.lines.some((l) => l.level === 50)).toBe(true);
  });

  it('writes a PrometheusRule when asked and served, prunes it when no longer asked, and says so when not served', async () => {
    putStack(true);
    putSLO({ prometheusRule: true });
    await reconcile();
    expect(conditions(slo()).Ready.message).toContain('The PrometheusRule CRD is not installed');
    expect(fake.all('PrometheusRule')).toEqual([]);
    fake.served.add('monitoring.coreos.com/v1/PrometheusRule');
    fake.editSpec(slo(), () => undefined);
    await reconcile();
    expect(fake.all('PrometheusRule').map((o) => o.metadata.name)).toEqual(['vigil-slo-checkout-availability']);
    expect(conditions(slo()).Ready.message).not.toContain('PrometheusRule');
    fake.editSpec(slo(), (s) => {
      s.prometheusRule = false;
    });
    await reconcile();
    expect(fake.all('PrometheusRule')).toEqual([]);
    expect(fake.writes).toContain('delete PrometheusRule/vigil-slo-checkout-availability');
  });

  it('keeps the last budget, saying since when, while Prometheus does not answer, and stays Ready', async () => {
    putStack(true);
    putSLO();
    await reconcile();
    const budget = statusOf(slo()).budget;
    promUp = false;
    slos = makeReconciler(); // a fresh reconciler: no remembered failure
    await reconcile();
    const c = conditions(slo());
    expect(c.BudgetCurrent).toMatchObject({ status: 'False', reason: 'PrometheusUnavailable' });
    expect(c.BudgetCurrent.message).toContain(`budget values are from ${budget.observedAt}`);
    expect(c.Ready.status).toBe('True');
    expect(statusOf(slo()).budget).toEqual(budget);
  });
});
