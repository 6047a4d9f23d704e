/* crr_ref.c - reference TCP connect/request/response/close (CRR) load, to
 * compare `netdx bench crr` with: the plainest fast implementation, one
 * blocking socket per thread, no event loop.
 *
 *   crr_ref server BIND PORT [THREADS=2] [REQ=64] [RESP=64]
 *       THREADS threads block in accept() on one listening socket (backlog
 *       4096); each connection: read REQ bytes, write RESP bytes, close
 *       (the server closes first, as netdx bench server does in crr).
 *       Runs until killed.
 *   crr_ref client HOST PORT SECONDS [CONC=1] [REQ=64] [RESP=64]
 *       CONC threads, each a loop for SECONDS: connect, write REQ bytes, read
 *       until EOF (RESP bytes expected), close. Prints one line:
 *       "transactions N seconds S cps X failures F mean_us M".
 *
 * Build: cc -O2 -pthread -o crr_ref crr_ref.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static size_t req_len = 64, resp_len = 64;
static struct sockaddr_in addr;
static int listen_fd;
static double stop_at;
static atomic_long n_ok, n_fail;
static atomic_llong lat_ns;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int read_n(int fd, char *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static int write_n(int fd, const char *buf, size_t n)
{
	size_t put = 0;
	while (put < n) {
		ssize_t r = write(fd, buf + put, n - put);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		put += (size_t)r;
	}
	return 0;
}

static void *serve(void *arg)
{
	(void)arg;
	char *buf = calloc(1, req_len > resp_len ? req_len : resp_len);
	int one = 1;
	if (!buf)
		return NULL;
	for (;;) {
		int fd = accept(listen_fd, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE)
				continue;
			perror("accept");
			break;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (read_n(fd, buf, req_len) == 0)
			write_n(fd, buf, resp_len);
		close(fd);
	}
	free(buf);
	return NULL;
}

static void *client(void *arg)
{
	(void)arg;
	char *buf = calloc(1, (req_len > resp_len ? req_len : resp_len) + 1);
	int one = 1;
	long ok = 0, fail = 0;
	long long ns = 0;
	if (!buf)
		return NULL;
	while (now() < stop_at) {
		double t0 = now();
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0) {
			fail++;
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		int good = connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0 &&
			   write_n(fd, buf, req_len) == 0 && read_n(fd, buf, resp_len) == 0;
		if (good) { /* the server closes: expect EOF */
			char c;
			ssize_t r;
			while ((r = read(fd, &c, 1)) < 0 && errno == EINTR)
				;
			good = r == 0;
		}
		close(fd);
		if (good) {
			ok++;
			ns += (long long)((now() - t0) * 1e9);
		} else {
			fail++;
		}
	}
	atomic_fetch_add(&n_ok, ok);
	atomic_fetch_add(&n_fail, fail);
	atomic_fetch_add(&lat_ns, ns);
	free(buf);
	return NULL;
}

static int usage(void)
{
	fprintf(stderr, "usage: crr_ref server BIND PORT [THREADS] [REQ] [RESP]\n"
			"       crr_ref client HOST PORT SECONDS [CONC] [REQ] [RESP]\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 4)
		return usage();
	addr.sin_family = AF_INET;
	addr.sin_port = htons((unsigned short)atoi(argv[3]));
	if (inet_pton(AF_INET, argv[2], &addr.sin_addr) != 1)
		return usage();
	if (strcmp(argv[1], "server") == 0) {
		int threads = argc > 4 ? atoi(argv[4]) : 2, one = 1;
		if (argc > 5)
			req_len = (size_t)atol(argv[5]);
		if (argc > 6)
			resp_len = (size_t)atol(argv[6]);
		if (threads < 1 || threads > 256 || req_len < 1 || resp_len < 1)
			return usage();
		listen_fd = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&addr, sizeof addr) ||
		    listen(listen_fd, 4096)) {
			perror("crr_ref server");
			return 1;
		}
		pthread_t t[256];
		for (int i = 0; i < threads; i++)
			pthread_create(&t[i], NULL, serve, NULL);
		for (int i = 0; i < threads; i++)
			pthread_join(t[i], NULL);
		return 1;
	}
	if (strcmp(argv[1], "client") == 0 && argc >= 5) {
		double secs = atof(argv[4]);
		int conc = argc > 5 ? atoi(argv[5]) : 1;
		if (argc > 6)
			req_len = (size_t)atol(argv[6]);
		if (argc > 7)
			resp_len = (size_t)atol(argv[7]);
		if (secs <= 0 || conc < 1 || conc > 4096 || req_len < 1 || resp_len < 1)
			return usage();
		pthread_t *t = calloc((size_t)conc, sizeof *t);
		if (!t)
			return 1;
		double t0 = now();
		stop_at = t0 + secs;
		for (int i = 0; i < conc; i++)
			pthread_create(&t[i], NULL, client, NULL);
		for (int i = 0; i < conc; i++)
			pthread_join(t[i], NULL);
		double el = now() - t0;
		long ok = atomic_load(&n_ok);
		printf("transactions %ld seconds %.3f cps %.1f failures %ld mean_us %.1f\n", ok, el,
		       ok / el, atomic_load(&n_fail), ok ? atomic_load(&lat_ns) / 1e3 / ok : 0.0);
		free(t);
		return 0;
	}
	return usage();
}
