// --allowed-image-prefixes on the real API server: the operator process runs with the flag; a stack
// whose spec names an image outside the prefixes is Degraded naming the field (with an Event), and
// nothing of a stack already running is changed or deleted; a stack within them becomes Ready. It
// runs as a ServiceAccount holding only manifests/rbac/cluster-role.yaml.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { freshNamespace, kubectl, kubectlOk } from '../support/kubectl.js';
import { eventually, type RunningOperator, startOperator } from '../support/operator.js';
import { type ManifestsRoleUser, manifestsRoleUser } from '../support/rbac.js';
import { CHILD_KINDS, desiredChildren, exampleDoc, liveChildren } from '../support/stacks.js';

const ALLOWED = 'registry.example/';
const GOOD_IMAGE = 'registry.example/grafana/grafana:12.2.0';

let ns: string;
let operator: RunningOperator;
let role: ManifestsRoleUser;

/** examples/core.yaml under another name, with Grafana's image set. */
const stackDoc = (name: string, image: string) => {
  const doc = exampleDoc('core.yaml', name) as { spec: Record<string, unknown> };
  doc.spec.grafana = { enabled: true, image };
  return doc;
};
const conditionOf = (name: string, type: string) => {
  const o = JSON.parse(kubectlOk(['get', 'ostack', name, '-n', ns, '-o', 'json']));
  const c = (o.status?.conditions ?? []).find((x: { type: string }) => x.type === type);
  return c && { ...c, generation: o.metadata.generation };
};
const versions = (stack: string) =>
  Object.fromEntries(
    (
      JSON.parse(kubectlOk(['get', CHILD_KINDS, '-n', ns, '-l', `vigil.dev/stack=${stack}`, '-o', 'json'])).items as {
        kind: string;
        metadata: { name: string; resourceVersion: string };
      }[]
    ).map((o) => [`${o.kind}/${o.metadata.name}`, o.metadata.resourceVersion]),
  );
const grafanaImage = (stack: string) =>
  kubectlOk([
    'get',
    'deployment',
    `${stack}-grafana`,
    '-n',
    ns,
    '-o',
    'jsonpath={.spec.template.spec.containers[?(@.name=="grafana")].image}',
  ]);

beforeAll(async () => {
  ns = freshNamespace('images');
  role = manifestsRoleUser(ns);
  operator = await startOperator(
    ['--namespaces', ns, '--allowed-image-prefixes', ALLOWED],
    {},
    {
      kubeconfig: role.kubeconfig,
    },
  );
});
afterAll(async () => {
  await operator?.stop();
  role?.remove();
  kubectl(['delete', 'namespace', ns, '--wait=false']);
});

describe('the operator with --allowed-image-prefixes', () => {
  it('runs a stack whose images are all under the prefixes', async () => {
    kubectlOk(['apply', '-n', ns, '-f', '-'], yaml.dump(stackDoc('good', GOOD_IMAGE)));
    const r = kubectl(['wait', '-n', ns, '--for=condition=Ready', '--timeout=55s', 'ostack/good']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(liveChildren(ns, 'good')).toEqual(desiredChildren(stackDoc('good', GOOD_IMAGE), ns));
    expect(grafanaImage('good')).toBe(GOOD_IMAGE);
  });

  it('turns it Degraded naming the field when an image leaves the prefixes, and changes nothing that runs', async () => {
    const before = versions('good');
    expect(Object.keys(before).length).toBeGreaterThan(5);
    kubectlOk([
      'patch',
      'ostack',
      'good',
      '-n',
      ns,
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { grafana: { image: 'evil.example/x' } } }),
    ]);
    const degraded = await eventually('good Degraded for its new generation', () => {
      const c = conditionOf('good', 'Degraded');
      return c?.status === 'True' && c.observedGeneration === c.generation ? c : undefined;
    });
    expect(degraded).toMatchObject({
      reason: 'ImageNotAllowed',
      message: expect.stringContaining(
        `spec.grafana.image: "evil.example/x" is not under an allowed prefix (${ALLOWED})`,
      ),
    });
    expect(conditionOf('good', 'Ready')).toMatchObject({ status: 'False', reason: 'ImageNotAllowed' });
    const events = JSON.parse(
      kubectlOk(['get', 'events', '-n', ns, '--field-selector', 'reason=ImageNotAllowed', '-o', 'json']),
    ).items as { involvedObject: { name: string }; message: string }[];
    expect(events.some((e) => e.involvedObject.name === 'good' && e.message.includes('spec.grafana.image'))).toBe(true);
    // Every child still there, unchanged, the old image still running.
    expect(versions('good')).toEqual(before);
    expect(grafanaImage('good')).toBe(GOOD_IMAGE);
  });

  it('creates nothing for a new stack with an image outside the prefixes', async () => {
    const doc = stackDoc('bad', 'evil.example/x');
    (doc.spec.metrics as Record<string, unknown>).image = 'quay.io/prometheus/prometheus:v3.5.0';
    kubectlOk(['apply', '-n', ns, '-f', '-'], yaml.dump(doc));
    const degraded = await eventually('bad Degraded', () => {
      const c = conditionOf('bad', 'Degraded');
      return c?.status === 'True' ? c : undefined;
    });
    expect(degraded.reason).toBe('ImageNotAllowed');
    expect(degraded.message).toContain('spec.grafana.image: "evil.example/x"');
    expect(degraded.message).toContain('spec.metrics.image: "quay.io/prometheus/prometheus:v3.5.0"');
    expect(liveChildren(ns, 'bad')).toEqual([]);
  });
});
