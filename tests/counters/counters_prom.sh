#!/usr/bin/env bash
# counters_prom.sh NETDX - TAP scenario: `netdx counters serve` serves the
# same counters at /metrics in the Prometheus text format.
#
#   +---------------------------+          +---------------------------+
#   | $NS_A   tbf on $VETH_A    |          | $NS_B                     |
#   |  $VETH_A 10.73.0.1/24 ====|== veth ==|==== $VETH_B 10.73.0.2/24  |
#   +---------------------------+          +---------------------------+
#   host: netdx counters serve --listen 127.0.0.1:0 --netns A,B; curl
#
# A UDP burst through a small tbf makes drops; then, with both namespaces
# idle, /metrics is scraped and checked by promtool (Debian's prometheus)
# and value by value against `netdx counters snapshot --json` taken just
# before: every counter appears with the same value under its Prometheus
# name (snake_case, netdx_<source>_ prefix, _total on counters) and labels
# (netns, device, ...). A second burst between two scrapes moves
# netdx_qdisc_drops_total by exactly tc's count (counters are read on each
# scrape). Also: HTTP errors for other paths and methods, an unfiltered
# server's scrape of the whole host passes promtool, SIGINT ends it with 0.
#
# Needs root, ip, tc, curl, promtool, python3; otherwise skipped.
# Everything it creates is removed on exit, failure, SIGINT and SIGTERM.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/scenarios/ns2_lib.sh
source "$here/../scenarios/ns2_lib.sh"
# shellcheck source=tests/counters/ctr_lib.sh
source "$here/ctr_lib.sh"
ns2_init "${1:-}" cp tc curl promtool python3
ctr_init
A=$NS_A B=$NS_B tmp=$TMP
ns2_up 10.73.0.1 10.73.0.2

echo "1..10"

burst() {
	ip netns exec "$A" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(300):
    try: s.sendto(b"x" * 1000, ("10.73.0.2", 9))
    except OSError: pass'
	sleep 0.2
}
tc_drops() { ip netns exec "$A" tc -s qdisc show dev "$VETH_A" | awk '/dropped/ { gsub(",", "", $7); print $7; exit }'; }
burst   # ARP, then the tbf
ip netns exec "$A" tc qdisc add dev "$VETH_A" root tbf rate 1mbit burst 5k limit 10k
burst

ctr_serve_bg "$tmp/serve.err" --netns "$A,$B" --duration 60
if [[ -n $PORT ]]; then ok "serve listens (port $PORT)"; else notok "serve did not start"; diag "$tmp/serve.err"; exit 0; fi

"$NETDX" counters snapshot --json --netns "$A,$B" >"$tmp/snap.json" 2>"$tmp/snap.err"
code=$(curl -s -o "$tmp/m1.txt" -D "$tmp/h1.txt" -w '%{http_code}' "http://127.0.0.1:$PORT/metrics")
ctype=$(grep -i '^content-type:' "$tmp/h1.txt" | tr -d '\r')
if [[ $code == 200 && $ctype == *"text/plain; version=0.0.4"* ]]; then ok "GET /metrics: 200, $ctype"; else notok "GET /metrics: $code, '$ctype'"; fi
if promtool check metrics <"$tmp/m1.txt" >"$tmp/lint.txt" 2>&1; then
	ok "promtool check metrics: clean ($(grep -c '^netdx_' "$tmp/m1.txt") samples)"
else
	notok "promtool check metrics"; head -20 "$tmp/lint.txt" | diag /dev/stdin
fi

# Every counter of the snapshot, under its Prometheus name and labels, with
# the same value; and nothing else for these namespaces.
python3 - "$tmp/snap.json" "$tmp/m1.txt" "$A" "$B" >"$tmp/cmp.txt" <<'EOF'
import json, re, sys
snap, metrics, ns_a, ns_b = sys.argv[1:5]

def snake(s):
    # The rule of src/counters/prom.c nd_prom_snake, written again.
    out, caps = [], 0
    for i, ch in enumerate(s):
        prev = s[i - 1] if i else ''
        nxt = s[i + 1] if i + 1 < len(s) else ''
        nxt2 = s[i + 2] if i + 2 < len(s) else ''
        if 'A' <= ch <= 'Z':
            plural = nxt == 's' and not ('a' <= nxt2 <= 'z')
            if out and out[-1] != '_' and (prev.islower() or prev.isdigit() or
                                           (caps >= 2 and nxt.islower() and not plural)):
                out.append('_')
            out.append(ch.lower())
            caps += 1
            continue
        caps = 0
        if ch.islower() or ch.isdigit():
            out.append(ch)
        elif out and out[-1] != '_':
            out.append('_')
    return ''.join(out).rstrip('_')

