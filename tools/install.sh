#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian machine, and little when it is already there: the Debian
# packages (tools/install-debian-packages.sh), Node.js 22 when the machine's node is older (the npm registry's
# `node` package, kept in the cache outside the repository), the npm packages (npm ci, run under Node 22 so the
# engines of @pulumi/pulumi and kubernetes-models hold), and the Python virtual environment the tests use
# (tools/python-env.sh). The README's first command and .ci/run start here.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/install-debian-packages.sh

# Node 22: package.json pins it as the devDependency `node`, which every `npm run` script runs on; npm ci itself must
# run on it too, or npm warns that the machine's Node does not meet the packages' engines.
node_version=$(node -p 'require("./package.json").devDependencies.node')
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 22 ]; then
    cache="${MLOPS_TESTBED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mlops-testbed}/node-$node_version"
    if ! "$cache/node_modules/.bin/node" --version >/dev/null 2>&1; then
        mkdir -p "$cache"
        echo '{ "private": true, "allowScripts": { "node": true } }' >"$cache/package.json"
        npm install --prefix "$cache" --no-audit --no-fund --no-package-lock --loglevel=error "node@$node_version"
    fi
    export PATH="$cache/node_modules/.bin:$PATH"
fi

# The registry sometimes drops an idle connection mid-install; a retry is cheap next to a failed run.
for attempt in 1 2 3; do
    npm ci --no-audit --no-fund --fetch-retries=4 && break
    [ "$attempt" -eq 3 ] && exit 1
    echo "npm ci failed (attempt $attempt); retrying" >&2
done

bash tools/python-env.sh
