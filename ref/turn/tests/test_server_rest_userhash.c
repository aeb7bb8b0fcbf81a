/* TURN REST credentials and USERHASH (RFC 8489 §9.2.4, §14.4), end to end
 * in memory: our TURN client core, which sends USERHASH whenever the
 * nonce cookie has the "Username anonymity" bit, against the server core
 * with a REST credential store (draft-uberti-behave-turn-rest-00).
 *
 * A REST username ("expiry:user") is made by a web service and never
 * stored, so no lookup can find it from its hash: a server that offers
 * anonymity fails every such client with 401. `icelab serve` therefore
 * gives a tenant that accepts REST no userhash_lookup (io_server.c), and
 * the core then leaves the bit at 0; this proves that such a core lets a
 * USERHASH-capable client allocate with a REST credential, and what goes
 * wrong when the bit is offered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "icelab/rest_credentials.h"
#include "icelab/stun.h"
#include "icelab/stun_integrity.h"
#include "icelab/turn_client.h"
#include "icelab/turn_server.h"

#define QMAX 16
#define PMAX 2048
#define REALM "example.org"
#define SECRET "0123456789abcdef0123456789abcdef"
#define NOW_S 1700000000u

typedef struct pkt {
	uint8_t data[PMAX];
	size_t len;
} pkt;

typedef struct world {
	il_turn_client *client;
	il_turn_server *server;
	il_five_tuple ft;
	uint64_t now;
	uint32_t rng;
	pkt to_server[QMAX], to_client[QMAX];
	size_t n_server, n_client;
	uint32_t cookie_features; /* of the last NONCE the server sent */
	bool saw_nonce;
	bool saw_userhash, saw_username;
	int failures;
} world;

static void det_random(void *user, uint8_t *out, size_t len)
{
	world *w = user;
	for (size_t i = 0; i < len; i++) {
		w->rng = w->rng * 1664525u + 1013904223u;
		out[i] = (uint8_t)(w->rng >> 24);
	}
}

static void c_send(void *user, const uint8_t *data, size_t len)
{
	world *w = user;
	assert_true(w->n_server < QMAX && len <= PMAX);
	memcpy(w->to_server[w->n_server].data, data, len);
	w->to_server[w->n_server++].len = len;
	il_stun_msg m;
	if (il_stun_decode(data, len, &m, NULL) == IL_STUN_OK) {
		w->saw_userhash |= il_stun_msg_find(&m, IL_ATTR_USERHASH) != NULL;
		w->saw_username |= il_stun_msg_find(&m, IL_ATTR_USERNAME) != NULL;
	}
}

static void c_event(void *user, const il_turn_client_event *ev)
{
	world *w = user;
	if (ev->type == IL_TURN_CLIENT_EV_ALLOCATE_FAILED)
		w->failures++;
}

static void s_send(void *user, const il_five_tuple *ft, const uint8_t *data, size_t len)
{
	(void)ft;
	world *w = user;
	assert_true(w->n_client < QMAX && len <= PMAX);
	memcpy(w->to_client[w->n_client].data, data, len);
	w->to_client[w->n_client++].len = len;
	il_stun_msg m;
	assert_int_equal(il_stun_decode(data, len, &m, NULL), IL_STUN_OK);
	const il_stun_attr *n = il_stun_msg_find(&m, IL_ATTR_NONCE);
	if (n) {
		const char *t;
		size_t tl;
		il_stun_attr_get_string(&m, n, &t, &tl);
		w->saw_nonce = il_stun_nonce_cookie_parse(t, tl, &w->cookie_features);
	}
}

static int s_relay_open(void *user, uint8_t family, uint8_t transport, bool even_port,
			bool reserve_next, const uint8_t *token, il_addr *relayed,
			uint8_t token_out[8])
{
	(void)user, (void)transport, (void)even_port, (void)reserve_next, (void)token;
	(void)token_out;
	if (family != IL_AF_INET)
		return -1;
	return il_addr_parse("198.51.100.1:50000", relayed);
}

static void s_relay_close(void *user, const il_addr *relayed)
{
	(void)user, (void)relayed;
}

/* The REST store of a tenant: any "expiry:user" whose password is
 * base64(HMAC-SHA1(SECRET, username)). */
static size_t rest_keys(void *user, const char *realm, const char *username,
			enum il_stun_password_algorithm alg, uint64_t now_s,
			il_stun_key keys[IL_TURN_MAX_KEYS])
{
	(void)user;
	il_rest_verifier v = {.secret = (const uint8_t *)SECRET, .secret_len = strlen(SECRET)};
	size_t n = 0;
	if (il_rest_long_term_keys(&v, username, realm, alg, now_s, keys, &n) != IL_REST_OK)
		return 0;
	return n;
}

/* What a USERHASH store can do: find the static users it knows. */
static bool static_userhash(void *user, const char *realm, const uint8_t hash[32],
			    enum il_stun_password_algorithm alg, uint64_t now_s, il_stun_key *key,
			    char *username, size_t cap)
{
	(void)user, (void)now_s;
	uint8_t h[32];
	if (il_stun_userhash("alice", realm, h) != IL_STUN_OK || memcmp(h, hash, 32) != 0)
		return false;
	snprintf(username, cap, "alice");
	return il_stun_key_long_term(key, alg, "alice", realm, "secret") == IL_STUN_OK;
}

