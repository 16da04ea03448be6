#!/bin/bash
# Proves the NAT topology of topology.sh with the js-libp2p test peer as the
# client (no Porthole code): from the home namespace a js node listening on
# 0.0.0.0:PORT and [::]:PORT asks every server for AutoNAT v2 (and v1)
# dial-backs, case by case, in the three variants (nat, double-nat, cgnat).
# Four topologies run side by side: nat twice (plain NAT; the router's cases),
# double-nat and cgnat.
#
#   tests/netns/selftest.sh        root; exit 0 all passed, 1 a mismatch,
#                                  77 skipped (not root / no ip netns / no nft)
#
# One line per check with its duration, then "selftest: N passed, M failed".
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
T="$here/topology.sh"
PEER="$root/tests/interop/peer.mjs"
PY=/usr/bin/python3          # optional: the raw-socket checks are skipped without it
SECTION_TIMEOUT=120          # seconds, per variant

skip() { echo "selftest: SKIP: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
command -v ip >/dev/null && ip netns list >/dev/null 2>&1 || skip "ip netns is unavailable (iproute2)"
command -v nft >/dev/null || skip "nft is unavailable (nftables)"

NODE=$("$root/build-aux/install-test-node.sh" | tail -n 1) || { echo "selftest: cannot install the test node" >&2; exit 1; }
export PH_NODE=$NODE
work=$(mktemp -d /tmp/porthole-netns-selftest.XXXXXX)
base="phst$$"
names=("$base-a" "$base-b" "$base-c" "$base-d")
section_pids=()

cleanup() {
    local p n
    for p in "${section_pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${section_pids[@]}"; do wait "$p" 2>/dev/null; done
    for n in "${names[@]}"; do PH_QUIET=1 "$T" down --name "$n" >/dev/null 2>&1 & done
    wait
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT; trap 'exit 143' TERM

now() { echo "${EPOCHREALTIME/[.,]/}"; }                 # microseconds
since() { local d=$(( $(now) - $1 )); printf '%d.%01ds' $((d / 1000000)) $((d / 100000 % 10)); }

# In a section (a subshell with its own log) these print the check lines.
ok()  { echo "ok   [$SEC] $* ($(since "$t_check"))"; }
bad() { echo "FAIL [$SEC] $* ($(since "$t_check"))"; }
start() { t_check=$(now); }

# json FILE EXPR: evaluate EXPR over the JSON lines of FILE (`all`, first `r`).
json() {
    "$NODE" -e '
        const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean)
            .map(l => { try { return JSON.parse(l) } catch { return {} } })
        const r = lines[0] ?? {}, all = lines
        const v = eval(process.argv[2])
        console.log(typeof v === "string" ? v : JSON.stringify(v ?? null))
    ' "$1" "$2"
}

show() { grep -E '"(error|autonat-v1|autonat-v2)"' "$1" | head -n 8 | sed 's/^/       /'; }

# dialer OUT ARGS...: run a dial-mode js peer in the home namespace to completion.
dialer() {
    local out=$1; shift
    timeout 45 "$T" --name "$TOPO" exec home "$NODE" "$PEER" "$@" >"$out" 2>"$out.err" </dev/null
}

observed_of() {     # OUT SERVER_ID -> observedAddr of the first identify from that server
    json "$1" "all.find(l => l.event === 'identify' && l.peer === '$2')?.observedAddr ?? ''"
}

topo_up() {         # NAME VARIANT: bring a topology up and load its variables
    TOPO=$1
    if ! "$T" up --name "$1" --variant "$2" >"$work/$1.env" 2>"$work/$1.up.log"; then
        echo "FAIL [$SEC] topology.sh up --variant $2:"; sed 's/^/       /' "$work/$1.up.log"
        return 1
    fi
    eval "$(cat "$work/$1.env")"
}

set_case() { PH_QUIET=1 "$T" --name "$TOPO" case "$@" || echo "FAIL [$SEC] topology.sh case $*"; }

# held_port_check LABEL SERVER_INDEX EXPECT_PUBLIC_IP: hold a connection from
# home to a server; the port the server sees must be home's own local port
# (masquerade keeps it when free) and equal identify's observedAddr.
held_port_check() {
    local label=$1 i=$2 pub=$3 pid id ip4 lport obs seen
    local out="$work/$TOPO-held$i"
    start
    id=$(eval echo "\$PH_SERVER${i}_ID"); ip4=$(eval echo "\$PH_SERVER${i}_IP4")
    timeout 45 "$T" --name "$TOPO" exec home "$NODE" "$PEER" --listen /ip4/0.0.0.0/tcp/4001 \
        --dial "$(eval echo "\$PH_SERVER${i}_ADDR4")" --pings 1 --hold --no-monitor >"$out" 2>"$out.err" </dev/null &
    pid=$!
    for _ in $(seq 1 150); do grep -q '"event":"done"' "$out" 2>/dev/null && break; sleep 0.1; done
    lport=$("$T" --name "$TOPO" exec home ss -Htn state established dst "$ip4" dport = :4001 | awk '{print $3}' | sed 's/.*://' | head -n 1)
    seen=$("$T" --name "$TOPO" exec "s$i" ss -Htn state established sport = :4001 | awk '{print $4}' | grep -F "$pub:$lport" | head -n 1)
    obs=$(observed_of "$out" "$id")
    kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    if [ -n "$lport" ] && [ "$seen" = "$pub:$lport" ] && [ "$obs" = "/ip4/$pub/tcp/$lport/p2p/$(json "$out" r.peerId)" ] && [ "$lport" != 4001 ]; then
        ok "$label: server $i sees $seen = home's local port, identify observedAddr agrees ($obs)"
    else
        bad "$label: local port '$lport', server sees '$seen', observedAddr '$obs' (want $pub:<local port>)"
    fi
}

# same_port_check LABEL MODE: three raw TCP connections from one local port
# (SO_REUSEADDR) to the three servers; MODE same = every server sees
# PUBLIC:40999 (endpoint-independent, port-preserving), distinct = three
# different ports (symmetric).
same_port_check() {
    local label=$1 mode=$2 i ports="" p
    start
    if [ ! -x "$PY" ]; then echo "skip [$SEC] $label: no $PY"; return; fi
    coproc SP { "$T" --name "$TOPO" exec home "$PY" -c '
import socket, sys
socks = []
for t in sys.argv[1:]:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.settimeout(5); s.bind(("0.0.0.0", 40999)); s.connect((t, 4001)); socks.append(s)
print("connected", flush=True)
sys.stdin.read()
' "$PH_SERVER1_IP4" "$PH_SERVER2_IP4" "$PH_SERVER3_IP4" 2>&1; }
    local line=""
    read -r -t 10 line <&"${SP[0]}"
    for i in 1 2 3; do
        p=$("$T" --name "$TOPO" exec "s$i" ss -Htn state established sport = :4001 \
            | awk '{print $4}' | grep -F "$PH_PUBLIC4:" | grep -vF "$PH_PUBLIC4:4001" | sed 's/.*://' | sort -n | tr '\n' ',')
        ports+="${p%,} "
    done
    # shellcheck disable=SC1083,SC2093
    exec {SP[1]}>&-
    wait "$SP_PID" 2>/dev/null
    ports=${ports% }
    if [ "$line" != connected ]; then bad "$label: raw connections failed: $line"; return; fi
    case $mode in
        same) [ "$ports" = "40999 40999 40999" ] && ok "$label: one local port -> $PH_PUBLIC4:40999 at every server (port kept, same mapping for all)" \
                  || bad "$label: servers saw ports '$ports', want 40999 at each" ;;
        distinct) set -- $ports
                  if [ $# -eq 3 ] && [ "$1" != "$2" ] && [ "$2" != "$3" ] && [ "$1" != "$3" ] && [[ " $ports " != *" 40999 "* ]]; then
                      ok "$label: one local port -> ports $ports at the three servers (symmetric)"
                  else bad "$label: servers saw ports '$ports', want three different ones"; fi ;;
    esac
}

# ---------------------------------------------------------------------------
# Variant nat: the router is the only NAT.

section_nat() {
    SEC=nat
    topo_up "${names[0]}" nat || return
    local i id a4 a6 out obs db
    for i in 1 2 3; do
        start
        id=$(eval echo "\$PH_SERVER${i}_ID"); a4=$(eval echo "\$PH_SERVER${i}_ADDR4")
        out="$work/nat-v4-$i"
        dialer "$out" --listen /ip4/0.0.0.0/tcp/4001 --listen /ip6/::/tcp/4001 --dial "$a4" --pings 1 \
            --probe-v1 "/ip4/$PH_HOME4/tcp/4001" --expect-v1 E_DIAL_REFUSED \
            --probe-v1 "/ip4/$PH_PUBLIC4/tcp/4001" --expect-v1 NO_RESPONSE \
            --probe-v2 "/ip4/$PH_PUBLIC4/tcp/4001" --expect-v2 E_DIAL_ERROR \
            --probe-v2 "/ip4/$PH_HOME4/tcp/4001" --expect-v2 NO_RESPONSE \
            --probe-v2 observed --expect-v2 E_DIAL_ERROR
        local rc=$?
        obs=$(observed_of "$out" "$id")
        if [ $rc -eq 0 ] && [[ "$obs" == "/ip4/$PH_PUBLIC4/tcp/"* ]] && [[ "$obs" != "/ip4/$PH_PUBLIC4/tcp/4001/"* ]]; then
            ok "server $i IPv4: v2 $PH_PUBLIC4:4001 E_DIAL_ERROR, v2 LAN address no answer, v1 LAN E_DIAL_REFUSED, v1 public NO_RESPONSE (js); observed ${obs%%/p2p/*}"
        else
            bad "server $i IPv4: rc=$rc observed=$obs"; show "$out"
        fi
    done
    for i in 1 2 3; do
        start
        id=$(eval echo "\$PH_SERVER${i}_ID"); a6=$(eval echo "\$PH_SERVER${i}_ADDR6")
        out="$work/nat-v6-$i"
        dialer "$out" --listen /ip4/0.0.0.0/tcp/4001 --listen /ip6/::/tcp/4001 --dial "$a6" --pings 1 \
            --probe-v2 "/ip6/$PH_HOME6/tcp/4001" --expect-v2 OK
        local rc=$?
        obs=$(observed_of "$out" "$id")
        if [ $rc -eq 0 ] && [[ "$obs" == "/ip6/$PH_HOME6/tcp/"* ]]; then
            ok "server $i IPv6 (ipv6-open): v2 [$PH_HOME6]:4001 OK with nonce; observed ${obs%%/p2p/*} (no NAT)"
        else
            bad "server $i IPv6: rc=$rc observed=$obs"; show "$out"
        fi
    done
    held_port_check "observed port" 1 "$PH_PUBLIC4"
    same_port_check "mapping" same
    set_case symmetric
    same_port_check "symmetric" distinct
    set_case port-preserving

    start
    if "$T" up --name "$TOPO" >/dev/null 2>&1; then bad "a second up with the same name succeeded"
    elif "$T" --name "$TOPO" check 2>/dev/null; then ok "a second up with the same name fails and leaves the topology intact"
    else bad "a second up with the same name damaged the topology"; fi
}

# Variant nat again, in a second topology: the router's cases.
section_cases() {
    SEC=nat-cases
    topo_up "${names[3]}" nat || return
    local i a4 out db rc
    set_case forward 4001
    for i in 1 2 3; do
        start
        a4=$(eval echo "\$PH_SERVER${i}_ADDR4")
        out="$work/fwd-v4-$i"
        dialer "$out" --listen /ip4/0.0.0.0/tcp/4001 --listen /ip6/::/tcp/4001 --dial "$a4" --pings 1 \
            --probe-v2 "/ip4/$PH_PUBLIC4/tcp/4001" --expect-v2 OK \
            --probe-v2 observed --expect-v2 E_DIAL_ERROR
        rc=$?
        db=$(json "$out" "all.find(l => l.event === 'dial-back' && l.known)?.remoteAddr ?? ''")
        if [ $rc -eq 0 ] && [[ "$db" == "/ip4/$(eval echo "\$PH_SERVER${i}_IP4")/tcp/"* ]]; then
            ok "forward 4001: server $i v2 $PH_PUBLIC4:4001 OK with nonce (dial-back from ${db%%/p2p/*}); observed (ephemeral) port E_DIAL_ERROR"
        else
            bad "forward 4001: server $i rc=$rc dial-back=$db"; show "$out"
        fi
    done
    start
    if [ -x "$PY" ]; then
        local got
        got=$(udp_forward_check)
        [ "$got" = "hello from $PH_SERVER1_IP4" ] && ok "forward 4001: UDP to $PH_PUBLIC4:4001 reaches home ($got)" \
            || bad "forward 4001: UDP datagram not forwarded ($got)"
    else
        echo "skip [$SEC] UDP forward: no $PY"
    fi

    # The two cases that drop run side by side: each dial-back waits out js's 6 s.
    set_case ipv6-firewalled wan-drop
    start
    local pids=() rcs="" t_drop rc_drop
    for i in 1 2 3; do
        dialer "$work/fw-v6-$i" --listen "/ip6/::/tcp/400$i" --dial "$(eval echo "\$PH_SERVER${i}_ADDR6")" --pings 1 \
            --probe-v2 "/ip6/$PH_HOME6/tcp/400$i" --expect-v2 E_DIAL_ERROR &
        pids+=($!)
    done
    ( t=$(now); dialer "$work/wandrop" --listen /ip4/0.0.0.0/tcp/4004 --dial "$PH_SERVER1_ADDR4" --pings 1 \
            --probe-v2 "/ip4/$PH_PUBLIC4/tcp/4009" --expect-v2 E_DIAL_ERROR; r=$?; since "$t" >"$work/wandrop.time"; exit $r ) &
    local drop_pid=$!
    for i in 1 2 3; do wait "${pids[i - 1]}"; rcs+="$? "; done
    wait "$drop_pid"; rc_drop=$?
    t_drop=$(cat "$work/wandrop.time" 2>/dev/null)
    if [ "$rcs" = "0 0 0 " ]; then
        ok "ipv6-firewalled: v2 [$PH_HOME6]:4001-4003 E_DIAL_ERROR at all three servers (dropped; js gives up after 6 s), outbound still fine"
    else
        bad "ipv6-firewalled: exit codes $rcs"; for i in 1 2 3; do show "$work/fw-v6-$i"; done
    fi
    if [ $rc_drop -eq 0 ] && [ "${t_drop%%.*}" -ge 4 ] 2>/dev/null && [ "$(json "$work/wandrop" "all.some(l => l.event === 'autonat-v2' && l.outcome === 'E_DIAL_ERROR')")" = true ]; then
        ok "wan-drop: v2 $PH_PUBLIC4:4009 (not forwarded) E_DIAL_ERROR only after the server's dial timed out ($t_drop for the whole run)"
    else
        bad "wan-drop: rc=$rc_drop, run took '$t_drop', want >= 4 s and E_DIAL_ERROR"; show "$work/wandrop"
    fi
    set_case ipv6-open wan-reject
    start
    dialer "$work/open-v6" --listen /ip6/::/tcp/4001 --dial "$PH_SERVER2_ADDR6" --pings 1 \
        --probe-v2 "/ip6/$PH_HOME6/tcp/4001" --expect-v2 OK \
        && ok "ipv6-open again: v2 OK" || { bad "ipv6-open again"; show "$work/open-v6"; }

    set_case no-servers
    start
    dialer "$work/nosrv" --listen /ip4/0.0.0.0/tcp/4001 --dial "$PH_SERVER1_ADDR4" --pings 1 --timeout 3000
    rc=$?
    [ $rc -ne 0 ] && [ "$(json "$work/nosrv" "all.some(l => l.event === 'error' && l.stage === 'dial')")" = true ] \
        && ok "no-servers: the dial to server 1 times out (dropped at the router)" \
        || { bad "no-servers: rc=$rc"; show "$work/nosrv"; }
    set_case servers-stopped
    start
    dialer "$work/stopped" --listen /ip4/0.0.0.0/tcp/4001 --dial "$PH_SERVER2_ADDR6" --pings 1 --timeout 10000
    rc=$?
    [ $rc -ne 0 ] && grep -q 'ECONNREFUSED' "$work/stopped" \
        && ok "servers-stopped: the dial to server 2 is refused at once" \
        || { bad "servers-stopped: rc=$rc"; show "$work/stopped"; }
    set_case servers
    start
    dialer "$work/back" --listen /ip4/0.0.0.0/tcp/4001 --dial "$PH_SERVER3_ADDR4" --pings 1 \
        --probe-v2 "/ip4/$PH_PUBLIC4/tcp/4001" --expect-v2 OK \
        && ok "servers again (forward 4001 still on): v2 OK" || { bad "servers again"; show "$work/back"; }
}

udp_forward_check() {
    "$T" --name "$TOPO" exec home "$PY" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 4001)); s.settimeout(4)
