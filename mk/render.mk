# renderStack's validators (real binaries built from Go modules, cached in $(VIGIL_CACHE)) and its
# benchmark. Built one after another: each is a heavy Go build.
.PHONY: ensure-otelcol ensure-loki ensure-promtool-modules bench-render

ensure-otelcol:
	@hack/build-otelcol.sh

ensure-loki: ensure-otelcol
	@hack/build-loki.sh

ensure-promtool-modules: ensure-loki
	@hack/build-promtool.sh

UNIT_TEST_PREREQS += ensure-otelcol ensure-loki ensure-promtool-modules

bench-render: deps
	@node --expose-gc --import tsx bench/render.bench.ts

BENCH_TARGETS += bench-render
