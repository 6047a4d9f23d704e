#!/usr/bin/env bash
# flow_full.sh NETDX - TAP scenario: with --flows, many distinct flows fill
# the kernel's flow table, yet every place keeps its exact total, and a
# place that first drops after the flow table filled is still reported,
# exactly (the field case: a connection-heavy workload used to hide the
# listen-overflow drops behind its per-flow keys).
#
#   $NS_A 10.68.0.1:41000..41199 --- 1 datagram each ---> $NS_B 10.68.0.2:9200 (no socket)
#   then $NS_A 10.68.0.1:42000..42009 --- 5 each ---> $NS_B 10.68.0.2:9300
#                                                  iptables -A INPUT -p udp --dport 9300 -j DROP
#
# Three netdx drops at once over the same traffic:
#   small   --flows --max-keys 16 --netns NS_B --reason NO_SOCKET,NETFILTER_DROP (JSON):
#           the 16-key flow table fills on the 200 NO_SOCKET flows; checked
#           exactly: the place totals, flows_map_full = sent - packets in the
#           flow rows, the reconciliation of the kernel's counters
#   wide    --flows --max-flows 16, no filter (JSON): --max-flows alone sizes
#           the flow table; the places in NS_B exact whatever else the host drops
#   text    the small run's text view: the NOFLOW column and the note
set -u
# shellcheck source=tests/drops/drops_lib.sh
source "$(dirname "$0")/drops_lib.sh"
dl_init "${1:-}" dff iptables bpftool
ns2_up 10.68.0.1 10.68.0.2
tmp=$TMP
echo "1..15"

ip netns exec "$NS_B" iptables -A INPUT -p udp --dport 9300 -j DROP
inob=$(ns_inode "$NS_B")

# many_send NS SRC SPORT0 NPORTS DST DPORT EACH: EACH datagrams from each
# of NPORTS source ports SPORT0.. (one socket each); prints how many left.
many_send() {
	ip netns exec "$1" python3 - "$2" "$3" "$4" "$5" "$6" "$7" <<'PY'
import socket, sys, time
src, p0, n, dst, dport, each = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
sent = 0
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, p0 + i))
    for _ in range(each):
        try:
            s.sendto(b"x" * 64, (dst, dport))
            sent += 1
        except OSError:
            pass        # an ICMP error from an earlier datagram surfaces here
    s.close()
    if i % 20 == 19:
        time.sleep(0.002)
print(sent)
PY
}

# shellcheck disable=SC2054  # the comma is --reason's list
small_args=(--flows --max-keys 16 --netns "$NS_B" --reason NO_SOCKET,NETFILTER_DROP)
dl_start "$tmp/small.json" "${small_args[@]}" || { notok "netdx drops starts"; exit 1; }
p_small=$DL_PID
ids=$(pid_prog_ids "$p_small")
dl_start "$tmp/wide.json" --flows --max-flows 16 || exit 1
p_wide=$DL_PID
ids+=" $(pid_prog_ids "$p_wide")"
"$NETDX" drops --duration 120 --interval 0 --top 0 "${small_args[@]}" >"$tmp/text.out" 2>"$tmp/text.err" &
p_txt=$!
PIDS+=("$p_txt")
wait_log "$p_txt" "$tmp/text.out" 'attached via' 200 0.05 || diag "$tmp/text.err"
ids+=" $(pid_prog_ids "$p_txt")"

ns_sent=$(many_send "$NS_A" 10.68.0.1 41000 200 10.68.0.2 9200 1)
sleep 0.2       # every NO_SOCKET drop counted before the second place starts
nf_sent=$(many_send "$NS_A" 10.68.0.1 42000 10 10.68.0.2 9300 5)
sleep 0.3
dl_stop "$p_small"; rc_small=$DL_RC
dl_stop "$p_wide"; rc_wide=$DL_RC
dl_stop "$p_txt"; rc_txt=$DL_RC

check "200 + 50 datagrams sent, the runs exit 0 with valid NDJSON" \
	test "$ns_sent" = 200 -a "$nf_sent" = 50 -a "$rc_small" = 0 -a "$rc_wide" = 0 -a \
	"$rc_txt" = 0 -a "$(ndq "$tmp/small.json" validate)" = ok -a "$(ndq "$tmp/wide.json" validate)" = ok

# --- small: 16 keys, filtered to NS_B and the two reasons ---
j=$tmp/small.json
keys=$(ndq "$j" field drop_keys type=summary)
ffull=$(ndq "$j" field flows_map_full type=summary)
check "the flow table is full at 16 flows ($keys drop rows, $ffull drops without a flow row)" \
	test "$keys" = 16 -a "$ffull" -gt 0 -a "$(ndq "$j" field max_flows type=meta)" = 16
