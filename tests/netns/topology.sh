#!/bin/bash
# A NAT test topology in network namespaces: a home host behind a router
# (optionally behind a second, ISP-side NAT), an "internet" with js-libp2p
# AutoNAT servers on public-looking addresses, and nothing that leads out of
# the machine. See README.md beside this file for the picture and the cases.
#
#   topology.sh up [--name NAME] [--variant nat|double-nat|cgnat] [--servers N]
#   topology.sh down [--name NAME] [--keep-logs]
#   topology.sh case [--name NAME] CASE...
#   topology.sh env [--name NAME]
#   topology.sh exec [--name NAME] ROLE|NETNS CMD...
#   topology.sh check [--name NAME]     (re-run the isolation assertion of up)
#   topology.sh list
#
# up prints the variables of env (KEY='value' lines) on stdout, so
#   eval "$(topology.sh up --name t1)"
# NAME defaults to $PH_NAME, else (for every command but up) to the only
# topology that exists; up makes one up (ph-<pid>). Root only.
#
# ROLE: inet, isp (double-nat/cgnat), router, home, s1..sN (the servers).
# CASE (several per call, applied in order, atomically per namespace):
#   default            all of: nat port-preserving wan-reject ipv6-open servers
#   nat                IPv4 masquerade, no forwards (removes forward/isp-forward)
#   forward P[:LP][@A] DNAT tcp+udp P on the router's WAN address to A:LP
#                      (A defaults to the home host, LP to P)
#   unforward SPEC     remove one forward
#   isp-forward P      the ISP NAT forwards P to the router's WAN (double-nat/cgnat)
#   symmetric          masquerade fully-random: a new port per connection
#   port-preserving    plain masquerade: keeps the source port when it is free
#   wan-reject         closed ports on the router's WAN address answer TCP RST
#                      (the default: a dial-back to an unforwarded port fails at once)
#   wan-drop           the router silently drops unsolicited inbound to itself
#                      (a dial-back then times out: 6 s for js servers)
#   ipv6-open          IPv6 routed, no filter
#   ipv6-firewalled    IPv6 stateful: inbound new dropped, established allowed
#   no-servers         the router drops all traffic to/from the servers
#   servers-stopped    the router answers for them: TCP RST / port unreachable
#   servers            the servers are reachable again
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
self="$here/$(basename "$0")"

RUN_BASE=/tmp
MAX_SERVERS=8
SERVER_PORT=4001
READY_TIMEOUT=20          # seconds to wait for the servers' ready lines
STOP_TIMEOUT=5            # seconds between SIGTERM and SIGKILL in down

# Interface names live inside their namespace, so they need no prefix.
ROUTER_WAN_IF=wan0
ROUTER_LAN_IF=lan0
HOME_IF=eth0
ISP_WAN_IF=wan0
ISP_LAN_IF=lan0
SERVER_IF=eth0

# Addresses (see README.md). Nothing here is in a range js-libp2p calls private,
# except the LAN and the ISP-internal link of double-nat / cgnat on purpose.
INET4=7.0.0.1;            INET6=2a00:1::1
PUBLIC4=7.0.0.2;          PUBLIC6_WAN=2a00:1::2   # the WAN address the internet sees
LAN4_NET=192.168.1.0/24
ROUTER_LAN4=192.168.1.1;  ROUTER_LAN6=2a00:10:0:1::1
HOME4=192.168.1.10;       HOME6=2a00:10:0:1::10
HOME6_PREFIX=2a00:10:0:1::/64
ISP_LINK6_ISP=2a00:2::1;  ISP_LINK6_ROUTER=2a00:2::2
# Server i (1-based) sits in its own /8 (and so its own /16) and its own /32.
SERVER_OCTETS=(11 21 22 26 28 29 30 33)

server_ip4()  { echo "${SERVER_OCTETS[$1 - 1]}.$1.0.1"; }
server_gw4()  { echo "${SERVER_OCTETS[$1 - 1]}.$1.0.254"; }
server_ip6()  { echo "2a0$1:$1::1"; }
server_gw6()  { echo "2a0$1:$1::fe"; }

die()  { echo "topology.sh: $*" >&2; exit 1; }
note() { [ -n "${PH_QUIET:-}" ] || echo "topology: $*" >&2; }

usage() {
    sed -n '2,/^set -u/p' "$self" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
}

# ---------------------------------------------------------------------------
# Names

valid_name() { [[ "$1" =~ ^[A-Za-z0-9][A-Za-z0-9_.]{0,23}(-[A-Za-z0-9_.]{1,12}){0,3}$ ]]; }

rundir_of() { echo "$RUN_BASE/porthole-netns-$1"; }

# Our namespaces for NAME, whatever state they are in.
our_netns() {
    local name=$1
    ip netns list 2>/dev/null | awk '{print $1}' \
        | grep -E "^$(printf '%s' "$name" | sed 's/[.]/\\./g')-(inet|isp|router|home|s[0-9]+)\$"
}

