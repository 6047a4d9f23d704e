#!/usr/bin/env bash
# truth_midstream.sh NETDX - TAP ground-truth scenario of the TCP inference
# engine: a capture started in the middle of a connection (window scale
# inferred), through a real bandwidth-delay product. Two connections:
#
#   NAME-snd: netdx bench stream --interval 0.1 (the kernel's counters every
#             100 ms) from local ports 40000-49999 (ephemeral, as real
#             clients'; the namespace's own range is moved out of the way)
#   NAME-mid: netdx emu run --fwd 'rate=50M delay=20ms buffer=1bdp' --rev 'delay=20ms':
#             BDP 50 Mbit/s x 40 ms = 250 kB; tcpdump -i m0
#             starts after the client did: no SYN is captured
#   NAME-rcv: netdx bench server
#
# A. window-limited, 4 s, capture from 1.5 s: the receiver's tcp_rmem max is
#    256 kB, so its window (about 200 kB, scaled by the shift its SYN/ACK
#    announced; rmem_max sets that shift, ss shows it) is below the BDP and
#    the sender fills it: the shift is pinned exactly by the flight against
#    the raw windows (src/tcp/infer.h). Cubic: BBR's pacing would stop the
#    sender before the window does, and the kernel would count that as
#    network time (measured: network 0.67, receiver 0.33). Checks: s2c wscale inferred and ==
#    the client's snd_wscale (ss -tin); no MSS claimed without a SYN (the
#    contract's null); c2s retransmissions within max(2, 10%) of the
#    kernel's total_retrans since the capture began; c2s RTT p50 within 15%
#    of the median of the kernel's RTT samples since then; c2s verdict == the kernel's
#    (receiver-limited), all from the interval sample before the capture's
#    first packet to the end (at most 100 ms more than the capture covers).
# B. window far above the flight, 3 s, capture from 1 s: default tcp_rmem
#    (32 MB) and BBR, which keeps about 2 BDP in flight, a small part of the
#    window.
#    The flights then only bound the shift from below: netdx must give the
#    right shift, or flag a lower bound (wscale_lower_bound) not above it,
#    or nothing: never a wrong value presented as exact.
#
# Needs root, iproute2, tcpdump, python3; tracefs for tcp_probe. About 14 s.
# Everything it creates is removed on exit, failure, SIGINT and SIGTERM.
set -u
# shellcheck source=tests/scenarios/truth_lib.sh
source "$(dirname "$0")/truth_lib.sh"
truth_init "${1:-}" md

CHECKS_A=ends,mss-mid,segmax,wscale-mid,retrans,rtt,verdict
CHECKS_B=ends,wscale-mid-lb
# real clients use ephemeral ports, and netdx names the client by them when it
# misses the handshake: the flows' ports come from 40000-49999, which the
# client namespace's own ephemeral range then leaves out
LPORT=$((40000 + ($$ % 1000) * 10))
LPORT_B=$((LPORT + 5))
ARGS=(--dir c2s --mid)
na=$(python3 "$CHECK" "$TMP" "$CHECKS_A" "${ARGS[@]}" --plan-only | cut -d. -f3)
nb=$(python3 "$CHECK" "$TMP" "$CHECKS_B" "${ARGS[@]}" --plan-only | cut -d. -f3)
CHECK_ARGS=("${ARGS[@]}")
echo "1..$((na + nb))"
if truth_topo; then
	ip netns exec "$NAME-snd" sysctl -qw net.ipv4.ip_local_port_range="50000 60999"
	if truth_emu --fwd 'rate=50M delay=20ms buffer=1bdp' --rev 'delay=20ms'; then
		ip netns exec "$NAME-rcv" sysctl -qw net.ipv4.tcp_rmem="4096 131072 262144"
		if truth_server "$NAME-rcv"; then
			OUT=$TMP/a TRUTH_CAP_DELAY=1.5 truth_run_checked "$CHECKS_A" "$NAME-mid" m0 "$NAME-snd" "$RCV" stream \
				--duration 4 --interval 0.1 --cc cubic
		fi
		ip netns exec "$NAME-rcv" sysctl -qw net.ipv4.tcp_rmem="4096 131072 33554432"
		if truth_server "$NAME-rcv"; then
			LPORT=$LPORT_B OUT=$TMP/b TRUTH_CAP_DELAY=1 truth_run_checked "$CHECKS_B" "$NAME-mid" m0 "$NAME-snd" "$RCV" \
				stream --duration 3 --interval 0.1
		fi
	fi
	truth_stop_bg "$EMU_PID"
fi
echo "# A: window-limited"
python3 "$CHECK" "$TMP/a" "$CHECKS_A" "${ARGS[@]}"
echo "# B: window far above the flight"
python3 "$CHECK" "$TMP/b" "$CHECKS_B" "${ARGS[@]}" | awk -v n="$na" '
	/^(not )?ok [0-9]+/ { k = ($1 == "ok") ? 2 : 3; $k = $k + n } { print }'
