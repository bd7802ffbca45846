// `vigil remediation simulate` and `vigil validate` on RemediationPolicy files.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { main } from '../../../cli/index.js';
import { REPO_ROOT } from '../../support/paths.js';
import { aPolicyDoc } from './policies.js';

const FIXTURES = join(REPO_ROOT, 'test/fixtures/remediation');
const dir = mkdtempSync(join(tmpdir(), 'vigil-simulate-'));
const write = (name: string, doc: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof doc === 'string' ? doc : yaml.dump(doc));
  return path;
};

async function vigil(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err: err.join('\n') };
}

describe('vigil remediation simulate', () => {
  it('prints the decision of each delivery: act, duplicate, backoff attempt, breaker, resolve, act again', async () => {
    const r = await vigil(
      'remediation',
      'simulate',
      '-f',
      join(FIXTURES, 'policy.yaml'),
      '-f',
      join(FIXTURES, 'alerts.json'),
      '-o',
      'json',
    );
    expect(r.code).toBe(0);
    const decisions = JSON.parse(r.out.join('\n')) as { result: string; target: string; policy: string }[];
    expect(decisions.map((d) => d.result)).toEqual(['acted', 'duplicate', 'acted', 'tripped', 'resolved', 'acted']);
    expect(new Set(decisions.map((d) => `${d.policy} ${d.target}`))).toEqual(
      new Set(['shop/restart-checkout Deployment/checkout']),
    );
    expect(r.err).toContain('6 decision(s) from 6 deliveries');
  });

  it('prints one line per decision in text', async () => {
    const r = await vigil(
      'remediation',
      'simulate',
      '-f',
      join(FIXTURES, 'policy.yaml'),
      '-f',
      join(FIXTURES, 'alerts.json'),
    );
    expect(r.code).toBe(0);
    expect(r.out).toHaveLength(6);
    expect(r.out[3]).toMatch(
      /^2026-03-01T10:16:00.000Z {2}shop\/restart-checkout {2}CheckoutCrashLooping \(firing\) {2}Deployment\/checkout {2}tripped: /,
    );
  });

  it('shows a DryRun policy deciding, guard included, without acting', async () => {
    const policy = write('dry.yaml', {
      ...aPolicyDoc({ mode: 'DryRun', match: { alertname: 'CheckoutCrashLooping' } }),
      metadata: { name: 'dry', namespace: 'shop' },
    });
    const r = await vigil('remediation', 'simulate', '-f', policy, '-f', join(FIXTURES, 'alerts.json'), '-o', 'json');
    expect(JSON.parse(r.out.join('\n')).map((d: { result: string }) => d.result)).toEqual([
      'dry-run',
      'duplicate',
      'dry-run',
      'dry-run',
      'resolved',
      'budget',
    ]);
  });

  it('refuses an invalid policy naming the field, and simulates nothing', async () => {
    const doc = aPolicyDoc({ action: { type: 'scale' } });
    const r = await vigil('remediation', 'simulate', '-f', write('bad.yaml', doc), '-f', join(FIXTURES, 'alerts.json'));
    expect(r.code).toBe(1);
    expect(r.out).toEqual([
      `${join(dir, 'bad.yaml')}: spec.action.scale: action.scale is required with type scale and allowed only with it`,
    ]);
  });

  it('refuses a delivery that is not an Alertmanager v4 payload, naming it', async () => {
    const alerts = write('alerts.json', JSON.stringify([{ version: '3', alerts: [] }]));
    const r = await vigil('remediation', 'simulate', '-f', join(FIXTURES, 'policy.yaml'), '-f', alerts);
    expect(r.code).toBe(1);
    expect(r.out).toEqual([`${alerts}: [0]: version: must be "4", got "3"`]);
  });

  it('exits 2 with usage for an unknown subcommand or output', async () => {
    expect((await vigil('remediation', 'run')).code).toBe(2);
    expect((await vigil('remediation', 'simulate', '-f', join(FIXTURES, 'policy.yaml'), '-o', 'yaml')).err).toContain(
      '-o/--output must be text or json',
    );
  });
});

describe('vigil validate on RemediationPolicy files', () => {
  it('accepts a valid policy', async () => {
    const r = await vigil('validate', '-f', join(FIXTURES, 'policy.yaml'));
    expect(r).toMatchObject({ code: 0, out: [] });
  });

  it.each([
    [{ action: { type: 'deletePod' } }, 'spec.target.kind: deletePod acts on a Pod: set target.kind to Pod'],
    [
      { target: { kind: 'Pod' } },
      'spec.target.kind: rolloutRestart acts on a Deployment, StatefulSet or DaemonSet, not a Pod',
    ],
    [
      { action: { type: 'scale', scale: { by: 1, max: 5 } }, target: { kind: 'DaemonSet' } },
      'spec.target.kind: scale acts on a Deployment or a StatefulSet',
    ],
    [{ mode: 'Sometimes' }, 'spec.mode: must be one of "DryRun", "Enforce"'],
    [{ guard: { cooldown: '5 minutes' } }, 'spec.guard.cooldown: must match ^([0-9]+(ms|s|m|h|d|w|y))+$'],
    [
      { target: { kind: 'Deployment', name: 'a', nameLabel: 'b' } },
      'spec.target.name: set either target.name or target.nameLabel, not both',
    ],
    [
      { match: { alertname: 'X', matchers: [{ name: 'alertname', op: '=', value: 'Y' }] } },
      'spec.match.matchers: the alert name goes in match.alertname, not in a matcher',
    ],
  ])('names the field of a bad policy: %j', async (spec, problem) => {
    const file = write('bad-policy.yaml', aPolicyDoc(spec as Parameters<typeof aPolicyDoc>[0]));
    const r = await vigil('validate', '-f', file);
    expect(r.code).toBe(1);
    expect(r.out).toEqual([`${file}: ${problem}`]);
  });
});
