import { describe, expect, it } from '@jest/globals';
import { quantityBytes, quantityMiB, quantityValue, sameQuantity } from '../../../lib/quantities.js';

describe('quantities', () => {
  it('reads binary and decimal suffixes as Kubernetes does (m is milli, M mega)', () => {
    expect(['512Mi', '1Gi', '1.5Gi', '2Ti', '1Ki'].map(quantityBytes)).toEqual([
      512 * 2 ** 20,
      2 ** 30,
      1.5 * 2 ** 30,
      2 * 2 ** 40,
      1024,
    ]);
    expect(['1k', '1M', '1G', '2', '0.5', '.5'].map(quantityValue)).toEqual([1e3, 1e6, 1e9, 2, 0.5, 0.5]);
    expect(quantityValue('500m')).toBe(0.5);
    expect(quantityValue('250u')).toBeCloseTo(250e-6, 15);
    expect(quantityValue('1e3')).toBe(1000);
    expect(quantityValue('+1Ki')).toBe(1024);
  });

  it('gives mebibytes for memory limits', () => {
    expect(quantityMiB('256Mi')).toBe(256);
    expect(quantityMiB('1Gi')).toBe(1024);
    expect(quantityMiB('1G')).toBeCloseTo(953.674, 3);
  });

  it('is NaN for text that is not a quantity', () => {
    for (const bad of ['', 'Mi', '1.2.3', '1 Gi', '1gi', '1KiB', '1Xi', '1mi', 'ten']) {
      expect(quantityValue(bad)).toBeNaN();
    }
  });

  it('takes a number as is, and compares two spellings of one amount', () => {
    expect(quantityValue(3)).toBe(3);
    expect(sameQuantity('1000m', '1')).toBe(true);
    expect(sameQuantity('0.5', '500m')).toBe(true);
    expect(sameQuantity('1Gi', 1073741824)).toBe(true);
    expect(sameQuantity('100m', 0.1)).toBe(true);
    expect(sameQuantity('1Gi', '1G')).toBe(false);
    expect(sameQuantity('1Gi', 'lots')).toBe(false);
  });
});
