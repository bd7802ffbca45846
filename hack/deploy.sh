#!/usr/bin/env bash
# `make deploy-core|deploy-traces|deploy-logs|undeploy`: grows one demo stack on a cluster.
#   hack/deploy.sh up core|traces|logs   install Vigil when absent, run the operator, apply the stage, wait for Ready
#   hack/deploy.sh down                  delete the stack, stop the local operator, delete manifests/ and the CRDs
#   hack/deploy.sh operator-start|operator-stop|operator-status
# Uses $KUBECONFIG when it is set, otherwise the local control plane (hack/cluster.sh up).
#
# kwok's pods run nothing, so the operator Deployment from manifests/ only looks Available. The
# real operator therefore also runs here, as a local process with the manifests' ServiceAccount
# token (so it has exactly the RBAC in manifests/) and leader election on: on a cluster whose
# operator pods do run, the local process just stands by.
source "$(dirname "$0")/lib.sh"
NS="${VIGIL_DEPLOY_NAMESPACE:-vigil-demo}"
STACK=demo
OPERATOR_NS=vigil-system
OPERATOR_SA=vigil-operator
TIMEOUT="${VIGIL_DEPLOY_TIMEOUT:-180}"

if [[ -z "${KUBECONFIG:-}" ]]; then
  eval "$("$HACK_DIR/cluster.sh" up)"
  log "using the local control plane ($KUBECONFIG)"
  STATE="${VIGIL_DEPLOY_DIR:-$(dirname "$KUBECONFIG")}"
else
  log "using KUBECONFIG=$KUBECONFIG"
  # One state folder per kubeconfig and context, so two clusters never share an operator.
  STATE="${VIGIL_DEPLOY_DIR:-/tmp/vigil-deploy-$(printf '%s:%s' "$KUBECONFIG" "$(kubectl config current-context 2>/dev/null || true)" | sha1sum | cut -c1-12)}"
fi
export KUBECONFIG
mkdir -p "$STATE"
PID_FILE="$STATE/vigil-operator.pid"
LOG_FILE="$STATE/vigil-operator.log"
SA_KUBECONFIG="$STATE/vigil-operator-sa.kubeconfig"

installed() {
  kubectl get crd observabilitystacks.observability.vigil.dev slos.observability.vigil.dev >/dev/null 2>&1 &&
    kubectl get deployment "$OPERATOR_SA" -n "$OPERATOR_NS" >/dev/null 2>&1
}

install() {
  if installed; then
    log "Vigil already installed (CRDs and deployment/$OPERATOR_SA in $OPERATOR_NS); not touching it"
    return
  fi
  local start=$SECONDS
  # CRDs first and Established, so that nothing applied next races their registration.
  kubectl apply --server-side -f "$REPO_DIR/crds/" >/dev/null
  kubectl wait --for=condition=Established --timeout=60s -f "$REPO_DIR/crds/" >/dev/null
  kubectl apply --server-side -k "$REPO_DIR/manifests/" >/dev/null
  kubectl wait --for=condition=Available --timeout=120s deployment/"$OPERATOR_SA" -n "$OPERATOR_NS" >/dev/null
  log "installed Vigil (kubectl apply --server-side -k manifests/) in $((SECONDS - start))s"
}

