// The `vigil` command: one binary, several entry points. Only this module and main files read argv.
import yaml from 'js-yaml';
import { allCrds } from '../api/crd.js';
import { type Output, runValidate } from './validate.js';

const USAGE = `usage: vigil <command> [options]

commands:
  validate -f FILE...   validate ObservabilityStack and SLO files offline (exit 1 on any problem)
  crds                  print the CustomResourceDefinitions as YAML
  operator [--flags]    run the controller (env: KUBECONFIG, VIGIL_NAMESPACES, VIGIL_WORKERS, VIGIL_LEADER_ELECT, ...)
  render -f FILE [-o DIR] [-n NS]  print (or write to DIR) the manifests an ObservabilityStack renders to
  correlator            run the correlation engine (OTLP in, correlations out; configured by env)
  slo rules|dashboard -f FILE...  print the Prometheus rule file or Grafana dashboard JSON an SLO generates
`;

const stdio: Output = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
};

type Command = (args: string[], io: Output) => number | Promise<number>;

const commands: Record<string, Command> = {
  validate: runValidate,
  operator: (args) => import('../operator/main.js').then((m) => m.runOperator(args)),
  render: (args, io) => import('./render.js').then((m) => m.runRender(args, io)),
  correlator: (args, io) => import('../correlator/main.js').then((m) => m.runCorrelator(args, io)),
  slo: (args, io) => import('./slo.js').then((m) => m.runSlo(args, io)),
  crds: (_args, io) => {
    io.out(
      allCrds()
        .map((c) => yaml.dump(c, { noRefs: true, lineWidth: -1 }))
        .join('---\n'),
    );
    return 0;
  },
};

export async function main(argv: string[], io: Output = stdio): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    io.out(USAGE);
    return name ? 0 : 2;
  }
  const cmd = commands[name];
  if (!cmd) {
    io.err(`unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  return cmd(args, io);
}
