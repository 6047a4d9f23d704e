/* SPDX-License-Identifier: MIT */
#include "sys/netns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/ethtool.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <linux/sockios.h>

/* ---- entering and leaving a namespace on the calling thread ------------- */

/* Switch the calling thread into @nsfd; *saved gets what to switch back to
 * (-1 when @nsfd is -1 and nothing was switched). */
static int ns_enter(int nsfd, int *saved)
{
	*saved = -1;
	if (nsfd < 0)
		return 0;
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		int e = -errno;
		close(self);
		return e;
	}
	*saved = self;
	return 0;
}

static void ns_leave(int saved)
{
	if (saved < 0)
		return;
	/* Returning to the namespace we came from cannot fail short of a
	 * kernel bug; carrying on in the wrong namespace would send the
	 * caller's traffic to the wrong place, so stop here. */
	if (setns(saved, CLONE_NEWNET) < 0)
		abort();
	close(saved);
}

int nd_netns_socket(int nsfd, int domain, int type, int proto)
{
	int saved, rc = ns_enter(nsfd, &saved);
	if (rc < 0)
		return rc;
	int fd = socket(domain, type, proto);
	rc = fd < 0 ? -errno : fd;
	ns_leave(saved);
	return rc;
}

int nd_netns_open(int nsfd, const char *path, int flags)
{
	int saved, rc = ns_enter(nsfd, &saved);
	if (rc < 0)
		return rc;
	int fd = open(path, flags | O_CLOEXEC);
	rc = fd < 0 ? -errno : fd;
	ns_leave(saved);
	return rc;
}

int nd_netns_sysctl(int nsfd, const char *key, const char *value)
{
	char path[PATH_MAX];
	if (!key || !value || strstr(key, ".."))
		return -EINVAL;
	int n = snprintf(path, sizeof(path), "/proc/sys/%s", key);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	int fd = nd_netns_open(nsfd, path, O_WRONLY);
	if (fd < 0)
		return fd;
	size_t len = strlen(value);
	ssize_t w = write(fd, value, len);
	int rc = w < 0 ? -errno : (size_t)w != len ? -EIO : 0;
	close(fd);
	return rc;
}

/* ---- named namespaces ---------------------------------------------------- */

static int ns_path(const char *name, char *buf, size_t len)
{
	if (!name || !*name || strchr(name, '/') || !strcmp(name, ".") ||
	    !strcmp(name, "..") || strlen(name) > NAME_MAX)
		return -EINVAL;
	int n = snprintf(buf, len, "%s/%s", ND_NETNS_RUN_DIR, name);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* mkdir -p /run/netns and make it a shared mount point, as iproute2 does:
 * if it is not a mount point yet (EINVAL), bind it onto itself once. */
static int prepare_run_dir(void)
{
	if (mkdir("/run", 0755) < 0 && errno != EEXIST)
		return -errno;
	if (mkdir(ND_NETNS_RUN_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	bool made_mount = false;
	while (mount("", ND_NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) < 0) {
		if (errno != EINVAL || made_mount)
			return -errno;
		if (mount(ND_NETNS_RUN_DIR, ND_NETNS_RUN_DIR, "none", MS_BIND | MS_REC,
			  NULL) < 0)
			return -errno;
		made_mount = true;
	}
	return 0;
}

struct mk_arg {
	const char *path;
	int rc;
};

/* Helper thread: a new namespace for itself, bind-mounted on the file. The
 * thread then exits; the mount keeps the namespace alive. */
static void *mk_thread(void *p)
{
	struct mk_arg *a = p;
	char src[64];
	if (unshare(CLONE_NEWNET) < 0) {
		a->rc = -errno;
		return NULL;
	}
	snprintf(src, sizeof(src), "/proc/self/task/%d/ns/net", (int)gettid());
	a->rc = mount(src, a->path, "none", MS_BIND, NULL) < 0 ? -errno : 0;
	return NULL;
}

int nd_netns_add(const char *name)
{
	char path[PATH_MAX];
	int rc = ns_path(name, path, sizeof(path));
	if (rc < 0)
		return rc;
	rc = prepare_run_dir();
	if (rc < 0)
		return rc;
	int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	close(fd);

	struct mk_arg a = { .path = path, .rc = -EINTR };
	pthread_t th;
	int e = pthread_create(&th, NULL, mk_thread, &a);
	if (e) {
		unlink(path);
		return -e;
	}
	pthread_join(th, NULL);
	if (a.rc < 0)
		unlink(path);
	return a.rc;
}

int nd_netns_del(const char *name)
{
	char path[PATH_MAX];
	int rc = ns_path(name, path, sizeof(path));
	if (rc < 0)
		return rc;
	/* EINVAL: not a mount point (a leftover plain file); unlink it all the
	 * same. */
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL) {
		if (errno == ENOENT)
			return -ENOENT;
		return -errno;
	}
	return unlink(path) < 0 ? -errno : 0;
}

int nd_netns_exists(const char *name)
{
	char path[PATH_MAX];
	struct stat st;
	int rc = ns_path(name, path, sizeof(path));
	if (rc < 0)
		return rc;
	if (lstat(path, &st) == 0)
		return 1;
	return errno == ENOENT ? 0 : -errno;
}

int nd_netns_open_fd(const char *name)
{
	char path[PATH_MAX];
	struct statfs sf;
	int rc = ns_path(name, path, sizeof(path));
	if (rc < 0)
		return rc;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstatfs(fd, &sf) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if ((unsigned long)sf.f_type != (unsigned long)NSFS_MAGIC ||
	    ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
		close(fd);
		return -ENOTRECOVERABLE;
	}
	return fd;
}

/* ---- processes in a namespace --------------------------------------------- */

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* Is any thread of process @pid in the namespace (@dev, @ino)? */
static bool pid_in_ns(const char *pid, dev_t dev, ino_t ino)
{
	char path[PATH_MAX];
	struct stat st;
	snprintf(path, sizeof(path), "/proc/%s/task", pid);
	DIR *d = opendir(path);
	if (!d)
		return false;
	bool found = false;
	struct dirent *de;
	while (!found && (de = readdir(d))) {
		if (!all_digits(de->d_name))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/task/%s/ns/net", pid, de->d_name);
		if (stat(path, &st) == 0 && st.st_ino == ino && st.st_dev == dev)
			found = true;
	}
	closedir(d);
	return found;
}

int nd_netns_pids(int nsfd, pid_t *pids, size_t cap)
{
	struct stat ns;
	if (fstat(nsfd, &ns) < 0)
		return -errno;
	DIR *d = opendir("/proc");
	if (!d)
		return -errno;
	pid_t self = getpid();
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!all_digits(de->d_name))
			continue;
		long pid = strtol(de->d_name, NULL, 10);
		if (pid <= 0 || pid > INT_MAX || (pid_t)pid == self)
			continue;
		if (!pid_in_ns(de->d_name, ns.st_dev, ns.st_ino))
			continue;
		if (n < cap)
			pids[n] = (pid_t)pid;
		if (n < INT_MAX)
			n++;
	}
	closedir(d);
	return (int)n;
}

