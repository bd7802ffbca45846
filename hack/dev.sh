#!/usr/bin/env bash
# `make dev`: the main job. Uses $KUBECONFIG when it is set, otherwise starts the local control
# plane (hack/cluster.sh); installs the CRDs, applies examples/ into the vigil-demo namespace and
# shows the result.
source "$(dirname "$0")/lib.sh"
NS="${VIGIL_DEV_NAMESPACE:-vigil-demo}"
if [[ -z "${KUBECONFIG:-}" ]]; then
  eval "$("$HACK_DIR/cluster.sh" up)"
  log "using the local control plane ($KUBECONFIG); stop it with: make cluster-down"
else
  log "using KUBECONFIG=$KUBECONFIG"
fi
kubectl apply --server-side -f "$REPO_DIR/crds/" >/dev/null
kubectl wait --for=condition=Established --timeout=60s -f "$REPO_DIR/crds/" >/dev/null
log "CRDs installed"
kubectl create namespace "$NS" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl apply -n "$NS" -f "$REPO_DIR/examples/"
kubectl get -n "$NS" ostack,slo
echo "export KUBECONFIG=$KUBECONFIG"
