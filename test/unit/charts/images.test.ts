import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { IMAGES, LOKI_VERSION, OTELCOL_VERSION, PROMETHEUS_VERSION } from '../../../desired/stack/images.js';
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

  it('validates Loki configs with the Loki version the image runs', () => {
    expect(IMAGES.loki.endsWith(`:${LOKI_VERSION}`)).toBe(true);
    expect(scriptVar('hack/build-loki.sh', 'LOKI_VERSION')).toBe(LOKI_VERSION);
    expect(read('hack/tools/loki/go.mod')).toContain(`github.com/grafana/loki/v3 v${LOKI_VERSION}`);
  });

  it('checks Prometheus configs with the promtool of the Prometheus version the image runs', () => {
    expect(IMAGES.prometheus.endsWith(`:v${PROMETHEUS_VERSION}`)).toBe(true);
    expect(scriptVar('hack/build-promtool.sh', 'PROMETHEUS_VERSION')).toBe(PROMETHEUS_VERSION);
    // Prometheus 3.x.y is published as the Go module version v0.30x.y.
    const [, minor, patch] = PROMETHEUS_VERSION.split('.');
    expect(read('hack/tools/promtool/go.mod')).toContain(
      `github.com/prometheus/prometheus v0.3${minor.padStart(2, '0')}.${patch}`,
    );
  });
});
