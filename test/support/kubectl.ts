import { spawnSync } from 'node:child_process';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kubectl against the integration control plane; never throws, the caller asserts. */
export function kubectl(args: string[], input?: string): KubectlResult {
  const kubeconfig = process.env.VIGIL_TEST_KUBECONFIG;
  if (!kubeconfig) throw new Error('VIGIL_TEST_KUBECONFIG is not set: run through the integration jest project');
  const r = spawnSync('kubectl', ['--kubeconfig', kubeconfig, ...args], { input, encoding: 'utf8', timeout: 180_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export function kubectlOk(args: string[], input?: string): string {
  const r = kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

let counter = 0;
/** A fresh namespace per test file: namespaces are cheap and keep tests apart. */
export function freshNamespace(prefix: string): string {
  const ns = `${prefix}-${process.pid}-${++counter}`;
  kubectlOk(['create', 'namespace', ns]);
  return ns;
}
