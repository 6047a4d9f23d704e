#!/usr/bin/env bash
# truth_sender.sh NETDX - TAP ground-truth scenario of the TCP inference
# engine: an application writing chunks with pauses (sender-limited).
#
#   NAME-snd: netdx bench rr --req 20000 --resp 1 --rate 6, 3 s: the client
#             writes a 20 kB chunk every 167 ms (paced) and the server answers
#             each with one byte
#   NAME-mid: netdx emu run --fwd 'rate=50M delay=10ms buffer=1bdp' --rev 'delay=10ms'
#             (BDP 125 kB: each chunk leaves in one window, then the sender
#             has nothing to send for ~100 ms); tcpdump -i m0
#   NAME-rcv: netdx bench server
#
# The rate is chosen so that the kernel's own verdict is clear of the 0.6
# threshold: the client socket is busy (data in flight) for about 30 ms per
# chunk (one round trip, the serialisation, BBR's pacing of a chunk after an
# idle period; measured: 736 ms for 24 chunks at --rate 8, sender fraction
# 0.76), so 6 chunks/s leave it idle (application-limited) ~80% of the time.
# The scenario line checks that the kernel's sender fraction indeed came out
# >= 0.7.
# Checks (truth_check.py): MSS and window scale exact, c2s retransmissions
# within max(2, 10%) of total_retrans, c2s RTT p50 within 15% of the kernel's
# RTT samples' median, c2s verdict == sender-limited as the kernel's chrono stats
# give it (idle time = duration - busy_time, plus sndbuf_limited).
#
# Needs root, iproute2, tcpdump, python3; tracefs for tcp_probe. About 8 s.
# Everything it creates is removed on exit, failure, SIGINT and SIGTERM.
set -u
# shellcheck source=tests/scenarios/truth_lib.sh
source "$(dirname "$0")/truth_lib.sh"
truth_init "${1:-}" sn

CHECKS=ends,mss,segmax,wscale,retrans,rtt,verdict
ARGS=(--dir c2s)
python3 "$CHECK" "$TMP" "$CHECKS" "${ARGS[@]}" --plan-only
CHECK_ARGS=("${ARGS[@]}")
if truth_topo; then
	if truth_emu --fwd 'rate=50M delay=10ms buffer=1bdp' --rev 'delay=10ms' && truth_server "$NAME-rcv"; then
		truth_run_checked "$CHECKS" "$NAME-mid" m0 "$NAME-snd" "$RCV" rr --duration 3 --req 20000 --resp 1 --rate 6
	fi
	truth_stop_bg "$EMU_PID"
fi
python3 "$CHECK" "$TMP" "$CHECKS" "${ARGS[@]}"
