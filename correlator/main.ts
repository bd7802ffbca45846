// `vigil correlator`: the only place in correlator/ that reads env and handles signals.
import { getHeapStatistics } from 'node:v8';
import pino from 'pino';
import type { Output } from '../lib/output.js';
import { ConfigError, loadConfig } from './config.js';
import { buildCorrelator } from './server.js';

export async function runCorrelator(args: string[], io: Output): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    io.out(
      'usage: vigil correlator   (configured by env: PORT, CORR_WINDOW_SECONDS, LOKI_URL, ...; see correlator/README.md)',
    );
    return 0;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    // The byte budgets' defaults are shares of this heap (--max-old-space-size).
    config = loadConfig(process.env, { heapLimitBytes: getHeapStatistics().heap_size_limit });
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`vigil correlator: invalid configuration: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const logger = pino({ level: config.logLevel, base: { component: 'correlator' } });
  const correlator = buildCorrelator(config, { logger });
  try {
    await correlator.start();
  } catch (err) {
    logger.error({ err }, 'Failed to start correlator');
    return 1;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'Received signal; flushing export queues');
      correlator.stop().then(
        ({ unsent }) => resolve(unsent > 0 ? 1 : 0),
        (err) => {
          logger.error({ err }, 'Failed to stop cleanly');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
