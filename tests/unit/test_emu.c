/* SPDX-License-Identifier: MIT */
/* Unit tests of the emulator's packet pipeline (src/emu/sched.c): rate,
 * delay and jitter, buffer limits, loss models, CoDel, PIE, FQ-CoDel and
 * run-time reconfiguration, all in simulated time. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/hist.h"
#include "emu/sched.h"
#include "nd_test.h"

#define US UINT64_C(1000)
#define MS UINT64_C(1000000)
#define SEC UINT64_C(1000000000)
#define BATCH 64u

enum { FATE_NONE = 0, FATE_OUT, FATE_DROP };

/* --- an open-loop driver: packets at fixed times, slot = packet index --- */

struct run {
	uint32_t n;
	const uint64_t *arr;
	const uint32_t *len;
	const uint32_t *hash;        /* NULL: all 0 */
	uint64_t step;               /* 0: poll at every event; else on a grid */
	uint64_t reconf_at;          /* UINT64_MAX: none */
	const struct nd_emu_cfg *reconf;
	void (*after_enq)(struct nd_emu *e, void *ctx);
	void *ctx;
	/* results */
	uint64_t *due;               /* per packet; UINT64_MAX if dropped */
	uint8_t *fate;
	uint32_t *order, norder;     /* packets in the order they came out */
	uint64_t *drop_at;           /* optional: when the drop was handed back */
	uint64_t now;
	uint32_t twice;              /* slots handed back more than once */
	uint32_t late;               /* due later than the poll that gave it */
};

static void note_out(struct run *r, uint32_t s, uint64_t due, uint64_t now)
{
	if (r->fate[s] != FATE_NONE)
		r->twice++;
	r->fate[s] = FATE_OUT;
	r->due[s] = due;
	r->order[r->norder++] = s;
	if (due > now)
		r->late++;
}

static void note_drop(struct run *r, uint32_t s)
{
	if (r->fate[s] != FATE_NONE)
		r->twice++;
	r->fate[s] = FATE_DROP;
	r->due[s] = UINT64_MAX;
	if (r->drop_at)
		r->drop_at[s] = r->now;
}

static void run_alloc(struct run *r, uint32_t n)
{
	memset(r, 0, sizeof(*r));
	r->n = n;
	r->reconf_at = UINT64_MAX;
	r->due = calloc(n, sizeof(*r->due));
	r->fate = calloc(n, 1);
	r->order = calloc(n, sizeof(*r->order));
}

static void run_reset(struct run *r)
{
	memset(r->due, 0, r->n * sizeof(*r->due));
	memset(r->fate, 0, r->n);
	r->norder = r->twice = r->late = 0;
}

static void run_free(struct run *r)
{
	free(r->due);
	free(r->fate);
	free(r->order);
}

static void run_open(struct nd_emu *e, struct run *r)
{
	uint64_t t = 0, grid = r->step;
	uint32_t i = 0, out[BATCH], dr[BATCH], nd, n;
	uint64_t due[BATCH];
	char err[128];

	for (;;) {
		uint64_t ta = i < r->n ? r->arr[i] : UINT64_MAX;
		uint64_t ne = nd_emu_next_event(e, t), tp;

		if (ta == UINT64_MAX && ne == UINT64_MAX && r->reconf_at == UINT64_MAX)
			break;
		tp = r->step ? (ne == UINT64_MAX && ta == UINT64_MAX ? UINT64_MAX : grid) : ne;
		if (r->reconf_at <= ta && r->reconf_at <= tp) {
			t = r->reconf_at;
			r->reconf_at = UINT64_MAX;
			ND_CHECK(nd_emu_reconfigure(e, r->reconf, t, err, sizeof(err)) == 0);
			continue;
		}
		if (ta <= tp) {
			t = r->now = ta;
			if (nd_emu_enqueue(e, i, r->len[i], r->hash ? r->hash[i] : 0, t) != ND_EMU_QUEUED)
				note_drop(r, i);
			i++;
			if (r->after_enq)
				r->after_enq(e, r->ctx);
			continue;
		}
		if (tp > t)
			t = tp;
		r->now = t;
		do {
			n = nd_emu_poll_due(e, t, out, due, BATCH, dr, BATCH, &nd);
			for (uint32_t k = 0; k < n; k++)
				note_out(r, out[k], due[k], t);
			for (uint32_t k = 0; k < nd; k++)
				note_drop(r, dr[k]);
		} while (n == BATCH || nd == BATCH);
		if (r->step && t == grid)
			grid += r->step;
	}
}

static void cfg_zero(struct nd_emu_cfg *c)
{
	memset(c, 0, sizeof(*c));
}

/* --- rate --- */

static void test_rate(void)
{
	const uint32_t n = 10000;
	struct nd_emu_cfg c;
	struct nd_emu e;
	struct nd_emu_stats *st = malloc(sizeof(*st));
	struct run r;
	uint64_t *arr = calloc(n, sizeof(*arr)), *fine = calloc(n, sizeof(*fine));
	uint32_t *len = calloc(n, sizeof(*len)), worst = 0, bad_gap = 0;
	double rate;

	for (uint32_t i = 0; i < n; i++) {
		arr[i] = 5 * MS + i * 60 * US;   /* 1500 B every 60 us: 200 Mbit/s */
		len[i] = 1500;
	}
	cfg_zero(&c);
	c.rate_bps = 100000000;
	c.seed = 1;
	run_alloc(&r, n);
	r.arr = arr;
	r.len = len;

	/* Fine: poll exactly at every event. */
	ND_CHECK(nd_emu_init(&e, &c, 16384, NULL, 0) == 0);
	run_open(&e, &r);
	ND_CHECK_EQ(r.norder, n);
	ND_CHECK_EQ(r.twice, 0);
	memcpy(fine, r.due, n * sizeof(*fine));
	for (uint32_t i = 1; i < n; i++)
		ND_CHECK(fine[i] >= fine[i - 1]);
	/* Burst excluded (the 12.5 kB bucket is gone after ~20 packets). */
	rate = (double)(n - 1 - 100) * 1500 * 8 * 1e9 / (double)(fine[n - 1] - fine[100]);
	printf("# rate %.6f Mbit/s\n", rate / 1e6);
	ND_CHECK(fabs(rate - 1e8) < 0.01 * 1e8);
	for (uint32_t i = 101; i < n; i++)
		bad_gap += fine[i] - fine[i - 1] != 120 * US;
	ND_CHECK_EQ(bad_gap, 0);
	nd_emu_get_stats(&e, st);
	ND_CHECK_EQ(st->busy_ns, (uint64_t)n * 120 * US);
	ND_CHECK_EQ(nd_hist_count(&st->sojourn_ns), n);
	ND_CHECK_EQ(st->out_pkts, n);
	ND_CHECK_EQ(st->out_bytes, (uint64_t)n * 1500);
	nd_emu_free(&e);

	/* Coarse: poll every 1 ms; the departure times must not move. */
	run_reset(&r);
	r.step = 1 * MS;
	ND_CHECK(nd_emu_init(&e, &c, 16384, NULL, 0) == 0);
	run_open(&e, &r);
	ND_CHECK_EQ(r.norder, n);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t d = r.due[i] > fine[i] ? r.due[i] - fine[i] : fine[i] - r.due[i];

		if (d > worst)
			worst = (uint32_t)d;
	}
	ND_CHECK(worst <= 1000);
	ND_CHECK_EQ(worst, 0);
	ND_CHECK(r.late == 0);
	nd_emu_free(&e);

	/* Per-packet overhead: 1524 B on the wire -> 121.92 us apart. */
	run_reset(&r);
	r.step = 0;
	c.overhead_bytes = 24;
	ND_CHECK(nd_emu_init(&e, &c, 16384, NULL, 0) == 0);
	run_open(&e, &r);
	bad_gap = 0;
	for (uint32_t i = 101; i < n; i++)
		bad_gap += r.due[i] - r.due[i - 1] != 121920;
	ND_CHECK_EQ(bad_gap, 0);
	nd_emu_free(&e);

	run_free(&r);
	free(arr);
	free(fine);
	free(len);
	free(st);
}

