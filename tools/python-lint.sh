#!/usr/bin/env bash
# Lints and type-checks the pipelines' Python in the project's environment (tools/python-env.sh): ruff (check and
# format --check, ruff.toml) over the tree, mypy (pyproject.toml) over each top level the code runs from: the step
# library's root, each Task script, and each script directory (workload, the platforms' dataset-change consumers with
# the contract's helper they import, pushgateway-cleanup). The
# step library and the Task scripts are checked against the pinned Kubernetes client (it ships its types), on
# PYTHONPATH as in the API-facing steps' pods.
# Every mypy run shares one cache, kept in the Python environment's folder beside the packages it describes: the
# standard library's stubs and the Kubernetes client (about 950 modules, most of a cold run) are analysed once per
# environment, not once per root and clone. mypy keys each entry by the module's path, size, content hash and options
# and writes it whole, so sharing it changes the time, never the result; a clone's own modules are checked again.
set -euo pipefail
cd "$(dirname "$0")/.."
run() { bash tools/python-env.sh run "$@"; }
venv="$(bash tools/python-env.sh path)"
kube_client="$venv/kube-client"
# Files, not mypy's default SQLite database: each entry is written whole (temporary file, then rename), so clones
# linting at the same time cannot lock or corrupt one another's cache.
mypy_args=(--cache-dir "$venv/mypy-cache" --no-sqlite-cache --no-error-summary)

run ruff check --quiet .
run ruff format --check --quiet .
status=0
# Task scripts import the step library, which is on their PYTHONPATH as in the step pods.
scripts=()
for f in pipelines/tasks/*/*.py; do [[ $f == */tests/* ]] || scripts+=("$f"); done
PYTHONPATH="$kube_client" MYPYPATH=pipelines/lib run mypy "${mypy_args[@]}" pipelines/lib/mlops_steps "${scripts[@]}" ||
    status=1
(cd pipelines/tasks && PYTHONPATH="$kube_client" MYPYPATH="$OLDPWD/pipelines/lib" bash "$OLDPWD/tools/python-env.sh" \
    run mypy --config-file "$OLDPWD/pyproject.toml" "${mypy_args[@]}" -p tests) || status=1
for dir in pipelines/workload monitoring/pushgateway-cleanup contract components/azure/dataset-events-consumer \
    components/existing/dataset-events-consumer; do
    # The consumers import the contract's dataset_change_event.py by name (their ConfigMap ships it beside them).
    (cd "$dir" && MYPYPATH="$OLDPWD/contract" bash "$OLDPWD/tools/python-env.sh" run mypy --config-file \
        "$OLDPWD/pyproject.toml" "${mypy_args[@]}" .) || status=1
done
exit "$status"
