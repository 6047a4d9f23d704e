#!/usr/bin/env bash
# CLI behaviour of `netdx tcp`: inputs, formats, and every error path
# (one-line message, documented exit code, never a crash).
# usage: cli_errors.sh NETDX TESTS_DIR        (prints TAP)
set -u
NETDX=$1
ROOT=$(cd "$2/.." && pwd)
DEMO=$ROOT/data/demo.pcap
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
no() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "#   $l"; done; }

# run ARGS...: sets rc, out, err (stdin from /dev/null unless redirected by caller)
run() { "$NETDX" "$@" >"$T/out" 2>"$T/err"; rc=$?; out=$(cat "$T/out"); err=$(cat "$T/err"); }

# expect_fail NAME RC PATTERN ARGS...: exit code RC, one stderr line matching PATTERN, no crash
expect_fail() {
	local name=$1 want=$2 pat=$3; shift 3
	run "$@" </dev/null
	local lines; lines=$(grep -c . "$T/err")
	if [[ $rc == "$want" ]] && grep -qE -- "$pat" "$T/err" && [[ $lines == 1 ]]; then
		ok "$name (exit $rc: $(head -c 120 "$T/err"))"
	else
		no "$name" "exit $rc, wanted $want" "stderr ($lines lines): $(head -c 300 "$T/err")"
	fi
}

conns() { grep -c '"type":"conn"' "$1"; }

# --- help and version -------------------------------------------------------
run --help; [[ $rc == 0 && $out == *"tcp"* && $out == *"exit codes"* ]] && ok "--help lists commands and exit codes" || no "--help" "rc=$rc"
run help tcp; [[ $rc == 0 && $out == *"--max-flows"* && $out == *"CAP_NET_RAW"* ]] && ok "help tcp documents options" || no "help tcp" "rc=$rc"
run --version; [[ $rc == 0 && $out =~ ^netdx\ [0-9]+\.[0-9]+ ]] && ok "--version" || no "--version" "$out"
expect_fail "unknown command" 2 "no command 'nosuch'" nosuch
run; [[ $rc == 2 ]] && ok "no arguments: usage, exit 2" || no "no arguments" "rc=$rc"

# --- good inputs ------------------------------------------------------------
run tcp --json "$DEMO"
[[ $rc == 0 ]] && head -1 "$T/out" | grep -q '"type":"meta","schema":1' && tail -1 "$T/out" | grep -q '"type":"summary"' \
	&& ok "--json: meta first, summary last" || no "--json framing" "rc=$rc" "$(head -c 200 "$T/out")"
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$T/out" 2>"$T/perr" \
	&& ok "--json: every line parses as JSON" || no "--json parse" "$(cat "$T/perr")"
cp "$T/out" "$T/file.json"
nfile=$(conns "$T/file.json")
[[ $nfile -ge 5 ]] && ok "demo capture has $nfile connections" || no "demo connections" "$nfile"

"$NETDX" tcp --json - <"$DEMO" >"$T/stdin.json" 2>/dev/null; rc=$?
[[ $rc == 0 && $(conns "$T/stdin.json") == "$nfile" ]] && ok "stdin '-' reads the same connections" || no "stdin" "rc=$rc"

