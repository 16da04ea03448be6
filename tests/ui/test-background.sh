#!/usr/bin/env bash
# `porthole --background` as the autostart entry runs it: on a private X server and session bus, with
# python3-dbusmock's notification daemon. It opens no window, owns its bus name, keeps running,
# answers a second `porthole --background` by staying the only instance, records its checks in the
# history, notifies when reachability changes (replayed checks: unreachable, then reachable), and
# ends on app.quit.
set -uo pipefail

exe=${PORTHOLE_EXE:?}
src=${PORTHOLE_SRCDIR:-}

for tool in xvfb-run dbus-run-session xwininfo gdbus gsettings; do
    if ! command -v "$tool" >/dev/null; then
        echo "1..0 # SKIP $tool is not installed"
        exit 0
    fi
done
if ! /usr/bin/python3 -c 'import dbusmock' 2>/dev/null; then
    echo "1..0 # SKIP python3-dbusmock is not installed"
    exit 0
fi

inner() {
    local n=0 failed=0 work
    work=$(mktemp -d)
    ok() { n=$((n + 1)); echo "ok $n $*"; }
    not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n $*"; }
    check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }

    # keyfile: `gsettings set` below reaches the running instance through the file
    export HOME="$work/home" XDG_CONFIG_HOME= XDG_STATE_HOME= GSETTINGS_BACKEND=keyfile
    # no GL on Xvfb (Mesa's software GL also leaks under LeakSanitizer)
    export GSK_RENDERER=cairo GDK_DEBUG=gl-disable GNOTIFICATION_BACKEND=freedesktop PORTHOLE_TEST_CHECK_INTERVAL_S=3
    mkdir -p "$HOME"
    local recorded="${PORTHOLE_UI_RECORDED:-$src/tests/ui/recorded}"
    local args=(--no-upnp --peer "/ip4/127.0.0.1/tcp/9/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA")
    local replaying=
    # Replayed checks (core's PORTHOLE_TEST_REPLAY, when this binary knows it): reachable (the
    # first of a session: no pop-up), then unreachable over both families, then reachable again.
    if [ -f "$recorded/reachable/check-1.json" ] && [ -f "$recorded/manual/check-1.json" ] \
        && grep -q PORTHOLE_TEST_REPLAY "$exe"; then
        mkdir -p "$work/replay"
        cp "$recorded/reachable/check-1.json" "$work/replay/check-1.json"
        cp "$recorded/reachable/check-1.json" "$work/replay/check-3.json"
        /usr/bin/python3 - "$recorded/manual/check-1.json" "$work/replay/check-2.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
# behind NAT and no IPv6 that works: unreachable both ways
r["ipv6"]["verdict"] = "unreachable"
r["ipv6"].setdefault("causes", [])
if "ipv6-unavailable" not in r["ipv6"]["causes"]:
    r["ipv6"]["causes"].append("ipv6-unavailable")
