#!/usr/bin/env bash
# counters_collect.sh NETDX - TAP scenario: make each kind of counter move in
# throwaway namespaces and check that `netdx counters` reports the right
# delta in the right namespace and on the right device, against the kernel's
# own tools (tc, nstat, sysfs, iptables, conntrack) read around it.
#
#   +---------------------------+            +--------------------------------+
#   | $NS_A (client, sender)    |            | $NS_B (server, receiver)        |
#   |  tbf on $VETH_A (1)       |            |  iptables DROP 1 in 40 data (3) |
#   |  $VETH_A 10.71.0.1/24 ====|=== veth ===|==== $VETH_B 10.71.0.2/24       |
#   +---------------------------+            |  listen backlog 1 (4)           |
#                                            |  conntrack table full (5)       |
#                                            |  $VETH_B2 10.71.1.1/24 ==+      |
#                                            |  tbf 20mbit, 30k (6)     |      |
#                                            +--------------------------|------+
#                                                    veth               |
#                                            +--------------------------|------+
#                                            | $NS_R  $VETH_R 10.71.1.2/24      |
#                                            +---------------------------------+
#   (1) UDP burst through a tiny tbf: qdisc drops == tc's; Udp SndbufErrors
#       in A == those drops; Udp NoPorts in B == the rest
#   (2) $VETH_A down and up: carrier counts on both ends == sysfs
#   (3) TCP stream A -> B with 1 in 40 data segments dropped by iptables in
#       B: RetransSegs in A == nstat's, >= the rule's drops; B's == nstat's
#       there, next to nothing
#   (4) a burst of connects to a listener with backlog 1 that never accepts:
#       ListenOverflows/ListenDrops in B, TCPSynRetrans in A == nstat's;
#       correlated with each other
#   (5) host nf_conntrack_max lowered to 8 (under flock
#       /tmp/netdx-sysctl.lock, restored on any exit): entries == max ==
#       `conntrack -C`, drop == `conntrack -S`'s; correlated with
#       TCPSynRetrans in A
#   (6) A routed through B to R, TCP stream through a small tbf on B's
#       egress: qdisc drops in B correlated with RetransSegs in A
#
# Needs root, ip, tc, nstat, iptables, conntrack, python3; otherwise
# skipped. Everything it creates is removed on exit, failure, SIGINT and
# SIGTERM, and the host's nf_conntrack_max is put back.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/scenarios/ns2_lib.sh
source "$here/../scenarios/ns2_lib.sh"
# shellcheck source=tests/counters/ctr_lib.sh
source "$here/ctr_lib.sh"
ns2_init "${1:-}" cc tc nstat iptables conntrack python3 sysctl flock
ctr_init
NS_R="ndx-cc-$$-r"
VETH_B2="ndxccb2$$"
VETH_R="ndxccr$$"
A=$NS_A B=$NS_B R=$NS_R tmp=$TMP
ns2_up 10.71.0.1 10.71.0.2
if [[ ! -r /proc/net/stat/nf_conntrack ]]; then
	echo "1..0 # SKIP no nf_conntrack in this kernel"
	exit 0
fi

echo "1..25"

# ---- (1) tbf overflow -------------------------------------------------------
udp_send() { # NS DST N: N datagrams of 1000 bytes to port 9 of DST
	ip netns exec "$1" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
n = 0
for _ in range(int(sys.argv[2])):
    try:
        s.sendto(b"x" * 1000, (sys.argv[1], 9)); n += 1
    except OSError:
        pass
print(n)' "$2" "$3"
}
tc_drops() { ip netns exec "$1" tc -s qdisc show dev "$2" | awk '/dropped/ { gsub(",", "", $7); print $7; exit }'; }

udp_send "$A" 10.71.0.2 1 >/dev/null         # ARP resolved before the window
sleep 0.2
ip netns exec "$A" tc qdisc add dev "$VETH_A" root tbf rate 1mbit burst 5k limit 10k
tc0=$(tc_drops "$A" "$VETH_A")
np0=$(ctr_nstat "$B" UdpNoPorts)
ctr_delta_bg "$tmp/tbf.json" 1.5 --netns "$A,$B"
udp_send "$A" 10.71.0.2 500 >/dev/null
ctr_wait
tc1=$(tc_drops "$A" "$VETH_A")
np1=$(ctr_nstat "$B" UdpNoPorts)
qd=$(ctr_q delta "$tmp/tbf.json" "$A" qdisc drops "$VETH_A")
echo "# tbf: tc dropped $tc0 -> $tc1, netdx qdisc drops delta $qd; B NoPorts $np0 -> $np1"
if [[ $qd -gt 0 ]]; then ctr_eq "tbf: qdisc drops on $VETH_A in A == tc's" "$qd" $((tc1 - tc0)); else notok "tbf: no qdisc drops ($qd)"; diag "$tmp/tbf.json.err"; fi
ctr_eq "tbf: Udp.SndbufErrors in A == qdisc drops" "$(ctr_q delta "$tmp/tbf.json" "$A" snmp Udp.SndbufErrors)" "$qd"
ctr_eq "tbf: Udp.NoPorts in B == 500 - drops" "$(ctr_q delta "$tmp/tbf.json" "$B" snmp Udp.NoPorts)" $((500 - qd))
ctr_eq "tbf: the same by nstat in B" $((np1 - np0)) $((500 - qd))
ctr_eq "tbf: no qdisc drops in B" "$(ctr_q delta "$tmp/tbf.json" "$B" qdisc drops "$VETH_B")" 0
ip netns exec "$A" tc qdisc del dev "$VETH_A" root

