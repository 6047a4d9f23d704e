/* SPDX-License-Identifier: MIT */
/*
 * flow: a bounded, bidirectional connection table.
 *
 * Keys are direction-normalised (the lower address:port is side A), so both
 * directions of a connection find the same entry. Buckets are hashed with
 * XXH3 and a per-table random seed, so crafted traffic cannot aim at one
 * bucket chain across runs. The table holds at most `cap` entries; it never
 * evicts by itself: the caller picks a victim from the two ordered lists
 * kept here (closed entries in close order, open entries least recently
 * used first) and removes it, so every eviction is visible to the caller
 * and can be counted and reported.
 *
 * Each entry carries a caller-defined value of `value_size` bytes, zeroed
 * on insert and aligned for any type. The table owns all memory; pointers
 * to values stay valid until the entry is removed.
 */
#ifndef NETDX_CORE_FLOW_H
#define NETDX_CORE_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nd_pkt;

struct nd_flow_key {
	uint8_t a[16], b[16];   /* side A is the lower (address, port) */
	uint16_t pa, pb;
	uint32_t tunnel_id;
	uint8_t proto;          /* 6 TCP, 17 UDP */
	uint8_t tunnel;         /* enum nd_tunnel */
	uint8_t ip_version;
	uint8_t pad_;           /* always 0: keys are hashed and compared as bytes */
};

/*
 * nd_flow_key_from_pkt - build the normalised key of a decoded packet.
 * Returns 0 when the packet's source is side A, 1 when it is side B.
 */
int nd_flow_key_from_pkt(const struct nd_pkt *p, struct nd_flow_key *k);

struct nd_flow_table;

/* Lists an entry can be on. */
enum nd_flow_list { ND_FLOW_OPEN = 0, ND_FLOW_CLOSED = 1 };

/*
 * nd_ft_new - create a table for at most @cap entries with values of
 * @value_size bytes, hashed with @seed. Returns NULL (errno set) on bad
 * arguments (cap 0) or out of memory. Bucket memory grows with the number
 * of entries, not with @cap.
 */
struct nd_flow_table *nd_ft_new(size_t cap, size_t value_size, uint64_t seed);

/* nd_ft_free - free the table and every entry. Accepts NULL. */
void nd_ft_free(struct nd_flow_table *t);

/* nd_ft_find - the value stored under @k, or NULL. */
void *nd_ft_find(struct nd_flow_table *t, const struct nd_flow_key *k);

/*
 * nd_ft_insert - add an entry for @k (which must not be present) at the
 * most-recent end of the open list. Returns its zeroed value, or NULL when
 * the table is full (errno ENOSPC) or memory ran out (ENOMEM).
 */
void *nd_ft_insert(struct nd_flow_table *t, const struct nd_flow_key *k);

/* nd_ft_remove - remove and free the entry owning @value. */
void nd_ft_remove(struct nd_flow_table *t, void *value);

/* nd_ft_touch - move @value to the most-recent end of its list's order
 * (open entries only; closed entries keep their close order). */
void nd_ft_touch(struct nd_flow_table *t, void *value);

/* nd_ft_set_list - move @value to the tail of list @l (e.g. when the
 * connection closes). */
void nd_ft_set_list(struct nd_flow_table *t, void *value, enum nd_flow_list l);

/* nd_ft_list_of - which list @value is on. */
enum nd_flow_list nd_ft_list_of(const void *value);

/* nd_ft_oldest - the head of list @l (least recent), or NULL if empty. */
void *nd_ft_oldest(struct nd_flow_table *t, enum nd_flow_list l);

/* nd_ft_next - the entry after @value on its list, or NULL. Safe to use
 * for iteration as long as @value is not removed before the call. */
void *nd_ft_next(struct nd_flow_table *t, void *value);

/* nd_ft_key - the key of the entry owning @value. */
const struct nd_flow_key *nd_ft_key(const void *value);

size_t nd_ft_count(const struct nd_flow_table *t);
size_t nd_ft_count_list(const struct nd_flow_table *t, enum nd_flow_list l);
size_t nd_ft_cap(const struct nd_flow_table *t);
/* Largest number of entries held at once. */
size_t nd_ft_peak(const struct nd_flow_table *t);
/* Length of the longest bucket chain walked by a lookup so far. */
size_t nd_ft_max_chain(const struct nd_flow_table *t);

#endif