print("ready", flush=True)
try:
    d, a = s.recvfrom(100); print(d.decode(), "from", a[0])
except Exception as e:
    print("nothing:", e)
' >"$work/udp.out" 2>&1 &
    local pid=$! _
    for _ in $(seq 1 50); do grep -q ready "$work/udp.out" && break; sleep 0.1; done
    "$T" --name "$TOPO" exec s1 "$PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(3): s.sendto(b"hello", (sys.argv[1], 4001)); time.sleep(0.1)
' "$PH_PUBLIC4" 2>&1
    wait "$pid"
    tail -n 1 "$work/udp.out"
}

# ---------------------------------------------------------------------------
# Variants double-nat and cgnat: a second masquerade at the ISP.

section_double() {
    local variant=$1 name=$2
    SEC=$variant
    topo_up "$name" "$variant" || return
    local i id a4 out obs
    for i in 1 2 3; do
        start
        id=$(eval echo "\$PH_SERVER${i}_ID"); a4=$(eval echo "\$PH_SERVER${i}_ADDR4")
        out="$work/$variant-v4-$i"
        dialer "$out" --listen /ip4/0.0.0.0/tcp/4001 --listen /ip6/::/tcp/4001 --dial "$a4" --pings 1 \
            --probe-v1 "/ip4/$PH_ROUTER_WAN4/tcp/4001" --expect-v1 E_DIAL_REFUSED \
            --probe-v2 "/ip4/$PH_ROUTER_WAN4/tcp/4001" --expect-v2 NO_RESPONSE \
            --probe-v2 "/ip4/$PH_PUBLIC4/tcp/4001" --expect-v2 E_DIAL_ERROR
        local rc=$?
        obs=$(observed_of "$out" "$id")
        if [ $rc -eq 0 ] && [[ "$obs" == "/ip4/$PH_PUBLIC4/tcp/"* ]] && [ "$PH_PUBLIC4" != "$PH_ROUTER_WAN4" ]; then
            ok "server $i: observed ${obs%%/p2p/*} != router WAN $PH_ROUTER_WAN4; v2/v1 on the router WAN refused (private); v2 $PH_PUBLIC4:4001 E_DIAL_ERROR"
        else
            bad "server $i: rc=$rc observed=$obs router-wan=$PH_ROUTER_WAN4"; show "$out"
        fi
    done
    held_port_check "observed port through two NATs" 2 "$PH_PUBLIC4"
    same_port_check "mapping through two NATs" same

    set_case forward 4001
    start
    dialer "$work/$variant-fwd" --listen /ip4/0.0.0.0/tcp/4001 --dial "$PH_SERVER1_ADDR4" --pings 1 \
        --probe-v2 "/ip4/$PH_PUBLIC4/tcp/4001" --expect-v2 E_DIAL_ERROR \
        && ok "forward 4001 at the router only: still E_DIAL_ERROR (the ISP NAT forwards nothing)" \
        || { bad "forward 4001 at the router only"; show "$work/$variant-fwd"; }
    set_case isp-forward 4001
    for i in 1 2 3; do
        start
        dialer "$work/$variant-ispfwd-$i" --listen /ip4/0.0.0.0/tcp/4001 --dial "$(eval echo "\$PH_SERVER${i}_ADDR4")" --pings 1 \
            --probe-v2 "/ip4/$PH_PUBLIC4/tcp/4001" --expect-v2 OK \
            && ok "forward 4001 at router and ISP: server $i v2 OK with nonce" \
            || { bad "forward 4001 at router and ISP: server $i"; show "$work/$variant-ispfwd-$i"; }
    done
    start
    dialer "$work/$variant-v6" --listen /ip6/::/tcp/4001 --dial "$PH_SERVER3_ADDR6" --pings 1 \
        --probe-v2 "/ip6/$PH_HOME6/tcp/4001" --expect-v2 OK
    local rc=$?
    obs=$(observed_of "$work/$variant-v6" "$PH_SERVER3_ID")
    [ $rc -eq 0 ] && [[ "$obs" == "/ip6/$PH_HOME6/tcp/"* ]] \
        && ok "IPv6 routed through the ISP without NAT: v2 OK, observed ${obs%%/p2p/*}" \
        || { bad "IPv6: rc=$rc observed=$obs"; show "$work/$variant-v6"; }
}

