#!/usr/bin/env bash
# counters_anomaly.sh NETDX - TAP scenario: the anomaly detector of `netdx
# counters watch` stays quiet on a steady workload and flags an injected drop
# burst, once, with its evidence, and clears it when the drops stop.
#
#   +-------------------------------+          +-------------------------------+
#   | $NS_A                         |          | $NS_B                         |
#   |  UDP sender, 400 x 1000 B/s   |          |  UDP receiver (8 MB buffer)   |
#   |  tbf on $VETH_A: 500mbit,     |          |                               |
#   |   for 1 s 200kbit (the burst) |          |                               |
#   |  $VETH_A 10.72.0.1/24 ========|== veth ==|======== $VETH_B 10.72.0.2/24  |
#   +-------------------------------+          +-------------------------------+
#
# `netdx counters watch --interval 0.5 --duration 8 --json` over both
# namespaces: 3.5 s steady, then the tbf is throttled for 1 s (qdisc drops
# and Udp SndbufErrors in A start moving), then steady again. Checks: no
# alarm in the steady intervals before the burst; a zero-start alarm on the
# qdisc drops in A in the first interval that has drops, with evidence; no
# series raised twice and nothing raised after the burst; the qdisc alarm
# cleared after three quiet intervals.
#
# Needs root, ip, tc, python3; otherwise skipped. Everything it creates is
# removed on exit, failure, SIGINT and SIGTERM.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/scenarios/ns2_lib.sh
source "$here/../scenarios/ns2_lib.sh"
# shellcheck source=tests/counters/ctr_lib.sh
source "$here/ctr_lib.sh"
ns2_init "${1:-}" ca tc python3
ctr_init
A=$NS_A B=$NS_B tmp=$TMP
ns2_up 10.72.0.1 10.72.0.2

echo "1..8"

ip netns exec "$A" tc qdisc add dev "$VETH_A" root tbf rate 500mbit burst 256k limit 1m
ip netns exec "$B" python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)   # SO_RCVBUFFORCE
s.bind(("10.72.0.2", 9000)); s.settimeout(0.5)
end = time.time() + 30
while time.time() < end:
    try: s.recv(2048)
    except OSError: pass' &
PIDS+=($!)
ip netns exec "$A" python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
t, end = time.time(), time.time() + 30
while t < end:
    try: s.sendto(b"x" * 1000, ("10.72.0.2", 9000))
    except OSError: pass
    t += 1 / 400.0
    d = t - time.time()
    if d > 0: time.sleep(d)' &
PIDS+=($!)
sleep 0.5   # ARP and the first packets before the detector starts

"$NETDX" counters watch --interval 0.5 --duration 8 --json --netns "$A,$B" >"$tmp/watch.json" 2>"$tmp/watch.err" &
wpid=$!
PIDS+=("$wpid")
ctr_started "$tmp/watch.json"
sleep 3.2
ip netns exec "$A" tc qdisc change dev "$VETH_A" root tbf rate 200kbit burst 2k limit 4k
sleep 1.0
ip netns exec "$A" tc qdisc change dev "$VETH_A" root tbf rate 500mbit burst 256k limit 1m
wait "$wpid"
wrc=$?

if [[ $wrc -eq 0 ]]; then ok "watch ran 8 s (exit 0)"; else notok "watch exit $wrc"; diag "$tmp/watch.err"; fi

python3 - "$tmp/watch.json" "$A" "$VETH_A" >"$tmp/verdict" <<'EOF'
import json, sys
path, ns_a, dev = sys.argv[1:4]
burst = None          # first interval with qdisc drops in A
intervals = 0
raised, cleared = [], []
for line in open(path):
    o = json.loads(line)
    t = o["type"]
    if t == "interval":
        intervals = o["seq"]
    elif t == "delta" and o["netns"] == ns_a and o["source"] == "qdisc" and o["name"] == "drops" \
            and o["delta"] > 0 and burst is None:
        burst = o["seq"]
    elif t == "anomaly":
        key = (o["netns"], o["source"], o.get("device", ""), o["name"])
        (raised if o["event"] == "raised" else cleared).append((o["seq"], key, o))
print("intervals", intervals)
print("burst", burst)
for s, k, o in raised:
    print("raised", s, "/".join(k), o["rule"], "|", o["evidence"])
for s, k, o in cleared:
    print("cleared", s, "/".join(k))
EOF
sed 's/^/# /' "$tmp/verdict"
burst=$(awk '$1 == "burst" { print $2 }' "$tmp/verdict")
nint=$(awk '$1 == "intervals" { print $2 }' "$tmp/verdict")
qkey="$A/qdisc/$VETH_A/drops"

if [[ $burst =~ ^[0-9]+$ && $burst -ge 5 ]]; then
	ok "the burst began in interval $burst of $nint, after $((burst - 1)) steady intervals"
else
	notok "burst interval '$burst' (want >= 5 steady intervals first)"
	diag "$tmp/watch.err"
fi
early=$(awk -v b="${burst:-0}" '$1 == "raised" && $2 < b' "$tmp/verdict" | wc -l)
if [[ -n $burst && $early -eq 0 ]]; then ok "no alarm in the steady intervals before the burst"; else notok "$early alarms before the burst"; fi
line=$(awk -v b="${burst:-0}" -v k="$qkey" '$1 == "raised" && $2 == b && $3 == k' "$tmp/verdict")
if [[ $line == *zero-start*"it was 0 before"* ]]; then
	ok "qdisc drops in A flagged at once: ${line#*| }"
else
	notok "no zero-start alarm on $qkey in interval $burst: '$line'"
fi
dups=$(awk '$1 == "raised" { print $3 }' "$tmp/verdict" | sort | uniq -d | wc -l)
late=$(awk -v b="${burst:-0}" '$1 == "raised" && ($2 > b + 3 || $3 !~ /^'"$A"'\//)' "$tmp/verdict" | wc -l)
if [[ $dups -eq 0 && $late -eq 0 ]]; then ok "no series raised twice, nothing raised after the burst or outside A"; else notok "$dups series raised twice, $late alarms late or outside A"; fi
clr=$(awk -v k="$qkey" '$1 == "cleared" && $3 == k { print $2 }' "$tmp/verdict")
if [[ -n $clr ]]; then ok "the qdisc alarm cleared in interval $clr after the drops stopped"; else notok "the qdisc alarm was not cleared"; fi
summ=$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    if o["type"] == "summary": print(o["anomaly"]["raised"])' "$tmp/watch.json")
ctr_eq "the summary counts the alarms raised" "$summ" "$(grep -c '^raised' "$tmp/verdict")"
ctr_runs_ok
