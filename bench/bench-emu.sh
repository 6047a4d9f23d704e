#!/usr/bin/env bash
# bench-emu.sh [NETDX] - how fast `netdx emu run` forwards, and how exact its
# delay is under load. One `netdx emu topo` (built and removed here); the
# loads are `netdx bench` between NAME-snd and NAME-rcv. Prints a table;
# asserts nothing.
#
#   1500 B frames   bench stream --flows 8 through --fwd 'delay=1ms' (no rate
#                   limit): frames/s and Gbit/s the emulator sent (fwd: data,
#                   rev: ACKs), from the out_pkts/out_bytes deltas of its
#                   --interval 0.5 lines over the loaded seconds
#   small frames    bench rr --flows 16 --inflight 32 --req 1 --resp 1 (1-byte
#                   payloads: 67-byte frames with TCP timestamps, ACKs 66),
#                   same measure, both directions
#   delay error     --fwd 'delay=5ms': a closed-loop rr probe (1 flow, 1 B
#                   each way, its own server) alone and during each load;
#                   error = probe RTT - base RTT p50 (plain-wire emulator,
#                   no load) - 5 ms, at p50 and p99
#   rate=1G         the same 8 flows through 'delay=5ms rate=1G buffer=1bdp':
#                   the emulator at the target rate
#   targets: >= 1 Gbit/s with 1500 B frames; delay error p99 < 200 us, the
#   delay error being the emulator's own (tx_late: each frame's departure
#   against its exact due time, both directions); the probe's RTT is shown
#   too but adds the endpoints' wake-ups and, under a rate limit, queueing
#
# DUR=S seconds per load (default 5). Needs root, iproute2, ss, python3.
# Everything it creates is removed on exit, failure, SIGINT and SIGTERM.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
NETDX=${1:-$root/build/netdx}
DUR=${DUR:-5}
[[ -x $NETDX ]] || { echo "bench-emu: netdx binary '$NETDX' not found (build it, or pass its path)" >&2; exit 1; }
NETDX=$(cd "$(dirname "$NETDX")" && pwd)/$(basename "$NETDX")
[[ $EUID -eq 0 ]] || { echo "bench-emu: needs root (network namespaces)" >&2; exit 1; }
for t in ip ss python3 timeout; do
	command -v "$t" >/dev/null || { echo "bench-emu: $t not installed" >&2; exit 1; }
done

NAME=$(printf 'be%x' $$)
NAME=${NAME:0:8}
TMP=$(mktemp -d /tmp/ndx-bench-emu.XXXXXX)
PIDS=()
# shellcheck source=tests/scenarios/emu_lib.sh
source "$here/../tests/scenarios/emu_lib.sh"
emu_trap
warn() { echo "bench-emu: $*" >&2; }

