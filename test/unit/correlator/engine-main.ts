// `vigil correlator` as a process of its own for the hostile-input suite: run with
// `node --max-old-space-size=N --import tsx`, so that the heap cap and the RSS read from /proc
// are this very process's (tsx's wrapper would add one in between).
import { runCorrelator } from '../../../correlator/main.js';

process.exitCode = await runCorrelator([], {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
});
