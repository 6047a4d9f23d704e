#!/usr/bin/env bash
# bench_features.sh NETDX - TAP scenario: `netdx bench` features, between two
# network namespaces joined by a veth pair (bench_lib.sh), each test against
# its own `netdx bench server --once` on its own port:
#
#   A stalled flow    stream, 4 flows, --local-port-base P; ~1 s after the data
#                     connections are up, the client namespace drops what flow 2
#                     sends (OUTPUT --sport P+2). Flow 2 must be "stalled", the
#                     others not, totals.stalled_flows == 1, totals.goodput_bps
#                     == sum of the others' goodput_bps (1%), jain over them;
#                     netdx must still end, within duration + 30 s.
#   B paced rr        rr --rate 200 --flows 4 --duration 4; ~1.5 s in, the
#                     server namespace drops flow 1's packets to the data port
#                     (INPUT --sport P+1, never the control connection) for
#                     300 ms. Corrected latency (from the scheduled send time)
#                     must show the stall: max and p99.9 above the uncorrected
#                     p99.9, and p99.9 >= 200 ms (RTO / tail loss probe floor).
#                     Only ONE flow is frozen on purpose: with all four frozen,
#                     4 of the ~3200 uncorrected samples (0.125% > 0.1%) would
#                     carry the stall too and p99.9 corrected vs uncorrected
#                     would no longer tell coordinated omission apart.
#   C --cc cubic,bbr  stream, 4 flows: flows[i].cc is cubic, bbr, cubic, bbr;
#                     `ss -ti` in the client (sender) namespace agrees.
#   D Jain's index    stream, 4 flows: jain == (sum x)^2 / (n sum x^2) over the
#                     non-stalled flows' goodput_bps, to 1e-6.
#   E bsp             --ranks 4 --compute 2ms --duration 3: efficiency > 0.8;
#                     again with 5% random drop of the data flows' packets at
#                     the server (INPUT, --sport in the --local-port-base
#                     range): efficiency lower by at least 0.1.
#   F crr             --backlog 16 appears in meta.options; every flow has
#                     connect_failures, resets and timeouts counters.
#   G schema          every key listed in docs/bench.md "Output" is present in
#                     the rr (B), stream (D), crr (F) and bsp (E) documents.
# Needs root, iproute2, iptables, python3. About a minute.
set -u

NETDX=${1:-}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/scenarios/bench_lib.sh
. "$here/bench_lib.sh"
bl_tap_init "$NETDX"

bl_traps
bl_plan 27
bl_raise_nofile
if ! bl_topology; then
	diag "could not build the namespace topology"
	exit 1
fi
diag "client $BL_NSC $BL_CIP  server $BL_NSS $BL_SIP"
PB=20000          # --local-port-base: below the ephemeral range (32768-60999)
ipt_c() { ip netns exec "$BL_NSC" iptables -w 5 "$@"; }
ipt_s() { ip netns exec "$BL_NSS" iptables -w 5 "$@"; }

# bg_client OUT TMO MODE PORT [args]: like bl_client, in the background
# (BL_LAST_PID); t0 in BG_T0.
bg_client() {
	local out=$1 tmo=$2 mode=$3 port=$4; shift 4
	BG_T0=$(date +%s.%N)
	bl_bg "$BL_NSC" "$tmo" "$out" "$out.err" "$NETDX" bench "$mode" "$BL_SIP" --port "$port" --json "$@"
}
elapsed() { python3 -c "import time; print('%.2f' % (time.time() - $BG_T0))"; }
# run_end PID TMO: wait for the background client; sets RC, WALL; waits for
# the --once server too.
run_end() {
	bl_wait_pid "$1" "$2"
	RC=$BL_RC
	WALL=$(elapsed)
	bl_server_wait 20 || diag "server status $BL_SRV_RC"
	[[ $RC -eq 0 ]] || diagf "$OUT.err"
}

