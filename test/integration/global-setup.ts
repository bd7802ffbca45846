// Starts one local control plane for the whole integration run (hack/cluster.sh) in its own state
// folder, installs crds/, and hands the kubeconfig to the tests through VIGIL_TEST_KUBECONFIG.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// jest loads global setup without its module mapper, so no relative .js imports here.
const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CRDS_DIR = join(REPO_ROOT, 'crds');

export default async function globalSetup(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-it-'));
  const env = { ...process.env, VIGIL_CLUSTER_DIR: join(dir, 'cluster') };
  process.env.VIGIL_TEST_CLUSTER_DIR = env.VIGIL_CLUSTER_DIR;
  const started = Date.now();
  // The operator runs from dist/ in its own process, as it does in a cluster.
  execFileSync(join(REPO_ROOT, 'node_modules', '.bin', 'tsc'), ['-p', join(REPO_ROOT, 'tsconfig.build.json')], {
    stdio: 'inherit',
  });
  execFileSync(join(REPO_ROOT, 'hack', 'cluster.sh'), ['up'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const kubeconfig = join(env.VIGIL_CLUSTER_DIR, 'kubeconfig');
  process.env.VIGIL_TEST_KUBECONFIG = kubeconfig;
  execFileSync('kubectl', ['--kubeconfig', kubeconfig, 'apply', '--server-side', '-f', CRDS_DIR], { stdio: 'ignore' });
  execFileSync(
    'kubectl',
    ['--kubeconfig', kubeconfig, 'wait', '--for=condition=Established', '--timeout=60s', '-f', CRDS_DIR],
    { stdio: 'ignore' },
  );
  process.stderr.write(`[vigil] integration control plane ready in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
}
