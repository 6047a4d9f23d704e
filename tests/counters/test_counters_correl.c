/* SPDX-License-Identifier: MIT */
/* Unit tests of the drop/retransmission correlation (src/counters/correl.c). */
#include <errno.h>
#include <string.h>

#include "counters/correl.h"
#include "nd_test.h"

enum { NS_A = 100, NS_B = 200 };
enum { RX_DROP = 1, QDISC_DROP = 2, RETRANS = 10, TIMEOUTS = 11, OTHER_DROP = 3 };

static struct nd_corr *make(uint32_t window, uint32_t top)
{
	struct nd_corr_cfg cfg;
	struct nd_corr *c = NULL;

	nd_corr_cfg_default(&cfg);
	cfg.window = window;
	cfg.top = top;
	ND_CHECK_EQ(nd_corr_new(&cfg, &c), 0);
	return c;
}

static void push(struct nd_corr *c, const struct nd_corr_item *it, size_t n)
{
	ND_CHECK_EQ(nd_corr_push(c, it, n, 1.0), 0);
}

/* "RX drops on dev X in ns Y: 152; RetransSegs in ns Y: 150" */
static void test_pairs_what_moved_together(void)
{
	struct nd_corr *c = make(10, 3);
	struct nd_corr_match m[8];
	long n;

	for (int i = 0; i < 3; i++) {
		struct nd_corr_item it[] = {
			{ RX_DROP, NS_A, 50 + (uint64_t)i, ND_CORR_DROP },       /* 50+51+52 = 153 */
			{ RETRANS, NS_A, 50, ND_CORR_SYMPTOM },
		};
		push(c, it, 2);
	}
	/* A drop counter that moves at other times, in another namespace. */
	for (int i = 0; i < 3; i++) {
		struct nd_corr_item it[] = { { OTHER_DROP, NS_B, 500, ND_CORR_DROP } };
		push(c, it, 1);
	}
	n = nd_corr_matches(c, m, 8);
	ND_CHECK_EQ(n, 1);
	ND_CHECK(m[0].drop_key == RX_DROP && m[0].sym_key == RETRANS);
	ND_CHECK_EQ(m[0].drop_total, 153);
	ND_CHECK_EQ(m[0].sym_total, 150);
	ND_CHECK_EQ(m[0].together, 3);
	ND_CHECK_EQ(m[0].intervals, 6);
	ND_CHECK_EQ(m[0].drop_group, NS_A);
	ND_CHECK(m[0].score > 0.97 && m[0].score <= 1.0);
	ND_CHECK(nd_corr_window_seconds(c) == 6.0);
	nd_corr_free(c);
}

static void test_ranking(void)
{
	struct nd_corr *c = make(10, 2);
	struct nd_corr_match m[8];
	long n;

	/* RETRANS moves in intervals 0..3 by 100. QDISC_DROP moves in the
	 * same ones by about as much (best); RX_DROP in two of them by far
	 * less; a drop in NS_B in the same intervals and amounts (half the
	 * score across namespaces). */
	for (int i = 0; i < 4; i++) {
		struct nd_corr_item it[4];
		size_t k = 0;

		it[k++] = (struct nd_corr_item){ RETRANS, NS_A, 100, ND_CORR_SYMPTOM };
		it[k++] = (struct nd_corr_item){ QDISC_DROP, NS_A, 98, ND_CORR_DROP };
		it[k++] = (struct nd_corr_item){ OTHER_DROP, NS_B, 99, ND_CORR_DROP };
		if (i < 2)
			it[k++] = (struct nd_corr_item){ RX_DROP, NS_A, 5, ND_CORR_DROP };
		push(c, it, k);
	}
	n = nd_corr_matches(c, m, 8);
	ND_CHECK_EQ(n, 2);          /* top 2 per symptom */
	ND_CHECK_EQ(m[0].drop_key, QDISC_DROP);
	ND_CHECK_EQ(m[1].drop_key, OTHER_DROP);
	ND_CHECK(m[1].score < 0.51 && m[1].score > 0.45);
	ND_CHECK(m[0].score > m[1].score);
	nd_corr_free(c);
}

static void test_window_slides(void)
{
	struct nd_corr *c = make(3, 3);
	struct nd_corr_match m[4];
	struct nd_corr_item both[] = {
		{ RX_DROP, NS_A, 10, ND_CORR_DROP },
		{ TIMEOUTS, NS_A, 10, ND_CORR_SYMPTOM },
	};

	push(c, both, 2);
	ND_CHECK_EQ(nd_corr_matches(c, m, 4), 1);
	push(c, NULL, 0);
	push(c, NULL, 0);
	ND_CHECK_EQ(nd_corr_matches(c, m, 4), 1);
	push(c, NULL, 0);           /* the interval left the window */
	ND_CHECK_EQ(nd_corr_matches(c, m, 4), 0);
	ND_CHECK(nd_corr_window_seconds(c) == 3.0);
	nd_corr_free(c);
}

static void test_no_symptom_no_match(void)
{
	struct nd_corr *c = make(5, 3);
	struct nd_corr_match m[4];
	struct nd_corr_item it[] = {
		{ RX_DROP, NS_A, 10, ND_CORR_DROP },
		{ RETRANS, NS_A, 0, ND_CORR_SYMPTOM },      /* did not move: ignored */
	};

	push(c, it, 2);
	ND_CHECK_EQ(nd_corr_matches(c, m, 4), 0);
	nd_corr_free(c);
}

static void test_caps(void)
{
	struct nd_corr_cfg cfg;
	struct nd_corr *c;
	struct nd_corr_match m[1];
	struct nd_corr_stats st;
	struct nd_corr_item it[] = {
		{ RETRANS, NS_A, 10, ND_CORR_SYMPTOM },
		{ TIMEOUTS, NS_A, 10, ND_CORR_SYMPTOM },
		{ RX_DROP, NS_A, 10, ND_CORR_DROP },
		{ QDISC_DROP, NS_A, 10, ND_CORR_DROP },
	};

	nd_corr_cfg_default(&cfg);
	cfg.max_items = 3;
	ND_CHECK_EQ(nd_corr_new(&cfg, &c), 0);
	ND_CHECK_EQ(nd_corr_push(c, it, 4, 1.0), 0);
	nd_corr_get_stats(c, &st);
	ND_CHECK_EQ(st.items_skipped, 1);
	ND_CHECK_EQ(nd_corr_matches(c, m, 1), 1);       /* two pairs, room for one */
	nd_corr_get_stats(c, &st);
	ND_CHECK_EQ(st.matches_dropped, 1);
	nd_corr_free(c);
	cfg.window = 65;
	ND_CHECK_EQ(nd_corr_new(&cfg, &c), -EINVAL);
	nd_corr_free(NULL);
}

int main(void)
{
	ND_RUN(test_pairs_what_moved_together);
	ND_RUN(test_ranking);
	ND_RUN(test_window_slides);
	ND_RUN(test_no_symptom_no_match);
	ND_RUN(test_caps);
	return nd_test_done();
}
