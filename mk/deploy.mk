# Installing and operating Vigil (docs/install.md): the demo stack make targets, the image, and
# `make validate`. The deploy targets use $KUBECONFIG when it is set, the local control plane otherwise.
.PHONY: deploy-core deploy-traces deploy-logs undeploy image validate ensure-lua

# The local control plane's binaries are needed only when no KUBECONFIG is given. VIGIL_SKIP_BUILD=1
# uses dist/ as it is (the integration tests build it once in their setup).
DEPLOY_PREREQS := $(if $(VIGIL_SKIP_BUILD),,build) $(if $(KUBECONFIG),,tools)

deploy-core: $(DEPLOY_PREREQS)
	@hack/deploy.sh up core

deploy-traces: $(DEPLOY_PREREQS)
	@hack/deploy.sh up traces

deploy-logs: $(DEPLOY_PREREQS)
	@hack/deploy.sh up logs

undeploy:
	@hack/deploy.sh down

# The tag is IMAGES.correlator in desired/stack/images.ts (the operator Deployment is generated from it too).
VIGIL_IMAGE ?= $(shell sed -n "s/^  correlator: '\(.*\)',$$/\1/p" desired/stack/images.ts)

# One image for `vigil operator` and `vigil correlator`, tagged as desired/stack/images.ts names it.
image:
	@if docker info >/dev/null 2>&1; then \
	  echo "[vigil] docker build -t $(VIGIL_IMAGE) ."; docker build -t "$(VIGIL_IMAGE)" .; \
	else \
	  echo "[vigil] no Docker engine is available (docker info failed): not building $(VIGIL_IMAGE)"; \
	fi

validate: build
	@hack/validate.sh

ensure-lua:
	@hack/ensure-lua.sh

UNIT_TEST_PREREQS += ensure-lua
