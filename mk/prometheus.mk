# The Prometheus server itself (hack/build-prometheus.sh, the image's release, from the module list
# promtool is built from): the tests that run a rendered scrape job or the HA pair start it.
.PHONY: ensure-prometheus ensure-thanos

ensure-prometheus: ensure-promtool-modules
	@hack/build-prometheus.sh
	@echo "[vigil] check: a real Prometheus $(shell sed -n 's/^PROMETHEUS_VERSION=\"\(.*\)\"/\1/p' hack/build-prometheus.sh) runs the rendered scrape jobs"

# Thanos (hack/build-thanos.sh, the image's release, from hack/tools/thanos/go.mod): the HA test runs
# two real sidecars and a real querier beside two real Prometheus.
ensure-thanos:
	@hack/build-thanos.sh
	@echo "[vigil] check: a real Thanos $(shell sed -n 's/^THANOS_VERSION=\"\(.*\)\"/\1/p' hack/build-thanos.sh) sidecar and querier deduplicate the rendered HA pair"

UNIT_TEST_PREREQS += ensure-prometheus ensure-thanos
test-integration: ensure-prometheus
