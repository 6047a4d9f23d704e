/* SPDX-License-Identifier: MIT */
/*
 * netdx doctor: runs counters, drops and live TCP inference together (and
 * optionally the workload), or reads their recordings, and explains what
 * was slow or lost, how and where: ranked findings with the numbers of
 * each source.
 *
 *   netdx doctor [--duration S] [-i [NETNS/]IFACE ...] [--netns NAME ...]
 *                [--save DIR] [--json] [-- WORKLOAD ARGS...]
 *   netdx doctor --from DIR [--json]
 *   netdx doctor --capture F [--counters F] [--drops F] [--bench F] [--json]
 *   netdx doctor --demo NAME|list [--json]
 *
 * This file is the edge: options, checks, the recording directory, exit
 * codes and the choice of renderer. The collection is src/doctor/run.c,
 * the reading src/doctor/load.c, the diagnosis src/doctor/diag.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "cli/opt.h"
#include "doctor/diag.h"
#include "doctor/dx.h"
#include "doctor/load.h"
#include "doctor/render.h"
#include "doctor/run.h"
#include "doctor_paths.h"
#include "netdx_version.h"
#include "sys/netns.h"

#define MAX_LIST 64

struct doc_cfg {
	double duration;
	const char *iface_opt, *netns_opt;      /* parsed again as lists, see lists() */
	const char *from, *capture, *counters, *drops, *bench, *save, *demo;
	bool json, no_drop_flows, quiet, print_config;
};

#define OFF(f) offsetof(struct doc_cfg, f)

static const struct nd_opt doc_opts[] = {
	{ "duration", 'd', ND_OPT_SECONDS, OFF(duration), "S", "live: collect for S seconds (default 10); a workload after -- should end within it", 1, 86400 },
	{ "interface", 'i', ND_OPT_STRING, OFF(iface_opt), "[NETNS/]IFACE", "live: capture TCP on IFACE (repeatable or comma-separated); a bare name is looked up here, then in each --netns", 0, 0 },
	{ "netns", 'n', ND_OPT_STRING, OFF(netns_opt), "NAME", "look at these namespaces only (repeatable or comma-separated; 'host' is netdx's own); default: all", 0, 0 },
	{ "json", 0, ND_OPT_FLAG, OFF(json), NULL, "NDJSON: meta, sources, findings (ranked), notes, summary", 0, 0 },
	{ "save", 0, ND_OPT_STRING, OFF(save), "DIR", "live: keep the recordings in DIR (made if missing) for --from later", 0, 0 },
	{ "no-drop-flows", 0, ND_OPT_FLAG, OFF(no_drop_flows), NULL, "live: run drops without --flows (places only: drops are tied to stalls by place and amount, not per connection)", 0, 0 },
	{ "from", 0, ND_OPT_STRING, OFF(from), "DIR", "diagnose the recordings in DIR (made by --save) instead of collecting", 0, 0 },
	{ "capture", 0, ND_OPT_STRING, OFF(capture), "FILE", "offline: a pcap/pcapng capture (or the NDJSON of netdx tcp --json)", 0, 0 },
	{ "counters", 0, ND_OPT_STRING, OFF(counters), "FILE", "offline: the NDJSON of netdx counters delta --json --all", 0, 0 },
	{ "drops", 0, ND_OPT_STRING, OFF(drops), "FILE", "offline: the NDJSON of netdx drops --json", 0, 0 },
	{ "bench", 0, ND_OPT_STRING, OFF(bench), "FILE", "offline: the JSON of the netdx bench workload", 0, 0 },
	{ "demo", 0, ND_OPT_STRING, OFF(demo), "NAME", "run a reproduction from the scenario library (root); 'list' names them", 0, 0 },
	{ "quiet", 'q', ND_OPT_FLAG, OFF(quiet), NULL, "live: no progress lines on stderr", 0, 0 },
	{ "print-config", 0, ND_OPT_FLAG, OFF(print_config), NULL, "print the effective options to stderr first", 0, 0 },
	ND_OPT_END
};

static const char *scenario_dir(void)
{
	const char *e = getenv("NETDX_DOCTOR_SCENARIOS");

	return e && *e ? e : ND_DOCTOR_SCENARIO_DIR;
}

