// Where the validator binaries live: built by hack/build-*.sh into the tool cache (make test runs
// those first through UNIT_TEST_PREREQS).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { LOKI_VERSION, OTELCOL_VERSION, PROMETHEUS_VERSION } from '../../../desired/stack/images.js';

const cache = process.env.VIGIL_CACHE ?? join(homedir(), '.cache/vigil');
const goVersion = execFileSync('go', ['env', 'GOVERSION'], { env: { ...process.env, GOTOOLCHAIN: 'local' } })
  .toString()
  .trim();

function tool(name: string, version: string, binary: string, target: string): string {
  const path = join(cache, `${name}-${version}-${goVersion}`, binary);
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`make ${target}\``);
  return path;
}

export const otelcol = () => tool('otelcol', OTELCOL_VERSION, 'otelcol', 'ensure-otelcol');
export const loki = () => tool('loki', LOKI_VERSION, 'loki', 'ensure-loki');
export const promtool = () => tool('promtool', PROMETHEUS_VERSION, 'promtool', 'ensure-promtool-modules');

/** Runs a validator; returns its combined output, throwing it with the exit code on failure. */
export function run(bin: string, args: string[], env: Record<string, string> = {}): string {
  try {
    return execFileSync(bin, args, { env: { ...process.env, ...env }, stdio: 'pipe', timeout: 60_000 }).toString();
  } catch (err) {
    const e = err as { status?: number; stdout?: Buffer; stderr?: Buffer };
    throw new Error(`${bin} ${args.join(' ')} exited ${e.status}:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}
