/* SPDX-License-Identifier: MIT */
/* netdx counters: placeholder until the issue lands. */
#include "cli/cmd.h"

void cmd_counters_usage(FILE *f)
{
	fprintf(f, "usage: netdx counters (not built yet)\n");
}

int cmd_counters_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "netdx counters: not built yet\n");
	return ND_EXIT_USAGE;
}
