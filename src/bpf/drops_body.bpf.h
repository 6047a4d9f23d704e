/* SPDX-License-Identifier: MIT */
/*
 * drops_body.bpf.h: the bodies of the drops programs, included twice by
 * drops.bpf.c with
 *
 *   ND_FN(name)  the name of this copy's function (name_btf, name_tp)
 *   RD(x)        read the kernel field x: a plain load for tp_btf, where the
 *                pointers are typed (BTF), bpf_probe_read_kernel for the
 *                classic tracepoints, where they are numbers
 *
 * Every RD() reads one field: chains are broken into steps, so the probe
 * copy never dereferences an unchecked pointer. No include guard: it is
 * meant to be included once per reader.
 */

static __always_inline __u32 ND_FN(dev_netns)(const struct net_device *dev)
{
	const struct net *net = RD(dev->nd_net.net);

	return net ? RD(net->ns.inum) : 0;
}

static __always_inline __u32 ND_FN(skc_netns)(const struct sock_common *skc)
{
	const struct net *net = RD(skc->skc_net.net);

	return net ? RD(net->ns.inum) : 0;
}

static __always_inline int ND_FN(on_drop)(struct sk_buff *skb, __u64 location, __u32 reason,
					  const struct sock *rx_sk)
{
	struct nd_drop_key key = {};
	struct nd_parsed p;
	const struct nd_tuple *flow;
	struct net_device *dev;
	struct nd_event *e;
	__u64 now;
	__u32 len;

	stat_inc(ND_ST_DROP_SEEN);
	if (reason == SKB_CONSUMED_VAL) {
		stat_inc(ND_ST_DROP_NOT_DROP);
		return 0;
	}
	if (cfg_reasons && !bpf_map_lookup_elem(&reason_set, &reason))
		goto filtered;

	dev = RD(skb->dev);
	if (dev) {
		key.ifindex = (__u32)RD(dev->ifindex);
		key.netns = ND_FN(dev_netns)(dev);
	} else {
		/* Locally sent and dropped before a device was set (e.g. in
		 * the OUTPUT hook): the route's device says where. The route
		 * is a number in both copies: it is always probed. */
		unsigned long refdst = RD(skb->_skb_refdst) & ~1UL;
		struct net_device *rdev = NULL;

		if (refdst)
			rdev = BPF_CORE_READ((struct dst_entry *)refdst, dev);
		if (rdev) {
			key.ifindex = (__u32)BPF_CORE_READ(rdev, ifindex);
			key.netns = BPF_CORE_READ(rdev, nd_net.net, ns.inum);
		} else {
			const struct sock *sk = rx_sk ? rx_sk : RD(skb->sk);

			if (sk)
				key.netns = ND_FN(skc_netns)(&sk->__sk_common);
		}
	}
	if (cfg_ifindex && key.ifindex != cfg_ifindex)
		goto filtered;
	if (cfg_netns && key.netns != cfg_netns)
		goto filtered;

	key.ethertype = bpf_ntohs(RD(skb->protocol));
	nd_parse_pkt(RD(skb->head), RD(skb->network_header), RD(skb->tail), key.ethertype,
		     cfg_tunnels, &p);
	if (flow_filters_on() && !tuple_match(&p.outer) &&
	    !(p.tun_type && tuple_match(&p.inner)))
		goto filtered;
	if (!p.ok)
		stat_inc(ND_ST_DROP_UNPARSED);
	flow = nd_parsed_flow(&p);
	key.l4proto = p.outer.l4proto;
	key.location = location;
	key.reason = reason;

	/* The place first, always; then, with flows on, the same key with
	 * the flow: a full flow map loses the flow of a drop, never its
	 * place. */
	now = bpf_ktime_get_ns();
	len = RD(skb->len);
	if (count_drop(&drops, &key, now, len) == 0) {
		stat_inc(ND_ST_DROP_COUNTED);
		if (cfg_flows) {
			key.flow = *flow;
			key.tun_type = p.tun_type;
			key.vni = p.vni;
			stat_inc(count_drop(&flows, &key, now, len) == 0 ? ND_ST_DROP_FLOW_COUNTED
									: ND_ST_DROP_FLOW_MAP_FULL);
		}
	} else {
		stat_inc(ND_ST_DROP_MAP_FULL);
	}

	if (!cfg_events)
		return 0;
	/* counted above; only its event is skipped (before the rate limit,
	 * so skipped reasons do not use up the budget) */
	if (cfg_ev_skip && bpf_map_lookup_elem(&ev_skip_set, &reason)) {
		stat_inc(ND_ST_EV_SKIPPED);
		return 0;
	}
	e = ev_reserve(now);
	if (!e)
		return 0;
	e->kind = ND_EV_DROP;
	e->reason = reason;
	e->location = location;
	e->ifindex = key.ifindex;
	e->netns = key.netns;
	e->len = len;
	e->ethertype = key.ethertype;
	e->tun_type = p.tun_type;
	e->vni = p.vni;
	e->flow = *flow;
	ev_submit(e);
	return 0;

filtered:
	stat_inc(ND_ST_DROP_FILTERED);
	return 0;
}