# ---- (2) interface down/up -------------------------------------------------------
sysfs() { ip netns exec "$1" cat "/sys/class/net/$2/$3"; }
ca0=$(sysfs "$A" "$VETH_A" carrier_changes)
ctr_delta_bg "$tmp/updown.json" 1 --netns "$A,$B" --device "$VETH_A,$VETH_B" --counter 'carrier*,admin_up'
ip -n "$A" link set "$VETH_A" down
ip -n "$A" link set "$VETH_A" up
ctr_wait
ca1=$(sysfs "$A" "$VETH_A" carrier_changes)
ctr_eq "down/up: carrier_changes on $VETH_A == sysfs" "$(ctr_q delta "$tmp/updown.json" "$A" link carrier_changes "$VETH_A")" $((ca1 - ca0))
ctr_eq "down/up: carrier_changes on $VETH_A is 2" $((ca1 - ca0)) 2
ctr_eq "down/up: carrier_down_count +1 / carrier_up_count +1 on $VETH_A" \
	"$(ctr_q delta "$tmp/updown.json" "$A" link carrier_down_count "$VETH_A")/$(ctr_q delta "$tmp/updown.json" "$A" link carrier_up_count "$VETH_A")" "1/1"
ctr_eq "down/up: the peer $VETH_B in B lost carrier once too" \
	"$(ctr_q delta "$tmp/updown.json" "$B" link carrier_down_count "$VETH_B")" 1
sleep 0.3   # carrier comes back asynchronously
"$NETDX" counters snapshot --json --netns "$A" --device "$VETH_A" --counter 'admin_up,carrier' >"$tmp/up.json" 2>"$tmp/up.err"
ctr_eq "down/up: admin_up and carrier gauges are 1 again" \
	"$(ctr_q value "$tmp/up.json" "$A" link admin_up "$VETH_A")$(ctr_q value "$tmp/up.json" "$A" link carrier "$VETH_A")" 11

# ---- (3) iptables drops under TCP -----------------------------------------------------
ip netns exec "$B" iptables -A INPUT -p tcp --dport 7250 -m length --length 1000:65535 \
	-m statistic --mode nth --every 40 --packet 0 -j DROP
ip netns exec "$B" "$NETDX" bench server --once >"$tmp/server.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do ip netns exec "$B" ss -ltn 2>/dev/null | grep -q ':7250 ' && break; sleep 0.1; done
rs0=$(ctr_nstat "$A" TcpRetransSegs) rb0=$(ctr_nstat "$B" TcpRetransSegs)
ctr_delta_bg "$tmp/ipt.json" 3 --netns "$A,$B"
ip netns exec "$A" "$NETDX" bench stream 10.71.0.2 --duration 1 >"$tmp/stream.out" 2>&1
ctr_wait
rs1=$(ctr_nstat "$A" TcpRetransSegs) rb1=$(ctr_nstat "$B" TcpRetransSegs)
dropped=$(ip netns exec "$B" iptables -vnxL INPUT | awk '$3 == "DROP" { print $1; exit }')
rs=$(ctr_q delta "$tmp/ipt.json" "$A" snmp Tcp.RetransSegs)
echo "# iptables dropped $dropped data segments; RetransSegs in A: nstat $rs0 -> $rs1, netdx delta $rs"
ctr_eq "iptables: Tcp.RetransSegs in A == nstat's" "$rs" $((rs1 - rs0))
if [[ ${dropped:-0} -gt 0 && $rs -ge $dropped ]]; then ok "iptables: RetransSegs $rs >= $dropped segments dropped"; else notok "iptables: RetransSegs $rs, dropped ${dropped:-?}"; diag "$tmp/stream.out"; fi
# B only acknowledges (and may send a tail loss probe of its last reply
# when a loaded machine is slow to acknowledge it): its own count, small.
rb=$(ctr_q delta "$tmp/ipt.json" "$B" snmp Tcp.RetransSegs)
if [[ $rb == $((rb1 - rb0)) && $((rb * 100)) -le $rs ]]; then
	ok "iptables: RetransSegs in B == nstat's there ($rb), under 1% of A's"
