// The block summaries that let a query skip records must never change an answer: every filtered
// query equals the plain filter over everything held, through late data, closing and eviction.
import { describe, expect, it } from '@jest/globals';
import { type Correlation, CorrelationStore, type Query } from '../../../correlator/store.js';

/** A small deterministic PRNG (mulberry32), so a failure replays. */
function rng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function plain(all: Correlation[], q: Query): Correlation[] {
  return all
    .filter(
      (c) =>
        (q.service === undefined || c.services.includes(q.service)) &&
        (q.startMs === undefined || (c.lastMs || c.openedAt) >= q.startMs) &&
        (q.endMs === undefined || (c.firstMs || c.openedAt) <= q.endMs),
    )
    .slice(0, q.limit);
}

describe('correlation store queries', () => {
  it.each([1, 2, 3])('answer filtered queries exactly as a full scan would (seed %i)', (seed) => {
    const rand = rng(seed);
    let clock = 1_760_000_000_000;
    const store = new CorrelationStore({
      windowMs: 5_000,
      maxCorrelations: 3_000,
      now: () => clock,
      onClose: () => {},
    });
    const services = Array.from({ length: 30 }, (_, i) => `svc-${i}`);
    // Skewed (a few services everywhere, most rare) and shifting: each phase has services of its own.
    let phase = 0;
    const pick = () =>
      rand() < 0.02
        ? services[Math.floor(services.length * rand() ** 3)]
        : services[(phase * 5 + Math.floor(rand() * 5)) % services.length];
    const traces: string[] = [];
    for (let step = 0; step < 12_000; step++) {
      phase = Math.floor(step / 1500);
      clock += Math.floor(rand() * 5);
      const reuse = traces.length > 0 && rand() < 0.3;
      const traceId = reuse
        ? traces[traces.length - 1 - Math.floor(rand() * Math.min(50, traces.length))]
        : (step + 1).toString(16).padStart(32, '0');
      if (!reuse) traces.push(traceId);
      // Event times mostly near arrival, sometimes far in the past (backfill).
      const t = rand() < 0.002 ? clock - 3_600_000 * rand() : clock - 1000 * rand();
      if (rand() < 0.5) {
        store.addSpans([
          {
            traceId,
            spanId: '00000000000000a1',
            service: pick(),
            name: 'op',
            startMs: t,
            endMs: t + 5,
            error: false,
            attrs: undefined,
          },
        ]);
      } else {
        store.addLogs([
          {
            traceId,
            spanId: null,
            timeMs: rand() < 0.1 ? 0 : t,
            severity: 'INFO',
            service: pick(),
            body: '',
            attrs: undefined,
          },
        ]);
      }
      if (step % 97 === 0) store.sweep();
    }
    expect(store.evictedOpen + store.evictedClosed).toBeGreaterThan(0);
    const all = store.query({ limit: Number.MAX_SAFE_INTEGER });
    expect(all).toHaveLength(store.size);
    for (let n = 0; n < 300; n++) {
      const from = clock - Math.floor(rand() * 4_000_000);
      const q: Query = {
        service: rand() < 0.6 ? pick() : undefined,
        startMs: rand() < 0.6 ? from : undefined,
        endMs: rand() < 0.5 ? from + Math.floor(rand() * 200_000) : undefined,
        limit: 1 + Math.floor(rand() * 200),
      };
      expect(store.query(q).map((c) => c.id)).toEqual(plain(all, q).map((c) => c.id));
    }
    expect(store.skippedBlocks).toBeGreaterThan(100);
  });
});
