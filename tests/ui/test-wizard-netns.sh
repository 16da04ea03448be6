#!/usr/bin/env bash
# The wizard's upnp and manual roads against the real NAT topology (tests/netns/topology.sh): the
# window runs in the "home" namespace, on its own X server and session bus, and a live check asks
# the AutoNAT servers on the topology's "internet". upnp: Debian's miniupnpd on the router, Apply
# maps the port, the confirmation sees it reachable. manual: the test plays the person and adds
# the forward on the router (topology.sh case forward) before "I've done it". Root only; skips
# with its reason elsewhere. Nothing leaves the machine (topology.sh asserts it).
set -u

here=$(cd "$(dirname "$0")" && pwd)
netns="$here/../netns"
topo="$netns/topology.sh"
wizard=${1:?usage: test-wizard-netns.sh TEST-WIZARD}
work=$(mktemp -d)
name="ph-ui-h7-$$"
n=0 failed=0

skip_all() { echo "1..0 # SKIP $*"; rm -rf "$work"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip_all "needs root for network namespaces"
ip netns list >/dev/null 2>&1 || skip_all "ip netns is not available"
for tool in nft xvfb-run dbus-run-session; do
    command -v "$tool" >/dev/null || skip_all "$tool is not installed"
done
[ -x /usr/sbin/miniupnpd ] || skip_all "miniupnpd is not installed"

miniupnpd_pid=
cleanup() {
    [ -n "$miniupnpd_pid" ] && kill "$miniupnpd_pid" 2>/dev/null
    PH_QUIET=1 "$topo" down --name "$name" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

# Debian's miniupnpd on the router, as tests/netns/test-probe.sh starts it
start_upnp() {
    sed "s#@RUNDIR@#$work#" "$netns/router-miniupnpd.conf.in" >"$work/miniupnpd.conf"
    PH_QUIET=1 "$topo" exec --name "$name" router nft -f "$netns/router-upnp.nft" || return 1
    PH_QUIET=1 "$topo" exec --name "$name" router /usr/sbin/miniupnpd -f "$work/miniupnpd.conf" \
        -d -P "$work/miniupnpd.pid" >"$work/miniupnpd.log" 2>&1 &
    miniupnpd_pid=$!
    for _ in $(seq 1 150); do
        grep -q "HTTP listening" "$work/miniupnpd.log" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# road NAME: the wizard's /wizard/NAME, live, from the home namespace
road() {
    local road=$1
    n=$((n + 1))
    if PH_QUIET=1 taskset -c "$window_cpu" "$topo" exec --name "$name" home env PORTHOLE_UI_LIVE=1 \
        PORTHOLE_UI_DISPATCH_CLOCK="$dispatch_clock" \
        PORTHOLE_UI_PEERS="$PH_SERVERS" PORTHOLE_UI_PORT=4001 \
        PORTHOLE_UI_DO_FORWARD="$topo case --name $name forward 4001" \
        "$here/run-ui.sh" "$wizard" --tap -p "/wizard/$road" >"$work/$road.log" 2>&1; then
        echo "ok $n the $road road, live on the NAT topology"
    else
        echo "not ok $n the $road road, live on the NAT topology"
        failed=1
    fi
    grep -E "^# (click|screenshot|the router|.*longest dispatch|.*most main-thread CPU|a dispatch took|  of which)|Bail out|ERROR|CRITICAL" \
        "$work/$road.log" | sed 's/^#* */# /' | head -40
}

echo "1..2"
if ! env_text=$(PH_QUIET=1 "$topo" up --name "$name" --servers 3 2>"$work/up.log"); then
    echo "not ok 1 the topology came up"
    sed 's/^/# /' "$work/up.log"
    echo "not ok 2 # SKIP no topology"
    exit 1
fi
eval "$env_text"
# The servers (and the router's daemons) stand for machines elsewhere on the internet; here they
# would share the cores with the window whose dispatch times the road asserts. Each side gets a
# core of its own where there are two or more (and the servers yield the CPU in any case).
# With one core the window cannot have its own; then what is asserted is the main thread's own CPU
# time per dispatch (which cannot catch a blocking wait), and the wall time is printed beside it.
cpus=()
for part in $(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status | tr ',' ' '); do
    for c in $(seq "${part%-*}" "${part#*-}"); do cpus+=("$c"); done
done
ncpu=${#cpus[@]}
window_cpu=${cpus[0]:-0} others_cpu=${cpus[$((ncpu > 0 ? ncpu - 1 : 0))]:-0}
dispatch_clock=wall
[ "$ncpu" -gt 1 ] || dispatch_clock=cpu
pin_others() {
    local ns pid
    for ns in $(ip netns list | awk '{print $1}' | grep -E "^$name-(s[0-9]+|router)$"); do
        for pid in $(ip netns pids "$ns"); do
            renice -n 19 -p "$pid" >/dev/null 2>&1 || true
            [ "$ncpu" -gt 1 ] && taskset -a -p -c "$others_cpu" "$pid" >/dev/null 2>&1
        done
    done
    return 0
}
# both families closed from outside: the wizard has something to fix
PH_QUIET=1 "$topo" case --name "$name" nat ipv6-firewalled >/dev/null

if start_upnp; then
    pin_others
    road upnp
else
    n=$((n + 1))
    echo "not ok $n miniupnpd started on the router"
    sed 's/^/# /' "$work/miniupnpd.log" | tail -20
    failed=1
fi
kill "$miniupnpd_pid" 2>/dev/null
wait "$miniupnpd_pid" 2>/dev/null
miniupnpd_pid=
# a fresh topology with no UPnP: the mapping made above would answer for the manual road
PH_QUIET=1 "$topo" down --name "$name" >/dev/null 2>&1
if ! env_text=$(PH_QUIET=1 "$topo" up --name "$name" --servers 3 2>"$work/up.log"); then
    echo "not ok 2 the topology came up again"
    sed 's/^/# /' "$work/up.log"
    exit 1
fi
eval "$env_text"
PH_QUIET=1 "$topo" case --name "$name" nat ipv6-firewalled >/dev/null
pin_others
road manual
exit $failed
