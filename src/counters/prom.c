/* SPDX-License-Identifier: MIT */
/*
 * prom: the Prometheus text exposition of a snapshot, and the --listen
 * address (see prom.h).
 */
#include "counters/prom.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- buffer ----------------------------------------------------------------- */

void nd_buf_init(struct nd_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void nd_buf_free(struct nd_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

int nd_buf_vprintf(struct nd_buf *b, const char *fmt, va_list ap)
{
	for (;;) {
		size_t room = b->cap - b->len;
		va_list aq;
		int n;

		va_copy(aq, ap);
		n = room ? vsnprintf(b->p + b->len, room, fmt, aq) : -2;
		va_end(aq);
		if (n == -1)
			return -EINVAL;
		if (n >= 0 && (size_t)n < room) {
			b->len += (size_t)n;
			return 0;
		}
		size_t need = b->len + (n >= 0 ? (size_t)n : 0) + 1, cap = b->cap ? b->cap : 4096;
		while (cap < need)
			cap *= 2;
		if (cap > b->max)
			cap = b->max;
		if (need > cap) {
			if (b->p)
				b->p[b->len] = '\0';
			b->full = true;
			return -E2BIG;
		}
		char *p = realloc(b->p, cap);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
}

int nd_buf_printf(struct nd_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = nd_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- names ---------------------------------------------------------------------- */

void nd_prom_snake(const char *in, char *out, size_t len)
{
	size_t o = 0, caps = 0;     /* capitals in a row before this one */

	if (!len)
		return;
	for (size_t i = 0; in[i] && o + 2 < len; i++) {
		unsigned char ch = (unsigned char)in[i], prev = i ? (unsigned char)in[i - 1] : 0,
			      next = (unsigned char)in[i + 1];

		if (isupper(ch)) {
			/* A word starts at a capital after a lower-case letter or
			 * digit, or at the last capital of an acronym of two or
			 * more ("TCPSyn": "tcp_syn"; but "HMac": "hmac", a lone
			 * "h" would read as hours), unless what follows is a
			 * plural "s" ("DelayedACKs": "delayed_acks"). */
			bool plural = next == 's' && !islower((unsigned char)in[i + 2]);

			if (o && out[o - 1] != '_' &&
			    (islower(prev) || isdigit(prev) || (caps >= 2 && islower(next) && !plural)))
				out[o++] = '_';
			out[o++] = (char)tolower(ch);
			caps++;
			continue;
		}
		caps = 0;
		if (islower(ch) || isdigit(ch)) {
			out[o++] = (char)ch;
		} else if (o && out[o - 1] != '_') {
			out[o++] = '_';
		}
	}
	while (o && out[o - 1] == '_')
		o--;
	out[o] = '\0';
}

int nd_prom_metric_name(const struct nd_ctr *c, char *buf, size_t len)
{
	char stem[2 * ND_CTR_NAME_LEN];
	int n;

	if (c->src >= ND_CSRC_N)
		return -EINVAL;
	nd_prom_snake(c->name, stem, sizeof(stem));
	if (!stem[0])
		return -EINVAL;
	n = snprintf(buf, len, "netdx_%s_%s%s", nd_ctr_src_name((enum nd_ctr_src)c->src), stem,
		     c->gauge ? "" : "_total");
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* What a family means, for its HELP line. */
static void help_text(const struct nd_ctr *c, char *buf, size_t len)
{
	static const struct { const char *name, *help; } link_help[] = {
		{ "rx_dropped", "Packets received but dropped by the stack (no buffer, filtered, ...)" },
		{ "tx_dropped", "Packets dropped on transmit by the device or its driver" },
		{ "rx_errors", "Receive errors in all" },
		{ "tx_errors", "Transmit errors in all" },
		{ "rx_missed_errors", "Packets the device missed (no room in its receive ring)" },
		{ "rx_fifo_errors", "Receive FIFO overruns" },
		{ "tx_fifo_errors", "Transmit FIFO underruns" },
		{ "rx_over_errors", "Receive ring overflows" },
		{ "rx_nohandler", "Packets dropped for want of a protocol handler" },
		{ "rx_otherhost_dropped", "Packets dropped because they were for another host" },
		{ "carrier_changes", "Carrier (link) state changes" },
		{ "carrier_up_count", "Carrier up events" },
		{ "carrier_down_count", "Carrier down events" },
		{ "admin_up", "1 if the interface is administratively up (IFF_UP)" },
		{ "carrier", "1 if the interface has carrier (IFF_LOWER_UP)" },
	};
	static const char *const files[ND_CSRC_N] = {
		[ND_CSRC_LINK] = "rtnetlink IFLA_STATS64",
		[ND_CSRC_ETHTOOL] = "ethtool driver statistics",
		[ND_CSRC_QDISC] = "qdisc statistics (TCA_STATS2)",
		[ND_CSRC_SNMP] = "/proc/net/snmp",
		[ND_CSRC_NETSTAT] = "/proc/net/netstat",
		[ND_CSRC_SNMP6] = "/proc/net/snmp6",
		[ND_CSRC_SOFTNET] = "/proc/net/softnet_stat, per CPU",
		[ND_CSRC_CONNTRACK] = "nf_conntrack",
	};

	if (c->src == ND_CSRC_LINK)
		for (size_t i = 0; i < sizeof(link_help) / sizeof(link_help[0]); i++)
			if (!strcmp(c->name, link_help[i].name)) {
				snprintf(buf, len, "%s (%s).", link_help[i].help, c->name);
				return;
			}
	if (c->src == ND_CSRC_CONNTRACK && !strcmp(c->name, "entries"))
		snprintf(buf, len, "Connections in the namespace's conntrack table (nf_conntrack_count).");
	else if (c->src == ND_CSRC_CONNTRACK && !strcmp(c->name, "entries_limit"))
		snprintf(buf, len, "Size limit of a conntrack table (nf_conntrack_max, host-wide).");
	else
		snprintf(buf, len, "%s %s from %s.", c->name, c->gauge ? "level" : "count",
			 files[c->src < ND_CSRC_N ? c->src : 0]);
}

/* ---- rendering ------------------------------------------------------------------------- */

#define METRIC_LEN 160

struct sort_ctx {
	const struct nd_snap *s;
	char (*names)[METRIC_LEN];
};

static int cmp_rows(const void *a, const void *b, void *arg)
{
	const struct sort_ctx *sort_ctx = arg;
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	const struct nd_ctr *x = &sort_ctx->s->c[i], *y = &sort_ctx->s->c[j];
	int r = strcmp(sort_ctx->names[i], sort_ctx->names[j]);

	if (r)
		return r;
	r = strcmp(sort_ctx->s->ns[x->ns].name, sort_ctx->s->ns[y->ns].name);
	if (r)
		return r;
	r = strcmp(x->dev, y->dev);
	if (r)
		return r;
	if (x->handle != y->handle)
		return x->handle < y->handle ? -1 : 1;
	if (x->parent != y->parent)
		return x->parent < y->parent ? -1 : 1;
	return i < j ? -1 : i > j;
}

/* A label value, escaped as the format wants (\\, \", \n). */
static int put_label(struct nd_buf *b, bool first, const char *name, const char *val)
{
	char esc[2 * ND_NETNS_NAME_LEN + 8];
	size_t o = 0;

	for (const char *p = val; *p && o + 3 < sizeof(esc); p++) {
		if (*p == '\\' || *p == '"') {
			esc[o++] = '\\';
			esc[o++] = *p;
		} else if (*p == '\n') {
			esc[o++] = '\\';
			esc[o++] = 'n';
		} else {
			esc[o++] = *p;
		}
	}
	esc[o] = '\0';
	return nd_buf_printf(b, "%s%s=\"%s\"", first ? "" : ",", name, esc);
}

static int put_labels(struct nd_buf *b, const struct nd_snap *s, const struct nd_ctr *c)
{
	char h[16], p[16], cpu[16];
	int rc = put_label(b, true, "netns", c->ns < s->nns ? s->ns[c->ns].name : "");

	if (!rc && c->dev[0])
		rc = put_label(b, false, "device", c->dev);
	if (!rc && c->src == ND_CSRC_QDISC) {
		rc = put_label(b, false, "kind", c->kind);
		if (!rc)
			rc = put_label(b, false, "handle", nd_qdisc_handle_fmt(c->handle, false, h, sizeof(h)));
		if (!rc)
			rc = put_label(b, false, "parent", nd_qdisc_handle_fmt(c->parent, true, p, sizeof(p)));
	}
	if (!rc && c->src == ND_CSRC_SOFTNET) {
		snprintf(cpu, sizeof(cpu), "%u", c->handle);
		rc = put_label(b, false, "cpu", cpu);
	}
	return rc;
}

static bool same_series(const struct nd_snap *s, const struct nd_ctr *x, const struct nd_ctr *y)
{
	/* By the labels as rendered: two namespaces may share a name. */
	return !strcmp(x->dev, y->dev) && x->handle == y->handle && x->parent == y->parent &&
	       (x->src != ND_CSRC_QDISC || !strcmp(x->kind, y->kind)) &&
	       !strcmp(s->ns[x->ns].name, s->ns[y->ns].name);
}

static int render_meta(const struct nd_snap *s, double secs, struct nd_buf *b, uint64_t dups)
{
	static const struct { const char *state; size_t off; } ns_states[] = {
		{ "found", offsetof(struct nd_snap_stats, netns_found) },
		{ "collected", offsetof(struct nd_snap_stats, netns_collected) },
		{ "filtered", offsetof(struct nd_snap_stats, netns_filtered) },
		{ "vanished", offsetof(struct nd_snap_stats, netns_vanished) },
		{ "denied", offsetof(struct nd_snap_stats, netns_denied) },
		{ "over_cap", offsetof(struct nd_snap_stats, netns_over_cap) },
		{ "unusable", offsetof(struct nd_snap_stats, netns_unusable) },
	};
	int rc = nd_buf_printf(b,
		"# HELP netdx_scrape_duration_seconds Time netdx took to read every counter of this scrape.\n"
		"# TYPE netdx_scrape_duration_seconds gauge\n"
		"netdx_scrape_duration_seconds %.6f\n"
		"# HELP netdx_scrape_netns Network namespaces in this scrape, by what became of them.\n"
		"# TYPE netdx_scrape_netns gauge\n", secs);

	for (size_t i = 0; !rc && i < sizeof(ns_states) / sizeof(ns_states[0]); i++)
		rc = nd_buf_printf(b, "netdx_scrape_netns{state=\"%s\"} %u\n", ns_states[i].state,
				   *(const uint32_t *)((const char *)&s->st + ns_states[i].off));
	if (!rc)
		rc = nd_buf_printf(b,
			"# HELP netdx_scrape_counters Counters read in this scrape.\n"
			"# TYPE netdx_scrape_counters gauge\n"
			"netdx_scrape_counters %zu\n"
			"# HELP netdx_scrape_counters_skipped Counters left out of this scrape: the table was at its cap (--max-counters).\n"
			"# TYPE netdx_scrape_counters_skipped gauge\n"
			"netdx_scrape_counters_skipped %llu\n"
			"# HELP netdx_scrape_series_duplicate Samples left out because their name and labels repeated another's.\n"
			"# TYPE netdx_scrape_series_duplicate gauge\n"
			"netdx_scrape_series_duplicate %llu\n"
			"# HELP netdx_scrape_source_errors Sources that could not be read in this scrape, by source.\n"
			"# TYPE netdx_scrape_source_errors gauge\n",
			s->n, (unsigned long long)s->st.counters_skipped, (unsigned long long)dups);
	for (int i = 0; !rc && i < ND_CSRC_N; i++)
		rc = nd_buf_printf(b, "netdx_scrape_source_errors{source=\"%s\"} %u\n",
				   nd_ctr_src_name((enum nd_ctr_src)i), s->st.src_errors[i]);
	return rc;
}

int nd_prom_render(const struct nd_snap *s, double scrape_seconds, struct nd_buf *out,
		   struct nd_prom_stats *st)
{
	char (*names)[METRIC_LEN] = malloc((s->n ? s->n : 1) * sizeof(*names));
	uint32_t *idx = malloc((s->n ? s->n : 1) * sizeof(*idx));
	struct nd_prom_stats lst = { 0 };
	struct sort_ctx sc = { s, names };
	const struct nd_ctr *last = NULL;
	const char *last_name = "";
	size_t k = 0;
	int rc = 0;

	if (!names || !idx) {
		free(names);
		free(idx);
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->n; i++)
		if (s->c[i].ns < s->nns && nd_prom_metric_name(&s->c[i], names[i], METRIC_LEN) == 0)
			idx[k++] = (uint32_t)i;
		else
			lst.duplicates++;       /* unnameable: as good as a repeat */
	qsort_r(idx, k, sizeof(*idx), cmp_rows, &sc);
	for (size_t r = 0; r < k && !rc; r++) {
		const struct nd_ctr *c = &s->c[idx[r]];
		const char *name = names[idx[r]];

		if (strcmp(name, last_name) != 0) {
			char help[256];

			help_text(c, help, sizeof(help));
			rc = nd_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
					   c->gauge ? "gauge" : "counter");
			last_name = name;
			last = NULL;
			lst.families++;
		} else if (last && same_series(s, last, c)) {
			lst.duplicates++;
			continue;
		}
		if (!rc)
			rc = nd_buf_printf(out, "%s{", name);
		if (!rc)
			rc = put_labels(out, s, c);
		if (!rc)
			rc = c->gauge ? nd_buf_printf(out, "} %lld\n", (long long)(int64_t)c->value)
				      : nd_buf_printf(out, "} %llu\n", (unsigned long long)c->value);
		last = c;
		lst.samples++;
	}
	if (!rc)
		rc = render_meta(s, scrape_seconds, out, lst.duplicates);
	if (st)
		*st = lst;
	free(names);
	free(idx);
	return rc;
}

/* ---- --listen ------------------------------------------------------------------------------ */

int nd_listen_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[64];
	const char *colon, *port_s;
	char *end;
	unsigned long port;
	size_t hl;

	if (!s || !*s)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return -EINVAL;
		hl = (size_t)(rb - s - 1);
		if (hl == 0 || hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		port_s = rb + 2;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return -EINVAL;
		hl = (size_t)(colon - s);
		if (hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, hl);
		host[hl] = '\0';
		port_s = colon + 1;
	}
	if (!*port_s || *port_s == '-' || *port_s == '+')
		return -EINVAL;
	errno = 0;
	port = strtoul(port_s, &end, 10);
	if (errno || *end || port > 65535)
		return -EINVAL;
	if (s[0] == '[') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return -EINVAL;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a6);
		return 0;
	}
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;

	a4->sin_family = AF_INET;
	a4->sin_port = htons((uint16_t)port);
	*len = sizeof(*a4);
	if (!host[0] || !strcmp(host, "*"))
		a4->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (!strcmp(host, "localhost"))
		a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
		return -EINVAL;
	return 0;
}
