/* SPDX-License-Identifier: MIT */
/*
 * bench client: opens the control connection and the flows, starts them
 * together, runs T epoll workers over them, samples every interval, marks
 * stalled flows, stops, drains, and collects the server's side.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/bsp.h"

#define BUFSZ (256 * 1024)
#define QCAP 4096               /* paced requests queued per flow before they count as late */
#define CRR_TIMEOUT_NS 15000000000ull   /* one crr transaction, SYN retries included */
#define DRAIN_NS 5000000000ull

enum { PH_SETUP = 0, PH_RUN, PH_STOP, PH_QUIT };
enum { CRR_IDLE = 0, CRR_CONNECTING, CRR_SENDING, CRR_RECEIVING };

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)
#define ADD(x, v) __atomic_fetch_add(&(x), (v), __ATOMIC_RELAXED)

struct cworker;

struct cflow {
	uint32_t id;
	int fd;
	struct cworker *w;
	struct nd_bench_counters c;         /* atomics: the main thread samples them */
	uint64_t last_progress;             /* atomic, monotonic ns */
	/* rr: a ring of request times; the first `outstanding` entries were
	 * sent, the next `queued` wait to be sent */
	uint64_t *sched, *sent;
	uint32_t ring_cap, head, outstanding, queued;
	uint32_t req_sent;                  /* bytes of the request being written */
	uint64_t resp_got;                  /* bytes of the response being read */
	uint64_t next_sched;                /* paced */
	uint32_t heap_i;
	/* crr */
	int crr_state;
	uint64_t t_begin;
	uint32_t crr_sent;
	uint64_t retry_at;
	/* all */
	bool wr_shut, finished, want_out;
	bool stalled;
	uint64_t stalled_at;
	struct nd_tcpinfo ti_end;
	char cc[16], local[64], remote[64];
	uint64_t lat_count, lat_min, lat_max, lat_sum;
	struct nd_bench_sample *samples;
	uint32_t nsamples, samples_cap;
	struct nd_bsp_edge *edge;
};

struct ctest;

struct cworker {
	pthread_t th;
	int ep, evfd;
	struct ctest *t;
	struct cflow **flows;
	uint32_t nflows;
	struct cflow **heap;                /* paced: min-heap on next_sched */
	uint32_t nheap;
	struct nd_bsp_rank **ranks;
	uint32_t nranks;
	char *buf;
	struct nd_hist lat, lat_unc;
	uint64_t late;
	uint32_t unfinished;                /* atomic: flows not finished yet */
};

struct ctest {
	struct nd_bench_cfg cfg;
	const struct nd_bench_client_opts *o;
	struct sockaddr_storage sa;
	socklen_t salen;
	struct cflow *flows;
	uint32_t nflows;
	struct cworker *w;
	uint32_t nw;
	int phase;
	uint64_t start_mono, stop_mono;
	uint64_t period_ns;                 /* paced */
	struct nd_bsp_topo topo;
	struct nd_bsp_rank *ranks;
	struct nd_bsp_edge *edges;
};

/* ---- helpers --------------------------------------------------------- */

static void hello_bytes(uint32_t id, char out[8]);

static void progress(struct cflow *f, uint64_t now)
{
	STORE(f->last_progress, now);
}

static void set_out(struct cflow *f, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = f };

	if (f->want_out == on || f->fd < 0)
		return;
	f->want_out = on;
	epoll_ctl(f->w->ep, EPOLL_CTL_MOD, f->fd, &ev);
}

static void finish(struct cflow *f)
{
	if (f->finished)
		return;
	STORE(f->finished, true);
	if (f->fd >= 0) {
		if (f->w->t->cfg.mode != ND_BM_CRR)
			nd_tcpinfo_get(f->fd, &f->ti_end);
		epoll_ctl(f->w->ep, EPOLL_CTL_DEL, f->fd, NULL);
		close(f->fd);
		f->fd = -1;
		if (f->edge)
			f->edge->fd = -1;
	}
	ADD(f->w->unfinished, (uint32_t)-1);
}

static void lat_record(struct cflow *f, uint64_t lat, uint64_t lat_unc, bool paced)
{
	struct cworker *w = f->w;

	nd_hist_record(&w->lat, lat);
	if (paced)
		nd_hist_record(&w->lat_unc, lat_unc);
	if (!f->lat_count || lat < f->lat_min)
		f->lat_min = lat;
	if (lat > f->lat_max)
		f->lat_max = lat;
	f->lat_sum += lat;
	f->lat_count++;
}

/* ---- paced schedule: a binary min-heap per worker ---------------------- */

static void heap_swap(struct cworker *w, uint32_t a, uint32_t b)
{
	struct cflow *x = w->heap[a];

	w->heap[a] = w->heap[b];
	w->heap[b] = x;
	w->heap[a]->heap_i = a;
	w->heap[b]->heap_i = b;
}

static void heap_down(struct cworker *w, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < w->nheap && w->heap[l]->next_sched < w->heap[m]->next_sched)
			m = l;
		if (r < w->nheap && w->heap[r]->next_sched < w->heap[m]->next_sched)
			m = r;
		if (m == i)
			return;
		heap_swap(w, i, m);
		i = m;
	}
}

static void heap_build(struct cworker *w)
{
	for (uint32_t i = 0; i < w->nheap; i++)
		w->heap[i]->heap_i = i;
	for (uint32_t i = w->nheap / 2 + 1; i-- > 0;)
		heap_down(w, i);
}

/* ---- rr ----------------------------------------------------------------- */

static void rr_queue(struct cflow *f, uint64_t sched)
{
	uint32_t n = f->outstanding + f->queued;

	if (n >= f->ring_cap) {
		f->w->late++;
		return;
	}
	f->sched[(f->head + n) % f->ring_cap] = sched;
	f->queued++;
}

static int rr_send(struct cflow *f, uint64_t now)
{
	struct ctest *t = f->w->t;

	while (f->queued && f->outstanding < t->cfg.inflight) {
		uint32_t left = t->cfg.req - f->req_sent;
		ssize_t n = send(f->fd, f->w->buf, left > BUFSZ ? BUFSZ : left, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				set_out(f, true);
				return 0;
			}
			if (errno == EINTR)
				continue;
			ADD(f->c.resets, 1);
			return -1;
		}
		ADD(f->c.tx_bytes, (uint64_t)n);
		f->req_sent += (uint32_t)n;
		if (f->req_sent == t->cfg.req) {
			f->sent[(f->head + f->outstanding) % f->ring_cap] = now;
			f->req_sent = 0;
			f->outstanding++;
			f->queued--;
		}
	}
	set_out(f, false);
	return 0;
}

