/* SPDX-License-Identifier: MIT */
/*
 * dx: the model of `netdx doctor`.
 *
 * Inputs are what the collectors recorded during one run, reduced to plain
 * structs by load.c: the counters that moved (`netdx counters delta`), the
 * places and signals of `netdx drops`, the notable connections and the
 * totals of `netdx tcp` (one capture per interface), and optionally the
 * result of the `netdx bench` workload. Every table has a cap; what does not
 * fit is counted in its *_over field, never dropped in silence.
 *
 * The output is a diagnosis (diag.h): ranked findings, each a mechanism at
 * a place, with the numbers each source gave and a next step.
 *
 * Names: everything here is nd_dx_*. The model and the engine do no I/O;
 * load.c reads files into it, run.c runs the collectors, render.c writes
 * the diagnosis.
 */
#ifndef NETDX_DOCTOR_DX_H
#define NETDX_DOCTOR_DX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ND_DX_NAME 64           /* namespace, device, reason, location, counter names */
#define ND_DX_EP 56             /* "ip:port", "[v6]:port" */
#define ND_DX_TEXT 320          /* one line of evidence or advice */

/* Caps of the tables (the rest is counted). */
#define ND_DX_NETNS_MAX 64      /* namespaces named on the command line */
#define ND_DX_CAP_MAX 16        /* capture points (interfaces) */
#define ND_DX_CTR_MAX 16384     /* counter rows kept */
#define ND_DX_DROP_MAX 4096     /* drop places */
#define ND_DX_FDROP_MAX 16384   /* (flow, place) drop rows of drops --flows */
#define ND_DX_DROPEV_MAX 32768  /* drop events (drops --events) kept for the timing join */
#define ND_DX_EVPLACE_MAX 1024  /* distinct places of those events */
#define ND_DX_STALL_MAX 65536   /* stalls kept with their start and duration */
#define ND_DX_SIG_MAX 1024      /* (signal, state, namespace) rows */
#define ND_DX_CONN_MAX 8192     /* notable connections */
#define ND_DX_SERVER_MAX 256    /* server endpoints with connection counts */
#define ND_DX_BFLOW_MAX 1024    /* bench flows */
#define ND_DX_FIND_MAX 16       /* findings */
#define ND_DX_NOTE_MAX 16       /* notes about the sources */
#define ND_DX_EV_MAX 6          /* evidence lines per finding */

/* The four sources, in the order they are shown. */
enum nd_dx_src {
	ND_DX_SRC_TCP,          /* netdx tcp: live capture (or a capture file) */
	ND_DX_SRC_DROPS,        /* netdx drops: eBPF drop places and TCP signals */
	ND_DX_SRC_COUNTERS,     /* netdx counters delta: kernel counters per namespace */
	ND_DX_SRC_BENCH,        /* netdx bench: the workload's own account (optional) */
	ND_DX_NSRC
};

const char *nd_dx_src_name(enum nd_dx_src s);

/* ---- counters ---- */

/* One counter row of `netdx counters delta --json`. Only the rows the
 * engine can use are kept (load.h says which). */
struct nd_dx_ctr {
	char netns[ND_DX_NAME];
	char source[16];        /* snmp, netstat, link, qdisc, conntrack, ethtool, softnet */
	char dev[ND_DX_NAME];   /* link, ethtool, qdisc rows; "" otherwise */
	char qdisc[16];         /* qdisc kind ("tbf") */
	char handle[16];        /* qdisc handle ("8001:") */
	char name[ND_DX_NAME];  /* "Tcp.RetransSegs", "drops", "entries_limit" */
	int64_t delta;
	int64_t value;
	bool gauge;
};

/* ---- drops ---- */

/* One place of `netdx drops`: a reason at a kernel location on a device
 * of a namespace. */
struct nd_dx_drop {
	char reason[ND_DX_NAME];
	char location[ND_DX_NAME];
	char dev[ND_DX_NAME];   /* "" when the drop had no device */
	char netns[ND_DX_NAME]; /* its name, "host" for the initial namespace, or "" */
	char proto[16];         /* "ipv4/tcp" */
	uint64_t netns_ino;
	uint64_t packets, bytes;
	double first_ts, last_ts;
	bool qdisc;
};

/* Drops of one flow at one place (`netdx drops --flows` "drop" rows), the
 * join between a drop and the captured connection that lost the packet.
 * The packet's two endpoints are kept in a canonical order (the smaller
 * string first), so a connection finds its drops in either direction. */
/* A flow's two endpoints, the smaller string first: the key both
 * directions of a connection share. */
struct nd_dx_fkey {
	char lo[ND_DX_EP], hi[ND_DX_EP];
};