# client_bg OUT MODE PORT ARGS...: bench client in NAME-snd, in the background (CPID)
client_bg() {
	local out=$1 mode=$2 port=$3; shift 3
	ip netns exec "$NAME-snd" timeout $((DUR + 120)) "$NETDX" bench "$mode" "$RCV" --port "$port" --json "$@" \
		>"$out" 2>"$out.err" &
	CPID=$!
	PIDS+=("$CPID")
}
cwait() {
	timeout $((DUR + 130)) tail --pid="$1" -f /dev/null 2>/dev/null
	wait "$1" 2>/dev/null || warn "bench client ($(basename "$2" .json)): $(head -c 300 "$2.err")"
}
jv() {  # jv FILE KEY.PATH: one value from a JSON document
	python3 -c '
import json, sys
try:
    o = json.load(open(sys.argv[1]))
    for k in sys.argv[2].split("."):
        o = o[int(k)] if isinstance(o, list) else o[k]
    print(o)
except Exception:
    print("nan")' "$1" "$2"
}
# rates EMUOUT: "fwd_pps fwd_bps rev_pps rev_bps avg_frame_fwd avg_frame_rev" over the
# loaded intervals (the out_pkts deltas above 10% of the peak; first and last dropped).
rates() {
	python3 - "$1" <<'EOF'
import json, sys
pts = []
for l in open(sys.argv[1]):
    try: o = json.loads(l)
    except ValueError: continue
    if o.get("type") == "interval":
        pts.append((o["t"], o["fwd"]["out_pkts"], o["fwd"]["out_bytes"], o["rev"]["out_pkts"], o["rev"]["out_bytes"]))
d = [(b[0] - a[0],) + tuple(b[i] - a[i] for i in range(1, 5)) for a, b in zip(pts, pts[1:])]
if not d:
    print("nan " * 6); sys.exit()
peak = max(x[1] + x[3] for x in d)
busy = [i for i, x in enumerate(d) if x[1] + x[3] > 0.1 * peak]
sel = d[busy[0] + 1:busy[-1]] if len(busy) > 2 else [d[i] for i in busy]
t = sum(x[0] for x in sel)
s = [sum(x[i] for x in sel) for i in range(1, 5)]
print(s[0] / t, s[1] * 8 / t, s[2] / t, s[3] * 8 / t, s[1] / max(1, s[0]), s[3] / max(1, s[2]))
EOF
}
# swait PID WHAT: wait (bounded) for a --once server; report a failure
swait() {
	local rc
	timeout 20 tail --pid="$1" -f /dev/null 2>/dev/null
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	rc=$?
	((rc == 0)) || warn "bench server ($2) exited $rc$( ((rc == 139)) && echo ' (SIGSEGV)')"
}
# run_load TAG EMUSPEC LOADMODE LOADARGS... : emulator, load on 7250, probe on 7251
run_load() {
	local tag=$1 spec=$2 mode=$3 lp="" ls="" ps=""; shift 3
	emu_start "$TMP/emu-$tag" --duration 300 --interval 0.5 --fwd "$spec" || return 1
	if [[ $mode != none ]]; then
		server_start 7250 || { emu_stop; return 1; }
		ls=$SRV_PID
		client_bg "$TMP/load-$tag.json" "$mode" 7250 --duration $((DUR + 2)) "$@"
		lp=$CPID
		sleep 1
	fi
	if server_start 7251; then
		ps=$SRV_PID
		client_bg "$TMP/probe-$tag.json" rr 7251 --flows 1 --threads 1 --duration "$DUR"
		cwait "$CPID" "$TMP/probe-$tag.json"
		swait "$ps" "$tag probe, port 7251"
	fi
	if [[ -n $lp ]]; then
		cwait "$lp" "$TMP/load-$tag.json"
		swait "$ls" "$tag load: $mode $*, port 7250"
	fi
	emu_stop
}

if ! timeout 60 "$NETDX" emu topo up "$NAME" >"$TMP/up.out" 2>&1; then
	warn "emu topo up failed: $(cat "$TMP/up.out")"; exit 1
fi
timeout 10 "$NETDX" emu topo show "$NAME" --json >"$TMP/topo.json"
RCV=$(jv "$TMP/topo.json" rcv_addr)
echo "netdx emu benchmark: topology $NAME, $(nproc) CPUs, $DUR s per load, $(uname -r)"

run_load base '' none
run_load big1 'delay=1ms' stream --flows 8
run_load small1 'delay=1ms' rr --flows 16 --inflight 32 --req 1 --resp 1
run_load idle5 'delay=5ms' none
run_load big5 'delay=5ms' stream --flows 8
run_load small5 'delay=5ms' rr --flows 16 --inflight 32 --req 1 --resp 1
run_load rate5 'delay=5ms rate=1G buffer=1bdp' stream --flows 8

base=$(jv "$TMP/probe-base.json" latency_us.p50)
read -r bf_pps bf_bps br_pps br_bps bf_len br_len <<<"$(rates "$TMP/emu-big1")"
read -r sf_pps sf_bps sr_pps sr_bps sf_len sr_len <<<"$(rates "$TMP/emu-small1")"
python3 - "$TMP" "$base" "$bf_pps" "$bf_bps" "$br_pps" "$br_bps" "$bf_len" "$br_len" \
	"$sf_pps" "$sf_bps" "$sr_pps" "$sr_bps" "$sf_len" "$sr_len" <<'EOF'
import json, os, sys
tmp, base = sys.argv[1], float(sys.argv[2])
bf_pps, bf_bps, br_pps, br_bps, bf_len, br_len, sf_pps, sf_bps, sr_pps, sr_bps, sf_len, sr_len = map(float, sys.argv[3:15])
def j(f):
    try: return json.load(open(os.path.join(tmp, f)))
    except Exception: return {}
def lat(tag, q):
    return j("probe-%s.json" % tag).get("latency_us", {}).get(q, float("nan"))
