/* SPDX-License-Identifier: MIT */
/*
 * ring: AF_PACKET sockets for the emulator's forwarder — an mmap receive
 * ring bound to one interface (own transmissions ignored), and a
 * send-only socket on the other (protocol 0: it receives nothing, so the
 * kernel does not copy every frame into it).
 *
 * The ring is TPACKET_V2, one frame per slot, on purpose: TPACKET_V3
 * hands frames over a block at a time, and a block on a quiet link is
 * only handed over after its time-out (1 ms at least). That added up to
 * 1 ms to every pass through the emulator (10% of a 10 ms delay, seen
 * here); V2 wakes the forwarder per frame.
 */
#ifndef NETDX_EMU_RING_H
#define NETDX_EMU_RING_H

#include <stddef.h>
#include <stdint.h>

#define ND_RING_FRAME 2048u     /* slot size: frames up to 2048 - headers */

struct nd_ring {
	int fd;
	int ifindex;
	uint8_t *map;
	size_t map_len;
	uint32_t block_size, nblocks, cur;      /* nblocks: frames in the ring */
	uint64_t blocks_seen, pkts, drops_kernel;
};

/* Open a receive ring on @ifname (in the caller's network namespace) of
 * @nblocks blocks of @block_size bytes, cut in ND_RING_FRAME slots.
 * Returns 0 or -errno. */
int nd_ring_open(struct nd_ring *r, const char *ifname, uint32_t block_size, uint32_t nblocks);
void nd_ring_close(struct nd_ring *r);

/* Hand every frame the kernel has filled to @fn (with the kernel's
 * receive timestamp, CLOCK_REALTIME ns), giving each slot back after.
 * Returns the number of frames (at most one ring's worth per call). */
uint32_t nd_ring_drain(struct nd_ring *r, void (*fn)(void *ctx, const uint8_t *frame, uint32_t len,
						     uint32_t wirelen, uint64_t ts_real_ns), void *ctx);

/* Kernel drop counter of the ring since the last call (PACKET_STATISTICS). */
uint64_t nd_ring_kernel_drops(struct nd_ring *r);

/* A send-only packet socket bound to @ifname. Returns the fd or -errno. */
int nd_tx_open(const char *ifname);

#endif
