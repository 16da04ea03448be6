#!/bin/bash
# Self-check of the js-libp2p test peers: js talks to js over loopback only.
#
#   tests/interop/selftest.sh           loopback checks (any user)
#   tests/interop/selftest.sh --netns   also the AutoNAT dial-back checks in two
#                                       network namespaces (root; see README)
#
# Prints one line per check and a final "selftest: N passed, M failed";
# exits non-zero when any check failed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
want_netns=0
[ "${1:-}" = "--netns" ] && want_netns=1

NODE=$("$root/build-aux/install-test-node.sh" | tail -n 1) || { echo "selftest: cannot install the test node" >&2; exit 1; }
PEER="$here/peer.mjs"
work=$(mktemp -d /tmp/porthole-interop.XXXXXX)
pids=()
netns=()
passed=0
failed=0

cleanup() {
    local p n
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    for n in "${netns[@]}"; do ip netns del "$n" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT

ok()   { passed=$((passed + 1)); echo "ok   $*"; }
bad()  { failed=$((failed + 1)); echo "FAIL $*"; }

# json FILE EXPR: evaluate EXPR on the first JSON line of FILE (as `r`) and on
# all lines (as `all`), print the result.
json() {
    "$NODE" -e '
        const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map(l => JSON.parse(l))
        const r = lines[0], all = lines
        const v = eval(process.argv[2])
        console.log(typeof v === "string" ? v : JSON.stringify(v))
    ' "$1" "$2"
}

# start_peer NAME [NETNS] -- ARGS...: start a listening peer in the background,
# wait for its ready line. Sets $peer_out to its stdout file.
start_peer() {
    local name=$1; shift
    local ns=""
    if [ "$1" != "--" ]; then ns=$1; shift; fi
    shift # --
    peer_out="$work/$name.out"
    if [ -n "$ns" ]; then
        ip netns exec "$ns" "$NODE" "$PEER" "$@" >"$peer_out" 2>"$work/$name.err" </dev/null &
    else
        "$NODE" "$PEER" "$@" >"$peer_out" 2>"$work/$name.err" </dev/null &
    fi
    pids+=($!)
    local i
    for i in $(seq 1 200); do
        [ -s "$peer_out" ] && head -n 1 "$peer_out" | grep -q '"ready"' && return 0
        kill -0 "$!" 2>/dev/null || break
        sleep 0.1
    done
    echo "peer $name did not start:" >&2
    cat "$work/$name.err" >&2
    return 1
}

# stop_peer: SIGTERM the last started peer and check that it exits 0.
stop_peer() {
    local pid=${pids[-1]}
    kill -TERM "$pid" 2>/dev/null
    wait "$pid"
    local rc=$?
    unset 'pids[-1]'
    return $rc
}

# run_dialer NAME [NETNS] -- ARGS...: run a dial-mode peer to completion.
run_dialer() {
    local name=$1; shift
    local ns=""
    if [ "$1" != "--" ]; then ns=$1; shift; fi
    shift
    dial_out="$work/$name.out"
    if [ -n "$ns" ]; then
        timeout 90 ip netns exec "$ns" "$NODE" "$PEER" "$@" >"$dial_out" 2>"$work/$name.err" </dev/null
    else
        timeout 90 "$NODE" "$PEER" "$@" >"$dial_out" 2>"$work/$name.err" </dev/null
    fi
}

show_errors() {
    grep '"error"' "$1" | head -n 5 | sed 's/^/       /'
}

# ---------------------------------------------------------------------------
# Ping + echo between two peers, for each address family and key-type pair.

pair_check() {
    local label=$1 listen=$2 lkey=$3 dkey=$4
    local streams=8 pings=3
    if ! start_peer "L-$label" -- --echo --key "$lkey" --listen "$listen"; then
        bad "$label: listener did not start"; return
    fi
    local L=$peer_out
    local addr
    addr=$(json "$L" 'r.addrs[0]')
    run_dialer "D-$label" -- --key "$dkey" --listen "$listen" --dial "$addr" \
        --pings $pings --streams $streams --echo-bytes 300000
    local rc=$?
    local D=$dial_out
    local npings necho done ident served lident
    npings=$(json "$D" 'all.filter(l => l.event === "ping").length')
    necho=$(json "$D" 'all.filter(l => l.event === "echo").length')
    done=$(json "$D" 'all.some(l => l.event === "done" && l.ok === true)')
    ident=$(json "$D" 'all.some(l => l.event === "identify" && l.protocols.includes("/porthole/echo/1.0.0"))')
    sleep 0.3
    served=$(json "$L" 'all.filter(l => l.event === "echo-served" && l.bytes === 300000).length')
    lident=$(json "$L" 'all.some(l => l.event === "identify")')
    if stop_peer; then lrc=0; else lrc=$?; fi
    if [ $rc -eq 0 ] && [ "$npings" = $pings ] && [ "$necho" = $streams ] && [ "$done" = true ] \
        && [ "$ident" = true ] && [ "$served" = $streams ] && [ "$lident" = true ] && [ $lrc -eq 0 ]; then
        ok "$label: $dkey -> $lkey, $pings pings, $streams x 300000-byte echo streams, identify both ways"
    else
        bad "$label: rc=$rc pings=$npings echo=$necho done=$done identify=$ident/$lident served=$served listener-rc=$lrc"
        show_errors "$D"
    fi
}

pair_check "ipv4-ed25519"   /ip4/127.0.0.1/tcp/0 ed25519   ed25519
pair_check "ipv6-ed25519"   /ip6/::1/tcp/0       ed25519   ed25519
pair_check "ipv4-rsa"       /ip4/127.0.0.1/tcp/0 rsa       secp256k1
pair_check "ipv6-secp256k1" /ip6/::1/tcp/0       secp256k1 rsa
pair_check "ipv6-rsa"       /ip6/::1/tcp/0       rsa       rsa

# ---------------------------------------------------------------------------
# A dial that cannot succeed must exit non-zero with a "done" line.

run_dialer "D-refused" -- --no-listen --dial /ip4/127.0.0.1/tcp/9/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA --timeout 5000
rc=$?
if [ $rc -ne 0 ] && [ "$(json "$dial_out" 'all.some(l => l.event === "done" && l.ok === false)')" = true ]; then
    ok "dial to a closed port fails with exit $rc"
else
    bad "dial to a closed port: rc=$rc"
fi

# ---------------------------------------------------------------------------
# Stdin EOF stops a peer when stdin is a pipe.

fifo="$work/stdin.fifo"
mkfifo "$fifo"
"$NODE" "$PEER" <"$fifo" >"$work/stdin.out" 2>"$work/stdin.err" &
stdin_pid=$!
pids+=($stdin_pid)
exec 9>"$fifo"      # open the writer end; the peer sees EOF when we close it
for i in $(seq 1 200); do grep -q '"ready"' "$work/stdin.out" 2>/dev/null && break; sleep 0.1; done
exec 9>&-
stdin_rc=124
for i in $(seq 1 100); do
    if ! kill -0 "$stdin_pid" 2>/dev/null; then wait "$stdin_pid"; stdin_rc=$?; break; fi
    sleep 0.1
done
unset 'pids[-1]'
if [ $stdin_rc -eq 0 ] && grep -q '"stdin-eof"' "$work/stdin.out"; then
    ok "stdin EOF stops a listening peer cleanly"
else
    bad "stdin EOF: rc=$stdin_rc"
    kill "$stdin_pid" 2>/dev/null
fi

# ---------------------------------------------------------------------------
# AutoNAT servers on loopback: both refuse private addresses (see README).

if start_peer "L-autonat" -- --autonat-v1 --autonat-v2; then
    addr=$(json "$peer_out" 'r.addrs[0]')
    protos=$(json "$peer_out" 'r.protocols.join(" ")')
    run_dialer "D-autonat" -- --dial "$addr" --pings 1 \
        --probe-v2 /ip4/127.0.0.1/tcp/4001 --expect-v2 NO_RESPONSE \
        --probe-v1 /ip4/127.0.0.1/tcp/4001 --expect-v1 E_DIAL_REFUSED
    rc=$?
    stop_peer
    case "$protos" in
        *"/libp2p/autonat/1.0.0"*"/libp2p/autonat/2/dial-request"*) p_ok=1 ;;
        *) p_ok=0 ;;
    esac
    if [ $rc -eq 0 ] && [ $p_ok -eq 1 ]; then
        ok "loopback AutoNAT: v1 answers E_DIAL_REFUSED, v2 closes the stream without a DialResponse"
    else
        bad "loopback AutoNAT: rc=$rc protocols=$protos"
        show_errors "$dial_out"
    fi
