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
