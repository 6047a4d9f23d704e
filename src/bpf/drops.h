/* SPDX-License-Identifier: MIT */
/*
 * drops.h: the structs and constants shared by drops.bpf.c (the eBPF side
 * of `netdx drops`) and its user-space half in src/trace/. Plain
 * __u8..__u64 fields only, laid out without implicit padding so both
 * compilers agree byte for byte (map keys are compared as bytes).
 */
#ifndef NETDX_BPF_DROPS_H
#define NETDX_BPF_DROPS_H

#ifndef __bpf__
#include <linux/types.h>
#endif

/* Tunnels the parser looks through (key.tun_type). */
enum nd_tun {
	ND_TUN_NONE = 0,
	ND_TUN_VXLAN = 1,
	ND_TUN_GENEVE = 2,
};

/*
 * A flow as parsed from a packet or read from a socket. Addresses are in
 * network byte order (IPv4 in the first 4 bytes), ports in host order.
 * family is 4, 6 or 0 (not IP / not parsed).
 */
struct nd_tuple {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u8 family;
	__u8 l4proto;
	__u8 pad[2];
};

/*
 * Key of the drop aggregation maps. Two maps share it:
 *
 *   "drops"  the places: the flow part (tuple, tun_type, vni) is zero, so
 *            one entry covers all flows of a (reason, location, device,
 *            namespace, protocol). Every counted drop is added here,
 *            flows on or off: its totals are exact whatever the flows do.
 *   "flows"  with flows on only: the same key with the flow part filled
 *            (a drop with no parsable flow keeps it zero). A drop is added
 *            here only after it was counted at its place; when this map
 *            has no room for a new flow the drop stays in its place's
 *            total and is counted as DROP_FLOW_MAP_FULL.
 *
 * So many short flows can fill the flow map but never hide a place.
 */
struct nd_drop_key {
	__u64 location;         /* kernel address that freed the skb */
	__u32 reason;           /* enum skb_drop_reason value (subsystem bits included) */
	__u32 ifindex;          /* skb->dev (or its route's device), 0 when none */
	__u32 netns;            /* inode of the device's (or socket's) network namespace */
	__u16 ethertype;        /* skb->protocol, host order */
	__u8 l4proto;           /* IP protocol when parsed, else 0 */
	__u8 tun_type;          /* enum nd_tun: the flow was found inside this tunnel */
	__u32 vni;              /* tunnel id when tun_type != 0 */
	__u32 pad;
	struct nd_tuple flow;   /* zero unless flows are on */
};

struct nd_drop_val {
	__u64 packets;
	__u64 bytes;            /* skb->len at the drop */
	__u64 first_ns;         /* bpf_ktime_get_ns() of the first and last drop */
	__u64 last_ns;
};

/* TCP and socket loss signals, beside the drops. */
enum nd_sig {
	ND_SIG_RETRANS = 1,      /* tcp:tcp_retransmit_skb */
	ND_SIG_SYNACK_RETRANS,   /* tcp:tcp_retransmit_synack */
	ND_SIG_SEND_RESET,       /* tcp:tcp_send_reset */
	ND_SIG_RECV_RESET,       /* tcp:tcp_receive_reset */
	ND_SIG_RCVQ_FULL,        /* sock:sock_rcvqueue_full */
	ND_SIG_MAX,
};

/*
 * Key of the signal maps, split the same way: "sigs" (the flow part zero:
 * one entry per signal, TCP state and namespace, every counted signal)
 * and "sig_flows" (flows on: the socket's flow as well).
 */
struct nd_sig_key {
	__u32 netns;            /* the socket's namespace, 0 when not known */
	__u8 type;              /* enum nd_sig */
	__u8 state;             /* TCP state of the socket (TCP_SYN_SENT = 2, ...) */
	__u8 pad[2];
	struct nd_tuple flow;   /* local -> remote; zero in "sigs" and unless flows are on */
};

struct nd_sig_val {
	__u64 count;
	__u64 last_ns;
};

/* Event-stream records (ring buffer), one per drop or signal let through
 * the rate limit. */
enum nd_ev_kind {
	ND_EV_DROP = 1,
	ND_EV_SIGNAL = 2,
};

struct nd_event {
	__u64 ts_ns;            /* bpf_ktime_get_ns() */
	__u64 location;
	__u32 kind;             /* enum nd_ev_kind */
	__u32 reason;           /* drop reason, or enum nd_sig for a signal */
	__u32 ifindex;
	__u32 netns;
	__u32 len;
	__u32 vni;
	__u16 ethertype;
	__u8 tun_type;
	__u8 state;             /* signals: TCP state */
	__u32 cpu;
	struct nd_tuple flow;
};

/*
 * Per-CPU counters (index into the "stats" array map). Every packet the
 * program sees ends in exactly one of DROP_COUNTED (added to its place in
 * "drops"), DROP_MAP_FULL (no room for a new place) or DROP_FILTERED (and
 * NOT_DROP for SKB_CONSUMED on kernels that trace it here), so the totals
 * reconcile: SEEN = NOT_DROP + FILTERED + COUNTED + MAP_FULL.
 *
 * With flows on, every DROP_COUNTED drop then ends in exactly one of
 * DROP_FLOW_COUNTED (added to its flow in "flows") or DROP_FLOW_MAP_FULL
 * (no room for a new flow): FLOW_COUNTED + FLOW_MAP_FULL = COUNTED. The
 * signals reconcile alike (SIG_SEEN = SIG_FILTERED + SIG_COUNTED +
 * SIG_MAP_FULL; with flows on SIG_FLOW_COUNTED + SIG_FLOW_MAP_FULL =
 * SIG_COUNTED). Without flows the FLOW counters stay zero.
 *
 * New counters go at the end (before ND_ST_MAX): the numbers of the
 * others never change.
 */
enum nd_stat {
	ND_ST_DROP_SEEN = 0,     /* kfree_skb hits */
	ND_ST_DROP_NOT_DROP,     /* reason SKB_CONSUMED: a normal free, not counted */
	ND_ST_DROP_FILTERED,     /* did not match --netns/--dev/--reason/host/port/proto */
	ND_ST_DROP_COUNTED,      /* added to its place in the drops map */
	ND_ST_DROP_MAP_FULL,     /* matched, but the drops map had no room for a new place */
	ND_ST_DROP_UNPARSED,     /* matched, counted, but no IP header could be read */
	ND_ST_SIG_SEEN,          /* TCP/socket signal hits */
	ND_ST_SIG_FILTERED,
	ND_ST_SIG_COUNTED,       /* added to the sigs map */
	ND_ST_SIG_MAP_FULL,
	ND_ST_EV_SENT,           /* event records handed to the ring buffer */
	ND_ST_EV_SUPPRESSED,     /* held back by the rate limit */
	ND_ST_EV_RING_FULL,      /* let through, but the ring buffer had no room */
	ND_ST_DROP_FLOW_COUNTED, /* flows on: a counted drop also added to its flow */
	ND_ST_DROP_FLOW_MAP_FULL,/* flows on: counted at its place, no room for its flow */
	ND_ST_SIG_FLOW_COUNTED,  /* flows on: a counted signal also added to its flow */
	ND_ST_SIG_FLOW_MAP_FULL, /* flows on: counted, no room for its flow */
	ND_ST_EV_SKIPPED,        /* events: a counted drop whose reason --event-skip names */
	ND_ST_MAX,
};

/* Token bucket of the event rate limit, one per CPU. */
struct nd_ratelimit {
	__u64 last_ns;
	__u64 credit_ns;
};

#endif
