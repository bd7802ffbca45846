#!/usr/bin/env bash
# Builds promtool from github.com/prometheus/prometheus at the version of the Prometheus image
# Vigil deploys (desired/stack/images.ts), into $VIGIL_CACHE/promtool-<version>-<go>/promtool. Needed by
# the render tests because Debian's promtool (hack/ensure-promtool.sh) is built without Kubernetes
# service discovery and rejects every kubernetes_sd_configs block. Cached.
source "$(dirname "$0")/lib.sh"
PROMETHEUS_VERSION="3.5.0"

dir="$(tool_dir promtool "$PROMETHEUS_VERSION")"
if [[ -x "$dir/promtool" ]]; then log "promtool $PROMETHEUS_VERSION: cached in $dir"; exit 0; fi
start=$SECONDS
log "Building promtool v$PROMETHEUS_VERSION from Go modules (cold: 3-8 min on 2 cores)..."
rm -rf "$dir.tmp"; mkdir -p "$dir.tmp"
(cd "$HACK_DIR/tools/promtool" && go build -trimpath \
  -ldflags "-s -w -X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION" \
  -o "$dir.tmp/promtool" github.com/prometheus/prometheus/cmd/promtool)
rm -rf "$dir"; mv "$dir.tmp" "$dir"
log "Built promtool v$PROMETHEUS_VERSION in $((SECONDS - start))s -> $dir"
