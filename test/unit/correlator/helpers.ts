import { Writable } from 'node:stream';
import pino from 'pino';
import { loadConfig } from '../../../correlator/config.js';
import { buildCorrelator, type CorrelatorDeps } from '../../../correlator/server.js';

/** A pino logger whose lines the test can read as objects. */
export function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

export function aConfig(env: Record<string, string> = {}) {
  return loadConfig({ HOST: '127.0.0.1', PORT: '0', GRPC_PORT: '0', ...env });
}

export function aCorrelator(env: Record<string, string> = {}, deps: Partial<CorrelatorDeps> = {}) {
  const { logger, lines } = capturedLogger();
  let clock = 1_760_000_000_000;
  const correlator = buildCorrelator(aConfig(env), {
    logger,
    now: () => clock,
    sweepIntervalMs: 0,
    backoff: { baseMs: 20, maxMs: 200 },
    ...deps,
  });
  return {
    ...correlator,
    lines,
    advance: (ms: number) => {
      clock += ms;
    },
    nowMs: () => clock,
  };
}

export const TRACE_A = '5b8efff798038103d269b633813fc60c';
export const TRACE_B = '0af7651916cd43dd8448eb211c80319c';
export const SPAN_1 = 'eee19b7ec3c1b174';
export const SPAN_2 = 'b7ad6b7169203331';

/** An OTLP/JSON logs request in the spec's own example style (ids hex, int64 as strings). */
export function otlpJsonLogs(
  service: string,
  records: {
    traceId?: string;
    spanId?: string;
    severityNumber?: number;
    severityText?: string;
    body?: string;
    attrs?: Record<string, string>;
    timeUnixNano?: string | number;
  }[],
) {
  return {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeLogs: [
          {
            scope: { name: 'test' },
            logRecords: records.map((r) => ({
              timeUnixNano: r.timeUnixNano ?? '1760000000000000000',
              severityNumber: r.severityNumber ?? 9,
              severityText: r.severityText,
              body: { stringValue: r.body ?? 'hello' },
              traceId: r.traceId,
              spanId: r.spanId,
              attributes: Object.entries(r.attrs ?? {}).map(([key, v]) => ({ key, value: { stringValue: v } })),
              someFutureField: { ignored: true },
            })),
          },
        ],
      },
    ],
  };
}

export function otlpJsonSpans(
  service: string,
  spans: {
    traceId: string;
    spanId: string;
    name?: string;
    error?: boolean;
    start?: string | number;
    end?: string | number;
    attrs?: Record<string, string | number>;
  }[],
) {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [
          {
            spans: spans.map((s) => ({
              traceId: s.traceId,
              spanId: s.spanId,
              name: s.name ?? 'op',
              kind: 2,
              startTimeUnixNano: s.start ?? '1760000000000000000',
              endTimeUnixNano: s.end ?? '1760000000500000000',
              status: s.error ? { code: 2, message: 'boom' } : { code: 0 },
              attributes: Object.entries(s.attrs ?? {}).map(([key, v]) => ({
                key,
                value: typeof v === 'number' ? { intValue: String(v) } : { stringValue: v },
              })),
            })),
          },
        ],
      },
    ],
  };
}

export interface Reply {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  rawPayload: Buffer;
  json(): Record<string, unknown> & { message?: string; correlations?: Record<string, unknown>[] };
}

const listening: { app: { close(): Promise<unknown> } }[] = [];

/** Closes every app the tests made listen. */
export async function closeAll(): Promise<void> {
  await Promise.all(listening.splice(0).map((c) => c.app.close()));
}

/**
 * fastify.inject's shape over real HTTP on 127.0.0.1: light-my-request loads the ESM-only
 * `cookie` 2 with require(), which jest's module runtime cannot do.
 */
export async function call(
  c: { app: import('fastify').FastifyInstance },
  opts: { method?: string; url: string; headers?: Record<string, string>; payload?: unknown },
): Promise<Reply> {
  if (!c.app.server.listening) {
    await c.app.listen({ host: '127.0.0.1', port: 0 });
    listening.push(c);
  }
  const { port } = c.app.server.address() as import('node:net').AddressInfo;
  const headers: Record<string, string> = { ...opts.headers };
  let body: string | Uint8Array | undefined;
  if (opts.payload instanceof Uint8Array) body = opts.payload;
  else if (typeof opts.payload === 'string') body = opts.payload;
  else if (opts.payload !== undefined) {
    body = JSON.stringify(opts.payload);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(`http://127.0.0.1:${port}${opts.url}`, {
    method: opts.method ?? 'GET',
    headers,
    body: body as BodyInit | undefined,
  });
  const raw = Buffer.from(await res.arrayBuffer());
  return {
    statusCode: res.status,
    headers: Object.fromEntries(res.headers.entries()),
    body: raw.toString('utf8'),
    rawPayload: raw,
    json: () => JSON.parse(raw.toString('utf8')),
  };
}
