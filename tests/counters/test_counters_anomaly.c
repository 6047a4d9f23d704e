/* SPDX-License-Identifier: MIT */
/* Unit tests of the anomaly detector (src/counters/anomaly.c): quiet on
 * steady input, flags bursts and still counters that start moving, with
 * evidence, and no alarm storms. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "counters/anomaly.h"
#include "nd_test.h"

/* A deterministic "noise" in [-1, 1]. */
static double noise(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return (double)((*s >> 8) & 0xffff) / 32767.5 - 1;
}

struct feed {
	struct nd_anom *a;
	uint64_t value;
	int raised, cleared;
	struct nd_anom_result last, last_raise;
};

static void feed(struct feed *f, uint64_t key, uint64_t delta)
{
	struct nd_anom_obs o = { key, f->value, delta, 1.0 };
	struct nd_anom_result r;

	ND_CHECK_EQ(nd_anom_observe(f->a, &o, &r), 0);
	f->value += delta;
	if (r.event == ND_ANOM_EV_RAISED) {
		f->raised++;
		f->last_raise = r;
	}
	if (r.event == ND_ANOM_EV_CLEARED)
		f->cleared++;
	f->last = r;
	nd_anom_end_interval(f->a, 0);
}

static struct nd_anom *make(uint32_t raise, uint32_t clear)
{
	struct nd_anom_cfg cfg;
	struct nd_anom *a = NULL;

	nd_anom_cfg_default(&cfg);
	cfg.raise_after = raise;
	cfg.clear_after = clear;
	ND_CHECK_EQ(nd_anom_new(&cfg, &a), 0);
	return a;
}

static void test_steady_is_quiet(void)
{
	struct feed f = { make(1, 3), 1000000, 0, 0, { 0 }, { 0 } };
	uint32_t s = 1;

	/* 100/s +- 10 %, 500 intervals. */
	for (int i = 0; i < 500; i++)
		feed(&f, 1, (uint64_t)(100 + 10 * noise(&s)));
	ND_CHECK_EQ(f.raised, 0);
	/* A counter that never moves. */
	for (int i = 0; i < 100; i++)
		feed(&f, 2, 0);
	ND_CHECK_EQ(f.raised, 0);
	nd_anom_free(f.a);
}

static void test_burst_flagged_with_evidence(void)
{
	struct feed f = { make(1, 3), 5000, 0, 0, { 0 }, { 0 } };
	uint32_t s = 7;

	for (int i = 0; i < 30; i++)
		feed(&f, 1, (uint64_t)(100 + 5 * noise(&s)));
	ND_CHECK_EQ(f.raised, 0);
	feed(&f, 1, 1000);
	ND_CHECK_EQ(f.raised, 1);
	ND_CHECK_EQ(f.last_raise.rule, ND_ANOM_RULE_DEVIATION);
	ND_CHECK(fabs(f.last_raise.baseline - 100) < 10);
	ND_CHECK(f.last_raise.band < 1000 && f.last_raise.band > f.last_raise.baseline);
	ND_CHECK(f.last_raise.rate == 1000);
	ND_CHECK_EQ(f.last_raise.samples, 30);
	ND_CHECK(f.last.active);
	/* Back to normal: cleared after exactly three normal intervals. */
	feed(&f, 1, 100);
	feed(&f, 1, 100);
	ND_CHECK_EQ(f.cleared, 0);
	ND_CHECK(nd_anom_is_active(f.a, 1));
	feed(&f, 1, 100);
	ND_CHECK_EQ(f.cleared, 1);
	ND_CHECK(!nd_anom_is_active(f.a, 1));
	ND_CHECK_EQ(f.last.alarm_delta, 1300);
	ND_CHECK_EQ(f.last.alarm_intervals, 4);
	/* The burst did not teach the baseline that bursts are normal. */
	ND_CHECK(f.last.baseline < 200);
	nd_anom_free(f.a);
}

