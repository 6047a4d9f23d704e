/* SPDX-License-Identifier: MIT */
/*
 * nsscan: which network namespaces are there? The host's, those named in
 * /run/netns, and those only processes hold (/proc/PID/ns/net),
 * deduplicated by the inode of their nsfs file.
 */
#include "counters/sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sys/netns.h"

/* The inode of init_net on kernels that give it a fixed one (6.9+:
 * PROC_NET_INIT_INO); older kernels are recognised through a kernel
 * thread's namespace instead. */
#define NET_INIT_INO 0xEFFFFFF9u

/* A set of inodes, open addressing. */
struct inoset {
	uint64_t *v;
	size_t mask, n;
};

static int inoset_add(struct inoset *s, uint64_t ino)
{
	size_t j;

	if ((s->n + 1) * 2 > s->mask + 1) {
		size_t size = s->v ? (s->mask + 1) * 2 : 256;
		uint64_t *v = calloc(size, sizeof(*v));

		if (!v)
			return -ENOMEM;
		for (size_t i = 0; s->v && i <= s->mask; i++) {
			if (!s->v[i])
				continue;
			for (j = s->v[i] & (size - 1); v[j]; j = (j + 1) & (size - 1))
				;
			v[j] = s->v[i];
		}
		free(s->v);
		s->v = v;
		s->mask = size - 1;
	}
	for (j = ino & s->mask; s->v[j]; j = (j + 1) & s->mask)
		if (s->v[j] == ino)
			return 0;
	s->v[j] = ino;
	s->n++;
	return 1;
}

struct list {
	struct nd_ns_cand *c;
	size_t n, cap;
	uint32_t max;
};

static int push(struct list *l, struct nd_snap_stats *st, const struct nd_ns_cand *c)
{
	int rc = nd_grow((void **)&l->c, &l->cap, l->n, l->max, sizeof(*l->c), 64);

	if (rc == -ENOSPC) {
		st->netns_over_cap++;
		return 0;
	}
	if (rc < 0)
		return rc;
	l->c[l->n++] = *c;
	return 0;
}

static int cmp_named(const void *a, const void *b)
{
	return strcmp(((const struct nd_ns_cand *)a)->name, ((const struct nd_ns_cand *)b)->name);
}

static int cmp_pid(const void *a, const void *b)
{
	int x = ((const struct nd_ns_cand *)a)->pid, y = ((const struct nd_ns_cand *)b)->pid;

	return x < y ? -1 : x > y;
}

/* One namespace seen: filtered, already known, or new. */
static int consider(struct list *l, struct inoset *seen, const struct nd_filter *f,
		    struct nd_snap_stats *st, const struct nd_ns_cand *c)
{
	int rc = inoset_add(seen, c->ino);

	if (rc <= 0)
		return rc;      /* known, or -ENOMEM */
	st->netns_found++;
	if (!nd_filter_netns(f, c->name)) {
		st->netns_filtered++;
		return 0;
	}
	return push(l, st, c);
}

/* The host's namespace: PID 1's, else a kernel thread's (kthreadd is PID 2
 * and kernel threads never leave init_net), else ours if its inode is
 * init_net's fixed one. */
static void find_host(uint64_t self_ino, struct nd_ns_cand *c)
{
	static const char *const paths[] = { "/proc/1/ns/net", "/proc/2/ns/net" };
	struct stat sb;

	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "host");
	c->host = true;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (stat(paths[i], &sb) == 0) {
			snprintf(c->path, sizeof(c->path), "%s", paths[i]);
			c->ino = sb.st_ino;
			c->pid = (int)i + 1;
			return;
		}
	snprintf(c->path, sizeof(c->path), "/proc/thread-self/ns/net");
	c->ino = self_ino;
	if (self_ino != NET_INIT_INO)
		snprintf(c->name, sizeof(c->name), "self");
}

static int scan_named(struct list *l, struct inoset *seen, const struct nd_filter *f,
		      struct nd_snap_stats *st, dev_t nsfs_dev)
{
	DIR *d = opendir(ND_NETNS_RUN_DIR);
	struct dirent *de;
	size_t first = l->n;
	int rc = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (rc >= 0 && (de = readdir(d))) {
		struct nd_ns_cand c;
		struct stat sb;

		if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(c.name))
			continue;
		memset(&c, 0, sizeof(c));
		snprintf(c.name, sizeof(c.name), "%s", de->d_name);
		snprintf(c.path, sizeof(c.path), "%s/%s", ND_NETNS_RUN_DIR, de->d_name);
		if (stat(c.path, &sb) < 0)
			continue;               /* deleted meanwhile */
		if (sb.st_dev != nsfs_dev) {
			st->netns_unusable++;   /* a file with no namespace mounted on it */
			continue;
		}
		c.ino = sb.st_ino;
		c.named = true;
		rc = consider(l, seen, f, st, &c);
	}
	closedir(d);
	qsort(l->c + first, l->n - first, sizeof(*l->c), cmp_named);
	return rc;
}

static int scan_procs(struct list *l, struct inoset *seen, const struct nd_filter *f,
		      struct nd_snap_stats *st)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	size_t first = l->n;
	int rc = 0;

	if (!d)
		return -errno;
	while (rc >= 0 && (de = readdir(d))) {
		struct nd_ns_cand c;
		struct stat sb;
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (end == de->d_name || *end || pid <= 0 || pid > INT_MAX)
			continue;       /* not a process */
		memset(&c, 0, sizeof(c));
		snprintf(c.path, sizeof(c.path), "/proc/%ld/ns/net", pid);
		if (stat(c.path, &sb) < 0) {
			if (errno == EACCES || errno == EPERM)
				st->pids_unreadable++;
			continue;               /* ENOENT: exited meanwhile */
		}
		snprintf(c.name, sizeof(c.name), "pid:%ld", pid);
		c.ino = sb.st_ino;
		c.pid = (int)pid;
		rc = consider(l, seen, f, st, &c);
	}
	closedir(d);
	qsort(l->c + first, l->n - first, sizeof(*l->c), cmp_pid);
	return rc;
}

int nd_ns_scan(const struct nd_filter *f, bool walk_procs, uint32_t max, uint64_t self_ino,
	       struct nd_ns_cand **out, size_t *n, struct nd_snap_stats *st)
{
	struct list l = { .max = max };
	struct inoset seen = { 0 };
	struct nd_ns_cand host;
	struct stat self;
	int rc;

	if (stat("/proc/thread-self/ns/net", &self) < 0)
		return -errno;
	find_host(self_ino, &host);
	rc = consider(&l, &seen, f, st, &host);
	if (rc >= 0)
		rc = scan_named(&l, &seen, f, st, self.st_dev);
	if (rc >= 0 && walk_procs)
		rc = scan_procs(&l, &seen, f, st);
	free(seen.v);
	if (rc < 0) {
		free(l.c);
		return rc;
	}
	*out = l.c;
	*n = l.n;
	return 0;
}
