/* SPDX-License-Identifier: MIT */
/*
 * bench: netdx's workload generator (rr, crr, stream, bsp) with exact
 * accounting. See docs/bench.md for the user's view.
 *
 * One server process and one client process. A control connection agrees
 * on the test (struct nd_bench_cfg, sent as one text line), starts every
 * flow at one instant, and at the end carries the server's per-flow
 * counters and TCP_INFO back. Data connections announce their flow id in
 * an 8-byte hello. Both sides run T worker threads, each an epoll loop
 * over its share of the connections.
 */
#ifndef NETDX_BENCH_BENCH_H
#define NETDX_BENCH_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hist.h"

#define ND_BENCH_PORT 7250
#define ND_BENCH_MAGIC 0x4e445842u      /* "NDXB": data connection hello */
#define ND_BENCH_PROTO 1                /* control protocol version */
#define ND_BENCH_MAX_FLOWS 100000
#define ND_BENCH_MAX_CC 8

enum nd_bench_mode { ND_BM_RR = 0, ND_BM_CRR, ND_BM_STREAM, ND_BM_BSP };

const char *nd_bench_mode_name(enum nd_bench_mode m);
int nd_bench_mode_parse(const char *s, enum nd_bench_mode *m);

/* What both sides agree on (the client sends it in the HELLO line). */
struct nd_bench_cfg {
	enum nd_bench_mode mode;
	uint32_t flows;             /* rr/crr/stream: flows; bsp: ranks */
	uint32_t req, resp;         /* rr/crr message sizes */
	uint32_t inflight;          /* rr: requests outstanding per flow */
	double rate;                /* rr/crr: transactions/s per flow, 0 = closed loop */
	bool down;                  /* stream: server sends */
	char cc[ND_BENCH_MAX_CC][16];   /* stream: congestion control per flow, round robin */
	uint32_t ncc;
	uint64_t sndbuf, rcvbuf;    /* 0 = kernel default */
	uint32_t write_size;        /* stream: bytes per write */
	uint32_t backlog;           /* crr: server listen backlog (0 = somaxconn) */
	bool grid;                  /* bsp topology */
	uint64_t compute_ns;        /* bsp */
	uint32_t msg;               /* bsp: bytes per neighbour per step */
	uint64_t duration_ns;
	uint64_t interval_ns;       /* per-interval samples (0 = none) */
};

/* Serialise @c as one line ("key=value ..." without newline) into @buf.
 * Returns the length, or -1 if @len is too small. */
int nd_bench_cfg_format(const struct nd_bench_cfg *c, char *buf, size_t len);
/* Parse what nd_bench_cfg_format wrote. Returns 0, or -1 with a reason in
 * @err (unknown key, bad value, out of range). */
int nd_bench_cfg_parse(const char *line, struct nd_bench_cfg *c, char *err, size_t errlen);

/* The kernel's view of one socket (TCP_INFO), the fields users ask for. */
struct nd_tcpinfo {
	bool valid;
	uint8_t state, ca_state;
	uint32_t rtt_us, rttvar_us, snd_cwnd, snd_ssthresh, snd_mss, total_retrans;
	uint64_t delivery_rate_bps, pacing_rate_bps;
	uint64_t busy_time_us, rwnd_limited_us, sndbuf_limited_us;
	uint64_t bytes_acked, bytes_received;
};

/* Read TCP_INFO of @fd. Returns 0 or -errno (ti->valid false). */
int nd_tcpinfo_get(int fd, struct nd_tcpinfo *ti);
/* One line of space-separated numbers / its parser, for the control
 * connection. parse returns 0 or -1. */
int nd_tcpinfo_format(const struct nd_tcpinfo *ti, char *buf, size_t len);
int nd_tcpinfo_parse(const char *s, struct nd_tcpinfo *ti);

/* Counters of one flow as one side saw them. */
struct nd_bench_counters {
	uint64_t tx_bytes, rx_bytes, transactions;
	uint64_t connects, connect_failures, resets, timeouts;
};

