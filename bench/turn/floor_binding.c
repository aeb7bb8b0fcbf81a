/* The floor for STUN Binding (issue #3 §7): a responder that answers
 * Binding requests with recvmmsg/sendmmsg and nothing else. It checks the
 * message type and the magic cookie (RFC 8489 §5), writes a success
 * response with XOR-MAPPED-ADDRESS (§14.2) over IPv4, and sends the batch
 * back. No parsing of attributes, no integrity, no FINGERPRINT, no
 * SOFTWARE, no event loop: what the kernel costs on this machine.
 *
 * usage: turn_floor_binding ADDR:PORT [--threads N]
 * Each thread has its own SO_REUSEPORT socket (as `icelab serve
 * --workers N` does). Runs until SIGTERM or SIGINT. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bt_common.h"

#define BATCH 64
#define REQ_MAX 576
#define RESP_LEN 32
#define THREADS_MAX 8
#define MAGIC_COOKIE 0x2112A442u

typedef struct responder {
	pthread_t thread;
	int fd;
} responder;

/* Writes the success response to req into out; 0 when req is not an IPv4
 * Binding request with the magic cookie. */
static size_t answer_binding(const uint8_t *req, size_t len, const struct sockaddr_in *from,
			     uint8_t *out)
{
	uint32_t cookie = htonl(MAGIC_COOKIE);
	if (len < 20 || req[0] != 0x00 || req[1] != 0x01 || memcmp(req + 4, &cookie, 4) != 0 ||
	    from->sin_family != AF_INET)
		return 0;
	out[0] = 0x01;
	out[1] = 0x01;                   /* Binding success */
	out[2] = 0;
	out[3] = 12;                     /* one 12-byte attribute */
	memcpy(out + 4, req + 4, 16);    /* cookie and transaction id */
	out[20] = 0x00;
	out[21] = 0x20;                  /* XOR-MAPPED-ADDRESS */
	out[22] = 0;
	out[23] = 8;
	out[24] = 0;
	out[25] = 0x01;                  /* IPv4 */
	uint16_t xport = from->sin_port ^ htons(MAGIC_COOKIE >> 16);
	uint32_t xip = from->sin_addr.s_addr ^ cookie;
	memcpy(out + 26, &xport, 2);
	memcpy(out + 28, &xip, 4);
	return RESP_LEN;
}

static void *responder_main(void *arg)
{
	responder *r = arg;
	static _Thread_local uint8_t reqs[BATCH][REQ_MAX];
	static _Thread_local uint8_t resps[BATCH][RESP_LEN];
	struct sockaddr_in from[BATCH];
	struct iovec rx_iov[BATCH], tx_iov[BATCH];
	struct mmsghdr rx[BATCH], tx[BATCH];
	for (int i = 0; i < BATCH; i++)
		rx_iov[i] = (struct iovec){reqs[i], REQ_MAX};
	for (;;) {
		for (int i = 0; i < BATCH; i++)
			rx[i].msg_hdr = (struct msghdr){.msg_name = &from[i],
							.msg_namelen = sizeof from[i],
							.msg_iov = &rx_iov[i],
							.msg_iovlen = 1};
		int n = recvmmsg(r->fd, rx, BATCH, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("turn_floor_binding: recvmmsg");
			return NULL;
		}
		int out = 0;
		for (int i = 0; i < n; i++) {
			size_t len = answer_binding(reqs[i], rx[i].msg_len, &from[i], resps[out]);
			if (!len)
				continue;
			tx_iov[out] = (struct iovec){resps[out], len};
			tx[out].msg_hdr = (struct msghdr){.msg_name = &from[i],
							  .msg_namelen = sizeof from[i],
							  .msg_iov = &tx_iov[out],
							  .msg_iovlen = 1};
			out++;
		}
		int done = 0;
		while (done < out) {
			int s = sendmmsg(r->fd, tx + done, (unsigned)(out - done), 0);
			if (s <= 0)
				break;
			done += s;
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		fprintf(stderr, "usage: turn_floor_binding ADDR:PORT [--threads N]\n");
		return argc < 2 ? 2 : 0;
	}
	int threads = 1;
	if (argc == 4 && strcmp(argv[2], "--threads") == 0)
		threads = atoi(argv[3]);
	if (threads < 1 || threads > THREADS_MAX) {
		fprintf(stderr, "turn_floor_binding: --threads must be 1..%d\n", THREADS_MAX);
		return 2;
	}
	struct sockaddr_storage addr;
	socklen_t len;
	if (bt_parse_sockaddr(argv[1], &addr, &len) < 0 || addr.ss_family != AF_INET) {
		fprintf(stderr, "turn_floor_binding: bad IPv4 address %s\n", argv[1]);
		return 2;
	}
	responder rs[THREADS_MAX];
	for (int i = 0; i < threads; i++) {
		rs[i].fd = bt_udp_socket(AF_INET, (struct sockaddr *)&addr, len, NULL, 0, true);
		if (rs[i].fd < 0 || bt_set_blocking(rs[i].fd) < 0) {
			fprintf(stderr, "turn_floor_binding: %s: %s\n", argv[1], strerror(errno));
			return 2;
		}
	}
	for (int i = 0; i < threads; i++) {
		if (pthread_create(&rs[i].thread, NULL, responder_main, &rs[i]) != 0) {
			fprintf(stderr, "turn_floor_binding: cannot start a thread\n");
			return 2;
		}
	}
	for (int i = 0; i < threads; i++)
		pthread_join(rs[i].thread, NULL);
	return 1;
}
