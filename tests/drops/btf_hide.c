/* SPDX-License-Identifier: MIT */
/*
 * btf_hide IN OUT NAME...: a copy of the raw BTF file IN (e.g.
 * /sys/kernel/btf/vmlinux) in OUT, with the types named NAME replaced by
 * placeholders (type ids kept, so everything else still resolves). The
 * drops tests bind-mount it over /sys/kernel/btf/vmlinux in a private mount
 * namespace to make a kernel whose tp_btf targets cannot be found
 * (btf_trace_kfree_skb), so netdx drops must fall back to the classic
 * tracepoints by itself.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/btf.h>

static int hidden(const char *name, int argc, char **argv)
{
	for (int i = 3; i < argc; i++)
		if (name && !strcmp(name, argv[i]))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct btf *src, *dst;
	const void *raw;
	__u32 size, n;
	FILE *f;
	int rc = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: btf_hide IN OUT NAME...\n");
		return 2;
	}
	src = btf__parse_raw(argv[1]);
	dst = btf__new_empty();
	if (!src || !dst) {
		fprintf(stderr, "btf_hide: cannot read %s\n", argv[1]);
		return 1;
	}
	n = btf__type_cnt(src);
	for (__u32 id = 1; id < n && rc >= 0; id++) {
		const struct btf_type *t = btf__type_by_id(src, id);

		if (hidden(btf__name_by_offset(src, t->name_off), argc, argv))
			rc = btf__add_int(dst, "btf_hide_placeholder", 4, 0);
		else
			rc = btf__add_type(dst, src, t);
	}
	raw = rc >= 0 ? btf__raw_data(dst, &size) : NULL;
	f = raw ? fopen(argv[2], "w") : NULL;
	if (!f || fwrite(raw, 1, size, f) != size || fclose(f) != 0) {
		fprintf(stderr, "btf_hide: cannot write %s\n", argv[2]);
		return 1;
	}
	btf__free(dst);
	btf__free(src);
	return 0;
}
