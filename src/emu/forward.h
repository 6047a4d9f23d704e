/* SPDX-License-Identifier: MIT */
/*
 * forward: the emulator's data path. For each direction, frames are read
 * from a TPACKET_V2 ring on one interface, passed through an nd_emu
 * pipeline (loss, queue discipline, rate, delay) and sent out of the other
 * interface when they are due. One thread serves both directions (the
 * default: it is already awake for one direction's departures when the
 * other's fall due, and leaves a core to the endpoints), or one thread
 * each (more frames per second when CPUs are to spare). Settings
 * can change while it runs; statistics are read without stopping it.
 */
#ifndef NETDX_EMU_FORWARD_H
#define NETDX_EMU_FORWARD_H

#include <stdint.h>

#include "core/hist.h"
#include "emu/sched.h"

struct nd_fwd;

/* Forwarder counters of one direction, beside the pipeline's own. */
struct nd_fwd_stats {
	struct nd_emu_stats emu;
	uint64_t rx_frames, rx_oversize, rx_pool_full, tx_errors, kernel_drops;
	/* How late each frame left against its exact departure time (the
	 * emulator's own delay error: wake-up and send latency). */
	struct nd_hist tx_late_ns;
	uint64_t elapsed_ns;            /* since the start */
};

/*
 * nd_fwd_start - start forwarding between @if_a and @if_b (in the calling
 * thread's network namespace): a->b through @fwd, b->a through @rev, each
 * holding at most @max_pkts frames, in @threads threads (1: both directions
 * in one; 2: one each). Returns 0 or -1 with a reason in @err.
 */
int nd_fwd_start(struct nd_fwd **out, const char *if_a, const char *if_b, const struct nd_emu_cfg *fwd,
		 const struct nd_emu_cfg *rev, uint32_t max_pkts, int threads, char *err, size_t errlen);

/* Apply new settings to direction @dir (0 = a->b, 1 = b->a) at run time;
 * waits until the data path took them. Returns 0 or -1 with a reason. */
int nd_fwd_reconfigure(struct nd_fwd *f, int dir, const struct nd_emu_cfg *c, char *err, size_t errlen);

/* The current settings of direction @dir. */
void nd_fwd_get_cfg(struct nd_fwd *f, int dir, struct nd_emu_cfg *c);

/* A consistent snapshot of direction @dir's statistics. */
void nd_fwd_stats(struct nd_fwd *f, int dir, struct nd_fwd_stats *s);

/* Stop both threads, close everything. Accepts NULL. */
void nd_fwd_stop(struct nd_fwd *f);

#endif