static world *world_new(bool offer_userhash)
{
	world *w = test_calloc(1, sizeof *w);
	w->now = 1000;
	w->rng = 42;
	assert_int_equal(il_addr_parse("198.51.100.1:3478", &w->ft.local), 0);
	assert_int_equal(il_addr_parse("203.0.113.5:40000", &w->ft.remote), 0);
	w->ft.transport = IL_TRANSPORT_UDP;
	il_turn_server_config scfg;
	il_turn_server_config_defaults(&scfg);
	scfg.realm = REALM;
	scfg.keys_lookup = rest_keys;
	scfg.userhash_lookup = offer_userhash ? static_userhash : NULL;
	scfg.allow_private_relay = true;
	/* UNIX time for REST expiry: now_ms + offset */
	scfg.wall_clock_offset_ms = (int64_t)NOW_S * 1000 - (int64_t)w->now;
	for (int i = 0; i < 32; i++)
		scfg.nonce_secret[i] = (uint8_t)(i + 3);
	il_turn_server_callbacks scb = {.user = w, .random = det_random, .send_to_client = s_send,
					.relay_open = s_relay_open, .relay_close = s_relay_close};
	w->server = il_turn_server_new(&scfg, &scb);
	assert_non_null(w->server);
	return w;
}

static void world_client(world *w, const char *username, const char *password)
{
	il_turn_client_config ccfg;
	il_turn_client_config_defaults(&ccfg);
	ccfg.username = username;
	ccfg.password = password;
	il_turn_client_callbacks ccb = {.user = w, .random = det_random, .send = c_send,
					.event = c_event};
	w->client = il_turn_client_new(&ccfg, &ccb);
	assert_non_null(w->client);
}

static void world_free(world *w)
{
	il_turn_client_free(w->client);
	il_turn_server_free(w->server);
	test_free(w);
}

static void pump(world *w)
{
	for (int round = 0; round < 20 && (w->n_server || w->n_client); round++) {
		pkt q[QMAX];
		size_t n = w->n_server;
		memcpy(q, w->to_server, n * sizeof q[0]);
		w->n_server = 0;
		for (size_t i = 0; i < n; i++)
			il_turn_server_handle_client(w->server, &w->ft, q[i].data, q[i].len, w->now);
		n = w->n_client;
		memcpy(q, w->to_client, n * sizeof q[0]);
		w->n_client = 0;
		for (size_t i = 0; i < n; i++)
			il_turn_client_handle_datagram(w->client, q[i].data, q[i].len, w->now);
	}
}

static void rest_credential(char username[IL_REST_USERNAME_MAX],
			    char password[IL_REST_PASSWORD_SIZE])
{
	assert_int_equal(il_rest_credential_make((const uint8_t *)SECRET, strlen(SECRET), "webuser",
						 NOW_S, 3600, username, IL_REST_USERNAME_MAX,
						 password),
			 IL_REST_OK);
}

static void test_rest_credential_allocates_for_userhash_capable_client(void **state)
{
	(void)state;
	world *w = world_new(false);
	char username[IL_REST_USERNAME_MAX], password[IL_REST_PASSWORD_SIZE];
	rest_credential(username, password);
	world_client(w, username, password);
	assert_int_equal(il_turn_client_allocate(w->client, w->now), 0);
	pump(w);
	assert_true(w->saw_nonce);
	assert_int_equal(w->cookie_features & IL_STUN_FEATURE_USERNAME_ANONYMITY, 0);
	assert_false(w->saw_userhash);
	assert_true(w->saw_username);
	assert_int_equal(il_turn_client_get_state(w->client), IL_TURN_CLIENT_ALLOCATED);
	assert_int_equal(w->failures, 0);
	il_turn_server_stats st;
	il_turn_server_get_stats(w->server, &st);
	assert_int_equal(st.allocations, 1);
	assert_int_equal(st.auth_failures, 0);
	world_free(w);
}

/* The bug this avoids: with anonymity offered the same client sends
 * USERHASH, the store cannot find a REST user from it, and it fails. */
static void test_rest_credential_fails_when_anonymity_is_offered(void **state)
{
	(void)state;
	world *w = world_new(true);
	char username[IL_REST_USERNAME_MAX], password[IL_REST_PASSWORD_SIZE];
	rest_credential(username, password);
	world_client(w, username, password);
	assert_int_equal(il_turn_client_allocate(w->client, w->now), 0);
	pump(w);
	assert_true(w->cookie_features & IL_STUN_FEATURE_USERNAME_ANONYMITY);
	assert_true(w->saw_userhash);
	assert_int_not_equal(il_turn_client_get_state(w->client), IL_TURN_CLIENT_ALLOCATED);
	assert_int_equal(w->failures, 1);
	il_turn_server_stats st;
	il_turn_server_get_stats(w->server, &st);
	assert_int_equal(st.allocations, 0);
	assert_true(st.auth_failures >= 1);
	world_free(w);
}

/* Where anonymity is offered (no REST), static users do use USERHASH. */
static void test_static_user_allocates_with_userhash_when_offered(void **state)
{
	(void)state;
	world *w = world_new(true);
	world_client(w, "alice", "secret");
	assert_int_equal(il_turn_client_allocate(w->client, w->now), 0);
	pump(w);
	assert_true(w->saw_userhash);
	assert_false(w->saw_username);
	assert_int_equal(il_turn_client_get_state(w->client), IL_TURN_CLIENT_ALLOCATED);
	world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rest_credential_allocates_for_userhash_capable_client),
		cmocka_unit_test(test_rest_credential_fails_when_anonymity_is_offered),
		cmocka_unit_test(test_static_user_allocates_with_userhash_when_offered),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
