#!/usr/bin/env bash
# bench-drops.sh [NETDX] - the cost of `netdx drops` on a request/response
# workload over a veth pair, against the bpftrace one-liner
#   tracepoint:skb:kfree_skb { @[args->reason] = count(); }
# in one run, on the same workload (tests/scenarios/bench_lib.sh topology):
#
#   +------------------------------+           +------------------------------+
#   | client ns                    |           | server ns                    |
#   |  netdx bench rr (64 B each   |== veth ===|  netdx bench server --once   |
#   |  way, closed loop)           |           |  (UDP :9 closed: drops)      |
#   +------------------------------+           +------------------------------+
#   netdx drops / bpftrace run in the initial namespace, seeing both.
#
# Two workloads: "rr" (the request/response alone: the programs run only on
# the few drops there are) and "rr+drops" (the same with a paced background
# of UDP datagrams to a closed port, ~$DROP_PPS drops/s, so the programs run
# for real). For each, the conditions none / netdx drops / netdx drops
# --flows / bpftrace are measured in turn, $ROUNDS rounds, $DUR s each; the
# median transactions/s per condition and the ratios to "none" are printed.
# Client and server are pinned to CPUs 0 and 1 (the flood shares the
# server's), so placement does not decide the figures.
# Target: netdx costs at most 3% of transactions and no more than bpftrace.
# Also, measured apart (no workload), each program's own cost per drop from
# the kernel's BPF run-time statistics: a figure the machine's noise does
# not move.
#
# DUR (default 5), ROUNDS (default 5), FLOWS (rr flows, default 2),
# DROP_PPS (default 20000). Needs root, iproute2, python3; installs bpftrace
# with apt-get when it is missing. bpftrace's classic tracepoint needs
# tracefs: it runs in a private mount namespace where tracefs is mounted, so
# nothing changes outside. Everything created (namespaces, veth, processes,
# temp dir) is removed on exit, failure, INT and TERM.
set -u

here=$(cd "$(dirname "$0")" && pwd)
NETDX=${1:-$here/../build/netdx}
DUR=${DUR:-5}
ROUNDS=${ROUNDS:-5}
FLOWS=${FLOWS:-2}
DROP_PPS=${DROP_PPS:-20000}
# shellcheck source=tests/scenarios/bench_lib.sh
. "$here/../tests/scenarios/bench_lib.sh"

die() { echo "bench-drops: $*" >&2; exit 1; }
[[ $EUID -eq 0 ]] || die "needs root (network namespaces, eBPF)"
[[ -x $NETDX ]] || die "netdx binary not found: $NETDX"
for v in DUR ROUNDS FLOWS DROP_PPS; do
	[[ ${!v} =~ ^[0-9]+$ && ${!v} -ge 1 ]] || die "$v must be a positive whole number"
done
for t in ip ss python3 timeout unshare bpftool flock; do
	command -v "$t" >/dev/null || die "$t not found"
done
if ! command -v bpftrace >/dev/null; then
	echo "# installing bpftrace (apt-get)" >&2
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends bpftrace; } >/dev/null || die "cannot install bpftrace"
fi
"$NETDX" drops --help >/dev/null 2>&1 || die "'$NETDX drops --help' fails"

bl_traps
bl_topology || die "could not build the namespace topology"
echo "# client $BL_NSC $BL_CIP, server $BL_NSS $BL_SIP; $ROUNDS rounds x $DUR s;" \
	"rr: $FLOWS flows, 64 B" >&2

T=$((DUR + 60))
port=7500
res="$BL_TMP/results"
: >"$res"

# tracer_start COND: start the tracer of condition COND, return once it is
# attached. TRACER holds its pid ("" for none).
TRACER=""
tracer_start() {
	local cond=$1 out=$BL_TMP/tracer.out i
	: >"$out"
	case $cond in
	none) TRACER=""; return 0 ;;
	netdx) "$NETDX" drops --interval 0 --duration $((T * 2)) >"$out" 2>&1 & ;;
	netdx-flows) "$NETDX" drops --flows --interval 0 --duration $((T * 2)) >"$out" 2>&1 & ;;
	bpftrace)
		unshare -m --propagation private sh -c \
			'mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing; exec bpftrace -e "tracepoint:skb:kfree_skb { @[args->reason] = count(); }"' \
			>"$out" 2>&1 &
		;;
	esac
	TRACER=$!
	BL_PIDS+=("$TRACER")
	for ((i = 0; i < 300; i++)); do
		grep -qE 'attached via|Attaching 1 probe' "$out" && return 0
		kill -0 "$TRACER" 2>/dev/null || break
		sleep 0.05
	done
	echo "bench-drops: $cond did not attach:" >&2
	head -c 2000 "$out" >&2
	return 1
}

