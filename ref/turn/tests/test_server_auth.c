/* Long-term credentials on the TURN server core (RFC 8489 §9.2, RFC 8656
 * §5): challenge, stale nonce, algorithm negotiation and bid-down
 * protection, USERHASH, identical failures, 441, stateless nonces. */
#include "test_server_util.h"

/* RFC 8489 §9.2.4: "If the message does not contain a MESSAGE-INTEGRITY
 * ... 401 ... MUST include a REALM value ... MUST include a NONCE" with
 * the nonce cookie, PASSWORD-ALGORITHMS and its feature bit. */
static void test_allocate_without_credentials_gets_401_with_realm_and_nonce(void **state)
{
	(void)state;
	il_five_tuple ft = FT("203.0.113.7:40000", IL_TRANSPORT_UDP);
	uint8_t tid[12];
	next_tid(tid);
	send_request(&ft, IL_STUN_ALLOCATE, tid, add_udp_transport, NULL, NULL);
	const il_stun_msg *m = last();
	assert_int_equal(m->cls, IL_STUN_ERROR);
	assert_int_equal(error_code_of(m), 401);
	assert_memory_equal(m->tid, tid, 12);
	const il_stun_attr *realm = il_stun_msg_find(m, IL_ATTR_REALM);
	assert_non_null(realm);
	assert_int_equal(realm->length, strlen(REALM));
	assert_memory_equal(il_stun_attr_value(m, realm), REALM, strlen(REALM));
	const il_stun_attr *nonce = il_stun_msg_find(m, IL_ATTR_NONCE);
	assert_non_null(nonce);
	uint32_t features = 0;
	assert_true(il_stun_nonce_cookie_parse((const char *)il_stun_attr_value(m, nonce),
					       nonce->length, &features));
	assert_true(features & IL_STUN_FEATURE_PASSWORD_ALGORITHMS);
	assert_true(features & IL_STUN_FEATURE_USERNAME_ANONYMITY);
	const il_stun_attr *pas = il_stun_msg_find(m, IL_ATTR_PASSWORD_ALGORITHMS);
	assert_non_null(pas);
	uint16_t algs[4];
	size_t n = 0;
	il_stun_attr_get_password_algorithms(m, pas, algs, 4, &n);
	assert_int_equal(n, 2);
	assert_int_equal(algs[0], IL_STUN_PWALG_SHA256);
	assert_int_equal(algs[1], IL_STUN_PWALG_MD5);
	/* "SHOULD NOT contain a USERNAME, USERHASH, MESSAGE-INTEGRITY" */
	assert_int_equal(m->mi_index, -1);
	assert_int_equal(m->mi256_index, -1);
	assert_null(il_stun_msg_find(m, IL_ATTR_USERNAME));
	assert_int_equal(il_stun_check_fingerprint(m), IL_STUN_VERDICT_OK);
	assert_int_equal(F->relay_opens, 0);
}

static void test_md5_only_server_sends_no_password_algorithms(void **state)
{
	fixture *f = *state;
	il_turn_server_free(f->srv);
	f->cfg.allow_sha256 = false;
	f->cfg.userhash_lookup = NULL;
	fixture_start(f);
	il_five_tuple ft = FT("203.0.113.7:40000", IL_TRANSPORT_UDP);
	creds c = user_creds("alice", "secret");
	challenge_for(&ft, IL_STUN_ALLOCATE, &c);
	const il_stun_msg *m = last();
	assert_null(il_stun_msg_find(m, IL_ATTR_PASSWORD_ALGORITHMS));
	uint32_t features = 1;
	assert_true(il_stun_nonce_cookie_parse(c.nonce, c.nonce_len, &features));
	assert_int_equal(features, 0);
	/* An RFC 5389 client (MD5, no algorithm attributes) authenticates. */
	assert_int_equal(request(&ft, IL_STUN_ALLOCATE, add_udp_transport, NULL, &c), 0);
}

