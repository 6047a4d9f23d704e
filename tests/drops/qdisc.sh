#!/usr/bin/env bash
# qdisc.sh NETDX - TAP scenario: a tbf qdisc overflowed: its drops appear
# under the qdisc drop reason on that device, as many as tc counts.
#
#   $NS_A 10.63.0.1  tbf rate 1mbit burst 5k limit 10k on $VETH_A
#        --- 400 x 1200-byte UDP as fast as possible ---> $NS_B 10.63.0.2:9300
#
# tc's own "dropped" counter of the qdisc is the reference.
set -u
# shellcheck source=tests/drops/drops_lib.sh
source "$(dirname "$0")/drops_lib.sh"
dl_init "${1:-}" dqd tc
ns2_up 10.63.0.1 10.63.0.2
tmp=$TMP
echo "1..5"
inoa=$(ns_inode "$NS_A")
if ! ip netns exec "$NS_A" tc qdisc add dev "$VETH_A" root tbf rate 1mbit burst 5k limit 10k 2>"$tmp/tc.err"; then
	echo "# $(cat "$tmp/tc.err")"
	notok "tbf qdisc added"
	exit 1
fi
ip netns exec "$NS_B" python3 -c 'import socket,time; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("10.63.0.2",9300)); time.sleep(30)' &
PIDS+=($!)

dl_start "$tmp/q.json" --dev "$VETH_A" --netns "$NS_A" || { notok "netdx drops starts"; exit 1; }
p=$DL_PID
"$NETDX" drops --duration 120 --interval 0 --netns "$NS_A" >"$tmp/q.txt" 2>&1 &
p_txt=$!
PIDS+=("$p_txt")
for ((i = 0; i < 100; i++)); do grep -q 'attached via' "$tmp/q.txt" && break; sleep 0.05; done
udp_send "$NS_A" 10.63.0.1 40300 10.63.0.2 9300 400 1200 >/dev/null
sleep 0.3
tcdrop=$(ip netns exec "$NS_A" tc -s qdisc show dev "$VETH_A" | sed -n 's/.*dropped \([0-9]*\).*/\1/p' | head -1)
dl_stop "$p"; rc=$DL_RC
dl_stop "$p_txt"

check "exit 0 and valid NDJSON" test "$rc" = 0 -a "$(ndq "$tmp/q.json" validate)" = ok
qn=$(ndq "$tmp/q.json" sum packets type=drop qdisc=true dev="$VETH_A" netns="$inoa")
reasons=$(ndq "$tmp/q.json" values reason type=drop qdisc=true | paste -sd,)
check "the tbf overflowed (tc counts $tcdrop drops)" test "${tcdrop:-0}" -gt 0
check "qdisc drops on $VETH_A in $NS_A: $qn ($reasons) = tc's $tcdrop" test "$qn" = "$tcdrop"
other=$(ndq "$tmp/q.json" count type=drop dev!="$VETH_A")
check "--dev kept only $VETH_A ($other other rows)" test "$other" = 0
check "the text summary lists the qdisc drops on $VETH_A" \
	grep -Eq "qdisc drops: $tcdrop [A-Z_]+ on $VETH_A" "$tmp/q.txt"
