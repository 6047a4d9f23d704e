/* SPDX-License-Identifier: MIT */
#include "core/flow.h"

#include <errno.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "core/decode.h"

struct nd_flow {
	struct nd_flow *hnext;          /* bucket chain */
	struct nd_flow *prev, *next;    /* list order (open LRU or closed FIFO) */
	uint64_t hash;
	struct nd_flow_key key;
	uint8_t list;
	alignas(max_align_t) unsigned char value[];
};

struct nd_list {
	struct nd_flow *head, *tail;
	size_t n;
};

struct nd_flow_table {
	struct nd_flow **buckets;
	size_t nbuckets;                /* power of two */
	size_t count, cap, peak, max_chain;
	size_t value_size;
	uint64_t seed;
	struct nd_list lists[2];
};

#define MIN_BUCKETS 256u

static struct nd_flow *node_of(const void *value)
{
	return (struct nd_flow *)(void *)((unsigned char *)(uintptr_t)value -
					  offsetof(struct nd_flow, value));
}

int nd_flow_key_from_pkt(const struct nd_pkt *p, struct nd_flow_key *k)
{
	int c = memcmp(p->src, p->dst, 16);
	int rev = c > 0 || (c == 0 && p->sport > p->dport);

	memset(k, 0, sizeof(*k));
	if (!rev) {
		memcpy(k->a, p->src, 16);
		memcpy(k->b, p->dst, 16);
		k->pa = p->sport;
		k->pb = p->dport;
	} else {
		memcpy(k->a, p->dst, 16);
		memcpy(k->b, p->src, 16);
		k->pa = p->dport;
		k->pb = p->sport;
	}
	k->tunnel_id = p->tunnel_id;
	k->proto = p->l4;
	k->tunnel = (uint8_t)p->tunnel;
	k->ip_version = p->ip_version;
	return rev;
}

struct nd_flow_table *nd_ft_new(size_t cap, size_t value_size, uint64_t seed)
{
	struct nd_flow_table *t;

	if (cap == 0 || value_size > (1u << 20)) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->nbuckets = MIN_BUCKETS;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return NULL;
	}
	t->cap = cap;
	t->value_size = value_size;
	t->seed = seed;
	return t;
}

void nd_ft_free(struct nd_flow_table *t)
{
	if (!t)
		return;
	for (int l = 0; l < 2; l++) {
		struct nd_flow *n = t->lists[l].head;
		while (n) {
			struct nd_flow *next = n->next;
			free(n);
			n = next;
		}
	}
	free(t->buckets);
	free(t);
}

static uint64_t key_hash(const struct nd_flow_table *t, const struct nd_flow_key *k)
{
	return XXH3_64bits_withSeed(k, sizeof(*k), t->seed);
}

static void list_append(struct nd_list *l, struct nd_flow *n)
{
	n->next = NULL;
	n->prev = l->tail;
	if (l->tail)
		l->tail->next = n;
	else
		l->head = n;
	l->tail = n;
	l->n++;
}

static void list_unlink(struct nd_list *l, struct nd_flow *n)
{
	if (n->prev)
		n->prev->next = n->next;
	else
		l->head = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		l->tail = n->prev;
	n->prev = n->next = NULL;
	l->n--;
}

void *nd_ft_find(struct nd_flow_table *t, const struct nd_flow_key *k)
{
	uint64_t h = key_hash(t, k);
	size_t chain = 0;

	for (struct nd_flow *n = t->buckets[h & (t->nbuckets - 1)]; n; n = n->hnext) {
		chain++;
		if (n->hash == h && memcmp(&n->key, k, sizeof(*k)) == 0) {
			if (chain > t->max_chain)
				t->max_chain = chain;
			return n->value;
		}
	}
	if (chain > t->max_chain)
		t->max_chain = chain;
	return NULL;
}

/* Double the bucket array; on allocation failure keep the old one (chains
 * just get longer). */
static void grow(struct nd_flow_table *t)
{
	size_t nb = t->nbuckets * 2;
	struct nd_flow **b = calloc(nb, sizeof(*b));

	if (!b)
		return;
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct nd_flow *n = t->buckets[i];
		while (n) {
			struct nd_flow *next = n->hnext;
			size_t j = n->hash & (nb - 1);
			n->hnext = b[j];
			b[j] = n;
			n = next;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = nb;
}

void *nd_ft_insert(struct nd_flow_table *t, const struct nd_flow_key *k)
{
	struct nd_flow *n;
	size_t i;

	if (t->count >= t->cap) {
		errno = ENOSPC;
		return NULL;
	}
	n = calloc(1, sizeof(*n) + t->value_size);
	if (!n)
		return NULL;
	n->key = *k;
	n->hash = key_hash(t, k);
	n->list = ND_FLOW_OPEN;
	if (t->count >= t->nbuckets)
		grow(t);
	i = n->hash & (t->nbuckets - 1);
	n->hnext = t->buckets[i];
	t->buckets[i] = n;
	list_append(&t->lists[ND_FLOW_OPEN], n);
	t->count++;
	if (t->count > t->peak)
		t->peak = t->count;
	return n->value;
}

void nd_ft_remove(struct nd_flow_table *t, void *value)
{
	struct nd_flow *n = node_of(value);
	struct nd_flow **pp = &t->buckets[n->hash & (t->nbuckets - 1)];

	while (*pp && *pp != n)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = n->hnext;
	list_unlink(&t->lists[n->list], n);
	t->count--;
	free(n);
}

void nd_ft_touch(struct nd_flow_table *t, void *value)
{
	struct nd_flow *n = node_of(value);
	struct nd_list *l = &t->lists[n->list];

	if (n->list != ND_FLOW_OPEN || l->tail == n)
		return;
	list_unlink(l, n);
	list_append(l, n);
}

void nd_ft_set_list(struct nd_flow_table *t, void *value, enum nd_flow_list to)
{
	struct nd_flow *n = node_of(value);

	list_unlink(&t->lists[n->list], n);
	n->list = (uint8_t)to;
	list_append(&t->lists[to], n);
}

enum nd_flow_list nd_ft_list_of(const void *value)
{
	return (enum nd_flow_list)node_of(value)->list;
}

void *nd_ft_oldest(struct nd_flow_table *t, enum nd_flow_list l)
{
	return t->lists[l].head ? t->lists[l].head->value : NULL;
}

void *nd_ft_next(struct nd_flow_table *t, void *value)
{
	struct nd_flow *n = node_of(value)->next;

	(void)t;
	return n ? n->value : NULL;
}

const struct nd_flow_key *nd_ft_key(const void *value)
{
	return &node_of(value)->key;
}

size_t nd_ft_count(const struct nd_flow_table *t) { return t->count; }
size_t nd_ft_count_list(const struct nd_flow_table *t, enum nd_flow_list l) { return t->lists[l].n; }
size_t nd_ft_cap(const struct nd_flow_table *t) { return t->cap; }
size_t nd_ft_peak(const struct nd_flow_table *t) { return t->peak; }
size_t nd_ft_max_chain(const struct nd_flow_table *t) { return t->max_chain; }
