/* Helpers shared by the TURN benchmark programs (issue #3 §7): clocks,
 * another process's CPU time and RSS from /proc, loopback UDP sockets and
 * the file-descriptor limit. Nothing here touches a protocol. */
#ifndef ICELAB_BENCH_TURN_COMMON_H
#define ICELAB_BENCH_TURN_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t bt_now_ns(void);

/* utime + stime of a whole process (every thread), in clock ticks, from
 * /proc/PID/stat; -1 when it cannot be read. */
long long bt_proc_cpu_ticks(int pid);
/* Busy clock ticks of the whole machine (every state of the first line of
 * /proc/stat but idle and iowait): the load generator, the peer, the
 * server and softirq work charged to no process (ksoftirqd). -1 on error. */
long long bt_machine_busy_ticks(void);
/* Clock ticks per second (sysconf(_SC_CLK_TCK)). */
long bt_ticks_per_second(void);
/* VmRSS of /proc/PID/status in kB; -1 when it cannot be read. */
long long bt_proc_rss_kb(int pid);

/* Parses "a.b.c.d:port" or "[v6]:port" into a sockaddr; 0 or -1. */
int bt_parse_sockaddr(const char *text, struct sockaddr_storage *out, socklen_t *len);
/* A non-blocking UDP socket bound to bind_addr (NULL: the wildcard of
 * family, port 0), connected to peer when peer is not NULL. reuseport
 * sets SO_REUSEPORT before bind. Returns the fd or -1 (errno set). */
int bt_udp_socket(int family, const struct sockaddr *bind_addr, socklen_t bind_len,
		  const struct sockaddr *peer, socklen_t peer_len, bool reuseport);
/* Clears O_NONBLOCK; 0 or -1. */
int bt_set_blocking(int fd);
/* Raises RLIMIT_NOFILE's soft limit to want (and the hard one when
 * allowed); returns the soft limit in force afterwards. */
long bt_raise_nofile(long want);

#endif
