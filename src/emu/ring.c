/* SPDX-License-Identifier: MIT */
#include "emu/ring.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

static int bind_if(int fd, int ifindex, uint16_t proto)
{
	struct sockaddr_ll sll;

	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = proto;
	sll.sll_ifindex = ifindex;
	return bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0 ? -errno : 0;
}

int nd_ring_open(struct nd_ring *r, const char *ifname, uint32_t block_size, uint32_t nblocks)
{
	struct tpacket_req req;
	int v = TPACKET_V2, one = 1, rc;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	r->ifindex = (int)if_nametoindex(ifname);
	if (!r->ifindex)
		return -ENODEV;
	r->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (r->fd < 0)
		return -errno;
	if (setsockopt(r->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) < 0)
		goto fail;
	/* Frames this host sends on the interface (our own forwarding) must
	 * not come back into the ring. */
	if (setsockopt(r->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0)
		goto fail;
	memset(&req, 0, sizeof(req));
	req.tp_block_size = block_size;
	req.tp_frame_size = ND_RING_FRAME;
	req.tp_block_nr = nblocks;
	req.tp_frame_nr = block_size / ND_RING_FRAME * nblocks;
	if (setsockopt(r->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0)
		goto fail;
	r->map_len = (size_t)block_size * nblocks;
	r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		goto fail;
	}
	r->block_size = block_size;
	r->nblocks = req.tp_frame_nr;   /* frames, in this ring version */
	rc = bind_if(r->fd, r->ifindex, htons(ETH_P_ALL));
	if (rc < 0) {
		errno = -rc;
		goto fail;
	}
	return 0;
fail:
	rc = -errno;
	nd_ring_close(r);
	return rc;
}

void nd_ring_close(struct nd_ring *r)
{
	if (r->map)
		munmap(r->map, r->map_len);
	if (r->fd >= 0)
		close(r->fd);
	r->map = NULL;
	r->fd = -1;
}

uint32_t nd_ring_drain(struct nd_ring *r, void (*fn)(void *ctx, const uint8_t *frame, uint32_t len,
						     uint32_t wirelen, uint64_t ts_real_ns), void *ctx)
{
	uint32_t n = 0;

	/* Bounded by the ring size, so one busy direction cannot keep the
	 * thread from sending what is due. */
	while (n < r->nblocks) {
		struct tpacket2_hdr *h =
			(struct tpacket2_hdr *)(void *)(r->map + (size_t)r->cur * ND_RING_FRAME);

		if (!(__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
			break;
		fn(ctx, (const uint8_t *)h + h->tp_mac, h->tp_snaplen, h->tp_len,
		   (uint64_t)h->tp_sec * 1000000000u + h->tp_nsec);
		__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		r->cur = (r->cur + 1) % r->nblocks;
		r->pkts++;
		n++;
	}
	return n;
}

uint64_t nd_ring_kernel_drops(struct nd_ring *r)
{
	struct tpacket_stats st;
	socklen_t len = sizeof(st);

	if (getsockopt(r->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
		r->drops_kernel += st.tp_drops;
	return r->drops_kernel;
}

int nd_tx_open(const char *ifname)
{
	int ifindex = (int)if_nametoindex(ifname), fd, rc;

	if (!ifindex)
		return -ENODEV;
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);    /* protocol 0: receives nothing */
	if (fd < 0)
		return -errno;
	rc = bind_if(fd, ifindex, 0);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return fd;
}