void cmd_doctor_usage(FILE *f)
{
	fprintf(f,
		"usage: netdx doctor [--duration S] [-i [NETNS/]IFACE ...] [--netns NAME ...] [--json]\n"
		"                    [--save DIR] [-- WORKLOAD ARGS...]\n"
		"       netdx doctor --from DIR [--json]\n"
		"       netdx doctor --capture FILE [--counters FILE] [--drops FILE] [--bench FILE]\n"
		"       netdx doctor --demo NAME|list [--json]\n\n"
		"Why is traffic slow or lost, and where? doctor runs three collectors of this\n"
		"binary together for --duration seconds: 'netdx drops' (eBPF: where the kernel\n"
		"drops and why, TCP retransmissions), one 'netdx tcp' capture per -i interface\n"
		"(entered in its namespace: stalls, retransmissions, what limited each\n"
		"direction), and 'netdx counters delta' (every drop, TCP and conntrack counter\n"
		"per namespace). A workload given after -- is started once they are ready\n"
		"(its stdout, e.g. 'netdx bench ... --json', is a fourth source: latency and\n"
		"TCP_INFO). Then the diagnosis: ranked findings, each a mechanism at a place:\n\n"
		"  rto-stalls          timeouts (200 ms and up) after losses at a device or on the path\n"
		"  syn-retries         connection attempts resent after 1 s, 2 s, ... (dropped SYNs)\n"
		"  conntrack-full      a namespace's connection-tracking table refuses new entries\n"
		"  listen-overflow     a listener's accept queue overflows (ListenOverflows)\n"
		"  network-bottleneck  a queue (qdisc) drops at its limit; flows are network-limited\n"
		"  receiver-window     the receiver's buffer (window) limits a transfer\n"
		"  sender-limited      the sending application writes slowly (not the network)\n"
		"  packet-drops        drops with no TCP symptom tied to them\n\n"
		"Each finding gives the symptom, the evidence of every source with its numbers\n"
		"(e.g. 37 timeout stalls; 38 NETFILTER_DROP drops on dev X in netns Y;\n"
		"Tcp.RetransSegs +30) and a next step. It is critical or warning only when at\n"
		"least two sources agree; one source alone is info. drops counts by flow too,\n"
		"so a stall is tied to a drop place only when its own connection lost packets\n"
		"there (\"34 of them on the flows of the 2 connections that stalled\").\n"
		"Without BPF (no CAP_BPF, CAP_PERFMON) drops cannot run: doctor says so and\n"
		"goes on with the others.\n"
		"--netns limits the counters and the drops looked at (default: all namespaces).\n\n"
		"Recordings: --save DIR keeps them (meta.json, counters.ndjson, drops.ndjson,\n"
		"tcp-N.ndjson, bench.json and each collector's stderr); --from DIR diagnoses\n"
		"them again, without root.\n\n"
		"Scenario library (--demo NAME, root): rr-drops-rto, crr-conntrack-full,\n"
		"crr-listen-overflow, stream-rwnd, stream-bottleneck, app-limited, healthy:\n"
		"each builds network namespaces, injects its fault, runs netdx bench and doctor,\n"
		"prints what was injected, and cleans up. The scripts are in\n"
		"  %s\n"
		"(set NETDX_DOCTOR_SCENARIOS to use another copy); docs/doctor/ explains each.\n\n"
		"examples:\n"
		"  netdx doctor -i eth0 --duration 30                 while the problem happens\n"
		"  netdx doctor --netns red,blue -i red/veth0 --save /tmp/rec\n"
		"  netdx doctor -d 8 -i cli/v0 --netns cli,rtr,srv -- ip netns exec cli \\\n"
		"      netdx bench rr 10.1.2.2 --duration 6 --json\n"
		"  netdx doctor --from /tmp/rec --json                the same diagnosis, later\n"
		"  netdx doctor --capture slow.pcap --counters c.ndjson --drops d.ndjson\n"
		"  netdx doctor --demo crr-conntrack-full\n\noptions:\n",
		scenario_dir());
	nd_opt_help(f, doc_opts);
	fprintf(f, "\nexit codes: 0 diagnosis written (findings or not; also after SIGINT, which\n"
		   "ends the collection early and diagnoses what was recorded); 1 no such\n"
		   "namespace, interface, file or directory, or output error; 2 usage; 4 missing\n"
		   "privilege: a live capture needs CAP_NET_RAW, entering namespaces CAP_SYS_ADMIN.\n");
}

/* ---- repeatable options: -i and --netns, collected from argv ---- */

struct lists {
	char *iface[ND_DX_CAP_MAX];
	size_t niface;
	char *netns[MAX_LIST];
	size_t nnetns;
	bool over;
};

static void add_items(char **arr, size_t *n, size_t cap, const char *val, bool *over)
{
	char *dup = strdup(val), *save = NULL;

	if (!dup)
		return;
	for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (*n >= cap) {
			*over = true;
			break;
		}
		arr[(*n)++] = strdup(t);
	}
	free(dup);
}

static const struct nd_opt *find_long(const char *name, size_t len)
{
	for (const struct nd_opt *o = doc_opts; o->name; o++)
		if (strlen(o->name) == len && !strncmp(o->name, name, len))
			return o;
	return NULL;
}

