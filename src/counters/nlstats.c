/* SPDX-License-Identifier: MIT */
/*
 * nlstats: interface and qdisc statistics of the current network namespace
 * over rtnetlink, with libmnl: one RTM_GETLINK dump (IFLA_STATS64, carrier
 * counts, flags) and one RTM_GETQDISC dump (TCA_STATS2) on one socket.
 */
#include "counters/sys.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/gen_stats.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000    /* linux/if.h; glibc's net/if.h stops before it */
#endif

/* ---- links ------------------------------------------------------------------- */

#define F(x) { #x, offsetof(struct rtnl_link_stats64, x) }
static const struct { const char *name; size_t off; } stats64_fields[] = {
	F(rx_packets), F(tx_packets), F(rx_bytes), F(tx_bytes),
	F(rx_errors), F(tx_errors), F(rx_dropped), F(tx_dropped),
	F(multicast), F(collisions),
	F(rx_length_errors), F(rx_over_errors), F(rx_crc_errors), F(rx_frame_errors),
	F(rx_fifo_errors), F(rx_missed_errors),
	F(tx_aborted_errors), F(tx_carrier_errors), F(tx_fifo_errors),
	F(tx_heartbeat_errors), F(tx_window_errors),
	F(rx_compressed), F(tx_compressed), F(rx_nohandler), F(rx_otherhost_dropped),
};
#undef F

struct attrs {
	const struct nlattr *tb[64];
};

static int attr_cb(const struct nlattr *a, void *data)
{
	struct attrs *at = data;
	unsigned t = mnl_attr_get_type(a);

	if (t < sizeof(at->tb) / sizeof(at->tb[0]))
		at->tb[t] = a;
	return MNL_CB_OK;
}

/* A reply's fixed header (@hdrlen bytes) checked and its attributes
 * gathered; false (errno set) when it is too short or malformed. */
static bool parse_msg(const struct nlmsghdr *nlh, size_t hdrlen, struct attrs *at)
{
	if (nlh->nlmsg_len < mnl_nlmsg_size(hdrlen)) {
		errno = EPROTO;
		return false;
	}
	memset(at, 0, sizeof(*at));
	return mnl_attr_parse(nlh, (unsigned)hdrlen, attr_cb, at) >= 0;
}

static int add_link_value(struct nd_ns_ctx *x, const char *dev, const char *name, uint64_t v,
			  bool gauge)
{
	struct nd_ctr c;

	nd_ctr_set(&c, x->ns, ND_CSRC_LINK, dev, name, v, gauge);
	return nd_ns_ctx_add(x, &c);
}