struct nd_dx_fdrop {
	struct nd_dx_fkey key;  /* first: the join sorts pointers to either struct by it */
	char reason[ND_DX_NAME];
	char dev[ND_DX_NAME];
	char netns[ND_DX_NAME];
	uint64_t packets;
	bool qdisc;
};

/* The place of a drop event, shared by the events at it. */
struct nd_dx_evplace {
	char reason[ND_DX_NAME];
	char dev[ND_DX_NAME];
	char netns[ND_DX_NAME];
	bool qdisc;
};

/* One drop as it happened (`netdx drops --events`): when, where (index into
 * nd_dx_input.evplace) and the flow, endpoints in canonical order as in
 * nd_dx_fdrop. The timing join: a stall is explained by a drop of its own
 * connection at the place while it lasted. */
struct nd_dx_dropev {
	struct nd_dx_fkey key;  /* first, as in nd_dx_fdrop */
	double ts;
	uint32_t place;
};

/* TCP and socket signals of `netdx drops`, summed per (signal, state, namespace). */
struct nd_dx_sig {
	char signal[24];        /* retransmit, synack_retransmit, reset_sent, rcvqueue_full, ... */
	char state[16];         /* SYN_SENT, ESTABLISHED, ... */
	char netns[ND_DX_NAME];
	uint64_t netns_ino;
	uint64_t count;
};

struct nd_dx_drops_sum {
	double seconds;
	uint64_t drops, map_full, retrans, syn_sent_retrans, synack_retrans, rcvqueue_full;
	uint64_t flows_map_full;        /* drops counted at their place but not by flow */
	uint64_t ev_lost;               /* drop events held back by the rate limit or a full ring */
	bool events;                    /* drops ran with --events: dropev rows exist */
	char attach[16];
	bool flows;                     /* drops ran with --flows: fdrop rows exist */
	bool sig_places;                /* signals from exact signal_place rows */
};

/* ---- tcp ---- */

enum nd_dx_verdict {
	ND_DX_V_IDLE,
	ND_DX_V_SENDER,
	ND_DX_V_RECEIVER,
	ND_DX_V_NETWORK,
	ND_DX_V_MIXED,
};

/* Stall causes as `netdx tcp` names them. */
enum nd_dx_cause {
	ND_DX_C_RTO,            /* "rto" */
	ND_DX_C_SYN,            /* "syn-retrans" */
	ND_DX_C_SYNACK,         /* "synack-retrans" */
	ND_DX_C_ZWND,           /* "zero-window" */
	ND_DX_C_IDLE,           /* "idle": a slow responder */
	ND_DX_NCAUSE
};

const char *nd_dx_cause_name(enum nd_dx_cause c);

/* Stall durations by cause: counts per 0.1 s (index = round(s * 10)),
 * the last bucket holds everything from ND_DX_DS_MAX / 10 s on. */
#define ND_DX_DS_MAX 100

struct nd_dx_stalls {
	uint64_t n, retries;
	double sum_s, max_s;
	uint32_t ds[ND_DX_DS_MAX + 1];
};

/* One direction of a connection: 0 = client to server, 1 = server to client. */
struct nd_dx_dir {
	uint64_t payload;       /* payload bytes sent */
	uint32_t retrans, fast, rto, syn_retrans, zero_window;
	uint32_t win_max;       /* the largest window this direction's sender advertised (bytes; 0 unknown) */
	uint32_t rtt_p50_us;
	double lim[3];          /* shares of the transfer time: sender, receiver, network */
	double transfer_s;
	uint8_t verdict;        /* enum nd_dx_verdict */
	bool has_lim;
};

/* A connection worth keeping: it stalled, retransmitted, saw a zero window,
 * or moved at least ND_DX_BIG_BYTES in one direction. */
#define ND_DX_BIG_BYTES 65536

struct nd_dx_conn {
	char client[ND_DX_EP], server[ND_DX_EP];
	uint16_t cap;           /* index into nd_dx_input.cap */
	double first_ts, last_ts;
	struct nd_dx_dir d[2];
	uint32_t nstall[ND_DX_NCAUSE][2];       /* [cause][dir] */
	uint32_t retries[ND_DX_NCAUSE][2];
	float stall_s[ND_DX_NCAUSE][2];         /* total stalled time */
	float stall_max_s[ND_DX_NCAUSE][2];
	uint64_t txn_n, txn_p50_us, txn_p99_us, txn_max_us;
};

/* One stall of a kept connection, with its times (the timing join). */
struct nd_dx_stall {
	uint32_t conn;          /* index into nd_dx_input.conn */
	uint8_t cause;          /* enum nd_dx_cause */
	double start, dur;      /* capture time (s since the epoch), seconds */
};

