// buildCorrelator(config, deps) makes the service without listening, reading env or signals:
// tests drive it with fastify.inject or on 127.0.0.1:0, main.ts runs it.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Transform } from 'node:stream';
import { gunzipSync, inflateSync } from 'node:zlib';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { CorrelatorConfig } from './config.js';
import { DATADOG_MAX_BATCH, datadogDestination, datadogEntry } from './export-datadog.js';
import { correlationEntry, type LokiEntry, logEntry, lokiDestination } from './export-loki.js';
import { type Destination, ExportQueue, type QueueHandle } from './export-queue.js';
import { type TraceRequest, tempoDestination } from './export-tempo.js';
import { type Fanout, peerFanout } from './fanout.js';
import { grpcCodeOf, type OtlpGrpcServer, otlpGrpcServer } from './grpc.js';
import { BadRequest, type DecodeLimits, noTruncations, type Truncations } from './limits.js';
import { createMetrics } from './metrics.js';
import type { Decoded, LogEvent, SpanEvent } from './model.js';
import { decodeLogsBody, decodeSpansBody, exportResponse, parseJson, type Signal, statusProto } from './otlp.js';
import { parseQuery } from './query.js';
import { seedEvent, seedLogs } from './seed.js';
import { type Correlation, CorrelationStore, view } from './store.js';

export interface CorrelatorDeps {
  readonly logger: Logger;
  /** Engine clock in ms; windows are measured on it. */
  readonly now?: () => number;
  /** Retry backoff of the export queues (tests shorten it). */
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
  /** How often open windows are checked; 0 turns the timer off (tests call sweep()). */
  readonly sweepIntervalMs?: number;
}

export interface Correlator {
  readonly app: FastifyInstance;
  readonly store: CorrelationStore;
  readonly metrics: ReturnType<typeof createMetrics>;
  readonly queues: readonly QueueHandle[];
  /** Listens on config.host:config.port (HTTP) and config.grpcPort (OTLP/gRPC); resolves to the HTTP address. */
  start(): Promise<string>;
  /** The bound OTLP/gRPC port once started. */
  readonly grpcPort: () => number | undefined;
  /** Refuses new data, closes every open window, flushes the queues until the shutdown timeout. */
  stop(): Promise<{ unsent: number }>;
  sweep(): number;
}

const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';
/** Seconds a client is told to wait when the queues are full or the engine is stopping. */
const RETRY_AFTER_SECONDS = 5;
/** Seconds a client is told to wait when too many request bytes are in flight: they clear fast. */
const INFLIGHT_RETRY_AFTER_SECONDS = 1;
/** How often a failing peer is logged (every failure is counted in query_peer_requests_total). */
const PEER_LOG_INTERVAL_MS = 60_000;
/** What a 5xx answer says: the details are in the log, not for whoever sent the request. */
const INTERNAL_MESSAGE = 'internal error';

class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly reason: string,
    readonly retryAfterSeconds = RETRY_AFTER_SECONDS,
  ) {
    super(message);
  }
}

const inflightError = (max: number) =>
  new HttpError(
    429,
    `too many request bytes in flight (MAX_INFLIGHT_BYTES ${max}); retry later`,
    'inflight',
    INFLIGHT_RETRY_AFTER_SECONDS,
  );

// Rough heap bytes of a queued export item: what the queues' byte caps count.
const lokiBytes = (e: LokiEntry) => 160 + e.line.length + e.service.length;
const tempoBytes = (r: TraceRequest) => 64 + r.body.length;
const datadogBytes = (e: Record<string, string>) => 200 + (e.message?.length ?? 0);

