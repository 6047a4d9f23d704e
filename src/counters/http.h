/* SPDX-License-Identifier: MIT */
/*
 * http: the /metrics endpoint of `netdx counters serve`, on libmicrohttpd
 * (one internal polling thread, so scrapes are served one at a time).
 *
 * The listening socket is made here (so a failed bind gives its errno),
 * then handed to the daemon. GET or HEAD /metrics calls the render
 * function, in the daemon's thread, for each scrape; / answers with a
 * pointer to /metrics; anything else is 404, other methods 405.
 */
#ifndef NETDX_COUNTERS_HTTP_H
#define NETDX_COUNTERS_HTTP_H

#include <stdint.h>
#include <sys/socket.h>

#include "counters/prom.h"

/* Fill @out with the exposition. 0, or -errno (answered with 500). */
typedef int (*nd_http_render_fn)(void *ctx, struct nd_buf *out);

struct nd_http;

/* nd_http_start - listen on @sa and serve. -errno (EADDRINUSE, EACCES for
 * a port below 1024 without CAP_NET_BIND_SERVICE, ...), -EIO when the
 * daemon would not start. */
int nd_http_start(const struct sockaddr *sa, socklen_t salen, nd_http_render_fn fn, void *ctx,
		  struct nd_http **out);

/* The port actually bound (useful with port 0 in tests). */
int nd_http_port(const struct nd_http *h);

/* Scrapes answered, and how many of them failed. */
void nd_http_counts(struct nd_http *h, uint64_t *scrapes, uint64_t *failed);

/* nd_http_stop - stop serving, wait for the thread, close. Accepts NULL. */
void nd_http_stop(struct nd_http *h);

#endif
