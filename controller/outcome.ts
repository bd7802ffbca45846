// The end of every reconcile, for both kinds: status written once (and only when it changed), and
// a spec the user must fix reported as Degraded, with the field paths, in status and as an Event.
import type { Logger } from 'pino';
import type { Condition } from '../api/types.js';
import type { Problem } from '../api/validate.js';
import { CONDITION_DEGRADED, CONDITION_PROGRESSING, CONDITION_READY } from '../conventions/index.js';
import type { KubeApi, KubeObject } from '../kube/types.js';
import { type ConditionInput, jsonEqual, mergePatch, setConditions } from './status.js';

interface StatusBase {
  observedGeneration?: number;
  conditions?: Condition[];
}

export interface Outcome<S extends StatusBase> {
  /** Writes `status` with these conditions and the object's generation, unless nothing changed. */
  finish(status: Omit<S, 'observedGeneration' | 'conditions'>, conds: ConditionInput[]): Promise<void>;
  /** Ready False, Degraded True with the problems, an Event when the message is new; `keep` stays in status. */
  degrade(reason: string, problems: Problem[], keep: Omit<S, 'observedGeneration' | 'conditions'>): Promise<void>;
}

export function outcome<S extends StatusBase>(
  kube: KubeApi,
  plural: string,
  raw: KubeObject,
  log: Logger,
  now: () => Date,
): Outcome<S> {
  const { namespace, name, generation, uid } = raw.metadata as {
    namespace: string;
    name: string;
    generation?: number;
    uid?: string;
  };
  const current = (raw.status ?? {}) as S;
  const finish: Outcome<S>['finish'] = async (status, conds) => {
    const next = {
      ...status,
      observedGeneration: generation,
      conditions: setConditions(current.conditions, conds, generation, now().toISOString()),
    };
    if (jsonEqual(next, current)) return;
    await kube.patchStatus(plural, namespace, name, mergePatch(current, next));
    const ready = next.conditions.find((c) => c.type === CONDITION_READY);
    log.info({ ready: ready?.status, reason: ready?.reason }, `Updated ${raw.kind} status`);
  };
  return {
    finish,
    async degrade(reason, problems, keep) {
      const message = problems.map((p) => `${p.path}: ${p.message}`).join('; ');
      const before = current.conditions?.find((c) => c.type === CONDITION_DEGRADED);
      if (before?.status !== 'True' || before.message !== message || before.observedGeneration !== generation) {
        await kube
          .event({
            involved: { apiVersion: raw.apiVersion, kind: raw.kind, namespace, name, uid },
            type: 'Warning',
            reason,
            message,
          })
          .catch((err) => log.warn({ err: String(err) }, 'Failed to record Event'));
      }
      log.info({ reason, problems }, 'Left children as they are: the spec needs a fix');
      await finish(keep, [
        { type: CONDITION_READY, status: 'False', reason, message },
        { type: CONDITION_PROGRESSING, status: 'False', reason, message: 'Waiting for the spec to be fixed.' },
        { type: CONDITION_DEGRADED, status: 'True', reason, message },
      ]);
    },
  };
}