static void test_authenticated_allocate_succeeds_with_integrity_and_fingerprint(void **state)
{
	(void)state;
	il_five_tuple ft = FT("203.0.113.7:40000", IL_TRANSPORT_UDP);
	creds c;
	allocate_alice(&ft, &c);
	const il_stun_msg *m = last();
	assert_true(m->mi_index >= 0);
	il_stun_key key;
	il_stun_key_long_term(&key, IL_STUN_PWALG_MD5, "alice", REALM, "secret");
	assert_int_equal(il_stun_check_integrity(m, &key), IL_STUN_VERDICT_OK);
	assert_int_equal(il_stun_check_fingerprint(m), IL_STUN_VERDICT_OK);
	/* Processed as MD5: MESSAGE-INTEGRITY, no REALM or NONCE (§9.2.4). */
	assert_null(il_stun_msg_find(m, IL_ATTR_REALM));
	assert_null(il_stun_msg_find(m, IL_ATTR_NONCE));
}

static void test_stale_nonce_gets_438_with_fresh_nonce(void **state)
{
	fixture *f = *state;
	il_five_tuple ft = FT("203.0.113.7:40000", IL_TRANSPORT_UDP);
	creds c;
	allocate_alice(&ft, &c);
	f->now += (uint64_t)f->cfg.nonce_lifetime_s * 1000u; /* no timer: allocation lives */
	char old[128];
	memcpy(old, c.nonce, c.nonce_len);
	size_t old_len = c.nonce_len;
	assert_int_equal(request(&ft, IL_STUN_REFRESH, NULL, NULL, &c), 438);
	const il_stun_msg *m = last();
	assert_non_null(il_stun_msg_find(m, IL_ATTR_REALM));
	assert_non_null(il_stun_msg_find(m, IL_ATTR_PASSWORD_ALGORITHMS));
	take_nonce(m, &c);
	assert_false(c.nonce_len == old_len && memcmp(c.nonce, old, old_len) == 0);
	/* The fresh nonce works. */
	assert_int_equal(request(&ft, IL_STUN_REFRESH, NULL, NULL, &c), 0);
}

static void test_nonce_of_another_client_is_not_valid_here(void **state)
{
	(void)state;
	il_five_tuple a = FT("203.0.113.7:40000", IL_TRANSPORT_UDP);
	il_five_tuple b = FT("203.0.113.7:40001", IL_TRANSPORT_UDP);
	creds c = user_creds("alice", "secret");
	challenge_for(&a, IL_STUN_ALLOCATE, &c);
	/* "MUST NOT choose the same NONCE for two requests unless they have
	 * the same source IP address and port" */
	creds d = user_creds("alice", "secret");
	challenge_for(&b, IL_STUN_ALLOCATE, &d);
	assert_false(c.nonce_len == d.nonce_len && memcmp(c.nonce, d.nonce, c.nonce_len) == 0);
	assert_int_equal(request(&b, IL_STUN_ALLOCATE, add_udp_transport, NULL, &c), 438);
	assert_int_equal(F->relay_opens, 0);
}

static void test_forged_nonce_gets_438(void **state)
{
	(void)state;
	il_five_tuple ft = FT("203.0.113.7:40000", IL_TRANSPORT_UDP);
	creds c = user_creds("alice", "secret");
	challenge_for(&ft, IL_STUN_ALLOCATE, &c);
	c.nonce[c.nonce_len - 3] ^= 1;
	assert_int_equal(request(&ft, IL_STUN_ALLOCATE, add_udp_transport, NULL, &c), 438);
	assert_int_equal(F->relay_opens, 0);
}

/* §9.2.4: unknown user and wrong password: the same 401, no hint. */
static void test_unknown_user_and_wrong_password_answered_identically(void **state)
{
	(void)state;
	il_five_tuple ft = FT("203.0.113.7:40000", IL_TRANSPORT_UDP);
	creds c = user_creds("alice", "secret");
	challenge_for(&ft, IL_STUN_ALLOCATE, &c);
	uint8_t tid[12] = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9};
	creds wrong_pw = c, unknown = c;
	wrong_pw.password = "not-the-password";
	unknown.username = "mallory";
	size_t i = send_request(&ft, IL_STUN_ALLOCATE, tid, add_udp_transport, NULL, &wrong_pw);
	size_t j = send_request(&ft, IL_STUN_ALLOCATE, tid, add_udp_transport, NULL, &unknown);
	assert_int_equal(F->n_client, j + 1);
	assert_int_equal(error_code_of(reply_at(i)), 401);
	assert_int_equal(F->to_client[i].len, F->to_client[j].len);
	assert_memory_equal(F->to_client[i].data, F->to_client[j].data, F->to_client[i].len);
	il_turn_server_stats st;
	il_turn_server_get_stats(F->srv, &st);
	assert_int_equal(st.auth_failures, 2);
	assert_int_equal(F->relay_opens, 0);
}

