#!/usr/bin/env bash
# Builds Vigil's two OpenTelemetry Collector distributions with the collector builder, each from its
# manifest and with the builder release pinned beside it:
#   otelcol        hack/tools/otelcol/builder-config.yaml        -> $VIGIL_CACHE/otelcol-<version>-<go>/otelcol
#                  (the gateway and the sampling tier; OTELCOL_VERSION)
#   otelcol-agent  hack/tools/otelcol-agent/builder-config.yaml  -> $VIGIL_CACHE/otelcol-agent-<version>-<go>/otelcol
#                  (the node agent and the cluster-state collector; OTELCOL_AGENT_VERSION)
# Cached: a binary built from the same manifest is reused. `hack/build-otelcol.sh agent` builds only
# the agent's, `gateway` only the gateway's.
source "$(dirname "$0")/lib.sh"
OTELCOL_VERSION="0.161.0"
OTELCOL_AGENT_VERSION="0.149.0"

build() { # tool, version, tools folder
  local tool=$1 version=$2 tools="$HACK_DIR/tools/$3"
  local dir; dir="$(tool_dir "$tool" "$version")"
  local manifest="$tools/builder-config.yaml"
  # A changed component list rebuilds: the manifest the binary came from is kept beside it.
  if [[ -x "$dir/otelcol" ]] && cmp -s "$manifest" "$dir/builder-config.yaml"; then
    log "$tool $version: cached in $dir"; return 0
  fi
  local start=$SECONDS
  log "Building $tool $version with the collector builder (cold: 5-15 min on 2 cores)..."
  rm -rf "$dir.tmp"; mkdir -p "$dir.tmp"
  local cfg="$dir.tmp/builder-config.yaml"
  # The builder writes sources and the binary to dist.output_path; point it into the cache.
  sed "s|^dist:|dist:\n  output_path: $dir.tmp/src|" "$manifest" >"$cfg"
  (cd "$tools" && go tool builder --config "$cfg" --ldflags="-s -w")
  log "Compiled $tool in $((SECONDS - start))s"
  mv "$dir.tmp/src/"otelcol-vigil* "$dir.tmp/otelcol"
  rm -rf "$dir.tmp/src" "$cfg"
  cp "$manifest" "$dir.tmp/builder-config.yaml"
  rm -rf "$dir"; mv "$dir.tmp" "$dir"
  "$dir/otelcol" --version >&2
  log "Built $tool $version in $((SECONDS - start))s -> $dir"
}

case "${1:-all}" in
  gateway) build otelcol "$OTELCOL_VERSION" otelcol ;;
  agent) build otelcol-agent "$OTELCOL_AGENT_VERSION" otelcol-agent ;;
  all)
    build otelcol "$OTELCOL_VERSION" otelcol
    build otelcol-agent "$OTELCOL_AGENT_VERSION" otelcol-agent
    ;;
  *) echo "usage: $0 [all|gateway|agent]" >&2; exit 2 ;;
esac
