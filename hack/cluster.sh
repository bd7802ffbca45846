#!/usr/bin/env bash
# A local Kubernetes control plane without Docker: etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler and kwok (fake nodes that run pods), all on 127.0.0.1 with free ports.
#   hack/cluster.sh up     start (idempotent), wait for each part, print the KUBECONFIG export line
#   hack/cluster.sh down   stop everything and remove the state folder
#   hack/cluster.sh status
# State lives in $VIGIL_CLUSTER_DIR (default /tmp/vigil-cluster): certificates, kubeconfig, logs,
# pids, the audit log. Binaries come from hack/build-tools.sh.
source "$(dirname "$0")/lib.sh"
DIR="${VIGIL_CLUSTER_DIR:-/tmp/vigil-cluster}"
NODES="${VIGIL_FAKE_NODES:-3}"
# No storage provisioner runs here: a default StorageClass with pre-created volumes lets the
# controller-manager bind StatefulSets' claims, as static local provisioning does.
VOLUMES="${VIGIL_FAKE_VOLUMES:-200}"
KUBE_BIN="$(tool_dir kube "$KUBE_VERSION")"
ETCD_BIN="$(tool_dir etcd "$ETCD_VERSION")"
KWOK_BIN="$(tool_dir kwok "$KWOK_VERSION")"
KUBECONFIG_FILE="$DIR/kubeconfig"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

running() { local f="$DIR/$1.pid"; [[ -f "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null; }

start_bg() { # name, command...
  local name=$1; shift
  "$@" >"$DIR/$name.log" 2>&1 &
  echo $! >"$DIR/$name.pid"
}

wait_for() { # what, seconds, command...
  local what=$1 secs=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS > deadline)); then
      log "$what did not become ready in ${secs}s; last log lines:"
      tail -n 20 "$DIR/${what}.log" >&2 || true
      return 1
    fi
    sleep 0.2
  done
}

kc() { kubectl --kubeconfig="$KUBECONFIG_FILE" "$@"; }

operator_rbac() {
  # manifests/rbac/cluster-role.yaml under a name of its own (rbac.test.ts installs and removes the
  # manifests' `vigil-operator`), bound to the user vigil-operator. Leases and remediation actions
  # are bound per namespace, as manifests/rbac says: the remediation-actions ClusterRole is created
  # here unbound, and test/support/rbac.ts binds it and the lease Role where a test needs them.
  { sed '0,/^  name: vigil-operator$/s//  name: vigil-operator-local/' "$REPO_DIR/manifests/rbac/cluster-role.yaml"
    echo ---
    sed -n '0,/^---$/p' "$REPO_DIR/manifests/rbac/remediation-actions.yaml" | sed '$d' |
      sed '0,/^  name: vigil-remediation-actions$/s//  name: vigil-remediation-actions-local/'
    cat <<'YAML'
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: vigil-operator-local
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: vigil-operator-local }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: vigil-operator }]
YAML
  } | kc apply -f - >/dev/null
}

certs() {
  local c="$DIR/pki"; mkdir -p "$c"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -subj "/CN=vigil-local-ca" -keyout "$c/ca.key" -out "$c/ca.crt" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=kube-apiserver" \
    -keyout "$c/apiserver.key" -out "$c/apiserver.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:127.0.0.1,IP:10.96.0.1\nextendedKeyUsage=serverAuth\n' >"$c/ext.cnf"
  openssl x509 -req -in "$c/apiserver.csr" -CA "$c/ca.crt" -CAkey "$c/ca.key" -CAcreateserial -days 30 \
    -extfile "$c/ext.cnf" -out "$c/apiserver.crt" 2>/dev/null
  openssl genrsa -out "$c/sa.key" 2048 2>/dev/null
  openssl rsa -in "$c/sa.key" -pubout -out "$c/sa.pub" 2>/dev/null
  local token; token="$(openssl rand -hex 24)"
  printf '%s,admin,admin,"system:masters"\n' "$token" >"$c/tokens.csv"
  echo "$token" >"$c/admin.token"
  # A user of its own for an operator run by hand or by the tests, so the audit log tells its
  # requests apart; operator.kubeconfig uses it. It is in no group: operator_rbac binds it to the
  # manifests' ClusterRole, so it may do what the installed operator may and nothing more.
  token="$(openssl rand -hex 24)"
  printf '%s,vigil-operator,vigil-operator\n' "$token" >>"$c/tokens.csv"
  echo "$token" >"$c/operator.token"
}

