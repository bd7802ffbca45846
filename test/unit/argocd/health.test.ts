// The Argo CD health checks, run as Lua: Debian's lua5.4 (make ensure-lua) executes each script
// with `obj` set the way Argo CD sets it, from a sample object written out as a Lua table literal
// (lua5.4 has no JSON library).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { HEALTH_CHECK_KINDS, healthKey } from '../../../hack/manifests.js';
import { REPO_ROOT } from '../../support/paths.js';

const HEALTH_DIR = join(REPO_ROOT, 'manifests', 'argocd', 'health');
const scratch = mkdtempSync(join(tmpdir(), 'vigil-lua-'));

/** A JSON value as a Lua expression. null becomes nil, which drops the key as Argo CD's conversion does. */
function luaLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`not a JSON number: ${v}`);
    return String(v);
  }
  if (typeof v === 'string') {
    // Decimal escapes for every byte outside printable ASCII, quote and backslash: valid in 5.1 and 5.4.
    let out = '"';
    for (const b of Buffer.from(v, 'utf8')) {
      out += b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c ? String.fromCharCode(b) : `\\${b}`;
    }
    return `${out}"`;
  }
  if (Array.isArray(v)) return `{${v.map(luaLiteral).join(', ')}}`;
  return `{${Object.entries(v as Record<string, unknown>)
    .filter(([, x]) => x !== null && x !== undefined)
    .map(([k, x]) => `[${luaLiteral(k)}] = ${luaLiteral(x)}`)
    .join(', ')}}`;
}

