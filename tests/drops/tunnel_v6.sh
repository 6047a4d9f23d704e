#!/usr/bin/env bash
# tunnel_v6.sh NETDX - TAP scenario: flows parsed in the kernel inside VXLAN
# and over IPv6.
#
#   $NS_A                                      $NS_B
#   vx67 10.167.67.1 (VNI 4242)                vx67 10.167.67.2
#     |  VXLAN, UDP 4789                         |   iptables -A INPUT -p udp
#   $VETH_A 10.67.0.1 ============== veth ===== $VETH_B 10.67.0.2
#                                                    --dport 4789 -j DROP
#                                               lo ::1 (IPv6 on lo only)
#
#   25 UDP datagrams 10.167.67.1:40700 > 10.167.67.2:9700 through the
#   tunnel: dropped in $NS_B as the outer packets they travel in; netdx
#   drops --flows keys them by the inner flow and the VNI (and by the outer
#   one with --no-tunnels; --host on the inner address keeps them).
#   15 UDP datagrams [::1]:40701 > [::1]:9701 in $NS_B (no socket there):
#   NO_SOCKET with the IPv6 flow, on lo. (IPv6 only over loopback: the
#   tests send to 10.0.0.0/8 inside their namespaces or to loopback.)
# (Geneve is not in every kernel: its parsing is unit-tested.)
set -u
# shellcheck source=tests/drops/drops_lib.sh
source "$(dirname "$0")/drops_lib.sh"
dl_init "${1:-}" dtv iptables
ns2_up 10.67.0.1 10.67.0.2
tmp=$TMP
echo "1..6"
inob=$(ns_inode "$NS_B")

setup() {
	local ns dev me peer mac mac_peer
	for side in "$NS_A:$VETH_A:1:2" "$NS_B:$VETH_B:2:1"; do
		IFS=: read -r ns dev me peer <<<"$side"
		mac=02:00:00:00:67:0$me mac_peer=02:00:00:00:67:0$peer
		ip -n "$ns" link add vx67 address "$mac" type vxlan id 4242 local "10.67.0.$me" \
			remote "10.67.0.$peer" dstport 4789 dev "$dev" || return 1
		# no IPv6 (MLD, ND) in the tunnel either
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.vx67.disable_ipv6=1 || return 1
		ip -n "$ns" addr add "10.167.67.$me/24" dev vx67 || return 1
		ip -n "$ns" link set vx67 up || return 1
		# no ARP through the tunnel: only our datagrams travel in it
		ip -n "$ns" neigh add "10.167.67.$peer" lladdr "$mac_peer" dev vx67 nud permanent || return 1
	done
	ip netns exec "$NS_B" iptables -A INPUT -p udp --dport 4789 -j DROP
	ip netns exec "$NS_B" sysctl -qw net.ipv6.conf.lo.disable_ipv6=0
}
if ! setup 2>"$tmp/setup.err"; then
	echo "# $(head -3 "$tmp/setup.err")"
	for i in 1 2 3 4 5 6; do echo "not ok $i - topology (VXLAN, IPv6) could not be set up"; done
	exit 1
fi

dl_start "$tmp/t.json" --flows --netns "$NS_B" || { notok "netdx drops starts"; exit 1; }
p_t=$DL_PID
dl_start "$tmp/o.json" --flows --no-tunnels --netns "$NS_B" --reason NETFILTER_DROP || exit 1
p_o=$DL_PID
dl_start "$tmp/h.json" --host 10.167.67.2 --port 9700 || exit 1
p_h=$DL_PID
udp_send "$NS_A" 10.167.67.1 40700 10.167.67.2 9700 25 >/dev/null
ip netns exec "$NS_B" python3 -c '
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("::1", 40701))
for _ in range(15):
    s.sendto(b"v6" * 20, ("::1", 9701))
'
sleep 0.3
dl_stop "$p_t"; rc=$DL_RC
dl_stop "$p_o"
dl_stop "$p_h"

check "netdx drops exits 0 with valid NDJSON" test "$rc" = 0 -a "$(ndq "$tmp/t.json" validate)" = ok
n=$(ndq "$tmp/t.json" sum packets type=drop reason=NETFILTER_DROP netns="$inob" flow.tunnel=vxlan \
	flow.vni=4242 flow.src=10.167.67.1:40700 flow.dst=10.167.67.2:9700 flow.proto=udp)
check "the 25 dropped VXLAN packets are keyed by the inner flow and VNI 4242 (got $n)" test "$n" = 25
o=$(ndq "$tmp/o.json" sum packets type=drop flow.dst=10.67.0.2:4789 flow.src~10.67.0.1: flow.tunnel=null)
check "--no-tunnels: the same 25 under the outer flow 10.67.0.1:* > 10.67.0.2:4789 (got $o)" test "$o" = 25
h=$(ndq "$tmp/h.json" sum packets type=drop reason=NETFILTER_DROP netns="$inob")
hf=$(ndq "$tmp/h.json" count type=drop netns!="$inob")
check "--host and --port match the inner header: the 25 kept (got $h, $hf other rows)" test "$h" = 25 -a "$hf" = 0
v6=$(ndq "$tmp/t.json" sum packets type=drop reason=NO_SOCKET netns="$inob" proto=ipv6/udp \
	dev=lo "flow.src=[::1]:40701" "flow.dst=[::1]:9701")
check "IPv6: NO_SOCKET on lo, [::1]:40701 > [::1]:9701, counts the 15 (got $v6)" test "$v6" = 15
check "the device of the VXLAN drops is the underlay veth $VETH_B" \
	test "$(ndq "$tmp/t.json" values dev type=drop reason=NETFILTER_DROP netns="$inob" flow.tunnel=vxlan)" = "$VETH_B"
