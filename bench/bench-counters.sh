#!/usr/bin/env bash
# bench-counters.sh [NETDX] - how long one snapshot of every counter of a host
# with 50 network namespaces of 3 interfaces each takes with `netdx counters`,
# against the peer tools run over the same namespaces, in one run. Prints a
# table and the ratio; asserts nothing.
#
#   namespaces   NS=50 (default) named ndxbc-PID-I in a ring, each with lo
#                and two veth ends, vn to the next namespace and vp from the
#                previous one: 3 interfaces; IPv4 addresses in 10.74.0.0/16
#   peers        for every namespace: nstat -asz (in it, through nsenter --net,
#                the cheapest way in), ip -s link, tc -s qdisc; output to
#                /dev/null
#   netdx        netdx counters snapshot --json --netns 'ndxbc-PID-*' (the same
#                namespaces; it reads more: ethtool, snmp6, conntrack too), and
#                the whole host without a filter; output to /dev/null
#   scrape       one GET /metrics of `netdx counters serve --netns ...`
#
# RUNS=N runs of each, the best kept (default 5). Target: peers / netdx >= 10.
# Needs root, ip, tc, nstat, nsenter, curl, python3. Everything it creates is
# removed on exit, failure, SIGINT and SIGTERM.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
NETDX=${1:-$root/build/netdx}
NS=${NS:-50}
RUNS=${RUNS:-5}
[[ -x $NETDX ]] || { echo "bench-counters: netdx binary '$NETDX' not found (build it, or pass its path)" >&2; exit 1; }
NETDX=$(cd "$(dirname "$NETDX")" && pwd)/$(basename "$NETDX")
[[ $EUID -eq 0 ]] || { echo "bench-counters: needs root (network namespaces)" >&2; exit 1; }
for t in ip tc nstat nsenter curl python3; do
	command -v "$t" >/dev/null || { echo "bench-counters: $t not installed" >&2; exit 1; }
done

PFX="ndxbc-$$"
PIDS=()
TMP=$(mktemp -d /tmp/ndx-bench-counters.XXXXXX)
# shellcheck source=tests/counters/ctr_lib.sh
source "$root/tests/counters/ctr_lib.sh"
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	for i in $(seq 0 $((NS - 1))); do ip netns del "$PFX-$i" 2>/dev/null; done
	rm -rf "$TMP"
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "bench-counters: making $NS namespaces of 3 interfaces each ..." >&2
for i in $(seq 0 $((NS - 1))); do
	ip netns add "$PFX-$i" || exit 1
done
for i in $(seq 0 $((NS - 1))); do
	j=$(( (i + 1) % NS ))
	ip -n "$PFX-$i" link set lo up || exit 1
	ip link add vn netns "$PFX-$i" type veth peer name vp netns "$PFX-$j" || exit 1
done
for i in $(seq 0 $((NS - 1))); do
	ip -n "$PFX-$i" link set vn up
	ip -n "$PFX-$i" link set vp up
	ip -n "$PFX-$i" addr add "10.74.$i.1/24" dev vn
done

now() { date +%s%N; }
# best CMD...: the fastest of RUNS runs of CMD, in ms
best() {
	local b="" t0 t1 ms
	for _ in $(seq "$RUNS"); do
		t0=$(now)
		"$@" >/dev/null 2>&1
		t1=$(now)
		ms=$(( (t1 - t0) / 1000 ))
		if [[ -z $b || $ms -lt $b ]]; then b=$ms; fi
	done
	python3 -c "print('%.1f' % ($b / 1000.0))"
}
peers() {
	local ns
	for ns in $(seq 0 $((NS - 1))); do
		ns="$PFX-$ns"
		nsenter --net="/run/netns/$ns" nstat -asz
		ip -n "$ns" -s link
		tc -n "$ns" -s qdisc
	done
}
scrape() { curl -s -o /dev/null "http://127.0.0.1:$PORT/metrics"; }

# What one snapshot holds.
"$NETDX" counters snapshot --json --netns "$PFX-*" >"$TMP/snap.json"
counters=$(grep -c '"type":"counter"' "$TMP/snap.json")
nns=$(grep -c '"type":"netns"' "$TMP/snap.json")
peer_lines=$(peers 2>/dev/null | wc -l)

t_peer=$(best peers)
t_netdx=$(best "$NETDX" counters snapshot --json --netns "$PFX-*")
t_host=$(best "$NETDX" counters snapshot --json)
ctr_serve_bg "$TMP/serve.err" --netns "$PFX-*"
t_scrape=$( [[ -n $PORT ]] && best scrape || echo nan)

python3 - "$NS" "$nns" "$counters" "$peer_lines" "$t_peer" "$t_netdx" "$t_host" "$t_scrape" "$RUNS" <<'EOF'
import sys
ns, nns, counters, lines, peer, netdx, host, scrape, runs = sys.argv[1:10]
peer, netdx = float(peer), float(netdx)
print("netdx counters: one snapshot of %s namespaces x 3 interfaces (best of %s runs)" % (ns, runs))
print("  %-58s %10s" % ("", "ms"))
print("  %-58s %10.1f" % ("peers: nstat -asz + ip -s link + tc -s qdisc, per namespace", peer))
print("  %-58s %10.1f" % ("netdx counters snapshot --json --netns (%s ns, %s counters)" % (nns, counters), netdx))
print("  %-58s %10s" % ("netdx counters snapshot --json, the whole host", host))
print("  %-58s %10s" % ("GET /metrics of netdx counters serve --netns", scrape))
print("  peers print %s lines; netdx reads ethtool, snmp6 and conntrack as well" % lines)
print("ratio peers / netdx: %.1f (target >= 10)" % (peer / netdx if netdx > 0 else float("nan")))
EOF
