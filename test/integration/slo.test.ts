// The SLO reconciler against the real control plane, and the live budget against a real Prometheus
// (Debian's package) that loads the very rule ConfigMap the operator wrote.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { loadDocs } from '../../cli/files.js';
import { freshNamespace, kubectl, kubectlOk } from '../support/kubectl.js';
import { eventually, freePort, type RunningOperator, startOperator } from '../support/operator.js';
import { EXAMPLES_DIR } from '../support/paths.js';

let ns: string;
let operator: RunningOperator;
let metricsServer: Server;
let prometheus: ChildProcess | undefined;
let promPort: number;
let dir: string;

const status = (name: string) => {
  const r = kubectl(['get', 'slo', name, '-n', ns, '-o', 'json']);
  return r.code === 0 ? JSON.parse(r.stdout) : undefined;
};
const cond = (name: string, type: string) =>
  status(name)?.status?.conditions?.find((c: { type: string }) => c.type === type) as
    | { status: string; reason: string; message: string; observedGeneration: number }
    | undefined;
const sloDoc = (file: string, patch: (d: Record<string, unknown>) => void = () => undefined) => {
  const [{ doc }] = loadDocs(join(EXAMPLES_DIR, file));
  patch(doc as Record<string, unknown>);
  return yaml.dump(doc);
};

beforeAll(async () => {
  ns = freshNamespace('slo');
  dir = mkdtempSync(join(tmpdir(), 'vigil-slo-'));
  // checkout: 100 requests/s, 0.05/s of them 5xx → error ratio 0.0005, half the 99.9% budget's rate.
  const started = Date.now();
  metricsServer = createServer((_req, res) => {
    const s = (Date.now() - started) / 1000;
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(
      `# TYPE http_requests_total counter\nhttp_requests_total{code="200"} ${(s * 99.95).toFixed(3)}\nhttp_requests_total{code="500"} ${(s * 0.05).toFixed(3)}\n`,
    );
  });
  const targetPort = await freePort();
  await new Promise<void>((r) => metricsServer.listen(targetPort, '127.0.0.1', r));
  promPort = await freePort();
  writeFileSync(
    join(dir, 'prometheus.yml'),
    yaml.dump({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [join(dir, 'rules', '*.yaml')],
      scrape_configs: [{ job_name: 'checkout', static_configs: [{ targets: [`127.0.0.1:${targetPort}`] }] }],
    }),
  );
  operator = await startOperator([
    '--namespaces',
    ns,
    '--prometheus-url',
    `http://127.0.0.1:${promPort}`,
    '--budget-interval-seconds',
    '5',
  ]);
  kubectlOk(['apply', '-n', ns, '-f', join(EXAMPLES_DIR, 'full.yaml')]);
  // A bound on the wait, not a speed check: on a loaded 2-core machine the full stack's pods (kwok)
  // took longer than 90 s once; alone it is Ready in a few seconds.
  expect(kubectl(['wait', '-n', ns, '--for=condition=Ready', '--timeout=170s', 'ostack/full']).code).toBe(0);
}, 240_000);

afterAll(async () => {
  prometheus?.kill('SIGKILL');
  metricsServer?.close();
  await operator?.stop();
  operator?.printWarnings();
  rmSync(dir, { recursive: true, force: true });
});

