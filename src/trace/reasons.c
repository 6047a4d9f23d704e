/* SPDX-License-Identifier: MIT */
/* reasons: the drop-reason table, read from BTF. */
#include "trace/reasons.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#define CORE_PREFIX "SKB_DROP_REASON_"
#define SUBSYS_PREFIX "SKB_DROP_REASON_SUBSYS_"
#define MAX_SUBSYS 64

struct reason {
	uint32_t value;
	char *name;
};

struct nd_reasons {
	struct reason *r;       /* sorted by value, unique */
	size_t n, cap;
	uint32_t subsys_mask;   /* 0 when the kernel has no subsystems */
	unsigned subsys_shift;
	char *subsys[MAX_SUBSYS];   /* by id; [0] is CORE */
};

void nd_reasons_free(struct nd_reasons *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		free(r->r[i].name);
	for (size_t i = 0; i < MAX_SUBSYS; i++)
		free(r->subsys[i]);
	free(r->r);
	free(r);
}

static int add(struct nd_reasons *r, uint32_t value, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->r[i].value == value)
			return 0;       /* the first name wins (core before subsystems) */
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 256;
		struct reason *n = realloc(r->r, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		r->r = n;
		r->cap = cap;
	}
	r->r[r->n].name = strdup(name);
	if (!r->r[r->n].name)
		return -ENOMEM;
	r->r[r->n++].value = value;
	return 0;
}

