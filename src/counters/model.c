/* SPDX-License-Identifier: MIT */
/*
 * model: the snapshot table of `netdx counters` (see ctr.h): growth up to a
 * cap, counter identity, classes, filters and the difference of two
 * snapshots.
 */
#include "counters/ctr.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nd_snap_init(struct nd_snap *s, size_t max_counters, uint32_t max_netns)
{
	memset(s, 0, sizeof(*s));
	s->max = max_counters;
	s->ns_max = max_netns;
}

void nd_snap_clear(struct nd_snap *s)
{
	s->n = 0;
	s->nns = 0;
	s->t_ns = 0;
	memset(&s->st, 0, sizeof(s->st));
}

void nd_snap_free(struct nd_snap *s)
{
	free(s->c);
	free(s->ns);
	s->c = NULL;
	s->ns = NULL;
	s->n = s->cap = 0;
	s->nns = s->ns_cap = 0;
}

int nd_grow(void **p, size_t *cap, size_t n, size_t max, size_t elem, size_t first)
{
	size_t c;
	void *q;

	if (n < *cap)
		return 0;
	if (*cap >= max)
		return -ENOSPC;
	c = *cap ? *cap * 2 : first;
	if (c > max)
		c = max;
	q = realloc(*p, c * elem);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

int nd_snap_add_ns(struct nd_snap *s, const char *name, uint64_t ino, int pid, bool named)
{
	int rc = nd_grow((void **)&s->ns, &s->ns_cap, s->nns, s->ns_max, sizeof(*s->ns), 64);

	if (rc == -ENOSPC)
		s->st.netns_over_cap++;
	if (rc < 0)
		return rc;
	struct nd_netns *n = &s->ns[s->nns];
	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", name ? name : "");
	n->ino = ino;
	n->pid = pid;
	n->named = named;
	return (int)s->nns++;
}

int nd_snap_add(struct nd_snap *s, const struct nd_ctr *c)
{
	int rc = nd_grow((void **)&s->c, &s->cap, s->n, s->max, sizeof(*s->c), 1024);

	if (rc == -ENOSPC)
		s->st.counters_skipped++;
	if (rc < 0)
		return rc;
	s->c[s->n++] = *c;
	return 0;
}

static void copy_str(char *dst, size_t len, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= len)
		n = len - 1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

void nd_ctr_set(struct nd_ctr *c, uint32_t ns, enum nd_ctr_src src, const char *dev,
		const char *name, uint64_t value, bool gauge)
{
	memset(c, 0, sizeof(*c));
	c->ns = ns;
	c->src = (uint8_t)src;
	c->gauge = gauge;
	c->value = value;
	copy_str(c->dev, sizeof(c->dev), dev);
	copy_str(c->name, sizeof(c->name), name);
}

static const char *const src_names[ND_CSRC_N] = {
	[ND_CSRC_LINK] = "link",
	[ND_CSRC_ETHTOOL] = "ethtool",
	[ND_CSRC_QDISC] = "qdisc",
	[ND_CSRC_SNMP] = "snmp",
	[ND_CSRC_NETSTAT] = "netstat",
	[ND_CSRC_SNMP6] = "snmp6",
	[ND_CSRC_SOFTNET] = "softnet",
	[ND_CSRC_CONNTRACK] = "conntrack",
};

const char *nd_ctr_src_name(enum nd_ctr_src src)
{
	return (unsigned)src < ND_CSRC_N ? src_names[src] : "?";
}

int nd_ctr_src_parse(const char *name)
{
	for (int i = 0; i < ND_CSRC_N; i++)
		if (name && !strcmp(name, src_names[i]))
			return i;
	return -1;
}

/* FNV-1a, 64 bit. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t nd_ctr_key(const struct nd_snap *s, const struct nd_ctr *c)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	uint64_t ino = c->ns < s->nns ? s->ns[c->ns].ino : 0;
	uint32_t w[3] = { c->src, c->handle, c->parent };

	h = fnv(h, &ino, sizeof(ino));
	h = fnv(h, w, sizeof(w));
	h = fnv(h, c->dev, strnlen(c->dev, sizeof(c->dev)) + 1);
	h = fnv(h, c->name, strnlen(c->name, sizeof(c->name)));
	return h;
}

const char *nd_qdisc_handle_fmt(uint32_t h, bool as_parent, char *buf, size_t len)
{
	if (as_parent && h == 0xFFFFFFFFu)
		snprintf(buf, len, "root");
	else if (as_parent && h == 0xFFFFFFF1u)
		snprintf(buf, len, "ingress");
	else if ((h & 0xFFFFu) == 0)
		snprintf(buf, len, "%x:", h >> 16);
	else
		snprintf(buf, len, "%x:%x", h >> 16, h & 0xFFFFu);
	return buf;
}

/* ---- classes ------------------------------------------------------------------ */

static bool has_word(const char *name, const char *const *words)
{
	char low[ND_CTR_NAME_LEN];
	size_t i;

	for (i = 0; name[i] && i < sizeof(low) - 1; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	low[i] = '\0';
	for (; *words; words++)
		if (strstr(low, *words))
			return true;
	return false;
}

bool nd_ctr_is_problem(const struct nd_ctr *c)
{
	static const char *const words[] = {
		"drop", "err", "fail", "overflow", "retrans", "timeout", "miss", "squeeze",
		"collision", "fifo", "abort", "discard", "prune", "noroute", "trunc", "lost",
		"loss", "pressure", "paws", "carrier", "flow_limit", NULL,
	};

	if (c->gauge)
		return false;
	return has_word(c->name, words);
}

bool nd_ctr_is_symptom(const struct nd_ctr *c)
{
	static const char *const words[] = { "retrans", "timeout", "lossprobes", NULL };

	if (c->gauge || (c->src != ND_CSRC_SNMP && c->src != ND_CSRC_NETSTAT))
		return false;
	if (strncmp(c->name, "Tcp.", 4) != 0 && strncmp(c->name, "TcpExt.", 7) != 0)
		return false;
	return has_word(c->name, words);
}

/* ---- filters -------------------------------------------------------------------- */

bool nd_glob_list_match(const char *list, const char *s, bool casefold)
{
	char pat[256];

	if (!list || !*list)
		return true;
	while (*list) {
		size_t n = strcspn(list, ",");

		if (n > 0 && n < sizeof(pat)) {
			memcpy(pat, list, n);
			pat[n] = '\0';
			if (fnmatch(pat, s, casefold ? FNM_CASEFOLD : 0) == 0)
				return true;
		}
		list += n;
		if (*list == ',')
			list++;
	}
	return false;
}

int nd_glob_list_check(const char *list)
{
	if (!list)
		return 0;
	if (!*list)
		return -EINVAL;
	for (;;) {
		size_t n = strcspn(list, ",");

		if (n == 0 || n > 255)
			return -EINVAL;
		list += n;
		if (!*list)
			return 0;
		list++;
	}
}

bool nd_filter_netns(const struct nd_filter *f, const char *name)
{
	return !f || nd_glob_list_match(f->netns, name, false);
}

bool nd_filter_device(const struct nd_filter *f, const char *dev)
{
	return !f || !dev || !*dev || nd_glob_list_match(f->device, dev, false);
}

bool nd_ctr_name_match(const char *list, const struct nd_ctr *c)
{
	char full[ND_CTR_NAME_LEN + 16];

	if (!list || !*list || nd_glob_list_match(list, c->name, true))
		return true;
	snprintf(full, sizeof(full), "%s:%s", nd_ctr_src_name(c->src), c->name);
	return nd_glob_list_match(list, full, true);
}

bool nd_filter_ctr(const struct nd_filter *f, const struct nd_ctr *c)
{
	return !f || (nd_filter_device(f, c->dev) && nd_ctr_name_match(f->counter, c));
}

/* ---- lookup by key ------------------------------------------------------------------ */

int nd_key_index_build(struct nd_key_index *ix, const struct nd_snap *s)
{
	size_t size = 16;

	while (size < s->n * 2)
		size *= 2;
	ix->keys = calloc(size, sizeof(*ix->keys));
	ix->rows = calloc(size, sizeof(*ix->rows));
	if (!ix->keys || !ix->rows) {
		nd_key_index_free(ix);
		return -ENOMEM;
	}
	ix->mask = size - 1;
	for (size_t i = 0; i < s->n; i++) {
		uint64_t k = nd_ctr_key(s, &s->c[i]);
		size_t j = (size_t)k & ix->mask;

		while (ix->rows[j] && ix->keys[j] != k)
			j = (j + 1) & ix->mask;
		if (ix->rows[j])
			continue;       /* a duplicate key: the first row wins */
		ix->keys[j] = k;
		ix->rows[j] = (uint32_t)i + 1;
	}
	return 0;
}

long nd_key_index_find(const struct nd_key_index *ix, uint64_t key)
{
	size_t j;

	if (!ix->rows)
		return -1;
	j = (size_t)key & ix->mask;
	while (ix->rows[j]) {
		if (ix->keys[j] == key)
			return (long)ix->rows[j] - 1;
		j = (j + 1) & ix->mask;
	}
	return -1;
}

void nd_key_index_free(struct nd_key_index *ix)
{
	free(ix->keys);
	free(ix->rows);
	ix->keys = NULL;
	ix->rows = NULL;
	ix->mask = 0;
}

/* ---- difference ----------------------------------------------------------------------- */

int nd_snap_diff(const struct nd_snap *prev, const struct nd_snap *cur, struct nd_diff *out)
{
	struct nd_key_index ix = { 0 };
	size_t matched = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	out->rows = calloc(cur->n ? cur->n : 1, sizeof(*out->rows));
	if (!out->rows)
		return -ENOMEM;
	rc = nd_key_index_build(&ix, prev);
	if (rc < 0) {
		nd_diff_free(out);
		return rc;
	}
	for (size_t i = 0; i < cur->n; i++) {
		const struct nd_ctr *c = &cur->c[i];
		struct nd_diff_row *r = &out->rows[i];
		long p = nd_key_index_find(&ix, nd_ctr_key(cur, c));

		r->cur = i;
		if (p < 0) {
			r->is_new = true;
			continue;
		}
		matched++;
		r->prev_value = prev->c[p].value;
		if (c->gauge)
			r->delta = (int64_t)c->value - (int64_t)r->prev_value;
		else if (c->value >= r->prev_value)
			r->delta = (int64_t)(c->value - r->prev_value);
		else {
			r->reset = true;
			r->delta = (int64_t)c->value;
		}
	}
	out->n = cur->n;
	out->vanished = prev->n > matched ? prev->n - matched : 0;
	out->dt = cur->t_ns > prev->t_ns ? (double)(cur->t_ns - prev->t_ns) / 1e9 : 0;
	nd_key_index_free(&ix);
	return 0;
}

void nd_diff_free(struct nd_diff *d)
{
	free(d->rows);
	d->rows = NULL;
	d->n = 0;
}
