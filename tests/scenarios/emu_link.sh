#!/usr/bin/env bash
# emu_link.sh NETDX - TAP scenario: the link `netdx emu run` emulates, measured
# with `netdx bench` across one `netdx emu topo` (NAME-snd -- NAME-mid -- NAME-rcv):
#
#   delay    --fwd 'delay=20ms': rr p50 within 10% of 20 ms (base RTT through
#            a plain-wire emulator printed for reference)
#   rate     --fwd 'rate=100M buffer=1bdp delay=5ms' --rev 'delay=5ms': one
#            stream flow, 5 s: goodput within 5% of 100M x 1448/1514
#   buffer   --fwd 'rate=50M buffer=30000', 4 stream flows: queue.bytes_max
#            <= 30000, drops.buffer > 0, and the summary balances: in_pkts ==
#            out_pkts + drops (buffer, aqm, loss, engine_full, mtu) + queue.pkts
#            + delay_line_pkts
#   loss     --fwd 'loss=0.02', >= 100k frames: drops.loss / in_pkts within the
#            99.9% binomial bound |x - p| <= 3.3 sqrt(p(1-p)/n)
#   aqm      1 Cubic stream flow (BBR would keep the queue short itself), 5 s, 'rate=50M delay=10ms buffer=2000p' with fifo,
#            codel, pie: sojourn p50 fifo >= 20 ms; codel <= 10 ms; pie <= 30 ms;
#            both below half of fifo's
#   set      stream through rate=100M; `netdx emu set NAME --fwd 'rate=20M'`
#            halfway: the out_bytes deltas of the --interval 0.5 lines give
#            ~20 Mbit/s after the change (within 15%), > 60 Mbit/s before
#   down     emu run + bench server, kill -9 the run, `emu topo down`: no
#            NAME-* namespace, none of the processes left
#
# Needs root, iproute2, ss, python3. About 1.5 minutes. Everything it
# creates (namespaces, processes, temp files) is removed on exit, failure,
# SIGINT and SIGTERM.
set -u

NETDX=${1:-}
if [[ -z "$NETDX" || ! -x "$NETDX" ]]; then
	echo "1..0 # SKIP netdx binary not given or not executable: '${NETDX}'"
	exit 0
fi
NETDX=$(cd "$(dirname "$NETDX")" && pwd)/$(basename "$NETDX")
if [[ $EUID -ne 0 ]]; then echo "1..0 # SKIP needs root (network namespaces)"; exit 0; fi
for t in ip ss python3 timeout pgrep; do
	if ! command -v "$t" >/dev/null; then echo "1..0 # SKIP $t not installed"; exit 0; fi
done

NAME=$(printf 'el%x' $$)
NAME=${NAME:0:8}
NSS=("$NAME-snd" "$NAME-mid" "$NAME-rcv")
for ns in "${NSS[@]}"; do
	if [[ -e /run/netns/$ns ]]; then echo "1..0 # SKIP namespace $ns exists already (not ours)"; exit 0; fi
done
TMP=$(mktemp -d /tmp/ndx-emu-link.XXXXXX)
PIDS=()
EMU_PID=""

# shellcheck source=tests/scenarios/emu_lib.sh
source "$(dirname "$0")/emu_lib.sh"
emu_trap

