/* SPDX-License-Identifier: MIT */
/*
 * opt: command-line options declared once, as a table bound to the fields
 * of a config struct. The same table drives parsing (getopt_long), range
 * checks with messages that name the option, the --help text and the
 * printing of the effective configuration.
 */
#ifndef NETDX_CLI_OPT_H
#define NETDX_CLI_OPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum nd_opt_type {
	ND_OPT_FLAG,     /* bool, no argument */
	ND_OPT_U64,      /* uint64_t, decimal with optional k/M/G (x1000) suffix */
	ND_OPT_BYTES,    /* uint64_t, with optional k/K/M/G suffix (x1024) */
	ND_OPT_SECONDS,  /* double, seconds, may be fractional */
	ND_OPT_STRING,   /* const char * */
};

struct nd_opt {
	const char *name;       /* long name without dashes */
	int short_name;         /* 0 for none */
	enum nd_opt_type type;
	size_t offset;          /* offsetof(config, field) */
	const char *arg;        /* argument name in help, e.g. "N" */
	const char *help;
	double min, max;        /* inclusive range for numbers (ignored if both 0) */
};

#define ND_OPT_END { NULL, 0, ND_OPT_FLAG, 0, NULL, NULL, 0, 0 }

/*
 * nd_opt_parse - parse argv against @opts, storing into @cfg. Positional
 * arguments are left in argv[*first_pos .. argc). Returns 0, 1 when
 * --help was given (help printed to stdout), or -1 after printing a
 * one-line error naming @cmd and the option to stderr.
 */
int nd_opt_parse(const char *cmd, const struct nd_opt *opts, void *cfg, int argc, char **argv,
		 int *first_pos);

/* nd_opt_help - print the option list of @opts to @f. */
void nd_opt_help(FILE *f, const struct nd_opt *opts);

/* nd_opt_print - print "name=value" for every option of @opts as set in
 * @cfg, one per line, so a run can be reproduced. */
void nd_opt_print(FILE *f, const struct nd_opt *opts, const void *cfg);

/* Parse helpers, shared with other option parsers. 0 or -1. */
int nd_parse_u64(const char *s, bool binary, uint64_t *out);
int nd_parse_seconds(const char *s, double *out);

#endif