static void remember_if(struct nd_ns_ctx *x, int ifindex, const char *name)
{
	/* Beyond the cap (or without memory) the qdiscs of the rest are
	 * named "if<N>". */
	if (nd_grow((void **)&x->ifs, &x->ifs_cap, x->nifs, ND_MAX_IFS_PER_NS, sizeof(*x->ifs), 64) < 0)
		return;
	x->ifs[x->nifs].ifindex = ifindex;
	snprintf(x->ifs[x->nifs].name, sizeof(x->ifs[x->nifs].name), "%s", name);
	x->nifs++;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nd_ns_ctx *x = data;
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	struct attrs at;
	const char *dev;
	int rc = 0;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	if (!parse_msg(nlh, sizeof(*ifm), &at))
		return MNL_CB_ERROR;
	if (!at.tb[IFLA_IFNAME] || mnl_attr_validate(at.tb[IFLA_IFNAME], MNL_TYPE_NUL_STRING) < 0) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	dev = mnl_attr_get_str(at.tb[IFLA_IFNAME]);
	remember_if(x, ifm->ifi_index, dev);
	if (!nd_filter_device(x->f, dev))
		return MNL_CB_OK;
	if (at.tb[IFLA_STATS64]) {
		struct rtnl_link_stats64 st;
		size_t len = mnl_attr_get_payload_len(at.tb[IFLA_STATS64]);

		memset(&st, 0, sizeof(st));
		if (len > sizeof(st))
			len = sizeof(st);
		memcpy(&st, mnl_attr_get_payload(at.tb[IFLA_STATS64]), len);
		for (size_t i = 0; i < sizeof(stats64_fields) / sizeof(stats64_fields[0]) && rc != -ENOMEM; i++) {
			uint64_t v;

			if (stats64_fields[i].off + sizeof(uint64_t) > len)
				break;          /* an older kernel's shorter struct */
			memcpy(&v, (const char *)&st + stats64_fields[i].off, sizeof(v));
			rc = add_link_value(x, dev, stats64_fields[i].name, v, false);
		}
	}
	static const struct { int attr; const char *name; } carrier[] = {
		{ IFLA_CARRIER_CHANGES, "carrier_changes" },
		{ IFLA_CARRIER_UP_COUNT, "carrier_up_count" },
		{ IFLA_CARRIER_DOWN_COUNT, "carrier_down_count" },
	};
	for (size_t i = 0; i < sizeof(carrier) / sizeof(carrier[0]) && rc != -ENOMEM; i++)
		if (at.tb[carrier[i].attr] && mnl_attr_validate(at.tb[carrier[i].attr], MNL_TYPE_U32) == 0)
			rc = add_link_value(x, dev, carrier[i].name, mnl_attr_get_u32(at.tb[carrier[i].attr]),
					    false);
	if (rc != -ENOMEM)
		rc = add_link_value(x, dev, "admin_up", (ifm->ifi_flags & IFF_UP) ? 1 : 0, true);
	if (rc != -ENOMEM)
		rc = add_link_value(x, dev, "carrier", (ifm->ifi_flags & IFF_LOWER_UP) ? 1 : 0, true);
	if (rc == -ENOMEM) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

/* ---- qdiscs ------------------------------------------------------------------- */

static int qdisc_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nd_ns_ctx *x = data;
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
	struct attrs at, st2;
	struct gnet_stats_basic basic;
	struct gnet_stats_queue q;
	uint64_t packets = 0;
	bool have_basic = false, have_q = false, have_pkt64 = false;
	const char *dev, *kind = "";
	char ifn[IFNAMSIZ];
	struct nd_ctr c;
	int rc = 0;

	if (nlh->nlmsg_type != RTM_NEWQDISC)
		return MNL_CB_OK;
	if (!parse_msg(nlh, sizeof(*tcm), &at))
		return MNL_CB_ERROR;
	dev = nd_ns_ctx_ifname(x, tcm->tcm_ifindex);
	if (!dev) {
		snprintf(ifn, sizeof(ifn), "if%d", tcm->tcm_ifindex);
		dev = ifn;
	}
	if (!nd_filter_device(x->f, dev))
		return MNL_CB_OK;
	if (at.tb[TCA_KIND] && mnl_attr_validate(at.tb[TCA_KIND], MNL_TYPE_NUL_STRING) == 0)
		kind = mnl_attr_get_str(at.tb[TCA_KIND]);
	memset(&basic, 0, sizeof(basic));
	memset(&q, 0, sizeof(q));
	if (at.tb[TCA_STATS2]) {
		memset(&st2, 0, sizeof(st2));
		if (mnl_attr_parse_nested(at.tb[TCA_STATS2], attr_cb, &st2) < 0)
			return MNL_CB_ERROR;
		if (st2.tb[TCA_STATS_BASIC] &&
		    mnl_attr_get_payload_len(st2.tb[TCA_STATS_BASIC]) >= offsetof(struct gnet_stats_basic, packets) + 4) {
			memcpy(&basic, mnl_attr_get_payload(st2.tb[TCA_STATS_BASIC]),
			       offsetof(struct gnet_stats_basic, packets) + 4);
			have_basic = true;
		}
		if (st2.tb[TCA_STATS_QUEUE] &&
		    mnl_attr_get_payload_len(st2.tb[TCA_STATS_QUEUE]) >= sizeof(q)) {
			memcpy(&q, mnl_attr_get_payload(st2.tb[TCA_STATS_QUEUE]), sizeof(q));
			have_q = true;
		}
		if (st2.tb[TCA_STATS_PKT64] && mnl_attr_validate(st2.tb[TCA_STATS_PKT64], MNL_TYPE_U64) == 0) {
			packets = mnl_attr_get_u64(st2.tb[TCA_STATS_PKT64]);
			have_pkt64 = true;
		}
	} else if (at.tb[TCA_STATS] && mnl_attr_get_payload_len(at.tb[TCA_STATS]) >= sizeof(struct tc_stats)) {
		struct tc_stats ts;

		memcpy(&ts, mnl_attr_get_payload(at.tb[TCA_STATS]), sizeof(ts));
		basic.bytes = ts.bytes;
		basic.packets = ts.packets;
		q.qlen = ts.qlen;
		q.backlog = ts.backlog;
		q.drops = ts.drops;
		q.overlimits = ts.overlimits;
		have_basic = have_q = true;
	}
	if (!have_pkt64)
		packets = basic.packets;

	const struct { const char *name; uint64_t v; bool gauge, have; } vals[] = {
		{ "bytes", basic.bytes, false, have_basic },
		{ "packets", packets, false, have_basic || have_pkt64 },
		{ "drops", q.drops, false, have_q },
		{ "overlimits", q.overlimits, false, have_q },
		{ "requeues", q.requeues, false, have_q },
		{ "qlen", q.qlen, true, have_q },
		{ "backlog_bytes", q.backlog, true, have_q },
	};
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]) && rc != -ENOMEM; i++) {
		if (!vals[i].have)
			continue;
		nd_ctr_set(&c, x->ns, ND_CSRC_QDISC, dev, vals[i].name, vals[i].v, vals[i].gauge);
		snprintf(c.kind, sizeof(c.kind), "%s", kind);
		c.handle = tcm->tcm_handle;
		c.parent = tcm->tcm_parent;
		rc = nd_ns_ctx_add(x, &c);
	}
	if (rc == -ENOMEM) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

