/* SPDX-License-Identifier: MIT */
/*
 * bsp: bulk-synchronous ranks (compute, then exchange with neighbours),
 * shared by both sides of `netdx bench bsp`. Ranks alternate between the
 * client and the server (checkerboard on a grid), so every edge of the
 * topology is one TCP connection that crosses the network; the client
 * opens them all and names the edge in the hello.
 *
 * A rank's step: compute for compute_ns (a timer, so many ranks share a
 * worker thread), then send msg bytes on every edge and wait until msg
 * bytes of this step have arrived on every edge. Neighbours that run ahead
 * simply leave their bytes queued (received bytes are counted
 * cumulatively), which is what keeps the ranks in lock step.
 */
#ifndef NETDX_BENCH_BSP_H
#define NETDX_BENCH_BSP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/hist.h"

#define ND_BSP_MAX_DEG 4

struct nd_bsp_topo {
	uint32_t ranks, rows, cols;
	bool grid;
	uint32_t nedges;
	uint32_t (*edges)[2];       /* edge i joins ranks edges[i][0] and edges[i][1] */
};

/* Build a ring (ranks even, >= 2) or an open rows x cols grid (ranks =
 * rows*cols with the most square factorisation, rows, cols >= 2).
 * Returns 0 or -1 (bad rank count); free with nd_bsp_topo_free. */
int nd_bsp_topo_make(uint32_t ranks, bool grid, struct nd_bsp_topo *t);
void nd_bsp_topo_free(struct nd_bsp_topo *t);
/* Does rank @r live on the client? (the other half lives on the server) */
bool nd_bsp_on_client(const struct nd_bsp_topo *t, uint32_t r);

struct nd_bsp_rank;

struct nd_bsp_edge {
	int fd;
	uint32_t id;
	struct nd_bsp_rank *rank;
	uint64_t tx_total, rx_total;    /* bytes on this edge, cumulative */
	uint64_t tx_goal;               /* send until tx_total reaches it */
	bool want_out;
};

struct nd_bsp_rank {
	uint32_t id;
	uint32_t nedge;
	struct nd_bsp_edge *edge[ND_BSP_MAX_DEG];
	bool exchanging;
	uint64_t step;                  /* steps completed */
	uint64_t compute_end;           /* monotonic ns, while computing */
	uint64_t exch_start, step_start;
	/* results */
	struct nd_hist step_ns;
	uint64_t compute_total_ns, step_total_ns;
	uint32_t *exch_us;              /* exchange time of each step (capped) */
	uint32_t exch_cap;
};

#endif

/* Rank progress, driven by the side's worker loop. */
void nd_bsp_rank_init(struct nd_bsp_rank *r, uint32_t id, uint32_t exch_cap);
void nd_bsp_rank_free(struct nd_bsp_rank *r);
/* Start computing at @now. */
void nd_bsp_begin_compute(struct nd_bsp_rank *r, uint64_t now, uint64_t compute_ns);
/* If the compute time is over at @now, start the exchange (sets each
 * edge's tx_goal, want_out). Returns true if it did. */
bool nd_bsp_compute_done(struct nd_bsp_rank *r, uint64_t now, uint32_t msg);
/* Send what @e still owes from @buf (at least msg bytes long) without
 * blocking. Returns bytes sent (>= 0) or -errno. */
long nd_bsp_edge_send(struct nd_bsp_edge *e, const char *buf, uint32_t msg);
/* If every edge has sent and received this step's bytes, record the step
 * and start the next compute (unless @stopping). Returns true if a step
 * completed. */
bool nd_bsp_step_check(struct nd_bsp_rank *r, uint64_t now, uint32_t msg, uint64_t compute_ns,
		       bool stopping);