/* A token wait that is not a whole number of ns is carried, not lost: at
 * 3 Mbit/s a 1000 B packet takes 2666666.67 ns, so 3000 packets take
 * exactly 8 s (no drift from rounding each wait). */
static void test_rate_no_drift(void)
{
	const uint32_t n = 3001;
	struct nd_emu_cfg c;
	struct nd_emu e;
	struct run r;
	uint64_t *arr = calloc(n, sizeof(*arr));
	uint32_t *len = calloc(n, sizeof(*len));

	for (uint32_t i = 0; i < n; i++)
		len[i] = 1000;   /* all at time 0 */
	cfg_zero(&c);
	c.rate_bps = 3000000;
	c.burst_bytes = 1514;
	run_alloc(&r, n);
	r.arr = arr;
	r.len = len;
	ND_CHECK(nd_emu_init(&e, &c, n, NULL, 0) == 0);
	run_open(&e, &r);
	ND_CHECK_EQ(r.norder, n);
	/* Packet 0 leaves at 0 (full bucket: 1514 B, 514 B left); packet k
	 * at the ceiling of (k * 1000 - 514) B of refill. */
	ND_CHECK_EQ(r.due[3000] - r.due[0], (3000 * 1000 * 8 * SEC - 514 * 8 * SEC + 2999999) / 3000000);
	for (uint32_t k = 1; k < n; k++)
		ND_CHECK_EQ(r.due[k], ((uint64_t)k * 1000 * 8 * SEC - 514 * 8 * SEC + 2999999) / 3000000);
	nd_emu_free(&e);
	run_free(&r);
	free(arr);
	free(len);
}

/* --- delay and jitter --- */

static void test_delay_exact(void)
{
	const uint32_t n = 4000;
	struct nd_emu_cfg c;
	struct nd_emu e;
	struct run r;
	uint64_t *arr = calloc(n, sizeof(*arr)), *base = calloc(n, sizeof(*base)), t = 0;
	uint32_t *len = calloc(n, sizeof(*len)), bad = 0;

	for (uint32_t i = 0; i < n; i++) {
		t += (i * 7919u) % 500 * US;     /* irregular gaps, 0..499 us */
		arr[i] = t;
		len[i] = 64 + (i * 131u) % 1437;
	}
	run_alloc(&r, n);
	r.arr = arr;
	r.len = len;

	/* Unlimited rate: departure = arrival + delay, exactly. */
	cfg_zero(&c);
	c.delay_ns = 7 * MS + 3;
	ND_CHECK(nd_emu_init(&e, &c, n, NULL, 0) == 0);
	run_open(&e, &r);
	ND_CHECK_EQ(r.norder, n);
	for (uint32_t i = 0; i < n; i++)
		bad += r.due[i] != arr[i] + 7 * MS + 3;
	ND_CHECK_EQ(bad, 0);
	nd_emu_free(&e);

	/* Shaped: departure = eligible time (the departure with no delay) + delay. */
	c.rate_bps = 10000000;
	c.delay_ns = 0;
	run_reset(&r);
	ND_CHECK(nd_emu_init(&e, &c, n, NULL, 0) == 0);
	run_open(&e, &r);
	memcpy(base, r.due, n * sizeof(*base));
	nd_emu_free(&e);
	c.delay_ns = 25 * MS;
	run_reset(&r);
	ND_CHECK(nd_emu_init(&e, &c, n, NULL, 0) == 0);
	run_open(&e, &r);
	ND_CHECK_EQ(r.norder, n);
	bad = 0;
	for (uint32_t i = 0; i < n; i++)
		bad += r.due[i] != base[i] + 25 * MS;
	ND_CHECK_EQ(bad, 0);
	ND_CHECK(base[n - 1] > arr[n - 1] + 10 * MS);   /* the shaper did queue */
	nd_emu_free(&e);
	run_free(&r);
	free(arr);
	free(base);
	free(len);
}

static void test_jitter(void)
{
	const uint32_t n = 20000;
	const uint64_t d = 50 * MS, j = 10 * MS;
	struct nd_emu_cfg c;
	struct nd_emu e;
	struct run r;
	uint64_t *arr = calloc(n, sizeof(*arr)), lo = UINT64_MAX, hi = 0;
	uint32_t *len = calloc(n, sizeof(*len)), outside = 0;
	double sum = 0, sq = 0, mean, sd;

	for (uint32_t i = 0; i < n; i++) {
		arr[i] = i * 30 * MS;   /* > 2 * jitter apart: no monotonic push */
		len[i] = 100;
	}
	cfg_zero(&c);
	c.delay_ns = d;
	c.jitter_ns = j;
	c.seed = 42;
	run_alloc(&r, n);
	r.arr = arr;
	r.len = len;
	ND_CHECK(nd_emu_init(&e, &c, 64, NULL, 0) == 0);
	run_open(&e, &r);
	ND_CHECK_EQ(r.norder, n);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t x = r.due[i] - arr[i];

		outside += x < d - j || x > d + j;
		lo = x < lo ? x : lo;
		hi = x > hi ? x : hi;
		sum += (double)x;
		sq += (double)x * (double)x;
	}
	mean = sum / n;
	sd = sqrt(sq / n - mean * mean);
	printf("# jitter: mean %.1f us, sd %.1f us, range %.3f..%.3f ms\n", mean / 1e3, sd / 1e3,
	       (double)lo / 1e6, (double)hi / 1e6);
	ND_CHECK_EQ(outside, 0);
	/* Uniform on +/-10 ms: sd 5.774 ms, standard error of the mean
	 * 5.774 / sqrt(20000) = 41 us: 250 us is 6 standard errors. */
	ND_CHECK(fabs(mean - (double)d) < 250e3);
	ND_CHECK(fabs(sd - (double)j / sqrt(3.0)) < 0.03 * (double)j / sqrt(3.0));
	ND_CHECK(lo < d - j + j / 100 && hi > d + j - j / 100);   /* the whole range is used */
	nd_emu_free(&e);
	run_free(&r);
	free(arr);
	free(len);
}

static uint32_t inversions(const uint32_t *order, uint32_t n)
{
	uint32_t inv = 0;

	for (uint32_t i = 1; i < n; i++)
		inv += order[i] < order[i - 1];
	return inv;
}

static void test_jitter_order(void)
{
	const uint32_t n = 5000;
	const uint64_t d = 20 * MS, j = 10 * MS;
	struct nd_emu_cfg c;
	struct nd_emu e;
	struct run r;
	uint64_t *arr = calloc(n, sizeof(*arr));
	uint32_t *len = calloc(n, sizeof(*len)), bad = 0;

	for (uint32_t i = 0; i < n; i++) {
		arr[i] = i * 100 * US;   /* dense: jitter would reorder */
		len[i] = 200;
	}
	cfg_zero(&c);
	c.delay_ns = d;
	c.jitter_ns = j;
	c.seed = 7;
	run_alloc(&r, n);
	r.arr = arr;
	r.len = len;

	/* Without reorder: in order, monotonic, never earlier than delay - jitter. */
	ND_CHECK(nd_emu_init(&e, &c, n, NULL, 0) == 0);
	run_open(&e, &r);
	ND_CHECK_EQ(r.norder, n);
	ND_CHECK_EQ(r.twice, 0);
	ND_CHECK_EQ(inversions(r.order, n), 0);
	for (uint32_t i = 0; i < n; i++) {
		bad += r.order[i] != i || r.due[i] < arr[i] + d - j ||
		       (i && r.due[i] < r.due[i - 1]);
	}
	ND_CHECK_EQ(bad, 0);
	nd_emu_free(&e);

	/* With reorder: every packet once, each within +/- jitter, out in
	 * departure order, and plenty of reordering. */
	c.reorder = true;
	run_reset(&r);
	ND_CHECK(nd_emu_init(&e, &c, n, NULL, 0) == 0);
	run_open(&e, &r);
	ND_CHECK_EQ(r.norder, n);
	ND_CHECK_EQ(r.twice, 0);
	bad = 0;
	for (uint32_t i = 0; i < n; i++)
		bad += r.fate[i] != FATE_OUT || r.due[i] < arr[i] + d - j || r.due[i] > arr[i] + d + j;
	for (uint32_t k = 1; k < n; k++)
		bad += r.due[r.order[k]] < r.due[r.order[k - 1]];
	ND_CHECK_EQ(bad, 0);
	printf("# reorder: %u inversions of %u\n", inversions(r.order, n), n);
	ND_CHECK(inversions(r.order, n) > n / 10);
	nd_emu_free(&e);
	run_free(&r);
	free(arr);
	free(len);
}

