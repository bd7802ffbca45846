// Every rendered stack ships alerts/ and dashboards/ as they are in the repository, and the
// committed copies are what desired/shipped generates.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { LABEL_GRAFANA_DASHBOARD } from '../../../conventions/index.js';
import {
  ALERT_FILES,
  alertFileKey,
  DASHBOARDS,
  dashboardConfigMapName,
  dashboardFileKey,
  shippedFiles,
} from '../../../desired/shipped/index.js';
import { renderStack } from '../../../desired/stack/index.js';
import { FIXTURES, loadStack } from '../charts/stacks.js';

const REPO = join(import.meta.dirname, '../../..');
const MiB = 1024 * 1024;

const configMaps = (file: string) =>
  renderStack(loadStack(file)).objects.filter((o) => o.kind === 'ConfigMap') as unknown as {
    metadata: { name: string; labels: Record<string, string> };
    data: Record<string, string>;
  }[];

describe('the committed alerts/ and dashboards/', () => {
  it.each(Object.keys(shippedFiles()))('%s is what desired/shipped generates (make gen)', (path) => {
    expect(readFileSync(join(REPO, path), 'utf8')).toBe(shippedFiles()[path]);
  });
});

describe('every stack ships them', () => {
  it.each(Object.entries(FIXTURES))("the %s stack's Prometheus loads exactly the rule files of alerts/", (_n, file) => {
    const stack = loadStack(file).metadata.name ?? '';
    const rules = configMaps(file).find((c) => c.metadata.name === `${stack}-prometheus-rules`);
    expect(rules?.data).toEqual(
      Object.fromEntries(
        ALERT_FILES.map((a) => [alertFileKey(a), readFileSync(join(REPO, `alerts/${a}.yaml`), 'utf8')]),
      ),
    );
  });

  it.each(Object.entries(FIXTURES))(
    "the %s stack's Grafana gets every shipped dashboard as a ConfigMap its sidecar collects",
    (_n, file) => {
      const stack = loadStack(file).metadata.name ?? '';
      for (const d of DASHBOARDS) {
        const cm = configMaps(file).find((c) => c.metadata.name === dashboardConfigMapName(stack, d));
        expect(cm?.metadata.labels[LABEL_GRAFANA_DASHBOARD]).toBe('1');
        expect(cm?.data).toEqual({ [dashboardFileKey(d)]: readFileSync(join(REPO, `dashboards/${d}.json`), 'utf8') });
      }
    },
  );

  it('keeps every shipped ConfigMap under the 1 MiB object limit', () => {
    const stack = loadStack(FIXTURES.full).metadata.name ?? '';
    const shipped = configMaps(FIXTURES.full).filter(
      (c) => c.metadata.name === `${stack}-prometheus-rules` || c.metadata.labels[LABEL_GRAFANA_DASHBOARD] === '1',
    );
    expect(shipped).toHaveLength(1 + DASHBOARDS.length);
    for (const c of shipped) {
      const bytes = Buffer.byteLength(JSON.stringify(c), 'utf8');
      expect({ name: c.metadata.name, underLimit: bytes < MiB }).toEqual({ name: c.metadata.name, underLimit: true });
    }
  });

  it('a stack without Grafana gets no dashboard ConfigMaps', () => {
    const s = loadStack(FIXTURES.core);
    const off = { ...s, spec: { ...s.spec, grafana: { ...s.spec.grafana, enabled: false } } };
    const names = renderStack(off)
      .objects.filter((o) => o.kind === 'ConfigMap')
      .map((o) => o.metadata.name);
    expect(names.filter((n) => n.includes('-dashboard-') && !n.endsWith('-providers'))).toEqual([]);
  });
});
