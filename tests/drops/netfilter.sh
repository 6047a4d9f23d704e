#!/usr/bin/env bash
# netfilter.sh NETDX BTF_HIDE - TAP scenario: an iptables DROP on a port is counted
# under NETFILTER_DROP, exactly, in the namespace and on the device where it
# happened; the kernel-side filters; the classic-tracepoint fallback; text.
#
#   $NS_A 10.61.0.1 (python3 sender) ---veth---> $NS_B 10.61.0.2
#                                                 iptables -A INPUT -p udp
#                                                   --dport 9100 -j DROP
#   200 datagrams to :9100 (dropped by the rule), 50 to :9101 (no socket).
#
# Five netdx drops run at once over the same traffic: unfiltered (JSON),
# filtered in the kernel (--netns --reason --port), classic tracepoints
# (--attach tp, in a private mount namespace so a tracefs it mounts stays
# private), the text view, and the automatic fallback: a private mount
# namespace whose /sys/kernel/btf/vmlinux lacks btf_trace_kfree_skb
# (BTF_HIDE makes that copy), where tp_btf cannot load.
set -u
# shellcheck source=tests/drops/drops_lib.sh
source "$(dirname "$0")/drops_lib.sh"
dl_init "${1:-}" dnf iptables unshare
ns2_up 10.61.0.1 10.61.0.2
tmp=$TMP
echo "1..14"

ip netns exec "$NS_B" iptables -A INPUT -p udp --dport 9100 -j DROP
inob=$(ns_inode "$NS_B")
BTF_HIDE=${2:-}

dl_start "$tmp/all.json" || { notok "netdx drops starts"; exit 1; }
p_all=$DL_PID
dl_start "$tmp/flt.json" --netns "$NS_B" --reason NETFILTER_DROP --port 9100 || exit 1
p_flt=$DL_PID
# Classic tracepoints; a tracefs mount it makes stays in its mount namespace.
# shellcheck disable=SC2016  # expanded by the inner sh
unshare -m --propagation private sh -c 'umount /sys/kernel/tracing 2>/dev/null; exec "$0" drops --attach tp --json --duration 120 >"$1" 2>"$1.err"' \
	"$NETDX" "$tmp/tp.json" &
p_tp=$!
PIDS+=("$p_tp")
if [[ -x $BTF_HIDE ]] && "$BTF_HIDE" /sys/kernel/btf/vmlinux "$tmp/vmlinux.hidden" btf_trace_kfree_skb; then
	# shellcheck disable=SC2016  # expanded by the inner sh
	unshare -m --propagation private sh -c 'mount --bind "$2" /sys/kernel/btf/vmlinux && exec "$0" drops --json --duration 120 >"$1" 2>"$1.err"' \
		"$NETDX" "$tmp/fb.json" "$tmp/vmlinux.hidden" &
	p_fb=$!
	PIDS+=("$p_fb")
else
	p_fb=""
fi
"$NETDX" drops --duration 120 --interval 0 --top 50 >"$tmp/text.out" 2>"$tmp/text.err" &
p_txt=$!
PIDS+=("$p_txt")
for ((i = 0; i < 200; i++)); do
	grep -q '"type":"meta"' "$tmp/tp.json" 2>/dev/null && grep -q 'attached via' "$tmp/text.out" &&
		{ [[ -z $p_fb ]] || grep -q '"type":"meta"' "$tmp/fb.json" 2>/dev/null; } && break
	sleep 0.05
done

# the programs of these five (not of another netdx drops running meanwhile)
ids=""
for p in "$p_all" "$p_flt" "$p_tp" $p_fb "$p_txt"; do ids+=" $(pid_prog_ids "$p")"; done
sent=$(udp_send "$NS_A" 10.61.0.1 40100 10.61.0.2 9100 200)
sent2=$(udp_send "$NS_A" 10.61.0.1 40101 10.61.0.2 9101 50)
sleep 0.3
dl_stop "$p_all"; rc_all=$DL_RC
dl_stop "$p_flt"
dl_stop "$p_tp"; rc_tp=$DL_RC
dl_stop "$p_txt" TERM; rc_txt=$DL_RC
rc_fb=none
if [[ -n $p_fb ]]; then dl_stop "$p_fb"; rc_fb=$DL_RC; fi