# Resolve NAME for commands other than up.
resolve_name() {
    if [ -n "$NAME" ]; then return; fi
    if [ -n "${PH_NAME:-}" ]; then NAME=$PH_NAME; return; fi
    local found=() d
    for d in "$RUN_BASE"/porthole-netns-*/state; do
        [ -f "$d" ] || continue
        d=${d%/state}; found+=("${d#"$RUN_BASE"/porthole-netns-}")
    done
    case ${#found[@]} in
        1) NAME=${found[0]} ;;
        0) die "no topology is up (give --name NAME or set PH_NAME)" ;;
        *) die "several topologies are up (${found[*]}): give --name NAME or set PH_NAME" ;;
    esac
}

load_state() {
    RUNDIR=$(rundir_of "$NAME")
    [ -f "$RUNDIR/state" ] || die "topology '$NAME' is not up (no $RUNDIR/state)"
    # shellcheck source=/dev/null
    . "$RUNDIR/state"
    S_MAPPING=${S_MAPPING:-preserve}
    S_WAN=${S_WAN:-reject}
}

save_state() {
    {
        echo "S_VARIANT='$S_VARIANT'"
        echo "S_SERVERS='$S_SERVERS'"
        echo "S_FORWARDS='$S_FORWARDS'"
        echo "S_ISP_FORWARDS='$S_ISP_FORWARDS'"
        echo "S_IPV6='$S_IPV6'"
        echo "S_REACH='$S_REACH'"
        echo "S_MAPPING='$S_MAPPING'"
        echo "S_WAN='$S_WAN'"
    } >"$RUNDIR/state.new" && mv "$RUNDIR/state.new" "$RUNDIR/state"
}

set_names() {
    NS_INET="$NAME-inet"
    NS_ISP="$NAME-isp"
    NS_ROUTER="$NAME-router"
    NS_HOME="$NAME-home"
}

# ROLE or full namespace name -> namespace name
role_ns() {
    case $1 in
        inet) echo "$NS_INET" ;;
        isp) [ "$S_VARIANT" != nat ] || die "variant 'nat' has no isp namespace"; echo "$NS_ISP" ;;
        router|upnp) echo "$NS_ROUTER" ;;
        home) echo "$NS_HOME" ;;
        s[0-9]|server[0-9])
            local i=${1##*[!0-9]}
            [ "$i" -ge 1 ] && [ "$i" -le "$S_SERVERS" ] || die "no server $i (this topology has $S_SERVERS)"
            echo "$NAME-s$i" ;;
        "$NAME"-*) echo "$1" ;;
        *) die "unknown namespace role '$1' (inet, isp, router, home, s1..s$S_SERVERS)" ;;
    esac
}

# ---------------------------------------------------------------------------
# Router rules. Only our own tables are replaced, atomically, so that a UPnP
# daemon's tables in the same namespace survive a case switch.

router_ruleset() {
    local wan4=$1 f port lanport lanaddr s4="" s6="" i
    for ((i = 1; i <= S_SERVERS; i++)); do
        s4+="${s4:+, }$(server_ip4 $i)"; s6+="${s6:+, }$(server_ip6 $i)"
    done
    cat <<EOF
add table ip porthole_nat
delete table ip porthole_nat
add table inet porthole_filter
delete table inet porthole_filter
table ip porthole_nat {
    chain prerouting {
        type nat hook prerouting priority dstnat; policy accept;
EOF
    for f in $S_FORWARDS; do
        parse_forward "$f"
        echo "        iifname \"$ROUTER_WAN_IF\" ip daddr $wan4 tcp dport $port dnat to $lanaddr:$lanport"
        echo "        iifname \"$ROUTER_WAN_IF\" ip daddr $wan4 udp dport $port dnat to $lanaddr:$lanport"
    done
    cat <<EOF
    }
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "$ROUTER_WAN_IF" masquerade$([ "$S_MAPPING" = random ] && echo " fully-random")
    }
}
table inet porthole_filter {
    chain forward {
        type filter hook forward priority filter; policy accept;
EOF
    if [ -n "$s4" ]; then
        case $S_REACH in
            dropped)
                echo "        ip daddr { $s4 } drop"
                echo "        ip saddr { $s4 } drop"
                echo "        ip6 daddr { $s6 } drop"
                echo "        ip6 saddr { $s6 } drop" ;;
            stopped)
                echo "        ip daddr { $s4 } meta l4proto tcp reject with tcp reset"
                echo "        ip6 daddr { $s6 } meta l4proto tcp reject with tcp reset"
                echo "        ip daddr { $s4 } reject with icmpx type port-unreachable"
                echo "        ip6 daddr { $s6 } reject with icmpx type port-unreachable" ;;
        esac
    fi
    cat <<EOF
        ct state established,related accept
        iifname "$ROUTER_WAN_IF" meta nfproto ipv4 ct status dnat accept
        iifname "$ROUTER_WAN_IF" meta nfproto ipv4 drop
