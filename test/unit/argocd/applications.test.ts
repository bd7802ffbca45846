// The Argo CD Applications point at paths that exist, and what the operator's Application syncs
// (the kustomize build of manifests/) puts the CRDs in an earlier wave, with server-side apply.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { REPO_ROOT } from '../../support/paths.js';

interface Doc {
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  spec?: {
    source: { path: string; directory?: { include?: string } };
    syncPolicy?: { syncOptions?: string[] };
  };
}

const app = (file: string) =>
  yaml.load(readFileSync(join(REPO_ROOT, 'manifests', 'argocd', file), 'utf8')) as Required<Doc>;
const wave = (d: Doc) => Number(d.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? '0');

describe('the Argo CD Applications', () => {
  it('sync the operator from manifests/, whose CRDs and namespace come a wave before the rest, CRDs server-side', () => {
    const a = app('vigil-operator.yaml');
    expect(a.kind).toBe('Application');
    expect(a.spec.source.path).toBe('manifests');
    const docs = yaml.loadAll(
      execFileSync('kubectl', ['kustomize', join(REPO_ROOT, a.spec.source.path)], { encoding: 'utf8' }),
    ) as Doc[];
    const crds = docs.filter((d) => d.kind === 'CustomResourceDefinition');
    expect(crds.map((d) => d.metadata.name).sort()).toEqual([
      'observabilitystacks.observability.vigil.dev',
      'remediationpolicies.observability.vigil.dev',
      'slos.observability.vigil.dev',
    ]);
    const deployment = docs.find((d) => d.kind === 'Deployment') as Doc;
    const namespace = docs.find((d) => d.kind === 'Namespace') as Doc;
    for (const early of [...crds, namespace]) expect(wave(early)).toBeLessThan(wave(deployment));
    for (const crd of crds) {
      expect(crd.metadata.annotations?.['argocd.argoproj.io/sync-options']).toBe('ServerSideApply=true');
    }
  });

  it('sync one stack and the SLOs that reference it, tolerating CRDs not yet served on a first sync', () => {
    const a = app('vigil-stack.yaml');
    expect(a.kind).toBe('Application');
    const include = a.spec.source.directory?.include ?? '';
    const files = /^\{(.*)\}$/.exec(include)?.[1].split(',') ?? [include];
    const docs = files.map(
      (f) =>
        yaml.load(readFileSync(join(REPO_ROOT, a.spec.source.path, f), 'utf8')) as Doc & {
          spec: { stackRef?: { name: string } };
        },
    );
    const stacks = docs.filter((d) => d.kind === 'ObservabilityStack').map((d) => d.metadata.name);
    expect(stacks).toHaveLength(1);
    for (const slo of docs.filter((d) => d.kind === 'SLO')) expect(slo.spec.stackRef?.name).toBe(stacks[0]);
    expect(a.spec.syncPolicy?.syncOptions).toContain('SkipDryRunOnMissingResource=true');
    expect(existsSync(join(REPO_ROOT, a.spec.source.path))).toBe(true);
  });
});
