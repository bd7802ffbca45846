# The operator's benchmark: starts its own local control plane and the real operator process.
.PHONY: bench-operator
bench-operator: build tools
	@$(TSX) bench/operator.bench.ts

BENCH_TARGETS += bench-operator

# Only part 5 of it: 20 `large` stacks with object storage → Ready, their objects, the operator's RSS.
.PHONY: bench-large
bench-large: build tools
	@BENCH_ONLY=large $(TSX) bench/operator.bench.ts
