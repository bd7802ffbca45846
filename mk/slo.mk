# SLO rule generation: promtool for its tests (Debian's prometheus package) and its benchmark.
.PHONY: ensure-promtool bench-slo slo-golden

ensure-promtool:
	@hack/ensure-promtool.sh

UNIT_TEST_PREREQS += ensure-promtool

# Rewrites test/unit/slo/golden/ from the current generators; review the diff before committing.
slo-golden: deps
	@UPDATE_GOLDEN=1 node_modules/.bin/jest test/unit/slo/golden.test.ts --selectProjects unit

bench-slo: deps
	@$(TSX) bench/slo.bench.ts

BENCH_TARGETS += bench-slo
