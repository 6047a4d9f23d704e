#!/usr/bin/env bash
# crr-conntrack-full.sh NETDX [--tap|--demo|--json]
# demo: connect/request/response through a router whose conntrack table is full: 1 s, 2 s, 3 s connection set-up
#
# The cloud talk's second case: under netperf TCP_CRR the stateful firewall's
# connection table overflowed, and new connections waited for SYN
# retransmissions (1 s, 3 s, 7 s there; this kernel retries every second for
# the first four). Here the router $DX_R tracks connections (an iptables
# conntrack rule turns tracking on in it), and the host's
# net.netfilter.nf_conntrack_max (read-only inside a namespace; each
# namespace counts its own entries against it) is lowered to 32 for 3 s,
# under flock /tmp/netdx-sysctl.lock, then put back, as entries expiring
# would free it. While it is full, every new connection's SYN is dropped in
# the router and retried a second later.
#
# Expected diagnosis: conntrack-full at the conntrack table of $DX_R,
# critical; the router's conntrack `drop` counter == the NETFILTER_DROP
# drops there; the capture's SYN retransmissions about the same number.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/doctor/scenarios/lib.sh
source "$here/lib.sh"
dx_init "${1:-}" "${2:---demo}" ct iptables sysctl flock
[[ -r /proc/net/stat/nf_conntrack ]] || dx_unusable "no nf_conntrack in this kernel"
dx_topo
dx_server

# the conntrack "drop" column of netns $1, summed over CPUs (hex in the file)
ct_drop() {
	ip netns exec "$1" cat /proc/net/stat/nf_conntrack | python3 -c '
import sys
rows = sys.stdin.read().split("\n")
col = rows[0].split().index("drop")
print(sum(int(r.split()[col], 16) for r in rows[1:] if r.strip()))'
}

ip netns exec "$DX_R" iptables -A FORWARD -m conntrack --ctstate INVALID -j DROP
d0=$(ct_drop "$DX_R")
dx_say "fault: nf_conntrack_max lowered to 32 for 3 s (host-wide, under flock); $DX_R tracks connections"
dx_host_sysctl net.netfilter.nf_conntrack_max 32 || dx_unusable "cannot lower nf_conntrack_max"
(
	sleep 3
	sysctl -qw "net.netfilter.nf_conntrack_max=$DX_SYSCTL_SAVED"
) &
DX_PIDS+=($!)
dx_say "workload: netdx bench crr, 16 flows at 5 connections/s each, 6 s; doctor for 8 s"
dx_doctor 8 -i "$DX_C/$DX_VC" --netns "$DX_C,$DX_R,$DX_S" -- \
	ip netns exec "$DX_C" "$NETDX" bench crr "$DX_SIP" --port "$DX_PORT" --flows 16 --rate 5 \
	--duration 6 --json
dx_host_sysctl_restore
d1=$(ct_drop "$DX_R")
injected=$((d1 - d0))
dx_truth "the full table refused $injected connection attempts in netns $DX_R (/proc/net/stat/nf_conntrack drop)"
dx_checks

dx_plan 10
dx_runs_ok
dx_is "top finding: the mechanism" "$(dx_q finding[1].mechanism)" conntrack-full
dx_is "top finding: critical" "$(dx_q finding[1].severity)" critical
dx_is "top finding: the place is the router's conntrack table" \
	"$(dx_q finding[1].place.kind) $(dx_q finding[1].place.netns)" "conntrack $DX_R"
dx_cmp "tcp, drops and counters agree" "$(dx_q finding[1].agree)" -eq 3
dx_is "conntrack drops (counters) == refused attempts (/proc/net/stat)" \
	"$(dx_q finding[1].numbers.counters.ct_drops)" "$injected"
dx_is "NETFILTER_DROP drops in the router (eBPF) == refused attempts" \
	"$(dx_q finding[1].numbers.drops.drops)" "$injected"
# Every refused SYN is resent once (the last one of a stall that was never
# answered is not).
stalls=$(dx_n finding[1].numbers.tcp.stalls)
dx_between "SYNs resent (capture) ~ refused attempts" "$(dx_q finding[1].numbers.tcp.retries)" \
	"$((injected - stalls))" "$injected"
dx_cmp "connections delayed by SYN retries (capture)" "$(dx_q finding[1].numbers.tcp.stalls)" -ge 8
dx_from_same
dx_done
