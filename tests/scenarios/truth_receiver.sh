#!/usr/bin/env bash
# truth_receiver.sh NETDX - TAP ground-truth scenario of the TCP inference
# engine: a small receive buffer (receiver-limited).
#
#   NAME-snd: netdx bench stream --cc cubic --rcvbuf 32K, 3 s (the client sends)
#   NAME-mid: netdx emu run --fwd 'rate=50M delay=10ms buffer=1bdp' --rev 'delay=10ms'
#             (BDP 50 Mbit/s x 20 ms = 125 kB, four times what the receiver
#             offers); tcpdump -i m0, read by netdx tcp afterwards
#   NAME-rcv: netdx bench server; its route to the client carries advmss 1200
#             and its tcp_rmem max is 1 MB, so the two sides advertise
#             different MSS (1460 / 1200) and window scales (ss shows them): a swap of
#             directions cannot pass
#
# Cubic, not the default BBR: BBR's pacing stops the sender before the window
# does, and the kernel then counts that time as network, not rwnd_limited.
# Kernel's view: TCP_INFO of both sides (netdx bench), ss -tin (wscale),
# tcp:tcp_probe (srtt). Checks (truth_check.py has the details): MSS and
# window scale exact, c2s retransmissions within max(2, 10%) of total_retrans,
# c2s RTT p50 within 15% of the median of the kernel's own RTT samples, c2s verdict ==
# receiver-limited as the kernel's chrono stats give it.
#
# Needs root, iproute2, tcpdump, python3; tracefs for tcp_probe (mounted if
# needed and unmounted again). About 8 s. Everything it creates is removed on
# exit, failure, SIGINT and SIGTERM (truth_lib.sh).
set -u
# shellcheck source=tests/scenarios/truth_lib.sh
source "$(dirname "$0")/truth_lib.sh"
truth_init "${1:-}" rc

CHECKS=ends,mss,segmax,wscale,retrans,rtt,verdict
ARGS=(--dir c2s)
python3 "$CHECK" "$TMP" "$CHECKS" "${ARGS[@]}" --plan-only
CHECK_ARGS=("${ARGS[@]}")
if truth_topo; then
	ip netns exec "$NAME-rcv" sysctl -qw net.ipv4.tcp_rmem="4096 131072 1048576"
	ip -n "$NAME-rcv" route add "$SND/32" dev r0 advmss 1200
	if truth_emu --fwd 'rate=50M delay=10ms buffer=1bdp' --rev 'delay=10ms' && truth_server "$NAME-rcv"; then
		truth_run_checked "$CHECKS" "$NAME-mid" m0 "$NAME-snd" "$RCV" stream --duration 3 --cc cubic --rcvbuf 32K
	fi
	truth_stop_bg "$EMU_PID"
fi
python3 "$CHECK" "$TMP" "$CHECKS" "${ARGS[@]}"
