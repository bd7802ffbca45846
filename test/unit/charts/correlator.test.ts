// The rendered correlator Deployment: with more than one replica its env names the peers a query
// fans out to (the headless Service, resolved on every query, and the pod's own IP to leave out),
// and the correlator's own config reader takes that env as rendered.
import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../../correlator/config.js';
import { PORTS } from '../../../desired/stack/context.js';
import { type KubeObject, renderStack } from '../../../desired/stack/index.js';
import { aStack } from './stacks.js';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } };
}

function rendered(replicas: number) {
  const r = renderStack(aStack({ correlation: { replicas } } as never));
  expect(r.problems).toEqual([]);
  const find = (kind: string, name: string) =>
    r.objects.find((o) => o.kind === kind && o.metadata.name === name) as KubeObject;
  const deployment = find('Deployment', 't-correlator');
  const spec = deployment.spec as {
    replicas: number;
    template: { spec: { containers: { env: EnvVar[] }[] } };
  };
  return { spec, env: spec.template.spec.containers[0].env, headless: find('Service', 't-correlator-headless') };
}

describe('the correlator Deployment and its peers', () => {
  it('names no peers with one replica', () => {
    const { spec, env } = rendered(1);
    expect(spec.replicas).toBe(1);
    const names = env.map((e) => e.name);
    expect(names).not.toContain('CORRELATOR_PEERS_DNS');
    expect(names).not.toContain('POD_IP');
    const literal = Object.fromEntries(env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
    expect(loadConfig(literal).peers).toBeUndefined();
  });

  it('fans queries out over the headless Service with two or more, leaving its own pod IP out', () => {
    for (const replicas of [2, 3]) {
      const { spec, env, headless } = rendered(replicas);
      expect(spec.replicas).toBe(replicas);
      expect(env).toContainEqual({
        name: 'CORRELATOR_PEERS_DNS',
        value: `t-correlator-headless.observability.svc:${PORTS.correlator}`,
      });
      expect(env).toContainEqual({ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } });
      // The Service it names is headless and serves that port (DNS gives every ready pod's IP).
      const svc = headless.spec as { clusterIP?: string; ports: { port: number; name: string }[] };
      expect(svc.clusterIP).toBe('None');
      expect(svc.ports.map((p) => p.port)).toContain(PORTS.correlator);
      // What the correlator reads from that env (the pod IP as the kubelet would fill it in).
      const literal = Object.fromEntries(env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
      expect(loadConfig({ ...literal, POD_IP: '10.1.2.3' }).peers).toMatchObject({
        dns: { host: 't-correlator-headless.observability.svc', port: PORTS.correlator },
        static: [],
        selfHost: '10.1.2.3',
      });
    }
  });
});
