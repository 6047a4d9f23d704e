/* SPDX-License-Identifier: MIT */
/*
 * ctr: the counter model of `netdx counters`.
 *
 * A snapshot is every counter read from the host and its network
 * namespaces at one moment: a flat table of rows (namespace, source,
 * device, name, value), the namespaces they came from, and a count of
 * everything that was skipped (a table at its cap, a namespace that
 * vanished between listing and entering, a source that could not be read).
 * On top of it: the identity of a counter across snapshots (a 64-bit key
 * of namespace inode, source, device, qdisc handle/parent or CPU, and
 * name), the difference of two snapshots, the filters of the command line
 * and the classes of counters the anomaly detector and the correlation
 * look at.
 *
 * Pure: no I/O, no clock. Functions return 0 or -errno.
 */
#ifndef NETDX_COUNTERS_CTR_H
#define NETDX_COUNTERS_CTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where a counter comes from. */
enum nd_ctr_src {
	ND_CSRC_LINK,       /* rtnetlink IFLA_STATS64 and carrier counts of an interface */
	ND_CSRC_ETHTOOL,    /* ethtool driver statistics (ETHTOOL_GSTATS) */
	ND_CSRC_QDISC,      /* rtnetlink qdisc statistics (TCA_STATS2) */
	ND_CSRC_SNMP,       /* /proc/net/snmp: "Tcp.RetransSegs" */
	ND_CSRC_NETSTAT,    /* /proc/net/netstat: "TcpExt.ListenOverflows" */
	ND_CSRC_SNMP6,      /* /proc/net/snmp6: "Ip6InDiscards" */
	ND_CSRC_SOFTNET,    /* /proc/net/softnet_stat, one row per CPU (host only) */
	ND_CSRC_CONNTRACK,  /* nf_conntrack count, max and /proc/net/stat/nf_conntrack */
	ND_CSRC_N
};

#define ND_CTR_NAME_LEN 64
#define ND_CTR_DEV_LEN 16       /* IFNAMSIZ */
#define ND_CTR_KIND_LEN 16
#define ND_NETNS_NAME_LEN 64

/* One counter at one moment. */
struct nd_ctr {
	uint64_t value;         /* a gauge may be negative: read it as int64_t */
	uint32_t ns;            /* index into the snapshot's namespace table */
	uint8_t src;            /* enum nd_ctr_src */
	uint8_t gauge;          /* 1: a level (queue length, table size), not a count */
	uint16_t pad;
	uint32_t handle;        /* qdisc handle; softnet: the CPU */
	uint32_t parent;        /* qdisc parent */
	char dev[ND_CTR_DEV_LEN];       /* interface, "" for none */
	char kind[ND_CTR_KIND_LEN];     /* qdisc kind ("tbf"), "" otherwise */
	char name[ND_CTR_NAME_LEN];     /* "rx_dropped", "Tcp.RetransSegs", ... */
};

/* A network namespace a snapshot looked at. */
struct nd_netns {
	char name[ND_NETNS_NAME_LEN];   /* "host", a /run/netns name, or "pid:N" */
	uint64_t ino;                   /* nsfs inode: the identity of the namespace */
	int pid;                        /* a process in it (0: known by name only) */
	bool named;                     /* found in /run/netns */
};

/* What a snapshot skipped or could not read, counted, never silent. */
struct nd_snap_stats {
	uint32_t netns_found;           /* distinct namespaces listed */
	uint32_t netns_collected;       /* entered and read */
	uint32_t netns_filtered;        /* left out by --netns */
	uint32_t netns_vanished;        /* gone between listing and entering */
	uint32_t netns_denied;          /* setns refused (EPERM: needs CAP_SYS_ADMIN) */
	uint32_t netns_over_cap;        /* beyond the namespace cap */
	uint32_t netns_unusable;        /* a /run/netns file that holds no namespace */
	uint32_t pids_unreadable;       /* /proc/PID/ns/net we may not read */
	uint64_t counters_skipped;      /* counter table at its cap */
	uint32_t src_errors[ND_CSRC_N]; /* a source that failed (not: absent) */
	int src_errno[ND_CSRC_N];       /* the last such error, as -errno */
	uint64_t elapsed_ns;            /* how long the collection took */
};

struct nd_snap {
	uint64_t t_ns;                  /* when it was taken (caller's clock) */
	struct nd_netns *ns;
	uint32_t nns, ns_max;
	size_t ns_cap;
	struct nd_ctr *c;
	size_t n, cap, max;
	struct nd_snap_stats st;
};

/* nd_snap_init - an empty snapshot holding at most @max_counters rows and
 * @max_netns namespaces. Nothing is allocated until rows are added. */
void nd_snap_init(struct nd_snap *s, size_t max_counters, uint32_t max_netns);

/* nd_snap_clear - forget rows, namespaces and statistics; keep the
 * allocations (and the caps) for the next collection. */
void nd_snap_clear(struct nd_snap *s);

/* nd_snap_free - release everything. Accepts a zeroed snapshot. */
void nd_snap_free(struct nd_snap *s);

/* nd_snap_add_ns - add a namespace; returns its index or -ENOSPC (at the
 * cap: counted in st.netns_over_cap) or -ENOMEM. */
int nd_snap_add_ns(struct nd_snap *s, const char *name, uint64_t ino, int pid, bool named);

/* nd_snap_add - append a copy of @c. -ENOSPC at the cap (counted in
 * st.counters_skipped), -ENOMEM. */
