/* The udp://HOST:PORT target: a real server over real sockets. Each
 * client is a UDP socket of its own (its own 5-tuple); peers are UDP
 * sockets the harness binds on the local address that routes to the
 * target, so a relay can reach them when the target's peer policy lets
 * it (loopback targets need loopback peers allowed: coturn
 * --allow-loopback-peers, icelab serve --allow-peer 127.0.0.1/32). */
#include "conformance.h"
#include "target_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define UT_MAX 8

typedef struct udp_target {
	struct sockaddr_storage server;
	socklen_t server_len;
	int clients[UT_MAX];
	bool unconnected[UT_MAX]; /* RFC 5780 clients: hear every source */
	int nclients;
	int peers[UT_MAX];
	int npeers;
} udp_target;

/* Local ports this process's clients have had (all targets, all
 * --jobs workers): a fresh client never gets one again, since the target
 * may still hold an allocation on that 5-tuple (RFC 8656 §7.2: 437). */
#define UT_REBIND_TRIES 8
static uint8_t used_ports[65536 / 8];
static pthread_mutex_t used_mu = PTHREAD_MUTEX_INITIALIZER;

/* True when port was free, and marks it used. */
static bool claim_port(uint16_t port)
{
	pthread_mutex_lock(&used_mu);
	bool fresh = !(used_ports[port / 8] & (1u << (port % 8)));
	used_ports[port / 8] |= (uint8_t)(1u << (port % 8));
	pthread_mutex_unlock(&used_mu);
	return fresh;
}

static int connected_socket(udp_target *u, il_addr *local)
{
	int fd = socket(u->server.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&u->server, u->server_len) < 0) {
		close(fd);
		return -1;
	}
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	cf_net_to_il((struct sockaddr *)&ss, local);
	return fd;
}

static int ut_client_open(cf_target *t, int transport, il_addr *local)
{
	udp_target *u = t->impl;
	if (u->nclients == UT_MAX || transport != CF_UDP)
		return -1;
	/* A used port is held open while asking again, so the kernel hands
	 * out another; after a few tries the last one is taken anyway. */
	int held[UT_REBIND_TRIES], nheld = 0, fd;
	while ((fd = connected_socket(u, local)) >= 0 && !claim_port(local->port) &&
	       nheld < UT_REBIND_TRIES)
		held[nheld++] = fd;
	for (int i = 0; i < nheld; i++)
		close(held[i]);
	if (fd < 0)
		return -1;
	u->clients[u->nclients] = fd;
	return u->nclients++;
}

static int ut_client_send(cf_target *t, int ix, const uint8_t *data, size_t len)
{
	udp_target *u = t->impl;
	if (ix < 0 || ix >= u->nclients)
		return -1;
	/* ECONNREFUSED (an ICMP from an earlier send) is the target's
	 * silence, not our error. */
	ssize_t n = u->unconnected[ix]
			    ? sendto(u->clients[ix], data, len, 0, (struct sockaddr *)&u->server,
				     u->server_len)
			    : send(u->clients[ix], data, len, 0);
	if (n < 0 && errno != ECONNREFUSED)
		return -1;
	return 0;
}

static int ut_client_recv(cf_target *t, int ix, uint8_t *buf, size_t cap, size_t *len,
			  uint32_t timeout_ms)
{
	udp_target *u = t->impl;
	if (ix < 0 || ix >= u->nclients)
		return -1;
	for (;;) {
		int rc = cf_net_wait_readable(u->clients[ix], timeout_ms);
		if (rc <= 0)
			return rc < 0 ? -1 : 0;
		ssize_t n = recv(u->clients[ix], buf, cap, 0);
		if (n < 0 && errno == ECONNREFUSED)
			continue;
		if (n < 0)
			return -1;
		*len = (size_t)n;
		return 1;
	}
}

/* A UDP socket bound to the local address that routes to the target
 * (port 0), unconnected; -1 on error. */
static int bind_routed(udp_target *u, il_addr *addr)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	if (cf_net_local_towards(&u->server, u->server_len, &ss, &sl) < 0)
		return -1;
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		close(fd);
		return -1;
	}
	sl = sizeof ss;
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	cf_net_to_il((struct sockaddr *)&ss, addr);
	return fd;
}

static int ut_peer_open(cf_target *t, il_addr *addr)
{
	udp_target *u = t->impl;
	if (u->npeers == UT_MAX)
		return -1;
	int fd = bind_routed(u, addr);
	if (fd < 0)
		return -1;
	u->peers[u->npeers] = fd;
	return u->npeers++;
}

/* RFC 5780: an unconnected client hears responses from any address of
 * the target (CHANGE-REQUEST); every client is on the routed local
 * address, so near (RESPONSE-PORT) needs nothing more. */
