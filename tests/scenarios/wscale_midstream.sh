#!/usr/bin/env bash
# wscale_midstream.sh NETDX - TAP scenario: window scale inferred from a
# capture that missed the handshake.
#
#   +------------------------------+          +------------------------------+
#   | $nsb (sender, client)        |          | $nsa (receiver, server)      |
#   |  netdx bench stream (4 s)    |          |  netdx bench server --once   |
#   |  tcpdump -i $vb (from 1.5 s) |          |  ss -tin (the real wscale)   |
#   |  $vb 10.87.0.2/24  ==========|== veth ==|========== $va 10.87.0.1/24   |
#   +------------------------------+          +------------------------------+
#
# tcpdump starts 1.5 s after the bulk transfer, so no SYN is captured. The
# server (receiver) advertises the windows, scaled by its rcv_wscale; netdx
# labels the server's direction s2c (the client is found by its ephemeral
# port). netdx tcp on the capture must report for s2c "wscale_inferred": true
# and "wscale" equal to the rcv_wscale ss shows in the receiver namespace.
#
# Needs root and `ip netns`; otherwise skipped. Everything it creates is
# removed on exit, failure, SIGINT and SIGTERM.
set -u

# shellcheck source=tests/scenarios/ns2_lib.sh
source "$(dirname "$0")/ns2_lib.sh"
ns2_init "${1:-}" ws tcpdump ss python3 timeout
netdx=$NETDX nsa=$NS_A nsb=$NS_B vb=$VETH_B tmp=$TMP
ns2_up 10.87.0.1 10.87.0.2

echo "1..4"

ip netns exec "$nsa" "$netdx" bench server --once >"$tmp/server.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do
	ip netns exec "$nsa" ss -ltn 2>/dev/null | grep -q ':7250 ' && break
	sleep 0.1
done
ip netns exec "$nsb" "$netdx" bench stream 10.87.0.1 --duration 4 --rcvbuf "${NDX_WS_RCVBUF:-256K}" >"$tmp/client.out" 2>&1 &
cpid=$!
PIDS+=("$cpid")
sleep 1.5
ip netns exec "$nsb" tcpdump -i "$vb" -s 128 --immediate-mode -U -w "$tmp/mid.pcap" tcp port 7250 \
	>"$tmp/tcpdump.err" 2>&1 &
tpid=$!
PIDS+=("$tpid")
# the real scale: the receiver's rcv_wscale, on its busiest connection
rcv=""
for _ in 1 2 3 4 5; do
	sleep 0.3
	ip netns exec "$nsa" ss -tin state established '( sport = :7250 )' >"$tmp/ss.out" 2>&1
	rcv=$(python3 - "$tmp/ss.out" <<'EOF'
import re, sys
best = None
for line in open(sys.argv[1]).read().split('\n'):
    m = re.search(r'wscale:(\d+),(\d+)', line)
    if not m:
        continue
    b = re.search(r'bytes_received:(\d+)', line)
    b = int(b.group(1)) if b else 0
    if best is None or b > best[0]:
        best = (b, int(m.group(2)))
print(best[1] if best else '')
EOF
)
	[[ -n "$rcv" ]] && break
done
wait "$cpid"
crc=$?
sleep 0.3
kill -INT "$tpid" 2>/dev/null
wait "$tpid" 2>/dev/null

if [[ $crc -eq 0 ]]; then ok "bench stream ran (4 s)"; else notok "bench stream exit $crc"; diag "$tmp/client.out"; fi
if [[ -n "$rcv" ]]; then ok "ss shows the receiver's rcv_wscale ($rcv)"; else notok "no wscale from ss"; diag "$tmp/ss.out"; fi

[[ -n "${NDX_WS_KEEP:-}" ]] && cp "$tmp/mid.pcap" "$NDX_WS_KEEP"
"$netdx" tcp --json "$tmp/mid.pcap" >"$tmp/mid.json" 2>"$tmp/mid.err"
res=$(python3 - "$tmp/mid.json" <<'EOF'
import json, sys
best = None
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o.get('type') != 'conn':
        continue
    if best is None or o['c2s']['payload_bytes'] > best['c2s']['payload_bytes']:
        best = o
if best is None:
    print('none')
else:
    d = best['s2c']
    print(best['client_by'] if 'client_by' in best else '-', best['c2s']['syn'] + d['syn'],
          d['wscale'], d['wscale_inferred'], d.get('wscale_lower_bound', False),
          best['c2s']['payload_bytes'])
EOF
)
echo "# netdx s2c (receiver) on the mid-stream capture: client_by syns wscale inferred lower_bound c2s_bytes = $res"
echo "# ss (receiver namespace) rcv_wscale = ${rcv:-?}"
read -r _ syns ws inf lb bytes <<<"$res"
if [[ "$res" != none && "$syns" == 0 && "$bytes" -gt 1000000 ]]; then
	ok "capture has no handshake and $bytes bytes of bulk data"
else
	notok "capture: $res"; diag "$tmp/tcpdump.err" "$tmp/mid.err"
fi
if [[ "$inf" == True && -n "$rcv" && "$ws" == "$rcv" ]]; then
	ok "s2c wscale inferred $ws == ss rcv_wscale $rcv"
else
	notok "s2c wscale $ws (inferred $inf, lower bound $lb) != ss rcv_wscale ${rcv:-?}"; diag "$tmp/tcpdump.err"
fi
