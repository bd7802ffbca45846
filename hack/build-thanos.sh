#!/usr/bin/env bash
# Builds Thanos (Apache-2.0) from Go modules (hack/tools/thanos/go.mod, which repeats Thanos's own
# replace directives) at the version of the image Vigil deploys (desired/stack/images.ts), into
# $VIGIL_CACHE/thanos-<version>-<go>/thanos. One binary serves every component (sidecar, query):
# the HA test starts two sidecars beside two real Prometheus and a querier with the rendered flags.
# The module ships its built web UI (pkg/ui/static/react), so no placeholder is needed. Cached.
source "$(dirname "$0")/lib.sh"
THANOS_VERSION="0.42.4"
GO_TOOL_TAGS=netgo,slicelabels go_tool thanos "$THANOS_VERSION" thanos thanos github.com/thanos-io/thanos/cmd/thanos \
  "github.com/prometheus/common/version.Version=$THANOS_VERSION" "cold: 6-10 min on 2 cores"
"$(tool_dir thanos "$THANOS_VERSION")/thanos" --version 2>&1 | head -1 >&2
