# The correlation engine (correlator/). `make correlator` runs it in the foreground with the env
# it is given (PORT, LOKI_URL, ...; see correlator/README.md); the other targets talk to a running one.
CORRELATOR_URL ?= http://127.0.0.1:$(or $(PORT),8080)
CORRELATOR_CURL = curl -sS --fail-with-body $(if $(BASIC_AUTH_USER),-u "$(BASIC_AUTH_USER):$(BASIC_AUTH_PASSWORD)")

.PHONY: correlator test-traffic correlations health metrics bench-correlator

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

bench-correlator: deps
	@node --expose-gc --import tsx bench/correlator.ts

BENCH_TARGETS += bench-correlator
