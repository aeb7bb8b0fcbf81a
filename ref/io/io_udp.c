/* UDP for the driver: listener sockets (SO_REUSEPORT so each worker has
 * its own), batched receive with recvmmsg, and a per-worker send queue
 * flushed with sendmmsg. Nothing here allocates per packet: the receive
 * buffers and the send arena are made once per worker. */
#include "io_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

uint64_t io_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t io_unix_s(void)
{
	return (uint64_t)time(NULL);
}

socklen_t io_sockaddr_from(const il_addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	if (a->family == IL_AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(a->port);
		memcpy(&s4->sin_addr, a->ip, 4);
		return sizeof *s4;
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(a->port);
	memcpy(&s6->sin6_addr, a->ip, 16);
	return sizeof *s6;
}

void io_addr_from_sockaddr(const struct sockaddr *sa, il_addr *out)
{
	memset(out, 0, sizeof *out);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		out->family = IL_AF_INET;
		out->port = ntohs(s4->sin_port);
		memcpy(out->ip, &s4->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		out->family = IL_AF_INET6;
		out->port = ntohs(s6->sin6_port);
		memcpy(out->ip, &s6->sin6_addr, 16);
	}
}

bool io_addr_is_wildcard(const il_addr *a)
{
	static const uint8_t zero[16];
	return memcmp(a->ip, zero, a->family == IL_AF_INET ? 4 : 16) == 0;
}

int io_default_ip(uint8_t family, il_addr *out)
{
	memset(out, 0, sizeof *out);
	out->family = family;
	struct ifaddrs *list = NULL;
	if (getifaddrs(&list) == 0) {
		for (struct ifaddrs *i = list; i; i = i->ifa_next) {
			if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK))
				continue;
			il_addr a;
			io_addr_from_sockaddr(i->ifa_addr, &a);
			if (a.family != family)
				continue;
			if (family == IL_AF_INET6 && a.ip[0] == 0xfe && (a.ip[1] & 0xc0) == 0x80)
				continue; /* link-local: needs a scope */
			*out = a;
			out->port = 0;
			freeifaddrs(list);
			return 0;
		}
		freeifaddrs(list);
	}
	if (family == IL_AF_INET)
		il_addr_set_ipv4(out, 0x7f000001u, 0);
	else
		out->ip[15] = 1;
	return -1;
}

int io_udp_socket(const il_addr *local, bool reuseport, char *err, size_t err_len)
{
	int af = local->family == IL_AF_INET ? AF_INET : AF_INET6;
	int fd = socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, err_len, "socket: %s", strerror(errno));
		return -1;
	}
	int one = 1;
	if (reuseport)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	if (af == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (io_addr_is_wildcard(local)) {
		if (af == AF_INET)
			setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
		else
			setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
	}
	int size = 4 << 20; /* best effort: bursts of relayed traffic */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
	struct sockaddr_storage ss;
	socklen_t sl = io_sockaddr_from(local, &ss);
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		snprintf(err, err_len, "bind: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int io_rxq_init(io_rxq *rx)
{
	memset(rx, 0, sizeof *rx);
	rx->bufs = malloc((size_t)IO_RX_BATCH * IO_DGRAM_MAX);
	return rx->bufs ? 0 : -1;
}

void io_rxq_free(io_rxq *rx)
{
	free(rx->bufs);
	rx->bufs = NULL;
}

/* Prepares the headers for one recvmmsg call. */
static void rxq_arm(io_rxq *rx, bool with_control)
{
	for (int i = 0; i < IO_RX_BATCH; i++) {
		rx->iov[i].iov_base = rx->bufs + (size_t)i * IO_DGRAM_MAX;
		rx->iov[i].iov_len = IO_DGRAM_MAX;
		struct msghdr *h = &rx->msgs[i].msg_hdr;
		h->msg_name = &rx->from[i];
		h->msg_namelen = sizeof rx->from[i];
		h->msg_iov = &rx->iov[i];
		h->msg_iovlen = 1;
		h->msg_control = with_control ? rx->ctl[i].buf : NULL;
		h->msg_controllen = with_control ? sizeof rx->ctl[i].buf : 0;
		h->msg_flags = 0;
	}
}

/* The destination address of a datagram on a wildcard socket. */
static void rx_destination(const struct msghdr *h, il_addr *local)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)h); c;
	     c = CMSG_NXTHDR((struct msghdr *)h, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof pi);
			memcpy(local->ip, &pi.ipi_addr, 4);
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof pi);
			memcpy(local->ip, &pi.ipi6_addr, 16);
		}
	}
}

