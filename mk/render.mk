# renderStack's validators (real binaries built from Go modules, cached in $(VIGIL_CACHE)) and its
# benchmark. Built one after another (each depends on the one before, also under make -j): each is
# a heavy Go build. No target builds, downloads or runs Loki, Tempo, Grafana or Mimir (AGPL): their
# configs get a structural check from their configuration references (docs/adr/0006, 0010).
.PHONY: ensure-otelcol ensure-promtool-modules ensure-alertmanager bench-render bench-web-config

ensure-otelcol:
	@hack/build-otelcol.sh
	@echo "[vigil] check: otelcol validate runs every rendered collector config; the correlator tests run the collector"

ensure-promtool-modules: ensure-otelcol
	@hack/build-promtool.sh
	@echo "[vigil] check: promtool check config/rules reads every rendered Prometheus config and the shipped rules"

ensure-alertmanager: ensure-promtool-modules
	@hack/build-alertmanager.sh
	@echo "[vigil] check: amtool check-config and config routes test read every rendered alertmanager.yml; a running alertmanager proves a page inhibits its ticket"

UNIT_TEST_PREREQS += ensure-otelcol ensure-promtool-modules ensure-alertmanager

bench-render: deps
	@node --expose-gc --import tsx bench/render.bench.ts

BENCH_TARGETS += bench-render

bench-web-config: deps
	@node --import tsx bench/web-config.bench.ts

BENCH_TARGETS += bench-web-config