static void test_missing_realm_with_integrity_gets_400(void **state)
{
	(void)state;
	il_five_tuple ft = FT("203.0.113.7:40000", IL_TRANSPORT_UDP);
	uint8_t buf[512], tid[12];
	next_tid(tid);
	il_stun_builder b;
	il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_ALLOCATE, IL_STUN_REQUEST, tid);
	add_udp_transport(&b, NULL);
	il_stun_add_string(&b, IL_ATTR_USERNAME, "alice", 5);
	il_stun_key key;
	il_stun_key_long_term(&key, IL_STUN_PWALG_MD5, "alice", REALM, "secret");
	il_stun_add_message_integrity(&b, &key);
	size_t len = il_stun_builder_finish(&b, NULL);
	il_turn_server_handle_client(F->srv, &ft, buf, len, F->now);
	assert_int_equal(error_code_of(last()), 400);
	/* "This response SHOULD NOT include a USERNAME, USERHASH, NONCE, or
	 * REALM attribute." */
	assert_null(il_stun_msg_find(last(), IL_ATTR_NONCE));
	assert_null(il_stun_msg_find(last(), IL_ATTR_REALM));
}

static void test_sha256_password_algorithm_negotiated(void **state)
{
	(void)state;
	il_five_tuple ft = FT("203.0.113.7:40000", IL_TRANSPORT_UDP);
	creds c = user_creds("alice", "secret");
	challenge_for(&ft, IL_STUN_ALLOCATE, &c);
	c.alg = IL_STUN_PWALG_SHA256;
	c.send_algorithms = true;
	c.sha256_mi = true;
	assert_int_equal(request(&ft, IL_STUN_ALLOCATE, add_udp_transport, NULL, &c), 0);
	const il_stun_msg *m = last();
	/* The response carries MESSAGE-INTEGRITY-SHA256 under the SHA-256 key. */
	assert_true(m->mi256_index >= 0);
	assert_int_equal(m->mi_index, -1);
	il_stun_key key;
	il_stun_key_long_term(&key, IL_STUN_PWALG_SHA256, "alice", REALM, "secret");
	assert_int_equal(il_stun_check_integrity_sha256(m, &key), IL_STUN_VERDICT_OK);
	/* A SHA-256 key with a plain MESSAGE-INTEGRITY works too, and is
	 * answered with MESSAGE-INTEGRITY. */
	c.sha256_mi = false;
	assert_int_equal(request(&ft, IL_STUN_REFRESH, NULL, NULL, &c), 0);
	assert_true(last()->mi_index >= 0);
	assert_int_equal(il_stun_check_integrity(last(), &key), IL_STUN_VERDICT_OK);
}

