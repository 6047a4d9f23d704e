/* SPDX-License-Identifier: MIT */
/* ksyms: lazy, bounded resolution of kernel addresses with kallsyms. */
#include "trace/ksyms.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct ksym_ent {
	uint64_t addr;
	uint64_t sym;           /* address of the symbol found, 0 if none */
	char *name;             /* "name" or "name [module]" */
	bool tried;             /* a pass has looked at it */
};

struct nd_ksyms {
	struct ksym_ent *e;     /* sorted by addr */
	size_t n, cap;
	uint64_t overflow;
};

struct nd_ksyms *nd_ksyms_new(size_t cap)
{
	struct nd_ksyms *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	k->e = calloc(cap ? cap : 1, sizeof(*k->e));
	if (!k->e) {
		free(k);
		return NULL;
	}
	k->cap = cap;
	return k;
}

void nd_ksyms_free(struct nd_ksyms *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->n; i++)
		free(k->e[i].name);
	free(k->e);
	free(k);
}

/* Index of the first entry with addr >= @a. */
static size_t lower_bound(const struct ksym_ent *e, size_t n, uint64_t a)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (e[mid].addr < a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int nd_ksyms_want(struct nd_ksyms *k, uint64_t addr)
{
	size_t i = lower_bound(k->e, k->n, addr);

	if (i < k->n && k->e[i].addr == addr)
		return 0;
	if (k->n >= k->cap) {
		k->overflow++;
		return -ENOSPC;
	}
	memmove(&k->e[i + 1], &k->e[i], (k->n - i) * sizeof(*k->e));
	k->e[i] = (struct ksym_ent){ .addr = addr };
	k->n++;
	return 0;
}

size_t nd_ksyms_pending(const struct nd_ksyms *k)
{
	size_t n = 0;

	for (size_t i = 0; i < k->n; i++)
		n += !k->e[i].tried;
	return n;
}

/* One kallsyms line: address, type letter, name, optional "[module]". */
static bool parse_line(char *line, uint64_t *addr, char *type, char **name, char **mod)
{
	char *end, *p;

	*addr = strtoull(line, &end, 16);
	if (end == line || *end != ' ')
		return false;
	p = end + 1;
	if (!*p || p[1] != ' ')
		return false;
	*type = *p;
	*name = p + 2;
	p = strpbrk(*name, " \t\n");
	*mod = NULL;
	if (p) {
		*p++ = '\0';
		p += strspn(p, " \t");
		if (*p == '[') {
			*mod = p;
			p[strcspn(p, "\n")] = '\0';
		}
	}
	return **name != '\0';
}

int nd_ksyms_resolve(struct nd_ksyms *k, FILE *f)
{
	/* best[i]: the best symbol seen for the pending entry i; filled for
	 * the smallest pending address above each symbol, then carried up. */
	struct ksym_ent *pend = NULL;
	size_t np = 0, resolved = 0;
	bool nonzero = false;
	char line[512];
	int rc = 0;

	for (size_t i = 0; i < k->n; i++)
		np += !k->e[i].tried;
	if (np == 0)
		return 0;
	pend = calloc(np, sizeof(*pend));
	if (!pend)
		return -ENOMEM;
	np = 0;
	for (size_t i = 0; i < k->n; i++)
		if (!k->e[i].tried)
			pend[np++].addr = k->e[i].addr;

	while (fgets(line, sizeof(line), f)) {
		uint64_t a;
		char type, *name, *mod;
		size_t i;

		if (!parse_line(line, &a, &type, &name, &mod))
			continue;
		if (a)
			nonzero = true;
		if (type != 't' && type != 'T')
			continue;
		i = lower_bound(pend, np, a);
		if (i == np)
			continue;
		if (pend[i].addr < a || (pend[i].name && pend[i].sym >= a))
			continue;
		char *s;
		size_t len = strlen(name) + (mod ? strlen(mod) + 1 : 0) + 1;

		s = malloc(len);
		if (!s) {
			rc = -ENOMEM;
			break;
		}
		snprintf(s, len, "%s%s%s", name, mod ? " " : "", mod ? mod : "");
		free(pend[i].name);
		pend[i].name = s;
		pend[i].sym = a;
	}
	if (rc == 0 && ferror(f))
		rc = -EIO;
	if (rc == 0 && !nonzero)
		rc = -EPERM;
	/* Carry the best symbol up: pend[i-1]'s symbol is below pend[i] too. */
	for (size_t i = 1; rc == 0 && i < np; i++) {
		if (pend[i - 1].name && (!pend[i].name || pend[i].sym < pend[i - 1].sym)) {
			char *s = strdup(pend[i - 1].name);

			if (!s) {
				rc = -ENOMEM;
				break;
			}
			free(pend[i].name);
			pend[i].name = s;
			pend[i].sym = pend[i - 1].sym;
		}
	}
	/* Done with these addresses, also when kallsyms hides them all
	 * (-EPERM: they stay numbers, and are not retried). */
	if (rc == 0 || rc == -EPERM) {
		size_t j = 0;

		for (size_t i = 0; i < k->n; i++) {
			if (k->e[i].tried)
				continue;
			k->e[i].tried = true;
			if (rc == 0) {
				k->e[i].name = pend[j].name;
				k->e[i].sym = pend[j].sym;
				pend[j].name = NULL;
				resolved += k->e[i].name != NULL;
			}
			j++;
		}
	}
	for (size_t i = 0; i < np; i++)
		free(pend[i].name);
	free(pend);
	return rc < 0 ? rc : (int)resolved;
}

const char *nd_ksyms_format(const struct nd_ksyms *k, uint64_t addr, char *buf, size_t len)
{
	size_t i = k ? lower_bound(k->e, k->n, addr) : 0;

	if (!k || i >= k->n || k->e[i].addr != addr || !k->e[i].name) {
		snprintf(buf, len, "0x%" PRIx64, addr);
		return buf;
	}
	const struct ksym_ent *e = &k->e[i];
	const char *mod = strchr(e->name, ' ');
	int nlen = mod ? (int)(mod - e->name) : (int)strlen(e->name);

	if (addr == e->sym)
		snprintf(buf, len, "%.*s%s", nlen, e->name, mod ? mod : "");
	else
		snprintf(buf, len, "%.*s+0x%" PRIx64 "%s", nlen, e->name, addr - e->sym,
			 mod ? mod : "");
	return buf;
}

uint64_t nd_ksyms_overflow(const struct nd_ksyms *k)
{
	return k->overflow;
}
