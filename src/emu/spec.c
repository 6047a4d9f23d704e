/* SPDX-License-Identifier: MIT */
#include "emu/spec.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *qd_names[] = { "fifo", "codel", "pie", "fq_codel" };

const char *nd_emu_qdisc_name(enum nd_emu_qdisc q)
{
	return (unsigned)q < 4 ? qd_names[q] : "?";
}

/* "100M" -> 100e6 (decimal suffixes: rates, counts) */
static int parse_si(const char *v, double *out)
{
	char *end;
	double x;

	errno = 0;
	x = strtod(v, &end);
	if (errno || end == v || !isfinite(x) || x < 0)
		return -1;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': x *= 1e3; end++; break;
	case 'm': case 'M': x *= 1e6; end++; break;
	case 'g': case 'G': x *= 1e9; end++; break;
	default: return -1;
	}
	if (!strcmp(end, "bit") || !strcmp(end, "bps"))        /* "100Mbit", "100Mbps" */
		end += 3;
	if (*end)
		return -1;
	*out = x;
	return 0;
}

/* "20ms" -> ns; a bare number is seconds */
static int parse_time(const char *v, uint64_t *out)
{
	char *end;
	double x;

	errno = 0;
	x = strtod(v, &end);
	if (errno || end == v || !isfinite(x) || x < 0)
		return -1;
	if (strcmp(end, "ns") == 0)
		;
	else if (strcmp(end, "us") == 0)
		x *= 1e3;
	else if (strcmp(end, "ms") == 0)
		x *= 1e6;
	else if (strcmp(end, "s") == 0 || *end == '\0')
		x *= 1e9;
	else
		return -1;
	if (x > 3.6e12)
		return -1;
	*out = (uint64_t)llround(x);
	return 0;
}

static int parse_prob(const char *v, double *out)
{
	char *end;
	double x;
	bool pct;

	errno = 0;
	x = strtod(v, &end);
	pct = *end == '%';
	if (errno || end == v || (*end && !(pct && end[1] == '\0')))
		return -1;
	if (pct)
		x /= 100;
	if (!(x >= 0 && x <= 1))
		return -1;
	*out = x;
	return 0;
}

static int parse_buffer(struct nd_emu_spec *s, const char *v)
{
	size_t n = strlen(v);
	double x;
	char *end;

	s->buffer_bdp = 0;
	if (n > 3 && strcmp(v + n - 3, "bdp") == 0) {
		errno = 0;
		x = strtod(v, &end);
		if (errno || end != v + n - 3 || !(x > 0 && x <= 1000))
			return -1;
		s->buffer_bdp = x;
		s->cfg.limit_pkts = 0;
		return 0;
	}
	if (n > 1 && (v[n - 1] == 'p')) {
		errno = 0;
		x = strtod(v, &end);
		if (errno || end != v + n - 1 || !(x >= 1 && x <= 1e7))
			return -1;
		s->cfg.limit_pkts = (uint64_t)x;
		s->cfg.limit_bytes = 0;
		return 0;
	}
	{
		/* bytes, with binary suffixes */
		double mult = 1;
		errno = 0;
		x = strtod(v, &end);
		if (errno || end == v || !(x >= 0))
			return -1;
		if (*end == 'k' || *end == 'K')
			mult = 1024, end++;
		else if (*end == 'm' || *end == 'M')
			mult = 1024 * 1024, end++;
		else if (*end == 'g' || *end == 'G')
			mult = 1024.0 * 1024 * 1024, end++;
		if (*end == 'B' || *end == 'b')
			end++;
		if (*end)
			return -1;
		s->cfg.limit_bytes = (uint64_t)(x * mult);
		s->cfg.limit_pkts = 0;
	}
	return 0;
}

