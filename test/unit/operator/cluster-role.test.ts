// manifests/rbac/cluster-role.yaml holds exactly what the operator's code paths and the Roles its
// stacks render need: no verb is missing (test/integration/rbac.test.ts proves that for real, with
// the API server authorizing) and none is left over. Each code path is named where it is listed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import type { ObservabilityStack } from '../../../api/types.js';
import { validateResource } from '../../../api/validate.js';
import { expandPaths, loadDocs } from '../../../cli/files.js';
import { MANAGED_KINDS } from '../../../controller/kinds.js';
import { API_GROUP } from '../../../conventions/index.js';
import { renderStack } from '../../../desired/stack/index.js';
import { aStack } from '../../support/builders.js';
import { EXAMPLES_DIR, REPO_ROOT } from '../../support/paths.js';

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
  nonResourceUrLs?: string[];
}

const role = yaml.load(readFileSync(join(REPO_ROOT, 'manifests/rbac/cluster-role.yaml'), 'utf8')) as {
  rules: Rule[];
};

/** group/resource:verb, and url:verb for non-resource URLs. */
function grants(rules: readonly Rule[]): Set<string> {
  const out = new Set<string>();
  for (const r of rules) {
    for (const u of r.nonResourceURLs ?? r.nonResourceUrLs ?? []) for (const v of r.verbs) out.add(`${u}:${v}`);
    for (const g of r.apiGroups ?? [])
      for (const res of r.resources ?? []) for (const v of r.verbs) out.add(`${g}/${res}:${v}`);
  }
  return out;
}

const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0] : '');

/** What the operator's own calls need (kube/ client calls and informers), with where each is made. */
function codeNeeds(): Set<string> {
  const out = new Set<string>();
  const add = (group: string, resources: string[], verbs: string[]) => {
    for (const r of resources) for (const v of verbs) out.add(`${group}/${r}:${v}`);
  };
  // Children (controller/apply.ts, controller/stack.ts, controller/slo.ts): server-side apply is a
  // patch (create when absent); pruning lists by label and deletes, except the kinds found by name.
  for (const k of MANAGED_KINDS) {
    add(groupOf(k.apiVersion), [k.plural], ['create', 'patch', 'delete', k.byName ? 'get' : 'list']);
    if (k.watch) add(groupOf(k.apiVersion), [k.plural], ['watch']);
  }
  // Informers of the primary kinds (operator/operator.ts); a stack is got before its cluster
  // children are deleted (StackReconciler.deleteClusterChildren); a policy before each decision
  // (controller/remediation/service.ts decideOne).
  add(API_GROUP, ['observabilitystacks', 'slos', 'remediationpolicies'], ['list', 'watch']);
  add(API_GROUP, ['observabilitystacks', 'remediationpolicies'], ['get']);
  // Status: merge patches (kube/client.ts patchStatus, kube/workloads.ts writeStatusIf).
  add(API_GROUP, ['observabilitystacks/status', 'slos/status', 'remediationpolicies/status'], ['patch']);
  // ownerReferences with blockOwnerDeletion (OwnerReferencesPermissionEnforcement).
  add(API_GROUP, ['observabilitystacks/finalizers', 'slos/finalizers'], ['update']);
  // The namespace informer (metadata only) and the fallback list in StackReconciler.agentProblems.
  add('', ['namespaces'], ['list', 'watch']);
  // Referenced Secrets (key names only), the remediation token (kube/workloads.ts readSecretKey).
  add('', ['secrets'], ['get']);
  // An SLO's ConfigMaps and PrometheusRule by name (SLOReconciler.liveChildren); `list` is
  // kube/client.ts serves(), the discovery probe.
  add('', ['configmaps'], ['get']);
  add('monitoring.coreos.com', ['prometheusrules'], ['get', 'list', 'create', 'patch', 'delete']);
  // A remediation's target (controller/remediation/service.ts lookup); a restart is a patch.
  add('apps', ['deployments', 'statefulsets', 'daemonsets'], ['get', 'patch']);
  add('', ['pods'], ['get']);
  // kube/client.ts event.
  add('', ['events'], ['create']);
  return out;
}

/** What the Roles and ClusterRoles that stacks render grant: RBAC lets the operator grant only what it holds. */
function renderedNeeds(): Set<string> {
  const fromExamples = expandPaths([EXAMPLES_DIR])
    .flatMap((f) => loadDocs(f))
    .map((d) => validateResource(d.doc))
    .flatMap((v) => (v.ok && v.object.kind === 'ObservabilityStack' ? [v.object as ObservabilityStack] : []));
  // Every part that renders a Role: the agent with kubeletstats (when cluster metrics do not scrape
  // the kubelets), cluster metrics, the operator's scrape, Grafana's dashboards sidecar.
  const specs = [
    { collector: { enabled: true, mode: 'daemonset' }, metrics: { enabled: true }, grafana: { enabled: true } },
    {
      collector: { enabled: true, mode: 'daemonset' },
      metrics: { enabled: true, cluster: { enabled: true }, scrapeOperator: { enabled: true } },
    },
  ];
  const all = specs.map((spec, i) => {
    const v = validateResource({ ...aStack(spec), metadata: { name: `all${i}`, namespace: 'x' } });
    if (!v.ok) throw new Error(JSON.stringify(v.problems));
    return v.object as ObservabilityStack;
  });
  const out = new Set<string>();
  for (const stack of [...fromExamples, ...all]) {
    stack.metadata.namespace = 'x';
    for (const o of renderStack(stack).objects) {
      if (o.kind === 'Role' || o.kind === 'ClusterRole')
        for (const g of grants((o as { rules?: Rule[] }).rules ?? [])) out.add(g);
    }
  }
  return out;
}

describe('the operator ClusterRole', () => {
  const held = grants(role.rules);
  const needed = new Set([...codeNeeds(), ...renderedNeeds()]);

  it('holds every verb a code path or a rendered Role needs', () => {
    expect([...needed].filter((x) => !held.has(x)).sort()).toEqual([]);
  });

  it('holds no verb that nothing needs', () => {
    expect([...held].filter((x) => !needed.has(x)).sort()).toEqual([]);
  });

  it('never lists or watches Secrets, and holds no wildcard, escalate or bind', () => {
    expect(held).toContain('/secrets:get');
    expect(held).not.toContain('/secrets:list');
    expect(held).not.toContain('/secrets:watch');
    expect([...held].filter((x) => x.includes('*') || /:(escalate|bind|impersonate)$/.test(x))).toEqual([]);
    expect(role.rules.filter((r) => r.resourceNames)).toEqual([]);
  });
});