/* ---- one dump ----------------------------------------------------------------------- */

static int dump(struct mnl_socket *sk, struct nd_ns_ctx *x, uint16_t type, size_t hdrlen,
		unsigned *seq, mnl_cb_t cb)
{
	char req[256];
	struct nlmsghdr *nlh;
	unsigned portid = mnl_socket_get_portid(sk);

	memset(req, 0, sizeof(req));
	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++*seq;
	mnl_nlmsg_put_extra_header(nlh, hdrlen);   /* family AF_UNSPEC: all */
	if (mnl_socket_sendto(sk, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(sk, x->buf, x->buflen);
		int rc;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		errno = 0;
		rc = mnl_cb_run(x->buf, (size_t)n, nlh->nlmsg_seq, portid, cb, x);
		if (rc == MNL_CB_ERROR)
			return errno ? -errno : -EIO;
		if (rc == MNL_CB_STOP)
			return 0;
	}
}

void nd_nlstats_read(struct nd_ns_ctx *x, int *link_rc, int *qdisc_rc)
{
	struct mnl_socket *sk = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	unsigned seq = (unsigned)time(NULL);

	x->nifs = 0;
	if (!sk) {
		*link_rc = *qdisc_rc = -errno;
		return;
	}
	if (mnl_socket_bind(sk, 0, MNL_SOCKET_AUTOPID) < 0) {
		*link_rc = *qdisc_rc = -errno;
		mnl_socket_close(sk);
		return;
	}
	*link_rc = dump(sk, x, RTM_GETLINK, sizeof(struct ifinfomsg), &seq, link_cb);
	*qdisc_rc = *link_rc < 0 ? *link_rc : dump(sk, x, RTM_GETQDISC, sizeof(struct tcmsg), &seq, qdisc_cb);
	mnl_socket_close(sk);
}
