/* SPDX-License-Identifier: MIT */
/*
 * http: /metrics over libmicrohttpd (see http.h).
 */
#include "counters/http.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

/* A scrape larger than this is a runaway (64 MiB; a host with 1000
 * namespaces gives about 40 MiB). */
#define MAX_BODY (64u << 20)

struct nd_http {
	struct MHD_Daemon *d;
	nd_http_render_fn fn;
	void *ctx;
	int port;
	pthread_mutex_t lock;
	uint64_t scrapes, failed;
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *ctype,
			     char *body, size_t len, bool owned)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (owned)
		r = MHD_create_response_from_buffer_with_free_callback(len, body, free);
	else
		r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_PERSISTENT);
	if (!r) {
		if (owned)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **req_cls)
{
	static char index_page[] = "netdx counters: the metrics are at /metrics\n";
	static char not_found[] = "not found: the metrics are at /metrics\n";
	static char bad_method[] = "only GET and HEAD\n";
	static char failed[] = "netdx could not read the counters; see its standard error\n";
	static const char text[] = "text/plain; charset=utf-8";
	struct nd_http *h = cls;
	struct nd_buf b;
	int rc;

	(void)version;
	(void)upload;
	/* The first call of a request only announces it. */
	if (!*req_cls) {
		*req_cls = h;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, text, bad_method, sizeof(bad_method) - 1, false);
	if (!strcmp(url, "/"))
		return reply(conn, MHD_HTTP_OK, text, index_page, sizeof(index_page) - 1, false);
	if (strcmp(url, "/metrics"))
		return reply(conn, MHD_HTTP_NOT_FOUND, text, not_found, sizeof(not_found) - 1, false);

	nd_buf_init(&b, MAX_BODY);
	pthread_mutex_lock(&h->lock);
	rc = h->fn(h->ctx, &b);
	h->scrapes++;
	if (rc < 0)
		h->failed++;
	pthread_mutex_unlock(&h->lock);
	if (rc < 0 || !b.p) {
		nd_buf_free(&b);
		return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, text, failed, sizeof(failed) - 1, false);
	}
	return reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", b.p, b.len, true);
}

int nd_http_start(const struct sockaddr *sa, socklen_t salen, nd_http_render_fn fn, void *ctx,
		  struct nd_http **out)
{
	struct nd_http *h = calloc(1, sizeof(*h));
	struct sockaddr_storage bound;
	socklen_t blen = sizeof(bound);
	int fd, one = 1, rc;

	if (!h)
		return -ENOMEM;
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		free(h);
		return rc;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, sa, salen) < 0 || listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&bound, &blen) < 0) {
		rc = -errno;
		close(fd);
		free(h);
		return rc;
	}
	h->port = bound.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&bound)->sin6_port)
					      : ntohs(((struct sockaddr_in *)&bound)->sin_port);
	h->fn = fn;
	h->ctx = ctx;
	pthread_mutex_init(&h->lock, NULL);
	h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_request, h,
				MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
				MHD_OPTION_END);
	if (!h->d) {
		close(fd);
		pthread_mutex_destroy(&h->lock);
		free(h);
		return -EIO;
	}
	*out = h;
	return 0;
}

int nd_http_port(const struct nd_http *h)
{
	return h->port;
}

void nd_http_counts(struct nd_http *h, uint64_t *scrapes, uint64_t *failed)
{
	pthread_mutex_lock(&h->lock);
	*scrapes = h->scrapes;
	*failed = h->failed;
	pthread_mutex_unlock(&h->lock);
}

void nd_http_stop(struct nd_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);      /* closes the listening socket */
	pthread_mutex_destroy(&h->lock);
	free(h);
}
