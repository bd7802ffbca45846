// kube/client.ts writes and reads through client-node's typed models, which call a NetworkPolicy
// rule's `from` `_from`. What the rest of the operator sees is the API's names, both ways.
import { describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { toApiNames, toModelNames } from '../../../kube/client.js';
import type { KubeObject } from '../../../kube/types.js';

const peers = [{ podSelector: { matchLabels: { app: 'a' } } }];
const policy: KubeObject = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'p', namespace: 'n' },
  spec: {
    podSelector: {},
    policyTypes: ['Ingress'],
    ingress: [{ from: peers, ports: [{ protocol: 'TCP', port: 80 }] }, { ports: [{ protocol: 'TCP', port: 81 }] }],
  },
} as KubeObject;

describe("client-node's model names", () => {
  it('are the ones client-node 1.4 uses for a NetworkPolicy rule (the reason for the renaming)', () => {
    const attrs = k8s.V1NetworkPolicyIngressRule.getAttributeTypeMap();
    expect(attrs.find((a) => a.baseName === 'from')?.name).toBe('_from');
  });

  it("turn a rule's `from` into `_from` for a write and back after a read, leaving the rest as it was", () => {
    const model = toModelNames(policy) as unknown as { spec: { ingress: Record<string, unknown>[] } };
    expect(model.spec.ingress[0]).toEqual({ _from: peers, ports: [{ protocol: 'TCP', port: 80 }] });
    expect(model.spec.ingress[1]).toEqual({ ports: [{ protocol: 'TCP', port: 81 }] });
    expect(toApiNames(model as unknown as KubeObject)).toEqual(policy);
    // The caller's object is not changed.
    expect((policy.spec as { ingress: Record<string, unknown>[] }).ingress[0].from).toBe(peers);
  });

  it("name a list item's kind from the list (items carry none), and leave other kinds alone", () => {
    const { apiVersion: _a, kind: _k, ...item } = toModelNames(policy);
    const back = toApiNames(item as KubeObject, 'networking.k8s.io/v1', 'NetworkPolicy') as unknown as {
      spec: { ingress: Record<string, unknown>[] };
    };
    expect(back.spec.ingress[0].from).toEqual(peers);
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, spec: { ingress: [{ from: 1 }] } };
    expect(toModelNames(cm as unknown as KubeObject)).toBe(cm);
  });
});