EOF
    if [ "$S_IPV6" = firewalled ]; then
        echo "        iifname \"$ROUTER_WAN_IF\" meta nfproto ipv6 meta l4proto ipv6-icmp accept"
        echo "        iifname \"$ROUTER_WAN_IF\" meta nfproto ipv6 drop"
    fi
    echo "    }"
    if [ "$S_WAN" = drop ]; then
        cat <<EOF
    chain input {
        type filter hook input priority filter; policy accept;
        iifname "$ROUTER_WAN_IF" ct state established,related accept
        iifname "$ROUTER_WAN_IF" meta l4proto { icmp, ipv6-icmp } accept
        iifname "$ROUTER_WAN_IF" drop
    }
EOF
    fi
    echo "}"
}

# The ISP's carrier-grade / upstream NAT of double-nat and cgnat.
isp_ruleset() {
    local router_wan4=$1 f port lanport lanaddr
    cat <<EOF
add table ip porthole_nat
delete table ip porthole_nat
add table inet porthole_filter
delete table inet porthole_filter
table ip porthole_nat {
    chain prerouting {
        type nat hook prerouting priority dstnat; policy accept;
EOF
    for f in $S_ISP_FORWARDS; do
        parse_forward "$f" "$router_wan4"
        echo "        iifname \"$ISP_WAN_IF\" ip daddr $PUBLIC4 tcp dport $port dnat to $lanaddr:$lanport"
        echo "        iifname \"$ISP_WAN_IF\" ip daddr $PUBLIC4 udp dport $port dnat to $lanaddr:$lanport"
    done
    cat <<EOF
    }
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "$ISP_WAN_IF" masquerade
    }
}
table inet porthole_filter {
    chain forward {
        type filter hook forward priority filter; policy accept;
        ct state established,related accept
        iifname "$ISP_WAN_IF" meta nfproto ipv4 ct status dnat accept
        iifname "$ISP_WAN_IF" meta nfproto ipv4 drop
    }
}
EOF
}

# PORT[:LANPORT][@LANADDR] -> $port $lanport $lanaddr (LANADDR defaults to $2 or home)
parse_forward() {
    local spec=$1
    lanaddr=${2:-$HOME4}
    if [[ "$spec" == *@* ]]; then lanaddr=${spec#*@}; spec=${spec%%@*}; fi
    port=${spec%%:*}
    lanport=$port
    [[ "$spec" == *:* ]] && lanport=${spec#*:}
    valid_port "$port" && valid_port "$lanport" || die "bad port in forward '$1'"
    [[ "$lanaddr" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || die "bad IPv4 address in forward '$1'"
}

valid_port() { [[ "$1" =~ ^[0-9]{1,5}$ ]] && [ "$1" -ge 1 ] && [ "$1" -le 65535 ]; }

router_wan4() {
    case $S_VARIANT in
        nat) echo "$PUBLIC4" ;;
        double-nat) echo 10.0.0.2 ;;
        cgnat) echo 100.64.0.2 ;;
    esac
}
isp_lan4() {
    case $S_VARIANT in
        double-nat) echo 10.0.0.1 ;;
        cgnat) echo 100.64.0.1 ;;
    esac
}
router_wan6() { if [ "$S_VARIANT" = nat ]; then echo "$PUBLIC6_WAN"; else echo "$ISP_LINK6_ROUTER"; fi; }

apply_rules() {
    local out
    if ! out=$(router_ruleset "$(router_wan4)" | ip netns exec "$NS_ROUTER" nft -f - 2>&1); then
        echo "$out" >&2; die "nft failed in $NS_ROUTER"
    fi
    if [ "$S_VARIANT" != nat ]; then
        if ! out=$(isp_ruleset "$(router_wan4)" | ip netns exec "$NS_ISP" nft -f - 2>&1); then
            echo "$out" >&2; die "nft failed in $NS_ISP"
        fi
    fi
}

case_summary() {
    local s="nat"
    local f
    for f in $S_FORWARDS; do s+=" forward $f"; done
    for f in $S_ISP_FORWARDS; do s+=" isp-forward $f"; done
    [ "$S_MAPPING" = random ] && s+=" symmetric"
    [ "$S_WAN" = drop ] && s+=" wan-drop"
    s+=" ipv6-$S_IPV6"
    case $S_REACH in
        up) s+=" servers" ;;
        dropped) s+=" no-servers" ;;
        stopped) s+=" servers-stopped" ;;
    esac
    echo "$s"
}