/* --- buffer --- */

struct bufchk {
	uint64_t limit_bytes, limit_pkts;
	uint32_t over, unbalanced, calls;
	struct nd_emu_stats *st;
};

static void check_buffer(struct nd_emu *e, void *ctx)
{
	struct bufchk *b = ctx;
	struct nd_emu_stats *s = b->st;

	nd_emu_get_stats(e, s);
	b->calls++;
	if ((b->limit_bytes && s->queue_bytes > b->limit_bytes) ||
	    (b->limit_pkts && s->queue_pkts > b->limit_pkts))
		b->over++;
	if (s->in_pkts != s->out_pkts + s->drop_loss + s->drop_buffer + s->drop_aqm + s->drop_engine_full +
				  s->drop_mtu + s->queue_pkts + s->delay_line_pkts)
		b->unbalanced++;
}

static void buffer_case(enum nd_emu_qdisc qd, uint64_t limit_bytes, uint64_t limit_pkts)
{
	const uint32_t n = 20000;
	struct nd_emu_cfg c;
	struct nd_emu e;
	struct run r;
	struct bufchk b = { limit_bytes, limit_pkts, 0, 0, 0, malloc(sizeof(struct nd_emu_stats)) };
	uint64_t *arr = calloc(n, sizeof(*arr)), t = 0;
	uint32_t *len = calloc(n, sizeof(*len)), *hash = calloc(n, sizeof(*hash));
	uint32_t out = 0, dropped = 0;

	for (uint32_t i = 0; i < n; i++) {
		len[i] = 64 + (uint32_t)((i * 2654435761u) % 1437);
		arr[i] = t;
		t += (uint64_t)len[i] * 8 * SEC / 20000000;   /* 2x the 10 Mbit/s link */
		hash[i] = i % 3 ? 1 : (i * 40503u) % 64;       /* one fat flow, many thin */
	}
	cfg_zero(&c);
	c.rate_bps = 10000000;
	c.delay_ns = 5 * MS;
	c.limit_bytes = limit_bytes;
	c.limit_pkts = limit_pkts;
	c.qdisc = qd;
	c.flows = 64;
	run_alloc(&r, n);
	r.arr = arr;
	r.len = len;
	r.hash = hash;
	r.after_enq = check_buffer;
	r.ctx = &b;
	ND_CHECK(nd_emu_init(&e, &c, n, NULL, 0) == 0);
	run_open(&e, &r);
	nd_emu_get_stats(&e, b.st);
	ND_CHECK_EQ(b.calls, n);
	ND_CHECK_EQ(b.over, 0);
	ND_CHECK_EQ(b.unbalanced, 0);
	ND_CHECK_EQ(r.twice, 0);
	for (uint32_t i = 0; i < n; i++) {
		out += r.fate[i] == FATE_OUT;
		dropped += r.fate[i] == FATE_DROP;
	}
	ND_CHECK_EQ(out + dropped, n);
	ND_CHECK_EQ(b.st->out_pkts, out);
	ND_CHECK(b.st->drop_buffer > n / 10);
	ND_CHECK_EQ(b.st->drop_buffer + b.st->drop_aqm, dropped);
	ND_CHECK_EQ(b.st->in_pkts, b.st->out_pkts + b.st->drop_buffer + b.st->drop_aqm);
	if (limit_bytes) {
		ND_CHECK(b.st->queue_bytes_max <= limit_bytes);
		ND_CHECK(b.st->queue_bytes_max + 1500 >= limit_bytes);   /* the buffer was used */
	}
	if (limit_pkts)
		ND_CHECK_EQ(b.st->queue_pkts_max, limit_pkts);
	nd_emu_free(&e);
	run_free(&r);
	free(arr);
	free(len);
	free(hash);
	free(b.st);
}

static void test_buffer_fifo(void)
{
	buffer_case(ND_QD_FIFO, 30000, 0);
	buffer_case(ND_QD_FIFO, 0, 20);
}

static void test_buffer_fq_codel(void)
{
	buffer_case(ND_QD_FQ_CODEL, 30000, 0);
	buffer_case(ND_QD_FQ_CODEL, 0, 20);
	buffer_case(ND_QD_CODEL, 30000, 0);
	buffer_case(ND_QD_PIE, 30000, 0);
}

/* --- loss --- */

/* Offer @n packets to an unlimited link, one every us; returns the number
 * lost and the mean length of runs of consecutive losses. */
static uint64_t loss_run(const struct nd_emu_cfg *c, uint32_t n, double *mean_burst)
{
	struct nd_emu e;
	uint64_t lost = 0, bursts = 0, run = 0;
	uint32_t out[BATCH], nd;

	ND_CHECK(nd_emu_init(&e, c, 1024, NULL, 0) == 0);
	for (uint32_t i = 0; i < n; i++) {
		enum nd_emu_verdict v = nd_emu_enqueue(&e, i % 1024, 100, 0, (uint64_t)i * US);

		if (v == ND_EMU_DROP_LOSS) {
			lost++;
			run++;
		} else {
			ND_CHECK(v == ND_EMU_QUEUED);
			if (run)
				bursts++;
			run = 0;
		}
		while (nd_emu_poll(&e, (uint64_t)i * US, out, BATCH, NULL, 0, &nd) == BATCH)
			;
	}
	if (run)
		bursts++;
	*mean_burst = bursts ? (double)lost / (double)bursts : 0;
	nd_emu_free(&e);
	return lost;
}

static void test_loss_random(void)
{
	struct nd_emu_cfg c;
	double burst;
	uint64_t lost;

	cfg_zero(&c);
	c.loss_random = 0.01;
	c.seed = 12345;
	lost = loss_run(&c, 1000000, &burst);
	printf("# random loss: %llu of 1e6, mean burst %.3f\n", (unsigned long long)lost, burst);
	/* Binomial(1e6, 0.01): mean 10000, sigma 99.5; 99.9% two-sided is
	 * +/- 3.29 sigma = 328. */
	ND_CHECK(lost >= 10000 - 328 && lost <= 10000 + 328);
	ND_CHECK(burst < 1.05);   /* independent: 1 / (1 - p) = 1.0101 */
}

