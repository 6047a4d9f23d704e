/* SPDX-License-Identifier: MIT */
#include "capture/source.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct nd_source {
	pcap_t *p;
	FILE *fp;               /* the file libpcap reads (owned by libpcap once opened) */
	char name[256];
	enum nd_link link;
	int dlt;
	bool live;
	bool nano;              /* timestamps in ns (else us) */
	int fd;                 /* selectable fd of a live source */
	uint64_t frames;
	long last_good_off;     /* file offset after the last complete record, -1 unknown */
	bool classic;           /* classic pcap: records are 16 bytes + caplen, so the
				 * offset is counted, not asked of the kernel per packet */
	nd_frame_fn fn;
	void *ctx;
};

static struct nd_source *src_new(const char *name)
{
	struct nd_source *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->fd = -1;
	s->last_good_off = -1;
	return s;
}

static const char *supported_links =
	"ethernet, linux-sll, linux-sll2, raw IPv4/IPv6, null/loop, ppp, chdlc";

static int check_link(struct nd_source *s, char *err)
{
	const char *n;

	s->dlt = pcap_datalink(s->p);
	s->link = nd_link_from_dlt(s->dlt);
	if (s->link != ND_LINK_UNSUPPORTED)
		return 0;
	n = pcap_datalink_val_to_name(s->dlt);
	snprintf(err, ND_SRC_ERRLEN, "%s: link type %s (%d) is not supported; netdx decodes %s",
		 s->name, n ? n : "unknown", s->dlt, supported_links);
	return ND_SRC_ELINK;
}

/* Finish opening an offline source from an open FILE. */
static int open_offline(struct nd_source *s, FILE *fp, char *err)
{
	char eb[PCAP_ERRBUF_SIZE] = "";
	unsigned char magic[4];
	bool classic = false;

	/* Peek at the magic number where the file can be rewound. */
	if (fp != stdin && fread(magic, 1, 4, fp) == 4) {
		static const unsigned char m[4][4] = {
			{ 0xd4, 0xc3, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0xc3, 0xd4 },
			{ 0x4d, 0x3c, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0x3c, 0x4d },
		};
		for (int i = 0; i < 4; i++)
			classic |= memcmp(magic, m[i], 4) == 0;
	}
	if (fp != stdin && fseek(fp, 0, SEEK_SET) != 0)
		classic = false;

	s->p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, eb);
	if (!s->p) {
		if (strstr(eb, "truncated") || strstr(eb, "unknown file format") ||
		    strstr(eb, "file format"))
			snprintf(err, ND_SRC_ERRLEN,
				 "%s: not a pcap or pcapng capture, or its header is cut short (%s)",
				 s->name, eb);
		else
			snprintf(err, ND_SRC_ERRLEN, "%s: cannot read as a capture: %s", s->name, eb);
		fclose(fp);
		return ND_SRC_EOPEN;
	}
	s->fp = fp;
	s->nano = true;
	s->last_good_off = ftell(fp);
	s->classic = classic;
	return check_link(s, err);
}

int nd_source_open_file(struct nd_source **out, const char *path, char *err)
{
	struct nd_source *s;
	FILE *fp;
	int rc;

	*out = NULL;
	s = src_new(strcmp(path, "-") == 0 ? "<stdin>" : path);
	if (!s) {
		snprintf(err, ND_SRC_ERRLEN, "%s: out of memory", path);
		return ND_SRC_EOPEN;
	}
	if (strcmp(path, "-") == 0) {
		fp = stdin;
	} else {
		fp = fopen(path, "rb");
		if (!fp) {
			snprintf(err, ND_SRC_ERRLEN, "%s: cannot open: %s", path, strerror(errno));
			free(s);
			return ND_SRC_EOPEN;
		}
	}
	rc = open_offline(s, fp, err);
	if (rc < 0 && !s->p) {
		free(s);
		return rc;
	}
	*out = s;
	return rc;
}

