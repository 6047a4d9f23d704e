#!/usr/bin/env bash
# bench-workloads.sh [NETDX] - `netdx bench` against reference tools, on one
# veth pair between two network namespaces (tests/scenarios/bench_lib.sh),
# all in one run. Prints a table of figures and ratios; asserts nothing.
#
#   rr      netdx bench rr (1 flow, closed loop, 64 B each way, --threads 1)
#           vs sockperf ping-pong --tcp -m 64 --full-rtt: transactions/s, p99
#   stream  netdx bench stream (1 and 8 flows) vs iperf3 -P 1 / -P 8: bits/s
#   crr     netdx bench crr (1 flow / 8 flows, 64 B each way) vs crr_ref (a
#           blocking C client and server, bench/crr_ref.c, built here with
#           cc -O2 into the temp dir) with 1 / 8 client threads: connections/s
#
# DUR=seconds per measurement (default 5). Needs root, iproute2, python3,
# cc, iperf3, sockperf (Debian packages). Everything it creates (namespaces,
# veth, processes, temp dir) is removed on exit, failure, INT and TERM.
set -u

here=$(cd "$(dirname "$0")" && pwd)
NETDX=${1:-$here/../build/netdx}
DUR=${DUR:-5}
# shellcheck source=tests/scenarios/bench_lib.sh
. "$here/../tests/scenarios/bench_lib.sh"

die() { echo "bench-workloads: $*" >&2; exit 1; }
[[ $EUID -eq 0 ]] || die "needs root (network namespaces)"
[[ -x $NETDX ]] || die "netdx binary not found: $NETDX"
for t in ip ss python3 cc iperf3 sockperf timeout; do
	command -v "$t" >/dev/null || die "$t not found (apt-get install iperf3 sockperf gcc)"
done
timeout 10 "$NETDX" bench --help >/dev/null 2>&1 || die "'$NETDX bench --help' fails"
[[ $DUR =~ ^[0-9]+$ && $DUR -ge 1 && $DUR -le 600 ]] || die "DUR must be 1..600 seconds"

bl_traps
bl_raise_nofile >/dev/null
bl_topology || die "could not build the namespace topology"
bl_nsc sysctl -qw net.ipv4.ip_local_port_range="10000 65000"
bl_nsc sysctl -qw net.ipv4.tcp_tw_reuse=1
cc -O2 -pthread -o "$BL_TMP/crr_ref" "$here/crr_ref.c" || die "cannot build crr_ref"
echo "# client $BL_NSC $BL_CIP, server $BL_NSS $BL_SIP, $DUR s per measurement" >&2

T=$((DUR + 60))          # time limit of every single run
port=7400
rows="$BL_TMP/rows"
: >"$rows"
row() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$rows"; }   # measure netdx peer better target

# netdx_run OUT MODE [args]: one `netdx bench` run against a --once server.
netdx_run() {
	local out=$1 mode=$2; shift 2
	port=$((port + 1))
	bl_server_start "$port" || { echo '{}' >"$out"; return 1; }
	bl_client "$out" "$T" "$mode" "$port" --duration "$DUR" "$@" ||
		{ echo "netdx bench $mode failed:" >&2; head -c 2000 "$out.err" >&2; }
	bl_server_wait 20 >/dev/null
	echo "# netdx bench $mode $*: reconciled=$(bl_pyv "$out" 'd["totals"]["reconciled"]')" >&2
}
# bg_server NAME cmd...: a reference server in the server namespace, which
# must listen on $port.
bg_server() {
	local name=$1; shift
	bl_bg "$BL_NSS" $((T * 4)) "$BL_TMP/$name.out" "$BL_TMP/$name.err" "$@"
	SRV=$BL_LAST_PID
	bl_wait_listen "$BL_NSS" "$port" 10 "$SRV" || { echo "$name did not start" >&2; head -c 1000 "$BL_TMP/$name.err" >&2; }
}
stop_server() { kill -TERM "$SRV" 2>/dev/null; bl_wait_pid "$SRV" 5; }

