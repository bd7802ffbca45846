// Runs the real operator — `bin/vigil.js operator`, built into dist/ by the integration setup — as
// its own process against the integration control plane, with a user of its own so that the audit
// log tells its requests apart. (In the test process, kubectl's spawnSync would starve it.)
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.js';

export interface RunningOperator {
  proc: ChildProcess;
  port: number;
  logs: Record<string, unknown>[];
  /** SIGTERM and wait for the exit (graceful shutdown). */
  stop(): Promise<number | null>;
  /** SIGKILL: no shutdown at all. */
  kill(): Promise<void>;
  metric(name: string): Promise<number | undefined>;
  /** Writes the log lines above info (warnings, errors, stderr) to stderr, for a test's afterAll. */
  printWarnings(): void;
}

export const clusterDir = (): string => {
  const dir = process.env.VIGIL_TEST_CLUSTER_DIR;
  if (!dir) throw new Error('VIGIL_TEST_CLUSTER_DIR is not set: run through the integration jest project');
  return dir;
};
export const operatorKubeconfig = (): string => join(clusterDir(), 'operator.kubeconfig');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** opts.kubeconfig runs it as another user (rbac.test.ts: the manifests' ServiceAccount). */
export async function startOperator(
  args: string[] = [],
  env: Record<string, string> = {},
  opts: { kubeconfig?: string } = {},
): Promise<RunningOperator> {
  const port = await freePort();
  const proc = spawn(
    process.execPath,
    [
      join(REPO_ROOT, 'bin', 'vigil.js'),
      'operator',
      '--kubeconfig',
      opts.kubeconfig ?? operatorKubeconfig(),
      '--metrics-port',
      String(port),
      ...args,
    ],
    {
      env: { PATH: process.env.PATH ?? '', VIGIL_RESYNC_SECONDS: '600', VIGIL_WATCH_TIMEOUT_SECONDS: '60', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const logs: Record<string, unknown>[] = [];
  let buf = '';
  proc.stdout?.on('data', (chunk) => {
    buf += String(chunk);
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const l of lines.filter(Boolean)) {
      try {
        logs.push(JSON.parse(l));
      } catch {
        logs.push({ level: 'raw', msg: l });
      }
    }
  });
  proc.stderr?.on('data', (chunk) => logs.push({ level: 'stderr', msg: String(chunk) }));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const metric = async (name: string) => {
    try {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const lines = text.split('\n').filter((l) => l.startsWith(name) && !l.startsWith('#'));
      return lines.length ? lines.reduce((sum, l) => sum + Number(l.split(' ').pop()), 0) : undefined;
    } catch {
      return undefined;
    }
  };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && proc.exitCode === null) {
    if (
      (await fetch(`http://127.0.0.1:${port}/healthz`)
        .then((r) => r.ok)
        .catch(() => false)) === true
    )
      break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (proc.exitCode !== null) throw new Error(`operator exited at start: ${JSON.stringify(logs)}`);
  return {
    proc,
    port,
    logs,
    metric,
    printWarnings: () => {
      const problems = logs.filter((l) => !['info', 'debug', 20, 30].includes(l.level as string | number));
      if (problems.length)
        process.stderr.write(`operator warnings:\n${problems.map((l) => JSON.stringify(l)).join('\n')}\n`);
    },
    stop: async () => {
      proc.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** The verbs that change an object (the audit log also records the operator's reads). */
const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

/**
 * Write requests the operator's user sent, from the audit log: `vigil-operator` (operator.kubeconfig), or
 * the user a test runs it as (test/support/rbac.ts).
 */
export function operatorWrites(
  since?: Date,
  user = 'vigil-operator',
): { verb: string; resource: string; name?: string; at: string }[] {
  const out: { verb: string; resource: string; name?: string; at: string }[] = [];
  for (const line of readFileSync(join(clusterDir(), 'audit.log'), 'utf8').split('\n')) {
    if (!line) continue;
    const e = JSON.parse(line);
    if (e.user?.username !== user || e.stage !== 'ResponseComplete' || !WRITE_VERBS.has(e.verb)) continue;
    if (since && new Date(e.stageTimestamp) < since) continue;
    out.push({
      verb: e.verb,
      resource: [e.objectRef?.resource, e.objectRef?.subresource].filter(Boolean).join('/'),
      name: e.objectRef?.name,
      at: e.stageTimestamp,
    });
  }
  return out;
}

export async function eventually<T>(
  what: string,
  fn: () => T | Promise<T>,
  timeoutMs = 30_000,
  everyMs = 250,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${String(last)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