static void test_zero_start(void)
{
	struct feed f = { make(1, 3), 0, 0, 0, { 0 }, { 0 } };

	/* Value 0 before: flagged on the first interval it moves. */
	feed(&f, 1, 0);
	ND_CHECK_EQ(f.raised, 0);
	feed(&f, 1, 5);
	ND_CHECK_EQ(f.raised, 1);
	ND_CHECK_EQ(f.last_raise.rule, ND_ANOM_RULE_ZERO_START);
	ND_CHECK(f.last_raise.was_zero);
	/* It keeps moving: still one alarm, still anomalous. */
	feed(&f, 1, 7);
	ND_CHECK_EQ(f.raised, 1);
	ND_CHECK_EQ(f.last.rule, ND_ANOM_RULE_ZERO_START);
	nd_anom_free(f.a);
}

static void test_zero_start_after_still(void)
{
	struct feed f = { make(1, 3), 12345, 0, 0, { 0 }, { 0 } };

	/* A non-zero counter still for 2 intervals (< warmup 3) that moves:
	 * too little history. */
	feed(&f, 1, 0);
	feed(&f, 1, 0);
	feed(&f, 1, 4);
	ND_CHECK_EQ(f.raised, 0);
	/* Still for 3 intervals, then moves. */
	feed(&f, 1, 0);
	feed(&f, 1, 0);
	feed(&f, 1, 0);
	feed(&f, 1, 9);
	ND_CHECK_EQ(f.raised, 1);
	ND_CHECK_EQ(f.last_raise.rule, ND_ANOM_RULE_ZERO_START);
	ND_CHECK(!f.last_raise.was_zero);
	ND_CHECK_EQ(f.last_raise.still, 3);
	nd_anom_free(f.a);
}

static void test_min_delta(void)
{
	struct nd_anom_cfg cfg;
	struct nd_anom *a;
	struct nd_anom_obs o = { 1, 0, 3, 1.0 };
	struct nd_anom_result r;

	nd_anom_cfg_default(&cfg);
	cfg.min_delta = 10;
	ND_CHECK_EQ(nd_anom_new(&cfg, &a), 0);
	ND_CHECK_EQ(nd_anom_observe(a, &o, &r), 0);
	ND_CHECK_EQ(r.event, ND_ANOM_EV_NONE);
	o.key = 2;
	o.delta = 10;
	ND_CHECK_EQ(nd_anom_observe(a, &o, &r), 0);
	ND_CHECK_EQ(r.event, ND_ANOM_EV_RAISED);
	o.dt = 0;
	ND_CHECK_EQ(nd_anom_observe(a, &o, &r), -EINVAL);
	nd_anom_free(a);
}

/* Flapping: drops in every other interval for 40 intervals give one
 * alarm, not twenty. */
static void test_no_storm(void)
{
	struct feed f = { make(1, 3), 0, 0, 0, { 0 }, { 0 } };

	for (int i = 0; i < 5; i++)
		feed(&f, 1, 0);
	for (int i = 0; i < 40; i++)
		feed(&f, 1, i % 2 ? 0 : 50);
	ND_CHECK_EQ(f.raised, 1);
	ND_CHECK_EQ(f.cleared, 0);
	for (int i = 0; i < 3; i++)
		feed(&f, 1, 0);
	ND_CHECK_EQ(f.cleared, 1);
	nd_anom_free(f.a);
}

static void test_raise_after(void)
{
	struct feed f = { make(2, 1), 777, 0, 0, { 0 }, { 0 } };
	uint32_t s = 3;

	for (int i = 0; i < 20; i++)
		feed(&f, 1, (uint64_t)(100 + 5 * noise(&s)));
	feed(&f, 1, 2000);          /* one anomalous interval: not yet */
	ND_CHECK_EQ(f.raised, 0);
	feed(&f, 1, 100);
	feed(&f, 1, 2000);
	feed(&f, 1, 2000);          /* two in a row */
	ND_CHECK_EQ(f.raised, 1);
	feed(&f, 1, 100);           /* clear_after 1 */
	ND_CHECK_EQ(f.cleared, 1);
	nd_anom_free(f.a);
}

