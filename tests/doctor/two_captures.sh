#!/usr/bin/env bash
# two_captures.sh NETDX: `netdx doctor` with two capture points, one IPv4
# and one IPv6, and a fault behind each (TAP; root, namespaces, eBPF).
#
# The scenario library's three namespaces ($DX_C - $DX_R - $DX_S, IPv4 in
# 10.81.0.0/16), and in $DX_S a second workload over its loopback, IPv6
# (::1; the only IPv6 addresses these tests send to):
#   - IPv4: netdx bench rr $DX_C -> $DX_S, iptables in $DX_R drops every
#     400th request entering on $DX_VRC (as rr-drops-rto);
#   - IPv6: netdx bench rr ::1 -> ::1 port 7251 inside $DX_S, ip6tables
#     drops every 300th request there (INPUT on lo).
# doctor captures on both ($DX_C/$DX_VC and $DX_S/lo) with drops --flows.
#
# Checks: two rto-stalls findings, each critical at its own place (the
# router's device for IPv4, lo of $DX_S for IPv6), each with drops found ==
# the rule's own counter and all of them on the flows of the connections
# that stalled (the per-connection join works for IPv6 endpoints too), the
# stalls of each found by its own capture, and --print-config listing both
# interfaces.
set -u
NETDX=${1:-}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/doctor/scenarios/lib.sh
source "$here/scenarios/lib.sh"
dx_init "$NETDX" --tap 2c iptables ip6tables
dx_topo
dx_server
P6=7251
ip netns exec "$DX_S" sysctl -qw net.ipv6.conf.lo.disable_ipv6=0
ip netns exec "$DX_S" timeout 120 "$NETDX" bench server --once --bind ::1 --port "$P6" \
	>"$TMP/server6.out" 2>"$TMP/server6.err" &
DX_PIDS+=($!)
wait_listen "$DX_S" "$P6" || dx_unusable "netdx bench server --bind ::1 did not listen: $(head -1 "$TMP/server6.err")"

ip netns exec "$DX_R" iptables -A FORWARD -i "$DX_VRC" -p tcp --dport "$DX_PORT" \
	-m length --length 100:65535 -m statistic --mode nth --every 400 --packet 1 -j DROP
ip netns exec "$DX_S" ip6tables -A INPUT -i lo -p tcp --dport "$P6" \
	-m length --length 100:65535 -m statistic --mode nth --every 300 --packet 1 -j DROP
dx_say "fault: every 400th IPv4 request dropped in $DX_R, every 300th IPv6 request on lo of $DX_S"

# Both workloads under doctor: the IPv4 one is doctor's (its JSON a source),
# the IPv6 one runs beside it for the same 4 s.
workload=$TMP/workload.sh
cat >"$workload" <<EOF
ip netns exec "$DX_S" "$NETDX" bench rr ::1 --port $P6 --flows 2 --duration 4 --req 64 \
	--resp 64 --local-port-base 41000 --json >"$TMP/bench6.json" 2>"$TMP/bench6.err" &
ip netns exec "$DX_C" "$NETDX" bench rr "$DX_SIP" --port $DX_PORT --flows 2 --duration 4 \
	--req 64 --resp 64 --local-port-base 40000 --json
wait
EOF
"$NETDX" doctor -q -d 6 --save "$DX_REC" --json --print-config -i "$DX_C/$DX_VC" -i "$DX_S/lo" \
	--netns "$DX_C,$DX_R,$DX_S" -- bash "$workload" >"$DX_OUT" 2>"$TMP/doctor.err"
DX_RC=$?
inj4=$(ip netns exec "$DX_R" iptables -nvxL FORWARD | awk '$3 == "DROP" { print $1; exit }')
inj6=$(ip netns exec "$DX_S" ip6tables -nvxL INPUT | awk '$3 == "DROP" { print $1; exit }')
dx_truth "iptables dropped $inj4 IPv4 requests in $DX_R, ip6tables $inj6 IPv6 requests in $DX_S"

f4="finding[place.dev=$DX_VRC]"
f6="finding[place.dev=lo]"
dx_plan 18
dx_runs_ok
dx_is "--print-config lists both interfaces" \
	"$(sed -n 's/^interface=//p' "$TMP/doctor.err")" "$DX_C/$DX_VC,$DX_S/lo"
dx_cmp "IPv6 requests dropped (the fault happened)" "${inj6:-0}" -ge 5
# one_place LABEL FINDING NETNS RULE INJECTED: the finding for one fault
one_place() {
	local f=$2 inj=$5
	dx_is "$1: rto-stalls" "$(dx_q "$f.mechanism")" rto-stalls
	dx_is "$1: critical, in $3" "$(dx_q "$f.severity") $(dx_q "$f.place.netns") $(dx_q "$f.place.reason")" \
		"critical $3 NETFILTER_DROP"
	dx_is "$1: drops found == $4's count" "$(dx_q "$f.numbers.drops.drops")" "$inj"
	dx_is "$1: all on the flows of stalled connections" \
		"$(dx_q "$f.numbers.drops.on_stalled_flows")" "$inj"
	dx_between "$1: stalls ~ drops" "$(dx_q "$f.numbers.tcp.stalls")" "$((inj * 6 / 10))" "$inj"
	local st
	st=$(dx_n "$f.numbers.tcp.stalls")
	dx_between "$1: stalls with a drop of theirs there, in time" \
		"$(dx_q "$f.numbers.drops.stalls_timed")" "$((st * 9 / 10))" "$st"
}
one_place IPv4 "$f4" "$DX_R" iptables "$inj4"
# IPv6: [::1]:port endpoints joined between drops and the capture
one_place IPv6 "$f6" "$DX_S" ip6tables "$inj6"
# The TCP counters cited are those of the namespace the stalls were captured
# in (the IPv4 client's), not the one where they moved most.
dx_between "IPv4: Tcp.RetransSegs of the client's namespace ~ drops" \
	"$(dx_q "$f4.numbers.counters.retrans_segs")" "$inj4" "$((inj4 + 4))"
# Each capture saw its own connections: the IPv6 stalls come from the
# lo capture, the IPv4 ones from the veth (a capture's stalls are not
# counted twice).
dx_cmp "stalls of both findings <= all captured stalls" \
	"$(($(dx_n "$f4.numbers.tcp.stalls") + $(dx_n "$f6.numbers.tcp.stalls")))" -le \
	"$(python3 - "$DX_REC" <<'PY'
import glob, json, sys
n = 0
for p in glob.glob(sys.argv[1] + "/tcp-*.ndjson"):
    for line in open(p):
        o = json.loads(line)
        if o.get("type") == "conn" and not o.get("snapshot"):
            n += sum(1 for s in o.get("stalls") or [] if s.get("cause") == "rto")
print(n)
PY
)"
dx_cmp "two capture files recorded" "$(find "$DX_REC" -name 'tcp-*.ndjson' | wc -l)" -eq 2
dx_done
