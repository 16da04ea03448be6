#!/usr/bin/env bash
# Soak: `porthole --background` left running against the netns topology (tests/netns/topology.sh)
# with a short check interval, sampling its open file descriptors and resident memory. A leak per
# check shows as a rising fd count or VmRSS over the run; the acceptance is flat numbers.
#
#   sudo bench/soak.sh [--exe PATH] [--name NAME] [--duration S] [--interval S] [--sample S]
#
# Defaults: 600 s, a check every 20 s (PORTHOLE_TEST_CHECK_INTERVAL_S), a sample every 30 s. Halfway
# the router starts forwarding the port, so the run also sees a reachability change (and the
# notification it brings, to python3-dbusmock's notification daemon when installed). Needs root,
# xvfb-run and dbus-run-session (GTK needs a display even without a window). Nothing leaves the
# machine: see tests/netns/README.md.
set -u

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
topo="$src/tests/netns/topology.sh"
exe=${PORTHOLE_EXE:-}
name="ph-soak-$$"
duration=600 interval=20 sample=30

while [ $# -gt 0 ]; do
    case $1 in
        --exe) exe=$2; shift 2 ;;
        --name) name=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --interval) interval=$2; shift 2 ;;
        --sample) sample=$2; shift 2 ;;
        *) echo "usage: $0 [--exe PATH] [--name NAME] [--duration S] [--interval S] [--sample S]" >&2; exit 2 ;;
    esac
done
if [ -z "$exe" ]; then
    for b in build build-h4; do [ -x "$src/$b/src/porthole" ] && { exe="$src/$b/src/porthole"; break; }; done
fi
[ -x "$exe" ] || { echo "soak: no porthole binary (set PORTHOLE_EXE or --exe)" >&2; exit 2; }
exe=$(readlink -f "$exe")
[ "$(id -u)" -eq 0 ] || { echo "soak: needs root for network namespaces" >&2; exit 77; }
for tool in xvfb-run dbus-run-session nft; do
    command -v "$tool" >/dev/null || { echo "soak: $tool is not installed" >&2; exit 77; }
done
schemas=$(dirname "$(dirname "$exe")")/data

work=$(mktemp -d)
cleanup() {
    [ -n "${runner:-}" ] && kill "$runner" 2>/dev/null
    [ -s "$work/pid" ] && kill "$(cat "$work/pid")" 2>/dev/null
    wait 2>/dev/null
    PH_QUIET=1 "$topo" down --name "$name" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

if ! env_text=$(PH_QUIET=1 "$topo" up --name "$name" --servers 3 2>"$work/up.log"); then
    echo "soak: the topology did not come up" >&2
    sed 's/^/  /' "$work/up.log" >&2
    exit 1
fi
eval "$env_text"
peers=()
for s in $PH_SERVERS; do peers+=(--peer "$s"); done

# Inside the home namespace: a private X server and session bus, the notification daemon mock
# when there is one, then porthole itself (its own pid in $work/pid).
cat >"$work/inner.sh" <<'INNER'
#!/usr/bin/env bash
set -u
work=$1; shift
if /usr/bin/python3 -c 'import dbusmock' 2>/dev/null; then
    /usr/bin/python3 -m dbusmock --template notification_daemon >/dev/null 2>&1 &
fi
"$@" >"$work/porthole.out" 2>"$work/porthole.err" &
echo $! >"$work/pid"
wait
INNER
chmod +x "$work/inner.sh"
mkdir -p "$work/home"
PH_QUIET=1 "$topo" exec --name "$name" home env HOME="$work/home" XDG_CONFIG_HOME= XDG_STATE_HOME= \
    GSETTINGS_BACKEND=memory GSETTINGS_SCHEMA_DIR="$schemas" NO_AT_BRIDGE=1 GDK_DEBUG=no-portals \
    GIO_USE_PROXY_RESOLVER=dummy IPFS_PATH="$work/no-repo" PORTHOLE_TEST_CHECK_INTERVAL_S="$interval" \
    ${MALLOC_ARENA_MAX:+MALLOC_ARENA_MAX=$MALLOC_ARENA_MAX} \
    xvfb-run -a -s "-screen 0 640x480x24" dbus-run-session -- "$work/inner.sh" "$work" \
    "$exe" --background --port 4001 --timeout 15 "${peers[@]}" &
runner=$!

for _ in $(seq 1 100); do [ -s "$work/pid" ] && break; sleep 0.1; done
pid=$(cat "$work/pid" 2>/dev/null)
[ -n "$pid" ] || { echo "soak: porthole did not start" >&2; exit 1; }

history="$work/home/.local/state/porthole/history.json"
checks() {
    /usr/bin/python3 - "$history" <<'PY' 2>/dev/null || echo 0
import json, sys
d = json.load(open(sys.argv[1]))
e = d.get("entries", d) if isinstance(d, dict) else d
print(len(e))
PY
}
# the newest entry's verdicts, "ipv4/ipv6"
latest() {
    /usr/bin/python3 - "$history" <<'PY' 2>/dev/null || echo -
import json, sys
e = json.load(open(sys.argv[1]))["entries"]
print("%s/%s" % (e[0]["ipv4"], e[0]["ipv6"]) if e else "-")
PY
}

# The first check loads what stays loaded (GTK, libnm, TLS, the tray's D-Bus objects): measure
# from the end of it, so the numbers show growth per check and not start-up.
for _ in $(seq 1 600); do [ "$(checks)" -ge 1 ] && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
echo "soak: porthole --background (pid $pid) for ${duration}s after its first check, a check every ${interval}s, a sample every ${sample}s"
printf '%8s %6s %10s %7s  %s\n' "t/s" "fds" "VmRSS/kB" "checks" "last verdict (IPv4/IPv6)"
fds_all=() rss_all=()
start=$SECONDS flipped=
while :; do
    t=$((SECONDS - start))
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "soak: porthole exited early" >&2
        sed 's/^/  /' "$work/porthole.err" | tail -20 >&2
        exit 1
    fi
    fds=$(ls "/proc/$pid/fd" | wc -l)
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
    fds_all+=("$fds") rss_all+=("$rss")
    printf '%8d %6d %10d %7s  %s\n' "$t" "$fds" "$rss" "$(checks)" "$(latest)"
    [ "$t" -ge "$duration" ] && break
    if [ -z "$flipped" ] && [ "$t" -ge $((duration / 2)) ]; then
        PH_QUIET=1 "$topo" case --name "$name" forward 4001 >/dev/null && flipped=1
        echo "# the router now forwards 4001"
    fi
    sleep "$sample"
done

max() { local m=0; for v in "$@"; do [ "$v" -gt "$m" ] && m=$v; done; echo "$m"; }
n=${#fds_all[@]}
echo
printf '%-6s %8s %8s %8s\n' "" first last max
printf '%-6s %8d %8d %8d\n' fds "${fds_all[0]}" "${fds_all[n-1]}" "$(max "${fds_all[@]}")"
printf '%-6s %8d %8d %8d\n' VmRSS "${rss_all[0]}" "${rss_all[n-1]}" "$(max "${rss_all[@]}")"
echo "checks recorded: $(checks)"
grep -c . "$work/porthole.err" >/dev/null && { echo "stderr (last lines):"; tail -5 "$work/porthole.err" | sed 's/^/  /'; }
