# Cluster metrics (docs/cluster-metrics.md): node_exporter built from its Go module for the tests that
# scrape it with a real Prometheus (test/unit/cluster/). Cached in $(VIGIL_CACHE).
.PHONY: ensure-node-exporter

ensure-node-exporter:
	@hack/build-node-exporter.sh

UNIT_TEST_PREREQS += ensure-node-exporter