int nd_snap_add(struct nd_snap *s, const struct nd_ctr *c);

/*
 * nd_grow - make room for one more element in the array *@p of *@cap
 * elements of @elem bytes, @n of them used: doubles it (first to @first),
 * never beyond @max. 0, -ENOSPC at @max, -ENOMEM.
 */
int nd_grow(void **p, size_t *cap, size_t n, size_t max, size_t elem, size_t first);

/* nd_ctr_set - fill @c: zeroes it, then copies the strings (truncated to
 * their fields; NULL is ""). */
void nd_ctr_set(struct nd_ctr *c, uint32_t ns, enum nd_ctr_src src, const char *dev,
		const char *name, uint64_t value, bool gauge);

/* Names of sources as used in JSON, text and filters ("link", "qdisc", ...);
 * nd_ctr_src_parse gives -1 for an unknown name. */
const char *nd_ctr_src_name(enum nd_ctr_src src);
int nd_ctr_src_parse(const char *name);

/* nd_ctr_key - the identity of @c across snapshots: namespace inode,
 * source, device, qdisc handle and parent (or CPU), and name. */
uint64_t nd_ctr_key(const struct nd_snap *s, const struct nd_ctr *c);

/* nd_qdisc_handle_fmt - tc's notation: "8001:", "1:10", "root", "ingress".
 * @buf of at least 16 bytes. Returns @buf. */
const char *nd_qdisc_handle_fmt(uint32_t h, bool as_parent, char *buf, size_t len);

/* ---- classes --------------------------------------------------------------- */

/*
 * nd_ctr_is_problem - a drop, error, overflow, retransmission or timeout
 * counter: one whose movement means traffic was lost or delayed (rx_dropped,
 * qdisc drops, TcpExt.ListenOverflows, Tcp.RetransSegs, conntrack
 * early_drop, softnet time_squeeze, ...). Gauges never are.
 */
bool nd_ctr_is_problem(const struct nd_ctr *c);

/* nd_ctr_is_symptom - a TCP retransmission or timeout counter (the effect
 * the correlation explains by drops): Tcp.RetransSegs, TcpExt.TCPTimeouts,
 * TcpExt.TCPSynRetrans, TcpExt.TCPLossProbes, ... */
bool nd_ctr_is_symptom(const struct nd_ctr *c);

/* ---- filters ----------------------------------------------------------------- */

/*
 * A filter: each field a comma-separated list of shell globs (fnmatch),
 * NULL or "" matching everything.
 *   netns    namespace names ("host", "ci-*", "pid:1234")
 *   device   interface names; counters without a device (snmp, netstat,
 *            conntrack, softnet) are kept, so correlation still sees TCP
 *   counter  counter names, also tried as "SOURCE:NAME" ("qdisc:drops",
 *            "Tcp.Retrans*", "netstat:*listen*"), ignoring case
 */
struct nd_filter {
	const char *netns, *device, *counter;
};

/* nd_glob_list_match - does @s match one glob of the comma list @list?
 * @casefold: ignore case (counter names: '*drop*' finds ListenDrops). */
bool nd_glob_list_match(const char *list, const char *s, bool casefold);

/* nd_glob_list_check - 0 if @list is a usable list (no empty element, no
 * element longer than 255), -EINVAL otherwise. */
int nd_glob_list_check(const char *list);

/* nd_ctr_name_match - does @c's name, or "SOURCE:NAME", match a glob of
 * @list (ignoring case)? NULL or "" matches everything. */
bool nd_ctr_name_match(const char *list, const struct nd_ctr *c);

bool nd_filter_netns(const struct nd_filter *f, const char *name);
bool nd_filter_device(const struct nd_filter *f, const char *dev);
/* The device and counter parts for a row about to be added. */
bool nd_filter_ctr(const struct nd_filter *f, const struct nd_ctr *c);

/* ---- difference of two snapshots ---------------------------------------------- */

struct nd_diff_row {
	size_t cur;             /* row in the newer snapshot */
	uint64_t prev_value;    /* the older value (0 when new) */
	int64_t delta;          /* counters: increase (after a reset: the new value);
				   gauges: signed change */
	bool is_new;            /* not in the older snapshot: delta 0 */
	bool reset;             /* a counter went down: reset or object recreated */
};

struct nd_diff {
	struct nd_diff_row *rows;       /* one per row of the newer snapshot */
	size_t n;
	uint64_t vanished;              /* rows of the older snapshot not in the newer */
	double dt;                      /* seconds between the snapshots */
};

/*
 * nd_snap_diff - the difference from @prev to @cur, matched by nd_ctr_key.
 * @out->rows is allocated (nd_diff_free). -ENOMEM.
 */
int nd_snap_diff(const struct nd_snap *prev, const struct nd_snap *cur, struct nd_diff *out);
void nd_diff_free(struct nd_diff *d);

/* ---- lookup by key ------------------------------------------------------------- */

struct nd_key_index {
	uint64_t *keys;
	uint32_t *rows;     /* row + 1; 0 = empty slot */
	size_t mask;
};

/* nd_key_index_build - index the rows of @s by key. -ENOMEM. */
int nd_key_index_build(struct nd_key_index *ix, const struct nd_snap *s);
/* The row with @key, or -1. */
long nd_key_index_find(const struct nd_key_index *ix, uint64_t key);
void nd_key_index_free(struct nd_key_index *ix);

#endif
