#!/usr/bin/env bash
# `npm run lint:workflows`: actionlint over the GitHub Actions workflows: expressions and the contexts they read,
# the job graph, permissions, runner labels, the inputs of the actions it knows, and every `run:` script checked by
# Debian's shellcheck. The workflows cannot run here; this is upstream's checker of what they say. actionlint is
# built once per machine from its Go module into the cache outside the repository, as the control plane is.
set -euo pipefail
cd "$(dirname "$0")/.."

ACTIONLINT_VERSION=v1.7.12
dir=${MLOPS_TESTBED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mlops-testbed}/actionlint-$ACTIONLINT_VERSION
shellcheck=$(command -v shellcheck) || {
    echo "lint:workflows: shellcheck is not on PATH (Debian's package; bash tools/install.sh installs it)" >&2
    exit 1
}
if [ ! -x "$dir/bin/actionlint" ]; then
    command -v go > /dev/null || {
        echo "lint:workflows: go is not on PATH (actionlint $ACTIONLINT_VERSION is built from its Go module)" >&2
        exit 1
    }
    start=$SECONDS
    rm -rf "$dir.tmp"
    # actionlint's own go.mod decides its dependencies.
    GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0 GOBIN=$dir.tmp/bin \
        go install -trimpath -ldflags "-s -w" "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
    echo "lint:workflows: actionlint $ACTIONLINT_VERSION built in $((SECONDS - start)) s into $dir"
fi
"$dir/bin/actionlint" -shellcheck="$shellcheck" .github/workflows/*.yml
echo "lint:workflows: $(find .github/workflows -name '*.yml' | wc -l) workflows clean (actionlint $ACTIONLINT_VERSION)"
