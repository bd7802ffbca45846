// Runs queries against a correlator from a separate process (bench/correlator-query.ts), so the
// client's own work is not measured inside the process under test. For the correlator benches.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
const queryScript = fileURLToPath(new URL('./correlator-query.ts', import.meta.url));

/** The latency of each query (ms), in order. */
export function runQueries(url: string, queries: string[]): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(tsx, [queryScript], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`query client exited ${code}`)),
    );
    child.stdin.end(JSON.stringify({ url, queries }));
  });
}
