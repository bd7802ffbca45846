# The operator's benchmark: starts its own local control plane and the real operator process.
.PHONY: bench-operator
bench-operator: build tools
	@$(TSX) bench/operator.bench.ts

BENCH_TARGETS += bench-operator