static void test_password_algorithms_bid_down_rejected(void **state)
{
	(void)state;
	il_five_tuple ft = FT("203.0.113.7:40000", IL_TRANSPORT_UDP);
	creds c = user_creds("alice", "secret");
	challenge_for(&ft, IL_STUN_ALLOCATE, &c);
	/* A middlebox stripped SHA-256 from PASSWORD-ALGORITHMS: the list the
	 * client echoes no longer matches what the server sent: 400. */
	c.send_algorithms = true;
	c.alg = IL_STUN_PWALG_MD5;
	c.algs_echo[0] = IL_STUN_PWALG_MD5;
	c.n_algs_echo = 1;
	assert_int_equal(request(&ft, IL_STUN_ALLOCATE, add_udp_transport, NULL, &c), 400);
	/* PASSWORD-ALGORITHM without PASSWORD-ALGORITHMS: 400. */
	creds d = user_creds("alice", "secret");
	challenge_for(&ft, IL_STUN_ALLOCATE, &d);
	uint8_t buf[512], tid[12];
	next_tid(tid);
	il_stun_builder b;
	il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_ALLOCATE, IL_STUN_REQUEST, tid);
	add_udp_transport(&b, NULL);
	il_stun_add_string(&b, IL_ATTR_USERNAME, "alice", 5);
	il_stun_add_string(&b, IL_ATTR_REALM, REALM, strlen(REALM));
	il_stun_add_string(&b, IL_ATTR_NONCE, d.nonce, d.nonce_len);
	il_stun_add_password_algorithm(&b, IL_STUN_PWALG_MD5);
	il_stun_key key;
	il_stun_key_long_term(&key, IL_STUN_PWALG_MD5, "alice", REALM, "secret");
	il_stun_add_message_integrity(&b, &key);
	size_t len = il_stun_builder_finish(&b, NULL);
	il_turn_server_handle_client(F->srv, &ft, buf, len, F->now);
	assert_int_equal(error_code_of(last()), 400);
	/* A nonce whose cookie had its "Password algorithms" bit cleared
	 * (to make the client use MD5 unquestioned) is not ours: 438. */
	creds e = user_creds("alice", "secret");
	challenge_for(&ft, IL_STUN_ALLOCATE, &e);
	char cookie[IL_STUN_NONCE_COOKIE_LEN];
	il_stun_nonce_cookie_write(0, cookie);
	memcpy(e.nonce, cookie, sizeof cookie);
	assert_int_equal(request(&ft, IL_STUN_ALLOCATE, add_udp_transport, NULL, &e), 438);
	assert_int_equal(F->relay_opens, 0);
}

static void test_password_algorithm_not_listed_rejected(void **state)
{
	(void)state;
	il_five_tuple ft = FT("203.0.113.7:40000", IL_TRANSPORT_UDP);
	creds c = user_creds("alice", "secret");
	challenge_for(&ft, IL_STUN_ALLOCATE, &c);
	/* The echoed list was tampered with (an algorithm replaced). */
	c.send_algorithms = true;
	c.alg = IL_STUN_PWALG_MD5;
	c.algs_echo[1] = 0x0007;
	assert_int_equal(request(&ft, IL_STUN_ALLOCATE, add_udp_transport, NULL, &c), 400);
}

static void test_userhash_authenticates(void **state)
{
	(void)state;
	il_five_tuple ft = FT("203.0.113.7:40000", IL_TRANSPORT_UDP);
	creds c = user_creds("alice", "secret");
	c.userhash = true;
	c.alg = IL_STUN_PWALG_SHA256;
	c.send_algorithms = true;
	c.sha256_mi = true;
	allocate_as(&ft, &c, NULL);
	/* The allocation belongs to alice: alice by USERNAME may refresh it,
	 * bob may not. */
	creds named = c;
	named.userhash = false;
	assert_int_equal(request(&ft, IL_STUN_REFRESH, NULL, NULL, &named), 0);
	creds bob = c;
	bob.userhash = false;
	bob.username = "bob";
	bob.password = "hunter2";
	assert_int_equal(request(&ft, IL_STUN_REFRESH, NULL, NULL, &bob), 441);
}

static void test_userhash_of_unknown_user_gets_401(void **state)
{
	(void)state;
	il_five_tuple ft = FT("203.0.113.7:40000", IL_TRANSPORT_UDP);
	creds c = user_creds("mallory", "x");
	c.userhash = true;
	challenge_for(&ft, IL_STUN_ALLOCATE, &c);
	assert_int_equal(request(&ft, IL_STUN_ALLOCATE, add_udp_transport, NULL, &c), 401);
}

/* RFC 8656 §5: "the request does not use the same username as used to
 * create the allocation, then the request MUST be rejected with a 441" */
