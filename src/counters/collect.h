/* SPDX-License-Identifier: MIT */
/*
 * collect: read every counter of the host and of each network namespace
 * into a snapshot (ctr.h).
 *
 * Namespaces: the host's (the one kernel threads live in), every name in
 * /run/netns, and -- unless told not to -- every namespace only held by a
 * process (walk /proc/PID/ns/net, deduplicated by inode; named "pid:N"
 * after the lowest such PID, or by their /run/netns name where one
 * matches). Each is entered with setns() on the calling thread, read, and
 * left again before the next; sockets and /proc/thread-self/net files are
 * opened inside, so they show that namespace.
 *
 * In each namespace: interfaces over rtnetlink (IFLA_STATS64, carrier
 * counts, flags), qdiscs over rtnetlink (TCA_STATS2), ethtool driver
 * statistics (SIOCETHTOOL), /proc/net/snmp, netstat and snmp6,
 * /proc/net/stat/nf_conntrack with nf_conntrack_count and _max; in the
 * host's only, /proc/net/softnet_stat (it is the same in every namespace).
 *
 * Whatever could not be read is counted in the snapshot's statistics: a
 * namespace that vanished, one we may not enter (EPERM: CAP_SYS_ADMIN),
 * a source that failed. No text is made here.
 */
#ifndef NETDX_COUNTERS_COLLECT_H
#define NETDX_COUNTERS_COLLECT_H

#include <stdbool.h>

#include "counters/ctr.h"

struct nd_coll_cfg {
	struct nd_filter filter;        /* which namespaces, devices and counters */
	bool no_ethtool;                /* skip driver statistics */
	bool no_proc_walk;              /* only the host and /run/netns */
};

struct nd_coll;

/*
 * nd_coll_new - a collector for the calling thread. The filter strings
 * are borrowed, not copied. -errno (the thread's own namespace cannot be
 * opened), -ENOMEM.
 */
int nd_coll_new(const struct nd_coll_cfg *cfg, struct nd_coll **out);

/* nd_coll_free - accepts NULL. */
void nd_coll_free(struct nd_coll *co);

/*
 * nd_coll_snapshot - clear @s and fill it with one reading of everything
 * (its caps apply). Sets s->t_ns (CLOCK_MONOTONIC) and s->st.elapsed_ns.
 * The calling thread (the one that made @co, or one started from it, as
 * the HTTP daemon's) must be in the namespace @co was made in; one call at
 * a time. Returns 0 (what was skipped is in s->st), -ENOMEM, or
 * -ENOTRECOVERABLE if the thread could not return to that namespace (the
 * collector refuses to run again).
 */
int nd_coll_snapshot(struct nd_coll *co, struct nd_snap *s);

#endif
