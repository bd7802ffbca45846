// `vigil operator`: the only place that reads env, the kubeconfig and signals.
import pino from 'pino';
import { connect } from '../kube/index.js';
import { loadConfig } from './config.js';
import { buildOperator } from './operator.js';

/** Redaction lives on the root logger only: a child logger with its own paths would replace these. */
export function rootLogger(level: string, destination?: pino.DestinationStream): pino.Logger {
  return pino(
    {
      level,
      base: { component: 'vigil-operator' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: [
          'token',
          'password',
          '*.password',
          'data',
          '*.data',
          'stringData',
          '*.stringData',
          'headers.authorization',
        ],
        censor: '[REDACTED]',
      },
    },
    destination,
  );
}

export async function runOperator(args: string[]): Promise<number> {
  const config = loadConfig(process.env, args);
  const log = rootLogger(config.logLevel);
  const kube = connect(config.kubeconfig);
  log.info({ server: kube.server, namespaces: config.operator.namespaces ?? 'all' }, 'Starting operator');
  let exiting = false;
  const op = buildOperator({
    kube,
    log,
    config: config.operator,
    onLostLeadership: () => {
      // Stop at once: another replica may already be writing.
      process.exit(1);
    },
  });
  const shutdown = (signal: string) => {
    if (exiting) return;
    exiting = true;
    log.info({ signal }, 'Shutting down: finishing in-flight reconciles');
    const force = setTimeout(() => process.exit(1), 25_000);
    force.unref();
    op.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  await op.start();
  return new Promise<number>(() => undefined); // runs until a signal
}
