#!/usr/bin/env bash
# Regenerates hack/tools/kube/go.mod: k8s.io/kubernetes maps every staging module with a local
# `replace ... => ./staging/...`, which `go install` refuses; this module supplies the same
# replaces pointing at the published staging versions. Run after changing KUBE_VERSION.
source "$(dirname "$0")/../lib.sh"
cd "$HACK_DIR/tools/kube"
rm -f go.mod go.sum
go mod init vigil.dev/hack/tools/kube >/dev/null 2>&1
go mod edit -go=1.24.0 -godebug=default=go1.24
KMOD=$(go mod download -json "k8s.io/kubernetes@v$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
for m in $(sed -n 's#^[[:space:]]*\(k8s\.io/[^ ]*\) => \./staging/.*#\1#p' "$KMOD"); do
  go mod edit -replace="$m=$m@v0.${KUBE_VERSION#1.}"
done
go get -tool "k8s.io/kubernetes/cmd/kube-apiserver@v$KUBE_VERSION" \
  "k8s.io/kubernetes/cmd/kube-controller-manager@v$KUBE_VERSION" \
  "k8s.io/kubernetes/cmd/kube-scheduler@v$KUBE_VERSION"
go mod tidy
log "Regenerated hack/tools/kube/go.mod for Kubernetes $KUBE_VERSION"
