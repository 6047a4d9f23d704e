/* SPDX-License-Identifier: MIT */
/*
 * diag: the diagnosis engine of `netdx doctor`. Pure: no I/O, no clock, no
 * text made for a terminal; it reads the model (dx.h) and writes findings.
 *
 * A finding is a mechanism at a place, with evidence from each source that
 * saw it and a next step. It is "critical" or "warning" only when at least
 * two sources agree (their evidence shows the same thing at the same
 * place); with one source it is "info".
 *
 * The rules, in the order they run (each consumes the symptoms it explains,
 * so a later rule does not explain them twice):
 *
 *  1. conntrack-full: a namespace's nf_conntrack `drop` counter moved
 *     (counters); NETFILTER_DROP drops in that namespace and SYN_SENT
 *     retransmissions (drops); SYN-retransmission stalls (tcp). Place: the
 *     conntrack table of that namespace.
 *  2. listen-overflow: ListenOverflows/ListenDrops moved in a namespace
 *     (counters); TCP_LISTEN_OVERFLOW, request-queue or SYN-cookie drops
 *     there (drops); SYN and SYN-ACK retransmission stalls towards one
 *     server port, and timeouts on the connections to it (tcp). Place: the
 *     listen socket.
 *  3. queue drops at a qdisc: the qdisc's drops (counters), QDISC_DROP
 *     drops on that device (drops), retransmissions of the captured flows
 *     (tcp). network-bottleneck when a captured direction was
 *     network-limited, rto-stalls when they caused timeouts.
 *  4. drops elsewhere (a device's rx/tx drops, any other drop reason):
 *     with timeout stalls of about the same number (within 4x) they are
 *     rto-stalls (or syn-retries) at that device.
 *  5. stalls nothing above explained, seen by tcp and by the TCP counters:
 *     rto-stalls or syn-retries on the path (the place is not known).
 *  6. receiver-window: a direction receiver-limited (tcp) with the
 *     sender's TCP_INFO rwnd_limited time (bench), zero-window counters
 *     (counters) or receive-buffer drops (drops).
 *  7. network-bottleneck without a drop place: a network-limited direction
 *     (info when nothing was lost).
 *  8. sender-limited: a direction that carried at least ND_DX_APP_BYTES and
 *     whose sender had nothing to send (tcp), the sender's TCP_INFO busy
 *     time (bench), no loss (counters). Always info: not a network fault.
 *  Drops of other places that no rule used are "packet-drops", info.
 *
 * The join per connection: with drops run by flow, rules 1, 3 and 4 count
 * only the stalls of connections whose own flow (either direction) lost
 * packets at the place, and do not tie a place whose drops hit none of the
 * stalled connections; without flows, or when some drops have no flow row,
 * they fall back to place and amount.
 *
 * Ranking: severity, then impact (seconds of stalled or limited transfer:
 * what cost the most time first), then the number of sources that agree.
 */
#ifndef NETDX_DOCTOR_DIAG_H
#define NETDX_DOCTOR_DIAG_H

#include "doctor/dx.h"

#define ND_DX_APP_BYTES (256u * 1024u)

enum nd_dx_sev { ND_DX_INFO, ND_DX_WARNING, ND_DX_CRITICAL };

enum nd_dx_mech {
	ND_DX_M_RTO_STALLS,
	ND_DX_M_SYN_RETRIES,
	ND_DX_M_CONNTRACK_FULL,
	ND_DX_M_LISTEN_OVERFLOW,
	ND_DX_M_RECEIVER_WINDOW,
	ND_DX_M_NETWORK_BOTTLENECK,
	ND_DX_M_SENDER_LIMITED,
	ND_DX_M_PACKET_DROPS,
	ND_DX_NMECH
};

enum nd_dx_place_kind {
	ND_DX_P_DEVICE,         /* a device of a namespace (and the drop reason there) */
	ND_DX_P_QDISC,          /* a qdisc on a device */
	ND_DX_P_CONNTRACK,      /* the conntrack table of a namespace */
	ND_DX_P_LISTEN,         /* a listen socket (its queue) */
	ND_DX_P_SOCKBUF,        /* the receive buffer of one side of a flow */
	ND_DX_P_APP,            /* the application sending on a flow */
	ND_DX_P_PATH,           /* somewhere on the path of the captured flows */
	ND_DX_NPLACE
};

const char *nd_dx_sev_name(enum nd_dx_sev s);
const char *nd_dx_mech_name(enum nd_dx_mech m);
const char *nd_dx_place_name(enum nd_dx_place_kind k);

struct nd_dx_place {
	enum nd_dx_place_kind kind;
	char netns[ND_DX_NAME];
	char dev[ND_DX_NAME];
	char qdisc[40];                 /* "tbf 8001:" */
	char endpoint[ND_DX_EP];        /* listen socket, receiver or sender "ip:port" */
	char flow[2 * ND_DX_EP + 4];    /* "client > server" */
	char reason[ND_DX_NAME];        /* the drop reason, when drops saw it */
	char location[ND_DX_NAME];
	char text[ND_DX_TEXT];          /* the place in words */
};

/* One source's evidence: a headline number (key, value) and a sentence. */
struct nd_dx_ev {
	enum nd_dx_src src;
	bool agrees;                    /* it shows the mechanism at the place */
	char key[32];
	double value;
	char key2[32];                  /* a second number ("" if none) */
	double value2;
	char text[ND_DX_TEXT];
};

struct nd_dx_finding {
	enum nd_dx_sev sev;
	enum nd_dx_mech mech;
	struct nd_dx_place place;
	char symptom[ND_DX_TEXT];
	struct nd_dx_ev ev[ND_DX_EV_MAX];
	unsigned nev;
	unsigned agree;                 /* bit (1 << src) per source that agrees */
	char next[2 * ND_DX_TEXT];
	double impact;                  /* seconds of stalled or limited transfer */
};

struct nd_dx_diag {
	struct nd_dx_finding f[ND_DX_FIND_MAX];
	size_t n;
	uint64_t over;                  /* findings beyond ND_DX_FIND_MAX, the least ranked */
	char note[ND_DX_NOTE_MAX][ND_DX_TEXT];
	size_t nnote;
	uint64_t notes_over;
};

/* nd_dx_agree_count - how many sources agree on @f. */
unsigned nd_dx_agree_count(const struct nd_dx_finding *f);

/*
 * nd_dx_diagnose - the findings for @in, ranked, into @out (overwritten),
 * and notes about missing or incomplete sources. Returns 0, or -ENOMEM.
 */
int nd_dx_diagnose(const struct nd_dx_input *in, struct nd_dx_diag *out);

/* nd_dx_worst - the highest severity among @d's findings (INFO if none). */
enum nd_dx_sev nd_dx_worst(const struct nd_dx_diag *d);

#endif
