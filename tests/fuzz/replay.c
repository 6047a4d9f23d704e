/* SPDX-License-Identifier: MIT */
/*
 * replay: run saved fuzz inputs through a libFuzzer target without
 * libFuzzer, so the corpus is a regression test in the ordinary suite
 * (built with sanitizers, a past crash crashes again).
 *
 *   replay_decode CORPUS_DIR [FILE ...]
 *
 * Every argument is a directory (each regular file directly in it is an
 * input; no recursion; dot files are skipped) or a single file. Output is
 * TAP, one test point per argument:
 *   ok 1 - replayed 57 inputs from tests/fuzz/corpus/decode
 * An argument that is missing, unreadable or an empty directory is a
 * "not ok" and the exit status is 1: a missing corpus fails loudly.
 * Works with any target that defines LLVMFuzzerTestOneInput (and,
 * optionally, LLVMFuzzerInitialize).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Run one file through the target; 0 on success, -1 (message in err) if
 * it cannot be read. */
static int replay_file(const char *path, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf;
	long sz;
	size_t n;

	if (!fp) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fseek(fp, 0, SEEK_END) != 0 || (sz = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0) {
		snprintf(err, errlen, "%s: cannot size file", path);
		fclose(fp);
		return -1;
	}
	/* Exactly sz bytes on the heap, so ASan sees reads past the input. */
	buf = malloc(sz ? (size_t)sz : 1);
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		fclose(fp);
		return -1;
	}
	n = fread(buf, 1, (size_t)sz, fp);
	fclose(fp);
	if (n != (size_t)sz) {
		snprintf(err, errlen, "%s: short read", path);
		free(buf);
		return -1;
	}
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

/* Replay every regular file in dir; number of inputs, or -1. */
static long replay_dir(const char *dir, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	long count = 0;

	if (!d) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		char path[4096];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path))
			continue;
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (replay_file(path, err, errlen) != 0) {
			closedir(d);
			return -1;
		}
		count++;
	}
	closedir(d);
	if (count == 0)
		snprintf(err, errlen, "%s: no inputs", dir);
	return count;
}

int main(int argc, char **argv)
{
	int failed = 0, t = 0;
	char err[4200];

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	if (argc < 2) {
		printf("not ok 1 - no corpus directory or file given\n1..1\n");
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		long n;

		err[0] = '\0';
		t++;
		if (stat(argv[i], &st) != 0) {
			printf("not ok %d - %s: %s\n", t, argv[i], strerror(errno));
			failed = 1;
			continue;
		}
		if (S_ISDIR(st.st_mode))
			n = replay_dir(argv[i], err, sizeof(err));
		else
			n = replay_file(argv[i], err, sizeof(err)) == 0 ? 1 : -1;
		if (n <= 0) {
			printf("not ok %d - %s\n", t, err);
			failed = 1;
		} else {
			printf("ok %d - replayed %ld inputs from %s\n", t, n, argv[i]);
		}
		fflush(stdout);
	}
	printf("1..%d\n", t);
	return failed;
}
