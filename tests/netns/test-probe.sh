#!/usr/bin/env bash
# The probe against a real NAT: porthole --check --json runs in the "home" namespace behind a
# router (nftables masquerade, routed IPv6, switchable firewall) and asks js-libp2p AutoNAT servers
# on an "internet" of public-looking addresses. Nothing leaves the machine: topology.sh asserts
# that no namespace has a route or link to the host's network. Needs root; skips elsewhere.
set -u

here=$(cd "$(dirname "$0")" && pwd)
topo="$here/topology.sh"
exe=${PORTHOLE_EXE:?}
hostile=${PORTHOLE_HOSTILE_SERVER:-}
upnp_map=${PORTHOLE_UPNP_MAP:-}
py=/usr/bin/python3
work=$(mktemp -d)
name="ph-probe-$$"
n=0 failed=0

skip_all() { echo "1..0 # SKIP $*"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip_all "needs root for network namespaces"
ip netns list >/dev/null 2>&1 || skip_all "ip netns is not available"
command -v nft >/dev/null || skip_all "nftables (nft) is not installed"

cleanup() {
    [ -n "${hostile_pid:-}" ] && kill "$hostile_pid" 2>/dev/null
    for p in "${upnp_pids[@]}"; do kill "$p" 2>/dev/null; done
    for t in "${extra_topologies[@]}"; do PH_QUIET=1 "$topo" down --name "$t" >/dev/null 2>&1; done
    PH_QUIET=1 "$topo" down --name "$name" >/dev/null 2>&1
    rm -rf "$work"
}
upnp_pids=()
extra_topologies=()
trap cleanup EXIT

# Progress on stderr: meson shows a failed or timed-out test's stderr, not its TAP lines.
say() { echo "test-probe: $*" >&2; }

# stacks PID: every thread's stack of a process that overstayed, on stderr (gdb when there is one,
# else the kernel's view of where each thread sleeps)
stacks() {
    local pid=$1 t
    say "stacks of $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) (pid $pid):"
    if command -v gdb >/dev/null; then
        timeout 60 gdb -p "$pid" -batch -nx -ex 'set pagination off' -ex 'thread apply all bt' 2>&1 \
            | grep -E '^(Thread|#)' | cut -c1-240 | sed 's/^/  /' >&2
    else
        for t in /proc/"$pid"/task/*; do
            echo "  thread ${t##*/} $(cat "$t/comm" 2>/dev/null): $(cat "$t/wchan" 2>/dev/null)" >&2
            sed 's/^/    /' "$t/stack" 2>/dev/null >&2
        done
    fi
}

# bounded LIMIT CMD...: CMD, but never for more than LIMIT seconds: past that its stacks go to
# stderr and it is killed (status 124). A hang then fails its own step, with where it hung,
# instead of using up the suite's timeout.
bounded() {
    local limit=$1 pid end
    shift
    "$@" &
    pid=$!
    end=$((SECONDS + limit))
    while kill -0 "$pid" 2>/dev/null; do
        if [ $SECONDS -ge $end ]; then
            say "still running after ${limit}s: $*"
            stacks "$pid"
            kill -9 "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
            return 124
        fi
        sleep 0.1
    done
    wait "$pid"
}

# start_upnp TOPOLOGY: Debian's real miniupnpd on that topology's router
start_upnp() {
    local t=$1 dir="$work/upnp-$1"
    mkdir -p "$dir"
    sed "s#@RUNDIR@#$dir#" "$here/router-miniupnpd.conf.in" >"$dir/miniupnpd.conf"
    PH_QUIET=1 "$topo" exec --name "$t" router nft -f "$here/router-upnp.nft" || return 1
    PH_QUIET=1 "$topo" exec --name "$t" router /usr/sbin/miniupnpd -f "$dir/miniupnpd.conf" -d -P "$dir/miniupnpd.pid" \
        >"$dir/miniupnpd.log" 2>&1 &
    upnp_pids+=($!)
    for _ in $(seq 1 150); do grep -q "HTTP listening" "$dir/miniupnpd.log" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}

