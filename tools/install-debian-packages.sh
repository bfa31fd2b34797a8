#!/usr/bin/env bash
# Installs the Debian packages the tests call, and nothing when they are already there. Only what Debian is really
# needed for: Python's own packages come from PyPI at the cluster's pins (tools/python-env.sh). Used by
# tools/install.sh (the README's first command, .ci/run), so the list lives in one place.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

DEBIAN_PACKAGES=(
    python3 python3-venv  # the interpreter of the Python test environment (tools/python-env.sh; packages from PyPI)
    prometheus  # promtool (rules checks and unit tests, TSDB backfill) and the server the report and expression tests start
    shellcheck  # npm run lint: the shell scripts
    chromium  # the real browser the study report's HTML page is opened in (test/study-report.spec.ts)
    openssl curl util-linux prometheus-pushgateway  # tools/cluster: certificates, probes, unshare for the step runner, the promote step's Pushgateway
    prometheus-alertmanager  # npm run study:local: routes the rendered alerts to the retrain receiver
    git  # npm run study:local: the fetch-source step clones the study's local model repository
    busybox  # the step usage wrapper's test runs it with busybox's applets alone, as in the Alpine step images
    iptables  # npm run test:cluster: the NAT instance's boot script masquerades with it (nat-instance.spec.ts)
    iproute2 procps  # npm run test:cluster: the NAT spec's network namespaces (ip) and the boot script's ip and sysctl
)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install as root: apt-get install -y ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
fi
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
