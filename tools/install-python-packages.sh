#!/usr/bin/env bash
# Creates .venv/ (Debian's python3, with its system packages visible) and installs the pinned Kubernetes client the
# API-facing pipeline steps use (pipelines/lib/requirements-kube.txt), so their tests run against the very client
# the cluster runs. Does nothing when .venv already holds exactly those pins. Used by the README's first command
# and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

req=pipelines/lib/requirements-kube.txt
stamp=.venv/.requirements-kube.sha256
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ -x .venv/bin/python ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    exit 0
fi
/usr/bin/python3 -m venv --system-site-packages .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -r "$req"
echo "$want" > "$stamp"
