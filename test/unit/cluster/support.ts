// Helpers of the cluster-metrics tests: a stack with the schema's defaults filled, and the tool
// cache folder hack/lib.sh's tool_dir names (<tool>-<version>-<go version>).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ObservabilityStack } from '../../../api/types.js';
import { validateResource } from '../../../api/validate.js';
import { aStack } from '../../support/builders.js';

/** aStack(spec) as the operator sees it: validated, defaults filled, in `namespace`. */
export function aValidStack(spec: Record<string, unknown>, namespace = 'obs', name = 'core'): ObservabilityStack {
  const v = validateResource(aStack(spec, name));
  if (!v.ok) throw new Error(`invalid test stack: ${JSON.stringify(v.problems)}`);
  const s = v.object as ObservabilityStack;
  s.metadata = { ...s.metadata, name, namespace };
  return s;
}

let goVersion: string | undefined;
/** A binary hack/build-*.sh put in the tool cache; a missing one says which script builds it. */
export function cachedTool(tool: string, version: string, binary: string, script: string): string {
  goVersion ??= execFileSync('go', ['env', 'GOVERSION'], { env: { ...process.env, GOTOOLCHAIN: 'local' } })
    .toString()
    .trim();
  const cache = process.env.VIGIL_CACHE ?? join(homedir(), '.cache', 'vigil');
  const bin = join(cache, `${tool}-${version}-${goVersion}`, binary);
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run ${script} (make test builds it first)`);
  return bin;
}
