#!/usr/bin/env bash
# tcp_retrans.sh NETDX - TAP scenario: a TCP flow crosses an iptables random
# drop; the drops and the retransmissions of that flow are seen side by side.
#
#   $NS_A 10.65.0.1:40500 --- 300 KB over TCP ---> $NS_B 10.65.0.2:9500 (sink)
#                     iptables -A INPUT -p tcp --dport 9500
#                       -m statistic --mode random --probability 0.05 -j DROP
#
# netdx drops --flows --events: retransmission events for that flow, its
# NETFILTER_DROP row with the retransmissions on it, and the place row.
set -u
# shellcheck source=tests/drops/drops_lib.sh
source "$(dirname "$0")/drops_lib.sh"
dl_init "${1:-}" dtr iptables
ns2_up 10.65.0.1 10.65.0.2
tmp=$TMP
echo "1..7"
inob=$(ns_inode "$NS_B")
ip netns exec "$NS_B" iptables -A INPUT -p tcp --dport 9500 -m statistic --mode random \
	--probability 0.05 -j DROP
ip netns exec "$NS_B" python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.65.0.2", 9500)); s.listen(1); s.settimeout(30)
c, _ = s.accept(); c.settimeout(30)
while c.recv(65536): pass
' &
PIDS+=($!)
sleep 0.2

dl_start "$tmp/t.json" --flows --events --event-rate 0 || { notok "netdx drops starts"; exit 1; }
p=$DL_PID
ip netns exec "$NS_A" timeout 30 python3 -c '
import socket
c = socket.socket(); c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
c.bind(("10.65.0.1", 40500)); c.settimeout(30); c.connect(("10.65.0.2", 9500))
for _ in range(100): c.sendall(b"z" * 3000)
c.shutdown(socket.SHUT_WR); c.recv(1); c.close()
'
crc=$?
sleep 0.3
dl_stop "$p"; rc=$DL_RC

# The flow both ways: the client retransmits data and its FIN; the server
# may retransmit too (its FIN, when the client's ACK to :9500 was dropped).
flow_c=(flow.src=10.65.0.1:40500 flow.dst=10.65.0.2:9500)
flow_s=(flow.src=10.65.0.2:9500 flow.dst=10.65.0.1:40500)
check "the transfer completed through the random drop and netdx exits 0" test "$crc" = 0 -a "$rc" = 0
drops=$(ndq "$tmp/t.json" sum packets type=drop reason=NETFILTER_DROP netns="$inob" "${flow_c[@]}")
check "NETFILTER_DROP on the flow 10.65.0.1:40500 > 10.65.0.2:9500 in $NS_B ($drops)" test "$drops" -gt 0
ev_c=$(ndq "$tmp/t.json" count type=event kind=signal signal=retransmit "${flow_c[@]}")
ev_s=$(ndq "$tmp/t.json" count type=event kind=signal signal~retransmit "${flow_s[@]}")
check "retransmission events for that flow ($ev_c from the client, $ev_s from the server)" test "$ev_c" -gt 0
sig_c=$(ndq "$tmp/t.json" sum count type=signal signal~retransmit "${flow_c[@]}")
sig_s=$(ndq "$tmp/t.json" sum count type=signal signal~retransmit "${flow_s[@]}")
check "the signal rows of that flow agree with its events ($sig_c + $sig_s = $ev_c + $ev_s)" \
	test "$sig_c" = "$ev_c" -a "$sig_s" = "$ev_s"
sig=$((sig_c + sig_s))
rx=$(ndq "$tmp/t.json" field retrans type=drop reason=NETFILTER_DROP "${flow_c[@]}")
check "the drop row carries the retransmissions on its flow, both ways ($rx = $sig)" test "$rx" = "$sig"
pr=$(ndq "$tmp/t.json" field retrans_on_flows type=place reason=NETFILTER_DROP netns="$inob")
check "the place row: retransmissions on the flows behind it ($pr)" test "$pr" = "$sig"
dev=$(ndq "$tmp/t.json" count type=event kind=drop reason=NETFILTER_DROP "${flow_c[@]}")
check "every drop of the flow was an event too (--event-rate 0: $dev = $drops)" test "$dev" = "$drops"
