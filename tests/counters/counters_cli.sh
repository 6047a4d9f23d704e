#!/usr/bin/env bash
# counters_cli.sh NETDX - TAP scenario: the command line of `netdx counters`:
# bad input gives one clear message naming the option and exit 2; missing
# privilege gives exit 4 naming the capability; caps are counted, not silent;
# the text and JSON views; SIGINT ends watch cleanly.
#
# One empty namespace ($NS_A) is made so there is something to enter; the
# privilege checks run netdx as nobody (setpriv) from a copy in a directory
# nobody may read.
#
# Needs root, ip, setpriv, python3; otherwise skipped. Everything it creates
# is removed on exit, failure, SIGINT and SIGTERM.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/scenarios/ns2_lib.sh
source "$here/../scenarios/ns2_lib.sh"
# shellcheck source=tests/counters/ctr_lib.sh
source "$here/ctr_lib.sh"
ns2_init "${1:-}" cl setpriv python3
ctr_init
tmp=$TMP
if ! ip netns add "$NS_A" 2>"$tmp/err"; then echo "1..0 # SKIP cannot create a namespace: $(head -1 "$tmp/err")"; exit 0; fi

echo "1..22"

# usage CODE WORDS DESC -- ARGS...: exit CODE and stderr containing WORDS
usage() {
	local want=$1 words=$2 desc=$3 rc
	shift 4
	"$NETDX" counters "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [[ $rc -eq $want ]] && grep -q -- "$words" "$tmp/err" && [[ $(wc -l <"$tmp/err") -eq 1 ]]; then
		ok "$desc: exit $rc, $(cat "$tmp/err")"
	else
		notok "$desc: exit $rc (want $want), stderr:"; diag "$tmp/err"
	fi
}

usage 2 "snapshot, delta, watch, serve" "unknown subcommand" -- bogus
usage 2 "does not apply to snapshot" "an option of another subcommand" -- snapshot --interval 1
usage 2 "interval 0 is out of range" "a zero interval" -- delta --interval 0
usage 2 "give --listen ADDR:PORT" "serve without --listen" -- serve
usage 2 "wants ADDR:PORT" "a bad --listen" -- serve --listen somewhere
usage 2 "--netns wants a comma-separated list" "an empty glob" -- snapshot --netns 'a,,b'
usage 2 "--sigma wants a number" "a bad --sigma" -- watch --sigma many
usage 2 "at most 64 are kept" "a window of too many intervals" -- watch --interval 0.1 --window 60
usage 2 "unexpected argument" "a stray argument" -- snapshot extra

"$NETDX" counters >/dev/null 2>&1
ctr_eq "no subcommand: exit 2" $? 2
"$NETDX" help counters >"$tmp/help" 2>&1
hrc=$?
opts=$(grep -c -- '--[a-z]' "$tmp/help")
if [[ $hrc -eq 0 ]] && grep -q '^examples:' "$tmp/help" && grep -q 'CAP_SYS_ADMIN' "$tmp/help" && [[ $opts -ge 27 ]]; then
	ok "help: exit 0, examples, exit codes, $opts option lines"
else
	notok "help: exit $hrc, $opts option lines"
fi

# Missing privilege: nobody may read counters but not enter namespaces.
mkdir -p "$tmp/bin" && cp "$NETDX" "$tmp/bin/netdx" && chmod 755 "$tmp" "$tmp/bin" "$tmp/bin/netdx"
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$tmp/bin/netdx" "$@"; }
nobody counters snapshot --netns "$NS_A" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [[ $rc -eq 4 ]] && grep -q 'CAP_SYS_ADMIN' "$tmp/err"; then ok "as nobody, entering $NS_A: exit 4, $(head -1 "$tmp/err")"; else notok "as nobody: exit $rc"; diag "$tmp/err"; fi
if grep -q '1 denied' "$tmp/out"; then ok "as nobody: the summary counts the namespace denied"; else notok "as nobody: summary"; diag "$tmp/out"; fi
nobody counters serve --listen 127.0.0.1:1 --duration 1 >/dev/null 2>"$tmp/err"
rc=$?
if [[ $rc -eq 1 ]] && grep -q 'CAP_NET_BIND_SERVICE' "$tmp/err"; then ok "as nobody, port 1: exit 1, $(head -1 "$tmp/err")"; else notok "as nobody, port 1: exit $rc"; diag "$tmp/err"; fi

# Caps are counted.
"$NETDX" counters snapshot --json --max-counters 1000 >"$tmp/cap.json" 2>"$tmp/err"
skipped=$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    if o["type"] == "summary": print(o["counters"], o["counters_skipped"])' "$tmp/cap.json")
read -r kept skipped <<<"$skipped"
if [[ $kept == 1000 && ${skipped:-0} -gt 0 ]]; then ok "--max-counters 1000: 1000 kept, $skipped counted as skipped"; else notok "--max-counters: kept $kept skipped $skipped"; fi
"$NETDX" counters snapshot --max-netns 1 --counter Tcp.InSegs >"$tmp/out" 2>&1
if grep -q 'over the cap' "$tmp/out" && ! grep -q ' 0 over the cap' "$tmp/out"; then ok "--max-netns 1: the others counted over the cap"; else notok "--max-netns"; diag "$tmp/out"; fi

# Views.
"$NETDX" counters snapshot --json --netns "$NS_A" >"$tmp/s.json" 2>"$tmp/s.err"
first=$(head -1 "$tmp/s.json")
if [[ $first == *'"type":"meta","schema":1,"tool":"netdx"'*'"command":"counters snapshot"'* && $(ctr_q check "$tmp/s.json") == ok ]]; then
	ok "snapshot --json: meta line first, a type on every line"
else
	notok "snapshot --json: $first"
fi
ctr_eq "snapshot --json: lo of $NS_A is there, down" "$(ctr_q value "$tmp/s.json" "$NS_A" link admin_up lo)" 0
"$NETDX" counters delta --interval 0.2 --count 3 --json --netns "$NS_A" >"$tmp/d.json" 2>"$tmp/d.err"
n=$(grep -c '"type":"interval"' "$tmp/d.json")
ctr_eq "delta --count 3: three intervals" "$n" 3
"$NETDX" counters delta --interval 0.2 --netns "$NS_A" --all >"$tmp/d.txt" 2>"$tmp/dt.err"
if grep -q '^interval 1 at ' "$tmp/d.txt" && grep -q 'Tcp.RetransSegs' "$tmp/d.txt" && grep -q '^summary: 1 namespaces read' "$tmp/d.txt"; then
	ok "delta text: interval header, rows (--all), summary"
else
	notok "delta text"; head -5 "$tmp/d.txt" | diag /dev/stdin
fi
"$NETDX" counters watch --interval 0.2 --netns "$NS_A" >"$tmp/w.txt" 2>"$tmp/w.err" &
wpid=$!
sleep 1
kill -INT "$wpid"
wait "$wpid"
rc=$?
if [[ $rc -eq 0 ]] && grep -q '^summary:' "$tmp/w.txt" && grep -q '^interval 3 ' "$tmp/w.txt"; then ok "watch: refreshes, SIGINT ends it with exit 0 and a summary"; else notok "watch: exit $rc"; tail -3 "$tmp/w.txt" | diag /dev/stdin; fi
ctr_runs_ok