static int rr_read(struct cflow *f, uint64_t now)
{
	struct ctest *t = f->w->t;
	bool paced = t->cfg.rate > 0;

	for (;;) {
		ssize_t n = recv(f->fd, f->w->buf, BUFSZ, MSG_DONTWAIT);

		if (n == 0)
			return 1;       /* EOF */
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			ADD(f->c.resets, 1);
			return -1;
		}
		ADD(f->c.rx_bytes, (uint64_t)n);
		f->resp_got += (uint64_t)n;
		while (f->resp_got >= t->cfg.resp && f->outstanding) {
			uint64_t s = f->sched[f->head], a = f->sent[f->head];

			f->resp_got -= t->cfg.resp;
			f->head = (f->head + 1) % f->ring_cap;
			f->outstanding--;
			ADD(f->c.transactions, 1);
			progress(f, now);
			lat_record(f, now - (paced ? s : a), now - a, paced);
			if (!paced && LOAD(t->phase) == PH_RUN)
				rr_queue(f, now);
		}
		if ((size_t)n < BUFSZ)
			return 0;
	}
}

/* After STOP: no new requests; shut down once nothing is outstanding. */
static void rr_stop(struct cflow *f)
{
	f->queued = 0;
	if (!f->outstanding && !f->wr_shut && f->fd >= 0) {
		shutdown(f->fd, SHUT_WR);
		f->wr_shut = true;
	}
}

/* ---- crr ------------------------------------------------------------------ */

/* A crr transaction costs: socket, epoll_ctl, connect, (wait), sendmsg of
 * hello and request together, (wait), recv, close. Edge-triggered epoll
 * with both directions registered once saves the MOD and DEL calls. */
static void crr_close(struct cflow *f)
{
	/* No EPOLL_CTL_DEL: close() removes the socket from the epoll set
	 * because nothing else holds it (the sampling thread never touches
	 * crr sockets; rr/stream ones leave through finish(), which does
	 * remove them first). One system call less per transaction. */
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	f->crr_state = CRR_IDLE;
}

static void crr_done_paced(struct cflow *f)
{
	if (f->w->t->cfg.rate > 0 && f->queued) {
		f->head = (f->head + 1) % f->ring_cap;
		f->queued--;
	}
}

static void crr_step(struct cflow *f, uint64_t now, uint32_t events);

static void crr_begin(struct cflow *f, uint64_t now)
{
	struct ctest *t = f->w->t;
	struct epoll_event ev;
	int fd = socket(t->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		ADD(f->c.connect_failures, 1);
		f->retry_at = now + 10000000u;
		return;
	}
	if (t->cfg.sndbuf || t->cfg.rcvbuf)
		nd_sock_tune(fd, &t->cfg, f->id, false, NULL);
	f->fd = fd;
	f->t_begin = now;
	f->crr_sent = 0;
	f->resp_got = 0;
	f->crr_state = CRR_CONNECTING;
	ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
	ev.data.ptr = f;
	epoll_ctl(f->w->ep, EPOLL_CTL_ADD, fd, &ev);
	if (connect(fd, (struct sockaddr *)&t->sa, t->salen) < 0 && errno != EINPROGRESS) {
		ADD(f->c.connect_failures, 1);
		crr_close(f);
		crr_done_paced(f);
		f->retry_at = now + 10000000u;
		return;
	}
	/* On a fast path the handshake is often over by now: try to send at
	 * once (a socket still connecting answers EAGAIN, and the edge-
	 * triggered EPOLLOUT of the finished connect brings us back). */
	crr_step(f, now, EPOLLOUT | 0x80000000u);
}

/* Drive one crr flow after an event. */
static void crr_step(struct cflow *f, uint64_t now, uint32_t events)
{
	struct ctest *t = f->w->t;

	if (f->crr_state == CRR_CONNECTING) {
		if (events & (EPOLLERR | EPOLLHUP)) {
			int e = 0;
			socklen_t l = sizeof(e);

			getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &e, &l);
			if (e == ECONNRESET)
				ADD(f->c.resets, 1);
			else
				ADD(f->c.connect_failures, 1);
			crr_close(f);
			crr_done_paced(f);
			f->retry_at = now + 10000000u;
			return;
		}
		if (!(events & EPOLLOUT))
			return;
		f->crr_state = CRR_SENDING;
		if (!(events & 0x80000000u))
			ADD(f->c.connects, 1);
	}
	if (f->crr_state == CRR_SENDING) {
		uint32_t total = 8 + t->cfg.req;

		while (f->crr_sent < total) {
			char hello[8];
			struct iovec iov[2];
			struct msghdr mh = { .msg_iov = iov };
			uint32_t body = f->crr_sent < 8 ? 0 : f->crr_sent - 8, left = t->cfg.req - body;
			ssize_t n;

			if (f->crr_sent < 8) {
				hello_bytes(f->id, hello);
				iov[mh.msg_iovlen].iov_base = hello + f->crr_sent;
				iov[mh.msg_iovlen++].iov_len = 8 - f->crr_sent;
			}
			iov[mh.msg_iovlen].iov_base = f->w->buf;
			iov[mh.msg_iovlen++].iov_len = left > BUFSZ ? BUFSZ : left;
			n = sendmsg(f->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0 && (events & 0x80000000u) && f->crr_sent == 0) {
				/* the early try: not connected yet, or refused */
				if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOTCONN) {
					f->crr_state = CRR_CONNECTING;
					return;
				}
				f->crr_state = CRR_CONNECTING;
				crr_step(f, now, EPOLLERR);
				return;
			}
			if (n >= 0 && (events & 0x80000000u) && f->crr_sent == 0) {
				ADD(f->c.connects, 1);
				events &= ~0x80000000u;
			}
			if (n < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					return;         /* EPOLLOUT (edge) brings us back */
				if (errno == EINTR)
					continue;
				ADD(f->c.resets, 1);
				crr_close(f);
				crr_done_paced(f);
				return;
			}
			{
				uint32_t hello_part = f->crr_sent < 8 ? 8 - f->crr_sent : 0;
				f->crr_sent += (uint32_t)n;
				if ((uint32_t)n > hello_part)
					ADD(f->c.tx_bytes, (uint64_t)n - hello_part);
			}
		}
		f->crr_state = CRR_RECEIVING;
	}
	if (f->crr_state == CRR_RECEIVING) {
		for (;;) {
			ssize_t n = recv(f->fd, f->w->buf, BUFSZ, MSG_DONTWAIT);

			if (n > 0) {
				ADD(f->c.rx_bytes, (uint64_t)n);
				f->resp_got += (uint64_t)n;
				if (f->resp_got >= t->cfg.resp) {
					bool paced = t->cfg.rate > 0;

					ADD(f->c.transactions, 1);
					progress(f, now);
					lat_record(f, now - (paced ? f->sched[f->head] : f->t_begin),
						   now - f->t_begin, paced);
					/* the kernel's view now and then, and at the end */
					if ((f->lat_count & 255) == 1 || LOAD(t->phase) != PH_RUN)
						nd_tcpinfo_get(f->fd, &f->ti_end);
					crr_close(f);
					crr_done_paced(f);
					/* closed loop: the next one at once */
					if (!paced && LOAD(t->phase) == PH_RUN)
						crr_begin(f, now);
					return;
				}
				continue;
			}
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return;
			if (n < 0 && errno == EINTR)
				continue;
			ADD(f->c.resets, 1);       /* EOF or reset before the whole response */
			crr_close(f);
			crr_done_paced(f);
			return;
		}
	}
}