else
    bad "loopback AutoNAT: server did not start"
fi

# ---------------------------------------------------------------------------
# Optional: AutoNAT dial-backs between two network namespaces with
# public-looking addresses (the namespaces have no link to any other network).

if [ $want_netns -eq 1 ]; then
    if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null; then
        bad "netns: needs root and iproute2"
    else
        s="phs$$"; c="phc$$"
        netns+=("$s" "$c")
        if ip netns add "$s" && ip netns add "$c" \
            && ip link add "v$$a" netns "$s" type veth peer name "v$$b" netns "$c" \
            && ip -n "$s" addr add 7.0.0.1/24 dev "v$$a" \
            && ip -n "$c" addr add 7.0.0.2/24 dev "v$$b" \
            && ip -n "$c" addr add 7.0.0.3/24 dev "v$$b" \
            && ip -n "$s" addr add 2a00:1::1/64 dev "v$$a" nodad \
            && ip -n "$c" addr add 2a00:1::2/64 dev "v$$b" nodad \
            && ip -n "$s" link set lo up && ip -n "$c" link set lo up \
            && ip -n "$s" link set "v$$a" up && ip -n "$c" link set "v$$b" up; then
            if start_peer "N-server" "$s" -- --autonat-v1 --autonat-v2 \
                    --listen /ip4/7.0.0.1/tcp/4001 --listen /ip6/2a00:1::1/tcp/4001; then
                srv4=$(json "$peer_out" 'r.addrs.find(a => a.startsWith("/ip4/"))')
                srv6=$(json "$peer_out" 'r.addrs.find(a => a.startsWith("/ip6/"))')
                # A second node at the client's IP that does not speak dial-back.
                start_peer "N-other" "$c" -- --listen /ip4/7.0.0.2/tcp/4002
                other=$(json "$peer_out" 'r.peerId')
                run_dialer "N-client4" "$c" -- --listen /ip4/7.0.0.2/tcp/4001 --listen /ip4/7.0.0.3/tcp/4001 \
                    --dial "$srv4" --pings 1 \
                    --probe-v2 /ip4/7.0.0.2/tcp/4001 --expect-v2 OK \
                    --probe-v2 /ip4/7.0.0.3/tcp/4001 --expect-v2 OK \
                    --probe-v2 /ip4/7.0.0.2/tcp/4009 --expect-v2 E_DIAL_ERROR \
                    --probe-v2 /ip4/7.0.0.2/tcp/4002 --expect-v2 E_DIAL_BACK_ERROR \
                    --probe-v2 "/ip4/7.0.0.2/tcp/4002/p2p/$other" --expect-v2 E_DIAL_BACK_ERROR \
                    --probe-v2 /ip4/7.0.0.2/tcp/4001/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA --expect-v2 E_DIAL_ERROR \
                    --probe-v1 /ip4/7.0.0.2/tcp/4001 --expect-v1 NO_RESPONSE \
                    --probe-v1 /ip4/7.0.0.3/tcp/4001 --expect-v1 E_DIAL_REFUSED
                rc=$?
                dd=$(json "$dial_out" 'all.find(l => l.event === "autonat-v2" && l.addr === "/ip4/7.0.0.3/tcp/4001")?.dialDataBytes ?? 0')
                if [ $rc -eq 0 ] && [ "$dd" -ge 30000 ]; then
                    ok "netns IPv4 AutoNAT: v2 OK/dial data ($dd bytes)/E_DIAL_ERROR/E_DIAL_BACK_ERROR as documented, v1 never answers a connected requester"
                else
                    bad "netns IPv4 AutoNAT: rc=$rc dial-data=$dd"
                    show_errors "$dial_out"
                fi
                key="$work/client.key"
                run_dialer "N-client6" "$c" -- --key secp256k1 --save-key "$key" --listen /ip6/2a00:1::2/tcp/4001 \
                    --dial "$srv6" --pings 1
                me=$(json "$dial_out" 'r.peerId')
                run_dialer "N-client6b" "$c" -- --key-file "$key" --listen /ip6/2a00:1::2/tcp/4001 \
                    --dial "$srv6" --pings 1 --probe-v2 "/ip6/2a00:1::2/tcp/4001/p2p/$me" --expect-v2 OK
                rc=$?
                if [ $rc -eq 0 ]; then
                    ok "netns IPv6 AutoNAT: v2 dial-back to /p2p/<requester> with a reloaded secp256k1 key"
                else
                    bad "netns IPv6 AutoNAT: rc=$rc"
                    show_errors "$dial_out"
                fi
            else
                bad "netns: server did not start"
            fi
        else
            bad "netns: could not set up the namespaces"
        fi
    fi
fi

echo "selftest: $passed passed, $failed failed"
[ $failed -eq 0 ]
