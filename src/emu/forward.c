/* SPDX-License-Identifier: MIT */
#include "emu/forward.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sched.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "core/decode.h"
#include "core/flow.h"
#include "emu/ring.h"

#define SLOT 2048u
#define BATCH 256u
#define SPIN_NS 50000u          /* the last 50 us before a departure are polled, not slept */

struct fdir {
	struct nd_fwd *f;
	int idx;
	struct nd_ring rx;
	int tx_fd, evfd;
	struct nd_emu emu;
	struct nd_emu_cfg cfg;
	uint8_t *pool;
	uint32_t *free_slots, nfree;
	uint32_t *lens;
	uint64_t rx_frames, rx_oversize, rx_pool_full, tx_errors;
	struct nd_hist tx_late;
	uint64_t start;
	uint64_t seed;
	/* requests from the control thread, under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool snap_req, snap_ready, cfg_req, cfg_done;
	struct nd_emu_cfg cfg_new;
	int cfg_rc;
	char cfg_err[256];
	struct nd_fwd_stats snap;
};

/* A thread serving one direction, or both. */
struct fworker {
	struct nd_fwd *f;
	pthread_t th;
	struct fdir *d[2];
	int n;
	bool started;
};

struct nd_fwd {
	struct fdir d[2];
	struct fworker w[2];
	int nworkers;
	int stop;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct rx_ctx {
	struct fdir *d;
	uint64_t mono_now, real_now;
};

/* A frame from the ring: into a pool slot and into the pipeline. */
static void on_frame(void *arg, const uint8_t *frame, uint32_t len, uint32_t wirelen, uint64_t ts)
{
	struct rx_ctx *rc = arg;
	struct fdir *d = rc->d;
	struct nd_pkt p;
	struct nd_flow_key k;
	uint32_t slot, hash = 0;

	d->rx_frames++;
	if (len != wirelen || len > SLOT) {
		d->rx_oversize++;       /* GSO super-frames or a cut frame: not forwarded */
		return;
	}
	if (!d->nfree) {
		d->rx_pool_full++;
		return;
	}
	slot = d->free_slots[--d->nfree];
	memcpy(d->pool + (size_t)slot * SLOT, frame, len);
	d->lens[slot] = len;
	if (nd_decode(ND_LINK_ETHERNET, frame, len, wirelen, &p) == ND_SKIP_NONE) {
		nd_flow_key_from_pkt(&p, &k);
		hash = (uint32_t)XXH3_64bits_withSeed(&k, sizeof(k), d->seed);
	}
	/* The frame arrived when the kernel stamped it, which may be up to a
	 * block time-out (1 ms) before the ring handed it over: its delay
	 * counts from then. */
	if (nd_emu_enqueue(&d->emu, slot, len, hash,
			   ts && ts <= rc->real_now && rc->real_now - ts < rc->mono_now
				   ? rc->mono_now - (rc->real_now - ts) : rc->mono_now) != ND_EMU_QUEUED)
		d->free_slots[d->nfree++] = slot;
}

static void fill_snap(struct fdir *d, uint64_t now)
{
	nd_emu_get_stats(&d->emu, &d->snap.emu);
	d->snap.rx_frames = d->rx_frames;
	d->snap.rx_oversize = d->rx_oversize;
	d->snap.rx_pool_full = d->rx_pool_full;
	d->snap.tx_errors = d->tx_errors;
	d->snap.tx_late_ns = d->tx_late;
	d->snap.kernel_drops = nd_ring_kernel_drops(&d->rx);
	d->snap.elapsed_ns = now - d->start;
}

static void handle_requests(struct fdir *d, uint64_t now)
{
	pthread_mutex_lock(&d->mu);
	if (d->cfg_req) {
		d->cfg_rc = nd_emu_reconfigure(&d->emu, &d->cfg_new, now, d->cfg_err, sizeof(d->cfg_err));
		if (d->cfg_rc == 0)
			d->cfg = d->cfg_new;
		d->cfg_req = false;
		d->cfg_done = true;
		pthread_cond_broadcast(&d->cv);
	}
	if (d->snap_req) {
		fill_snap(d, now);
		d->snap_req = false;
		d->snap_ready = true;
		pthread_cond_broadcast(&d->cv);
	}
	pthread_mutex_unlock(&d->mu);
}

/*
 * Ask the scheduler for a short time slice (EEVDF, Linux 6.12+: sched_runtime
 * of a SCHED_OTHER thread is its requested slice). A thread with a short slice
 * has an early virtual deadline, so when it wakes for a departure it preempts
 * the endpoints' busy threads instead of waiting out their slice: on two cores
 * shared with a sender, a receiver and the other direction this is what keeps
 * departures on time. Older kernels ignore or refuse it; either is fine.
 */
struct nd_sched_attr {        /* struct sched_attr (uapi), whose header clashes with sched.h */
	uint32_t size, sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime, sched_deadline, sched_period;
};

static void short_slice(void)
{
	struct nd_sched_attr a = {
		.size = sizeof(a),
		.sched_policy = SCHED_OTHER,
		.sched_runtime = 100000, /* 100 us, the kernel's minimum */
	};

	(void)syscall(SYS_sched_setattr, 0, &a, 0);
}

/*
 * One pass over direction @d at @now: settings and snapshot requests,
 * frames from the ring into the pipeline, due frames out. Returns the
 * time of its next departure or UINT64_MAX.
 */
static uint64_t dir_step(struct fdir *d, uint64_t now)
{
	uint32_t out[BATCH], dropped[BATCH];
	uint64_t due[BATCH];
	struct rx_ctx rc = { d, now, real_ns() };
	uint32_t n, nd;

	handle_requests(d, now);
	nd_ring_drain(&d->rx, on_frame, &rc);
	do {
		n = nd_emu_poll_due(&d->emu, now, out, due, BATCH, dropped, BATCH, &nd);
		for (uint32_t i = 0; i < n; i++) {
			uint32_t s = out[i];
			uint64_t sent;

			/* lateness at the moment the frame is handed to the
			 * kernel (send() itself may run the peer's receive path) */
			sent = mono_ns();
			nd_hist_record(&d->tx_late, sent > due[i] ? sent - due[i] : 0);
			if (send(d->tx_fd, d->pool + (size_t)s * SLOT, d->lens[s], MSG_DONTWAIT) < 0)
				d->tx_errors++;
			d->free_slots[d->nfree++] = s;
		}
		for (uint32_t i = 0; i < nd; i++)
			d->free_slots[d->nfree++] = dropped[i];
	} while (n == BATCH || nd == BATCH);
	return nd_emu_next_event(&d->emu, now);
}

static void *worker_main(void *arg)
{
	struct fworker *w = arg;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);         /* signals go to the main thread */
	prctl(PR_SET_TIMERSLACK, 1000UL);               /* wake within ~1 us of the next departure */
	short_slice();
	while (!__atomic_load_n(&w->f->stop, __ATOMIC_ACQUIRE)) {
		struct pollfd pfd[4];
		uint64_t now = mono_ns(), next = UINT64_MAX, wait;
		struct timespec ts;

		for (int i = 0; i < w->n; i++) {
			uint64_t t = dir_step(w->d[i], now);

			if (t < next)
				next = t;
			pfd[2 * i] = (struct pollfd){ .fd = w->d[i]->rx.fd, .events = POLLIN };
			pfd[2 * i + 1] = (struct pollfd){ .fd = w->d[i]->evfd, .events = POLLIN };
		}
		now = mono_ns();
		wait = next == UINT64_MAX ? 50000000u : next <= now ? 0 : next - now;
		if (wait > 50000000u)
			wait = 50000000u;
		/* Sleep until shortly before the next departure, then poll
		 * without sleeping: a timer wake-up in a VM is late by tens of
		 * microseconds, sometimes more. */
		if (next != UINT64_MAX)
			wait = wait > SPIN_NS ? wait - SPIN_NS : 0;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)wait;
		if (ppoll(pfd, (nfds_t)(2 * w->n), &ts, NULL) > 0) {
			for (int i = 0; i < w->n; i++) {
				uint64_t v;

				if ((pfd[2 * i + 1].revents & POLLIN) && read(w->d[i]->evfd, &v, sizeof(v)) < 0) {
					/* only a wake-up */
				}
			}
		}
	}
	return NULL;
}