/* Retries after failures, paced starts, time-outs, and the end. */
static void crr_poll(struct cworker *w, uint64_t now, bool running)
{
	struct ctest *t = w->t;
	bool paced = t->cfg.rate > 0;

	for (uint32_t i = 0; i < w->nflows; i++) {
		struct cflow *f = w->flows[i];

		if (f->finished)
			continue;
		if (f->crr_state != CRR_IDLE && now - f->t_begin > CRR_TIMEOUT_NS) {
			ADD(f->c.timeouts, 1);
			crr_close(f);
			crr_done_paced(f);
		}
		if (f->crr_state != CRR_IDLE)
			continue;
		if (!running) {
			finish(f);
			continue;
		}
		if (now < f->retry_at)
			continue;
		if (!paced || f->queued)
			crr_begin(f, now);
	}
}

/* ---- stream ---------------------------------------------------------------- */

static int stream_write(struct cflow *f, uint64_t now)
{
	struct ctest *t = f->w->t;
	uint32_t ws = t->cfg.write_size ? t->cfg.write_size : 128 * 1024;

	if (ws > BUFSZ)
		ws = BUFSZ;
	/* A bounded burst, so one fast flow cannot starve the others on this
	 * worker; EPOLLOUT stays armed and brings it back. */
	for (int burst = 0; burst < 2 && LOAD(t->phase) == PH_RUN; burst++) {
		ssize_t n = send(f->fd, f->w->buf, ws, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			ADD(f->c.resets, 1);
			return -1;
		}
		ADD(f->c.tx_bytes, (uint64_t)n);
		progress(f, now);
	}
	set_out(f, LOAD(t->phase) == PH_RUN);
	return 0;
}

static int drain_read(struct cflow *f, uint64_t now, bool counts_progress)
{
	for (int burst = 0; burst < 4; burst++) {
		ssize_t n = recv(f->fd, f->w->buf, BUFSZ, MSG_DONTWAIT);

		if (n == 0)
			return 1;
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			ADD(f->c.resets, 1);
			return -1;
		}
		ADD(f->c.rx_bytes, (uint64_t)n);
		if (f->edge)
			f->edge->rx_total += (uint64_t)n;
		if (counts_progress)
			progress(f, now);
		if ((size_t)n < BUFSZ)
			return 0;
	}
	return 0;       /* more to read: level-triggered epoll brings it back */
}

/* ---- bsp ------------------------------------------------------------------- */

static void bsp_drive(struct cworker *w, uint64_t now, bool running)
{
	struct ctest *t = w->t;

	for (uint32_t i = 0; i < w->nranks; i++) {
		struct nd_bsp_rank *r = w->ranks[i];

		if (!running)
			continue;
		nd_bsp_compute_done(r, now, t->cfg.msg);
		for (uint32_t e = 0; e < r->nedge; e++) {
			struct nd_bsp_edge *ed = r->edge[e];
			struct cflow *f = &t->flows[ed->id];

			if (ed->fd >= 0 && ed->tx_total < ed->tx_goal) {
				long s = nd_bsp_edge_send(ed, w->buf, t->cfg.msg);
				if (s > 0)
					ADD(f->c.tx_bytes, (uint64_t)s);
				set_out(f, ed->want_out);
			}
		}
		while (nd_bsp_step_check(r, now, t->cfg.msg, t->cfg.compute_ns, false))
			for (uint32_t e = 0; e < r->nedge; e++)
				progress(&t->flows[r->edge[e]->id], now);
	}
}

/* ---- the worker ------------------------------------------------------------ */

static void on_stop(struct cworker *w)
{
	struct ctest *t = w->t;

	for (uint32_t i = 0; i < w->nflows; i++) {
		struct cflow *f = w->flows[i];

		if (f->finished || f->fd < 0)
			continue;
		switch (t->cfg.mode) {
		case ND_BM_RR:
			rr_stop(f);
			break;
		case ND_BM_STREAM:
		case ND_BM_BSP:
			if (!f->wr_shut && !(t->cfg.mode == ND_BM_STREAM && t->cfg.down)) {
				shutdown(f->fd, SHUT_WR);
				f->wr_shut = true;
			}
			set_out(f, false);
			break;
		case ND_BM_CRR:
			break;
		}
	}
}

