import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// jest loads global teardown without its module mapper, so no relative .js imports here.
const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export default async function globalTeardown(): Promise<void> {
  const dir = process.env.VIGIL_TEST_CLUSTER_DIR;
  if (!dir || process.env.VIGIL_KEEP_CLUSTER) return;
  execFileSync(join(REPO_ROOT, 'hack', 'cluster.sh'), ['down'], {
    env: { ...process.env, VIGIL_CLUSTER_DIR: dir },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  rmSync(dirname(dir), { recursive: true, force: true });
}
