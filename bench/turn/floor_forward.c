/* The floor for relaying (issue #3 §7): a datagram forwarder shaped like a
 * TURN relay over UDP and nothing else. A ChannelData message (RFC 8656
 * §12.4) from a client goes out, without its 4-byte header, from a relay
 * socket of that client's own to the one peer; what the peer sends to a
 * relay socket goes back to its client behind a ChannelData header. The
 * first datagram from a new client address opens its relay socket. No
 * allocation, no authentication, no permission, no channel table, no
 * timers: recvmmsg, a hash lookup, sendmmsg.
 *
 * usage: turn_floor_forward LISTEN_ADDR:PORT PEER_ADDR:PORT [--threads N]
 * Each thread has its own SO_REUSEPORT listening socket, epoll set and
 * relay sockets. IPv4 only. Runs until SIGTERM or SIGINT. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bt_common.h"

#define BATCH 64
#define DGRAM_MAX 2048
#define THREADS_MAX 8
#define RELAYS_MAX 16384 /* per thread; the hash has twice as many slots */
#define HASH_SLOTS (2 * RELAYS_MAX)

typedef struct relay {
	int fd;
	uint16_t channel;            /* network order, as the client sent it */
	struct sockaddr_in client;
} relay;

typedef struct forwarder {
	pthread_t thread;
	int listen_fd;
	int epoll_fd;
	struct sockaddr_in peer;
	int relay_count;
	relay *relays;               /* RELAYS_MAX */
	int32_t *slots;              /* HASH_SLOTS: relay index + 1, 0 empty */
	uint8_t (*bufs)[DGRAM_MAX];  /* BATCH */
} forwarder;

static uint32_t client_hash(const struct sockaddr_in *a)
{
	uint64_t k = ((uint64_t)a->sin_addr.s_addr << 16) | a->sin_port;
	k *= 0x9E3779B97F4A7C15ull;
	return (uint32_t)(k >> 40) % HASH_SLOTS;
}

/* The relay of client, opened on first sight; NULL when full. */
static relay *relay_for(forwarder *f, const struct sockaddr_in *client, uint16_t channel)
{
	uint32_t h = client_hash(client);
	for (;; h = (h + 1) % HASH_SLOTS) {
		int32_t s = f->slots[h];
		if (!s)
			break;
		relay *r = &f->relays[s - 1];
		if (r->client.sin_port == client->sin_port &&
		    r->client.sin_addr.s_addr == client->sin_addr.s_addr)
			return r;
	}
	if (f->relay_count == RELAYS_MAX)
		return NULL;
	struct sockaddr_in any = {.sin_family = AF_INET, .sin_addr = client->sin_addr};
	any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = bt_udp_socket(AF_INET, (struct sockaddr *)&any, sizeof any,
			       (struct sockaddr *)&f->peer, sizeof f->peer, false);
	if (fd < 0)
		return NULL;
	relay *r = &f->relays[f->relay_count];
	*r = (relay){.fd = fd, .channel = channel, .client = *client};
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)f->relay_count + 1};
	if (epoll_ctl(f->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		return NULL;
	}
	f->relay_count++;
	f->slots[h] = f->relay_count;
	return r;
}

static void send_all(int fd, struct mmsghdr *msgs, int count)
{
	int done = 0;
	while (done < count) {
		int s = sendmmsg(fd, msgs + done, (unsigned)(count - done), 0);
		if (s <= 0)
			return; /* a full buffer drops the rest: the client counts loss */
		done += s;
	}
}

/* Client -> peer: strip the ChannelData header, send from the relay. */
static void forward_from_clients(forwarder *f)
{
	struct sockaddr_in from[BATCH];
	struct iovec iov[BATCH];
	struct mmsghdr rx[BATCH], tx[BATCH];
	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){f->bufs[i], DGRAM_MAX};
		rx[i].msg_hdr = (struct msghdr){.msg_name = &from[i],
						.msg_namelen = sizeof from[i],
						.msg_iov = &iov[i],
						.msg_iovlen = 1};
	}
	int n = recvmmsg(f->listen_fd, rx, BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return;
	int run = 0;
	relay *run_relay = NULL;
	for (int i = 0; i < n; i++) {
		const uint8_t *b = f->bufs[i];
		size_t len = rx[i].msg_len;
		if (len < 4 || (b[0] & 0xF0) != 0x40)
			continue;
		size_t data_len = (size_t)b[2] << 8 | b[3];
		if (data_len > len - 4)
			continue;
		uint16_t channel;
		memcpy(&channel, b, 2);
		relay *r = relay_for(f, &from[i], channel);
		if (!r)
			continue;
		if (r != run_relay && run) {
			send_all(run_relay->fd, tx, run);
			run = 0;
		}
		run_relay = r;
		iov[i] = (struct iovec){f->bufs[i] + 4, data_len};
		tx[run].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
		run++;
	}
	if (run)
		send_all(run_relay->fd, tx, run);
}