static void test_loss_gilbert_elliott(void)
{
	struct nd_emu_cfg c;
	double burst, rate, expect;
	uint64_t lost;

	/* p = 0.02, r = 0.3, 1-h = 0.8, 1-k = 0.005:
	 * pi_B = p / (p + r) = 0.0625, loss = 0.0625 * 0.8 + 0.9375 * 0.005. */
	cfg_zero(&c);
	c.ge_p = 0.02;
	c.ge_r = 0.3;
	c.ge_loss_bad = 0.8;
	c.ge_loss_good = 0.005;
	c.seed = 99;
	expect = 0.02 / 0.32 * 0.8 + 0.3 / 0.32 * 0.005;
	lost = loss_run(&c, 1000000, &burst);
	rate = (double)lost / 1e6;
	printf("# GE loss %.5f (stationary %.5f), mean burst %.3f\n", rate, expect, burst);
	/* Markov-correlated: about 19000 good/bad cycles, relative standard
	 * error ~1.1%; 5% is > 4 standard errors. */
	ND_CHECK(fabs(rate - expect) < 0.05 * expect);

	/* h = 0, k = 1: every bad-state packet is lost and only those: loss
	 * runs are the bad-state stays, geometric with mean 1 / r = 4
	 * (sd 3.5, ~9600 runs: standard error 0.036; tolerance 0.25). */
	c.ge_p = 0.01;
	c.ge_r = 0.25;
	c.ge_loss_bad = 1.0;
	c.ge_loss_good = 0.0;
	lost = loss_run(&c, 1000000, &burst);
	rate = (double)lost / 1e6;
	printf("# GE bursty loss %.5f (stationary %.5f), mean burst %.3f\n", rate, 0.01 / 0.26, burst);
	ND_CHECK(fabs(rate - 0.01 / 0.26) < 0.05 * 0.01 / 0.26);
	ND_CHECK(fabs(burst - 4.0) < 0.25);

	/* Same seed, same losses; the jitter stream does not disturb them. */
	{
		double b2;
		uint64_t l2;

		c.jitter_ns = 5 * US;
		l2 = loss_run(&c, 1000000, &b2);
		ND_CHECK_EQ(l2, lost);
		c.seed = 100;
		l2 = loss_run(&c, 1000000, &b2);
		ND_CHECK(l2 != lost);
	}
}

/* --- AQM: a Reno-like bulk sender, ACK-clocked --- */

#define SIM_SLOTS 8192u
#define SIM_Q 65536u

struct ev {
	uint64_t t, seq;
	int flow;
};

struct evq {
	struct ev *v;
	uint32_t head, len;
};

static void evq_push(struct evq *q, uint64_t t, uint64_t seq, int flow)
{
	struct ev *x;

	ND_CHECK(q->len < SIM_Q);
	x = &q->v[(q->head + q->len++) % SIM_Q];
	x->t = t;
	x->seq = seq;
	x->flow = flow;
}

static uint64_t evq_front(const struct evq *q)
{
	return q->len ? q->v[q->head].t : UINT64_MAX;
}

static struct ev evq_pop(struct evq *q)
{
	struct ev x = q->v[q->head];

	q->head = (q->head + 1) % SIM_Q;
	q->len--;
	return x;
}

struct sim {
	struct nd_emu e;
	const struct nd_emu_cfg *cfg;
	uint32_t free_slots[SIM_SLOTS], nfree;
	uint64_t slot_seq[SIM_SLOTS], slot_sent[SIM_SLOTS];
	int slot_flow[SIM_SLOTS];
	struct evq acks, losses;
	double cwnd, ssthresh;
	uint64_t next_seq, recover;
	uint32_t inflight;
	uint64_t win_lo, win_hi;       /* measurement window */
	struct nd_hist soj[2];         /* sojourn per flow (0 bulk, 1 sparse) */
	uint64_t bytes_win, sparse_lost, slot_short;
};

static void sim_send(struct sim *s, int flow, uint32_t len, uint64_t t)
{
	uint32_t slot;
	uint64_t seq = flow == 0 ? s->next_seq++ : 0;

	if (flow == 0)
		s->inflight++;
	if (!s->nfree) {
		s->slot_short++;
		if (flow == 0)
			evq_push(&s->losses, t + 20 * MS, seq, flow);
		return;
	}
	slot = s->free_slots[--s->nfree];
	s->slot_seq[slot] = seq;
	s->slot_sent[slot] = t;
	s->slot_flow[slot] = flow;
	if (nd_emu_enqueue(&s->e, slot, len, flow == 0 ? 0x1234567u : 0x89abcdeu, t) != ND_EMU_QUEUED) {
		s->free_slots[s->nfree++] = slot;
		if (flow == 0)
			evq_push(&s->losses, t + 20 * MS, seq, flow);
		else
			s->sparse_lost++;
	}
}

/*
 * One bulk flow (Reno: slow start, +1/cwnd per ACK, halve once per window
 * on loss detected 20 ms after the drop) over the emulated link (one-way
 * delay in cfg, ACKs return in 10 ms), optionally with a sparse flow of
 * 200 B every 10 ms. Sojourn and delivered bytes measured over
 * [win_lo, win_hi].
 */
static void sim_run(struct sim *s, const struct nd_emu_cfg *c, bool sparse, uint64_t end)
{
	uint64_t t = 0, t_sparse = sparse ? 3 * MS : UINT64_MAX;
	uint32_t out[BATCH], dr[BATCH], n, nd;
	uint64_t due[BATCH];

	ND_CHECK(nd_emu_init(&s->e, c, SIM_SLOTS, NULL, 0) == 0);
	s->cfg = c;
	for (uint32_t i = 0; i < SIM_SLOTS; i++)
		s->free_slots[i] = SIM_SLOTS - 1 - i;
	s->nfree = SIM_SLOTS;
	s->acks.v = calloc(SIM_Q, sizeof(struct ev));
	s->losses.v = calloc(SIM_Q, sizeof(struct ev));
	s->cwnd = 10;
	s->ssthresh = 1e9;
	nd_hist_init(&s->soj[0]);
	nd_hist_init(&s->soj[1]);
	while (s->inflight < (uint32_t)s->cwnd)
		sim_send(s, 0, 1500, 0);
	for (;;) {
		uint64_t tn = nd_emu_next_event(&s->e, t);

		tn = evq_front(&s->acks) < tn ? evq_front(&s->acks) : tn;
		tn = evq_front(&s->losses) < tn ? evq_front(&s->losses) : tn;
		tn = t_sparse < tn ? t_sparse : tn;
		if (tn > end)
			break;
		t = tn > t ? tn : t;
		do {
			n = nd_emu_poll_due(&s->e, t, out, due, BATCH, dr, BATCH, &nd);
			for (uint32_t k = 0; k < n; k++) {
				uint32_t sl = out[k];
				uint64_t deq = due[k] - c->delay_ns;

				if (due[k] >= s->win_lo && due[k] < s->win_hi) {
					nd_hist_record(&s->soj[s->slot_flow[sl]], deq - s->slot_sent[sl]);
					s->bytes_win += s->slot_flow[sl] == 0 ? 1500 : 200;
				}
				if (s->slot_flow[sl] == 0)
					evq_push(&s->acks, due[k] + 10 * MS, s->slot_seq[sl], 0);
				s->free_slots[s->nfree++] = sl;
			}
			for (uint32_t k = 0; k < nd; k++) {
				uint32_t sl = dr[k];

				if (s->slot_flow[sl] == 0)
					evq_push(&s->losses, t + 20 * MS, s->slot_seq[sl], 0);
				else
					s->sparse_lost++;
				s->free_slots[s->nfree++] = sl;
			}
		} while (n == BATCH || nd == BATCH);
		while (evq_front(&s->acks) <= t) {
			evq_pop(&s->acks);
			s->inflight--;
			s->cwnd += s->cwnd < s->ssthresh ? 1.0 : 1.0 / s->cwnd;
		}
		while (evq_front(&s->losses) <= t) {
			struct ev x = evq_pop(&s->losses);

			s->inflight--;
			if (x.seq > s->recover || s->recover == 0) {
				s->ssthresh = s->cwnd / 2 > 2 ? s->cwnd / 2 : 2;
				s->cwnd = s->ssthresh;
				s->recover = s->next_seq - 1;
			}
		}
		while (s->inflight < (uint32_t)s->cwnd)
			sim_send(s, 0, 1500, t);
		if (t_sparse <= t) {
			sim_send(s, 1, 200, t);
			t_sparse += 10 * MS;
		}
	}
	free(s->acks.v);
	free(s->losses.v);
	nd_emu_free(&s->e);
}