static void test_other_users_credentials_get_441(void **state)
{
	(void)state;
	il_five_tuple ft = FT("203.0.113.7:40000", IL_TRANSPORT_UDP);
	creds alice;
	allocate_alice(&ft, &alice);
	creds bob = user_creds("bob", "hunter2");
	memcpy(bob.nonce, alice.nonce, alice.nonce_len);
	bob.nonce_len = alice.nonce_len;
	assert_int_equal(create_permission(&ft, &bob, "93.184.216.34:1"), 441);
	assert_int_equal(request(&ft, IL_STUN_REFRESH, NULL, NULL, &bob), 441);
	/* and nothing was installed */
	assert_int_equal(F->srv->stats.permissions, 0);
}

static void test_flood_of_unauthenticated_allocates_allocates_nothing(void **state)
{
	(void)state;
	uint64_t before = F->srv->heap_bytes;
	char addr[64];
	for (int i = 0; i < 5000; i++) {
		snprintf(addr, sizeof addr, "203.0.%d.%d:%d", (i >> 8) & 255, i & 255,
			 1024 + i);
		il_five_tuple ft = FT(addr, IL_TRANSPORT_UDP);
		uint8_t tid[12];
		next_tid(tid);
		F->n_client = 0;
		send_request(&ft, IL_STUN_ALLOCATE, tid, add_udp_transport, NULL, NULL);
		assert_int_equal(error_code_of(last()), 401);
	}
	assert_int_equal(F->srv->heap_bytes, before);
	assert_int_equal(F->relay_opens, 0);
	assert_int_equal(F->srv->stats.allocations, 0);
	assert_int_equal(F->srv->stats.challenges, 5000);
	assert_int_equal(F->key_lookups, 0);
}

static void test_responses_to_refresh_carry_integrity_of_request(void **state)
{
	(void)state;
	il_five_tuple ft = FT("203.0.113.7:40000", IL_TRANSPORT_UDP);
	creds c;
	allocate_alice(&ft, &c);
	/* Errors after authentication are signed too (443 here). */
	uint8_t buf[512], tid[12];
	next_tid(tid);
	il_stun_builder b;
	il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_REFRESH, IL_STUN_REQUEST, tid);
	il_stun_add_u32(&b, IL_ATTR_REQUESTED_ADDRESS_FAMILY, (uint32_t)IL_AF_INET6 << 24);
	il_stun_add_string(&b, IL_ATTR_USERNAME, "alice", 5);
	il_stun_add_string(&b, IL_ATTR_REALM, REALM, strlen(REALM));
	il_stun_add_string(&b, IL_ATTR_NONCE, c.nonce, c.nonce_len);
	il_stun_key key;
	il_stun_key_long_term(&key, IL_STUN_PWALG_MD5, "alice", REALM, "secret");
	il_stun_add_message_integrity(&b, &key);
	size_t len = il_stun_builder_finish(&b, NULL);
	il_turn_server_handle_client(F->srv, &ft, buf, len, F->now);
	assert_int_equal(error_code_of(last()), 443);
	assert_int_equal(il_stun_check_integrity(last(), &key), IL_STUN_VERDICT_OK);
}

/* Secret rotation (draft-uberti-behave-turn-rest-00 §5.2): the store
 * gives two keys for "carol", the current and the previous password. */
static size_t rotating_keys(void *user, const char *realm, const char *username,
			    enum il_stun_password_algorithm alg, uint64_t now_s,
			    il_stun_key keys[IL_TURN_MAX_KEYS])
{
	(void)now_s;
	((fixture *)user)->key_lookups++;
	if (strcmp(username, "carol") != 0)
		return 0;
	assert_int_equal(il_stun_key_long_term(&keys[0], alg, username, realm, "current"),
			 IL_STUN_OK);
	assert_int_equal(il_stun_key_long_term(&keys[1], alg, username, realm, "previous"),
			 IL_STUN_OK);
	return 2;
}

static int setup_rotating(void **state)
{
	setup_config(state);
	F->cfg.key_lookup = NULL;
	F->cfg.keys_lookup = rotating_keys;
	fixture_start(F);
	return 0;
}