describe('the SLO reconciler', () => {
  it('writes the rule and dashboard ConfigMaps for the stack and reports them in status', async () => {
    kubectlOk(['apply', '-n', ns, '-f', join(EXAMPLES_DIR, 'slo-ratio.yaml')]);
    const ready = await eventually('Ready', () =>
      cond('checkout-availability', 'Ready')?.status === 'True' ? true : undefined,
    );
    expect(ready).toBe(true);
    const st = status('checkout-availability').status;
    expect(st.ruleCount).toBeGreaterThan(10);
    expect(st.dashboard).toBe('vigil-slo-checkout-availability-dashboard');
    const rules = JSON.parse(
      kubectlOk(['get', 'configmap', 'vigil-slo-checkout-availability-rules', '-n', ns, '-o', 'json']),
    );
    expect(rules.metadata.labels['vigil.dev/rules-for']).toBe('full');
    expect(rules.metadata.ownerReferences[0]).toMatchObject({
      kind: 'SLO',
      name: 'checkout-availability',
      controller: true,
    });
    const dash = JSON.parse(kubectlOk(['get', 'configmap', st.dashboard, '-n', ns, '-o', 'json']));
    expect(dash.metadata.labels.grafana_dashboard).toBe('1');
  });

  it('puts the budget the stack Prometheus computes from the loaded rules into status', async () => {
    // Prometheus loads exactly what the operator wrote into the rule ConfigMap.
    const cm = JSON.parse(
      kubectlOk(['get', 'configmap', 'vigil-slo-checkout-availability-rules', '-n', ns, '-o', 'json']),
    );
    const rulesDir = join(dir, 'rules');
    mkdirSync(rulesDir, { recursive: true });
    for (const [key, content] of Object.entries(cm.data as Record<string, string>))
      writeFileSync(join(rulesDir, key), content);
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { stdio: 'ignore' },
    );
    const query = async (q: string) => {
      const r = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`);
      const body = (await r.json()) as { data: { result: { value: [number, string] }[] } };
      return body.data.result[0] ? Number(body.data.result[0].value[1]) : undefined;
    };
    const sel = `{slo="checkout-availability",slo_namespace="${ns}"}`;
    await eventually(
      'Prometheus to compute the budget',
      async () => (await query(`slo:period_error_budget_remaining:ratio${sel}`)) !== undefined,
      90_000,
      1000,
    );
    const budget = await eventually(
      'status.budget',
      () => {
        const b = status('checkout-availability')?.status?.budget;
        return b?.remainingPercent !== undefined ? b : undefined;
      },
      60_000,
      1000,
    );
    const fromProm = (await query(`slo:period_error_budget_remaining:ratio${sel}`)) as number;
    // Same number, give or take the drift between the two reads (status is rounded to 0.1%).
    expect(Math.abs(Number(budget.remainingPercent) - fromProm * 100)).toBeLessThan(5);
    expect(Number(budget.remainingPercent)).toBeGreaterThan(20);
    expect(Number(budget.remainingPercent)).toBeLessThan(80);
    expect(cond('checkout-availability', 'BudgetCurrent')).toMatchObject({ status: 'True', reason: 'BudgetRead' });
  });

  it('keeps the last budget and says since when once Prometheus stops answering', async () => {
    const before = status('checkout-availability').status.budget;
    prometheus?.kill('SIGKILL');
    const c = await eventually('PrometheusUnavailable', () => {
      const x = cond('checkout-availability', 'BudgetCurrent');
      return x?.reason === 'PrometheusUnavailable' ? x : undefined;
    });
    expect(c.message).toContain(before.observedAt);
    expect(status('checkout-availability').status.budget).toEqual(before);
  });

  it('says which stack is missing, and proceeds once it exists', async () => {
    kubectlOk(
      ['apply', '-n', ns, '-f', '-'],
      sloDoc('slo-latency.yaml', (d) => ((d.spec as { stackRef: { name: string } }).stackRef.name = 'later')),
    );
    const c = await eventually('StackNotFound', () => {
      const x = cond('checkout-latency', 'Degraded');
      return x?.reason === 'StackNotFound' ? x : undefined;
    });
    expect(c.message).toContain('spec.stackRef.name');
    const core = loadDocs(join(EXAMPLES_DIR, 'core.yaml'))[0].doc as { metadata: { name: string } };
    core.metadata.name = 'later';
    kubectlOk(['apply', '-n', ns, '-f', '-'], yaml.dump(core));
    await eventually(
      'Ready once the stack is',
      () => cond('checkout-latency', 'Ready')?.status === 'True',
      90_000,
      1000,
    );
  });

  it('reports a query that is not PromQL as Degraded naming the field, and keeps every rule already loaded', async () => {
    const otherBefore = kubectlOk([
      'get',
      'configmap',
      'vigil-slo-checkout-latency-rules',
      '-n',
      ns,
      '-o',
      'jsonpath={.metadata.resourceVersion}',
    ]);
    const ownBefore = kubectlOk([
      'get',
      'configmap',
      'vigil-slo-checkout-availability-rules',
      '-n',
      ns,
      '-o',
      'jsonpath={.data}',
    ]);
    kubectlOk([
      'patch',
      'slo',
      'checkout-availability',
      '-n',
      ns,
      '--type=merge',
      '-p',
      JSON.stringify({
        spec: { indicator: { ratio: { errors: 'sum(rate(http_requests_total{code=~"5.."}[{{window}}])' } } },
      }),
    ]);
    const c = await eventually('Degraded', () => {
      const x = cond('checkout-availability', 'Degraded');
      return x?.status === 'True' && x.reason === 'InvalidSpec' ? x : undefined;
    });
    expect(c.message).toContain('spec.indicator.ratio.errors');
    await new Promise((r) => setTimeout(r, 2000));
    expect(
      kubectlOk(['get', 'configmap', 'vigil-slo-checkout-availability-rules', '-n', ns, '-o', 'jsonpath={.data}']),
    ).toBe(ownBefore);
    expect(
      kubectlOk([
        'get',
        'configmap',
        'vigil-slo-checkout-latency-rules',
        '-n',
        ns,
        '-o',
        'jsonpath={.metadata.resourceVersion}',
      ]),
    ).toBe(otherBefore);
  });

  it('removes its rules and dashboard when the SLO is deleted', async () => {
    kubectlOk(['delete', 'slo', 'checkout-availability', '-n', ns]);
    await eventually(
      'ConfigMaps gone',
      () =>
        kubectl(['get', 'configmap', 'vigil-slo-checkout-availability-rules', '-n', ns]).code !== 0 &&
        kubectl(['get', 'configmap', 'vigil-slo-checkout-availability-dashboard', '-n', ns]).code !== 0,
      60_000,
    );
  });
});
