// The RemediationPolicy CRD on the real API server agrees with `vigil validate`: the same documents
// are accepted or refused by both, naming the same field, and the API server fills the same defaults.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import type { RemediationPolicySpec } from '../../api/remediation.js';
import { validateResource } from '../../api/validate.js';
import { freshNamespace, kubectl, kubectlOk } from '../support/kubectl.js';
import { REPO_ROOT } from '../support/paths.js';

let ns: string;
beforeAll(() => {
  ns = freshNamespace('rpol');
});

function aPolicy(spec: Record<string, unknown> = {}): Record<string, unknown> {
  // Through JSON: a field set to undefined is left out.
  return JSON.parse(
    JSON.stringify({
      apiVersion: 'observability.vigil.dev/v1alpha1',
      kind: 'RemediationPolicy',
      metadata: { name: 'p' },
      spec: {
        stackRef: { name: 'full' },
        match: { alertname: 'CheckoutDown' },
        target: { kind: 'Deployment' },
        action: { type: 'rolloutRestart' },
        ...spec,
      },
    }),
  );
}

const BAD: [string, Record<string, unknown>, string][] = [
  ['scale without its numbers', { action: { type: 'scale' } }, 'spec.action.scale'],
  ['deletePod on a Deployment', { action: { type: 'deletePod' } }, 'spec.target.kind'],
  ['rolloutRestart on a Pod', { target: { kind: 'Pod' } }, 'spec.target.kind'],
  [
    'scale on a DaemonSet',
    { action: { type: 'scale', scale: { by: 1, max: 3 } }, target: { kind: 'DaemonSet' } },
    'spec.target.kind',
  ],
  ['both a name and a name label', { target: { kind: 'Deployment', name: 'a', nameLabel: 'b' } }, 'spec.target.name'],
  [
    'alertname as a matcher',
    { match: { alertname: 'X', matchers: [{ name: 'alertname', op: '=', value: 'Y' }] } },
    'spec.match.matchers',
  ],
  ['an unknown mode', { mode: 'Sometimes' }, 'spec.mode'],
  ['a cooldown that is not a duration', { guard: { cooldown: '5 minutes' } }, 'spec.guard.cooldown'],
  ['no target', { target: undefined }, 'spec.target'],
  ['an unknown kind of target', { target: { kind: 'CronJob' } }, 'spec.target.kind'],
  ['maxActions of 0', { guard: { maxActions: 0 } }, 'spec.guard.maxActions'],
];

describe('the RemediationPolicy CRD and vigil validate', () => {
  it('accept the fixture policy, and the API server fills the defaults vigil validate fills', () => {
    const file = join(REPO_ROOT, 'test/fixtures/remediation/policy.yaml');
    const doc = {
      ...(yaml.load(kubectlOk(['create', '--dry-run=client', '-f', file, '-o', 'yaml'])) as Record<string, unknown>),
    };
    const r = kubectl(['apply', '-n', ns, '-f', '-'], yaml.dump({ ...doc, metadata: { name: 'restart-checkout' } }));
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const minimal = aPolicy();
    kubectlOk(['apply', '-n', ns, '-f', '-'], yaml.dump(minimal));
    const stored = JSON.parse(kubectlOk(['get', 'rpol', 'p', '-n', ns, '-o', 'json'])).spec as RemediationPolicySpec;
    const offline = validateResource(minimal);
    expect(offline.ok).toBe(true);
    expect(stored).toEqual((offline as { object: { spec: RemediationPolicySpec } }).object.spec);
    expect(stored).toMatchObject({
      mode: 'DryRun',
      suspend: false,
      guard: { maxActions: 3, window: '1h', cooldown: '5m', backoffFactor: 2, blockFor: '1h' },
    });
    const columns = kubectlOk(['get', 'rpol', '-n', ns]).split('\n')[0];
    expect(columns).toMatch(/NAME\s+ALERT\s+ACTION\s+MODE\s+BLOCKED\s+READY\s+AGE/);
  });

  it.each(BAD)('refuse %s, naming the field, as vigil validate does', (_what, spec, field) => {
    const doc = aPolicy(spec);
    const r = kubectl(['apply', '--dry-run=server', '-n', ns, '-f', '-'], yaml.dump(doc));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(field);
    const offline = validateResource(doc);
    expect(offline.ok).toBe(false);
    expect(offline.problems.map((p) => p.path)).toContain(field);
  });
});
