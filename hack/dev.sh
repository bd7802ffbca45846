#!/usr/bin/env bash
# `make dev`: the main job. Uses $KUBECONFIG when it is set, otherwise starts the local control
# plane (hack/cluster.sh); installs the CRDs, starts the operator (a local process; `make dev`
# again restarts it), applies examples/ into the vigil-demo namespace and shows the stacks turning Ready.
source "$(dirname "$0")/lib.sh"
NS="${VIGIL_DEV_NAMESPACE:-vigil-demo}"
if [[ -z "${KUBECONFIG:-}" ]]; then
  eval "$("$HACK_DIR/cluster.sh" up)"
  STATE="${VIGIL_CLUSTER_DIR:-/tmp/vigil-cluster}"
  OPERATOR_KUBECONFIG="$STATE/operator.kubeconfig"
  log "using the local control plane ($KUBECONFIG); stop everything with: make cluster-down"
else
  STATE="$VIGIL_CACHE/dev"
  OPERATOR_KUBECONFIG="$KUBECONFIG"
  mkdir -p "$STATE"
  log "using KUBECONFIG=$KUBECONFIG"
fi
kubectl apply --server-side -f "$REPO_DIR/crds/" >/dev/null
kubectl wait --for=condition=Established --timeout=60s -f "$REPO_DIR/crds/" >/dev/null
log "CRDs installed"

if [[ -f "$STATE/dev-operator.pid" ]]; then kill "$(cat "$STATE/dev-operator.pid")" 2>/dev/null || true; fi
node "$REPO_DIR/bin/vigil.js" operator --kubeconfig "$OPERATOR_KUBECONFIG" --metrics-port "${VIGIL_METRICS_PORT:-18080}" \
  --namespaces "$NS" >"$STATE/dev-operator.log" 2>&1 &
echo $! >"$STATE/dev-operator.pid"
log "operator running (pid $(cat "$STATE/dev-operator.pid"), logs $STATE/dev-operator.log, metrics http://127.0.0.1:${VIGIL_METRICS_PORT:-18080}/metrics)"

kubectl create namespace "$NS" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl apply -n "$NS" -f "$REPO_DIR/examples/"
start=$SECONDS
stacks=$(kubectl get ostack -n "$NS" -o name | wc -l)
until [[ $(kubectl get ostack -n "$NS" -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True) -ge $stacks ]]; do
  if ((SECONDS - start > 180)); then log "stacks not Ready after 180s; see $STATE/dev-operator.log"; break; fi
  log "waiting for $stacks stacks to turn Ready ($((SECONDS - start))s)..."
  sleep 3
done
kubectl get -n "$NS" ostack,slo
echo "export KUBECONFIG=$KUBECONFIG"