N=0
ok() { N=$((N + 1)); echo "ok $N - $1"; }
notok() { N=$((N + 1)); echo "not ok $N - $1"; }
diag() { echo "$*" | sed 's/^/# /'; }
difile() { [[ -s $1 ]] && head -c 2000 "$1" | sed 's/^/#   /'; }
emu_say() { diag "$1"; [[ -n ${2:-} ]] && difile "$2"; return 0; }
# check DESC PYEXPR: ok if the python expression (over V, the values dict) is true
declare -A V
check() {
	local desc=$1 expr=$2 args="" k
	for k in "${!V[@]}"; do args+="$k=${V[$k]}"$'\n'; done
	if python3 -c '
import sys, math
V = {}
for l in sys.argv[2].splitlines():
    k, _, v = l.partition("=")
    try: V[k] = float(v)
    except ValueError: V[k] = float("nan")
sys.exit(0 if eval(sys.argv[1], {"math": math}, V) else 1)' "$expr" "$args" 2>"$TMP/check.err"; then
		ok "$desc"
	else
		notok "$desc"
		diag "  failed: $expr"
		difile "$TMP/check.err"
	fi
}
# jv FILE PATH...: values from a JSON document (or the last line of NDJSON
# whose "type" is "summary"), by dotted path; one line per path, "nan" if absent.
jv() {
	python3 - "$@" <<'EOF'
import json, sys
f = sys.argv[1]
try:
    txt = open(f).read()
    try:
        d = json.loads(txt)
    except ValueError:
        d = None
        for l in txt.splitlines():
            try:
                o = json.loads(l)
            except ValueError:
                continue
            if o.get("type") == "summary":
                d = o
except OSError:
    d = None
for p in sys.argv[2:]:
    o = d
    for k in p.split("."):
        if isinstance(o, list):
            o = o[int(k)] if k.isdigit() and int(k) < len(o) else None
        elif isinstance(o, dict):
            o = o.get(k)
        else:
            o = None
    print("nan" if o is None or isinstance(o, (dict, list)) else o)
EOF
}

