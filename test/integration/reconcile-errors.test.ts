// Apply errors against the real API server: a ValidatingAdmissionPolicy refuses one child, as an
// admission policy in a user's cluster would. The refusal (HTTP 422) is terminal: the stack or SLO
// says Ready False and Degraded True with the server's message, and the operator does not retry it
// with backoff; the next change to the object, once the policy is gone, brings it back to Ready.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { loadDocs } from '../../cli/files.js';
import { freshNamespace, kubectl, kubectlOk } from '../support/kubectl.js';
import { eventually, operatorWrites, type RunningOperator, startOperator } from '../support/operator.js';
import { EXAMPLES_DIR } from '../support/paths.js';
import { forbiddenRequests, type ManifestsRoleUser, manifestsRoleUser } from '../support/rbac.js';

let ns: string;
let operator: RunningOperator;

interface Cond {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration: number;
}
const conditions = (kind: string, name: string): Record<string, Cond> & { generation?: number } => {
  const r = kubectl(['get', kind, name, '-n', ns, '-o', 'json']);
  if (r.code !== 0) return {};
  const o = JSON.parse(r.stdout);
  const out: Record<string, Cond> = Object.fromEntries((o.status?.conditions ?? []).map((c: Cond) => [c.type, c]));
  return Object.assign(out, { generation: o.metadata.generation });
};

/** A policy that refuses create and update of one ConfigMap in this test's namespace. */
function refuse(configMap: string): () => void {
  const name = `refuse-${ns}`;
  const docs = [
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [
            { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['configmaps'] },
          ],
        },
        validations: [
          { expression: `object.metadata.name != '${configMap}'`, message: `${configMap} is refused by a test policy` },
        ],
      },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name },
      spec: {
        policyName: name,
        validationActions: ['Deny'],
        matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } } },
      },
    },
  ];
  kubectlOk(['apply', '-f', '-'], docs.map((d) => yaml.dump(d)).join('---\n'));
  return () => {
    kubectlOk(['delete', 'validatingadmissionpolicybinding,validatingadmissionpolicy', name, '--wait=true']);
  };
}

/** Waits until the API server enforces (or stops enforcing) the policy: it loads policies asynchronously. */
async function policyActive(configMap: string, active: boolean): Promise<void> {
  await eventually(`the policy to be ${active ? 'enforced' : 'gone'}`, () => {
    const r = kubectl(['create', 'configmap', configMap, '-n', ns, '--dry-run=server', '-o', 'name']);
    return (r.code !== 0 && r.stderr.includes('refused by a test policy')) === active;
  });
}

/** Applies of one object the operator sent since `since`, refused or not (the audit log). */
const appliesOf = (name: string, since: Date) =>
  operatorWrites(since, role.username).filter((w) => w.name === name && w.resource === 'configmaps').length;

// The operator holds only manifests/rbac/cluster-role.yaml (test/support/rbac.ts).
let role: ManifestsRoleUser;
beforeAll(async () => {
  ns = freshNamespace('errs');
  role = manifestsRoleUser(ns);
  operator = await startOperator(['--namespaces', ns], {}, { kubeconfig: role.kubeconfig });
});
afterAll(async () => {
  await operator?.stop();
  role?.remove();
  kubectl(['delete', 'validatingadmissionpolicybinding,validatingadmissionpolicy', `refuse-${ns}`]);
});

describe('a child the API server refuses', () => {
  it('makes a new stack Degraded with the server message, and is not retried with backoff', async () => {
    const refused = 'core-collector';
    const lift = refuse(refused);
    await policyActive(refused, true);
    kubectlOk(['apply', '-n', ns, '-f', join(EXAMPLES_DIR, 'core.yaml')]);
    const c = await eventually('Degraded ApplyFailed', () => {
      const x = conditions('ostack', 'core');
      return x.Degraded?.status === 'True' && x.Degraded.observedGeneration === x.generation ? x : undefined;
    });
    expect(c.Degraded.reason).toBe('ApplyFailed');
    expect(c.Degraded.message).toContain(`${refused} is refused by a test policy`);
    expect(c.Ready).toMatchObject({ status: 'False', reason: 'ApplyFailed' });
    expect(c.Progressing).toMatchObject({ status: 'False', message: 'Not retried until the object changes.' });
    const events = JSON.parse(
      kubectlOk([
        'get',
        'events',
        '-n',
        ns,
        '--field-selector',
        'involvedObject.name=core,reason=ApplyFailed',
        '-o',
        'json',
      ]),
    );
    expect(events.items.length).toBeGreaterThan(0);

    // Its own status write wakes it once more; after that, a retrying queue would try again within
    // 0.5 + 1 + 2 + 4 + 8 s.
    await new Promise((r) => setTimeout(r, 3000));
    const since = new Date();
    await new Promise((r) => setTimeout(r, 15_000));
    expect(appliesOf(refused, since)).toBe(0);

    lift();
    await policyActive(refused, false);
    kubectlOk(['patch', 'ostack', 'core', '-n', ns, '--type=merge', '-p', '{"spec":{"metrics":{"retention":"8d"}}}']);
    await eventually(
      'Ready once the policy is gone and the spec changed',
      () => {
        const x = conditions('ostack', 'core');
        return x.Ready?.status === 'True' && x.Degraded?.status === 'False' ? true : undefined;
      },
      90_000,
    );
  });

  it('turns a Ready SLO not Ready when its rules cannot be applied', async () => {
    const [{ doc }] = loadDocs(join(EXAMPLES_DIR, 'slo-ratio.yaml'));
    const slo = doc as { metadata: { name: string }; spec: { stackRef: { name: string } } };
    slo.spec.stackRef.name = 'core';
    kubectlOk(['apply', '-n', ns, '-f', '-'], yaml.dump(slo));
    const name = slo.metadata.name;
    await eventually('the SLO Ready', () => conditions('slo', name).Ready?.status === 'True' || undefined, 60_000);

    const rules = `vigil-slo-${name}-rules`;
    const lift = refuse(rules);
    await policyActive(rules, true);
    kubectlOk(['patch', 'slo', name, '-n', ns, '--type=merge', '-p', '{"spec":{"objective":99.5}}']);
    const c = await eventually('Ready False', () => {
      const x = conditions('slo', name);
      return x.Ready?.status === 'False' && x.Ready.observedGeneration === x.generation ? x : undefined;
    });
    expect(c.Ready.reason).toBe('ApplyFailed');
    expect(c.Degraded).toMatchObject({ status: 'True', reason: 'ApplyFailed' });
    expect(c.Degraded.message).toContain('refused by a test policy');

    lift();
    await policyActive(rules, false);
    kubectlOk(['patch', 'slo', name, '-n', ns, '--type=merge', '-p', '{"spec":{"objective":99.9}}']);
    await eventually(
      'the SLO Ready again',
      () => conditions('slo', name).Ready?.status === 'True' || undefined,
      60_000,
    );
    expect(conditions('slo', name).Degraded.status).toBe('False');
  });
});

describe('the operator with the manifests ClusterRole', () => {
  it('was never refused by RBAC: no Forbidden in its log, no 403 in the audit log, and it did write', () => {
    expect(JSON.stringify(operator.logs)).not.toMatch(/Forbidden|HTTP 403/);
    expect(forbiddenRequests(role.username)).toEqual([]);
    expect(operatorWrites(undefined, role.username).length).toBeGreaterThan(5);
  });
});
