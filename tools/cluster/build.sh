#!/usr/bin/env bash
# Builds the local control plane from upstream Go modules, once per machine: kube-apiserver, kube-controller-manager,
# kube-scheduler and etcd in one `go build` of the pin module kubernetes/ (shared packages compile once), and kwok
# from its own release module. Binaries land in the cache outside the repository and are reused while the pins
# are unchanged. Prints the time each build took (0 when the cache already had it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/cluster/env.sh
. "$here/env.sh"

export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0
command -v go > /dev/null || { echo "build: go is not on PATH (Go 1.25 or later is needed)" >&2; exit 1; }

# The pins' fingerprint: a changed go.mod/go.sum (or kwok version) builds into a fresh folder state.
pin_hash=$(cat "$here/kubernetes/go.mod" "$here/kubernetes/go.sum" | sha256sum | cut -c1-16)

build_control_plane() {
    local out=$CONTROL_PLANE_DIR stamp=$CONTROL_PLANE_DIR/.built
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$pin_hash" ]; then echo "build: control plane cached in $out (0 s)"; return; fi
    rm -rf "$out" && mkdir -p "$out.gocache"
    local start=$SECONDS pkg=k8s.io/component-base/version minor=${KUBERNETES_VERSION#v1.}
    minor=${minor%%.*}
    (
        cd "$here/kubernetes"
        go mod download
        echo "build: modules downloaded in $((SECONDS - start)) s"
        # -X sets what /version reports, as the release build does (otherwise v0.0.0-master).
        GOCACHE=$out.gocache go build -trimpath -o "$out.tmp/" \
            -ldflags "-s -w -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z" \
            k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
            k8s.io/kubernetes/cmd/kube-scheduler go.etcd.io/etcd/server/v3
    )
    mv "$out.tmp/server" "$out.tmp/etcd"   # go names the binary of go.etcd.io/etcd/server/v3 after "server"
    mv "$out.tmp" "$out" && rm -rf "$out.gocache"
    echo "$pin_hash" > "$stamp"
    echo "build: control plane ($KUBERNETES_VERSION, etcd $ETCD_VERSION) built in $((SECONDS - start)) s into $out"
}

build_kwok() {
    local out=$KWOK_DIR stamp=$KWOK_DIR/.built
    if [ -f "$stamp" ]; then echo "build: kwok cached in $out (0 s)"; return; fi
    rm -rf "$out" && mkdir -p "$out.gocache"
    local start=$SECONDS
    # kwok's own go.mod decides its dependencies: nothing of ours is mixed in.
    GOCACHE=$out.gocache GOBIN=$out.tmp go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
    # The kwok binary has no built-in behaviour: its Stages say how nodes and pods progress. These are the release's
    # own defaults (what kwokctl gives it): nodes initialize and heartbeat, pods become Ready, complete, delete.
    local stages
    stages=$(go env GOMODCACHE)/sigs.k8s.io/kwok@$KWOK_VERSION/kustomize/stage
    for f in node/fast/node-initialize.yaml node/heartbeat/node-heartbeat.yaml pod/fast/pod-ready.yaml \
        pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
        printf -- '---\n' && cat "$stages/$f"
    done > "$out.tmp/stages.yaml"
    mv "$out.tmp" "$out" && rm -rf "$out.gocache"
    echo "$KWOK_VERSION" > "$stamp"
    echo "build: kwok $KWOK_VERSION built in $((SECONDS - start)) s into $out"
}

mkdir -p "$CACHE_ROOT"
build_control_plane
build_kwok
