import { describe, expect, it } from '@jest/globals';
import { backoffCeilingMs, backoffMs } from '../../../lib/backoff.js';

const policy = { baseMs: 100, maxMs: 1000 };

describe('backoff', () => {
  it('doubles the ceiling with every attempt up to the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 100, 5000].map((a) => backoffCeilingMs(a, policy))).toEqual([
      100, 200, 400, 800, 1000, 1000, 1000, 1000,
    ]);
    expect(backoffCeilingMs(2000, { baseMs: 0, maxMs: 10 })).toBe(0);
  });

  it('draws full jitter from [0, ceiling] by default', () => {
    expect(backoffMs(3, policy, () => 0)).toBe(0);
    expect(backoffMs(3, policy, () => 0.5)).toBe(400);
    expect(backoffMs(3, policy, () => 0.999999)).toBe(800);
  });

  it('keeps the part of the wait that is not jitter', () => {
    const half = { ...policy, jitter: 0.5 };
    expect(backoffMs(2, half, () => 0)).toBe(200);
    expect(backoffMs(2, half, () => 0.999999)).toBe(400);
    expect(backoffMs(2, { ...policy, jitter: 0 }, () => 0.3)).toBe(400);
  });

  it('spreads the waits of many clients over the whole range, never past the cap', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const waits = Array.from({ length: 2000 }, () => backoffMs(10, policy, random));
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...waits)).toBeLessThanOrEqual(1000);
    // Every tenth of the range gets some of the 2000 waits.
    const deciles = new Set(waits.map((w) => Math.min(9, Math.floor(w / 100))));
    expect(deciles.size).toBe(10);
    expect(new Set(waits).size).toBeGreaterThan(500);
  });

  it('refuses a policy or attempt that makes no sense, naming it', () => {
    expect(() => backoffMs(-1, policy)).toThrow('attempt must be an integer >= 0 (got -1)');
    expect(() => backoffMs(1.5, policy)).toThrow('attempt must be an integer >= 0');
    expect(() => backoffMs(0, { baseMs: -1, maxMs: 10 })).toThrow('baseMs must be >= 0');
    expect(() => backoffMs(0, { baseMs: 100, maxMs: 10 })).toThrow('maxMs must be >= baseMs (got 10 < 100)');
    expect(() => backoffMs(0, { ...policy, jitter: 2 })).toThrow('jitter must be within 0..1 (got 2)');
  });
});