/* A lasting new level raises once and is taken in over time. */
static void test_level_shift_absorbed(void)
{
	struct feed f = { make(1, 3), 777, 0, 0, { 0 }, { 0 } };
	uint32_t s = 11;

	for (int i = 0; i < 30; i++)
		feed(&f, 1, (uint64_t)(100 + 10 * noise(&s)));
	for (int i = 0; i < 300; i++)
		feed(&f, 1, (uint64_t)(300 + 10 * noise(&s)));
	ND_CHECK_EQ(f.raised, 1);
	ND_CHECK_EQ(f.cleared, 1);
	ND_CHECK(!f.last.active);
	nd_anom_free(f.a);
}

static void test_cap_and_forget(void)
{
	struct nd_anom_cfg cfg;
	struct nd_anom *a;
	struct nd_anom_obs o = { 1, 5, 0, 1.0 };
	struct nd_anom_result r;
	struct nd_anom_stats st;

	nd_anom_cfg_default(&cfg);
	cfg.max_series = 2;
	ND_CHECK_EQ(nd_anom_new(&cfg, &a), 0);
	ND_CHECK_EQ(nd_anom_observe(a, &o, &r), 0);
	o.key = 2;
	ND_CHECK_EQ(nd_anom_observe(a, &o, &r), 0);
	o.key = 3;
	ND_CHECK_EQ(nd_anom_observe(a, &o, &r), -ENOSPC);
	nd_anom_get_stats(a, &st);
	ND_CHECK_EQ(st.series, 2);
	ND_CHECK_EQ(st.skipped, 1);
	/* Series 2 goes on, series 1 is no longer seen: forgotten after 3. */
	for (int i = 0; i < 5; i++) {
		nd_anom_end_interval(a, 3);
		o.key = 2;
		ND_CHECK_EQ(nd_anom_observe(a, &o, &r), 0);
	}
	nd_anom_get_stats(a, &st);
	ND_CHECK_EQ(st.series, 1);
	o.key = 3;
	ND_CHECK_EQ(nd_anom_observe(a, &o, &r), 0);     /* room again */
	nd_anom_free(a);
	nd_anom_free(NULL);
}

static void test_many_series(void)
{
	struct nd_anom_cfg cfg;
	struct nd_anom *a;
	struct nd_anom_result r;
	struct nd_anom_stats st;

	nd_anom_cfg_default(&cfg);
	ND_CHECK_EQ(nd_anom_new(&cfg, &a), 0);
	for (uint64_t k = 1; k <= 20000; k++) {
		struct nd_anom_obs o = { k * 0x9e3779b97f4a7c15ULL, 1, 0, 1.0 };

		ND_CHECK_EQ(nd_anom_observe(a, &o, &r), 0);
	}
	nd_anom_get_stats(a, &st);
	ND_CHECK_EQ(st.series, 20000);
	ND_CHECK(!nd_anom_is_active(a, 0x9e3779b97f4a7c15ULL));
	nd_anom_free(a);
}

static void test_cfg_check(void)
{
	struct nd_anom_cfg cfg;
	struct nd_anom *a = NULL;

	nd_anom_cfg_default(&cfg);
	ND_CHECK_EQ(nd_anom_cfg_check(&cfg), 0);
	cfg.alpha = 0;
	ND_CHECK_EQ(nd_anom_new(&cfg, &a), -EINVAL);
	nd_anom_cfg_default(&cfg);
	cfg.clear_after = 0;
	ND_CHECK_EQ(nd_anom_cfg_check(&cfg), -EINVAL);
	ND_CHECK_STR(nd_anom_rule_name(ND_ANOM_RULE_ZERO_START), "zero-start");
}

int main(void)
{
	ND_RUN(test_steady_is_quiet);
	ND_RUN(test_burst_flagged_with_evidence);
	ND_RUN(test_zero_start);
	ND_RUN(test_zero_start_after_still);
	ND_RUN(test_min_delta);
	ND_RUN(test_no_storm);
	ND_RUN(test_raise_after);
	ND_RUN(test_level_shift_absorbed);
	ND_RUN(test_cap_and_forget);
	ND_RUN(test_many_series);
	ND_RUN(test_cfg_check);
	return nd_test_done();
}
