#!/usr/bin/env bash
# A real Kubernetes control plane with Cilium's LB-IPAM, on loopback only, for the conformance tests
# (test/conformance/) and for trying `meshpilot diagnose lb` by hand:
#   etcd (Debian etcd-server) → kube-apiserver v1.32.3 → cilium-operator-generic v1.16.19, which registers
#   Cilium's CRDs itself and runs LB-IPAM. No kubelet, no nodes, no Cilium agents (so no L2 leases).
#
#   scripts/real-stack.sh up     [--dir DIR] [--owner-pid PID]   start it (fresh) unless it runs already; prints
#                                                                 the kubeconfig path; with --owner-pid it stops
#                                                                 by itself once that process is gone
#   scripts/real-stack.sh down   [--dir DIR]   stop every process it started; leaves nothing running
#   scripts/real-stack.sh status [--dir DIR]   say what runs; exit 0 when all three do, 3 otherwise
#
# DIR defaults to $MESHPILOT_DATA_DIR/real-stack (MESHPILOT_DATA_DIR defaults to the clone's .data). Binaries come
# from .tools/bin (scripts/setup.d/tests/70-kubernetes.sh, 71-cilium-operator.sh) and PATH (etcd). Ports are
# free ones picked at start and kept in DIR/ports.env. The kubeconfig (DIR/kubeconfig) holds the admin token:
# it is written 0600 and never printed, only its path.
source "$(dirname "$0")/lib.sh"
VERSION_KUBERNETES=v1.32.3
VERSION_CILIUM=1.16.19
CLUSTER_NAME=real-stack
SERVICE_CIDRS=10.96.0.0/16,fd00:10:96::/112

usage() { sed -n '6,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
cmd=${1:-}
[ -n "$cmd" ] || usage
shift
dir= owner=
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) [ $# -ge 2 ] || { echo "real-stack: --dir needs a value" >&2; exit 2; }; dir=$2; shift 2 ;;
    --dir=*) dir=${1#--dir=}; shift ;;
    --owner-pid)
      [ $# -ge 2 ] && [[ $2 =~ ^[0-9]+$ ]] || { echo "real-stack: --owner-pid needs a process id" >&2; exit 2; }
      owner=$2; shift 2 ;;
    *) echo "real-stack: unknown argument '$1'" >&2; usage ;;
  esac
done
dir=${dir:-${MESHPILOT_DATA_DIR:-$MESHPILOT_ROOT/.data}/real-stack}
[ "$cmd" = up ] && mkdir -p "$dir"
[ -d "$dir" ] && dir=$(cd "$dir" && pwd)
COMPONENTS=(etcd kube-apiserver cilium-operator)

say() { printf 'real-stack: %s\n' "$*" >&2; }

# pid_of NAME : the pid of a component this stack started and that still runs, else nothing. A pid is only ours
# when the process's command line names this state dir (pids get reused).
pid_of() {
  local f="$dir/run/$1.pid" pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 0
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$dir" && echo "$pid"
  return 0
}

stop_all() {
  local name pid i
  for name in watchdog cilium-operator kube-apiserver etcd; do
    pid=$(pid_of "$name")
    # the watchdog runs `down` itself: it does not stop itself
    [ -n "$pid" ] && [ "$pid" != "$$" ] || { rm -f "$dir/run/$name.pid"; continue; }
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do
      [ -d "/proc/$pid" ] || break
      sleep 0.1
    done
    [ -d "/proc/$pid" ] && kill -KILL "$pid" 2>/dev/null || true
    rm -f "$dir/run/$name.pid"
  done
}

running_count() {
  local n=0 name
  for name in "${COMPONENTS[@]}"; do [ -n "$(pid_of "$name")" ] && n=$((n + 1)); done
  echo "$n"
}

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

need_bin() { # need_bin PATH SETUP_SCRIPT
  [ -x "$1" ] || { echo "real-stack: $1 is missing: run bash $2 (or scripts/setup.sh --all)" >&2; exit 1; }
}

# start NAME LOG CMD... : a detached process (its own session, so the caller's Ctrl-C or exit does not end it)
start() {
  local name=$1 logfile=$2; shift 2
  setsid "$@" >"$logfile" 2>&1 </dev/null &
  echo $! >"$dir/run/$name.pid"
}

