/* SPDX-License-Identifier: MIT */
/*
 * run: the live collection of `netdx doctor`: the collectors as child
 * processes of the same binary, their NDJSON into files of one directory,
 * and optionally the workload.
 *
 *   drops     EXE drops --duration LONG --json [--flows]        drops.ndjson
 *   tcp       EXE tcp -i IFACE --duration LONG --json ...       tcp-N.ndjson
 *             (inside the interface's namespace: setns in the child)
 *   counters  EXE counters delta --interval D --count 1 --json --all
 *             [--netns LIST]                                    counters.ndjson
 *   workload  ARGV (execvp), once every collector is ready      bench.json
 *
 * The order makes the counters' interval the window: drops and the
 * captures start first and are ended with SIGINT once the counters' second
 * reading is done, so they cover the whole interval. The workload starts
 * when all collectors are ready and should end within the window; it is
 * waited for (at most ND_DX_WORKLOAD_GRACE s after the window), then
 * interrupted. Stderr of each goes to NAME.err beside its output.
 *
 * Children run in their own process group (a terminal's Ctrl-C reaches
 * only doctor, which forwards SIGINT once) and get SIGTERM if doctor dies
 * (PR_SET_PDEATHSIG). When *stop becomes non-zero (the caller's signal
 * handler), every child gets SIGINT and is waited for (at most 15 s, then
 * SIGKILL): drops detaches its programs, the captures report what they saw.
 *
 * Returns 0 (the collectors' own failures are reported in res->missing,
 * not as errors), or -errno when a child could not be started at all.
 */
#ifndef NETDX_DOCTOR_RUN_H
#define NETDX_DOCTOR_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "doctor/dx.h"

#define ND_DX_WORKLOAD_GRACE 30

struct nd_dx_live_cap {
	const char *iface;
	const char *netns;      /* NULL or "": doctor's own namespace */
	int nsfd;               /* open descriptor of the namespace, -1 for doctor's own */
};

struct nd_dx_live_cfg {
	const char *exe;        /* the netdx binary ("/proc/self/exe") */
	const char *dir;        /* where the recordings go (it exists) */
	double duration;
	const char *netns_filter;       /* counters --netns, NULL for every namespace */
	const struct nd_dx_live_cap *cap;
	size_t ncap;
	bool drop_flows;
	char *const *workload;  /* NULL-terminated argv, or NULL */
	volatile sig_atomic_t *stop;
	bool verbose;           /* progress on stderr */
};

struct nd_dx_live_res {
	char missing[ND_DX_NSRC][ND_DX_TEXT];   /* why a collector gave nothing */
	char cap_missing[ND_DX_CAP_MAX][ND_DX_TEXT];
	bool interrupted;
	bool workload_ran;
	int workload_status;    /* exit code, 128 + signal, or -1 */
	double window_s;        /* how long the counters' window was */
};

int nd_dx_live_run(const struct nd_dx_live_cfg *cfg, struct nd_dx_live_res *res);

#endif
