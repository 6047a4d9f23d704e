/* SPDX-License-Identifier: MIT */
/*
 * anomaly: is a counter moving unlike itself?
 *
 * Each series (a counter, by its 64-bit key) is fed one observation per
 * interval: its increase and the interval's length. The detector keeps,
 * per series, an exponentially weighted moving average of the rate and of
 * its variance (the baseline and its deviation band), and two rules:
 *
 *   zero-start  a counter that was still starts moving: its value was 0
 *               before this interval, or it did not move for @warmup
 *               intervals in a row, and now it rose by at least @min_delta
 *               (and the next intervals while it keeps moving, up to
 *               @warmup of them);
 *   deviation   after @warmup intervals, the rate is above
 *               baseline + @sigma x deviation and at least @min_rate above
 *               the baseline. The deviation is the EWMA one, but at least
 *               that of a Poisson count at the baseline rate
 *               (sqrt(baseline / dt)).
 *
 * Hysteresis: an alarm is raised after @raise_after anomalous intervals in
 * a row and cleared after @clear_after normal ones; in between nothing new
 * is reported for the series, so a flapping counter gives one alarm, not a
 * storm. An anomalous interval moves the baseline with a quarter of the
 * weight of a normal one and leaves its deviation alone, so a burst does
 * not teach it that bursts are normal, while a lasting new level is taken
 * in after a while (about 50 intervals for a tripled rate by default).
 *
 * Pure: no clock (the caller gives the interval), no I/O. The series table
 * has a cap; series beyond it are not watched and are counted.
 */
#ifndef NETDX_COUNTERS_ANOMALY_H
#define NETDX_COUNTERS_ANOMALY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nd_anom_cfg {
	double alpha;           /* EWMA weight of a new interval, (0, 1] */
	double sigma;           /* width of the band in deviations */
	double min_rate;        /* deviation: at least this much (per s) above the baseline */
	uint64_t min_delta;     /* zero-start: at least this increase */
	uint32_t warmup;        /* intervals before deviation applies; still-intervals for zero-start */
	uint32_t raise_after;   /* anomalous intervals in a row to raise */
	uint32_t clear_after;   /* normal intervals in a row to clear */
	size_t max_series;      /* series table cap */
};

/* The defaults: alpha 2/(10+1), sigma 4, min_rate 1/s, min_delta 1,
 * warmup 3, raise 1, clear 3, 1M series. */
void nd_anom_cfg_default(struct nd_anom_cfg *cfg);

/* 0, or -EINVAL naming nothing: the CLI checks ranges itself. */
int nd_anom_cfg_check(const struct nd_anom_cfg *cfg);

enum nd_anom_rule { ND_ANOM_RULE_NONE, ND_ANOM_RULE_ZERO_START, ND_ANOM_RULE_DEVIATION };
enum nd_anom_ev { ND_ANOM_EV_NONE, ND_ANOM_EV_RAISED, ND_ANOM_EV_CLEARED };

/* One interval of one series. */
struct nd_anom_obs {
	uint64_t key;
	uint64_t prev_value;    /* the value at the start of the interval */
	uint64_t delta;         /* its increase over the interval */
	double dt;              /* the interval, seconds (> 0) */
};

/* What the detector says about an observation, with its evidence. */
struct nd_anom_result {
	enum nd_anom_ev event;          /* raised or cleared now, or none */
	enum nd_anom_rule rule;         /* the rule this interval broke (NONE: normal) */
	bool active;                    /* the series is in alarm after this interval */
	double rate;                    /* delta / dt */
	double baseline;                /* the baseline rate before this interval */
	double deviation;               /* its standard deviation */
	double band;                    /* baseline + sigma x deviation */
	uint32_t samples;               /* intervals seen before this one */
	uint32_t still;                 /* intervals it had not moved (zero-start) */
	bool was_zero;                  /* zero-start because the value was 0 */
	uint64_t alarm_delta;           /* increase since the alarm was raised (cleared: in all) */
	uint32_t alarm_intervals;       /* intervals since raised */
};

struct nd_anom_stats {
	size_t series;          /* watched now */
	uint64_t skipped;       /* observations of series beyond the cap */
	uint64_t raised, cleared;
	size_t active;          /* alarms up now */
};

struct nd_anom;

/* nd_anom_new - a detector; the config is copied. -EINVAL, -ENOMEM. */
int nd_anom_new(const struct nd_anom_cfg *cfg, struct nd_anom **out);
void nd_anom_free(struct nd_anom *a);       /* accepts NULL */

/*
 * nd_anom_observe - feed one interval of one series and say what it means.
 * Returns 0, or -ENOSPC when the series is new and the table is at its cap
 * (counted; *res says nothing), -EINVAL for dt <= 0.
 */
int nd_anom_observe(struct nd_anom *a, const struct nd_anom_obs *o, struct nd_anom_result *res);

/*
 * nd_anom_end_interval - close an interval: series not observed for
 * @forget_after intervals (a vanished namespace or device) are dropped,
 * cleared if they were in alarm (not reported).
 */
void nd_anom_end_interval(struct nd_anom *a, uint32_t forget_after);

/* nd_anom_is_active - is the series @key in alarm? */
bool nd_anom_is_active(const struct nd_anom *a, uint64_t key);

void nd_anom_get_stats(const struct nd_anom *a, struct nd_anom_stats *st);

const char *nd_anom_rule_name(enum nd_anom_rule r);

#endif
