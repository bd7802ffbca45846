// buildCorrelator(config, deps) makes the service without listening, reading env or signals:
// tests drive it with fastify.inject or on 127.0.0.1:0, main.ts runs it.
import { createHash, timingSafeEqual } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { CorrelatorConfig } from './config.js';
import { DATADOG_MAX_BATCH, datadogDestination, datadogEntry } from './export-datadog.js';
import { correlationEntry, type LokiEntry, logEntry, lokiDestination } from './export-loki.js';
import { type Destination, ExportQueue, type QueueHandle } from './export-queue.js';
import { type TraceRequest, tempoDestination } from './export-tempo.js';
import { grpcCodeOf, type OtlpGrpcServer, otlpGrpcServer } from './grpc.js';
import { createMetrics } from './metrics.js';
import type { Decoded, LogEvent, SpanEvent } from './model.js';
import {
  BadRequest,
  decodeProto,
  exportResponse,
  LogsRequest,
  logsFromRequest,
  parseJson,
  type Signal,
  spansFromRequest,
  statusProto,
  TracesRequest,
} from './otlp.js';
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

class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

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
    batchSize: config.exportBatchSize,
    lingerMs: config.exportIntervalMs,
    backoffBaseMs: deps.backoff?.baseMs,
    backoffMaxMs: deps.backoff?.maxMs,
  };
  const mkQueue = <T>(dest: Destination<T>, extra: Partial<typeof queueOpts> & { weight?: (t: T) => number } = {}) =>
    new ExportQueue<T>(dest, { ...queueOpts, ...extra }, metrics, log.child({ destination: dest.name }));

  const loki = config.lokiUrl
    ? mkQueue<LokiEntry>(
        lokiDestination({ url: config.lokiUrl, tenant: config.lokiTenant, labels: config.lokiLabels, env: config.env }),
      )
    : undefined;
  const tempo = config.tempoOtlpUrl
    ? mkQueue<TraceRequest>(tempoDestination(config.tempoOtlpUrl), { weight: (r) => r.spans })
    : undefined;
  const datadog = config.datadog
    ? mkQueue(datadogDestination(config.datadog), { batchSize: Math.min(config.exportBatchSize, DATADOG_MAX_BATCH) })
    : undefined;
  const queues: QueueHandle[] = [loki, tempo, datadog].filter((q) => q !== undefined);
  const exportLogLines = config.exportReceivedLogs && loki !== undefined;

  const store = new CorrelationStore({
    windowMs: config.windowSeconds * 1000,
    maxCorrelations: config.maxCorrelations,
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

  // Only the two OTLP encodings; anything else is a 415 from fastify itself.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser([JSON_TYPE, PROTOBUF], { parseAs: 'buffer' }, (req, body, done) => {
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding === 'identity') return done(null, body);
    if (encoding !== 'gzip') {
      return done(new HttpError(415, `Content-Encoding "${encoding}" is not supported; use gzip`, 'encoding'));
    }
    try {
      done(null, gunzipSync(body as Buffer, { maxOutputLength: config.maxBodyBytes }));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        return done(
          new HttpError(413, `body is over MAX_BODY_BYTES (${config.maxBodyBytes}) after gunzip`, 'too_large'),
        );
      }
      done(new HttpError(400, `body is not valid gzip: ${(err as Error).message}`, 'bad_gzip'));
    }
  });

  /** Basic auth over HTTP and gRPC alike; true when auth is off. */
  const authorized = (() => {
    if (!config.basicAuth) return () => true;
    const user = digest(config.basicAuth.user);
    const password = digest(config.basicAuth.password);
    return (header: string | undefined) => {
      const m = /^Basic\s+(\S+)$/i.exec(header ?? '');
      const decoded = m ? Buffer.from(m[1], 'base64').toString('utf8') : '';
      const colon = decoded.indexOf(':');
      // Digests make both sides the same length, so timingSafeEqual compares in constant time.
      return (
        colon >= 0 &&
        timingSafeEqual(digest(decoded.slice(0, colon)), user) &&
        timingSafeEqual(digest(decoded.slice(colon + 1)), password)
      );
    };
  })();

  if (config.basicAuth) {
    app.addHook('onRequest', async (req, reply) => {
      if (req.url === '/health' || req.url.startsWith('/health?')) return;
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
    let message = err.message;
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') message = `body is over MAX_BODY_BYTES (${config.maxBodyBytes})`;
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      status = 415;
      message = `Content-Type "${req.headers['content-type'] ?? ''}" is not supported; use ${PROTOBUF} or ${JSON_TYPE}`;
    }
    const reason = reasonOf(status, err.reason);
    if (req.method === 'POST') noteRefusal(status, reason, message, req.url, err);
    else if (status >= 500) log.error({ err, url: req.url }, 'Request failed');
    if (status === 429 || status === 503) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    reply.code(status);
    if (isProto(req)) return reply.type(PROTOBUF).send(statusProto(grpcCodeOf(status), message));
    return reply.type(JSON_TYPE).send({ code: grpcCodeOf(status), message, status });
  });

  /** Refuses work the queues could not hold: the client keeps it and retries. */
  function admit(records: number, forQueues: readonly (QueueHandle | undefined)[]): void {
    if (stopping) throw new HttpError(503, 'the correlator is shutting down; retry on another replica', 'stopping');
    // Any full queue refuses everything: accepted data later becomes correlation records for every queue.
    for (const q of queues) {
      if (q.full) throw new HttpError(429, `export queue "${q.name}" is full; retry later`, 'queue_full');
    }
    for (const q of forQueues) {
      if (q && !q.hasRoom(records))
        throw new HttpError(429, `export queue "${q.name}" is full; retry later`, 'queue_full');
    }
  }

  function checkBatch(n: number): void {
    if (n > config.maxBatchSize) {
      throw new HttpError(400, `batch has ${n} records, over MAX_BATCH_SIZE (${config.maxBatchSize})`, 'batch_size');
    }
  }

  function acceptLogs(decoded: Decoded<LogEvent>, source: string): void {
    checkBatch(decoded.items.length + decoded.rejected);
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
    checkBatch(decoded.items.length + decoded.rejected);
    admit(decoded.items.length, [tempo]);
    store.addSpans(decoded.items);
    metrics.tracesReceived.inc({ source }, decoded.items.length);
    if (decoded.rejected > 0) metrics.recordsRejected.inc({ signal: 'traces' }, decoded.rejected);
    // Forward the request as sent (rejected spans included: Tempo applies its own validation).
    if (tempo && decoded.items.length > 0) tempo.push([{ proto, body, spans: decoded.items.length }]);
  }

  /** One OTLP export request, over HTTP or gRPC: decode, admit, correlate; returns the OTLP answer. */
  function ingestOtlp(signal: Signal, body: Buffer | undefined, proto: boolean, source: string): Buffer | object {
    if (stopping) throw new HttpError(503, 'the correlator is shutting down; retry on another replica', 'stopping');
    const obj =
      body === undefined || body.length === 0
        ? {}
        : proto
          ? decodeProto(signal === 'logs' ? LogsRequest : TracesRequest, body)
          : parseJson(body);
    let decoded: Decoded<LogEvent | SpanEvent>;
    if (signal === 'logs') {
      const d = logsFromRequest(obj, { withBody: exportLogLines });
      acceptLogs(d, source);
      decoded = d;
    } else {
      const d = spansFromRequest(obj);
      acceptSpans(d, body ?? Buffer.alloc(0), proto, source);
      decoded = d;
    }
    return exportResponse(signal, proto, decoded.rejected, decoded.firstError);
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
    return parseJson(body);
  }

  app.post('/api/logs', async (req, reply) => {
    const decoded = seedLogs(jsonBody(req), { withBody: exportLogLines }, config.maxBatchSize);
    acceptLogs(decoded, 'api');
    return reply.send({
      accepted: decoded.items.length,
      rejected: decoded.rejected,
      ...(decoded.firstError ? { error: decoded.firstError } : {}),
    });
  });

  app.post('/api/events', async (req, reply) => {
    const event = seedEvent(jsonBody(req));
    acceptLogs({ items: [event], rejected: 0, firstError: undefined }, 'event');
    const c = store.query({ traceId: event.traceId ?? undefined, limit: 1 })[0];
    return reply.code(202).send({ accepted: 1, correlation_id: c ? view(c).correlation_id : null });
  });

  app.get('/api/correlations', async (req, reply) => {
    const q = parseQuery(req.query as Record<string, unknown>);
    if (!q.ok) throw new HttpError(400, q.error, 'query');
    const found = store.query(q.query);
    return reply.send({ count: found.length, held: store.size, correlations: found.map(view) });
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
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

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