else
	notok "iptables: RetransSegs in B $rb (nstat $((rb1 - rb0))), in A $rs"
fi
ip netns exec "$B" iptables -F INPUT

# ---- (4) listen backlog overflow -------------------------------------------------------
ip netns exec "$B" python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.71.0.2", 7300)); s.listen(1); time.sleep(30)' &
PIDS+=($!)
for _ in $(seq 50); do ip netns exec "$B" ss -ltn 2>/dev/null | grep -q ':7300 ' && break; sleep 0.1; done
lo0=$(ctr_nstat "$B" TcpExtListenOverflows) ld0=$(ctr_nstat "$B" TcpExtListenDrops) sr0=$(ctr_nstat "$A" TcpExtTCPSynRetrans)
ctr_delta_bg "$tmp/listen.json" 3 --netns "$A,$B"
# 20 connects at once, held 1.5 s (one SYN retransmission each), then reset.
ip netns exec "$A" python3 -c '
import socket, struct, time
socks = []
for _ in range(20):
    c = socket.socket(); c.setblocking(False); c.connect_ex(("10.71.0.2", 7300)); socks.append(c)
time.sleep(1.5)
for c in socks:
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); c.close()'
ctr_wait
lo1=$(ctr_nstat "$B" TcpExtListenOverflows) ld1=$(ctr_nstat "$B" TcpExtListenDrops) sr1=$(ctr_nstat "$A" TcpExtTCPSynRetrans)
lo=$(ctr_q delta "$tmp/listen.json" "$B" netstat TcpExt.ListenOverflows)
echo "# listen: nstat ListenOverflows $lo0 -> $lo1, ListenDrops $ld0 -> $ld1 (B); TCPSynRetrans $sr0 -> $sr1 (A)"
if [[ $lo -gt 0 ]]; then ctr_eq "listen: ListenOverflows in B == nstat's" "$lo" $((lo1 - lo0)); else notok "listen: no ListenOverflows ($lo)"; fi
ctr_eq "listen: ListenDrops in B == nstat's" "$(ctr_q delta "$tmp/listen.json" "$B" netstat TcpExt.ListenDrops)" $((ld1 - ld0))
sr=$(ctr_q delta "$tmp/listen.json" "$A" netstat TcpExt.TCPSynRetrans)
if [[ $sr -gt 0 ]]; then ctr_eq "listen: TCPSynRetrans in A == nstat's" "$sr" $((sr1 - sr0)); else notok "listen: no TCPSynRetrans in A"; fi
ctr_eq "listen: no ListenOverflows in A" "$(ctr_q delta "$tmp/listen.json" "$A" netstat TcpExt.ListenOverflows)" 0
res=$(ctr_q corr "$tmp/listen.json" "$B" netstat TcpExt.ListenDrops "$A" TcpExt.TCPSynRetrans)
[[ $res == none ]] && res=$(ctr_q corr "$tmp/listen.json" "$B" netstat TcpExt.ListenOverflows "$A" TcpExt.TCPSynRetrans)
if [[ $res != none ]]; then ok "listen: correlated: $(tail -1 <<<"$res")"; else notok "listen: no correlation of listen drops in B with SYN retransmissions in A"; grep correlation "$tmp/listen.json" | diag /dev/stdin; fi

# ---- (5) a full conntrack table ------------------------------------------------------
ct_stat() { ip netns exec "$1" conntrack -S 2>/dev/null | grep -o "$2=[0-9]*" | cut -d= -f2 | awk '{ s += $1 } END { print s + 0 }'; }
ip netns exec "$B" iptables -A INPUT -m conntrack --ctstate INVALID -j DROP   # conntrack on in B
ip netns exec "$B" python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.71.0.2", 7301)); s.listen(64); s.settimeout(0.2)
held, end = [], time.time() + 30
while time.time() < end:
    try: held.append(s.accept()[0])
    except OSError: pass' &
PIDS+=($!)
for _ in $(seq 50); do ip netns exec "$B" ss -ltn 2>/dev/null | grep -q ':7301 ' && break; sleep 0.1; done
sleep 0.2
cd0=$(ct_stat "$B" drop) sr0=$(ctr_nstat "$A" TcpExtTCPSynRetrans)
if ! ctr_ct_max_set 8; then
	for _ in 1 2 3; do notok "conntrack: could not take the sysctl lock"; done
else
	ctr_delta_bg "$tmp/ct.json" 3 --netns "$A,$B"
	ip netns exec "$A" python3 -c '