static int ut_client_open_any(cf_target *t, int near, il_addr *local)
{
	udp_target *u = t->impl;
	(void)near;
	if (u->nclients == UT_MAX)
		return -1;
	int fd = bind_routed(u, local);
	if (fd < 0)
		return -1;
	u->clients[u->nclients] = fd;
	u->unconnected[u->nclients] = true;
	return u->nclients++;
}

static int ut_client_send_to(cf_target *t, int ix, const il_addr *to, const uint8_t *data,
			     size_t len)
{
	udp_target *u = t->impl;
	if (ix < 0 || ix >= u->nclients || !u->unconnected[ix])
		return -1;
	struct sockaddr_storage ss;
	socklen_t sl = cf_net_from_il(to, &ss);
	if (sendto(u->clients[ix], data, len, 0, (struct sockaddr *)&ss, sl) < 0 &&
	    errno != ECONNREFUSED)
		return -1;
	return 0;
}

static int ut_peer_send(cf_target *t, int ix, const il_addr *to, const uint8_t *data, size_t len)
{
	udp_target *u = t->impl;
	if (ix < 0 || ix >= u->npeers)
		return -1;
	struct sockaddr_storage ss;
	socklen_t sl = cf_net_from_il(to, &ss);
	if (sendto(u->peers[ix], data, len, 0, (struct sockaddr *)&ss, sl) < 0 &&
	    errno != ECONNREFUSED)
		return -1;
	return 0;
}

static int recv_on(int fd, uint8_t *buf, size_t cap, size_t *len, il_addr *from,
		   uint32_t timeout_ms)
{
	for (;;) {
		int rc = cf_net_wait_readable(fd, timeout_ms);
		if (rc <= 0)
			return rc < 0 ? -1 : 0;
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		ssize_t n = recvfrom(fd, buf, cap, 0, (struct sockaddr *)&ss, &sl);
		if (n < 0 && errno == ECONNREFUSED)
			continue;
		if (n < 0)
			return -1;
		cf_net_to_il((struct sockaddr *)&ss, from);
		*len = (size_t)n;
		return 1;
	}
}

static int ut_peer_recv(cf_target *t, int ix, uint8_t *buf, size_t cap, size_t *len,
			il_addr *from, uint32_t timeout_ms)
{
	udp_target *u = t->impl;
	if (ix < 0 || ix >= u->npeers)
		return -1;
	return recv_on(u->peers[ix], buf, cap, len, from, timeout_ms);
}

static int ut_client_recv_from(cf_target *t, int ix, uint8_t *buf, size_t cap, size_t *len,
			       il_addr *from, uint32_t timeout_ms)
{
	udp_target *u = t->impl;
	if (ix < 0 || ix >= u->nclients)
		return -1;
	return recv_on(u->clients[ix], buf, cap, len, from, timeout_ms);
}

static void ut_sleep(cf_target *t, uint32_t ms)
{
	(void)t;
	cf_net_sleep_ms(ms);
}

static void ut_close_all(udp_target *u)
{
	for (int i = 0; i < u->nclients; i++) {
		close(u->clients[i]);
		u->unconnected[i] = false;
	}
	for (int i = 0; i < u->npeers; i++)
		close(u->peers[i]);
	u->nclients = u->npeers = 0;
}

static int ut_reset(cf_target *t, uint64_t seed)
{
	(void)seed;
	ut_close_all(t->impl);
	return 0;
}

static void ut_destroy(cf_target *t)
{
	ut_close_all(t->impl);
	free(t->impl);
	free(t);
}

cf_target *cf_target_udp_open(const cf_target_options *opts, const char *hostport, char *err,
			      size_t err_len)
{
	char host[256];
	struct sockaddr_storage server;
	socklen_t server_len;
	if (cf_net_resolve("udp", hostport, SOCK_DGRAM, &server, &server_len, host, sizeof host,
			   err, err_len) < 0)
		return NULL;
	cf_target *t = calloc(1, sizeof *t);
	udp_target *u = calloc(1, sizeof *u);
	if (!t || !u) {
		free(t);
		free(u);
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	u->server = server;
	u->server_len = server_len;
	t->kind = "udp";
	cf_net_to_il((struct sockaddr *)&u->server, &t->server);
	cf_net_take_identity(t, opts);
	t->client_open = ut_client_open;
	t->client_send = ut_client_send;
	t->client_recv = ut_client_recv;
	t->peer_open = ut_peer_open;
	t->peer_send = ut_peer_send;
	t->peer_recv = ut_peer_recv;
	t->sleep_ms = ut_sleep;
	t->reset = ut_reset;
	t->destroy = ut_destroy;
	t->client_open_any = ut_client_open_any;
	t->client_send_to = ut_client_send_to;
	t->client_recv_from = ut_client_recv_from;
	t->impl = u;
	return t;
}
