// The agent, the gateway and the sampling tier as rendered: what each tier's objects hold, every
// tier's config accepted by the collector build that runs it (otelcol validate), and the pure
// check that two stacks never collect the same pod.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import type { ObservabilityStack } from '../../../api/types.js';
import { validateResource } from '../../../api/validate.js';
import { agentConfig, agentRules } from '../../../desired/stack/agent.js';
import {
  agentNamespaceProblem,
  collected,
  collectionOverlaps,
  type NamespaceInfo,
  selectorMatches,
} from '../../../desired/stack/collection.js';
import { collectorConfig } from '../../../desired/stack/collector.js';
import { stackContext } from '../../../desired/stack/context.js';
import { IMAGES, OTELCOL_AGENT_VERSION } from '../../../desired/stack/images.js';
import { renderStack } from '../../../desired/stack/index.js';
import { samplerConfig } from '../../../desired/stack/sampler.js';
import { agentOtelcol, gatewayOtelcol } from '../../support/collectors.js';
import { aStack, REPO } from './stacks.js';
import { run } from './tools.js';

const tmp = mkdtempSync(join(tmpdir(), 'vigil-agent-'));
let n = 0;
const write = (o: unknown) => {
  const f = join(tmp, `${n++}.yaml`);
  writeFileSync(f, yaml.dump(o, { noRefs: true, lineWidth: -1 }));
  return f;
};
// biome-ignore lint/suspicious/noExplicitAny: walking plain JSON
type Any = any;
const find = (s: ObservabilityStack, kind: string, name: string): Any =>
  renderStack(s).objects.find((o) => o.kind === kind && o.metadata.name === name);

const daemonset = (collect?: object, extra: object = {}) =>
  aStack({ collector: { mode: 'daemonset', ...(collect ? { collect } : {}) }, logs: {}, traces: {}, ...extra });

