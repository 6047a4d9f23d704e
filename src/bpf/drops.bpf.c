// SPDX-License-Identifier: MIT
/*
 * drops.bpf.c: the kernel half of `netdx drops`.
 *
 * skb:kfree_skb (every packet the kernel drops, with its drop reason) is
 * aggregated in the kernel by reason, location, device, network
 * namespace and protocol (the place) in the "drops" map, and with flows on
 * also by place and flow in the "flows" map; the TCP and socket loss
 * signals (tcp_retransmit_skb, tcp_retransmit_synack, tcp_send_reset,
 * tcp_receive_reset, sock_rcvqueue_full) go to "sigs" (by signal, state
 * and namespace) and with flows on also to "sig_flows". Places are kept
 * apart from flows so that many flows filling their map cannot keep a
 * new place out of the totals (see drops.h). consume_skb (normal frees) is
 * not attached: it is not a drop. Filters (namespace, device, reasons,
 * host, port, protocol) are applied here, so what they exclude costs no
 * map update and no event. With events on, each counted drop or signal
 * also goes to a ring buffer through a per-CPU token bucket; what the
 * bucket holds back and what the ring cannot take are counted.
 *
 * Every program exists twice: SEC("tp_btf/...") (typed arguments, used
 * where it loads) and SEC("tp/...") (the classic tracepoint, the
 * fallback). User space loads one set; the bodies are shared.
 *
 * Every outcome is counted in the per-CPU "stats" array (enum nd_stat).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "drops.h"

#define ND_LOAD(dst, size, base, off) \
	bpf_probe_read_kernel((dst), (size), (const char *)(base) + (off))
#include "parse.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Configuration, set by user space before load. */
const volatile __u32 cfg_netns = 0;         /* 0: any namespace */
const volatile __u32 cfg_ifindex = 0;       /* 0: any device */
const volatile __u8 cfg_flows = 0;          /* key drops and signals by flow */
const volatile __u8 cfg_events = 0;         /* send events to the ring buffer */
const volatile __u8 cfg_reasons = 0;        /* only reasons in reason_set */
const volatile __u8 cfg_ev_skip = 0;        /* no event for reasons in ev_skip_set */
const volatile __u8 cfg_tunnels = 1;        /* look inside VXLAN/Geneve */
const volatile __u8 cfg_proto = 0;          /* 0: any IP protocol */
const volatile __u16 cfg_port = 0;          /* 0: any port (source or destination) */
const volatile __u8 cfg_host_family = 0;    /* 0: any host, 4 or 6: cfg_host */
const volatile __u8 cfg_host[16] = {};      /* source or destination address */
const volatile __u64 cfg_ev_cost_ns = 0;    /* 1e9 / per-CPU event rate; 0: no limit */
const volatile __u64 cfg_ev_burst_ns = 0;   /* bucket depth */

#define SKB_CONSUMED_VAL 1  /* enum skb_drop_reason's SKB_CONSUMED, stable since 6.0 */
#define ND_AF_INET 2
#define ND_AF_INET6 10

/* Places: every counted drop, the flow part of the key zero. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);             /* user space sets --max-keys */
	__type(key, struct nd_drop_key);
	__type(value, struct nd_drop_val);
} drops SEC(".maps");

/* Flows on: place and flow. One entry when flows are off (user space sizes
 * it): the program does not touch it then, but it must exist to load. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);             /* user space sets --max-flows */
	__type(key, struct nd_drop_key);
	__type(value, struct nd_drop_val);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);             /* --max-keys */
	__type(key, struct nd_sig_key);
	__type(value, struct nd_sig_val);
} sigs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);             /* --max-flows, or 1 */
	__type(key, struct nd_sig_key);
	__type(value, struct nd_sig_val);
} sig_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u8);
} reason_set SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u8);
} ev_skip_set SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ND_ST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nd_ratelimit);
} ratelimit SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);        /* user space sets --ring-size */
} events SEC(".maps");

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		*v += 1;
}