r["verdict"] = "unreachable"
json.dump(r, open(sys.argv[2], "w"))
PY
        export PORTHOLE_TEST_REPLAY="$work/replay"
        replaying=1
    fi

    /usr/bin/python3 -m dbusmock --template notification_daemon >"$work/mock.log" 2>&1 &
    local mock=$!
    for _ in $(seq 1 100); do
        gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
            --method org.freedesktop.DBus.NameHasOwner org.freedesktop.Notifications 2>/dev/null \
            | grep -q true && break
        sleep 0.1
    done

    "$exe" --background "${args[@]}" >"$work/out" 2>"$work/err" &
    local pid=$!
    local owner=
    for _ in $(seq 1 100); do
        if gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
            --method org.freedesktop.DBus.NameHasOwner io.github.porthole.Porthole 2>/dev/null | grep -q true; then
            owner=1
            break
        fi
        sleep 0.1
    done
    check "it owns io.github.porthole.Porthole on the session bus" [ -n "$owner" ]
    sleep 2
    check "it keeps running" kill -0 "$pid"
    check "it opens no window" bash -c '! xwininfo -root -tree | grep -q "\"Porthole\""'

    # the autostart entry again, e.g. a second login item: it hands over and ends at once
    local start=$SECONDS
    timeout 10 "$exe" --background "${args[@]}" >/dev/null 2>&1
    local status=$? took=$((SECONDS - start))
    check "a second porthole --background ends at once (status $status, ${took}s)" [ "$status" -eq 0 -a "$took" -le 5 ]
    check "the first one still runs" kill -0 "$pid"
    check "still no window" bash -c '! xwininfo -root -tree | grep -q "\"Porthole\""'

    local history="$HOME/.local/state/porthole/history.json"
    for _ in $(seq 1 300); do [ -s "$history" ] && break; sleep 0.1; done
    check "its checks go to the history ($history)" [ -s "$history" ]

    calls() {
        gdbus call --session --dest org.freedesktop.Notifications --object-path /org/freedesktop/Notifications \
            --method org.freedesktop.DBus.Mock.GetCalls 2>/dev/null
    }
    summaries() { calls | grep -o "'Your IPFS node is[^']*'" | tr -d "'"; }
    if [ -n "$replaying" ]; then
        for _ in $(seq 1 300); do
            [ "$(summaries | wc -l)" -ge 2 ] && break
            sleep 0.1
        done
        summaries | sed 's/^/# notified: /'
        check "a first check that finds it reachable stays quiet; losing it is notified" \
            [ "$(summaries | sed -n 1p)" = "Your IPFS node is not reachable" ]
        check "reachable again is notified" [ "$(summaries | sed -n 2p)" = "Your IPFS node is reachable" ]
        check "its default action is there (app.show-fix, through the daemon's \"default\")" \
            bash -c "$(declare -f calls); calls | grep -q \"'default'\""
    else
        echo "# no recorded checks in $recorded, or no replay in this binary: notification checks skipped"
        ok "# SKIP notifications need tests/ui/recorded/manual"
    fi

    # the preference "Run in the background at login": the XDG autostart entry comes and goes
    local entry="$HOME/.config/autostart/io.github.porthole.Porthole.desktop" made= gone_entry=
    gsettings set io.github.porthole.Porthole autostart true
    for _ in $(seq 1 100); do [ -s "$entry" ] && { made=1; break; }; sleep 0.1; done
    check "autostart on writes $entry" [ -n "$made" ]
    check "whose Exec is porthole --background" grep -qx "Exec=porthole --background" "$entry"
    gsettings set io.github.porthole.Porthole autostart false
    for _ in $(seq 1 100); do [ -e "$entry" ] || { gone_entry=1; break; }; sleep 0.1; done
    check "autostart off removes it" [ -n "$gone_entry" ]

    # the tray's "Check Now" and the app's, over org.gtk.Actions
    check "app.check-now is there" bash -c "gdbus call --session --dest io.github.porthole.Porthole \
        --object-path /io/github/porthole/Porthole --method org.gtk.Actions.Activate check-now '[]' '{}' >/dev/null"
    sleep 1
    check "and it survives it" kill -0 "$pid"

    gdbus call --session --dest io.github.porthole.Porthole --object-path /io/github/porthole/Porthole \
        --method org.gtk.Actions.Activate quit '[]' '{}' >/dev/null 2>&1
    local gone=
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || { gone=1; break; }; sleep 0.1; done
    wait "$pid" 2>/dev/null
    status=$?
    check "app.quit ends it (status $status)" [ -n "$gone" -a "$status" -eq 0 ]
    if [ "$failed" -gt 0 ] || [ "$status" -ne 0 ]; then
        sed 's/^/# stderr: /' "$work/err" | tail -30
    fi
    kill "$mock" 2>/dev/null
    wait "$mock" 2>/dev/null
    rm -rf "$work"
    echo "1..$n"
    [ "$failed" -eq 0 ]
}

if [ "${1:-}" = --inner ]; then
    inner
    exit
fi
export exe src
xvfb-run -a -s "-screen 0 800x600x24" dbus-run-session -- "$0" --inner 2>/dev/null
