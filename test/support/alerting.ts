// Real Prometheus (Debian's, as hack/ensure-promtool.sh installs it) and real Alertmanager (built
// from Go modules by hack/build-alertmanager.sh) as local processes on 127.0.0.1, a synthetic series
// the test sets, and a webhook sink that records what it receives.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { freePort } from './operator.js';
import { REPO_ROOT } from './paths.js';

export interface Proc {
  url: string;
  port: number;
  output(): string;
  stop(): Promise<void>;
}

function cacheTool(name: string, script: string, versionVar: string, binary: string): string {
  const version = new RegExp(`^${versionVar}="([^"]+)"`, 'm').exec(readFileSync(join(REPO_ROOT, script), 'utf8'))?.[1];
  const go = execFileSync('go', ['env', 'GOVERSION'], { env: { ...process.env, GOTOOLCHAIN: 'local' } })
    .toString()
    .trim();
  const path = join(process.env.VIGIL_CACHE ?? join(homedir(), '.cache/vigil'), `${name}-${version}-${go}`, binary);
  if (!existsSync(path)) throw new Error(`${path} is missing: run ${script}`);
  return path;
}

export const alertmanagerBinary = () =>
  cacheTool('alertmanager', 'hack/build-alertmanager.sh', 'ALERTMANAGER_VERSION', 'alertmanager');
export function prometheusBinary(): string {
  if (!existsSync('/usr/bin/prometheus'))
    throw new Error('/usr/bin/prometheus is missing: run hack/ensure-promtool.sh');
  return '/usr/bin/prometheus';
}

async function startProc(
  name: string,
  bin: string,
  args: (port: number, dir: string) => string[],
  files: Record<string, string>,
  fixedPort?: number,
): Promise<Proc> {
  const dir = mkdtempSync(join(tmpdir(), `vigil-${name}-`));
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  const port = fixedPort ?? (await freePort());
  const proc: ChildProcess = spawn(bin, args(port, dir), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (c) => (out = (out + String(c)).slice(-20_000)));
  proc.stderr?.on('data', (c) => (out = (out + String(c)).slice(-20_000)));
  const exited = new Promise<void>((r) => proc.on('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${name} exited at start:\n${out}`);
    if (
      await fetch(`${url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`${name} not ready in 60 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    port,
    output: () => out,
    stop: async () => {
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Alertmanager with a given alertmanager.yml (and extra files beside it, e.g. a token). */
export function startAlertmanager(config: string, files: Record<string, string> = {}, port?: number): Promise<Proc> {
  return startProc(
    'alertmanager',
    alertmanagerBinary(),
    (port, dir) => [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    { 'alertmanager.yml': config, ...files },
    port,
  );
}

/** Prometheus scraping `targets` every second, evaluating `rules`, sending alerts to `alertmanager`. */
export function startPrometheus(opts: { targets: string[]; rules: unknown; alertmanager: string }): Promise<Proc> {
  const config = {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: ['rules.yml'],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [opts.alertmanager] }] }] },
    scrape_configs: [{ job_name: 'synthetic', static_configs: [{ targets: opts.targets }] }],
  };
  return startProc(
    'prometheus',
    prometheusBinary(),
    (port, dir) => [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--rules.alert.resend-delay=2s',
      '--log.level=warn',
    ],
    { 'prometheus.yml': yaml.dump(config), 'rules.yml': yaml.dump(opts.rules) },
  );
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  return typeof a === 'object' && a ? a.port : 0;
}

/** A /metrics endpoint with one gauge the test sets. */
export async function syntheticSeries(name: string, initial: number) {
  let value = initial;
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(`# TYPE ${name} gauge\n${name} ${value}\n`);
  });
  const port = await listen(server);
  return {
    target: `127.0.0.1:${port}`,
    set: (v: number) => {
      value = v;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A webhook receiver that keeps every body it gets. */
export async function webhookSink() {
  const received: {
    at: number;
    body: { status: string; alerts: { labels: Record<string, string>; status: string }[] };
  }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += String(c)));
    req.on('end', () => {
      try {
        received.push({ at: Date.now(), body: JSON.parse(body) });
      } catch {
        // not JSON: not from Alertmanager
      }
      res.writeHead(200);
      res.end();
    });
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}/notify`,
    received,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
