/* SPDX-License-Identifier: MIT */
/*
 * spec: the text form of one direction's link settings, shared by the
 * command line, the control socket and the experiment script:
 *   "rate=100M delay=20ms jitter=1ms buffer=0.5bdp qdisc=codel loss=0.01"
 * Keys: rate (bit/s, k/M/G), burst (bytes), overhead (bytes), mtu, delay,
 * jitter (s, ms, us), reorder (on/off), buffer (bytes with k/M, Np for
 * packets, Xbdp), loss (probability), ge (p,r,loss_good,loss_bad),
 * qdisc (fifo, codel, pie, fq_codel), target, interval, flows, quantum,
 * seed. A spec applied to existing settings changes only what it names.
 */
#ifndef NETDX_EMU_SPEC_H
#define NETDX_EMU_SPEC_H

#include <stddef.h>

#include "emu/sched.h"

struct nd_emu_spec {
	struct nd_emu_cfg cfg;
	double buffer_bdp;          /* > 0: the buffer is this many BDPs (resolved later) */
};

/* Apply @text to @s. Returns 0, or -1 with a reason naming the key. */
int nd_emu_spec_apply(struct nd_emu_spec *s, const char *text, char *err, size_t errlen);

/* Resolve BDP-sized buffers: rtt is the sum of both directions' delays.
 * Returns 0, or -1 (a BDP buffer without rate or delay). */
int nd_emu_spec_resolve(struct nd_emu_spec *s, uint64_t rtt_ns, char *err, size_t errlen);

/* Describe @s as a spec string (round trip of nd_emu_spec_apply). */
int nd_emu_spec_format(const struct nd_emu_spec *s, char *buf, size_t len);

const char *nd_emu_qdisc_name(enum nd_emu_qdisc q);

#endif
