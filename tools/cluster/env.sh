# shellcheck shell=bash
# Sourced by the cluster scripts (build.sh, cluster.sh): versions and where the builds live.
# shellcheck disable=SC2034  # the variables are read by the scripts that source this file
# The Kubernetes and etcd versions come from the pin module's go.mod, so they are stated once.
cluster_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KUBERNETES_VERSION=$(awk '$1=="k8s.io/kubernetes" {print $2}' "$cluster_dir/kubernetes/go.mod")
ETCD_VERSION=$(awk '$1=="go.etcd.io/etcd/server/v3" {print $2; exit}' "$cluster_dir/kubernetes/go.mod")
# kwok: the newest release whose go.mod builds with the machine's Go (1.26).
KWOK_VERSION=v0.8.0
CACHE_ROOT=${MLOPS_TESTBED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mlops-testbed}
CONTROL_PLANE_DIR=$CACHE_ROOT/kubernetes-$KUBERNETES_VERSION-etcd-$ETCD_VERSION
KWOK_DIR=$CACHE_ROOT/kwok-$KWOK_VERSION
