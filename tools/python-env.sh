#!/usr/bin/env bash
# The one Python virtual environment of the tests and linters: exactly the pinned packages the cluster installs, from
# PyPI. It lives in the cache outside the repository, named by a hash of the pin files and the interpreter, so it is
# built once and rebuilt when a pin changes; when present this takes milliseconds.
#   - its site-packages: first the step runtime's lock (pipelines/lib/requirements-lock.txt) as the runtime build
#     installs it (--no-deps --require-hashes: each file pip fetches must have a sha256 the lock names), then the
#     reference workload's and the step library's pins (pipelines/workload/requirements.txt,
#     pipelines/lib/requirements.txt) and the pinned dev tools (requirements-dev.txt), resolved together with the
#     lock's pins as constraints (without its hashes: pip would ask every requirement for hashes), so the tests import
#     the very versions the runtime image holds; `pip check` then fails the build if anything lacks what it needs;
#   - <venv>/kube-client: the Kubernetes client of the API-facing steps and its whole pinned closure
#     (pipelines/lib/requirements-kube.txt), installed as the step runtime's build installs it (--no-deps
#     --require-hashes --target) and put on PYTHONPATH the same way. It stays apart because its pins cannot share
#     one resolution with boto3's (kubernetes 37 needs python-dateutil >= 3, botocore < 3), and no step loads both.
#
#   bash tools/python-env.sh            build it if missing
#   bash tools/python-env.sh path       build it if missing, print its directory
#   bash tools/python-env.sh run CMD... build it if missing, run CMD with its bin/ first on PATH
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
requirements=("$root/pipelines/workload/requirements.txt" "$root/pipelines/lib/requirements.txt" "$root/requirements-dev.txt")
lock="$root/pipelines/lib/requirements-lock.txt"
kube_requirements="$root/pipelines/lib/requirements-kube.txt"
python="${PYTHON:-python3}"

key=$({ "$python" --version; cat "${requirements[@]}" "$lock" "$kube_requirements"; } | sha256sum | cut -c1-16)
venv="${MLOPS_TESTBED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mlops-testbed}/python-$key"

if [ ! -f "$venv/.complete" ]; then
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-cache-dir --no-deps --require-hashes \
        -r "$lock" >&2
    # The lock's pins without the hash options and their line continuations.
    sed -e '/^[[:space:]]*--hash=/d' -e 's/[[:space:]]*\\$//' "$lock" > "$venv/lock-constraints.txt"
    args=()
    for r in "${requirements[@]}"; do args+=(-r "$r"); done
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-cache-dir "${args[@]}" \
        -c "$venv/lock-constraints.txt" >&2
    if ! problems=$("$venv/bin/python" -m pip check --disable-pip-version-check); then
        echo "$problems" >&2
        exit 1
    fi
    # The same pip options as the step runtime's package sets (PACKAGE_SET_PIP_OPTIONS, pipelines/core/runtime.ts).
    "$venv/bin/python" -m pip install --quiet --no-cache-dir --disable-pip-version-check --no-deps --require-hashes \
        --target "$venv/kube-client" -r "$kube_requirements" >&2
    touch "$venv/.complete"
fi

case "${1:-}" in
    "") ;;
    path) echo "$venv" ;;
    run)
        shift
        PATH="$venv/bin:$PATH" exec "$@"
        ;;
    *)
        echo "usage: bash tools/python-env.sh [path | run CMD...]" >&2
        exit 2
        ;;
esac
