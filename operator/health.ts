// /metrics, /healthz and /readyz on one small HTTP server. Node's http module is enough here.
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface HealthSource {
  /** Alive: the event loop answers. */
  live(): boolean;
  /** Ready: caches synced (leader) or standing by (follower). */
  ready(): boolean;
}

export function healthServer(register: Registry, health: HealthSource): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      register.metrics().then(
        (body) => {
          res.writeHead(200, { 'Content-Type': register.contentType });
          res.end(body);
        },
        (err) => {
          res.writeHead(500, { 'Content-Type': 'text/plain' });
          res.end(String(err));
        },
      );
      return;
    }
    const check = path === '/healthz' ? health.live() : path === '/readyz' ? health.ready() : undefined;
    if (check === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found\n');
      return;
    }
    res.writeHead(check ? 200 : 503, { 'Content-Type': 'text/plain' });
    res.end(check ? 'ok\n' : 'not ready\n');
  });
}
