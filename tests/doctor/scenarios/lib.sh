# shellcheck shell=bash
# shellcheck disable=SC2034  # DX_* names are read by the scenarios that source this file
# lib.sh — sourced by the scenario library of `netdx doctor`
# (tests/doctor/scenarios/NAME.sh). Each scenario builds the same three
# namespaces, injects one fault, runs `netdx bench` as the workload under
# `netdx doctor`, and either shows the diagnosis to a person (--demo, what
# `netdx doctor --demo NAME` runs; --json for doctor's NDJSON) or checks it
# (--tap, what the test suite runs).
#
#   +-------------------+        +-----------------------+        +-------------------+
#   | $DX_C  (client)   |        | $DX_R  (router)       |        | $DX_S  (server)   |
#   | $DX_VC 10.81.1.1 =|= veth =|= $DX_VRC 10.81.1.2    |        |                   |
#   | netdx bench ...   |        |   $DX_VRS 10.81.2.1 =|= veth =|= $DX_VS 10.81.2.2 |
#   | capture here (-i) |        |   ip_forward=1        |        | bench server      |
#   +-------------------+        +-----------------------+        +-------------------+
#
# Every name carries the tag and $$, so runs do not clash; addresses are
# private to the namespaces. Segmentation offloads and GRO are off on every
# veth so segments on the wire are MTU-sized (counts of packets mean
# segments).
#
#   dx_init NETDX MODE TAG TOOL...  MODE: --tap | --demo | --json. Checks root and the
#                                   tools (TAP: "1..0 # SKIP reason"; otherwise a message
#                                   and exit 4 or 1); sets NETDX, TMP, names; traps
#   dx_topo                         the three namespaces and two veth pairs, routes
#   dx_topo_emu FWD REV             the same roles from `netdx emu topo up` (NAME-snd, -mid,
#                                   -rcv; s0 ... r0) and `netdx emu run NAME --fwd FWD --rev REV`
#   dx_server                       netdx bench server --once in $DX_S (waits until it listens)
#   dx_say TEXT                     what the scenario does (stderr; "# " lines under TAP)
#   dx_doctor DUR ARGS...           netdx doctor -d DUR --save $DX_REC ARGS (give the workload
#                                   after --); --tap: --json into $DX_OUT; DX_RC its exit code
#   dx_truth TEXT                   what was injected, counted by the kernel's own tools
#   dx_host_sysctl KEY VALUE        a host-wide sysctl changed under flock
#                                   /tmp/netdx-sysctl.lock; put back on every exit path
#   dx_host_sysctl_restore          put it back now (and release the lock)
#   dx_n EXPR [FILE]                the same as a whole number (0 if missing)
#   dx_q EXPR [FILE]                a value of doctor's JSON (dx_json.py: summary.worst,
#                                   finding[1].place.dev, finding[1].numbers.drops.drops, ...)
#   TAP: dx_plan N; ok/notok DESC; dx_done (what doctor said, after a failed check); dx_is DESC GOT WANT; dx_cmp DESC GOT OP WANT (numbers,
#        OP one of -eq -ge -le -gt); dx_between DESC GOT LO HI; dx_runs_ok (doctor exit 0,
#        no sanitizer report); dx_from_same (doctor --from the recordings: same top finding)
#
# Cleanup (EXIT, INT, TERM): processes started here, everything still running
# inside our namespaces, the namespaces (their veths, iptables rules and
# qdiscs go with them), the emulator's topology, the host sysctl, the lock,
# TMP (kept, with doctor's recordings in TMP/rec, when DX_KEEP=1).

DX_N=0
DX_PIDS=()
DX_NS_MADE=0
DX_SYSCTL_KEY=""
DX_SYSCTL_SAVED=""
DX_EMU=""
DX_MAIN=$BASHPID
DX_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/scenarios/wait_lib.sh
source "$DX_HERE/../../scenarios/wait_lib.sh"

