#!/usr/bin/env bash
# rr-drops-rto.sh NETDX [--tap|--demo|--json]
# demo: request/response with 1 in 400 requests dropped at a router's device: 200 ms tails from RTOs
#
# The cloud talk's first case: netperf TCP_RR showed 200 ms latency tails,
# and the number of 200 ms delays matched the RX drops of one macvtap queue.
# Here the drops are made by an iptables rule on the router's device facing
# the client ($DX_VRC, FORWARD chain): every 400th request segment of the
# two rr flows (local ports 40000-40001) is dropped. Each loss leaves the
# client waiting for a retransmission that comes after at least 200 ms (a
# tail loss probe or an RTO), so the transactions behind them take 200 ms
# instead of tens of microseconds.
#
# Expected diagnosis: rto-stalls at device $DX_VRC in netns $DX_R
# (NETFILTER_DROP), critical, with drops (eBPF) == the rule's own counter,
# stalls (capture) and Tcp.RetransSegs (counters) about the same number.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/doctor/scenarios/lib.sh
source "$here/lib.sh"
dx_init "${1:-}" "${2:---demo}" rr iptables
dx_topo
dx_server

dx_say "fault: iptables in $DX_R drops every 400th request of the rr flows entering on $DX_VRC"
ip netns exec "$DX_R" iptables -A FORWARD -i "$DX_VRC" -p tcp --dport "$DX_PORT" --sport 40000:40001 \
	-m length --length 100:65535 -m statistic --mode nth --every 400 --packet 1 -j DROP
dx_say "workload: netdx bench rr, 2 flows, 64-byte requests and responses, 4 s; doctor for 6 s"
dx_doctor 6 -i "$DX_C/$DX_VC" --netns "$DX_C,$DX_R,$DX_S" -- \
	ip netns exec "$DX_C" "$NETDX" bench rr "$DX_SIP" --port "$DX_PORT" --flows 2 --duration 4 \
	--req 64 --resp 64 --local-port-base 40000 --json
injected=$(ip netns exec "$DX_R" iptables -nvxL FORWARD | awk '$3 == "DROP" { print $1; exit }')
dx_truth "iptables dropped ${injected:-?} request segments on $DX_VRC in netns $DX_R"
dx_checks

dx_plan 12
dx_runs_ok
dx_is "top finding: the mechanism" "$(dx_q finding[1].mechanism)" rto-stalls
dx_is "top finding: critical" "$(dx_q finding[1].severity)" critical
dx_is "top finding: the place is the router's device" \
	"$(dx_q finding[1].place.kind) $(dx_q finding[1].place.netns) $(dx_q finding[1].place.dev)" \
	"device $DX_R $DX_VRC"
dx_is "top finding: the drop reason" "$(dx_q finding[1].place.reason)" NETFILTER_DROP
dx_cmp "tcp, drops and counters agree" "$(dx_q finding[1].agree)" -eq 3
dx_is "drops found == drops injected (iptables counter)" "$(dx_q finding[1].numbers.drops.drops)" "$injected"
dx_is "all of them on the flows of the connections that stalled (drops --flows x capture)" \
	"$(dx_q finding[1].numbers.drops.on_stalled_flows)" "$injected"
# A stall can hold two losses back to back (its retries count both); the
# last loss may fall after the capture ends.
# The timing join: each stall had a drop of its own connection at that place
# while it lasted (drop events; at least 90%: a stall can begin a few
# milliseconds before the capture saw its start).
st=$(dx_n finding[1].numbers.tcp.stalls)
dx_between "stalls with a drop of their connection there, in time (drop events x capture)" \
	"$(dx_q finding[1].numbers.drops.stalls_timed)" "$((st * 9 / 10))" "$st"
dx_between "stalls found ~ drops injected" "$(dx_q finding[1].numbers.tcp.stalls)" \
	"$((injected * 6 / 10))" "$injected"
dx_between "retransmissions after silence (capture) ~ drops injected" \
	"$(dx_q finding[1].numbers.tcp.retries)" "$((injected * 8 / 10))" "$((injected + 2))"
dx_from_same
dx_done
