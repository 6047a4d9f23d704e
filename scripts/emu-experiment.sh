#!/usr/bin/env bash
# emu-experiment.sh [NETDX] [options] - buffer sizing and fairness through
# `netdx emu`: Cubic and BBR flows share one bottleneck
#
#   --fwd 'rate=100M delay=10ms buffer=X bdp qdisc=Q' --rev 'delay=10ms'
#   (BDP = 100 Mbit/s x 20 ms = 250 kB)
#
# for each Q in {fifo, codel, pie, fq_codel} and X in {0.25, 0.5, 1, 2, 4};
# at each point `netdx bench stream --flows N+M --cc cubic x N, bbr x M` for D
# seconds. Recorded: link utilisation = goodput / (100M x 1448/1514), Jain's
# index over the flows, and the Cubic:BBR ratio (mean goodput of a Cubic flow
# / mean goodput of a BBR flow), plus the emulator's buffer and AQM drops at
# the point. One topology and one `netdx emu run` for the whole experiment;
# each point's settings are applied with `netdx emu set` and checked with
# `netdx emu stats` (qdisc, limit_bytes); if set fails or does not take, the
# emulator is restarted with the point's settings (column "how").
#
# options:
#   --quick            D = 3 s, buffers 0.5,1,4 (unless --buffers given)
#   --qdiscs LIST      comma-separated subset (default fifo,codel,pie,fq_codel)
#   --buffers LIST     BDP multiples (default 0.25,0.5,1,2,4)
#   --cubic N --bbr M  flows of each (default 2 and 2)
#   --duration D       seconds per point (default 10)
#   --out DIR          results.tsv, results.md, plot.svg, plot.py (default ./emu-experiment)
#   --name NAME        topology name (default x<pid in hex>; [a-z0-9-], <= 8 chars)
#
# Needs root, iproute2, ss, python3 (no matplotlib: the SVG is written by hand).
# Everything it creates (namespaces, processes) is removed on exit, failure,
# SIGINT and SIGTERM.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
NETDX=$root/build/netdx
QUICK=0 QDISCS="" BUFFERS="" NC=2 NB=2 DUR="" OUT=./emu-experiment
NAME=$(printf 'x%x' $$)
usage() { sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
while [[ $# -gt 0 ]]; do
	case $1 in
	--quick) QUICK=1 ;;
	--qdiscs) QDISCS=${2:?}; shift ;;
	--buffers) BUFFERS=${2:?}; shift ;;
	--cubic) NC=${2:?}; shift ;;
	--bbr) NB=${2:?}; shift ;;
	--duration) DUR=${2:?}; shift ;;
	--out) OUT=${2:?}; shift ;;
	--name) NAME=${2:?}; shift ;;
	-h | --help) usage ;;
	-*) echo "emu-experiment: unknown option $1" >&2; usage ;;
	*) NETDX=$1 ;;
	esac
	shift
done
[[ -n $QDISCS ]] || QDISCS=fifo,codel,pie,fq_codel
if [[ -z $BUFFERS ]]; then
	if ((QUICK)); then BUFFERS=0.5,1,4; else BUFFERS=0.25,0.5,1,2,4; fi
fi
[[ -n $DUR ]] || { if ((QUICK)); then DUR=3; else DUR=10; fi; }
[[ $NAME =~ ^[a-z0-9-]{1,8}$ ]] || { echo "emu-experiment: bad --name '$NAME'" >&2; exit 2; }
[[ $NC =~ ^[0-9]+$ && $NB =~ ^[0-9]+$ && $((NC + NB)) -gt 0 ]] || { echo "emu-experiment: bad flow counts" >&2; exit 2; }
[[ -x $NETDX ]] || { echo "emu-experiment: netdx binary '$NETDX' not found (build it, or pass its path)" >&2; exit 1; }
NETDX=$(cd "$(dirname "$NETDX")" && pwd)/$(basename "$NETDX")
[[ $EUID -eq 0 ]] || { echo "emu-experiment: needs root (network namespaces)" >&2; exit 1; }
for t in ip ss python3 timeout; do
	command -v "$t" >/dev/null || { echo "emu-experiment: $t not installed" >&2; exit 1; }