audit_policy() {
  # Every write (the operator's idle-writes check counts them), and the reads of the operator's
  # users (operator.kubeconfig's vigil-operator, and the ServiceAccounts the tests run it as), so
  # that a read its role lacks shows as a 403 too; other reads would flood the log.
  cat >"$DIR/audit-policy.yaml" <<'YAML'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    verbs: [create, update, patch, delete, deletecollection]
  - level: Metadata
    users: [vigil-operator]
  - level: Metadata
    userGroups: [system:serviceaccounts]
  - level: None
YAML
}

write_kubeconfig() { # port [file token-file]
  local file="${2:-$KUBECONFIG_FILE}" token_file="${3:-$DIR/pki/admin.token}"
  cat >"$file" <<YAML
apiVersion: v1
kind: Config
clusters:
  - name: vigil-local
    cluster:
      server: https://127.0.0.1:$1
      certificate-authority: $DIR/pki/ca.crt
users:
  - name: admin
    user:
      token: $(cat "$token_file")
contexts:
  - name: vigil-local
    context: { cluster: vigil-local, user: admin, namespace: default }
current-context: vigil-local
YAML
}

fake_nodes() {
  local i
  for ((i = 0; i < NODES; i++)); do
    cat <<YAML
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations: { node.alpha.kubernetes.io/ttl: "0", kwok.x-k8s.io/node: fake }
  labels: { kubernetes.io/arch: amd64, kubernetes.io/hostname: kwok-node-$i, kubernetes.io/os: linux, kubernetes.io/role: agent, node-role.kubernetes.io/agent: "", type: kwok }
spec:
  taints: []
status:
  allocatable: { cpu: "64", memory: 512Gi, pods: "1000" }
  capacity: { cpu: "64", memory: 512Gi, pods: "1000" }
  nodeInfo: { architecture: amd64, kubeletVersion: fake, operatingSystem: linux }
  phase: Running
YAML
  done
}

storage() {
  cat <<YAML
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations: { storageclass.kubernetes.io/is-default-class: "true" }
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: Immediate
YAML
  local i
  for ((i = 0; i < VOLUMES; i++)); do
    printf -- '---\napiVersion: v1\nkind: PersistentVolume\nmetadata: { name: local-pv-%03d }\nspec:\n  capacity: { storage: 10Ti }\n  accessModes: [ReadWriteOnce]\n  persistentVolumeReclaimPolicy: Delete\n  storageClassName: standard\n  hostPath: { path: /tmp/vigil-local-pv/%03d }\n' "$i" "$i"
  done
}

start_apiserver() {
  local etcd_port api_port
  etcd_port="$(cat "$DIR/etcd.port")"; api_port="$(cat "$DIR/apiserver.port")"
  start_bg kube-apiserver "$KUBE_BIN/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$etcd_port" --bind-address=127.0.0.1 --advertise-address=127.0.0.1 \
    --secure-port="$api_port" --tls-cert-file="$DIR/pki/apiserver.crt" --tls-private-key-file="$DIR/pki/apiserver.key" \
    --client-ca-file="$DIR/pki/ca.crt" --token-auth-file="$DIR/pki/tokens.csv" \
    --service-cluster-ip-range=10.96.0.0/16 --allow-privileged=true --authorization-mode=RBAC \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$DIR/pki/sa.pub" --service-account-signing-key-file="$DIR/pki/sa.key" \
    --audit-policy-file="$DIR/audit-policy.yaml" --audit-log-path="$DIR/audit.log" --audit-log-format=json \
    --cert-dir="$DIR/pki/serving"
}

# Restarts only the API server (same port, same etcd): clients see their watches break.
restart_apiserver() {
  running kube-apiserver || { log "kube-apiserver is not running"; exit 1; }
  local pid; pid="$(cat "$DIR/kube-apiserver.pid")"
  # TERM drains watches gracefully (clients may never notice); KILL is a crash. Either way the old
  # process is gone before the new one starts.
  kill -s "${VIGIL_APISERVER_SIGNAL:-TERM}" "$pid"
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  # Optionally stay down a while, so that clients' reconnects fail rather than land on the new one.
  sleep "${VIGIL_APISERVER_DOWN_SECONDS:-0}"
  start_apiserver
  wait_for kube-apiserver 90 curl -sf --cacert "$DIR/pki/ca.crt" "https://127.0.0.1:$(cat "$DIR/apiserver.port")/readyz"
  log "kube-apiserver restarted"
}

