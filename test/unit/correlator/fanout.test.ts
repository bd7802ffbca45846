// The query fan-out (correlator/fanout.ts): real correlators on 127.0.0.1 asking each other, and
// plain HTTP servers playing the peers that misbehave (slow, too long an answer, not JSON, an
// error status), so that each way a peer can fail is seen to leave it out and name it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../../correlator/config.js';
import { type Answer, mergeAnswers, parseAnswer, peerFanout } from '../../../correlator/fanout.js';
import type { CorrelationView } from '../../../correlator/store.js';
import { aCorrelator, TRACE_A, TRACE_B } from './helpers.js';
import { freePort } from './peers.js';

const T0 = Date.UTC(2026, 0, 1);
const rec = (trace: string, id: number, openedMs: number): CorrelationView => ({
  correlation_id: `${trace}-${id}`,
  trace_id: trace,
  status: 'closed',
  services: ['s'],
  span_count: 1,
  error_spans: 0,
  log_count: 0,
  logs_by_severity: {},
  first_time: null,
  last_time: null,
  attributes: {},
  opened_at: new Date(openedMs).toISOString(),
  closed_at: null,
});
const answer = (correlations: CorrelationView[], instance?: string, held = correlations.length): Answer => ({
  count: correlations.length,
  held,
  correlations,
  instance,
});
const tid = (n: number) => n.toString(16).padStart(32, '0');

describe('mergeAnswers', () => {
  it('gives the newest first across answers and stops at the limit', () => {
    const a = answer([rec(tid(5), 2, T0 + 50), rec(tid(3), 1, T0 + 30), rec(tid(1), 0, T0 + 10)]);
    const b = answer([rec(tid(6), 1, T0 + 60), rec(tid(2), 0, T0 + 20)]);
    expect(mergeAnswers([a, b], 10).map((c) => c.trace_id)).toEqual([6, 5, 3, 2, 1].map(tid));
    expect(mergeAnswers([a, b], 3).map((c) => c.trace_id)).toEqual([6, 5, 3].map(tid));
    expect(mergeAnswers([a, answer([])], 2).map((c) => c.trace_id)).toEqual([5, 3].map(tid));
  });

  it("keeps each answer's own order among equal times (its store's creation order)", () => {
    const a = answer([rec(tid(2), 9, T0), rec(tid(1), 8, T0)]);
    const b = answer([rec(tid(4), 3, T0), rec(tid(3), 2, T0)]);
    expect(mergeAnswers([a, b], 10).map((c) => c.correlation_id)).toEqual([
      `${tid(2)}-9`,
      `${tid(1)}-8`,
      `${tid(4)}-3`,
      `${tid(3)}-2`,
    ]);
  });

  it('keeps a record two answers both carry once, and two replicas’ records of one trace both', () => {
    const same = rec(TRACE_A, 4, T0 + 10);
    const merged = mergeAnswers([answer([same]), answer([{ ...same }, rec(TRACE_A, 4, T0 + 5)])], 10);
    // The same id opened at another time is another replica's record of that trace.
    expect(merged.map((c) => `${c.correlation_id}@${c.opened_at}`)).toEqual([
      `${TRACE_A}-4@${new Date(T0 + 10).toISOString()}`,
      `${TRACE_A}-4@${new Date(T0 + 5).toISOString()}`,
    ]);
  });

  it('refuses answers it cannot merge', () => {
    expect(() => parseAnswer('not json')).toThrow('not JSON');
    expect(() => parseAnswer('{"count":1}')).toThrow('no correlations list');
    expect(() => parseAnswer('{"held":1,"correlations":[{"trace_id":"x"}]}')).toThrow('no correlation_id');
    expect(parseAnswer(JSON.stringify(answer([rec(TRACE_B, 1, T0)], 'i-1', 7)))).toMatchObject({
      held: 7,
      instance: 'i-1',
    });
  });
});

