/* SPDX-License-Identifier: MIT */
/*
 * ethstats: ethtool driver statistics (`ethtool -S`) of the interfaces of
 * the current network namespace, over the SIOCETHTOOL ioctl: the size of
 * the ETH_SS_STATS string set, its names, then the values.
 */
#include "counters/sys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/ethtool.h>
#include <linux/sockios.h>

/* No driver has more; more is taken as a broken reply. */
#define MAX_STATS 8192

static int ethtool(int fd, const char *ifname, void *data)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = data;
	return ioctl(fd, SIOCETHTOOL, &ifr) < 0 ? -errno : 0;
}

static int stats_count(int fd, const char *ifname)
{
	struct ethtool_sset_info *si = calloc(1, sizeof(*si) + sizeof(uint32_t));
	int rc;

	if (!si)
		return -ENOMEM;
	si->cmd = ETHTOOL_GSSET_INFO;
	si->sset_mask = 1ULL << ETH_SS_STATS;
	rc = ethtool(fd, ifname, si);
	if (rc == 0)
		rc = !(si->sset_mask & (1ULL << ETH_SS_STATS)) ? 0
		     : si->data[0] > MAX_STATS ? -EOVERFLOW : (int)si->data[0];
	free(si);
	return rc;
}

/* Is @name already among the first @i names (drivers repeat some)? */
static bool repeated(const char *names, uint32_t i, const char *name)
{
	for (uint32_t j = 0; j < i; j++)
		if (!strncmp(names + (size_t)j * ETH_GSTRING_LEN, name, ETH_GSTRING_LEN))
			return true;
	return false;
}

static int one_device(struct nd_ns_ctx *x, int fd, const char *dev)
{
	struct ethtool_gstrings *gs = NULL;
	struct ethtool_stats *st = NULL;
	int rc = stats_count(fd, dev);
	uint32_t n;

	if (rc <= 0)
		return rc;
	n = (uint32_t)rc;
	gs = calloc(1, sizeof(*gs) + (size_t)n * ETH_GSTRING_LEN);
	st = calloc(1, sizeof(*st) + (size_t)n * sizeof(uint64_t));
	if (!gs || !st) {
		rc = -ENOMEM;
		goto out;
	}
	gs->cmd = ETHTOOL_GSTRINGS;
	gs->string_set = ETH_SS_STATS;
	gs->len = n;
	rc = ethtool(fd, dev, gs);
	if (rc < 0)
		goto out;
	st->cmd = ETHTOOL_GSTATS;
	st->n_stats = n;
	rc = ethtool(fd, dev, st);
	if (rc < 0)
		goto out;
	if (gs->len < n)
		n = gs->len;
	if (st->n_stats < n)
		n = st->n_stats;
	for (uint32_t i = 0; i < n && rc != -ENOMEM; i++) {
		char name[ETH_GSTRING_LEN + 8];
		struct nd_ctr c;

		memcpy(name, gs->data + (size_t)i * ETH_GSTRING_LEN, ETH_GSTRING_LEN);
		name[ETH_GSTRING_LEN] = '\0';
		if (!name[0])
			continue;
		if (repeated((const char *)gs->data, i, name)) {
			size_t l = strlen(name);
			snprintf(name + l, sizeof(name) - l, "#%u", i);
		}
		/* peer_ifindex (veth) and the like are identities, not counts. */
		nd_ctr_set(&c, x->ns, ND_CSRC_ETHTOOL, dev, name, st->data[i], strstr(name, "ifindex") != NULL);
		rc = nd_ns_ctx_add(x, &c);
	}
	rc = rc == -ENOMEM ? rc : 0;
out:
	free(gs);
	free(st);
	return rc;
}

int nd_ethstats_read(struct nd_ns_ctx *x)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

	if (fd < 0)
		return -errno;
	for (size_t i = 0; i < x->nifs; i++) {
		int r;

		if (!nd_filter_device(x->f, x->ifs[i].name))
			continue;
		r = one_device(x, fd, x->ifs[i].name);
		/* No statistics (lo, most virtual devices) or gone meanwhile. */
		if (r == -EOPNOTSUPP || r == -ENODEV || r == -EINVAL)
			continue;
		if (r < 0)
			rc = r;
		if (r == -ENOMEM)
			break;
	}
	close(fd);
	return rc;
}