if ! env_text=$(PH_QUIET=1 "$topo" up --name "$name" --servers 5 2>"$work/up.log"); then
    echo "1..1"
    echo "not ok 1 the topology came up"
    sed 's/^/# /' "$work/up.log"
    exit 1
fi
eval "$env_text"

peers=()
for s in $PH_SERVERS; do peers+=(--peer "$s"); done

# stop_owner: the node holding port 4001 gets SIGTERM (it stops itself within 5 s), then SIGKILL
stop_owner() {
    kill "$owner_pid" 2>/dev/null
    for _ in $(seq 1 100); do
        grep -qs '^State:[[:space:]]*[^Z]' "/proc/$owner_pid/status" || break
        sleep 0.1
    done
    kill -9 "$owner_pid" 2>/dev/null
    wait "$owner_pid" 2>/dev/null
}

# check NAME [extra porthole args]: one check from home, its JSON in $work/NAME.json
check() {
    local label=$1; shift
    local start=$SECONDS
    say "check $label"
    # the check's own deadline is 20 s (or less); 60 s is far past any correct run
    bounded 60 env PH_QUIET=1 "$topo" exec --name "${topology:-$name}" home env HOME="$work" \
        GSETTINGS_BACKEND=memory IPFS_PATH="${IPFS_PATH:-$work/no-repo}" \
        "$exe" --check --json --port 4001 --timeout 20 "$@" >"$work/$label.json" 2>"$work/$label.err"
    echo $? >"$work/$label.status"
    echo $((SECONDS - start)) >"$work/$label.seconds"
}

# expect LABEL DESCRIPTION PYTHON-EXPRESSION (r is the report; v4/v6 its families)
expect() {
    local label=$1 what=$2 expr=$3
    n=$((n + 1))
    if "$py" - "$work/$label.json" "$expr" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
v4, v6 = r["ipv4"], r["ipv6"]
results = [p["result"] for p in r["probes"]]
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
    then
        echo "ok $n $label: $what"
    else
        echo "not ok $n $label: $what"
        failed=$((failed + 1))
        sed 's/^/#   /' "$work/$label.json" | head -80
        sed 's/^/#   stderr: /' "$work/$label.err" | head -20
    fi
}

expect_status() {
    local label=$1 want=$2
    n=$((n + 1))
    if [ "$(cat "$work/$label.status")" = "$want" ]; then
        echo "ok $n $label: exit status $want"
    else
        echo "not ok $n $label: exit status $(cat "$work/$label.status"), wanted $want"
        failed=$((failed + 1))
    fi
}

within() {
    local label=$1 limit=$2
    n=$((n + 1))
    if [ "$(cat "$work/$label.seconds")" -le "$limit" ]; then
        echo "ok $n $label: finished within ${limit}s (the check's deadline holds)"
    else
        echo "not ok $n $label: took $(cat "$work/$label.seconds")s"
        failed=$((failed + 1))
    fi
}


# 1. Behind NAT, nothing forwarded.
check nat "${peers[@]}"
expect nat "ipv4 unreachable" 'v4["verdict"] == "unreachable"'
expect nat "cause behind-nat" '"behind-nat" in v4["causes"]'
expect nat "three independent servers agree" 'v4["confident"] and results.count("unreachable") >= 3'
expect_status nat 0   # IPv6 is open in the default case, so the overall verdict is reachable

# 3a. Routed IPv6, no firewall.
expect nat "ipv6 reachable with our nonce" 'v6["verdict"] == "reachable" and v6["addresses"]'

# 2. A DNAT port forward on the router.
PH_QUIET=1 "$topo" case --name "$name" forward 4001 ipv6-firewalled >/dev/null
check forward "${peers[@]}"
expect forward "ipv4 reachable" 'v4["verdict"] == "reachable"'
expect forward "reachable at the router's WAN address" \
    "any('/ip4/$PH_ROUTER_WAN4/tcp/4001' == a for a in v4['addresses'])"

