/* SPDX-License-Identifier: MIT */
/*
 * source: packets from libpcap — pcap/pcapng files, stdin, memory, or a
 * live interface — handed one by one to a callback with nanosecond
 * timestamps and netdx's link type.
 *
 * Functions return 0 or a negative ND_SRC_E* code and leave a one-line
 * explanation (naming the file or interface and, where there is one, the
 * fix) in the caller's error buffer.
 */
#ifndef NETDX_CAPTURE_SOURCE_H
#define NETDX_CAPTURE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/decode.h"

enum {
	ND_SRC_EOPEN = -1,       /* missing, unreadable, or not a capture */
	ND_SRC_ELINK = -2,       /* link type netdx does not decode */
	ND_SRC_EFILTER = -3,     /* filter expression does not compile */
	ND_SRC_EPERM = -4,       /* no permission for live capture */
	ND_SRC_ETRUNC = -5,      /* file ends inside a record */
	ND_SRC_EREAD = -6,       /* any other read error */
};

#define ND_SRC_ERRLEN 512

struct nd_frame {
	uint64_t ts_ns;
	uint32_t caplen, wirelen;
	const uint8_t *data;
	enum nd_link link;
};

typedef void (*nd_frame_fn)(void *ctx, const struct nd_frame *f);

struct nd_live_cfg {
	const char *iface;
	uint32_t snaplen;        /* 0: 262144 */
	uint64_t buffer_size;    /* 0: libpcap's default */
	bool promisc;
};

struct nd_source;

/* Open the capture file @path ("-" for stdin). */
int nd_source_open_file(struct nd_source **out, const char *path, char *err);

/* Open a capture held in memory (@name is used in messages). The buffer
 * must outlive the source. */
int nd_source_open_mem(struct nd_source **out, const char *name, const void *buf, size_t len,
		       char *err);

/* Open a live capture, in immediate and non-blocking mode. */
int nd_source_open_live(struct nd_source **out, const struct nd_live_cfg *cfg, char *err);

/* Compile and apply a tcpdump-syntax filter; NULL or "" does nothing. */
int nd_source_set_filter(struct nd_source *s, const char *expr, char *err);

/*
 * nd_source_dispatch - hand up to @max frames (-1: all available) to @fn.
 * For files this reads until @max or the end; for live sources it returns
 * what the kernel has queued (possibly 0) without blocking.
 * Returns the number of frames handed over (0 at the end of a file), or a
 * negative ND_SRC_E* code (ND_SRC_ETRUNC for a file cut inside a record;
 * the message says at which byte offset).
 */
int nd_source_dispatch(struct nd_source *s, int max, nd_frame_fn fn, void *ctx, char *err);

/* Wait up to @timeout_ms for a live source to become readable. Returns 1
 * readable, 0 timeout or signal, negative on error. Files: always 1. */
int nd_source_wait(struct nd_source *s, int timeout_ms);

/* Stop an ongoing nd_source_dispatch (safe from the frame callback). */
void nd_source_break(struct nd_source *s);

struct nd_capture_stats {
	uint64_t recv, drop, ifdrop;
	bool valid;
};

/* Kernel capture statistics of a live source (pcap_stats). */
void nd_source_stats(struct nd_source *s, struct nd_capture_stats *st);

const char *nd_source_name(const struct nd_source *s);
enum nd_link nd_source_link(const struct nd_source *s);
int nd_source_dlt(const struct nd_source *s);
bool nd_source_is_live(const struct nd_source *s);
uint64_t nd_source_frames(const struct nd_source *s);

void nd_source_close(struct nd_source *s);

#endif
