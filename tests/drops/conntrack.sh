#!/usr/bin/env bash
# conntrack.sh NETDX - TAP scenario: a full nf_conntrack table under new
# connections: its drops, and the SYN retransmissions of the connections
# behind them, side by side (the cloud talk's stateful-firewall case).
#
#   $NS_A 10.66.0.1 (python3 client)  ---veth--->  $NS_B 10.66.0.2:9600 (server)
#                                                   iptables -m conntrack (tracks)
#   host: net.netfilter.nf_conntrack_max lowered to $MAX for a few seconds
#         (read-only inside a namespace; restored on every exit, under
#         flock /tmp/netdx-sysctl.lock like every test that changes it)
#
#   phase 1: $MAX connections from ports 41000.. complete (assured entries:
#            the table cannot make room by evicting them)
#   phase 2: $K connections from ports 41100.. : every SYN is dropped in
#            $NS_B; after 1.6 s each has been retransmitted once (SYN RTO 1 s)
set -u
# shellcheck source=tests/drops/drops_lib.sh
source "$(dirname "$0")/drops_lib.sh"
dl_init "${1:-}" dct iptables flock
ns2_up 10.66.0.1 10.66.0.2
tmp=$TMP
MAX=4 K=5
CT=/proc/sys/net/netfilter/nf_conntrack_max
echo "1..7"
if [[ ! -w $CT ]]; then
	echo "# SKIP-REASON: $CT is not writable"
	for i in 1 2 3 4 5 6 7; do echo "ok $i # SKIP $CT not writable here"; done
	exit 0
fi
inob=$(ns_inode "$NS_B")

# The host-wide value is restored on every exit path, before the namespaces go.
ct_old=""
ct_restore() {
	if [[ -n $ct_old ]]; then
		echo "$ct_old" >"$CT"
		ct_old=""
	fi
	flock -u 9 2>/dev/null
}
trap 'ct_restore; ns2_cleanup' EXIT

ip netns exec "$NS_B" iptables -A INPUT -p tcp --dport 9600 -m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT
ip netns exec "$NS_B" python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.66.0.2", 9600)); s.listen(64); s.settimeout(20)
held = []
while True:
    try: c, _ = s.accept()
    except OSError: break
    held.append(c)
' &
PIDS+=($!)
sleep 0.2

# Filtered in the kernel on the server's address: both the drops (in $NS_B)
# and the clients' retransmissions (in $NS_A) involve it.
dl_start "$tmp/c.json" --flows --host 10.66.0.2 || { notok "netdx drops starts"; exit 1; }
p=$DL_PID

exec 9>/tmp/netdx-sysctl.lock
flock -w 60 9 || { notok "took the sysctl lock"; exit 1; }
ct_old=$(cat "$CT")
echo "$MAX" >"$CT"
ip netns exec "$NS_A" python3 - "$MAX" "$K" >"$tmp/client.out" 2>&1 <<'PY'
import select, socket, sys, time
m, k = int(sys.argv[1]), int(sys.argv[2])
held = []
for i in range(m):
    c = socket.socket(); c.bind(("10.66.0.1", 41000 + i)); c.settimeout(3)
    c.connect(("10.66.0.2", 9600)); c.sendall(b"x"); held.append(c)
time.sleep(0.1)
pend = []
for i in range(k):
    c = socket.socket(); c.bind(("10.66.0.1", 41100 + i)); c.setblocking(False)
    try:
        c.connect(("10.66.0.2", 9600))
    except BlockingIOError:
        pass
    pend.append(c)
time.sleep(1.6)
_, w, _ = select.select([], pend, [], 0)
ok = sum(1 for c in w if c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0)
print("phase2_connected", ok)
for c in pend: c.close()
time.sleep(0.2)
for c in held: c.close()
PY
crc=$?
ct_restore
sleep 0.2
dl_stop "$p"; rc=$DL_RC

check "nf_conntrack_max restored ($(cat "$CT"))" test "$(cat "$CT")" != "$MAX"
check "phase 1 connected, no phase-2 connection got through ($(cat "$tmp/client.out"))" \
	test "$crc" = 0 -a "$(cat "$tmp/client.out")" = "phase2_connected 0"
check "netdx drops exits 0 with valid NDJSON" test "$rc" = 0 -a "$(ndq "$tmp/c.json" validate)" = ok
d1=$(ndq "$tmp/c.json" sum packets type=drop netns="$inob" flow.src~10.66.0.1:410 flow.dst=10.66.0.2:9600)
check "no drop on the $MAX connections made before the table was full ($d1)" test "$d1" = 0
why=$(ndq "$tmp/c.json" values reason type=drop netns="$inob" flow.src~10.66.0.1:411 | paste -sd,)
loc=$(ndq "$tmp/c.json" values location type=drop netns="$inob" flow.src~10.66.0.1:411 | paste -sd,)
echo "# the full table's drops: $why at $loc"
bad=0 total_d=0 total_r=0
for ((i = 0; i < K; i++)); do
	src=10.66.0.1:$((41100 + i))
	d=$(ndq "$tmp/c.json" sum packets type=drop netns="$inob" flow.src=$src flow.dst=10.66.0.2:9600)
	r=$(ndq "$tmp/c.json" sum count type=signal signal=retransmit state=SYN_SENT flow.src=$src)
	x=$(ndq "$tmp/c.json" field retrans type=drop netns="$inob" flow.src=$src)
	echo "# $src: $d SYNs dropped, $r SYN retransmissions (drop row says $x)"
	total_d=$((total_d + d)) total_r=$((total_r + r))
	# every SYN of the flow was dropped: the first one and each retransmission
	[[ $d == $((r + 1)) && $r -ge 1 && $x == "$r" ]] || bad=$((bad + 1))
done
check "each of the $K connections: its SYNs all dropped in $NS_B = 1 + its SYN_SENT retransmissions" test "$bad" = 0
check "in all: $total_d drops, $total_r SYN retransmissions (>= $K)" test "$total_r" -ge "$K" -a "$total_d" = $((total_r + K))
sr=$(ndq "$tmp/c.json" field syn_sent_retrans type=summary)
pr=$(ndq "$tmp/c.json" sum retrans_on_flows type=place netns="$inob" location="$loc" reason="$why")
check "summary and place row: the $total_r SYN_SENT retransmissions beside the drops ($sr, $pr)" \
	test "$sr" = "$total_r" -a "$pr" = "$total_r"
