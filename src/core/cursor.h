/* SPDX-License-Identifier: MIT */
/*
 * cursor: a bounds-checked reader over one captured frame, in the spirit of
 * tcpdump's extract.h GET_ macros.
 *
 * A cursor is a window [p, p + len) of readable bytes plus a position off
 * (always <= len). Every wire field is read through the getters below at a
 * position relative to off. The getters are bounds-checked and never touch
 * a byte at or past len: an out-of-range read returns 0 (and a copy
 * zero-fills). They do not report the failure, so a decoder first asks
 * nd_cur_has() for the whole header it is about to read and turns a "no"
 * into its own error value; the check inside each getter is then a second
 * line of defence that the compiler folds away after inlining.
 *
 * Multi-byte fields are assembled byte by byte (no unaligned or
 * type-punned loads), in network (big-endian) order unless the name says
 * le. Header-only: everything is static inline.
 */
#ifndef NETDX_CORE_CURSOR_H
#define NETDX_CORE_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct nd_cur {
	const uint8_t *p;  /* first readable byte */
	uint32_t len;      /* readable bytes at p */
	uint32_t off;      /* current position, 0 <= off <= len */
};

static inline void nd_cur_init(struct nd_cur *c, const uint8_t *p, uint32_t len)
{
	c->p = p;
	c->len = p ? len : 0;
	c->off = 0;
}

/* Bytes left from the current position. */
static inline uint32_t nd_cur_avail(const struct nd_cur *c)
{
	return c->len - c->off;
}

/* Are n bytes readable at the current position? */
static inline bool nd_cur_has(const struct nd_cur *c, uint32_t n)
{
	return n <= c->len - c->off;
}

/* Are n bytes readable at off + at? (No overflow for any at, n.) */
static inline bool nd_cur_has_at(const struct nd_cur *c, uint32_t at, uint32_t n)
{
	uint32_t avail = c->len - c->off;

	return at <= avail && n <= avail - at;
}

/* Advance by n bytes; false (and no move) if fewer than n are left. */
static inline bool nd_cur_skip(struct nd_cur *c, uint32_t n)
{
	if (!nd_cur_has(c, n))
		return false;
	c->off += n;
	return true;
}

static inline uint8_t nd_cur_u8(const struct nd_cur *c, uint32_t at)
{
	if (!nd_cur_has_at(c, at, 1))
		return 0;
	return c->p[c->off + at];
}

static inline uint16_t nd_cur_be16(const struct nd_cur *c, uint32_t at)
{
	const uint8_t *q;

	if (!nd_cur_has_at(c, at, 2))
		return 0;
	q = c->p + c->off + at;
	return (uint16_t)(((uint16_t)q[0] << 8) | q[1]);
}

static inline uint32_t nd_cur_be24(const struct nd_cur *c, uint32_t at)
{
	const uint8_t *q;

	if (!nd_cur_has_at(c, at, 3))
		return 0;
	q = c->p + c->off + at;
	return ((uint32_t)q[0] << 16) | ((uint32_t)q[1] << 8) | (uint32_t)q[2];
}

static inline uint32_t nd_cur_be32(const struct nd_cur *c, uint32_t at)
{
	const uint8_t *q;

	if (!nd_cur_has_at(c, at, 4))
		return 0;
	q = c->p + c->off + at;
	return ((uint32_t)q[0] << 24) | ((uint32_t)q[1] << 16) |
	       ((uint32_t)q[2] << 8) | (uint32_t)q[3];
}

static inline uint32_t nd_cur_le32(const struct nd_cur *c, uint32_t at)
{
	const uint8_t *q;

	if (!nd_cur_has_at(c, at, 4))
		return 0;
	q = c->p + c->off + at;
	return ((uint32_t)q[3] << 24) | ((uint32_t)q[2] << 16) |
	       ((uint32_t)q[1] << 8) | (uint32_t)q[0];
}

/* Copy n bytes at off + at into dst; zero-fills dst and returns false if
 * they are not all readable. */
static inline bool nd_cur_copy(const struct nd_cur *c, uint32_t at, void *dst, uint32_t n)
{
	if (!nd_cur_has_at(c, at, n)) {
		memset(dst, 0, n);
		return false;
	}
	memcpy(dst, c->p + c->off + at, n);
	return true;
}

/* A new cursor over the bytes [off + at, off + at + n) of c, cut to what
 * is readable (possibly empty). */
static inline struct nd_cur nd_cur_sub(const struct nd_cur *c, uint32_t at, uint32_t n)
{
	struct nd_cur s;
	uint32_t avail = c->len - c->off;

	if (at > avail)
		at = avail;
	if (n > avail - at)
		n = avail - at;
	s.p = c->p ? c->p + c->off + at : c->p;
	s.len = n;
	s.off = 0;
	return s;
}

#endif
