/* SPDX-License-Identifier: MIT */
/*
 * sys: the system side of the collector, shared by its files (not used
 * outside src/counters): namespace discovery (nsscan.c), rtnetlink links
 * and qdiscs (nlstats.c), ethtool statistics (ethstats.c). Each reads the
 * namespace the calling thread is in now. Functions return 0 or -errno.
 */
#ifndef NETDX_COUNTERS_SYS_H
#define NETDX_COUNTERS_SYS_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "counters/ctr.h"

/* ---- namespaces ------------------------------------------------------------ */

/* A namespace found, not yet entered. */
struct nd_ns_cand {
	char name[ND_NETNS_NAME_LEN];
	char path[ND_NETNS_NAME_LEN + 16];      /* what to open to enter it */
	uint64_t ino;
	int pid;
	bool named;
	bool host;
};

/*
 * nd_ns_scan - list the namespaces: the host's first, then /run/netns by
 * name, then (when @walk_procs) those only processes hold, by PID. At most
 * @max; more are counted in st->netns_over_cap. Namespaces @f leaves out
 * are counted in st->netns_filtered and not listed. *out is allocated
 * (free it). @self_ino: the caller's namespace.
 */
int nd_ns_scan(const struct nd_filter *f, bool walk_procs, uint32_t max, uint64_t self_ino,
	       struct nd_ns_cand **out, size_t *n, struct nd_snap_stats *st);

/* ---- one namespace being read ------------------------------------------------ */

struct nd_ifname {
	int ifindex;
	char name[IFNAMSIZ];
};

#define ND_MAX_IFS_PER_NS 65536

struct nd_ns_ctx {
	struct nd_snap *s;
	uint32_t ns;
	const struct nd_filter *f;
	struct nd_ifname *ifs;          /* interfaces seen by the link dump */
	size_t nifs, ifs_cap;
	char *buf;                      /* scratch: netlink replies */
	size_t buflen;
};

/* nd_ns_ctx_add - add @c if the filter keeps it. 0, -ENOSPC (counted), -ENOMEM. */
int nd_ns_ctx_add(struct nd_ns_ctx *x, const struct nd_ctr *c);

/* The name of @ifindex in the namespace, or NULL. */
const char *nd_ns_ctx_ifname(const struct nd_ns_ctx *x, int ifindex);

/*
 * nd_nlstats_read - over one rtnetlink socket opened here: dump the
 * interfaces (filling x->ifs), then the qdiscs. *link_rc and *qdisc_rc
 * get 0 or -errno each (a failed link dump fails both).
 */
void nd_nlstats_read(struct nd_ns_ctx *x, int *link_rc, int *qdisc_rc);

/* nd_ethstats_read - ethtool statistics of every interface the filter
 * keeps. Devices without statistics (-EOPNOTSUPP) are not errors. */
int nd_ethstats_read(struct nd_ns_ctx *x);

#endif