# ------------------------------------------------------- A: stalled flow --
port=7301; OUT="$BL_TMP/stall.json"; dur=8
RC=999; WALL=0; hits=0
if bl_server_start "$port"; then
	bg_client "$OUT" $((dur + 60)) stream "$port" --flows 4 --threads 2 --duration "$dur" \
		--interval 1 --local-port-base "$PB"
	pid=$BL_LAST_PID
	if bl_wait_est "$BL_NSC" "$PB" $((PB + 3)) 4 10 "$pid"; then
		sleep 1
		ipt_c -I OUTPUT -p tcp --sport $((PB + 2)) -j DROP
		diag "A: DROP of client OUTPUT --sport $((PB + 2)) at $(elapsed) s"
	else
		diag "A: the 4 data connections did not come up within 10 s"
	fi
	run_end "$pid" $((dur + 60))
	hits=$(bl_ipt_hits "$BL_NSC" OUTPUT)
	ipt_c -D OUTPUT -p tcp --sport $((PB + 2)) -j DROP 2>/dev/null
fi
diag "A: rule matched $hits packets; netdx status $RC after $WALL s"
diag "A: flows: $(bl_pyv "$OUT" '[{k: f.get(k) for k in ("id", "local", "stalled", "goodput_bps")} for f in flows]')"
diag "A: totals: $(bl_pyv "$OUT" '{k: d["totals"].get(k) for k in ("stalled_flows", "goodput_bps", "reconciled")}')"
check "A stalled: netdx exits 0 within duration + 30 s (status $RC, $WALL s, limit $((dur + 30)) s)" \
	bl_cmp "$RC == 0 and $WALL <= $dur + 30"
check "A stalled: flow 2 (local port $((PB + 2))) is stalled, flows 0, 1, 3 are not" \
	bl_py "$OUT" "len(flows) == 4 and all((f.get('stalled') is True) == (f.get('id') == 2) and
	      (f.get('id') != 2 or port(f.get('local')) == $PB + 2) for f in flows)"
check "A stalled: totals.stalled_flows == 1" bl_py "$OUT" 'd["totals"].get("stalled_flows") == 1'
check "A stalled: totals.goodput_bps == sum of the non-stalled flows' goodput_bps (1%)" \
	bl_py "$OUT" 'abs(d["totals"]["goodput_bps"] - sum(f["goodput_bps"] for f in flows if not f["stalled"]))
	      <= 0.01 * max(1, d["totals"]["goodput_bps"]) and d["totals"]["goodput_bps"] > 0'
JAIN='(lambda xs: abs(d["jain"] - sum(xs) ** 2 / (len(xs) * sum(x * x for x in xs))) <= 1e-6)(
	[f["goodput_bps"] for f in flows if not f["stalled"]])'
diag "A: jain $(bl_pyv "$OUT" 'd.get("jain")'), recomputed over non-stalled flows \
$(bl_pyv "$OUT" '(lambda xs: sum(xs) ** 2 / (len(xs) * sum(x * x for x in xs)))([f["goodput_bps"] for f in flows if not f["stalled"]])')"
check "A stalled: jain == recomputed over the 3 non-stalled flows (1e-6)" bl_py "$OUT" "$JAIN"

# ------------------------------------------------ B: paced rr with a stall --
port=7302; OUT="$BL_TMP/paced.json"; dur=4
RC=999; hits=0
if bl_server_start "$port"; then
	bg_client "$OUT" $((dur + 60)) rr "$port" --rate 200 --flows 4 --threads 2 --duration "$dur" \
		--local-port-base "$PB"
	pid=$BL_LAST_PID
	if bl_wait_est "$BL_NSC" "$PB" $((PB + 3)) 4 10 "$pid"; then
		sleep 1.5
		ipt_s -I INPUT -p tcp --dport "$port" --sport $((PB + 1)) -j DROP
		t_in=$(elapsed)
		sleep 0.3
		hits=$(bl_ipt_hits "$BL_NSS" INPUT)
		ipt_s -D INPUT -p tcp --dport "$port" --sport $((PB + 1)) -j DROP
		diag "B: DROP of server INPUT --sport $((PB + 1)) --dport $port from $t_in s to $(elapsed) s"
	else
		diag "B: the 4 data connections did not come up within 10 s"
	fi
	run_end "$pid" $((dur + 60))