# ------------------------------------------------------------------- rr ----
echo "# rr ..." >&2
netdx_run "$BL_TMP/rr.json" rr --flows 1 --threads 1 --req 64 --resp 64
n_tps=$(bl_pyv "$BL_TMP/rr.json" 'd["totals"]["tps"]')
n_p99=$(bl_pyv "$BL_TMP/rr.json" 'd["latency_us"]["p99"]')
port=$((port + 1))
bg_server sockperf sockperf server --tcp -i "$BL_SIP" -p "$port"
bl_nsc timeout "$T" sockperf ping-pong --tcp -i "$BL_SIP" -p "$port" -t "$DUR" -m 64 --full-rtt \
	>"$BL_TMP/sockperf.txt" 2>&1
stop_server
read -r s_tps s_p99 < <(python3 - "$BL_TMP/sockperf.txt" <<'EOF'
import re, sys
t = re.sub(r"\x1b\[[0-9;]*m", "", open(sys.argv[1]).read())
m = re.search(r"\[Valid Duration\] RunTime=([\d.]+) sec; SentMessages=\d+; ReceivedMessages=(\d+)", t)
p = re.search(r"percentile 99\.000 =\s*([\d.]+)", t)
print("%.1f" % (int(m.group(2)) / float(m.group(1))) if m else "?", p.group(1) if p else "?")
EOF
)
row "rr transactions/s (1 flow, closed loop)" "$n_tps" "${s_tps:-?}" higher "netdx/sockperf >= 1"
row "rr p99 latency us (RTT)" "$n_p99" "${s_p99:-?}" lower "netdx/sockperf <= 1"

# --------------------------------------------------------------- stream ----
for P in 1 8; do
	echo "# stream $P ..." >&2
	netdx_run "$BL_TMP/stream.$P.json" stream --flows "$P" --threads 2
	n_bps=$(bl_pyv "$BL_TMP/stream.$P.json" 'd["totals"]["goodput_bps"]')
	port=$((port + 1))
	bg_server "iperf3.$P" iperf3 -s -1 -B "$BL_SIP" -p "$port"
	bl_nsc timeout "$T" iperf3 -c "$BL_SIP" -p "$port" -P "$P" -t "$DUR" -J >"$BL_TMP/iperf3.$P.json" 2>&1
	bl_wait_pid "$SRV" 10
	i_bps=$(bl_pyv "$BL_TMP/iperf3.$P.json" 'd["end"]["sum_received"]["bits_per_second"]')
	row "stream goodput bit/s ($P flow(s))" "$n_bps" "$i_bps" higher "netdx/iperf3 >= 1"
done

# ------------------------------------------------------------------ crr ----
for C in 1 8; do
	echo "# crr $C ..." >&2
	th=$((C > 1 ? 2 : 1))
	netdx_run "$BL_TMP/crr.$C.json" crr --flows "$C" --threads "$th" --req 64 --resp 64
	n_cps=$(bl_pyv "$BL_TMP/crr.$C.json" 'd["totals"]["tps"]')
	port=$((port + 1))
	bg_server "crr_ref.$C" "$BL_TMP/crr_ref" server "$BL_SIP" "$port" "$th" 64 64
	bl_nsc timeout "$T" "$BL_TMP/crr_ref" client "$BL_SIP" "$port" "$DUR" "$C" 64 64 \
		>"$BL_TMP/crr_ref.$C.txt" 2>&1
	stop_server
	r_cps=$(sed -n 's/.* cps \([0-9.]*\) .*/\1/p' "$BL_TMP/crr_ref.$C.txt")
	echo "# crr_ref $C: $(cat "$BL_TMP/crr_ref.$C.txt")" >&2
	row "crr connections/s ($C flow(s))" "$n_cps" "${r_cps:-?}" higher "netdx/crr_ref >= 1"
done

# ---------------------------------------------------------------- table ----
python3 - "$rows" "$DUR" <<'EOF'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
def f(x):
    try: return float(x)
    except ValueError: return None
def show(x):
    v = f(x)
    if v is None: return "?"
    return "%.3g G" % (v / 1e9) if v >= 1e8 else ("%.0f" % v if v >= 100 else "%.1f" % v)
print("| measure (%s s each) | netdx | peer | ratio netdx/peer | target | met |" % sys.argv[2])
print("|---|---|---|---|---|---|")
for m, a, b, better, target in rows:
    x, y = f(a), f(b)
    r = x / y if x is not None and y else None
    met = "?" if r is None else ("yes" if (r >= 1 if better == "higher" else r <= 1) else "no")
    print("| %s | %s | %s | %s | %s | %s |" % (m, show(a), show(b),
          "?" if r is None else "%.2f" % r, target, met))
EOF
