/* SPDX-License-Identifier: MIT */
#include "bench/bsp.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int nd_bsp_topo_make(uint32_t ranks, bool grid, struct nd_bsp_topo *t)
{
	uint32_t n = 0;

	memset(t, 0, sizeof(*t));
	if (ranks < 2 || ranks > 4096 || ranks % 2)
		return -1;
	t->ranks = ranks;
	t->grid = grid;
	if (!grid) {
		t->rows = 1;
		t->cols = ranks;
		t->nedges = ranks == 2 ? 1 : ranks;
	} else {
		uint32_t r = (uint32_t)sqrt((double)ranks);
		while (r > 1 && ranks % r)
			r--;
		if (r < 2)
			return -1;      /* a prime-ish count: no grid */
		t->rows = r;
		t->cols = ranks / r;
		t->nedges = t->rows * (t->cols - 1) + t->cols * (t->rows - 1);
	}
	t->edges = calloc(t->nedges, sizeof(*t->edges));
	if (!t->edges)
		return -1;
	if (!grid) {
		for (uint32_t i = 0; i < t->nedges; i++) {
			t->edges[n][0] = i;
			t->edges[n][1] = (i + 1) % ranks;
			n++;
		}
	} else {
		for (uint32_t i = 0; i < t->rows; i++)
			for (uint32_t j = 0; j < t->cols; j++) {
				uint32_t r0 = i * t->cols + j;
				if (j + 1 < t->cols) {
					t->edges[n][0] = r0;
					t->edges[n][1] = r0 + 1;
					n++;
				}
				if (i + 1 < t->rows) {
					t->edges[n][0] = r0;
					t->edges[n][1] = r0 + t->cols;
					n++;
				}
			}
	}
	return 0;
}

void nd_bsp_topo_free(struct nd_bsp_topo *t)
{
	free(t->edges);
	t->edges = NULL;
}

bool nd_bsp_on_client(const struct nd_bsp_topo *t, uint32_t r)
{
	return ((r / t->cols) + (r % t->cols)) % 2 == 0;
}

void nd_bsp_rank_init(struct nd_bsp_rank *r, uint32_t id, uint32_t exch_cap)
{
	memset(r, 0, sizeof(*r));
	r->id = id;
	nd_hist_init(&r->step_ns);
	r->exch_us = calloc(exch_cap ? exch_cap : 1, sizeof(*r->exch_us));
	r->exch_cap = r->exch_us ? exch_cap : 0;
}

void nd_bsp_rank_free(struct nd_bsp_rank *r)
{
	free(r->exch_us);
	r->exch_us = NULL;
}

void nd_bsp_begin_compute(struct nd_bsp_rank *r, uint64_t now, uint64_t compute_ns)
{
	r->exchanging = false;
	r->step_start = now;
	r->compute_end = now + compute_ns;
}

bool nd_bsp_compute_done(struct nd_bsp_rank *r, uint64_t now, uint32_t msg)
{
	if (r->exchanging || now < r->compute_end)
		return false;
	r->exchanging = true;
	r->exch_start = now;
	for (uint32_t i = 0; i < r->nedge; i++) {
		r->edge[i]->tx_goal += msg;
		r->edge[i]->want_out = true;
	}
	return true;
}

long nd_bsp_edge_send(struct nd_bsp_edge *e, const char *buf, uint32_t msg)
{
	long sent = 0;

	while (e->tx_total < e->tx_goal) {
		uint64_t left = e->tx_goal - e->tx_total;
		ssize_t w = send(e->fd, buf, left > msg ? msg : (size_t)left, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -errno;
		}
		e->tx_total += (uint64_t)w;
		sent += w;
	}
	e->want_out = e->tx_total < e->tx_goal;
	return sent;
}

bool nd_bsp_step_check(struct nd_bsp_rank *r, uint64_t now, uint32_t msg, uint64_t compute_ns,
		       bool stopping)
{
	uint64_t need = (r->step + 1) * (uint64_t)msg;

	if (!r->exchanging)
		return false;
	for (uint32_t i = 0; i < r->nedge; i++)
		if (r->edge[i]->tx_total < r->edge[i]->tx_goal || r->edge[i]->rx_total < need)
			return false;
	if (r->step < r->exch_cap)
		r->exch_us[r->step] = (uint32_t)((now - r->exch_start) / 1000u);
	nd_hist_record(&r->step_ns, now - r->step_start);
	r->compute_total_ns += r->exch_start - r->step_start;
	r->step_total_ns += now - r->step_start;
	r->step++;
	if (!stopping)
		nd_bsp_begin_compute(r, now, compute_ns);
	else
		r->exchanging = false;
	return true;
}
