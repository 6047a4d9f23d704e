/* SPDX-License-Identifier: MIT */
/*
 * nd_test: a very small TAP test harness for netdx's unit tests.
 *
 *   static void test_something(void) { ND_CHECK(x == 1); ND_CHECK_EQ(a, b); }
 *   int main(void) { ND_RUN(test_something); return nd_test_done(); }
 *
 * Each ND_RUN is one TAP test point ("ok N - name" / "not ok N - name");
 * a failed check prints the expression, file and line as a TAP diagnostic
 * and marks the test failed (the test goes on, so one run shows all
 * failures). meson runs the binaries with protocol 'tap'.
 */
#ifndef NETDX_TEST_H
#define NETDX_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int nd_test_count, nd_test_failed_total, nd_test_cur_failed;

#define ND_CHECK(expr)                                                         \
	do {                                                                   \
		if (!(expr)) {                                                 \
			nd_test_cur_failed = 1;                                \
			printf("# FAIL %s:%d: %s\n", __FILE__, __LINE__, #expr); \
		}                                                              \
	} while (0)

#define ND_CHECK_EQ(a, b)                                                      \
	do {                                                                   \
		long long nd_a_ = (long long)(a), nd_b_ = (long long)(b);      \
		if (nd_a_ != nd_b_) {                                          \
			nd_test_cur_failed = 1;                                \
			printf("# FAIL %s:%d: %s == %s (%lld != %lld)\n",      \
			       __FILE__, __LINE__, #a, #b, nd_a_, nd_b_);      \
		}                                                              \
	} while (0)

#define ND_CHECK_STR(a, b)                                                     \
	do {                                                                   \
		const char *nd_a_ = (a), *nd_b_ = (b);                         \
		if (!nd_a_ || !nd_b_ || strcmp(nd_a_, nd_b_) != 0) {          \
			nd_test_cur_failed = 1;                                \
			printf("# FAIL %s:%d: %s == %s (\"%s\" != \"%s\")\n",  \
			       __FILE__, __LINE__, #a, #b,                     \
			       nd_a_ ? nd_a_ : "(null)",                       \
			       nd_b_ ? nd_b_ : "(null)");                      \
		}                                                              \
	} while (0)

#define ND_RUN(fn)                                                             \
	do {                                                                   \
		nd_test_cur_failed = 0;                                        \
		fn();                                                          \
		nd_test_count++;                                               \
		if (nd_test_cur_failed)                                        \
			nd_test_failed_total++;                                \
		printf("%s %d - %s\n", nd_test_cur_failed ? "not ok" : "ok",   \
		       nd_test_count, #fn);                                    \
		fflush(stdout);                                                \
	} while (0)

static inline int nd_test_done(void)
{
	printf("1..%d\n", nd_test_count);
	return nd_test_failed_total ? 1 : 0;
}

#endif
