#!/usr/bin/env bash
# Builds Loki from Go modules (hack/tools/loki/go.mod, with Loki's replace directives copied in)
# into $VIGIL_CACHE/loki-<version>-<go>/loki, to check generated configs with `loki -verify-config`.
# Cached: does nothing when the binary exists.
source "$(dirname "$0")/lib.sh"
LOKI_VERSION="3.7.8"

dir="$(tool_dir loki "$LOKI_VERSION")"
if [[ -x "$dir/loki" ]]; then log "loki $LOKI_VERSION: cached in $dir"; exit 0; fi
start=$SECONDS
log "Building loki v$LOKI_VERSION from Go modules (cold: 5-15 min on 2 cores)..."
rm -rf "$dir.tmp"; mkdir -p "$dir.tmp"
(cd "$HACK_DIR/tools/loki" && go build -trimpath -ldflags "-s -w" -o "$dir.tmp/loki" github.com/grafana/loki/v3/cmd/loki)
rm -rf "$dir"; mv "$dir.tmp" "$dir"
log "Built loki v$LOKI_VERSION in $((SECONDS - start))s -> $dir"
