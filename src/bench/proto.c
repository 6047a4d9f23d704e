/* SPDX-License-Identifier: MIT */
/* bench: what both sides share — the test description on the wire, line
 * I/O on the control connection, TCP_INFO, socket tuning. */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <linux/tcp.h>   /* the kernel's struct tcp_info: glibc's lacks the newer fields */
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"

static const char *mode_names[] = { "rr", "crr", "stream", "bsp" };

const char *nd_bench_mode_name(enum nd_bench_mode m)
{
	return (unsigned)m < 4 ? mode_names[m] : "?";
}

int nd_bench_mode_parse(const char *s, enum nd_bench_mode *m)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, mode_names[i]) == 0) {
			*m = (enum nd_bench_mode)i;
			return 0;
		}
	return -1;
}

uint64_t nd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t nd_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int nd_bench_cfg_format(const struct nd_bench_cfg *c, char *buf, size_t len)
{
	char cc[ND_BENCH_MAX_CC * 17] = "";
	int n;

	for (uint32_t i = 0; i < c->ncc; i++) {
		if (i)
			strcat(cc, ",");
		strcat(cc, c->cc[i]);
	}
	n = snprintf(buf, len,
		     "mode=%s flows=%" PRIu32 " req=%" PRIu32 " resp=%" PRIu32 " inflight=%" PRIu32
		     " rate=%.6f down=%d cc=%s sndbuf=%" PRIu64 " rcvbuf=%" PRIu64
		     " write_size=%" PRIu32 " backlog=%" PRIu32 " grid=%d compute_ns=%" PRIu64
		     " msg=%" PRIu32 " duration_ns=%" PRIu64 " interval_ns=%" PRIu64,
		     nd_bench_mode_name(c->mode), c->flows, c->req, c->resp, c->inflight, c->rate,
		     c->down, c->ncc ? cc : "-", c->sndbuf, c->rcvbuf, c->write_size, c->backlog,
		     c->grid, c->compute_ns, c->msg, c->duration_ns, c->interval_ns);
	return n < 0 || (size_t)n >= len ? -1 : n;
}

static int parse_cc(const char *v, struct nd_bench_cfg *c)
{
	char tmp[ND_BENCH_MAX_CC * 17];
	char *save, *tok;

	c->ncc = 0;
	if (strcmp(v, "-") == 0 || !*v)
		return 0;
	if (strlen(v) >= sizeof(tmp))
		return -1;
	strcpy(tmp, v);
	for (tok = strtok_r(tmp, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (c->ncc >= ND_BENCH_MAX_CC || strlen(tok) >= sizeof(c->cc[0]) || !*tok)
			return -1;
		strcpy(c->cc[c->ncc++], tok);
	}
	return 0;
}

int nd_bench_cfg_parse(const char *line, struct nd_bench_cfg *c, char *err, size_t errlen)
{
	char tmp[1024];
	char *save, *tok;

	memset(c, 0, sizeof(*c));
	if (strlen(line) >= sizeof(tmp)) {
		snprintf(err, errlen, "test description too long");
		return -1;
	}
	strcpy(tmp, line);
	for (tok = strtok_r(tmp, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *v = strchr(tok, '=');
		char *end = NULL;
		unsigned long long u = 0;
		int bad = 0;

		if (!v) {
			snprintf(err, errlen, "malformed item '%s'", tok);
			return -1;
		}
		*v++ = '\0';
		if (strcmp(tok, "mode") == 0) {
			bad = nd_bench_mode_parse(v, &c->mode) < 0;
		} else if (strcmp(tok, "cc") == 0) {
			bad = parse_cc(v, c) < 0;
		} else if (strcmp(tok, "rate") == 0) {
			c->rate = strtod(v, &end);
			bad = *end || c->rate < 0;
		} else {
			errno = 0;
			u = strtoull(v, &end, 10);
			bad = errno || *end || !*v;
			if (strcmp(tok, "flows") == 0) { c->flows = (uint32_t)u; bad |= u < 1 || u > ND_BENCH_MAX_FLOWS; }
			else if (strcmp(tok, "req") == 0) { c->req = (uint32_t)u; bad |= u < 1 || u > (1u << 24); }
			else if (strcmp(tok, "resp") == 0) { c->resp = (uint32_t)u; bad |= u < 1 || u > (1u << 24); }
			else if (strcmp(tok, "inflight") == 0) { c->inflight = (uint32_t)u; bad |= u < 1 || u > 1024; }
			else if (strcmp(tok, "down") == 0) c->down = u != 0;
			else if (strcmp(tok, "sndbuf") == 0) c->sndbuf = u;
			else if (strcmp(tok, "rcvbuf") == 0) c->rcvbuf = u;
			else if (strcmp(tok, "write_size") == 0) { c->write_size = (uint32_t)u; bad |= u > (1u << 24); }
			else if (strcmp(tok, "backlog") == 0) c->backlog = (uint32_t)u;
			else if (strcmp(tok, "grid") == 0) c->grid = u != 0;
			else if (strcmp(tok, "compute_ns") == 0) c->compute_ns = u;
			else if (strcmp(tok, "msg") == 0) { c->msg = (uint32_t)u; bad |= u > (1u << 24); }
			else if (strcmp(tok, "duration_ns") == 0) c->duration_ns = u;
			else if (strcmp(tok, "interval_ns") == 0) c->interval_ns = u;
			else {
				snprintf(err, errlen, "unknown item '%s'", tok);
				return -1;
			}
		}
		if (bad) {
			snprintf(err, errlen, "bad value for %s: '%s'", tok, v);
			return -1;
		}
	}
	if (c->flows == 0 || c->duration_ns == 0) {
		snprintf(err, errlen, "test description lacks flows or duration");
		return -1;
	}
	return 0;
}

int nd_tcpinfo_get(int fd, struct nd_tcpinfo *ti)
{
	struct tcp_info t;
	socklen_t len = sizeof(t);

	memset(ti, 0, sizeof(*ti));
	memset(&t, 0, sizeof(t));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &t, &len) < 0)
		return -errno;
	ti->valid = true;
	ti->state = t.tcpi_state;
	ti->ca_state = t.tcpi_ca_state;
	ti->rtt_us = t.tcpi_rtt;
	ti->rttvar_us = t.tcpi_rttvar;
	ti->snd_cwnd = t.tcpi_snd_cwnd;
	ti->snd_ssthresh = t.tcpi_snd_ssthresh;
	ti->snd_mss = t.tcpi_snd_mss;
	ti->total_retrans = t.tcpi_total_retrans;
	ti->delivery_rate_bps = t.tcpi_delivery_rate * 8;
	ti->pacing_rate_bps = t.tcpi_pacing_rate * 8;
	ti->busy_time_us = t.tcpi_busy_time;
	ti->rwnd_limited_us = t.tcpi_rwnd_limited;
	ti->sndbuf_limited_us = t.tcpi_sndbuf_limited;
	ti->bytes_acked = t.tcpi_bytes_acked;
	ti->bytes_received = t.tcpi_bytes_received;
	return 0;
}

