#!/usr/bin/env bash
# bench-tcp.sh [NETDX] - netdx tcp against a bare libpcap loop and tcptrace.
#
# On bench/data/bulk.pcap: wall time (best of $RUNS, default 3) of
#   pcap_loop (bench/pcap_loop.c), netdx tcp --json, tcptrace -n -l
#   targets: netdx/pcap_loop <= 3, netdx/tcptrace < 1
# On bench/data/crr.pcap: peak RSS (/usr/bin/time -f %M) of
#   netdx tcp --json and tcptrace -n -l
#   target: netdx/tcptrace <= 0.1
# All output goes to /dev/null. Nothing is asserted; it only prints.
# Make the inputs first with bench/make-captures.sh.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
netdx=${1:-$root/build/netdx}
runs=${RUNS:-3}
data="$here/data"
bulk="$data/bulk.pcap"
crr="$data/crr.pcap"

[[ -x $netdx ]] || { echo "bench-tcp: netdx binary '$netdx' not found (build it, or pass its path)" >&2; exit 1; }
for f in "$bulk" "$crr"; do
	[[ -s $f ]] || { echo "bench-tcp: $f missing; run bench/make-captures.sh" >&2; exit 1; }
done
command -v tcptrace >/dev/null || { echo "bench-tcp: tcptrace not installed (apt-get install tcptrace)" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "bench-tcp: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }

cc -O2 "$here/pcap_loop.c" -lpcap -o "$data/pcap_loop"

# best_time CMD...: smallest wall time of $runs runs, in seconds.
best_time() {
	local best="" i t0 t1 rc
	for ((i = 0; i < runs; i++)); do
		t0=$(date +%s%N)
		"$@" >/dev/null 2>"$data/.stderr" && rc=0 || rc=$?
		t1=$(date +%s%N)
		((rc == 0)) || echo "bench-tcp: warning: '$*' exited $rc: $(head -1 "$data/.stderr")" >&2
		if [[ -z $best ]] || ((t1 - t0 < best)); then best=$((t1 - t0)); fi
	done
	awk -v ns="$best" 'BEGIN { printf "%.3f", ns / 1e9 }'
}
# peak_rss CMD...: peak resident set size in KiB.
peak_rss() {
	local rc
	/usr/bin/time -f %M -o "$data/.rss" "$@" >/dev/null 2>"$data/.stderr" && rc=0 || rc=$?
	((rc == 0)) || echo "bench-tcp: warning: '$*' exited $rc: $(head -1 "$data/.stderr")" >&2
	tail -1 "$data/.rss"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

npk=$("$data/pcap_loop" "$bulk" | awk '{print $2}')
echo "bulk.pcap: $npk packets, $(du -h "$bulk" | cut -f1); best of $runs"
t_loop=$(best_time "$data/pcap_loop" "$bulk")
t_ndx=$(best_time "$netdx" tcp --json "$bulk")
t_tt=$(best_time tcptrace -n -l "$bulk")

ncrr=$("$data/pcap_loop" "$crr" | awk '{print $2}')
echo "crr.pcap:  $ncrr packets, $(du -h "$crr" | cut -f1)"
m_ndx=$(peak_rss "$netdx" tcp --json "$crr")
m_tt=$(peak_rss tcptrace -n -l "$crr")

echo
printf '%-34s %12s %12s %8s\n' "measure" "value" "ratio" "target"
printf '%-34s %12s %12s %8s\n' "----------------------------------" "------------" "------------" "--------"
printf '%-34s %11ss %12s %8s\n' "bulk: pcap_loop time" "$t_loop" "" ""
printf '%-34s %11ss %12s %8s\n' "bulk: tcptrace -n -l time" "$t_tt" "" ""
printf '%-34s %11ss %12s %8s\n' "bulk: netdx tcp --json time" "$t_ndx" "" ""
printf '%-34s %12s %12s %8s\n' "  netdx / pcap_loop" "" "$(ratio "$t_ndx" "$t_loop")" "<= 3"
printf '%-34s %12s %12s %8s\n' "  netdx / tcptrace" "" "$(ratio "$t_ndx" "$t_tt")" "< 1"
printf '%-34s %9s KiB %12s %8s\n' "crr: tcptrace -n -l peak RSS" "$m_tt" "" ""
printf '%-34s %9s KiB %12s %8s\n' "crr: netdx tcp --json peak RSS" "$m_ndx" "" ""
printf '%-34s %12s %12s %8s\n' "  netdx / tcptrace" "" "$(ratio "$m_ndx" "$m_tt")" "<= 0.1"
rm -f "$data/.stderr" "$data/.rss"