# 3b. IPv6 behind a stateful firewall.
expect forward "ipv6 unreachable" 'v6["verdict"] == "unreachable"'
expect forward "cause ipv6-firewalled" '"ipv6-firewalled" in v6["causes"]'

# 7. No server reachable.
PH_QUIET=1 "$topo" case --name "$name" nat no-servers >/dev/null
check none --timeout 8 "${peers[@]}"
expect none "ipv4 unknown" 'v4["verdict"] == "unknown"'
expect none "cause no-servers" '"no-servers" in v4["causes"] and "no-servers" in v6["causes"]'
expect_status none 3
within none 12
PH_QUIET=1 "$topo" case --name "$name" servers ipv6-open >/dev/null

# 5a. The port held by another libp2p node whose key we cannot read.
PH_QUIET=1 "$topo" exec --name "$name" home "$PH_NODE" "$PH_PEER" --no-stdin \
    --listen /ip4/0.0.0.0/tcp/4001 --listen /ip6/::/tcp/4001 >"$work/owner.out" 2>&1 &
owner_pid=$!
for _ in $(seq 1 100); do grep -q '"ready"' "$work/owner.out" 2>/dev/null && break; sleep 0.1; done
check owned "${peers[@]}"
stop_owner
expect owned "port-in-use, no false verdict" \
    'v4["verdict"] == "unknown" and "port-in-use" in v4["causes"] and v6["verdict"] == "unknown"'
expect owned "no server was asked under our identity" 'r["probes"] == []'
expect owned "the owner is named" '"node" in r.get("port_owner", "") and "pid" in r["port_owner"]'

# 5b. The same node, with a kubo-style repository whose config holds its key: Porthole probes as
# the node (the key stays in memory), and the node itself answers the dial-backs.
repo="$work/ipfs"
mkdir -p "$repo"
PH_QUIET=1 "$topo" case --name "$name" forward 4001 >/dev/null
PH_QUIET=1 "$topo" exec --name "$name" home "$PH_NODE" "$PH_PEER" --no-stdin --save-key "$work/owner.key" \
    --listen /ip4/0.0.0.0/tcp/4001 --listen /ip6/::/tcp/4001 >"$work/owner2.out" 2>&1 &
owner_pid=$!
for _ in $(seq 1 100); do grep -q '"ready"' "$work/owner2.out" 2>/dev/null && break; sleep 0.1; done
owner_id=$("$py" -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["peerId"])' "$work/owner2.out")
"$py" - "$work/owner.key" "$owner_id" "$repo/config" <<'PY'
import base64, json, sys
key = base64.b64encode(open(sys.argv[1], "rb").read()).decode()
config = {"Identity": {"PeerID": sys.argv[2], "PrivKey": key},
          "Addresses": {"Swarm": ["/ip4/0.0.0.0/tcp/4001", "/ip6/::/tcp/4001"],
                        "API": "/ip4/127.0.0.1/tcp/5001", "Gateway": "/ip4/127.0.0.1/tcp/8080"}}
json.dump(config, open(sys.argv[3], "w"))
PY
chmod 600 "$repo/config"
IPFS_PATH="$repo" check as-owner "${peers[@]}"
stop_owner
PH_QUIET=1 "$topo" case --name "$name" nat >/dev/null
expect as-owner "probed as the node that owns the port" "r['peer_id'] == '$owner_id'"
expect as-owner "its real reachability: ipv4 reachable through the forward" 'v4["verdict"] == "reachable"'
expect as-owner "and over IPv6" 'v6["verdict"] == "reachable"'
expect as-owner "the node object names the repository's peer" "r['node']['peer_id'] == '$owner_id'"

