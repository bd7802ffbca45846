// Traces forwarded to Tempo's OTLP/HTTP receiver as they came in. Protobuf requests are merged by
// concatenation (a repeated field's encodings concatenate into one message); JSON requests by
// joining their resourceSpans arrays. Re-encoding JSON as protobuf is avoided on purpose:
// protobufjs' fromObject reads OTLP/JSON hex ids as base64.
import { post } from './export-http.js';
import type { Destination } from './export-queue.js';

export interface TraceRequest {
  readonly proto: boolean;
  /** The decompressed request body. */
  readonly body: Buffer;
  readonly spans: number;
}

export function tempoDestination(url: string): Destination<TraceRequest> {
  const endpoint = url.endsWith('/v1/traces') ? url : `${url}/v1/traces`;
  return {
    name: 'tempo',
    async send(batch) {
      const protos = batch.filter((r) => r.proto);
      const jsons = batch.filter((r) => !r.proto);
      if (protos.length > 0) {
        const res = await post(endpoint, new Uint8Array(Buffer.concat(protos.map((r) => r.body))), {
          'content-type': 'application/x-protobuf',
        });
        if (!res.ok) return res;
      }
      if (jsons.length > 0) {
        const resourceSpans = jsons.flatMap((r) => JSON.parse(r.body.toString('utf8')).resourceSpans ?? []);
        return post(endpoint, JSON.stringify({ resourceSpans }), { 'content-type': 'application/json' });
      }
      return { ok: true };
    },
  };
}
