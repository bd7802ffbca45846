// The make targets from a user's seat: deploy-core, then deploy-traces, then deploy-logs grow one
// Ready stack on the cluster KUBECONFIG names; undeploy removes everything it put there.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { kubectl, kubectlOk } from '../support/kubectl.js';
import { clusterDir } from '../support/operator.js';
import { CRDS_DIR, REPO_ROOT } from '../support/paths.js';

const NS = 'vigil-demo';
const state = mkdtempSync(join(tmpdir(), 'vigil-deploy-'));

function make(target: string): { code: number; output: string } {
  const r = spawnSync('make', ['--no-print-directory', target], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 240_000,
    env: {
      ...process.env,
      KUBECONFIG: join(clusterDir(), 'kubeconfig'),
      VIGIL_DEPLOY_DIR: state,
      // dist/ was built by the integration setup.
      VIGIL_SKIP_BUILD: '1',
    },
  });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) process.stderr.write(`make ${target} failed:\n${output}\n`);
  return { code: r.status ?? -1, output };
}

interface Stack {
  metadata: { uid: string; generation: number };
  status: {
    observedGeneration?: number;
    components?: Record<string, { ready: boolean }>;
    conditions?: { type: string; status: string; observedGeneration?: number }[];
  };
}
const stack = (): Stack => JSON.parse(kubectlOk(['get', 'ostack', 'demo', '-n', NS, '-o', 'json']));
const readyNow = (s: Stack) =>
  s.status.conditions?.some(
    (c) => c.type === 'Ready' && c.status === 'True' && c.observedGeneration === s.metadata.generation,
  );
const components = (s: Stack) => Object.keys(s.status.components ?? {}).sort();
const operatorPid = () => {
  const f = join(state, 'vigil-operator.pid');
  return existsSync(f) ? Number(readFileSync(f, 'utf8')) : undefined;
};
const alive = (pid: number | undefined) => {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const CORE = ['alertmanager', 'collector', 'correlator', 'grafana', 'prometheus'];
let uid: string;

afterAll(() => {
  // Whatever happened above: no operator left running, and the CRDs back for the other test files.
  make('undeploy');
  kubectl(['apply', '--server-side', '-f', CRDS_DIR]);
  kubectl(['wait', '--for=condition=Established', '--timeout=60s', '-f', CRDS_DIR]);
});

describe('make deploy-core, deploy-traces, deploy-logs, undeploy', () => {
  it('deploy-core installs Vigil, runs the operator and gives a Ready core stack', () => {
    const r = make('deploy-core');
    expect(r.code).toBe(0);
    expect(r.output).toContain('installed Vigil');
    expect(r.output).toMatch(/ostack\/demo is Ready \(generation 1\)/);
    expect(
      kubectlOk([
        'get',
        'deployment',
        'vigil-operator',
        '-n',
        'vigil-system',
        '-o',
        'jsonpath={.status.availableReplicas}',
      ]),
    ).toBe('2');
    expect(alive(operatorPid())).toBe(true);
    const s = stack();
    expect(readyNow(s)).toBe(true);
    expect(components(s)).toEqual(CORE);
    uid = s.metadata.uid;
  });

  it('deploy-traces turns the same stack into one with Tempo wired in, Ready again', () => {
    const pid = operatorPid();
    const r = make('deploy-traces');
    expect(r.code).toBe(0);
    expect(r.output).toContain('Vigil already installed');
    expect(r.output).toContain('local operator already running');
    expect(operatorPid()).toBe(pid);
    const s = stack();
    expect(s.metadata.uid).toBe(uid);
    expect(readyNow(s)).toBe(true);
    expect(components(s)).toEqual([...CORE, 'tempo'].sort());
    expect(kubectlOk(['get', 'configmap', 'demo-collector', '-n', NS, '-o', 'jsonpath={.data}'])).toMatch(/demo-tempo/);
    expect(kubectlOk(['get', 'configmap', 'demo-grafana-datasources', '-n', NS, '-o', 'jsonpath={.data}'])).toMatch(
      /uid: tempo/,
    );
  });

  it('deploy-logs adds Loki and keeps Tempo', () => {
    const r = make('deploy-logs');
    expect(r.code).toBe(0);
    const s = stack();
    expect(s.metadata.uid).toBe(uid);
    expect(readyNow(s)).toBe(true);
    expect(components(s)).toEqual([...CORE, 'loki', 'tempo'].sort());
    expect(kubectlOk(['get', 'configmap', 'demo-collector', '-n', NS, '-o', 'jsonpath={.data}'])).toMatch(/demo-loki/);
  });

  it('undeploy removes the stack, the operator, manifests/ and the CRDs', () => {
    const pid = operatorPid();
    const r = make('undeploy');
    expect(r.code).toBe(0);
    expect(alive(pid)).toBe(false);
    expect(kubectl(['get', 'crd', 'observabilitystacks.observability.vigil.dev']).code).not.toBe(0);
    expect(kubectl(['get', 'crd', 'slos.observability.vigil.dev']).code).not.toBe(0);
    expect(kubectl(['get', 'namespace', 'vigil-system']).code).not.toBe(0);
    expect(kubectl(['get', 'namespace', NS]).code).not.toBe(0);
    expect(kubectl(['get', 'clusterrole', 'vigil-operator']).code).not.toBe(0);
  });
});