# 6. Servers that stall, close mid-message, answer garbage, or claim OK without dialing back.
if [ -x "$hostile" ]; then
    hostile_peers=()
    i=0
    for mode in stall close garbage lie oversize; do
        i=$((i + 1))
        ip_var="PH_SERVER${i}_IP4"
        # each on its own server host: five groups, five voices
        PH_QUIET=1 "$topo" exec --name "$name" "s$i" "$hostile" "$mode" \
            "/ip4/${!ip_var}/tcp/5000" >"$work/hostile-$mode.out" 2>&1 &
        for _ in $(seq 1 50); do [ -s "$work/hostile-$mode.out" ] && break; sleep 0.1; done
        hostile_peers+=(--peer "$(head -n 1 "$work/hostile-$mode.out")")
    done
    check hostile --timeout 10 "${hostile_peers[@]}"
    pkill -f "$hostile" 2>/dev/null
    expect hostile "no crash: a report came out" 'True'
    expect hostile "not fooled: nothing reachable over IPv4" 'v4["verdict"] != "reachable"'
    expect hostile "the liar's claim is unproven" '"unproven" in results'
    expect_status hostile 3
    within hostile 14
    expect hostile "every hostile server was asked" 'len(r["probes"]) == 5'
else
    for i in 1 2 3 4 5 6; do n=$((n + 1)); echo "ok $n # SKIP hostile-server was not built"; done
fi

# 4. UPnP on the router: a mapping made with Porthole's own code, confirmed by the probe; then a
# second NAT in front of the router, and a carrier-grade one (100.64/10 on the router's WAN).
if [ ! -x "$upnp_map" ] || [ ! -x /usr/sbin/miniupnpd ]; then
    for i in $(seq 1 9); do n=$((n + 1)); echo "ok $n # SKIP miniupnpd or upnp-map is missing"; done
elif ! start_upnp "$name"; then
    n=$((n + 1)); failed=$((failed + 1))
    echo "not ok $n miniupnpd started on the router"
    sed 's/^/# /' "$work/upnp-$name/miniupnpd.log" | tail -20
else
    say "upnp-map"
    bounded 60 env PH_QUIET=1 "$topo" exec --name "$name" home env XDG_STATE_HOME="$work/state" \
        "$upnp_map" 4001 >"$work/upnp-map.out" 2>&1
    check upnp-mapped "${peers[@]}"
    expect upnp-mapped "the router answered over UPnP" 'r["upnp"]["found"] and r["upnp"]["external_address"] == "7.0.0.2"'
    expect upnp-mapped "our mapping is there" 'r["upnp"]["our_mapping"] is not None'
    expect upnp-mapped "the mapped port is reachable, confirmed by the probe" 'v4["verdict"] == "reachable"'

    for variant in double-nat cgnat; do
        t="ph$$${variant:0:1}"
        if env_v=$(PH_QUIET=1 "$topo" up --name "$t" --variant "$variant" --servers 3 2>"$work/up-$variant.log") \
            && start_upnp "$t"; then
            extra_topologies+=("$t")
            vpeers=()
            for s in $(eval "$env_v"; echo "$PH_SERVERS"); do vpeers+=(--peer "$s"); done
            topology="$t" check "$variant" "${vpeers[@]}"
            expect "$variant" "ipv4 unreachable" 'v4["verdict"] == "unreachable"'
            expect "$variant" "cause $variant" "'$variant' in v4['causes']"
            expect "$variant" "the router past ours is on the path" 'len(v4["path"]) >= 2 and v4["path"][1]'
        else
            extra_topologies+=("$t")
            for i in 1 2 3; do n=$((n + 1)); echo "not ok $n $variant: the topology and its UPnP router came up"; failed=$((failed + 1)); done
            sed 's/^/# /' "$work/up-$variant.log"
            sed 's/^/# miniupnpd: /' "$work/upnp-$t/miniupnpd.log" 2>/dev/null | tail -20
        fi
    done
fi

n=$((n + 1))
if PH_QUIET=1 "$topo" check --name "$name" >/dev/null 2>&1; then
    echo "ok $n no namespace leads to the host's network"
else
    echo "not ok $n no namespace leads to the host's network"; failed=$((failed + 1))
fi
echo "1..$n"
[ "$failed" -eq 0 ]
