# shellcheck shell=bash
# ns2_lib.sh — sourced by scenario tests that need two network namespaces
# joined by one veth pair (TAP output).
#
#   ns2_init NETDX TAG TOOL...   checks root, `ip netns`, the tools and the
#                                netdx binary (TAP skip with the reason
#                                otherwise); sets NETDX (absolute), TMP, PIDS,
#                                and the names NS_A, NS_B, VETH_A, VETH_B;
#                                installs the cleanup trap (EXIT, INT, TERM)
#   ns2_up ADDR_A ADDR_B         creates both namespaces and the veth pair
#                                (10.x addresses, /24), lo up, IPv6 off,
#                                segmentation and GRO off so frames are
#                                MTU-sized; skips when it cannot
#   ok / notok / check DESC CMD... / diag FILE...   TAP helpers (counter N)
#
# Everything created is removed on exit, failure, SIGINT and SIGTERM:
# background processes in PIDS are killed, both namespaces deleted, TMP
# removed.

N=0
ok() { N=$((N + 1)); echo "ok $N - $1"; }
notok() { N=$((N + 1)); echo "not ok $N - $1"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else notok "$d"; fi; }
diag() { sed 's/^/# /' "$@"; }

ns2_cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	[[ -n ${NS_A:-} ]] && ip netns del "$NS_A" 2>/dev/null
	[[ -n ${NS_B:-} ]] && ip netns del "$NS_B" 2>/dev/null
	[[ -n ${TMP:-} ]] && rm -rf "$TMP"
	return 0
}

ns2_init() {
	local netdx=${1:-} tag=$2 t
	shift 2
	if [[ -z "$netdx" || ! -x "$netdx" ]]; then
		echo "1..0 # SKIP netdx binary not given or not executable: '${netdx}'"
		exit 0
	fi
	NETDX=$(cd "$(dirname "$netdx")" && pwd)/$(basename "$netdx")
	export NETDX
	if [[ $EUID -ne 0 ]]; then echo "1..0 # SKIP needs root (network namespaces)"; exit 0; fi
	for t in ip "$@"; do
		if ! command -v "$t" >/dev/null; then echo "1..0 # SKIP $t not installed"; exit 0; fi
	done
	if ! ip netns list >/dev/null 2>&1; then echo "1..0 # SKIP ip netns not available"; exit 0; fi
	NS_A="ndx-$tag-$$-a"
	NS_B="ndx-$tag-$$-b"
	VETH_A="ndx${tag}a$$"
	VETH_B="ndx${tag}b$$"
	TMP=$(mktemp -d "/tmp/ndx-$tag.XXXXXX")
	PIDS=()
	trap ns2_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

ns2_up() {
	local pair ns dev addr
	if ! { ip netns add "$NS_A" && ip netns add "$NS_B" &&
		ip link add "$VETH_A" netns "$NS_A" type veth peer name "$VETH_B" netns "$NS_B"; } 2>"$TMP/setup.err"; then
		echo "1..0 # SKIP cannot create namespaces/veth: $(head -1 "$TMP/setup.err")"
		exit 0
	fi
	for pair in "$NS_A:$VETH_A:$1" "$NS_B:$VETH_B:$2"; do
		IFS=: read -r ns dev addr <<<"$pair"
		ip -n "$ns" link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
		ip -n "$ns" addr add "$addr/24" dev "$dev"
		ip netns exec "$ns" ethtool -K "$dev" tso off gso off gro off >/dev/null 2>&1 || true
		ip -n "$ns" link set "$dev" up
	done
}
