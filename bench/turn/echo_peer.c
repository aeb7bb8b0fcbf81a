/* The echo peer of the TURN benchmark: every datagram that reaches it is
 * sent back to where it came from, unchanged, with recvmmsg/sendmmsg.
 * A TURN relay is its only correspondent, so what the load generator
 * sends through an allocation comes back through it (RFC 8656 §11-§12).
 *
 * usage: turn_echo_peer ADDR:PORT [--threads N]
 * With N > 1 each thread has its own SO_REUSEPORT socket. Runs until
 * SIGTERM or SIGINT. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bt_common.h"

#define BATCH 64
#define DGRAM_MAX 2048
#define THREADS_MAX 8

typedef struct echo_thread {
	pthread_t thread;
	int fd;
} echo_thread;

static void *echo_main(void *arg)
{
	echo_thread *t = arg;
	static _Thread_local uint8_t bufs[BATCH][DGRAM_MAX];
	struct sockaddr_storage from[BATCH];
	struct iovec iov[BATCH];
	struct mmsghdr msgs[BATCH];
	for (;;) {
		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){bufs[i], DGRAM_MAX};
			msgs[i].msg_hdr = (struct msghdr){.msg_name = &from[i],
							  .msg_namelen = sizeof from[i],
							  .msg_iov = &iov[i],
							  .msg_iovlen = 1};
		}
		int n = recvmmsg(t->fd, msgs, BATCH, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			perror("turn_echo_peer: recvmmsg");
			return NULL;
		}
		for (int i = 0; i < n; i++)
			iov[i].iov_len = msgs[i].msg_len;
		int done = 0;
		while (done < n) {
			int s = sendmmsg(t->fd, msgs + done, (unsigned)(n - done), 0);
			if (s <= 0)
				break; /* a full buffer drops the rest: the sender counts loss */
			done += s;
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		fprintf(stderr, "usage: turn_echo_peer ADDR:PORT [--threads N]\n");
		return argc < 2 ? 2 : 0;
	}
	int threads = 1;
	if (argc == 4 && strcmp(argv[2], "--threads") == 0)
		threads = atoi(argv[3]);
	if (threads < 1 || threads > THREADS_MAX) {
		fprintf(stderr, "turn_echo_peer: --threads must be 1..%d\n", THREADS_MAX);
		return 2;
	}
	struct sockaddr_storage addr;
	socklen_t len;
	if (bt_parse_sockaddr(argv[1], &addr, &len) < 0) {
		fprintf(stderr, "turn_echo_peer: bad address %s\n", argv[1]);
		return 2;
	}
	echo_thread ts[THREADS_MAX];
	for (int i = 0; i < threads; i++) {
		ts[i].fd = bt_udp_socket(addr.ss_family, (struct sockaddr *)&addr, len, NULL, 0, true);
		if (ts[i].fd < 0) {
			fprintf(stderr, "turn_echo_peer: %s: %s\n", argv[1], strerror(errno));
			return 2;
		}
		/* Blocking: the thread sleeps in recvmmsg. */
		if (bt_set_blocking(ts[i].fd) < 0)
			return 2;
	}
	for (int i = 0; i < threads; i++) {
		if (pthread_create(&ts[i].thread, NULL, echo_main, &ts[i]) != 0) {
			fprintf(stderr, "turn_echo_peer: cannot start a thread\n");
			return 2;
		}
	}
	/* The threads never return on their own; the process ends on its
	 * signal's default action. */
	for (int i = 0; i < threads; i++)
		pthread_join(ts[i].thread, NULL);
	return 1;
}
