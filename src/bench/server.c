/* SPDX-License-Identifier: MIT */
/*
 * bench server: accepts a control connection, runs the test it describes
 * on T epoll workers that share the listening socket (EPOLLEXCLUSIVE), and
 * reports per-flow counters and TCP_INFO back on the control connection.
 *
 * Per data connection: rr answers each request of cfg.req bytes with a
 * response of cfg.resp bytes; crr does the same once and closes; stream
 * reads (up) or writes until STOP (down); bsp runs the server's ranks.
 * Every connection ends when the client's EOF arrives: that is what makes
 * both sides' byte counts equal.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
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
#include <unistd.h>

#include "bench/bench.h"
#include "bench/bsp.h"

#define BUFSZ (256 * 1024)

enum { PH_WAIT = 0, PH_RUN, PH_STOP, PH_QUIT };

struct ssample {
	uint64_t tx, rx, tr;
	struct nd_tcpinfo ti;
};

struct sflow {
	struct nd_bench_counters c;     /* updated with relaxed atomics */
	struct ssample *samples;        /* per interval, cumulative */
	int fd;                         /* atomic: its open connection (rr, stream, bsp), or -1 */
	struct nd_tcpinfo ti;
	char cc[16];
	uint32_t closed;                /* connections of this flow that ended */
};

struct sconn {
	int fd;
	uint32_t flow;
	bool bound;                     /* hello read */
	uint8_t hello[8];
	uint32_t hello_got;
	uint64_t req_got;               /* bytes of the current request */
	uint64_t resp_owed;             /* whole responses owed */
	uint64_t resp_sent;             /* bytes of the current response sent */
	bool wr_shut;
	bool want_out;
	struct nd_bsp_edge *edge;       /* bsp */
	struct sconn *prev, *next;
};

struct stest;

struct sworker {
	pthread_t th;
	int ep, evfd;
	struct stest *t;
	struct sconn *conns;
	char *buf;
	struct nd_bsp_rank **ranks;     /* bsp ranks this worker drives */
	uint32_t nranks;
};

struct stest {
	struct nd_bench_cfg cfg;
	int lfd;
	struct sflow *flows;
	uint32_t nflows;                /* flows, or edges for bsp */
	struct sworker *w;
	uint32_t nw;
	int phase;                      /* PH_*, atomic */
	uint64_t start_mono;
	uint64_t bad_hello;             /* atomic */
	uint64_t open_conns;            /* atomic */
	/* bsp */
	struct nd_bsp_topo topo;
	struct nd_bsp_rank *ranks;      /* indexed by rank id (server's only used) */
	struct nd_bsp_edge *edges;
	uint32_t nsamples, samples_cap;
};

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)
#define ADD(x, v) __atomic_fetch_add(&(x), (v), __ATOMIC_RELAXED)

static void conn_link(struct sworker *w, struct sconn *c)
{
	c->next = w->conns;
	c->prev = NULL;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
}

static void conn_close(struct sworker *w, struct sconn *c)
{
	struct stest *t = w->t;

	if (c->bound) {
		struct sflow *f = &t->flows[c->flow];
		/* crr: the kernel's view of every 256th connection is enough
		 * (one more system call per transaction otherwise) */
		if (t->cfg.mode != ND_BM_CRR || (ADD(f->closed, 1) & 255) == 0 ||
		    LOAD(t->phase) != PH_RUN)
			nd_tcpinfo_get(c->fd, &f->ti);
	}
	if (c->edge)
		c->edge->fd = -1;
	if (c->bound) {
		int expect = c->fd;     /* a copy: a failed exchange writes into it */
		__atomic_compare_exchange_n(&t->flows[c->flow].fd, &expect, -1, false, __ATOMIC_ACQ_REL,
					    __ATOMIC_RELAXED);
	}
	/* Leave the epoll set explicitly: close() alone removes the socket
	 * only when its last reference goes, and the control thread may be
	 * inside getsockopt(TCP_INFO) on it at this moment — the registration
	 * would outlive the connection and report events for freed memory. */
	epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ADD(t->open_conns, (uint64_t)-1);
	free(c);
}