/* Token bucket: 1 if an event may go out now, else 0 (and counted). */
static __always_inline int ev_allowed(__u64 now)
{
	__u32 zero = 0;
	struct nd_ratelimit *rl;
	__u64 credit;

	if (!cfg_ev_cost_ns)
		return 1;
	rl = bpf_map_lookup_elem(&ratelimit, &zero);
	if (!rl)
		return 0;
	credit = rl->credit_ns + (now - rl->last_ns);
	if (credit > cfg_ev_burst_ns)
		credit = cfg_ev_burst_ns;
	rl->last_ns = now;
	if (credit < cfg_ev_cost_ns) {
		rl->credit_ns = credit;
		stat_inc(ND_ST_EV_SUPPRESSED);
		return 0;
	}
	rl->credit_ns = credit - cfg_ev_cost_ns;
	return 1;
}

static __always_inline struct nd_event *ev_reserve(__u64 now)
{
	struct nd_event *e;

	if (!ev_allowed(now))
		return NULL;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(ND_ST_EV_RING_FULL);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = now;
	e->cpu = bpf_get_smp_processor_id();
	return e;
}

static __always_inline void ev_submit(struct nd_event *e)
{
	bpf_ringbuf_submit(e, 0);
	stat_inc(ND_ST_EV_SENT);
}

/* The value of @key in the hash @map, inserted as @init when it is new
 * (another CPU may insert it first: then that one is used). NULL when the
 * map is full. */
static __always_inline void *lookup_or_init(void *map, const void *key, const void *init)
{
	void *val = bpf_map_lookup_elem(map, key);
	long err;

	if (val)
		return val;
	err = bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	if (err && err != -17 /* EEXIST */)
		return NULL;
	return bpf_map_lookup_elem(map, key);
}

/* Add one drop of @len bytes at @now to @key in @map (the places or the
 * flows). 0, or -1 when the map has no room for a new key. */
static __always_inline int count_drop(void *map, const struct nd_drop_key *key, __u64 now,
				      __u32 len)
{
	struct nd_drop_val *val, init = { .first_ns = now };

	val = lookup_or_init(map, key, &init);
	if (!val)
		return -1;
	__sync_fetch_and_add(&val->packets, 1);
	__sync_fetch_and_add(&val->bytes, len);
	val->last_ns = now;
	return 0;
}

/* The same for one signal. */
static __always_inline int count_sig(void *map, const struct nd_sig_key *key, __u64 now)
{
	struct nd_sig_val *val, init = {};

	val = lookup_or_init(map, key, &init);
	if (!val)
		return -1;
	__sync_fetch_and_add(&val->count, 1);
	val->last_ns = now;
	return 0;
}

static __always_inline int flow_filters_on(void)
{
	return cfg_proto || cfg_port || cfg_host_family;
}

static __always_inline int host_is(const __u8 *a, int n)
{
	int diff = 0;

#pragma unroll
	for (int i = 0; i < 16; i++)
		if (i < n)
			diff |= a[i] ^ cfg_host[i];
	return diff == 0;
}

/* Does @t pass the host/port/protocol filters? */
static __always_inline int tuple_match(const struct nd_tuple *t)
{
	if (!t->family)
		return 0;
	if (cfg_proto && t->l4proto != cfg_proto)
		return 0;
	if (cfg_port && t->sport != cfg_port && t->dport != cfg_port)
		return 0;
	if (cfg_host_family) {
		int n = cfg_host_family == 4 ? 4 : 16;

		if (t->family != cfg_host_family)
			return 0;
		if (!host_is(t->saddr, n) && !host_is(t->daddr, n))
			return 0;
	}
	return 1;
}

/*
 * The bodies, twice: for tp_btf, where skb, sock and device pointers are
 * typed and read with plain loads (RD(x) is x), and for the classic
 * tracepoints, where they are plain numbers and every read goes through
 * bpf_probe_read_kernel (with CO-RE relocation). ND_FN(name) names each
 * copy name_btf / name_tp.
 */
#define ND_FN(name) name##_btf
#define RD(x) (x)
#include "drops_body.bpf.h"
#undef ND_FN
#undef RD

#define ND_FN(name) name##_tp
#define RD(x)                                                                  \
	({                                                                     \
		typeof(x) nd_v_;                                               \
		bpf_core_read((void *)&nd_v_, sizeof(nd_v_), &(x));          \
		nd_v_;                                                         \
	})
#include "drops_body.bpf.h"
#undef ND_FN
#undef RD