cmd_case() {
    resolve_name; set_names; load_state
    [ $# -gt 0 ] || { case_summary; return 0; }
    exec 8>"$RUNDIR/lock"; flock -w 10 8 || die "lock on $RUNDIR busy"
    . "$RUNDIR/state"
    while [ $# -gt 0 ]; do
        case $1 in
            default) S_FORWARDS=""; S_ISP_FORWARDS=""; S_IPV6=open; S_REACH=up; S_MAPPING=preserve; S_WAN=reject ;;
            nat) S_FORWARDS=""; S_ISP_FORWARDS="" ;;
            forward|isp-forward)
                [ $# -ge 2 ] || die "$1 needs PORT[:LANPORT][@LANADDR]"
                parse_forward "$2"
                if [ "$1" = forward ]; then
                    S_FORWARDS="$(echo $S_FORWARDS $2 | tr ' ' '\n' | awk '!seen[$0]++' | xargs)"
                else
                    [ "$S_VARIANT" != nat ] || die "isp-forward needs --variant double-nat or cgnat"
                    S_ISP_FORWARDS="$(echo $S_ISP_FORWARDS $2 | tr ' ' '\n' | awk '!seen[$0]++' | xargs)"
                fi
                shift ;;
            unforward)
                [ $# -ge 2 ] || die "unforward needs the forward spec"
                S_FORWARDS="$(echo $S_FORWARDS | tr ' ' '\n' | grep -vxF -- "$2" | xargs)"
                shift ;;
            symmetric) S_MAPPING=random ;;
            wan-drop) S_WAN=drop ;;
            wan-reject) S_WAN=reject ;;
            port-preserving) S_MAPPING=preserve ;;
            ipv6-open) S_IPV6=open ;;
            ipv6-firewalled) S_IPV6=firewalled ;;
            servers) S_REACH=up ;;
            no-servers) S_REACH=dropped ;;
            servers-stopped) S_REACH=stopped ;;
            double-nat|cgnat)
                [ "$S_VARIANT" = "$1" ] || die "'$1' is a variant: topology.sh down, then topology.sh up --variant $1" ;;
            *) die "unknown case '$1' (default nat forward PORT isp-forward PORT unforward PORT symmetric port-preserving wan-drop wan-reject ipv6-open ipv6-firewalled servers no-servers servers-stopped)" ;;
        esac
        shift
    done
    apply_rules
    save_state
    note "$NAME: $(case_summary)"
}

# ---------------------------------------------------------------------------
# Isolation: no namespace of ours may have a link whose other end is outside our
# set (the host's namespace included), and default routes may only point at
# our own veths. Anything else is fatal.

assert_isolated() {
    local ours ns line ifname kind peer bad=0
    ours=$(our_netns "$NAME")
    in_ours() { printf '%s\n' "$ours" | grep -qxF -- "$1"; }
    for ns in $ours; do
        while IFS= read -r line; do
            ifname=$(echo "$line" | awk '{print $2}' | sed 's/:$//; s/@.*//')
            [ "$ifname" = lo ] && continue
            kind=none
            [[ "$line" == *"\\    veth "* ]] && kind=veth
            if [ "$kind" != veth ]; then
                echo "isolation: $ns has a non-veth link '$ifname'" >&2; bad=1; continue
            fi
            if [[ "$line" =~ link-netns\ ([^ ]+) ]]; then
                peer=${BASH_REMATCH[1]}
                if ! in_ours "$peer"; then
                    echo "isolation: $ns/$ifname leads to namespace '$peer', not ours" >&2; bad=1
                fi
            else
                echo "isolation: $ns/$ifname has its peer in no namespace of ours (the host's, or its own)" >&2; bad=1
            fi
        done < <(ip -n "$ns" -o -d link show)
        local fam route dev
        for fam in -4 -6; do
            while IFS= read -r route; do
                [ -n "$route" ] || continue
                if [ "$ns" = "$NS_INET" ]; then
                    echo "isolation: $ns (the internet) has a default route: $route" >&2; bad=1; continue
                fi
                dev=$(echo "$route" | sed -n 's/.* dev \([^ ]*\).*/\1/p')
                if ! ip -n "$ns" -o -d link show dev "$dev" 2>/dev/null | grep -q 'link-netns '; then
                    echo "isolation: $ns default route '$route' is not via one of our veths" >&2; bad=1
                fi
            done < <(ip -n "$ns" "$fam" route show default)
        done
    done
    # The host side: no link of the calling namespace may have its peer in ours.
    while IFS= read -r line; do
        if [[ "$line" =~ link-netns\ ([^ ]+) ]] && in_ours "${BASH_REMATCH[1]}"; then
            echo "isolation: the host namespace has a link into ${BASH_REMATCH[1]}: $(echo "$line" | awk '{print $2}')" >&2
            bad=1
        fi
    done < <(ip -o -d link show)
    [ $bad -eq 0 ] || die "isolation check failed: the topology must not touch the host's network"
}

