#!/usr/bin/env bash
# truth_drops.sh NETDX - TAP ground-truth scenario of the TCP inference
# engine: request/response with periodic drops (RTO stalls of at least
# 200 ms, and the transactions they delayed).
#
#   NAME-snd: netdx bench rr --req 400 --resp 400, closed loop, 4 s
#   NAME-mid: netdx emu run --fwd 'rate=50M delay=10ms' --rev 'delay=10ms';
#             tcpdump -i m0 (the requests pass it before they are dropped)
#   NAME-rcv: netdx bench server, and in its INPUT chain
#             -p tcp --sport LPORT:LPORT+1 --dport PORT -m length --length 300:65535
#             -m statistic --mode nth --every 25 --packet 12 -j DROP
#             (every 25th request of the data flow from the 13th on: not the
#             first, which the bench's greeting makes special; not its ACKs,
#             not the greeting, not the control connection)
#
# A dropped request is the only packet in flight: the client repairs it with
# a tail loss probe whose timer is min(2 x srtt + 200 ms, RTO) (Linux adds
# the minimum RTO when one packet is out), so each drop stalls the
# connection for about 225 ms and delays exactly one transaction. The
# request also carried the ACK of the previous response, so the server's
# timer runs too and fires at about the same moment: either side's
# retransmission may reach the capture point first (measured: the server's
# first for 2 to 4 of 6 drops), and the server's counts in its
# total_retrans. Ground truth: the rule's own packet counter (the number of
# drops), both sides' TCP_INFO total_retrans, and the bench's own
# transaction count and latency maximum.
# Checks (truth_check.py): MSS and window scale exact, c2s and s2c
# retransmissions within max(2, 10%) of the client's and the server's
# total_retrans, c2s RTT p50 within 15% of the kernel's, c2s verdict as the
# kernel's chrono stats give it (network-limited: a closed-loop client
# always has its request in flight), one "rto" stall >= 0.2 s per dropped
# request, each naming the transaction it delayed, and all of them in c2s
# (the direction that lost the packets), and txn count / latency max
# against the bench's.
#
# Needs root, iproute2, iptables, tcpdump, python3; tracefs for tcp_probe.
# About 9 s. Everything it creates is removed on exit, failure, SIGINT and
# SIGTERM (the rule goes with the namespace).
set -u
# shellcheck source=tests/scenarios/truth_lib.sh
source "$(dirname "$0")/truth_lib.sh"
truth_init "${1:-}" dr iptables

EVERY=25
CHECKS=ends,mss,wscale,retrans,retrans:s2c,rtt,verdict,stalls,txn
ARGS=(--dir c2s)
python3 "$CHECK" "$TMP" "$CHECKS" "${ARGS[@]}" --drops-c2s 0 --plan-only
CHECK_ARGS=("${ARGS[@]}" --drops-c2s 0)
# a second run (truth_run_checked) uses LPORT + 1: the rule covers both, and
# its counter starts again from zero
zero_rule() { ip netns exec "$NAME-rcv" iptables -w 5 -Z INPUT; }
TRUTH_RETRY_HOOK=zero_rule
drops=""
if truth_topo; then
	if ip netns exec "$NAME-rcv" iptables -w 5 -A INPUT -p tcp --sport "$LPORT:$((LPORT + 1))" --dport "$PORT" \
		-m length --length 300:65535 -m statistic --mode nth --every "$EVERY" --packet 12 -j DROP 2>"$TMP/ipt.err"; then
		if truth_emu --fwd 'rate=50M delay=10ms' --rev 'delay=10ms' && truth_server "$NAME-rcv"; then
			truth_run_checked "$CHECKS" "$NAME-mid" m0 "$NAME-snd" "$RCV" rr --duration 4 --req 400 --resp 400
		fi
		drops=$(ip netns exec "$NAME-rcv" iptables -w 5 -nvxL INPUT | awk '/statistic/ {print $1; exit}')
	else
		echo "# iptables rule failed: $(head -1 "$TMP/ipt.err")"
	fi
	truth_stop_bg "$EMU_PID"
fi
echo "# requests dropped by the rule (every ${EVERY}th): ${drops:-?}"
python3 "$CHECK" "$TMP" "$CHECKS" "${ARGS[@]}" --drops-c2s "${drops:--1}"
