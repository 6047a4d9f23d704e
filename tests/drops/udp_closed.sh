#!/usr/bin/env bash
# udp_closed.sh NETDX - TAP scenario: UDP to a closed port is NO_SOCKET, and
# with --flows the row carries the flow (the right ports); the event stream
# is rate-limited in the kernel and says how much it suppressed.
#
#   $NS_A 10.62.0.1:40200 --- 37 datagrams ---> $NS_B 10.62.0.2:9200 (no socket)
#
# Four netdx drops at once: --flows (JSON); --events --event-rate 4
# filtered to that port, whose sent + suppressed events must account for
# every drop it counted; --interval 0.2 (the live view as NDJSON), whose
# per-interval deltas must add up to the total; and --max-keys 16 --flows
# with 30 more flows (ports 40300..40329), whose flow table overflows: what
# did not fit is counted as "flows map full", and nothing is lost from the
# place's total. Two more with events: --event-skip NO_SOCKET sends none
# for these drops (counted as skipped, still counted at their place), and
# --event-skip benign (NO_SOCKET is not benign) sends them all.
set -u
# shellcheck source=tests/drops/drops_lib.sh
source "$(dirname "$0")/drops_lib.sh"
dl_init "${1:-}" dud
ns2_up 10.62.0.1 10.62.0.2
tmp=$TMP
echo "1..13"
inob=$(ns_inode "$NS_B")

dl_start "$tmp/flows.json" --flows || { notok "netdx drops starts"; exit 1; }
p_flows=$DL_PID
dl_start "$tmp/ev.json" --events --event-rate 4 --netns "$NS_B" --port 9200 || exit 1
p_ev=$DL_PID
dl_start "$tmp/live.json" --interval 0.2 --flows --netns "$NS_B" --port 9200 || exit 1
p_live=$DL_PID
dl_start "$tmp/full.json" --max-keys 16 --flows --netns "$NS_B" --reason NO_SOCKET || exit 1
p_full=$DL_PID
dl_start "$tmp/skip.json" --events --event-rate 0 --event-skip NO_SOCKET --netns "$NS_B" --port 9200 || exit 1
p_skip=$DL_PID
dl_start "$tmp/benign.json" --events --event-rate 0 --event-skip benign --netns "$NS_B" --port 9200 || exit 1
p_benign=$DL_PID
sent=$(udp_send "$NS_A" 10.62.0.1 40200 10.62.0.2 9200 37)
for ((i = 0; i < 30; i++)); do
	udp_send "$NS_A" 10.62.0.1 $((40300 + i)) 10.62.0.2 9201 2 >/dev/null &
done
wait_bg() { local p; for p in $(jobs -p); do [[ " ${PIDS[*]} " == *" $p "* ]] || wait "$p"; done; }
wait_bg
sleep 0.5
dl_stop "$p_flows"; rc1=$DL_RC
dl_stop "$p_ev"; rc2=$DL_RC
dl_stop "$p_live"
dl_stop "$p_full"
dl_stop "$p_skip"
dl_stop "$p_benign"

check "37 datagrams sent, both runs exit 0 with valid NDJSON" test "$sent" = 37 -a "$rc1" = 0 -a \
	"$rc2" = 0 -a "$(ndq "$tmp/flows.json" validate)" = ok -a "$(ndq "$tmp/ev.json" validate)" = ok
n=$(ndq "$tmp/flows.json" sum packets type=drop reason=NO_SOCKET netns="$inob" \
	flow.src=10.62.0.1:40200 flow.dst=10.62.0.2:9200 flow.proto=udp)
check "--flows: NO_SOCKET on 10.62.0.1:40200 > 10.62.0.2:9200 counts the 37 (got $n)" test "$n" = 37
other=$(ndq "$tmp/flows.json" count type=drop reason=NO_SOCKET netns="$inob" flow.dst!=10.62.0.2:9200 \
	flow.dst!=10.62.0.2:9201)
check "no NO_SOCKET row in $NS_B under another port ($other)" test "$other" = 0
pf=$(ndq "$tmp/flows.json" field flows type=place reason=NO_SOCKET netns="$inob")
check "the place row counts the 31 flows behind it ($pf)" test "$pf" = 31
counted=$(ndq "$tmp/ev.json" field drops_counted type=summary)
evs=$(ndq "$tmp/ev.json" field events_sent type=summary)
sup=$(ndq "$tmp/ev.json" field events_suppressed type=summary)
wr=$(ndq "$tmp/ev.json" count type=event kind=drop)
check "events: $evs sent + $sup suppressed = $counted drops counted (37)" \
	test "$counted" = 37 -a $((evs + sup)) = 37
check "the rate limit held events back ($evs sent: 4/s is 2 per CPU, burst 2)" \
	test "$sup" -gt 0 -a "$evs" -ge 1 -a "$evs" -le 4
check "every sent event was written ($wr of $evs)" test "$wr" = "$evs"
ev=$(ndq "$tmp/ev.json" count type=event kind=drop reason=NO_SOCKET flow.dst=10.62.0.2:9200 \
	flow.src=10.62.0.1:40200 netns="$inob" dev="$VETH_B")
check "the events name reason, flow, device and namespace ($ev of $wr)" test "$ev" = "$wr"
ni=$(ndq "$tmp/live.json" count type=interval)
nd=$(ndq "$tmp/live.json" sum delta type=drop_interval reason=NO_SOCKET flow.dst=10.62.0.2:9200)
check "--interval 0.2 --json: $ni interval lines, their deltas add up to the 37 ($nd)" \
	test "$ni" -ge 3 -a "$nd" = 37
full=$(ndq "$tmp/full.json" field flows_map_full type=summary)
fcnt=$(ndq "$tmp/full.json" field flows_counted type=summary)
cnt=$(ndq "$tmp/full.json" field drops_counted type=summary)
keys=$(ndq "$tmp/full.json" field drop_keys type=summary)
place=$(ndq "$tmp/full.json" sum packets type=place reason=NO_SOCKET netns="$inob")
check "--max-keys 16: the flow table is full at $keys keys, $full drops counted as flows map full" \
	test "$keys" = 16 -a "$full" -gt 0
check "flows map full + by flow = every drop sent = the place's total ($full + $fcnt = $cnt = $place = 37 + 60)" \
	test $((full + fcnt)) = 97 -a "$cnt" = 97 -a "$place" = 97
sk=$(ndq "$tmp/skip.json" field events_skipped type=summary)
skw=$(ndq "$tmp/skip.json" count type=event kind=drop)
skp=$(ndq "$tmp/skip.json" sum packets type=place reason=NO_SOCKET netns="$inob")
check "--event-skip NO_SOCKET: no event, $sk skipped, the place still counts them ($skw events, $skp counted; 37)" \
	test "$skw" = 0 -a "$sk" = 37 -a "$skp" = 37
bw=$(ndq "$tmp/benign.json" count type=event kind=drop reason=NO_SOCKET)
bs=$(ndq "$tmp/benign.json" field events_skipped type=summary)
check "--event-skip benign: NO_SOCKET is no benign reason: all 37 events ($bw), none skipped ($bs)" \
	test "$bw" = 37 -a "$bs" = 0
