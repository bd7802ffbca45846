// Real collector processes running the configs renderStack produces, for the agent and gateway
// tests and the agent benchmark. A rendered config listens on 0.0.0.0 and finds its peers by
// cluster DNS; `localize` changes only those addresses (each process gets its own 127.0.0.x, so
// every replica keeps the rendered ports) and says so. The binaries are built by
// hack/build-otelcol.sh (make test runs it first); a missing one is an error, never a skip.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { OTELCOL_AGENT_VERSION, OTELCOL_VERSION } from '../../desired/stack/images.js';
import { Peer, tempDir } from '../unit/correlator/peers.js';
import { REPO_ROOT } from './paths.js';

const cache = process.env.VIGIL_CACHE ?? join(homedir(), '.cache/vigil');
let goVersion: string | undefined;
function binary(tool: string, version: string): string {
  goVersion ??= execFileSync('go', ['env', 'GOVERSION'], { env: { ...process.env, GOTOOLCHAIN: 'local' } })
    .toString()
    .trim();
  const path = join(cache, `${tool}-${version}-${goVersion}`, 'otelcol');
  if (!existsSync(path)) throw new Error(`${path} is missing: run hack/build-otelcol.sh (make test builds it first)`);
  return path;
}
/** The gateway's and sampling tier's collector (the release the stack deploys for them). */
export const gatewayOtelcol = () => binary('otelcol', OTELCOL_VERSION);
/** The agent's collector (OTELCOL_AGENT_VERSION). */
export const agentOtelcol = () => binary('otelcol-agent', OTELCOL_AGENT_VERSION);

type Config = Record<string, unknown>;
// biome-ignore lint/suspicious/noExplicitAny: walking plain JSON
type Any = any;

export interface Ports {
  otlpGrpc: number;
  otlpHttp: number;
  health: number;
  metrics: number;
}

/**
 * A rendered config with its listen addresses moved to `ip` (the same ports in every process) and
 * its DNS resolvers (`resolver.dns` of load_balancing exporters) replaced by static lists: the
 * headless Services they name do not exist outside a cluster. Nothing else changes.
 */
export function localize(config: Config, ip: string, ports: Ports, backends: Record<string, string[]> = {}): Config {
  const c: Any = structuredClone(config);
  const otlp = c.receivers?.otlp?.protocols;
  if (otlp?.grpc) otlp.grpc.endpoint = `${ip}:${ports.otlpGrpc}`;
  if (otlp?.http) otlp.http.endpoint = `${ip}:${ports.otlpHttp}`;
  if (c.extensions?.health_check) c.extensions.health_check.endpoint = `${ip}:${ports.health}`;
  const reader = c.service?.telemetry?.metrics?.readers?.[0]?.pull?.exporter?.prometheus;
  if (reader) Object.assign(reader, { host: ip, port: ports.metrics });
  for (const [id, exporter] of Object.entries<Any>(c.exporters ?? {})) {
    if (!exporter?.resolver?.dns) continue;
    const hostnames = backends[id];
    if (!hostnames) throw new Error(`localize: no backends given for ${id}`);
    exporter.resolver = { static: { hostnames } };
  }
  c.service.telemetry.logs = { level: 'warn' };
  return c;
}

export interface Running {
  readonly name: string;
  readonly peer: Peer;
  readonly dir: string;
  metricsUrl: string;
  stop(): Promise<void>;
}

/** Starts a collector with `config`; ready once its health_check answers. */
export async function startCollector(
  name: string,
  bin: string,
  config: Config,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Running> {
  const dir = tempDir(`otelcol-${name}`);
  writeFileSync(join(dir.path, 'config.yaml'), yaml.dump(config, { noRefs: true, lineWidth: -1 }));
  const peer = new Peer(name, bin, ['--config=config.yaml'], dir.path, env);
  peer.start();
  const c: Any = config;
  const health = c.extensions.health_check.endpoint as string;
  const reader = c.service.telemetry.metrics.readers[0].pull.exporter.prometheus;
  try {
    await peer.waitReady(`http://${health}/`, 60_000);
  } catch (err) {
    await peer.stop();
    dir.remove();
    throw err;
  }
  return {
    name,
    peer,
    dir: dir.path,
    metricsUrl: `http://${reader.host}:${reader.port}/metrics`,
    stop: async () => {
      await peer.stop();
      dir.remove();
    },
  };
}

/** `vigil correlator` from source, as its own process, on `ip`. */
export async function startCorrelator(
  ip: string,
  ports: { http: number; grpc: number },
  env: Record<string, string> = {},
): Promise<{ url: string; grpc: string; peer: Peer; stop(): Promise<void> }> {
  const peer = new Peer(
    `correlator-${ip}`,
    process.execPath,
    ['--import', 'tsx', join(REPO_ROOT, 'test', 'support', 'vigil-cli.ts'), 'correlator'],
    REPO_ROOT,
    { ...process.env, HOST: ip, PORT: `${ports.http}`, GRPC_PORT: `${ports.grpc}`, NODE_OPTIONS: '', ...env },
  );
  peer.start();
  const url = `http://${ip}:${ports.http}`;
  try {
    await peer.waitReady(`${url}/ready`, 60_000);
  } catch (err) {
    await peer.stop();
    throw err;
  }
  return { url, grpc: `${ip}:${ports.grpc}`, peer, stop: () => peer.stop() };
}

/** A child process's CPU seconds (user + system) and resident memory, from /proc. */
export function procUsage(pid: number): { cpuSeconds: number; rssBytes: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
  return { cpuSeconds: ticks / 100, rssBytes: rss };
}
