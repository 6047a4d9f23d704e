#!/usr/bin/env bash
# app-limited.sh NETDX [--tap|--demo|--json]
# demo: a server that writes 256 KB twenty times a second: sender-limited, not the network
#
# A slow writer: netdx bench rr paced at 20 requests per second, each
# answered with 256 KB. The server's direction carries ~5 MB/s in bursts
# and has nothing to send most of the time; nothing is lost and no window
# is short. The answer to "why only 40 Mbit/s?" is the application.
#
# Expected diagnosis: sender-limited at the application sending on
# 10.81.2.2:7250 (info: not a network fault; nothing above info); the
# capture's bytes == what bench's server wrote; TCP_INFO of the server says
# it was busy a small part of the time.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/doctor/scenarios/lib.sh
source "$here/lib.sh"
dx_init "${1:-}" "${2:---demo}" al
dx_topo
dx_server

dx_say "fault: none in the network; the server writes 256 KB per request, 20 requests per second"
dx_say "workload: netdx bench rr --rate 20 --resp 256k, 1 flow, 4 s; doctor for 6 s"
dx_doctor 6 -i "$DX_C/$DX_VC" --netns "$DX_C,$DX_R,$DX_S" -- \
	ip netns exec "$DX_C" "$NETDX" bench rr "$DX_SIP" --port "$DX_PORT" --rate 20 --req 100 \
	--resp 256k --duration 4 --json
written=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["totals"]["server"]["tx_bytes"])' \
	"$DX_REC/bench.json" 2>/dev/null || echo 0)
dx_truth "the server wrote $written bytes in 256 KB answers at 20 per second (bench's own count)"
dx_checks

dx_plan 8
dx_runs_ok
dx_is "top finding: the mechanism" "$(dx_q finding[1].mechanism)" sender-limited
dx_is "top finding: the place is the server's application" \
	"$(dx_q finding[1].place.kind) $(dx_q finding[1].place.endpoint)" "application $DX_SIP:$DX_PORT"
dx_is "nothing above info" "$(dx_q 'findings_above[info]')" 0
dx_between "sender-limited share of the transfer (capture)" \
	"$(dx_q finding[1].numbers.tcp.sender_share)" 0.8 1
# The capture's payload bytes also count retransmitted segments (a veth under
# load reorders now and then, and a few are sent again): at least what the
# server wrote, and at most 45 full segments more.
dx_between "bytes the capture saw vs bytes the server wrote (+ resent segments)" \
	"$(dx_q finding[1].numbers.tcp.bytes)" "$written" "$((written + 45 * 1448))"
dx_between "the server's TCP_INFO: busy a small share of the run" \
	"$(dx_q finding[1].numbers.bench.busy_share)" 0 0.3
dx_from_same
dx_done
