/* SPDX-License-Identifier: MIT */
#include "report/json.h"

#include <math.h>

void nd_json_init(struct nd_json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->first[0] = true;
}

static void put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void key(struct nd_json *j, const char *k)
{
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
	if (k) {
		put_string(j->f, k);
		fputc(':', j->f);
	}
}

static void open_(struct nd_json *j, const char *k, char c)
{
	if (j->depth > 0 || k)
		key(j, k);
	fputc(c, j->f);
	if (j->depth < ND_JSON_DEPTH - 1)
		j->depth++;
	j->first[j->depth] = true;
}

static void close_(struct nd_json *j, char c)
{
	fputc(c, j->f);
	if (j->depth > 0)
		j->depth--;
}

void nd_json_obj_open(struct nd_json *j, const char *k) { open_(j, k, '{'); }
void nd_json_obj_close(struct nd_json *j) { close_(j, '}'); }
void nd_json_arr_open(struct nd_json *j, const char *k) { open_(j, k, '['); }
void nd_json_arr_close(struct nd_json *j) { close_(j, ']'); }

void nd_json_str(struct nd_json *j, const char *k, const char *v)
{
	key(j, k);
	if (v)
		put_string(j->f, v);
	else
		fputs("null", j->f);
}

void nd_json_u64(struct nd_json *j, const char *k, uint64_t v)
{
	key(j, k);
	fprintf(j->f, "%llu", (unsigned long long)v);
}

void nd_json_i64(struct nd_json *j, const char *k, int64_t v)
{
	key(j, k);
	fprintf(j->f, "%lld", (long long)v);
}

void nd_json_double(struct nd_json *j, const char *k, double v, int decimals)
{
	key(j, k);
	if (isfinite(v))
		fprintf(j->f, "%.*f", decimals, v);
	else
		fputs("null", j->f);
}

void nd_json_bool(struct nd_json *j, const char *k, bool v)
{
	key(j, k);
	fputs(v ? "true" : "false", j->f);
}

void nd_json_null(struct nd_json *j, const char *k)
{
	key(j, k);
	fputs("null", j->f);
}

void nd_json_endline(struct nd_json *j)
{
	fputc('\n', j->f);
	j->depth = 0;
	j->first[0] = true;
}