static void *worker_main(void *arg)
{
	struct cworker *w = arg;
	struct ctest *t = w->t;
	struct epoll_event evs[256];
	bool stopped = false;
	bool paced = t->cfg.rate > 0 && (t->cfg.mode == ND_BM_RR || t->cfg.mode == ND_BM_CRR);
	uint64_t last_sweep = 0;

	while (LOAD(t->phase) == PH_SETUP) {
		uint64_t v;
		struct pollfd p = { .fd = w->evfd, .events = POLLIN };
		if (poll(&p, 1, 100) > 0 && read(w->evfd, &v, sizeof(v)) < 0)
			break;
	}
	{
		uint64_t now = nd_now_ns();
		for (uint32_t i = 0; i < w->nflows; i++) {
			struct cflow *f = w->flows[i];
			if (t->cfg.mode == ND_BM_RR) {
				if (paced)
					f->next_sched = now + (uint64_t)((double)t->period_ns * i / (w->nflows ? w->nflows : 1));
				else
					for (uint32_t k = 0; k < t->cfg.inflight; k++)
						rr_queue(f, now);
				if (!paced && rr_send(f, now) < 0)
					finish(f);
			} else if (t->cfg.mode == ND_BM_CRR && paced) {
				f->next_sched = now + (uint64_t)((double)t->period_ns * i / (w->nflows ? w->nflows : 1));
			} else if (t->cfg.mode == ND_BM_STREAM && !t->cfg.down) {
				if (stream_write(f, now) < 0)
					finish(f);
			}
		}
		for (uint32_t i = 0; i < w->nranks; i++)
			nd_bsp_begin_compute(w->ranks[i], now, t->cfg.compute_ns);
		if (paced)
			heap_build(w);
	}

	while (LOAD(w->unfinished) > 0 && LOAD(t->phase) != PH_QUIT) {
		uint64_t now = nd_now_ns();
		bool running = LOAD(t->phase) == PH_RUN;
		int timeout = 50, n;

		if (!running && !stopped) {
			stopped = true;
			on_stop(w);
		}
		if (paced && running) {
			while (w->nheap && w->heap[0]->next_sched <= now) {
				struct cflow *f = w->heap[0];
				if (!f->finished) {
					rr_queue(f, f->next_sched);
					if (t->cfg.mode == ND_BM_RR && rr_send(f, now) < 0)
						finish(f);
					else if (t->cfg.mode == ND_BM_CRR && f->crr_state == CRR_IDLE &&
						 now >= f->retry_at)
						crr_begin(f, now);
				}
				f->next_sched += t->period_ns;
				heap_down(w, 0);
			}
			if (w->nheap) {
				uint64_t d = w->heap[0]->next_sched - now;
				timeout = (int)(d / 1000000u);
			}
		}
		if (t->cfg.mode == ND_BM_CRR) {
			/* transactions chain from their own events; this sweep
			 * only retries, times out and ends flows */
			if (!running || now - last_sweep >= 10000000u) {
				crr_poll(w, now, running);
				last_sweep = now;
			}
			if (timeout > 10)
				timeout = 10;
		}
		if (t->cfg.mode == ND_BM_BSP) {
			bsp_drive(w, now, running);
			for (uint32_t i = 0; i < w->nranks && running; i++) {
				struct nd_bsp_rank *r = w->ranks[i];
				if (!r->exchanging) {
					int ms = r->compute_end <= now ? 0 : (int)((r->compute_end - now) / 1000000u);
					if (ms < timeout)
						timeout = ms;
				}
			}
		}
		n = epoll_wait(w->ep, evs, 256, timeout);
		now = nd_now_ns();
		running = LOAD(t->phase) == PH_RUN;
		for (int i = 0; i < n; i++) {
			struct cflow *f = evs[i].data.ptr;
			uint32_t ev = evs[i].events;
			int rc = 0;

			now = nd_now_ns();      /* per event: latency is measured here */
			if (!f) {
				uint64_t v;
				if (read(w->evfd, &v, sizeof(v)) < 0) {
					/* woken anyway */
				}
				continue;
			}
			if (f->finished)
				continue;
			switch (t->cfg.mode) {
			case ND_BM_RR:
				if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))
					rc = rr_read(f, now);
				if (rc == 0 && running && (ev & EPOLLOUT || f->queued))
					rc = rr_send(f, now) < 0 ? -1 : 0;
				if (rc == 0 && !running)
					rr_stop(f);
				break;
			case ND_BM_CRR:
				crr_step(f, now, ev);
				break;
			case ND_BM_STREAM:
				if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))
					rc = drain_read(f, now, t->cfg.down && running);
				if (rc == 0 && (ev & EPOLLOUT) && !t->cfg.down && running)
					rc = stream_write(f, now);
				break;
			case ND_BM_BSP:
				if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))
					rc = drain_read(f, now, false);
				if (rc == 0 && (ev & EPOLLOUT) && f->edge && running) {
					long s = nd_bsp_edge_send(f->edge, w->buf, t->cfg.msg);
					if (s > 0)
						ADD(f->c.tx_bytes, (uint64_t)s);
					rc = s < 0 ? -1 : 0;
					set_out(f, f->edge->want_out);
				}
				break;
			}
			if (rc != 0)
				finish(f);      /* EOF (the end of a drained flow) or an error */
		}
		if (t->cfg.mode == ND_BM_BSP)
			bsp_drive(w, nd_now_ns(), LOAD(t->phase) == PH_RUN);
	}
	/* Drain time over (or all done): whatever is left is abandoned. */
	for (uint32_t i = 0; i < w->nflows; i++)
		if (!w->flows[i]->finished) {
			if (t->cfg.mode == ND_BM_CRR)
				crr_close(w->flows[i]);
			finish(w->flows[i]);
		}
	return NULL;
}

/* ---- set-up, sampling, results ---------------------------------------------- */

static int resolve(struct ctest *t, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	char port[8];
	int rc;

	snprintf(port, sizeof(port), "%u", t->o->port);
	rc = getaddrinfo(t->o->host, port, &hints, &ai);
	if (rc) {
		snprintf(err, errlen, "cannot resolve '%s': %s", t->o->host, gai_strerror(rc));
		return -1;
	}
	memcpy(&t->sa, ai->ai_addr, ai->ai_addrlen);
	t->salen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* A blocking connect with a time-out; optionally from local port @lport. */
static int dial(struct ctest *t, uint16_t lport, char *err, size_t errlen)
{
	int fd = socket(t->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), e = 0;
	struct pollfd p;
	socklen_t l = sizeof(e);
	char host[64];

	if (fd < 0) {
		snprintf(err, errlen, "socket: %s%s", strerror(errno),
			 errno == EMFILE ? " (raise the open-file limit: ulimit -n)" : "");
		return -1;
	}
	if (lport) {
		struct sockaddr_storage la;
		int one = 1;

		memset(&la, 0, sizeof(la));
		la.ss_family = t->sa.ss_family;
		if (la.ss_family == AF_INET)
			((struct sockaddr_in *)&la)->sin_port = htons(lport);
		else
			((struct sockaddr_in6 *)&la)->sin6_port = htons(lport);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&la, t->sa.ss_family == AF_INET ?
			 sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)) < 0) {
			snprintf(err, errlen, "cannot bind local port %u: %s", lport, strerror(errno));
			close(fd);
			return -1;
		}
	}
	if (connect(fd, (struct sockaddr *)&t->sa, t->salen) < 0 && errno != EINPROGRESS)
		goto fail;
	p.fd = fd;
	p.events = POLLOUT;
	if (poll(&p, 1, 10000) <= 0) {
		errno = ETIMEDOUT;
		goto fail;
	}
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l);
	if (e) {
		errno = e;
		goto fail;
	}
	return fd;
