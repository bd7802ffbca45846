// Where the validator binaries live: built by hack/build-*.sh into the tool cache (make test runs
// those first through UNIT_TEST_PREREQS).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { OTELCOL_VERSION, PROMETHEUS_VERSION } from '../../../desired/stack/images.js';
import { REPO } from './stacks.js';

const cache = process.env.VIGIL_CACHE ?? join(homedir(), '.cache/vigil');
const goVersion = execFileSync('go', ['env', 'GOVERSION'], { env: { ...process.env, GOTOOLCHAIN: 'local' } })
  .toString()
  .trim();

function tool(name: string, version: string, binary: string, target: string): string {
  const path = join(cache, `${name}-${version}-${goVersion}`, binary);
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`make ${target}\``);
  return path;
}

/** A version pinned by a build script (`NAME="x.y.z"`), so that the tests look where it builds. */
function scriptVersion(script: string, name: string): string {
  const v = new RegExp(`^${name}="([^"]+)"`, 'm').exec(readFileSync(join(REPO, script), 'utf8'))?.[1];
  if (!v) throw new Error(`${script} sets no ${name}`);
  return v;
}

export const ALERTMANAGER_VERSION = scriptVersion('hack/build-alertmanager.sh', 'ALERTMANAGER_VERSION');
export const THANOS_VERSION = scriptVersion('hack/build-thanos.sh', 'THANOS_VERSION');

export const otelcol = () => tool('otelcol', OTELCOL_VERSION, 'otelcol', 'ensure-otelcol');
export const promtool = () => tool('promtool', PROMETHEUS_VERSION, 'promtool', 'ensure-promtool-modules');
export const amtool = () => tool('alertmanager', ALERTMANAGER_VERSION, 'amtool', 'ensure-alertmanager');
export const alertmanager = () => tool('alertmanager', ALERTMANAGER_VERSION, 'alertmanager', 'ensure-alertmanager');
/** The Prometheus server of the image's release (hack/build-prometheus.sh). */
export const prometheus = () => tool('prometheus', PROMETHEUS_VERSION, 'prometheus', 'ensure-prometheus');
/** One binary for the sidecar and the querier (hack/build-thanos.sh). */
export const thanos = () => tool('thanos', THANOS_VERSION, 'thanos', 'ensure-thanos');

/** Runs a validator; returns its combined output, throwing it with the exit code on failure. */
export function run(bin: string, args: string[], env: Record<string, string> = {}): string {
  try {
    return execFileSync(bin, args, { env: { ...process.env, ...env }, stdio: 'pipe', timeout: 60_000 }).toString();
  } catch (err) {
    const e = err as { status?: number; stdout?: Buffer; stderr?: Buffer };
    throw new Error(`${bin} ${args.join(' ')} exited ${e.status}:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}
