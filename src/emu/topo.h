/* SPDX-License-Identifier: MIT */
/*
 * topo: the network topology of `netdx emu`, the bottleneck-link emulator.
 *
 *   NAME-snd              NAME-mid                           NAME-rcv
 *   s0 10.X.Y.1/24 ==veth== m0 [user-space forwarder] m1 ==veth== r0 10.X.Y.2/24
 *
 * Three iproute2-compatible network namespaces (`ip netns list` shows them)
 * joined by two veth pairs. The middle namespace is a layer-2 wire: m0 and
 * m1 carry no address, are up and promiscuous, and frames cross only when a
 * forwarder (not part of this module) copies them, so s0 and r0 share one
 * /24 and reach each other only through it. Segmentation and receive
 * offloads (TSO, GSO, GRO, ...) are off on all four interfaces, so frames
 * are MTU-sized on the wire; IPv6 is disabled in all three namespaces, so
 * the only traffic is the caller's (10.0.0.0/8 only); lo is up in each.
 *
 * NAME is 1..8 characters of [a-z0-9-]. The subnet 10.X.Y.0/24 is given by
 * the caller or derived from a hash of NAME (X in 200..254). The topology
 * lives in the kernel and in /run/netns, not in this process: it outlasts
 * the run that made it, nd_emu_topo_get() describes it from there, and
 * nd_emu_topo_down() removes it whatever state a killed run left it in.
 *
 * Functions return 0 or -errno; on failure they also write a one-line
 * message (no trailing newline) to @err when @errlen > 0.
 */
#ifndef NETDX_EMU_TOPO_H
#define NETDX_EMU_TOPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#define ND_EMU_NAME_MAX 8        /* longest topology NAME */
#define ND_EMU_MTU_DEFAULT 1500

enum nd_emu_ns { ND_EMU_NS_SND, ND_EMU_NS_MID, ND_EMU_NS_RCV, ND_EMU_NS_COUNT };

enum nd_emu_if { ND_EMU_IF_S0, ND_EMU_IF_M0, ND_EMU_IF_M1, ND_EMU_IF_R0, ND_EMU_IF_COUNT };

struct nd_emu_topo_cfg {
	unsigned mtu;            /* of all four interfaces, 68..65535; 0: 1500 */
	struct in_addr subnet;   /* 10.X.Y.0 (network order); 0.0.0.0: from NAME */
};

struct nd_emu_iface {
	char name[16];           /* "s0", "m0", "m1", "r0" */
	enum nd_emu_ns ns;       /* the namespace it is in */
	int ifindex;             /* in that namespace */
	uint8_t mac[6];
	struct in_addr addr;     /* 10.X.Y.1 (s0), 10.X.Y.2 (r0); 0 for m0, m1 */
	unsigned prefixlen;      /* 24 for s0, r0; 0 for m0, m1 */
	unsigned mtu;
	bool up;                 /* administratively up */
	bool promisc;
};

struct nd_emu_topo {
	char name[ND_EMU_NAME_MAX + 1];
	char ns[ND_EMU_NS_COUNT][16];            /* "NAME-snd", "NAME-mid", "NAME-rcv" */
	struct in_addr subnet;                   /* 10.X.Y.0, prefix 24 */
	unsigned mtu;
	struct nd_emu_iface ifs[ND_EMU_IF_COUNT]; /* indexed by enum nd_emu_if */
};

/*
 * nd_emu_topo_up - create topology @name as configured by @cfg (NULL: all
 * defaults) and describe it in *@out (may be NULL). -EINVAL for a bad name,
 * MTU or subnet; -EEXIST if any namespace of @name is already there (the
 * message suggests `netdx emu topo down NAME`). If it fails midway it
 * removes whatever it had created. Needs CAP_SYS_ADMIN and CAP_NET_ADMIN.
 */
int nd_emu_topo_up(const char *name, const struct nd_emu_topo_cfg *cfg,
		   struct nd_emu_topo *out, char *err, size_t errlen);

/*
 * nd_emu_topo_down - remove topology @name and everything left of it, also
 * after a killed run or a partial creation: processes still in any of its
 * namespaces are sent SIGTERM, then SIGKILL after 1 s (the calling process
 * is spared), its veths are deleted and its namespaces unmounted and
 * unlinked. Idempotent: returns 0 also when nothing was there. -EINVAL for
 * a bad name; -EBUSY if a process would not die within 3 s (everything
 * else is still removed; the namespace then lives until that process
 * exits).
 */
int nd_emu_topo_down(const char *name, char *err, size_t errlen);

/*
 * nd_emu_topo_get - describe existing topology @name in *@out, read back
 * from the kernel. -ENOENT if none of it exists, -ENODEV if it is
 * incomplete (the message suggests `netdx emu topo down NAME`).
 */
int nd_emu_topo_get(const char *name, struct nd_emu_topo *out, char *err, size_t errlen);

#endif