# wait_for WHAT SECONDS LOG CMD... : polls CMD every half second; on timeout prints the log's tail and fails.
wait_for() {
  local what=$1 secs=$2 logfile=$3; shift 3
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "$what not ready within ${secs}s; last lines of $logfile:"
      tail -n 30 "$logfile" >&2 || true
      stop_all
      exit 1
    fi
    sleep 0.5
  done
}

alive() { [ -n "$(pid_of "$1")" ]; }

make_pki() {
  local pki=$dir/pki
  mkdir -p "$pki"
  chmod 700 "$pki"
  # one self-signed serving certificate: the kubeconfig trusts exactly it
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/CN=kube-apiserver" \
    -addext "subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes.default.svc" \
    -keyout "$pki/serving.key" -out "$pki/serving.crt" 2>/dev/null
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  chmod 600 "$pki"/*.key
}

write_kubeconfig() { # write_kubeconfig API_PORT TOKEN
  local ca
  ca=$(base64 -w0 <"$dir/pki/serving.crt")
  (
    umask 077
    cat >"$dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $CLUSTER_NAME
  cluster:
    server: https://127.0.0.1:$1
    certificate-authority-data: $ca
users:
- name: admin@$CLUSTER_NAME
  user:
    token: $2
contexts:
- name: admin@$CLUSTER_NAME
  context:
    cluster: $CLUSTER_NAME
    user: admin@$CLUSTER_NAME
    namespace: default
current-context: admin@$CLUSTER_NAME
EOF
  )
  chmod 600 "$dir/kubeconfig"
}

# The cilium-config keys the operator reads (one file per key, as the chart's ConfigMap is mounted).
write_operator_config() {
  local cfg=$dir/operator-config
  rm -rf "$cfg"
  mkdir -p "$cfg"
  printf 'kubernetes' >"$cfg/ipam"
  printf 'crd' >"$cfg/identity-allocation-mode"
  printf 'true' >"$cfg/enable-ipv4"
  # LB-IPAM hands out IPv6 addresses only when IPv6 is enabled (operator/pkg/lbipam serviceIPFamilyRequest)
  printf 'true' >"$cfg/enable-ipv6"
  # the l2-announcer loadBalancerClass is served only with L2 announcements on
  printf 'true' >"$cfg/enable-l2-announcements"
  # what the chart sets for bgpControlPlane.enabled (meshpilot's BGP mode): the operator then registers the BGP CRDs
  printf 'true' >"$cfg/enable-bgp-control-plane"
  printf '%s' "$CLUSTER_NAME" >"$cfg/cluster-name"
  printf '1' >"$cfg/cluster-id"
}

kubectl_stack() { "$TOOLS_DIR/bin/kubectl" --kubeconfig "$dir/kubeconfig" "$@"; }
operator_leads() {
  kubectl_stack -n kube-system get lease cilium-operator-resource-lock -o 'jsonpath={.spec.holderIdentity}' | grep -q .
}
crds_established() {
  kubectl_stack wait --for=condition=Established --timeout=2s \
    crd/ciliumloadbalancerippools.cilium.io crd/ciliuml2announcementpolicies.cilium.io \
    crd/ciliumnetworkpolicies.cilium.io crd/ciliumclusterwidenetworkpolicies.cilium.io
}

up() {
  local apiserver=$TOOLS_DIR/bin/kube-apiserver operator=$TOOLS_DIR/bin/cilium-operator-generic
  need_bin "$apiserver" scripts/setup.d/tests/70-kubernetes.sh
  need_bin "$TOOLS_DIR/bin/kubectl" scripts/setup.d/tests/70-kubernetes.sh
  need_bin "$operator" scripts/setup.d/tests/71-cilium-operator.sh
  command -v etcd >/dev/null || { echo "real-stack: etcd is missing: run bash scripts/setup.d/tests/30-etcd.sh" >&2; exit 1; }
  command -v openssl >/dev/null || { echo "real-stack: openssl is required" >&2; exit 1; }

  local n; n=$(running_count)
  if [ "$n" -eq ${#COMPONENTS[@]} ]; then
    say "already running"
    echo "$dir/kubeconfig"
    return 0
  fi
  # a partial stack (a crash, a killed shell) is not repaired but replaced
  stop_all
  rm -rf "$dir/etcd" "$dir/run" "$dir/logs" "$dir/pki" "$dir/kubeconfig" "$dir/tokens.csv" "$dir/ports.env"
  mkdir -p "$dir/run" "$dir/logs"

  local etcd_port etcd_peer api_port op_api op_metrics op_gops
  etcd_port=$(free_port) etcd_peer=$(free_port) api_port=$(free_port) op_api=$(free_port) op_metrics=$(free_port) op_gops=$(free_port)
  printf 'ETCD_PORT=%s\nAPISERVER_PORT=%s\nOPERATOR_API_PORT=%s\n' "$etcd_port" "$api_port" "$op_api" >"$dir/ports.env"

  make_pki
  local token
  token=$(openssl rand -hex 24)
  (umask 077; printf '%s,admin,admin,system:masters\n' "$token" >"$dir/tokens.csv")
  write_kubeconfig "$api_port" "$token"
  write_operator_config

  start etcd "$dir/logs/etcd.log" etcd --name "$CLUSTER_NAME" --data-dir "$dir/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
    --initial-cluster "$CLUSTER_NAME=http://127.0.0.1:$etcd_peer" --initial-cluster-state new \
    --logger zap --log-level warn
  wait_for etcd 60 "$dir/logs/etcd.log" bash -c "exec 3<>/dev/tcp/127.0.0.1/$etcd_port"

  start kube-apiserver "$dir/logs/kube-apiserver.log" "$apiserver" \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --secure-port "$api_port" --advertise-address 127.0.0.1 \
    --endpoint-reconciler-type none \
    --tls-cert-file "$dir/pki/serving.crt" --tls-private-key-file "$dir/pki/serving.key" \
    --service-account-key-file "$dir/pki/sa.pub" --service-account-signing-key-file "$dir/pki/sa.key" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --token-auth-file "$dir/tokens.csv" --authorization-mode RBAC \
    --service-cluster-ip-range "$SERVICE_CIDRS" \
    --cert-dir "$dir/pki" --profiling=false --v=1
  wait_for kube-apiserver 180 "$dir/logs/kube-apiserver.log" kubectl_stack get --raw /readyz

  start cilium-operator "$dir/logs/cilium-operator.log" env CILIUM_K8S_NAMESPACE=kube-system "$operator" \
    --k8s-kubeconfig-path "$dir/kubeconfig" --config-dir "$dir/operator-config" \
    --cilium-pod-namespace kube-system --cluster-name "$CLUSTER_NAME" --cluster-id 1 \
    --operator-api-serve-addr "127.0.0.1:$op_api" --operator-prometheus-serve-addr "127.0.0.1:$op_metrics" \
    --enable-metrics=false --gops-port "$op_gops"
  wait_for "cilium-operator leadership" 180 "$dir/logs/cilium-operator.log" operator_leads
  wait_for "Cilium CRDs" 180 "$dir/logs/cilium-operator.log" crds_established
  for name in "${COMPONENTS[@]}"; do
    alive "$name" || { say "$name exited during start-up; last lines of $dir/logs/$name.log:"; tail -n 30 "$dir/logs/$name.log" >&2; stop_all; exit 1; }
  done
  if [ -n "$owner" ]; then
    # a test runner killed mid-file runs no clean-up: the stack goes when its owner does
    start watchdog "$dir/logs/watchdog.log" bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 2; done; exec bash "$2" down --dir "$3"' \
      real-stack-watchdog "$owner" "$MESHPILOT_ROOT/scripts/real-stack.sh" "$dir"
  fi
  say "etcd 127.0.0.1:$etcd_port, kube-apiserver $VERSION_KUBERNETES https://127.0.0.1:$api_port, cilium-operator-generic $VERSION_CILIUM; logs in $dir/logs"
  echo "$dir/kubeconfig"
}

status() {
  local name pid n=0
  for name in "${COMPONENTS[@]}"; do
    pid=$(pid_of "$name")
    if [ -n "$pid" ]; then echo "$name: running (pid $pid)"; n=$((n + 1)); else echo "$name: stopped"; fi
  done
  if [ "$n" -eq ${#COMPONENTS[@]} ]; then
    echo "kubeconfig: $dir/kubeconfig"
    return 0
  fi
  return 3
}

case "$cmd" in
  up) up ;;
  down)
    stop_all
    # the admin token and keys die with the stack; logs and etcd data stay for a look afterwards
    rm -rf "$dir/kubeconfig" "$dir/tokens.csv" "$dir/pki"
    say "stopped (logs in $dir/logs)"
    ;;
  status) status ;;
  -h|--help|help) usage ;;
  *) echo "real-stack: unknown command '$cmd' (up, down, status)" >&2; exit 2 ;;
esac
