// Reconciles one SLO: validate → generate rules and dashboard (pure, desired/slo) → apply the
// ConfigMaps the stack's Prometheus and Grafana load (and a PrometheusRule when asked and served) →
// read the live budget from Prometheus every few minutes → an Outcome, which outcome.ts turns into
// status (once) and the queue's next step. A broken edit never removes the rules already loaded.
import type { Logger } from 'pino';
import type { ObservabilityStack, ObservabilityStackStatus, SLOStatus } from '../api/types.js';
import { validateResource } from '../api/validate.js';
import { CONDITION_READY, KIND_SLO, PLURAL_SLO, Reasons } from '../conventions/index.js';
import { checkResource, sloStackProblems } from '../desired/check.js';
import { countRules } from '../desired/slo/index.js';
import { stackEndpoints } from '../desired/stack/index.js';
import type { KubeApi, KubeObject } from '../kube/types.js';
import { applyChildren, childKey, controlledBy, owned, ownerOf } from './apply.js';
import { budgetStatus, type Fetch, readBudget } from './budget.js';
import { type Outcome, problem, progressing, ReconcileBug, ready, reconcileObject, rendering } from './outcome.js';
import { queryAuthorization } from './query-auth.js';
import type { HandlerResult } from './queue.js';
import type { ConditionInput } from './status.js';

