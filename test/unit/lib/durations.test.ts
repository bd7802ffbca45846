import { describe, expect, it } from '@jest/globals';
import {
  DURATION,
  DURATION_PATTERN,
  durationHours,
  durationMs,
  durationSeconds,
  goDuration,
} from '../../../lib/durations.js';

describe('durations', () => {
  it('reads every Prometheus unit, and sums a compound duration', () => {
    expect(['500ms', '30s', '5m', '6h', '30d', '4w', '1y'].map(durationMs)).toEqual([
      500, 30_000, 300_000, 21_600_000, 2_592_000_000, 2_419_200_000, 31_536_000_000,
    ]);
    expect(durationSeconds('1h30m')).toBe(5400);
    expect(durationSeconds('1m500ms')).toBe(60.5);
    expect(durationSeconds('1500ms')).toBe(1.5);
  });

  it('gives whole hours for the SLO periods and alert windows', () => {
    expect(['1h', '6h', '1d', '3d', '28d', '30d', '4w'].map(durationHours)).toEqual([1, 6, 24, 72, 672, 720, 672]);
    expect(durationHours('5m') * 12).toBeCloseTo(1, 12);
  });

  it('is NaN for text that is not a duration', () => {
    for (const bad of ['', '5', 'm5', '1.5h', '5 m', '-5m', '5mm', '1h 30m', '5M', '7days', 'P1D']) {
      expect(durationMs(bad)).toBeNaN();
      expect(durationSeconds(bad)).toBeNaN();
    }
  });

  it('has a schema pattern and an embeddable fragment that accept exactly what it reads', () => {
    const whole = new RegExp(DURATION_PATTERN);
    const embedded = new RegExp(`^\\[${DURATION}\\]$`);
    for (const d of ['30s', '1h30m', '500ms', '7d']) {
      expect(whole.test(d)).toBe(true);
      expect(embedded.test(`[${d}]`)).toBe(true);
    }
    for (const d of ['1.5h', '5', '']) {
      expect(whole.test(d)).toBe(false);
      expect(Number.isNaN(durationMs(d))).toBe(true);
    }
  });

  it("writes Go's form in the largest whole unit, and refuses what is not a duration", () => {
    expect(['7d', '2w', '90m', '1h30m', '90s', '1500ms', '1y'].map(goDuration)).toEqual([
      '168h',
      '336h',
      '90m',
      '90m',
      '90s',
      '1500ms',
      '8760h',
    ]);
    expect(() => goDuration('seven days')).toThrow('"seven days" is not a duration such as 30s, 1h30m or 7d');
  });
});