fail:
	getnameinfo((struct sockaddr *)&t->sa, t->salen, host, sizeof(host), NULL, 0, NI_NUMERICHOST);
	snprintf(err, errlen, "cannot connect to %s port %u: %s%s", host, t->o->port, strerror(errno),
		 errno == ECONNREFUSED ? " (is 'netdx bench server' running there?)" : "");
	close(fd);
	return -1;
}

static void hello_bytes(uint32_t id, char out[8])
{
	uint32_t m = ND_BENCH_MAGIC;

	for (int i = 0; i < 4; i++) {
		out[i] = (char)(m >> (24 - 8 * i));
		out[4 + i] = (char)(id >> (24 - 8 * i));
	}
}

static void endpoint(int fd, bool local, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	char h[64], s[8];

	buf[0] = '\0';
	if ((local ? getsockname(fd, (struct sockaddr *)&ss, &l) : getpeername(fd, (struct sockaddr *)&ss, &l)) < 0)
		return;
	if (getnameinfo((struct sockaddr *)&ss, l, h, sizeof(h), s, sizeof(s), NI_NUMERICHOST | NI_NUMERICSERV))
		return;
	snprintf(buf, len, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", h, s);
}

/* Open the data connection of flow @f (rr, stream, bsp). */
static int open_flow(struct ctest *t, struct cflow *f, char *err, size_t errlen)
{
	char hello[8];
	bool sender = t->cfg.mode == ND_BM_STREAM && !t->cfg.down;
	int rc;

	f->fd = dial(t, t->o->local_port_base ? (uint16_t)(t->o->local_port_base + f->id) : 0, err, errlen);
	if (f->fd < 0)
		return -1;
	rc = nd_sock_tune(f->fd, &t->cfg, f->id, sender, f->cc);
	if (rc < 0) {
		snprintf(err, errlen, "flow %u: cannot set %s: %s", f->id,
			 rc == -ENOENT ? "congestion control (not available: see "
					 "/proc/sys/net/ipv4/tcp_available_congestion_control)"
				       : "socket options", strerror(-rc));
		return -1;
	}
	hello_bytes(f->id, hello);
	if (send(f->fd, hello, 8, MSG_NOSIGNAL) != 8) {
		snprintf(err, errlen, "flow %u: hello: %s", f->id, strerror(errno));
		return -1;
	}
	endpoint(f->fd, true, f->local, sizeof(f->local));
	endpoint(f->fd, false, f->remote, sizeof(f->remote));
	f->c.connects = 1;
	return 0;
}

static void sample_all(struct ctest *t, uint64_t now)
{
	for (uint32_t i = 0; i < t->nflows; i++) {
		struct cflow *f = &t->flows[i];
		struct nd_bench_sample *s;

		if (f->nsamples >= f->samples_cap)
			continue;
		s = &f->samples[f->nsamples++];
		s->t_ns = now - t->start_mono;
		s->c.tx_bytes = LOAD(f->c.tx_bytes);
		s->c.rx_bytes = LOAD(f->c.rx_bytes);
		s->c.transactions = LOAD(f->c.transactions);
		s->c.connects = LOAD(f->c.connects);
		s->c.connect_failures = LOAD(f->c.connect_failures);
		s->c.resets = LOAD(f->c.resets);
		s->c.timeouts = LOAD(f->c.timeouts);
		if (t->cfg.mode != ND_BM_CRR && !LOAD(f->finished) && f->fd >= 0)
			nd_tcpinfo_get(f->fd, &s->ti);
		else
			memset(&s->ti, 0, sizeof(s->ti));
	}
}

static void check_stalls(struct ctest *t, uint64_t now)
{
	for (uint32_t i = 0; i < t->nflows; i++) {
		struct cflow *f = &t->flows[i];
		uint64_t lp = LOAD(f->last_progress);

		if (!f->stalled && now > lp && now - lp > t->o->stall_ns) {
			f->stalled = true;
			f->stalled_at = now - t->start_mono;
		}
	}
}

static void progress_line(struct ctest *t, uint64_t now)
{
	uint64_t tr = 0, by = 0;
	uint32_t st = 0;
	double el = (double)(now - t->start_mono) / 1e9;

	for (uint32_t i = 0; i < t->nflows; i++) {
		tr += LOAD(t->flows[i].c.transactions);
		by += LOAD(t->flows[i].c.tx_bytes) + LOAD(t->flows[i].c.rx_bytes);
		st += t->flows[i].stalled;
	}
	fprintf(stderr, "\r[%5.1fs/%.0fs] %.0f tps, %.3f Gbit/s, %u stalled   ", el,
		(double)t->cfg.duration_ns / 1e9, el > 0 ? (double)tr / el : 0,
		el > 0 ? (double)by * 8 / el / 1e9 : 0, st);
}

static int read_results(struct ctest *t, int cfd, struct nd_linebuf *lb, struct nd_bench_result *res,
			char *err, size_t errlen)
{
	char line[1024];

	for (;;) {
		int n = nd_line_recv(cfd, lb, line, sizeof(line), 15000);
		uint32_t id;
		struct nd_bench_counters c;
		char cc[32];
		int off = 0;

		if (n <= 0) {
			snprintf(err, errlen, "the server did not send its results (connection %s)",
				 n == 0 ? "closed" : "timed out");
			return -1;
		}
		if (line[0] == 'S') {
			uint32_t k;
			uint64_t tx, rx, tr;
			int toff = 0;

			if (sscanf(line, "S %" SCNu32 " %" SCNu32 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %n", &id, &k,
				   &tx, &rx, &tr, &toff) >= 5 && id < t->nflows && k < t->flows[id].nsamples) {
				struct nd_bench_sample *s = &t->flows[id].samples[k];
				s->server_valid = true;
				s->s_tx_bytes = tx;
				s->s_rx_bytes = rx;
				s->s_transactions = tr;
				if (toff)
					nd_tcpinfo_parse(line + toff, &s->s_ti);
			}
			continue;
		}
		if (strncmp(line, "END", 3) == 0) {
			const char *b = strstr(line, "bad_hello="), *k = strstr(line, "backlog=");
			if (b)
				res->server_bad_hello = strtoull(b + 10, NULL, 10);
			if (k)
				res->backlog_effective = (uint32_t)strtoul(k + 8, NULL, 10);
			return 0;
		}
		if (sscanf(line, "F %" SCNu32 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
				 " %" SCNu64 " %" SCNu64 " %31s %n",
			   &id, &c.tx_bytes, &c.rx_bytes, &c.transactions, &c.connects,
			   &c.connect_failures, &c.resets, &c.timeouts, cc, &off) < 9 || id >= t->nflows) {
			snprintf(err, errlen, "bad result line from the server: '%.80s'", line);
			return -1;
		}
		res->flows[id].server = c;
		nd_tcpinfo_parse(line + off, &res->flows[id].server_ti);
		if (strcmp(cc, "-") != 0)
			snprintf(res->flows[id].cc, sizeof(res->flows[id].cc), "%.15s", cc);
	}
}

static void build_result(struct ctest *t, struct nd_bench_result *res)
{
	uint32_t nint = 0;

	for (uint32_t i = 0; i < t->nflows; i++) {
		struct cflow *f = &t->flows[i];
		struct nd_bench_flow_result *r = &res->flows[i];

		r->id = f->id;
		snprintf(r->local, sizeof(r->local), "%s", f->local);
		if (f->remote[0])
			snprintf(r->remote, sizeof(r->remote), "%s", f->remote);
		else    /* crr: the server's address */
			getnameinfo((struct sockaddr *)&t->sa, t->salen, r->remote, sizeof(r->remote), NULL,
				    0, NI_NUMERICHOST);
		if (!r->cc[0])
			snprintf(r->cc, sizeof(r->cc), "%s", f->cc);
		r->client = f->c;
		r->client_ti = f->ti_end;
		r->stalled = f->stalled;
		r->stalled_at_ns = f->stalled_at;
		r->lat_count = f->lat_count;
		r->lat_min_ns = f->lat_min;
		r->lat_max_ns = f->lat_max;
		r->lat_sum_ns = f->lat_sum;
		r->samples = f->samples;
		r->nsamples = f->nsamples;
		f->samples = NULL;
		if (r->nsamples > nint)
			nint = r->nsamples;
	}
	for (uint32_t i = 0; i < t->nw; i++) {
		nd_hist_merge(&res->lat, &t->w[i].lat);
		nd_hist_merge(&res->lat_uncorrected, &t->w[i].lat_unc);
		res->late_sends += t->w[i].late;
	}
	/* Aggregate intervals over flows that were not stalled at the time. */
	res->intervals = calloc(nint ? nint : 1, sizeof(*res->intervals));
	if (res->intervals) {
		res->nintervals = nint;
		for (uint32_t k = 0; k < nint; k++) {
			struct nd_bench_interval *iv = &res->intervals[k];
			uint64_t prev_t = 0;

			for (uint32_t i = 0; i < res->nflows; i++) {
				struct nd_bench_flow_result *r = &res->flows[i];
				const struct nd_bench_sample *s, *p;
				uint64_t b, pb;

				if (k >= r->nsamples)
					continue;
				s = &r->samples[k];
				p = k ? &r->samples[k - 1] : NULL;
				iv->t_ns = s->t_ns;
				prev_t = p ? p->t_ns : 0;
				if (r->stalled && r->stalled_at_ns <= s->t_ns) {
					iv->stalled++;
					continue;
				}
				b = t->cfg.mode == ND_BM_STREAM ? (t->cfg.down ? s->c.rx_bytes : s->c.tx_bytes)
								: s->c.tx_bytes + s->c.rx_bytes;
				pb = !p ? 0 : t->cfg.mode == ND_BM_STREAM ? (t->cfg.down ? p->c.rx_bytes : p->c.tx_bytes)
									 : p->c.tx_bytes + p->c.rx_bytes;
				iv->bytes += b - pb;
				iv->transactions += s->c.transactions - (p ? p->c.transactions : 0);
			}
			iv->len_ns = iv->t_ns - prev_t;
		}
	}
	if (t->cfg.mode == ND_BM_BSP) {
		uint64_t minsteps = UINT64_MAX;
		for (uint32_t r = 0; r < t->topo.ranks; r++) {
			struct nd_bsp_rank *rk = &t->ranks[r];
			if (!nd_bsp_on_client(&t->topo, r))
				continue;
			nd_hist_merge(&res->bsp_step, &rk->step_ns);
			res->bsp_compute_s += (double)rk->compute_total_ns / 1e9;
			res->bsp_total_s += (double)rk->step_total_ns / 1e9;
			if (rk->step < minsteps)
				minsteps = rk->step;
		}
		if (minsteps == UINT64_MAX)
			minsteps = 0;
		res->bsp_steps = minsteps;
		for (uint64_t s = 0; s < minsteps; s++) {
			uint32_t worst = 0;
			for (uint32_t r = 0; r < t->topo.ranks; r++)
				if (nd_bsp_on_client(&t->topo, r) && s < t->ranks[r].exch_cap &&
				    t->ranks[r].exch_us[s] > worst)
					worst = t->ranks[r].exch_us[s];
			if (s < t->ranks[0].exch_cap)
				nd_hist_record(&res->bsp_slowest, (uint64_t)worst * 1000u);
		}
	}
}

static int setup_flows(struct ctest *t, char *err, size_t errlen)
{
	uint32_t nsamp = t->cfg.interval_ns ? (uint32_t)(t->cfg.duration_ns / t->cfg.interval_ns) + 3 : 0;
	bool ring = t->cfg.mode == ND_BM_RR || (t->cfg.mode == ND_BM_CRR && t->cfg.rate > 0);

	t->nflows = t->cfg.flows;
	if (t->cfg.mode == ND_BM_BSP) {
		if (nd_bsp_topo_make(t->cfg.flows, t->cfg.grid, &t->topo) < 0) {
			snprintf(err, errlen, "bsp needs an even number of ranks >= 2%s (got %u)",
				 t->cfg.grid ? " that factors into a grid of at least 2x2" : "", t->cfg.flows);
			return -1;
		}
		t->nflows = t->topo.nedges;
		t->ranks = calloc(t->topo.ranks, sizeof(*t->ranks));
		t->edges = calloc(t->topo.nedges, sizeof(*t->edges));
		if (!t->ranks || !t->edges)
			goto nomem;
		for (uint32_t r = 0; r < t->topo.ranks; r++)
			nd_bsp_rank_init(&t->ranks[r], r,
					 (uint32_t)(t->cfg.duration_ns / (t->cfg.compute_ns ? t->cfg.compute_ns : 100000)) + 16);
	}
	if ((uint64_t)t->nflows * nsamp > 4000000)
		nsamp = 0;      /* too many: no per-flow samples (said in the report) */
	t->flows = calloc(t->nflows, sizeof(*t->flows));
	if (!t->flows)
		goto nomem;
	for (uint32_t i = 0; i < t->nflows; i++) {
		struct cflow *f = &t->flows[i];

		f->id = i;
		f->fd = -1;
		if (ring) {
			f->ring_cap = t->cfg.inflight + QCAP;
			f->sched = calloc(f->ring_cap, sizeof(*f->sched));
			f->sent = calloc(f->ring_cap, sizeof(*f->sent));
			if (!f->sched || !f->sent)
				goto nomem;
		}
		if (nsamp) {
			f->samples = calloc(nsamp, sizeof(*f->samples));
			if (!f->samples)
				goto nomem;
			f->samples_cap = nsamp;
		}
		if (t->cfg.mode == ND_BM_BSP) {
			uint32_t r = t->topo.edges[i][0];
			if (!nd_bsp_on_client(&t->topo, r))
				r = t->topo.edges[i][1];
			t->edges[i].id = i;
			t->edges[i].fd = -1;
			t->edges[i].rank = &t->ranks[r];
			t->ranks[r].edge[t->ranks[r].nedge++] = &t->edges[i];
			f->edge = &t->edges[i];
		}
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory for %u flows", t->nflows);
	return -1;
}

static int setup_workers(struct ctest *t, char *err, size_t errlen)
{
	t->nw = t->o->threads ? t->o->threads : 1;
	if (t->nw > t->nflows)
		t->nw = t->nflows;
	t->w = calloc(t->nw, sizeof(*t->w));
	if (!t->w)
		goto nomem;
	for (uint32_t i = 0; i < t->nw; i++) {
		struct cworker *w = &t->w[i];
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

		w->t = t;
		w->ep = epoll_create1(EPOLL_CLOEXEC);
		w->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		w->buf = calloc(1, BUFSZ);
		w->flows = calloc(t->nflows, sizeof(*w->flows));
		w->heap = calloc(t->nflows, sizeof(*w->heap));
		w->ranks = calloc(t->cfg.mode == ND_BM_BSP ? t->topo.ranks : 1, sizeof(*w->ranks));
		if (w->ep < 0 || w->evfd < 0 || !w->buf || !w->flows || !w->heap || !w->ranks)
			goto nomem;
		nd_hist_init(&w->lat);
		nd_hist_init(&w->lat_unc);
		epoll_ctl(w->ep, EPOLL_CTL_ADD, w->evfd, &ev);
	}
	/* Flows round robin; in bsp a rank's edges stay with the rank's worker. */
	for (uint32_t i = 0; i < t->nflows; i++) {
		struct cflow *f = &t->flows[i];
		struct cworker *w = &t->w[t->cfg.mode == ND_BM_BSP ? f->edge->rank->id % t->nw : i % t->nw];

		f->w = w;
		w->flows[w->nflows++] = f;
		w->heap[w->nheap++] = f;
		w->unfinished++;
		if (f->fd >= 0) {
			struct epoll_event ev = { .events = EPOLLIN, .data.ptr = f };
			epoll_ctl(w->ep, EPOLL_CTL_ADD, f->fd, &ev);
		}
	}
	if (t->cfg.mode == ND_BM_BSP)
		for (uint32_t r = 0; r < t->topo.ranks; r++)
			if (nd_bsp_on_client(&t->topo, r)) {
				struct cworker *w = &t->w[r % t->nw];
				w->ranks[w->nranks++] = &t->ranks[r];
			}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

static void wake_all(struct ctest *t)
{
	uint64_t one = 1;

	for (uint32_t i = 0; i < t->nw; i++)
		if (write(t->w[i].evfd, &one, sizeof(one)) < 0) {
			/* the worker wakes within 50 ms anyway */
		}
}

static void test_free(struct ctest *t)
{
	for (uint32_t i = 0; t->flows && i < t->nflows; i++) {
		struct cflow *f = &t->flows[i];
		if (f->fd >= 0)
			close(f->fd);
		free(f->sched);
		free(f->sent);
		free(f->samples);
	}
	for (uint32_t i = 0; t->w && i < t->nw; i++) {
		if (t->w[i].ep >= 0)
			close(t->w[i].ep);
		if (t->w[i].evfd >= 0)
			close(t->w[i].evfd);
		free(t->w[i].buf);
		free(t->w[i].flows);
		free(t->w[i].heap);
		free(t->w[i].ranks);
	}
	if (t->ranks)
		for (uint32_t r = 0; r < t->topo.ranks; r++)
			nd_bsp_rank_free(&t->ranks[r]);
	free(t->ranks);
	free(t->edges);
	nd_bsp_topo_free(&t->topo);
	free(t->w);
	free(t->flows);
}

void nd_bench_result_free(struct nd_bench_result *res)
{
	for (uint32_t i = 0; res->flows && i < res->nflows; i++)
		free(res->flows[i].samples);
	free(res->flows);
	free(res->intervals);
	res->flows = NULL;
	res->intervals = NULL;
}

int nd_bench_client_run(const struct nd_bench_cfg *cfg, const struct nd_bench_client_opts *o,
			struct nd_bench_result *res, char *err, size_t errlen)
{
	struct ctest t;
	struct nd_linebuf *lb = calloc(1, sizeof(*lb));
	char line[2048], desc[1024];
	int cfd = -1, rc = -1;
	uint32_t started = 0;
	uint64_t at, next_sample, next_progress, end;

	memset(&t, 0, sizeof(t));
	memset(res, 0, sizeof(*res));
	t.cfg = *cfg;
	t.o = o;
	if (t.cfg.rate > 0)
		t.period_ns = (uint64_t)(1e9 / t.cfg.rate);
	if (!lb || resolve(&t, err, errlen) < 0)
		goto out;
	cfd = dial(&t, 0, err, errlen);
	if (cfd < 0)
		goto out;
	nd_bench_cfg_format(&t.cfg, desc, sizeof(desc));
	if (nd_line_send(cfd, "HELLO ctl %d %s", ND_BENCH_PROTO, desc) < 0 ||
	    nd_line_recv(cfd, lb, line, sizeof(line), 10000) <= 0) {
		snprintf(err, errlen, "the server did not answer the test description");
		goto out;
	}
	if (strncmp(line, "OK", 2) != 0) {
		snprintf(err, errlen, "the server refused the test: %s", strncmp(line, "ERR ", 4) ? line : line + 4);
		goto out;
	}
	if (setup_flows(&t, err, errlen) < 0)
		goto out;
	if (t.cfg.mode != ND_BM_CRR)
		for (uint32_t i = 0; i < t.nflows; i++)
			if (open_flow(&t, &t.flows[i], err, errlen) < 0)
				goto out;
	for (uint32_t i = 0; i < t.nflows; i++)
		if (t.flows[i].edge)
			t.flows[i].edge->fd = t.flows[i].fd;
	if (setup_workers(&t, err, errlen) < 0)
		goto out;
	for (; started < t.nw; started++)
		if (pthread_create(&t.w[started].th, NULL, worker_main, &t.w[started]) != 0) {
			snprintf(err, errlen, "cannot start worker threads");
			goto out;
		}

	/* Start every flow at one instant, here and on the server. */
	at = o->start_at > 0 ? (uint64_t)(o->start_at * 1e9) : nd_wall_ns() + 100000000u;
	if (nd_line_send(cfd, "START %" PRIu64, at) < 0) {
		snprintf(err, errlen, "control connection lost");
		goto out;
	}
	{
		struct timespec ts = { (time_t)(at / 1000000000u), (long)(at % 1000000000u) };
		while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
	}
	res->start_wall_ns = nd_wall_ns();
	t.start_mono = nd_now_ns();
	for (uint32_t i = 0; i < t.nflows; i++)
		STORE(t.flows[i].last_progress, t.start_mono);   /* the stall clock starts now */
	STORE(t.phase, PH_RUN);
	wake_all(&t);

	end = t.start_mono + t.cfg.duration_ns;
	next_sample = t.cfg.interval_ns ? t.start_mono + t.cfg.interval_ns : UINT64_MAX;
	next_progress = t.start_mono + 1000000000u;
	for (;;) {
		uint64_t now = nd_now_ns(), until = end;

		if (next_sample < until)
			until = next_sample;
		if (until > now + 100000000u)
			until = now + 100000000u;       /* stall checks every 100 ms */
		if (until > now) {
			struct timespec ts = { 0, (long)(until - now) };
			nanosleep(&ts, NULL);
		}
		now = nd_now_ns();
		check_stalls(&t, now);
		if (now >= next_sample && now < end) {
			sample_all(&t, now);
			next_sample += t.cfg.interval_ns;
		}
		if (o->progress && now >= next_progress) {
			progress_line(&t, now);
			next_progress += 1000000000u;
		}
		if (now >= end)
			break;
	}
	t.stop_mono = nd_now_ns();
	STORE(t.phase, PH_STOP);
	wake_all(&t);
	if (o->progress)
		fputc('\n', stderr);
	if (t.cfg.interval_ns)
		sample_all(&t, t.stop_mono);            /* the last, partial interval */
	res->elapsed_ns = t.stop_mono - t.start_mono;
	if (nd_line_send(cfd, "STOP") < 0 || nd_line_recv(cfd, lb, line, sizeof(line), 10000) <= 0) {
		snprintf(err, errlen, "control connection lost at the end of the test");
		goto out;
	}
	/* Let what is in flight finish. */
	{
		uint64_t until = nd_now_ns() + DRAIN_NS;
		uint64_t grace = nd_now_ns() + 1000000000u;

		for (;;) {
			uint32_t left = 0, stalled_left = 0;
			uint64_t now;

			for (uint32_t i = 0; i < t.nw; i++)
				left += LOAD(t.w[i].unfinished);
			for (uint32_t i = 0; left && i < t.nflows; i++)
				stalled_left += t.flows[i].stalled && !LOAD(t.flows[i].finished);
			now = nd_now_ns();
			/* Stalled flows are not waited for past a second's grace. */
			if (!left || now >= until || (left == stalled_left && now >= grace)) {
				res->abandoned = left;
				break;
			}
			poll(NULL, 0, 5);
		}
	}
	STORE(t.phase, PH_QUIT);
	wake_all(&t);
	for (uint32_t i = 0; i < started; i++)
		pthread_join(t.w[i].th, NULL);
	started = 0;

	res->cfg = t.cfg;
	res->nflows = t.nflows;
	res->flows = calloc(t.nflows, sizeof(*res->flows));
	if (!res->flows) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	nd_hist_init(&res->lat);
	nd_hist_init(&res->lat_uncorrected);
	nd_hist_init(&res->bsp_step);
	nd_hist_init(&res->bsp_slowest);
	/* The server need not wait for the EOF of flows this side gave up on. */
	if (nd_line_send(cfd, "RESULTS %" PRIu64, res->abandoned) < 0 ||
	    read_results(&t, cfd, lb, res, err, errlen) < 0)
		goto out;
	build_result(&t, res);
	rc = 0;
out:
	if (started) {
		STORE(t.phase, PH_QUIT);
		wake_all(&t);
		for (uint32_t i = 0; i < started; i++)
			pthread_join(t.w[i].th, NULL);
	}
	if (rc < 0)
		nd_bench_result_free(res);
	if (cfd >= 0)
		close(cfd);
	test_free(&t);
	free(lb);
	return rc;
}
