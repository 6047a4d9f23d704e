/* SPDX-License-Identifier: MIT */
#include "sys/nl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "sys/netns.h"

/* Large enough for any single reply we ask for (one link with stats
 * skipped, one dump batch of addresses). */
#define NL_BUF_SIZE 32768

struct nd_nl {
	struct mnl_socket *sk;
	unsigned portid;
	unsigned seq;
	char *buf;
};

int nd_nl_open(int nsfd, struct nd_nl **out)
{
	struct nd_nl *nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->buf = malloc(NL_BUF_SIZE);
	if (!nl->buf) {
		free(nl);
		return -ENOMEM;
	}
	int fd = nd_netns_socket(nsfd, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0) {
		free(nl->buf);
		free(nl);
		return fd;
	}
	int rc = 0;
	nl->sk = mnl_socket_fdopen(fd);
	if (!nl->sk) {
		rc = -errno;
		close(fd);
		goto fail;
	}
	int one = 1;
	/* Acks without a copy of the request: smaller replies. Optional. */
	(void)mnl_socket_setsockopt(nl->sk, NETLINK_CAP_ACK, &one, sizeof(one));
	if (mnl_socket_bind(nl->sk, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		goto fail;
	}
	nl->portid = mnl_socket_get_portid(nl->sk);
	nl->seq = (unsigned)getpid() << 8;
	*out = nl;
	return 0;
fail:
	if (nl->sk)
		mnl_socket_close(nl->sk);
	free(nl->buf);
	free(nl);
	return rc ? rc : -EIO;
}

void nd_nl_close(struct nd_nl *nl)
{
	if (!nl)
		return;
	mnl_socket_close(nl->sk);
	free(nl->buf);
	free(nl);
}

/* A fresh request of @type with @flags (NLM_F_REQUEST added) in the
 * handle's buffer. */
static struct nlmsghdr *req(struct nd_nl *nl, uint16_t type, uint16_t flags)
{
	memset(nl->buf, 0, 1024);
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nl->seq;
	return nlh;
}

/* Send @nlh and read replies, handing data messages to @cb, until the
 * acknowledgement (or the end of a dump). */
static int talk(struct nd_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	unsigned seq = nlh->nlmsg_seq;
	if (mnl_socket_sendto(nl->sk, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->sk, nl->buf, NL_BUF_SIZE);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		errno = 0;
		int rc = mnl_cb_run(nl->buf, (size_t)n, seq, nl->portid, cb, data);
		if (rc == MNL_CB_ERROR)
			return errno ? -errno : -EIO;
		if (rc == MNL_CB_STOP)
			return 0;
	}
}

static int valid_ifname(const char *name)
{
	return name && *name && strlen(name) < IFNAMSIZ;
}

static struct ifinfomsg *put_ifinfo(struct nlmsghdr *nlh)
{
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	return ifm;
}

int nd_nl_veth_add(struct nd_nl *nl, const char *name, int nsfd, const char *peer,
		   int peer_nsfd, unsigned mtu)
{
	if (!valid_ifname(name) || !valid_ifname(peer))
		return -EINVAL;
	struct nlmsghdr *nlh =
		req(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	put_ifinfo(nlh);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (nsfd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)nsfd);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	struct nlattr *linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	struct nlattr *p = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	put_ifinfo(nlh);   /* the peer's ifinfomsg, then its attributes */
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	if (peer_nsfd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_nsfd);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	mnl_attr_nest_end(nlh, p);
	mnl_attr_nest_end(nlh, info);
	mnl_attr_nest_end(nlh, linkinfo);
	return talk(nl, nlh, NULL, NULL);
}

int nd_nl_link_del(struct nd_nl *nl, const char *name)
{
	if (!valid_ifname(name))
		return -EINVAL;
	struct nlmsghdr *nlh = req(nl, RTM_DELLINK, NLM_F_ACK);
	put_ifinfo(nlh);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return talk(nl, nlh, NULL, NULL);
}

static int link_attr_cb(const struct nlattr *a, void *data)
{
	struct nd_nl_link *l = data;
	switch (mnl_attr_get_type(a)) {
	case IFLA_IFNAME:
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
			return MNL_CB_ERROR;   /* errno set */
		strncpy(l->name, mnl_attr_get_str(a), sizeof(l->name) - 1);
		break;
	case IFLA_MTU:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;   /* errno set */
		l->mtu = mnl_attr_get_u32(a);
		break;
	case IFLA_ADDRESS:
		if (mnl_attr_get_payload_len(a) == sizeof(l->mac))
			memcpy(l->mac, mnl_attr_get_payload(a), sizeof(l->mac));
		break;
	}
	return MNL_CB_OK;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nd_nl_link *l = data;
	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifm))) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	memset(l, 0, sizeof(*l));
	l->ifindex = ifm->ifi_index;
	l->flags = ifm->ifi_flags;
	return mnl_attr_parse(nlh, sizeof(*ifm), link_attr_cb, l);
}