static void dir_free(struct fdir *d)
{
	nd_ring_close(&d->rx);
	if (d->tx_fd >= 0)
		close(d->tx_fd);
	if (d->evfd >= 0)
		close(d->evfd);
	nd_emu_free(&d->emu);
	free(d->pool);
	free(d->free_slots);
	free(d->lens);
	pthread_mutex_destroy(&d->mu);
	pthread_cond_destroy(&d->cv);
}

static int dir_init(struct nd_fwd *f, int idx, const char *in, const char *outif,
		    const struct nd_emu_cfg *c, uint32_t max_pkts, char *err, size_t errlen)
{
	struct fdir *d = &f->d[idx];
	int rc;

	d->f = f;
	d->idx = idx;
	d->tx_fd = d->evfd = -1;
	d->rx.fd = -1;
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	d->cfg = *c;
	if (getrandom(&d->seed, sizeof(d->seed), 0) != sizeof(d->seed))
		d->seed = mono_ns();
	if (nd_emu_init(&d->emu, c, max_pkts, err, errlen) < 0)
		return -1;
	d->pool = malloc((size_t)max_pkts * SLOT);
	d->free_slots = malloc(max_pkts * sizeof(*d->free_slots));
	d->lens = calloc(max_pkts, sizeof(*d->lens));
	if (!d->pool || !d->free_slots || !d->lens) {
		snprintf(err, errlen, "out of memory for %u frames", max_pkts);
		return -1;
	}
	for (uint32_t i = 0; i < max_pkts; i++)
		d->free_slots[i] = max_pkts - 1 - i;
	d->nfree = max_pkts;
	rc = nd_ring_open(&d->rx, in, 1u << 20, 16);
	if (rc < 0) {
		snprintf(err, errlen, "cannot open a receive ring on %s: %s%s", in, strerror(-rc),
			 rc == -EPERM ? " (needs CAP_NET_RAW)" : "");
		return -1;
	}
	d->tx_fd = nd_tx_open(outif);
	if (d->tx_fd < 0) {
		snprintf(err, errlen, "cannot send on %s: %s", outif, strerror(-d->tx_fd));
		return -1;
	}
	d->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->evfd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		return -1;
	}
	nd_hist_init(&d->tx_late);
	d->start = mono_ns();
	return 0;
}

