#!/usr/bin/env bash
# Builds the local control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# kwok) from Go modules into $VIGIL_CACHE, keyed by tool version and Go version. A tool whose
# cache folder already holds its binaries is not rebuilt. Prints what it builds and how long it took.
# Usage: hack/build-tools.sh [kube|etcd|kwok|all]...
source "$(dirname "$0")/lib.sh"

build_kube() {
  local dir; dir="$(tool_dir kube "$KUBE_VERSION")"
  if [[ -x "$dir/kube-apiserver" && -x "$dir/kube-controller-manager" && -x "$dir/kube-scheduler" ]]; then
    log "kube $KUBE_VERSION: cached in $dir"; return
  fi
  local start=$SECONDS P=k8s.io/component-base/version V="v$KUBE_VERSION" minor
  minor="${KUBE_VERSION#1.}"; minor="${minor%%.*}"
  log "Building kube-apiserver, kube-controller-manager, kube-scheduler $V from Go modules (cold: 10-25 min on 2 cores)..."
  mkdir -p "$dir.tmp"
  (cd "$HACK_DIR/tools/kube" && go build -trimpath \
    -ldflags "-s -w -X $P.gitVersion=$V -X $P.gitMajor=1 -X $P.gitMinor=$minor -X $P.gitTreeState=clean \
      -X k8s.io/client-go/pkg/version.gitVersion=$V -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor" \
    -o "$dir.tmp/" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler)
  rm -rf "$dir"; mv "$dir.tmp" "$dir"
  log "Built kube $KUBE_VERSION in $((SECONDS - start))s -> $dir"
}

build_etcd() {
  local dir; dir="$(tool_dir etcd "$ETCD_VERSION")"
  if [[ -x "$dir/etcd" ]]; then log "etcd $ETCD_VERSION: cached in $dir"; return; fi
  local start=$SECONDS
  log "Building etcd v$ETCD_VERSION from Go modules..."
  mkdir -p "$dir.tmp"
  (cd "$HACK_DIR/tools/etcd" && go build -trimpath -ldflags "-s -w" -o "$dir.tmp/etcd" go.etcd.io/etcd/server/v3)
  rm -rf "$dir"; mv "$dir.tmp" "$dir"
  log "Built etcd v$ETCD_VERSION in $((SECONDS - start))s -> $dir"
}

# kwok itself ships no default behaviour (kwokctl adds it): take the "fast" node and pod stages and
# the lease heartbeat from the kwok module, so fake nodes stay Ready and pods become Running.
kwok_stages() {
  local src; src="$(cd "$HACK_DIR/tools/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)/kustomize/stage"
  for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
    pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    echo "---"; cat "$src/$f"
  done
}

build_kwok() {
  local dir; dir="$(tool_dir kwok "$KWOK_VERSION")"
  if [[ -x "$dir/kwok" && -s "$dir/stages.yaml" ]]; then log "kwok $KWOK_VERSION: cached in $dir"; return; fi
  if [[ -x "$dir/kwok" ]]; then kwok_stages >"$dir/stages.yaml"; log "kwok $KWOK_VERSION: wrote stages"; return; fi
  local start=$SECONDS
  log "Building kwok v$KWOK_VERSION from Go modules..."
  mkdir -p "$dir.tmp"
  (cd "$HACK_DIR/tools/kwok" && go build -trimpath -ldflags "-s -w" -o "$dir.tmp/kwok" sigs.k8s.io/kwok/cmd/kwok)
  kwok_stages >"$dir.tmp/stages.yaml"
  rm -rf "$dir"; mv "$dir.tmp" "$dir"
  log "Built kwok v$KWOK_VERSION in $((SECONDS - start))s -> $dir"
}

targets=("$@"); [[ ${#targets[@]} -eq 0 ]] && targets=(all)
for t in "${targets[@]}"; do
  case "$t" in
    kube) build_kube ;; etcd) build_etcd ;; kwok) build_kwok ;;
    all) build_etcd; build_kwok; build_kube ;;
    *) echo "unknown tool: $t" >&2; exit 2 ;;
  esac
done
