#!/usr/bin/env bash
# Builds the OpenTelemetry Collector that validates Vigil's generated collector configs, with the
# collector builder (pinned in hack/tools/otelcol/go.mod) from hack/tools/otelcol/builder-config.yaml,
# into $VIGIL_CACHE/otelcol-<version>-<go>/otelcol. Cached: does nothing when that binary was built
# from the same manifest.
source "$(dirname "$0")/lib.sh"
OTELCOL_VERSION="0.161.0"

dir="$(tool_dir otelcol "$OTELCOL_VERSION")"
manifest="$HACK_DIR/tools/otelcol/builder-config.yaml"
# A changed component list rebuilds: the manifest the binary came from is kept beside it.
if [[ -x "$dir/otelcol" ]] && cmp -s "$manifest" "$dir/builder-config.yaml"; then
  log "otelcol $OTELCOL_VERSION: cached in $dir"; exit 0
fi
start=$SECONDS
log "Building otelcol $OTELCOL_VERSION with the collector builder (cold: 5-15 min on 2 cores)..."
rm -rf "$dir.tmp"; mkdir -p "$dir.tmp"
cfg="$dir.tmp/builder-config.yaml"
# The builder writes sources and the binary to dist.output_path; point it into the cache.
sed "s|^dist:|dist:\n  output_path: $dir.tmp/src|" "$manifest" >"$cfg"
(cd "$HACK_DIR/tools/otelcol" && go tool builder --config "$cfg" --ldflags="-s -w")
log "Compiled otelcol in $((SECONDS - start))s"
mv "$dir.tmp/src/otelcol-vigil" "$dir.tmp/otelcol"
rm -rf "$dir.tmp/src" "$cfg"
cp "$manifest" "$dir.tmp/builder-config.yaml"
rm -rf "$dir"; mv "$dir.tmp" "$dir"
"$dir/otelcol" --version >&2
log "Built otelcol $OTELCOL_VERSION in $((SECONDS - start))s -> $dir"
