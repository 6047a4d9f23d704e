#!/usr/bin/env bash
# emu_experiment_smoke.sh NETDX - TAP smoke test of scripts/emu-experiment.sh:
# --quick on two points (--qdiscs fifo,codel --buffers 1, 2 s each); the
# script exits 0, results.tsv has the header and one row per point with
# numbers in range (utilisation in (0, 1.1], Jain in (0, 1], 4 flows, none
# stalled), plot.svg exists and parses as XML with an <svg> root, and the
# topology is gone afterwards. Needs root, iproute2, ss, python3. About 20 s.
# The experiment removes what it creates; so does this script, on exit,
# failure, SIGINT and SIGTERM.
set -u
# shellcheck source=tests/scenarios/wait_lib.sh
source "$(dirname "$0")/wait_lib.sh"

NETDX=${1:-}
if [[ -z "$NETDX" || ! -x "$NETDX" ]]; then
	echo "1..0 # SKIP netdx binary not given or not executable: '${NETDX}'"
	exit 0
fi
NETDX=$(cd "$(dirname "$NETDX")" && pwd)/$(basename "$NETDX")
if [[ $EUID -ne 0 ]]; then echo "1..0 # SKIP needs root (network namespaces)"; exit 0; fi
for t in ip ss python3 timeout; do
	if ! command -v "$t" >/dev/null; then echo "1..0 # SKIP $t not installed"; exit 0; fi
done
here=$(cd "$(dirname "$0")" && pwd)
EXP=$(cd "$here/../.." && pwd)/scripts/emu-experiment.sh
NAME=$(printf 'es%x' $$)
NAME=${NAME:0:8}
TMP=$(mktemp -d /tmp/ndx-emu-smoke.XXXXXX)
XPID=""
cleanup() {
	trap - EXIT INT TERM
	if [[ -n $XPID ]]; then   # the experiment cleans up after itself on TERM
		kill -TERM "$XPID" 2>/dev/null
		timeout 30 tail --pid="$XPID" -f /dev/null 2>/dev/null
		kill -9 "$XPID" 2>/dev/null
		wait "$XPID" 2>/dev/null
	fi
	timeout 20 "$NETDX" emu topo down "$NAME" >/dev/null 2>&1 || true
	ns_purge "$NAME-snd" "$NAME-mid" "$NAME-rcv"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

N=0
check() {
	local d=$1; shift
	N=$((N + 1))
	if "$@"; then echo "ok $N - $d"; else echo "not ok $N - $d"; fi
}
echo "1..6"
timeout 240 bash "$EXP" "$NETDX" --quick --qdiscs fifo,codel --buffers 1 --duration 2 \
	--name "$NAME" --out "$TMP/out" >"$TMP/stdout" 2>"$TMP/stderr" &
XPID=$!
wait "$XPID"
rc=$?
XPID=""
sed 's/^/# /' "$TMP/stdout" "$TMP/stderr"
check "emu-experiment.sh --quick exits 0 (rc $rc)" test "$rc" -eq 0
check "results.tsv: header and 2 rows (fifo 1, codel 1)" python3 - "$TMP/out/results.tsv" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
sys.exit(0 if [(r["qdisc"], float(r["buffer_bdp"])) for r in rows] == [("fifo", 1.0), ("codel", 1.0)] else 1)
EOF
check "results.tsv: utilisation in (0, 1.1], Jain in (0, 1], ratio > 0, 4 flows, none stalled" python3 - "$TMP/out/results.tsv" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
ok = bool(rows) and all(0 < float(r["utilisation"]) <= 1.1 and 0 < float(r["jain"]) <= 1 + 1e-9
                        and float(r["cubic_bbr_ratio"]) > 0 and r["flows"] == "4" and r["stalled"] == "0"
                        for r in rows)
sys.exit(0 if ok else 1)
EOF
check "plot.svg exists and is not empty" test -s "$TMP/out/plot.svg"
check "plot.svg parses as XML: an <svg> root, a point per qdisc in each of the 3 panels" python3 - "$TMP/out/plot.svg" <<'EOF'
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
ns = "{http://www.w3.org/2000/svg}"
sys.exit(0 if r.tag == ns + "svg" and len(r.findall(".//" + ns + "circle")) >= 6 else 1)
EOF
check "no $NAME-* namespace left" bash -c "! ip netns list | grep -q '^$NAME-'"
