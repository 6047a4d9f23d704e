/* SPDX-License-Identifier: MIT */
/*
 * run: the collectors of a live `netdx doctor` as child processes of the
 * same binary (run.h has the order and the signal rules).
 */
#include "doctor/run.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ND_DX_READY_S 30.0      /* a collector that is not ready by then is given up */
#define ND_DX_EVENT_RATE 2000   /* drops --event-rate: drop events a second per CPU, at most */
#define ND_DX_STOP_S 15.0       /* after SIGINT, before SIGKILL */

enum kind { K_DROPS, K_TCP, K_COUNTERS, K_WORKLOAD };

struct child {
	enum kind kind;
	int cap;
	pid_t pid;
	bool running;
	int status;             /* exit code, 128 + signal */
	char out[PATH_MAX], err[PATH_MAX];
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap(void)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

/* Start @argv with stdout in c->out and stderr in c->err, inside @nsfd
 * (-1: our own namespace); @path: search PATH (the workload). */
static int spawn(struct child *c, char *const *argv, int nsfd, bool path)
{
	pid_t parent = getpid(), pid;
	int out, err, nul;

	out = open(c->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0)
		return -errno;
	err = open(c->err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (err < 0) {
		int e = -errno;

		close(out);
		return e;
	}
	nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
	pid = fork();
	if (pid < 0) {
		int e = -errno;

		close(out);
		close(err);
		if (nul >= 0)
			close(nul);
		return e;
	}
	if (pid == 0) {
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(125);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if (dup2(out, STDOUT_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0)
			_exit(126);
		if (nul >= 0)
			dup2(nul, STDIN_FILENO);
		if (nsfd >= 0 && setns(nsfd, CLONE_NEWNET) < 0) {
			dprintf(STDERR_FILENO, "netdx doctor: cannot enter the namespace: %s\n",
				strerror(errno));
			_exit(126);
		}
		if (path)
			execvp(argv[0], argv);
		else
			execv(argv[0], argv);
		dprintf(STDERR_FILENO, "netdx doctor: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(out);
	close(err);
	if (nul >= 0)
		close(nul);
	setpgid(pid, pid);      /* also here: no race with a signal sent right away */
	c->pid = pid;
	c->running = true;
	return 0;
}

/* Start @argv as ch[*n]: stdout in @dir/@out, stderr in @dir/@base.err. */
static int start(struct child *ch, size_t *n, enum kind kind, int cap, const char *dir,
		 const char *out, const char *base, char *const *argv, int nsfd, bool path)
{
	struct child *c = &ch[*n];
	int rc;

	c->kind = kind;
	c->cap = cap;
	snprintf(c->out, PATH_MAX, "%s/%s", dir, out);
	snprintf(c->err, PATH_MAX, "%s/%s.err", dir, base);
	rc = spawn(c, argv, nsfd, path);
	if (rc == 0)
		(*n)++;
	return rc;
}

static void reap(struct child *ch, size_t n)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (size_t i = 0; i < n; i++) {
			if (ch[i].pid != pid || !ch[i].running)
				continue;
			ch[i].running = false;
			ch[i].status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
	}
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : 0;
}

static bool file_has(const char *path, const char *needle)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

/* The first line of @path (a child's stderr), for a message. */
static void first_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	buf[0] = '\0';
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

static bool ready(const struct child *c)
{
	if (!c->running)
		return true;    /* it ended: nothing to wait for */
	switch (c->kind) {
	case K_TCP:
		return file_has(c->err, "capturing on");
	case K_DROPS:
	case K_COUNTERS:
		return file_size(c->out) > 0;
	default:
		return true;
	}
}

/* Wait until every child in @ch[from, n) is ready; false if *stop. */
static bool wait_ready(struct child *ch, size_t n, size_t from, volatile sig_atomic_t *stop)
{
	double until = now_s() + ND_DX_READY_S;

	for (;;) {
		bool all = true;

		reap(ch, n);
		for (size_t i = from; i < n; i++)
			all = all && ready(&ch[i]);
		if (all || now_s() > until)
			return true;
		if (*stop)
			return false;
		nap();
	}
}

/* @sig to a child's process group (a workload may be a script with
 * children of its own), or to the child alone if that fails. */
static void sig_child(const struct child *c, int sig)
{
	if (kill(-c->pid, sig) < 0)
		kill(c->pid, sig);
}

static void signal_all(struct child *ch, size_t n, int sig)
{
	for (size_t i = 0; i < n; i++)
		if (ch[i].running)
			sig_child(&ch[i], sig);
}

/* SIGINT to those of @mask still running, then wait (SIGKILL after
 * ND_DX_STOP_S). */
static void stop_children(struct child *ch, size_t n, unsigned mask)
{
	double until = now_s() + ND_DX_STOP_S;
	bool any;

	for (size_t i = 0; i < n; i++)
		if (ch[i].running && (mask & (1u << ch[i].kind)))
			sig_child(&ch[i], SIGINT);
	do {
		reap(ch, n);
		any = false;
		for (size_t i = 0; i < n; i++)
			any = any || (ch[i].running && (mask & (1u << ch[i].kind)));
		if (any && now_s() > until) {
			for (size_t i = 0; i < n; i++)
				if (ch[i].running && (mask & (1u << ch[i].kind)))
					sig_child(&ch[i], SIGKILL);
			until = now_s() + ND_DX_STOP_S;
		}
		if (any)
			nap();
	} while (any);
}

static void say_missing(const struct child *c, char *out)
{
	char line[200];

	if (c->status == 0)
		return;
	first_line(c->err, line, sizeof(line));
	snprintf(out, ND_DX_TEXT, "exit %d%s%s", c->status, *line ? ": " : "", line);
}

int nd_dx_live_run(const struct nd_dx_live_cfg *cfg, struct nd_dx_live_res *res)
{
	struct child ch[ND_DX_CAP_MAX + 3];
	char dur_long[32], dur[32], exe[PATH_MAX];
	size_t n = 0, i_ctr, i_wl = SIZE_MAX;
	double t0, until;
	int rc = 0;

	memset(res, 0, sizeof(*res));
	memset(ch, 0, sizeof(ch));
	res->workload_status = -1;
	snprintf(exe, sizeof(exe), "%s", cfg->exe);
	snprintf(dur, sizeof(dur), "%g", cfg->duration);
	snprintf(dur_long, sizeof(dur_long), "%g", cfg->duration + 2 * ND_DX_READY_S + 60);

	/* drops first: loading its programs takes the longest. By flow, with
	 * every drop also as an event (time, place, flow) for the timing join,
	 * at most ~ND_DX_EVENT_RATE a second per CPU (the rest counted), none
	 * for the benign reasons the diagnosis ignores anyway. */
	{
		char rate[24];
		char *argv[] = { exe, "drops", "--duration", dur_long, "--json", "--interval", "0",
				 "--flows", "--events", "--event-rate", rate, "--event-skip", "benign",
				 NULL };

		snprintf(rate, sizeof(rate), "%d", ND_DX_EVENT_RATE);
		if (!cfg->drop_flows)
			argv[7] = NULL;

		rc = start(ch, &n, K_DROPS, 0, cfg->dir, "drops.ndjson", "drops", argv, -1, false);
		if (rc < 0)
			goto out;
	}
	for (size_t k = 0; k < cfg->ncap; k++) {
		char *argv[] = { exe, "tcp", "-i", (char *)cfg->cap[k].iface, "--duration", dur_long,
				 "--json", "--snaplen", "256", "--buffer-size", "32M", NULL };

		char out[32], base[32];

		snprintf(out, sizeof(out), "tcp-%zu.ndjson", k);
		snprintf(base, sizeof(base), "tcp-%zu", k);
		rc = start(ch, &n, K_TCP, (int)k, cfg->dir, out, base, argv, cfg->cap[k].nsfd, false);
		if (rc < 0)
			goto out;
	}
	if (cfg->verbose)
		fprintf(stderr, "netdx doctor: starting drops and %zu capture%s\n", cfg->ncap,
			cfg->ncap == 1 ? "" : "s");
	if (!wait_ready(ch, n, 0, cfg->stop))
		goto interrupted;
	{
		char *argv[] = { exe, "counters", "delta", "--interval", dur, "--count", "1", "--json",
				 "--all", "--no-correlation", cfg->netns_filter ? "--netns" : NULL,
				 (char *)cfg->netns_filter, NULL };

		i_ctr = n;
		rc = start(ch, &n, K_COUNTERS, 0, cfg->dir, "counters.ndjson", "counters", argv, -1,
			   false);
		if (rc < 0)
			goto out;
	}
	if (!wait_ready(ch, n, i_ctr, cfg->stop))
		goto interrupted;
	t0 = now_s();
	if (cfg->workload) {
		i_wl = n;
		if (cfg->verbose)
			fprintf(stderr, "netdx doctor: collectors ready; running the workload (%s)\n",
				cfg->workload[0]);
		rc = start(ch, &n, K_WORKLOAD, 0, cfg->dir, "bench.json", "workload", cfg->workload,
			   -1, true);
		if (rc < 0)
			goto out;
		res->workload_ran = true;
	} else if (cfg->verbose) {
		fprintf(stderr, "netdx doctor: collectors ready; collecting for %g s\n", cfg->duration);
	}

	/* the window: until the counters' second reading (or the duration, if
	 * the counters failed and ended early) */
	while (ch[i_ctr].running ||
	       (ch[i_ctr].status != 0 && now_s() < t0 + cfg->duration)) {
		reap(ch, n);
		if (*cfg->stop)
			goto interrupted;
		nap();
	}
	res->window_s = now_s() - t0;
	/* the workload, bounded */
	until = now_s() + ND_DX_WORKLOAD_GRACE;
	while (i_wl != SIZE_MAX && ch[i_wl].running && now_s() < until && !*cfg->stop) {
		reap(ch, n);
		nap();
	}
	stop_children(ch, n, 1u << K_WORKLOAD);
	stop_children(ch, n, 1u << K_DROPS | 1u << K_TCP);
	goto done;

interrupted:
	res->interrupted = true;
	res->window_s = 0;
	stop_children(ch, n, ~0u);
done:
	for (size_t i = 0; i < n; i++) {
		switch (ch[i].kind) {
		case K_DROPS:
			say_missing(&ch[i], res->missing[ND_DX_SRC_DROPS]);
			break;
		case K_COUNTERS:
			say_missing(&ch[i], res->missing[ND_DX_SRC_COUNTERS]);
			break;
		case K_TCP:
			say_missing(&ch[i], res->cap_missing[ch[i].cap]);
			break;
		case K_WORKLOAD:
			res->workload_status = ch[i].status;
			break;
		}
	}
	return 0;
out:
	signal_all(ch, n, SIGINT);
	stop_children(ch, n, ~0u);
	return rc;
}
