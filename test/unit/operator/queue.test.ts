import { describe, expect, it } from '@jest/globals';
import { TerminalError, WorkQueue } from '../../../controller/queue.js';

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('WorkQueue', () => {
  it('handles a key added many times while waiting only once', async () => {
    const seen: string[] = [];
    const q = new WorkQueue({
      workers: 1,
      handler: async (k) => {
        seen.push(k);
        return undefined;
      },
    });
    q.add('a');
    q.add('a');
    q.add('b');
    q.add('a');
    q.start();
    await tick(10);
    expect(seen).toEqual(['a', 'b']);
    await q.shutdown();
  });

  it('never hands one key to two workers at once, and runs it again when it changed meanwhile', async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const gate = deferred();
    const q = new WorkQueue({
      workers: 4,
      handler: async () => {
        running++;
        runs++;
        maxRunning = Math.max(maxRunning, running);
        if (runs === 1) await gate.promise;
        running--;
        return undefined;
      },
    });
    q.start();
    q.add('a');
    await tick(5);
    q.add('a'); // arrives while 'a' is being handled
    q.add('a');
    await tick(5);
    expect(runs).toBe(1);
    gate.resolve();
    await tick(10);
    expect(runs).toBe(2);
    expect(maxRunning).toBe(1);
    await q.shutdown();
  });

  it('retries a failing key with growing, jittered backoff and forgets it after a success', async () => {
    const q = new WorkQueue({
      workers: 1,
      baseDelayMs: 100,
      maxDelayMs: 1000,
      random: () => 1,
      handler: async () => undefined,
    });
    const delays: number[] = [];
    const failures = (q as unknown as { failures: Map<string, number> }).failures;
    for (let n = 1; n <= 6; n++) {
      failures.set('k', n);
      delays.push(q.backoffFor('k'));
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
    const low = new WorkQueue({ workers: 1, baseDelayMs: 100, random: () => 0, handler: async () => undefined });
    (low as unknown as { failures: Map<string, number> }).failures.set('k', 3);
    expect(low.backoffFor('k')).toBe(200); // jitter keeps it within [exp/2, exp]
  });

  it('handles a key again after a failure', async () => {
    let calls = 0;
    const outcomes: string[] = [];
    const q = new WorkQueue({
      workers: 1,
      baseDelayMs: 5,
      handler: async () => {
        calls++;
        if (calls < 3) throw new Error('transient');
        return undefined;
      },
      onResult: (_k, o) => outcomes.push(o),
    });
    q.start();
    q.add('a');
    await tick(80);
    expect(outcomes).toEqual(['error', 'error', 'success']);
    await q.shutdown();
  });

  it('does not retry a terminal error, forgets its backoff, and handles the key again when it is added', async () => {
    let calls = 0;
    const outcomes: string[] = [];
    const q = new WorkQueue({
      workers: 1,
      baseDelayMs: 5,
      handler: async () => {
        calls++;
        if (calls === 1) throw new Error('transient');
        throw new TerminalError(new Error('HTTP 422'));
      },
      onResult: (_k, o) => outcomes.push(o),
    });
    q.start();
    q.add('a');
    await tick(80);
    expect(outcomes).toEqual(['error', 'terminal']);
    expect(q.backoffFor('a')).toBeLessThanOrEqual(5); // the failure count was reset
    q.add('a'); // a later event
    await tick(20);
    expect(outcomes).toEqual(['error', 'terminal', 'terminal']);
    await q.shutdown();
  });

  it('runs at most the configured number of handlers at once', async () => {
    let running = 0;
    let maxRunning = 0;
    const q = new WorkQueue({
      workers: 2,
      handler: async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await tick(5);
        running--;
        return undefined;
      },
    });
    for (const k of ['a', 'b', 'c', 'd', 'e']) q.add(k);
    q.start();
    await tick(50);
    expect(maxRunning).toBe(2);
    await q.shutdown();
  });

  it('on shutdown stops taking work and waits for the handler in flight', async () => {
    const gate = deferred();
    const done: string[] = [];
    const q = new WorkQueue({
      workers: 1,
      handler: async (k) => {
        await gate.promise;
        done.push(k);
        return undefined;
      },
    });
    q.start();
    q.add('a');
    q.add('b');
    await tick(5);
    const stopped = q.shutdown();
    q.add('c');
    gate.resolve();
    await stopped;
    expect(done).toEqual(['a']);
  });

  it('rejects a worker count that is not a positive integer', () => {
    expect(() => new WorkQueue({ workers: 0, handler: async () => undefined })).toThrow(/workers/);
  });
});
