// The Alertmanager webhook receiver (payload version 4) on its own port. Checks in this order,
// each before any decision: bearer token (401), size (413), JSON and payload shape (400), leader
// (503: Alertmanager retries, and a retry reaches the leader or finds the ledger already written).
// It answers 200 only once every decision of the delivery is recorded in the policies' status.
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { parsePayload, type WebhookPayload } from '../controller/remediation/payload.js';
import type { DecisionLog } from '../controller/remediation/service.js';
import { REMEDIATION_MAX_BODY_BYTES, REMEDIATION_WEBHOOK_PATH } from '../conventions/remediation.js';

export interface ReceiverOptions {
  /** The current bearer token; undefined while it is unknown (every request is then refused). */
  token(): string | undefined;
  isLeader(): boolean;
  handle(namespace: string, stack: string, payload: WebhookPayload): Promise<DecisionLog[]>;
  log: Logger;
  maxBodyBytes?: number;
}

const PATH = new RegExp(
  `^${REMEDIATION_WEBHOOK_PATH}/([a-z0-9]([-a-z0-9]*[a-z0-9])?)/([a-z0-9]([-a-z0-9]*[a-z0-9])?)$`,
);

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function tokenMatches(header: string | undefined, token: string | undefined): boolean {
  if (!token || !header?.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice('Bearer '.length));
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

/** Reads the body up to `max` bytes; undefined when it is larger (the rest is not read). */
function readBody(req: IncomingMessage, max: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) {
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        resolve(undefined);
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function remediationReceiver(o: ReceiverOptions): Server {
  const max = o.maxBodyBytes ?? REMEDIATION_MAX_BODY_BYTES;
  const server = createServer((req, res) => {
    void serve(req, res).catch((err) => {
      o.log.error({ err: (err as Error).message }, 'Failed to serve a remediation delivery');
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
    });
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://receiver');
    if (url.pathname === '/healthz') return send(res, 200, { ok: true });
    const m = PATH.exec(url.pathname);
    if (!m) return send(res, 404, { error: `POST ${REMEDIATION_WEBHOOK_PATH}/<namespace>/<stack>` });
    if (req.method !== 'POST') return send(res, 405, { error: 'POST only' });
    if (!tokenMatches(req.headers.authorization, o.token())) {
      o.log.warn({ path: url.pathname }, 'Refused a remediation delivery: missing or wrong bearer token');
      return send(res, 401, { error: 'missing or wrong bearer token' });
    }
    const body = await readBody(req, max);
    if (body === undefined) {
      o.log.warn({ path: url.pathname, max }, 'Refused a remediation delivery: body too large');
      res.setHeader('connection', 'close');
      return send(res, 413, { error: `body larger than ${max} bytes` });
    }
    const parsed = parsePayload(body);
    if (!parsed.ok) {
      o.log.warn(
        { path: url.pathname, error: parsed.error },
        'Refused a remediation delivery: not an Alertmanager v4 payload',
      );
      return send(res, 400, { error: parsed.error });
    }
    if (!o.isLeader()) return send(res, 503, { error: 'not the leader; retry' });
    const decisions = await o.handle(m[1], m[3], parsed.payload);
    send(res, 200, { decisions });
  }
  return server;
}
