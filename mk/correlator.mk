# The correlation engine (correlator/). `make correlator` runs it in the foreground with the env
# it is given (PORT, LOKI_URL, ...; see correlator/README.md); the other targets talk to a running one.
CORRELATOR_URL ?= http://127.0.0.1:$(or $(PORT),8080)
CORRELATOR_CURL = curl -sS --fail-with-body $(if $(BASIC_AUTH_USER),-u "$(BASIC_AUTH_USER):$(BASIC_AUTH_PASSWORD)")

.PHONY: correlator test-traffic correlations health metrics bench-correlator bench-correlator-fanout ensure-victorialogs

# The receiver of Loki's push API for the export tests and the benchmark: VictoriaLogs (Apache-2.0),
# because Loki is AGPL and is never built or run here (docs/adr/0010). After the render validators,
# so that the Go builds run one at a time.
ensure-victorialogs: ensure-alertmanager
	@hack/build-victorialogs.sh
	@echo "[vigil] check: the correlator's Loki export pushes to a running VictoriaLogs (a stand-in for Loki's push API)"

UNIT_TEST_PREREQS += ensure-victorialogs

correlator: build
	@node bin/vigil.js correlator

test-traffic: deps
	@CORRELATOR_URL=$(CORRELATOR_URL) $(TSX) correlator/traffic/main.ts

correlations:
	@$(CORRELATOR_CURL) "$(CORRELATOR_URL)/api/correlations?limit=$(or $(LIMIT),10)$(if $(TRACE_ID),&trace_id=$(TRACE_ID))$(if $(SERVICE),&service=$(SERVICE))"; echo

health:
	@$(CORRELATOR_CURL) "$(CORRELATOR_URL)/health"; echo
	@$(CORRELATOR_CURL) "$(CORRELATOR_URL)/ready"; echo

metrics:
	@$(CORRELATOR_CURL) "$(CORRELATOR_URL)/metrics" | grep -v '^#'

bench-correlator: deps ensure-otelcol ensure-victorialogs
	@node --expose-gc --import tsx bench/correlator.ts

BENCH_TARGETS += bench-correlator

# Query latency on one replica against the same records over 2 and 3 replicas that fan out (ADR 15).
bench-correlator-fanout: deps
	@node --import tsx bench/correlator-fanout.bench.ts

BENCH_TARGETS += bench-correlator-fanout
