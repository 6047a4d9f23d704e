/* SPDX-License-Identifier: MIT */
/*
 * collect: one snapshot of every counter, namespace by namespace (see
 * collect.h): enter with setns(), read netlink, ethtool and procfs, go
 * back.
 */
#include "counters/collect.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "counters/parse.h"
#include "counters/sys.h"

#define NL_BUF_SIZE 32768
#define FILE_BUF_START 65536
#define FILE_BUF_MAX (8u << 20)

struct nd_coll {
	struct nd_coll_cfg cfg;
	int self_fd;            /* the thread's own namespace, to go back to */
	uint64_t self_ino;
	bool broken;            /* could not go back once: refuse to run */
	char *fbuf;             /* a whole /proc file */
	size_t fbuf_cap;
	struct nd_ns_ctx x;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int nd_coll_new(const struct nd_coll_cfg *cfg, struct nd_coll **out)
{
	struct nd_coll *co = calloc(1, sizeof(*co));
	struct stat sb;
	int rc;

	if (!co)
		return -ENOMEM;
	co->cfg = *cfg;
	co->self_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (co->self_fd < 0 || fstat(co->self_fd, &sb) < 0) {
		rc = -errno;
		goto fail;
	}
	co->self_ino = sb.st_ino;
	co->fbuf_cap = FILE_BUF_START;
	co->fbuf = malloc(co->fbuf_cap);
	co->x.buflen = NL_BUF_SIZE;
	co->x.buf = malloc(co->x.buflen);
	if (!co->fbuf || !co->x.buf) {
		rc = -ENOMEM;
		goto fail;
	}
	co->x.f = &co->cfg.filter;
	*out = co;
	return 0;
fail:
	nd_coll_free(co);
	return rc;
}

void nd_coll_free(struct nd_coll *co)
{
	if (!co)
		return;
	if (co->self_fd >= 0)
		close(co->self_fd);
	free(co->fbuf);
	free(co->x.buf);
	free(co->x.ifs);
	free(co);
}

/* ---- the namespace being read ------------------------------------------------------ */

int nd_ns_ctx_add(struct nd_ns_ctx *x, const struct nd_ctr *c)
{
	if (!nd_filter_ctr(x->f, c))
		return 0;
	return nd_snap_add(x->s, c);
}

const char *nd_ns_ctx_ifname(const struct nd_ns_ctx *x, int ifindex)
{
	for (size_t i = 0; i < x->nifs; i++)
		if (x->ifs[i].ifindex == ifindex)
			return x->ifs[i].name;
	return NULL;
}

/* Read all of @path into co->fbuf; *len gets its size. */
static int read_file(struct nd_coll *co, const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
	size_t n = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t r;

		if (n == co->fbuf_cap) {
			char *p;

			if (co->fbuf_cap >= FILE_BUF_MAX) {
				rc = -EFBIG;
				break;
			}
			p = realloc(co->fbuf, co->fbuf_cap * 2);
			if (!p) {
				rc = -ENOMEM;
				break;
			}
			co->fbuf = p;
			co->fbuf_cap *= 2;
		}
		r = read(fd, co->fbuf + n, co->fbuf_cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*len = n;
	return rc;
}

struct emit_ctx {
	struct nd_ns_ctx *x;
	enum nd_ctr_src src;
};

static int emit(void *ctx, const char *name, uint64_t value, bool gauge, uint32_t cpu)
{
	struct emit_ctx *e = ctx;
	struct nd_ctr c;
	int rc;

	nd_ctr_set(&c, e->x->ns, e->src, NULL, name, value, gauge);
	if (e->src == ND_CSRC_SOFTNET)
		c.handle = cpu;
	rc = nd_ns_ctx_add(e->x, &c);
	return rc == -ENOMEM ? rc : 0;      /* a full table is counted, not an error */
}

static void src_failed(struct nd_snap *s, enum nd_ctr_src src, int rc)
{
	s->st.src_errors[src]++;
	s->st.src_errno[src] = rc;
}

/* A /proc/thread-self/net file through its parser; absent files are no
 * error (no IPv6, no conntrack). */
static int proc_source(struct nd_coll *co, const char *path, enum nd_ctr_src src,
		       int (*parse)(const char *, size_t, nd_parse_emit, void *))
{
	struct emit_ctx e = { &co->x, src };
	size_t len = 0;
	int rc = read_file(co, path, &len);

	if (rc == -ENOENT)
		return 0;
	if (rc == 0)
		rc = parse(co->fbuf, len, emit, &e);
	if (rc < 0 && rc != -ENOMEM)
		src_failed(co->x.s, src, rc);
	return rc == -ENOMEM ? rc : 0;
}

/* A number in a /proc/sys file, read with a small buffer: the kernel
 * allocates as much as is asked for. */
static int sysctl_value(const char *path, uint64_t *v)
{
	char buf[64];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf));
	n = n < 0 ? -errno : n;
	close(fd);
	return n < 0 ? (int)n : nd_parse_u64_text(buf, (size_t)n, v);
}

