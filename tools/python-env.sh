#!/usr/bin/env bash
# The Python virtual environment the tests and linters use: exactly the pinned packages the cluster installs
# (pipelines/workload/requirements.txt, pipelines/lib/requirements.txt) plus the pinned dev tools
# (requirements-dev.txt), from PyPI. It lives in the cache outside the repository, named by a hash of those files
# and the interpreter, so it is built once and rebuilt when a pin changes; when present this takes milliseconds.
#
#   bash tools/python-env.sh            build it if missing
#   bash tools/python-env.sh path       build it if missing, print its directory
#   bash tools/python-env.sh run CMD... build it if missing, run CMD with its bin/ first on PATH
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
requirements=("$root/pipelines/workload/requirements.txt" "$root/pipelines/lib/requirements.txt" "$root/requirements-dev.txt")
python="${PYTHON:-python3}"

key=$({ "$python" --version; cat "${requirements[@]}"; } | sha256sum | cut -c1-16)
venv="${MLOPS_TESTBED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mlops-testbed}/python-$key"

if [ ! -f "$venv/.complete" ]; then
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    "$python" -m venv "$venv"
    args=()
    for r in "${requirements[@]}"; do args+=(-r "$r"); done
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-cache-dir "${args[@]}" >&2
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