fi
diag "B: rule matched $hits packets; netdx status $RC after $WALL s"
diag "B: latency_us (corrected):  $(bl_pyv "$OUT" 'd.get("latency_us")')"
diag "B: latency_uncorrected_us:  $(bl_pyv "$OUT" 'd.get("latency_uncorrected_us")')"
check "B paced rr: netdx exits 0 and the 300 ms DROP matched packets ($hits)" \
	test "$RC" -eq 0 -a "${hits:-0}" -gt 0
check "B paced rr: corrected max and p99.9 > uncorrected p99.9" \
	bl_py "$OUT" 'd["latency_us"]["max"] > d["latency_uncorrected_us"]["p99.9"] and
	      d["latency_us"]["p99.9"] > d["latency_uncorrected_us"]["p99.9"]'
check "B paced rr: corrected p99.9 >= 200 ms" bl_py "$OUT" 'd["latency_us"]["p99.9"] >= 200000'

# ---------------------------------------------------------- C: --cc list --
port=7303; OUT="$BL_TMP/cc.json"; dur=3
RC=999; : >"$BL_TMP/cc.ss"
if bl_server_start "$port"; then
	bg_client "$OUT" $((dur + 60)) stream "$port" --flows 4 --threads 2 --duration "$dur" \
		--cc cubic,bbr --local-port-base "$PB"
	pid=$BL_LAST_PID
	if bl_wait_est "$BL_NSC" "$PB" $((PB + 3)) 4 10 "$pid"; then
		sleep 1
		bl_nsc ss -Htin "( sport >= :$PB and sport <= :$((PB + 3)) )" >"$BL_TMP/cc.ss" 2>&1
	fi
	run_end "$pid" $((dur + 60))
fi
diag "C: flows[].cc: $(bl_pyv "$OUT" '[(f.get("id"), f.get("cc")) for f in flows]')"
check "C --cc cubic,bbr: netdx exits 0" test "$RC" -eq 0
check "C --cc cubic,bbr: flows[0..3].cc == cubic, bbr, cubic, bbr" \
	bl_py "$OUT" '[f.get("cc") for f in sorted(flows, key=lambda f: f["id"])] == ["cubic", "bbr", "cubic", "bbr"]'
ncub=$(grep -cw cubic "$BL_TMP/cc.ss"); nbbr=$(grep -cw bbr "$BL_TMP/cc.ss")
[[ $ncub -eq 2 && $nbbr -eq 2 ]] || diagf "$BL_TMP/cc.ss"
check "C --cc cubic,bbr: ss -ti in the client namespace: 2 data sockets cubic ($ncub), 2 bbr ($nbbr)" \
	test "$ncub" -eq 2 -a "$nbbr" -eq 2

# ------------------------------------------------------------- D: Jain -----
port=7304; OUT="$BL_TMP/jain.json"; dur=3
if bl_server_start "$port"; then
	bl_client "$OUT" $((dur + 60)) stream "$port" --flows 4 --threads 2 --duration "$dur"
	RC=$?
	bl_server_wait 20
else RC=999; fi
diag "D: jain $(bl_pyv "$OUT" 'd.get("jain")'), goodput_bps $(bl_pyv "$OUT" '[f.get("goodput_bps") for f in flows]')"
check "D jain: netdx exits 0 (status $RC), 4 flows" bl_py "$OUT" "$RC == 0 and len(flows) == 4"
check "D jain: jain == (sum x)^2/(n sum x^2) over non-stalled goodput_bps (1e-6)" bl_py "$OUT" "$JAIN"