ns=$(ndq "$j" sum packets type=place reason=NO_SOCKET netns="$inob" proto=ipv4/udp)
check "NO_SOCKET place total exact despite the full flow table: $ns of $ns_sent" test "$ns" = "$ns_sent"
nf=$(ndq "$j" sum packets type=place reason=NETFILTER_DROP netns="$inob" proto=ipv4/udp)
nfrows=$(ndq "$j" count type=drop reason=NETFILTER_DROP)
nfun=$(ndq "$j" field unattributed type=place reason=NETFILTER_DROP netns="$inob")
check "NETFILTER_DROP, a place that started after the flow table filled: $nf of $nf_sent, no flow row ($nfrows), all $nfun unattributed" \
	test "$nf" = "$nf_sent" -a "$nfrows" = 0 -a "$nfun" = "$nf_sent"
inrows=$(ndq "$j" sum packets type=drop)
check "flows_map_full = sent - packets in the flow rows ($ffull = $((ns_sent + nf_sent)) - $inrows)" \
	test "$ffull" = $((ns_sent + nf_sent - inrows))
nsun=$(ndq "$j" field unattributed type=place reason=NO_SOCKET netns="$inob")
nsrows=$(ndq "$j" sum packets type=drop reason=NO_SOCKET netns="$inob")
nsflows=$(ndq "$j" field flows type=place reason=NO_SOCKET netns="$inob")
check "the NO_SOCKET place: $nsflows flows behind it, $nsun unattributed = $ns - $nsrows in its flow rows" \
	test "$nsun" = $((ns - nsrows)) -a "$nsflows" = "$(ndq "$j" count type=drop reason=NO_SOCKET netns="$inob" flow!=null)" -a "$nsun" -gt 0
flows_ok=$(ndq "$j" count type=drop reason=NO_SOCKET flow.dst=10.68.0.2:9200 flow.src~10.68.0.1:41)
check "the flow rows are real flows of the 200 ($flows_ok of $keys)" test "$flows_ok" = "$keys"
seen=$(ndq "$j" field drops_seen type=summary)
cnt=$(ndq "$j" field drops_counted type=summary)
flt=$(ndq "$j" field drops_filtered type=summary)
nd=$(ndq "$j" field not_drops type=summary)
pfull=$(ndq "$j" field drops_map_full type=summary)
fcnt=$(ndq "$j" field flows_counted type=summary)
tot=$(ndq "$j" field drops type=summary)
un=$(ndq "$j" field unattributed type=summary)
check "counters reconcile: seen $seen = $nd + $flt + $cnt + $pfull; flows $fcnt + $ffull = $cnt; drops $tot = $cnt = sent" \
	test "$seen" = $((nd + flt + cnt + pfull)) -a $((fcnt + ffull)) = "$cnt" -a "$tot" = "$cnt" -a \
	"$cnt" = $((ns_sent + nf_sent)) -a "$pfull" = 0 -a "$fcnt" = "$inrows"
check "the summary's unattributed ($un) is the flow table's overflow ($ffull)" test "$un" = "$ffull"
pk=$(ndq "$j" field place_keys type=summary)
check "two places in the place table ($pk)" test "$pk" = 2

# --- wide: no filter, --max-flows 16 ---
j=$tmp/wide.json
check "--max-flows 16 sizes the flow table only: max_flows $(ndq "$j" field max_flows type=meta), max_keys $(ndq "$j" field max_keys type=meta)" \
	test "$(ndq "$j" field max_flows type=meta)" = 16 -a "$(ndq "$j" field max_keys type=meta)" = 10240 -a \
	"$(ndq "$j" field drop_keys type=summary)" -le 16
ns=$(ndq "$j" sum packets type=place reason=NO_SOCKET netns="$inob" proto=ipv4/udp)
nf=$(ndq "$j" sum packets type=place reason=NETFILTER_DROP netns="$inob" proto=ipv4/udp)
nsun=$(ndq "$j" field unattributed type=place reason=NO_SOCKET netns="$inob")
nsrows=$(ndq "$j" sum packets type=drop reason=NO_SOCKET netns="$inob")
check "unfiltered: NO_SOCKET $ns of $ns_sent and NETFILTER_DROP $nf of $nf_sent in $NS_B; $nsun unattributed = $ns - $nsrows" \
	test "$ns" = "$ns_sent" -a "$nf" = "$nf_sent" -a "$nsun" = $((ns - nsrows))

# --- text ---
line=$(grep -E "^ +$ns_sent +[0-9]+  NO_SOCKET .* $VETH_B +$NS_B +ipv4/udp +[0-9]+ +[0-9]+ +[0-9]+$" "$tmp/text.out")
read -r -a f <<<"$line"
noflow=${f[${#f[@]} - 1]:-0}
check "text: the place row has the $ns_sent and a NOFLOW column ($noflow)" test -n "$line" -a "$noflow" -gt 0
check "text: the summary says the flow table was full" \
	grep -q "note: the flow table was full: [1-9][0-9]* drops" "$tmp/text.out"
# shellcheck disable=SC2086  # one id per word
all_gone() { test "$(wc -w <<<"$ids")" = 18 && progs_gone $ids; }
check "the three runs held $(wc -w <<<"$ids") programs (6 each), none is left" all_gone
