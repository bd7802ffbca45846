# Vigil. `make dev` runs the main job; `make test` runs every test. Tools are built into
# $(VIGIL_CACHE) (default ~/.cache/vigil) and reused by later runs and by CI.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export VIGIL_CACHE ?= $(HOME)/.cache/vigil
export NODE_OPTIONS := --experimental-vm-modules --no-warnings=ExperimentalWarning
NPM := npm --loglevel=error
TSX := node_modules/.bin/tsx

# Each mk/*.mk adds its own targets and appends to these lists.
TEST_PREREQS :=
UNIT_TEST_PREREQS :=
BENCH_TARGETS :=

# Included before the rules below, so that their prerequisite lists see what mk/*.mk appended.
-include mk/*.mk

.PHONY: help
help:
	@echo "make dev          build the local control plane, install the CRDs, apply examples/"
	@echo "make test         lint, typecheck, generated-file check, unit and integration tests"
	@echo "make cluster-up   start the local control plane (prints the KUBECONFIG export)"
	@echo "make cluster-down stop it and remove its files"
	@echo "make gen          regenerate crds/ and other generated files"
	@echo "make check-imports  the one-way import direction of the source folders"
	@echo "make bench        run the benchmarks under bench/"
	@echo "make deploy-core | deploy-traces | deploy-logs   install Vigil and grow one stack (docs/install.md)"
	@echo "make undeploy     remove the stack, the operator and the CRDs"
	@echo "make validate     CRs, rules, dashboards, manifests, and a server-side dry run when a cluster is up"
	@echo "make image        the container image (needs a Docker engine)"

# npm ci installs exactly package-lock.json (every platform's optional packages are recorded) and
# never rewrites it, so a fresh clone's make test leaves git status clean; it fails when the lock
# and package.json disagree.
node_modules/.package-lock.json: package.json package-lock.json
	@echo "[vigil] Installing npm dependencies (npm ci)..."
	@$(NPM) ci --no-audit --no-fund
	@touch $@

.PHONY: deps
deps: node_modules/.package-lock.json

.PHONY: build
build: deps
	@node_modules/.bin/tsc -p tsconfig.build.json

.PHONY: tools
tools:
	@hack/build-tools.sh all

.PHONY: gen
gen: deps
	@$(TSX) hack/gen.ts

.PHONY: check-generated
check-generated: deps
	@$(TSX) hack/gen.ts --check

# The import direction of the source folders (.dependency-cruiser.cjs; docs/architecture.md).
.PHONY: check-imports
check-imports: deps
	@$(TSX) hack/check-imports.ts

.PHONY: lint
lint: deps
	@node_modules/.bin/biome check .

.PHONY: typecheck
typecheck: deps
	@node_modules/.bin/tsc --noEmit -p tsconfig.json

.PHONY: test-unit
test-unit: deps $(UNIT_TEST_PREREQS)
	@node_modules/.bin/jest --selectProjects unit

.PHONY: test-integration
test-integration: deps tools
	@node_modules/.bin/jest --selectProjects integration --runInBand

.PHONY: test
test: deps lint typecheck check-imports check-generated $(TEST_PREREQS)
	@$(MAKE) --no-print-directory test-unit
	@$(MAKE) --no-print-directory test-integration

.PHONY: cluster-up
cluster-up: tools
	@hack/cluster.sh up

.PHONY: cluster-down
cluster-down:
	@hack/cluster.sh down

.PHONY: dev
dev: deps build tools
	@hack/dev.sh

.PHONY: bench
bench: deps build $(BENCH_TARGETS)