# ---------------------------------------------------------------------------
# up

ns_add() {
    local ns=$1 forward=$2
    ip netns add "$ns" || die "ip netns add $ns failed"
    ip netns exec "$ns" sh -c "
        sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
                   net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 \
                   net.ipv4.ip_forward=$forward net.ipv6.conf.all.forwarding=$forward" \
        || die "sysctl in $ns failed"
    ip -n "$ns" link set lo up || die "lo up in $ns failed"
}

# veth NS_A IF_A NS_B IF_B: both ends are created inside their namespaces,
# never in the host's.
veth() {
    ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" || die "veth $1/$2 <-> $3/$4 failed"
    ip -n "$1" link set "$2" up && ip -n "$3" link set "$4" up || die "link up $2/$4 failed"
}

addr() { ip -n "$1" addr add "$3" dev "$2" nodad 2>/dev/null || ip -n "$1" addr add "$3" dev "$2" || die "addr $3 on $1/$2 failed"; }
route() {
    local ns=$1 fam=-4; shift
    if [ "$1" = -6 ]; then fam=-6; shift; fi
    ip "$fam" -n "$ns" route add "$@" || die "route '$*' in $ns failed"
}

find_node() {
    if [ -n "${PH_NODE:-}" ]; then NODE=$PH_NODE; return; fi
    NODE=$("$root/build-aux/install-test-node.sh" | tail -n 1) || die "cannot install the test node (build-aux/install-test-node.sh)"
}

start_servers() {
    local i ns spids=() deadline
    PEER="$root/tests/interop/peer.mjs"
    : >"$RUNDIR/servers.jsonl"
    for ((i = 1; i <= S_SERVERS; i++)); do
        ns="$NAME-s$i"
        # setsid: the servers outlive this script and ignore the caller's ^C;
        # down stops them by pid (ip netns pids).
        setsid ip netns exec "$ns" "$NODE" "$PEER" --autonat-v1 --autonat-v2 --key ed25519 \
            --listen "/ip4/$(server_ip4 $i)/tcp/$SERVER_PORT" --listen "/ip6/$(server_ip6 $i)/tcp/$SERVER_PORT" \
            --agent "porthole-netns-server/$i" --no-stdin \
            </dev/null >"$RUNDIR/server-$i.out" 2>"$RUNDIR/server-$i.err" &
        echo $! >"$RUNDIR/server-$i.pid"
        spids+=($!)
    done
    deadline=$((SECONDS + READY_TIMEOUT))
    for ((i = 1; i <= S_SERVERS; i++)); do
        while ! head -n 1 "$RUNDIR/server-$i.out" 2>/dev/null | grep -q '"event":"ready"'; do
            if ! kill -0 "${spids[i - 1]}" 2>/dev/null; then
                cat "$RUNDIR/server-$i.err" >&2; die "server $i exited before it was ready"
            fi
            [ $SECONDS -lt $deadline ] || { cat "$RUNDIR/server-$i.err" >&2; die "server $i not ready after ${READY_TIMEOUT}s"; }
            sleep 0.05
        done
        head -n 1 "$RUNDIR/server-$i.out" >>"$RUNDIR/servers.jsonl"
    done
}

server_id() { head -n 1 "$RUNDIR/server-$1.out" | sed -n 's/.*"peerId":"\([^"]*\)".*/\1/p'; }

