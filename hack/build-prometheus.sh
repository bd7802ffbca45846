#!/usr/bin/env bash
# Builds the Prometheus server from github.com/prometheus/prometheus at the version of the image Vigil
# deploys (desired/stack/images.ts), into $VIGIL_CACHE/prometheus-<version>-<go>/prometheus, from the
# same module list as promtool (hack/tools/promtool). Without the web UI's assets (the builtinassets
# tag is off): the tests use the API only. Used by the tests that run the rendered Prometheus
# configuration (scrape credentials, the HA pair behind Thanos). Cached.
source "$(dirname "$0")/lib.sh"
PROMETHEUS_VERSION="3.5.0"

dir="$(tool_dir prometheus "$PROMETHEUS_VERSION")"
if [[ -x "$dir/prometheus" ]]; then log "prometheus $PROMETHEUS_VERSION: cached in $dir"; exit 0; fi
start=$SECONDS
log "Building prometheus v$PROMETHEUS_VERSION from Go modules (cold: 2-6 min on 2 cores after promtool)..."
rm -rf "$dir.tmp"; mkdir -p "$dir.tmp"
(cd "$HACK_DIR/tools/promtool" && go build -trimpath \
  -ldflags "-s -w -X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION" \
  -o "$dir.tmp/prometheus" github.com/prometheus/prometheus/cmd/prometheus)
rm -rf "$dir"; mv "$dir.tmp" "$dir"
log "Built prometheus v$PROMETHEUS_VERSION in $((SECONDS - start))s -> $dir"