DX_FAIL=0
ok() { DX_N=$((DX_N + 1)); echo "ok $DX_N - $1"; }
notok() { DX_N=$((DX_N + 1)); DX_FAIL=$((DX_FAIL + 1)); echo "not ok $DX_N - $1"; }

dx_say() {
	if [[ $DX_MODE == --tap ]]; then echo "# $1"; else echo "== $1" >&2; fi
}

dx_truth() {
	if [[ $DX_MODE == --tap ]]; then echo "# truth: $1"; else echo "== injected: $1" >&2; fi
}

dx_host_sysctl_restore() {
	if [[ -n $DX_SYSCTL_KEY ]]; then
		sysctl -qw "$DX_SYSCTL_KEY=$DX_SYSCTL_SAVED" 2>/dev/null
		DX_SYSCTL_KEY=""
		flock -u 9 2>/dev/null
		exec 9>&-
	fi
	return 0
}

dx_host_sysctl() {
	exec 9>/tmp/netdx-sysctl.lock
	if ! flock -w 120 9; then
		dx_say "could not take /tmp/netdx-sysctl.lock in 120 s"
		return 1
	fi
	DX_SYSCTL_SAVED=$(sysctl -n "$1") || return 1
	DX_SYSCTL_KEY=$1
	sysctl -qw "$1=$2"
}

dx_cleanup() {
	trap - EXIT INT TERM
	[[ $BASHPID == "$DX_MAIN" ]] || exit
	dx_host_sysctl_restore
	stop_pids "${DX_PIDS[@]}"
	[[ -n $DX_EMU ]] && timeout 20 "$NETDX" emu topo down "$DX_EMU" >/dev/null 2>&1
	((DX_NS_MADE)) && ns_purge "$DX_C" "$DX_R" "$DX_S"
	[[ -n ${TMP:-} && -d $TMP && -z ${DX_KEEP:-} ]] && rm -rf "$TMP"
	return 0
}

# dx_unusable REASON: skip (TAP) or say why and exit (demo).
dx_unusable() {
	if [[ $DX_MODE == --tap ]]; then
		echo "1..0 # SKIP $1"
		exit 0
	fi
	echo "netdx doctor --demo: $1" >&2
	exit "${2:-1}"
}

dx_init() {
	local netdx=${1:-} t
	DX_MODE=${2:---demo}
	DX_TAG=$3
	shift 3
	case $DX_MODE in
	--tap | --demo | --json) ;;
	*) echo "usage: $0 NETDX [--tap|--demo|--json]" >&2; exit 2 ;;
	esac
	if [[ -z $netdx || ! -x $netdx ]]; then dx_unusable "netdx binary not given or not executable: '$netdx'" 2; fi
	NETDX=$(cd "$(dirname "$netdx")" && pwd)/$(basename "$netdx")
	if [[ $EUID -ne 0 ]]; then dx_unusable "needs root (network namespaces, capture, eBPF)" 4; fi
	for t in ip ethtool python3 "$@"; do
		command -v "$t" >/dev/null || dx_unusable "$t is not installed"
	done
	ip netns list >/dev/null 2>&1 || dx_unusable "ip netns is not available"
	DX_C="ndxd-$DX_TAG-$$-c"
	DX_R="ndxd-$DX_TAG-$$-r"
	DX_S="ndxd-$DX_TAG-$$-s"
	DX_VC="dx${DX_TAG}c$$"
	DX_VRC="dx${DX_TAG}rc$$"
	DX_VRS="dx${DX_TAG}rs$$"
	DX_VS="dx${DX_TAG}s$$"
	DX_CIP=10.81.1.1
	DX_SIP=10.81.2.2
	DX_PORT=7250
	TMP=$(mktemp -d "/tmp/ndxd-$DX_TAG.XXXXXX")
	DX_REC=$TMP/rec
	DX_OUT=$TMP/doctor.json
	trap dx_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

