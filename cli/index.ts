// The `vigil` command: one binary, several entry points. Only this module and main files read argv.
import { parseArgs } from 'node:util';
import yaml from 'js-yaml';
import { allCrds } from '../api/crd.js';
import { parseFlags } from '../lib/args.js';
import { type Output, runValidate } from './validate.js';

const USAGE = `usage: vigil <command> [options]

commands:
  validate -f FILE...   validate ObservabilityStack and SLO files offline (exit 1 on any problem)
  crds                  print the CustomResourceDefinitions as YAML
  operator [--flags]    run the controller (env: KUBECONFIG, VIGIL_NAMESPACES, VIGIL_WORKERS, VIGIL_LEADER_ELECT, ...)
  render -f FILE [-o DIR] [-n NS]  print (or write to DIR) the manifests an ObservabilityStack renders to
  correlator            run the correlation engine (OTLP in, correlations out; configured by env)
  slo rules|dashboard -f FILE...  print the Prometheus rule file or Grafana dashboard JSON an SLO generates
  remediation simulate -f POLICY -f ALERTS  print the decisions RemediationPolicies take for a sequence of alert deliveries
`;

const stdio: Output = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
};

const HELP = { help: { type: 'boolean', short: 'h' } } as const;

type Command = (args: string[], io: Output) => number | Promise<number>;

const commands: Record<string, Command> = {
  validate: runValidate,
  operator: (args) => import('../operator/main.js').then((m) => m.runOperator(args)),
  render: (args, io) => import('./render.js').then((m) => m.runRender(args, io)),
  correlator: (args, io) => import('../correlator/main.js').then((m) => m.runCorrelator(args, io)),
  slo: (args, io) => import('./slo.js').then((m) => m.runSlo(args, io)),
  remediation: (args, io) => import('./remediation.js').then((m) => m.runRemediation(args, io)),
  crds: (args, io) => {
    const { errors } = parseFlags(args, {});
    if (errors.length) {
      io.err(`${errors.join('\n')}\nusage: vigil crds`);
      return 2;
    }
    io.out(
      allCrds()
        .map((c) => yaml.dump(c, { noRefs: true, lineWidth: -1 }))
        .join('---\n'),
    );
    return 0;
  },
};

export async function main(argv: string[], io: Output = stdio): Promise<number> {
  // Only the first argument is the command's; everything after it is the command's own flags.
  const [first] = parseArgs({ args: argv.slice(0, 1), strict: false, tokens: true, options: HELP }).tokens;
  if (!first || first.kind === 'option-terminator') {
    io.out(USAGE);
    return 2;
  }
  if (first.kind === 'option') {
    if (first.name === 'help') {
      io.out(USAGE);
      return 0;
    }
    io.err(`unknown flag ${first.rawName}: give a command first\n\n${USAGE}`);
    return 2;
  }
  const name = first.value;
  if (name === 'help') {
    io.out(USAGE);
    return 0;
  }
  const cmd = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!cmd) {
    io.err(`unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  return cmd(argv.slice(1), io);
}