done
for ns in "$NAME-snd" "$NAME-mid" "$NAME-rcv"; do
	[[ ! -e /run/netns/$ns ]] || { echo "emu-experiment: namespace $ns exists already" >&2; exit 1; }
done
mkdir -p "$OUT" || exit 1
OUT=$(cd "$OUT" && pwd)
TMP=$(mktemp -d /tmp/ndx-emu-exp.XXXXXX)
PIDS=()
# shellcheck source=tests/scenarios/emu_lib.sh
source "$(dirname "$0")/../tests/scenarios/emu_lib.sh"
emu_trap
log() { echo "emu-experiment: $*" >&2; }

RATE=100M REV='delay=10ms'
spec() { echo "rate=$RATE delay=10ms buffer=${1}bdp qdisc=$2"; }

# stats FILE: `netdx emu stats` into FILE
stats() { timeout 10 "$NETDX" emu stats "$NAME" >"$1" 2>&1; }
# settings_ok FILE BUF QDISC: the stats show the point's qdisc and byte limit
settings_ok() {
	python3 - "$@" <<'EOF'
import json, sys
try:
    s = json.load(open(sys.argv[1]))["fwd_settings"]
except Exception:
    sys.exit(1)
want = round(float(sys.argv[2]) * 100e6 * 0.020 / 8)
ok = s["qdisc"] == sys.argv[3] and abs(s["limit_bytes"] - want) <= 1 and s["rate_bps"] == 100e6 \
    and abs(s["delay_ms"] - 10) < 1e-6
sys.exit(0 if ok else 1)
EOF
}

if ! timeout 60 "$NETDX" emu topo up "$NAME" >"$TMP/up.out" 2>&1; then
	log "emu topo up failed: $(cat "$TMP/up.out")"; exit 1
fi
RCV=$(timeout 10 "$NETDX" emu topo show "$NAME" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["rcv_addr"])')
cc=""
for ((i = 0; i < NC; i++)); do cc+="cubic,"; done
for ((i = 0; i < NB; i++)); do cc+="bbr,"; done
cc=${cc%,}
IFS=, read -r -a QL <<<"$QDISCS"
IFS=, read -r -a BL <<<"$BUFFERS"
log "topology $NAME; qdiscs ${QL[*]}; buffers ${BL[*]} BDP; $NC cubic + $NB bbr flows; $DUR s per point; out $OUT"

TSV=$OUT/results.tsv
printf 'qdisc\tbuffer_bdp\tbuffer_bytes\tgoodput_bps\tutilisation\tjain\tcubic_bps\tbbr_bps\tcubic_bbr_ratio\tdrops_buffer\tdrops_aqm\tflows\tstalled\thow\n' >"$TSV"
first=1 fails=0
for q in "${QL[@]}"; do
	for b in "${BL[@]}"; do
		how="set"
		if ((first)); then
			emu_start "$TMP/emu.out" --fwd "$(spec "$b" "$q")" --rev "$REV" || exit 1
			how=start
			first=0
		elif ! timeout 10 "$NETDX" emu set "$NAME" --fwd "$(spec "$b" "$q")" >"$TMP/set.out" 2>&1; then
			log "emu set failed ($q, $b): $(head -c 300 "$TMP/set.out"); restarting the emulator"
			how=restart
		fi
		stats "$TMP/s0.json"
		if [[ $how == set ]] && ! settings_ok "$TMP/s0.json" "$b" "$q"; then
			log "emu set did not take ($q, $b): $(head -c 400 "$TMP/s0.json"); restarting the emulator"
			how=restart
		fi
		if [[ $how == restart ]]; then
			emu_stop
			emu_start "$TMP/emu.out" --fwd "$(spec "$b" "$q")" --rev "$REV" || exit 1
			stats "$TMP/s0.json"
		fi
		settings_ok "$TMP/s0.json" "$b" "$q" || log "warning: settings at ($q, $b) are not what was asked: $(head -c 400 "$TMP/s0.json")"
		: >"$TMP/st.json"
		if server_start; then
			ip netns exec "$NAME-snd" timeout $((DUR + 60)) "$NETDX" bench stream "$RCV" --json \
				--flows $((NC + NB)) --cc "$cc" --duration "$DUR" --bottleneck "$RATE" \
				>"$TMP/st.json" 2>"$TMP/st.err" &
			PIDS+=("$!")
			wait "$!" || log "bench stream ($q, $b) exited $?: $(head -c 300 "$TMP/st.err")"
			server_wait
		fi
		stats "$TMP/s1.json"
		cp "$TMP/st.json" "$OUT/stream-$q-$b.json" 2>/dev/null
		python3 - "$TMP/st.json" "$TMP/s0.json" "$TMP/s1.json" "$q" "$b" "$how" >>"$TSV" <<'EOF' || fails=$((fails + 1))
