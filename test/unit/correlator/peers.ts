// Real peers for the correlator's tests and benchmark: Loki, the OpenTelemetry Collector and
// Prometheus, started as child processes on 127.0.0.1 with their files in a temporary folder,
// and stopped by the caller (SIGTERM, then SIGKILL after a bound). The binaries come from the
// tool cache that `make test` fills first (hack/build-*.sh); a missing one is an error that says
// how to build it, never a skipped test.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';

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

export const LOKI_VERSION = '3.7.8';
export const OTELCOL_VERSION = '0.161.0';

export const lokiBinary = () => requireBinary(join(toolDir('loki', LOKI_VERSION), 'loki'), 'hack/build-loki.sh');
export const otelcolBinary = () =>
  requireBinary(join(toolDir('otelcol', OTELCOL_VERSION), 'otelcol'), 'hack/build-otelcol.sh');
export const prometheusBinary = () => requireBinary('/usr/bin/prometheus', 'hack/ensure-promtool.sh');

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

export interface LokiPeer {
  readonly url: string;
  readonly peer: Peer;
  /** Starts again on the same ports and folder (WAL and chunks survive). */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** Stops it and removes its folder. */
  close(): Promise<void>;
}

/**
 * Single-binary Loki on the filesystem: schema v13 on TSDB with structured metadata, as
 * desired/stack/loki.ts renders it, plus short scheduler lookups so that it is ready in ~1 s (the
 * defaults make the query frontend wait 10-15 s for its first scheduler).
 */
export async function startLoki(): Promise<LokiPeer> {
  const bin = lokiBinary();
  const dir = tempDir('loki');
  const [http, grpc] = [await freePort(), await freePort()];
  const data = join(dir.path, 'data');
  const config = {
    auth_enabled: false,
    server: {
      http_listen_address: '127.0.0.1',
      http_listen_port: http,
      grpc_listen_address: '127.0.0.1',
      grpc_listen_port: grpc,
      log_level: 'warn',
    },
    common: {
      instance_addr: '127.0.0.1',
      path_prefix: data,
      replication_factor: 1,
      ring: { kvstore: { store: 'inmemory' } },
      storage: { filesystem: { chunks_directory: join(data, 'chunks'), rules_directory: join(data, 'rules') } },
    },
    schema_config: {
      configs: [
        {
          from: '2024-01-01',
          store: 'tsdb',
          object_store: 'filesystem',
          schema: 'v13',
          index: { prefix: 'index_', period: '24h' },
        },
      ],
    },
    limits_config: { allow_structured_metadata: true },
    ingester: { lifecycler: { min_ready_duration: '0s' } },
    frontend: { scheduler_dns_lookup_period: '1s' },
    frontend_worker: { dns_lookup_duration: '1s' },
    pattern_ingester: { enabled: false },
    analytics: { reporting_enabled: false },
  };
  writeFileSync(join(dir.path, 'loki.yaml'), yaml.dump(config));
  const peer = new Peer('loki', bin, ['-config.file=loki.yaml'], dir.path);
  const url = `http://127.0.0.1:${http}`;
  const up = async () => {
    peer.start();
    await peer.waitReady(`${url}/ready`);
  };
  await up();
  return {
    url,
    peer,
    restart: up,
    stop: () => peer.stop(),
    close: async () => {
      await peer.stop();
      dir.remove();
    },
  };
}

export interface LokiLine {
  readonly stream: Record<string, string>;
  readonly ts: string;
  readonly line: string;
  readonly metadata: Record<string, string>;
}

/**
 * query_range with labels and structured metadata reported apart (categorize-labels), so that
 * `stream` holds only the indexed labels.
 */
export async function lokiQuery(url: string, query: string, sinceMs: number, limit = 5000): Promise<LokiLine[]> {
  const params = new URLSearchParams({
    query,
    start: `${sinceMs}000000`,
    end: `${Date.now() + 60_000}000000`,
    limit: String(limit),
    direction: 'forward',
  });
  const res = await fetch(`${url}/loki/api/v1/query_range?${params}`, {
    headers: { 'X-Loki-Response-Encoding-Flags': 'categorize-labels' },
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`Loki query ${query} answered ${res.status}: ${text}`);
  const body = JSON.parse(text) as {
    data: {
      result: {
        stream: Record<string, string>;
        values: [string, string, { structuredMetadata?: Record<string, string> }?][];
      }[];
    };
  };
  return body.data.result.flatMap((s) =>
    s.values.map(([ts, line, extra]) => ({ stream: s.stream, ts, line, metadata: extra?.structuredMetadata ?? {} })),
  );
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

/** Debian's Prometheus scraping `scrapeConfigs` every second, TSDB in a temp folder. */
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