struct nd_bench_sample {
	uint64_t t_ns;              /* end of the interval, from the start */
	struct nd_bench_counters c; /* cumulative at t_ns */
	struct nd_tcpinfo ti;
	/* The server's cumulative counters at its own interval boundary k
	 * (same start instant, its own clock); valid when server_valid. */
	bool server_valid;
	uint64_t s_tx_bytes, s_rx_bytes, s_transactions;
	struct nd_tcpinfo s_ti;
};

struct nd_bench_flow_result {
	uint32_t id;
	char local[64], remote[64];
	char cc[16];                /* read back from the sender's socket */
	struct nd_bench_counters client, server;
	struct nd_tcpinfo client_ti, server_ti;
	bool stalled;               /* no progress for the stall time while running */
	uint64_t stalled_at_ns;     /* when it was declared stalled (from the start) */
	uint64_t lat_count, lat_min_ns, lat_max_ns, lat_sum_ns;
	struct nd_bench_sample *samples;    /* client side, nsamples of them */
	uint32_t nsamples;
};

struct nd_bench_interval {
	uint64_t t_ns, len_ns;      /* end of the interval and its length (the last may be partial) */
	uint64_t transactions, bytes;   /* over non-stalled flows, in the interval */
	uint32_t stalled;           /* flows stalled at that time */
};

struct nd_bench_result {
	struct nd_bench_cfg cfg;
	uint64_t start_wall_ns;
	uint64_t elapsed_ns;        /* from start to stop */
	struct nd_bench_flow_result *flows;
	uint32_t nflows;
	struct nd_bench_interval *intervals;
	uint32_t nintervals;
	struct nd_hist lat;         /* rr/crr; corrected when paced */
	struct nd_hist lat_uncorrected;     /* paced only: from the actual send */
	uint64_t late_sends;        /* paced: scheduled sends that could not keep up */
	/* bsp */
	struct nd_hist bsp_step, bsp_slowest;
	uint64_t bsp_steps;
	double bsp_compute_s, bsp_total_s;
	uint32_t backlog_effective;
	uint64_t server_bad_hello;  /* data connections the server refused */
	uint64_t abandoned;         /* flows that did not finish draining in time */
	char server_note[128];
};

struct nd_bench_client_opts {
	const char *host;
	uint16_t port;
	uint32_t threads;
	double start_at;            /* wall-clock seconds since the epoch; 0 = now */
	uint16_t local_port_base;   /* 0 = ephemeral */
	uint64_t stall_ns;
	bool progress;              /* a progress line on stderr every second */
};

/*
 * nd_bench_client_run - run one test against a server. Fills @res (free
 * it with nd_bench_result_free). Returns 0, or -1 with a one-line reason
 * in @err.
 */
int nd_bench_client_run(const struct nd_bench_cfg *cfg, const struct nd_bench_client_opts *o,
			struct nd_bench_result *res, char *err, size_t errlen);
void nd_bench_result_free(struct nd_bench_result *res);

struct nd_bench_server_opts {
	const char *bind;
	uint16_t port;
	uint32_t threads;
	bool once;
	volatile int *stop;         /* set by a signal handler */
};

/* nd_bench_server_run - serve tests until *stop (or after one with once).
 * Returns 0, or -1 with a reason in @err. Logs one line per test to stderr. */
int nd_bench_server_run(const struct nd_bench_server_opts *o, char *err, size_t errlen);

/* Helpers shared by both sides (proto.c). */
uint64_t nd_now_ns(void);           /* CLOCK_MONOTONIC */
uint64_t nd_wall_ns(void);          /* CLOCK_REALTIME */
int nd_sock_tune(int fd, const struct nd_bench_cfg *c, uint32_t flow, bool sender, char *cc_out);
int nd_line_send(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Read one line (without the newline) within @timeout_ms. Returns its
 * length (at least 1), 0 on EOF, -1 on error, -2 on time-out. @lb keeps
 * what was read past the line for the next call. */
struct nd_linebuf {
	char buf[65536];
	size_t len;
};
int nd_line_recv(int fd, struct nd_linebuf *lb, char *out, size_t outlen, int timeout_ms);

#endif
