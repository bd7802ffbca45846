# Cluster metrics (docs/cluster-metrics.md): node_exporter built from its Go module for the tests that
# scrape it with a real Prometheus (test/unit/cluster/). Cached in $(VIGIL_CACHE).
.PHONY: ensure-node-exporter

ensure-node-exporter:
	@hack/build-node-exporter.sh

UNIT_TEST_PREREQS += ensure-node-exporter

# test/integration/cluster-state.test.ts runs the agent's collector build (k8s_cluster receiver) and
# Debian's Prometheus; `make test` has them from the unit prerequisites, a lone test-integration too.
test-integration: ensure-otelcol ensure-promtool
