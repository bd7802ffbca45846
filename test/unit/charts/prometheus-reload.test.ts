// The rendered Prometheus with its rendered flags, as the real Prometheus 3.5.0 binary
// (hack/build-prometheus.sh): its lifecycle API is off (POST /-/quit and /-/reload answer 403 and
// the process keeps running), and rule files written the way the config sidecar writes the SLO
// rules are loaded with no signal and no HTTP call (auto-reload-config, docs/adr/0019). The pod's
// paths are mapped under a temp folder; the scrape jobs (kubernetes_sd) and Alertmanager discovery
// are left out, as nothing here is a cluster.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { PROMETHEUS_VERSION } from '../../../desired/stack/images.js';
import { renderStack } from '../../../desired/stack/index.js';
import { PROMETHEUS_RELOAD_INTERVAL } from '../../../desired/stack/prometheus.js';
import { aValidStack, cachedTool } from '../cluster/support.js';
import { freePort, Peer, tempDir } from '../correlator/peers.js';

interface Container {
  name: string;
  args?: string[];
  env?: { name: string; value?: string }[];
  volumeMounts?: { name: string; mountPath: string }[];
}

const stack = aValidStack({ metrics: { enabled: true } }, 'obs', 'reload');
const objects = renderStack(stack).objects;
const sts = objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'reload-prometheus') as unknown as {
  spec: { template: { spec: { containers: Container[]; shareProcessNamespace?: boolean } } };
};
const pod = sts.spec.template.spec;
const main = pod.containers.find((c) => c.name === 'prometheus') as Container;
const sidecar = pod.containers.find((c) => c.name === 'config-sidecar') as Container;
const configMap = (name: string) =>
  (
    objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name) as unknown as {
      data: Record<string, string>;
    }
  ).data;

let root: ReturnType<typeof tempDir>;
let prom: Peer;
let url: string;
/** The pod's absolute path `p` under the temp folder. */
const local = (p: string) => join(root.path, p);
const sloDir = () => local(sidecar.volumeMounts?.[0]?.mountPath ?? '/missing');

async function ruleGroups(): Promise<string[]> {
  const body = (await (await fetch(`${url}/api/v1/rules`)).json()) as { data: { groups: { name: string }[] } };
  return body.data.groups.map((g) => g.name);
}
async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}:\n${prom.output().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
/** What the sidecar does: a new file in the folder, written whole (a rename). */
function writeRuleFile(name: string, group: string) {
  const tmp = join(root.path, `.${name}.tmp`);
  const rules = {
    groups: [{ name: group, rules: [{ record: `vigil:${group.replace(/-/g, '_')}`, expr: 'vector(1)' }] }],
  };
  writeFileSync(tmp, yaml.dump(rules));
  renameSync(tmp, join(sloDir(), name));
}

beforeAll(async () => {
  const bin = cachedTool('prometheus', PROMETHEUS_VERSION, 'prometheus', 'hack/build-prometheus.sh');
  root = tempDir('prom-reload');
  const config = yaml.load(configMap('reload-prometheus')['prometheus.yml']) as Record<string, unknown>;
  config.rule_files = (config.rule_files as string[]).map(local);
  config.scrape_configs = (config.scrape_configs as { job_name: string }[]).filter((j) => j.job_name === 'prometheus');
  delete config.alerting;
  const stackRules = main.volumeMounts?.find((m) => m.name === 'stack-rules')?.mountPath as string;
  mkdirSync(local(stackRules), { recursive: true });
  mkdirSync(sloDir(), { recursive: true });
  for (const [f, text] of Object.entries(configMap('reload-prometheus-rules')))
    writeFileSync(join(local(stackRules), f), text);
  const configFile = (main.args ?? []).find((a) => a.startsWith('--config.file='))?.split('=')[1] as string;
  mkdirSync(dirname(local(configFile)), { recursive: true });
  writeFileSync(local(configFile), yaml.dump(config));
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  // The rendered flags, each pod path under the temp folder, and a loopback listen address.
  const args = (main.args ?? []).map((a) =>
    a.replace(/^(--[a-z.-]+=)(\/.*)$/, (_m, f: string, p: string) => f + local(p)),
  );
  prom = new Peer(
    'prometheus',
    bin,
    [...args, `--web.listen-address=127.0.0.1:${port}`, '--log.level=info'],
    root.path,
  );
  prom.start();
  await prom.waitReady(`${url}/-/ready`);
}, 150_000);

afterAll(async () => {
  await prom?.stop();
  root?.remove();
});

describe('the rendered Prometheus pod', () => {
  it('runs without the lifecycle API and shares no process namespace; the sidecar calls nothing', () => {
    expect(main.args).not.toContain('--web.enable-lifecycle');
    expect(main.args).toEqual(
      expect.arrayContaining([
        '--enable-feature=auto-reload-config',
        `--config.auto-reload-interval=${PROMETHEUS_RELOAD_INTERVAL}`,
      ]),
    );
    expect(pod.shareProcessNamespace).toBeUndefined();
    expect((sidecar.env ?? []).map((e) => e.name)).not.toEqual(expect.arrayContaining(['REQ_URL']));
  });

  it('answers 403 to POST /-/quit and /-/reload, and keeps running', async () => {
    for (const path of ['/-/quit', '/-/reload']) {
      const res = await fetch(`${url}${path}`, { method: 'POST' });
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
    }
    expect(prom.running).toBe(true);
    expect((await fetch(`${url}/-/ready`)).status).toBe(200);
  });

  it('loads the stack rules, then a rule file the sidecar writes, with no signal and no HTTP call', async () => {
    const before = await ruleGroups();
    expect(before.length).toBeGreaterThan(0);
    expect(before).not.toContain('slo-checkout');
    writeRuleFile('obs_vigil-slo-checkout.yaml', 'slo-checkout');
    const after = await eventually('the new SLO rule group', async () => {
      const g = await ruleGroups();
      return g.includes('slo-checkout') ? g : undefined;
    });
    expect(after).toEqual(expect.arrayContaining(before));
    // A changed file is picked up too (the sidecar rewrites a ConfigMap's file in place).
    writeRuleFile('obs_vigil-slo-checkout.yaml', 'slo-checkout-v2');
    await eventually('the rewritten SLO rule group', async () => {
      const g = await ruleGroups();
      return g.includes('slo-checkout-v2') && !g.includes('slo-checkout') ? g : undefined;
    });
    expect(prom.output()).toContain('Completed loading of configuration file');
    expect(readFileSync(join(sloDir(), 'obs_vigil-slo-checkout.yaml'), 'utf8')).toContain('slo-checkout-v2');
  });
});