import json, sys
st, s0, s1, q, b, how = sys.argv[1:7]
nan = float("nan")
try:
    d = json.load(open(st))
except Exception:
    d = {}
def dr(s, k):
    try: return json.load(open(s))["fwd"]["drops"][k]
    except Exception: return nan
flows = [f for f in d.get("flows", []) if not f.get("stalled")]
def mean(xs): return sum(xs) / len(xs) if xs else nan
cub = [f["goodput_bps"] for f in flows if f.get("cc") == "cubic"]
bbr = [f["goodput_bps"] for f in flows if f.get("cc") == "bbr"]
gp = d.get("totals", {}).get("goodput_bps", nan)
util = gp / (100e6 * 1448 / 1514)
mc, mb = mean(cub), mean(bbr)
ratio = mc / mb if mb and mb == mb and mb > 0 else nan
row = [q, b, "%d" % round(float(b) * 250000), "%.0f" % gp, "%.4f" % util, "%.4f" % d.get("jain", nan),
       "%.0f" % mc, "%.0f" % mb, "%.4f" % ratio, str(dr(s1, "buffer") - dr(s0, "buffer")),
       str(dr(s1, "aqm") - dr(s0, "aqm")), str(len(d.get("flows", []))),
       str(d.get("totals", {}).get("stalled_flows", "nan")), how]
print("\t".join(row))
sys.exit(0 if d else 1)
EOF
		log "$(tail -1 "$TSV" | tr '\t' ' ')"
		sleep 0.5   # let the queue drain before the next settings
	done
done
emu_stop
cp "$TMP/emu.out" "$OUT/emu.ndjson" 2>/dev/null

cat >"$OUT/plot.py" <<'EOF'
#!/usr/bin/env python3
"""plot.py results.tsv plot.svg: utilisation, Jain's index and the Cubic:BBR
ratio against the buffer size (BDP, log scale), one line per qdisc. Plain SVG."""
import csv, math, sys
from xml.sax.saxutils import escape

rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
def num(x):
    try:
        v = float(x)
        return v if math.isfinite(v) else None
    except (TypeError, ValueError):
        return None
qdiscs = []
for r in rows:
    if r["qdisc"] not in qdiscs:
        qdiscs.append(r["qdisc"])
bufs = sorted({num(r["buffer_bdp"]) for r in rows if num(r["buffer_bdp"])})
colours = {"fifo": "#d62728", "codel": "#1f77b4", "pie": "#2ca02c", "fq_codel": "#9467bd"}
extra = ["#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f"]
panels = [("utilisation", "link utilisation", "lin", (0.0, 1.05)),
          ("jain", "Jain's fairness index", "lin", (0.0, 1.05)),
          ("cubic_bbr_ratio", "Cubic:BBR throughput ratio", "log", None)]
W, H, PW, PH, ML, MT = 1100, 400, 280, 250, 70, 60
out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">' % (W, H),
       '<rect width="100%" height="100%" fill="white"/>',
       '<text x="%d" y="24" text-anchor="middle" font-size="15">%s</text>' % (W // 2, escape(
           "netdx emu: 100 Mbit/s, RTT 20 ms; Cubic and BBR flows vs buffer size"))]
