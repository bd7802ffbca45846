#!/usr/bin/env bash
# `make validate`: everything a change to examples/, alerts/, dashboards/ or manifests/ can break,
# checked offline, plus a server-side dry run when a cluster is reachable. Runs every check, names
# the file of each problem, and exits 1 when any check failed.
#   VIGIL_VALIDATE_EXAMPLES  folder of CRs to check (default examples/); the tests point it elsewhere.
#   VIGIL_VALIDATE_ALERTS    folder of Prometheus rule files (default alerts/)
#   VIGIL_VALIDATE_DASHBOARDS folder of Grafana dashboards (default dashboards/)
source "$(dirname "$0")/lib.sh"
cd "$REPO_DIR"
EXAMPLES="${VIGIL_VALIDATE_EXAMPLES:-examples}"
ALERTS="${VIGIL_VALIDATE_ALERTS:-alerts}"
DASHBOARDS="${VIGIL_VALIDATE_DASHBOARDS:-dashboards}"
failed=()

step() { # name, command...
  local name=$1; shift
  local start=$SECONDS
  if "$@"; then log "ok: $name ($((SECONDS - start))s)"; else log "FAILED: $name"; failed+=("$name"); fi
}

# promtool 3.5 built from the Prometheus module (hack/build-promtool.sh); Debian's is older.
promtool_bin() {
  local p
  for p in "$VIGIL_CACHE"/promtool-3.5.0-*/promtool; do [[ -x "$p" ]] && { echo "$p"; return; }; done
  command -v promtool || true
}

rules() {
  local files=() pt
  mapfile -t files < <(find "$ALERTS" -maxdepth 1 -name '*.yaml' 2>/dev/null | sort)
  if ((${#files[@]} == 0)); then log "no $ALERTS/*.yaml: no rules to check"; return 0; fi
  pt="$(promtool_bin)"
  [[ -n "$pt" ]] || { log "promtool not found: run make ensure-promtool-modules (or put promtool on PATH)"; return 1; }
  # promtool names the file of each problem; its output is shown only then.
  "$pt" check rules "${files[@]}" >"$tmp/promtool.out" 2>&1 || { cat "$tmp/promtool.out" >&2; return 1; }
}

dashboards() {
  if [[ ! -f hack/validate-dashboards.ts ]]; then log "no hack/validate-dashboards.ts: skipping dashboards"; return 0; fi
  local files=()
  mapfile -t files < <(find "$DASHBOARDS" -maxdepth 1 -name '*.json' 2>/dev/null | sort)
  if ((${#files[@]} == 0)); then log "no $DASHBOARDS/*.json: no dashboards to check"; return 0; fi
  node_modules/.bin/tsx hack/validate-dashboards.ts "${files[@]}"
}

# The cluster to dry-run against: $KUBECONFIG, else a running local control plane; none is started.
cluster() {
  local kc="${KUBECONFIG:-}"
  [[ -n "$kc" ]] || kc="${VIGIL_CLUSTER_DIR:-/tmp/vigil-cluster}/kubeconfig"
  [[ -f "${kc%%:*}" ]] && KUBECONFIG="$kc" kubectl get --raw /readyz --request-timeout=5s >/dev/null 2>&1 && echo "$kc"
}

dry_run() {
  local kc=$1
  local ok=0
  if KUBECONFIG="$kc" kubectl get namespace vigil-system >/dev/null 2>&1; then
    KUBECONFIG="$kc" kubectl apply --server-side --dry-run=server -k manifests/ >/dev/null || ok=1
  else
    # A dry run creates nothing, so objects in the not-yet-created vigil-system would all be
    # rejected as NotFound: check them in default instead.
    log "vigil-system does not exist there: dry-running its objects in the default namespace"
    kubectl kustomize manifests/ | sed 's/^\( *\)namespace: vigil-system$/\1namespace: default/' |
      KUBECONFIG="$kc" kubectl apply --server-side --dry-run=server -f - >/dev/null || ok=1
  fi
  if ! KUBECONFIG="$kc" kubectl get crd observabilitystacks.observability.vigil.dev slos.observability.vigil.dev >/dev/null 2>&1; then
    log "the CRDs are not installed there: the examples were checked offline only"
    return $ok
  fi
  # One file at a time: the stages share a name, and kubectl names the file it rejects.
  local f
  while IFS= read -r f; do
    KUBECONFIG="$kc" kubectl apply --server-side --dry-run=server -n default -f "$f" >/dev/null || { log "rejected: $f"; ok=1; }
  done < <(find "$EXAMPLES" -name '*.yaml' | sort)
  return $ok
}

tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
step "vigil validate -f $EXAMPLES/" node bin/vigil.js validate -f "$EXAMPLES/"
step "promtool check rules $ALERTS/*.yaml" rules
step "dashboards ($DASHBOARDS/*.json)" dashboards
step "kubectl kustomize manifests/" bash -c 'kubectl kustomize manifests/ >/dev/null'
kc="$(cluster || true)"
if [[ -n "$kc" ]]; then
  step "server-side dry run (kubectl apply --dry-run=server) against $(KUBECONFIG="$kc" kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')" dry_run "$kc"
else
  log "no reachable cluster (KUBECONFIG unset and no local control plane): skipping the server-side dry run"
fi
if ((${#failed[@]})); then
  log "validate failed: ${failed[*]}"
  exit 1
fi
log "validate: all checks passed"
