// Reconciles one SLO: validate → generate rules and dashboard (pure, desired/slo) → apply the
// ConfigMaps the stack's Prometheus and Grafana load (and a PrometheusRule when asked and served) →
// read the live budget from Prometheus every few minutes → write status once.
import type { Logger } from 'pino';
import type { ObservabilityStackStatus, SLO, SLOStatus } from '../api/types.js';
import { type Problem, validateResource } from '../api/validate.js';
import {
  API_GROUP_VERSION,
  CONDITION_DEGRADED,
  CONDITION_PROGRESSING,
  CONDITION_READY,
  KIND_SLO,
  PLURAL_SLO,
  Reasons,
} from '../conventions/index.js';
import { countRules, sloDashboardConfigMap, sloProblems, sloRuleConfigMap, sloRules } from '../desired/slo/index.js';
import { type KubeApi, KubeError, type KubeObject } from '../kube/types.js';
import { budgetStatus, type Fetch, readBudget } from './budget.js';
import { outcome } from './outcome.js';
import type { HandlerResult } from './queue.js';
import { type ConditionInput, isSubset } from './status.js';

export const CONDITION_BUDGET = 'BudgetCurrent';
const PROMETHEUS_RULE = { apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule' };

export interface SLOReconcilerDeps {
  kube: KubeApi;
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
}

export class SLOReconciler {
  /**
   * Prometheus URLs that just failed, with the error: the other SLOs of that stack reuse it instead of
   * each waiting out its own timeout (a thousand SLOs behind one unreachable Prometheus would
   * otherwise keep every worker busy).
   */
  private readonly unreachable = new Map<string, { until: number; message: string }>();

  constructor(private readonly d: SLOReconcilerDeps) {}

  async reconcile(namespace: string, name: string): Promise<HandlerResult | undefined> {
    const raw = this.d.getSLO(namespace, name);
    if (!raw || raw.metadata.deletionTimestamp) return undefined; // its ConfigMaps go with it (ownerReferences)
    const log = this.d.log.child({ kind: KIND_SLO, namespace, name });
    const current = (raw.status ?? {}) as SLOStatus;
    const owner = { apiVersion: API_GROUP_VERSION, kind: KIND_SLO, name, uid: raw.metadata.uid as string };

    const out = outcome<SLOStatus>(this.d.kube, PLURAL_SLO, raw, log, this.d.now);
    const finish = out.finish;
    // The rules already loaded stay as they are: a broken edit never removes working alerts.
    const { observedGeneration: _g, conditions: _c, ...keep } = current;
    const degrade = (reason: string, problems: Problem[]) => out.degrade(reason, problems, keep);

    const valid = validateResource({ apiVersion: raw.apiVersion, kind: raw.kind, metadata: { name }, spec: raw.spec });
    if (!valid.ok) {
      await degrade(Reasons.InvalidSpec, valid.problems);
      return undefined;
    }
    const slo = valid.object as SLO;
    slo.metadata = { ...raw.metadata, name, namespace };
    const problems = sloProblems(slo);
    if (problems.length) {
      await degrade(Reasons.InvalidSpec, problems);
      return undefined;
    }

    const stack = this.d.getStack(namespace, slo.spec.stackRef.name);
    if (!stack) {
      await degrade(Reasons.StackNotFound, [
        {
          path: 'spec.stackRef.name',
          message: `ObservabilityStack "${slo.spec.stackRef.name}" not found in ${namespace}`,
        },
      ]);
      return { requeueAfterMs: 30_000 };
    }
    // biome-ignore lint/suspicious/noExplicitAny: reading a stack's spec loosely
    if ((stack.spec as any)?.metrics?.enabled === false) {
      await degrade(Reasons.InvalidSpec, [
        {
          path: 'spec.stackRef.name',
          message: `ObservabilityStack "${slo.spec.stackRef.name}" has metrics disabled: no Prometheus loads the rules`,
        },
      ]);
      return undefined;
    }

    // Rules and dashboard, owned by the SLO.
    const rules = sloRules(slo);
    const ownerRefs = [{ ...owner, controller: true, blockOwnerDeletion: true }];
    const desired: KubeObject[] = [sloRuleConfigMap(slo, rules), sloDashboardConfigMap(slo)].map(
      (o) =>
        ({
          ...o,
          metadata: { ...o.metadata, name: o.metadata.name, namespace, ownerReferences: ownerRefs },
        }) as KubeObject,
    );
    let promRuleNote = '';
    if (slo.spec.prometheusRule) {
      if (await this.d.kube.serves(PROMETHEUS_RULE.apiVersion, PROMETHEUS_RULE.kind)) {
        desired.push({
          ...PROMETHEUS_RULE,
          metadata: {
            name: `vigil-slo-${name}`,
            namespace,
            labels: desired[0].metadata.labels,
            ownerReferences: ownerRefs,
          },
          spec: rules,
        });
      } else promRuleNote = ' The PrometheusRule CRD is not installed, so only the ConfigMap was written.';
    }
    for (const want of desired) {
      const have = await this.d.kube.get({
        apiVersion: want.apiVersion,
        kind: want.kind,
        namespace,
        name: want.metadata.name,
      });
      if (have && isSubset(want, have)) continue;
      await this.d.kube.apply(want);
      this.d.onWrite?.('apply', want.kind);
      log.info(
        { childKind: want.kind, child: want.metadata.name },
        have ? `Updated ${want.kind}` : `Applied ${want.kind}`,
      );
    }
    if (!slo.spec.prometheusRule && current.conditions && (await this.ownsPrometheusRule(namespace, name, owner.uid))) {
      await this.d.kube.delete({ ...PROMETHEUS_RULE, namespace, name: `vigil-slo-${name}` });
      this.d.onWrite?.('delete', PROMETHEUS_RULE.kind);
    }

    // Live budget, from the stack's Prometheus (or the configured override).
    const stackStatus = (stack.status ?? {}) as ObservabilityStackStatus;
    const stackReady = stackStatus.conditions?.find((c) => c.type === CONDITION_READY)?.status === 'True';
    const url = this.d.prometheusUrl ?? stackStatus.endpoints?.prometheus;
    let budget = current.budget;
    let budgetCond: ConditionInput | undefined;
    if (url && stackReady) {
      try {
        const known = this.unreachable.get(url);
        if (known && known.until > this.d.now().getTime()) throw new Error(known.message);
        const b = await readBudget(this.d.fetch, url, namespace, name).catch((err: Error) => {
          this.unreachable.set(url, {
            until: this.d.now().getTime() + this.d.budgetIntervalMs / 2,
            message: err.message,
          });
          throw err;
        });
        if (b) {
          const rounded = budgetStatus(b);
          const same = budget?.remainingPercent === rounded.remainingPercent && budget?.burnRate === rounded.burnRate;
          budget = same ? budget : { ...rounded, observedAt: this.d.now().toISOString() };
          budgetCond = { type: CONDITION_BUDGET, status: 'True', reason: 'BudgetRead', message: `Read from ${url}.` };
        } else {
          budgetCond = {
            type: CONDITION_BUDGET,
            status: 'False',
            reason: 'NoData',
            message: `${url} has no budget series for this SLO yet (rules loading, or no traffic).`,
          };
        }
      } catch (err) {
        // Keep the last values; say since when they are.
        budgetCond = {
          type: CONDITION_BUDGET,
          status: 'False',
          reason: 'PrometheusUnavailable',
          message: `${url} did not answer (${(err as Error).message}); budget values are from ${budget?.observedAt ?? 'never'}.`,
        };
      }
    }
    const conds: ConditionInput[] = [
      stackReady
        ? {
            type: CONDITION_READY,
            status: 'True',
            reason: Reasons.RulesGenerated,
            message: `${countRules(rules)} rules loaded by ${slo.spec.stackRef.name}.${promRuleNote}`,
          }
        : {
            type: CONDITION_READY,
            status: 'False',
            reason: Reasons.StackNotReady,
            message: `Rules written; waiting for ObservabilityStack "${slo.spec.stackRef.name}" to be Ready.`,
          },
      stackReady
        ? { type: CONDITION_PROGRESSING, status: 'False', reason: Reasons.ReconcileSucceeded, message: 'Up to date.' }
        : {
            type: CONDITION_PROGRESSING,
            status: 'True',
            reason: Reasons.StackNotReady,
            message: 'Waiting for the stack.',
          },
      { type: CONDITION_DEGRADED, status: 'False', reason: Reasons.AsExpected, message: 'No problems.' },
      ...(budgetCond ? [budgetCond] : []),
    ];
    await finish(
      { ruleCount: countRules(rules), dashboard: desired[1].metadata.name, ...(budget ? { budget } : {}) },
      conds,
    );
    return { requeueAfterMs: stackReady ? this.d.budgetIntervalMs : 30_000 };
  }

  private async ownsPrometheusRule(namespace: string, name: string, uid: string): Promise<boolean> {
    try {
      if (!(await this.d.kube.serves(PROMETHEUS_RULE.apiVersion, PROMETHEUS_RULE.kind))) return false;
      const pr = await this.d.kube.get({ ...PROMETHEUS_RULE, namespace, name: `vigil-slo-${name}` });
      return !!pr?.metadata.ownerReferences?.some((r) => r.uid === uid);
    } catch (err) {
      if (err instanceof KubeError && err.notFound) return false;
      throw err;
    }
  }
}
