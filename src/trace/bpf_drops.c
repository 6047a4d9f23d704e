/* SPDX-License-Identifier: MIT */
/* bpf_drops: load, attach, read and destroy the drops skeleton. */
#include "trace/bpf_drops.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/magic.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* The generated skeleton embeds the object as one long string. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverlength-strings"
#pragma GCC diagnostic ignored "-Wpedantic"
#include "drops.skel.h"
#pragma GCC diagnostic pop

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif
#ifndef TRACEFS_MAGIC
#define TRACEFS_MAGIC 0x74726163
#endif

#define TRACEFS "/sys/kernel/tracing"
#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"

struct nd_bpf {
	struct drops_bpf *skel;
	struct ring_buffer *rb;
	nd_bpf_event_fn on_event;
	void *event_ctx;
	bool btf;               /* the tp_btf set is loaded */
	unsigned ncpus;
	struct nd_bpf_info info;
};

/* The programs, as (tp_btf, classic) pairs of the same tracepoint. */
struct prog_pair {
	const char *tracepoint;
	bool required;
	struct bpf_program *(*prog)(struct drops_bpf *s, bool btf);
	struct bpf_link **(*link)(struct drops_bpf *s, bool btf);
};

#define PAIR(tp, req, name)                                                                  \
	static struct bpf_program *prog_##name(struct drops_bpf *s, bool btf)               \
	{                                                                                    \
		return btf ? s->progs.ndd_##name##_btf : s->progs.ndd_##name##_tp;         \
	}                                                                                    \
	static struct bpf_link **link_##name(struct drops_bpf *s, bool btf)                \
	{                                                                                    \
		return btf ? &s->links.ndd_##name##_btf : &s->links.ndd_##name##_tp;       \
	}
PAIR("skb:kfree_skb", true, kfree)
PAIR("tcp:tcp_retransmit_skb", false, retx)
PAIR("tcp:tcp_retransmit_synack", false, synack)
PAIR("tcp:tcp_send_reset", false, sndrst)
PAIR("tcp:tcp_receive_reset", false, rcvrst)
PAIR("sock:sock_rcvqueue_full", false, rcvq)
#undef PAIR

static const struct prog_pair pairs[] = {
	{ "skb:kfree_skb", true, prog_kfree, link_kfree },
	{ "tcp:tcp_retransmit_skb", false, prog_retx, link_retx },
	{ "tcp:tcp_retransmit_synack", false, prog_synack, link_synack },
	{ "tcp:tcp_send_reset", false, prog_sndrst, link_sndrst },
	{ "tcp:tcp_receive_reset", false, prog_rcvrst, link_rcvrst },
	{ "sock:sock_rcvqueue_full", false, prog_rcvq, link_rcvq },
};
#define NPAIRS (sizeof(pairs) / sizeof(pairs[0]))

/* ---- libbpf's messages: the first warning kept for the error line, all shown
 * with --verbose ---- */

static bool lib_verbose;
static char lib_last[256];

static int lib_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[1024];
	size_t n;
	va_list copy;

	if (lib_verbose) {
		/* whole, unbounded: the verifier's log comes as one message */
		va_copy(copy, ap);
		vfprintf(stderr, fmt, copy);
		va_end(copy);
	}
	vsnprintf(line, sizeof(line), fmt, ap);
	if (level == LIBBPF_DEBUG)
		return 0;
	/* The first warning says what failed; the later ones that it did. */
	n = strcspn(line, "\n");
	if (n > 0 && !lib_last[0]) {
		if (n >= sizeof(lib_last))
			n = sizeof(lib_last) - 1;
		memcpy(lib_last, line, n);
		lib_last[n] = '\0';
	}
	return 0;
}

/* ---- preconditions ---------------------------------------------------------- */

int nd_bpf_has_caps(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	uint64_t eff;

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	eff = (uint64_t)data[1].effective << 32 | data[0].effective;
#define HAS(c) ((eff >> (c)) & 1)
	if (HAS(CAP_SYS_ADMIN) || (HAS(CAP_BPF) && HAS(CAP_PERFMON)))
		return 0;
#undef HAS
	return -EPERM;
}

static bool is_tracefs(const char *path)
{
	struct statfs sf;

	return statfs(path, &sf) == 0 && (unsigned long)sf.f_type == (unsigned long)TRACEFS_MAGIC;
}

/* The classic tracepoints need tracefs (libbpf reads the event ids there):
 * mount it when it is only unmounted. */