struct aqm_res {
	double med_ms, p99_ms, sparse_med_ms, sparse_p99_ms, util;
	uint64_t sparse_lost, drop_aqm, drop_buffer;
};

static void aqm_case(enum nd_emu_qdisc qd, bool sparse, struct aqm_res *res, const char *name)
{
	struct sim *s = calloc(1, sizeof(*s));
	struct nd_emu_cfg c;
	struct nd_emu_stats *st = malloc(sizeof(*st));
	const uint64_t end = 4 * SEC;

	cfg_zero(&c);
	c.rate_bps = 100000000;     /* 100 Mbit/s: 1500 B in 120 us */
	c.delay_ns = 10 * MS;       /* base RTT 20 ms, BDP 250 kB = 167 packets */
	c.limit_pkts = 1000;        /* 1000 packets = 120 ms at the link rate */
	c.qdisc = qd;
	c.seed = 5;
	s->win_lo = 2 * SEC;
	s->win_hi = end;
	sim_run(s, &c, sparse, end);
	res->med_ms = (double)nd_hist_percentile(&s->soj[0], 50) / 1e6;
	res->p99_ms = (double)nd_hist_percentile(&s->soj[0], 99) / 1e6;
	res->sparse_med_ms = (double)nd_hist_percentile(&s->soj[1], 50) / 1e6;
	res->sparse_p99_ms = (double)nd_hist_percentile(&s->soj[1], 99) / 1e6;
	res->util = (double)s->bytes_win * 8 / ((double)(s->win_hi - s->win_lo) / 1e9) / 1e8;
	res->sparse_lost = s->sparse_lost;
	printf("# %s: bulk sojourn median %.2f ms p99 %.2f ms; sparse median %.3f ms p99 %.3f ms "
	       "(%llu lost); utilisation %.3f\n",
	       name, res->med_ms, res->p99_ms, res->sparse_med_ms, res->sparse_p99_ms,
	       (unsigned long long)s->sparse_lost, res->util);
	ND_CHECK_EQ(s->slot_short, 0);
	free(st);
	free(s);
}

/*
 * Tolerances: FIFO's median must be at least 40% of the 120 ms the full
 * buffer holds (Reno's sawtooth keeps a 1000-packet buffer between about
 * 420 and 1000 packets once out of slow start, i.e. 50..120 ms); an AQM's
 * median must be within 2x its target, as RFC 8289/8033 promise a
 * standing delay near the target, not at it; utilisation >= 80% (one Reno
 * flow with BDP 167 packets loses some after each halving).
 */
static void test_codel(void)
{
	struct aqm_res fifo, codel;

	aqm_case(ND_QD_FIFO, false, &fifo, "fifo");
	aqm_case(ND_QD_CODEL, false, &codel, "codel");
	ND_CHECK(fifo.med_ms >= 0.4 * 120);
	ND_CHECK(fifo.util > 0.95);
	ND_CHECK(codel.med_ms <= 2 * 5.0);
	ND_CHECK(codel.util > 0.8);
}

static void test_pie(void)
{
	struct aqm_res pie;

	aqm_case(ND_QD_PIE, false, &pie, "pie");
	ND_CHECK(pie.med_ms <= 2 * 15.0);
	ND_CHECK(pie.med_ms >= 15.0 / 4);   /* controls to its own target, not CoDel's */
	ND_CHECK(pie.util > 0.8);
}

/* An unresponsive stream at 2x a 100 Mbit/s link into a 1000-packet
 * buffer for 2.4 s; returns the median sojourn (ms) over the second half. */
static double unresponsive_median(enum nd_emu_qdisc qd, struct nd_emu_stats *st)
{
	const uint32_t n = 40000;
	struct nd_emu_cfg c;
	struct nd_emu e;
	struct run r;
	struct nd_hist *h = malloc(sizeof(*h));
	uint64_t *arr = calloc(n, sizeof(*arr));
	uint32_t *len = calloc(n, sizeof(*len));
	double med;

	for (uint32_t i = 0; i < n; i++) {
		arr[i] = i * 60 * US;
		len[i] = 1500;
	}
	cfg_zero(&c);
	c.rate_bps = 100000000;
	c.limit_pkts = 1000;
	c.qdisc = qd;
	c.seed = 3;
	run_alloc(&r, n);
	r.arr = arr;
	r.len = len;
	ND_CHECK(nd_emu_init(&e, &c, 4096, NULL, 0) == 0);
	run_open(&e, &r);
	nd_emu_get_stats(&e, st);
	nd_hist_init(h);
	for (uint32_t i = n / 2; i < n; i++)    /* 1.2 s .. 2.4 s */
		if (r.fate[i] == FATE_OUT)
			nd_hist_record(h, r.due[i] - arr[i]);
	med = (double)nd_hist_percentile(h, 50) / 1e6;
	printf("# %s, unresponsive 2x: median %.2f ms, aqm drops %llu, buffer drops %llu\n",
	       qd == ND_QD_PIE ? "pie" : "fifo", med, (unsigned long long)st->drop_aqm,
	       (unsigned long long)st->drop_buffer);
	nd_emu_free(&e);
	run_free(&r);
	free(arr);
	free(len);
	free(h);
	return med;
}

/* FIFO against an unresponsive 2x stream: the buffer stays full, every
 * packet waits buffer / rate = 1000 * 120 us (histogram resolution 0.8%,
 * tolerance 2%). */
static void test_fifo_full_buffer(void)
{
	struct nd_emu_stats *st = malloc(sizeof(*st));
	double med = unresponsive_median(ND_QD_FIFO, st);

	ND_CHECK(fabs(med - 120.0) < 0.02 * 120.0);
	ND_CHECK(st->drop_buffer > 40000 / 3);
	free(st);
}

/* PIE against the same stream: it must drop about half at enqueue and
 * still hold the delay near its target (CoDel cannot do this: its drop
 * rate grows with sqrt(count) and needs minutes to reach 50%). */
static void test_pie_unresponsive(void)
{
	struct nd_emu_stats *st = malloc(sizeof(*st));
	double med = unresponsive_median(ND_QD_PIE, st);

	ND_CHECK(med <= 2 * 15.0);
	ND_CHECK(st->drop_aqm > 40000 / 3);
	free(st);
}

static void test_fq_codel(void)
{
	struct aqm_res fifo, fq;

	aqm_case(ND_QD_FIFO, true, &fifo, "fifo + sparse");
	aqm_case(ND_QD_FQ_CODEL, true, &fq, "fq_codel + sparse");
	/* Under FIFO the sparse flow waits behind the bulk queue ... */
	ND_CHECK(fifo.sparse_med_ms > 0.4 * 120);
	/* ... under FQ-CoDel it goes first: below the 5 ms target even at
	 * the 99th percentile (in practice a packet time or two), never
	 * dropped; the bulk flow is controlled like plain CoDel. */
	ND_CHECK(fq.sparse_p99_ms < 5.0);
	ND_CHECK(fq.sparse_med_ms < 1.0);
	ND_CHECK_EQ(fq.sparse_lost, 0);
	ND_CHECK(fq.med_ms <= 2 * 5.0);
	ND_CHECK(fq.util > 0.8);
}

/* FQ-CoDel overflow takes from the fattest flow: a thin flow sharing a
 * full buffer with a fat one loses nothing. */
