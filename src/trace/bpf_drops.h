/* SPDX-License-Identifier: MIT */
/*
 * bpf_drops: the eBPF lifecycle of `netdx drops` (open, configure, load,
 * attach, read, destroy) around the skeleton generated from
 * src/bpf/drops.bpf.c.
 *
 * Loading tries the tp_btf programs first and falls back to the classic
 * tracepoints (mounting tracefs when it is only unmounted) unless a mode
 * is forced. kfree_skb must attach; a signal tracepoint that does not is
 * reported, not fatal. nd_bpf_close() detaches and unloads everything
 * (skeleton destroy); it accepts NULL and is the one teardown for every
 * path.
 *
 * Functions return 0 or -errno; on failure @err (ND_BPF_ERRLEN bytes)
 * holds one line saying what is missing. -EPERM means a privilege is
 * missing (the line names the capability).
 */
#ifndef NETDX_TRACE_BPF_DROPS_H
#define NETDX_TRACE_BPF_DROPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/drops.h"

#define ND_BPF_ERRLEN 512

enum nd_attach_mode {
	ND_ATTACH_AUTO,         /* tp_btf, else the classic tracepoints */
	ND_ATTACH_BTF,
	ND_ATTACH_TP,
};

/* Called for each event record from the ring buffer. */
typedef void (*nd_bpf_event_fn)(void *ctx, const struct nd_event *e);

struct nd_bpf_cfg {
	enum nd_attach_mode mode;
	uint32_t netns;         /* 0: any */
	uint32_t ifindex;       /* 0: any */
	bool flows;
	bool tunnels;
	uint8_t proto;          /* 0: any */
	uint16_t port;          /* 0: any */
	uint8_t host_family;    /* 0: any host, else 4 or 6 */
	uint8_t host[16];
	const uint32_t *reasons;        /* only these reasons (NULL: all) */
	size_t nreasons;
	const uint32_t *ev_skip;        /* events: none for these reasons (still counted) */
	size_t nev_skip;
	uint32_t max_keys;      /* cap of the place maps (drops, sigs) */
	uint32_t max_flows;     /* cap of the flow maps (flows, sig_flows) with flows on */
	nd_bpf_event_fn on_event;       /* non-NULL: event stream on */
	void *event_ctx;
	uint64_t ev_rate;       /* events per second over all CPUs; 0: no limit */
	uint32_t ring_bytes;    /* ring buffer size, a power of two >= page size */
	bool verbose;           /* libbpf's own messages to stderr */
};

struct nd_bpf;

/* What was loaded, for the report. */
struct nd_bpf_info {
	const char *mode;               /* "tp_btf" or "tp" */
	char fallback[256];             /* why tp_btf was not used ("" if it was) */
	bool mounted_tracefs;           /* tracefs was mounted by us */
	unsigned signals_attached;      /* of ND_SIG_MAX - 1 */
	char signals_missing[128];      /* names of those that did not attach */
	unsigned ncpus;
};

/*
 * nd_bpf_open - check privileges and BTF, load and attach. On success *out
 * is attached and counting. On failure nothing stays loaded or attached.
 */
int nd_bpf_open(struct nd_bpf **out, const struct nd_bpf_cfg *cfg, char *err);

/* nd_bpf_close - detach and unload (skeleton destroy). NULL is fine. */
void nd_bpf_close(struct nd_bpf *b);

const struct nd_bpf_info *nd_bpf_info(const struct nd_bpf *b);

/*
 * nd_bpf_read_drops / nd_bpf_read_sigs - every entry of a map into the
 * arrays (room for @cap); *n gets the number read. @flows false: the
 * place maps ("drops", "sigs": exact totals, the flow part of every key
 * zero); true: the flow maps ("flows", "sig_flows"), empty unless the
 * programs run with flows on. Read the flow map first: a drop is added to
 * its place before its flow, so the place read after it holds at least
 * what its flows hold.
 */
int nd_bpf_read_drops(struct nd_bpf *b, bool flows, struct nd_drop_key *keys,
		      struct nd_drop_val *vals, size_t cap, size_t *n);
int nd_bpf_read_sigs(struct nd_bpf *b, bool flows, struct nd_sig_key *keys,
		     struct nd_sig_val *vals, size_t cap, size_t *n);

/* nd_bpf_stats - the per-CPU counters summed, by enum nd_stat. */
int nd_bpf_stats(struct nd_bpf *b, uint64_t out[ND_ST_MAX]);

/* nd_bpf_missed - runs the kernel skipped (a program already running on
 * that CPU), over all attached programs. */
int nd_bpf_missed(struct nd_bpf *b, uint64_t *missed);

/*
 * nd_bpf_poll - deliver pending events (waits up to @timeout_ms for the
 * first). Returns the number delivered, 0 without an event stream, or
 * -errno (-EINTR when a signal arrived).
 */
int nd_bpf_poll(struct nd_bpf *b, int timeout_ms);

/* nd_bpf_has_caps - 0 when the effective capabilities allow loading,
 * -EPERM otherwise. */
int nd_bpf_has_caps(void);

#endif
