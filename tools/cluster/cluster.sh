#!/usr/bin/env bash
# Starts and stops the local control plane built by build.sh: etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler and kwok (simulated nodes), all on one loopback address, with certificates generated for the run.
#
#   cluster.sh start <state-dir>   generate certificates, start every component, wait until the API is ready;
#                                  prints the admin kubeconfig path and the start time
#   cluster.sh stop <state-dir>    stop the components started there, by the PIDs recorded at start
#
# MLOPS_CLUSTER_IP (default 127.0.0.15): the loopback address everything listens on. The API server listens on
# port 443 there, the port a pod reaches `kubernetes.default.svc` on, so steps run as in a pod (see step-runner.ts).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/cluster/env.sh
. "$here/env.sh"

ip=${MLOPS_CLUSTER_IP:-127.0.0.15}
case "$ip" in 127.*) ;; *) echo "MLOPS_CLUSTER_IP must be a loopback address (127.0.0.0/8), not $ip" >&2; exit 2 ;; esac
api_port=443
service_cidr=10.96.0.0/16
issuer=https://kubernetes.default.svc.cluster.local

usage() { echo "usage: $0 start|stop <state-dir>" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1 state=$2

# A client certificate and kubeconfig for one identity (CN user, O group), signed by the run's CA.
client_identity() {
    local name=$1 subject=$2
    openssl req -new -newkey rsa:2048 -nodes -keyout "$state/pki/$name.key" -subj "$subject" -out "$state/pki/$name.csr" 2>/dev/null
    openssl x509 -req -in "$state/pki/$name.csr" -CA "$state/pki/ca.crt" -CAkey "$state/pki/ca.key" -CAcreateserial \
        -days 2 -extfile <(printf 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n') \
        -out "$state/pki/$name.crt" 2>/dev/null
    cat > "$state/$name.kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: "https://$ip:$api_port", certificate-authority: "$state/pki/ca.crt"}
users:
- name: $name
  user: {client-certificate: "$state/pki/$name.crt", client-key: "$state/pki/$name.key"}
contexts:
- name: $name
  context: {cluster: local, user: $name}
current-context: $name
KUBECONFIG
}

generate_pki() {
    mkdir -p "$state/pki"
    openssl req -x509 -new -newkey rsa:2048 -nodes -days 2 -keyout "$state/pki/ca.key" -subj "/CN=mlops-testbed-local-ca" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$state/pki/ca.crt" 2>/dev/null
    # The serving certificate names every way a client reaches the API: loopback, and the in-cluster Service names.
    openssl req -new -newkey rsa:2048 -nodes -keyout "$state/pki/apiserver.key" -subj "/CN=kube-apiserver" -out "$state/pki/apiserver.csr" 2>/dev/null
    openssl x509 -req -in "$state/pki/apiserver.csr" -CA "$state/pki/ca.crt" -CAkey "$state/pki/ca.key" -CAcreateserial -days 2 \
        -extfile <(printf 'subjectAltName=IP:%s,IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' "$ip") \
        -out "$state/pki/apiserver.crt" 2>/dev/null
    # Service-account tokens are signed with this key pair (TokenRequest and the controller's tokens).
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$state/pki/sa.key" 2>/dev/null
    openssl pkey -in "$state/pki/sa.key" -pubout -out "$state/pki/sa.pub" 2>/dev/null
    client_identity admin "/O=system:masters/CN=mlops-testbed-admin"
    client_identity controller-manager "/CN=system:kube-controller-manager"
    client_identity scheduler "/CN=system:kube-scheduler"
    # kwok plays every node's kubelet with one client, so it cannot be one system:node:<name> identity; it acts as admin.
    client_identity kwok "/O=system:masters/CN=kwok"
}

# Starts a component in the background, its output in logs/<name>.log, its PID in pids/<name>.
launch() {
    local name=$1; shift
    "$@" > "$state/logs/$name.log" 2>&1 &
    echo $! > "$state/pids/$name"
}

wait_for() {
    local what=$1 seconds=$2; shift 2
    local deadline=$((SECONDS + seconds))
    until "$@" > /dev/null 2>&1; do
        if [ $SECONDS -ge $deadline ]; then echo "cluster: $what not ready after ${seconds}s; logs in $state/logs" >&2; return 1; fi
        sleep 0.5
    done
}

api_ready() { curl -sf --cacert "$state/pki/ca.crt" --cert "$state/pki/admin.crt" --key "$state/pki/admin.key" "https://$ip:$api_port/readyz"; }

start() {
    local bin=$CONTROL_PLANE_DIR start=$SECONDS
    for b in etcd kube-apiserver kube-controller-manager kube-scheduler; do
        [ -x "$bin/$b" ] || { echo "cluster: $bin/$b missing; run tools/cluster/build.sh first" >&2; exit 1; }
    done
    [ -x "$KWOK_DIR/kwok" ] || { echo "cluster: $KWOK_DIR/kwok missing; run tools/cluster/build.sh first" >&2; exit 1; }
    if [ -d "$state/pids" ] && [ -n "$(ls -A "$state/pids" 2>/dev/null)" ]; then echo "cluster: $state already has running components; stop it first" >&2; exit 1; fi
    # A control plane already listening there would pass the readiness checks for this one.
    if curl -s -o /dev/null --max-time 2 "http://$ip:2381/health" || curl -sk -o /dev/null --max-time 2 "https://$ip:$api_port/"; then
        echo "cluster: something already listens on $ip (etcd or an API server); stop it or set MLOPS_CLUSTER_IP" >&2; exit 1
    fi
    mkdir -p "$state/logs" "$state/pids" "$state/etcd"
    [ -f "$state/pki/ca.crt" ] || generate_pki

    launch etcd "$bin/etcd" --name local --data-dir "$state/etcd" \
        --listen-client-urls "http://$ip:2379" --advertise-client-urls "http://$ip:2379" \
        --listen-peer-urls "http://$ip:2380" --initial-advertise-peer-urls "http://$ip:2380" \
        --initial-cluster "local=http://$ip:2380" --listen-metrics-urls "http://$ip:2381" --log-level warn
    wait_for etcd 60 curl -sf "http://$ip:2381/health"

    # Admission as a managed cluster has it: the defaults (NamespaceLifecycle, LimitRanger, ServiceAccount,
    # PodSecurity, ResourceQuota, Priority, DefaultTolerationSeconds, RuntimeClass, the webhooks and admission
    # policies, ...) plus NodeRestriction. ExtendedResourceToleration stays off (EKS has it, AKS not): a GPU pod
    # must carry the platform's toleration itself.
    launch kube-apiserver "$bin/kube-apiserver" \
        --advertise-address "$ip" --bind-address "$ip" --secure-port "$api_port" \
        --etcd-servers "http://$ip:2379" \
        --service-cluster-ip-range "$service_cidr" --endpoint-reconciler-type none \
        --client-ca-file "$state/pki/ca.crt" --tls-cert-file "$state/pki/apiserver.crt" --tls-private-key-file "$state/pki/apiserver.key" \
        --service-account-issuer "$issuer" --service-account-key-file "$state/pki/sa.pub" \
        --service-account-signing-key-file "$state/pki/sa.key" \
        --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
        --allow-privileged=true --profiling=false
    wait_for kube-apiserver 180 api_ready

    launch kube-controller-manager "$bin/kube-controller-manager" \
        --kubeconfig "$state/controller-manager.kubeconfig" --leader-elect=false --secure-port 0 \
        --service-account-private-key-file "$state/pki/sa.key" --root-ca-file "$state/pki/ca.crt" \
        --use-service-account-credentials=true --service-cluster-ip-range "$service_cidr" \
        --cluster-signing-cert-file "$state/pki/ca.crt" --cluster-signing-key-file "$state/pki/ca.key"
    launch kube-scheduler "$bin/kube-scheduler" \
        --kubeconfig "$state/scheduler.kubeconfig" --leader-elect=false --secure-port 0
    launch kwok "$KWOK_DIR/kwok" --kubeconfig "$state/kwok.kubeconfig" --config "$KWOK_DIR/stages.yaml" \
        --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
        --server-address "$ip:10247" --node-ip "$ip" --cidr 10.244.0.0/16
    sleep 1
    for name in kube-controller-manager kube-scheduler kwok; do
        kill -0 "$(cat "$state/pids/$name")" 2>/dev/null || { echo "cluster: $name exited; $(tail -5 "$state/logs/$name.log")" >&2; stop; exit 1; }
    done
    echo "cluster: started in $((SECONDS - start)) s (API https://$ip:$api_port, admin kubeconfig $state/admin.kubeconfig)"
}

stop() {
    [ -d "$state/pids" ] || return 0
    local pidfile pid
    for name in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
        pidfile=$state/pids/$name
        [ -f "$pidfile" ] || continue
        pid=$(cat "$pidfile")
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid"
            for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
            kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
        fi
        rm -f "$pidfile"
    done
    echo "cluster: stopped"
}

case "$cmd" in
    start) start ;;
    stop) stop ;;
    *) usage ;;
esac