if not bufs:
    out.append('<text x="50" y="100">no data</text></svg>')
    open(sys.argv[2], "w").write("\n".join(out) + "\n")
    sys.exit(0)
lx0, lx1 = math.log2(min(bufs)), math.log2(max(bufs))
if lx1 == lx0:
    lx0, lx1 = lx0 - 1, lx1 + 1
for i, (key, title, scale, yr) in enumerate(panels):
    x0, y0 = ML + i * (PW + 90), MT
    vals = [num(r[key]) for r in rows if num(r[key]) is not None and (scale == "lin" or num(r[key]) > 0)]
    if yr is None:
        lo = min(vals + [0.5]); hi = max(vals + [2.0])
        yr = (math.log10(lo) - 0.1, math.log10(hi) + 0.1)
    def X(b): return x0 + (math.log2(b) - lx0) / (lx1 - lx0) * PW
    def Y(v):
        t = math.log10(v) if scale == "log" else v
        return y0 + PH - (t - yr[0]) / (yr[1] - yr[0]) * PH
    out.append('<text x="%d" y="%d" text-anchor="middle" font-size="13">%s</text>' % (x0 + PW // 2, y0 - 10, escape(title)))
    out.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="black"/>' % (x0, y0, PW, PH))
    for b in bufs:
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>' % (X(b), y0, X(b), y0 + PH))
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%g</text>' % (X(b), y0 + PH + 16, b))
    out.append('<text x="%d" y="%d" text-anchor="middle">buffer (BDP)</text>' % (x0 + PW // 2, y0 + PH + 34))
    if scale == "lin":
        ticks = [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    else:
        ticks = [v for v in (0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100) if yr[0] <= math.log10(v) <= yr[1]]
    for t in ticks:
        out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/>' % (x0, Y(t), x0 + PW, Y(t)))
        out.append('<text x="%d" y="%.1f" text-anchor="end">%g</text>' % (x0 - 5, Y(t) + 4, t))
    if scale == "log":
        out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#888" stroke-dasharray="4 3"/>' % (x0, Y(1), x0 + PW, Y(1)))
    for k, q in enumerate(qdiscs):
        c = colours.get(q, extra[k % len(extra)])
        pts = sorted((num(r["buffer_bdp"]), num(r[key])) for r in rows if r["qdisc"] == q
                     and num(r[key]) is not None and (scale == "lin" or num(r[key]) > 0))
        if len(pts) > 1:
            out.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' % (
                c, " ".join("%.1f,%.1f" % (X(b), Y(v)) for b, v in pts)))
        for b, v in pts:
            out.append('<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s</title></circle>' % (
                X(b), Y(v), c, escape("%s %g BDP: %g" % (q, b, v))))
for k, q in enumerate(qdiscs):
    c = colours.get(q, extra[k % len(extra)])
    x = ML + k * 120
    out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="3"/>' % (x, H - 20, x + 25, H - 20, c))
    out.append('<text x="%d" y="%d">%s</text>' % (x + 30, H - 16, escape(q)))
out.append("</svg>")
open(sys.argv[2], "w").write("\n".join(out) + "\n")
EOF
python3 "$OUT/plot.py" "$TSV" "$OUT/plot.svg" || { log "plot failed"; fails=$((fails + 1)); }

python3 - "$TSV" >"$OUT/results.md" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
print("| qdisc | buffer (BDP) | goodput (Mbit/s) | utilisation | Jain | Cubic (Mbit/s/flow) | BBR (Mbit/s/flow) | Cubic:BBR | drops buffer | drops aqm | how |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
def m(x):
    try: return "%.1f" % (float(x) / 1e6)
    except ValueError: return x
for r in rows:
    print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
        r["qdisc"], r["buffer_bdp"], m(r["goodput_bps"]), r["utilisation"], r["jain"], m(r["cubic_bps"]),
        m(r["bbr_bps"]), r["cubic_bbr_ratio"], r["drops_buffer"], r["drops_aqm"], r["how"]))
EOF
cat "$OUT/results.md"
echo
echo "results: $TSV, $OUT/results.md, $OUT/plot.svg"
exit $((fails > 0))
