# shellcheck shell=bash
# shellcheck disable=SC2034  # BL_* results are read by the scripts that source this file
# bench_lib.sh - helpers sourced by the `netdx bench` scenario tests
# (bench_reconcile.sh, bench_features.sh) and by bench/bench-workloads.sh.
#
#   +------------------------------+           +------------------------------+
#   | ndx-b$$-c (client)           |           | ndx-b$$-s (server)           |
#   |  ndxb$$c  10.X.Y.1/24 =======|== veth ===|== ndxb$$s  10.X.Y.2/24       |
#   |  netdx bench MODE ...        |           |  netdx bench server --once   |
#   +------------------------------+           +------------------------------+
#
# X.Y come from $$, every name carries $$, so parallel runs do not clash.
# Everything created here (namespaces, hence the veth pair and any iptables
# rule inside them; processes; the temp dir) is removed by bl_cleanup, which
# bl_traps installs on EXIT (INT and TERM exit through it).
#
# Use:
#   . bench_lib.sh
#   bl_tap_init NETDX        # TAP scripts: "1..0 # SKIP" + exit when unusable
#   bl_traps; bl_plan N; bl_topology
#   bl_server_start PORT [server args]; bl_client OUT TMO MODE PORT [args]
#   bl_server_wait SECONDS
#   check "description" command...; bl_py FILE 'python expr on d'

# shellcheck source=tests/scenarios/wait_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/wait_lib.sh"

BL_ID=$$
BL_MAIN=$BASHPID                 # only this shell cleans up (not subshells)
BL_NSC="ndx-b${BL_ID}-c"
BL_NSS="ndx-b${BL_ID}-s"
BL_VC="ndxb${BL_ID}c"            # <= 4 + 7 + 1 = 12 characters
BL_VS="ndxb${BL_ID}s"
BL_X=$(((BL_ID >> 8) & 255))
BL_Y=$((BL_ID & 255))
BL_CIP="10.${BL_X}.${BL_Y}.1"
BL_SIP="10.${BL_X}.${BL_Y}.2"
BL_TMP=""
BL_PIDS=()
BL_SRV_PID=""
BL_NS_MADE=0
BL_PLAN=0
n=0

# ---------------------------------------------------------------- cleanup --
bl_cleanup() {
	trap - EXIT INT TERM
	# a subshell that got a signal before it dropped the inherited traps
	[[ $BASHPID == "$BL_MAIN" ]] || exit
	stop_pids "${BL_PIDS[@]}"
	if ((BL_NS_MADE)); then
		ns_purge "$BL_NSC" "$BL_NSS"
		# the veth pair goes with its namespaces; make sure
		ip link del "$BL_VC" 2>/dev/null
		ip link del "$BL_VS" 2>/dev/null
	fi
	[[ -n "$BL_TMP" && -d "$BL_TMP" ]] && rm -rf "$BL_TMP"
	# TAP: whatever was planned but not run is reported as failed
	if ((BL_PLAN > 0)); then
		while ((n < BL_PLAN)); do
			n=$((n + 1))
			echo "not ok $n - not run (script ended early)"
		done
	fi
}

bl_traps() {
	trap bl_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# -------------------------------------------------------------------- TAP --
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else notok "$d"; fi; }
diag() { printf '%s\n' "$*" | sed 's/^/# /'; }
diagf() { [[ -s "$1" ]] && head -c "${2:-4000}" "$1" | sed 's/^/#   /'; return 0; }
bl_plan() { BL_PLAN=$1; echo "1..$1"; }

# Prints "1..0 # SKIP why" and exits when the scenario cannot run here.
bl_tap_init() {
	local netdx=${1:-} t
	if [[ -z "$netdx" || ! -x "$netdx" ]]; then
		echo "1..0 # SKIP netdx binary not given or not executable: '${netdx}'"; exit 0
	fi
	if [[ $EUID -ne 0 ]]; then echo "1..0 # SKIP needs root (network namespaces)"; exit 0; fi
	for t in ip ss iptables python3 timeout; do
		command -v "$t" >/dev/null || { echo "1..0 # SKIP $t not installed"; exit 0; }
	done
	if ! ip netns list >/dev/null 2>&1; then echo "1..0 # SKIP no 'ip netns'"; exit 0; fi
	if ! timeout 10 "$netdx" bench --help >/dev/null 2>&1; then
		echo "1..0 # SKIP '$netdx bench --help' fails: no bench command in this build"; exit 0
	fi
}

