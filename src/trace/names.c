/* SPDX-License-Identifier: MIT */
/* names: namespace inodes and ifindexes to names, with bounded caches. */
#include "trace/names.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/nsfs.h>

#include "sys/netns.h"

struct ns_ent {
	uint32_t inode;
	unsigned gen;           /* generation of the last failed search */
	char *label;
};

struct dev_ent {
	uint32_t netns, ifindex;
	unsigned gen;
	bool known;
	char name[IF_NAMESIZE];
};

struct nd_names {
	struct ns_ent *ns;      /* sorted by inode */
	size_t nns;
	struct dev_ent *dev;    /* sorted by (netns, ifindex) */
	size_t ndev;
	size_t cap;
	unsigned gen;
	uint32_t self, init;
	uint64_t overflow;
};

static uint32_t inode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (uint32_t)st.st_ino : 0;
}

uint32_t nd_names_self_netns(void)
{
	return inode_of("/proc/self/ns/net");
}

struct nd_names *nd_names_new(size_t cap)
{
	struct nd_names *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->ns = calloc(cap ? cap : 1, sizeof(*n->ns));
	n->dev = calloc(cap ? cap : 1, sizeof(*n->dev));
	if (!n->ns || !n->dev) {
		nd_names_free(n);
		return NULL;
	}
	n->cap = cap;
	n->gen = 1;
	n->self = nd_names_self_netns();
	n->init = inode_of("/proc/1/ns/net");
	return n;
}

void nd_names_free(struct nd_names *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nns; i++)
		free(n->ns[i].label);
	free(n->ns);
	free(n->dev);
	free(n);
}

void nd_names_refresh(struct nd_names *n)
{
	n->gen++;
}

uint64_t nd_names_overflow(const struct nd_names *n)
{
	return n->overflow;
}

/* Name of the /run/netns entry holding namespace @inode, into @buf. */
static bool run_netns_name(uint32_t inode, char *buf, size_t len)
{
	DIR *d = opendir(ND_NETNS_RUN_DIR);
	struct dirent *de;
	bool found = false;

	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		char path[PATH_MAX];

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", ND_NETNS_RUN_DIR, de->d_name);
		if (inode_of(path) == inode) {
			snprintf(buf, len, "%s", de->d_name);
			found = true;
		}
	}
	closedir(d);
	return found;
}

/* A descriptor of namespace @inode: -1 with *own set for our own, else an
 * open fd, or -ENOENT when no file or process leads to it. */