# --------------------------------------------------------------- E: bsp ----
bsp_run() {   # bsp_run PORT OUT [lossy]
	local port=$1 lossy=${3:-}
	OUT=$2; RC=999; hits=0
	bl_server_start "$port" || return
	if [[ -n $lossy ]]; then
		ipt_s -I INPUT -p tcp --dport "$port" --sport "$PB:$((PB + 63))" \
			-m statistic --mode random --probability 0.05 -j DROP
	fi
	bl_client "$OUT" 60 bsp "$port" --ranks 4 --compute 2ms --duration 3 --local-port-base "$PB"
	RC=$?
	[[ $RC -eq 0 ]] || diagf "$OUT.err"
	if [[ -n $lossy ]]; then
		hits=$(bl_ipt_hits "$BL_NSS" INPUT)
		ipt_s -D INPUT -p tcp --dport "$port" --sport "$PB:$((PB + 63))" \
			-m statistic --mode random --probability 0.05 -j DROP
	fi
	bl_server_wait 20
}
bsp_run 7305 "$BL_TMP/bsp.clean.json"
rc_clean=$RC
eff_clean=$(bl_pyv "$BL_TMP/bsp.clean.json" 'd["bsp"]["efficiency"]')
diag "E: clean bsp: $(bl_pyv "$BL_TMP/bsp.clean.json" 'd.get("bsp")')"
check "E bsp clean: netdx exits 0 (status $rc_clean) and efficiency $eff_clean > 0.8" \
	bl_py "$BL_TMP/bsp.clean.json" "$rc_clean == 0 and d['bsp']['efficiency'] > 0.8"
bsp_run 7306 "$BL_TMP/bsp.lossy.json" lossy
rc_lossy=$RC
eff_lossy=$(bl_pyv "$BL_TMP/bsp.lossy.json" 'd["bsp"]["efficiency"]')
diag "E: lossy bsp (5% drop, $hits packets dropped): $(bl_pyv "$BL_TMP/bsp.lossy.json" 'd.get("bsp")')"
diag "E: efficiency clean $eff_clean, with 5% loss $eff_lossy"
check "E bsp 5% loss: netdx exits 0 (status $rc_lossy) and the drop rule matched ($hits packets)" \
	test "$rc_lossy" -eq 0 -a "${hits:-0}" -gt 0
check "E bsp 5% loss: efficiency $eff_lossy <= clean $eff_clean - 0.1" \
	bl_cmp "$eff_lossy <= $eff_clean - 0.1"

# --------------------------------------------------------- F: crr backlog --
port=7307; OUT="$BL_TMP/crr.json"
if bl_server_start "$port"; then
	bl_client "$OUT" 60 crr "$port" --flows 4 --threads 2 --duration 2 --backlog 16
	RC=$?
	bl_server_wait 20
else RC=999; fi
[[ $RC -eq 0 ]] || diagf "$OUT.err"
diag "F: meta.options: $(bl_pyv "$OUT" 'd["meta"].get("options")')"
diag "F: flow 0 client: $(bl_pyv "$OUT" '{k: v for k, v in flows[0]["client"].items() if k != "tcp_info"}')"
check "F crr: netdx exits 0 (status $RC) with transactions" \
	bl_py "$OUT" "$RC == 0 and d['totals']['client']['transactions'] > 0"
check "F crr: meta.options.backlog == 16" bl_py "$OUT" 'd["meta"]["options"].get("backlog") == 16'
check "F crr: every flow's client and server carry integer connect_failures, resets, timeouts" \
	bl_py "$OUT" 'len(flows) == 4 and all(isinstance(f[s].get(k), int) for f in flows
	      for s in ("client", "server") for k in ("connect_failures", "resets", "timeouts"))'

# ----------------------------------------- H: inflight, utilisation, intervals --
port=7308; OUT="$BL_TMP/inflight.json"
if bl_server_start "$port"; then
	bl_client "$OUT" 60 rr "$port" --flows 4 --threads 2 --duration 2 --inflight 8 --req 200 --resp 3000
	RC=$?
	bl_server_wait 20
else RC=999; fi
diag "H: inflight 8: transactions $(bl_pyv "$OUT" 'd["totals"]["client"]["transactions"]'), reconciled $(bl_pyv "$OUT" 'd["totals"]["reconciled"]')"
check "H rr --inflight 8: exits 0, reconciled on every flow, server received 200 B per transaction" \
	bl_py "$OUT" "$RC == 0 and d['totals']['reconciled'] and all(f['reconciled'] for f in flows) and d['totals']['server']['rx_bytes'] == 200 * d['totals']['server']['transactions'] > 0"