check "all 250 datagrams left the sender ($sent + $sent2)" test "$sent" = 200 -a "$sent2" = 50
check "SIGINT ends netdx drops with exit 0 and a summary" \
	test "$rc_all" = 0 -a "$(ndq "$tmp/all.json" validate)" = ok -a \
	"$(ndq "$tmp/all.json" field ended_by type=summary)" = SIGINT
nf=$(ndq "$tmp/all.json" sum packets type=drop reason=NETFILTER_DROP netns="$inob" proto=ipv4/udp)
check "NETFILTER_DROP in $NS_B counts exactly the 200 dropped datagrams (got $nf)" test "$nf" = 200
ns=$(ndq "$tmp/all.json" sum packets type=drop reason=NO_SOCKET netns="$inob" proto=ipv4/udp)
check "the 50 to a port without a socket are NO_SOCKET, apart (got $ns)" test "$ns" = 50
dev=$(ndq "$tmp/all.json" values dev type=drop reason=NETFILTER_DROP netns="$inob")
name=$(ndq "$tmp/all.json" values netns_name type=drop reason=NETFILTER_DROP netns="$inob")
check "named: device $dev = $VETH_B, namespace $name = $NS_B" test "$dev" = "$VETH_B" -a "$name" = "$NS_B"
loc=$(ndq "$tmp/all.json" values location type=drop reason=NETFILTER_DROP netns="$inob")
check "the location is a kernel symbol ($loc)" grep -Eq '^[a-z_][a-z0-9_.]*\+0x[0-9a-f]+$' <<<"$loc"

fn=$(ndq "$tmp/flt.json" sum packets type=drop)
fo=$(ndq "$tmp/flt.json" count type=drop reason!=NETFILTER_DROP)
ff=$(ndq "$tmp/flt.json" field drops_filtered type=summary)
check "kernel filters (--netns --reason --port): 200 kept, nothing else, $ff filtered out" \
	test "$fn" = 200 -a "$fo" = 0 -a "$ff" -ge 50
check "classic tracepoints (--attach tp) exit 0 and say so" \
	test "$rc_tp" = 0 -a "$(ndq "$tmp/tp.json" field attach type=meta)" = tp
tn=$(ndq "$tmp/tp.json" sum packets type=drop reason=NETFILTER_DROP netns="$inob" proto=ipv4/udp)
check "classic tracepoints count the same 200 (got $tn)" test "$tn" = 200
text_ended() { test "$rc_txt" = 0 && grep -q 'ended by SIGTERM' "$tmp/text.out"; }
check "SIGTERM ends the text view with exit 0 and a summary" text_ended
line=$(grep -E "^ +200 .* NETFILTER_DROP .* $VETH_B +$NS_B +ipv4/udp" "$tmp/text.out")
check "the text table has the row: 200 NETFILTER_DROP $VETH_B $NS_B ipv4/udp" test -n "$line"
fb=$(ndq "$tmp/fb.json" field fallback type=meta 2>/dev/null)
check "tp_btf unloadable (no btf_trace_kfree_skb): falls back to tp by itself, exit $rc_fb ($fb)" \
	test "$rc_fb" = 0 -a "$(ndq "$tmp/fb.json" field attach type=meta)" = tp -a "${fb:0:16}" = "loading the tp_b"
fn=$(ndq "$tmp/fb.json" sum packets type=drop reason=NETFILTER_DROP netns="$inob" proto=ipv4/udp 2>/dev/null)
check "after the fallback the same 200 are counted (got $fn)" test "$fn" = 200
# shellcheck disable=SC2086  # one id per word
all_gone() { test "$(wc -w <<<"$ids")" -ge 10 && progs_gone $ids; }
check "none of their $(wc -w <<<"$ids") programs is left loaded" all_gone