static const struct nd_opt *find_short(int c)
{
	for (const struct nd_opt *o = doc_opts; o->name; o++)
		if (o->short_name == c)
			return o;
	return NULL;
}

/* Walk argv as getopt will (up to "--") and collect every -i and --netns
 * value; nd_opt_parse keeps only the last of each. */
static void lists(int argc, char **argv, struct lists *l)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		const struct nd_opt *o = NULL;

		if (!strcmp(a, "--"))
			break;
		if (!strncmp(a, "--", 2)) {
			const char *eq = strchr(a + 2, '=');

			o = find_long(a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
			if (!o || o->type == ND_OPT_FLAG)
				continue;
			val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
		} else if (a[0] == '-' && a[1]) {
			o = find_short(a[1]);
			if (!o || o->type == ND_OPT_FLAG)
				continue;
			val = a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : NULL);
		}
		if (!o || !val)
			continue;
		if (!strcmp(o->name, "interface"))
			add_items(l->iface, &l->niface, ND_DX_CAP_MAX, val, &l->over);
		else if (!strcmp(o->name, "netns"))
			add_items(l->netns, &l->nnetns, MAX_LIST, val, &l->over);
	}
}

static void lists_free(struct lists *l)
{
	for (size_t i = 0; i < l->niface; i++)
		free(l->iface[i]);
	for (size_t i = 0; i < l->nnetns; i++)
		free(l->netns[i]);
}

/* ---- privileges, namespaces, interfaces ---- */

/* Whether capability @cap is in this process's effective set. */
static bool have_cap(int cap)
{
	char line[256];
	bool yes = false;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return geteuid() == 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "CapEff:", 7)) {
			unsigned long long v = strtoull(line + 7, NULL, 16);

			yes = (v >> cap) & 1;
			break;
		}
	}
	fclose(f);
	return yes;
}

#define CAP_NET_RAW_BIT 13
#define CAP_SYS_ADMIN_BIT 21

/* 1 if interface @name exists in @nsfd (-1: ours), 0 if not, -errno. */
static int iface_in(int nsfd, const char *name)
{
	struct ifreq ifr;
	int s = nd_netns_socket(nsfd, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	if (s < 0)
		return s;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	rc = ioctl(s, SIOCGIFINDEX, &ifr) == 0 ? 1 : (errno == ENODEV ? 0 : -errno);
	close(s);
	return rc;
}

struct live_ns {
	char *name[MAX_LIST];
	int fd[MAX_LIST];
	uint64_t ino[MAX_LIST];
	size_t n;
};

static int ns_index(const struct live_ns *ns, const char *name)
{
	for (size_t i = 0; i < ns->n; i++)
		if (!strcmp(ns->name[i], name))
			return (int)i;
	return -1;
}

/* Open namespace @name (once). Returns its index, or an exit code < 0. */
static int ns_open(struct live_ns *ns, const char *name, const char *opt)
{
	struct stat st;
	int k = ns_index(ns, name), fd;

	if (k >= 0)
		return k;
	if (ns->n >= MAX_LIST) {
		fprintf(stderr, "netdx doctor: %s: at most %d namespaces\n", opt, MAX_LIST);
		return -ND_EXIT_USAGE;
	}
	if (!strcmp(name, "host")) {
		fd = -1;        /* our own */
		if (stat("/proc/self/ns/net", &st) < 0)
			st.st_ino = 0;
	} else {
		fd = nd_netns_open_fd(name);
		if (fd < 0) {
			fprintf(stderr, "netdx doctor: %s %s: %s (ip netns list shows the named ones)\n",
				opt, name, fd == -ENOENT ? "no such namespace" : strerror(-fd));
			return fd == -EACCES || fd == -EPERM ? -ND_EXIT_PERM : -ND_EXIT_INPUT;
		}
		if (fstat(fd, &st) < 0)
			st.st_ino = 0;
	}
	ns->name[ns->n] = strdup(name);
	if (!ns->name[ns->n]) {
		if (fd >= 0)
			close(fd);
		fprintf(stderr, "netdx doctor: out of memory\n");
		return -ND_EXIT_INPUT;
	}
	ns->fd[ns->n] = fd;
	ns->ino[ns->n] = (uint64_t)st.st_ino;
	return (int)ns->n++;
}

/* ---- the recording directory ---- */

/* @s as a JSON string's contents. */
static void json_esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
}