# client OUT TMO MODE ARGS...: bench client in NAME-snd against the receiver.
client() {
	local out=$1 tmo=$2 mode=$3 rc; shift 3
	# in the background + wait: a signal's trap runs at once, not after the client
	ip netns exec "$NAME-snd" timeout "$tmo" "$NETDX" bench "$mode" "$RCV" --json "$@" >"$out" 2>"$out.err" &
	PIDS+=("$!")
	wait "$!"
	rc=$?
	[[ $rc -eq 0 ]] || { diag "bench $mode $* exited $rc"; difile "$out.err"; }
	return $rc
}
# workload EMUOUT CLIOUT TMO EMUARGS -- MODE CLIARGS: emulator, server, client, stop.
workload() {
	local eout=$1 cout=$2 tmo=$3 a=() rc=1; shift 3
	while [[ $# -gt 0 && $1 != -- ]]; do a+=("$1"); shift; done
	shift
	: >"$cout"
	if emu_start "$eout" --duration 120 "${a[@]}"; then
		if server_start; then
			client "$cout" "$tmo" "$@" && rc=0
			server_wait
		fi
	fi
	emu_stop
	return $rc
}

echo "1..17"
if ! timeout 60 "$NETDX" emu topo up "$NAME" >"$TMP/up.out" 2>&1; then
	diag "emu topo up $NAME failed"; difile "$TMP/up.out"
	exit 1
fi
timeout 10 "$NETDX" emu topo show "$NAME" --json >"$TMP/topo.json"
RCV=$(jv "$TMP/topo.json" rcv_addr)
diag "topology $NAME: receiver $RCV"

# ------------------------------------------------------------------ delay --
workload "$TMP/e0" "$TMP/rr0.json" 30 -- rr --duration 3
base=$(jv "$TMP/rr0.json" latency_us.p50)
workload "$TMP/e1" "$TMP/rr1.json" 30 --fwd 'delay=20ms' -- rr --duration 3
read -r p50 p99 <<<"$(jv "$TMP/rr1.json" latency_us.p50 latency_us.p99 | xargs)"
diag "delay: base RTT p50 ${base} us (plain-wire emulator); delay=20ms: RTT p50 ${p50} us, p99 ${p99} us"
V=([p50]=$p50)
check "delay=20ms: rr p50 $p50 us within 10% of 20000 us" 'abs(p50 - 20000) <= 2000'

# ------------------------------------------------------------------- rate --
workload "$TMP/e2" "$TMP/st2.json" 30 --fwd 'rate=100M buffer=1bdp delay=5ms' --rev 'delay=5ms' \
	-- stream --flows 1 --duration 5
gp=$(jv "$TMP/st2.json" totals.goodput_bps)
tgt=$(python3 -c 'print(100e6 * 1448 / 1514)')
diag "rate: cc $(jv "$TMP/st2.json" flows.0.cc), goodput $gp bit/s, target $tgt bit/s (100M x 1448/1514); emulator fwd throughput $(jv "$TMP/e2" fwd.throughput_bps) bit/s, utilisation $(jv "$TMP/e2" fwd.utilisation)"
V=([gp]=$gp [tgt]=$tgt)
check "rate=100M: goodput within 5% of 100M x 1448/1514" 'abs(gp - tgt) <= 0.05 * tgt'

# ----------------------------------------------------------------- buffer --
workload "$TMP/e3" "$TMP/st3.json" 30 --fwd 'rate=50M buffer=30000' -- stream --flows 4 --duration 4
keys=(in_pkts out_pkts drops.buffer drops.aqm drops.loss drops.engine_full drops.mtu drops.tx_error
	drops.capture_kernel queue.pkts queue.delay_line_pkts queue.bytes_max queue.limit_bytes)
mapfile -t vals < <(jv "$TMP/e3" "${keys[@]/#/fwd.}")
V=()
for i in "${!keys[@]}"; do V[${keys[$i]//./_}]=${vals[$i]}; done
diag "buffer: $(for i in "${!keys[@]}"; do printf '%s=%s ' "${keys[$i]}" "${vals[$i]}"; done)"
check "buffer=30000: queue.bytes_max ${V[queue_bytes_max]} <= 30000" 'queue_bytes_max <= 30000'
check "buffer=30000: drops.buffer ${V[drops_buffer]} > 0 (4 flows overload 50M)" 'drops_buffer > 0'
check "summary balances: in_pkts == out_pkts + drops + queue.pkts + delay_line_pkts" \
	'in_pkts == out_pkts + drops_buffer + drops_aqm + drops_loss + drops_engine_full + drops_mtu + queue_pkts + queue_delay_line_pkts'
check "buffer: no frames lost before the emulator (capture_kernel, engine_full, mtu, tx_error == 0)" \
	'drops_capture_kernel + drops_engine_full + drops_mtu + drops_tx_error == 0'

# ------------------------------------------------------------------- loss --
workload "$TMP/e4" "$TMP/st4.json" 30 --fwd 'loss=0.02' -- stream --flows 2 --duration 4
read -r lin lloss lbuf <<<"$(jv "$TMP/e4" fwd.in_pkts fwd.drops.loss fwd.drops.mtu | xargs)"
V=([n]=$lin [k]=$lloss [p]=0.02)
diag "loss: $lloss of $lin frames lost ($(python3 -c "print('%.5f' % ($lloss / max(1, $lin)))")), bound +/- $(python3 -c "import math; print('%.5f' % (3.3 * math.sqrt(0.02 * 0.98 / max(1, $lin))))"); mtu drops $lbuf"
check "loss=0.02: >= 100000 frames in the sample ($lin)" 'n >= 100000'
check "loss=0.02: drops.loss/in_pkts within 3.3 sigma of 0.02" 'n > 0 and abs(k / n - p) <= 3.3 * math.sqrt(p * (1 - p) / n)'

# -------------------------------------------------------------------- aqm --
declare -A SJ
for q in fifo codel pie; do
	workload "$TMP/e5$q" "$TMP/st5$q.json" 30 --fwd "rate=50M delay=10ms buffer=2000p qdisc=$q" \
		-- stream --flows 1 --cc cubic --duration 5
	SJ[$q]=$(jv "$TMP/e5$q" fwd.sojourn_us.p50)
	diag "aqm $q: sojourn p50 ${SJ[$q]} us p99 $(jv "$TMP/e5$q" fwd.sojourn_us.p99) us; drops buffer $(jv "$TMP/e5$q" fwd.drops.buffer) aqm $(jv "$TMP/e5$q" fwd.drops.aqm); goodput $(jv "$TMP/st5$q.json" totals.goodput_bps)"
done
V=([fifo]=${SJ[fifo]} [codel]=${SJ[codel]} [pie]=${SJ[pie]})
check "fifo: sojourn p50 ${SJ[fifo]} us >= 20 ms (standing queue)" 'fifo >= 20000'
check "codel: sojourn p50 ${SJ[codel]} us <= 10 ms (2 x target 5 ms) and < fifo/2" 'codel <= 10000 and codel < fifo / 2'
check "pie: sojourn p50 ${SJ[pie]} us <= 30 ms (2 x target 15 ms) and < fifo/2" 'pie <= 30000 and pie < fifo / 2'

# -------------------------------------------------------------- run-time set --
setrc=1; tset=0
: >"$TMP/st6.json"
if emu_start "$TMP/e6" --duration 120 --fwd 'rate=100M buffer=100p' --interval 0.5; then
	if server_start; then
		ip netns exec "$NAME-snd" timeout 30 "$NETDX" bench stream "$RCV" --json --flows 1 --duration 7 \
			>"$TMP/st6.json" 2>"$TMP/st6.err" &
		cpid=$!
		PIDS+=("$cpid")
		sleep 3.5
		tset=$(python3 -c '
import json, sys
t = 0
for l in open(sys.argv[1]):
    try: t = max(t, json.loads(l).get("t", 0))
    except ValueError: pass
print(t)' "$TMP/e6")
		timeout 10 "$NETDX" emu set "$NAME" --fwd 'rate=20M' >"$TMP/set.out" 2>&1
		setrc=$?
		timeout 10 "$NETDX" emu stats "$NAME" >"$TMP/stats.json" 2>&1 || diag "emu stats failed: $(cat "$TMP/stats.json")"
		timeout 40 tail --pid="$cpid" -f /dev/null
		wait "$cpid" 2>/dev/null || diag "stream client: $(head -c 300 "$TMP/st6.err")"
		server_wait
	fi
fi
emu_stop
[[ $setrc -eq 0 ]] || { diag "emu set failed ($setrc):"; difile "$TMP/set.out"; }
read -r before after srate <<<"$(python3 - "$TMP/e6" "$tset" "$TMP/stats.json" <<'EOF'
import json, sys
pts = []
for l in open(sys.argv[1]):
    try: o = json.loads(l)
    except ValueError: continue
    if o.get("type") == "interval":
        pts.append((o["t"], o["fwd"]["out_bytes"]))
ts = float(sys.argv[2])
def rate(a, b):
    sel = [p for p in pts if a <= p[0] <= b]
    if len(sel) < 2: return float("nan")
    return (sel[-1][1] - sel[0][1]) * 8 / (sel[-1][0] - sel[0][0])
try: sr = json.load(open(sys.argv[3]))["fwd_settings"]["rate_bps"]
except Exception: sr = float("nan")
# before: from 1 s after the start to the change; after: 1 s after it to 1 s before the end
end = max([p[0] for p in pts] or [0])
print(rate(1.0, ts), rate(ts + 1.0, min(end, ts + 4.0)), sr)
EOF
)"
diag "set: change at t=${tset}s; before $before bit/s, after $after bit/s (out_bytes deltas); emu stats fwd rate_bps after set: $srate"
V=([before]=$before [after]=$after [rc]=$setrc [srate]=$srate)
check "emu set --fwd rate=20M succeeds and stats show rate_bps 20000000" 'rc == 0 and srate == 20e6'
check "set: throughput after the change within 15% of 20 Mbit/s" 'abs(after - 20e6) <= 0.15 * 20e6'
check "set: throughput before the change > 60 Mbit/s" 'before > 60e6'

# ------------------------------------------------- topo down after kill -9 --
emu_start "$TMP/e7" --duration 120
server_start
inside=$( (ip netns pids "$NAME-mid"; ip netns pids "$NAME-rcv") 2>/dev/null | sort -u | xargs)
diag "down: processes inside before: $inside (emu run $EMU_PID, server $SRV_PID)"
kill -9 "$EMU_PID" 2>/dev/null
wait "$EMU_PID" 2>/dev/null
EMU_PID=""
timeout 30 "$NETDX" emu topo down "$NAME" >"$TMP/down.out" 2>&1
drc=$?
sleep 0.2
left_ns=$(ip netns list | awk '{print $1}' | grep -E "^$NAME-" | xargs)
left_p=""
for p in $inside; do [[ -d /proc/$p ]] && left_p+="$p($(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null)) "; done
left_pg=$(pgrep -f "emu run $NAME( |$)" | xargs)
diag "down: rc $drc; namespaces left: '${left_ns}'; processes left: '${left_p}${left_pg}'"
V=([rc]=$drc [nns]=$(wc -w <<<"$left_ns") [np]=$(wc -w <<<"$left_p $left_pg"))
check "topo down after kill -9 of emu run: exit 0" 'rc == 0'
check "topo down: no $NAME-* namespace left" 'nns == 0'
check "topo down: no process left (server, emu run)" 'np == 0'
