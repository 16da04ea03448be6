#!/usr/bin/env bash
# Runs one ui test program on a private X server and D-Bus session, with a fresh HOME and XDG
# directories, in memory settings and the cairo renderer with GL off (Xvfb has no GPU; Mesa's
# software GL would only cost time and leave allocations behind).
# Without xvfb-run or dbus-run-session the test is skipped (TAP), with the reason.
set -euo pipefail

if [ "${1:-}" = --inner ]; then
    shift
    tmp=$(mktemp -d)
    export HOME=$tmp/home XDG_CONFIG_HOME=$tmp/config XDG_DATA_HOME=$tmp/data \
        XDG_STATE_HOME=$tmp/state XDG_CACHE_HOME=$tmp/cache XDG_RUNTIME_DIR=$tmp/run
    mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_STATE_HOME" "$XDG_CACHE_HOME"
    mkdir -m 700 "$XDG_RUNTIME_DIR"
    status=0
    "$@" || status=$?
    rm -rf "$tmp"
    exit $status
fi

for tool in xvfb-run dbus-run-session; do
    if ! command -v "$tool" >/dev/null; then
        echo "1..0 # SKIP $tool is not installed"
        exit 0
    fi
done

# under meson test --setup=sanitize: the project's leak suppressions and the ui tests' own in one
# file (LeakSanitizer reads one)
if [[ "${LSAN_OPTIONS:-}" == *suppressions=* ]]; then
    supp=$(mktemp)
    trap 'rm -f "$supp"' EXIT
    cat "${LSAN_OPTIONS##*suppressions=}" "$(dirname "$0")/lsan-ui.supp" >"$supp" 2>/dev/null
    export LSAN_OPTIONS="${LSAN_OPTIONS%%suppressions=*}suppressions=$supp"
fi

export GSK_RENDERER=cairo GDK_BACKEND=x11 GDK_DEBUG=gl-disable GSETTINGS_BACKEND=memory
export NO_AT_BRIDGE=1 GTK_A11Y=none
# -a takes the first free display from -n on: a random start keeps tests run in parallel (and
# other people's) from racing for the same one
xvfb-run -a -n $((100 + RANDOM % 800)) -s "-screen 0 1280x1024x24 -nolisten tcp" \
    dbus-run-session -- "$0" --inner "$@"