# --------------------------------------------------------------- topology --
bl_mktemp() { [[ -n "$BL_TMP" ]] || BL_TMP=$(mktemp -d "/tmp/ndx-b${BL_ID}.XXXXXX"); }

# Two namespaces joined by one veth pair, lo up in both. Returns non-zero on
# failure (the caller reports it; cleanup removes what was made).
bl_topology() {
	local ns
	bl_mktemp
	BL_NS_MADE=1
	ip netns add "$BL_NSC" || return 1
	ip netns add "$BL_NSS" || return 1
	ip link add "$BL_VC" netns "$BL_NSC" type veth peer name "$BL_VS" netns "$BL_NSS" || return 1
	ip -n "$BL_NSC" addr add "$BL_CIP/24" dev "$BL_VC" || return 1
	ip -n "$BL_NSS" addr add "$BL_SIP/24" dev "$BL_VS" || return 1
	for ns in "$BL_NSC" "$BL_NSS"; do
		ip -n "$ns" link set lo up || return 1
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
	done
	ip -n "$BL_NSC" link set "$BL_VC" up || return 1
	ip -n "$BL_NSS" link set "$BL_VS" up || return 1
	# wait (<= 5 s) until both ends report operstate UP and the address is
	# usable (not tentative)
	local i
	for ((i = 0; i < 50; i++)); do
		if ip -n "$BL_NSC" -br link show dev "$BL_VC" 2>/dev/null | grep -qw UP &&
			ip -n "$BL_NSS" -br link show dev "$BL_VS" 2>/dev/null | grep -qw UP; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

bl_nsc() { ip netns exec "$BL_NSC" "$@"; }
bl_nss() { ip netns exec "$BL_NSS" "$@"; }

# Open-file limit for thousands of flows. The brief asks for 65536; a
# container without CAP_SYS_RESOURCE caps it at the hard limit, which is
# used instead (2000 flows need ~2000 fds per process).
bl_raise_nofile() {
	ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
	diag "ulimit -n: $(ulimit -n)"
}

# -------------------------------------------------------------- processes --
# Polls `ss -ltn` in namespace $1 until something listens on TCP port $2
# (<= $3 s, default 10). Fails early if pid $4 (optional) has died.
bl_wait_listen() {
	local ns=$1 port=$2 tmo=${3:-10} pid=${4:-} i
	for ((i = 0; i < tmo * 10; i++)); do
		if ip netns exec "$ns" ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then return 0; fi
		if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
		sleep 0.1
	done
	return 1
}

# bl_bg NS TMO OUT ERR cmd... : run cmd in namespace NS in the background
# under `timeout TMO`; pid in BL_LAST_PID (and in BL_PIDS for cleanup).
bl_bg() {
	local ns=$1 tmo=$2 out=$3 err=$4; shift 4
	# the subshell drops our traps first: a signal arriving before the exec
	# must not run bl_cleanup in the child
	(trap - EXIT INT TERM; exec ip netns exec "$ns" timeout -k 5 "$tmo" "$@" >"$out" 2>"$err") &
	BL_LAST_PID=$!
	BL_PIDS+=("$BL_LAST_PID")
}

# bl_wait_pid PID SECONDS : wait for a background pid, at most SECONDS, then
# TERM it. Sets BL_RC to its exit status (124 + diag when it had to be ended).
bl_wait_pid() {
	local pid=$1 tmo=$2 i
	for ((i = 0; i < tmo * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		sleep 0.5
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	BL_RC=$?
}

# bl_server_start PORT [extra server args]: `netdx bench server --once` in the
# server namespace, waits (<= 10 s) until it listens. Logs in
# $BL_TMP/server.PORT.{out,err}. Needs $NETDX.
bl_server_start() {
	local port=$1; shift
	bl_bg "$BL_NSS" 300 "$BL_TMP/server.$port.out" "$BL_TMP/server.$port.err" \
		"$NETDX" bench server --once --bind "$BL_SIP" --port "$port" "$@"
	BL_SRV_PID=$BL_LAST_PID
	BL_SRV_PORT=$port
	if ! bl_wait_listen "$BL_NSS" "$port" 10 "$BL_SRV_PID"; then
		diag "server on port $port did not listen within 10 s"
		diagf "$BL_TMP/server.$port.err"
		return 1
	fi
}

# bl_server_wait SECONDS: the --once server must end by itself after the test.
bl_server_wait() {
	bl_wait_pid "$BL_SRV_PID" "${1:-15}"
	BL_SRV_RC=$BL_RC
	# a server that did not end cleanly: show what it said
	if [[ $BL_RC -ne 0 && -n ${BL_SRV_PORT:-} ]]; then
		diagf "$BL_TMP/server.$BL_SRV_PORT.err"
	fi
	return "$BL_RC"
}

# bl_client OUT TMO MODE PORT [args]: `netdx bench MODE SERVER --port PORT
# --json args` in the client namespace, in the foreground; stderr in OUT.err;
# wall time in BL_WALL (seconds, float). Returns netdx's exit status.
bl_client() {
	local out=$1 tmo=$2 mode=$3 port=$4 t0 t1 rc; shift 4
	t0=$(date +%s.%N)
	ip netns exec "$BL_NSC" timeout -k 5 "$tmo" "$NETDX" bench "$mode" "$BL_SIP" \
		--port "$port" --json "$@" >"$out" 2>"$out.err"
	rc=$?
	t1=$(date +%s.%N)
	BL_WALL=$(python3 -c "print('%.2f' % ($t1 - $t0))")
	return $rc
}

# ------------------------------------------------------------------- JSON --
# bl_py FILE 'EXPR': true when the Python expression EXPR (with d = the JSON
# document in FILE, and helpers flows/port) is true; errors print as diag.
# bl_pyv FILE 'EXPR': prints its value (JSON-encoded for dicts/lists).
BL_PY_PRE='
import json, sys
d = json.load(open(sys.argv[1]))
flows = d.get("flows") or []
def port(addr): return int(str(addr).rsplit(":", 1)[1])
def num(x): return x if isinstance(x, (int, float)) and not isinstance(x, bool) else None
'
bl_py() {
	local f=$1 e=$2
	python3 -c "$BL_PY_PRE
sys.exit(0 if ($e) else 1)" "$f" 2>"$BL_TMP/py.err"
	local rc=$?
	[[ -s "$BL_TMP/py.err" ]] && diag "python: $(tail -n 1 "$BL_TMP/py.err") in: $e"
	return $rc
}
bl_pyv() {
	local f=$1 e=$2
	python3 -c "$BL_PY_PRE
v = ($e)
print(json.dumps(v) if isinstance(v, (dict, list)) else v)" "$f" 2>/dev/null || echo "?"
}

# ---------------------------------------------------------- ss / iptables --
# bl_wait_est NS LO HI COUNT [TMO [PID]]: wait (<= TMO s, default 10) until
# at least COUNT established TCP connections in NS have a local port in
# LO..HI; gives up early when PID (optional) has ended.
bl_wait_est() {
	local ns=$1 lo=$2 hi=$3 cnt=$4 tmo=${5:-10} pid=${6:-} i c
	for ((i = 0; i < tmo * 20; i++)); do
		c=$(ip netns exec "$ns" ss -Htn state established "( sport >= :$lo and sport <= :$hi )" 2>/dev/null | wc -l)
		((c >= cnt)) && return 0
		if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
		sleep 0.05
	done
	return 1
}

# bl_cmp 'python expression': true when it evaluates true; any error
# (a missing figure printed as "?") is false.
bl_cmp() { python3 -c "import sys; sys.exit(0 if ($1) else 1)" 2>/dev/null; }

# bl_ipt_hits NS CHAIN: packets matched by the DROP rules of CHAIN in NS.
bl_ipt_hits() {
	ip netns exec "$1" iptables -w 5 -nvxL "$2" 2>/dev/null |
		awk '$3 == "DROP" { s += $1 } END { print s + 0 }'
}