# a capture split in two files (as tcpdump -C/-G rotates them): reading both
# in order gives the same connections, with the same counts, as the whole
python3 - "$DEMO" "$T/part1.pcap" "$T/part2.pcap" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
hdr, off, recs = data[:24], 24, []
bo = '<' if data[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
while off + 16 <= len(data):
    incl = struct.unpack(bo + 'I', data[off + 8:off + 12])[0]
    recs.append(data[off:off + 16 + incl]); off += 16 + incl
half = len(recs) // 2
open(sys.argv[2], 'wb').write(hdr + b''.join(recs[:half]))
open(sys.argv[3], 'wb').write(hdr + b''.join(recs[half:]))
PY
run tcp --json "$T/part1.pcap" "$T/part2.pcap"
summ() { python3 -c '
import json, sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    if o["type"] == "conn":
        print(o["client"], o["server"], o["c2s"]["pkts"], o["s2c"]["pkts"], o["c2s"]["payload_bytes"], o["s2c"]["payload_bytes"])
' "$1" | sort; }
if [[ $rc == 0 ]] && diff <(summ "$T/out") <(summ "$T/file.json") >"$T/diff"; then
	ok "a capture split in two files reads as the whole ($nfile connections)"
else
	no "split capture" "rc=$rc" "$(head -5 "$T/diff")"
fi

run tcp --json --demo
[[ $rc == 0 && $(conns "$T/out") == "$nfile" ]] && ok "--demo equals data/demo.pcap" || no "--demo" "rc=$rc"

run tcp --json -f 'tcp port 8080' "$DEMO"
n8080=$(conns "$T/out"); nall8080=$(grep -c ':8080"' "$T/file.json")
[[ $rc == 0 && $n8080 -ge 1 && $n8080 == "$nall8080" && $n8080 -lt $nfile ]] \
	&& ok "filter 'tcp port 8080' keeps exactly the $n8080 port-8080 connections" || no "filter" "rc=$rc got $n8080 want $nall8080"

run tcp --csv "$DEMO"
hdr=$(head -1 "$T/out"); rows=$(($(wc -l <"$T/out") - 1))
[[ $rc == 0 && $hdr == id,client,server,* && $rows == "$nfile" ]] && ok "--csv: header and one row per connection" || no "--csv" "rc=$rc rows=$rows"
[[ $err == *"summary:"* ]] && ok "--csv: summary on stderr" || no "--csv summary" "$err"
# every row has the header's columns, and the verdicts agree with the JSON's
csvchk=$(python3 - "$T/out" "$T/file.json" <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
hdr = open(sys.argv[1]).readline().strip().split(",")
bad = [r["id"] for r in rows if None in r or len(r) != len(hdr)]
js = {str(o["id"]): o for o in map(json.loads, open(sys.argv[2])) if o.get("type") == "conn"}
for r in rows:
    o = js.get(r["id"])
    if not o or r["c2s_verdict"] != o["c2s"]["verdict"] or r["s2c_verdict"] != o["s2c"]["verdict"] \
            or int(r["c2s_retrans"]) != o["c2s"]["retrans_pkts"] or int(r["stalls"]) != len(o["stalls"]):
        bad.append(r["id"])
print("ok" if rows and not bad else "bad %s" % bad[:5])
PY
)
[[ $csvchk == ok ]] && ok "--csv: inference columns match the JSON (verdicts, retransmissions, stalls)" || no "--csv columns" "$csvchk"

# The text view leads with the findings: exactly the connections with
# retransmissions, zero windows or a receiver-limited transfer (>= 10 ms)
# as the JSON describes them, the one with the most stall time first; the
# table after them.
run tcp "$DEMO"
fchk=$(python3 - "$T/out" "$T/file.json" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read().split("\n")
if not text[0].startswith("FINDINGS: "):
    print("first line: %r" % text[0]); sys.exit()
got = [re.match(r" *\d+\. (\S+) -> (\S+):", l) for l in text[1:]]
got = [(m.group(1), m.group(2)) for m in got if m]
want, stall = set(), {}
for o in map(json.loads, open(sys.argv[2])):
    if o.get("type") != "conn":
        continue
    d = [o["c2s"], o["s2c"]]
    if any(x["retrans_pkts"] or x["zero_window"] for x in d) or \
            any(x["verdict"] == "receiver-limited" and x["transfer_s"] >= 0.01 for x in d):
        want.add((o["client"], o["server"]))
        stall[(o["client"], o["server"])] = sum(s["duration_s"] for s in o["stalls"])
table = next((i for i, l in enumerate(text) if l.startswith("START(UTC)")), -1)
if set(got) != want or len(got) != len(want):
    print("findings %s, want %s" % (sorted(got), sorted(want)))
elif got and stall[got[0]] != max(stall.values()):
    print("first finding %s has not the most stall time" % (got[0],))
elif table < len(got):
    print("the table does not follow the findings")
else:
    print("ok %d" % len(got))
PY
)
[[ $rc == 0 && $fchk == "ok "* ]] && ok "text view leads with the findings (${fchk#ok } connections, as the JSON says)" || no "findings" "$fchk"
run tcp -f 'tcp port 8080' "$DEMO"
[[ $rc == 0 && $(head -1 "$T/out") == "FINDINGS: none"* ]] && ok "healthy connections: FINDINGS: none" || no "findings none" "$(head -1 "$T/out")"

run tcp --count 10 --json "$DEMO"
grep -q '"packets":10,' "$T/out" && ok "--count 10 stops after 10 packets" || no "--count" "$(tail -1 "$T/out")"

run tcp "$DEMO"
[[ $rc == 0 && $out == *CLIENT*SERVER* && $out == *"summary:"* ]] && ok "text table and summary" || no "text" "rc=$rc"

# --- bad inputs ---------------------------------------------------------------
expect_fail "missing file" 1 "$T/nope.pcap: cannot open: No such file" tcp "$T/nope.pcap"
printf 'hello, this is not a capture file at all\n' >"$T/text.pcap"
expect_fail "not a capture" 1 "text.pcap: not a pcap or pcapng" tcp "$T/text.pcap"
: >"$T/empty.pcap"
expect_fail "empty file" 1 "empty.pcap: not a pcap or pcapng" tcp "$T/empty.pcap"
expect_fail "a directory" 1 "cannot" tcp "$T"

size=$(stat -c %s "$DEMO")
head -c $((size - 37)) "$DEMO" >"$T/trunc.pcap"
run tcp --json "$T/trunc.pcap"
if [[ $rc == 3 && $err == *"truncated at byte offset"* ]] && tail -1 "$T/out" | grep -q '"type":"summary"' \
	&& [[ $(conns "$T/out") -ge 1 ]]; then
	ok "truncated capture: exit 3, byte offset named, partial report ($(head -c 140 "$T/err"))"
else
	no "truncated capture" "rc=$rc" "$err"
fi
head -c 30 "$DEMO" >"$T/trunc-hdr.pcap"
run tcp "$T/trunc-hdr.pcap"; [[ $rc == 3 || $rc == 1 ]] && [[ -n $err ]] && ok "capture cut inside the first record: exit $rc" || no "cut first record" "rc=$rc"

# pcap header with link type 147 (USER0)
python3 - "$T/user0.pcap" <<'PY'
import struct, sys
with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 147))
    f.write(struct.pack('<IIII', 1, 0, 4, 4) + b'abcd')
