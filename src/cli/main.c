/* SPDX-License-Identifier: MIT */
/*
 * netdx: find out why traffic in a virtualised Linux network is slow or
 * lost, and where. One binary; subcommands are dispatched from the table
 * below, each in its own cmd_<name>.c.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "netdx_version.h"

struct subcommand {
	const char *name;
	int (*main)(int argc, char **argv);
	void (*usage)(FILE *f);
	const char *summary;
};

static const struct subcommand subcommands[] = {
	{ "tcp", cmd_tcp_main, cmd_tcp_usage,
	  "per-connection TCP report from capture files, stdin or a live interface" },
	{ "bench", cmd_bench_main, cmd_bench_usage,
	  "workloads (rr, crr, stream, bsp) with exact accounting, and their server" },
	{ "emu", cmd_emu_main, cmd_emu_usage,
	  "a bottleneck link between namespaces: rate, delay, buffer, loss, AQM" },
	{ "drops", cmd_drops_main, cmd_drops_usage,
	  "where and why the kernel drops packets (eBPF on tracepoints)" },
	{ "counters", cmd_counters_main, cmd_counters_usage,
	  "every drop and error counter, all namespaces: deltas, anomalies, /metrics" },
	{ "doctor", cmd_doctor_main, cmd_doctor_usage,
	  "runs counters, drops and TCP inference together and explains the cause" },
};

#define N_SUB (sizeof(subcommands) / sizeof(subcommands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: netdx <command> [options] [args]\n"
		   "       netdx help <command>\n"
		   "       netdx --version\n\n"
		   "netdx finds out why traffic in a virtualized Linux network is slow or lost,\n"
		   "and where.\n\ncommands:\n");
	for (size_t i = 0; i < N_SUB; i++)
		fprintf(f, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
	fprintf(f, "\nexit codes (all commands):\n"
		   "  0    success\n"
		   "  1    input error: missing or unreadable file, not a capture, unsupported link type,\n"
		   "       no such interface\n"
		   "  2    usage error: unknown option, bad value, bad filter expression\n"
		   "  3    truncated or corrupt capture: the report covers what was read\n"
		   "  4    missing privilege (the message names the capability needed)\n"
		   "  130  interrupted while reading files (live capture ends cleanly with 0)\n\n"
		   "Try 'netdx tcp --demo' for a report on the capture built into netdx.\n");
}

static const struct subcommand *find(const char *name)
{
	for (size_t i = 0; i < N_SUB; i++)
		if (strcmp(subcommands[i].name, name) == 0)
			return &subcommands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct subcommand *sc;

	if (argc < 2) {
		usage(stderr);
		return ND_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return ND_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V") || !strcmp(argv[1], "version")) {
		printf("netdx %s\n", NETDX_VERSION);
		return ND_EXIT_OK;
	}
	if (!strcmp(argv[1], "help")) {
		if (argc < 3) {
			usage(stdout);
			return ND_EXIT_OK;
		}
		sc = find(argv[2]);
		if (!sc) {
			fprintf(stderr, "netdx: no command '%s' (try 'netdx --help')\n", argv[2]);
			return ND_EXIT_USAGE;
		}
		sc->usage(stdout);
		return ND_EXIT_OK;
	}
	sc = find(argv[1]);
	if (!sc) {
		fprintf(stderr, "netdx: no command '%s' (try 'netdx --help')\n", argv[1]);
		return ND_EXIT_USAGE;
	}
	return sc->main(argc - 1, argv + 1);
}
