import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// jest loads global teardown without its module mapper, so no relative .js imports here.
const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Refused {
  verb: string;
  /** resource.group as kubectl takes it (`events` for the core group). */
  resource: string;
  subresource?: string;
  namespace?: string;
}
const describe = (r: Refused) =>
  `${r.verb} ${[r.resource, r.subresource].filter(Boolean).join('/')} in ${r.namespace ?? '(cluster)'}`;

/**
 * Every request of the user operator.kubeconfig runs as (bound by hack/cluster.sh to the manifests'
 * ClusterRole only) that the API server refused, over the whole run: a scenario that passes only
 * because the role is wider than the manifests' must fail the run.
 */
function operatorRefused(dir: string): Refused[] {
  const audit = join(dir, 'audit.log');
  if (!existsSync(audit)) return [];
  const seen = new Map<string, Refused>();
  for (const line of readFileSync(audit, 'utf8').split('\n')) {
    if (!line) continue;
    const e = JSON.parse(line);
    if (e.user?.username !== 'vigil-operator' || e.stage !== 'ResponseComplete' || e.responseStatus?.code !== 403)
      continue;
    const r: Refused = {
      verb: e.verb,
      resource: [e.objectRef?.resource, e.objectRef?.apiGroup].filter(Boolean).join('.'),
      subresource: e.objectRef?.subresource,
      namespace: e.objectRef?.namespace,
    };
    seen.set(describe(r), r);
  }
  return [...seen.values()];
}

/**
 * Whether RBAC grants it now. An API server that has just started answers 403 until its RBAC cache
 * has synced (resilience.test restarts it), so a refusal the role does grant was that, not a gap.
 */
function grantedNow(dir: string, r: Refused): boolean {
  const args = ['--kubeconfig', join(dir, 'kubeconfig'), 'auth', 'can-i', '--as', 'vigil-operator', r.verb, r.resource];
  if (r.subresource) args.push('--subresource', r.subresource);
  if (r.namespace) args.push('-n', r.namespace);
  try {
    execFileSync('kubectl', args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export default async function globalTeardown(): Promise<void> {
  const dir = process.env.VIGIL_TEST_CLUSTER_DIR;
  if (!dir) return;
  const refused = operatorRefused(dir);
  const transient = refused.filter((r) => grantedNow(dir, r));
  const forbidden = refused.filter((r) => !transient.includes(r)).map(describe);
  if (transient.length)
    process.stderr.write(
      `[vigil] refused while the API server's RBAC cache was cold, granted by the role: ${transient.map(describe).join('; ')}\n`,
    );
  if (!process.env.VIGIL_KEEP_CLUSTER) {
    execFileSync(join(REPO_ROOT, 'hack', 'cluster.sh'), ['down'], {
      env: { ...process.env, VIGIL_CLUSTER_DIR: dir },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    rmSync(dirname(dir), { recursive: true, force: true });
  }
  if (forbidden.length) {
    process.stderr.write(
      `[vigil] the operator's user was refused ${forbidden.length} requests by RBAC:\n${forbidden.join('\n')}\n`,
    );
    throw new Error('the operator needed more than manifests/rbac grants (see above)');
  }
}
