// Query client for bench/correlator.ts, run as its own process so that building requests and
// reading 1000-record answers is not charged to the engine's event loop. Reads
// {url, queries: string[]} as JSON on stdin, sends them one after another, prints the
// latencies (ms) in the same order as JSON.
const input = JSON.parse(await new Response(process.stdin as unknown as ReadableStream).text()) as {
  url: string;
  queries: string[];
};
const times: number[] = [];
for (const q of input.queries) {
  const t0 = performance.now();
  const res = await fetch(`${input.url}/api/correlations?${q}`);
  await res.arrayBuffer();
  times.push(performance.now() - t0);
  if (res.status !== 200) throw new Error(`query ${q} answered ${res.status}`);
}
process.stdout.write(`${JSON.stringify(times)}\n`);
