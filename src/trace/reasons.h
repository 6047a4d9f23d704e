/* SPDX-License-Identifier: MIT */
/*
 * reasons: drop-reason names from the kernel's own BTF, never from a
 * table of numbers (they differ between kernels).
 *
 * The core reasons are `enum skb_drop_reason` (SKB_DROP_REASON_X shown as
 * "X"). Subsystems (openvswitch, mac80211, ...) number their reasons
 * above SKB_DROP_REASON_SUBSYS_MASK's shift with the subsystem id of
 * `enum skb_drop_reason_subsys` in the high bits; their enums (named
 * "*_drop_reason", in vmlinux or in a module's BTF) are taken too and
 * shown by their enumerator names (e.g. "OVS_DROP_LAST_ACTION").
 * Reason values without a name are shown as "REASON_<n>" (core) or
 * "<SUBSYS>_<n>" (a known subsystem).
 */
#ifndef NETDX_TRACE_REASONS_H
#define NETDX_TRACE_REASONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct btf;
struct nd_reasons;

/*
 * nd_reasons_load - the table of the running kernel: vmlinux's BTF and
 * every module's (/sys/kernel/btf/\*). -ENOENT if vmlinux BTF is missing,
 * -ENOMSG if it has no enum skb_drop_reason, -errno otherwise.
 */
int nd_reasons_load(struct nd_reasons **out);

/* nd_reasons_from_btf - the same from @n BTF objects (tests). */
int nd_reasons_from_btf(struct nd_reasons **out, struct btf *const *btfs, size_t n);

void nd_reasons_free(struct nd_reasons *r);

/* Name of @value into @buf (see above); returns @buf. */
const char *nd_reasons_name(const struct nd_reasons *r, uint32_t value, char *buf, size_t len);

/* The subsystem of @value ("CORE", "OPENVSWITCH", ...), NULL if unknown. */
const char *nd_reasons_subsys(const struct nd_reasons *r, uint32_t value);

/*
 * nd_reasons_lookup - value of reason @name: case-insensitive, with or
 * without the SKB_DROP_REASON_ prefix, or a number. -ENOENT if unknown.
 */
int nd_reasons_lookup(const struct nd_reasons *r, const char *name, uint32_t *value);

/* Named reasons, in value order: the count and the i-th. */
size_t nd_reasons_count(const struct nd_reasons *r);
void nd_reasons_at(const struct nd_reasons *r, size_t i, uint32_t *value, const char **name);

/*
 * nd_reasons_is_qdisc - is @value a queueing-discipline drop (its name
 * starts with QDISC_, or names a qdisc: FQ_, CAKE_, DUALPI2_)?
 */
bool nd_reasons_is_qdisc(const struct nd_reasons *r, uint32_t value);

#endif