/* meta.json: what --from needs to read the recordings as they were made. */
static int write_meta(const char *dir, const struct nd_dx_input *in, const struct nd_dx_live_cfg *lc,
		      const struct nd_dx_live_res *res, double duration)
{
	char path[PATH_MAX + 16];
	bool first = true;
	FILE *f;

	snprintf(path, sizeof(path), "%s/meta.json", dir);
	f = fopen(path, "we");
	if (!f)
		return -errno;
	fprintf(f, "{\"type\":\"doctor-run\",\"version\":\"%s\",\"duration_s\":%.3f,\"window_s\":%.3f,"
		"\"interrupted\":%s,\"netns\":[",
		NETDX_VERSION, duration, res->window_s, res->interrupted ? "true" : "false");
	for (size_t i = 0; i < in->nnetns; i++) {
		fprintf(f, "%s{\"name\":\"", i ? "," : "");
		json_esc(f, in->netns[i]);
		fprintf(f, "\",\"inode\":%llu}", (unsigned long long)in->netns_ino[i]);
	}
	fprintf(f, "],\"captures\":[");
	for (size_t i = 0; i < lc->ncap; i++) {
		fprintf(f, "%s{\"iface\":\"", i ? "," : "");
		json_esc(f, in->cap[i].iface);
		fprintf(f, "\",\"netns\":\"");
		json_esc(f, in->cap[i].netns);
		fprintf(f, "\",\"file\":\"tcp-%zu.ndjson\"}", i);
	}
	fprintf(f, "],\"workload\":%s,\"workload_status\":%d,\"missing\":{",
		res->workload_ran ? "true" : "false", res->workload_status);
	for (int s = 0; s < ND_DX_NSRC; s++) {
		const char *m = res->missing[s];

		for (size_t k = 0; s == ND_DX_SRC_TCP && k < lc->ncap && !*m; k++)
			m = res->cap_missing[k];
		if (!*m)
			continue;
		fprintf(f, "%s\"%s\":\"", first ? "" : ",", nd_dx_src_name(s));
		json_esc(f, m);
		fputc('"', f);
		first = false;
	}
	fprintf(f, "}}\n");
	if (fclose(f) != 0)
		return -errno;
	return 0;
}

static bool exists(const char *path)
{
	return access(path, R_OK) == 0;
}

/* Whether @path starts like a pcap or pcapng file. */
static bool is_capture(const char *path)
{
	unsigned char m[4] = { 0 };
	FILE *f = fopen(path, "re");
	bool yes;

	if (!f)
		return false;
	yes = fread(m, 1, 4, f) == 4 &&
	      ((m[0] == 0xd4 && m[1] == 0xc3) || (m[0] == 0xa1 && m[1] == 0xb2) ||
	       (m[0] == 0x4d && m[1] == 0x3c) || (m[0] == 0x3c && m[1] == 0x4d) ||
	       (m[0] == 0x0a && m[1] == 0x0d && m[2] == 0x0d && m[3] == 0x0a));
	fclose(f);
	return yes;
}

/* netdx tcp --json @capture > @out, a child of this binary. 0 or an exit code. */
static int tcp_offline(const char *capture, const char *out)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	pid_t pid;
	int st, fd;

	if (n <= 0)
		return ND_EXIT_INPUT;
	exe[n] = '\0';
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return ND_EXIT_INPUT;
	pid = fork();
	if (pid == 0) {
		dup2(fd, STDOUT_FILENO);
		execl(exe, exe, "tcp", "--json", capture, (char *)NULL);
		_exit(127);
	}
	close(fd);
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return ND_EXIT_INPUT;
	return WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == ND_EXIT_PARTIAL) ?
		       0 : ND_EXIT_INPUT;
}

/* Load @path for @src; a failure to read it becomes the source's
 * "missing" text. Returns 0 or an exit code (only for -ENOMEM). */
static int load_one(struct nd_dx_input *in, enum nd_dx_src src, unsigned cap, const char *path)
{
	int rc = nd_dx_load_file(in, src, cap, path);

	if (rc == -ENOMEM) {
		fprintf(stderr, "netdx doctor: out of memory reading %s\n", path);
		return ND_EXIT_INPUT;
	}
	if (rc < 0 && !*in->missing[src])
		snprintf(in->missing[src], ND_DX_TEXT, "%s: %s", path, strerror(-rc));
	else if (!in->have[src] && !*in->missing[src])
		snprintf(in->missing[src], ND_DX_TEXT, "%s is incomplete (no summary line)", path);
	return 0;
}

