# Shared settings for the hack/ scripts. Sourced, never run.
# Tools are built into a cache outside the repository, keyed by version, so a fresh clone
# (CI) reuses what an earlier run built.
set -euo pipefail
VIGIL_CACHE="${VIGIL_CACHE:-$HOME/.cache/vigil}"
KUBE_VERSION="1.34.4"
ETCD_VERSION="3.6.4"
KWOK_VERSION="0.8.0"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$HACK_DIR/.." && pwd)"
GO_VERSION="$(go env GOVERSION)"

log() { printf '[vigil] %s\n' "$*" >&2; }

# tool_dir NAME VERSION -> the cache folder for one tool build
tool_dir() { printf '%s/%s-%s-%s' "$VIGIL_CACHE" "$1" "$2" "$GO_VERSION"; }

# go_tool NAME VERSION TOOLS_MODULE BINARY PACKAGE VERSION_STAMP COLD_HINT
# Builds one Go binary PACKAGE with the module list in hack/tools/TOOLS_MODULE into
# $(tool_dir NAME VERSION)/BINARY, with -X VERSION_STAMP (var=value); cached: does nothing when
# the binary is there. Builds in "$dir.tmp" and renames it, so an interrupted build leaves no half tool.
# GO_TOOL_TAGS, when set, are the build tags (a release's own, e.g. Thanos's).
go_tool() {
  local name=$1 version=$2 module=$3 binary=$4 package=$5 stamp=$6 hint=$7
  local dir start=$SECONDS
  dir="$(tool_dir "$name" "$version")"
  if [[ -x "$dir/$binary" ]]; then log "$name $version: cached in $dir"; return 0; fi
  log "Building $binary v$version from Go modules ($hint)..."
  rm -rf "$dir.tmp"; mkdir -p "$dir.tmp"
  (cd "$HACK_DIR/tools/$module" && go build -trimpath ${GO_TOOL_TAGS:+-tags "$GO_TOOL_TAGS"} \
    -ldflags "-s -w -X $stamp" -o "$dir.tmp/$binary" "$package")
  rm -rf "$dir"; mv "$dir.tmp" "$dir"
  log "Built $binary v$version in $((SECONDS - start))s -> $dir"
}
