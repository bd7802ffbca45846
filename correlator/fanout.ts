// A query answered for every replica. With N replicas each holds the traces the collector routed to
// it (one replica per trace id), so `GET /api/correlations` on the Service asks its own store and
// every other replica over HTTP, and merges the answers as one store would have given them: newest
// first (by opened_at), at most `limit`. Peer requests carry `local=1`, which a replica answers from
// its own store only, so a query fans out once and never loops.
//
// A peer that does not answer in time, answers an error, answers more than the size cap or
// something that is not an answer, is left out and named: the answer says `partial: true` and
// `failed: ["host:port"]` instead of failing the whole query (docs/adr/0015).
import { lookup } from 'node:dns/promises';
import type { PeersConfig } from './config.js';
import type { CorrelationView } from './store.js';

/** One replica's answer (what `GET /api/correlations?local=1` sends). */
export interface Answer {
  readonly count: number;
  readonly held: number;
  readonly correlations: readonly CorrelationView[];
  /** Random per process: tells this replica reached by its own address, or one peer under two. */
  readonly instance?: string;
}

export interface FanoutAnswer {
  count: number;
  /** Records held by the replicas that answered. */
  held: number;
  correlations: CorrelationView[];
  /** Replicas whose answers were merged, this one included. */
  replicas: number;
  partial: boolean;
  /** Peers (host:port, or the DNS name when it did not resolve) that did not answer. */
  failed: string[];
}

export type PeerResult = 'ok' | 'timeout' | 'unreachable' | 'status' | 'too_large' | 'invalid' | 'resolve';

class PeerError extends Error {
  constructor(
    readonly result: PeerResult,
    message: string,
  ) {
    super(message);
  }
}

export interface FanoutDeps {
  /** This process's instance id (the `instance` of its local answers). */
  readonly instance: string;
  /** Sent to every peer as is (the replicas share one Basic auth Secret). */
  readonly authorization?: string;
  /** Addresses of a name (tests replace DNS); defaults to every address getaddrinfo gives. */
  readonly resolve?: (host: string) => Promise<string[]>;
  /** Called once per peer request with its result and duration. */
  readonly onPeer?: (result: PeerResult, seconds: number) => void;
  readonly onFailure?: (peer: string, result: PeerResult, message: string) => void;
}

export interface Fanout {
  /** Asks every peer with `params` (validated query parameters) and merges their answers with `local`. */
  query(params: Readonly<Record<string, string>>, limit: number, local: Answer): Promise<FanoutAnswer>;
  /** The peers a query would ask now (this replica left out where its address is known). */
  peers(): Promise<{ peers: string[]; failed: string[] }>;
}

const defaultResolve = async (host: string) => (await lookup(host, { all: true })).map((a) => a.address);

const hostPort = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An answer as a peer sent it, checked as far as the merge reads it. */
export function parseAnswer(text: string): Answer {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new PeerError('invalid', 'the answer is not JSON');
  }
  if (!isObj(v) || !Array.isArray(v.correlations) || typeof v.held !== 'number') {
    throw new PeerError('invalid', 'the answer has no correlations list and held count');
  }
  for (const c of v.correlations) {
    if (
      !isObj(c) ||
      typeof c.correlation_id !== 'string' ||
      typeof c.trace_id !== 'string' ||
      typeof c.opened_at !== 'string' ||
      Number.isNaN(Date.parse(c.opened_at))
    ) {
      throw new PeerError('invalid', 'a correlation has no correlation_id, trace_id or opened_at');
    }
  }
  return {
    count: v.correlations.length,
    held: v.held,
    correlations: v.correlations as CorrelationView[],
    instance: typeof v.instance === 'string' ? v.instance : undefined,
  };
}