dx_topo() {
	local ns p
	if ! { ip netns add "$DX_C" && ip netns add "$DX_R" && ip netns add "$DX_S"; } 2>"$TMP/setup.err"; then
		DX_NS_MADE=1
		dx_unusable "cannot create namespaces: $(head -1 "$TMP/setup.err")"
	fi
	DX_NS_MADE=1
	if ! { ip link add "$DX_VC" netns "$DX_C" type veth peer name "$DX_VRC" netns "$DX_R" &&
		ip link add "$DX_VRS" netns "$DX_R" type veth peer name "$DX_VS" netns "$DX_S"; } 2>"$TMP/setup.err"; then
		dx_unusable "cannot create veth pairs: $(head -1 "$TMP/setup.err")"
	fi
	for ns in "$DX_C" "$DX_R" "$DX_S"; do
		ip -n "$ns" link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	done
	ip -n "$DX_C" addr add "$DX_CIP/24" dev "$DX_VC"
	ip -n "$DX_R" addr add 10.81.1.2/24 dev "$DX_VRC"
	ip -n "$DX_R" addr add 10.81.2.1/24 dev "$DX_VRS"
	ip -n "$DX_S" addr add "$DX_SIP/24" dev "$DX_VS"
	for p in "$DX_C:$DX_VC" "$DX_R:$DX_VRC" "$DX_R:$DX_VRS" "$DX_S:$DX_VS"; do
		ip netns exec "${p%%:*}" ethtool -K "${p#*:}" tso off gso off gro off >/dev/null 2>&1
		ip -n "${p%%:*}" link set "${p#*:}" up
	done
	ip netns exec "$DX_R" sysctl -qw net.ipv4.ip_forward=1
	ip -n "$DX_C" route add default via 10.81.1.2
	ip -n "$DX_S" route add default via 10.81.2.1
	# reachable (a refused connection to port 9 answers), ARP settled
	ip netns exec "$DX_C" python3 -c '
import socket, sys
try:
    socket.create_connection((sys.argv[1], 9), timeout=3)
except ConnectionRefusedError:
    sys.exit(0)
except OSError:
    sys.exit(1)' "$DX_SIP" || dx_unusable "the topology does not forward ($DX_C cannot reach $DX_SIP)"
}

# dx_topo_emu NAME FWD REV: the same three roles made by `netdx emu topo up`
# (NAME-snd, NAME-mid, NAME-rcv) with `netdx emu run` forwarding between
# them, for a path with a round trip (the kernel here has no netem).
dx_topo_emu() {
	local i
	DX_EMU=$(printf "d%s%05d" "$DX_TAG" $(($$ % 100000)))   # emu allows 8 characters
	DX_C="$DX_EMU-snd" DX_R="$DX_EMU-mid" DX_S="$DX_EMU-rcv"
	DX_NS_MADE=1
	if ! "$NETDX" emu topo up "$DX_EMU" >"$TMP/topo.out" 2>&1; then
		dx_unusable "netdx emu topo up failed: $(head -1 "$TMP/topo.out")"
	fi
	DX_VC=s0 DX_VRC=m0 DX_VRS=m1 DX_VS=r0
	DX_CIP=$(ip -n "$DX_C" -4 -o addr show dev s0 | awk '{ print $4 }' | cut -d/ -f1)
	DX_SIP=$(ip -n "$DX_S" -4 -o addr show dev r0 | awk '{ print $4 }' | cut -d/ -f1)
	"$NETDX" emu run "$DX_EMU" --fwd "$1" --rev "$2" >"$TMP/emu.out" 2>"$TMP/emu.err" &
	DX_PIDS+=($!)
	wait_log "" "$TMP/emu.err" forwarding && return 0
	dx_unusable "netdx emu run did not start: $(head -1 "$TMP/emu.err")"
}

dx_server() {
	ip netns exec "$DX_S" timeout 120 "$NETDX" bench server --once --port "$DX_PORT" \
		>"$TMP/server.out" 2>"$TMP/server.err" &
	DX_PIDS+=($!)
	wait_listen "$DX_S" "$DX_PORT" && return 0
	dx_unusable "netdx bench server did not listen: $(head -1 "$TMP/server.err")"
}

