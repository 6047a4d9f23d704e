#!/usr/bin/env bash
# doctor_cli.sh NETDX TESTS_DOCTOR_DIR - TAP: the command line of `netdx
# doctor`: help, every usage error (one line naming the option, exit 2),
# inputs that are not there (exit 1), missing privilege (exit 4, naming the
# capability; as nobody through setpriv when run as root), drops without
# its capabilities (a note, the other sources go on), the diagnosis of
# a recording made by the rr-drops-rto scenario (tests/doctor/data/), with
# and without its drops recording, a capture file alone, and (as root) a
# live run ended by SIGINT: the collectors end cleanly and the diagnosis is
# still written.
set -u
NETDX=$1
DATA=$(cd "$2" && pwd)/data
REC=$DATA/rr-drops-rto
Q=$(cd "$2" && pwd)/scenarios/dx_json.py
ROOT=$(cd "$2/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
no() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "#   $l"; done; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
run() { "$NETDX" "$@" >"$T/out" 2>"$T/err" </dev/null; rc=$?; }
q() { python3 "$Q" "$T/out" "$1"; }

# expect_fail NAME RC PATTERN ARGS...: exit RC, one stderr line matching PATTERN
expect_fail() {
	local name=$1 want=$2 pat=$3 lines
	shift 3
	run "$@"
	lines=$(grep -c . "$T/err")
	if [[ $rc == "$want" && $lines == 1 ]] && grep -qE -- "$pat" "$T/err"; then
		ok "$name (exit $rc: $(head -c 140 "$T/err"))"
	else
		no "$name" "exit $rc, wanted $want" "stderr ($lines lines): $(head -c 300 "$T/err")"
	fi
}

echo "1..28"

# ---- help ----
run help doctor
if [[ $rc == 0 ]] && grep -q -- '--demo NAME' "$T/out" && grep -q 'exit codes' "$T/out" &&
	grep -q 'examples' "$T/out" && grep -q "tests/doctor/scenarios" "$T/out"; then
	ok "help doctor: options, examples, exit codes, where the scenarios are"
else
	no "help doctor" "rc=$rc"
fi

# ---- usage errors ----
expect_fail "unknown option" 2 "unknown option --nope" doctor --nope
expect_fail "--duration out of range" 2 "--duration 0 is out of range" doctor --duration 0
expect_fail "--duration not a number" 2 "--duration wants a number of seconds" doctor --duration soon
expect_fail "--from with --capture" 2 "--from DIR reads every recording" doctor --from "$REC" --capture x.pcap
expect_fail "-i with --from" 2 "for a live run" doctor --from "$REC" -i eth0
expect_fail "an argument without --" 2 "put a workload after --" doctor -d 5 netdx bench rr 10.0.0.2
expect_fail "--demo with other options" 2 "give it alone" doctor --demo healthy -i lo
expect_fail "--demo: no such scenario" 2 "no such scenario" doctor --demo nosuch
expect_fail "--demo: a path is not a name" 2 "wants a scenario name" doctor --demo ../x

# ---- inputs that are not there ----
expect_fail "--from a missing directory" 1 "not a directory" doctor --from "$T/nothing"
expect_fail "--drops a missing file" 1 "--drops .*cannot open" doctor --drops "$T/nothing.ndjson"

# ---- the scenario library ----
run doctor --demo list
if [[ $rc == 0 ]] && [[ $(grep -cE '^  (rr-drops-rto|crr-conntrack-full|crr-listen-overflow|stream-rwnd|stream-bottleneck|app-limited|healthy) ' "$T/out") == 7 ]]; then
	ok "--demo list names the 7 scenarios"
else
	no "--demo list" "rc=$rc" "$(head -c 400 "$T/out")"
fi

# ---- a recording of rr-drops-rto ----
run doctor --from "$REC" --json
top="$(q finding[1].severity) $(q finding[1].mechanism) $(q finding[1].place.kind) $(q finding[1].place.reason)"
if [[ $rc == 0 && $top == "critical rto-stalls device NETFILTER_DROP" ]]; then
	ok "--from the rr-drops-rto recording: $top at $(q finding[1].place.dev) in $(q finding[1].place.netns)"
else
	no "--from the rr-drops-rto recording" "rc=$rc top: $top" "$(head -c 300 "$T/err")"
fi
drops=$(q finding[1].numbers.drops.drops) stalls=$(q finding[1].numbers.tcp.stalls) rs=$(q finding[1].numbers.counters.retrans_segs)
if [[ $drops == 34 && $stalls -ge 30 && $stalls -le 34 && $rs -ge 34 ]]; then
	ok "its numbers: 34 drops (iptables dropped 34), $stalls stalls, RetransSegs +$rs"
else
	no "its numbers" "drops $drops stalls $stalls retrans_segs $rs"
fi
if [[ $(q summary.worst) == critical && $(q meta.command) == doctor && $(q source[drops].available) == true ]]; then
	ok "NDJSON: meta, sources, summary"
else
	no "NDJSON lines" "$(head -c 300 "$T/out")"
fi
run doctor --from "$REC"
if [[ $rc == 0 ]] && grep -qE '^1\. CRITICAL +rto-stalls at device' "$T/out" && grep -q 'next step' "$T/out" &&
	grep -qE 'agree +tcp, drops, counters' "$T/out"; then
	ok "text: the finding, the sources that agree, the next step"
else
	no "text view" "$(head -c 600 "$T/out")"
fi

# the same without the drops recording (as when BPF is not available)
mkdir -p "$T/nodrops"
cp "$REC"/meta.json "$REC"/counters.ndjson "$REC"/tcp-0.ndjson "$REC"/bench.json "$T/nodrops/"
run doctor --from "$T/nodrops" --json
if [[ $rc == 0 && "$(q finding[1].mechanism) $(q finding[1].place.kind) $(q finding[1].severity)" == "rto-stalls path critical" ]] &&
	grep -q '"drops: not available' "$T/out"; then
	ok "without drops: rto-stalls on the path (tcp and counters agree), and a note that drops is missing"
else
	no "without drops" "$(python3 "$Q" "$T/out" --text | head -5)"
fi

# ---- a recording of rr-drops-rto with drops by flow and drop events ----
# (tests/doctor/data/rr-drops-rto-flows: 34 requests dropped by iptables;
# counters.ndjson keeps only the rows that moved or are gauges)
REC2=$DATA/rr-drops-rto-flows
run doctor --from "$REC2" --json
drops=$(q finding[1].numbers.drops.drops) on=$(q finding[1].numbers.drops.on_stalled_flows)
stalls=$(q finding[1].numbers.tcp.stalls) timed=$(q finding[1].numbers.drops.stalls_timed)
if [[ $rc == 0 && $(q finding[1].mechanism) == rto-stalls && $drops == 34 && $on == 34 && $stalls == 31 && $timed == 31 ]]; then
	ok "by flow and in time: 34 drops, all on the stalled connections' flows; 31 of 31 stalls with a drop of theirs"
else
	no "the join per connection and in time" "rc=$rc drops=$drops on=$on stalls=$stalls timed=$timed"
fi
# without the events: the join per connection only
mkdir -p "$T/noev"
cp "$REC2"/* "$T/noev/"
grep -v '"type":"event"' "$REC2/drops.ndjson" | sed 's/"events":true/"events":false/' >"$T/noev/drops.ndjson"
run doctor --from "$T/noev" --json
if [[ $rc == 0 && $(q finding[1].numbers.drops.on_stalled_flows) == 34 && $(q finding[1].numbers.drops.stalls_timed) == none ]]; then
	ok "without drop events: still joined by flow (34), no timing claim"
else
	no "without drop events" "rc=$rc $(python3 "$Q" "$T/out" --text | head -6)"
fi
# the drops' flows moved to other ports (as if another connection had lost
# them): the place is not blamed for the stalls even though the amounts agree
mkdir -p "$T/other"
cp "$REC2"/* "$T/other/"
sed -E 's/("src":"10\.81\.1\.1:)4000([01])"/\15000\2"/' "$REC2/drops.ndjson" >"$T/other/drops.ndjson"
run doctor --from "$T/other" --json
m1="$(q finding[1].mechanism) $(q finding[1].place.kind)"
m2="$(q 'finding[mechanism=packet-drops].place.reason')"
if [[ $rc == 0 && $m1 == "rto-stalls path" && $m2 == NETFILTER_DROP ]]; then
	ok "drops on other flows: the stalls stay unexplained (path), the drops are packet-drops"
else
	no "drops on other flows" "rc=$rc top '$m1' packet-drops '$m2'" "$(python3 "$Q" "$T/out" --text | head -8)"
fi

# a capture file alone (the bundled demo capture: nothing wrong in it)
run doctor --capture "$ROOT/data/demo.pcap" --json
if [[ $rc == 0 && $(q source[tcp].conns) == 8 && $(q 'findings_above[info]') == 0 && $(q source[counters].available) == false ]]; then
	ok "--capture demo.pcap: 8 connections, nothing above info, counters not given"
else
	no "--capture demo.pcap" "rc=$rc $(head -c 300 "$T/err")"
fi

# ---- live: privileges, names, SIGINT ----
if [[ $EUID -ne 0 ]]; then
	expect_fail "live capture without root: exit 4 naming CAP_NET_RAW" 4 "CAP_NET_RAW" doctor -i lo -d 1
	for _ in 1 2 3 4 5 6; do skip "needs root"; done
	exit 0
fi
mkdir -p "$T/bin" && cp "$NETDX" "$T/bin/netdx" && chmod 755 "$T" "$T/bin"
setpriv --reuid=65534 --regid=65534 --clear-groups "$T/bin/netdx" doctor -i lo -d 1 >"$T/out" 2>"$T/err"
rc=$?
if [[ $rc == 4 ]] && grep -q CAP_NET_RAW "$T/err"; then ok "as nobody: exit 4, $(head -1 "$T/err")"; else no "as nobody" "rc=$rc $(head -c 200 "$T/err")"; fi
# without the capabilities eBPF needs, drops cannot run: a note, and the rest
setpriv --bounding-set=-sys_admin,-bpf,-perfmon --inh-caps=-sys_admin,-bpf,-perfmon \
	"$NETDX" doctor -q -i lo -d 1 --json >"$T/out" 2>"$T/err"
rc=$?
if [[ $rc == 0 && $(q source[drops].available) == false && $(q source[tcp].available) == true &&
	$(q source[counters].available) == true ]] && grep -q '"drops: not available: exit 4: .*CAP_BPF' "$T/out"; then
	ok "without CAP_BPF/CAP_PERFMON/CAP_SYS_ADMIN: exit 0, drops noted as not available (exit 4, CAP_BPF), tcp and counters ran"
else
	no "without eBPF capabilities" "rc=$rc $(grep note "$T/out" | head -c 300)" "$(head -c 200 "$T/err")"
fi
expect_fail "--netns: no such namespace" 1 "no such namespace" doctor --netns ndx-no-such-ns-$$ -d 1
expect_fail "-i: no such interface" 1 "no such interface" doctor -i ndxnosuch$$ -d 1

# SIGINT after 2 s of a 30 s run: a diagnosis, drops ended by SIGINT with its
# summary (its programs detached), the capture's summary written
"$NETDX" doctor -q -i lo -d 30 --netns host --save "$T/int" --json >"$T/out" 2>"$T/err" &
pid=$!
sleep 2
kill -INT "$pid"
timeout 30 tail --pid="$pid" -f /dev/null
wait "$pid"
rc=$?
if [[ $rc == 0 && $(q meta.interrupted) == true && $(q summary.findings) != none ]]; then
	ok "SIGINT: exit 0, a diagnosis marked interrupted"
else
	no "SIGINT" "rc=$rc $(head -c 300 "$T/err")"
fi
if grep -q '"ended_by":"SIGINT"' "$T/int/drops.ndjson" 2>/dev/null && grep -q '"type":"summary"' "$T/int/tcp-0.ndjson" 2>/dev/null; then
	ok "SIGINT: drops ended by SIGINT with its summary, the capture wrote its summary"
elif [[ ! -s $T/int/drops.ndjson ]] && grep -q . "$T/int/drops.err" 2>/dev/null; then
	ok "SIGINT: drops could not run here ($(head -1 "$T/int/drops.err")); the capture: $(grep -c summary "$T/int/tcp-0.ndjson") summary"
else
	no "SIGINT: the collectors" "$(tail -c 300 "$T/int/drops.ndjson" 2>/dev/null)" "$(head -c 200 "$T/int/drops.err" 2>/dev/null)"
fi
