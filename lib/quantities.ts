// Kubernetes resource quantities (512Mi, 1.5Gi, 500m, 2): what a memory limit, a CPU request or a
// volume size stands for as a number. One parser for every reader (sizing, GOMEMLIMIT and heap
// flags, the comparison of desired with live objects).

/** Binary suffixes and decimal SI suffixes, as Kubernetes reads them (m is milli, M mega). */
const FACTORS: Readonly<Record<string, number>> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

// Kubernetes' quantity grammar: sign, digits with an optional fraction, then a suffix or a
// decimal exponent (1e3).
const QUANTITY = /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$/;

/**
 * The number a quantity stands for (1Gi → 1073741824, 500m → 0.5, 1e3 → 1000); a number is taken
 * as is. NaN when it is not a quantity.
 */
export function quantityValue(q: string | number): number {
  if (typeof q === 'number') return q;
  const m = typeof q === 'string' ? QUANTITY.exec(q) : null;
  if (!m) return Number.NaN;
  const suffix = m[2] ?? '';
  const factor = /^[eE]/.test(suffix) ? 10 ** Number(suffix.slice(1)) : FACTORS[suffix];
  return Number(m[1]) * factor;
}

/** Bytes in a memory or storage quantity; NaN when it is not a quantity. */
export const quantityBytes = (q: string | number): number => quantityValue(q);

/** Mebibytes (2^20 bytes) in a memory quantity; NaN when it is not a quantity. */
export const quantityMiB = (q: string | number): number => quantityValue(q) / 2 ** 20;

/**
 * Whether two quantities stand for the same amount (1000m and 1, 1Gi and 1073741824). The API
 * server canonicalises quantities, so a live object may spell the value another way.
 */
export function sameQuantity(a: string | number, b: string | number): boolean {
  const x = quantityValue(a);
  const y = quantityValue(b);
  if (Number.isNaN(x) || Number.isNaN(y)) return false;
  return x === y || Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x), Math.abs(y));
}