PY
expect_fail "unknown link type" 1 "link type .*147.* not supported" tcp "$T/user0.pcap"
expect_fail "bad filter" 2 "bad filter expression 'tcp port banana'" tcp -f 'tcp port banana' "$DEMO"
expect_fail "--max-flows 0" 2 "max-flows 0 is out of range" tcp --max-flows 0 "$DEMO"
expect_fail "--max-flows abc" 2 "max-flows wants a whole number" tcp --max-flows abc "$DEMO"
expect_fail "--max-flows huge" 2 "max-flows" tcp --max-flows 99999999999999999999999 "$DEMO"
expect_fail "--idle-timeout -1" 2 "idle-timeout" tcp --idle-timeout -1 "$DEMO"
expect_fail "--duration without -i" 2 "live capture" tcp --duration 5 "$DEMO"
expect_fail "--json with --csv" 2 "exclude each other" tcp --json --csv "$DEMO"
expect_fail "no input" 2 "no input" tcp
expect_fail "unknown option" 2 "unknown option --bogus" tcp --bogus "$DEMO"
expect_fail "option missing its value" 2 "needs an argument" tcp "$DEMO" --max-flows

if [[ $(id -u) == 0 ]]; then
	expect_fail "live: no such interface" 1 "nosuchif0: no such interface" tcp -i nosuchif0 --duration 1
	if command -v setpriv >/dev/null; then
		setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$NETDX" tcp -i lo --duration 1 \
			>"$T/out" 2>"$T/err" </dev/null; rc=$?
		[[ $rc == 4 ]] && grep -q CAP_NET_RAW "$T/err" && ok "live without privilege: exit 4, names CAP_NET_RAW" \
			|| no "live without privilege" "rc=$rc" "$(cat "$T/err")"
	else
		echo "ok $((n += 1)) - live without privilege # SKIP setpriv not installed"
	fi
else
	echo "ok $((n += 1)) - live: no such interface # SKIP needs root"
	echo "ok $((n += 1)) - live without privilege # SKIP needs root to drop privileges"
fi

echo "1..$n"
exit $((failed > 0))