import socket, struct, time
socks = []
for _ in range(14):
    c = socket.socket(); c.setblocking(False); c.connect_ex(("10.71.0.2", 7301)); socks.append(c); time.sleep(0.03)
time.sleep(1.6)
for c in socks:
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); c.close()' &
	cpid=$!
	PIDS+=("$cpid")
	sleep 1.0
	"$NETDX" counters snapshot --json --netns "$B" --counter 'conntrack:*' >"$tmp/ctfull.json" 2>"$tmp/ctfull.err"
	ctc=$(ip netns exec "$B" conntrack -C 2>/dev/null)
	wait "$cpid"
	ctr_wait
	ctr_ct_max_restore
	cd1=$(ct_stat "$B" drop) sr1=$(ctr_nstat "$A" TcpExtTCPSynRetrans)
	ent=$(ctr_q value "$tmp/ctfull.json" "$B" conntrack entries) lim=$(ctr_q value "$tmp/ctfull.json" "$B" conntrack entries_limit)
	echo "# conntrack full: netdx entries $ent limit $lim, conntrack -C $ctc; drop $cd0 -> $cd1; TCPSynRetrans in A $sr0 -> $sr1"
	ctr_eq "conntrack: entries == entries_limit == conntrack -C == 8" "$ent/$lim/$ctc" "8/8/8"
	cdd=$(ctr_q delta "$tmp/ct.json" "$B" conntrack drop)
	if [[ $cdd -gt 0 ]]; then ctr_eq "conntrack: drop in B == conntrack -S" "$cdd" $((cd1 - cd0)); else notok "conntrack: no drops in B ($cdd)"; diag "$tmp/ct.json.err"; fi
	res=$(ctr_q corr "$tmp/ct.json" "$B" conntrack drop "$A" TcpExt.TCPSynRetrans)
	if [[ $res != none ]]; then ok "conntrack: correlated: $(tail -1 <<<"$res")"; else notok "conntrack: no correlation of conntrack drops with SYN retransmissions"; grep correlation "$tmp/ct.json" | diag /dev/stdin; fi
fi
ip netns exec "$B" iptables -F INPUT

# ---- (6) drops on a router, retransmissions at the sender ------------------------------------
CTR_NS+=("$R")
ip netns add "$R"
ip link add "$VETH_B2" netns "$B" type veth peer name "$VETH_R" netns "$R"
ip -n "$R" link set lo up
ip -n "$B" addr add 10.71.1.1/24 dev "$VETH_B2"
ip -n "$R" addr add 10.71.1.2/24 dev "$VETH_R"
ip netns exec "$R" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip -n "$B" link set "$VETH_B2" up
ip -n "$R" link set "$VETH_R" up
ip netns exec "$B" sysctl -qw net.ipv4.ip_forward=1
ip -n "$A" route add 10.71.1.0/24 via 10.71.0.2
ip -n "$R" route add 10.71.0.0/24 via 10.71.1.1
ip netns exec "$B" tc qdisc add dev "$VETH_B2" root tbf rate 20mbit burst 10k limit 30k
ip netns exec "$R" "$NETDX" bench server --once >"$tmp/server2.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do ip netns exec "$R" ss -ltn 2>/dev/null | grep -q ':7250 ' && break; sleep 0.1; done
ctr_delta_bg "$tmp/router.json" 2.5 --netns "$A,$B,$R"
ip netns exec "$A" "$NETDX" bench stream 10.71.1.2 --duration 1.2 >"$tmp/stream2.out" 2>&1
ctr_wait
qd=$(ctr_q delta "$tmp/router.json" "$B" qdisc drops "$VETH_B2")
rs=$(ctr_q delta "$tmp/router.json" "$A" snmp Tcp.RetransSegs)
res=$(ctr_q corr "$tmp/router.json" "$B" qdisc drops "$A" Tcp.RetransSegs)
echo "# router: qdisc drops in B $qd, RetransSegs in A $rs"
if [[ $qd -gt 0 && $res != none ]]; then ok "router: correlated: $(tail -1 <<<"$res")"; else notok "router: qdisc drops $qd, correlation: $res"; diag "$tmp/stream2.out"; fi
read -r _ _ score <<<"$(head -1 <<<"$res")"
if python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= 0.1 else 1)' "${score:-0}" 2>/dev/null; then
	ok "router: the pair scores $score"
else
	notok "router: score ${score:-none}"
fi

# ---- every output: NDJSON with "type" on each line, meta first ---------------------------------
bad=""
for f in "$tmp"/*.json; do
	r=$(ctr_q check "$f")
	[[ $r == ok ]] || bad+=" $(basename "$f"): $r"
done
if [[ -z $bad ]]; then ok "every JSON output is NDJSON with a meta line first"; else notok "JSON:$bad"; fi
ctr_runs_ok
