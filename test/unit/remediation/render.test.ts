// A stack whose alerts match a policy routes them to the operator's receiver: checked by the real
// amtool (check-config and config routes test) on the rendered alertmanager.yml.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { routingFor } from '../../../controller/remediation/routing.js';
import { alertmanagerConfig } from '../../../desired/stack/alertmanager.js';
import { stackContext } from '../../../desired/stack/context.js';
import { renderStack } from '../../../desired/stack/index.js';
import { FIXTURES, loadStack } from '../charts/stacks.js';
import { amtool, run } from '../charts/tools.js';
import { aPolicyDoc } from './policies.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-remediation-am-'));
const stack = { ...loadStack(FIXTURES.full), metadata: { name: 'full', namespace: 'shop' } };
const policies = [
  {
    ...aPolicyDoc({
      match: { alertname: 'CheckoutDown', matchers: [{ name: 'severity', op: '=~', value: 'critical|page' }] },
      guard: { notifyReceiver: 'oncall', cooldown: '2m' },
    }),
    metadata: { name: 'restart-checkout', namespace: 'shop' },
  },
  { ...aPolicyDoc({ stackRef: { name: 'other' } }), metadata: { name: 'for-another-stack', namespace: 'shop' } },
] as { metadata: { name: string; namespace: string }; spec: unknown }[];
const routing = routingFor('shop', 'full', policies, 'http://vigil-operator.vigil-system.svc:9444');

function amConfig() {
  return alertmanagerConfig({ ...stackContext(stack), remediation: routing }) as {
    route: { routes: Record<string, unknown>[] };
    receivers: Record<string, unknown>[];
  };
}

const routesTest = (file: string, labels: Record<string, string>) =>
  run(amtool(), [
    'config',
    'routes',
    'test',
    `--config.file=${file}`,
    ...Object.entries(labels).map(([k, v]) => `${k}=${v}`),
  ]).trim();

describe('a stack with a RemediationPolicy', () => {
  it('routes only the policies that name it', () => {
    expect(routing?.policies.map((p) => p.name)).toEqual(['restart-checkout']);
    expect(routing?.url).toBe('http://vigil-operator.vigil-system.svc:9444/api/v1/remediation/alerts/shop/full');
  });

  it('sends matching alerts to the receiver with a bearer token file and send_resolved, and amtool accepts it', () => {
    const am = amConfig();
    expect(am.receivers.find((r) => r.name === 'vigil-remediation')).toEqual({
      name: 'vigil-remediation',
      webhook_configs: [
        {
          url: 'http://vigil-operator.vigil-system.svc:9444/api/v1/remediation/alerts/shop/full',
          send_resolved: true,
          max_alerts: 0,
          http_config: { authorization: { type: 'Bearer', credentials_file: '/etc/alertmanager/remediation/token' } },
        },
      ],
    });
    const file = join(dir, 'alertmanager.yml');
    writeFileSync(file, yaml.dump(am));
    expect(run(amtool(), ['check-config', file])).toContain('SUCCESS');
    // The policy's alert reaches the receiver and still the stack's own route (continue: true).
    expect(routesTest(file, { alertname: 'CheckoutDown', severity: 'critical' })).toBe('vigil-remediation,oncall');
    expect(routesTest(file, { alertname: 'CheckoutDown', severity: 'warning' })).toBe('tickets');
    expect(routesTest(file, { alertname: 'Other', severity: 'critical' })).toBe('oncall');
    // The operator's Blocked notice goes to the policy's notifyReceiver only.
    expect(
      routesTest(file, {
        alertname: 'VigilRemediationBlocked',
        vigil_remediation_policy: 'restart-checkout',
        severity: 'warning',
      }),
    ).toBe('oncall');
  });

  it('repeats a still-firing alert after the cooldown, each alert in its own group', () => {
    const route = amConfig().route.routes.find((r) => r.receiver === 'vigil-remediation');
    expect(route).toMatchObject({ group_by: ['...'], repeat_interval: '2m', group_interval: '1m', continue: true });
  });

  it("mounts the namespace's token Secret into Alertmanager, and nothing of it without a policy", () => {
    const mounted = (objects: ReturnType<typeof renderStack>['objects']) => {
      const sts = objects.find(
        (o) => o.kind === 'StatefulSet' && o.metadata.name === 'full-alertmanager',
      ) as unknown as {
        spec: {
          template: {
            spec: {
              volumes: { name: string; secret?: { secretName: string } }[];
              containers: { volumeMounts: { name: string; mountPath: string }[] }[];
            };
          };
        };
      };
      const pod = sts.spec.template.spec;
      return {
        volume: pod.volumes.find((v) => v.name === 'remediation-token')?.secret?.secretName,
        mount: pod.containers[0].volumeMounts.find((m) => m.name === 'remediation-token')?.mountPath,
      };
    };
    expect(mounted(renderStack(stack, { remediation: routing }).objects)).toEqual({
      volume: 'vigil-remediation-token',
      mount: '/etc/alertmanager/remediation',
    });
    expect(mounted(renderStack(stack).objects)).toEqual({ volume: undefined, mount: undefined });
    const plain = alertmanagerConfig(stackContext(stack)) as { receivers: { name: string }[] };
    expect(plain.receivers.map((r) => r.name)).not.toContain('vigil-remediation');
    expect(JSON.stringify(renderStack(stack).objects)).not.toContain('vigil-remediation-token');
  });
});
