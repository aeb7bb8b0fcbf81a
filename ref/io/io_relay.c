/* Relay sockets (RFC 8656 §7.2, §11): one UDP socket per allocation and
 * family, bound to the relay IP on a port of [min-port, max-port].
 *
 * Ports in use by this process are kept in a bitmap shared by the
 * workers, so a free port is found without a failed bind per used port;
 * a port another process holds costs one failed bind, and after
 * IO_RELAY_BIND_TRIES of those relay_open reports -1 and the core answers
 * 508 (Insufficient Capacity) at once instead of spinning.
 *
 * RFC 6062 allocations get a listening TCP socket instead, on the same
 * port range (io_relay_open_tcp); their connections are in io_stream.c.
 *
 * EVEN-PORT with the R bit holds port+1 under an 8-byte RESERVATION-TOKEN
 * for IO_RESERVATION_S seconds; a later Allocate with the token gets it. */
#include "io_internal.h"

#include <errno.h>
#include <netinet/ip.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned fam_index(uint8_t family)
{
	return family == IL_AF_INET6 ? 1u : 0u;
}

static bool port_claim(io_server *s, uint8_t family, uint16_t port)
{
	uint64_t bit = 1ull << (port & 63);
	uint64_t old = atomic_fetch_or(&s->ports_used[fam_index(family)][port >> 6], bit);
	return !(old & bit);
}

static void port_release(io_server *s, uint8_t family, uint16_t port)
{
	uint64_t bit = 1ull << (port & 63);
	atomic_fetch_and(&s->ports_used[fam_index(family)][port >> 6], ~bit);
}

static bool port_in_use(io_server *s, uint8_t family, uint16_t port)
{
	uint64_t bit = 1ull << (port & 63);
	return atomic_load_explicit(&s->ports_used[fam_index(family)][port >> 6],
				    memory_order_relaxed) &
	       bit;
}

static size_t relay_hash(const il_addr *a)
{
	uint32_t h = 2166136261u ^ a->port;
	size_t n = a->family == IL_AF_INET ? 4 : 16;
	for (size_t i = 0; i < n; i++)
		h = (h ^ a->ip[i]) * 16777619u;
	h ^= (uint32_t)a->port * 2654435761u;
	return h % IO_RELAY_BUCKETS;
}

io_relay *io_relay_find(io_worker *w, const il_addr *a)
{
	for (io_relay *r = w->relays[relay_hash(a)]; r; r = r->next)
		if (r->addr.port == a->port && il_addr_equal(&r->addr, a))
			return r;
	return NULL;
}

/* A socket of type (SOCK_DGRAM, or SOCK_STREAM for RFC 6062) bound to
 * ip:port. TCP relays also carry SO_REUSEADDR and SO_REUSEPORT: the
 * outgoing connections of Connect (§5.2) bind the same address. */
