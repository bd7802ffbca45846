// Every image a stack runs, pinned, in one place. Changing a version here changes what every stack
// deploys; the hack/build-*.sh scripts build the validators (otelcol, promtool, alertmanager and
// amtool, node_exporter) from the same versions (test/unit/charts/images.test.ts checks they agree).

export const OTELCOL_VERSION = '0.161.0';
/**
 * The node agent's collector release (and the cluster-state collector's): the newest whose log-file
 * and kubelet receivers the module proxy here serves, so that tests run the release the cluster
 * runs (docs/adr/0014-collector-agent-and-gateway.md).
 */
export const OTELCOL_AGENT_VERSION = '0.149.0';
export const LOKI_VERSION = '3.7.8';
export const TEMPO_VERSION = '2.9.0';
export const PROMETHEUS_VERSION = '3.5.0';
/** hack/build-alertmanager.sh builds the same release; its amtool checks every rendered config. */
export const ALERTMANAGER_VERSION = '0.35.0';
/** hack/build-node-exporter.sh builds the same release for the cluster-metrics tests. */
export const NODE_EXPORTER_VERSION = '1.12.1';
/**
 * The Prometheus sidecar and the deduplicating querier of an HA pair (one image); hack/build-thanos.sh
 * builds the same release for the HA test.
 */
export const THANOS_VERSION = '0.42.4';

export const IMAGES = {
  collector: `otel/opentelemetry-collector-contrib:${OTELCOL_VERSION}`,
  agent: `otel/opentelemetry-collector-contrib:${OTELCOL_AGENT_VERSION}`,
  prometheus: `quay.io/prometheus/prometheus:v${PROMETHEUS_VERSION}`,
  alertmanager: `quay.io/prometheus/alertmanager:v${ALERTMANAGER_VERSION}`,
  nodeExporter: `quay.io/prometheus/node-exporter:v${NODE_EXPORTER_VERSION}`,
  thanos: `quay.io/thanos/thanos:v${THANOS_VERSION}`,
  loki: `docker.io/grafana/loki:${LOKI_VERSION}`,
  tempo: `docker.io/grafana/tempo:${TEMPO_VERSION}`,
  grafana: 'docker.io/grafana/grafana:12.2.0',
  /** Collects labelled ConfigMaps into a folder: SLO rules for Prometheus, dashboards for Grafana. */
  configSidecar: 'quay.io/kiwigrid/k8s-sidecar:1.30.3',
  correlator: 'ghcr.io/vigil-dev/vigil:0.1.0',
} as const;
