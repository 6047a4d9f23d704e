/* SPDX-License-Identifier: MIT */
/*
 * prom: a snapshot in the Prometheus text exposition format (0.0.4), as
 * served at /metrics by `netdx counters serve`.
 *
 * Names and labels follow Prometheus and node_exporter conventions:
 * snake_case, a netdx_<source>_ prefix, "_total" on counters, the
 * namespace and the device as labels:
 *
 *   netdx_link_rx_dropped_total{netns="ci-a",device="eth0"} 152
 *   netdx_qdisc_drops_total{netns="ci-a",device="eth0",kind="tbf",handle="8001:",parent="root"} 487
 *   netdx_snmp_tcp_retrans_segs_total{netns="ci-a"} 150        (Tcp.RetransSegs)
 *   netdx_netstat_tcp_ext_listen_overflows_total{netns="ci-b"} 3
 *   netdx_snmp6_ip6_in_discards_total{netns="host"} 0
 *   netdx_softnet_dropped_total{netns="host",cpu="0"} 0
 *   netdx_conntrack_entries{netns="ci-b"} 20  (gauge; _limit is the max)
 *   netdx_ethtool_rx_queue_0_drops_total{netns="ci-a",device="eth0"} 0
 *
 * Every family gets HELP and TYPE lines and its samples together; a
 * sample whose name and labels repeat an earlier one (two ethtool strings
 * that differ only in characters Prometheus does not allow) is left out
 * and counted. The scrape's own figures (duration, namespaces skipped,
 * counters skipped) come last as netdx_scrape_* gauges.
 *
 * Pure: renders into a memory buffer with a cap.
 */
#ifndef NETDX_COUNTERS_PROM_H
#define NETDX_COUNTERS_PROM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "counters/ctr.h"

/* A growable text buffer with a cap. */
struct nd_buf {
	char *p;
	size_t len, cap, max;
	bool full;              /* something did not fit under the cap */
};

void nd_buf_init(struct nd_buf *b, size_t max);
void nd_buf_free(struct nd_buf *b);
/* Append; -E2BIG at the cap (b->full set, the buffer keeps what fit
 * before this call), -ENOMEM. The text is always NUL-terminated. */
int nd_buf_printf(struct nd_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int nd_buf_vprintf(struct nd_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* nd_prom_snake - "TCPSynRetrans" -> "tcp_syn_retrans", "Ip6InReceives"
 * -> "ip6_in_receives", any character outside [a-z0-9_] -> '_'. */
void nd_prom_snake(const char *in, char *out, size_t len);

/* nd_prom_metric_name - the family name of @c. 0, or -ENAMETOOLONG. */
int nd_prom_metric_name(const struct nd_ctr *c, char *buf, size_t len);

struct nd_prom_stats {
	uint64_t duplicates;    /* samples left out as repeats */
	uint64_t families, samples;
};

/*
 * nd_prom_render - the exposition of @s (every row; filter first) and its
 * scrape figures, @scrape_seconds among them, appended to @out.
 * 0, -E2BIG (over the buffer's cap), -ENOMEM.
 */
int nd_prom_render(const struct nd_snap *s, double scrape_seconds, struct nd_buf *out,
		   struct nd_prom_stats *st);

/*
 * nd_listen_parse - "ADDR:PORT" for --listen: "127.0.0.1:9469",
 * "[::1]:9469", "localhost:9469" (127.0.0.1), ":9469" or "*:9469" (every
 * IPv4 address), "[::]:9469". Numeric addresses only, port 0-65535 (0: any
 * free port, see nd_http_port).
 * 0 or -EINVAL.
 */
int nd_listen_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len);

#endif