static void test_fq_overflow_fattest(void)
{
	const uint32_t n = 6000;
	struct nd_emu_cfg c;
	struct nd_emu e;
	struct run r;
	struct nd_emu_stats *st = malloc(sizeof(*st));
	uint64_t *arr = calloc(n, sizeof(*arr));
	uint32_t *len = calloc(n, sizeof(*len)), *hash = calloc(n, sizeof(*hash)), thin_lost = 0;

	for (uint32_t i = 0; i < n; i++) {
		/* thin: 10% of the packets, each arriving right behind a fat
		 * one, so the buffer is full when it comes */
		arr[i] = (i % 10 == 0 && i ? i - 1 : i) * 60 * US;
		len[i] = 1500;
		hash[i] = i % 10 == 0 ? 2 : 1;
	}
	cfg_zero(&c);
	c.rate_bps = 100000000;
	c.limit_pkts = 100;
	c.qdisc = ND_QD_FQ_CODEL;
	c.target_ns = 1 * SEC;   /* keep CoDel out of it: only overflow drops */
	c.interval_ns = 10 * SEC;
	run_alloc(&r, n);
	r.arr = arr;
	r.len = len;
	r.hash = hash;
	ND_CHECK(nd_emu_init(&e, &c, 1024, NULL, 0) == 0);
	run_open(&e, &r);
	nd_emu_get_stats(&e, st);
	for (uint32_t i = 0; i < n; i++)
		thin_lost += hash[i] == 2 && r.fate[i] != FATE_OUT;
	ND_CHECK_EQ(thin_lost, 0);
	ND_CHECK(st->drop_buffer > n / 4);
	ND_CHECK_EQ(st->drop_aqm, 0);
	ND_CHECK_EQ(st->queue_pkts_max, 100);
	ND_CHECK_EQ(r.twice, 0);
	ND_CHECK_EQ(r.norder + st->drop_buffer, n);
	nd_emu_free(&e);
	run_free(&r);
	free(arr);
	free(len);
	free(hash);
	free(st);
}

/* FQ-CoDel scheduling: backlogged flows share by bytes (DRR), and a
 * packet of a new (sparse) flow goes ahead of all of them. */
static void test_fq_drr_priority(void)
{
	struct nd_emu_cfg c;
	struct nd_emu e;
	uint32_t out[BATCH], dr[BATCH], nd, n, cnt[5] = { 0 }, before_sparse = 0, sparse_seen = 0;
	uint64_t t = 0, sparse_due = 0;
	uint64_t due[BATCH];

	cfg_zero(&c);
	c.rate_bps = 1000000;        /* 8 ms per 1000 B */
	c.burst_bytes = 1514;
	c.qdisc = ND_QD_FQ_CODEL;
	c.target_ns = 1 * SEC;       /* no AQM drops here */
	c.interval_ns = 10 * SEC;
	ND_CHECK(nd_emu_init(&e, &c, 256, NULL, 0) == 0);
	for (uint32_t i = 0; i < 60; i++)   /* flows 1..3, 20 packets each, 1000 B */
		ND_CHECK(nd_emu_enqueue(&e, i, 1000, 1 + i % 3, 0) == ND_EMU_QUEUED);
	while ((t = nd_emu_next_event(&e, t)) != UINT64_MAX) {
		if (t > 100 * MS && !sparse_seen) {
			t = 100 * MS + 1;     /* flow 4 sends one packet */
			ND_CHECK(nd_emu_enqueue(&e, 100, 1000, 4, t) == ND_EMU_QUEUED);
			sparse_seen = 1;
		}
		n = nd_emu_poll_due(&e, t, out, due, BATCH, dr, BATCH, &nd);
		for (uint32_t k = 0; k < n; k++) {
			if (out[k] == 100) {
				sparse_due = due[k];
				continue;
			}
			if (!sparse_due && due[k] > 100 * MS)
				before_sparse++;
			if (due[k] <= 300 * MS)
				cnt[1 + out[k] % 3]++;
		}
	}
	/* It waited only for the packet already being sent (and one the
	 * scheduler had already chosen, waiting for tokens): <= 2 * 8 ms. */
	ND_CHECK(sparse_due > 100 * MS && sparse_due <= 100 * MS + 16 * MS);
	ND_CHECK(before_sparse <= 1);
	/* Byte fairness among the three backlogged flows. */
	printf("# drr: %u %u %u packets in 300 ms\n", cnt[1], cnt[2], cnt[3]);
	ND_CHECK(cnt[1] + cnt[2] + cnt[3] >= 30);
	for (int f = 1; f <= 3; f++)
		ND_CHECK(cnt[f] + 2 >= cnt[1 + f % 3] && cnt[f] <= cnt[1 + f % 3] + 2);
	nd_emu_free(&e);
}

/* --- reconfiguration --- */

static void test_reconfigure_shrink(void)
{
	struct nd_emu_cfg c;
	struct nd_emu e;
	struct nd_emu_stats *st = malloc(sizeof(*st));
	uint32_t out[BATCH], dr[128], nd, qpkts, expect_drop, bad = 0;
	char err[128];

	cfg_zero(&c);
	c.rate_bps = 1000000;   /* 1000 B per 8 ms */
	ND_CHECK(nd_emu_init(&e, &c, 256, NULL, 0) == 0);
	for (uint32_t i = 0; i < 100; i++)
		ND_CHECK(nd_emu_enqueue(&e, i, 1000, 0, i * US) == ND_EMU_QUEUED);
	nd_emu_get_stats(&e, st);
	qpkts = (uint32_t)st->queue_pkts;
	ND_CHECK(qpkts > 90 && st->queue_bytes == qpkts * 1000u);
	c.limit_bytes = 30000;
	ND_CHECK(nd_emu_reconfigure(&e, &c, 200 * US, err, sizeof(err)) == 0);
	nd_emu_get_stats(&e, st);
	expect_drop = qpkts - 30;
	ND_CHECK_EQ(st->queue_bytes, 30000);
	ND_CHECK_EQ(st->drop_buffer, expect_drop);
	ND_CHECK_EQ(nd_emu_poll(&e, 200 * US, out, BATCH, dr, 128, &nd), 3);   /* the 3028 B bucket */
	ND_CHECK_EQ(nd, expect_drop);
	for (uint32_t k = 0; k < nd; k++)   /* the newest went */
		bad += dr[k] < 100 - expect_drop;
	ND_CHECK_EQ(bad, 0);
	/* New arrivals now meet the smaller limit. */
	ND_CHECK(nd_emu_enqueue(&e, 200, 1000, 0, 300 * US) == ND_EMU_DROP_BUFFER);
	nd_emu_free(&e);

	/* FQ-CoDel: shrinking limit_pkts sheds heads of the fattest flow. */
	cfg_zero(&c);
	c.rate_bps = 1000000;
	c.qdisc = ND_QD_FQ_CODEL;
	ND_CHECK(nd_emu_init(&e, &c, 256, NULL, 0) == 0);
	for (uint32_t i = 0; i < 100; i++)
		ND_CHECK(nd_emu_enqueue(&e, i, 1000, i < 80 ? 1 : 2, i * US) == ND_EMU_QUEUED);
	c.limit_pkts = 40;
	ND_CHECK(nd_emu_reconfigure(&e, &c, 200 * US, err, sizeof(err)) == 0);
	nd_emu_get_stats(&e, st);
	ND_CHECK_EQ(st->queue_pkts, 40);
	nd_emu_poll(&e, 200 * US, out, BATCH, dr, 128, &nd);
	bad = 0;
	for (uint32_t k = 0; k < nd; k++)
		bad += dr[k] >= 80;   /* only the fat flow (slots 0..79) lost */
	ND_CHECK_EQ(bad, 0);
	ND_CHECK_EQ(nd, st->drop_buffer);
	nd_emu_free(&e);
	free(st);
}