/* Connections per server endpoint (all of them, notable or not). */
struct nd_dx_server {
	char server[ND_DX_EP];
	uint64_t conns, stalled, txn;
};

struct nd_dx_tcp_sum {
	uint64_t conns;         /* every connection reported */
	uint64_t stalled;       /* connections with at least one stall */
	uint64_t packets;
	uint64_t capture_drops; /* packets the kernel's capture buffer dropped */
	uint64_t snapshots;     /* interval snapshot lines (not counted as connections) */
	struct nd_dx_stalls st[ND_DX_NCAUSE];   /* over every connection */
};

/* Where a capture was made. */
struct nd_dx_capture {
	char iface[ND_DX_NAME]; /* interface, or the capture file's name */
	char netns[ND_DX_NAME]; /* "" for the host (or a file) */
};

/* ---- bench ---- */

struct nd_dx_tcpinfo {
	uint64_t busy_us, rwnd_limited_us, sndbuf_limited_us, total_retrans;
	uint32_t rtt_us;
	bool valid;
};

struct nd_dx_bflow {
	char local[ND_DX_EP], remote[ND_DX_EP];    /* the client's view */
	struct nd_dx_tcpinfo client, server;
	uint64_t client_tx, server_tx;
	uint64_t connect_failures, timeouts;
	bool stalled;
};

struct nd_dx_bench {
	char mode[16];          /* rr, crr, stream, bsp */
	char dir[8];            /* stream: up or down */
	double duration_s, tps, goodput_bps;
	uint64_t txn, flows, stalled_flows;
	uint64_t lat_count;
	double lat_p50_us, lat_p99_us, lat_p999_us, lat_max_us;
	bool has_lat;
	struct nd_dx_bflow *flow;
	size_t nflow, aflow;
	uint64_t flow_over;
};

/* ---- the whole input ---- */

struct nd_dx_input {
	double duration_s;              /* the collection window (0: unknown) */
	char netns[ND_DX_NETNS_MAX][ND_DX_NAME];  /* namespaces named by the user */
	uint64_t netns_ino[ND_DX_NETNS_MAX];
	size_t nnetns;
	struct nd_dx_capture cap[ND_DX_CAP_MAX];
	size_t ncap;

	bool have[ND_DX_NSRC];          /* the source ran and its output was read */
	char missing[ND_DX_NSRC][ND_DX_TEXT];     /* why not, when it did not */
	uint64_t bad_lines[ND_DX_NSRC]; /* lines that were not JSON or lacked fields */

	struct nd_dx_ctr *ctr;
	size_t nctr, actr;
	uint64_t ctr_over;

	struct nd_dx_drop *drop;
	size_t ndrop, adrop;
	uint64_t drop_over;
	struct nd_dx_fdrop *fdrop;
	size_t nfdrop, afdrop;
	uint64_t fdrop_over;
	struct nd_dx_evplace *evplace;
	size_t nevplace, aevplace;
	uint64_t evplace_over;
	struct nd_dx_dropev *dropev;
	size_t ndropev, adropev;
	uint64_t dropev_over;
	struct nd_dx_sig *sig;
	size_t nsig, asig;
	uint64_t sig_over;
	struct nd_dx_drops_sum dsum;

	struct nd_dx_conn *conn;
	size_t nconn, aconn;
	uint64_t conn_over;
	struct nd_dx_stall *stall;
	size_t nstall, astall;
	uint64_t stall_over;
	struct nd_dx_server *server;
	size_t nserver, aserver;
	uint64_t server_over;
	struct nd_dx_tcp_sum tsum;

	struct nd_dx_bench bench;
};

/* nd_dx_input_new - an empty input (tables allocated on demand). NULL and
 * errno = ENOMEM on failure. */
struct nd_dx_input *nd_dx_input_new(void);

/* nd_dx_input_free - free @in and its tables; NULL is fine. */
void nd_dx_input_free(struct nd_dx_input *in);

/*
 * nd_dx_push - append one zeroed element of @size bytes to the growable
 * array *@arr of *@n elements (capacity tracked in *@alloc), at most @cap
 * elements. Returns the new element, or NULL when the array is at its cap
 * (then *@over is incremented) or memory ran out (errno = ENOMEM).
 */
void *nd_dx_push(void **arr, size_t *n, size_t *alloc, size_t size, size_t cap, uint64_t *over);

/* nd_dx_copy - strncpy that always terminates; NULL copies "". */
void nd_dx_copy(char *dst, size_t len, const char *src);

/* nd_dx_fkey_set - the key of the flow between endpoints @a and @b, in
 * either order ("ip:port" strings as netdx tcp and drops write them). */
void nd_dx_fkey_set(struct nd_dx_fkey *k, const char *a, const char *b);

#endif
