/* SPDX-License-Identifier: MIT */
/* seq: TCP sequence-number comparisons, modulo 2^32 (RFC 793). */
#ifndef NETDX_TCP_SEQ_H
#define NETDX_TCP_SEQ_H

#include <stdbool.h>
#include <stdint.h>

static inline int32_t sdiff(uint32_t a, uint32_t b) { return (int32_t)(a - b); }
static inline bool slt(uint32_t a, uint32_t b) { return sdiff(a, b) < 0; }
static inline bool sle(uint32_t a, uint32_t b) { return sdiff(a, b) <= 0; }
static inline bool sgt(uint32_t a, uint32_t b) { return sdiff(a, b) > 0; }
static inline bool sge(uint32_t a, uint32_t b) { return sdiff(a, b) >= 0; }

#endif
