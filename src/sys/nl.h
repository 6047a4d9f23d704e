/* SPDX-License-Identifier: MIT */
/*
 * nl: small rtnetlink helpers over libmnl.
 *
 * A handle is one NETLINK_ROUTE socket bound to one network namespace: the
 * one given to nd_nl_open() (the socket is opened inside it, see
 * nd_netns_socket()). Every request asks for an acknowledgement and waits
 * for it, so when a call returns 0 the kernel has done the change. Kernel
 * errors come back as -errno (-EEXIST, -ENODEV, -EINVAL, ...).
 *
 * A handle is not thread-safe; use one per thread. No text is made here.
 */
#ifndef NETDX_SYS_NL_H
#define NETDX_SYS_NL_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <net/if.h>

struct nd_nl;

/* What nd_nl_link_get() reports about a link. */
struct nd_nl_link {
	char name[IFNAMSIZ];
	int ifindex;
	unsigned flags;          /* IFF_UP, IFF_PROMISC (as set by the user), ... */
	unsigned mtu;
	uint8_t mac[6];          /* zero if the link has no 6-byte address */
};

/*
 * nd_nl_open - open a route netlink socket inside the namespace @nsfd
 * (-1: the caller's own). *out is set only on success.
 */
int nd_nl_open(int nsfd, struct nd_nl **out);

/* nd_nl_close - close the socket and free the handle. Accepts NULL. */
void nd_nl_close(struct nd_nl *nl);

/*
 * nd_nl_veth_add - create a veth pair: @name placed in namespace @nsfd and
 * @peer placed in namespace @peer_nsfd (-1: the handle's namespace), both
 * with MTU @mtu (0: the kernel's default). Both ends are created down.
 * -EEXIST if a name is taken in its namespace.
 */
int nd_nl_veth_add(struct nd_nl *nl, const char *name, int nsfd, const char *peer,
		   int peer_nsfd, unsigned mtu);

/* nd_nl_link_del - delete link @name (a veth end takes its peer with it).
 * -ENODEV if there is none. */
int nd_nl_link_del(struct nd_nl *nl, const char *name);

/* nd_nl_link_get - describe link @name. -ENODEV if there is none. */
int nd_nl_link_get(struct nd_nl *nl, const char *name, struct nd_nl_link *out);

/* nd_nl_ifindex - the ifindex (> 0) of link @name, or -ENODEV. */
int nd_nl_ifindex(struct nd_nl *nl, const char *name);

/* nd_nl_link_set_up - set link @ifindex administratively up or down. */
int nd_nl_link_set_up(struct nd_nl *nl, int ifindex, bool up);

/* nd_nl_link_set_promisc - turn promiscuous mode of @ifindex on or off. */
int nd_nl_link_set_promisc(struct nd_nl *nl, int ifindex, bool on);

/* nd_nl_link_set_mtu - set the MTU of @ifindex. */
int nd_nl_link_set_mtu(struct nd_nl *nl, int ifindex, unsigned mtu);

/*
 * nd_nl_addr4_add - add IPv4 address @addr/@prefixlen to @ifindex
 * (as `ip addr add`, no broadcast). -EEXIST if it is already there.
 */
int nd_nl_addr4_add(struct nd_nl *nl, int ifindex, struct in_addr addr,
		    unsigned prefixlen);

/*
 * nd_nl_addr4_get - the first IPv4 address on @ifindex, in *addr and
 * *prefixlen. -ENOENT if it has none.
 */
int nd_nl_addr4_get(struct nd_nl *nl, int ifindex, struct in_addr *addr,
		    unsigned *prefixlen);

#endif