static void test_reconfigure_rate(void)
{
	const uint32_t n = 2000;
	const uint64_t T = 500 * MS + 123;
	struct nd_emu_cfg c, c2;
	struct nd_emu e;
	struct run r;
	uint64_t *arr = calloc(n, sizeof(*arr));
	uint32_t *len = calloc(n, sizeof(*len)), k = 0, bad = 0;

	for (uint32_t i = 0; i < n; i++) {
		arr[i] = i * 500 * US;   /* 1250 B every 0.5 ms: 20 Mbit/s */
		len[i] = 1250;
	}
	cfg_zero(&c);
	c.rate_bps = 10000000;   /* 1 ms per packet */
	c.burst_bytes = 2500;
	c2 = c;
	c2.rate_bps = 20000000;  /* 0.5 ms per packet */
	run_alloc(&r, n);
	r.arr = arr;
	r.len = len;
	r.reconf_at = T;
	r.reconf = &c2;
	ND_CHECK(nd_emu_init(&e, &c, n, NULL, 0) == 0);
	run_open(&e, &r);
	ND_CHECK_EQ(r.norder, n);
	while (r.due[k] <= T)
		k++;
	for (uint32_t i = 3; i < k; i++)
		bad += r.due[i] - r.due[i - 1] != 1 * MS;
	ND_CHECK_EQ(bad, 0);
	/* The packet waiting at T: partly old, partly new rate. */
	ND_CHECK(r.due[k] - r.due[k - 1] >= 500 * US && r.due[k] - r.due[k - 1] <= 1 * MS);
	bad = 0;
	for (uint32_t i = k + 1; i < n; i++)
		bad += r.due[i] - r.due[i - 1] != 500 * US;
	ND_CHECK_EQ(bad, 0);
	nd_emu_free(&e);
	run_free(&r);
	free(arr);
	free(len);
}

/* Switching queue disciplines with packets queued keeps all of them. */
static void test_reconfigure_qdisc(void)
{
	const enum nd_emu_qdisc seq[] = { ND_QD_FQ_CODEL, ND_QD_PIE, ND_QD_CODEL, ND_QD_FIFO, ND_QD_FQ_CODEL };
	struct nd_emu_cfg c;
	struct nd_emu e;
	struct nd_emu_stats *st = malloc(sizeof(*st));
	uint32_t out[BATCH], dr[BATCH], nd, n, seen[300] = { 0 }, total = 0, twice = 0, order_bad = 0;
	uint32_t last = 0;
	uint64_t t = 0;
	char err[128];

	cfg_zero(&c);
	c.rate_bps = 10000000;
	c.target_ns = 1 * SEC;   /* no AQM drops: only moves */
	c.interval_ns = 10 * SEC;
	ND_CHECK(nd_emu_init(&e, &c, 512, NULL, 0) == 0);
	for (uint32_t i = 0; i < 300; i++)
		ND_CHECK(nd_emu_enqueue(&e, i, 1000, 7, i * 10 * US) == ND_EMU_QUEUED);
	for (uint32_t s = 0; s < 5; s++) {
		c.qdisc = seq[s];
		c.flows = s == 4 ? 2048 : 0;   /* more flows than before: a new array */
		t += 20 * MS;
		ND_CHECK(nd_emu_reconfigure(&e, &c, t, err, sizeof(err)) == 0);
		do {
			n = nd_emu_poll(&e, t, out, BATCH, dr, BATCH, &nd);
			for (uint32_t k = 0; k < n; k++) {
				twice += seen[out[k]]++ != 0;
				order_bad += total && out[k] < last;   /* one flow: FIFO order kept */
				last = out[k];
				total++;
			}
			ND_CHECK_EQ(nd, 0);
		} while (n == BATCH);
	}
	while ((t = nd_emu_next_event(&e, t)) != UINT64_MAX) {
		n = nd_emu_poll(&e, t, out, BATCH, dr, BATCH, &nd);
		for (uint32_t k = 0; k < n; k++) {
			twice += seen[out[k]]++ != 0;
			order_bad += out[k] < last;
			last = out[k];
			total++;
		}
	}
	ND_CHECK_EQ(total, 300);
	ND_CHECK_EQ(twice, 0);
	ND_CHECK_EQ(order_bad, 0);
	nd_emu_get_stats(&e, st);
	ND_CHECK_EQ(st->drop_buffer + st->drop_aqm, 0);
	nd_emu_free(&e);
	free(st);
}

/* --- limits, validation, small API contracts --- */

static void test_engine_limits(void)
{
	struct nd_emu_cfg c;
	struct nd_emu e;
	struct nd_emu_stats *st = malloc(sizeof(*st));
	uint32_t out[4], dr[4], nd, full = 0;
	uint64_t t;

	cfg_zero(&c);
	c.rate_bps = 1000000;
	ND_CHECK(nd_emu_init(&e, &c, 10, NULL, 0) == 0);
	ND_CHECK_EQ(nd_emu_next_event(&e, 0), UINT64_MAX);
	for (uint32_t i = 0; i < 20; i++)
		full += nd_emu_enqueue(&e, i, 1000, 0, 0) == ND_EMU_DROP_ENGINE_FULL;
	ND_CHECK_EQ(full, 10);
	ND_CHECK(nd_emu_enqueue(&e, 99, 1515, 0, 0) == ND_EMU_DROP_MTU);
	nd_emu_get_stats(&e, st);
	ND_CHECK_EQ(st->drop_engine_full, 10);
	ND_CHECK_EQ(st->drop_mtu, 1);
	ND_CHECK_EQ(st->in_pkts, 21);
	/* Three leave at once with the 3028 B bucket; poll hands out at most max. */
	ND_CHECK_EQ(nd_emu_next_event(&e, 0), 0);
	ND_CHECK_EQ(nd_emu_poll(&e, 0, out, 1, dr, 4, &nd), 1);
	ND_CHECK_EQ(out[0], 0);
	ND_CHECK_EQ(nd_emu_poll(&e, 0, out, 4, dr, 4, &nd), 2);
	ND_CHECK_EQ(out[0], 1);
	ND_CHECK_EQ(out[1], 2);
	/* Then one per 8 ms, less the 28 B left. */
	t = nd_emu_next_event(&e, 0);
	ND_CHECK_EQ(t, (972 * 8 * SEC + 999999) / 1000000);
	ND_CHECK_EQ(nd_emu_poll(&e, t - 1, out, 4, dr, 4, &nd), 0);
	ND_CHECK_EQ(nd_emu_poll(&e, t, out, 4, dr, 4, &nd), 1);
	/* Time going backwards is taken as the latest time seen. */
	ND_CHECK_EQ(nd_emu_poll(&e, 0, out, 4, dr, 4, &nd), 0);
	nd_emu_free(&e);
	nd_emu_free(&e);   /* harmless twice */
	free(st);
}

static void test_cfg_validation(void)
{
	struct nd_emu_cfg c, r;
	struct nd_emu e;
	char err[128];

	cfg_zero(&c);
	ND_CHECK(nd_emu_cfg_resolve(&c, &r, err, sizeof(err)) == 0);
	ND_CHECK_EQ(r.mtu, 1514);
	ND_CHECK_EQ(r.burst_bytes, 3028);
	ND_CHECK_EQ(r.target_ns, 5 * MS);
	ND_CHECK_EQ(r.interval_ns, 100 * MS);
	ND_CHECK_EQ(r.flows, 1024);
	ND_CHECK_EQ(r.quantum, 1514);
	c.qdisc = ND_QD_PIE;
	c.rate_bps = 1000000000;
	ND_CHECK(nd_emu_cfg_resolve(&c, &r, err, sizeof(err)) == 0);
	ND_CHECK_EQ(r.target_ns, 15 * MS);
	ND_CHECK_EQ(r.burst_bytes, 125000);   /* 1 ms at 1 Gbit/s */
	ND_CHECK_EQ(nd_emu_bdp_bytes(100000000, 20 * MS), 250000);
	ND_CHECK_EQ(nd_emu_bdp_bytes(0, 20 * MS), 0);

	err[0] = 0;
	c.loss_random = 1.5;
	ND_CHECK(nd_emu_cfg_resolve(&c, &r, err, sizeof(err)) == -1);
	ND_CHECK(err[0] != 0);
	c.loss_random = NAN;
	ND_CHECK(nd_emu_cfg_resolve(&c, &r, err, sizeof(err)) == -1);
	c.loss_random = 0;
	c.burst_bytes = 1000;   /* < mtu */
	ND_CHECK(nd_emu_cfg_resolve(&c, &r, err, sizeof(err)) == -1);
	c.burst_bytes = 0;
	c.limit_bytes = 100;
	ND_CHECK(nd_emu_cfg_resolve(&c, &r, err, sizeof(err)) == -1);
	c.limit_bytes = 0;
	c.qdisc = (enum nd_emu_qdisc)9;
	ND_CHECK(nd_emu_cfg_resolve(&c, &r, err, sizeof(err)) == -1);
	c.qdisc = ND_QD_FIFO;
	c.rate_bps = ND_EMU_RATE_MAX + 1;
	ND_CHECK(nd_emu_init(&e, &c, 10, err, sizeof(err)) == -1);
	nd_emu_free(&e);
	c.rate_bps = 0;
	ND_CHECK(nd_emu_init(&e, &c, 0, err, sizeof(err)) == -1);
	ND_CHECK(nd_emu_init(&e, &c, 10, err, sizeof(err)) == 0);
	c.ge_r = -1;
	ND_CHECK(nd_emu_reconfigure(&e, &c, 0, err, sizeof(err)) == -1);
	nd_emu_free(&e);
}