const AGENT_VARIANTS: [string, ObservabilityStack][] = [
  ['own namespace (the default)', daemonset()],
  ['namespaces by name, pod labels', daemonset({ namespaces: ['shop', 'payments'], podLabels: ['app', 'team'] })],
  [
    'a namespace selector with every operator',
    daemonset({
      namespaces: ['shop'],
      namespaceSelector: {
        matchLabels: { 'vigil.dev/collect': 'true' },
        matchExpressions: [
          { key: 'env', operator: 'In', values: ['prod', 'staging'] },
          { key: 'tier', operator: 'NotIn', values: ['batch'] },
          { key: 'team', operator: 'Exists' },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      },
    }),
  ],
  ['logs only, no Prometheus', daemonset(undefined, { metrics: { enabled: false } })],
  ['Prometheus scrapes cAdvisor: no kubeletstats', daemonset(undefined, { metrics: { cluster: { enabled: true } } })],
];

/** What `otelcol validate` needs outside a pod: the node's env, and no ServiceAccount files. */
function validatable(config: Any): Any {
  const c = structuredClone(config);
  if (c.receivers.kubeletstats) c.receivers.kubeletstats.auth_type = 'none';
  return c;
}
const NODE_ENV = { K8S_NODE_NAME: 'node-1', K8S_NODE_IP: '10.0.0.1' };

describe('the agent build accepts every rendered agent config (otelcol validate)', () => {
  it.each(AGENT_VARIANTS)('%s', (_name, stack) => {
    expect(renderStack(stack).problems).toEqual([]);
    run(agentOtelcol(), ['validate', `--config=${write(validatable(agentConfig(stackContext(stack))))}`], NODE_ENV);
  });

  it('rejects what is wrong: a misspelt k8sattributes field', () => {
    const bad = validatable(agentConfig(stackContext(daemonset())));
    bad.processors.k8sattributes.extrakt = {};
    expect(() => run(agentOtelcol(), ['validate', `--config=${write(bad)}`], NODE_ENV)).toThrow(/extrakt/);
  });
});

const GATEWAY_VARIANTS: [string, ObservabilityStack][] = [
  ['no sampling, one correlator', aStack({ traces: {}, logs: {} })],
  ['sampling, one correlator', aStack({ traces: {}, logs: {}, collector: { sampling: { errors: true } } })],
  [
    'sampling, three correlators, basic auth',
    aStack({
      traces: {},
      logs: {},
      collector: { sampling: { errors: true, slowerThan: '2s', baselinePercent: 5 } },
      correlation: { replicas: 3, basicAuthSecretRef: { name: 'auth' } },
    }),
  ],
  ['no sampling, two correlators', aStack({ logs: {}, correlation: { replicas: 2 } })],
];

describe('the gateway build accepts every rendered gateway and sampling-tier config (otelcol validate)', () => {
  it.each(GATEWAY_VARIANTS)('%s', (_name, stack) => {
    const ctx = stackContext(stack);
    const env = { CORRELATOR_AUTHORIZATION: 'Basic dGVzdDp0ZXN0' };
    run(gatewayOtelcol(), ['validate', `--config=${write(collectorConfig(ctx))}`], env);
    if (ctx.on.sampler) run(gatewayOtelcol(), ['validate', `--config=${write(samplerConfig(ctx))}`], env);
  });
});

describe('the tiers a stack renders', () => {
  it('deployment mode: a gateway, and a sampling tier only when traces are tail-sampled', () => {
    const plain = renderStack(aStack({ traces: {} })).objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(plain).toContain('Deployment/t-collector');
    expect(plain.filter((k) => k.includes('sampler') || k.includes('agent'))).toEqual([]);
    const sampled = renderStack(aStack({ traces: {}, collector: { sampling: { errors: true } } })).objects;
    const gateway = yaml.load(
      find(aStack({ traces: {}, collector: { sampling: { errors: true } } }), 'ConfigMap', 't-collector').data[
        'collector.yaml'
      ],
    ) as Any;
    expect(sampled.some((o) => o.kind === 'Deployment' && o.metadata.name === 't-sampler')).toBe(true);
    // The gateway balances by trace ID and does not sample; the sampler does.
    expect(gateway.exporters['load_balancing/sampler'].routing_key).toBe('traceID');
    expect(gateway.processors.tail_sampling).toBeUndefined();
    const headless = find(
      aStack({ traces: {}, collector: { sampling: { errors: true } } }),
      'Service',
      't-sampler-headless',
    );
    expect(headless.spec.clusterIP).toBe('None');
    expect(headless.spec.publishNotReadyAddresses).toBeUndefined();
  });

  it('daemonset mode: an agent per node with read-only pod logs, node-local OTLP and least-privilege RBAC', () => {
    const s = daemonset({ namespaces: ['shop'] });
    const ds = find(s, 'DaemonSet', 't-agent');
    const pod = ds.spec.template.spec;
    expect(pod.volumes).toContainEqual({ name: 'pod-logs', hostPath: { path: '/var/log/pods', type: 'Directory' } });
    const c = pod.containers[0];
    expect(c.volumeMounts).toContainEqual({ name: 'pod-logs', mountPath: '/var/log/pods', readOnly: true });
    expect(c.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      runAsUser: 0,
    });
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(pod.hostNetwork).toBeUndefined();
    const svc = find(s, 'Service', 't-agent');
    expect(svc.spec.internalTrafficPolicy).toBe('Local');
    const role = renderStack(s).objects.find((o) => o.kind === 'ClusterRole') as Any;
    expect(role.metadata.namespace).toBeUndefined();
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['pods', 'namespaces'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['nodes/stats'], verbs: ['get'] },
    ]);
    expect(agentRules(stackContext(daemonset(undefined, { metrics: { enabled: false } })))).toHaveLength(1);
  });

  it('reads only the named namespaces’ files, and with a selector filters by namespace labels looked up live', () => {
    const byName = agentConfig(stackContext(daemonset({ namespaces: ['shop', 'payments'] }))) as Any;
    expect(byName.receivers.filelog.include).toEqual([
      '/var/log/pods/payments_*/*/*.log',
      '/var/log/pods/shop_*/*/*.log',
    ]);
    expect(byName.processors['filter/collect']).toBeUndefined();
    const bySelector = agentConfig(
      stackContext(daemonset({ namespaceSelector: { matchLabels: { team: 'shop' } } })),
    ) as Any;
    expect(bySelector.receivers.filelog.include).toEqual(['/var/log/pods/*/*/*.log']);
    expect(bySelector.processors.k8sattributes.extract.labels).toContainEqual({
      tag_name: 'k8s.namespace.label.team',
      key: 'team',
      from: 'namespace',
    });
    expect(bySelector.processors['filter/collect'].logs.resource).toEqual([
      'not ((resource.attributes["k8s.namespace.label.team"] == "shop"))',
    ]);
  });

  it('refuses collect without daemonset mode, naming the field (the schema rule and the render check)', () => {
    const v = validateResource({
      apiVersion: 'observability.vigil.dev/v1alpha1',
      kind: 'ObservabilityStack',
      metadata: { name: 't', namespace: 'x' },
      spec: { collector: { enabled: true, collect: { namespaces: ['x'] } } },
    });
    expect(v.ok).toBe(false);
    expect(v.ok ? [] : v.problems).toEqual([
      { path: 'spec.collector.collect', message: expect.stringContaining('daemonset') },
    ]);
    const s = aStack();
    const spec = { ...s.spec, collector: { ...s.spec.collector, mode: 'deployment', collect: {} } } as Any;
    expect(renderStack({ ...s, spec }).problems).toEqual([
      { path: 'spec.collector.collect', message: expect.stringContaining('daemonset') },
    ]);
  });
});

