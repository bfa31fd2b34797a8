#!/usr/bin/env bash
# Runs Debian's shellcheck over every shell script the repository tracks: tools/, .ci/run, the Task step scripts.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t scripts < <(git ls-files '*.sh' .ci/run 2>/dev/null || find . -name '*.sh' -not -path './node_modules/*')
shellcheck --external-sources "${scripts[@]}"
