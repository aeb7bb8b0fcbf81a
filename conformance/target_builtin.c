/* The builtin target: the reference TURN server core (ref/turn) run
 * in-process with virtual time. No socket is opened: clients and peers
 * are addresses in documentation ranges, packets go through queues, and
 * a wait that finds nothing advances the virtual clock (and the core's
 * timers). A fresh core per test, seeded from the test's seed, so a run
 * is reproducible bit for bit.
 *
 *   server   192.0.2.1:3478 (relays 192.0.2.1:49152 and up); RFC 5780
 *            alternate 192.0.2.2:3479 (OTHER-ADDRESS, CHANGE-REQUEST)
 *   clients  198.51.100.10+N : 40000+N
 *   peers    203.0.113.10+N  : 50000+N
 *   SBC      legacy leg 192.0.2.1:20000, ICE-lite leg 192.0.2.1:30000
 *            (builtin_sbc.h: the ice-lite suite's target) */
#include "conformance.h"
#include "builtin_sbc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icelab/turn_server.h"

#define BI_MAX 8
#define BI_QUEUE 64
#define BI_PKT 2048

typedef struct bi_pkt {
	il_addr from;
	uint8_t data[BI_PKT];
	size_t len;
} bi_pkt;

typedef struct bi_queue {
	bi_pkt *pkts; /* BI_QUEUE */
	size_t head, count;
} bi_queue;

typedef struct bi_endpoint {
	il_addr addr;
	il_addr dest;      /* a client's destination: the server or an SBC leg */
	uint8_t transport;
	bi_queue q;
} bi_endpoint;

typedef struct builtin {
	cf_target_options opts;
	il_turn_server *srv;
	il_turn_server_config cfg;
	il_peer_policy policy;
	uint64_t now_ms;
	uint64_t rng;
	bi_endpoint clients[BI_MAX];
	int nclients;
	bi_endpoint peers[BI_MAX];
	int npeers;
	uint16_t next_relay_port;
	uint8_t reserved_token[8];
	uint16_t reserved_port;
	bool has_reservation;
	il_addr other; /* RFC 5780 A2:P2 */
	cf_builtin_sbc *sbc;
} builtin;