/* Read a recording directory (made by --save, or by hand). */
static int load_dir(struct nd_dx_input *in, const char *dir, const struct lists *l)
{
	char path[PATH_MAX + 300], files[ND_DX_CAP_MAX][256], *doc = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	memset(files, 0, sizeof(files));
	snprintf(path, sizeof(path), "%s/meta.json", dir);
	f = fopen(path, "re");
	if (f) {
		if (getdelim(&doc, &len, '\0', f) > 0 && nd_dx_meta_doc(in, doc, files, ND_DX_CAP_MAX) < 0)
			fprintf(stderr, "netdx doctor: %s is not a doctor run description; ignored\n", path);
		free(doc);
		fclose(f);
	}
	for (size_t i = 0; i < l->nnetns; i++)
		nd_dx_add_netns(in, l->netns[i], 0);
	if (!in->ncap) {        /* no description: every tcp-N.ndjson there */
		for (unsigned k = 0; k < ND_DX_CAP_MAX; k++) {
			snprintf(path, sizeof(path), "%s/tcp-%u.ndjson", dir, k);
			if (!exists(path))
				break;
			nd_dx_add_capture(in, path, "");
			snprintf(files[k], sizeof(files[k]), "tcp-%u.ndjson", k);
		}
	}
	for (size_t k = 0; k < in->ncap; k++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[k]);
		if (!*files[k] || !exists(path))
			continue;
		rc = load_one(in, ND_DX_SRC_TCP, (unsigned)k, path);
		if (rc)
			return rc;
	}
	if (!in->ncap && !*in->missing[ND_DX_SRC_TCP])
		snprintf(in->missing[ND_DX_SRC_TCP], ND_DX_TEXT, "no capture (no -i given)");
	snprintf(path, sizeof(path), "%s/counters.ndjson", dir);
	if (exists(path) && (rc = load_one(in, ND_DX_SRC_COUNTERS, 0, path)))
		return rc;
	snprintf(path, sizeof(path), "%s/drops.ndjson", dir);
	if (exists(path) && (rc = load_one(in, ND_DX_SRC_DROPS, 0, path)))
		return rc;
	snprintf(path, sizeof(path), "%s/bench.json", dir);
	if (exists(path) && (rc = load_one(in, ND_DX_SRC_BENCH, 0, path)))
		return rc;
	return 0;
}

/* Remove the files a live run left in its temporary directory, then it. */
static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[PATH_MAX + 300];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* ---- the modes ---- */

static int run_demo(const struct doc_cfg *cfg)
{
	char script[PATH_MAX], exe[PATH_MAX];
	const char *dir = scenario_dir();
	ssize_t n;

	if (!strcmp(cfg->demo, "list")) {
		DIR *d = opendir(dir);
		struct dirent *e;

		if (!d) {
			fprintf(stderr, "netdx doctor: --demo: cannot open the scenario library %s: %s "
				"(set NETDX_DOCTOR_SCENARIOS)\n", dir, strerror(errno));
			return ND_EXIT_INPUT;
		}
		printf("scenarios in %s:\n", dir);
		while ((e = readdir(d))) {
			size_t l = strlen(e->d_name);
			char line[512] = "", path[PATH_MAX + 300];
			FILE *f;

			if (l < 4 || strcmp(e->d_name + l - 3, ".sh") || !strcmp(e->d_name, "lib.sh"))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			f = fopen(path, "re");
			while (f && fgets(line, sizeof(line), f))
				if (!strncmp(line, "# demo: ", 8))
					break;
			if (f)
				fclose(f);
			printf("  %-22.*s %s", (int)(l - 3), e->d_name,
			       strncmp(line, "# demo: ", 8) ? "\n" : line + 8);
		}
		closedir(d);
		return ND_EXIT_OK;
	}
	if (strchr(cfg->demo, '/') || cfg->demo[0] == '.' || !strcmp(cfg->demo, "lib")) {
		fprintf(stderr, "netdx doctor: --demo wants a scenario name (try --demo list), not '%s'\n",
			cfg->demo);
		return ND_EXIT_USAGE;
	}
	snprintf(script, sizeof(script), "%s/%s.sh", dir, cfg->demo);
	if (!exists(script)) {
		fprintf(stderr, "netdx doctor: --demo %s: no such scenario in %s (try --demo list)\n",
			cfg->demo, dir);
		return ND_EXIT_USAGE;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		fprintf(stderr, "netdx doctor: cannot find my own binary: %s\n", strerror(errno));
		return ND_EXIT_INPUT;
	}
	exe[n] = '\0';
	fflush(NULL);
	execlp("bash", "bash", script, exe, cfg->json ? "--json" : "--demo", (char *)NULL);
	fprintf(stderr, "netdx doctor: --demo: cannot run bash: %s\n", strerror(errno));
	return ND_EXIT_INPUT;
}