want = {}
for line in open(snap):
    o = json.loads(line)
    if o['type'] != 'counter':
        continue
    name = 'netdx_%s_%s%s' % (o['source'], snake(o['name']), '' if o.get('gauge') else '_total')
    labels = [('netns', o['netns'])]
    if 'device' in o:
        labels.append(('device', o['device']))
    if o['source'] == 'qdisc':
        labels += [('kind', o['qdisc']), ('handle', o['handle']), ('parent', o['parent'])]
    if o['source'] == 'softnet':
        labels.append(('cpu', str(o['cpu'])))
    want[(name, tuple(labels))] = o['value']

got = {}
sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} (-?[0-9]+)$')
label = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
for line in open(metrics):
    m = sample.match(line.strip())
    if not m:
        continue
    labels = tuple(label.findall(m.group(2)))
    if dict(labels).get('netns') in (ns_a, ns_b):
        got[(m.group(1), labels)] = int(m.group(3))

missing = [k for k in want if k not in got]
differ = [(k, want[k], got[k]) for k in want if k in got and got[k] != want[k]]
extra = [k for k in got if k not in want]
print(len(want), len(missing), len(differ), len(extra))
for k in missing[:5]:
    print('# missing', k)
for k, w, g in differ[:5]:
    print('# differs', k, 'snapshot', w, 'metrics', g)
for k in extra[:5]:
    print('# extra', k)
EOF
read -r nwant nmiss ndiff nextra <"$tmp/cmp.txt"
if [[ ${nwant:-0} -gt 100 && $nmiss == 0 && $ndiff == 0 ]]; then
	ok "all $nwant counters of the snapshot are in /metrics with the same values"
else
	notok "snapshot vs /metrics: $nwant counters, $nmiss missing, $ndiff differ"; tail -n +2 "$tmp/cmp.txt"
fi
ctr_eq "/metrics has nothing for the namespaces beyond the snapshot" "$nextra" 0

# Counters are read on each scrape.
tc0=$(tc_drops)
m0=$(grep "^netdx_qdisc_drops_total{netns=\"$A\",device=\"$VETH_A\"" "$tmp/m1.txt" | awk '{ print $2 }')
burst
tc1=$(tc_drops)
curl -s -o "$tmp/m2.txt" "http://127.0.0.1:$PORT/metrics"
m1=$(grep "^netdx_qdisc_drops_total{netns=\"$A\",device=\"$VETH_A\"" "$tmp/m2.txt" | awk '{ print $2 }')
echo "# qdisc drops: tc $tc0 -> $tc1, /metrics $m0 -> $m1"
if [[ -n $m0 && -n $m1 && $((tc1 - tc0)) -gt 0 ]]; then ctr_eq "a new scrape sees tc's new drops" $((m1 - m0)) $((tc1 - tc0)); else notok "no drops to see: tc $tc0 -> $tc1, /metrics '$m0' -> '$m1'"; fi

c404=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/nope")
c405=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$PORT/metrics")
ctr_eq "other paths 404, other methods 405" "$c404/$c405" "404/405"

kill -INT "$SPID"
wait "$SPID"
src=$?
if [[ $src -eq 0 ]] && grep -q '2 scrapes served, 0 failed' "$tmp/serve.err"; then ok "SIGINT: exit 0, $(tail -1 "$tmp/serve.err")"; else notok "serve exit $src"; diag "$tmp/serve.err"; fi

# The whole host, every namespace on it (other tests' too): still clean.
ctr_serve_bg "$tmp/serve2.err" --duration 20
curl -s -o "$tmp/m3.txt" "http://127.0.0.1:$PORT/metrics"
kill -INT "$SPID"
CTR_PID=$SPID ctr_wait
if promtool check metrics <"$tmp/m3.txt" >"$tmp/lint3.txt" 2>&1; then
	ok "the whole host's scrape passes promtool ($(grep -c '^netdx_' "$tmp/m3.txt") samples, $(grep 'state="collected"' "$tmp/m3.txt" | awk '{ print $2 }') namespaces)"
else
	notok "promtool on the whole host's scrape"; head -20 "$tmp/lint3.txt" | diag /dev/stdin
fi
ctr_runs_ok