operator_running() { [[ -f "$PID_FILE" ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; }

# The server the current kubeconfig points at: a reused operator must talk to this very cluster.
current_server() { kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}'; }

operator_start() {
  local server; server="$(current_server)"
  if operator_running && [[ -f "$STATE/vigil-operator.server" && "$(cat "$STATE/vigil-operator.server")" == "$server" ]]; then
    log "local operator already running (pid $(cat "$PID_FILE"), log $LOG_FILE)"
    return
  fi
  operator_stop quiet
  [[ -f "$REPO_DIR/dist/cli/index.js" ]] || { log "dist/ is missing: run make build first"; exit 1; }
  local token ca
  token="$(kubectl create token "$OPERATOR_SA" -n "$OPERATOR_NS" --duration=24h)"
  ca="$(kubectl config view --minify --raw -o jsonpath='{.clusters[0].cluster.certificate-authority-data}')"
  if [[ -z "$ca" ]]; then
    local ca_file; ca_file="$(kubectl config view --minify --raw -o jsonpath='{.clusters[0].cluster.certificate-authority}')"
    [[ -n "$ca_file" ]] && ca="$(base64 -w0 <"$ca_file")"
  fi
  (
    umask 077
    cat >"$SA_KUBECONFIG" <<YAML
apiVersion: v1
kind: Config
clusters:
  - name: vigil
    cluster:
      server: $server
$([[ -n "$ca" ]] && echo "      certificate-authority-data: $ca")
users:
  - name: $OPERATOR_SA
    user:
      token: $token
contexts:
  - name: vigil
    context: { cluster: vigil, user: $OPERATOR_SA, namespace: $OPERATOR_NS }
current-context: vigil
YAML
  )
  local port; port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
  # setsid: the operator must outlive this script and make's process group.
  setsid node "$REPO_DIR/bin/vigil.js" operator --kubeconfig "$SA_KUBECONFIG" --metrics-port "$port" \
    --leader-elect true --leader-election-namespace "$OPERATOR_NS" --identity "local-$(hostname)-$$" \
    >"$LOG_FILE" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$PID_FILE"
  echo "$server" >"$STATE/vigil-operator.server"
  echo "$port" >"$STATE/vigil-operator.port"
  # Stop the operator when its kubeconfig goes away (make cluster-down removes the state folder):
  # an operator left talking to a gone API server would only log errors.
  setsid bash -c "while kill -0 $pid 2>/dev/null && [[ -f '$KUBECONFIG' && -f '$SA_KUBECONFIG' ]]; do sleep 2; done; kill $pid 2>/dev/null" \
    >/dev/null 2>&1 </dev/null &
  local deadline=$((SECONDS + 30))
  until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null || ((SECONDS > deadline)); then
      log "the local operator did not start; last log lines:"; tail -n 20 "$LOG_FILE" >&2; exit 1
    fi
    sleep 0.2
  done
  log "local operator running as ServiceAccount $OPERATOR_NS/$OPERATOR_SA (pid $pid, metrics :$port, log $LOG_FILE)"
}

operator_stop() {
  if ! operator_running; then
    rm -f "$PID_FILE"
    [[ "${1:-}" == quiet ]] || log "no local operator running"
    return
  fi
  local pid; pid="$(cat "$PID_FILE")"
  kill "$pid" 2>/dev/null || true # SIGTERM: finishes in-flight reconciles, releases the Lease
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$PID_FILE" "$SA_KUBECONFIG"
  [[ "${1:-}" == quiet ]] || log "stopped the local operator (pid $pid)"
}

# Ready for the generation just applied: a Ready left from the previous stage does not count.
wait_ready() {
  local start=$SECONDS line="" gen observed ready message tty=false
  [[ -t 2 ]] && tty=true
  while :; do
    IFS="|" read -r gen observed ready message < <(kubectl get ostack "$STACK" -n "$NS" -o \
      jsonpath='{.metadata.generation}|{.status.observedGeneration}|{.status.conditions[?(@.type=="Ready")].status}|{.status.conditions[?(@.type=="Ready")].message}{"\n"}' 2>/dev/null || true) || true
    if [[ -n "$gen" && "$observed" == "$gen" && "$ready" == True ]]; then break; fi
    line="[vigil] waiting for ostack/$STACK (generation ${gen:-?}, observed ${observed:-none}): Ready=${ready:-Unknown} ${message:-}, $((SECONDS - start))s"
    if $tty; then printf '\r\033[K%s' "$line" >&2; elif (((SECONDS - start) % 10 == 0)); then echo "$line" >&2; fi
    if ((SECONDS - start > TIMEOUT)); then
      $tty && echo >&2
      log "ostack/$STACK is not Ready after ${TIMEOUT}s:"
      kubectl get ostack "$STACK" -n "$NS" -o jsonpath='{range .status.conditions[*]}{.type}={.status} {.reason}: {.message}{"\n"}{end}' >&2 || true
      log "last lines of the local operator's log ($LOG_FILE):"; tail -n 20 "$LOG_FILE" >&2 || true
      exit 1
    fi
    sleep 1
  done
  $tty && printf '\r\033[K' >&2
  kubectl wait --for=condition=Ready --timeout=10s ostack/"$STACK" -n "$NS" >/dev/null
  log "ostack/$STACK is Ready (generation $gen) after $((SECONDS - start))s"
}

up() {
  local stage=$1 file="$REPO_DIR/examples/stages/$1.yaml"
  [[ -f "$file" ]] || { log "unknown stage \"$stage\" (core, traces, logs)"; exit 2; }
  install
  operator_start
  if ! kubectl get namespace "$NS" >/dev/null 2>&1; then
    kubectl create namespace "$NS" >/dev/null
    # Marks the namespace as ours, so that undeploy deletes it and never one it did not create.
    kubectl label namespace "$NS" app.kubernetes.io/created-by=vigil-deploy >/dev/null
  fi
  # Server-side apply with one field manager: a field the next stage drops is removed, so going
  # from logs back to core turns Loki and Tempo off again.
  kubectl apply --server-side --field-manager=vigil-deploy -n "$NS" -f "$file" >/dev/null
  log "applied examples/stages/$stage.yaml as ostack/$STACK in $NS"
  wait_ready
  kubectl get ostack "$STACK" -n "$NS"
  echo "export KUBECONFIG=$KUBECONFIG"
}

down() {
  local start=$SECONDS
  if kubectl get crd observabilitystacks.observability.vigil.dev >/dev/null 2>&1; then
    # Children go with their stack (ownerReferences, garbage collection).
    kubectl delete ostack "$STACK" -n "$NS" --ignore-not-found --wait=true --timeout=60s >/dev/null
  fi
  operator_stop
  if [[ "$(kubectl get namespace "$NS" -o jsonpath='{.metadata.labels.app\.kubernetes\.io/created-by}' 2>/dev/null)" == vigil-deploy ]]; then
    kubectl delete namespace "$NS" --wait=true --timeout=120s >/dev/null
    log "deleted namespace $NS"
  fi
  # manifests/ includes the CRDs: deleting them deletes every remaining stack and SLO too.
  kubectl delete -k "$REPO_DIR/manifests/" --ignore-not-found --wait=true --timeout=120s >/dev/null
  log "removed Vigil (stack, local operator, manifests/, CRDs) in $((SECONDS - start))s"
}

case "${1:-}" in
  up) up "${2:?usage: $0 up core|traces|logs}" ;;
  down) down ;;
  operator-start) operator_start ;;
  operator-stop) operator_stop ;;
  operator-status) if operator_running; then echo "running (pid $(cat "$PID_FILE"), log $LOG_FILE)"; else echo "stopped"; fi ;;
  *) echo "usage: $0 up core|traces|logs | down | operator-start | operator-stop | operator-status" >&2; exit 2 ;;
esac
