import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import {
  IMAGES,
  LOKI_VERSION,
  OTELCOL_VERSION,
  PROMETHEUS_VERSION,
  THANOS_VERSION,
} from '../../../desired/stack/images.js';
import { REPO } from './stacks.js';

const read = (p: string) => readFileSync(join(REPO, p), 'utf8');
const scriptVar = (p: string, name: string) => new RegExp(`^${name}="([^"]+)"`, 'm').exec(read(p))?.[1];

describe('pinned versions', () => {
  it('validates collector configs with a collector built from the version the image runs', () => {
    expect(IMAGES.collector.endsWith(`:${OTELCOL_VERSION}`)).toBe(true);
    expect(scriptVar('hack/build-otelcol.sh', 'OTELCOL_VERSION')).toBe(OTELCOL_VERSION);
    const manifest = read('hack/tools/otelcol/builder-config.yaml');
    const versions = new Set([...manifest.matchAll(/gomod: \S+ v(\S+)/g)].map((m) => m[1]));
    expect([...versions]).toEqual([OTELCOL_VERSION]);
    expect(manifest).toContain(`version: ${OTELCOL_VERSION}`);
    expect(read('hack/tools/otelcol/go.mod')).toContain(
      `go.opentelemetry.io/collector/cmd/builder v${OTELCOL_VERSION}`,
    );
  });

  it('deploys the pinned Loki image, and no tool build names an AGPL module (Loki, Tempo, Grafana, Mimir)', () => {
    expect(IMAGES.loki.endsWith(`:${LOKI_VERSION}`)).toBe(true);
    const agpl = /github\.com\/grafana\/(loki|tempo|grafana|mimir)\b/;
    const hack = join(REPO, 'hack');
    const files = readdirSync(hack, { recursive: true, encoding: 'utf8' }).filter(
      (f) => /(^|\/)(go\.mod|builder-config\.yaml|[^/]+\.sh)$/.test(f) && statSync(join(hack, f)).isFile(),
    );
    expect(files).toEqual(expect.arrayContaining(['tools/victorialogs/go.mod', 'tools/otelcol/builder-config.yaml']));
    for (const f of files) expect(`${f}: ${agpl.test(read(join('hack', f)))}`).toBe(`${f}: false`);
  });

  it('builds VictoriaLogs and Alertmanager from the versions their go.mod files pin', () => {
    const vl = scriptVar('hack/build-victorialogs.sh', 'VICTORIALOGS_VERSION');
    expect(read('hack/tools/victorialogs/go.mod')).toContain(`github.com/VictoriaMetrics/VictoriaLogs v${vl}`);
    const am = scriptVar('hack/build-alertmanager.sh', 'ALERTMANAGER_VERSION') ?? '';
    expect(read('hack/tools/alertmanager/go.mod')).toContain(`github.com/prometheus/alertmanager v${am}`);
    // amtool checks the config the image reads: the same release.
    expect(IMAGES.alertmanager).toBe(`quay.io/prometheus/alertmanager:v${am}`);
  });

  it('runs the HA test with the Thanos release the sidecars and querier deploy', () => {
    expect(IMAGES.thanos).toBe(`quay.io/thanos/thanos:v${THANOS_VERSION}`);
    expect(scriptVar('hack/build-thanos.sh', 'THANOS_VERSION')).toBe(THANOS_VERSION);
    expect(read('hack/tools/thanos/go.mod')).toContain(`github.com/thanos-io/thanos v${THANOS_VERSION}`);
  });

  it('checks Prometheus configs with the promtool of the Prometheus version the image runs', () => {
    expect(IMAGES.prometheus.endsWith(`:v${PROMETHEUS_VERSION}`)).toBe(true);
    expect(scriptVar('hack/build-promtool.sh', 'PROMETHEUS_VERSION')).toBe(PROMETHEUS_VERSION);
    expect(scriptVar('hack/build-prometheus.sh', 'PROMETHEUS_VERSION')).toBe(PROMETHEUS_VERSION);
    // Prometheus 3.x.y is published as the Go module version v0.30x.y.
    const [, minor, patch] = PROMETHEUS_VERSION.split('.');
    expect(read('hack/tools/promtool/go.mod')).toContain(
      `github.com/prometheus/prometheus v0.3${minor.padStart(2, '0')}.${patch}`,
    );
  });
});