static int bind_socket(const il_addr *ip, uint16_t port, int type)
{
	il_addr a = *ip;
	a.port = port;
	int af = a.family == IL_AF_INET ? AF_INET : AF_INET6;
	int fd = socket(af, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	if (af == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (type == SOCK_STREAM) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	}
	struct sockaddr_storage ss;
	socklen_t sl = io_sockaddr_from(&a, &ss);
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int bind_port(const il_addr *ip, uint16_t port)
{
	return bind_socket(ip, port, SOCK_DGRAM);
}

int io_tcp_relay_socket(const il_addr *relayed)
{
	return bind_socket(relayed, relayed->port, SOCK_STREAM);
}

/* Finds and binds a port; with even, an even one (and, with pair, port+1
 * too, into *pair_fd); with tcp, a listening TCP socket. Returns the fd
 * or -1. */
static int relay_bind_type(io_server *s, const il_io_config *cfg, const il_addr *ip, bool even,
			   bool pair, uint16_t *port_out, int *pair_fd, bool tcp)
{
	uint32_t lo = cfg->min_port, hi = cfg->max_port, span = hi - lo + 1;
	uint32_t start = atomic_fetch_add(&s->port_cursor, 1) % span;
	int binds = 0;
	for (uint32_t k = 0; k < span && binds < IO_RELAY_BIND_TRIES; k++) {
		uint32_t p = lo + (start + k) % span;
		if (even && (p & 1))
			continue;
		if (pair && p + 1 > hi)
			continue;
		if (port_in_use(s, ip->family, (uint16_t)p) ||
		    (pair && port_in_use(s, ip->family, (uint16_t)(p + 1))))
			continue;
		if (!port_claim(s, ip->family, (uint16_t)p))
			continue;
		if (pair && !port_claim(s, ip->family, (uint16_t)(p + 1))) {
			port_release(s, ip->family, (uint16_t)p);
			continue;
		}
		binds++;
		int fd = bind_socket(ip, (uint16_t)p, tcp ? SOCK_STREAM : SOCK_DGRAM);
		if (fd >= 0 && tcp && listen(fd, 64) < 0) {
			close(fd);
			fd = -1;
		}
		int fd2 = fd >= 0 && pair ? bind_port(ip, (uint16_t)(p + 1)) : -1;
		if (fd >= 0 && (!pair || fd2 >= 0)) {
			/* Advance the shared cursor past what we took. */
			atomic_fetch_add(&s->port_cursor, pair ? 2 : 1);
			*port_out = (uint16_t)p;
			if (pair)
				*pair_fd = fd2;
			return fd;
		}
		/* Held by another process: release the bits (it may let the
		 * port go) and try the next one. */
		if (fd >= 0)
			close(fd);
		port_release(s, ip->family, (uint16_t)p);
		if (pair)
			port_release(s, ip->family, (uint16_t)(p + 1));
	}
	return -1;
}

static int relay_bind(io_server *s, const il_io_config *cfg, const il_addr *ip, bool even,
		      bool pair, uint16_t *port_out, int *pair_fd)
{
	return relay_bind_type(s, cfg, ip, even, pair, port_out, pair_fd, false);
}

static void relay_read(evutil_socket_t fd, short what, void *arg);

static int relay_register(io_core *c, int fd, const il_addr *addr)
{
	io_worker *w = c->w;
	io_relay *r = calloc(1, sizeof *r);
	if (!r)
		return -1;
	r->fd = fd;
	r->addr = *addr;
	r->core = c;
	r->ev = event_new(w->base, fd, EV_READ | EV_PERSIST, relay_read, r);
	if (!r->ev || event_add(r->ev, NULL) < 0) {
		if (r->ev)
			event_free(r->ev);
		free(r);
		return -1;
	}
	size_t h = relay_hash(addr);
	r->next = w->relays[h];
	w->relays[h] = r;
	w->relay_count++;
	return 0;
}

/* Takes the socket held under token; -1 when unknown, expired or of
 * another family than asked (IL_AF_NONE: any). */
static int reservation_take(io_server *s, const uint8_t *token, uint8_t family, il_addr *addr)
{
	int fd = -1;
	uint64_t now = io_now_ms();
	pthread_mutex_lock(&s->resv_lock);
	for (size_t i = 0; i < IO_RESERVATIONS; i++) {
		io_reservation *r = &s->resv[i];
		if (r->fd >= 0 && r->expires_ms > now &&
		    (family == IL_AF_NONE || r->addr.family == family) &&
		    memcmp(r->token, token, 8) == 0) {
			fd = r->fd;
			*addr = r->addr;
			r->fd = -1;
			break;
		}
	}
	pthread_mutex_unlock(&s->resv_lock);
	return fd;
}

static int reservation_put(io_server *s, int fd, const il_addr *addr, uint8_t token[8])
{
	uint64_t now = io_now_ms();
	int rc = -1;
	if (RAND_bytes(token, 8) != 1)
		return -1;
	pthread_mutex_lock(&s->resv_lock);
	for (size_t i = 0; i < IO_RESERVATIONS; i++) {
		io_reservation *r = &s->resv[i];
		if (r->fd < 0) {
			r->fd = fd;
			r->addr = *addr;
			memcpy(r->token, token, 8);
			r->expires_ms = now + IO_RESERVATION_S * 1000u;
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&s->resv_lock);
	return rc;
}

void io_reservations_expire(io_server *s, uint64_t now_ms)
{
	pthread_mutex_lock(&s->resv_lock);
	for (size_t i = 0; i < IO_RESERVATIONS; i++) {
		io_reservation *r = &s->resv[i];
		if (r->fd >= 0 && r->expires_ms <= now_ms) {
			close(r->fd);
			port_release(s, r->addr.family, r->addr.port);
			r->fd = -1;
		}
	}
	pthread_mutex_unlock(&s->resv_lock);
}

void io_reservations_free(io_server *s)
{
	io_reservations_expire(s, UINT64_MAX);
}

int io_relay_open(io_core *c, uint8_t family, bool even_port, bool reserve_next,
		  const uint8_t *token, il_addr *relayed, uint8_t token_out[8])
{
	io_worker *w = c->w;
	io_server *s = w->server;
	const il_addr *ip = family == IL_AF_INET ? &s->relay_v4 : &s->relay_v6;
	il_addr addr = *ip;
	int fd;
	if (token) {
		/* family is IL_AF_NONE: the reservation's, IPv4 or IPv6. */
		fd = reservation_take(s, token, family, &addr);
		if (fd < 0)
			return -1;
		family = addr.family;
	} else if (family != IL_AF_INET && family != IL_AF_INET6) {
		return -1;
	} else {
		uint16_t port = 0;
		int pair_fd = -1;
		fd = relay_bind(s, w->cfg, ip, even_port, even_port && reserve_next, &port, &pair_fd);
		if (fd < 0) {
			w->counters.relay_bind_failed++;
			return -1;
		}
		addr.port = port;
		if (pair_fd >= 0) {
			il_addr next = addr;
			next.port = (uint16_t)(port + 1);
			if (reservation_put(s, pair_fd, &next, token_out) < 0) {
				close(pair_fd);
				port_release(s, family, next.port);
				close(fd);
				port_release(s, family, port);
				w->counters.relay_bind_failed++;
				return -1;
			}
		}
	}
	if (relay_register(c, fd, &addr) < 0) {
		close(fd);
		port_release(s, family, addr.port);
		return -1;
	}
	*relayed = addr;
	return 0;
}

/* RFC 6062 §5.1: a TCP allocation's relayed address is a listening TCP
 * socket; peers that connect to it go to the core (§5.3). */
int io_relay_open_tcp(io_core *c, uint8_t family, il_addr *relayed)
{
	io_worker *w = c->w;
	io_server *s = w->server;
	if (family != IL_AF_INET && family != IL_AF_INET6)
		return -1;
	il_addr addr = family == IL_AF_INET ? s->relay_v4 : s->relay_v6;
	uint16_t port = 0;
	int fd = relay_bind_type(s, w->cfg, &addr, false, false, &port, NULL, true);
	if (fd < 0) {
		w->counters.relay_bind_failed++;
		return -1;
	}
	addr.port = port;
	io_relay *r = calloc(1, sizeof *r);
	if (r)
		r->lev = evconnlistener_new(w->base, io_tcp_peer_accept, r, LEV_OPT_CLOSE_ON_FREE, -1,
					    fd);
	if (!r || !r->lev) {
		free(r);
		close(fd);
		port_release(s, family, port);
		return -1;
	}
	r->fd = fd;
	r->addr = addr;
	r->core = c;
	r->tcp = true;
	size_t h = relay_hash(&addr);
	r->next = w->relays[h];
	w->relays[h] = r;
	w->relay_count++;
	*relayed = addr;
	return 0;
}

static void relay_free(io_worker *w, io_relay *r)
{
	if (r->lev) { /* closes the fd */
		evconnlistener_free(r->lev);
		port_release(w->server, r->addr.family, r->addr.port);
		free(r);
		return;
	}
	event_free(r->ev);
	close(r->fd);
	port_release(w->server, r->addr.family, r->addr.port);
	free(r);
}

void io_relay_close(io_core *c, const il_addr *relayed)
{
	io_worker *w = c->w;
	io_relay **pp = &w->relays[relay_hash(relayed)];
	for (; *pp; pp = &(*pp)->next) {
		io_relay *r = *pp;
		if (!il_addr_equal(&r->addr, relayed))
			continue;
		/* Queued datagrams name the fd: send them before it can be reused. */
		io_tx_flush(w);
		*pp = r->next;
		w->relay_count--;
		w->relay_closes++;
		relay_free(w, r);
		return;
	}
}

void io_relay_close_all(io_worker *w)
{
	for (size_t b = 0; b < IO_RELAY_BUCKETS; b++) {
		while (w->relays[b]) {
			io_relay *r = w->relays[b];
			w->relays[b] = r->next;
			relay_free(w, r);
		}
	}
	w->relay_count = 0;
}

/* Datagrams from peers on a relayed address, in batches. */
static void relay_read(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	io_relay *r = arg;
	io_core *c = r->core;
	io_worker *w = c->w;
	io_rxq *rx = &w->rx;
	il_addr relayed = r->addr;
	uint64_t closes = w->relay_closes;
	w->now_ms = io_now_ms();
	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < IO_RX_BATCH; i++) {
			rx->iov[i].iov_base = rx->bufs + (size_t)i * IO_DGRAM_MAX;
			rx->iov[i].iov_len = IO_DGRAM_MAX;
			struct msghdr *h = &rx->msgs[i].msg_hdr;
			h->msg_name = &rx->from[i];
			h->msg_namelen = sizeof rx->from[i];
			h->msg_iov = &rx->iov[i];
			h->msg_iovlen = 1;
			h->msg_control = NULL;
			h->msg_controllen = 0;
			h->msg_flags = 0;
		}
		int n = recvmmsg(fd, rx->msgs, IO_RX_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			w->counters.relay_rx++;
			if (rx->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
				w->counters.udp_truncated++;
				continue;
			}
			il_addr peer;
			io_addr_from_sockaddr((struct sockaddr *)&rx->from[i], &peer);
			il_turn_server_handle_peer(c->srv, &relayed, &peer, rx->iov[i].iov_base,
						   rx->msgs[i].msg_len, w->now_ms);
			if (w->relay_closes != closes)
				break; /* r may be gone */
		}
		io_tx_flush(w);
		if (w->relay_closes != closes || n < IO_RX_BATCH)
			break;
	}
	io_tx_flush(w);
	io_core_update_timer(c);
}