int nd_source_open_mem(struct nd_source **out, const char *name, const void *buf, size_t len,
		       char *err)
{
	struct nd_source *s;
	FILE *fp;
	int rc;

	*out = NULL;
	s = src_new(name);
	fp = s ? fmemopen((void *)buf, len, "rb") : NULL;
	if (!fp) {
		snprintf(err, ND_SRC_ERRLEN, "%s: cannot open: %s", name, strerror(errno));
		free(s);
		return ND_SRC_EOPEN;
	}
	rc = open_offline(s, fp, err);
	if (rc < 0 && !s->p) {
		free(s);
		return rc;
	}
	*out = s;
	return rc;
}

int nd_source_open_live(struct nd_source **out, const struct nd_live_cfg *cfg, char *err)
{
	char eb[PCAP_ERRBUF_SIZE] = "";
	struct nd_source *s;
	int rc;

	*out = NULL;
	s = src_new(cfg->iface);
	if (!s) {
		snprintf(err, ND_SRC_ERRLEN, "%s: out of memory", cfg->iface);
		return ND_SRC_EOPEN;
	}
	s->live = true;
	s->p = pcap_create(cfg->iface, eb);
	if (!s->p) {
		snprintf(err, ND_SRC_ERRLEN, "cannot capture on %s: %s", cfg->iface, eb);
		free(s);
		return ND_SRC_EOPEN;
	}
	*out = s;
	pcap_set_snaplen(s->p, cfg->snaplen ? (int)cfg->snaplen : 262144);
	pcap_set_promisc(s->p, cfg->promisc);
	pcap_set_immediate_mode(s->p, 1);
	pcap_set_timeout(s->p, 100);
	if (cfg->buffer_size)
		pcap_set_buffer_size(s->p, (int)cfg->buffer_size);
	s->nano = pcap_set_tstamp_precision(s->p, PCAP_TSTAMP_PRECISION_NANO) == 0;

	rc = pcap_activate(s->p);
	if (rc < 0) {
		const char *why = pcap_geterr(s->p);

		switch (rc) {
		case PCAP_ERROR_NO_SUCH_DEVICE:
			snprintf(err, ND_SRC_ERRLEN,
				 "cannot capture on %s: no such interface (list them with 'ip link'; "
				 "inside a namespace, run netdx with 'ip netns exec NS')", cfg->iface);
			return ND_SRC_EOPEN;
		case PCAP_ERROR_PERM_DENIED:
		case PCAP_ERROR_PROMISC_PERM_DENIED:
			snprintf(err, ND_SRC_ERRLEN,
				 "cannot capture on %s: permission denied; live capture needs "
				 "CAP_NET_RAW%s (run as root, or grant it: setcap "
				 "cap_net_raw%s=eip netdx)", cfg->iface,
				 cfg->promisc ? " and CAP_NET_ADMIN for --promisc" : "",
				 cfg->promisc ? ",cap_net_admin" : "");
			return ND_SRC_EPERM;
		case PCAP_ERROR_IFACE_NOT_UP:
			snprintf(err, ND_SRC_ERRLEN, "cannot capture on %s: interface is down "
				 "(ip link set %s up)", cfg->iface, cfg->iface);
			return ND_SRC_EOPEN;
		default:
			snprintf(err, ND_SRC_ERRLEN, "cannot capture on %s: %s", cfg->iface,
				 why && *why ? why : pcap_statustostr(rc));
			return ND_SRC_EOPEN;
		}
	}
	if (pcap_setnonblock(s->p, 1, eb) < 0) {
		snprintf(err, ND_SRC_ERRLEN, "cannot capture on %s: %s", cfg->iface, eb);
		return ND_SRC_EOPEN;
	}
	s->fd = pcap_get_selectable_fd(s->p);
	return check_link(s, err);
}

int nd_source_set_filter(struct nd_source *s, const char *expr, char *err)
{
	struct bpf_program prog;

	if (!expr || !*expr)
		return 0;
	if (pcap_compile(s->p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, ND_SRC_ERRLEN, "bad filter expression '%s': %s", expr, pcap_geterr(s->p));
		return ND_SRC_EFILTER;
	}
	if (pcap_setfilter(s->p, &prog) < 0) {
		snprintf(err, ND_SRC_ERRLEN, "%s: cannot apply filter '%s': %s", s->name, expr,
			 pcap_geterr(s->p));
		pcap_freecode(&prog);
		return ND_SRC_EFILTER;
	}
	pcap_freecode(&prog);
	return 0;
}