describe('peerFanout: who is asked', () => {
  const base = loadConfig({ CORRELATOR_PEERS_DNS: 'c-headless.ns.svc:8080', POD_IP: '10.0.0.2' }).peers;
  if (!base) throw new Error('peers not configured');

  it('resolves the name on every query and leaves its own address out', async () => {
    let answers = ['10.0.0.1', '10.0.0.2', '10.0.0.3'];
    const f = peerFanout(base, { instance: 'x', resolve: async () => answers });
    expect((await f.peers()).peers).toEqual(['10.0.0.1:8080', '10.0.0.3:8080']);
    answers = ['10.0.0.2', 'fd00::7'];
    expect((await f.peers()).peers).toEqual(['[fd00::7]:8080']);
  });

  it('answers for itself, partial and naming the Service, when the name does not resolve', async () => {
    const results: string[] = [];
    const f = peerFanout(base, {
      instance: 'x',
      resolve: async () => {
        throw new Error('queryA ENOTFOUND c-headless.ns.svc');
      },
      onPeer: (r) => results.push(r),
    });
    const local = answer([rec(TRACE_A, 0, T0)], undefined, 1);
    const got = await f.query({ limit: '10' }, 10, local);
    expect(got).toMatchObject({ partial: true, failed: ['c-headless.ns.svc:8080'], replicas: 1, held: 1, count: 1 });
    expect(results).toEqual(['resolve']);
  });
});

// ---- Real correlators and misbehaving peers on 127.0.0.1 ----

const servers: Server[] = [];
const correlators: { stop(): Promise<unknown> }[] = [];
afterAll(async () => {
  await Promise.all(correlators.splice(0).map((c) => c.stop()));
  await Promise.all(
    servers.splice(0).map((s) => {
      s.closeAllConnections();
      return new Promise((r) => s.close(r));
    }),
  );
});