static void want_out(struct sworker *w, struct sconn *c, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c };

	if (c->want_out == on)
		return;
	c->want_out = on;
	epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* rr/crr: write what is owed. Returns -1 if the connection must close. */
static int rr_write(struct sworker *w, struct sconn *c)
{
	struct stest *t = w->t;
	struct sflow *f = &t->flows[c->flow];

	while (c->resp_owed) {
		uint64_t left = t->cfg.resp - c->resp_sent;
		ssize_t n = send(c->fd, w->buf, left > BUFSZ ? BUFSZ : (size_t)left,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			if (errno == ECONNRESET || errno == EPIPE)
				ADD(f->c.resets, 1);
			return -1;
		}
		ADD(f->c.tx_bytes, (uint64_t)n);
		c->resp_sent += (uint64_t)n;
		if (c->resp_sent == t->cfg.resp) {
			c->resp_sent = 0;
			c->resp_owed--;
			ADD(f->c.transactions, 1);
			if (t->cfg.mode == ND_BM_CRR)
				return -1;      /* one transaction per connection: close */
		}
	}
	want_out(w, c, c->resp_owed > 0);
	return 0;
}

static int stream_write(struct sworker *w, struct sconn *c)
{
	struct stest *t = w->t;
	struct sflow *f = &t->flows[c->flow];
	uint32_t ws = t->cfg.write_size ? t->cfg.write_size : 128 * 1024;

	if (ws > BUFSZ)
		ws = BUFSZ;
	if (LOAD(t->phase) == PH_WAIT)
		return 0;
	/* A bounded burst per wake-up, so flows share the worker fairly. */
	for (int burst = 0; burst < 2 && LOAD(t->phase) == PH_RUN; burst++) {
		ssize_t n = send(c->fd, w->buf, ws, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			ADD(f->c.resets, 1);
			return -1;
		}
		ADD(f->c.tx_bytes, (uint64_t)n);
	}
	if (LOAD(t->phase) == PH_RUN) {
		want_out(w, c, true);
		return 0;
	}
	if (!c->wr_shut) {
		shutdown(c->fd, SHUT_WR);
		c->wr_shut = true;
	}
	want_out(w, c, false);
	return 0;
}

static void bind_conn(struct sworker *w, struct sconn *c)
{
	struct stest *t = w->t;
	uint32_t magic = (uint32_t)c->hello[0] << 24 | (uint32_t)c->hello[1] << 16 |
			 (uint32_t)c->hello[2] << 8 | c->hello[3];
	uint32_t id = (uint32_t)c->hello[4] << 24 | (uint32_t)c->hello[5] << 16 |
		      (uint32_t)c->hello[6] << 8 | c->hello[7];

	if (magic != ND_BENCH_MAGIC || id >= t->nflows) {
		ADD(t->bad_hello, 1);
		return;
	}
	c->flow = id;
	c->bound = true;
	if (t->cfg.mode != ND_BM_CRR)
		STORE(t->flows[id].fd, c->fd);
	if (t->cfg.mode == ND_BM_CRR)
		ADD(t->flows[id].c.connects, 1);
	else
		t->flows[id].c.connects = 1;
	if (t->cfg.mode == ND_BM_STREAM && t->cfg.down)
		nd_sock_tune(c->fd, &t->cfg, id, true, t->flows[id].cc);
	if (t->cfg.mode == ND_BM_BSP) {
		c->edge = &t->edges[id];
		c->edge->fd = c->fd;
	}
}