describe('two stacks never collect the same pod', () => {
  const at = (ns: string, name: string, collect?: object, created = '2026-01-01T00:00:00Z') => {
    const s = daemonset(collect);
    return { ...s, metadata: { ...s.metadata, name, namespace: ns, creationTimestamp: created } } as ObservabilityStack;
  };
  const namespaces: NamespaceInfo[] = [
    { name: 'shop', labels: { team: 'shop', env: 'prod' } },
    { name: 'payments', labels: { team: 'pay', env: 'prod' } },
    { name: 'dev', labels: { env: 'dev' } },
  ];

  it('refuses the newer of two overlapping stacks and names both and the namespaces', () => {
    const a = at('obs', 'cluster', { namespaceSelector: { matchLabels: { env: 'prod' } } }, '2026-01-01T00:00:00Z');
    const b = at('shop', 'team', undefined, '2026-02-01T00:00:00Z');
    const v = collectionOverlaps([a, b], namespaces);
    expect(v.get('shop/team')).toMatchObject({
      refused: true,
      reason: 'CollectionOverlap',
      conflicts: [{ other: 'obs/cluster', namespaces: ['shop'] }],
    });
    expect(v.get('shop/team')?.message).toContain('obs/cluster');
    expect(v.get('shop/team')?.message).toContain('shop/team');
    expect(v.get('obs/cluster')).toMatchObject({
      refused: false,
      conflicts: [{ other: 'shop/team', namespaces: ['shop'] }],
    });
  });

  it('lets disjoint stacks be, and ignores stacks that run no agent', () => {
    const a = at('obs', 'cluster', { namespaces: ['payments'] });
    const b = at('shop', 'team');
    const pushOnly = { ...aStack(), metadata: { name: 'p', namespace: 'shop' } } as ObservabilityStack;
    expect(collectionOverlaps([a, b, pushOnly], namespaces).size).toBe(0);
    expect(collected(pushOnly)).toBeUndefined();
  });

  it('counts a named namespace that does not exist yet', () => {
    const a = at('obs', 'a', { namespaces: ['later'] });
    const b = at('obs2', 'b', { namespaces: ['later'] }, '2026-03-01T00:00:00Z');
    expect(collectionOverlaps([a, b], []).get('obs2/b')?.conflicts).toEqual([
      { other: 'obs/a', namespaces: ['later'] },
    ]);
  });

  it('follows label-selector semantics', () => {
    const labels = { env: 'prod', team: 'shop' };
    expect(selectorMatches({}, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['x'] }] }, labels)).toBe(
      true,
    );
    expect(selectorMatches({ matchExpressions: [{ key: 'env', operator: 'In', values: ['dev'] }] }, labels)).toBe(
      false,
    );
    expect(selectorMatches({ matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] }, labels)).toBe(false);
    expect(
      selectorMatches(
        { matchLabels: { env: 'prod' }, matchExpressions: [{ key: 'team', operator: 'Exists' }] },
        labels,
      ),
    ).toBe(true);
  });
});

describe('the agent collector version', () => {
  it('is the same in the image, the build script and the builder manifest, for every module', () => {
    expect(IMAGES.agent.endsWith(`:${OTELCOL_AGENT_VERSION}`)).toBe(true);
    const script = readFileSync(join(REPO, 'hack/build-otelcol.sh'), 'utf8');
    expect(/^OTELCOL_AGENT_VERSION="([^"]+)"/m.exec(script)?.[1]).toBe(OTELCOL_AGENT_VERSION);
    const manifest = yaml.load(readFileSync(join(REPO, 'hack/tools/otelcol-agent/builder-config.yaml'), 'utf8')) as Any;
    expect(manifest.dist.version).toBe(OTELCOL_AGENT_VERSION);
    const mods = ['receivers', 'processors', 'exporters', 'extensions'].flatMap((k) => manifest[k] ?? []);
    expect(mods.length).toBeGreaterThan(5);
    for (const m of mods) expect(m.gomod.split(' ')[1]).toBe(`v${OTELCOL_AGENT_VERSION}`);
    const tools = readFileSync(join(REPO, 'hack/tools/otelcol-agent/go.mod'), 'utf8');
    expect(tools).toContain(`go.opentelemetry.io/collector/cmd/builder v${OTELCOL_AGENT_VERSION}`);
  });
});

describe('the namespace the agent runs in', () => {
  it('must admit privileged pods: restricted and baseline are named with the fix, privileged or no label pass', () => {
    expect(agentNamespaceProblem('obs', { 'pod-security.kubernetes.io/enforce': 'privileged' })).toBeUndefined();
    expect(agentNamespaceProblem('obs', {})).toBeUndefined();
    for (const level of ['restricted', 'baseline']) {
      const p = agentNamespaceProblem('obs', { 'pod-security.kubernetes.io/enforce': level });
      expect(p).toContain(`"${level}"`);
      expect(p).toContain('pod-security.kubernetes.io/enforce=privileged');
    }
  });
});
