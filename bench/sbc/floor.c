/* The floor for the SBC benchmark (issue #8 §7): the least an RTP
 * forwarder can do. Pairs of UDP sockets, one epoll set, recvmmsg and
 * sendmmsg batches; what arrives on one socket of a pair leaves from the
 * other, to the source address last seen on that other socket (symmetric
 * RTP, learnt from packets: no SDP, no SSRC check, no counters, no timers).
 *
 * usage: sbc_floor CTL_ADDR:PORT BIND_ADDR PORT_MIN PORT_MAX [COALESCE_US]
 * COALESCE_US (not used by the benchmark: an experiment for drivers) sleeps
 * that long after a wake-up that found few sockets ready, so that the next
 * one serves many: fewer wake-ups per packet at low rates, added latency.
 * Control, one UDP datagram each way (the load generator's "trivial setup"):
 *   "ping"       -> "pong"
 *   "new"        -> "PA PB"   a pair bound on BIND_ADDR:PA and BIND_ADDR:PB
 *   "del PA"     -> "ok"      closes the pair whose first port is PA
 * Runs until SIGTERM or SIGINT. IPv4 only. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../turn/bt_common.h"

#define BATCH 64
#define PKT_MAX 2048
#define EVENTS 256

/* Per file descriptor: its partner and the address learnt on it. */
typedef struct side {
	int other;                   /* fd of the other socket of the pair; -1 free */
	uint16_t port;
	bool learnt;
	struct sockaddr_in from;     /* last source seen on this socket */
} side;

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static side *sides;
static long sides_max;
static int ep;
static struct in_addr bind_ip;
static int port_min, port_max, port_next;

static uint8_t bufs[BATCH][PKT_MAX];
static struct mmsghdr in[BATCH], out[BATCH];
static struct iovec in_iov[BATCH], out_iov[BATCH];
static struct sockaddr_in in_from[BATCH];

/* A socket on the next free port of the range, in the epoll set. */
static int open_side(void)
{
	int span = port_max - port_min + 1;
	for (int tries = 0; tries < span; tries++) {
		int port = port_next;
		port_next = port_next == port_max ? port_min : port_next + 1;
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr = bind_ip,
					.sin_port = htons((uint16_t)port)};
		int fd = bt_udp_socket(AF_INET, (struct sockaddr *)&a, sizeof a, NULL, 0, false);
		if (fd < 0) {
			if (errno == EADDRINUSE)
				continue;
			return -1;
		}
		if (fd >= sides_max) {
			close(fd);
			errno = EMFILE;
			return -1;
		}
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			return -1;
		}
		sides[fd] = (side){.other = -1, .port = (uint16_t)port};
		return fd;
	}
	errno = EADDRNOTAVAIL;
	return -1;
}

static void close_side(int fd)
{
	sides[fd].other = -1;
	close(fd);  /* also leaves the epoll set */
}

static void control(int ctl)
{
	char req[64], rsp[64];
	struct sockaddr_in from;
	socklen_t fl = sizeof from;
	ssize_t n = recvfrom(ctl, req, sizeof req - 1, 0, (struct sockaddr *)&from, &fl);
	if (n <= 0)
		return;
	req[n] = 0;
	if (!strncmp(req, "ping", 4)) {
		snprintf(rsp, sizeof rsp, "pong");
	} else if (!strncmp(req, "new", 3)) {
		int a = open_side(), b = a < 0 ? -1 : open_side();
		if (b < 0) {
			if (a >= 0)
				close_side(a);
			snprintf(rsp, sizeof rsp, "error %s", strerror(errno));
		} else {
			sides[a].other = b;
			sides[b].other = a;
			snprintf(rsp, sizeof rsp, "%u %u", sides[a].port, sides[b].port);
		}
	} else if (!strncmp(req, "del ", 4)) {
		int port = atoi(req + 4);
		snprintf(rsp, sizeof rsp, "error no such pair");
		for (long fd = 0; fd < sides_max; fd++) {
			if (sides[fd].other >= 0 && sides[fd].port == port) {
				close_side(sides[fd].other);
				close_side((int)fd);
				snprintf(rsp, sizeof rsp, "ok");
				break;
			}
		}
	} else {
		snprintf(rsp, sizeof rsp, "error unknown command");
	}
	sendto(ctl, rsp, strlen(rsp), 0, (struct sockaddr *)&from, fl);
}

/* One batch from fd, out of its partner to the partner's learnt address. */
static void forward(int fd)
{
	for (int i = 0; i < BATCH; i++) {
		in_iov[i] = (struct iovec){bufs[i], PKT_MAX};
		in[i].msg_hdr = (struct msghdr){.msg_name = &in_from[i], .msg_namelen = sizeof in_from[i],
						.msg_iov = &in_iov[i], .msg_iovlen = 1};
	}
	int n = recvmmsg(fd, in, BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return;
	side *s = &sides[fd];
	s->from = in_from[n - 1];
	s->learnt = true;
	side *o = s->other >= 0 ? &sides[s->other] : NULL;
	if (!o || !o->learnt)
		return;  /* the other end has not spoken yet: nowhere to send */
	for (int i = 0; i < n; i++) {
		out_iov[i] = (struct iovec){bufs[i], in[i].msg_len};
		out[i].msg_hdr = (struct msghdr){.msg_name = &o->from, .msg_namelen = sizeof o->from,
						 .msg_iov = &out_iov[i], .msg_iovlen = 1};
	}
	/* Loopback does not block; a full receiver drops, which is the
	 * receiver's loss to count. */
	sendmmsg(s->other, out, (unsigned)n, MSG_DONTWAIT);
}

int main(int argc, char **argv)
{
	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: sbc_floor CTL_ADDR:PORT BIND_ADDR PORT_MIN PORT_MAX "
				"[COALESCE_US]\n");
		return 2;
	}
	struct sockaddr_storage ctl_addr;
	socklen_t ctl_len;
	port_min = atoi(argv[3]);
	port_max = atoi(argv[4]);
	if (bt_parse_sockaddr(argv[1], &ctl_addr, &ctl_len) < 0 || ctl_addr.ss_family != AF_INET ||
	    inet_pton(AF_INET, argv[2], &bind_ip) != 1 || port_min < 1 || port_max > 65535 ||
	    port_min > port_max) {
		fprintf(stderr, "sbc_floor: bad arguments\n");
		return 2;
	}
	port_next = port_min;
	int coalesce_us = argc == 6 ? atoi(argv[5]) : 0;
	sides_max = bt_raise_nofile(65536);
	sides = calloc((size_t)sides_max, sizeof *sides);
	ep = epoll_create1(0);
	int ctl = bt_udp_socket(AF_INET, (struct sockaddr *)&ctl_addr, ctl_len, NULL, 0, false);
	if (!sides || ep < 0 || ctl < 0 || ctl >= sides_max) {
		perror("sbc_floor: setup");
		return 1;
	}
	struct epoll_event cev = {.events = EPOLLIN, .data.fd = ctl};
	epoll_ctl(ep, EPOLL_CTL_ADD, ctl, &cev);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	struct epoll_event evs[EVENTS];
	while (!stop) {
		int n = epoll_wait(ep, evs, EVENTS, 200);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == ctl)
				control(ctl);
			else if (sides[fd].other >= 0)
				forward(fd);
		}
		if (coalesce_us > 0 && n > 0 && n < EVENTS / 4)
			usleep((useconds_t)coalesce_us);
	}
	return 0;
}
