/* Shared fixture of the TURN server core tests: fake callbacks that record
 * what the core sends, a virtual clock, two users, and a tiny client that
 * builds requests (with or without long-term credentials). Everything is
 * static: each test file uses a subset. */
#ifndef ICELAB_TEST_SERVER_UTIL_H
#define ICELAB_TEST_SERVER_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../server_internal.h"
#include "icelab/channeldata.h"
#include "icelab/stun.h"
#include "icelab/stun_integrity.h"
#include "icelab/turn_server.h"

#define REALM "example.org"
#define MAX_SENT 64
#define PKT_CAP 2048

typedef struct sent_pkt {
	il_five_tuple ft;     /* to client: the 5-tuple; to peer: local=relayed, remote=peer */
	uint8_t data[PKT_CAP];
	size_t len;
	bool df;
} sent_pkt;

typedef struct fixture {
	il_turn_server *srv;
	il_turn_server_config cfg;
	il_peer_policy policy;
	uint64_t now;
	uint32_t rand_counter;
	sent_pkt to_client[MAX_SENT];
	size_t n_client;
	sent_pkt to_peer[MAX_SENT];
	size_t n_peer;
	/* relay_open */
	int relay_fail;          /* number of next relay_open calls that fail */
	bool relay_fail_v6;      /* every IPv6 relay_open fails */
	uint16_t next_port;
	il_addr relay_base_v4, relay_base_v6;
	int relay_opens, relay_closes;
	bool last_even_port, last_reserve;
	uint8_t last_transport;
	uint8_t last_family;         /* asked of relay_open */
	uint8_t token_family;        /* family of the reservation (0: IPv4) */
	uint8_t relay_family_override; /* nonzero: relay_open answers this family */
	/* tcp */
	int tcp_connects, tcp_connect_result;
	uint32_t last_conn_id;
	int tcp_binds, tcp_closes;
	uint32_t last_closed_id;
	int events[32];
	int key_lookups;
} fixture;

static fixture *F;

static const struct {
	const char *name, *password;
} test_users[] = {{"alice", "secret"}, {"bob", "hunter2"}};

static inline void cb_random(void *user, uint8_t *out, size_t len)
{
	fixture *f = user;
	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)(++f->rand_counter * 37u);
}

static inline void cb_send_to_client(void *user, const il_five_tuple *ft, const uint8_t *data,
			      size_t len)
{
	fixture *f = user;
	assert_true(f->n_client < MAX_SENT);
	sent_pkt *p = &f->to_client[f->n_client++];
	p->ft = *ft;
	p->len = len < PKT_CAP ? len : PKT_CAP;
	memcpy(p->data, data, p->len);
}

static inline void cb_send_to_peer(void *user, const il_addr *relayed, const il_addr *peer,
			    const uint8_t *data, size_t len, bool df)
{
	fixture *f = user;
	assert_true(f->n_peer < MAX_SENT);
	sent_pkt *p = &f->to_peer[f->n_peer++];
	memset(&p->ft, 0, sizeof p->ft);
	p->ft.local = *relayed;
	p->ft.remote = *peer;
	p->len = len < PKT_CAP ? len : PKT_CAP;
	memcpy(p->data, data, p->len);
	p->df = df;
}

static inline int cb_relay_open(void *user, uint8_t family, uint8_t transport, bool even_port,
			 bool reserve_next, const uint8_t *token, il_addr *relayed,
			 uint8_t token_out[8])
{
	fixture *f = user;
	f->relay_opens++;
	f->last_family = family;
	if (token) /* the reservation's family, asked as IL_AF_NONE */
		family = f->token_family ? f->token_family : IL_AF_INET;
	if (f->relay_family_override)
		family = f->relay_family_override;
	f->last_even_port = even_port;
	f->last_reserve = reserve_next;
	f->last_transport = transport;
	if (f->relay_fail > 0) {
		f->relay_fail--;
		return -1;
	}
	if (family == IL_AF_INET6 && f->relay_fail_v6)
		return -1;
	*relayed = family == IL_AF_INET ? f->relay_base_v4 : f->relay_base_v6;
	relayed->port = f->next_port;
	f->next_port += 2;
	if (reserve_next)
		memcpy(token_out, "TOKEN-42", 8);
	return 0;
}

static inline void cb_relay_close(void *user, const il_addr *relayed)
{
	(void)relayed;
	((fixture *)user)->relay_closes++;
}

static inline int cb_tcp_connect(void *user, const il_addr *relayed, const il_addr *peer,
			  uint32_t connection_id)
{
	fixture *f = user;
	(void)relayed;
	(void)peer;
	f->tcp_connects++;
	f->last_conn_id = connection_id;
	return f->tcp_connect_result;
}