port=7309; OUT="$BL_TMP/util.json"
if bl_server_start "$port"; then
	bl_client "$OUT" 60 stream "$port" --flows 2 --threads 2 --duration 2 --interval 0.5 --bottleneck 10G
	RC=$?
	bl_server_wait 20
else RC=999; fi
check "H stream --bottleneck 10G: utilisation == totals.goodput_bps / 1e10" \
	bl_py "$OUT" "$RC == 0 and abs(d['utilisation'] - d['totals']['goodput_bps'] / 1e10) < 1e-3"
check "H stream --interval 0.5: every flow has >= 4 intervals, each with the server's counters and TCP_INFO" \
	bl_py "$OUT" "all(len(f['intervals']) >= 4 and all(iv['server'] and iv['server']['tcp_info'] for iv in f['intervals'][:-1]) for f in flows)"
check "H stream intervals: both sides' cumulative byte counts never decrease nor pass the totals" \
	bl_py "$OUT" "all(all(a['tx_bytes'] <= b['tx_bytes'] and a['server']['rx_bytes'] <= b['server']['rx_bytes'] for a, b in zip(f['intervals'], f['intervals'][1:])) and f['intervals'][-1]['tx_bytes'] <= f['client']['tx_bytes'] for f in flows)"

# ------------------------------------------------------------ G: schema ----
# Every key docs/bench.md lists, on the documents above (one per mode).
cat >"$BL_TMP/schema.py" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
miss = []
def need(o, keys, where):
    if not isinstance(o, dict): miss.append(where + " (not an object)"); return
    for k in keys:
        if k not in o: miss.append(where + "." + k)
need(d, ["type", "schema", "mode", "meta", "totals", "flows", "intervals"], "")
need(d.get("meta"), ["kernel", "hostname", "clocksource", "somaxconn", "tcp_rmem", "tcp_wmem", "default_cc", "netdx_version", "start_wall", "options"], "meta")
t = d.get("totals", {})
need(t, ["client", "server", "reconciled", "duration_s", "tps", "goodput_bps", "flows", "stalled_flows"], "totals")
for s in ("client", "server"): need(t.get(s), ["tx_bytes", "rx_bytes", "transactions"], "totals." + s)
m = d.get("mode")
if m in ("rr", "crr"): need(d.get("latency_us"), ["count", "min", "mean", "p50", "p90", "p99", "p99.9", "p99.99", "max"], "latency_us")
if m == "stream": need(d, ["jain"], "")
if m == "bsp": need(d.get("bsp"), ["steps", "efficiency", "step_us", "slowest_exchange_us"], "bsp")
for i, iv in enumerate((d.get("intervals") or [])[:1]): need(iv, ["t", "tps", "goodput_bps", "stalled"], "intervals[0]")
TI = ["rtt_us", "rttvar_us", "snd_cwnd", "snd_ssthresh", "total_retrans", "delivery_rate_bps", "busy_time_us", "rwnd_limited_us", "sndbuf_limited_us", "snd_mss", "pacing_rate_bps"]
for f in (d.get("flows") or [])[:1]:
    need(f, ["id", "local", "remote", "cc", "stalled", "tps", "goodput_bps", "client", "server", "intervals"], "flows[0]")
    for s in ("client", "server"):
        need(f.get(s), ["tx_bytes", "rx_bytes", "transactions", "connects", "connect_failures", "resets", "timeouts", "tcp_info"], "flows[0]." + s)
        need((f.get(s) or {}).get("tcp_info"), TI, "flows[0].%s.tcp_info" % s)
    for iv in (f.get("intervals") or [])[:1]:
        need(iv, ["t", "tx_bytes", "rx_bytes", "transactions", "tcp_info"], "flows[0].intervals[0]")
print(json.dumps({"mode": m, "missing": miss}))
sys.exit(1 if miss else 0)
PYEOF
for pair in rr:paced stream:jain crr:crr bsp:bsp.clean; do
	m=${pair%%:*}; f="$BL_TMP/${pair#*:}.json"
	res=$(python3 "$BL_TMP/schema.py" "$f" 2>&1 | tail -n 1)
	check "G schema ($m): every key of docs/bench.md's Output section is present: $res" \
		grep -q '"missing": \[\]' <<<"$res"
done
exit 0