up() {
  for b in "$KUBE_BIN/kube-apiserver" "$KUBE_BIN/kube-controller-manager" "$KUBE_BIN/kube-scheduler" "$ETCD_BIN/etcd" "$KWOK_BIN/kwok"; do
    [[ -x "$b" ]] || { log "missing $b; run hack/build-tools.sh (make tools) first"; exit 1; }
  done
  if running etcd && running kube-apiserver && running kube-controller-manager && running kube-scheduler && running kwok; then
    log "control plane already running in $DIR"
    echo "export KUBECONFIG=$KUBECONFIG_FILE"
    return
  fi
  down quiet
  mkdir -p "$DIR"
  local start=$SECONDS
  certs; audit_policy
  local etcd_port etcd_peer api_port
  etcd_port=$(free_port); etcd_peer=$(free_port); api_port=$(free_port)

  start_bg etcd "$ETCD_BIN/etcd" --data-dir="$DIR/etcd" --name=vigil \
    --listen-client-urls="http://127.0.0.1:$etcd_port" --advertise-client-urls="http://127.0.0.1:$etcd_port" \
    --listen-peer-urls="http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls="http://127.0.0.1:$etcd_peer" \
    --initial-cluster="vigil=http://127.0.0.1:$etcd_peer" --unsafe-no-fsync=true --quota-backend-bytes=4294967296
  wait_for etcd 30 curl -sf "http://127.0.0.1:$etcd_port/health"
  log "etcd ready on 127.0.0.1:$etcd_port"

  echo "$etcd_port" >"$DIR/etcd.port"
  echo "$api_port" >"$DIR/apiserver.port"
  start_apiserver
  wait_for kube-apiserver 90 curl -sf --cacert "$DIR/pki/ca.crt" "https://127.0.0.1:$api_port/readyz"
  write_kubeconfig "$api_port"
  write_kubeconfig "$api_port" "$DIR/operator.kubeconfig" "$DIR/pki/operator.token"
  log "kube-apiserver ready on https://127.0.0.1:$api_port"

  start_bg kube-controller-manager "$KUBE_BIN/kube-controller-manager" --kubeconfig="$KUBECONFIG_FILE" \
    --leader-elect=false --secure-port=0 --service-account-private-key-file="$DIR/pki/sa.key" \
    --root-ca-file="$DIR/pki/ca.crt" --cluster-name=vigil-local --concurrent-gc-syncs=5
  start_bg kube-scheduler "$KUBE_BIN/kube-scheduler" --kubeconfig="$KUBECONFIG_FILE" \
    --authentication-kubeconfig="$KUBECONFIG_FILE" --authorization-kubeconfig="$KUBECONFIG_FILE" \
    --leader-elect=false --secure-port=0
  start_bg kwok "$KWOK_BIN/kwok" --kubeconfig="$KUBECONFIG_FILE" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --config="$KWOK_BIN/stages.yaml" --node-lease-duration-seconds=40 \
    --cidr=10.0.1.1/24 --node-ip=127.0.0.1 --server-address="127.0.0.1:$(free_port)"

  wait_for kube-apiserver 30 kc get namespace default
  fake_nodes | kc apply -f - >/dev/null
  storage | kc apply -f - >/dev/null
  operator_rbac
  wait_for kube-controller-manager 60 kc get serviceaccount default -n default
  wait_for kwok 60 bash -c "[[ \$(kubectl --kubeconfig=$KUBECONFIG_FILE get nodes --no-headers 2>/dev/null | grep -c ' Ready') -ge $NODES ]]"
  for p in kube-controller-manager kube-scheduler kwok; do running "$p" || { log "$p exited:"; tail -n 20 "$DIR/$p.log" >&2; exit 1; }; done
  log "control plane up in $((SECONDS - start))s ($NODES kwok nodes, state in $DIR)"
  echo "export KUBECONFIG=$KUBECONFIG_FILE"
}

down() {
  [[ -d "$DIR" ]] || { [[ "${1:-}" == quiet ]] || log "nothing running in $DIR"; return 0; }
  local p pid f
  # Processes started against this cluster (a local operator from make dev / deploy-*) go first.
  for f in "$DIR"/*.pid; do
    p="$(basename "$f" .pid)"
    case "$p" in kwok | kube-scheduler | kube-controller-manager | kube-apiserver | etcd) continue ;; esac
    kill "$(cat "$f")" 2>/dev/null || true
  done
  for p in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
    [[ -f "$DIR/$p.pid" ]] || continue
    pid="$(cat "$DIR/$p.pid")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$DIR"
  [[ "${1:-}" == quiet ]] || log "control plane stopped; removed $DIR"
}

status() {
  local p
  for p in etcd kube-apiserver kube-controller-manager kube-scheduler kwok; do
    if running "$p"; then echo "$p: running (pid $(cat "$DIR/$p.pid"))"; else echo "$p: stopped"; fi
  done
}

case "${1:-}" in
  up) up ;; down) down ;; status) status ;; restart-apiserver) restart_apiserver ;;
  *) echo "usage: $0 up|down|status|restart-apiserver" >&2; exit 2 ;;
esac