int nd_nl_link_get(struct nd_nl *nl, const char *name, struct nd_nl_link *out)
{
	if (!valid_ifname(name))
		return -EINVAL;
	struct nd_nl_link l;
	memset(&l, 0, sizeof(l));
	struct nlmsghdr *nlh = req(nl, RTM_GETLINK, NLM_F_ACK);
	put_ifinfo(nlh);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	int rc = talk(nl, nlh, link_cb, &l);
	if (rc < 0)
		return rc;
	if (l.ifindex <= 0)
		return -ENODEV;
	*out = l;
	return 0;
}

int nd_nl_ifindex(struct nd_nl *nl, const char *name)
{
	struct nd_nl_link l;
	int rc = nd_nl_link_get(nl, name, &l);
	return rc < 0 ? rc : l.ifindex;
}

static int set_flag(struct nd_nl *nl, int ifindex, unsigned flag, bool on)
{
	if (ifindex <= 0)
		return -EINVAL;
	struct nlmsghdr *nlh = req(nl, RTM_NEWLINK, NLM_F_ACK);
	struct ifinfomsg *ifm = put_ifinfo(nlh);
	ifm->ifi_index = ifindex;
	ifm->ifi_change = flag;
	ifm->ifi_flags = on ? flag : 0;
	return talk(nl, nlh, NULL, NULL);
}

int nd_nl_link_set_up(struct nd_nl *nl, int ifindex, bool up)
{
	return set_flag(nl, ifindex, IFF_UP, up);
}

int nd_nl_link_set_promisc(struct nd_nl *nl, int ifindex, bool on)
{
	return set_flag(nl, ifindex, IFF_PROMISC, on);
}

int nd_nl_link_set_mtu(struct nd_nl *nl, int ifindex, unsigned mtu)
{
	if (ifindex <= 0 || !mtu)
		return -EINVAL;
	struct nlmsghdr *nlh = req(nl, RTM_NEWLINK, NLM_F_ACK);
	struct ifinfomsg *ifm = put_ifinfo(nlh);
	ifm->ifi_index = ifindex;
	mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return talk(nl, nlh, NULL, NULL);
}

int nd_nl_addr4_add(struct nd_nl *nl, int ifindex, struct in_addr addr,
		    unsigned prefixlen)
{
	if (ifindex <= 0 || prefixlen > 32)
		return -EINVAL;
	struct nlmsghdr *nlh =
		req(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (uint8_t)prefixlen;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned)ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, sizeof(addr), &addr);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(addr), &addr);
	return talk(nl, nlh, NULL, NULL);
}

struct addr_q {
	int ifindex;
	bool found;
	struct in_addr addr;
	unsigned prefixlen;
};

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct addr_q *q = data;
	if (nlh->nlmsg_type != RTM_NEWADDR || q->found)
		return MNL_CB_OK;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa))) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	if (ifa->ifa_family != AF_INET || (int)ifa->ifa_index != q->ifindex)
		return MNL_CB_OK;
	const struct nlattr *a, *local = NULL, *address = NULL;
	mnl_attr_for_each(a, nlh, sizeof(*ifa)) {
		if (mnl_attr_get_payload_len(a) != sizeof(struct in_addr))
			continue;
		if (mnl_attr_get_type(a) == IFA_LOCAL)
			local = a;
		else if (mnl_attr_get_type(a) == IFA_ADDRESS)
			address = a;
	}
	if (!local)
		local = address;
	if (local) {
		memcpy(&q->addr, mnl_attr_get_payload(local), sizeof(q->addr));
		q->prefixlen = ifa->ifa_prefixlen;
		q->found = true;
	}
	return MNL_CB_OK;
}

int nd_nl_addr4_get(struct nd_nl *nl, int ifindex, struct in_addr *addr,
		    unsigned *prefixlen)
{
	if (ifindex <= 0)
		return -EINVAL;
	struct addr_q q = { .ifindex = ifindex };
	struct nlmsghdr *nlh = req(nl, RTM_GETADDR, NLM_F_DUMP);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	int rc = talk(nl, nlh, addr_cb, &q);
	if (rc < 0)
		return rc;
	if (!q.found)
		return -ENOENT;
	*addr = q.addr;
	*prefixlen = q.prefixlen;
	return 0;
}
