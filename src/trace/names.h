/* SPDX-License-Identifier: MIT */
/*
 * names: network namespaces and devices as people know them.
 *
 * The kernel side keys drops by namespace inode and ifindex. Here a
 * namespace inode gets its /run/netns name (as `ip netns` shows it) or
 * "init" for the initial namespace, and an (inode, ifindex) pair gets the
 * device's name, asked inside that namespace (through /run/netns, this
 * process's own namespace, or any process living in it). Results are
 * cached, bounded by @cap entries each; namespaces not found are looked
 * for again after nd_names_refresh(), devices after 8 of them. Also:
 * resolving --netns and --dev arguments to the numbers the kernel side
 * filters on.
 *
 * Functions return 0 or -errno; names are NULL when unknown.
 */
#ifndef NETDX_TRACE_NAMES_H
#define NETDX_TRACE_NAMES_H

#include <stddef.h>
#include <stdint.h>

struct nd_names;

struct nd_names *nd_names_new(size_t cap);
void nd_names_free(struct nd_names *n);

/* Let lookups that failed be tried again (call once per report tick). */
void nd_names_refresh(struct nd_names *n);

/* "NAME" from /run/netns, "init", or NULL. Owned by @n. */
const char *nd_names_netns(struct nd_names *n, uint32_t inode);

/* The device's name, or NULL (gone, or its namespace not reachable). */
const char *nd_names_dev(struct nd_names *n, uint32_t netns, uint32_t ifindex);

/* Entries not cached because a cache was full. */
uint64_t nd_names_overflow(const struct nd_names *n);

/*
 * nd_names_netns_arg - the inode of the namespace @arg names: a name in
 * /run/netns, a path to a namespace file (/proc/PID/ns/net), or an inode
 * number. -ENOENT (no such name or file), -EINVAL (not a network
 * namespace).
 */
int nd_names_netns_arg(const char *arg, uint32_t *inode);

/*
 * nd_names_dev_arg - the ifindex of device @dev (a name, or a number
 * taken as is) in the namespace @netns_arg (NULL: this process's own).
 * *ns_inode gets the namespace the name was found in (0 for a number).
 * -ENODEV if there is no such device there.
 */
int nd_names_dev_arg(const char *netns_arg, const char *dev, uint32_t *ifindex,
		     uint32_t *ns_inode);

/* The inode of this process's own network namespace, or 0. */
uint32_t nd_names_self_netns(void);

#endif