static int diagnose_and_print(struct nd_dx_input *in, const struct doc_cfg *cfg, const char *from,
			      bool interrupted)
{
	struct nd_dx_run_info ri = { NETDX_VERSION, from, interrupted };
	struct nd_dx_diag *d = calloc(1, sizeof(*d));
	int rc;

	if (!d) {
		fprintf(stderr, "netdx doctor: out of memory\n");
		return ND_EXIT_INPUT;
	}
	rc = nd_dx_diagnose(in, d);
	if (rc < 0) {
		fprintf(stderr, "netdx doctor: diagnosis failed: %s\n", strerror(-rc));
		free(d);
		return ND_EXIT_INPUT;
	}
	if (cfg->json)
		nd_dx_render_json(stdout, in, d, &ri);
	else
		nd_dx_render_text(stdout, in, d, &ri);
	free(d);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "netdx doctor: error writing the output\n");
		return ND_EXIT_INPUT;
	}
	return ND_EXIT_OK;
}

static int run_offline(const struct doc_cfg *cfg, const struct lists *l)
{
	struct nd_dx_input *in = nd_dx_input_new();
	char tmp[] = "/tmp/netdx-doctor-tcp.XXXXXX";
	const char *from = cfg->from;
	int rc = ND_EXIT_OK, fd;

	if (!in) {
		fprintf(stderr, "netdx doctor: out of memory\n");
		return ND_EXIT_INPUT;
	}
	if (cfg->from) {
		struct stat st;

		if (stat(cfg->from, &st) < 0 || !S_ISDIR(st.st_mode)) {
			fprintf(stderr, "netdx doctor: --from %s: not a directory\n", cfg->from);
			rc = ND_EXIT_INPUT;
			goto out;
		}
		rc = load_dir(in, cfg->from, l);
		goto diag;
	}
	for (size_t i = 0; i < l->nnetns; i++)
		nd_dx_add_netns(in, l->netns[i], 0);
	{
		const char *files[] = { cfg->capture, cfg->drops, cfg->counters, cfg->bench };
		const char *names[] = { "--capture", "--drops", "--counters", "--bench" };

		for (int s = 0; s < ND_DX_NSRC; s++) {
			if (files[s] && !exists(files[s])) {
				fprintf(stderr, "netdx doctor: %s %s: cannot open: %s\n", names[s], files[s],
					strerror(errno));
				rc = ND_EXIT_INPUT;
				goto out;
			}
			if (!files[s]) {
				snprintf(in->missing[s], ND_DX_TEXT, "no %s file given", names[s]);
				continue;
			}
			if (s == ND_DX_SRC_TCP) {
				nd_dx_add_capture(in, files[s], "");
				if (is_capture(files[s])) {
					fd = mkstemp(tmp);
					if (fd < 0) {
						fprintf(stderr, "netdx doctor: cannot make a temporary file: %s\n",
							strerror(errno));
						rc = ND_EXIT_INPUT;
						goto out;
					}
					close(fd);
					if (tcp_offline(files[s], tmp)) {
						fprintf(stderr, "netdx doctor: --capture %s: netdx tcp could not "
							"read it\n", files[s]);
						unlink(tmp);
						rc = ND_EXIT_INPUT;
						goto out;
					}
					rc = load_one(in, ND_DX_SRC_TCP, 0, tmp);
					unlink(tmp);
				} else {
					rc = load_one(in, ND_DX_SRC_TCP, 0, files[s]);
				}
			} else {
				rc = load_one(in, (enum nd_dx_src)s, 0, files[s]);
			}
			if (rc)
				goto out;
		}
	}
	from = cfg->capture ? cfg->capture : cfg->counters ? cfg->counters : cfg->drops;
diag:
	if (rc == ND_EXIT_OK)
		rc = diagnose_and_print(in, cfg, from, false);
out:
	nd_dx_input_free(in);
	return rc;
}