write_env() {
    local i id a4 a6 all4="" all6="" ids=""
    {
        echo "PH_NAME='$NAME'"
        echo "PH_RUNDIR='$RUNDIR'"
        echo "PH_VARIANT='$S_VARIANT'"
        echo "PH_NS_INET='$NS_INET'"
        if [ "$S_VARIANT" = nat ]; then echo "PH_NS_ISP=''"; else echo "PH_NS_ISP='$NS_ISP'"; fi
        echo "PH_NS_ROUTER='$NS_ROUTER'"
        echo "PH_NS_HOME='$NS_HOME'"
        echo "PH_NS_UPNP='$NS_ROUTER'"
        echo "PH_HOME_IF='$HOME_IF'"
        echo "PH_HOME4='$HOME4'"
        echo "PH_HOME6='$HOME6'"
        echo "PH_HOME6_PREFIX='$HOME6_PREFIX'"
        echo "PH_LAN4_NET='$LAN4_NET'"
        echo "PH_ROUTER_LAN_IF='$ROUTER_LAN_IF'"
        echo "PH_ROUTER_LAN4='$ROUTER_LAN4'"
        echo "PH_ROUTER_LAN6='$ROUTER_LAN6'"
        echo "PH_ROUTER_WAN_IF='$ROUTER_WAN_IF'"
        echo "PH_ROUTER_WAN4='$(router_wan4)'"
        echo "PH_ROUTER_WAN6='$(router_wan6)'"
        if [ "$S_VARIANT" = nat ]; then
            echo "PH_ISP_WAN4=''"; echo "PH_ISP_LAN4=''"
        else
            echo "PH_ISP_WAN4='$PUBLIC4'"; echo "PH_ISP_LAN4='$(isp_lan4)'"
        fi
        echo "PH_PUBLIC4='$PUBLIC4'"
        echo "PH_INET4='$INET4'"
        echo "PH_INET6='$INET6'"
        echo "PH_SERVER_PORT='$SERVER_PORT'"
        echo "PH_SERVER_COUNT='$S_SERVERS'"
        for ((i = 1; i <= S_SERVERS; i++)); do
            id=$(server_id $i)
            a4="/ip4/$(server_ip4 $i)/tcp/$SERVER_PORT/p2p/$id"
            a6="/ip6/$(server_ip6 $i)/tcp/$SERVER_PORT/p2p/$id"
            echo "PH_NS_S$i='$NAME-s$i'"
            echo "PH_SERVER${i}_ID='$id'"
            echo "PH_SERVER${i}_IP4='$(server_ip4 $i)'"
            echo "PH_SERVER${i}_IP6='$(server_ip6 $i)'"
            echo "PH_SERVER${i}_ADDR4='$a4'"
            echo "PH_SERVER${i}_ADDR6='$a6'"
            all4+="${all4:+ }$a4"; all6+="${all6:+ }$a6"; ids+="${ids:+ }$id"
        done
        echo "PH_SERVERS4='$all4'"
        echo "PH_SERVERS6='$all6'"
        echo "PH_SERVERS='$all4${all6:+ }$all6'"
        echo "PH_SERVER_IDS='$ids'"
        echo "PH_SERVERS_JSONL='$RUNDIR/servers.jsonl'"
        echo "PH_NODE='$NODE'"
        echo "PH_PEER='$root/tests/interop/peer.mjs'"
    } >"$RUNDIR/env"
}

check_server_addrs() {
    local i id
    for ((i = 1; i <= S_SERVERS; i++)); do
        id=$(server_id $i)
        [ -n "$id" ] || die "server $i: no peerId in its ready line"
        grep -qF "\"/ip4/$(server_ip4 $i)/tcp/$SERVER_PORT/p2p/$id\"" "$RUNDIR/server-$i.out" \
            && grep -qF "\"/ip6/$(server_ip6 $i)/tcp/$SERVER_PORT/p2p/$id\"" "$RUNDIR/server-$i.out" \
            || die "server $i: its ready line lacks the expected addresses: $(head -n 1 "$RUNDIR/server-$i.out")"
    done
}

