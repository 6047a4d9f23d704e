/* SPDX-License-Identifier: MIT */
/*
 * emu_topo_driver: a stand-in for `netdx emu topo` until the CLI has it,
 * for tests/scenarios/emu_topo.sh. Same arguments as the CLI:
 *
 *   emu_topo_driver emu topo up NAME [--mtu N] [--subnet 10.X.Y.0]
 *   emu_topo_driver emu topo down NAME
 *   emu_topo_driver emu topo get NAME
 *
 * up and get print the topology, one line per namespace and interface.
 * Exit 0 on success, 1 on failure (one line on stderr), 2 on bad usage.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/topo.h"

static int usage(void)
{
	fprintf(stderr, "usage: emu_topo_driver emu topo up NAME [--mtu N] [--subnet 10.X.Y.0]\n"
			"       emu_topo_driver emu topo down|get NAME\n");
	return 2;
}

static void print(const struct nd_emu_topo *t)
{
	char a[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &t->subnet, a, sizeof(a));
	printf("topology %s subnet %s/24 mtu %u\n", t->name, a, t->mtu);
	for (int i = 0; i < ND_EMU_NS_COUNT; i++)
		printf("ns %s\n", t->ns[i]);
	for (int k = 0; k < ND_EMU_IF_COUNT; k++) {
		const struct nd_emu_iface *f = &t->ifs[k];
		inet_ntop(AF_INET, &f->addr, a, sizeof(a));
		printf("if %s ns %s ifindex %d mac %02x:%02x:%02x:%02x:%02x:%02x addr %s/%u "
		       "mtu %u%s%s\n",
		       f->name, t->ns[f->ns], f->ifindex, f->mac[0], f->mac[1], f->mac[2],
		       f->mac[3], f->mac[4], f->mac[5], a, f->prefixlen, f->mtu,
		       f->up ? " up" : "", f->promisc ? " promisc" : "");
	}
}

int main(int argc, char **argv)
{
	if (argc < 5 || strcmp(argv[1], "emu") || strcmp(argv[2], "topo"))
		return usage();
	const char *cmd = argv[3], *name = argv[4];
	char err[256] = "";
	struct nd_emu_topo t;
	int rc;
	if (!strcmp(cmd, "up")) {
		struct nd_emu_topo_cfg cfg = { 0 };
		for (int i = 5; i < argc; i++) {
			if (!strcmp(argv[i], "--mtu") && i + 1 < argc) {
				char *end;
				unsigned long v = strtoul(argv[++i], &end, 10);
				if (*end || v > 65535)
					return usage();
				cfg.mtu = (unsigned)v;
			} else if (!strcmp(argv[i], "--subnet") && i + 1 < argc) {
				if (inet_pton(AF_INET, argv[++i], &cfg.subnet) != 1)
					return usage();
			} else {
				return usage();
			}
		}
		rc = nd_emu_topo_up(name, &cfg, &t, err, sizeof(err));
		if (rc == 0)
			print(&t);
	} else if (!strcmp(cmd, "down") && argc == 5) {
		rc = nd_emu_topo_down(name, err, sizeof(err));
	} else if (!strcmp(cmd, "get") && argc == 5) {
		rc = nd_emu_topo_get(name, &t, err, sizeof(err));
		if (rc == 0)
			print(&t);
	} else {
		return usage();
	}
	if (rc < 0) {
		fprintf(stderr, "emu_topo_driver: %s\n", err[0] ? err : strerror(-rc));
		return 1;
	}
	return 0;
}
