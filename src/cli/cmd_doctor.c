/* SPDX-License-Identifier: MIT */
/* netdx doctor: placeholder until the issue lands. */
#include "cli/cmd.h"

void cmd_doctor_usage(FILE *f)
{
	fprintf(f, "usage: netdx doctor (not built yet)\n");
}

int cmd_doctor_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "netdx doctor: not built yet\n");
	return ND_EXIT_USAGE;
}
