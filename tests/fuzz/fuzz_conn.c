/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: a stream of frames through the decoder and the connection
 * tracker with a tiny table, so eviction, linger, timeouts, port reuse and
 * time going backwards are all reached. Input: records of
 *   [1 byte link selector][1 byte time step][2 bytes length, LE][frame]
 * The tracker's accounting invariant is checked at the end, and the
 * inference engine's invariants (counters bounded by packets, one RTT
 * sample per ACK at most, a bounded and well-formed ring) on every
 * connection as it ends.
 */
#include <stdint.h>
#include <stdlib.h>

#include "core/decode.h"
#include "tcp/conn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum nd_link links[] = {
	ND_LINK_ETHERNET, ND_LINK_SLL, ND_LINK_SLL2, ND_LINK_RAW, ND_LINK_IPV4,
	ND_LINK_IPV6, ND_LINK_NULL, ND_LINK_LOOP, ND_LINK_PPP, ND_LINK_CHDLC,
};

static void on_done(void *ctx, const struct nd_conn *c)
{
	uint64_t *n = ctx;

	if (c->dir[0].pkts + c->dir[1].pkts == 0)
		abort();        /* a connection is created by a packet */
	for (int i = 0; i < 2; i++) {
		const struct nd_dir *d = &c->dir[i], *o = &c->dir[!i];
		const struct nd_infer_dir *f = &d->inf;
		uint64_t hsum = 0;

		/* Inference counters: each packet is counted at most once per kind. */
		if (f->retrans_pkts + f->out_of_order + f->keep_alives + f->zero_window_probes +
			    f->dup_frames > d->pkts ||
		    f->fast_retrans + f->rto_retrans > f->retrans_pkts ||
		    f->spurious_retrans > f->retrans_pkts || f->out_of_order_retrans > f->out_of_order ||
		    f->dupacks > d->pkts || f->zero_window > d->pkts || f->syn_retrans > d->pkts ||
		    f->dsack > o->pkts || f->capture_loss_events > o->pkts + d->pkts)
			abort();
		/* At most one RTT sample per ACK of the other side. */
		if (f->rtt_n > o->pkts || f->rtt_ts_samples > f->rtt_n)
			abort();
		if (f->rtt_n && (f->rtt_min_us > f->rtt_max_us ||
				 nd_infer_rtt_p50(f) < f->rtt_min_us ||
				 nd_infer_rtt_p50(f) > f->rtt_max_us))
			abort();
		if (f->ext) {
			for (unsigned b = 0; b < ND_RH_NBUCKETS; b++)
				hsum += f->ext->rtt.c[b];
			if (hsum > f->rtt_n || f->ext->recent_n > ND_INFER_RECENT)
				abort();
		}
		/* The ring is bounded and consistent. */
		if (f->cap > ND_INFER_RING_MAX || f->count > f->cap || (f->cap & (f->cap - 1)) ||
		    (f->cap && !f->ring))
			abort();
		for (unsigned k = 0; k < f->count; k++) {
			const struct nd_seg *g = &f->ring[(f->head + k) & (f->cap - 1u)];
			if ((int32_t)(g->end - g->seq) <= 0)
				abort();        /* every range is non-empty */
		}
	}
	(*n)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t done = 0, ts = 1000000000ull;
	struct nd_tracker_cfg cfg = {
		.max_flows = 4, .idle_timeout_ns = 2000000, .linger_ns = 500000,
		.seed = 7, .done = on_done, .ctx = &done,
	};
	struct nd_tracker *t = nd_tracker_new(&cfg);
	struct nd_tracker_stats st;
	size_t off = 0;

	if (!t)
		return 0;
	while (off + 4 <= size) {
		enum nd_link link = links[data[off] % (sizeof(links) / sizeof(links[0]))];
		uint8_t step = data[off + 1];
		size_t len = (size_t)data[off + 2] | ((size_t)data[off + 3] << 8);
		struct nd_pkt p;

		off += 4;
		if (len > size - off)
			len = size - off;
		/* steps >= 0xf0 go back in time */
		ts = step >= 0xf0 ? ts - (uint64_t)(step - 0xef) * 100000 : ts + (uint64_t)step * 100000;
		if (nd_decode(link, data + off, (uint32_t)len, (uint32_t)len, &p) == ND_SKIP_NONE)
			nd_tracker_packet(t, &p, ts, (uint32_t)len);
		off += len;
	}
	nd_tracker_flush(t);
	nd_tracker_get_stats(t, &st);
	if (st.conns != done || st.active != 0 || st.peak > 4 ||
	    st.conns != st.finished + st.timed_out + st.evicted_open + st.evicted_closed +
				st.reused + st.input_end)
		abort();
	nd_tracker_free(t);
	return 0;
}
