#!/usr/bin/env bash
# bench_reconcile.sh NETDX - TAP scenario: exact accounting of `netdx bench`.
#
# For rr, crr and stream, each with 1, 100 and 2000 flows (2 s, --threads 2 on
# both sides), between two network namespaces joined by a veth pair (see
# bench_lib.sh), against `netdx bench server --once`:
#   - netdx exits 0 and the server ends by itself;
#   - totals.reconciled is true;
#   - flows[] holds --flows entries (ids 0..N-1) and totals.flows == N;
#   - re-checked from the numbers: client tx_bytes == server rx_bytes,
#     server tx_bytes == client rx_bytes, and for rr/crr client transactions
#     == server transactions, in totals (which must show traffic) and for
#     every flow;
#   - totals.client/server equal the sums over flows[].
# Needs root, iproute2, iptables (not used here), python3. About 1-2 minutes.
set -u

NETDX=${1:-}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/scenarios/bench_lib.sh
. "$here/bench_lib.sh"
bl_tap_init "$NETDX"

modes=(rr crr stream)
counts=(1 100 2000)
per_run=7
dur=2

bl_traps
bl_plan $(( ${#modes[@]} * ${#counts[@]} * per_run ))
bl_raise_nofile

if ! bl_topology; then
	diag "could not build the namespace topology"
	exit 1          # the EXIT trap reports every planned test as not ok
fi
diag "client $BL_NSC $BL_CIP  server $BL_NSS $BL_SIP"
# crr with 2000 flows opens thousands of short connections in 2 s. The server
# closes first, so TIME_WAIT sits mostly on the server side, but let the
# client reuse TIME_WAIT ports for new outgoing connections anyway
# (net.ipv4.tcp_tw_reuse is per network namespace: only ours changes) and
# give it the widest ephemeral range.
bl_nsc sysctl -qw net.ipv4.tcp_tw_reuse=1
bl_nsc sysctl -qw net.ipv4.ip_local_port_range="10000 65000"

cat >"$BL_TMP/check.py" <<'EOF'
import json, sys
path, mode, N = sys.argv[1], sys.argv[2], int(sys.argv[3])
res = {}
def out():
    json.dump(res, sys.stdout); print(); sys.exit(0)
try:
    d = json.load(open(path))
except Exception as e:
    res["parse"] = "not one JSON document: %s" % e; out()
KEYS = ["tx_bytes", "rx_bytes"] + (["transactions"] if mode in ("rr", "crr") else [])
def n(x):
    return x if isinstance(x, int) and not isinstance(x, bool) else None
def side(o, s):
    return (o or {}).get(s) or {}
t = d.get("totals") or {}
flows = d.get("flows") or []
res["reconciled"] = t.get("reconciled")
ids = sorted(f.get("id") for f in flows if isinstance(f.get("id"), int))
res["nflows"] = len(flows)
res["totals_flows"] = t.get("flows")
res["ids_ok"] = ids == list(range(N))
def pair_errors(o, label):
    c, s = side(o, "client"), side(o, "server")
    e = []
    for a, b, k in (("client", "server", "tx_bytes"), ("server", "client", "tx_bytes")):
        x = n((c if a == "client" else s).get("tx_bytes"))
        y = n((s if b == "server" else c).get("rx_bytes"))
        if x is None or y is None or x != y:
            e.append("%s: %s tx_bytes %r != %s rx_bytes %r" % (label, a, x, b, y))
    if mode in ("rr", "crr"):
        x, y = n(c.get("transactions")), n(s.get("transactions"))
        if x is None or y is None or x != y:
            e.append("%s: client transactions %r != server transactions %r" % (label, x, y))
    return e
te = pair_errors(t, "totals")
tc = side(t, "client")
if mode in ("rr", "crr"):
    if not (n(tc.get("transactions")) or 0) > 0: te.append("totals: no transactions")
if mode == "stream":
    if not (n(tc.get("tx_bytes")) or 0) > 0: te.append("totals: client sent nothing")
res["totals_errors"] = te
fe = []
for f in flows:
    fe += pair_errors(f, "flow %s" % f.get("id"))
res["flow_errors_count"] = len(fe)
res["flow_errors"] = fe[:5]
se = []
for s in ("client", "server"):
    for k in KEYS:
        tot = n(side(t, s).get(k))
        vals = [n(side(f, s).get(k)) for f in flows]
        if tot is None or None in vals or tot != sum(vals):
            se.append("totals.%s.%s = %r, sum over flows = %r" % (
                s, k, tot, None if None in vals else sum(vals)))
res["sum_errors"] = se
res["totals"] = {s: {k: side(t, s).get(k) for k in KEYS} for s in ("client", "server")}
res["tps"], res["goodput_bps"] = t.get("tps"), t.get("goodput_bps")
out()
EOF

port=7250
for mode in "${modes[@]}"; do
	for nf in "${counts[@]}"; do
		port=$((port + 1))
		tag="$mode --flows $nf"
		out="$BL_TMP/$mode.$nf.json"
		rc=999
		if bl_server_start "$port" --threads 2; then
			bl_client "$out" 120 "$mode" "$port" --flows "$nf" --threads 2 --duration "$dur"
			rc=$?
			bl_server_wait 20
		else
			BL_SRV_RC=999
		fi
		check "$tag: netdx exits 0 (got $rc, ${BL_WALL:-?} s)" test "$rc" -eq 0
		[[ $rc -eq 0 ]] || diagf "$out.err"
		check "$tag: server --once ends by itself with status 0 (got $BL_SRV_RC)" test "$BL_SRV_RC" -eq 0
		[[ $BL_SRV_RC -eq 0 ]] || diagf "$BL_TMP/server.$port.err"
		python3 "$BL_TMP/check.py" "$out" "$mode" "$nf" >"$out.res" 2>"$out.chkerr" || diagf "$out.chkerr"
		[[ -s "$out.res" ]] || echo '{"parse": "checker failed"}' >"$out.res"
		diag "$tag: $(cat "$out.res")"
		if bl_py "$out.res" '"parse" in d'; then diagf "$out" 1500; fi
		check "$tag: totals.reconciled is true" bl_py "$out.res" 'd.get("reconciled") is True'
		check "$tag: flows[] has $nf entries, ids 0..$((nf - 1)), totals.flows == $nf" \
			bl_py "$out.res" "d.get('nflows') == $nf and d.get('ids_ok') and d.get('totals_flows') == $nf"
		check "$tag: totals: client tx == server rx, server tx == client rx$([[ $mode != stream ]] && echo ', transactions equal')" \
			bl_py "$out.res" '"totals_errors" in d and not d["totals_errors"]'
		check "$tag: every flow: client tx == server rx, server tx == client rx$([[ $mode != stream ]] && echo ', transactions equal')" \
			bl_py "$out.res" 'd.get("flow_errors_count") == 0 and d.get("nflows", 0) > 0'
		check "$tag: totals.client/server == sum over flows[]" \
			bl_py "$out.res" '"sum_errors" in d and not d["sum_errors"]'
	done
done
exit 0
