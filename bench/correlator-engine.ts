// `vigil correlator` as its own process for bench/correlator.ts, run with `node --import tsx` so
// that the benchmark reads this very process's RSS and CPU time (tsx's wrapper would add one).
import { runCorrelator } from '../correlator/main.js';

process.exitCode = await runCorrelator([], {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
});
