# The Prometheus server itself (hack/build-prometheus.sh, the image's release, from the module list
# promtool is built from): the tests that run a rendered scrape job or the HA pair start it.
.PHONY: ensure-prometheus

ensure-prometheus: ensure-promtool-modules
	@hack/build-prometheus.sh
	@echo "[vigil] check: a real Prometheus $(shell sed -n 's/^PROMETHEUS_VERSION=\"\(.*\)\"/\1/p' hack/build-prometheus.sh) runs the rendered scrape jobs"

UNIT_TEST_PREREQS += ensure-prometheus
test-integration: ensure-prometheus
