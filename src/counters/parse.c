/* SPDX-License-Identifier: MIT */
/*
 * parse: the kernel's counter text files into (name, value) pairs (see
 * parse.h). Bounds are the buffer's, never a NUL: a file read into a
 * buffer need not be terminated.
 */
#include "counters/parse.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "counters/ctr.h"

/* A cursor over one buffer. */
struct cur {
	const char *p, *end;
};

/* The next line (without its '\n') in [*ls, *le); false at the end. */
static bool next_line(struct cur *c, const char **ls, const char **le)
{
	const char *nl;

	if (c->p >= c->end)
		return false;
	nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
	*ls = c->p;
	*le = nl ? nl : c->end;
	c->p = nl ? nl + 1 : c->end;
	return true;
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

/* The next white-space separated token of [*p, end) into [*ts, *te). */
static bool next_tok(const char **p, const char *end, const char **ts, const char **te)
{
	const char *s = *p;

	while (s < end && is_space(*s))
		s++;
	if (s >= end)
		return false;
	*ts = s;
	while (s < end && !is_space(*s))
		s++;
	*te = s;
	*p = s;
	return true;
}

/* A decimal number, optionally negative, filling [s, e) exactly. */
static int dec(const char *s, const char *e, uint64_t *out, bool *neg)
{
	uint64_t v = 0;

	*neg = false;
	if (s < e && *s == '-') {
		*neg = true;
		s++;
	}
	if (s >= e)
		return -EPROTO;
	for (; s < e; s++) {
		if (*s < '0' || *s > '9')
			return -EPROTO;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -EPROTO;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = *neg ? (uint64_t)(-(int64_t)v) : v;
	return 0;
}

/* A hexadecimal word (softnet_stat, nf_conntrack stat) filling [s, e). */
static int hex(const char *s, const char *e, uint64_t *out)
{
	uint64_t v = 0;

	if (s >= e || e - s > 16)
		return -EPROTO;
	for (; s < e; s++) {
		char ch = *s;
		unsigned d;

		if (ch >= '0' && ch <= '9')
			d = (unsigned)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			d = (unsigned)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			d = (unsigned)(ch - 'A' + 10);
		else
			return -EPROTO;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

/* Levels, not counts, in /proc/net/snmp. */
static bool snmp_gauge(const char *name)
{
	static const char *const g[] = {
		"Ip.Forwarding", "Ip.DefaultTTL", "Tcp.RtoAlgorithm", "Tcp.RtoMin",
		"Tcp.RtoMax", "Tcp.MaxConn", "Tcp.CurrEstab", NULL,
	};

	for (const char *const *p = g; *p; p++)
		if (!strcmp(name, *p))
			return true;
	return false;
}

int nd_parse_snmp(const char *buf, size_t len, nd_parse_emit emit, void *ctx)
{
	struct cur c = { buf, buf + len };
	const char *hs, *he, *vs, *ve;

	while (next_line(&c, &hs, &he)) {
		const char *colon, *hp, *vp, *ts, *te, *us, *ue;
		size_t plen;

		if (hs == he)
			continue;
		if (!next_line(&c, &vs, &ve))
			return -EPROTO;         /* a header without its values */
		colon = memchr(hs, ':', (size_t)(he - hs));
		if (!colon || (size_t)(ve - vs) <= (size_t)(colon - hs) ||
		    memcmp(hs, vs, (size_t)(colon - hs + 1)) != 0)
			return -EPROTO;
		plen = (size_t)(colon - hs);
		if (plen == 0 || plen > 24)
			return -EPROTO;
		hp = colon + 1;
		vp = vs + plen + 1;
		for (;;) {
			bool h = next_tok(&hp, he, &ts, &te), v = next_tok(&vp, ve, &us, &ue);
			char name[ND_CTR_NAME_LEN];
			uint64_t val;
			bool neg;
			int rc;

			if (!h && !v)
				break;
			if (h != v || (size_t)(te - ts) + plen + 2 > sizeof(name))
				return -EPROTO;
			if (dec(us, ue, &val, &neg) < 0)
				return -EPROTO;
			memcpy(name, hs, plen);
			name[plen] = '.';
			memcpy(name + plen + 1, ts, (size_t)(te - ts));
			name[plen + 1 + (size_t)(te - ts)] = '\0';
			rc = emit(ctx, name, val, neg || snmp_gauge(name), 0);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int nd_parse_snmp6(const char *buf, size_t len, nd_parse_emit emit, void *ctx)
{
	struct cur c = { buf, buf + len };
	const char *ls, *le;

	while (next_line(&c, &ls, &le)) {
		const char *p = ls, *ns, *ne, *vs, *ve, *xs, *xe;
		char name[ND_CTR_NAME_LEN];
		uint64_t val;
		bool neg;
		int rc;

		if (!next_tok(&p, le, &ns, &ne))
			continue;
		if (!next_tok(&p, le, &vs, &ve) || next_tok(&p, le, &xs, &xe) ||
		    (size_t)(ne - ns) >= sizeof(name) || dec(vs, ve, &val, &neg) < 0)
			return -EPROTO;
		memcpy(name, ns, (size_t)(ne - ns));
		name[ne - ns] = '\0';
		rc = emit(ctx, name, val, neg, 0);
		if (rc)
			return rc;
	}
	return 0;
}

int nd_parse_softnet(const char *buf, size_t len, nd_parse_emit emit, void *ctx)
{
	/* Columns by position (net/core/net-procfs.c); 3..7 are always 0 and
	 * 12 is the CPU (since 5.10; before, rows are CPUs in order). */
	static const struct { int col; const char *name; bool gauge; } cols[] = {
		{ 0, "processed", false },
		{ 1, "dropped", false },
		{ 2, "time_squeeze", false },
		{ 8, "cpu_collision", false },
		{ 9, "received_rps", false },
		{ 10, "flow_limit_count", false },
		{ 11, "backlog_len", true },
	};
	struct cur c = { buf, buf + len };
	const char *ls, *le;
	uint32_t row = 0;

	while (next_line(&c, &ls, &le)) {
		uint64_t w[16];
		int nw = 0;
		const char *p = ls, *ts, *te;
		uint32_t cpu;

		while (next_tok(&p, le, &ts, &te)) {
			if (nw == 16 || hex(ts, te, &w[nw]) < 0)
				return -EPROTO;
			nw++;
		}
		if (nw == 0)
			continue;
		if (nw < 3)
			return -EPROTO;
		cpu = nw > 12 ? (uint32_t)w[12] : row;
		for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
			int rc;

			if (cols[i].col >= nw)
				break;
			rc = emit(ctx, cols[i].name, w[cols[i].col], cols[i].gauge, cpu);
			if (rc)
				return rc;
		}
		row++;
	}
	return 0;
}

#define CT_MAX_COLS 32

int nd_parse_ct_stat(const char *buf, size_t len, nd_parse_emit emit, void *ctx)
{
	struct cur c = { buf, buf + len };
	const char *ls, *le, *p, *ts, *te;
	char names[CT_MAX_COLS][ND_CTR_NAME_LEN];
	uint64_t sum[CT_MAX_COLS];
	int ncol = 0, rows = 0;

	if (!next_line(&c, &ls, &le))
		return -EPROTO;
	p = ls;
	while (next_tok(&p, le, &ts, &te)) {
		if (ncol == CT_MAX_COLS || (size_t)(te - ts) >= ND_CTR_NAME_LEN)
			return -EPROTO;
		memcpy(names[ncol], ts, (size_t)(te - ts));
		names[ncol][te - ts] = '\0';
		ncol++;
	}
	if (ncol == 0)
		return -EPROTO;
	memset(sum, 0, sizeof(sum));
	while (next_line(&c, &ls, &le)) {
		int i = 0;

		p = ls;
		while (next_tok(&p, le, &ts, &te)) {
			uint64_t v;

			if (i == ncol || hex(ts, te, &v) < 0)
				return -EPROTO;
			sum[i++] += v;
		}
		if (i == 0)
			continue;
		if (i != ncol)
			return -EPROTO;
		rows++;
	}
	if (rows == 0)
		return -EPROTO;
	for (int i = 0; i < ncol; i++) {
		int rc;

		if (!strcmp(names[i], "entries"))
			continue;
		rc = emit(ctx, names[i], sum[i], false, 0);
		if (rc)
			return rc;
	}
	return 0;
}

int nd_parse_u64_text(const char *buf, size_t len, uint64_t *out)
{
	const char *p = buf, *end = buf + len, *ts, *te, *xs, *xe;
	bool neg;

	while (p < end && (*p == '\n' || is_space(*p)))
		p++;
	while (end > p && (end[-1] == '\n' || is_space(end[-1])))
		end--;
	if (!next_tok(&p, end, &ts, &te) || next_tok(&p, end, &xs, &xe))
		return -EPROTO;
	if (dec(ts, te, out, &neg) < 0 || neg)
		return -EPROTO;
	return 0;
}