/** A peer that answers every request with `handler`, recording the request URLs. */
async function fakePeer(handler: Parameters<typeof createServer>[1]): Promise<{ addr: string; urls: string[] }> {
  const urls: string[] = [];
  const s = createServer((req, res) => {
    urls.push(req.url ?? '');
    handler?.(req, res);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  servers.push(s);
  return { addr: `127.0.0.1:${(s.address() as AddressInfo).port}`, urls };
}

/** A started correlator on a port chosen first (so peers can name it), its clock at `clockMs`. */
async function replica(port: number, env: Record<string, string>, clockMs: number | (() => number)) {
  const now = typeof clockMs === 'number' ? () => clockMs : clockMs;
  const c = aCorrelator({ PORT: `${port}`, ...env }, { now });
  await c.start();
  correlators.push(c);
  return c;
}

async function event(port: number, trace: string, service: string, headers: Record<string, string> = {}) {
  const res = await fetch(`http://127.0.0.1:${port}/api/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ trace_id: trace, service, message: 'm' }),
  });
  expect(res.status).toBe(202);
}

async function query(port: number, search: string, headers: Record<string, string> = {}) {
  const res = await fetch(`http://127.0.0.1:${port}/api/correlations?${search}`, { headers });
  const body = (await res.json()) as {
    count: number;
    held: number;
    correlations: CorrelationView[];
    partial?: boolean;
    failed?: string[];
    replicas?: number;
    instance?: string;
    message?: string;
  };
  return { status: res.status, body };
}

async function metric(c: { metrics: { registry: { getSingleMetricAsString(n: string): Promise<string> } } }) {
  return c.metrics.registry.getSingleMetricAsString('query_peer_requests_total');
}

describe('two correlators that name each other', () => {
  it('answer a query on either for both stores, newest first, and never ask back', async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    // Each lists both addresses, its own included: it finds itself by its instance id.
    const peers = `127.0.0.1:${pa},127.0.0.1:${pb}`;
    const a = await replica(pa, { CORRELATOR_PEERS: peers }, T0 + 1000);
    const b = await replica(pb, { CORRELATOR_PEERS: peers }, T0 + 2000);
    await event(pa, TRACE_A, 'checkout');
    await event(pb, TRACE_B, 'payments');

    for (const port of [pa, pb]) {
      const all = await query(port, 'limit=10');
      expect(all.status).toBe(200);
      expect(all.body).toMatchObject({ count: 2, held: 2, replicas: 2, partial: false, failed: [] });
      // B's clock is later: its record is the newer.
      expect(all.body.correlations.map((c) => c.trace_id)).toEqual([TRACE_B, TRACE_A]);
      expect((await query(port, 'limit=1')).body.correlations.map((c) => c.trace_id)).toEqual([TRACE_B]);
      for (const [t, s] of [
        [TRACE_A, 'checkout'],
        [TRACE_B, 'payments'],
      ]) {
        const byTrace = await query(port, `trace_id=${t}`);
        expect(byTrace.body.correlations.map((c) => [c.trace_id, c.services])).toEqual([[t, [s]]]);
        const byService = await query(port, `service=${s}&limit=5`);
        expect(byService.body.correlations.map((c) => c.trace_id)).toEqual([t]);
      }
    }
    // local=1 is this replica's store only, with its instance id.
    const own = await query(pa, 'local=1&limit=10');
    expect(own.body.correlations.map((c) => c.trace_id)).toEqual([TRACE_A]);
    expect(own.body).toMatchObject({ held: 1, instance: expect.any(String) });
    expect(own.body.partial).toBeUndefined();
    expect((await query(pa, 'local=yes')).body.message).toBe('local: must be 1 (answer from this replica only)');
    expect((await query(pa, 'limit=0')).status).toBe(400);

    // Each of the 6 fanned-out queries per replica asked two addresses (itself and the other)
    // once each: 12 peer requests on each side and nothing more, so no request fanned out again.
    expect(await metric(a)).toMatch(/query_peer_requests_total\{result="ok"\} 12(\n|$)/);
    expect(await metric(b)).toMatch(/query_peer_requests_total\{result="ok"\} 12(\n|$)/);
  });

  it('send their Basic auth to each other, and name a peer that refuses it', async () => {
    const [pa, pb, pc] = [await freePort(), await freePort(), await freePort()];
    const auth = { BASIC_AUTH_USER: 'vigil', BASIC_AUTH_PASSWORD: 's3cret' };
    const header = { authorization: `Basic ${Buffer.from('vigil:s3cret').toString('base64')}` };
    await replica(pa, { ...auth, CORRELATOR_PEERS: `127.0.0.1:${pb},127.0.0.1:${pc}` }, T0);
    await replica(pb, auth, T0);
    await replica(pc, { BASIC_AUTH_USER: 'vigil', BASIC_AUTH_PASSWORD: 'other' }, T0);
    await event(pb, TRACE_B, 'payments', header);
    expect((await query(pa, 'limit=10')).status).toBe(401);
    const got = await query(pa, 'limit=10', header);
    expect(got.body.correlations.map((c) => c.trace_id)).toEqual([TRACE_B]);
    expect(got.body).toMatchObject({ partial: true, failed: [`127.0.0.1:${pc}`], replicas: 2 });
  });
});

describe('a peer that fails is left out and named', () => {
  it('down, slow, too long, not an answer, or an error status: partial, with each one named', async () => {
    const closed = await freePort();
    const slow = await fakePeer(() => {
      // Never answers.
    });
    const big = { held: 1, correlations: Array.from({ length: 50 }, (_, i) => rec(tid(i + 1), i, T0)) };
    const long = await fakePeer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(big)),
    );
    // The same, without Content-Length: cut while it arrives.
    const chunked = await fakePeer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(JSON.stringify(big).slice(0, 900));
      res.end(JSON.stringify(big).slice(900));
    });
    const garbage = await fakePeer((_req, res) => res.writeHead(200).end('<html>'));
    const failing = await fakePeer((_req, res) => res.writeHead(500).end('{"message":"internal error"}'));
    const good = await fakePeer((_req, res) =>
      res.writeHead(200).end(JSON.stringify(answer([rec(TRACE_B, 3, T0 + 5)], 'peer-good', 4))),
    );
    const list = [`127.0.0.1:${closed}`, slow.addr, long.addr, chunked.addr, garbage.addr, failing.addr, good.addr];
    const port = await freePort();
    const clock = { ms: T0 };
    const c = await replica(
      port,
      { CORRELATOR_PEERS: list.join(','), CORRELATOR_PEER_TIMEOUT_MS: '300', CORRELATOR_PEER_MAX_BYTES: '2048' },
      () => clock.ms,
    );
    await event(port, TRACE_A, 'checkout');

    const got = await query(port, `service=checkout&start_time=${T0 / 1000 - 60}&limit=7`);
    expect(got.status).toBe(200);
    expect(got.body.correlations.map((x) => x.trace_id)).toEqual([TRACE_B, TRACE_A]);
    expect(got.body).toMatchObject({ partial: true, replicas: 2, held: 5 });
    expect([...(got.body.failed ?? [])].sort()).toEqual(list.filter((p) => p !== good.addr).sort());
    const m = await metric(c);
    for (const [result, n] of [
      ['ok', 1],
      ['unreachable', 1],
      ['timeout', 1],
      ['too_large', 2],
      ['invalid', 1],
      ['status', 1],
    ] as const) {
      expect(m).toMatch(new RegExp(`query_peer_requests_total\\{result="${result}"\\} ${n}(\\n|$)`));
    }
    expect(await c.metrics.registry.getSingleMetricAsString('query_fanout_partial_total')).toMatch(/ 1$/);
    // Every peer was asked once, for this replica's store only, with the query's own parameters.
    for (const p of [slow, long, chunked, garbage, failing, good]) {
      expect(p.urls).toEqual([`/api/correlations?service=checkout&start_time=${T0 / 1000 - 60}&limit=7&local=1`]);
    }
    const logged = () => c.lines.filter((l) => l.msg === 'Peer left out of a query');
    expect(
      logged()
        .map((l) => [l.peer, l.result])
        .sort(),
    ).toEqual(
      [
        [`127.0.0.1:${closed}`, 'unreachable'],
        [slow.addr, 'timeout'],
        [long.addr, 'too_large'],
        [chunked.addr, 'too_large'],
        [garbage.addr, 'invalid'],
        [failing.addr, 'status'],
      ].sort(),
    );
    // A peer failing every query is logged once a minute, with how many failures went unlogged.
    await query(port, 'limit=1');
    expect(logged().length).toBe(6);
    clock.ms += 60_000;
    await query(port, 'limit=1');
    expect(logged().length).toBe(12);
    expect(logged().find((l) => l.peer === slow.addr && l.suppressed === 1)).toBeDefined();
  });
});

