#!/usr/bin/env bash
# The window really opens: start the porthole binary on a private X server and session bus, wait for
# its top-level window, take a screenshot, and check that it shows something.
set -euo pipefail

exe=${PORTHOLE_EXE:?}
artifacts=${PORTHOLE_ARTIFACTS:-$PWD}
mkdir -p "$artifacts"
shot="$artifacts/window-launch.png"

for tool in xvfb-run dbus-run-session xwininfo import; do
    if ! command -v "$tool" >/dev/null; then
        echo "1..0 # SKIP $tool is not installed"
        exit 0
    fi
done

inner() {
    set -euo pipefail
    # Only loopback: a fresh HOME so no real kubo repo or settings are read.
    export HOME=$(mktemp -d) XDG_CONFIG_HOME= XDG_STATE_HOME= GSETTINGS_BACKEND=memory
    # cairo: a GL frame is not visible to a root-window grab on Xvfb
    export GSK_RENDERER=cairo
    # From the main build, start it the way the README says: build-aux/dev run.
    # --peer replaces the default servers: the check asks only a server on loopback (none
    # listens there, so it is quick), never the real network; --no-upnp keeps SSDP off the LAN.
    local args=(--no-upnp --peer "/ip4/127.0.0.1/tcp/9/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA")
    local cmd=("$exe" "${args[@]}")
    if [ "$exe" = "${PORTHOLE_SRCDIR:-}/build/src/porthole" ]; then
        cmd=("$PORTHOLE_SRCDIR/build-aux/dev" run "${args[@]}")
    fi
    echo "launching: ${cmd[*]}" >&2
    "${cmd[@]}" &
    local pid=$! found=
    for _ in $(seq 1 100); do
        if xwininfo -root -tree 2>/dev/null | grep -q '"Porthole"'; then found=1; break; fi
        sleep 0.1
    done
    sleep 1 # let the first frame draw
    xwininfo -root -tree | grep '"Porthole"' >&2 || true
    import -window root "$shot"
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    [ -n "$found" ]
}
if [ "${1:-}" = --inner ]; then
    inner
    exit
fi
export exe shot PORTHOLE_SRCDIR

echo "1..2"
if xvfb-run -a -s "-screen 0 1024x768x24" dbus-run-session -- "$0" --inner >&2; then
    echo "ok 1 window titled Porthole appeared"
else
    echo "not ok 1 window titled Porthole appeared"
    exit 1
fi
# A blank screen has one colour; a drawn window has many.
colours=$(identify -format '%k' "$shot")
if [ "$colours" -gt 16 ]; then
    echo "ok 2 screenshot $shot has $colours colours"
else
    echo "not ok 2 screenshot $shot has only $colours colours"
    exit 1
fi