/* ---- the programs ------------------------------------------------------- */

SEC("tp_btf/kfree_skb")
int BPF_PROG(ndd_kfree_btf, struct sk_buff *skb, void *location, enum skb_drop_reason reason,
	     struct sock *rx_sk)
{
	return on_drop_btf(skb, (__u64)location, (__u32)reason, rx_sk);
}

SEC("tp/skb/kfree_skb")
int ndd_kfree_tp(struct trace_event_raw_kfree_skb *ctx)
{
	__u32 reason = 2; /* SKB_DROP_REASON_NOT_SPECIFIED on kernels without reasons */
	struct sock *rx_sk = NULL;

	if (bpf_core_field_exists(ctx->reason))
		reason = (__u32)BPF_CORE_READ(ctx, reason);
	if (bpf_core_field_exists(ctx->rx_sk))
		rx_sk = BPF_CORE_READ(ctx, rx_sk);
	return on_drop_tp(BPF_CORE_READ(ctx, skbaddr), (__u64)BPF_CORE_READ(ctx, location), reason,
			  rx_sk);
}

#define TCP 6

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(ndd_retx_btf, const struct sock *sk, const struct sk_buff *skb)
{
	return on_signal_btf(ND_SIG_RETRANS, &sk->__sk_common, NULL, -1, TCP);
}

SEC("tp/tcp/tcp_retransmit_skb")
int ndd_retx_tp(struct trace_event_raw_tcp_retransmit_skb *ctx)
{
	return on_signal_tp(ND_SIG_RETRANS, BPF_CORE_READ(ctx, skaddr), NULL, -1, TCP);
}

SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(ndd_synack_btf, const struct sock *sk, const struct request_sock *req)
{
	return on_signal_btf(ND_SIG_SYNACK_RETRANS, &req->__req_common, NULL, -1, TCP);
}

SEC("tp/tcp/tcp_retransmit_synack")
int ndd_synack_tp(struct trace_event_raw_tcp_retransmit_synack *ctx)
{
	const struct request_sock *req = BPF_CORE_READ(ctx, req);

	return on_signal_tp(ND_SIG_SYNACK_RETRANS, &req->__req_common, NULL, -1, TCP);
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(ndd_sndrst_btf, const struct sock *sk, const struct sk_buff *skb)
{
	return on_signal_btf(ND_SIG_SEND_RESET, sk ? &sk->__sk_common : NULL, skb, sk ? -1 : 0, TCP);
}

SEC("tp/tcp/tcp_send_reset")
int ndd_sndrst_tp(struct trace_event_raw_tcp_send_reset *ctx)
{
	const struct sock *sk = BPF_CORE_READ(ctx, skaddr);
	const struct sk_buff *skb = BPF_CORE_READ(ctx, skbaddr);

	return on_signal_tp(ND_SIG_SEND_RESET, sk ? &sk->__sk_common : NULL, skb, sk ? -1 : 0, TCP);
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(ndd_rcvrst_btf, struct sock *sk)
{
	return on_signal_btf(ND_SIG_RECV_RESET, &sk->__sk_common, NULL, -1, TCP);
}

SEC("tp/tcp/tcp_receive_reset")
int ndd_rcvrst_tp(struct trace_event_raw_tcp_event_sk *ctx)
{
	return on_signal_tp(ND_SIG_RECV_RESET, BPF_CORE_READ(ctx, skaddr), NULL, -1, TCP);
}

SEC("tp_btf/sock_rcvqueue_full")
int BPF_PROG(ndd_rcvq_btf, struct sock *sk, struct sk_buff *skb)
{
	return on_signal_btf(ND_SIG_RCVQ_FULL, &sk->__sk_common, NULL, -1, 0);
}

/* The classic sock_rcvqueue_full carries no socket: no namespace and no
 * flow, so it only counts when no namespace or flow filter is set. */
SEC("tp/sock/sock_rcvqueue_full")
int ndd_rcvq_tp(void *ctx)
{
	if (cfg_netns || flow_filters_on()) {
		stat_inc(ND_ST_SIG_SEEN);
		stat_inc(ND_ST_SIG_FILTERED);
		return 0;
	}
	return on_signal_tp(ND_SIG_RCVQ_FULL, NULL, NULL, 0, 0);
}
