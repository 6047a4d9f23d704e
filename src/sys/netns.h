/* SPDX-License-Identifier: MIT */
/*
 * netns: named network namespaces, compatible with iproute2.
 *
 * A namespace NAME is a bind mount of a namespace's nsfs inode on the file
 * /run/netns/NAME, exactly as `ip netns add NAME` makes it, so `ip netns
 * list`, `ip -n NAME` and `ip netns exec NAME` see ours and we see theirs.
 * Creating one never moves the calling thread: the new namespace is made by
 * a short-lived helper thread that unshares and bind-mounts its own
 * namespace, then exits.
 *
 * Work "inside" a namespace is done through file descriptors opened there:
 * nd_netns_socket() and nd_netns_open() switch the calling thread into the
 * namespace (setns), open, and switch back; sockets and /proc/sys/net files
 * stay bound to the namespace they were opened in. Everything else here
 * (ethtool offloads) builds on those.
 *
 * All functions return 0 (or a count / a descriptor where said) or -errno.
 * No text is made here.
 */
#ifndef NETDX_SYS_NETNS_H
#define NETDX_SYS_NETNS_H

#include <stddef.h>
#include <stdbool.h>
#include <sys/types.h>

/* Where iproute2 keeps its named namespaces. */
#define ND_NETNS_RUN_DIR "/run/netns"

/*
 * nd_netns_add - create namespace @name as `ip netns add` does: make
 * /run/netns (a shared mount, made one on first use), create the empty file
 * /run/netns/@name (-EEXIST if it is there) and bind-mount a new network
 * namespace on it. On failure nothing is left behind. @name must be a
 * plain file name (no '/', not "." or ".."): -EINVAL otherwise.
 */
int nd_netns_add(const char *name);

/*
 * nd_netns_del - remove namespace @name as `ip netns del` does: lazy
 * unmount and unlink of /run/netns/@name. The namespace itself lives on
 * while processes or sockets still use it. -ENOENT if @name is not there.
 * A leftover plain file (a run killed between create and mount) is removed
 * too.
 */
int nd_netns_del(const char *name);

/*
 * nd_netns_exists - 1 if /run/netns/@name exists (mounted or not), 0 if
 * not, -errno if it cannot be told.
 */
int nd_netns_exists(const char *name);

/*
 * nd_netns_open_fd - open namespace @name. Returns a close-on-exec
 * descriptor usable with setns() and as IFLA_NET_NS_FD, -ENOENT if there is
 * no such name, -ENOTRECOVERABLE if the file is there but holds no
 * namespace (a creation that was killed midway: delete it).
 */
int nd_netns_open_fd(const char *name);

/*
 * nd_netns_socket - socket(@domain, @type, @proto) created inside the
 * namespace @nsfd (-1: the caller's own). The calling thread enters the
 * namespace for the call and returns to its own namespace before this
 * returns; the socket stays in @nsfd. Returns the descriptor or -errno.
 */
int nd_netns_socket(int nsfd, int domain, int type, int proto);

/*
 * nd_netns_open - open(@path, @flags) with the calling thread inside @nsfd
 * (-1: the caller's own), e.g. a /proc/sys/net file of that namespace.
 * Returns the descriptor or -errno.
 */
int nd_netns_open(int nsfd, const char *path, int flags);

/*
 * nd_netns_sysctl - write @value to /proc/sys/@key (dots or slashes,
 * e.g. "net/ipv6/conf/all/disable_ipv6") in namespace @nsfd.
 */
int nd_netns_sysctl(int nsfd, const char *key, const char *value);

/*
 * nd_netns_pids - PIDs of processes any of whose threads is in namespace
 * @nsfd (the calling process excluded). Stores at most @cap of them in
 * @pids and returns how many there are (which may exceed @cap), or -errno.
 * Exited processes (zombies) have left their namespace and are not listed.
 */
int nd_netns_pids(int nsfd, pid_t *pids, size_t cap);

/*
 * nd_netns_offloads_off - turn off segmentation and receive-aggregation
 * offloads on interface @ifname in namespace @nsfd with SIOCETHTOOL
 * (ETHTOOL_SFEATURES, features found by name), so frames on the wire are
 * at most MTU-sized: every "tx-*-segmentation" feature (TSO in all its
 * variants, USO, GSO, tunnel segmentation) and GRO, GRO-HW, GRO-list, LRO.
 * Checksum offloads are left alone. -EOPNOTSUPP if TSO (v4, v6), GSO, GRO
 * or LRO stays on because the device will not turn it off (others are best
 * effort); -ENODEV if there is no such interface.
 */
int nd_netns_offloads_off(int nsfd, const char *ifname);

/* nd_netns_gro_set - GRO on or off on @ifname in @nsfd (ETHTOOL_SGRO). */
int nd_netns_gro_set(int nsfd, const char *ifname, bool on);

/*
 * nd_netns_sysfs_write - write @value to /sys/@relpath as seen from inside
 * namespace @nsfd (e.g. "class/net/r0/threaded"), through a child process
 * with a private mount namespace and its own sysfs mount.
 */
int nd_netns_sysfs_write(int nsfd, const char *relpath, const char *value);

#endif
