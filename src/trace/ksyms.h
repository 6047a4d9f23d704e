/* SPDX-License-Identifier: MIT */
/*
 * ksyms: kernel addresses (the places where packets were dropped) turned
 * into "symbol+0xoffset" with /proc/kallsyms.
 *
 * Lazy and bounded: addresses are registered as they are seen
 * (nd_ksyms_want), and one streaming pass over a kallsyms file resolves
 * every pending address at once (nd_ksyms_resolve), so the kernel's
 * 100k+ symbols are never held in memory. At most @cap addresses are
 * kept; what does not fit is counted and shown as a bare address.
 * No I/O but the FILE the caller passes; no text but the names.
 */
#ifndef NETDX_TRACE_KSYMS_H
#define NETDX_TRACE_KSYMS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct nd_ksyms;

/* nd_ksyms_new - a cache of at most @cap addresses; NULL + errno. */
struct nd_ksyms *nd_ksyms_new(size_t cap);
void nd_ksyms_free(struct nd_ksyms *k);

/*
 * nd_ksyms_want - register @addr for resolution. 0 (also when already
 * known), -ENOSPC when the cache is full (counted, see nd_ksyms_overflow).
 */
int nd_ksyms_want(struct nd_ksyms *k, uint64_t addr);

/* Number of registered addresses not resolved yet. */
size_t nd_ksyms_pending(const struct nd_ksyms *k);

/*
 * nd_ksyms_resolve - read a kallsyms-format stream ("ADDR TYPE NAME
 * [module]" per line) and resolve every pending address to the nearest
 * text symbol at or below it. Returns the number resolved, -EPERM when
 * every address in the stream is zero (kptr_restrict hides them: needs
 * CAP_SYSLOG), -errno on a read error. Addresses below every symbol stay
 * unresolved (shown as numbers) and are not retried.
 */
int nd_ksyms_resolve(struct nd_ksyms *k, FILE *f);

/*
 * nd_ksyms_format - "name+0xoff" (or "name" at offset 0, "name+0xoff
 * [module]" for modules) for @addr into @buf; "0x<addr>" when unknown.
 * Returns @buf.
 */
const char *nd_ksyms_format(const struct nd_ksyms *k, uint64_t addr, char *buf, size_t len);

/* Addresses refused because the cache was full. */
uint64_t nd_ksyms_overflow(const struct nd_ksyms *k);

#endif