void io_udp_listener_read(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	io_udp_listener *l = arg;
	io_worker *w = l->core->w;
	io_rxq *rx = &w->rx;
	w->now_ms = io_now_ms();
	/* A bounded number of batches per wake-up, so one busy socket cannot
	 * starve the others on this worker. */
	for (int round = 0; round < 8; round++) {
		rxq_arm(rx, l->wildcard);
		int n = recvmmsg(fd, rx->msgs, IO_RX_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			struct msghdr *h = &rx->msgs[i].msg_hdr;
			w->counters.udp_rx++;
			if (h->msg_flags & MSG_TRUNC) {
				w->counters.udp_truncated++;
				continue;
			}
			il_five_tuple ft = {.local = l->local, .transport = IL_TRANSPORT_UDP};
			io_addr_from_sockaddr((struct sockaddr *)&rx->from[i], &ft.remote);
			if (l->wildcard)
				rx_destination(h, &ft.local);
			il_turn_server_handle_client(l->core->srv, &ft, rx->iov[i].iov_base,
						     rx->msgs[i].msg_len, w->now_ms);
		}
		io_tx_flush(w);
		if (n < IO_RX_BATCH)
			break;
	}
	io_tx_flush(w);
	io_core_update_timer(l->core);
}

int io_txq_init(io_txq *tx)
{
	memset(tx, 0, sizeof *tx);
	tx->arena = malloc(IO_TX_ARENA);
	return tx->arena ? 0 : -1;
}

void io_txq_free(io_txq *tx)
{
	free(tx->arena);
	tx->arena = NULL;
}

void io_tx_push(io_worker *w, int fd, const il_addr *to, const il_addr *src,
		const uint8_t *data, size_t len)
{
	io_txq *tx = &w->tx;
	if (len > IO_DGRAM_MAX) {
		w->counters.udp_tx_dropped++;
		return;
	}
	if (tx->count == IO_TX_SLOTS || tx->used + len > IO_TX_ARENA)
		io_tx_flush(w);
	size_t i = tx->count++;
	uint8_t *p = tx->arena + tx->used;
	memcpy(p, data, len);
	tx->used += (len + 7) & ~(size_t)7;
	tx->fd[i] = fd;
	tx->iov[i].iov_base = p;
	tx->iov[i].iov_len = len;
	struct msghdr *h = &tx->msgs[i].msg_hdr;
	memset(h, 0, sizeof *h);
	h->msg_name = &tx->to[i];
	h->msg_namelen = io_sockaddr_from(to, &tx->to[i]);
	h->msg_iov = &tx->iov[i];
	h->msg_iovlen = 1;
	if (src && src->family == to->family) {
		/* A wildcard listener answers from the address it was asked on. */
		h->msg_control = tx->ctl[i].buf;
		if (src->family == IL_AF_INET) {
			h->msg_controllen = CMSG_SPACE(sizeof(struct in_pktinfo));
			struct cmsghdr *c = CMSG_FIRSTHDR(h);
			c->cmsg_level = IPPROTO_IP;
			c->cmsg_type = IP_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
			struct in_pktinfo pi = {0};
			memcpy(&pi.ipi_spec_dst, src->ip, 4);
			memcpy(CMSG_DATA(c), &pi, sizeof pi);
		} else {
			h->msg_controllen = CMSG_SPACE(sizeof(struct in6_pktinfo));
			struct cmsghdr *c = CMSG_FIRSTHDR(h);
			c->cmsg_level = IPPROTO_IPV6;
			c->cmsg_type = IPV6_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
			struct in6_pktinfo pi = {0};
			memcpy(&pi.ipi6_addr, src->ip, 16);
			memcpy(CMSG_DATA(c), &pi, sizeof pi);
		}
	}
}

/* Sends runs of datagrams for the same socket with one sendmmsg each. A
 * datagram the kernel refuses (full buffer, ICMP error pending) is
 * dropped and counted: UDP promises nothing more. */
void io_tx_flush(io_worker *w)
{
	io_txq *tx = &w->tx;
	size_t i = 0;
	while (i < tx->count) {
		size_t end = i + 1;
		while (end < tx->count && tx->fd[end] == tx->fd[i])
			end++;
		while (i < end) {
			int r = sendmmsg(tx->fd[i], &tx->msgs[i], (unsigned)(end - i), MSG_DONTWAIT);
			if (r > 0) {
				w->counters.udp_tx += (uint64_t)r;
				i += (size_t)r;
			} else if (r < 0 && errno == EINTR) {
				continue;
			} else {
				w->counters.udp_tx_dropped++;
				i++;
			}
		}
	}
	tx->count = 0;
	tx->used = 0;
}
