/* SPDX-License-Identifier: MIT */
#include "cli/opt.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OPTS 64

int nd_parse_u64(const char *s, bool binary, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mult = 1, k = binary ? 1024 : 1000;

	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	if (*end) {
		switch (*end) {
		case 'k': case 'K': mult = k; break;
		case 'm': case 'M': mult = k * k; break;
		case 'g': case 'G': mult = k * k * k; break;
		default: return -1;
		}
		if (end[1] != '\0' && !(binary && (end[1] == 'B' || end[1] == 'b') && end[2] == '\0'))
			return -1;
	}
	if (v > UINT64_MAX / mult)
		return -1;
	*out = (uint64_t)v * mult;
	return 0;
}

int nd_parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v))
		return -1;
	if (strcmp(end, "ms") == 0)
		v /= 1000.0;
	else if (*end && strcmp(end, "s") != 0)
		return -1;
	*out = v;
	return 0;
}

static const char *type_hint(enum nd_opt_type t)
{
	switch (t) {
	case ND_OPT_U64: return "a whole number (k, M, G suffixes allowed)";
	case ND_OPT_BYTES: return "a size in bytes (K, M, G suffixes allowed)";
	case ND_OPT_SECONDS: return "a number of seconds (e.g. 2.5, or 500ms)";
	default: return "a value";
	}
}

static int store(const char *cmd, const struct nd_opt *o, void *cfg, const char *arg)
{
	char *field = (char *)cfg + o->offset;
	bool ranged = o->min != 0 || o->max != 0;
	double v = 0;

	switch (o->type) {
	case ND_OPT_FLAG:
		*(bool *)field = true;
		return 0;
	case ND_OPT_STRING:
		*(const char **)field = arg;
		return 0;
	case ND_OPT_U64:
	case ND_OPT_BYTES: {
		uint64_t u;
		if (nd_parse_u64(arg, o->type == ND_OPT_BYTES, &u) < 0)
			goto bad;
		*(uint64_t *)field = u;
		v = (double)u;
		break;
	}
	case ND_OPT_SECONDS:
		if (nd_parse_seconds(arg, &v) < 0)
			goto bad;
		*(double *)field = v;
		break;
	}
	if (ranged && (v < o->min || v > o->max)) {
		fprintf(stderr, "netdx %s: --%s %s is out of range (%g to %g)\n", cmd, o->name, arg,
			o->min, o->max);
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, "netdx %s: --%s wants %s, not '%s'\n", cmd, o->name, type_hint(o->type), arg);
	return -1;
}

int nd_opt_parse(const char *cmd, const struct nd_opt *opts, void *cfg, int argc, char **argv,
		 int *first_pos)
{
	struct option lo[MAX_OPTS + 2];
	char so[MAX_OPTS * 2 + 4];
	size_t n = 0, sl = 0;
	int c, idx;

	so[sl++] = ':';         /* report a missing argument as ':' */
	for (const struct nd_opt *o = opts; o->name && n < MAX_OPTS; o++, n++) {
		lo[n] = (struct option){ o->name, o->type == ND_OPT_FLAG ? no_argument : required_argument,
					 NULL, 0x100 + (int)n };
		if (o->short_name) {
			so[sl++] = (char)o->short_name;
			if (o->type != ND_OPT_FLAG)
				so[sl++] = ':';
		}
	}
	lo[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[n] = (struct option){ NULL, 0, NULL, 0 };
	so[sl++] = 'h';
	so[sl] = '\0';

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, so, lo, &idx)) != -1) {
		const struct nd_opt *o = NULL;

		if (c == 'h')
			return 1;
		if (c == '?') {
			if (optopt)
				fprintf(stderr, "netdx %s: unknown option -%c (see 'netdx help %s')\n", cmd,
					optopt, cmd);
			else
				fprintf(stderr, "netdx %s: unknown option %s (see 'netdx help %s')\n", cmd,
					argv[optind - 1], cmd);
			return -1;
		}
		if (c == ':') {
			fprintf(stderr, "netdx %s: option %s needs an argument (see 'netdx help %s')\n",
				cmd, argv[optind - 1], cmd);
			return -1;
		}
		if (c >= 0x100)
			o = &opts[c - 0x100];
		else
			for (const struct nd_opt *p = opts; p->name; p++)
				if (p->short_name == c)
					o = p;
		if (!o || store(cmd, o, cfg, optarg) < 0)
			return -1;
	}
	*first_pos = optind;
	return 0;
}

void nd_opt_help(FILE *f, const struct nd_opt *opts)
{
	for (const struct nd_opt *o = opts; o->name; o++) {
		char left[64];
		int w;

		if (o->short_name)
			w = snprintf(left, sizeof(left), "  -%c, --%s%s%s", o->short_name, o->name,
				     o->arg ? " " : "", o->arg ? o->arg : "");
		else
			w = snprintf(left, sizeof(left), "      --%s%s%s", o->name, o->arg ? " " : "",
				     o->arg ? o->arg : "");
		if (w < 26)
			fprintf(f, "%-26s%s\n", left, o->help);
		else
			fprintf(f, "%s\n%26s%s\n", left, "", o->help);
	}
}

void nd_opt_print(FILE *f, const struct nd_opt *opts, const void *cfg)
{
	for (const struct nd_opt *o = opts; o->name; o++) {
		const char *field = (const char *)cfg + o->offset;

		switch (o->type) {
		case ND_OPT_FLAG:
			fprintf(f, "%s=%s\n", o->name, *(const bool *)field ? "true" : "false");
			break;
		case ND_OPT_U64:
		case ND_OPT_BYTES:
			fprintf(f, "%s=%llu\n", o->name, (unsigned long long)*(const uint64_t *)field);
			break;
		case ND_OPT_SECONDS:
			fprintf(f, "%s=%g\n", o->name, *(const double *)field);
			break;
		case ND_OPT_STRING: {
			const char *s = *(const char *const *)field;
			fprintf(f, "%s=%s\n", o->name, s ? s : "");
			break;
		}
		}
	}
}