int nd_fwd_start(struct nd_fwd **out, const char *if_a, const char *if_b, const struct nd_emu_cfg *fwd,
		 const struct nd_emu_cfg *rev, uint32_t max_pkts, int threads, char *err, size_t errlen)
{
	struct nd_fwd *f = calloc(1, sizeof(*f));

	*out = NULL;
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (dir_init(f, 0, if_a, if_b, fwd, max_pkts, err, errlen) < 0 ||
	    dir_init(f, 1, if_b, if_a, rev, max_pkts, err, errlen) < 0) {
		dir_free(&f->d[0]);
		dir_free(&f->d[1]);
		free(f);
		return -1;
	}
	f->nworkers = threads == 2 ? 2 : 1;
	for (int i = 0; i < f->nworkers; i++) {
		struct fworker *w = &f->w[i];

		w->f = f;
		if (f->nworkers == 2) {
			w->d[0] = &f->d[i];
			w->n = 1;
		} else {
			w->d[0] = &f->d[0];
			w->d[1] = &f->d[1];
			w->n = 2;
		}
		if (pthread_create(&w->th, NULL, worker_main, w) != 0) {
			snprintf(err, errlen, "cannot start the forwarding threads");
			nd_fwd_stop(f);
			return -1;
		}
		w->started = true;
	}
	*out = f;
	return 0;
}

static void wake(struct fdir *d)
{
	uint64_t one = 1;

	if (write(d->evfd, &one, sizeof(one)) < 0) {
		/* it wakes within 50 ms anyway */
	}
}

int nd_fwd_reconfigure(struct nd_fwd *f, int dir, const struct nd_emu_cfg *c, char *err, size_t errlen)
{
	struct fdir *d = &f->d[dir];
	int rc;

	pthread_mutex_lock(&d->mu);
	d->cfg_new = *c;
	d->cfg_req = true;
	d->cfg_done = false;
	wake(d);
	while (!d->cfg_done)
		pthread_cond_wait(&d->cv, &d->mu);
	rc = d->cfg_rc;
	if (rc < 0)
		snprintf(err, errlen, "%s", d->cfg_err);
	pthread_mutex_unlock(&d->mu);
	return rc;
}

void nd_fwd_get_cfg(struct nd_fwd *f, int dir, struct nd_emu_cfg *c)
{
	struct fdir *d = &f->d[dir];

	pthread_mutex_lock(&d->mu);
	*c = d->cfg;
	pthread_mutex_unlock(&d->mu);
}

void nd_fwd_stats(struct nd_fwd *f, int dir, struct nd_fwd_stats *s)
{
	struct fdir *d = &f->d[dir];

	pthread_mutex_lock(&d->mu);
	d->snap_req = true;
	d->snap_ready = false;
	wake(d);
	while (!d->snap_ready)
		pthread_cond_wait(&d->cv, &d->mu);
	*s = d->snap;
	pthread_mutex_unlock(&d->mu);
}

void nd_fwd_stop(struct nd_fwd *f)
{
	if (!f)
		return;
	__atomic_store_n(&f->stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < f->nworkers; i++) {
		if (f->w[i].started) {
			wake(f->w[i].d[0]);
			pthread_join(f->w[i].th, NULL);
		}
	}
	dir_free(&f->d[0]);
	dir_free(&f->d[1]);
	free(f);
}
