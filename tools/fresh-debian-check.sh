#!/usr/bin/env bash
# The README's two newcomer commands on a fresh Debian 12, as root and then as a user who is not root. A run on this
# machine can pass on what a fresh one lacks (pyenv's `python`, a pip in python3) or on being root, so this builds a
# minbase root file system with debootstrap and gives it only what the machines start with: Node.js and npm (the
# machine's own), Go (mounted read-only), git, CA certificates and the machine's npm and pip settings. A clone of the
# checkout's HEAD then runs the commands of the README's first sh block as root; a second clone with caches of its
# own does the same as the user `newcomer` (the Debian packages are there by then, so it needs no sudo).
# `.ci/run` runs it last, about 6 minutes (docs/ci.md).
#
#   Usage: bash tools/fresh-debian-check.sh [--keep] [--tiers]    (root; debootstrap is installed when missing)
#
# --keep leaves the root file system and its mounts in place for a look inside. Logs: a folder printed at the start.
# --tiers also runs, as root after the README's commands, every `npm run` line of HEAD's .ci/run (the real tiers), as
# the pull request's tiers job does in its container; the machine's Go build and module caches are mounted, so Go
# links what it compiled before (about 40 minutes; not part of .ci/run).
# DEBIAN_MIRROR: the Debian archive debootstrap reads (default http://deb.debian.org/debian).
# Exit codes: 0 both passed, 1 a command failed, 2 bad arguments or not root.
set -euo pipefail
cd "$(dirname "$0")/.."

keep=no
tiers=no
for arg in "$@"; do
    case "$arg" in
    --keep) keep=yes ;;
    --tiers) tiers=yes ;;
    -h | --help)
        # This header: the comment lines after the shebang.
        sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"
        exit 0
        ;;
    *)
        echo "fresh-debian-check: unknown argument $arg (allowed: --keep, --tiers)" >&2
        exit 2
        ;;
    esac
done
if [ "$(id -u)" -ne 0 ]; then
    echo "fresh-debian-check: needs root (debootstrap, chroot and mounts)" >&2
    exit 2
fi

# Its input's lines as one command line, each run after the one before has passed.
and_then() { awk 'NR > 1 { printf " && " } { printf "%s", $0 }'; }

# The README's newcomer commands as HEAD shows them (its first sh block, comments dropped), one after the other.
# awk reads to the end, so that git never writes into a closed pipe.
readme_commands=$(git show HEAD:README.md | awk '/^```sh$/ && !seen { block = seen = 1; next } /^```/ { block = 0 } block' |
    sed -E 's/[[:space:]]*#.*$//; /^[[:space:]]*$/d' | and_then)
if [ -z "$readme_commands" ]; then
    echo "fresh-debian-check: README.md has no sh block of commands" >&2
    exit 1
fi
echo "fresh-debian-check: $readme_commands"
if [ "$tiers" = yes ]; then
    # The real tiers as .ci/run runs them: its `npm run` lines, in order.
    tier_commands=$(git show HEAD:.ci/run | awk '/^npm run /' | and_then)
    if [ -z "$tier_commands" ]; then
        echo "fresh-debian-check: .ci/run has no npm run line" >&2
        exit 1
    fi
    echo "fresh-debian-check: then, as root: $tier_commands"
fi

mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
root=$(mktemp -d /tmp/fresh-debian.XXXXXX)
chmod 755 "$root" # mktemp makes it 0700: the user could not reach / in the chroot
logs=$(mktemp -d /tmp/fresh-debian-logs.XXXXXX)
echo "fresh-debian-check: root file system $root, logs $logs"

cleanup() {
    [ "$keep" = yes ] && return
    # Every mount lies under the root file system's own bind mount, so one recursive unmount takes them all; nothing is
    # deleted while any is left (the host's /dev is one of them).
    umount -R -l "$root" 2>/dev/null || true
    if findmnt -rn -o TARGET | grep -q "^$root"; then
        echo "fresh-debian-check: mounts left under $root; not deleting it" >&2
    else
        rm -rf --one-file-system "$root"
    fi
}
trap cleanup EXIT

# Runs a phase, its output in its log; on failure prints the log's end.
phase() {
    local name=$1 started=$SECONDS
    shift
    if "$@" >"$logs/$name.log" 2>&1; then
        echo "  $name: ok in $((SECONDS - started)) s"
    else
        echo "  $name: FAILED after $((SECONDS - started)) s; the end of $logs/$name.log:"
        tail -30 "$logs/$name.log"
        exit 1
    fi
}

