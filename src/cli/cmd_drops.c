/* SPDX-License-Identifier: MIT */
/* netdx drops: placeholder until the issue lands. */
#include "cli/cmd.h"

void cmd_drops_usage(FILE *f)
{
	fprintf(f, "usage: netdx drops (not built yet)\n");
}

int cmd_drops_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "netdx drops: not built yet\n");
	return ND_EXIT_USAGE;
}