static inline void cb_tcp_bind(void *user, const il_five_tuple *ft, uint32_t connection_id)
{
	(void)ft;
	fixture *f = user;
	f->tcp_binds++;
	f->last_conn_id = connection_id;
}

static inline void cb_tcp_close(void *user, uint32_t connection_id)
{
	fixture *f = user;
	f->tcp_closes++;
	f->last_closed_id = connection_id;
}

static inline void cb_event(void *user, int event, const il_five_tuple *ft, const char *detail)
{
	(void)ft;
	(void)detail;
	fixture *f = user;
	if (event >= 0 && event < 32)
		f->events[event]++;
}

static inline const char *password_of(const char *username)
{
	for (size_t i = 0; i < sizeof test_users / sizeof test_users[0]; i++)
		if (strcmp(test_users[i].name, username) == 0)
			return test_users[i].password;
	return NULL;
}

static inline bool cb_key_lookup(void *user, const char *realm, const char *username,
			  enum il_stun_password_algorithm alg, uint64_t now_s, il_stun_key *key)
{
	(void)now_s;
	((fixture *)user)->key_lookups++;
	const char *pw = password_of(username);
	return pw && il_stun_key_long_term(key, alg, username, realm, pw) == IL_STUN_OK;
}

static inline bool cb_userhash_lookup(void *user, const char *realm, const uint8_t hash[32],
			       enum il_stun_password_algorithm alg, uint64_t now_s,
			       il_stun_key *key, char *username, size_t cap)
{
	for (size_t i = 0; i < sizeof test_users / sizeof test_users[0]; i++) {
		uint8_t h[32];
		if (il_stun_userhash(test_users[i].name, realm, h) != IL_STUN_OK ||
		    memcmp(h, hash, 32) != 0)
			continue;
		snprintf(username, cap, "%s", test_users[i].name);
		return cb_key_lookup(user, realm, test_users[i].name, alg, now_s, key);
	}
	return false;
}

static inline il_addr A(const char *text)
{
	il_addr a;
	assert_int_equal(il_addr_parse(text, &a), 0);
	return a;
}

static inline il_five_tuple FT(const char *client, uint8_t transport)
{
	il_five_tuple ft;
	memset(&ft, 0, sizeof ft);
	ft.local = A("198.51.100.1:3478");
	ft.remote = A(client);
	ft.transport = transport;
	return ft;
}

static const il_turn_server_callbacks test_callbacks = {
	.random = cb_random,
	.send_to_client = cb_send_to_client,
	.send_to_peer = cb_send_to_peer,
	.relay_open = cb_relay_open,
	.relay_close = cb_relay_close,
	.tcp_connect = cb_tcp_connect,
	.tcp_bind = cb_tcp_bind,
	.tcp_close = cb_tcp_close,
	.event = cb_event,
};

/* Builds the server from f->cfg (call after adjusting it). */
static inline void fixture_start(fixture *f)
{
	il_turn_server_callbacks cb = test_callbacks;
	cb.user = f;
	f->cfg.peers = &f->policy;
	f->srv = il_turn_server_new(&f->cfg, &cb);
	assert_non_null(f->srv);
}

static inline int setup_config(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	F = f;
	il_turn_server_config_defaults(&f->cfg);
	f->cfg.realm = REALM;
	f->cfg.software = "icelab-test";
	f->cfg.max_allocations = 64;
	f->cfg.key_lookup = cb_key_lookup;
	f->cfg.userhash_lookup = cb_userhash_lookup;
	f->cfg.allow_private_relay = true; /* relays on loopback below */
	for (int i = 0; i < 32; i++)
		f->cfg.nonce_secret[i] = (uint8_t)(i * 7 + 1);
	il_peer_policy_init(&f->policy);
	f->relay_base_v4 = A("127.0.0.1:0");
	f->relay_base_v6 = A("[::1]:0");
	f->next_port = 50000;
	f->now = 1000000;
	*state = f;
	return 0;
}

static inline int setup(void **state)
{
	setup_config(state);
	fixture_start(*state);
	return 0;
}

static inline int teardown(void **state)
{
	fixture *f = *state;
	il_turn_server_free(f->srv);
	free(f);
	return 0;
}

/* ---- a tiny client ---- */

typedef struct creds {
	const char *username;       /* NULL: no credentials */
	const char *password;
	char nonce[128];
	size_t nonce_len;
	enum il_stun_password_algorithm alg;
	bool send_algorithms;       /* PASSWORD-ALGORITHMS + PASSWORD-ALGORITHM */
	bool sha256_mi;             /* MESSAGE-INTEGRITY-SHA256 instead of MI */
	bool userhash;              /* USERHASH instead of USERNAME */
	uint16_t algs_echo[4];      /* PASSWORD-ALGORITHMS to echo */
	size_t n_algs_echo;
} creds;