# ---------------------------------------------------------------------------

t0=$(now)
( section_nat ) >"$work/sec-a.log" 2>&1 & section_pids+=($!)
( section_cases ) >"$work/sec-a2.log" 2>&1 & section_pids+=($!)
( section_double double-nat "${names[1]}" ) >"$work/sec-b.log" 2>&1 & section_pids+=($!)
( section_double cgnat "${names[2]}" ) >"$work/sec-c.log" 2>&1 & section_pids+=($!)

deadline=$((SECONDS + SECTION_TIMEOUT))
for p in "${section_pids[@]}"; do
    while kill -0 "$p" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    if kill -0 "$p" 2>/dev/null; then
        echo "FAIL a section did not finish within ${SECTION_TIMEOUT}s" >>"$work/sec-timeout.log"
        kill -TERM "$p" 2>/dev/null
    fi
    wait "$p" 2>/dev/null
done
section_pids=()
cat "$work"/sec-*.log

# down removes everything: namespaces, processes, run directories.
t_check=$(now); SEC=down
spids=$(cat /tmp/porthole-netns-"$base"-*/server-*.pid 2>/dev/null | xargs)
for n in "${names[@]}"; do PH_QUIET=1 "$T" down --name "$n" >/dev/null 2>"$work/down-$n.log" & done
wait
left=$(ip netns list | awk '{print $1}' | grep -E "^$base-" | xargs)
procs=$(for n in "${names[@]}"; do ls -d "/tmp/porthole-netns-$n" 2>/dev/null; done
        for p in $spids; do [ -e "/proc/$p" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$p/status" 2>/dev/null && echo "pid $p"; done)
if [ -z "$left" ] && [ -z "$procs" ] && [ -n "$spids" ]; then
    ok "down removed the namespaces, server processes and run directories of all four"
else
    bad "after down: namespaces '$left' leftovers '$procs'"
fi | tee "$work/down.log"

passed=$(cat "$work"/sec-*.log "$work/down.log" | grep -c '^ok ')
failed=$(cat "$work"/sec-*.log "$work/down.log" | grep -c '^FAIL')
echo "selftest: $passed passed, $failed failed, $(since "$t0")"
[ "$failed" -eq 0 ]
