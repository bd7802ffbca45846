#!/usr/bin/env bash
# Builds VictoriaLogs (Apache-2.0) from Go modules (hack/tools/victorialogs/go.mod) into
# $VIGIL_CACHE/victorialogs-<version>-<go>/victoria-logs. The correlator's Loki export tests push to
# it: it accepts Loki's push API (JSON and protobuf+snappy) at /insert/loki/api/v1/push, so Loki
# itself (AGPL, never built here) is not needed (docs/adr/0010-victorialogs-stands-in-for-loki-push.md).
# Cached: does nothing when the binary exists.
source "$(dirname "$0")/lib.sh"
VICTORIALOGS_VERSION="1.52.1"

dir="$(tool_dir victorialogs "$VICTORIALOGS_VERSION")"
if [[ -x "$dir/victoria-logs" ]]; then log "victorialogs $VICTORIALOGS_VERSION: cached in $dir"; exit 0; fi
start=$SECONDS
log "Building victoria-logs v$VICTORIALOGS_VERSION from Go modules (cold: 1-4 min on 2 cores)..."
rm -rf "$dir.tmp"; mkdir -p "$dir.tmp"
(cd "$HACK_DIR/tools/victorialogs" && go build -trimpath \
  -ldflags "-s -w -X github.com/VictoriaMetrics/VictoriaMetrics/lib/buildinfo.Version=victoria-logs-v$VICTORIALOGS_VERSION" \
  -o "$dir.tmp/victoria-logs" github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs)
rm -rf "$dir"; mv "$dir.tmp" "$dir"
log "Built victoria-logs v$VICTORIALOGS_VERSION in $((SECONDS - start))s -> $dir"
