#!/usr/bin/env bash
# truth_timeline.sh NETDX - TAP ground-truth scenario of the TCP inference
# engine: a transfer whose limit changes halfway (receiver, then network),
# and netdx's --timeline against the kernel's chrono stats per interval.
#
#   NAME-snd: netdx bench stream --cc cubic --rcvbuf 32K, 4 s, --interval 0.25
#             (TCP_INFO every 250 ms: the chrono stats' deltas label each)
#   NAME-mid: netdx emu run --fwd 'rate=50M delay=10ms buffer=1bdp' --rev
#             'delay=10ms': the receiver's window (~40 kB) is below the BDP
#             (125 kB): receiver-limited; after 2 s `netdx emu set --fwd
#             'rate=4M buffer=15k'`: BDP 10 kB, a buffer that overflows before
#             the window fills, Cubic's window below the receiver's:
#             network-limited; tcpdump -i m0
#   NAME-rcv: netdx bench server
#
# Kernel label of an interval: its chrono deltas as in the verdict (receiver
# = rwnd_limited/span, ...), counted only when the dominant share is >= 0.7
# (clear). netdx's label of the same wall-clock interval: the timeline label
# covering most of it (idle counted as sender, as the kernel counts time not
# busy). Checks (truth_check.py): client and server named as the bench
# names them; the labels agree in >= 80% of the clear intervals (the
# timeline's own intervals are one RTT, 20 ms at first and more behind the
# 4M queue, labelled by the state that held longest in them, so an interval
# next to the change can fall either way: 80% of the ~14 clear intervals
# allows two such); the kernel itself shows both regimes (>= 2 clear
# intervals each: else the scenario did not do what it says); c2s
# retransmissions (the 4M buffer's drops) within max(2, 10%) of
# total_retrans. No overall verdict: the two halves make it ~0.5/0.5, too
# close to call.
#
# Needs root, iproute2, tcpdump, python3; tracefs for tcp_probe. About 9 s.
# Everything it creates is removed on exit, failure, SIGINT and SIGTERM.
set -u
# shellcheck source=tests/scenarios/truth_lib.sh
source "$(dirname "$0")/truth_lib.sh"
truth_init "${1:-}" tl

CHECKS=ends,timeline,retrans
ARGS=(--dir c2s --timeline-expect 'receiver,network')
python3 "$CHECK" "$TMP" "$CHECKS" "${ARGS[@]}" --plan-only
CHECK_ARGS=("${ARGS[@]}")
# the change halfway, in the background of the run (truth_run: TRUTH_DURING);
# before a second run, the first half's settings again
change() { sleep 2.2; timeout 10 "$NETDX" emu set "$NAME" --fwd 'rate=4M buffer=15k'; }
reset() { timeout 10 "$NETDX" emu set "$NAME" --fwd 'rate=50M buffer=1bdp' >/dev/null; }
if truth_topo; then
	if truth_emu --fwd 'rate=50M delay=10ms buffer=1bdp' --rev 'delay=10ms' && truth_server "$NAME-rcv"; then
		TRUTH_DURING=change TRUTH_RETRY_HOOK=reset truth_run_checked "$CHECKS" "$NAME-mid" m0 "$NAME-snd" "$RCV" \
			stream --duration 4 --interval 0.25 --cc cubic --rcvbuf 32K
		echo "# emu set halfway: $(tr '\n' ' ' <"$TMP/during.out")"
	fi
	truth_stop_bg "$EMU_PID"
fi
python3 "$CHECK" "$TMP" "$CHECKS" "${ARGS[@]}"