static int run_live(const struct doc_cfg *cfg, const struct lists *l, char **workload)
{
	struct nd_dx_live_cap caps[ND_DX_CAP_MAX];
	struct nd_dx_live_cfg lc;
	struct nd_dx_live_res res;
	struct nd_dx_input *in = NULL;
	struct live_ns ns = { .n = 0 };
	char dir[PATH_MAX], exe[PATH_MAX], filter[4096] = "";
	bool made_tmp = false, own_ns_cap = false;
	struct sigaction sa;
	ssize_t n;
	int rc = ND_EXIT_OK, k;

	memset(caps, 0, sizeof(caps));
	if (l->niface && !have_cap(CAP_NET_RAW_BIT)) {
		fprintf(stderr, "netdx doctor: capturing on -i %s needs CAP_NET_RAW (run as root), "
			"or diagnose recordings with --from DIR\n", l->iface[0]);
		return ND_EXIT_PERM;
	}
	for (size_t i = 0; i < l->nnetns; i++) {
		k = ns_open(&ns, l->netns[i], "--netns");
		if (k < 0) {
			rc = -k;
			goto out;
		}
	}
	for (size_t i = 0; i < ns.n; i++) {
		if (ns.fd[i] >= 0 && !have_cap(CAP_SYS_ADMIN_BIT)) {
			fprintf(stderr, "netdx doctor: --netns %s: entering namespaces needs "
				"CAP_SYS_ADMIN (run as root)\n", ns.name[i]);
			rc = ND_EXIT_PERM;
			goto out;
		}
	}
	for (size_t i = 0; i < l->niface; i++) {
		char *slash = strchr(l->iface[i], '/');
		const char *name = slash ? slash + 1 : l->iface[i];
		int found = -2;

		if (slash) {
			*slash = '\0';
			k = ns_open(&ns, l->iface[i], "-i");
			*slash = '/';
			if (k < 0) {
				rc = -k;
				goto out;
			}
			if (ns.fd[k] >= 0 && !have_cap(CAP_SYS_ADMIN_BIT)) {
				fprintf(stderr, "netdx doctor: -i %s: entering a namespace needs "
					"CAP_SYS_ADMIN (run as root)\n", l->iface[i]);
				rc = ND_EXIT_PERM;
				goto out;
			}
			if (iface_in(ns.fd[k], name) == 1)
				found = k;
		} else if (iface_in(-1, name) == 1) {
			found = -1;
		} else {
			for (size_t j = 0; j < ns.n && found == -2; j++)
				if (iface_in(ns.fd[j], name) == 1)
					found = (int)j;
		}
		if (found == -2 || !*name || strlen(name) >= IFNAMSIZ) {
			fprintf(stderr, "netdx doctor: -i %s: no such interface %s (give NETNS/IFACE, or "
				"name its namespace with --netns)\n", l->iface[i],
				slash ? "in that namespace" : "here or in the --netns namespaces");
			rc = ND_EXIT_INPUT;
			goto out;
		}
		caps[i].iface = name;
		caps[i].netns = found >= 0 && ns.fd[found] >= 0 ? ns.name[found] : "";
		caps[i].nsfd = found >= 0 ? ns.fd[found] : -1;
		if (caps[i].nsfd < 0)
			own_ns_cap = true;
	}

	/* what the counters look at: the namespaces named (and those of the
	 * captures, and our own if we capture here), or everything */
	if (l->nnetns) {
		for (size_t i = 0; i < ns.n; i++)
			snprintf(filter + strlen(filter), sizeof(filter) - strlen(filter), "%s%s",
				 *filter ? "," : "", ns.name[i]);
		if (own_ns_cap && ns_index(&ns, "host") < 0)
			snprintf(filter + strlen(filter), sizeof(filter) - strlen(filter), ",host");
	}

	in = nd_dx_input_new();
	if (!in) {
		fprintf(stderr, "netdx doctor: out of memory\n");
		rc = ND_EXIT_INPUT;
		goto out;
	}
	if (l->nnetns) {
		for (size_t i = 0; i < ns.n; i++)
			nd_dx_add_netns(in, ns.name[i], ns.ino[i]);
		if (own_ns_cap)
			nd_dx_add_netns(in, "host", 0);
	}
	for (size_t i = 0; i < l->niface; i++)
		nd_dx_add_capture(in, caps[i].iface, caps[i].netns);

	if (cfg->save) {
		if (mkdir(cfg->save, 0755) < 0 && errno != EEXIST) {
			fprintf(stderr, "netdx doctor: --save %s: cannot make it: %s\n", cfg->save,
				strerror(errno));
			rc = ND_EXIT_INPUT;
			goto out;
		}
		snprintf(dir, sizeof(dir), "%s", cfg->save);
	} else {
		snprintf(dir, sizeof(dir), "/tmp/netdx-doctor.XXXXXX");
		if (!mkdtemp(dir)) {
			fprintf(stderr, "netdx doctor: cannot make a directory for the recordings: %s\n",
				strerror(errno));
			rc = ND_EXIT_INPUT;
			goto out;
		}
		made_tmp = true;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		fprintf(stderr, "netdx doctor: cannot find my own binary: %s\n", strerror(errno));
		rc = ND_EXIT_INPUT;
		goto out;
	}
	exe[n] = '\0';

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	lc = (struct nd_dx_live_cfg){
		.exe = exe,
		.dir = dir,
		.duration = cfg->duration,
		.netns_filter = *filter ? filter : NULL,
		.cap = caps,
		.ncap = l->niface,
		.drop_flows = !cfg->no_drop_flows,
		.workload = workload,
		.stop = &stop_signal,
		.verbose = !cfg->quiet,
	};
	rc = nd_dx_live_run(&lc, &res);
	if (rc < 0) {
		fprintf(stderr, "netdx doctor: cannot start the collectors: %s\n", strerror(-rc));
		rc = ND_EXIT_INPUT;
		goto out;
	}
	if (res.workload_ran && res.workload_status != 0 && !cfg->quiet)
		fprintf(stderr, "netdx doctor: the workload exited with %d (its stderr: %s/workload.err%s)\n",
			res.workload_status, dir, made_tmp ? ", removed; use --save to keep it" : "");
	rc = write_meta(dir, in, &lc, &res, cfg->duration);
	if (rc < 0) {
		fprintf(stderr, "netdx doctor: cannot write %s/meta.json: %s\n", dir, strerror(-rc));
		rc = ND_EXIT_INPUT;
		goto out;
	}
	nd_dx_input_free(in);
	in = nd_dx_input_new();
	if (!in) {
		rc = ND_EXIT_INPUT;
		goto out;
	}
	rc = load_dir(in, dir, l);
	if (rc == ND_EXIT_OK) {
		if (!res.interrupted)
			in->duration_s = res.window_s > 0 ? res.window_s : cfg->duration;
		rc = diagnose_and_print(in, cfg, NULL, res.interrupted);
	}
	if (cfg->save && !cfg->quiet)
		fprintf(stderr, "netdx doctor: recordings kept in %s (netdx doctor --from %s)\n", dir, dir);
out:
	if (made_tmp)
		remove_dir(dir);
	nd_dx_input_free(in);
	for (size_t i = 0; i < ns.n; i++) {
		if (ns.fd[i] >= 0)
			close(ns.fd[i]);
		free(ns.name[i]);
	}
	return rc;
}

