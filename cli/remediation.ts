// `vigil remediation simulate -f policy.yaml -f alerts.json`: the decisions a sequence of
// Alertmanager deliveries would produce, with the decision engine the operator runs, for a
// GitOps review. Offline: every target the alerts name is taken to exist, and an action succeeds.
//
// alerts.json holds one Alertmanager webhook payload (version 4) or an array of them, in delivery
// order; each may carry `"at": "<RFC 3339>"`, when it is delivered (default: the latest startsAt
// or endsAt of its alerts).
import type { RemediationPolicy, RemediationPolicyStatus } from '../api/remediation.js';
import { validateResource } from '../api/validate.js';
import { complete, decide } from '../controller/remediation/engine.js';
import { alertMatches, resolveTarget, targetId } from '../controller/remediation/match.js';
import { parsePayload, type WebhookPayload } from '../controller/remediation/payload.js';
import { KIND_REMEDIATION } from '../conventions/remediation.js';
import { parseFlags } from '../lib/args.js';
import { expandPaths, FILE_FLAGS, filesOf, readAll } from './files.js';
import type { Output } from './validate.js';

const USAGE = `usage: vigil remediation simulate -f POLICY_FILE -f ALERTS_FILE [-o text|json]
  prints the decision every policy takes for each alert of each delivery, in order
  (ALERTS_FILE: one Alertmanager webhook payload, version 4, or an array of them; "at" sets a delivery's time)`;

const FLAGS = {
  ...FILE_FLAGS,
  output: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface SimulatedDecision {
  at: string;
  policy: string;
  alert: string;
  status: string;
  target?: string;
  result: string;
  message: string;
}

interface Delivery {
  at: Date;
  payload: WebhookPayload;
}

/** Runs the deliveries through the engine, carrying each policy's ledger from one to the next. */
export function simulate(policies: RemediationPolicy[], deliveries: Delivery[]): SimulatedDecision[] {
  const ledgers = new Map<string, RemediationPolicyStatus | undefined>();
  const out: SimulatedDecision[] = [];
  for (const d of deliveries) {
    for (const alert of d.payload.alerts) {
      for (const p of policies) {
        if (!alertMatches(p.spec, alert.labels)) continue;
        const ns = p.metadata.namespace ?? 'default';
        const key = `${ns}/${p.metadata.name}`;
        const r = resolveTarget(p.spec, ns, alert.labels);
        const target = r.ok
          ? { found: true as const, id: targetId(r.ref) }
          : { found: false as const, result: 'no-target' as const, message: r.message };
        const { decision, status } = decide({ spec: p.spec, status: ledgers.get(key), alert, target, now: d.at });
        ledgers.set(
          key,
          decision.act && decision.target ? complete(status, decision.target, decision.key, 'acted') : status,
        );
        out.push({
          at: d.at.toISOString(),
          policy: key,
          alert: alert.labels.alertname ?? '',
          status: alert.status,
          ...(decision.target ? { target: decision.target } : {}),
          result: decision.result,
          message: decision.message,
        });
      }
    }
  }
  return out;
}

function deliveriesOf(doc: unknown): Delivery[] {
  const items = Array.isArray(doc) ? doc : [doc];
  return items.map((item, i) => {
    const at = (item as { at?: unknown })?.at;
    const parsed = parsePayload(JSON.stringify(item));
    if (!parsed.ok) throw new Error(`[${i}]: ${parsed.error}`);
    const times = parsed.payload.alerts.flatMap((a) => [
      a.startsAt,
      ...(a.status === 'resolved' && a.endsAt ? [a.endsAt] : []),
    ]);
    const when = typeof at === 'string' ? new Date(at) : new Date(Math.max(...times.map((t) => Date.parse(t))));
    if (Number.isNaN(when.getTime())) throw new Error(`[${i}].at: must be an RFC 3339 time`);
    return { at: when, payload: parsed.payload };
  });
}

export function runRemediation(args: string[], io: Output): number {
  const [sub, ...rest] = args;
  if (sub === '-h' || sub === '--help') {
    io.out(USAGE);
    return 0;
  }
  if (sub !== 'simulate') {
    io.err(sub === undefined ? USAGE : `unknown subcommand "${sub}"\n${USAGE}`);
    return 2;
  }
  const { values, positionals, errors } = parseFlags(rest, FLAGS, { positionals: true });
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  let files = filesOf(values, positionals);
  const format = values.output ?? 'text';
  try {
    if (errors.length) throw new Error(errors.join('\n'));
    if (files.length === 0) throw new Error('no file given');
    if (format !== 'text' && format !== 'json') throw new Error(`-o/--output must be text or json, got "${format}"`);
    files = expandPaths(files);
  } catch (err) {
    io.err(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }

  const policies: RemediationPolicy[] = [];
  const deliveries: Delivery[] = [];
  let problems = 0;
  const docs = readAll(files, (message) => {
    io.out(message);
    problems++;
  });
  for (const d of docs) {
    const where = d.where;
    const kind = (d.doc as { kind?: unknown } | null)?.kind;
    if (kind === KIND_REMEDIATION) {
      const v = validateResource(d.doc);
      for (const p of v.problems) io.out(`${where}: ${p.path}: ${p.message}`);
      problems += v.problems.length;
      if (v.ok) policies.push(v.object as RemediationPolicy);
    } else if (kind === undefined) {
      try {
        deliveries.push(...deliveriesOf(d.doc));
      } catch (err) {
        io.out(`${where}: ${(err as Error).message}`);
        problems++;
      }
    }
    // Other kinds (stacks, SLOs) in the same files are skipped: `vigil validate` is for them.
  }
  if (problems > 0) {
    io.err(`${problems} problem(s); nothing simulated`);
    return 1;
  }
  if (policies.length === 0 || deliveries.length === 0) {
    io.err(`${policies.length === 0 ? 'no RemediationPolicy' : 'no alert delivery'} in ${files.join(', ')}`);
    return 1;
  }
  const decisions = simulate(policies, deliveries);
  if (format === 'json') io.out(JSON.stringify(decisions, null, 2));
  else {
    for (const d of decisions) {
      io.out(`${d.at}  ${d.policy}  ${d.alert} (${d.status})  ${d.target ?? '-'}  ${d.result}: ${d.message}`);
    }
  }
  io.err(
    `${decisions.length} decision(s) from ${deliveries.length} deliveries; targets assumed to exist, actions to succeed`,
  );
  return 0;
}