dx_doctor() {
	local dur=$1
	shift
	case $DX_MODE in
	--tap)
		"$NETDX" doctor -q -d "$dur" --save "$DX_REC" --json "$@" >"$DX_OUT" 2>"$TMP/doctor.err"
		DX_RC=$?
		;;
	--json)
		"$NETDX" doctor -q -d "$dur" --save "$DX_REC" --json "$@"
		DX_RC=$?
		;;
	*)      # progress lines only when the recordings are kept (DX_KEEP=1)
		local quiet=(-q)
		[[ -n ${DX_KEEP:-} ]] && quiet=()
		"$NETDX" doctor "${quiet[@]}" -d "$dur" --save "$DX_REC" "$@"
		DX_RC=$?
		;;
	esac
	return 0
}

dx_q() { python3 "$DX_HERE/dx_json.py" "${2:-$DX_OUT}" "$1"; }

# dx_n EXPR [FILE]: the same as a whole number (0 when missing), for arithmetic
dx_n() {
	local v
	v=$(dx_q "$@")
	if [[ $v =~ ^-?[0-9]+(\.[0-9]+)?$ ]]; then echo "${v%.*}"; else echo 0; fi
}

# Demo and JSON modes end here (after dx_truth); TAP goes on to the checks.
dx_checks() {
	[[ $DX_MODE == --tap ]] || exit "$DX_RC"
}

dx_plan() { echo "1..$1"; }

dx_is() {
	if [[ -n $2 && $2 == "$3" ]]; then ok "$1 ($2)"; else notok "$1: got '$2', want '$3'"; fi
}

# dx_cmp DESC GOT OP WANT: integers (a JSON number like 36.0 is cut to 36)
dx_cmp() {
	local got=${2%.*} want=${4%.*}
	if [[ $got =~ ^-?[0-9]+$ && $want =~ ^-?[0-9]+$ ]] && test "$got" "$3" "$want"; then
		ok "$1 ($2 $3 $4)"
	else
		notok "$1: got '$2', want $3 '$4'"
	fi
}

dx_between() {
	if python3 -c 'import sys; g, lo, hi = map(float, sys.argv[1:]); sys.exit(0 if lo <= g <= hi else 1)' \
		"$2" "$3" "$4" 2>/dev/null; then
		ok "$1 ($2 in [$3, $4])"
	else
		notok "$1: got '$2', want it in [$3, $4]"
	fi
}

dx_runs_ok() {
	local f bad=""
	for f in "$TMP"/*.err "$DX_REC"/*.err; do
		[[ -f $f ]] && grep -qE 'Sanitizer|runtime error:' "$f" && bad+=" $(basename "$f")"
	done
	if [[ $DX_RC == 0 && -z $bad && -s $DX_OUT ]]; then
		ok "doctor exited 0 with a diagnosis, no sanitizer report"
	else
		notok "doctor exit $DX_RC, sanitizer reports in:${bad:- none}"
		sed 's/^/# /' "$TMP/doctor.err" 2>/dev/null | head -20
	fi
}

# The recordings read again without collecting: the same top finding.
dx_from_same() {
	local live from
	"$NETDX" doctor --from "$DX_REC" --json >"$TMP/from.json" 2>"$TMP/from.err"
	live="$(dx_q finding[1].mechanism) $(dx_q finding[1].place.text)"
	from="$(dx_q finding[1].mechanism "$TMP/from.json") $(dx_q finding[1].place.text "$TMP/from.json")"
	dx_is "doctor --from the recordings gives the same top finding" "$from" "$live"
}

# On a failed check, what doctor said (TAP diagnostics).
dx_diag() {
	[[ $DX_MODE == --tap ]] || return 0
	python3 "$DX_HERE/dx_json.py" "$DX_OUT" --text 2>/dev/null | sed 's/^/# /' | head -60
}

dx_done() {
	((DX_FAIL)) && dx_diag
	return 0
}