describe('peer configuration', () => {
  const err = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  };

  it('is off without peers, and names the variable of a bad address', () => {
    expect(loadConfig({}).peers).toBeUndefined();
    expect(loadConfig({ CORRELATOR_PEERS: ' 10.0.0.1:8080, [fd00::1]:8080,10.0.0.1:8080' }).peers).toMatchObject({
      static: ['10.0.0.1:8080', '[fd00::1]:8080'],
      timeoutMs: 2000,
      maxResponseBytes: 8 * 1024 * 1024,
    });
    expect(loadConfig({ CORRELATOR_PEERS_DNS: 'c-headless.ns.svc' }).peers?.dns).toEqual({
      host: 'c-headless.ns.svc',
      port: 8080,
    });
    expect(err({ CORRELATOR_PEERS: '10.0.0.1' })).toBe('CORRELATOR_PEERS: must be host:port, got "10.0.0.1"');
    expect(err({ CORRELATOR_PEERS: 'http://x:1' })).toMatch(/^CORRELATOR_PEERS: must be host:port/);
    expect(err({ CORRELATOR_PEERS_DNS: 'x:0' })).toMatch(/^CORRELATOR_PEERS_DNS: must be host:port/);
    expect(err({ CORRELATOR_PEERS: 'x:1', CORRELATOR_PEER_TIMEOUT_MS: '5' })).toMatch(
      /^CORRELATOR_PEER_TIMEOUT_MS: must be between 10/,
    );
  });
});
