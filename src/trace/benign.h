/* SPDX-License-Identifier: MIT */
/*
 * benign.h: the drop reasons that are normal operation, not a loss on the
 * path: a socket closing with data queued, duplicates of data already
 * received, frames for another host seen by a promiscuous device, a reset.
 * `netdx doctor` does not blame a place for them, and `netdx drops
 * --event-skip benign` sends no event for them (they are still counted).
 * Header only: both the doctor engine and the drops command use it.
 */
#ifndef NETDX_TRACE_BENIGN_H
#define NETDX_TRACE_BENIGN_H

#include <stdbool.h>
#include <string.h>

/* The names, NULL-terminated (names a kernel lacks are simply never seen). */
static inline const char *const *nd_benign_reasons(void)
{
	static const char *const names[] = {
		"QUEUE_PURGE", "SOCKET_CLOSE", "SOCKET_DESTROYED", "TCP_OLD_DATA",
		"TCP_OLD_SEQUENCE", "TCP_OLD_ACK", "TCP_TOO_OLD_ACK", "TCP_CLOSE", "OTHERHOST",
		"TCP_INVALID_SEQUENCE", "TCP_ACK_UNSENT_DATA", "DUP_FRAG", "SKB_CONSUMED",
		"PKT_TOO_SMALL", "TCP_RFC7323_PAWS", "TCP_RESET", NULL
	};

	return names;
}

static inline bool nd_reason_benign(const char *r)
{
	for (const char *const *n = nd_benign_reasons(); *n; n++)
		if (!strcmp(r, *n))
			return true;
	return false;
}

#endif
