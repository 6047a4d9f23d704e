#!/usr/bin/env bash
# stream-rwnd.sh NETDX [--tap|--demo|--json]
# demo: a bulk transfer over a 10 ms path to a receiver with a 64 KB socket buffer: receiver-limited
#
# The receiver sets SO_RCVBUF to 64 KB (netdx bench stream --rcvbuf 64k;
# the kernel doubles it and takes its overhead from it), which turns off
# receive-buffer autotuning: it never advertises more than that, and over a
# path with a 10 ms round trip (netdx emu: 5 ms each way, no rate limit, no
# loss) the sender can have at most one window in flight per round trip.
# The transfer runs at window / RTT, far below what the path could carry.
#
# Expected diagnosis: receiver-window at the receive buffer of the
# receiver, warning; the capture's receiver-limited share, the window it saw
# (at most 2 x 64 KB) and the sender's TCP_INFO rwnd_limited time (bench)
# agree, and the rate is about that window per round trip.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/doctor/scenarios/lib.sh
source "$here/lib.sh"
dx_init "${1:-}" "${2:---demo}" rw
dx_topo_emu 'delay=5ms' 'delay=5ms'
dx_server

dx_say "path: netdx emu, 5 ms each way ($DX_CIP -> $DX_SIP), no rate limit, no loss"
dx_say "fault: the receiver's SO_RCVBUF is 64 KB (netdx bench stream --rcvbuf 64k)"
dx_say "workload: netdx bench stream, 1 flow, 4 s; doctor for 6 s"
dx_doctor 6 -i "$DX_C/$DX_VC" --netns "$DX_C,$DX_R,$DX_S" -- \
	ip netns exec "$DX_C" "$NETDX" bench stream "$DX_SIP" --port "$DX_PORT" --rcvbuf 64k \
	--duration 4 --json
dx_truth "SO_RCVBUF 65536 at the receiver $DX_SIP:$DX_PORT (the kernel allows 2 x 65536), RTT 10 ms"
dx_checks

win=$(dx_n finding[1].numbers.tcp.window_max)
rate=$(python3 -c 'import json, sys; print(int(json.load(open(sys.argv[1]))["totals"]["goodput_bps"]))' \
	"$DX_REC/bench.json" 2>/dev/null || echo 0)
dx_plan 9
dx_runs_ok
dx_is "top finding: the mechanism" "$(dx_q finding[1].mechanism)" receiver-window
dx_is "top finding: warning" "$(dx_q finding[1].severity)" warning
dx_is "top finding: the place is the receiver's buffer" \
	"$(dx_q finding[1].place.kind) $(dx_q finding[1].place.endpoint)" "socket-buffer $DX_SIP:$DX_PORT"
dx_between "receiver-limited share (capture)" "$(dx_q finding[1].numbers.tcp.receiver_share)" 0.6 1
dx_between "largest window the receiver advertised (capture) <= 2 x SO_RCVBUF" "$win" 1 131072
dx_between "the sender's TCP_INFO: window-limited share of its busy time" \
	"$(dx_q finding[1].numbers.bench.rwnd_limited_share)" 0.2 1
# window / RTT bounds the rate: bench's goodput within [0.4, 1.1] of it
dx_between "bench's goodput ~ window / 10 ms (bit/s)" "$rate" "$((win * 8 * 100 * 4 / 10))" "$((win * 8 * 100 * 11 / 10))"
dx_from_same
dx_done