static void test_either_of_two_keys_authenticates_and_keys_the_response(void **state)
{
	(void)state;
	static const char *const passwords[] = {"current", "previous"};
	for (int i = 0; i < 2; i++) {
		il_five_tuple ft = FT(i ? "203.0.113.7:40001" : "203.0.113.7:40000",
				      IL_TRANSPORT_UDP);
		creds c = user_creds("carol", passwords[i]);
		allocate_as(&ft, &c, NULL);
		il_stun_key key;
		il_stun_key_long_term(&key, IL_STUN_PWALG_MD5, "carol", REALM, passwords[i]);
		assert_int_equal(il_stun_check_integrity(last(), &key), IL_STUN_VERDICT_OK);
		/* later requests too, and keyed with the same password */
		assert_int_equal(request(&ft, IL_STUN_REFRESH, NULL, NULL, &c), 0);
		assert_int_equal(il_stun_check_integrity(last(), &key), IL_STUN_VERDICT_OK);
	}
	assert_int_equal(F->srv->stats.allocations, 2);
}

static void test_a_third_password_is_refused_with_401(void **state)
{
	(void)state;
	il_five_tuple ft = FT("203.0.113.7:40000", IL_TRANSPORT_UDP);
	creds c = user_creds("carol", "older");
	challenge_for(&ft, IL_STUN_ALLOCATE, &c);
	assert_int_equal(request(&ft, IL_STUN_ALLOCATE, add_udp_transport, NULL, &c), 401);
	c = user_creds("alice", "secret"); /* key_lookup is not used any more */
	challenge_for(&ft, IL_STUN_ALLOCATE, &c);
	assert_int_equal(request(&ft, IL_STUN_ALLOCATE, add_udp_transport, NULL, &c), 401);
	assert_int_equal(F->srv->stats.allocations, 0);
}

/* RFC 6062 §5.2: the Connect answer comes later (tcp_connected); it is
 * keyed with the password that authenticated the Connect, here the
 * previous one. */
static void test_delayed_connect_answer_keyed_with_the_key_that_verified(void **state)
{
	(void)state;
	il_peer_policy_allow(&F->srv->peers, &(il_cidr){.base = A("93.184.216.0:0"), .prefix_len = 24});
	il_five_tuple ft = FT("203.0.113.7:40000", IL_TRANSPORT_TCP);
	creds c = user_creds("carol", "previous");
	allocate_as(&ft, &c, add_tcp_transport);
	assert_int_equal(create_permission(&ft, &c, "93.184.216.34:80"), 0);
	il_addr peer = A("93.184.216.34:80");
	uint8_t tid[12];
	next_tid(tid);
	size_t first = send_request(&ft, IL_STUN_CONNECT, tid, add_peer, &peer, &c);
	assert_int_equal(F->n_client, first); /* the answer waits */
	assert_int_equal(F->tcp_connects, 1);
	il_turn_server_tcp_connected(F->srv, F->last_conn_id, true, F->now);
	assert_int_equal(F->n_client, first + 1);
	const il_stun_msg *m = last();
	assert_int_equal(m->cls, IL_STUN_SUCCESS);
	il_stun_key key;
	il_stun_key_long_term(&key, IL_STUN_PWALG_MD5, "carol", REALM, "previous");
	assert_int_equal(il_stun_check_integrity(m, &key), IL_STUN_VERDICT_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_either_of_two_keys_authenticates_and_keys_the_response, setup_rotating,
			teardown),
		cmocka_unit_test_setup_teardown(test_a_third_password_is_refused_with_401,
						setup_rotating, teardown),
		cmocka_unit_test_setup_teardown(
			test_delayed_connect_answer_keyed_with_the_key_that_verified, setup_rotating,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_allocate_without_credentials_gets_401_with_realm_and_nonce, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_md5_only_server_sends_no_password_algorithms,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_authenticated_allocate_succeeds_with_integrity_and_fingerprint, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_stale_nonce_gets_438_with_fresh_nonce, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_nonce_of_another_client_is_not_valid_here,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_nonce_gets_438, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_unknown_user_and_wrong_password_answered_identically, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_realm_with_integrity_gets_400, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sha256_password_algorithm_negotiated, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_password_algorithms_bid_down_rejected, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_password_algorithm_not_listed_rejected, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_userhash_authenticates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_userhash_of_unknown_user_gets_401, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_other_users_credentials_get_441, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_flood_of_unauthenticated_allocates_allocates_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_responses_to_refresh_carry_integrity_of_request,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