if ! command -v debootstrap >/dev/null; then
    phase install-debootstrap bash -c 'apt-get update -q && apt-get install -y -q debootstrap'
fi
phase debootstrap debootstrap --variant=minbase bookworm "$root" "$mirror"

# The machine's starting point. Node.js and npm as they are installed here; Go where it is, read-only.
node_bin=$(readlink -f "$(command -v node)")
npm_dir=$(readlink -f "$(dirname "$(readlink -f "$(command -v npm)")")/..")
cp "$node_bin" "$root/usr/bin/node"
mkdir -p "$root/usr/lib/node_modules"
cp -a "$npm_dir" "$root/usr/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/bin/npx"
cp /etc/resolv.conf /etc/hosts "$root/etc/"
# The machine's own CA certificates (a proxy's, say), and its npm and pip settings.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    mkdir -p "$root/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
fi
[ -f /etc/pip.conf ] && cp /etc/pip.conf "$root/etc/pip.conf"
npmrc="${HOME:-/root}/.npmrc"

mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount --bind /sys "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
# As in a container: a small /dev/shm that anyone may write (Chromium keeps its shared memory there).
mount -t tmpfs -o size=64m,mode=1777 shm "$root/dev/shm"
path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
if command -v go >/dev/null; then
    goroot=$(go env GOROOT)
    mkdir -p "$root$goroot"
    mount --bind "$goroot" "$root$goroot"
    mount -o remount,bind,ro "$root$goroot"
    path="$goroot/bin:$path"
fi

# A clean environment, as a login on the fresh machine has it, with the trust store the certificates above join.
bundle=/etc/ssl/certs/ca-certificates.crt
in_root() {
    chroot "$root" env -i HOME=/root PATH="$path" LANG=C.UTF-8 TERM=dumb NODE_EXTRA_CA_CERTS=$bundle \
        PIP_CERT=$bundle SSL_CERT_FILE=$bundle ${GOPROXY:+GOPROXY=$GOPROXY} ${GOFLAGS:+GOFLAGS=$GOFLAGS} "$@"
}
as_newcomer() {
    in_root runuser -u newcomer -- env HOME=/home/newcomer "$@"
}

# Clones HEAD into a home in the root file system and runs the README's commands there, as that home's user through
# the runner given (in_root or as_newcomer).
readme_commands_as() {
    local user=$1 home=$2
    shift 2
    git clone -q --no-local . "$root$home/mlops-testbed"
    if [ -f "$npmrc" ]; then cp "$npmrc" "$root$home/.npmrc"; fi
    in_root chown -R "$user:$user" "$home"
    phase "$user-readme-commands" "$@" timeout 1800 \
        bash -c "cd ~/mlops-testbed && git log --oneline -1 && $readme_commands"
    grep -E '^npm test: ' "$logs/$user-readme-commands.log" | sed "s/^/    $user: /"
}

phase apt in_root bash -c 'apt-get update -q && apt-get install -y -q git ca-certificates && update-ca-certificates'
readme_commands_as root /root in_root
if [ "$tiers" = yes ]; then
    # What Go compiled before, so that the tiers' builds link rather than compile: at root's default places in the
    # chroot, mounted after the clone's chown so that it does not walk them.
    if command -v go >/dev/null; then
        for pair in "$(go env GOCACHE):/root/.cache/go-build" "$(go env GOMODCACHE):/root/go/pkg/mod"; do
            mkdir -p "${pair%%:*}" "$root${pair#*:}"
            mount --bind "${pair%%:*}" "$root${pair#*:}"
        done
    fi
    phase root-tiers in_root timeout 5400 bash -c "cd ~/mlops-testbed && $tier_commands"
    grep -E '^ +[0-9]+ (passing|failing|pending)' "$logs/root-tiers.log" | sed 's/^ */    root tiers: /' || true
fi
in_root useradd -m -s /bin/bash newcomer
readme_commands_as newcomer /home/newcomer as_newcomer
echo "fresh-debian-check: the README's commands passed on a fresh Debian 12, as root and as a user"
if [ "$tiers" = yes ]; then echo "fresh-debian-check: and, as root, every npm run line of .ci/run"; fi