/* CoDel's control law: once dropping, the k-th gap between drops is
 * interval / sqrt(k), quantised to dequeue instants (a packet time,
 * 120 us, is the tolerance). Polling at every event, a drop is handed
 * back at the instant it happens. */
static void test_codel_control_law(void)
{
	const uint32_t n = 16000;
	struct nd_emu_cfg c;
	struct nd_emu e;
	struct run r;
	uint64_t *arr = calloc(n, sizeof(*arr)), *drop_at = calloc(n, sizeof(*drop_at)), times[16];
	uint32_t *len = calloc(n, sizeof(*len)), nt = 0;

	for (uint32_t i = 0; i < n; i++) {
		arr[i] = i * 60 * US;    /* unresponsive 2x */
		len[i] = 1500;
	}
	cfg_zero(&c);
	c.rate_bps = 100000000;
	c.qdisc = ND_QD_CODEL;
	run_alloc(&r, n);
	r.arr = arr;
	r.len = len;
	r.drop_at = drop_at;
	ND_CHECK(nd_emu_init(&e, &c, n, NULL, 0) == 0);
	run_open(&e, &r);
	for (uint32_t i = 0; i < n && nt < 16; i++)   /* drops happen in arrival order here */
		if (r.fate[i] == FATE_DROP)
			times[nt++] = drop_at[i];
	ND_CHECK(nt >= 9);
	/* First drop: sojourn above 5 ms (at ~10 ms) for a whole 100 ms. */
	ND_CHECK(nt && times[0] >= 105 * MS && times[0] <= 115 * MS);
	for (uint32_t k = 1; k < 9 && k < nt; k++) {
		double gap = (double)(times[k] - times[k - 1]), want = 100e6 / sqrt((double)k);

		if (fabs(gap - want) > 120e3)
			printf("# gap %u: %.3f ms, want %.3f ms\n", k, gap / 1e6, want / 1e6);
		ND_CHECK(fabs(gap - want) <= 120e3);
	}
	nd_emu_free(&e);
	run_free(&r);
	free(arr);
	free(drop_at);
	free(len);
}

/* PIE's update with the auto-tuned gains, checked on its first two
 * ticks (white box: reads the engine's PIE state). 1000 B packets at
 * 1 Mbit/s (8 ms each), 20 at time 0, bucket 3028 B: packets 0-2 leave
 * at 0, packet 3 at 7.776 ms, then every 8 ms. */
static void test_pie_update(void)
{
	struct nd_emu_cfg c;
	struct nd_emu e;
	uint32_t out[BATCH], nd;
	double q1 = 7.776e-3, q2 = 23.776e-3, p1, p2;

	cfg_zero(&c);
	c.rate_bps = 1000000;
	c.qdisc = ND_QD_PIE;
	ND_CHECK(nd_emu_init(&e, &c, 64, NULL, 0) == 0);
	for (uint32_t i = 0; i < 20; i++)
		ND_CHECK(nd_emu_enqueue(&e, i, 1000, 0, 0) == ND_EMU_QUEUED);
	nd_emu_poll(&e, 15 * MS, out, BATCH, NULL, 0, &nd);
	/* tick at 15 ms: qdelay = packet 3's sojourn, drop_prob 0: gain / 2048 */
	p1 = (0.125 * (q1 - 0.015) + 1.25 * (q1 - 0)) / 2048;
	ND_CHECK_EQ(e.pie.qdelay_old, 7776000);
	ND_CHECK(fabs(e.pie.drop_prob - p1) < 1e-12);
	nd_emu_poll(&e, 30 * MS, out, BATCH, NULL, 0, &nd);
	/* tick at 30 ms: packet 5 left at 23.776 ms; drop_prob < 1e-5: / 512 */
	p2 = p1 + (0.125 * (q2 - 0.015) + 1.25 * (q2 - q1)) / 512;
	ND_CHECK_EQ(e.pie.qdelay_old, 23776000);
	ND_CHECK(fabs(e.pie.drop_prob - p2) < 1e-12);
	ND_CHECK(e.pie.burst_left == 150 * MS - 30 * MS);
	nd_emu_free(&e);
}

/* A CoDel queue drops at dequeue and hands the slots back through poll;
 * every slot comes back exactly once. */
static void test_codel_drops_returned(void)
{
	const uint32_t n = 30000;
	struct nd_emu_cfg c;
	struct nd_emu e;
	struct run r;
	struct nd_emu_stats *st = malloc(sizeof(*st));
	uint64_t *arr = calloc(n, sizeof(*arr));
	uint32_t *len = calloc(n, sizeof(*len)), dropped = 0;

	for (uint32_t i = 0; i < n; i++) {
		arr[i] = i * 100 * US;   /* 1.2x a 100 Mbit/s link */
		len[i] = 1500;
	}
	cfg_zero(&c);
	c.rate_bps = 100000000;
	c.qdisc = ND_QD_CODEL;
	run_alloc(&r, n);
	r.arr = arr;
	r.len = len;
	r.step = 2 * MS;
	ND_CHECK(nd_emu_init(&e, &c, n, NULL, 0) == 0);
	run_open(&e, &r);
	nd_emu_get_stats(&e, st);
	for (uint32_t i = 0; i < n; i++)
		dropped += r.fate[i] == FATE_DROP;
	ND_CHECK_EQ(r.twice, 0);
	ND_CHECK(st->drop_aqm > 0);
	ND_CHECK_EQ(st->drop_aqm, dropped);
	ND_CHECK_EQ(r.norder + dropped, n);
	ND_CHECK_EQ(st->queue_pkts + st->delay_line_pkts + st->drop_pending, 0);
	nd_emu_free(&e);
	run_free(&r);
	free(arr);
	free(len);
	free(st);
}

int main(void)
{
	ND_RUN(test_rate);
	ND_RUN(test_rate_no_drift);
	ND_RUN(test_delay_exact);
	ND_RUN(test_jitter);
	ND_RUN(test_jitter_order);
	ND_RUN(test_buffer_fifo);
	ND_RUN(test_buffer_fq_codel);
	ND_RUN(test_loss_random);
	ND_RUN(test_loss_gilbert_elliott);
	ND_RUN(test_codel);
	ND_RUN(test_pie);
	ND_RUN(test_fifo_full_buffer);
	ND_RUN(test_pie_unresponsive);
	ND_RUN(test_fq_codel);
	ND_RUN(test_fq_overflow_fattest);
	ND_RUN(test_fq_drr_priority);
	ND_RUN(test_codel_drops_returned);
	ND_RUN(test_codel_control_law);
	ND_RUN(test_pie_update);
	ND_RUN(test_reconfigure_shrink);
	ND_RUN(test_reconfigure_rate);
	ND_RUN(test_reconfigure_qdisc);
	ND_RUN(test_engine_limits);
	ND_RUN(test_cfg_validation);
	return nd_test_done();
}
