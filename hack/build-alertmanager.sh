#!/usr/bin/env bash
# Builds Alertmanager and amtool (Apache-2.0) from Go modules (hack/tools/alertmanager/go.mod) into
# $VIGIL_CACHE/alertmanager-<version>-<go>/{alertmanager,amtool}. The render tests run
# `amtool check-config` and `amtool config routes test` on every generated alertmanager.yml and start
# a real alertmanager to prove that a page inhibits its ticket. Debian's prometheus-alertmanager
# (0.25) is older than the image Vigil deploys, hence the build. Cached.
source "$(dirname "$0")/lib.sh"
ALERTMANAGER_VERSION="0.35.0"
MODULE=github.com/prometheus/alertmanager

dir="$(tool_dir alertmanager "$ALERTMANAGER_VERSION")"
if [[ -x "$dir/alertmanager" && -x "$dir/amtool" ]]; then
  log "alertmanager $ALERTMANAGER_VERSION: cached in $dir"; exit 0
fi
start=$SECONDS
log "Building alertmanager and amtool v$ALERTMANAGER_VERSION from Go modules (cold: 3-10 min on 2 cores)..."
rm -rf "$dir.tmp"; mkdir -p "$dir.tmp/build"
# The web UI is compiled by npm in Alertmanager's release process and is not in the module, yet
# alertmanager embeds ui/app/dist: build from a copy of the module with a one-page placeholder UI
# (the tests use only the API). The module cache is read-only and go build -overlay may not
# replace files in it, hence the copy.
src="$(cd "$HACK_DIR/tools/alertmanager" && go mod download -json "$MODULE@v$ALERTMANAGER_VERSION" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
cp -r "$src" "$dir.tmp/build/alertmanager"; chmod -R u+w "$dir.tmp/build/alertmanager"
for ui in elm mantine; do
  mkdir -p "$dir.tmp/build/alertmanager/ui/app/dist/$ui"
  echo '<!doctype html><title>Alertmanager</title><p>Built without its web UI (Vigil tests use the API).' \
    >"$dir.tmp/build/alertmanager/ui/app/dist/$ui/index.html"
done
cp "$HACK_DIR/tools/alertmanager/go.mod" "$HACK_DIR/tools/alertmanager/go.sum" "$dir.tmp/build/"
echo "replace $MODULE => ./alertmanager" >>"$dir.tmp/build/go.mod"
for cmd in alertmanager amtool; do
  (cd "$dir.tmp/build" && go build -trimpath \
    -ldflags "-s -w -X github.com/prometheus/common/version.Version=$ALERTMANAGER_VERSION" \
    -o "$dir.tmp/$cmd" "$MODULE/cmd/$cmd")
  log "Compiled $cmd in $((SECONDS - start))s"
done
rm -rf "$dir.tmp/build"
rm -rf "$dir"; mv "$dir.tmp" "$dir"
"$dir/amtool" --version 2>&1 | head -1 >&2
log "Built alertmanager and amtool v$ALERTMANAGER_VERSION in $((SECONDS - start))s -> $dir"
