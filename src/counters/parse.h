/* SPDX-License-Identifier: MIT */
/*
 * parse: the text formats of the kernel's counter files, read into
 * (name, value) pairs. Pure: the caller reads the file (inside the right
 * namespace) and hands the bytes in; nothing here opens anything.
 *
 *   /proc/net/snmp, /proc/net/netstat   "Proto: Name1 Name2\nProto: v1 v2\n"
 *                                        pairs -> "Proto.Name1" = v1
 *   /proc/net/snmp6                      "Name value" lines
 *   /proc/net/softnet_stat               one row of hex words per online CPU
 *   /proc/net/stat/nf_conntrack          a header, then one row of hex
 *                                        words per CPU: summed over CPUs
 *
 * Each parser calls @emit once per value and returns 0, or -EPROTO when the
 * text is malformed (what came before the fault has been emitted).
 */
#ifndef NETDX_COUNTERS_PARSE_H
#define NETDX_COUNTERS_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * One value: @name (NUL-terminated, valid during the call), @value (a gauge
 * may be negative: cast from int64_t), @gauge, @cpu (softnet only, else 0).
 * A non-zero return stops the parse and is returned.
 */
typedef int (*nd_parse_emit)(void *ctx, const char *name, uint64_t value, bool gauge,
			     uint32_t cpu);

int nd_parse_snmp(const char *buf, size_t len, nd_parse_emit emit, void *ctx);
int nd_parse_snmp6(const char *buf, size_t len, nd_parse_emit emit, void *ctx);
int nd_parse_softnet(const char *buf, size_t len, nd_parse_emit emit, void *ctx);
/* The "entries" column (the table size, repeated on every row) is left
 * out: the collector reads nf_conntrack_count for it. */
int nd_parse_ct_stat(const char *buf, size_t len, nd_parse_emit emit, void *ctx);

/* nd_parse_u64_text - a decimal number alone on the text (a sysctl file):
 * leading/trailing white space allowed. 0 or -EPROTO. */
int nd_parse_u64_text(const char *buf, size_t len, uint64_t *out);

#endif
