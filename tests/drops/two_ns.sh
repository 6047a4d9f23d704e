#!/usr/bin/env bash
# two_ns.sh NETDX - TAP scenario: drops in two namespaces are told apart,
# and --netns keeps one of them (in the kernel).
#
#   $NS_A 10.64.0.1  <--- 30 UDP to :9401 (closed in A) ---  $NS_B 10.64.0.2
#   $NS_A 10.64.0.1  --- 50 UDP to :9402 (closed in B) --->  $NS_B 10.64.0.2
#
# Both are NO_SOCKET at the same kernel location; only the namespace (and
# the device) differ.
set -u
# shellcheck source=tests/drops/drops_lib.sh
source "$(dirname "$0")/drops_lib.sh"
dl_init "${1:-}" d2n
ns2_up 10.64.0.1 10.64.0.2
tmp=$TMP
echo "1..6"
inoa=$(ns_inode "$NS_A")
inob=$(ns_inode "$NS_B")

dl_start "$tmp/all.json" || { notok "netdx drops starts"; exit 1; }
p_all=$DL_PID
dl_start "$tmp/a.json" --netns "/run/netns/$NS_A" || exit 1
p_a=$DL_PID
udp_send "$NS_B" 10.64.0.2 40401 10.64.0.1 9401 30 >/dev/null
udp_send "$NS_A" 10.64.0.1 40402 10.64.0.2 9402 50 >/dev/null
sleep 0.3
dl_stop "$p_all"; rc1=$DL_RC
dl_stop "$p_a"; rc2=$DL_RC

check "both runs exit 0" test "$rc1" = 0 -a "$rc2" = 0
na=$(ndq "$tmp/all.json" sum packets type=drop reason=NO_SOCKET netns="$inoa" proto=ipv4/udp dev="$VETH_A")
nb=$(ndq "$tmp/all.json" sum packets type=drop reason=NO_SOCKET netns="$inob" proto=ipv4/udp dev="$VETH_B")
check "NO_SOCKET in $NS_A on $VETH_A: 30 (got $na)" test "$na" = 30
check "NO_SOCKET in $NS_B on $VETH_B: 50 (got $nb)" test "$nb" = 50
check "each namespace is named" test "$(ndq "$tmp/all.json" field netns_name type=place netns="$inoa" reason=NO_SOCKET)" = "$NS_A" -a \
	"$(ndq "$tmp/all.json" field netns_name type=place netns="$inob" reason=NO_SOCKET)" = "$NS_B"
fa=$(ndq "$tmp/a.json" sum packets type=drop reason=NO_SOCKET netns="$inoa")
fo=$(ndq "$tmp/a.json" count type=drop netns!="$inoa")
check "--netns (a path) keeps $NS_A's 30 (got $fa) and nothing else ($fo rows)" test "$fa" = 30 -a "$fo" = 0
check "the other namespace's drops were filtered out in the kernel" \
	test "$(ndq "$tmp/a.json" field drops_filtered type=summary)" -ge 50