static void on_pcap(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct nd_source *s = (struct nd_source *)user;
	struct nd_frame f;
	uint64_t sub = (uint64_t)h->ts.tv_usec;

	f.ts_ns = (uint64_t)h->ts.tv_sec * 1000000000u + (s->nano ? sub : sub * 1000u);
	f.caplen = h->caplen;
	f.wirelen = h->len;
	f.data = bytes;
	f.link = s->link;
	s->frames++;
	s->fn(s->ctx, &f);
	if (s->classic)
		s->last_good_off += 16 + (long)h->caplen;
	else if (s->fp && s->fp != stdin)
		s->last_good_off = ftell(s->fp);
}

int nd_source_dispatch(struct nd_source *s, int max, nd_frame_fn fn, void *ctx, char *err)
{
	int n;

	s->fn = fn;
	s->ctx = ctx;
	n = pcap_dispatch(s->p, max, on_pcap, (u_char *)s);
	if (n >= 0)
		return n;
	if (n == PCAP_ERROR_BREAK)
		return 0;
	{
		const char *why = pcap_geterr(s->p);
		char where[96];

		if (s->last_good_off >= 0 && s->fp != stdin)
			snprintf(where, sizeof(where), "at byte offset %ld, ", s->last_good_off);
		else
			where[0] = '\0';
		if (!s->live && strstr(why, "truncated")) {
			snprintf(err, ND_SRC_ERRLEN,
				 "%s: capture is truncated %safter %llu complete records (%s); "
				 "the report covers what was read", s->name, where,
				 (unsigned long long)s->frames, why);
			return ND_SRC_ETRUNC;
		}
		if (!s->live && strstr(why, "different from the type of the first interface")) {
			snprintf(err, ND_SRC_ERRLEN,
				 "%s: this pcapng file has interfaces of different link types, which "
				 "libpcap %s cannot read; the report covers the %llu packets before "
				 "the first such interface %s(convert with: editcap -T ether, or split "
				 "it per interface)", s->name, pcap_lib_version(),
				 (unsigned long long)s->frames, where);
			return ND_SRC_ETRUNC;
		}
		if (!s->live) {
			snprintf(err, ND_SRC_ERRLEN,
				 "%s: capture is corrupt %safter %llu complete records (%s); "
				 "the report covers what was read", s->name, where,
				 (unsigned long long)s->frames, why);
			return ND_SRC_ETRUNC;
		}
		snprintf(err, ND_SRC_ERRLEN, "%s: capture failed: %s", s->name, why);
		return ND_SRC_EREAD;
	}
}

int nd_source_wait(struct nd_source *s, int timeout_ms)
{
	struct pollfd pfd;
	int rc;

	if (!s->live || s->fd < 0)
		return 1;
	pfd.fd = s->fd;
	pfd.events = POLLIN;
	rc = poll(&pfd, 1, timeout_ms);
	if (rc < 0)
		return errno == EINTR ? 0 : -errno;
	return rc > 0;
}

void nd_source_break(struct nd_source *s)
{
	pcap_breakloop(s->p);
}

void nd_source_stats(struct nd_source *s, struct nd_capture_stats *st)
{
	struct pcap_stat ps;

	memset(st, 0, sizeof(*st));
	if (!s->live || pcap_stats(s->p, &ps) < 0)
		return;
	st->recv = ps.ps_recv;
	st->drop = ps.ps_drop;
	st->ifdrop = ps.ps_ifdrop;
	st->valid = true;
}

const char *nd_source_name(const struct nd_source *s) { return s->name; }
enum nd_link nd_source_link(const struct nd_source *s) { return s->link; }
int nd_source_dlt(const struct nd_source *s) { return s->dlt; }
bool nd_source_is_live(const struct nd_source *s) { return s->live; }
uint64_t nd_source_frames(const struct nd_source *s) { return s->frames; }

void nd_source_close(struct nd_source *s)
{
	if (!s)
		return;
	if (s->p)
		pcap_close(s->p);       /* closes s->fp too, except stdin's FILE is closed as well */
	free(s);
}