function health(script: string, obj: unknown): { status: string; message: string } {
  const harness = join(scratch, 'harness.lua');
  writeFileSync(
    harness,
    `obj = ${luaLiteral(obj)}\nlocal hs = dofile(${luaLiteral(script)})\nio.write(tostring(hs.status), "\\n", tostring(hs.message))\n`,
  );
  const r = spawnSync('lua5.4', [harness], { encoding: 'utf8' });
  if (r.error) throw new Error(`lua5.4 did not run (make ensure-lua installs it): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`lua5.4 failed: ${r.stderr}`);
  const [status, ...message] = r.stdout.split('\n');
  return { status, message: message.join('\n') };
}

type Cond = { type: string; status: 'True' | 'False' | 'Unknown'; reason?: string; message?: string; og?: number };

function sample(kind: string, generation: number, status?: { observedGeneration?: number; conditions: Cond[] }) {
  return {
    apiVersion: 'observability.vigil.dev/v1alpha1',
    kind,
    metadata: { name: 'full', namespace: 'observability', generation },
    spec: { environment: 'staging' },
    status: status && {
      observedGeneration: status.observedGeneration,
      conditions: status.conditions.map(({ og, ...c }) => ({
        ...c,
        observedGeneration: og ?? status.observedGeneration,
        lastTransitionTime: '2025-01-01T00:00:00Z',
      })),
    },
  };
}

const ready = (s: Cond['status'], message: string, og?: number): Cond => ({
  type: 'Ready',
  status: s,
  reason: 'R',
  message,
  og,
});
const progressing = (s: Cond['status'], message: string): Cond => ({ type: 'Progressing', status: s, message });
const degraded = (s: Cond['status'], message: string): Cond => ({ type: 'Degraded', status: s, message });

describe.each(HEALTH_CHECK_KINDS.map((k) => [k.kind, join(HEALTH_DIR, k.file)]))(
  'the %s health check',
  (kind, file) => {
    const run = (obj: unknown) => health(file, obj);

    it('is Progressing while the operator has written no status yet', () => {
      expect(run(sample(kind, 1))).toEqual({
        status: 'Progressing',
        message: `Waiting for the Vigil operator to report the ${kind}'s status.`,
      });
      expect(run(sample(kind, 1, { conditions: [] })).status).toBe('Progressing');
    });

    it('is Progressing while the status is for an older generation, even a Ready one', () => {
      const obj = sample(kind, 3, {
        observedGeneration: 2,
        conditions: [ready('True', 'All components are available.'), degraded('False', 'No problems.')],
      });
      expect(run(obj)).toEqual({
        status: 'Progressing',
        message: 'Waiting for the Vigil operator to act on generation 3 (its status is for generation 2).',
      });
    });

    it("takes the Ready condition's observedGeneration when status.observedGeneration is absent", () => {
      const obj = sample(kind, 5, { conditions: [ready('True', 'All components are available.', 4)] });
      expect(run(obj).status).toBe('Progressing');
      expect(run(obj).message).toContain('generation 5');
    });

    it('is Healthy when Ready is True for the current generation', () => {
      const obj = sample(kind, 2, {
        observedGeneration: 2,
        conditions: [
          ready('True', 'All components are available.'),
          progressing('False', 'Up to date.'),
          degraded('False', 'No problems.'),
        ],
      });
      expect(run(obj)).toEqual({ status: 'Healthy', message: 'All components are available.' });
    });

    it('is Degraded when Degraded is True, and that wins over Progressing True', () => {
      const message = 'spec.objectStorage.s3.secretRef: required when s3 is set';
      const obj = sample(kind, 4, {
        observedGeneration: 4,
        conditions: [ready('False', message), progressing('True', 'Reconciling.'), degraded('True', message)],
      });
      expect(run(obj)).toEqual({ status: 'Degraded', message });
    });

    it('does not report a Degraded left from an older generation: the new spec may fix it', () => {
      const obj = sample(kind, 5, {
        observedGeneration: 4,
        conditions: [ready('False', 'bad spec'), degraded('True', 'bad spec')],
      });
      expect(run(obj).status).toBe('Progressing');
    });

    it('is Progressing with its message when Progressing is True', () => {
      const obj = sample(kind, 2, {
        observedGeneration: 2,
        conditions: [
          ready('False', 'Waiting for loki, tempo.'),
          progressing('True', 'Waiting for loki, tempo.'),
          degraded('False', 'No problems.'),
        ],
      });
      expect(run(obj)).toEqual({ status: 'Progressing', message: 'Waiting for loki, tempo.' });
    });

    it("is Progressing with Ready's message when Ready is False and nothing is wrong", () => {
      const obj = sample(kind, 1, {
        observedGeneration: 1,
        conditions: [
          ready('False', 'Stack "full" is not Ready yet.'),
          progressing('False', 'Waiting.'),
          degraded('False', 'No problems.'),
        ],
      });
      expect(run(obj)).toEqual({ status: 'Progressing', message: 'Stack "full" is not Ready yet.' });
    });

    it('passes messages with quotes, backslashes and non-ASCII text through unchanged', () => {
      const message = 'Secret "s3-creds" has no key "a\\b" — ключ';
      const obj = sample(kind, 1, { observedGeneration: 1, conditions: [degraded('True', message)] });
      expect(run(obj)).toEqual({ status: 'Degraded', message });
    });
  },
);

describe('manifests/argocd/argocd-cm.yaml', () => {
  it('carries each Lua source verbatim under its resource.customizations.health key', () => {
    const cm = yaml.load(readFileSync(join(REPO_ROOT, 'manifests', 'argocd', 'argocd-cm.yaml'), 'utf8')) as {
      metadata: { name: string };
      data: Record<string, string>;
    };
    expect(cm.metadata.name).toBe('argocd-cm');
    expect(Object.keys(cm.data).sort()).toEqual([
      'resource.customizations.health.observability.vigil.dev_ObservabilityStack',
      'resource.customizations.health.observability.vigil.dev_SLO',
    ]);
    for (const { kind, file } of HEALTH_CHECK_KINDS) {
      expect(cm.data[healthKey(kind)]).toBe(readFileSync(join(HEALTH_DIR, file), 'utf8'));
    }
  });
});