typedef void (*add_attrs_fn)(il_stun_builder *b, const void *arg);

static uint8_t tid_counter;

static inline void next_tid(uint8_t tid[12])
{
	tid_counter++;
	for (int i = 0; i < 12; i++)
		tid[i] = (uint8_t)(tid_counter + i);
}

/* Builds a request into out; returns its length. */
static inline size_t build_request(uint8_t *out, size_t cap, uint16_t method, uint8_t cls,
			    const uint8_t tid[12], add_attrs_fn add, const void *arg,
			    const creds *c)
{
	il_stun_builder b;
	il_stun_builder_init(&b, out, cap, method, cls, tid);
	if (add)
		add(&b, arg);
	if (c && c->username) {
		if (c->userhash) {
			uint8_t h[32];
			assert_int_equal(il_stun_userhash(c->username, REALM, h), IL_STUN_OK);
			il_stun_add_raw(&b, IL_ATTR_USERHASH, h, 32);
		} else {
			il_stun_add_string(&b, IL_ATTR_USERNAME, c->username, strlen(c->username));
		}
		il_stun_add_string(&b, IL_ATTR_REALM, REALM, strlen(REALM));
		il_stun_add_string(&b, IL_ATTR_NONCE, c->nonce, c->nonce_len);
		if (c->send_algorithms) {
			il_stun_add_password_algorithms(&b, c->algs_echo, c->n_algs_echo);
			il_stun_add_password_algorithm(&b, (uint16_t)c->alg);
		}
		il_stun_key key;
		assert_int_equal(il_stun_key_long_term(&key, c->alg ? c->alg : IL_STUN_PWALG_MD5,
						       c->username, REALM, c->password),
				 IL_STUN_OK);
		if (c->sha256_mi)
			il_stun_add_message_integrity_sha256(&b, &key, 32);
		else
			il_stun_add_message_integrity(&b, &key);
	}
	il_stun_add_fingerprint(&b);
	enum il_stun_err err;
	size_t len = il_stun_builder_finish(&b, &err);
	assert_int_equal(err, IL_STUN_OK);
	return len;
}

/* Sends a request from ft; returns the index of the first packet it caused. */
static inline size_t send_request(const il_five_tuple *ft, uint16_t method, const uint8_t tid[12],
			   add_attrs_fn add, const void *arg, const creds *c)
{
	uint8_t buf[PKT_CAP];
	size_t len = build_request(buf, sizeof buf, method, IL_STUN_REQUEST, tid, add, arg, c);
	size_t first = F->n_client;
	il_turn_server_handle_client(F->srv, ft, buf, len, F->now);
	return first;
}

/* The last packet sent to the client, decoded. */
static il_stun_msg last_reply;
static inline const il_stun_msg *reply_at(size_t i)
{
	assert_true(i < F->n_client);
	assert_int_equal(il_stun_decode(F->to_client[i].data, F->to_client[i].len, &last_reply,
					NULL),
			 IL_STUN_OK);
	return &last_reply;
}

static inline const il_stun_msg *last(void)
{
	assert_true(F->n_client > 0);
	return reply_at(F->n_client - 1);
}

static inline int error_code_of(const il_stun_msg *m)
{
	const il_stun_attr *a = il_stun_msg_find(m, IL_ATTR_ERROR_CODE);
	if (m->cls != IL_STUN_ERROR || !a)
		return 0;
	int code;
	const char *r;
	size_t rl;
	assert_int_equal(il_stun_attr_get_error_code(m, a, &code, &r, &rl), IL_STUN_OK);
	return code;
}

static inline void take_nonce(const il_stun_msg *m, creds *c)
{
	const il_stun_attr *n = il_stun_msg_find(m, IL_ATTR_NONCE);
	assert_non_null(n);
	const char *t;
	il_stun_attr_get_string(m, n, &t, &c->nonce_len);
	assert_true(c->nonce_len < sizeof c->nonce);
	memcpy(c->nonce, t, c->nonce_len);
	const il_stun_attr *pas = il_stun_msg_find(m, IL_ATTR_PASSWORD_ALGORITHMS);
	c->n_algs_echo = 0;
	if (pas)
		il_stun_attr_get_password_algorithms(m, pas, c->algs_echo, 4, &c->n_algs_echo);
}

static inline creds user_creds(const char *name, const char *pw)
{
	creds c;
	memset(&c, 0, sizeof c);
	c.username = name;
	c.password = pw;
	c.alg = IL_STUN_PWALG_MD5;
	return c;
}