static int open_netns(const struct nd_names *n, uint32_t inode, bool *own)
{
	char name[NAME_MAX + 1], path[PATH_MAX];
	DIR *d;
	struct dirent *de;
	int fd = -ENOENT;

	*own = inode == n->self;
	if (*own)
		return -1;
	if (run_netns_name(inode, name, sizeof(name)))
		return nd_netns_open_fd(name);
	d = opendir("/proc");
	if (!d)
		return -errno;
	while (fd == -ENOENT && (de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", de->d_name);
		if (inode_of(path) == inode) {
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				fd = -ENOENT;   /* gone meanwhile: keep looking */
		}
	}
	closedir(d);
	return fd;
}

static size_t ns_lower(const struct nd_names *n, uint32_t inode)
{
	size_t lo = 0, hi = n->nns;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (n->ns[mid].inode < inode)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const char *nd_names_netns(struct nd_names *n, uint32_t inode)
{
	char name[NAME_MAX + 1];
	struct ns_ent *e;
	size_t i;

	if (!inode)
		return NULL;
	i = ns_lower(n, inode);
	if (i < n->nns && n->ns[i].inode == inode) {
		e = &n->ns[i];
		if (e->label || e->gen == n->gen)
			return e->label;
	} else {
		if (n->nns >= n->cap) {
			n->overflow++;
			return inode == n->init ? "init" : NULL;
		}
		memmove(&n->ns[i + 1], &n->ns[i], (n->nns - i) * sizeof(*n->ns));
		n->nns++;
		e = &n->ns[i];
		*e = (struct ns_ent){ .inode = inode };
	}
	e->gen = n->gen;
	if (run_netns_name(inode, name, sizeof(name)))
		e->label = strdup(name);
	else if (inode == n->init)
		e->label = strdup("init");
	return e->label;
}

/* SIOCGIFNAME in namespace @fd (-1: own). */
static int ifname_in(int nsfd, uint32_t ifindex, char *buf)
{
	struct ifreq ifr;
	int s = nd_netns_socket(nsfd, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc;

	if (s < 0)
		return s;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_ifindex = (int)ifindex;
	rc = ioctl(s, SIOCGIFNAME, &ifr) < 0 ? -errno : 0;
	close(s);
	if (rc == 0)
		snprintf(buf, IF_NAMESIZE, "%s", ifr.ifr_name);
	return rc;
}

static int dev_cmp(const struct dev_ent *e, uint32_t netns, uint32_t ifindex)
{
	if (e->netns != netns)
		return e->netns < netns ? -1 : 1;
	return (e->ifindex > ifindex) - (e->ifindex < ifindex);
}

const char *nd_names_dev(struct nd_names *n, uint32_t netns, uint32_t ifindex)
{
	size_t lo = 0, hi = n->ndev;
	struct dev_ent *e;
	bool own;
	int fd;

	if (!ifindex)
		return NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (dev_cmp(&n->dev[mid], netns, ifindex) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < n->ndev && !dev_cmp(&n->dev[lo], netns, ifindex)) {
		e = &n->dev[lo];
		/* A miss may cost a walk over /proc: retried every 8th refresh. */
		if (e->known || n->gen - e->gen < 8)
			return e->known ? e->name : NULL;
	} else {
		if (n->ndev >= n->cap) {
			n->overflow++;
			return NULL;
		}
		memmove(&n->dev[lo + 1], &n->dev[lo], (n->ndev - lo) * sizeof(*n->dev));
		n->ndev++;
		e = &n->dev[lo];
		*e = (struct dev_ent){ .netns = netns, .ifindex = ifindex };
	}
	e->gen = n->gen;
	fd = netns ? open_netns(n, netns, &own) : -ENOENT;
	if (fd >= 0 || own)
		e->known = ifname_in(fd, ifindex, e->name) == 0;
	if (fd >= 0)
		close(fd);
	return e->known ? e->name : NULL;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* A whole number 1..@max in @s: 1 (stored in *out), 0 when @s is not a
 * number at all, -EINVAL when it is one out of range. */
static int parse_id(const char *s, unsigned long max, uint32_t *out)
{
	unsigned long v;

	if (!all_digits(s))
		return 0;
	errno = 0;
	v = strtoul(s, NULL, 10);
	if (errno || v == 0 || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 1;
}

/* Open the namespace @arg names (see nd_names_netns_arg); fd or -errno. */
static int open_netns_arg(const char *arg)
{
	int fd;

	if (strchr(arg, '/')) {
		fd = open(arg, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
			close(fd);
			return -EINVAL;
		}
		return fd;
	}
	fd = nd_netns_open_fd(arg);
	return fd == -ENOTRECOVERABLE ? -EINVAL : fd;
}

int nd_names_netns_arg(const char *arg, uint32_t *inode)
{
	struct stat st;
	int fd;

	if (!arg || !*arg)
		return -EINVAL;
	fd = parse_id(arg, UINT32_MAX, inode);
	if (fd != 0)
		return fd < 0 ? fd : 0;
	fd = open_netns_arg(arg);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	close(fd);
	*inode = (uint32_t)st.st_ino;
	return 0;
}

int nd_names_dev_arg(const char *netns_arg, const char *dev, uint32_t *ifindex,
		     uint32_t *ns_inode)
{
	struct ifreq ifr;
	struct stat st;
	int fd = -1, s, rc;

	if (!dev || !*dev || strlen(dev) >= IF_NAMESIZE)
		return -EINVAL;
	rc = parse_id(dev, INT32_MAX, ifindex);
	if (rc != 0) {
		*ns_inode = 0;
		return rc < 0 ? rc : 0;
	}
	if (netns_arg && !all_digits(netns_arg)) {
		fd = open_netns_arg(netns_arg);
		if (fd < 0)
			return fd;
	} else if (netns_arg) {
		return -EINVAL;         /* an inode number cannot be entered */
	}
	s = nd_netns_socket(fd, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		if (fd >= 0)
			close(fd);
		return s;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	rc = ioctl(s, SIOCGIFINDEX, &ifr) < 0 ? -errno : 0;
	close(s);
	if (rc == 0) {
		*ifindex = (uint32_t)ifr.ifr_ifindex;
		if (fd >= 0)
			*ns_inode = fstat(fd, &st) == 0 ? (uint32_t)st.st_ino : 0;
		else
			*ns_inode = nd_names_self_netns();
	}
	if (fd >= 0)
		close(fd);
	return rc;
}