int nd_emu_spec_apply(struct nd_emu_spec *s, const char *text, char *err, size_t errlen)
{
	char tmp[1024], *save, *tok;

	if (strlen(text) >= sizeof(tmp)) {
		snprintf(err, errlen, "settings too long");
		return -1;
	}
	strcpy(tmp, text);
	for (tok = strtok_r(tmp, " \t;", &save); tok; tok = strtok_r(NULL, " \t;", &save)) {
		char *v = strchr(tok, '=');
		double d = 0;
		int bad = 0;

		if (!v) {
			snprintf(err, errlen, "'%s' is not key=value", tok);
			return -1;
		}
		*v++ = '\0';
		if (!strcmp(tok, "rate")) {
			bad = parse_si(v, &d) || d > 1e12;
			s->cfg.rate_bps = (uint64_t)d;
		} else if (!strcmp(tok, "burst")) {
			bad = parse_si(v, &d) || d > 1e9;
			s->cfg.burst_bytes = (uint64_t)d;
		} else if (!strcmp(tok, "overhead")) {
			bad = parse_si(v, &d) || d > 256;
			s->cfg.overhead_bytes = (uint32_t)d;
		} else if (!strcmp(tok, "mtu")) {
			bad = parse_si(v, &d) || d < 64 || d > 65536;
			s->cfg.mtu = (uint32_t)d;
		} else if (!strcmp(tok, "delay")) {
			bad = parse_time(v, &s->cfg.delay_ns);
		} else if (!strcmp(tok, "jitter")) {
			bad = parse_time(v, &s->cfg.jitter_ns);
		} else if (!strcmp(tok, "reorder")) {
			bad = strcmp(v, "on") && strcmp(v, "off") && strcmp(v, "1") && strcmp(v, "0");
			s->cfg.reorder = !strcmp(v, "on") || !strcmp(v, "1");
		} else if (!strcmp(tok, "buffer")) {
			bad = parse_buffer(s, v);
		} else if (!strcmp(tok, "loss")) {
			bad = parse_prob(v, &s->cfg.loss_random);
		} else if (!strcmp(tok, "ge")) {
			double p, r, lg, lb;
			char extra;
			if (!strcmp(v, "off")) {
				s->cfg.ge_p = 0;
			} else if (sscanf(v, "%lf,%lf,%lf,%lf%c", &p, &r, &lg, &lb, &extra) == 4 &&
				   p >= 0 && p <= 1 && r > 0 && r <= 1 && lg >= 0 && lg <= 1 && lb >= 0 && lb <= 1) {
				s->cfg.ge_p = p;
				s->cfg.ge_r = r;
				s->cfg.ge_loss_good = lg;
				s->cfg.ge_loss_bad = lb;
			} else {
				bad = 1;
			}
		} else if (!strcmp(tok, "qdisc")) {
			bad = 1;
			for (int i = 0; i < 4; i++)
				if (!strcmp(v, qd_names[i]) || (i == 3 && !strcmp(v, "fq-codel"))) {
					s->cfg.qdisc = (enum nd_emu_qdisc)i;
					bad = 0;
				}
		} else if (!strcmp(tok, "target")) {
			bad = parse_time(v, &s->cfg.target_ns);
		} else if (!strcmp(tok, "interval")) {
			bad = parse_time(v, &s->cfg.interval_ns);
		} else if (!strcmp(tok, "flows")) {
			bad = parse_si(v, &d) || d < 1 || d > 65536;
			s->cfg.flows = (uint32_t)d;
		} else if (!strcmp(tok, "quantum")) {
			bad = parse_si(v, &d) || d < 64 || d > 65536;
			s->cfg.quantum = (uint32_t)d;
		} else if (!strcmp(tok, "seed")) {
			bad = parse_si(v, &d);
			s->cfg.seed = (uint64_t)d;
		} else {
			snprintf(err, errlen, "unknown setting '%s' (rate, burst, overhead, mtu, delay, jitter, "
				 "reorder, buffer, loss, ge, qdisc, target, interval, flows, quantum, seed)", tok);
			return -1;
		}
		if (bad) {
			snprintf(err, errlen, "bad value for %s: '%s'", tok, v);
			return -1;
		}
	}
	return 0;
}

int nd_emu_spec_resolve(struct nd_emu_spec *s, uint64_t rtt_ns, char *err, size_t errlen)
{
	if (s->buffer_bdp <= 0)
		return 0;
	if (!s->cfg.rate_bps || !rtt_ns) {
		snprintf(err, errlen, "buffer=%gbdp needs a rate and a delay (the BDP is rate x round trip)",
			 s->buffer_bdp);
		return -1;
	}
	s->cfg.limit_bytes = (uint64_t)(s->buffer_bdp * (double)nd_emu_bdp_bytes(s->cfg.rate_bps, rtt_ns));
	if (s->cfg.limit_bytes < 2 * 1514)
		s->cfg.limit_bytes = 2 * 1514;  /* at least two full frames, or nothing passes */
	return 0;
}

int nd_emu_spec_format(const struct nd_emu_spec *s, char *buf, size_t len)
{
	const struct nd_emu_cfg *c = &s->cfg;
	char b[64];
	int n;

	if (s->buffer_bdp > 0)
		snprintf(b, sizeof(b), "%gbdp", s->buffer_bdp);
	else if (c->limit_pkts)
		snprintf(b, sizeof(b), "%" PRIu64 "p", c->limit_pkts);
	else
		snprintf(b, sizeof(b), "%" PRIu64, c->limit_bytes);
	n = snprintf(buf, len,
		     "rate=%" PRIu64 " burst=%" PRIu64 " overhead=%u delay=%" PRIu64 "ns jitter=%" PRIu64
		     "ns reorder=%s buffer=%s loss=%g ge=%g,%g,%g,%g qdisc=%s target=%" PRIu64
		     "ns interval=%" PRIu64 "ns",
		     c->rate_bps, c->burst_bytes, c->overhead_bytes, c->delay_ns, c->jitter_ns,
		     c->reorder ? "on" : "off", b, c->loss_random, c->ge_p, c->ge_r > 0 ? c->ge_r : 1,
		     c->ge_loss_good, c->ge_loss_bad, nd_emu_qdisc_name(c->qdisc), c->target_ns,
		     c->interval_ns);
	return n < 0 || (size_t)n >= len ? -1 : n;
}