/* ---- ethtool offloads ------------------------------------------------------ */

/* Which offloads to turn off, by the kernel's feature name: every
 * segmentation offload ("tx-*-segmentation": TSO in all its variants,
 * including ones newer than this code, USO, GSO, tunnels), every
 * receive aggregation (GRO, LRO) and transmit checksumming. 2: must end
 * up off; 1: best effort. */
static int off_wanted(const char *name)
{
	/* Checksums too: a frame whose checksum the sender left to "the
	 * hardware" (CHECKSUM_PARTIAL) reaches a packet socket without one,
	 * and a user-space forwarder would send it on with a wrong checksum. */
	static const char *const required[] = {
		"tx-tcp-segmentation", "tx-tcp6-segmentation", "tx-generic-segmentation",
		"rx-gro", "rx-lro", "tx-checksum-ip-generic",
	};
	static const char *const optional[] = {
		"rx-gro-hw", "rx-gro-list", "rx-udp-gro-forwarding",
	};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!strcmp(name, required[i]))
			return 2;
	for (size_t i = 0; i < sizeof(optional) / sizeof(optional[0]); i++)
		if (!strcmp(name, optional[i]))
			return 1;
	size_t n = strlen(name), sfx = strlen("-segmentation");
	if (n > sfx + 3 && !strncmp(name, "tx-", 3) && !strcmp(name + n - sfx, "-segmentation"))
		return 1;
	return 0;
}

static int ethtool(int fd, const char *ifname, void *data)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = data;
	int rc = ioctl(fd, SIOCETHTOOL, &ifr);
	return rc < 0 ? -errno : rc;
}

/* Number of strings in the features string set. */
static int feature_count(int fd, const char *ifname)
{
	struct ethtool_sset_info *si = calloc(1, sizeof(*si) + sizeof(uint32_t));
	if (!si)
		return -ENOMEM;
	si->cmd = ETHTOOL_GSSET_INFO;
	si->sset_mask = 1ULL << ETH_SS_FEATURES;
	int rc = ethtool(fd, ifname, si);
	if (rc >= 0)
		rc = (si->sset_mask & (1ULL << ETH_SS_FEATURES)) ? (int)si->data[0]
								  : -EOPNOTSUPP;
	free(si);
	if (rc > 32 * 64)   /* far beyond any kernel's feature count */
		rc = -EOVERFLOW;
	return rc;
}

static struct ethtool_gfeatures *get_features(int fd, const char *ifname, uint32_t blocks,
					      int *rc)
{
	struct ethtool_gfeatures *gf =
		calloc(1, sizeof(*gf) + blocks * sizeof(struct ethtool_get_features_block));
	if (!gf) {
		*rc = -ENOMEM;
		return NULL;
	}
	gf->cmd = ETHTOOL_GFEATURES;
	gf->size = blocks;
	*rc = ethtool(fd, ifname, gf);
	if (*rc < 0) {
		free(gf);
		return NULL;
	}
	return gf;
}