/* Gets a nonce for ft: an unauthenticated request answered 401. */
static inline void challenge_for(const il_five_tuple *ft, uint16_t method, creds *c)
{
	uint8_t tid[12];
	next_tid(tid);
	size_t i = send_request(ft, method, tid, NULL, NULL, NULL);
	assert_int_equal(F->n_client, i + 1);
	assert_int_equal(error_code_of(reply_at(i)), 401);
	take_nonce(reply_at(i), c);
}

static inline void add_udp_transport(il_stun_builder *b, const void *arg)
{
	(void)arg;
	il_stun_add_u32(b, IL_ATTR_REQUESTED_TRANSPORT, (uint32_t)TURN_PROTO_UDP << 24);
}

static inline void add_tcp_transport(il_stun_builder *b, const void *arg)
{
	(void)arg;
	il_stun_add_u32(b, IL_ATTR_REQUESTED_TRANSPORT, (uint32_t)TURN_PROTO_TCP << 24);
}

/* A full allocation for ft as alice: challenge, then the Allocate;
 * returns the relayed address and fills *c for later requests. */
static inline il_addr allocate_as(const il_five_tuple *ft, creds *c, add_attrs_fn add)
{
	challenge_for(ft, IL_STUN_ALLOCATE, c);
	uint8_t tid[12];
	next_tid(tid);
	size_t i = send_request(ft, IL_STUN_ALLOCATE, tid, add ? add : add_udp_transport, NULL, c);
	assert_int_equal(F->n_client, i + 1);
	const il_stun_msg *m = reply_at(i);
	if (m->cls != IL_STUN_SUCCESS)
		fail_msg("allocate failed: %d", error_code_of(m));
	il_addr relayed;
	const il_stun_attr *ra = il_stun_msg_find(m, IL_ATTR_XOR_RELAYED_ADDRESS);
	assert_non_null(ra);
	assert_int_equal(il_stun_attr_get_addr(m, ra, &relayed), IL_STUN_OK);
	return relayed;
}

static inline il_addr allocate_alice(const il_five_tuple *ft, creds *c)
{
	*c = user_creds("alice", "secret");
	return allocate_as(ft, c, NULL);
}

static inline void add_peer(il_stun_builder *b, const void *arg)
{
	il_stun_add_xor_addr(b, IL_ATTR_XOR_PEER_ADDRESS, (const il_addr *)arg);
}

typedef struct chan_arg {
	uint16_t number;
	il_addr peer;
} chan_arg;

static inline void add_channel(il_stun_builder *b, const void *arg)
{
	const chan_arg *ca = arg;
	il_stun_add_channel_number(b, ca->number);
	il_stun_add_xor_addr(b, IL_ATTR_XOR_PEER_ADDRESS, &ca->peer);
}

/* A request with credentials c; returns the error code (0: success). */
static inline int request(const il_five_tuple *ft, uint16_t method, add_attrs_fn add, const void *arg,
		   creds *c)
{
	uint8_t tid[12];
	next_tid(tid);
	size_t i = send_request(ft, method, tid, add, arg, c);
	assert_int_equal(F->n_client, i + 1);
	const il_stun_msg *m = reply_at(i);
	return m->cls == IL_STUN_SUCCESS ? 0 : error_code_of(m);
}

static inline int create_permission(const il_five_tuple *ft, creds *c, const char *peer)
{
	il_addr p = A(peer);
	return request(ft, IL_STUN_CREATEPERMISSION, add_peer, &p, c);
}

static inline int channel_bind(const il_five_tuple *ft, creds *c, uint16_t number, const char *peer)
{
	chan_arg ca = {number, A(peer)};
	return request(ft, IL_STUN_CHANNELBIND, add_channel, &ca, c);
}

typedef struct send_arg {
	il_addr peer;
	const char *data;
} send_arg;

static inline void add_send(il_stun_builder *b, const void *arg)
{
	const send_arg *s = arg;
	il_stun_add_xor_addr(b, IL_ATTR_XOR_PEER_ADDRESS, &s->peer);
	il_stun_add_raw(b, IL_ATTR_DATA, s->data, strlen(s->data));
}

static inline void send_indication(const il_five_tuple *ft, const char *peer, const char *data)
{
	send_arg s = {A(peer), data};
	uint8_t buf[PKT_CAP], tid[12];
	next_tid(tid);
	size_t len = build_request(buf, sizeof buf, IL_STUN_SEND, IL_STUN_INDICATION, tid,
				   add_send, &s, NULL);
	il_turn_server_handle_client(F->srv, ft, buf, len, F->now);
}

static inline void advance(uint64_t ms)
{
	F->now += ms;
	il_turn_server_timer(F->srv, F->now);
}

#endif