/** A response body, refused past `max` bytes (by its Content-Length, or as it arrives). */
async function readCapped(res: Response, max: number): Promise<string> {
  const length = Number(res.headers.get('content-length') ?? Number.NaN);
  const tooLarge = () => new PeerError('too_large', `the answer is over ${max} bytes`);
  if (Number.isFinite(length) && length > max) {
    await res.body?.cancel();
    throw tooLarge();
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const openedMs = (c: CorrelationView) => Date.parse(c.opened_at);

/**
 * The answers merged as one store would give them: newest first by opened_at, each answer's own
 * order kept among equal times (it is its store's creation order), at most `limit`. A record that
 * two answers both carry (the same correlation_id opened at the same time: one replica reached
 * twice) is kept once; two replicas' records of one trace (after the replica count changed) are
 * both kept, as one replica keeps two windows of a trace.
 */
export function mergeAnswers(answers: readonly Answer[], limit: number): CorrelationView[] {
  const heads = answers.map(() => 0);
  const seen = new Set<string>();
  const out: CorrelationView[] = [];
  while (out.length < limit) {
    let best = -1;
    let bestMs = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < answers.length; i++) {
      const c = answers[i].correlations[heads[i]];
      if (c === undefined) continue;
      const ms = openedMs(c);
      if (best < 0 || ms > bestMs) {
        best = i;
        bestMs = ms;
      }
    }
    if (best < 0) break;
    const c = answers[best].correlations[heads[best]++];
    const key = `${c.correlation_id}@${c.opened_at}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(c);
  }
  return out;
}

export function peerFanout(config: PeersConfig, deps: FanoutDeps): Fanout {
  const resolve = deps.resolve ?? defaultResolve;

  async function peers(): Promise<{ peers: string[]; failed: string[] }> {
    const out = new Set(config.static);
    const failed: string[] = [];
    if (config.dns) {
      const { host, port } = config.dns;
      try {
        for (const ip of await resolve(host)) if (ip !== config.selfHost) out.add(hostPort(ip, port));
      } catch (err) {
        // No address at all (the Service's DNS is down): every peer is unknown, the answer is this replica's.
        failed.push(hostPort(host, port));
        deps.onPeer?.('resolve', 0);
        deps.onFailure?.(hostPort(host, port), 'resolve', (err as Error).message);
      }
    }
    if (config.selfHost) for (const p of [...out]) if (p.startsWith(`${config.selfHost}:`)) out.delete(p);
    return { peers: [...out].sort(), failed };
  }

  async function ask(peer: string, search: string): Promise<Answer> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (deps.authorization) headers.authorization = deps.authorization;
    let res: Response;
    try {
      res = await fetch(`http://${peer}/api/correlations?${search}`, {
        headers,
        signal: AbortSignal.timeout(config.timeoutMs),
      });
    } catch (err) {
      throw timeoutOr(err, 'unreachable');
    }
    try {
      if (res.status !== 200) {
        await res.body?.cancel();
        throw new PeerError('status', `answered ${res.status}`);
      }
      return parseAnswer(await readCapped(res, config.maxResponseBytes));
    } catch (err) {
      throw timeoutOr(err, 'invalid');
    }
  }

  const timeoutOr = (err: unknown, otherwise: PeerResult): PeerError => {
    if (err instanceof PeerError) return err;
    const e = err as Error & { cause?: { code?: string } };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') {
      return new PeerError('timeout', `no answer in ${config.timeoutMs} ms`);
    }
    return new PeerError(otherwise, e.cause?.code ? `${e.message} (${e.cause.code})` : e.message);
  };

  return {
    peers,
    async query(params, limit, local) {
      const { peers: list, failed } = await peers();
      const search = new URLSearchParams({ ...params, local: '1' }).toString();
      const results = await Promise.all(
        list.map(async (peer) => {
          const t0 = performance.now();
          try {
            const a = await ask(peer, search);
            deps.onPeer?.('ok', (performance.now() - t0) / 1000);
            return a;
          } catch (err) {
            const e = err as PeerError;
            deps.onPeer?.(e.result, (performance.now() - t0) / 1000);
            deps.onFailure?.(peer, e.result, e.message);
            failed.push(peer);
            return undefined;
          }
        }),
      );
      // This replica reached by its own address, or a peer listed under two, counts once.
      const instances = new Set([deps.instance]);
      const answers: Answer[] = [local];
      for (const a of results) {
        if (a === undefined) continue;
        if (a.instance !== undefined) {
          if (instances.has(a.instance)) continue;
          instances.add(a.instance);
        }
        answers.push(a);
      }
      const correlations = mergeAnswers(answers, limit);
      return {
        count: correlations.length,
        held: answers.reduce((n, a) => n + a.held, 0),
        correlations,
        replicas: answers.length,
        partial: failed.length > 0,
        failed,
      };
    },
  };
}