export const CONDITION_BUDGET = 'BudgetCurrent';
const PROMETHEUS_RULE = { apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule' };

/** The API-server calls an SLO reconcile makes. */
export type SLOKube = Pick<KubeApi, 'get' | 'apply' | 'delete' | 'patchStatus' | 'event' | 'serves'>;

export interface SLOReconcilerDeps {
  kube: SLOKube;
  getSLO(namespace: string, name: string): KubeObject | undefined;
  getStack(namespace: string, name: string): KubeObject | undefined;
  log: Logger;
  now(): Date;
  fetch: Fetch;
  /** Overrides the stack's in-cluster Prometheus URL (an operator running outside the cluster). */
  prometheusUrl?: string;
  /** How often the live budget is read. */
  budgetIntervalMs: number;
  onWrite?(verb: 'apply' | 'delete', kind: string): void;
  /** checkResource; a test passes its own. */
  check?: typeof checkResource;
}

export class SLOReconciler {
  /**
   * Prometheus URLs that just failed, with the error: the other SLOs of that stack reuse it instead of
   * each waiting out its own timeout (a thousand SLOs behind one unreachable Prometheus would
   * otherwise keep every worker busy).
   */
  private readonly unreachable = new Map<string, { until: number; message: string }>();

  constructor(private readonly d: SLOReconcilerDeps) {}

  reconcile(namespace: string, name: string): Promise<HandlerResult | undefined> {
    return reconcileObject(this.d, PLURAL_SLO, this.d.getSLO(namespace, name), (raw, log) => this.run(raw, log));
  }

  private async run(raw: KubeObject, log: Logger): Promise<Outcome> {
    const { namespace, name } = raw.metadata as { namespace: string; name: string };
    // What vigil validate checks: the schema and rules, the queries, the names of what it becomes.
    const { apiVersion, kind, metadata, spec } = raw;
    const checked = rendering(() => (this.d.check ?? checkResource)({ apiVersion, kind, metadata, spec }));
    if (!checked.ok) return problem(Reasons.InvalidSpec, checked.problems);
    if (checked.kind !== KIND_SLO) throw new ReconcileBug(`An ${KIND_SLO} was checked as ${checked.kind}`);
    const { slo, rules, configMaps } = checked;

    const stackName = slo.spec.stackRef.name;
    const stack = this.d.getStack(namespace, stackName);
    if (!stack) {
      const message = `ObservabilityStack "${stackName}" not found in ${namespace}`;
      return problem(Reasons.StackNotFound, [{ path: 'spec.stackRef.name', message }], {
        waitingFor: 'Waiting for the stack.',
        requeueAfterMs: 30_000,
      });
    }
    const against = sloStackProblems(slo, stack as { spec?: unknown });
    if (against.length) return problem(Reasons.InvalidSpec, against);

    const served = await this.d.kube.serves(PROMETHEUS_RULE.apiVersion, PROMETHEUS_RULE.kind);
    const promRule = {
      ...PROMETHEUS_RULE,
      metadata: { name: `vigil-slo-${name}`, labels: configMaps[0].metadata.labels },
      spec: rules,
    };
    const desired = owned(
      slo.spec.prometheusRule && served ? [...configMaps, promRule] : configMaps,
      ownerOf(raw),
      namespace,
    );
    // The PrometheusRule is looked up wherever it is served, so that it is pruned once unwanted.
    const live = await this.liveChildren(
      namespace,
      raw.metadata.uid as string,
      served ? [...configMaps, promRule] : configMaps,
    );
    await applyChildren(this.d, desired, live, log);

    const current = (raw.status ?? {}) as SLOStatus;
    const stackStatus = (stack.status ?? {}) as ObservabilityStackStatus;
    const fields = { ruleCount: countRules(rules), dashboard: configMaps[1].metadata.name, budget: current.budget };
    if (stackStatus.conditions?.find((c) => c.type === CONDITION_READY)?.status !== 'True') {
      const message = `Rules written; waiting for ObservabilityStack "${stackName}" to be Ready.`;
      return progressing(fields, Reasons.StackNotReady, message, 30_000);
    }
    const note =
      slo.spec.prometheusRule && !served
        ? ' The PrometheusRule CRD is not installed, so only the ConfigMap was written.'
        : '';
    // From the stack's spec, never from its status: whoever may patch a stack's status could point
    // the operator's queries anywhere.
    const valid = validStack(stack);
    const url = valid && (this.d.prometheusUrl ?? stackEndpoints(valid).prometheus);
    // With spec.metrics.basicAuth on: the header from the stack's auth Secret, read by name.
    const auth = () => (valid ? queryAuthorization(this.d.kube, valid, 'prometheus') : Promise.resolve(undefined));
    const budget = url ? await this.budget(url, namespace, name, current.budget, auth) : { budget: current.budget };
    return ready(
      { ...fields, budget: budget.budget },
      Reasons.RulesGenerated,
      `${fields.ruleCount} rules loaded by ${stackName}.${note}`,
      {
        requeueAfterMs: this.d.budgetIntervalMs,
        extra: budget.condition ? [budget.condition] : [],
      },
    );
  }

  /** Those of `candidates` (looked up by name) that this SLO controls, by kind/name. */
  private async liveChildren(
    namespace: string,
    uid: string,
    candidates: readonly { apiVersion: string; kind: string; metadata: { name: string } }[],
  ): Promise<Map<string, KubeObject>> {
    const found = await Promise.all(
      candidates.map(({ apiVersion, kind, metadata }) =>
        this.d.kube.get({ apiVersion, kind, namespace, name: metadata.name }),
      ),
    );
    return new Map(found.filter((o): o is KubeObject => !!o && controlledBy(o, uid)).map((o) => [childKey(o), o]));
  }

  /** The live budget from the stack's Prometheus; on failure the last values, saying since when. */
  private async budget(
    url: string,
    namespace: string,
    name: string,
    last: SLOStatus['budget'],
    auth: () => Promise<string | undefined>,
  ): Promise<{ budget: SLOStatus['budget']; condition?: ConditionInput }> {
    try {
      const known = this.unreachable.get(url);
      if (known && known.until > this.d.now().getTime()) throw new Error(known.message);
      const authorization = await auth();
      const b = await readBudget(this.d.fetch, url, namespace, name, 5000, authorization).catch((err: Error) => {
        this.unreachable.set(url, {
          until: this.d.now().getTime() + this.d.budgetIntervalMs / 2,
          message: err.message,
        });
        throw err;
      });
      if (!b) {
        const message = `${url} has no budget series for this SLO yet (rules loading, or no traffic).`;
        return { budget: last, condition: { type: CONDITION_BUDGET, status: 'False', reason: 'NoData', message } };
      }
      const rounded = budgetStatus(b);
      const same = last?.remainingPercent === rounded.remainingPercent && last?.burnRate === rounded.burnRate;
      return {
        budget: same ? last : { ...rounded, observedAt: this.d.now().toISOString() },
        condition: { type: CONDITION_BUDGET, status: 'True', reason: 'BudgetRead', message: `Read from ${url}.` },
      };
    } catch (err) {
      const message = `${url} did not answer (${(err as Error).message}); budget values are from ${last?.observedAt ?? 'never'}.`;
      return {
        budget: last,
        condition: { type: CONDITION_BUDGET, status: 'False', reason: 'PrometheusUnavailable', message },
      };
    }
  }
}

/**
 * The stack as its spec validates (defaults filled), for its Prometheus URL (the in-cluster
 * Service, none when metrics are off) and whether that asks for basic auth; undefined when invalid.
 */
function validStack(stack: KubeObject): ObservabilityStack | undefined {
  const { apiVersion, kind, metadata, spec } = stack as KubeObject & { spec?: unknown };
  const v = validateResource({
    apiVersion,
    kind,
    metadata: { name: metadata.name, namespace: metadata.namespace },
    spec,
  });
  return v.ok ? (v.object as ObservabilityStack) : undefined;
}