/* Local -> remote tuple of a socket (or request socket). */
static __always_inline void ND_FN(skc_tuple)(const struct sock_common *skc, struct nd_tuple *t)
{
	__u16 family = RD(skc->skc_family);

	if (family == ND_AF_INET) {
		__u32 s = RD(skc->skc_rcv_saddr), d = RD(skc->skc_daddr);

		t->family = 4;
		__builtin_memcpy(t->saddr, &s, 4);
		__builtin_memcpy(t->daddr, &d, 4);
	} else if (family == ND_AF_INET6) {
		t->family = 6;
		bpf_core_read(t->saddr, 16, &skc->skc_v6_rcv_saddr);
		bpf_core_read(t->daddr, 16, &skc->skc_v6_daddr);
	} else {
		return;
	}
	t->sport = RD(skc->skc_num);
	t->dport = bpf_ntohs(RD(skc->skc_dport));
}

/*
 * Count one signal. @skc: the socket (or request socket), may be NULL;
 * @skb: for a reset sent without a socket, the packet answered; @state:
 * TCP state, or -1 to read it from @skc; @proto: IP protocol, or 0 to read
 * it from the socket.
 */
static __always_inline int ND_FN(on_signal)(__u8 type, const struct sock_common *skc,
					    const struct sk_buff *skb, int state, __u8 proto)
{
	struct nd_sig_key key = {};
	struct nd_tuple t = {};
	struct nd_event *e;
	__u64 now;

	stat_inc(ND_ST_SIG_SEEN);
	if (skc) {
		ND_FN(skc_tuple)(skc, &t);
		key.netns = ND_FN(skc_netns)(skc);
		if (state < 0)
			state = RD(skc->skc_state);
		if (!proto)
			proto = (__u8)BPF_CORE_READ_BITFIELD_PROBED((const struct sock *)skc,
								    sk_protocol);
	} else if (skb) {
		/* No socket: the reset answers @skb; local is its destination. */
		struct net_device *dev = RD(skb->dev);
		struct nd_parsed p;
		__u16 et = bpf_ntohs(RD(skb->protocol));

		nd_parse_pkt(RD(skb->head), RD(skb->network_header), RD(skb->tail), et, 0, &p);
		if (p.ok) {
			t.family = p.outer.family;
			__builtin_memcpy(t.saddr, p.outer.daddr, 16);
			__builtin_memcpy(t.daddr, p.outer.saddr, 16);
			t.sport = p.outer.dport;
			t.dport = p.outer.sport;
		}
		if (dev)
			key.netns = ND_FN(dev_netns)(dev);
	}
	if (state < 0)
		state = 0;
	t.l4proto = proto;
	if (cfg_netns && key.netns != cfg_netns)
		goto filtered;
	if (flow_filters_on() && !tuple_match(&t))
		goto filtered;

	key.type = type;
	key.state = (__u8)state;
	now = bpf_ktime_get_ns();
	/* As for drops: by signal, state and namespace always, by flow too
	 * with flows on. */
	if (count_sig(&sigs, &key, now) == 0) {
		stat_inc(ND_ST_SIG_COUNTED);
		if (cfg_flows) {
			key.flow = t;
			stat_inc(count_sig(&sig_flows, &key, now) == 0 ? ND_ST_SIG_FLOW_COUNTED
								       : ND_ST_SIG_FLOW_MAP_FULL);
		}
	} else {
		stat_inc(ND_ST_SIG_MAP_FULL);
	}

	if (!cfg_events)
		return 0;
	e = ev_reserve(now);
	if (!e)
		return 0;
	e->kind = ND_EV_SIGNAL;
	e->reason = type;
	e->state = (__u8)state;
	e->netns = key.netns;
	e->flow = t;
	ev_submit(e);
	return 0;

filtered:
	stat_inc(ND_ST_SIG_FILTERED);
	return 0;
}