static int ensure_tracefs(struct nd_bpf *b, char *err)
{
	if (is_tracefs(TRACEFS) || access("/sys/kernel/debug/tracing/events", F_OK) == 0)
		return 0;
	if (mount("nodev", TRACEFS, "tracefs", 0, NULL) == 0) {
		b->info.mounted_tracefs = true;
		return 0;
	}
	int e = errno;

	snprintf(err, ND_BPF_ERRLEN,
		 "tracefs is not mounted on " TRACEFS " and mounting it failed (%s)%s; "
		 "mount it with: mount -t tracefs nodev " TRACEFS,
		 strerror(e), e == EPERM ? ": needs CAP_SYS_ADMIN" : "");
	return e == EPERM ? -EPERM : -ENOENT;
}

/* ---- load ------------------------------------------------------------------- */

static int open_skel(struct nd_bpf *b, const struct nd_bpf_cfg *cfg, bool btf, char *err)
{
	struct drops_bpf *s;
	int rc;

	s = drops_bpf__open();
	if (!s) {
		rc = -errno;
		snprintf(err, ND_BPF_ERRLEN, "cannot open the eBPF object: %s", strerror(-rc));
		return rc;
	}
	s->rodata->cfg_netns = cfg->netns;
	s->rodata->cfg_ifindex = cfg->ifindex;
	s->rodata->cfg_flows = cfg->flows;
	s->rodata->cfg_events = cfg->on_event != NULL;
	s->rodata->cfg_reasons = cfg->nreasons > 0;
	s->rodata->cfg_ev_skip = cfg->on_event && cfg->nev_skip > 0;
	s->rodata->cfg_tunnels = cfg->tunnels;
	s->rodata->cfg_proto = cfg->proto;
	s->rodata->cfg_port = cfg->port;
	s->rodata->cfg_host_family = cfg->host_family;
	memcpy((void *)s->rodata->cfg_host, cfg->host, sizeof(cfg->host));
	if (cfg->on_event && cfg->ev_rate) {
		/* Each CPU gets its share of the rate; the bucket holds one
		 * second of it (at least one event). */
		uint64_t per_cpu = (cfg->ev_rate + b->ncpus - 1) / b->ncpus;

		s->rodata->cfg_ev_cost_ns = 1000000000ull / per_cpu;
		if (!s->rodata->cfg_ev_cost_ns)
			s->rodata->cfg_ev_cost_ns = 1;
		s->rodata->cfg_ev_burst_ns = s->rodata->cfg_ev_cost_ns * per_cpu;
	}
	/* The flow maps are left at one entry when flows are off: the
	 * programs never touch them then, but they are referenced, so they
	 * must exist for the verifier. */
	rc = bpf_map__set_max_entries(s->maps.drops, cfg->max_keys);
	if (!rc)
		rc = bpf_map__set_max_entries(s->maps.sigs, cfg->max_keys);
	if (!rc)
		rc = bpf_map__set_max_entries(s->maps.flows, cfg->flows ? cfg->max_flows : 1);
	if (!rc)
		rc = bpf_map__set_max_entries(s->maps.sig_flows, cfg->flows ? cfg->max_flows : 1);
	if (!rc)
		rc = bpf_map__set_max_entries(s->maps.events,
					      cfg->on_event ? cfg->ring_bytes
							    : (uint32_t)sysconf(_SC_PAGESIZE));
	for (size_t i = 0; !rc && i < NPAIRS; i++) {
		rc = bpf_program__set_autoload(pairs[i].prog(s, true), btf);
		if (!rc)
			rc = bpf_program__set_autoload(pairs[i].prog(s, false), !btf);
	}
	if (rc) {
		snprintf(err, ND_BPF_ERRLEN, "cannot configure the eBPF object: %s", strerror(-rc));
		drops_bpf__destroy(s);
		return rc;
	}
	lib_last[0] = '\0';
	rc = drops_bpf__load(s);
	if (rc) {
		/* EPERM: not allowed; EACCES and others: the verifier or the
		 * kernel's BTF said no (the fallback may still work). */
		if (rc == -EPERM)
			snprintf(err, ND_BPF_ERRLEN,
				 "the kernel refused to load the eBPF programs (%s): needs CAP_BPF "
				 "and CAP_PERFMON, or CAP_SYS_ADMIN", strerror(-rc));
		else
			snprintf(err, ND_BPF_ERRLEN, "loading the %s programs failed: %s%s%s "
				 "(-v shows the verifier's log)", btf ? "tp_btf" : "tracepoint",
				 strerror(-rc), lib_last[0] ? ": " : "", lib_last);
		drops_bpf__destroy(s);
		return rc;
	}
	b->skel = s;
	b->btf = btf;
	return 0;
}

