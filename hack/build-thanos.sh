#!/usr/bin/env bash
# Builds Thanos (Apache-2.0) from Go modules (hack/tools/thanos/go.mod, which repeats Thanos's own
# replace directives) at the version of the image Vigil deploys (desired/stack/images.ts), into
# $VIGIL_CACHE/thanos-<version>-<go>/thanos. One binary serves every component (sidecar, query):
# the HA test starts two sidecars beside two real Prometheus and a querier with the rendered flags.
# The module ships its built web UI (pkg/ui/static/react), so no placeholder is needed. Cached.
source "$(dirname "$0")/lib.sh"
THANOS_VERSION="0.42.4"

dir="$(tool_dir thanos "$THANOS_VERSION")"
if [[ -x "$dir/thanos" ]]; then log "thanos $THANOS_VERSION: cached in $dir"; exit 0; fi
start=$SECONDS
log "Building thanos v$THANOS_VERSION from Go modules (cold: 6-10 min on 2 cores)..."
rm -rf "$dir.tmp"; mkdir -p "$dir.tmp"
# The tags of Thanos's own release build (.promu.yml): slicelabels above all, because Thanos's
# labelpb converts Prometheus's labels.Labels to its protobuf labels in place, which only the
# slice layout allows (built without it, the sidecar panics on its first gRPC answer).
(cd "$HACK_DIR/tools/thanos" && go build -trimpath -tags netgo,slicelabels \
  -ldflags "-s -w -X github.com/prometheus/common/version.Version=$THANOS_VERSION" \
  -o "$dir.tmp/thanos" github.com/thanos-io/thanos/cmd/thanos)
rm -rf "$dir"; mv "$dir.tmp" "$dir"
"$dir/thanos" --version 2>&1 | head -1 >&2
log "Built thanos v$THANOS_VERSION in $((SECONDS - start))s -> $dir"