def summ(tag):
    s = {}
    for l in open(os.path.join(tmp, "emu-" + tag)):
        try: o = json.loads(l)
        except ValueError: continue
        if o.get("type") == "summary": s = o
    return s
LOADS = (("idle5", "no load"), ("big5", "under stream 8 flows (1500 B), no rate limit"),
         ("rate5", "under stream 8 flows (1500 B) at rate=1G, buffer 1 BDP"),
         ("small5", "under rr 16x32 (small frames)"))
def drops(tag):
    s = summ(tag)
    return sum(sum(s.get(d, {}).get("drops", {}).values()) for d in ("fwd", "rev")) if s else float("nan")
print()
print("| measure | fwd | rev | both | target |")
print("|---|---|---|---|---|")
print("| 1500 B: stream 8 flows, delay=1ms: frames/s | %.0f | %.0f | %.0f | |" % (bf_pps, br_pps, bf_pps + br_pps))
print("| 1500 B: Gbit/s (frame bytes) | %.3f | %.3f | %.3f | fwd >= 1 |" % (bf_bps / 1e9, br_bps / 1e9, (bf_bps + br_bps) / 1e9))
print("| 1500 B: mean frame size (B) | %.0f | %.0f | | |" % (bf_len, br_len))
print("| small: rr 16 flows x inflight 32, 1 B each way: frames/s | %.0f | %.0f | %.0f | |" % (sf_pps, sr_pps, sf_pps + sr_pps))
print("| small: Mbit/s | %.1f | %.1f | | |" % (sf_bps / 1e6, sr_bps / 1e6))
print("| small: mean frame size (B) | %.0f | %.0f | | |" % (sf_len, sr_len))
print("| small: rr transactions/s | | | %.0f | |" % j("load-small1.json").get("totals", {}).get("tps", float("nan")))
print("| emulator drops (all kinds), 1500 B / small | | | %s / %s | 0 |" % (drops("big1"), drops("small1")))
print()
print("base RTT (plain-wire emulator, rr 1 flow, no load): p50 %.1f us, p99 %.1f us" % (base, lat("base", "p99")))
print()
print("| delay=5ms, probe rr 1 flow | RTT p50 (us) | RTT p99 (us) | error p50 (us) | error p99 (us) | target |")
print("|---|---|---|---|---|---|")
for tag, what in LOADS:
    p50, p99 = lat(tag, "p50"), lat(tag, "p99")
    print("| %s | %.1f | %.1f | %.1f | %.1f | p99 < 200 |" % (what, p50, p99, p50 - base - 5000, p99 - base - 5000))
print()
print("The emulator's own delay error: how late each frame was handed to the kernel")
print("against its exact departure time (tx_late_us in its summary; excludes the")
print("endpoints' wake-ups that the rr probe above also measures).")
print()
print("| delay=5ms run | fwd late p50 (us) | fwd late p99 (us) | rev late p50 (us) | rev late p99 (us) |")
print("|---|---|---|---|---|")
for tag, what in LOADS:
    sm = summ(tag) if os.path.exists(os.path.join(tmp, "emu-" + tag)) else {}
    def late(d, q):
        return sm.get(d, {}).get("tx_late_us", {}).get(q, float("nan"))
    print("| %s | %.1f | %.1f | %.1f | %.1f |" % (what, late("fwd", "p50"), late("fwd", "p99"), late("rev", "p50"), late("rev", "p99")))
print()
print("verdict: 1500 B forwarding %.2f Gbit/s (target >= 1): %s" % (bf_bps / 1e9, "met" if bf_bps >= 1e9 else "NOT met"))
# The delay error is the emulator's own: how late frames leave against their
# exact departure time (the probe's RTT adds the endpoints' wake-ups, and
# under a rate limit the queueing the link is meant to add).
for tag, what in LOADS:
    sm = summ(tag) if os.path.exists(os.path.join(tmp, "emu-" + tag)) else {}
    e = max(sm.get(d, {}).get("tx_late_us", {}).get("p99", float("nan")) for d in ("fwd", "rev"))
    note = " (offered load above what the emulator forwards: frames wait in its ring)" if tag == "big5" else ""
    print("verdict: emulator delay error p99 %s, worse direction: %.1f us (target < 200): %s%s"
          % (what, e, "met" if e < 200 else "NOT met", note))
EOF
