#!/bin/bash
# ph-upnp against Debian's real miniupnpd (package miniupnpd-nftables) in network namespaces of
# its own, linked only to each other (never to the host's network):
#
#   inet 7.0.0.1 ── wan0 7.0.0.2 [router: miniupnpd, nftables] br0 192.168.77.1 ─┬─ home1 .10
#                                                                                 └─ home2 .11
#
#   run-upnp-netns.sh TEST-PROGRAM     root; exit 0 passed, 1 failed, 77 skipped (with the reason)
#
# 7.0.0.2 looks public on purpose: miniupnpd refuses to forward when its WAN address is private.
# The test program runs in home1 twice: with miniupnpd running, then after it is stopped.
set -u

here=$(cd "$(dirname "$0")" && pwd)
prog=${1:?usage: run-upnp-netns.sh TEST-PROGRAM}

skip() { echo "upnp-netns: SKIP: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
command -v ip >/dev/null && ip netns list >/dev/null 2>&1 || skip "ip netns is unavailable (iproute2)"
command -v nft >/dev/null || skip "nft is unavailable (nftables)"
MINIUPNPD=$(command -v miniupnpd || echo /usr/sbin/miniupnpd)
[ -x "$MINIUPNPD" ] || skip "miniupnpd is not installed (apt install miniupnpd-nftables)"
"$MINIUPNPD" --version 2>&1 | grep -q nftables || skip "this miniupnpd is not the nftables build"

P="phupnp$$-"
NS=("${P}inet" "${P}router" "${P}home1" "${P}home2")
work=$(mktemp -d /tmp/porthole-upnp-netns.XXXXXX)
daemon_pids=()

cleanup() {
    stop_daemons
    for n in "${NS[@]}"; do ip netns del "$n" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

nsx() { local ns=$1; shift; ip netns exec "$P$ns" "$@"; }

setup() {
    local n
    for n in "${NS[@]}"; do ip netns add "$n" || return 1; ip -n "$n" link set lo up; done
    # every link is created inside our namespaces, peer and all
    ip -n "${P}router" link add wan0 type veth peer name eth0 netns "${P}inet" &&
    ip -n "${P}router" link add br0 type bridge mcast_snooping 0 &&
    ip -n "${P}router" link add lan1 type veth peer name eth0 netns "${P}home1" &&
    ip -n "${P}router" link add lan2 type veth peer name eth0 netns "${P}home2" || return 1
    ip -n "${P}router" link set lan1 master br0
    ip -n "${P}router" link set lan2 master br0
    for l in wan0 br0 lan1 lan2; do ip -n "${P}router" link set "$l" up; done
    ip -n "${P}router" addr add 7.0.0.2/24 dev wan0
    ip -n "${P}router" addr add 192.168.77.1/24 dev br0
    ip -n "${P}router" route add default via 7.0.0.1
    nsx router sysctl -qw net.ipv4.ip_forward=1
    # with br_netfilter loaded on the host, bridged frames would meet the forward chain
    nsx router sysctl -qw net.bridge.bridge-nf-call-iptables=0 2>/dev/null
    ip -n "${P}inet" addr add 7.0.0.1/24 dev eth0
    ip -n "${P}inet" link set eth0 up
    for h in home1:10 home2:11; do
        ip -n "${P}${h%:*}" addr add "192.168.77.${h#*:}/24" dev eth0
        ip -n "${P}${h%:*}" link set eth0 up
        ip -n "${P}${h%:*}" route add default via 192.168.77.1
    done
    # the tables and chains miniupnpd 2.3 expects (it does not create them; Debian's
    # /etc/miniupnpd/nft_init.sh would, but needs miniupnpd_functions.sh, which the package lacks)
    nsx router nft -f "$here/miniupnpd.nft"
}

# No namespace of ours may reach the host's network: each veth's peer is in one of ours.
isolated() {
    local n line
    for n in "${NS[@]}"; do
        while read -r line; do
            [[ "$line" == *"link-netns ${P}"* ]] || { echo "upnp-netns: $n: $line"; return 1; }
        done < <(ip -o -n "$n" link show type veth)
    done
}

# start_daemon NS NAME CONFIG-TEMPLATE: miniupnpd in the foreground with our own config
start_daemon() {
    local ns=$1 name=$2 pid
    sed "s|@WORK@|$work|g" "$here/$3" > "$work/$name.conf"
    # ip netns exec execs miniupnpd: $! is the daemon itself
    ip netns exec "$P$ns" "$MINIUPNPD" -f "$work/$name.conf" -d -P "$work/$name.pid" \
        > "$work/$name.log" 2>&1 &
    pid=$!
    daemon_pids+=("$pid")
    # ready when it listens for SSDP
    for _ in $(seq 50); do
        nsx "$ns" ss -lun 2>/dev/null | grep -q ':1900 ' && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "upnp-netns: miniupnpd ($name) did not start:"; cat "$work/$name.log"
    return 1
}

stop_daemons() {
    local pid
    for pid in "${daemon_pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
    daemon_pids=()
}

# A second IGD on the LAN (home2, with its own uplink to inet), not the gateway: the search must
# still pick the gateway's.
second_router() {
    ip -n "${P}home2" link add wan9 type veth peer name eth1 netns "${P}inet" &&
    ip -n "${P}home2" link set wan9 up &&
    ip -n "${P}home2" addr add 7.0.1.2/24 dev wan9 &&
    ip -n "${P}inet" link set eth1 up &&
    ip -n "${P}inet" addr add 7.0.1.1/24 dev eth1 &&
    nsx home2 nft -f "$here/miniupnpd.nft"
}

setup || { echo "upnp-netns: cannot build the namespaces"; exit 1; }
second_router || { echo "upnp-netns: cannot set up the second router"; exit 1; }
isolated || exit 1
start_daemon router router miniupnpd.conf.in || exit 1

export PH_UPNP_NS_INET="${P}inet" PH_UPNP_NS_HOME2="${P}home2" PH_UPNP_WORK="$work"
status=0
nsx home1 "$prog" --phase=daemon --tap || status=1
echo "# router nftables after the daemon phase:"
nsx router nft list chain inet filter prerouting_miniupnpd | sed 's/^/# /'

start_daemon home2 second second-router.conf.in || exit 1
nsx home1 "$prog" --phase=two-igds --tap || status=1

[ $status -ne 0 ] && for log in "$work"/*.log; do echo "# $log:"; sed 's/^/#   /' "$log"; done
stop_daemons
nsx home1 "$prog" --phase=no-daemon --tap || status=1
exit $status