/* -i and --netns repeat: print the whole lists, not the last value. */
static void print_config(const struct doc_cfg *cfg, const struct lists *l)
{
	char ifs[ND_DX_CAP_MAX * 80] = "", nss[MAX_LIST * 80] = "";
	struct doc_cfg c = *cfg;

	for (size_t i = 0; i < l->niface; i++)
		snprintf(ifs + strlen(ifs), sizeof(ifs) - strlen(ifs), "%s%s", i ? "," : "", l->iface[i]);
	for (size_t i = 0; i < l->nnetns; i++)
		snprintf(nss + strlen(nss), sizeof(nss) - strlen(nss), "%s%s", i ? "," : "", l->netns[i]);
	c.iface_opt = ifs;
	c.netns_opt = nss;
	nd_opt_print(stderr, doc_opts, &c);
}

int cmd_doctor_main(int argc, char **argv)
{
	struct doc_cfg cfg = { .duration = 10 };
	struct lists l;
	bool offline;
	int first, rc;

	memset(&l, 0, sizeof(l));
	rc = nd_opt_parse("doctor", doc_opts, &cfg, argc, argv, &first);
	if (rc > 0) {
		cmd_doctor_usage(stdout);
		return ND_EXIT_OK;
	}
	if (rc < 0)
		return ND_EXIT_USAGE;
	lists(argc, argv, &l);
	if (l.over) {
		fprintf(stderr, "netdx doctor: -i takes at most %d interfaces and --netns %d namespaces\n",
			ND_DX_CAP_MAX, MAX_LIST);
		rc = ND_EXIT_USAGE;
		goto out;
	}
	offline = cfg.from || cfg.capture || cfg.counters || cfg.drops || cfg.bench;
	if (cfg.print_config)
		print_config(&cfg, &l);
	if (cfg.demo) {
		if (offline || l.niface || first < argc) {
			fprintf(stderr, "netdx doctor: --demo runs a whole scenario: give it alone "
				"(with --json at most)\n");
			rc = ND_EXIT_USAGE;
		} else {
			rc = run_demo(&cfg);
		}
		goto out;
	}
	if (cfg.from && (cfg.capture || cfg.counters || cfg.drops || cfg.bench)) {
		fprintf(stderr, "netdx doctor: --from DIR reads every recording in DIR: do not add "
			"--capture, --counters, --drops or --bench\n");
		rc = ND_EXIT_USAGE;
		goto out;
	}
	if (offline && (l.niface || cfg.save || first < argc || cfg.no_drop_flows)) {
		fprintf(stderr, "netdx doctor: -i, --save, --no-drop-flows and a workload are for a live "
			"run, not with --from/--capture/--counters/--drops/--bench\n");
		rc = ND_EXIT_USAGE;
		goto out;
	}
	if (first < argc && strcmp(argv[first - 1], "--") != 0) {
		fprintf(stderr, "netdx doctor: unexpected argument '%s': put a workload after -- "
			"(netdx doctor [options] -- netdx bench rr HOST ...)\n", argv[first]);
		rc = ND_EXIT_USAGE;
		goto out;
	}
	if (offline)
		rc = run_offline(&cfg, &l);
	else
		rc = run_live(&cfg, &l, first < argc ? &argv[first] : NULL);
out:
	lists_free(&l);
	return rc;
}