cmd_up() {
    local variant=nat nservers=3
    while [ $# -gt 0 ]; do
        case $1 in
            --name) [ $# -ge 2 ] || usage; NAME=$2; shift ;;
            --variant) [ $# -ge 2 ] || usage; variant=$2; shift ;;
            --servers) [ $# -ge 2 ] || usage; nservers=$2; shift ;;
            *) usage ;;
        esac
        shift
    done
    case $variant in nat|double-nat|cgnat) ;; *) die "unknown variant '$variant' (nat, double-nat, cgnat)" ;; esac
    [[ "$nservers" =~ ^[0-9]$ ]] && [ "$nservers" -le $MAX_SERVERS ] || die "--servers takes 0..$MAX_SERVERS"
    [ -n "$NAME" ] || NAME="ph-$$"
    valid_name "$NAME" || die "bad name '$NAME' (letters, digits, . _ and single dashes; short)"
    preflight
    set_names
    RUNDIR=$(rundir_of "$NAME")
    if [ -n "$(our_netns "$NAME")" ]; then
        die "topology '$NAME' already exists (topology.sh down --name $NAME)"
    fi
    [ "$nservers" -eq 0 ] || find_node
    rm -rf "$RUNDIR"
    mkdir -p "$RUNDIR" || die "cannot create $RUNDIR"
    S_VARIANT=$variant; S_SERVERS=$nservers; S_FORWARDS=""; S_ISP_FORWARDS=""; S_IPV6=open; S_REACH=up; S_MAPPING=preserve; S_WAN=reject
    # Any failure from here on removes what was built.
    # shellcheck disable=SC2154
    trap 'rc=$?; if [ $rc -ne 0 ]; then echo "topology.sh: up failed, removing $NAME" >&2; PH_QUIET=1 down_all "$NAME" >/dev/null 2>&1; fi' EXIT
    trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM
    local t0=$SECONDS i ns wan_ns wan_if
    ns_add "$NS_INET" 1
    ns_add "$NS_ROUTER" 1
    ns_add "$NS_HOME" 0
    [ "$variant" = nat ] || ns_add "$NS_ISP" 1
    for ((i = 1; i <= S_SERVERS; i++)); do ns_add "$NAME-s$i" 0; done

    # The router's or the ISP's WAN side faces the internet.
    if [ "$variant" = nat ]; then wan_ns=$NS_ROUTER; wan_if=$ROUTER_WAN_IF; else wan_ns=$NS_ISP; wan_if=$ISP_WAN_IF; fi
    veth "$NS_INET" up0 "$wan_ns" "$wan_if"
    addr "$NS_INET" up0 "$INET4/24";  addr "$NS_INET" up0 "$INET6/64"
    addr "$wan_ns" "$wan_if" "$PUBLIC4/24"; addr "$wan_ns" "$wan_if" "$PUBLIC6_WAN/64"
    route "$wan_ns" default via "$INET4"
    route "$wan_ns" -6 default via "$INET6"
    route "$NS_INET" -6 "$HOME6_PREFIX" via "$PUBLIC6_WAN"

    if [ "$variant" != nat ]; then
        veth "$NS_ISP" "$ISP_LAN_IF" "$NS_ROUTER" "$ROUTER_WAN_IF"
        addr "$NS_ISP" "$ISP_LAN_IF" "$(isp_lan4)/24"; addr "$NS_ISP" "$ISP_LAN_IF" "$ISP_LINK6_ISP/64"
        addr "$NS_ROUTER" "$ROUTER_WAN_IF" "$(router_wan4)/24"; addr "$NS_ROUTER" "$ROUTER_WAN_IF" "$ISP_LINK6_ROUTER/64"
        route "$NS_ROUTER" default via "$(isp_lan4)"
        route "$NS_ROUTER" -6 default via "$ISP_LINK6_ISP"
        route "$NS_ISP" -6 "$HOME6_PREFIX" via "$ISP_LINK6_ROUTER"
    fi

    veth "$NS_ROUTER" "$ROUTER_LAN_IF" "$NS_HOME" "$HOME_IF"
    addr "$NS_ROUTER" "$ROUTER_LAN_IF" "$ROUTER_LAN4/24"; addr "$NS_ROUTER" "$ROUTER_LAN_IF" "$ROUTER_LAN6/64"
    addr "$NS_HOME" "$HOME_IF" "$HOME4/24"; addr "$NS_HOME" "$HOME_IF" "$HOME6/64"
    route "$NS_HOME" default via "$ROUTER_LAN4"
    route "$NS_HOME" -6 default via "$ROUTER_LAN6"

    for ((i = 1; i <= S_SERVERS; i++)); do
        ns="$NAME-s$i"
        veth "$NS_INET" "s$i" "$ns" "$SERVER_IF"
        addr "$NS_INET" "s$i" "$(server_gw4 $i)/24"; addr "$NS_INET" "s$i" "$(server_gw6 $i)/64"
        addr "$ns" "$SERVER_IF" "$(server_ip4 $i)/24"; addr "$ns" "$SERVER_IF" "$(server_ip6 $i)/64"
        route "$ns" default via "$(server_gw4 $i)"
        route "$ns" -6 default via "$(server_gw6 $i)"
    done

    apply_rules
    save_state
    assert_isolated
    start_servers
    check_server_addrs
    write_env
    trap - EXIT HUP INT TERM
    note "$NAME is up ($variant, $S_SERVERS servers, $((SECONDS - t0))s); logs in $RUNDIR"
    cmd_env_print
}

preflight() {
    [ "$(id -u)" -eq 0 ] || die "needs root"
    command -v ip >/dev/null && ip netns list >/dev/null 2>&1 || die "ip netns is unavailable (iproute2)"
    command -v nft >/dev/null || die "nft is unavailable (nftables)"
    command -v setsid >/dev/null && command -v flock >/dev/null || die "setsid/flock missing (util-linux)"
}

# ---------------------------------------------------------------------------
# down: stop every process inside our namespaces (by pid), delete them, and the
# run directory. Works from any state, also when up never finished.