static int attach(struct nd_bpf *b, char *err)
{
	struct drops_bpf *s = b->skel;

	b->info.signals_attached = 0;
	b->info.signals_missing[0] = '\0';
	for (size_t i = 0; i < NPAIRS; i++) {
		struct bpf_link *l = bpf_program__attach(pairs[i].prog(s, b->btf));
		int rc = l ? 0 : -errno;

		if (!rc) {
			*pairs[i].link(s, b->btf) = l;
			if (!pairs[i].required)
				b->info.signals_attached++;
			continue;
		}
		if (pairs[i].required) {
			snprintf(err, ND_BPF_ERRLEN, "attaching to %s (%s) failed: %s%s", pairs[i].tracepoint,
				 b->btf ? "tp_btf" : "tracepoint", strerror(-rc),
				 rc == -EPERM ? ": needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN" : "");
			return rc;
		}
		size_t n = strlen(b->info.signals_missing);

		snprintf(b->info.signals_missing + n, sizeof(b->info.signals_missing) - n, "%s%s",
			 n ? ", " : "", pairs[i].tracepoint);
	}
	return 0;
}

/* The reason sets: --reason (which drops count) and --event-skip (which
 * send no event). */
static int fill_set(struct bpf_map *map, const uint32_t *v, size_t n, const char *what, char *err)
{
	__u8 one = 1;

	for (size_t i = 0; i < n; i++) {
		int rc = bpf_map__update_elem(map, &v[i], sizeof(v[i]), &one, sizeof(one), BPF_ANY);

		if (rc) {
			snprintf(err, ND_BPF_ERRLEN, "cannot set the %s: %s", what, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

static int fill_reasons(struct nd_bpf *b, const struct nd_bpf_cfg *cfg, char *err)
{
	int rc = fill_set(b->skel->maps.reason_set, cfg->reasons, cfg->nreasons, "reason filter",
			  err);

	if (!rc && cfg->on_event)
		rc = fill_set(b->skel->maps.ev_skip_set, cfg->ev_skip, cfg->nev_skip,
			      "reasons without events", err);
	return rc;
}

static int ring_cb(void *ctx, void *data, size_t size)
{
	struct nd_bpf *b = ctx;

	if (size >= sizeof(struct nd_event))
		b->on_event(b->event_ctx, data);
	return 0;
}

int nd_bpf_open(struct nd_bpf **out, const struct nd_bpf_cfg *cfg, char *err)
{
	struct nd_bpf *b;
	char first[ND_BPF_ERRLEN] = "";
	int rc;

	*out = NULL;
	err[0] = '\0';
	lib_verbose = cfg->verbose;
	libbpf_set_print(lib_print);
	if (access(VMLINUX_BTF, R_OK) != 0) {
		snprintf(err, ND_BPF_ERRLEN,
			 "the kernel's BTF (" VMLINUX_BTF ") is missing: netdx drops needs a kernel "
			 "built with CONFIG_DEBUG_INFO_BTF=y");
		return -ENOENT;
	}
	if (nd_bpf_has_caps() < 0) {
		snprintf(err, ND_BPF_ERRLEN,
			 "loading eBPF programs needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN "
			 "(run as root)");
		return -EPERM;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		snprintf(err, ND_BPF_ERRLEN, "out of memory");
		return -ENOMEM;
	}
	rc = libbpf_num_possible_cpus();
	b->ncpus = rc > 0 ? (unsigned)rc : 1;
	b->info.ncpus = b->ncpus;

	rc = -ENOENT;
	if (cfg->mode != ND_ATTACH_TP) {
		rc = open_skel(b, cfg, true, err);
		if (rc == 0) {
			rc = attach(b, err);
			if (rc) {
				drops_bpf__destroy(b->skel);
				b->skel = NULL;
			}
		}
		if (rc && cfg->mode == ND_ATTACH_BTF)
			goto fail;
		if (rc == -EPERM)
			goto fail;      /* the classic ones would be refused too */
		if (rc)
			snprintf(first, sizeof(first), "%s", err);
	}
	if (rc) {
		rc = ensure_tracefs(b, err);
		if (rc == 0)
			rc = open_skel(b, cfg, false, err);
		if (rc == 0)
			rc = attach(b, err);
		if (rc)
			goto fail;
		snprintf(b->info.fallback, sizeof(b->info.fallback), "%s",
			 first[0] ? first : "classic tracepoints requested (--attach tp)");
	}
	b->info.mode = b->btf ? "tp_btf" : "tp";
	rc = fill_reasons(b, cfg, err);
	if (rc)
		goto fail;
	if (cfg->on_event) {
		b->on_event = cfg->on_event;
		b->event_ctx = cfg->event_ctx;
		b->rb = ring_buffer__new(bpf_map__fd(b->skel->maps.events), ring_cb, b, NULL);
		if (!b->rb) {
			rc = -errno;
			snprintf(err, ND_BPF_ERRLEN, "cannot open the event ring buffer: %s",
				 strerror(-rc));
			goto fail;
		}
	}
	*out = b;
	return 0;
fail:
	if (first[0] && rc != -EPERM) {
		size_t n = strlen(err);

		snprintf(err + n, ND_BPF_ERRLEN - n, " (and tp_btf before it: %s)", first);
	}
	nd_bpf_close(b);
	return rc;
}

void nd_bpf_close(struct nd_bpf *b)
{
	if (!b)
		return;
	ring_buffer__free(b->rb);
	drops_bpf__destroy(b->skel);
	free(b);
}

const struct nd_bpf_info *nd_bpf_info(const struct nd_bpf *b)
{
	return &b->info;
}

/* ---- reading ---------------------------------------------------------------- */

static int read_map(int fd, void *keys, size_t ksz, void *vals, size_t vsz, size_t cap, size_t *n)
{
	char *k = keys, *v = vals;
	const void *prev = NULL;
	size_t i = 0;

	while (i < cap && bpf_map_get_next_key(fd, prev, k + i * ksz) == 0) {
		prev = k + i * ksz;
		if (bpf_map_lookup_elem(fd, prev, v + i * vsz) == 0)
			i++;
		else if (errno != ENOENT)
			return -errno;
	}
	*n = i;
	return 0;
}

int nd_bpf_read_drops(struct nd_bpf *b, bool flows, struct nd_drop_key *keys,
		      struct nd_drop_val *vals, size_t cap, size_t *n)
{
	struct bpf_map *m = flows ? b->skel->maps.flows : b->skel->maps.drops;

	return read_map(bpf_map__fd(m), keys, sizeof(*keys), vals, sizeof(*vals), cap, n);
}

int nd_bpf_read_sigs(struct nd_bpf *b, bool flows, struct nd_sig_key *keys,
		     struct nd_sig_val *vals, size_t cap, size_t *n)
{
	struct bpf_map *m = flows ? b->skel->maps.sig_flows : b->skel->maps.sigs;

	return read_map(bpf_map__fd(m), keys, sizeof(*keys), vals, sizeof(*vals), cap, n);
}

int nd_bpf_stats(struct nd_bpf *b, uint64_t out[ND_ST_MAX])
{
	int fd = bpf_map__fd(b->skel->maps.stats);
	uint64_t *per = calloc(b->ncpus, sizeof(*per));

	if (!per)
		return -ENOMEM;
	for (__u32 i = 0; i < ND_ST_MAX; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(fd, &i, per) < 0) {
			int rc = -errno;

			free(per);
			return rc;
		}
		for (unsigned c = 0; c < b->ncpus; c++)
			out[i] += per[c];
	}
	free(per);
	return 0;
}

int nd_bpf_missed(struct nd_bpf *b, uint64_t *missed)
{
	*missed = 0;
	for (size_t i = 0; i < NPAIRS; i++) {
		struct bpf_program *p = pairs[i].prog(b->skel, b->btf);
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(p);

		if (fd < 0 || !*pairs[i].link(b->skel, b->btf))
			continue;
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
			return -errno;
		*missed += info.recursion_misses;
	}
	return 0;
}

int nd_bpf_poll(struct nd_bpf *b, int timeout_ms)
{
	int rc;

	if (!b->rb) {
		if (timeout_ms > 0)
			usleep((useconds_t)timeout_ms * 1000);
		return 0;
	}
	rc = ring_buffer__poll(b->rb, timeout_ms);
	return rc;
}