/* Read what is there; returns -1 when the connection is to be closed. */
static int on_read(struct sworker *w, struct sconn *c)
{
	struct stest *t = w->t;

	for (int burst = 0; burst < 4; burst++) {
		uint32_t skip;
		ssize_t n = recv(c->fd, w->buf, BUFSZ, MSG_DONTWAIT);

		if (n > 0 && !c->bound) {
			/* the hello, and whatever followed it in the same read */
			skip = 8 - c->hello_got < (uint32_t)n ? 8 - c->hello_got : (uint32_t)n;
			memcpy(c->hello + c->hello_got, w->buf, skip);
			c->hello_got += skip;
			if (c->hello_got == 8) {
				bind_conn(w, c);
				if (!c->bound)
					return -1;
				if (t->cfg.mode == ND_BM_STREAM && t->cfg.down && stream_write(w, c) < 0)
					return -1;
			}
			if ((uint32_t)n == skip)
				continue;
			n -= skip;
		}
		if (n > 0) {
			struct sflow *f = &t->flows[c->flow];

			ADD(f->c.rx_bytes, (uint64_t)n);
			switch (t->cfg.mode) {
			case ND_BM_RR:
			case ND_BM_CRR:
				c->req_got += (uint64_t)n;
				c->resp_owed += c->req_got / t->cfg.req;
				c->req_got %= t->cfg.req;
				if (c->resp_owed && rr_write(w, c) < 0)
					return -1;
				break;
			case ND_BM_BSP:
				c->edge->rx_total += (uint64_t)n;
				break;
			case ND_BM_STREAM:
				break;
			}
			if ((size_t)n < BUFSZ && t->cfg.mode != ND_BM_BSP)
				return 0;
			continue;
		}
		if (n == 0)
			return -1;      /* the client's EOF: this connection is done */
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		if (errno == EINTR)
			continue;
		if (c->bound && errno == ECONNRESET)
			ADD(t->flows[c->flow].c.resets, 1);
		return -1;
	}
	return 0;       /* more to read: level-triggered epoll brings it back */
}

static int on_read(struct sworker *w, struct sconn *c);

static void accept_all(struct sworker *w)
{
	struct stest *t = w->t;

	for (;;) {
		int fd = accept4(t->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct sconn *c;
		struct epoll_event ev;

		if (fd < 0)
			return;
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		if (t->cfg.mode != ND_BM_CRR || t->cfg.sndbuf || t->cfg.rcvbuf)
			nd_sock_tune(fd, &t->cfg, 0, false, NULL);
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
			continue;
		}
		conn_link(w, c);
		ADD(t->open_conns, 1);
		/* crr: the request often arrives with the handshake's end */
		if (t->cfg.mode == ND_BM_CRR && on_read(w, c) < 0)
			conn_close(w, c);
	}
}

static void bsp_drive(struct sworker *w, uint64_t now, bool stopping)
{
	struct stest *t = w->t;

	for (uint32_t i = 0; i < w->nranks; i++) {
		struct nd_bsp_rank *r = w->ranks[i];
		bool ready = true;

		for (uint32_t e = 0; e < r->nedge; e++)
			ready &= r->edge[e]->fd >= 0;
		if (!ready || stopping)
			continue;
		if (r->step == 0 && !r->exchanging && r->compute_end == 0)
			nd_bsp_begin_compute(r, now, t->cfg.compute_ns);
		nd_bsp_compute_done(r, now, t->cfg.msg);
		for (uint32_t e = 0; e < r->nedge; e++) {
			struct nd_bsp_edge *ed = r->edge[e];
			if (ed->tx_total < ed->tx_goal) {
				long s = nd_bsp_edge_send(ed, w->buf, t->cfg.msg);
				if (s > 0)
					ADD(t->flows[ed->id].c.tx_bytes, (uint64_t)s);
			}
		}
		while (nd_bsp_step_check(r, now, t->cfg.msg, t->cfg.compute_ns, false))
			;
	}
}