# A zombie counts as gone: whoever adopted it (pid 1) reaps it in its own time.
is_alive() { [ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

wait_gone() {       # SECONDS PID...: bounded wait until no PID is alive
    local end=$(( $(date +%s%N) / 1000000 + $1 * 1000 )) p alive
    shift
    while :; do
        alive=""
        for p in "$@"; do is_alive "$p" && alive+=" $p"; done
        [ -n "$alive" ] || return 0
        [ $(( $(date +%s%N) / 1000000 )) -lt $end ] || return 1
        sleep 0.02
    done
}

down_all() {
    local name=$1 keep=${2:-0} nss ns pids="" servers="" others p
    nss=$(our_netns "$name")
    for ns in $nss; do pids+=" $(ip netns pids "$ns" 2>/dev/null | xargs)"; done
    # Our js servers (pids recorded by up, checked against their command line)
    # are killed outright: their log lines are already written, and a graceful
    # js-libp2p stop takes ~2 s. Anything else in our namespaces (Porthole,
    # a UPnP daemon) gets SIGTERM and STOP_TIMEOUT seconds first.
    for p in "$(rundir_of "$name")"/server-*.pid; do
        [ -f "$p" ] || continue
        p=$(cat "$p")
        [[ "$p" =~ ^[0-9]+$ ]] && [ -r "/proc/$p/cmdline" ] || continue
        if tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -q 'peer.mjs.*porthole-netns-server'; then
            servers+=" $p"
        fi
    done
    pids=$(echo $pids | tr ' ' '\n' | grep -E '^[0-9]+$' | sort -u | xargs)
    others=$(echo $pids | tr ' ' '\n' | grep -vxF -f <(echo $servers | tr ' ' '\n' | grep .) 2>/dev/null | xargs)
    [ -n "$servers" ] || others=$pids
    [ -z "$servers" ] || kill -KILL $servers 2>/dev/null
    [ -z "$others" ] || kill -TERM $others 2>/dev/null
    wait_gone "$STOP_TIMEOUT" $servers $others
    for p in $others; do is_alive "$p" && kill -KILL "$p" 2>/dev/null; done
    wait_gone 2 $others
    for ns in $nss; do ip netns del "$ns" 2>/dev/null || echo "topology.sh: could not delete $ns" >&2; done
    if [ "$keep" = 1 ]; then
        rm -f "$(rundir_of "$name")/state" "$(rundir_of "$name")/env"
    else
        rm -rf "$(rundir_of "$name")"
    fi
    [ -z "$(our_netns "$name")" ] || die "namespaces of '$name' remain: $(our_netns "$name" | xargs)"
    note "$name is down"
}

cmd_down() {
    local keep=0
    while [ $# -gt 0 ]; do
        case $1 in
            --name) [ $# -ge 2 ] || usage; NAME=$2; shift ;;
            --keep-logs) keep=1 ;;
            *) usage ;;
        esac
        shift
    done
    [ "$(id -u)" -eq 0 ] || die "needs root"
    resolve_name
    valid_name "$NAME" || die "bad name '$NAME'"
    down_all "$NAME" "$keep"
}

# ---------------------------------------------------------------------------

cmd_env_print() {
    cat "$RUNDIR/env"
    . "$RUNDIR/state"
    echo "PH_FORWARDS='$S_FORWARDS'"
    echo "PH_ISP_FORWARDS='$S_ISP_FORWARDS'"
    echo "PH_CASE='$(case_summary)'"
}

cmd_env() {
    while [ $# -gt 0 ]; do
        case $1 in --name) [ $# -ge 2 ] || usage; NAME=$2; shift ;; *) usage ;; esac
        shift
    done
    resolve_name; set_names; load_state
    [ -f "$RUNDIR/env" ] || die "topology '$NAME' is not fully up"
    cmd_env_print
}

cmd_exec() {
    [ $# -ge 2 ] || usage
    resolve_name; set_names; load_state
    local ns
    ns=$(role_ns "$1") || exit 1
    shift
    exec ip netns exec "$ns" "$@"
}

cmd_list() {
    local d n
    for d in "$RUN_BASE"/porthole-netns-*/; do
        [ -d "$d" ] || continue
        n=${d%/}; n=${n#"$RUN_BASE"/porthole-netns-}
        if [ -f "$d/state" ]; then
            ( NAME=$n; RUNDIR=${d%/}; . "$d/state"; echo "$n variant=$S_VARIANT servers=$S_SERVERS case='$(case_summary)'" )
        else
            echo "$n (logs only)"
        fi
    done
    ip netns list 2>/dev/null | awk '{print $1}' | grep -E -- '-(inet|isp|router|home|s[0-9]+)$' \
        | sed 's/-[^-]*$//' | sort -u | while read -r n; do
            [ -f "$(rundir_of "$n")/state" ] || echo "$n (namespaces named like ours but no state in $RUN_BASE; if it is a topology.sh leftover: topology.sh down --name $n)"
        done
}

# ---------------------------------------------------------------------------

NAME=""
while [ $# -gt 0 ]; do
    case $1 in
        --name) [ $# -ge 2 ] || usage; NAME=$2; shift 2 ;;
        -h|--help) usage ;;
        *) break ;;
    esac
done
[ $# -ge 1 ] || usage
cmd=$1; shift
if [ "$cmd" != up ] && [ "$cmd" != list ] && [ $# -ge 2 ] && [ "$1" = --name ]; then
    NAME=$2; shift 2
fi
case $cmd in
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    case) cmd_case "$@" ;;
    env) cmd_env "$@" ;;
    exec) cmd_exec "$@" ;;
    list) cmd_list ;;
    check) resolve_name; set_names; load_state; assert_isolated; note "$NAME: isolated" ;;
    *) usage ;;
esac