int nd_tcpinfo_format(const struct nd_tcpinfo *t, char *buf, size_t len)
{
	int n = snprintf(buf, len,
			 "%d %u %u %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu32
			 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64,
			 t->valid, t->state, t->ca_state, t->rtt_us, t->rttvar_us, t->snd_cwnd,
			 t->snd_ssthresh, t->snd_mss, t->total_retrans, t->delivery_rate_bps,
			 t->pacing_rate_bps, t->busy_time_us, t->rwnd_limited_us, t->sndbuf_limited_us,
			 t->bytes_acked, t->bytes_received);
	return n < 0 || (size_t)n >= len ? -1 : n;
}

int nd_tcpinfo_parse(const char *s, struct nd_tcpinfo *t)
{
	int valid;
	unsigned st, ca;

	memset(t, 0, sizeof(*t));
	if (sscanf(s, "%d %u %u %" SCNu32 " %" SCNu32 " %" SCNu32 " %" SCNu32 " %" SCNu32 " %" SCNu32
		   " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64,
		   &valid, &st, &ca, &t->rtt_us, &t->rttvar_us, &t->snd_cwnd, &t->snd_ssthresh,
		   &t->snd_mss, &t->total_retrans, &t->delivery_rate_bps, &t->pacing_rate_bps,
		   &t->busy_time_us, &t->rwnd_limited_us, &t->sndbuf_limited_us, &t->bytes_acked,
		   &t->bytes_received) != 16)
		return -1;
	t->valid = valid != 0;
	t->state = (uint8_t)st;
	t->ca_state = (uint8_t)ca;
	return 0;
}

int nd_sock_tune(int fd, const struct nd_bench_cfg *c, uint32_t flow, bool sender, char *cc_out)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (c->sndbuf) {
		int v = (int)(c->sndbuf > INT32_MAX ? INT32_MAX : c->sndbuf);
		if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)) < 0)
			return -errno;
	}
	if (c->rcvbuf) {
		int v = (int)(c->rcvbuf > INT32_MAX ? INT32_MAX : c->rcvbuf);
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)) < 0)
			return -errno;
	}
	if (sender && c->ncc) {
		const char *want = c->cc[flow % c->ncc];
		if (setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, want, (socklen_t)strlen(want)) < 0)
			return -errno;
	}
	if (cc_out) {
		char got[16] = "";
		socklen_t len = sizeof(got) - 1;
		if (getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, got, &len) == 0)
			snprintf(cc_out, 16, "%s", got);
	}
	return 0;
}

int nd_line_send(int fd, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n;
	size_t off = 0;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf) - 1)
		return -1;
	buf[n++] = '\n';
	while (off < (size_t)n) {
		ssize_t w = send(fd, buf + off, (size_t)n - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			if (poll(&p, 1, 5000) <= 0)
				return -1;
			continue;
		}
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

int nd_line_recv(int fd, struct nd_linebuf *lb, char *out, size_t outlen, int timeout_ms)
{
	uint64_t deadline = nd_now_ns() + (uint64_t)timeout_ms * 1000000u;

	for (;;) {
		char *nl = memchr(lb->buf, '\n', lb->len);
		if (nl) {
			size_t l = (size_t)(nl - lb->buf);
			if (l >= outlen)
				return -1;
			memcpy(out, lb->buf, l);
			out[l] = '\0';
			memmove(lb->buf, nl + 1, lb->len - l - 1);
			lb->len -= l + 1;
			return (int)l + (l == 0);   /* an empty line is not EOF */
		}
		if (lb->len == sizeof(lb->buf))
			return -1;
		{
			uint64_t now = nd_now_ns();
			struct pollfd p = { .fd = fd, .events = POLLIN };
			int rc;
			ssize_t r;

			if (now >= deadline)
				return -2;
			rc = poll(&p, 1, (int)((deadline - now + 999999) / 1000000u));
			if (rc < 0 && errno == EINTR)
				continue;
			if (rc == 0)
				return -2;
			if (rc < 0)
				return -1;
			r = recv(fd, lb->buf + lb->len, sizeof(lb->buf) - lb->len, 0);
			if (r == 0)
				return 0;
			if (r < 0) {
				if (errno == EINTR || errno == EAGAIN)
					continue;
				return -1;
			}
			lb->len += (size_t)r;
		}
	}
}
