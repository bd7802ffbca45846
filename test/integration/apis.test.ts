// The APIs against the real API server: the CRDs installed from crds/, examples accepted, bad
// files rejected with the field named (names too long for a stack's children among them), and the
// same verdicts from `vigil validate` offline.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { MAX_STACK_NAME_LENGTH } from '../../api/rules.js';
import { validateResource } from '../../api/validate.js';
import { loadDocs } from '../../cli/files.js';
import { checkResource } from '../../desired/check.js';
import { aStack } from '../support/builders.js';
import { freshNamespace, kubectl, kubectlOk } from '../support/kubectl.js';
import { EXAMPLES_DIR, INVALID_DIR, REPO_ROOT } from '../support/paths.js';

const expected: Record<string, string[]> = JSON.parse(
  readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'expected-problems.json'), 'utf8'),
);
const examples = readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.yaml'));
/** Accepted by the API server; the operator marks them Degraded (test/unit/api/parity.test.ts). */
const DEGRADED_DIR = join(REPO_ROOT, 'test', 'fixtures', 'degraded');

let ns: string;
beforeAll(() => {
  ns = freshNamespace('apis');
});

describe('the CRDs on a real API server', () => {
  it('are Established', () => {
    for (const name of ['observabilitystacks.observability.vigil.dev', 'slos.observability.vigil.dev']) {
      const out = kubectlOk([
        'get',
        'crd',
        name,
        '-o',
        'jsonpath={.status.conditions[?(@.type=="Established")].status}',
      ]);
      expect(out).toBe('True');
    }
  });

  it.each(examples)('accept the example %s', (file) => {
    const r = kubectl(['apply', '-n', ns, '-f', join(EXAMPLES_DIR, file)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it.each(Object.entries(expected))('reject %s with a message naming the field', (file, paths) => {
    const r = kubectl(['apply', '-n', ns, '-f', join(INVALID_DIR, file)]);
    expect(r.code).not.toBe(0);
    for (const p of paths) expect(r.stderr).toContain(p);
  });

  it.each(readdirSync(DEGRADED_DIR).filter((f) => f.endsWith('.yaml')))(
    'accept %s, which only the operator refuses (when it renders or checks the queries)',
    (file) => {
      const r = kubectl(['apply', '--dry-run=server', '-n', ns, '-f', join(DEGRADED_DIR, file)]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    },
  );

  it('refuse a stack name one character longer than its children allow, as vigil validate does', () => {
    for (const length of [MAX_STACK_NAME_LENGTH, MAX_STACK_NAME_LENGTH + 1]) {
      const doc = aStack({}, 'a'.repeat(length));
      const r = kubectl(['apply', '--dry-run=server', '-n', ns, '-f', '-'], yaml.dump(doc));
      const offline = checkResource(doc).problems;
      expect({ length, accepted: r.code === 0 }).toEqual({ length, accepted: offline.length === 0 });
      if (r.code !== 0) {
        expect(r.stderr).toContain('metadata.name');
        expect(offline.map((p) => p.path)).toEqual(['metadata.name']);
      }
    }
  });

  it('store the same defaults that vigil validate fills offline', () => {
    for (const file of examples) {
      for (const { doc } of loadDocs(join(EXAMPLES_DIR, file))) {
        const offline = validateResource(doc);
        if (!offline.ok) throw new Error(`${file} is invalid offline`);
        const { kind, metadata } = offline.object;
        const live = JSON.parse(kubectlOk(['get', '-n', ns, kind, metadata.name as string, '-o', 'json']));
        expect({ file, spec: live.spec }).toEqual({ file, spec: offline.object.spec });
      }
    }
  });

  it('show the printer columns in kubectl get', () => {
    const stacks = kubectlOk(['get', 'ostack', '-n', ns]).split('\n')[0];
    expect(stacks.split(/\s+/).filter(Boolean)).toEqual(['NAME', 'READY', 'REASON', 'AGE']);
    const slos = kubectlOk(['get', 'slo', '-n', ns]).split('\n')[0];
    expect(slos.split(/\s+/).filter(Boolean)).toEqual(['NAME', 'SERVICE', 'OBJECTIVE', 'WINDOW', 'READY', 'AGE']);
  });

  it('are listed under the vigil category', () => {
    const out = kubectlOk(['get', 'vigil', '-n', ns, '-o', 'name']);
    expect(out).toMatch(/observabilitystack\.observability\.vigil\.dev\/full/);
    expect(out).toMatch(/slo\.observability\.vigil\.dev\/checkout-latency/);
  });

  it('reject what vigil validate rejects, and nothing else', () => {
    // Each rule, written as CEL for the API server and as a predicate offline, must agree.
    const cases: [string, Record<string, unknown>][] = [
      [
        'receiver with two kinds',
        {
          alerting: {
            receivers: [
              { name: 'a', webhook: { url: 'http://a' }, slack: { apiURLSecretRef: { name: 's', key: 'k' } } },
            ],
          },
        },
      ],
      [
        'duplicate receivers',
        {
          alerting: {
            receivers: [
              { name: 'a', webhook: { url: 'http://a' } },
              { name: 'a', webhook: { url: 'http://b' } },
            ],
          },
        },
      ],
      ['logs without collector', { collector: { enabled: false }, logs: { enabled: true } }],
      ['collector off, nothing needing it', { collector: { enabled: false } }],
      [
        'routes with receivers',
        { alerting: { receivers: [{ name: 'a', webhook: { url: 'http://a' } }], routes: [{ receiver: 'a' }] } },
      ],
    ];
    for (const [name, spec] of cases) {
      const doc = {
        apiVersion: 'observability.vigil.dev/v1alpha1',
        kind: 'ObservabilityStack',
        metadata: { name: 'rule-check', namespace: ns },
        spec: { environment: 'dev', size: 'demo', ...spec },
      };
      const offline = validateResource(doc).ok;
      const live = kubectl(['apply', '--dry-run=server', '-f', '-'], yaml.dump(doc)).code === 0;
      expect({ name, accepted: live }).toEqual({ name, accepted: offline });
    }
  });
});

describe('the local control plane', () => {
  it('runs the pods of a plain Deployment, so it becomes Available', () => {
    kubectlOk(['create', 'deployment', 'web', '-n', ns, '--image=registry.example/web:1', '--replicas=2']);
    const r = kubectl(['wait', '-n', ns, '--for=condition=Available', '--timeout=60s', 'deployment/web']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const ready = kubectlOk(['get', 'deployment', 'web', '-n', ns, '-o', 'jsonpath={.status.readyReplicas}']);
    expect(ready).toBe('2');
  });
});
