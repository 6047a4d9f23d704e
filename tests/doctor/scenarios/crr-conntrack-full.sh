#!/usr/bin/env bash
# crr-conntrack-full.sh NETDX [--tap|--demo|--json]
# demo: connect/request/response through a router whose conntrack table is full: 1 s and 3 s connection set-up
#
# The cloud talk's second case: under netperf TCP_CRR the stateful firewall's
# connection table overflowed, and new connections waited for SYN
# retransmissions, 1 s, then 3 s. Here the router $DX_R tracks connections
# (an iptables conntrack rule turns tracking on in it), and the host's
# net.netfilter.nf_conntrack_max (read-only inside a namespace; each
# namespace counts its own entries against it) is lowered to 32 for 7 s,
# under flock /tmp/netdx-sysctl.lock, then put back. The workload's closed
# connections fill it (TIME_WAIT entries); every 0.5 s two of them leave it
# (conntrack -D, as entries expire in a table at its limit), so a few SYNs
# get in and the rest are dropped and resent. The client's SYN back-off is
# the classic 1 s, 3 s, 7 s (net.ipv4.tcp_syn_linear_timeouts=0 in its
# namespace; this kernel's default retries every second four times).
#
# Expected diagnosis: conntrack-full at the conntrack table of $DX_R,
# critical; the router's conntrack `drop` counter == the NETFILTER_DROP
# drops there, all of them on the flows of the connections that waited
# (drops --flows joined to the capture); SYN stalls of about 1 s and 3 s.
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
# The source's kernels back off 1 s, 3 s, 7 s; this one retries every second
# for the first four SYNs unless told otherwise (per namespace).
if [[ -e /proc/sys/net/ipv4/tcp_syn_linear_timeouts ]]; then
	ip netns exec "$DX_C" sysctl -qw net.ipv4.tcp_syn_linear_timeouts=0
fi
d0=$(ct_drop "$DX_R")
dx_say "fault: nf_conntrack_max lowered to 32 for 7 s (host-wide, under flock); $DX_R tracks connections; two finished connections leave its table every 0.5 s"
dx_host_sysctl net.netfilter.nf_conntrack_max 32 || dx_unusable "cannot lower nf_conntrack_max"
# Entries of finished connections expire: here two of them every 0.5 s
# (conntrack -D of TIME_WAIT entries, by their original tuple), so the table
# stays full and a slot opens now and then, as in a table at its limit. Left
# to itself the kernel frees them when its garbage collector runs (seconds
# apart), and every waiting connection got in at once at 3 s.
(
	end=$((SECONDS + 7))
	while ((SECONDS < end)); do
		sleep 0.5
		ip netns exec "$DX_R" conntrack -L -p tcp 2>/dev/null |
			awk '/TIME_WAIT|CLOSE/ { delete v
				for (i = 1; i <= NF; i++) if ($i ~ /^(src|dst|sport|dport)=/) { split($i, kv, "="); if (!(kv[1] in v)) v[kv[1]] = kv[2] }
				print v["src"], v["dst"], v["sport"], v["dport"] }' |
			head -"2" | while read -r s d sp dp; do
				ip netns exec "$DX_R" conntrack -D -p tcp -s "$s" -d "$d" --sport "$sp" --dport "$dp" >/dev/null 2>&1
			done
	done
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

# SYN stalls in the capture (doctor's own recording): each wait is one step
# of the back-off (1 s, 3 s or 7 s), and both of the first two occur.
waits=$(python3 - "$DX_REC" <<'PY'
import glob, json, sys
w = []
for p in glob.glob(sys.argv[1] + "/tcp-*.ndjson"):
    for line in open(p):
        o = json.loads(line)
        if o.get("type") == "conn" and not o.get("snapshot"):
            w += [s["duration_s"] for s in o.get("stalls") or [] if s.get("cause") == "syn-retrans"]
step = lambda d: next((t for t in (1, 3, 7) if abs(d - t) <= 0.25), None)
print(sum(step(d) is None for d in w), sum(step(d) == 1 for d in w), sum(step(d) == 3 for d in w))
PY
)
read -r off one three <<<"$waits"

dx_plan 15
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
dx_is "every dropped SYN was on the flow of a connection that waited (drops --flows x capture)" \
	"$(dx_q finding[1].numbers.drops.on_stalled_flows)" "$injected"
# The timing join: each stall had a drop of its own connection at that place
# while it lasted (drop events; at least 90%: a stall can begin a few
# milliseconds before the capture saw its start).
st=$(dx_n finding[1].numbers.tcp.stalls)
dx_between "stalls with a drop of their connection there, in time (drop events x capture)" \
	"$(dx_q finding[1].numbers.drops.stalls_timed)" "$((st * 9 / 10))" "$st"
dx_cmp "SYN waits that are not 1 s, 3 s or 7 s (+-0.25 s)" "$off" -eq 0
dx_cmp "connections that got in at the first retry (~1 s)" "$one" -ge 1
dx_cmp "connections that got in at the second retry (~3 s)" "$three" -ge 1
dx_from_same
dx_done
