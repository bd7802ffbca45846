import { describe, expect, it } from '@jest/globals';
import { isSubset, jsonEqual, mergePatch, setConditions } from '../../../controller/status.js';

describe('setConditions', () => {
  const ready = (status: 'True' | 'False', reason = 'R') => ({ type: 'Ready', status, reason, message: 'm' });

  it('keeps lastTransitionTime while the status stays the same', () => {
    const first = setConditions(undefined, [ready('False')], 1, 't1');
    const second = setConditions(first, [ready('False', 'Other')], 2, 't2');
    expect(second[0]).toMatchObject({ lastTransitionTime: 't1', reason: 'Other', observedGeneration: 2 });
  });

  it('moves lastTransitionTime when the status changes', () => {
    const first = setConditions(undefined, [ready('False')], 1, 't1');
    expect(setConditions(first, [ready('True')], 1, 't2')[0].lastTransitionTime).toBe('t2');
  });
});

describe('isSubset (drift detection)', () => {
  it('ignores fields the server or other managers added', () => {
    expect(isSubset({ spec: { replicas: 1 } }, { spec: { replicas: 1, revisionHistoryLimit: 10 }, status: {} })).toBe(
      true,
    );
  });

  it('sees a hand edit of a field we set', () => {
    expect(isSubset({ spec: { replicas: 1 } }, { spec: { replicas: 3 } })).toBe(false);
    expect(isSubset({ data: { 'a.yaml': 'x' } }, { data: { 'a.yaml': 'y' } })).toBe(false);
  });

  it('sees a deleted list item and a missing key', () => {
    expect(isSubset({ ports: [{ port: 1 }, { port: 2 }] }, { ports: [{ port: 1 }] })).toBe(false);
    expect(isSubset({ data: { a: '1', b: '2' } }, { data: { a: '1' } })).toBe(false);
  });

  it('treats quantities the server canonicalised as equal', () => {
    expect(isSubset({ cpu: '1000m', memory: '1024Mi' }, { cpu: '1', memory: '1Gi' })).toBe(true);
    expect(isSubset({ cpu: '0.5' }, { cpu: '500m' })).toBe(true);
    expect(isSubset({ cpu: '100m' }, { cpu: '200m' })).toBe(false);
  });

  it('does not count an empty object the server dropped as drift', () => {
    expect(isSubset({ spec: { securityContext: {} } }, { spec: {} })).toBe(true);
  });
});

describe('jsonEqual', () => {
  it('ignores key order and undefined values', () => {
    expect(jsonEqual({ a: 1, b: [1, { c: 2 }], d: undefined }, { b: [1, { c: 2 }], a: 1 })).toBe(true);
    expect(jsonEqual({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
  });
});

describe('mergePatch', () => {
  it('removes keys that are gone, at any depth, and replaces arrays whole', () => {
    const current = {
      endpoints: { grafana: 'g', tempo: 't' },
      components: { tempo: { ready: false, message: 'waiting' } },
      conditions: [1, 2],
    };
    const next = { endpoints: { grafana: 'g' }, components: { tempo: { ready: true } }, conditions: [3] };
    expect(mergePatch(current, next)).toEqual({
      endpoints: { grafana: 'g', tempo: null },
      components: { tempo: { ready: true, message: null } },
      conditions: [3],
    });
  });
});
