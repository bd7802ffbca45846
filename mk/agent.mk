# The node agent (desired/stack/agent.ts): its benchmark runs the agent collector build (made by
# hack/build-otelcol.sh, which make test runs through ensure-otelcol) against a local control plane.
.PHONY: bench-agent

bench-agent: deps tools ensure-otelcol
	@node --import tsx bench/agent.bench.ts

BENCH_TARGETS += bench-agent

# The agent integration test (test/integration/agent.test.ts) runs the agent collector build.
TEST_PREREQS += ensure-otelcol
