// `make test-traffic`: sends SDK traffic to a running engine (CORRELATOR_URL, default
// http://127.0.0.1:8080) over both OTLP/HTTP encodings and prints the trace ids.
import { type Protocol, sendTraffic } from './sdk.js';

const endpoint = (process.env.CORRELATOR_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
const traces = Number(process.env.TRACES ?? '5');
const headers: Record<string, string> = {};
if (process.env.BASIC_AUTH_USER && process.env.BASIC_AUTH_PASSWORD) {
  headers.authorization = `Basic ${Buffer.from(`${process.env.BASIC_AUTH_USER}:${process.env.BASIC_AUTH_PASSWORD}`).toString('base64')}`;
}
for (const protocol of ['http/json', 'http/protobuf'] as Protocol[]) {
  const sent = await sendTraffic({ endpoint, protocol, traces, headers });
  for (const t of sent) console.log(`${protocol}\ttrace_id=${t.traceId}\tspans=${t.spans}\tlogs=${t.logs}`);
}
console.log(`Sent ${traces * 2} traces to ${endpoint}; see them with: make correlations`);