static void *worker_main(void *arg)
{
	struct sworker *w = arg;
	struct stest *t = w->t;
	struct epoll_event evs[256];
	bool stop_seen = false;

	for (;;) {
		int ph = LOAD(t->phase), n, timeout = 100;
		uint64_t now = nd_now_ns();

		if (ph == PH_QUIT)
			break;
		if (ph == PH_RUN && t->cfg.mode == ND_BM_BSP) {
			bsp_drive(w, now, false);
			for (uint32_t i = 0; i < w->nranks; i++) {
				struct nd_bsp_rank *r = w->ranks[i];
				if (!r->exchanging && r->compute_end > now) {
					int ms = (int)((r->compute_end - now) / 1000000u);
					if (ms < timeout)
						timeout = ms;
				}
			}
		}
		if (ph == PH_STOP && !stop_seen) {
			stop_seen = true;
			/* stream down and bsp: stop sending, tell the client with a FIN */
			for (struct sconn *c = w->conns; c; c = c->next)
				if (c->bound && !c->wr_shut &&
				    ((t->cfg.mode == ND_BM_STREAM && t->cfg.down) || t->cfg.mode == ND_BM_BSP)) {
					shutdown(c->fd, SHUT_WR);
					c->wr_shut = true;
					want_out(w, c, false);
				}
		}
		if (ph == PH_RUN && t->cfg.mode == ND_BM_STREAM && t->cfg.down) {
			/* streams start when the test starts */
			for (struct sconn *c = w->conns; c; c = c->next)
				if (c->bound && !c->want_out && !c->wr_shut)
					want_out(w, c, true);
		}
		if (t->cfg.mode == ND_BM_BSP && ph == PH_RUN) {
			uint64_t soon = UINT64_MAX;
			for (uint32_t i = 0; i < w->nranks; i++)
				if (!w->ranks[i]->exchanging && w->ranks[i]->compute_end < soon)
					soon = w->ranks[i]->compute_end;
			if (soon != UINT64_MAX)
				timeout = soon <= now ? 0 : (int)((soon - now + 999999) / 1000000u);
		}
		n = epoll_wait(w->ep, evs, 256, timeout);
		for (int i = 0; i < n; i++) {
			struct sconn *c = evs[i].data.ptr;

			if (!c) {
				accept_all(w);
				continue;
			}
			if (c == (void *)w) {
				uint64_t v;
				if (read(w->evfd, &v, sizeof(v)) < 0) {
					/* nothing to do: the phase is re-read above */
				}
				continue;
			}
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
				if (on_read(w, c) < 0) {
					conn_close(w, c);
					continue;
				}
			}
			if (evs[i].events & EPOLLOUT) {
				int rc = 0;
				if (t->cfg.mode == ND_BM_STREAM)
					rc = stream_write(w, c);
				else if (t->cfg.mode == ND_BM_BSP)
					want_out(w, c, false);  /* bsp_drive sends */
				else
					rc = rr_write(w, c);
				if (rc < 0)
					conn_close(w, c);
			}
		}
		if (t->cfg.mode == ND_BM_BSP && LOAD(t->phase) == PH_RUN)
			bsp_drive(w, nd_now_ns(), false);
	}
	while (w->conns)
		conn_close(w, w->conns);
	return NULL;
}

static void wake_all(struct stest *t)
{
	uint64_t one = 1;

	for (uint32_t i = 0; i < t->nw; i++)
		if (write(t->w[i].evfd, &one, sizeof(one)) < 0) {
			/* the worker wakes within 100 ms anyway */
		}
}

