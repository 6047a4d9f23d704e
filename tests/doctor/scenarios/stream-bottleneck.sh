#!/usr/bin/env bash
# stream-bottleneck.sh NETDX [--tap|--demo|--json]
# demo: a bulk transfer through a 50 Mbit/s tbf with a 30 KB buffer: network-limited, loss at the qdisc
#
# The router shapes its link towards the server with tbf: 50 Mbit/s and a
# 30 KB buffer (a fifth of a bandwidth-delay product at the ~3 ms the
# queue adds). One Cubic flow fills it; the buffer overflows at every
# burst, the sender recovers with fast retransmissions and the transfer
# runs at the shaped rate, limited by the network.
#
# Expected diagnosis: network-bottleneck at qdisc tbf on $DX_VRS in netns
# $DX_R, warning; the qdisc's drops == tc's own count == QDISC_DROP drops
# (eBPF); the capture's retransmissions about the same.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/doctor/scenarios/lib.sh
source "$here/lib.sh"
dx_init "${1:-}" "${2:---demo}" bn tc
dx_topo
dx_server

tc_drops() { ip netns exec "$DX_R" tc -s qdisc show dev "$DX_VRS" | awk '/dropped/ { gsub(",", "", $7); print $7; exit }'; }
dx_say "fault: tbf rate 50mbit burst 16k limit 30k on $DX_VRS (the router's link to the server)"
ip netns exec "$DX_R" tc qdisc add dev "$DX_VRS" root tbf rate 50mbit burst 16k limit 30k
t0=$(tc_drops)
dx_say "workload: netdx bench stream, 1 Cubic flow, 4 s; doctor for 6 s"
dx_doctor 6 -i "$DX_C/$DX_VC" --netns "$DX_C,$DX_R,$DX_S" -- \
	ip netns exec "$DX_C" "$NETDX" bench stream "$DX_SIP" --port "$DX_PORT" --cc cubic \
	--duration 4 --bottleneck 50M --json
t1=$(tc_drops)
injected=$((t1 - t0))
dx_truth "tbf on $DX_VRS in $DX_R dropped $injected packets (tc -s qdisc)"
dx_checks

dx_plan 11
dx_runs_ok
dx_is "top finding: the mechanism" "$(dx_q finding[1].mechanism)" network-bottleneck
dx_is "top finding: warning" "$(dx_q finding[1].severity)" warning
dx_is "top finding: the place is the router's qdisc" \
	"$(dx_q finding[1].place.kind) $(dx_q finding[1].place.netns) $(dx_q finding[1].place.dev) $(dx_q finding[1].place.qdisc | cut -d' ' -f1)" \
	"qdisc $DX_R $DX_VRS tbf"
dx_cmp "tcp, drops and counters agree" "$(dx_q finding[1].agree)" -eq 3
dx_cmp "some loss was injected" "$injected" -gt 0
dx_is "qdisc drops (counters) == tc's count" "$(dx_q finding[1].numbers.counters.qdisc_drops)" "$injected"
dx_is "QDISC_DROP drops (eBPF) == tc's count" "$(dx_q finding[1].numbers.drops.drops)" "$injected"
dx_is "all of them on the flow of the network-limited transfer (drops --flows x capture)" \
	"$(dx_q finding[1].numbers.drops.on_limited_flows)" "$injected"
dx_between "retransmissions in the capture ~ tc's count" "$(dx_q finding[1].numbers.tcp.retrans)" \
	"$((injected * 8 / 10))" "$((injected * 12 / 10 + 2))"
dx_from_same
dx_done
