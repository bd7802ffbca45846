// Real peers for the correlator's tests and benchmark: VictoriaLogs (Loki's push API; Loki itself
// is AGPL and never built or run here), the OpenTelemetry Collector and Prometheus, started as
// child processes on 127.0.0.1 with their files in a temporary folder, and stopped by the caller (SIGTERM, then SIGKILL after a bound). The binaries come from the
// tool cache that `make test` fills first (hack/build-*.sh); a missing one is an error that says
// how to build it, never a skipped test.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { PROMETHEUS_VERSION } from '../../../desired/stack/images.js';

const CACHE = process.env.VIGIL_CACHE ?? join(process.env.HOME ?? '/root', '.cache', 'vigil');
let goVersion: string | undefined;

/** The cache folder hack/lib.sh's tool_dir names: <tool>-<version>-<go version>. */
function toolDir(tool: string, version: string): string {
  try {
    goVersion ??= execFileSync('go', ['env', 'GOVERSION'], { env: { ...process.env, GOTOOLCHAIN: 'local' } })
      .toString()
      .trim();
  } catch (err) {
    throw new Error(`cannot name the tool cache folder (hack/lib.sh keys it by Go version): go env GOVERSION: ${err}`);
  }
  return join(CACHE, `${tool}-${version}-${goVersion}`);
}

function requireBinary(path: string, how: string): string {
  if (!existsSync(path)) throw new Error(`${path} is missing: run ${how} (make test builds it first)`);
  return path;
}

export const VICTORIALOGS_VERSION = '1.52.1';
export const OTELCOL_VERSION = '0.161.0';

export const victoriaLogsBinary = () =>
  requireBinary(join(toolDir('victorialogs', VICTORIALOGS_VERSION), 'victoria-logs'), 'hack/build-victorialogs.sh');
export const otelcolBinary = () =>
  requireBinary(join(toolDir('otelcol', OTELCOL_VERSION), 'otelcol'), 'hack/build-otelcol.sh');
/** The Prometheus server at the deployed release (hack/build-prometheus.sh), not Debian's older one. */
export const prometheusBinary = () =>
  requireBinary(join(toolDir('prometheus', PROMETHEUS_VERSION), 'prometheus'), 'hack/build-prometheus.sh');

/** A port nobody listens on right now (the peer binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as import('node:net').AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `vigil-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One child process; its output is kept (last 64 KiB) for error messages. */
export class Peer {
  private child: ChildProcess | undefined;
  private log = '';
  private exitCode: number | null | undefined;

  constructor(
    readonly name: string,
    private readonly bin: string,
    private readonly args: readonly string[],
    private readonly cwd: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.exitCode === undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  output(): string {
    return this.log;
  }

  start(): void {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.exitCode = undefined;
    const child = spawn(this.bin, this.args, { cwd: this.cwd, env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d: Buffer) => {
      this.log = (this.log + d.toString('utf8')).slice(-65_536);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('exit', (code, signal) => {
      this.exitCode = code ?? (signal ? -1 : null);
    });
    this.child = child;
  }

  /** Polls `url` until it answers 200; fails early with the output if the process exits. */
  async waitReady(url: string, timeoutMs = 120_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < end) {
      if (!this.running) throw new Error(`${this.name} exited (${this.exitCode}) before ready:\n${this.log}`);
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
        last = `${res.status} ${(await res.text()).slice(0, 200)}`;
        if (res.status === 200) return;
      } catch (err) {
        last = (err as Error).message;
      }
      await sleep(100);
    }
    throw new Error(`${this.name} not ready at ${url} after ${timeoutMs} ms (last: ${last}):\n${this.log}`);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  async stop(graceMs = 15_000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(killer);
  }
}

export interface VictoriaLogsPeer {
  /** Its HTTP root: /health, the LogsQL query API under /select/logsql/. */
  readonly url: string;
  /**
   * What LOKI_URL is set to: the correlator appends /loki/api/v1/push, and VictoriaLogs serves
   * Loki's push API at /insert/loki/api/v1/push.
   */
  readonly lokiUrl: string;
  readonly peer: Peer;
  /** Starts again on the same port and folder (what it had stored survives). */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** Stops it and removes its folder. */
  close(): Promise<void>;
}

/**
 * VictoriaLogs (Apache-2.0), the stand-in for Loki's push API: Loki is AGPL and is never built or
 * run here (docs/adr/0010-victorialogs-stands-in-for-loki-push.md). Single process on 127.0.0.1,
 * storage in a temporary folder. -loki.disableMessageParsing keeps a JSON log line as the message,
 * as Loki does (VictoriaLogs would otherwise split it into fields).
 */
export async function startVictoriaLogs(): Promise<VictoriaLogsPeer> {
  const bin = victoriaLogsBinary();
  const dir = tempDir('victorialogs');
  const port = await freePort();
  const peer = new Peer(
    'victoria-logs',
    bin,
    [
      `-httpListenAddr=127.0.0.1:${port}`,
      `-storageDataPath=${join(dir.path, 'data')}`,
      '-loki.disableMessageParsing',
      '-loggerLevel=WARN',
    ],
    dir.path,
  );
  const url = `http://127.0.0.1:${port}`;
  const up = async () => {
    peer.start();
    await peer.waitReady(`${url}/health`);
  };
  await up();
  return {
    url,
    lokiUrl: `${url}/insert`,
    peer,
    restart: up,
    stop: () => peer.stop(),
    close: async () => {
      await peer.stop();
      dir.remove();
    },
  };
}

/** One stored log line, with Loki's split: stream labels apart from structured metadata. */
export interface LogLine {
  /** The stream labels (VictoriaLogs' _stream). */
  readonly stream: Record<string, string>;
  readonly time: string;
  readonly line: string;
  /** Every other field: what the push carried as structured metadata. */
  readonly metadata: Record<string, string>;
}

/** Parses VictoriaLogs' _stream field, `{env="prod",service="checkout"}`. */
export function parseStream(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const m of text.matchAll(/([A-Za-z_][A-Za-z0-9_.]*)="((?:[^"\\]|\\.)*)"/g)) {
    labels[m[1]] = JSON.parse(`"${m[2]}"`);
  }
  return labels;
}

