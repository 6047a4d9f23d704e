/* SPDX-License-Identifier: MIT */
#include "emu/topo.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sys/netns.h"
#include "sys/nl.h"

static const char *const ns_suffix[ND_EMU_NS_COUNT] = { "-snd", "-mid", "-rcv" };

static const struct {
	const char *name;
	enum nd_emu_ns ns;
	uint8_t host;   /* last octet of its address; 0: no address */
} iface_def[ND_EMU_IF_COUNT] = {
	[ND_EMU_IF_S0] = { "s0", ND_EMU_NS_SND, 1 },
	[ND_EMU_IF_M0] = { "m0", ND_EMU_NS_MID, 0 },
	[ND_EMU_IF_M1] = { "m1", ND_EMU_NS_MID, 0 },
	[ND_EMU_IF_R0] = { "r0", ND_EMU_NS_RCV, 2 },
};

#define PIDS_MAX 64
#define KILL_TICK_MS 20
#define KILL_TERM_TICKS 50    /* 1 s of SIGTERM, then SIGKILL */
#define KILL_ALL_TICKS 150    /* give up after 3 s */

__attribute__((format(printf, 4, 5)))
static int errf(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* Check @name and fill in the names of everything in the topology. */
static int names(const char *name, struct nd_emu_topo *t, char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	size_t len = name ? strlen(name) : 0;
	bool ok = len >= 1 && len <= ND_EMU_NAME_MAX && name[0] != '-';
	for (size_t i = 0; ok && i < len; i++) {
		char c = name[i];
		ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
	}
	if (!ok)
		return errf(err, errlen, -EINVAL,
			    "bad topology name '%.32s': use 1 to %d characters of a-z, 0-9 "
			    "and '-', not starting with '-'",
			    name ? name : "", ND_EMU_NAME_MAX);
	memcpy(t->name, name, len + 1);
	for (int i = 0; i < ND_EMU_NS_COUNT; i++)
		snprintf(t->ns[i], sizeof(t->ns[i]), "%s%s", name, ns_suffix[i]);
	for (int k = 0; k < ND_EMU_IF_COUNT; k++) {
		snprintf(t->ifs[k].name, sizeof(t->ifs[k].name), "%s", iface_def[k].name);
		t->ifs[k].ns = iface_def[k].ns;
	}
	return 0;
}

/* 10.X.Y.0 with X in 200..254 from an FNV-1a hash of @name. */
static struct in_addr subnet_of(const char *name)
{
	uint32_t h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 16777619u;
	uint32_t x = 200 + h % 55, y = (h / 55) % 256;
	struct in_addr a = { htonl(10u << 24 | x << 16 | y << 8) };
	return a;
}

static struct in_addr host_addr(struct in_addr subnet, uint8_t host)
{
	struct in_addr a = { htonl(ntohl(subnet.s_addr) | host) };
	return a;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * Send every process in the namespaces @fds (-1 entries skipped) SIGTERM,
 * then SIGKILL, until none is left. Returns 0, or -EBUSY with one stubborn
 * PID in *left.
 */
static int kill_in(const int *fds, int nfds, pid_t *left)
{
	pid_t pids[PIDS_MAX];
	for (int tick = 0; tick < KILL_ALL_TICKS; tick++) {
		int sig = tick < KILL_TERM_TICKS ? SIGTERM : SIGKILL;
		int total = 0;
		for (int i = 0; i < nfds; i++) {
			if (fds[i] < 0)
				continue;
			int n = nd_netns_pids(fds[i], pids, PIDS_MAX);
			if (n <= 0)
				continue;
			for (int j = 0; j < n && j < PIDS_MAX; j++)
				kill(pids[j], sig);
			*left = pids[0];
			total += n;
		}
		if (!total)
			return 0;
		sleep_ms(KILL_TICK_MS);
	}
	return -EBUSY;
}

/* Delete the links of namespace @ns (0..2) of the topology in @nsfd;
 * links already gone are fine. */
static void del_links(int nsfd, enum nd_emu_ns ns)
{
	struct nd_nl *nl;
	if (nsfd < 0 || nd_nl_open(nsfd, &nl) < 0)
		return;
	for (int k = 0; k < ND_EMU_IF_COUNT; k++)
		if (iface_def[k].ns == ns)
			nd_nl_link_del(nl, iface_def[k].name);
	nd_nl_close(nl);
}

/*
 * Remove the namespaces of @t selected by @which (bit i: namespace i):
 * processes killed, links deleted, namespace files unmounted and removed.
 * Returns 0, -EBUSY (see kill_in) or the first other error.
 */
static int remove_parts(const struct nd_emu_topo *t, unsigned which, pid_t *left)
{
	int fds[ND_EMU_NS_COUNT], rc = 0;
	for (int i = 0; i < ND_EMU_NS_COUNT; i++) {
		fds[i] = -1;
		if (which & (1u << i))
			fds[i] = nd_netns_open_fd(t->ns[i]);   /* < 0: not a namespace */
	}
	int krc = kill_in(fds, ND_EMU_NS_COUNT, left);
	for (int i = 0; i < ND_EMU_NS_COUNT; i++) {
		if (fds[i] >= 0) {
			del_links(fds[i], (enum nd_emu_ns)i);
			close(fds[i]);
		}
	}
	for (int i = 0; i < ND_EMU_NS_COUNT; i++) {
		if (!(which & (1u << i)))
			continue;
		int r = nd_netns_del(t->ns[i]);
		if (r < 0 && r != -ENOENT && !rc)
			rc = r;
	}
	return rc ? rc : krc;
}

/* Fill @t's interfaces from the kernel through the handles @nl. */
static int describe(struct nd_emu_topo *t, struct nd_nl *const *nl, char *err,
		    size_t errlen)
{
	for (int k = 0; k < ND_EMU_IF_COUNT; k++) {
		struct nd_emu_iface *f = &t->ifs[k];
		struct nd_nl_link l;
		int rc = nd_nl_link_get(nl[f->ns], f->name, &l);
		if (rc == -ENODEV)
			return errf(err, errlen, rc,
				    "topology '%s' is incomplete (no %s in %s); remove it with "
				    "`netdx emu topo down %s`",
				    t->name, f->name, t->ns[f->ns], t->name);
		if (rc < 0)
			return errf(err, errlen, rc, "topology '%s': reading %s in %s: %s",
				    t->name, f->name, t->ns[f->ns], strerror(-rc));
		f->ifindex = l.ifindex;
		memcpy(f->mac, l.mac, sizeof(f->mac));
		f->mtu = l.mtu;
		f->up = l.flags & IFF_UP;
		f->promisc = l.flags & IFF_PROMISC;
		if (!iface_def[k].host)
			continue;
		rc = nd_nl_addr4_get(nl[f->ns], l.ifindex, &f->addr, &f->prefixlen);
		if (rc < 0 && rc != -ENOENT)
			return errf(err, errlen, rc, "topology '%s': reading the address of %s: %s",
				    t->name, f->name, strerror(-rc));
	}
	const struct nd_emu_iface *s0 = &t->ifs[ND_EMU_IF_S0];
	t->subnet.s_addr = s0->addr.s_addr & htonl(0xffffff00u);
	t->mtu = s0->mtu;
	return 0;
}

static int open_all(const struct nd_emu_topo *t, int *fds, struct nd_nl **nl, char *err,
		    size_t errlen)
{
	for (int i = 0; i < ND_EMU_NS_COUNT; i++) {
		fds[i] = -1;
		nl[i] = NULL;
	}
	for (int i = 0; i < ND_EMU_NS_COUNT; i++) {
		int rc = nd_netns_open_fd(t->ns[i]);
		if (rc == -ENOENT || rc == -ENOTRECOVERABLE)
			return errf(err, errlen, -ENODEV,
				    "topology '%s' is incomplete (%s %s); remove it with "
				    "`netdx emu topo down %s`",
				    t->name, t->ns[i],
				    rc == -ENOENT ? "is missing" : "holds no namespace", t->name);
		if (rc < 0)
			return errf(err, errlen, rc, "topology '%s': opening namespace %s: %s",
				    t->name, t->ns[i], strerror(-rc));
		fds[i] = rc;
		rc = nd_nl_open(fds[i], &nl[i]);
		if (rc < 0)
			return errf(err, errlen, rc, "topology '%s': netlink in %s: %s", t->name,
				    t->ns[i], strerror(-rc));
	}
	return 0;
}

static void close_all(int *fds, struct nd_nl **nl)
{
	for (int i = 0; i < ND_EMU_NS_COUNT; i++) {
		nd_nl_close(nl[i]);
		nl[i] = NULL;
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

int nd_emu_topo_get(const char *name, struct nd_emu_topo *out, char *err, size_t errlen)
{
	struct nd_emu_topo t;
	int rc = names(name, &t, err, errlen);
	if (rc < 0)
		return rc;
	int present = 0;
	for (int i = 0; i < ND_EMU_NS_COUNT; i++) {
		rc = nd_netns_exists(t.ns[i]);
		if (rc < 0)
			return errf(err, errlen, rc, "topology '%s': looking for %s: %s", t.name,
				    t.ns[i], strerror(-rc));
		present += rc;
	}
	if (!present)
		return errf(err, errlen, -ENOENT,
			    "no topology '%s' (create it with `netdx emu topo up %s`)", t.name,
			    t.name);
	int fds[ND_EMU_NS_COUNT];
	struct nd_nl *nl[ND_EMU_NS_COUNT];
	rc = open_all(&t, fds, nl, err, errlen);
	if (rc == 0)
		rc = describe(&t, nl, err, errlen);
	close_all(fds, nl);
	if (rc == 0 && out)
		*out = t;
	return rc;
}

int nd_emu_topo_down(const char *name, char *err, size_t errlen)
{
	struct nd_emu_topo t;
	int rc = names(name, &t, err, errlen);
	if (rc < 0)
		return rc;
	unsigned which = 0;
	for (int i = 0; i < ND_EMU_NS_COUNT; i++) {
		rc = nd_netns_exists(t.ns[i]);
		if (rc < 0)
			return errf(err, errlen, rc, "topology '%s': looking for %s: %s", t.name,
				    t.ns[i], strerror(-rc));
		if (rc)
			which |= 1u << i;
	}
	if (!which)
		return 0;
	pid_t left = 0;
	rc = remove_parts(&t, which, &left);
	if (rc == -EBUSY)
		return errf(err, errlen, rc,
			    "topology '%s' removed, but process %d would not die and keeps "
			    "a namespace alive",
			    t.name, (int)left);
	if (rc < 0)
		return errf(err, errlen, rc, "removing topology '%s': %s", t.name,
			    strerror(-rc));
	return 0;
}

int nd_emu_topo_up(const char *name, const struct nd_emu_topo_cfg *cfg,
		   struct nd_emu_topo *out, char *err, size_t errlen)
{
	struct nd_emu_topo t;
	int rc = names(name, &t, err, errlen);
	if (rc < 0)
		return rc;
	unsigned mtu = cfg && cfg->mtu ? cfg->mtu : ND_EMU_MTU_DEFAULT;
	if (mtu < 68 || mtu > 65535)
		return errf(err, errlen, -EINVAL, "bad MTU %u: use 68..65535", mtu);
	struct in_addr subnet = cfg ? cfg->subnet : (struct in_addr){ 0 };
	if (subnet.s_addr == 0) {
		subnet = subnet_of(t.name);
	} else if ((ntohl(subnet.s_addr) & 0xff0000ffu) != 0x0a000000u) {
		char buf[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &subnet, buf, sizeof(buf));
		return errf(err, errlen, -EINVAL,
			    "bad subnet %s: use 10.X.Y.0 (a /24 inside 10.0.0.0/8)", buf);
	}
	for (int i = 0; i < ND_EMU_NS_COUNT; i++) {
		rc = nd_netns_exists(t.ns[i]);
		if (rc < 0)
			return errf(err, errlen, rc, "topology '%s': looking for %s: %s", t.name,
				    t.ns[i], strerror(-rc));
		if (rc)
			return errf(err, errlen, -EEXIST,
				    "topology '%s' already exists (namespace %s is there); "
				    "remove it first with `netdx emu topo down %s`",
				    t.name, t.ns[i], t.name);
	}

	int fds[ND_EMU_NS_COUNT] = { -1, -1, -1 };
	struct nd_nl *nl[ND_EMU_NS_COUNT] = { NULL, NULL, NULL };
	unsigned created = 0;
	const char *step = "", *what = "";
	for (int i = 0; i < ND_EMU_NS_COUNT; i++) {
		what = t.ns[i];
		step = "creating namespace";
		rc = nd_netns_add(t.ns[i]);
		if (rc == -EEXIST) {
			errf(err, errlen, rc,
			     "topology '%s' already exists (namespace %s is there); remove "
			     "it first with `netdx emu topo down %s`",
			     t.name, t.ns[i], t.name);
			goto fail_quiet;
		}
		if (rc < 0)
			goto fail;
		created |= 1u << i;
		step = "opening namespace";
		rc = nd_netns_open_fd(t.ns[i]);
		if (rc < 0)
			goto fail;
		fds[i] = rc;
		/* No IPv6: no link-local addresses, router solicitations or
		 * MLD reports on the wire, only the caller's traffic. -ENOENT:
		 * a kernel without IPv6. */
		step = "disabling IPv6 in";
		rc = nd_netns_sysctl(fds[i], "net/ipv6/conf/all/disable_ipv6", "1");
		if (rc == 0)
			rc = nd_netns_sysctl(fds[i], "net/ipv6/conf/default/disable_ipv6", "1");
		if (rc < 0 && rc != -ENOENT)
			goto fail;
		step = "opening netlink in";
		rc = nd_nl_open(fds[i], &nl[i]);
		if (rc < 0)
			goto fail;
		step = "setting lo up in";
		rc = nd_nl_ifindex(nl[i], "lo");
		if (rc > 0)
			rc = nd_nl_link_set_up(nl[i], rc, true);
		if (rc < 0)
			goto fail;
	}

	static const enum nd_emu_if pair[2][2] = {
		{ ND_EMU_IF_M0, ND_EMU_IF_S0 },
		{ ND_EMU_IF_M1, ND_EMU_IF_R0 },
	};
	step = "creating veth";
	for (int p = 0; p < 2; p++) {
		const struct nd_emu_iface *a = &t.ifs[pair[p][0]], *b = &t.ifs[pair[p][1]];
		what = b->name;
		rc = nd_nl_veth_add(nl[ND_EMU_NS_MID], a->name, fds[a->ns], b->name, fds[b->ns],
				    mtu);
		if (rc < 0)
			goto fail;
	}

	for (int k = 0; k < ND_EMU_IF_COUNT; k++) {
		const struct nd_emu_iface *f = &t.ifs[k];
		struct nd_nl *n = nl[f->ns];
		what = f->name;
		step = "finding interface";
		int idx = nd_nl_ifindex(n, f->name);
		if (idx < 0) {
			rc = idx;
			goto fail;
		}
		step = "turning offloads off on";
		rc = nd_netns_offloads_off(fds[f->ns], f->name);
		if (rc < 0)
			goto fail;
		if (iface_def[k].host) {
			step = "adding the address of";
			rc = nd_nl_addr4_add(n, idx, host_addr(subnet, iface_def[k].host), 24);
		} else {
			step = "making promiscuous";
			rc = nd_nl_link_set_promisc(n, idx, true);
		}
		if (rc < 0)
			goto fail;
		step = "setting up";
		rc = nd_nl_link_set_up(n, idx, true);
		if (rc < 0)
			goto fail;
		if (iface_def[k].host) {
			/* The ends receive like a host with a NIC: GRO on, and
			 * NAPI (which exists once the link is up)
			 * in its own kernel thread, so the emulator's
			 * send() hands a frame over instead of running the
			 * receiving TCP stack itself (which made departures in
			 * the other direction milliseconds late under load).
			 * Frames on the wire between m0 and m1 stay MTU-sized. */
			char rel[64];
			step = "turning GRO on";
			rc = nd_netns_gro_set(fds[f->ns], f->name, true);
			if (rc < 0)
				goto fail;
			step = "making NAPI threaded on";
			snprintf(rel, sizeof(rel), "class/net/%s/threaded", f->name);
			rc = nd_netns_sysfs_write(fds[f->ns], rel, "1");
			if (rc < 0)
				goto fail;
		}
	}

	if (out) {
		step = "describing";
		what = t.name;
		rc = describe(&t, nl, err, errlen);
		if (rc < 0)
			goto fail_quiet;
		*out = t;
	}
	close_all(fds, nl);
	return 0;

fail:
	errf(err, errlen, rc, "cannot create topology '%s': %s %s: %s", t.name, step, what,
	     strerror(-rc));
fail_quiet:
	close_all(fds, nl);
	pid_t left;
	remove_parts(&t, created, &left);
	return rc;
}
