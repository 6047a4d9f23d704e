/* SPDX-License-Identifier: MIT */
/* The subcommands: each lives in cmd_<name>.c and exports only these. */
#ifndef NETDX_CLI_CMD_H
#define NETDX_CLI_CMD_H

#include <stdio.h>

/* Exit codes, shared by every subcommand (documented in --help). */
enum {
	ND_EXIT_OK = 0,
	ND_EXIT_INPUT = 1,      /* missing/unreadable input, not a capture, unsupported link type */
	ND_EXIT_USAGE = 2,      /* bad option or value, bad filter expression */
	ND_EXIT_PARTIAL = 3,    /* truncated or corrupt capture: report covers what was read */
	ND_EXIT_PERM = 4,       /* missing privilege (the message names the capability) */
	ND_EXIT_INTERRUPTED = 130,
};

int cmd_tcp_main(int argc, char **argv);
void cmd_tcp_usage(FILE *f);
int cmd_bench_main(int argc, char **argv);
void cmd_bench_usage(FILE *f);
int cmd_emu_main(int argc, char **argv);
void cmd_emu_usage(FILE *f);
int cmd_drops_main(int argc, char **argv);
void cmd_drops_usage(FILE *f);
int cmd_counters_main(int argc, char **argv);
void cmd_counters_usage(FILE *f);
int cmd_doctor_main(int argc, char **argv);
void cmd_doctor_usage(FILE *f);

#endif
