#!/usr/bin/env bash
# Builds node_exporter from its own Go module (github.com/prometheus/node_exporter, pinned in
# hack/tools/node-exporter/go.mod) at the version of the image the stack deploys
# (desired/stack/images.ts), into $VIGIL_CACHE/node-exporter-<version>-<go>/node_exporter. The
# cluster-metrics tests run it and scrape it with a real Prometheus. Cached.
source "$(dirname "$0")/lib.sh"
NODE_EXPORTER_VERSION="1.12.1"

dir="$(tool_dir node-exporter "$NODE_EXPORTER_VERSION")"
if [[ -x "$dir/node_exporter" ]]; then log "node_exporter $NODE_EXPORTER_VERSION: cached in $dir"; exit 0; fi
start=$SECONDS
log "Building node_exporter v$NODE_EXPORTER_VERSION from Go modules (cold: 1-3 min on 2 cores)..."
rm -rf "$dir.tmp"; mkdir -p "$dir.tmp"
(cd "$HACK_DIR/tools/node-exporter" && go build -trimpath \
  -ldflags "-s -w -X github.com/prometheus/common/version.Version=$NODE_EXPORTER_VERSION" \
  -o "$dir.tmp/node_exporter" github.com/prometheus/node_exporter)
rm -rf "$dir"; mv "$dir.tmp" "$dir"
"$dir/node_exporter" --version >&2
log "Built node_exporter v$NODE_EXPORTER_VERSION in $((SECONDS - start))s -> $dir"