tracer_stop() {
	[[ -n $TRACER ]] || return 0
	kill -INT "$TRACER" 2>/dev/null
	bl_wait_pid "$TRACER" 10
	TRACER=""
}

# flood_start: paced UDP to a closed port of the server (NO_SOCKET drops).
FLOOD=""
flood_start() {
	bl_bg "$BL_NSC" $((T * 2)) "$BL_TMP/flood.out" "$BL_TMP/flood.err" "${PIN_S[@]}" python3 -c '
import socket, sys, time
pps, dst = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
batch, t, n = 100, time.monotonic(), 0
while True:
    for _ in range(batch):
        try: s.sendto(b"d" * 32, (dst, 9))
        except OSError: pass
    n += batch
    ahead = n / pps - (time.monotonic() - t)
    if ahead > 0: time.sleep(ahead)
' "$DROP_PPS" "$BL_SIP"
	FLOOD=$BL_LAST_PID
}
flood_stop() {
	[[ -n $FLOOD ]] || return 0
	kill -TERM "$FLOOD" 2>/dev/null
	bl_wait_pid "$FLOOD" 5
	FLOOD=""
}

# Client and server on CPUs of their own (when there are two): otherwise
# the scheduler's placement, not the tracer, decides the figure.
PIN_C=() PIN_S=()
if command -v taskset >/dev/null && (($(nproc) >= 2)); then
	PIN_C=(taskset -c 0) PIN_S=(taskset -c 1)
fi

# measure WORKLOAD COND ROUND: one rr run under the condition; appends a row.
measure() {
	local wl=$1 cond=$2 round=$3 out tps srv
	port=$((port + 1))
	out="$BL_TMP/rr.$wl.$cond.$round.json"
	tracer_start "$cond" || return 1
	bl_bg "$BL_NSS" $((T * 2)) "$BL_TMP/server.$port.out" "$BL_TMP/server.$port.err" \
		"${PIN_S[@]}" "$NETDX" bench server --once --bind "$BL_SIP" --port "$port"
	srv=$BL_LAST_PID
	if ! bl_wait_listen "$BL_NSS" "$port" 10 "$srv"; then
		echo "bench-drops: server did not start: $(head -c 500 "$BL_TMP/server.$port.err")" >&2
		tracer_stop
		return 1
	fi
	ip netns exec "$BL_NSC" timeout -k 5 "$T" "${PIN_C[@]}" "$NETDX" bench rr "$BL_SIP" \
		--port "$port" --json --duration "$DUR" --flows "$FLOWS" --threads 1 --req 64 \
		--resp 64 --interval 0 >"$out" 2>"$out.err" ||
		echo "bench-drops: rr failed: $(head -c 500 "$out.err")" >&2
	bl_wait_pid "$srv" 20
	tracer_stop
	tps=$(bl_pyv "$out" 'd["totals"]["tps"]')
	echo "# $wl round $round $cond: $tps tps" >&2
	printf '%s\t%s\t%s\n' "$wl" "$cond" "$tps" >>"$res"
}