static int conntrack(struct nd_coll *co)
{
	static const struct { const char *path, *name; } gauges[] = {
		{ "/proc/sys/net/netfilter/nf_conntrack_count", "entries" },
		{ "/proc/sys/net/netfilter/nf_conntrack_max", "entries_limit" },
	};
	int rc = proc_source(co, "/proc/thread-self/net/stat/nf_conntrack", ND_CSRC_CONNTRACK,
			     nd_parse_ct_stat);

	for (size_t i = 0; rc == 0 && i < sizeof(gauges) / sizeof(gauges[0]); i++) {
		struct nd_ctr c;
		uint64_t v;
		int r = sysctl_value(gauges[i].path, &v);

		if (r == -ENOENT)
			continue;       /* no conntrack in this kernel */
		if (r < 0) {
			src_failed(co->x.s, ND_CSRC_CONNTRACK, r);
			continue;
		}
		nd_ctr_set(&c, co->x.ns, ND_CSRC_CONNTRACK, NULL, gauges[i].name, v, true);
		rc = nd_ns_ctx_add(&co->x, &c);
		rc = rc == -ENOMEM ? rc : 0;
	}
	return rc;
}

/* Everything of the namespace the thread is in now. 0 or -ENOMEM. */
static int read_here(struct nd_coll *co, bool host)
{
	static const struct {
		const char *path;
		enum nd_ctr_src src;
		int (*parse)(const char *, size_t, nd_parse_emit, void *);
	} files[] = {
		{ "/proc/thread-self/net/snmp", ND_CSRC_SNMP, nd_parse_snmp },
		{ "/proc/thread-self/net/netstat", ND_CSRC_NETSTAT, nd_parse_snmp },
		{ "/proc/thread-self/net/snmp6", ND_CSRC_SNMP6, nd_parse_snmp6 },
	};
	struct nd_snap *s = co->x.s;
	int lrc, qrc, rc = 0;

	nd_nlstats_read(&co->x, &lrc, &qrc);
	if (lrc == -ENOMEM || qrc == -ENOMEM)
		return -ENOMEM;
	if (lrc < 0)
		src_failed(s, ND_CSRC_LINK, lrc);
	if (qrc < 0)
		src_failed(s, ND_CSRC_QDISC, qrc);
	if (!co->cfg.no_ethtool && lrc == 0) {
		rc = nd_ethstats_read(&co->x);
		if (rc == -ENOMEM)
			return rc;
		if (rc < 0)
			src_failed(s, ND_CSRC_ETHTOOL, rc);
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		rc = proc_source(co, files[i].path, files[i].src, files[i].parse);
		if (rc < 0)
			return rc;
	}
	rc = conntrack(co);
	if (rc == 0 && host)
		rc = proc_source(co, "/proc/thread-self/net/softnet_stat", ND_CSRC_SOFTNET,
				 nd_parse_softnet);
	return rc;
}

/*
 * Enter @c's namespace. 1 when entered (leave it with leave()), 0 when it
 * is the thread's own, or -ESRCH (gone, or another namespace now has its
 * path), -EPERM, -EINVAL (not a namespace).
 */
static int enter(struct nd_coll *co, const struct nd_ns_cand *c)
{
	struct stat sb;
	int fd, rc;

	if (c->ino == co->self_ino)
		return 0;
	fd = open(c->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH ? -ESRCH : -errno;
	if (fstat(fd, &sb) < 0 || sb.st_ino != c->ino) {
		close(fd);
		return -ESRCH;
	}
	rc = setns(fd, CLONE_NEWNET) < 0 ? -errno : 1;
	close(fd);
	return rc;
}

static int leave(struct nd_coll *co)
{
	if (setns(co->self_fd, CLONE_NEWNET) < 0) {
		co->broken = true;
		return -ENOTRECOVERABLE;
	}
	return 0;
}

int nd_coll_snapshot(struct nd_coll *co, struct nd_snap *s)
{
	struct nd_ns_cand *cands = NULL;
	size_t n = 0;
	uint64_t t0 = mono_ns();
	int rc;

	nd_snap_clear(s);
	s->t_ns = t0;
	if (co->broken)
		return -ENOTRECOVERABLE;
	rc = nd_ns_scan(&co->cfg.filter, !co->cfg.no_proc_walk, s->ns_max, co->self_ino, &cands, &n,
			&s->st);
	if (rc < 0)
		return rc;
	co->x.s = s;
	for (size_t i = 0; i < n && rc >= 0; i++) {
		int idx, in = enter(co, &cands[i]);

		if (in == -ESRCH) {
			s->st.netns_vanished++;
			continue;
		}
		if (in == -EPERM || in == -EACCES) {
			s->st.netns_denied++;
			continue;
		}
		if (in < 0) {
			s->st.netns_unusable++;
			continue;
		}
		idx = nd_snap_add_ns(s, cands[i].name, cands[i].ino, cands[i].pid, cands[i].named);
		if (idx >= 0) {
			co->x.ns = (uint32_t)idx;
			rc = read_here(co, cands[i].host);
			s->st.netns_collected++;
		} else if (idx == -ENOMEM) {
			rc = idx;
		}
		if (in == 1) {
			int lr = leave(co);

			if (lr < 0)
				rc = lr;
		}
	}
	free(cands);
	co->x.s = NULL;
	s->t_ns = (t0 + mono_ns()) / 2;  /* the middle of the reading */
	s->st.elapsed_ns = mono_ns() - t0;
	return rc < 0 ? rc : 0;
}