/**
 * A LogsQL query (/select/logsql/query, one JSON object per line) as Loki lines. `tenant` is
 * VictoriaLogs' numeric AccountID (Loki's X-Scope-OrgID becomes it on push).
 */
export async function logsQuery(
  url: string,
  query: string,
  opts: { tenant?: string; limit?: number } = {},
): Promise<LogLine[]> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (opts.tenant) headers.AccountID = opts.tenant;
  const res = await fetch(`${url}/select/logsql/query`, {
    method: 'POST',
    headers,
    body: new URLSearchParams({ query, limit: String(opts.limit ?? 10_000) }),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`VictoriaLogs query ${query} answered ${res.status}: ${text}`);
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const row = JSON.parse(l) as Record<string, string>;
      const stream = parseStream(row._stream ?? '{}');
      const metadata: Record<string, string> = {};
      for (const [k, v] of Object.entries(row)) if (!k.startsWith('_') && !(k in stream)) metadata[k] = v;
      return { stream, time: row._time, line: row._msg, metadata };
    });
}

/** The names of the stream fields (Loki's labels) or of all fields of what `query` matches. */
export async function fieldNames(url: string, kind: 'stream_field_names' | 'field_names', query = '*') {
  const res = await fetch(`${url}/select/logsql/${kind}?${new URLSearchParams({ query })}`);
  if (res.status !== 200) throw new Error(`VictoriaLogs ${kind} answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { values: { value: string }[] }).values.map((v) => v.value).sort();
}

export interface OtelcolPeer {
  readonly peer: Peer;
  /** The collector's own Prometheus metrics (service.telemetry), as text. */
  metrics(): Promise<string>;
  close(): Promise<void>;
}

/**
 * The collector built by hack/build-otelcol.sh with `config` (an otelcol YAML object, its
 * service.telemetry is filled in here), ready once the health_check extension answers.
 */
export async function startOtelcol(config: Record<string, unknown>): Promise<OtelcolPeer> {
  const bin = otelcolBinary();
  const dir = tempDir('otelcol');
  const [health, telemetry] = [await freePort(), await freePort()];
  const service = (config.service ?? {}) as Record<string, unknown>;
  const full = {
    ...config,
    extensions: {
      ...(config.extensions as object | undefined),
      health_check: { endpoint: `127.0.0.1:${health}` },
    },
    service: {
      ...service,
      extensions: [...((service.extensions as string[] | undefined) ?? []), 'health_check'],
      telemetry: {
        logs: { level: 'warn' },
        metrics: {
          level: 'detailed',
          readers: [
            {
              pull: {
                exporter: { prometheus: { host: '127.0.0.1', port: telemetry } },
              },
            },
          ],
        },
      },
    },
  };
  writeFileSync(join(dir.path, 'config.yaml'), yaml.dump(full, { noRefs: true }));
  const peer = new Peer('otelcol', bin, ['--config=config.yaml'], dir.path);
  peer.start();
  try {
    await peer.waitReady(`http://127.0.0.1:${health}/`);
  } catch (err) {
    await peer.stop();
    dir.remove();
    throw err;
  }
  return {
    peer,
    metrics: async () => (await fetch(`http://127.0.0.1:${telemetry}/metrics`)).text(),
    close: async () => {
      await peer.stop();
      dir.remove();
    },
  };
}

/** Sum of every sample of `name` (any labels; `_total` suffix or not) in Prometheus text; 0 when absent. */
export function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m && (m[1] === name || m[1] === `${name}_total`)) sum += Number(m[3]);
  }
  return sum;
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  everyMs = 200,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > end) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${lastErr}` : ''}`);
    }
    await sleep(everyMs);
  }
}

export interface PrometheusPeer {
  readonly url: string;
  /** An instant query; the result vector. */
  query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  close(): Promise<void>;
}

/** Prometheus scraping `scrapeConfigs` every second, TSDB in a temp folder. */
export async function startPrometheus(scrapeConfigs: Record<string, unknown>[]): Promise<PrometheusPeer> {
  const bin = prometheusBinary();
  const dir = tempDir('prometheus');
  const port = await freePort();
  const config = { global: { scrape_interval: '1s', evaluation_interval: '1s' }, scrape_configs: scrapeConfigs };
  writeFileSync(join(dir.path, 'prometheus.yml'), yaml.dump(config));
  const peer = new Peer(
    'prometheus',
    bin,
    [
      '--config.file=prometheus.yml',
      `--storage.tsdb.path=${join(dir.path, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    dir.path,
  );
  const url = `http://127.0.0.1:${port}`;
  peer.start();
  try {
    await peer.waitReady(`${url}/-/ready`);
  } catch (err) {
    await peer.stop();
    dir.remove();
    throw err;
  }
  return {
    url,
    query: async (promql) => {
      const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: promql })}`);
      const body = (await res.json()) as { status: string; error?: string; data: { result: [] } };
      if (body.status !== 'success') throw new Error(`Prometheus query ${promql} failed: ${body.error}`);
      return body.data.result;
    },
    close: async () => {
      await peer.stop();
      dir.remove();
    },
  };
}
