/* SPDX-License-Identifier: MIT */
/*
 * json: a small streaming JSON writer (one object per line for NDJSON).
 * It keeps track of commas and nesting; strings are escaped per RFC 8259.
 * Writing needs no library: a DOM would only add an allocation per object
 * on the per-connection path. (Reading, in `netdx doctor`, uses json-c.)
 */
#ifndef NETDX_REPORT_JSON_H
#define NETDX_REPORT_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define ND_JSON_DEPTH 16

struct nd_json {
	FILE *f;
	int depth;
	bool first[ND_JSON_DEPTH];
};

void nd_json_init(struct nd_json *j, FILE *f);
/* Objects and arrays; @key is NULL inside arrays and at the top level. */
void nd_json_obj_open(struct nd_json *j, const char *key);
void nd_json_obj_close(struct nd_json *j);
void nd_json_arr_open(struct nd_json *j, const char *key);
void nd_json_arr_close(struct nd_json *j);
void nd_json_str(struct nd_json *j, const char *key, const char *val);   /* NULL -> null */
void nd_json_u64(struct nd_json *j, const char *key, uint64_t v);
void nd_json_i64(struct nd_json *j, const char *key, int64_t v);
void nd_json_double(struct nd_json *j, const char *key, double v, int decimals);
void nd_json_bool(struct nd_json *j, const char *key, bool v);
void nd_json_null(struct nd_json *j, const char *key);
/* End a top-level object's line. */
void nd_json_endline(struct nd_json *j);

#endif