/* Peer -> client: receive behind room for the header, write it, send. */
static void forward_to_client(forwarder *f, relay *r)
{
	struct iovec iov[BATCH];
	struct mmsghdr rx[BATCH];
	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){f->bufs[i] + 4, DGRAM_MAX - 4};
		rx[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
	}
	int n = recvmmsg(r->fd, rx, BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return;
	for (int i = 0; i < n; i++) {
		uint8_t *b = f->bufs[i];
		uint16_t len = htons((uint16_t)rx[i].msg_len);
		memcpy(b, &r->channel, 2);
		memcpy(b + 2, &len, 2);
		iov[i] = (struct iovec){b, rx[i].msg_len + 4};
		rx[i].msg_hdr = (struct msghdr){.msg_name = &r->client,
						.msg_namelen = sizeof r->client,
						.msg_iov = &iov[i],
						.msg_iovlen = 1};
	}
	send_all(f->listen_fd, rx, n);
}

static void *forwarder_main(void *arg)
{
	forwarder *f = arg;
	struct epoll_event evs[BATCH];
	for (;;) {
		int n = epoll_wait(f->epoll_fd, evs, BATCH, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("turn_floor_forward: epoll_wait");
			return NULL;
		}
		for (int i = 0; i < n; i++) {
			uint64_t id = evs[i].data.u64;
			if (id == 0)
				forward_from_clients(f);
			else
				forward_to_client(f, &f->relays[id - 1]);
		}
	}
	return NULL;
}

static int forwarder_init(forwarder *f, const struct sockaddr_in *listen_addr,
			  const struct sockaddr_in *peer)
{
	memset(f, 0, sizeof *f);
	f->peer = *peer;
	f->relays = calloc(RELAYS_MAX, sizeof *f->relays);
	f->slots = calloc(HASH_SLOTS, sizeof *f->slots);
	f->bufs = calloc(BATCH, DGRAM_MAX);
	f->listen_fd = bt_udp_socket(AF_INET, (const struct sockaddr *)listen_addr,
				     sizeof *listen_addr, NULL, 0, true);
	f->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (!f->relays || !f->slots || !f->bufs || f->listen_fd < 0 || f->epoll_fd < 0)
		return -1;
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0};
	return epoll_ctl(f->epoll_fd, EPOLL_CTL_ADD, f->listen_fd, &ev);
}

int main(int argc, char **argv)
{
	if (argc < 3 || strcmp(argv[1], "--help") == 0) {
		fprintf(stderr, "usage: turn_floor_forward LISTEN_ADDR:PORT PEER_ADDR:PORT "
				"[--threads N]\n");
		return argc < 3 ? 2 : 0;
	}
	int threads = 1;
	if (argc == 5 && strcmp(argv[3], "--threads") == 0)
		threads = atoi(argv[4]);
	if (threads < 1 || threads > THREADS_MAX) {
		fprintf(stderr, "turn_floor_forward: --threads must be 1..%d\n", THREADS_MAX);
		return 2;
	}
	struct sockaddr_storage listen_addr, peer;
	socklen_t len;
	if (bt_parse_sockaddr(argv[1], &listen_addr, &len) < 0 || listen_addr.ss_family != AF_INET ||
	    bt_parse_sockaddr(argv[2], &peer, &len) < 0 || peer.ss_family != AF_INET) {
		fprintf(stderr, "turn_floor_forward: bad IPv4 address\n");
		return 2;
	}
	bt_raise_nofile(65536);
	static forwarder fs[THREADS_MAX];
	for (int i = 0; i < threads; i++) {
		if (forwarder_init(&fs[i], (struct sockaddr_in *)&listen_addr,
				   (struct sockaddr_in *)&peer) < 0) {
			fprintf(stderr, "turn_floor_forward: %s: %s\n", argv[1], strerror(errno));
			return 2;
		}
	}
	for (int i = 0; i < threads; i++) {
		if (pthread_create(&fs[i].thread, NULL, forwarder_main, &fs[i]) != 0) {
			fprintf(stderr, "turn_floor_forward: cannot start a thread\n");
			return 2;
		}
	}
	for (int i = 0; i < threads; i++)
		pthread_join(fs[i].thread, NULL);
	return 1;
}