static bool available(const struct ethtool_gfeatures *gf, uint32_t i)
{
	return gf->features[i / 32].available & (1u << (i % 32));
}

static bool active(const struct ethtool_gfeatures *gf, uint32_t i)
{
	return gf->features[i / 32].active & (1u << (i % 32));
}

int nd_netns_offloads_off(int nsfd, const char *ifname)
{
	if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	int fd = nd_netns_socket(nsfd, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fd;
	struct ethtool_gstrings *gs = NULL;
	struct ethtool_gfeatures *gf = NULL;
	struct ethtool_sfeatures *sf = NULL;
	uint8_t *want = NULL;
	int rc = feature_count(fd, ifname);
	if (rc < 0)
		goto out;
	uint32_t count = (uint32_t)rc, blocks = (count + 31) / 32;

	rc = -ENOMEM;
	gs = calloc(1, sizeof(*gs) + (size_t)count * ETH_GSTRING_LEN);
	want = calloc(count ? count : 1, 1);
	if (!gs || !want)
		goto out;
	gs->cmd = ETHTOOL_GSTRINGS;
	gs->string_set = ETH_SS_FEATURES;
	gs->len = count;
	rc = ethtool(fd, ifname, gs);
	if (rc < 0)
		goto out;
	for (uint32_t i = 0; i < count && i < gs->len; i++) {
		char s[ETH_GSTRING_LEN + 1];
		memcpy(s, gs->data + (size_t)i * ETH_GSTRING_LEN, ETH_GSTRING_LEN);
		s[ETH_GSTRING_LEN] = '\0';
		want[i] = (uint8_t)off_wanted(s);
	}

	gf = get_features(fd, ifname, blocks, &rc);
	if (!gf)
		goto out;
	rc = -ENOMEM;
	sf = calloc(1, sizeof(*sf) + blocks * sizeof(struct ethtool_set_features_block));
	if (!sf)
		goto out;
	sf->cmd = ETHTOOL_SFEATURES;
	sf->size = blocks;
	bool change = false;
	rc = 0;
	for (uint32_t i = 0; i < count; i++) {
		if (!want[i] || !active(gf, i))
			continue;   /* not ours to change, or already off */
		if (!available(gf, i)) {
			if (want[i] == 2) {
				rc = -EOPNOTSUPP;   /* on and fixed */
				goto out;
			}
			continue;
		}
		sf->features[i / 32].valid |= 1u << (i % 32);   /* requested: 0 */
		change = true;
	}
	if (!change)
		goto out;
	rc = ethtool(fd, ifname, sf);
	if (rc < 0)
		goto out;
	free(gf);
	gf = get_features(fd, ifname, blocks, &rc);
	if (!gf)
		goto out;
	rc = 0;
	for (uint32_t i = 0; i < count; i++)
		if (want[i] == 2 && active(gf, i))
			rc = -EOPNOTSUPP;   /* the device kept it on */
out:
	free(want);
	free(sf);
	free(gf);
	free(gs);
	close(fd);
	return rc;
}

/* ---- receive side of an endpoint: GRO and threaded NAPI ------------------ */

int nd_netns_gro_set(int nsfd, const char *ifname, bool on)
{
	if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	int fd = nd_netns_socket(nsfd, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fd;
	struct ethtool_value v = { .cmd = ETHTOOL_SGRO, .data = on };
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&v;
	int rc = ioctl(fd, SIOCETHTOOL, &ifr) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

/*
 * sysfs shows the network devices of the namespace that mounted it, so a
 * namespace's /sys/class/net is only reachable through a sysfs mounted from
 * inside it: a child process enters the namespace, takes a private mount
 * namespace (nothing leaks to the host), mounts sysfs and writes.
 */
int nd_netns_sysfs_write(int nsfd, const char *relpath, const char *value)
{
	char path[PATH_MAX];
	if (!relpath || !value || strstr(relpath, "..") || relpath[0] == '/')
		return -EINVAL;
	int n = snprintf(path, sizeof(path), "/sys/%s", relpath);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd;
		size_t len = strlen(value);
		if ((nsfd >= 0 && setns(nsfd, CLONE_NEWNET) < 0) || unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    (umount2("/sys", MNT_DETACH) < 0 && errno != EINVAL) ||
		    mount("sysfs", "/sys", "sysfs", 0, NULL) < 0)
			_exit(errno & 0xff);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			_exit(errno & 0xff);
		if (write(fd, value, len) != (ssize_t)len)
			_exit(errno ? errno & 0xff : EIO);
		_exit(close(fd) < 0 ? errno & 0xff : 0);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(st))
		return -EINTR;
	return -WEXITSTATUS(st);
}