static uint64_t bi_next(builtin *b)
{
	uint64_t z = (b->rng += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static void q_push(bi_queue *q, const il_addr *from, const uint8_t *data, size_t len)
{
	if (q->count == BI_QUEUE || len > BI_PKT)
		return; /* a full queue drops, like a socket buffer */
	bi_pkt *p = &q->pkts[(q->head + q->count) % BI_QUEUE];
	p->from = *from;
	memcpy(p->data, data, len);
	p->len = len;
	q->count++;
}

static bool q_pop(bi_queue *q, uint8_t *buf, size_t cap, size_t *len, il_addr *from)
{
	if (q->count == 0)
		return false;
	bi_pkt *p = &q->pkts[q->head];
	q->head = (q->head + 1) % BI_QUEUE;
	q->count--;
	*len = p->len < cap ? p->len : cap;
	memcpy(buf, p->data, *len);
	if (from)
		*from = p->from;
	return true;
}

/* ---- the core's callbacks ---- */

static void cb_random(void *user, uint8_t *out, size_t len)
{
	builtin *b = user;
	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = bi_next(b);
		for (size_t k = 0; k < 8 && i + k < len; k++)
			out[i + k] = (uint8_t)(v >> (8 * k));
	}
}

static void cb_send_to_client(void *user, const il_five_tuple *ft, const uint8_t *data,
			      size_t len)
{
	builtin *b = user;
	for (int i = 0; i < b->nclients; i++) {
		bi_endpoint *c = &b->clients[i];
		if (!il_addr_equal(&c->addr, &ft->remote) || c->transport != ft->transport)
			continue;
		uint8_t tmp[BI_PKT];
		if (len > sizeof tmp)
			return;
		memcpy(tmp, data, len);
		size_t n = len;
		if (b->opts.mangle)
			b->opts.mangle(b->opts.mangle_arg, tmp, &n, sizeof tmp);
		if (n == 0)
			return; /* the fault: the response is lost */
		q_push(&c->q, &ft->local, tmp, n);
		return;
	}
}

/* What the SBC sends: to a client (through the fault hook) or a peer. */
static void sbc_deliver(void *user, const il_addr *from, const il_addr *to, const uint8_t *data,
			size_t len)
{
	builtin *b = user;
	for (int i = 0; i < b->nclients; i++) {
		bi_endpoint *c = &b->clients[i];
		if (!il_addr_equal(&c->addr, to))
			continue;
		uint8_t tmp[BI_PKT];
		if (len > sizeof tmp)
			return;
		memcpy(tmp, data, len);
		size_t n = len;
		if (b->opts.mangle)
			b->opts.mangle(b->opts.mangle_arg, tmp, &n, sizeof tmp);
		if (n)
			q_push(&c->q, from, tmp, n);
		return;
	}
	for (int i = 0; i < b->npeers; i++)
		if (il_addr_equal(&b->peers[i].addr, to)) {
			q_push(&b->peers[i].q, from, data, len);
			return;
		}
}

static void cb_send_to_peer(void *user, const il_addr *relayed, const il_addr *peer,
			    const uint8_t *data, size_t len, bool df)
{
	(void)df;
	builtin *b = user;
	for (int i = 0; i < b->npeers; i++)
		if (il_addr_equal(&b->peers[i].addr, peer)) {
			q_push(&b->peers[i].q, relayed, data, len);
			return;
		}
}

static int cb_relay_open(void *user, uint8_t family, uint8_t transport, bool even_port,
			 bool reserve_next, const uint8_t *token, il_addr *relayed,
			 uint8_t token_out[8])
{
	builtin *b = user;
	/* The builtin relay is IPv4 UDP only; a token names its family
	 * itself (IL_AF_NONE). */
	if ((family != IL_AF_INET && !(token && family == IL_AF_NONE)) ||
	    transport != IL_TRANSPORT_UDP)
		return -1;
	uint16_t port;
	if (token) {
		if (!b->has_reservation || memcmp(token, b->reserved_token, 8) != 0)
			return -1;
		port = b->reserved_port;
		b->has_reservation = false;
	} else {
		port = b->next_relay_port;
		if (even_port && (port & 1))
			port++;
		b->next_relay_port = (uint16_t)(port + (reserve_next ? 2 : 1));
		if (reserve_next) {
			cb_random(b, b->reserved_token, 8);
			memcpy(token_out, b->reserved_token, 8);
			b->reserved_port = (uint16_t)(port + 1);
			b->has_reservation = true;
		}
	}
	il_addr_parse("192.0.2.1:0", relayed);
	relayed->port = port;
	return 0;
}

static void cb_relay_close(void *user, const il_addr *relayed)
{
	(void)user;
	(void)relayed;
}

static int cb_tcp_connect(void *user, const il_addr *relayed, const il_addr *peer, uint32_t id)
{
	(void)user;
	(void)relayed;
	(void)peer;
	(void)id;
	return -1;
}

static bool cb_key_lookup(void *user, const char *realm, const char *username,
			  enum il_stun_password_algorithm alg, uint64_t now_s, il_stun_key *key)
{
	builtin *b = user;
	(void)now_s;
	const char *pw;
	if (strcmp(username, b->opts.user ? b->opts.user : CF_BUILTIN_USER) == 0)
		pw = b->opts.password ? b->opts.password : CF_BUILTIN_PASSWORD;
	else if (strcmp(username, b->opts.user2 ? b->opts.user2 : CF_BUILTIN_USER2) == 0)
		pw = b->opts.password2 ? b->opts.password2 : CF_BUILTIN_PASSWORD2;
	else
		return false;
	return il_stun_key_long_term(key, alg, username, realm, pw) == IL_STUN_OK;
}

/* ---- target operations ---- */

static void bi_timers(builtin *b)
{
	if (b->srv)
		il_turn_server_timer(b->srv, b->now_ms);
	cf_builtin_sbc_timer(b->sbc, b->now_ms);
}

static int bi_client_open(cf_target *t, int transport, il_addr *local)
{
	builtin *b = t->impl;
	if (b->nclients == BI_MAX || transport != CF_UDP)
		return -1;
	bi_endpoint *c = &b->clients[b->nclients];
	char text[64];
	snprintf(text, sizeof text, "198.51.100.%d:%d", 10 + b->nclients, 40000 + b->nclients);
	il_addr_parse(text, &c->addr);
	c->transport = IL_TRANSPORT_UDP;
	c->q.head = c->q.count = 0;
	c->dest = t->server;
	*local = c->addr;
	return b->nclients++;
}

static int bi_client_send_to(cf_target *t, int ix, const il_addr *to, const uint8_t *data,
			     size_t len);

/* A client of an SBC leg (the ice-lite suite). */
static int bi_client_open_to(cf_target *t, int transport, const il_addr *to, il_addr *local)
{
	builtin *b = t->impl;
	if (!cf_builtin_sbc_owns(b->sbc, to))
		return -1;
	int ix = bi_client_open(t, transport, local);
	if (ix >= 0)
		b->clients[ix].dest = *to;
	return ix;
}

static int bi_client_send(cf_target *t, int ix, const uint8_t *data, size_t len)
{
	builtin *b = t->impl;
	if (ix < 0 || ix >= b->nclients)
		return -1;
	if (!il_addr_equal(&b->clients[ix].dest, &t->server)) {
		cf_builtin_sbc_input(b->sbc, &b->clients[ix].dest, &b->clients[ix].addr, data, len,
				     b->now_ms);
		return 0;
	}
	return bi_client_send_to(t, ix, &t->server, data, len);
}

/* Nothing queued: the wait passes in virtual time, timers fire. */
static void bi_wait(builtin *b, uint32_t ms)
{
	b->now_ms += ms;
	bi_timers(b);
}

static int bi_client_recv_from(cf_target *t, int ix, uint8_t *buf, size_t cap, size_t *len,
			       il_addr *from, uint32_t timeout_ms);

static int bi_client_recv(cf_target *t, int ix, uint8_t *buf, size_t cap, size_t *len,
			  uint32_t timeout_ms)
{
	return bi_client_recv_from(t, ix, buf, cap, len, NULL, timeout_ms);
}

/* ---- RFC 5780 ---- */

static int bi_client_open_any(cf_target *t, int near, il_addr *local)
{
	builtin *b = t->impl;
	if (near >= b->nclients)
		return -1;
	int ix = bi_client_open(t, CF_UDP, local);
	if (ix < 0 || near < 0)
		return ix;
	/* The same host as client near, another port (RESPONSE-PORT). */
	b->clients[ix].addr = b->clients[near].addr;
	b->clients[ix].addr.port = (uint16_t)(41000 + ix);
	*local = b->clients[ix].addr;
	return ix;
}

static int bi_client_send_to(cf_target *t, int ix, const il_addr *to, const uint8_t *data,
			     size_t len)
{
	builtin *b = t->impl;
	if (ix < 0 || ix >= b->nclients)
		return -1;
	il_five_tuple ft;
	memset(&ft, 0, sizeof ft);
	ft.local = *to;
	ft.remote = b->clients[ix].addr;
	ft.transport = b->clients[ix].transport;
	il_turn_server_handle_client(b->srv, &ft, data, len, b->now_ms);
	return 0;
}

static int bi_client_recv_from(cf_target *t, int ix, uint8_t *buf, size_t cap, size_t *len,
			       il_addr *from, uint32_t timeout_ms)
{
	builtin *b = t->impl;
	if (ix < 0 || ix >= b->nclients)
		return -1;
	if (q_pop(&b->clients[ix].q, buf, cap, len, from))
		return 1;
	bi_wait(b, timeout_ms);
	return q_pop(&b->clients[ix].q, buf, cap, len, from) ? 1 : 0;
}

static int bi_peer_open(cf_target *t, il_addr *addr)
{
	builtin *b = t->impl;
	if (b->npeers == BI_MAX)
		return -1;
	bi_endpoint *p = &b->peers[b->npeers];
	char text[64];
	snprintf(text, sizeof text, "203.0.113.%d:%d", 10 + b->npeers, 50000 + b->npeers);
	il_addr_parse(text, &p->addr);
	p->transport = IL_TRANSPORT_UDP;
	p->q.head = p->q.count = 0;
	*addr = p->addr;
	return b->npeers++;
}

static int bi_peer_send(cf_target *t, int ix, const il_addr *to, const uint8_t *data, size_t len)
{
	builtin *b = t->impl;
	if (ix < 0 || ix >= b->npeers)
		return -1;
	if (cf_builtin_sbc_owns(b->sbc, to)) {
		cf_builtin_sbc_input(b->sbc, to, &b->peers[ix].addr, data, len, b->now_ms);
		return 0;
	}
	il_turn_server_handle_peer(b->srv, to, &b->peers[ix].addr, data, len, b->now_ms);
	return 0;
}

static int bi_peer_recv(cf_target *t, int ix, uint8_t *buf, size_t cap, size_t *len,
			il_addr *from, uint32_t timeout_ms)
{
	builtin *b = t->impl;
	if (ix < 0 || ix >= b->npeers)
		return -1;
	if (q_pop(&b->peers[ix].q, buf, cap, len, from))
		return 1;
	bi_wait(b, timeout_ms);
	return q_pop(&b->peers[ix].q, buf, cap, len, from) ? 1 : 0;
}

static void bi_sleep(cf_target *t, uint32_t ms)
{
	bi_wait(t->impl, ms);
}

static int bi_reset(cf_target *t, uint64_t seed)
{
	builtin *b = t->impl;
	if (b->srv)
		il_turn_server_free(b->srv);
	b->srv = NULL;
	b->rng = seed;
	b->now_ms = 1000000;
	b->nclients = b->npeers = 0;
	b->next_relay_port = 49152;
	b->has_reservation = false;
	il_turn_server_config_defaults(&b->cfg);
	b->cfg.realm = t->realm;
	b->cfg.software = "icelab builtin";
	b->cfg.key_lookup = cb_key_lookup;
	b->cfg.allow_md5 = true;
	b->cfg.allow_sha256 = true;
	b->cfg.relay_ipv6 = false; /* the builtin relay is IPv4 only */
	/* Limits small enough for turn-security to see them: the 401 limit
	 * of `icelab serve` (50 a second, bursts of 100) and an allocation
	 * quota of 5 per user (the ctx holds 8 clients). */
	b->cfg.max_401_per_second = 50;
	b->cfg.burst_401 = 100;
	b->cfg.max_allocations_per_user = 5;
	il_peer_policy_init(&b->policy);
	il_peer_policy_add_own(&b->policy, &t->server);
	il_peer_policy_add_own(&b->policy, &b->other);
	/* RFC 5780 behaviour discovery: A1:P1 is the server address, A2:P2
	 * the alternate (a configure hook may clear it to test a target
	 * without one). */
	b->cfg.primary_address = t->server;
	b->cfg.other_address = b->other;
	b->cfg.peers = &b->policy;
	cb_random(b, b->cfg.nonce_secret, sizeof b->cfg.nonce_secret);
	if (b->opts.configure)
		b->opts.configure(b->opts.configure_arg, &b->cfg);
	static const il_turn_server_callbacks cbs = {
		.random = cb_random,
		.send_to_client = cb_send_to_client,
		.send_to_peer = cb_send_to_peer,
		.relay_open = cb_relay_open,
		.relay_close = cb_relay_close,
		.tcp_connect = cb_tcp_connect,
	};
	il_turn_server_callbacks cb = cbs;
	cb.user = b;
	b->srv = il_turn_server_new(&b->cfg, &cb);
	/* The SBC: the phone is the first peer, the harness its first client. */
	il_addr phone, harness;
	il_addr_parse("203.0.113.10:50000", &phone);
	il_addr_parse("198.51.100.10:40000", &harness);
	if (cf_builtin_sbc_reset(b->sbc, t, seed, &phone, &harness, b->now_ms) < 0)
		return -1;
	return b->srv ? 0 : -1;
}

static void bi_destroy(cf_target *t)
{
	builtin *b = t->impl;
	if (b->srv)
		il_turn_server_free(b->srv);
	cf_builtin_sbc_free(b->sbc);
	for (int i = 0; i < BI_MAX; i++) {
		free(b->clients[i].q.pkts);
		free(b->peers[i].q.pkts);
	}
	free(b);
	free(t);
}

cf_target *cf_target_builtin_open(const cf_target_options *opts, char *err, size_t err_len)
{
	cf_target *t = calloc(1, sizeof *t);
	builtin *b = calloc(1, sizeof *b);
	if (!t || !b) {
		free(t);
		free(b);
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	b->opts = *opts;
	b->sbc = cf_builtin_sbc_new(opts, sbc_deliver, b);
	if (!b->sbc) {
		free(t);
		free(b);
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	for (int i = 0; i < BI_MAX; i++) {
		b->clients[i].q.pkts = calloc(BI_QUEUE, sizeof(bi_pkt));
		b->peers[i].q.pkts = calloc(BI_QUEUE, sizeof(bi_pkt));
		if (!b->clients[i].q.pkts || !b->peers[i].q.pkts) {
			t->impl = b;
			bi_destroy(t);
			snprintf(err, err_len, "out of memory");
			return NULL;
		}
	}
	t->kind = "builtin";
	snprintf(t->uri, sizeof t->uri, "builtin");
	t->virtual_time = true;
	il_addr_parse("192.0.2.1:3478", &t->server);
	il_addr_parse("192.0.2.2:3479", &b->other);
	snprintf(t->user, sizeof t->user, "%s", opts->user ? opts->user : CF_BUILTIN_USER);
	snprintf(t->password, sizeof t->password, "%s",
		 opts->password ? opts->password : CF_BUILTIN_PASSWORD);
	snprintf(t->realm, sizeof t->realm, "%s", opts->realm ? opts->realm : CF_BUILTIN_REALM);
	t->has_credentials = true;
	snprintf(t->user2, sizeof t->user2, "%s", opts->user2 ? opts->user2 : CF_BUILTIN_USER2);
	snprintf(t->password2, sizeof t->password2, "%s",
		 opts->password2 ? opts->password2 : CF_BUILTIN_PASSWORD2);
	t->has_user2 = true;
	t->client_open = bi_client_open;
	t->client_send = bi_client_send;
	t->client_open_to = bi_client_open_to;
	t->client_recv = bi_client_recv;
	t->peer_open = bi_peer_open;
	t->peer_send = bi_peer_send;
	t->peer_recv = bi_peer_recv;
	t->sleep_ms = bi_sleep;
	t->reset = bi_reset;
	t->destroy = bi_destroy;
	t->client_open_any = bi_client_open_any;
	t->client_send_to = bi_client_send_to;
	t->client_recv_from = bi_client_recv_from;
	t->impl = b;
	return t;
}

cf_target *cf_target_open(const cf_target_options *opts, char *err, size_t err_len)
{
	const char *uri = opts->uri ? opts->uri : "builtin";
	cf_target *t = NULL;
	if (strncmp(uri, "sdp:", 4) == 0)
		t = cf_target_sdp_open(opts, uri + 4, err, err_len);
	else if (strcmp(uri, "builtin") == 0)
		t = cf_target_builtin_open(opts, err, err_len);
	else if (strncmp(uri, "udp://", 6) == 0)
		t = cf_target_udp_open(opts, uri + 6, err, err_len);
	else if (strncmp(uri, "tcp://", 6) == 0 || strncmp(uri, "tls://", 6) == 0)
		t = cf_target_stream_open(opts, uri + 6, uri[1] == 'l', err, err_len);
	else
		snprintf(err, err_len,
			 "target '%s': expected builtin, udp://, tcp:// or tls://HOST:PORT, or sdp:FILE",
			 uri);
	if (t)
		t->opts = *opts;
	return t;
}

void cf_target_close(cf_target *t)
{
	if (t)
		t->destroy(t);
}