static int cmp_reason(const void *a, const void *b)
{
	const struct reason *x = a, *y = b;

	return x->value < y->value ? -1 : x->value > y->value;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static uint64_t enum_value(const struct btf_type *t, unsigned i)
{
	if (btf_is_enum64(t))
		return btf_enum64_value(btf_enum64(t) + i);
	return (uint32_t)btf_enum(t)[i].val;
}

static const char *enum_name(const struct btf *btf, const struct btf_type *t, unsigned i)
{
	if (btf_is_enum64(t))
		return btf__name_by_offset(btf, btf_enum64(t)[i].name_off);
	return btf__name_by_offset(btf, btf_enum(t)[i].name_off);
}

/* The core enum and the subsystem ids (first pass). */
static int take_core(struct nd_reasons *r, const struct btf *btf, const struct btf_type *t,
		     bool subsys)
{
	unsigned n = btf_vlen(t);

	for (unsigned i = 0; i < n; i++) {
		const char *name = enum_name(btf, t, i);
		uint64_t v = enum_value(t, i);
		int rc;

		if (!name)
			continue;
		if (subsys) {
			if (strncmp(name, SUBSYS_PREFIX, strlen(SUBSYS_PREFIX)) || ends_with(name, "_NUM") ||
			    v >= MAX_SUBSYS || r->subsys[v])
				continue;
			r->subsys[v] = strdup(name + strlen(SUBSYS_PREFIX));
			if (!r->subsys[v])
				return -ENOMEM;
			continue;
		}
		if (!strcmp(name, "SKB_DROP_REASON_SUBSYS_MASK")) {
			r->subsys_mask = (uint32_t)v;
			continue;
		}
		if (!strcmp(name, "SKB_DROP_REASON_MAX"))
			continue;
		if (!strncmp(name, CORE_PREFIX, strlen(CORE_PREFIX)))
			name += strlen(CORE_PREFIX);
		else if (!strncmp(name, "SKB_", 4))
			name += 4;      /* SKB_NOT_DROPPED_YET, SKB_CONSUMED */
		rc = add(r, (uint32_t)v, name);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* A subsystem's "*_drop_reason" enum: values whose high bits name a known
 * subsystem. */
static int take_subsys(struct nd_reasons *r, const struct btf *btf, const struct btf_type *t)
{
	unsigned n = btf_vlen(t);

	for (unsigned i = 0; i < n; i++) {
		const char *name = enum_name(btf, t, i);
		uint64_t v = enum_value(t, i);
		uint32_t id;
		int rc;

		if (!name || v > UINT32_MAX || name[0] == '_' || ends_with(name, "_MAX"))
			continue;
		id = ((uint32_t)v & r->subsys_mask) >> r->subsys_shift;
		if (id == 0 || id >= MAX_SUBSYS || !r->subsys[id])
			continue;
		rc = add(r, (uint32_t)v, name);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Call @fn for every named enum of @btf, until it returns non-zero. */
static int for_each_enum(struct nd_reasons *r, const struct btf *btf,
			 int (*fn)(struct nd_reasons *r, const struct btf *btf,
				   const struct btf_type *t, const char *name, void *ctx),
			 void *ctx)
{
	__u32 cnt = btf__type_cnt(btf);
	int rc = 0;

	for (__u32 id = 1; id < cnt && rc == 0; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const char *tn;

		if (!t || !btf_is_any_enum(t))
			continue;
		tn = btf__name_by_offset(btf, t->name_off);
		if (tn && *tn)
			rc = fn(r, btf, t, tn, ctx);
	}
	return rc;
}

static int core_enum(struct nd_reasons *r, const struct btf *btf, const struct btf_type *t,
		     const char *name, void *ctx)
{
	bool *core = ctx;

	if (!strcmp(name, "skb_drop_reason") && !*core) {
		*core = true;
		return take_core(r, btf, t, false);
	}
	if (!strcmp(name, "skb_drop_reason_subsys"))
		return take_core(r, btf, t, true);
	return 0;
}

static int subsys_enum(struct nd_reasons *r, const struct btf *btf, const struct btf_type *t,
		       const char *name, void *ctx)
{
	(void)ctx;
	if (ends_with(name, "drop_reason") && strcmp(name, "skb_drop_reason"))
		return take_subsys(r, btf, t);
	return 0;
}

/* Pass 1 over one BTF: the core enum and the subsystem ids. */
static int scan_core(struct nd_reasons *r, const struct btf *btf, bool *core)
{
	int rc = for_each_enum(r, btf, core_enum, core);

	if (r->subsys_mask)
		r->subsys_shift = (unsigned)__builtin_ctz(r->subsys_mask);
	return rc;
}

/* Pass 2 over one BTF: subsystem "*_drop_reason" enums. */
static int scan_subsys(struct nd_reasons *r, const struct btf *btf)
{
	return r->subsys_mask ? for_each_enum(r, btf, subsys_enum, NULL) : 0;
}

static int finish(struct nd_reasons *r, bool core, int rc, struct nd_reasons **out)
{
	if (rc == 0 && !core)
		rc = -ENOMSG;
	if (rc < 0) {
		nd_reasons_free(r);
		return rc;
	}
	qsort(r->r, r->n, sizeof(*r->r), cmp_reason);
	*out = r;
	return 0;
}

int nd_reasons_from_btf(struct nd_reasons **out, struct btf *const *btfs, size_t nb)
{
	struct nd_reasons *r = calloc(1, sizeof(*r));
	bool core = false;
	int rc = 0;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	for (size_t b = 0; b < nb && rc == 0; b++)
		rc = scan_core(r, btfs[b], &core);
	for (size_t b = 0; b < nb && rc == 0; b++)
		rc = scan_subsys(r, btfs[b]);
	return finish(r, core, rc, out);
}

int nd_reasons_load(struct nd_reasons **out)
{
	struct nd_reasons *r;
	struct btf *vmlinux;
	bool core = false;
	DIR *d;
	int rc;

	*out = NULL;
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux)
		return errno ? -errno : -ENOENT;
	r = calloc(1, sizeof(*r));
	if (!r) {
		btf__free(vmlinux);
		return -ENOMEM;
	}
	rc = scan_core(r, vmlinux, &core);
	if (rc == 0)
		rc = scan_subsys(r, vmlinux);
	/* Modules (openvswitch, mac80211, ...) may define subsystem reasons:
	 * one at a time, only when the kernel has subsystems at all. */
	d = rc == 0 && r->subsys_mask ? opendir("/sys/kernel/btf") : NULL;
	if (d) {
		struct dirent *de;

		while (rc == 0 && (de = readdir(d))) {
			struct btf *mod;

			if (de->d_name[0] == '.' || !strcmp(de->d_name, "vmlinux"))
				continue;
			mod = btf__load_module_btf(de->d_name, vmlinux);
			if (!mod)
				continue;
			rc = scan_subsys(r, mod);
			btf__free(mod);
		}
		closedir(d);
	}
	btf__free(vmlinux);
	return finish(r, core, rc, out);
}

static const struct reason *find(const struct nd_reasons *r, uint32_t value)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->r[mid].value < value)
			lo = mid + 1;
		else if (r->r[mid].value > value)
			hi = mid;
		else
			return &r->r[mid];
	}
	return NULL;
}

static uint32_t subsys_id(const struct nd_reasons *r, uint32_t value)
{
	return r->subsys_mask ? (value & r->subsys_mask) >> r->subsys_shift : 0;
}

const char *nd_reasons_name(const struct nd_reasons *r, uint32_t value, char *buf, size_t len)
{
	const struct reason *e = r ? find(r, value) : NULL;
	uint32_t id;

	if (e) {
		snprintf(buf, len, "%s", e->name);
		return buf;
	}
	id = r ? subsys_id(r, value) : 0;
	if (id && id < MAX_SUBSYS && r->subsys[id])
		snprintf(buf, len, "%s_%" PRIu32, r->subsys[id], value & ~r->subsys_mask);
	else
		snprintf(buf, len, "REASON_%" PRIu32, value);
	return buf;
}

const char *nd_reasons_subsys(const struct nd_reasons *r, uint32_t value)
{
	uint32_t id = subsys_id(r, value);

	if (id == 0)
		return "CORE";
	return id < MAX_SUBSYS ? r->subsys[id] : NULL;
}

int nd_reasons_lookup(const struct nd_reasons *r, const char *name, uint32_t *value)
{
	char *end;
	unsigned long v;

	if (!name || !*name)
		return -ENOENT;
	if (isdigit((unsigned char)name[0])) {
		errno = 0;
		v = strtoul(name, &end, 0);
		if (errno || *end || v > UINT32_MAX)
			return -ENOENT;
		*value = (uint32_t)v;
		return 0;
	}
	if (!strncasecmp(name, CORE_PREFIX, strlen(CORE_PREFIX)))
		name += strlen(CORE_PREFIX);
	else if (!strncasecmp(name, "SKB_", 4))
		name += 4;
	for (size_t i = 0; i < r->n; i++) {
		if (!strcasecmp(r->r[i].name, name)) {
			*value = r->r[i].value;
			return 0;
		}
	}
	return -ENOENT;
}

size_t nd_reasons_count(const struct nd_reasons *r)
{
	return r->n;
}

void nd_reasons_at(const struct nd_reasons *r, size_t i, uint32_t *value, const char **name)
{
	*value = r->r[i].value;
	*name = r->r[i].name;
}

bool nd_reasons_is_qdisc(const struct nd_reasons *r, uint32_t value)
{
	static const char *const prefixes[] = { "QDISC_", "FQ_", "CAKE_", "DUALPI2_" };
	const struct reason *e = find(r, value);

	if (!e)
		return false;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(e->name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}