static int listen_on(const struct nd_bench_server_opts *o, int backlog, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	char port[8];
	int fd = -1, one = 1, rc;

	snprintf(port, sizeof(port), "%u", o->port);
	rc = getaddrinfo(o->bind, port, &hints, &ai);
	if (rc) {
		snprintf(err, errlen, "cannot resolve '%s': %s", o->bind ? o->bind : "*", gai_strerror(rc));
		return -1;
	}
	for (struct addrinfo *a = ai; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, backlog) == 0)
			break;
		snprintf(err, errlen, "cannot listen on port %u: %s", o->port, strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

static int read_int_file(const char *path)
{
	FILE *f = fopen(path, "r");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static void test_free(struct stest *t)
{
	if (t->w) {
		for (uint32_t i = 0; i < t->nw; i++) {
			if (t->w[i].ep >= 0)
				close(t->w[i].ep);
			if (t->w[i].evfd >= 0)
				close(t->w[i].evfd);
			free(t->w[i].buf);
			free(t->w[i].ranks);
		}
	}
	if (t->ranks)
		for (uint32_t r = 0; r < t->topo.ranks; r++)
			nd_bsp_rank_free(&t->ranks[r]);
	free(t->ranks);
	free(t->edges);
	nd_bsp_topo_free(&t->topo);
	free(t->w);
	for (uint32_t i = 0; t->flows && i < t->nflows; i++)
		free(t->flows[i].samples);
	free(t->flows);
}

/* Set up the test's flows, bsp ranks and workers (not started). */
static int test_setup(struct stest *t, uint32_t threads, char *why, size_t whylen)
{
	t->nflows = t->cfg.flows;
	if (t->cfg.mode == ND_BM_BSP) {
		if (nd_bsp_topo_make(t->cfg.flows, t->cfg.grid, &t->topo) < 0) {
			snprintf(why, whylen, "bad rank count %u for a %s", t->cfg.flows,
				 t->cfg.grid ? "grid" : "ring");
			return -1;
		}
		t->nflows = t->topo.nedges;
		t->ranks = calloc(t->topo.ranks, sizeof(*t->ranks));
		t->edges = calloc(t->topo.nedges, sizeof(*t->edges));
		if (!t->ranks || !t->edges)
			goto nomem;
		for (uint32_t r = 0; r < t->topo.ranks; r++)
			nd_bsp_rank_init(&t->ranks[r], r, 0);
		for (uint32_t e = 0; e < t->topo.nedges; e++) {
			uint32_t r = t->topo.edges[e][0];
			if (nd_bsp_on_client(&t->topo, r))
				r = t->topo.edges[e][1];
			t->edges[e].fd = -1;
			t->edges[e].id = e;
			t->edges[e].rank = &t->ranks[r];
			t->ranks[r].edge[t->ranks[r].nedge++] = &t->edges[e];
		}
	}
	t->flows = calloc(t->nflows, sizeof(*t->flows));
	for (uint32_t i = 0; t->flows && i < t->nflows; i++)
		t->flows[i].fd = -1;
	if (t->flows && t->cfg.interval_ns) {
		uint64_t n = t->cfg.duration_ns / t->cfg.interval_ns + 3;
		if (n * t->nflows <= 4000000) {
			t->samples_cap = (uint32_t)n;
			for (uint32_t i = 0; i < t->nflows; i++)
				if (!(t->flows[i].samples = calloc(n, sizeof(struct ssample))))
					goto nomem;
		}
	}
	/* bsp: one worker drives every server rank and owns every edge, since
	 * a rank must see its edges' bytes as they arrive (edges are accepted
	 * by whichever worker wins the listening socket). */
	t->nw = t->cfg.mode == ND_BM_BSP ? 1 : threads;
	t->w = calloc(t->nw, sizeof(*t->w));
	if (!t->flows || !t->w)
		goto nomem;
	for (uint32_t i = 0; i < t->nw; i++) {
		struct sworker *w = &t->w[i];
		struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = NULL };

		w->t = t;
		w->ep = epoll_create1(EPOLL_CLOEXEC);
		w->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		w->buf = calloc(1, BUFSZ);
		if (w->ep < 0 || w->evfd < 0 || !w->buf)
			goto nomem;
		epoll_ctl(w->ep, EPOLL_CTL_ADD, t->lfd, &ev);
		ev.events = EPOLLIN;
		ev.data.ptr = w;
		epoll_ctl(w->ep, EPOLL_CTL_ADD, w->evfd, &ev);
	}
	if (t->cfg.mode == ND_BM_BSP) {
		/* server ranks, round robin over the workers */
		uint32_t k = 0;
		for (uint32_t i = 0; i < t->nw; i++)
			t->w[i].ranks = calloc(t->topo.ranks, sizeof(*t->w[i].ranks));
		for (uint32_t r = 0; r < t->topo.ranks; r++) {
			struct sworker *w;
			if (nd_bsp_on_client(&t->topo, r))
				continue;
			w = &t->w[k++ % t->nw];
			if (!w->ranks)
				goto nomem;
			w->ranks[w->nranks++] = &t->ranks[r];
		}
	}
	return 0;
nomem:
	snprintf(why, whylen, "out of memory");
	return -1;
}

static void sample_all(struct stest *t)
{
	if (t->nsamples >= t->samples_cap)
		return;
	for (uint32_t i = 0; i < t->nflows; i++) {
		struct ssample *s = &t->flows[i].samples[t->nsamples];
		s->tx = LOAD(t->flows[i].c.tx_bytes);
		s->rx = LOAD(t->flows[i].c.rx_bytes);
		s->tr = LOAD(t->flows[i].c.transactions);
		/* The connection may close meanwhile; then the call fails and
		 * the sample has no TCP_INFO. */
		{
			int fd = LOAD(t->flows[i].fd);
			if (fd >= 0)
				nd_tcpinfo_get(fd, &s->ti);
		}
	}
	t->nsamples++;
}

/* Send the per-flow results; the client reads them until END. */
static int send_results(int cfd, struct stest *t)
{
	for (uint32_t i = 0; i < t->nflows; i++) {
		struct sflow *f = &t->flows[i];
		char ti[512];

		nd_tcpinfo_format(&f->ti, ti, sizeof(ti));
		if (nd_line_send(cfd, "F %" PRIu32 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
				      " %" PRIu64 " %" PRIu64 " %s %s",
				 i, LOAD(f->c.tx_bytes), LOAD(f->c.rx_bytes), LOAD(f->c.transactions),
				 LOAD(f->c.connects), f->c.connect_failures, LOAD(f->c.resets), f->c.timeouts,
				 f->cc[0] ? f->cc : "-", ti) < 0)
			return -1;
		for (uint32_t k = 0; k < t->nsamples; k++) {
			nd_tcpinfo_format(&f->samples[k].ti, ti, sizeof(ti));
			if (nd_line_send(cfd, "S %" PRIu32 " %" PRIu32 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %s",
					 i, k, f->samples[k].tx, f->samples[k].rx, f->samples[k].tr, ti) < 0)
				return -1;
		}
	}
	return nd_line_send(cfd, "END bad_hello=%" PRIu64 " backlog=%d", LOAD(t->bad_hello),
			    t->cfg.backlog ? (int)t->cfg.backlog : read_int_file("/proc/sys/net/core/somaxconn"));
}

/* Run one test on control connection @cfd. */
static int serve_test(const struct nd_bench_server_opts *o, int cfd, struct nd_linebuf *lb,
		      const char *hello)
{
	struct stest t;
	char line[1024], why[256] = "";
	int rc = -1, backlog;
	uint32_t started = 0;

	memset(&t, 0, sizeof(t));
	t.lfd = -1;
	if (strncmp(hello, "HELLO ctl 1 ", 12) != 0) {
		nd_line_send(cfd, "ERR unsupported protocol (this server speaks netdx bench protocol %d)",
			     ND_BENCH_PROTO);
		return -1;
	}
	if (nd_bench_cfg_parse(hello + 12, &t.cfg, why, sizeof(why)) < 0) {
		nd_line_send(cfd, "ERR %s", why);
		return -1;
	}
	backlog = t.cfg.backlog ? (int)t.cfg.backlog : 4096;
	t.lfd = listen_on(o, backlog, why, sizeof(why));
	if (t.lfd < 0) {
		nd_line_send(cfd, "ERR %s", why);
		return -1;
	}
	if (test_setup(&t, o->threads, why, sizeof(why)) < 0) {
		nd_line_send(cfd, "ERR %s", why);
		goto out;
	}
	for (; started < t.nw; started++)
		if (pthread_create(&t.w[started].th, NULL, worker_main, &t.w[started]) != 0) {
			nd_line_send(cfd, "ERR cannot start worker threads");
			goto stop;
		}
	nd_line_send(cfd, "OK");
	fprintf(stderr, "netdx bench server: %s test, %u flows\n", nd_bench_mode_name(t.cfg.mode),
		t.cfg.flows);

	for (;;) {
		int timeout = 3600 * 1000, n;

		/* Interval samples on the server's side, at the same offsets
		 * from the common start as the client's. */
		if (LOAD(t.phase) == PH_RUN && t.cfg.interval_ns && t.nsamples < t.samples_cap) {
			uint64_t due = t.start_mono + (t.nsamples + 1) * t.cfg.interval_ns, now = nd_now_ns();
			if (due <= now) {
				sample_all(&t);
				continue;
			}
			timeout = (int)((due - now + 999999) / 1000000u);
		}
		n = nd_line_recv(cfd, lb, line, sizeof(line), timeout);
		if (n == -2)
			continue;
		if (n <= 0)
			break;          /* client gone: end the test */
		if (strncmp(line, "START ", 6) == 0) {
			uint64_t at = strtoull(line + 6, NULL, 10), now = nd_wall_ns();
			if (at > now && at - now < 60000000000ull) {
				struct timespec ts = { (time_t)(at / 1000000000u), (long)(at % 1000000000u) };
				clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL);
			}
			t.start_mono = nd_now_ns();
			STORE(t.phase, PH_RUN);
			wake_all(&t);
		} else if (strcmp(line, "STOP") == 0) {
			if (LOAD(t.phase) == PH_RUN && t.cfg.interval_ns)
				sample_all(&t);         /* the last, partial interval */
			STORE(t.phase, PH_STOP);
			wake_all(&t);
			nd_line_send(cfd, "OK");
		} else if (strncmp(line, "RESULTS", 7) == 0) {
			/* Wait until every data connection saw its EOF, except
			 * those the client abandoned (or 3 s). */
			uint64_t until = nd_now_ns() + 3000000000ull;
			uint64_t abandoned = line[7] == ' ' ? strtoull(line + 8, NULL, 10) : 0;
			STORE(t.phase, PH_STOP);
			wake_all(&t);
			while (LOAD(t.open_conns) > abandoned && nd_now_ns() < until)
				poll(NULL, 0, 10);
			rc = send_results(cfd, &t);
			break;
		} else {
			nd_line_send(cfd, "ERR unknown command '%s'", line);
		}
	}
stop:
	STORE(t.phase, PH_QUIT);
	wake_all(&t);
	for (uint32_t i = 0; i < started; i++)
		pthread_join(t.w[i].th, NULL);
out:
	if (t.lfd >= 0)
		close(t.lfd);
	test_free(&t);
	return rc;
}

int nd_bench_server_run(const struct nd_bench_server_opts *o, char *err, size_t errlen)
{
	int lfd = listen_on(o, 64, err, errlen);

	if (lfd < 0)
		return -1;
	fprintf(stderr, "netdx bench server: listening on %s port %u\n", o->bind ? o->bind : "*", o->port);
	while (!*o->stop) {
		struct pollfd p = { .fd = lfd, .events = POLLIN };
		struct nd_linebuf *lb;
		char hello[1024];
		int cfd, n;

		if (poll(&p, 1, 200) <= 0)
			continue;
		cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd < 0)
			continue;
		lb = calloc(1, sizeof(*lb));
		if (!lb) {
			close(cfd);
			continue;
		}
		n = nd_line_recv(cfd, lb, hello, sizeof(hello), 5000);
		if (n > 0) {
			/* The test listens on the same port: free it for the test's
			 * own socket (with its backlog), then listen again. */
			close(lfd);
			serve_test(o, cfd, lb, hello);
			lfd = listen_on(o, 64, err, errlen);
			if (lfd < 0) {
				free(lb);
				close(cfd);
				return -1;
			}
		}
		free(lb);
		close(cfd);
		if (o->once && n > 0)
			break;
	}
	close(lfd);
	return 0;
}