# cost_phase: the programs' own cost per drop, from the kernel's BPF run-time
# statistics (kernel.bpf_stats_enabled, a host-wide sysctl: enabled for
# this phase only, under the shared sysctl lock, restored on every exit),
# with the drop flood alone: no noise from the workload or the machine.
STATS_OLD=""
stats_restore() {
	if [[ -n $STATS_OLD ]]; then
		sysctl -qw kernel.bpf_stats_enabled="$STATS_OLD"
		STATS_OLD=""
	fi
	flock -u 8 2>/dev/null
}
trap 'stats_restore; bl_cleanup' EXIT
cost_phase() {
	local cond
	exec 8>/tmp/netdx-sysctl.lock
	flock -w 60 8 || { echo "bench-drops: no sysctl lock; skipping the per-drop cost" >&2; return 1; }
	STATS_OLD=$(sysctl -n kernel.bpf_stats_enabled)
	sysctl -qw kernel.bpf_stats_enabled=1
	flood_start
	for cond in netdx netdx-flows bpftrace; do
		tracer_start "$cond" || continue
		sleep "$DUR"
		bpftool -j prog show >"$BL_TMP/progs.$cond.json" 2>/dev/null
		tracer_stop
		python3 - "$BL_TMP/progs.$cond.json" "$cond" >>"$BL_TMP/cost" <<'PY'
import json, sys
progs, cond = json.load(open(sys.argv[1])), sys.argv[2]
want = (lambda p: p.get("name", "").startswith("ndd_kfree")) if cond != "bpftrace" else \
       (lambda p: p.get("type") == "tracepoint" and p.get("name") == "kfree_skb")
t = sum(p.get("run_time_ns", 0) for p in progs if want(p))
n = sum(p.get("run_cnt", 0) for p in progs if want(p))
print("%s\t%s\t%s" % (cond, n, "%.0f" % (t / n) if n else "?"))
PY
	done
	flood_stop
	stats_restore
}

: >"$BL_TMP/cost"
if command -v bpftool >/dev/null && command -v flock >/dev/null; then
	echo "# per-drop cost (kernel BPF statistics, ~$DROP_PPS drops/s, $DUR s each) ..." >&2
	cost_phase
fi

for wl in rr rr+drops; do
	[[ $wl == rr+drops ]] && flood_start
	for ((r = 1; r <= ROUNDS; r++)); do
		# rotate the order each round so drift does not favour one condition
		conds=(none netdx netdx-flows bpftrace)
		for ((k = 0; k < ${#conds[@]}; k++)); do
			measure "$wl" "${conds[$(((k + r - 1) % ${#conds[@]}))]}" "$r"
		done
	done
	[[ $wl == rr+drops ]] && flood_stop
done

python3 - "$res" "$DUR" "$ROUNDS" "$DROP_PPS" "$BL_TMP/cost" <<'EOF'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
dur, rounds, pps = sys.argv[2], sys.argv[3], sys.argv[4]
tps = {}
for wl, cond, v in rows:
    try:
        tps.setdefault((wl, cond), []).append(float(v))
    except ValueError:
        pass
def med(wl, cond):
    v = tps.get((wl, cond))
    return statistics.median(v) if v else None
print("| workload (%s rounds x %s s) | condition | median tps | ratio to none | cost |" % (rounds, dur))
print("|---|---|---|---|---|")
verdicts = []
for wl in ("rr", "rr+drops"):
    base = med(wl, "none")
    for cond in ("none", "netdx", "netdx-flows", "bpftrace"):
        m = med(wl, cond)
        r = m / base if m and base else None
        print("| %s | %s | %s | %s | %s |" % (
            wl + ("" if wl == "rr" else " (~%s drops/s)" % pps), cond,
            "?" if m is None else "%.0f" % m, "?" if r is None else "%.3f" % r,
            "?" if r is None else "%.1f%%" % ((1 - r) * 100)))
    n, b = med(wl, "netdx"), med(wl, "bpftrace")
    if n and b and base:
        cost_n, cost_b = 1 - n / base, 1 - b / base
        ok = cost_n <= 0.03 and n >= b * 0.99   # "no more than bpftrace", within 1% noise
        verdicts.append("%s: netdx costs %.1f%%, bpftrace %.1f%%, netdx/bpftrace %.3f: %s" % (
            wl, cost_n * 100, cost_b * 100, n / b, "target met" if ok else "target NOT met"))
cost = [l.rstrip("\n").split("\t") for l in open(sys.argv[5]) if l.strip()]
if cost:
    print()
    print("| program cost per drop (kernel BPF statistics) | runs | ns per run |")
    print("|---|---|---|")
    for cond, n, ns in cost:
        print("| %s | %s | %s |" % (cond, n, ns))
    c = {k: v for k, _, v in cost}
    try:
        print("\nnetdx/bpftrace cost per drop: %.2f (netdx), %.2f (netdx --flows)" % (
            float(c["netdx"]) / float(c["bpftrace"]), float(c["netdx-flows"]) / float(c["bpftrace"])))
    except (KeyError, ValueError, ZeroDivisionError):
        pass
print()
for v in verdicts:
    print(v)
EOF