function isProto(req: FastifyRequest): boolean {
  return (req.headers['content-type'] ?? '').toLowerCase().startsWith(PROTOBUF);
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

export function buildCorrelator(config: CorrelatorConfig, deps: CorrelatorDeps): Correlator {
  const log = deps.logger;
  const now = deps.now ?? Date.now;
  const metrics = createMetrics();
  const queueOpts = {
    maxRecords: config.exportQueueMaxRecords,
    maxBytes: config.exportQueueMaxBytes,
    maxElapsedMs: config.exportRetryMaxElapsedSeconds * 1000,
    batchSize: config.exportBatchSize,
    lingerMs: config.exportIntervalMs,
    backoffBaseMs: deps.backoff?.baseMs,
    backoffMaxMs: deps.backoff?.maxMs,
  };
  const mkQueue = <T>(
    dest: Destination<T>,
    extra: Partial<typeof queueOpts> & { weight?: (t: T) => number; size: (t: T) => number; optional?: boolean },
  ) => new ExportQueue<T>(dest, { ...queueOpts, ...extra }, metrics, log.child({ destination: dest.name }));

  const loki = config.lokiUrl
    ? mkQueue<LokiEntry>(
        lokiDestination({ url: config.lokiUrl, tenant: config.lokiTenant, labels: config.lokiLabels, env: config.env }),
        { size: lokiBytes },
      )
    : undefined;
  const tempo = config.tempoOtlpUrl
    ? mkQueue<TraceRequest>(tempoDestination(config.tempoOtlpUrl), { weight: (r) => r.spans, size: tempoBytes })
    : undefined;
  // Optional: a Datadog outage drops its copies (counted) and never holds back ingest, Loki or Tempo.
  const datadog = config.datadog
    ? mkQueue(datadogDestination(config.datadog), {
        batchSize: Math.min(config.exportBatchSize, DATADOG_MAX_BATCH),
        size: datadogBytes,
        optional: true,
      })
    : undefined;
  const queues: QueueHandle[] = [loki, tempo, datadog].filter((q) => q !== undefined);
  const exportLogLines = config.exportReceivedLogs && loki !== undefined;

  const store = new CorrelationStore({
    windowMs: config.windowSeconds * 1000,
    maxCorrelations: config.maxCorrelations,
    maxBytes: config.maxStoreBytes,
    maxServices: config.maxServicesPerCorrelation,
    now,
    onClose: (c: Correlation) => {
      metrics.correlationEvents.inc();
      if (c.spanCount === 0) metrics.correlationsWithoutSpans.inc();
      loki?.push([correlationEntry(c)]);
      datadog?.push([datadogEntry(c, config.env)]);
    },
    onEvict: (_c, wasOpen) => metrics.correlationEvictions.inc({ state: wasOpen ? 'open' : 'closed' }),
  });

  let stopping = false;
  let started = false;

  const app = Fastify({
    loggerInstance: log,
    bodyLimit: config.maxBodyBytes,
    // Per-request lines would cost more than the ingest itself at 100k records/s.
    logController: new LogController({ disableRequestLogging: true }),
    // Readiness must answer while a slow client holds a connection.
    connectionTimeout: 30_000,
  });

  // Request bytes held at once: bodies being received or waiting, and their decompressed copies.
  // A request reserves its Content-Length before its body is read (or its bytes as they arrive
  // when it has none) and its decompressed size after; over the budget it is answered 429, and
  // everything is given back when its answer is done.
  let inflight = 0;
  const held = new WeakMap<IncomingMessage, number>();
  const reserve = (req: IncomingMessage, n: number): boolean => {
    if (inflight + n > config.maxInflightBytes) return false;
    inflight += n;
    const before = held.get(req);
    held.set(req, (before ?? 0) + n);
    return true;
  };
  app.addHook('onRequest', async (req, reply) => {
    if (req.method !== 'POST') return;
    reply.raw.once('close', () => {
      inflight -= held.get(req.raw) ?? 0;
      held.delete(req.raw);
    });
    const length = Number(req.headers['content-length'] ?? Number.NaN);
    // Over MAX_BODY_BYTES is fastify's 413 before any byte is read; no need to reserve for it.
    if (Number.isFinite(length) && length <= config.maxBodyBytes && !reserve(req.raw, length)) {
      throw inflightError(config.maxInflightBytes);
    }
  });
  app.addHook('preParsing', async (req, _reply, payload) => {
    if (held.has(req.raw)) return payload;
    // No Content-Length (chunked): count the bytes as they come.
    const raw = req.raw;
    return payload.pipe(
      new Transform({
        transform(chunk: Buffer, _enc, cb) {
          if (!reserve(raw, chunk.length)) return cb(inflightError(config.maxInflightBytes));
          cb(null, chunk);
        },
      }),
    );
  });

  // Only the two OTLP encodings; anything else is a 415 from fastify itself.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser([JSON_TYPE, PROTOBUF], { parseAs: 'buffer' }, (req, body, done) => {
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding === 'identity') return done(null, body);
    if (encoding !== 'gzip' && encoding !== 'deflate') {
      return done(new HttpError(415, `Content-Encoding "${encoding}" is not supported; use gzip`, 'encoding'));
    }
    const step = encoding === 'gzip' ? 'gunzip' : 'inflate';
    let out: Buffer;
    try {
      // Decompression stops at the cap: a few KB of gzip never become more than MAX_BODY_BYTES.
      const opts = { maxOutputLength: config.maxBodyBytes };
      out = encoding === 'gzip' ? gunzipSync(body as Buffer, opts) : inflateSync(body as Buffer, opts);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        return done(
          new HttpError(413, `body is over MAX_BODY_BYTES (${config.maxBodyBytes}) after ${step}`, 'too_large'),
        );
      }
      return done(new HttpError(400, `body is not valid ${encoding}: ${(err as Error).message}`, `bad_${encoding}`));
    }
    if (!reserve(req.raw, out.length)) return done(inflightError(config.maxInflightBytes));
    done(null, out);
  });

  /** Paths answered without credentials when auth is on: liveness and readiness, nothing else. */
  const OPEN_PATHS = new Set(['/health', '/ready']);

  /** Basic auth over HTTP and gRPC alike; true when auth is off. */
  const authorized = (() => {
    if (!config.basicAuth) return () => true;
    const user = digest(config.basicAuth.user);
    const password = digest(config.basicAuth.password);
    return (header: string | undefined) => {
      const m = /^Basic\s+(\S{1,4096})$/i.exec(header ?? '');
      const decoded = m ? Buffer.from(m[1], 'base64').toString('utf8') : '';
      const colon = decoded.indexOf(':');
      // Digests make both sides the same length, so timingSafeEqual compares in constant time; both
      // are always compared, so the time does not tell a right user name from a wrong one either.
      const userOk = timingSafeEqual(digest(colon >= 0 ? decoded.slice(0, colon) : decoded), user);
      const passwordOk = timingSafeEqual(digest(colon >= 0 ? decoded.slice(colon + 1) : ''), password);
      return colon >= 0 && userOk && passwordOk;
    };
  })();

  if (config.basicAuth) {
    app.addHook('onRequest', async (req, reply) => {
      // The kubelet's probes carry no credentials; /metrics does ask for them (the stack's scrape sends them).
      if (OPEN_PATHS.has(req.url.split('?', 1)[0])) return;
      if (!authorized(req.headers.authorization)) {
        reply.header('www-authenticate', 'Basic realm="vigil-correlator"');
        throw new HttpError(401, 'authentication required', 'unauthorized');
      }
    });
  }

  /** Counts and logs a refused request, the same for HTTP and gRPC. */
  function noteRefusal(status: number, reason: string, message: string, where: string, err?: Error): void {
    if (status >= 500 && status !== 503) log.error({ err, where }, 'Request failed');
    else if (status !== 401) log.warn({ where, status, reason: message }, 'Refused request');
    metrics.requestsRefused.inc({ reason });
  }

  const reasonOf = (status: number, reason?: string) =>
    reason ??
    ({ 400: 'bad_request', 413: 'too_large', 415: 'content_type' } as Record<number, string>)[status] ??
    (status >= 500 ? 'internal' : String(status));

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string; reason?: string }, req, reply) => {
    let status = err.statusCode ?? 500;
    let message = status >= 500 && status !== 503 ? INTERNAL_MESSAGE : err.message;
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') message = `body is over MAX_BODY_BYTES (${config.maxBodyBytes})`;
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      status = 415;
      message = `Content-Type "${req.headers['content-type'] ?? ''}" is not supported; use ${PROTOBUF} or ${JSON_TYPE}`;
    }
    const reason = reasonOf(status, err.reason);
    if (req.method === 'POST') noteRefusal(status, reason, message, req.url, err);
    else if (status >= 500) log.error({ err, url: req.url }, 'Request failed');
    if (status === 429 || status === 503) {
      reply.header('retry-after', String((err as Partial<HttpError>).retryAfterSeconds ?? RETRY_AFTER_SECONDS));
    }
    reply.code(status);
    if (isProto(req)) return reply.type(PROTOBUF).send(statusProto(grpcCodeOf(status), message));
    return reply.type(JSON_TYPE).send({ code: grpcCodeOf(status), message, status });
  });

  /** Refuses work the queues could not hold: the client keeps it and retries. */
  function admit(records: number, forQueues: readonly (QueueHandle | undefined)[], bytes = 0): void {
    if (stopping) throw new HttpError(503, 'the correlator is shutting down; retry on another replica', 'stopping');
    // Any full required queue refuses everything: accepted data later becomes correlation records
    // for every queue. An optional one (Datadog) drops instead, and is not asked.
    for (const q of queues) {
      if (!q.optional && q.full)
        throw new HttpError(429, `export queue "${q.name}" is full; retry later`, 'queue_full');
    }
    for (const q of forQueues) {
      if (q && !q.optional && !q.hasRoom(records, bytes))
        throw new HttpError(429, `export queue "${q.name}" is full; retry later`, 'queue_full');
    }
  }

  /** The limits one request is decoded under; its truncations are counted once it is done. */
  function limitsFor(): DecodeLimits {
    return {
      ...config.limits,
      maxRecords: config.maxBatchSize,
      maxNestingDepth: config.maxNestingDepth,
      truncated: noTruncations(),
    };
  }

  function countTruncations(t: Truncations): void {
    for (const k in t) {
      const n = t[k as keyof Truncations];
      if (n > 0) metrics.ingestTruncations.inc({ limit: k }, n);
    }
  }

  const jsonCaps = () => ({
    maxDepth: config.maxNestingDepth,
    maxValues: config.maxJsonValues,
    maxRecords: config.maxBatchSize,
  });

  function acceptLogs(decoded: Decoded<LogEvent>, source: string): void {
    admit(decoded.items.length, exportLogLines ? [loki] : []);
    store.addLogs(decoded.items);
    metrics.logRecordsReceived.inc({ source }, decoded.items.length);
    let noTrace = 0;
    for (const l of decoded.items) if (l.traceId === null) noTrace++;
    if (noTrace > 0) metrics.logsWithoutTrace.inc(noTrace);
    if (decoded.rejected > 0) metrics.recordsRejected.inc({ signal: 'logs' }, decoded.rejected);
    if (exportLogLines) {
      const t = now();
      loki?.push(decoded.items.map((l) => logEntry(l, t)));
    }
  }

  function acceptSpans(decoded: Decoded<SpanEvent>, body: Buffer, proto: boolean, source: string): void {
    admit(decoded.items.length, [tempo], tempo ? tempoBytes({ proto, body, spans: 0 }) : 0);
    store.addSpans(decoded.items);
    metrics.tracesReceived.inc({ source }, decoded.items.length);
    if (decoded.rejected > 0) metrics.recordsRejected.inc({ signal: 'traces' }, decoded.rejected);
    // Forward the request as sent (rejected spans included: Tempo applies its own validation).
    if (tempo && decoded.items.length > 0) tempo.push([{ proto, body, spans: decoded.items.length }]);
  }

  /** One OTLP export request, over HTTP or gRPC: decode, admit, correlate; returns the OTLP answer. */
  function ingestOtlp(signal: Signal, body: Buffer | undefined, proto: boolean, source: string): Buffer | object {
    if (stopping) throw new HttpError(503, 'the correlator is shutting down; retry on another replica', 'stopping');
    const bytes = body ?? Buffer.alloc(0);
    const limits = limitsFor();
    try {
      let decoded: Decoded<LogEvent | SpanEvent>;
      if (signal === 'logs') {
        const d = decodeLogsBody(bytes, proto, limits, config.maxJsonValues, exportLogLines);
        acceptLogs(d, source);
        decoded = d;
      } else {
        const d = decodeSpansBody(bytes, proto, limits, config.maxJsonValues);
        acceptSpans(d, bytes, proto, source);
        decoded = d;
      }
      return exportResponse(signal, proto, decoded.rejected, decoded.firstError);
    } finally {
      countTruncations(limits.truncated);
    }
  }

  function otlp(signal: Signal) {
    return async (req: FastifyRequest, reply: FastifyReply) => {
      const proto = isProto(req);
      const answer = ingestOtlp(signal, req.body as Buffer | undefined, proto, 'otlp');
      return reply.type(proto ? PROTOBUF : JSON_TYPE).send(answer);
    };
  }

  const grpcServer: OtlpGrpcServer = otlpGrpcServer(
    (signal, body, authorization) => {
      try {
        if (!authorized(authorization)) throw new HttpError(401, 'authentication required', 'unauthorized');
        return ingestOtlp(signal, body, true, 'otlp_grpc') as Buffer;
      } catch (err) {
        const e = err as Error & { statusCode?: number; reason?: string };
        const status = e.statusCode ?? 500;
        noteRefusal(status, reasonOf(status, e.reason), e.message, `grpc ${signal}`, e);
        if (status >= 500 && status !== 503) throw new HttpError(500, INTERNAL_MESSAGE, 'internal');
        throw err;
      }
    },
    { maxMessageBytes: config.maxBodyBytes, retryAfterSeconds: RETRY_AFTER_SECONDS },
  );
  let boundGrpcPort: number | undefined;

  for (const prefix of ['', '/api/otlp']) {
    app.post(`${prefix}/v1/logs`, otlp('logs'));
    app.post(`${prefix}/v1/traces`, otlp('traces'));
  }

  function jsonBody(req: FastifyRequest): unknown {
    if (isProto(req)) throw new HttpError(415, `this endpoint takes ${JSON_TYPE}`, 'content_type');
    const body = req.body as Buffer | undefined;
    if (!body || body.length === 0) throw new BadRequest('body is empty; expected a JSON object');
    return parseJson(body, 'seed', jsonCaps());
  }

  app.post('/api/logs', async (req, reply) => {
    const limits = limitsFor();
    let decoded: Decoded<LogEvent>;
    try {
      decoded = seedLogs(jsonBody(req), limits, exportLogLines);
    } finally {
      countTruncations(limits.truncated);
    }
    acceptLogs(decoded, 'api');
    return reply.send({
      accepted: decoded.items.length,
      rejected: decoded.rejected,
      ...(decoded.firstError ? { error: decoded.firstError } : {}),
    });
  });

  app.post('/api/events', async (req, reply) => {
    const limits = limitsFor();
    let event: LogEvent;
    try {
      event = seedEvent(jsonBody(req), limits);
    } finally {
      countTruncations(limits.truncated);
    }
    acceptLogs({ items: [event], rejected: 0, firstError: undefined }, 'event');
    const c = store.query({ traceId: event.traceId ?? undefined, limit: 1 })[0];
    return reply.code(202).send({ accepted: 1, correlation_id: c ? view(c).correlation_id : null });
  });

  // With peers, a query answers for every replica (fanout.ts); `local=1` (what peers send) answers
  // for this one only, with its instance id so that a replica reached by its own address counts once.
  const instance = randomUUID();
  const peerLogged = new Map<string, { at: number; suppressed: number }>();
  const fanout: Fanout | undefined = config.peers
    ? peerFanout(config.peers, {
        instance,
        authorization: config.basicAuth
          ? `Basic ${Buffer.from(`${config.basicAuth.user}:${config.basicAuth.password}`).toString('base64')}`
          : undefined,
        onPeer: (result, seconds) => {
          metrics.queryPeerRequests.inc({ result });
          if (result !== 'resolve') metrics.queryPeerDuration.observe(seconds);
        },
        onFailure: (peer, result, message) => {
          // Once a minute per peer: a dead peer fails every query until it leaves the Service.
          const t = now();
          const last = peerLogged.get(peer);
          if (last && t - last.at < PEER_LOG_INTERVAL_MS) {
            last.suppressed++;
            return;
          }
          peerLogged.set(peer, { at: t, suppressed: 0 });
          if (peerLogged.size > 1000) peerLogged.delete(peerLogged.keys().next().value as string);
          log.warn({ peer, result, reason: message, suppressed: last?.suppressed ?? 0 }, 'Peer left out of a query');
        },
      })
    : undefined;

  app.get('/api/correlations', async (req, reply) => {
    const { local, ...params } = req.query as Record<string, unknown>;
    if (local !== undefined && local !== '1') {
      throw new HttpError(400, 'local: must be 1 (answer from this replica only)', 'query');
    }
    const q = parseQuery(params);
    if (!q.ok) throw new HttpError(400, q.error, 'query');
    const found = store.query(q.query).map(view);
    const own = { count: found.length, held: store.size, correlations: found };
    if (local !== undefined) return reply.send({ ...own, instance });
    if (!fanout) return reply.send(own);
    const t0 = performance.now();
    const merged = await fanout.query(params as Record<string, string>, q.query.limit, own);
    metrics.queryFanoutDuration.observe((performance.now() - t0) / 1000);
    if (merged.partial) metrics.queryFanoutPartial.inc();
    return reply.send(merged);
  });

  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/ready', async (_req, reply) => {
    const queueState = Object.fromEntries(queues.map((q) => [q.name, { depth: q.depth, full: q.full }]));
    const ready = started && !stopping;
    return reply.code(ready ? 200 : 503).send({ ready, stopping, queues: queueState });
  });
  app.get('/metrics', async (_req, reply) => {
    metrics.correlationsHeld.set(store.size);
    metrics.correlationsOpen.set(store.openCount);
    metrics.correlationsHeldBytes.set(store.bytes);
    metrics.ingestInflightBytes.set(inflight);
    if (store.servicesDropped > servicesDroppedSeen) {
      metrics.correlationServicesDropped.inc(store.servicesDropped - servicesDroppedSeen);
      servicesDroppedSeen = store.servicesDropped;
    }
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  let servicesDroppedSeen = 0;
  let timer: NodeJS.Timeout | undefined;
  const sweepEvery = deps.sweepIntervalMs ?? Math.min(1000, config.windowSeconds * 250);

  return {
    app: app as unknown as FastifyInstance,
    store,
    metrics,
    queues,
    sweep: () => store.sweep(),
    grpcPort: () => boundGrpcPort,
    async start() {
      for (const q of queues) q.start();
      if (sweepEvery > 0) {
        timer = setInterval(() => store.sweep(), sweepEvery);
        timer.unref();
      }
      const address = await app.listen({ host: config.host, port: config.port });
      boundGrpcPort = await grpcServer.listen(config.host, config.grpcPort);
      started = true;
      log.info(
        { address, grpcPort: boundGrpcPort, window: config.windowSeconds, destinations: queues.map((q) => q.name) },
        'Started correlator',
      );
      return address;
    },
    async stop() {
      stopping = true;
      if (timer) clearInterval(timer);
      // In-flight requests finish first, so their data is in the windows closed below.
      await Promise.all([app.close(), grpcServer.close(5000)]);
      const closed = store.closeAll();
      const timeoutMs = config.shutdownTimeoutSeconds * 1000;
      const left = await Promise.all(queues.map((q) => q.stop(timeoutMs)));
      const unsent = left.reduce((a, b) => a + b, 0);
      log.info({ closedWindows: closed, unsent }, 'Stopped correlator');
      return { unsent };
    },
  };
}
