/* Allocations on the TURN server core (RFC 8656 §6-8): Allocate checks
 * and their error codes, retransmissions, lifetimes, Refresh, quotas,
 * relay_open failures, refuse-on-private, EVEN-PORT and RESERVATION-TOKEN,
 * dual-stack allocations, timers and memory per allocation. */
#include "test_server_util.h"

static il_five_tuple client(void)
{
	return FT("203.0.113.7:40000", IL_TRANSPORT_UDP);
}

static void test_allocate_success_has_relayed_mapped_and_lifetime(void **state)
{
	(void)state;
	il_five_tuple ft = client();
	creds c;
	il_addr relayed = allocate_alice(&ft, &c);
	assert_int_equal(relayed.family, IL_AF_INET);
	assert_int_equal(relayed.port, 50000);
	const il_stun_msg *m = last();
	il_addr mapped;
	assert_int_equal(il_stun_attr_get_addr(m, il_stun_msg_find(m, IL_ATTR_XOR_MAPPED_ADDRESS),
					       &mapped),
			 IL_STUN_OK);
	assert_true(il_addr_equal(&mapped, &ft.remote));
	uint32_t lifetime = 0;
	il_stun_attr_get_u32(m, il_stun_msg_find(m, IL_ATTR_LIFETIME), &lifetime);
	assert_int_equal(lifetime, 600);
	assert_non_null(il_stun_msg_find(m, IL_ATTR_SOFTWARE));
	assert_int_equal(F->srv->stats.allocations, 1);
	assert_int_equal(F->events[IL_TURN_EV_ALLOCATION_CREATED], 1);
	assert_int_equal(F->last_transport, IL_TRANSPORT_UDP);
}

static void test_second_allocate_same_5tuple_gets_437(void **state)
{
	(void)state;
	il_five_tuple ft = client();
	creds c;
	allocate_alice(&ft, &c);
	assert_int_equal(request(&ft, IL_STUN_ALLOCATE, add_udp_transport, NULL, &c), 437);
	assert_int_equal(F->relay_opens, 1);
}

/* RFC 8656 §7.2 NOTE: a retransmission gets the same success response. */
static void test_retransmitted_allocate_gets_same_response(void **state)
{
	(void)state;
	il_five_tuple ft = client();
	creds c = user_creds("alice", "secret");
	challenge_for(&ft, IL_STUN_ALLOCATE, &c);
	uint8_t tid[12] = {1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144};
	size_t i = send_request(&ft, IL_STUN_ALLOCATE, tid, add_udp_transport, NULL, &c);
	assert_int_equal(reply_at(i)->cls, IL_STUN_SUCCESS);
	F->now += 1500; /* the client's retransmission timer */
	size_t j = send_request(&ft, IL_STUN_ALLOCATE, tid, add_udp_transport, NULL, &c);
	assert_int_equal(F->n_client, j + 1);
	assert_int_equal(F->to_client[i].len, F->to_client[j].len);
	assert_memory_equal(F->to_client[i].data, F->to_client[j].data, F->to_client[i].len);
	assert_int_equal(F->relay_opens, 1);
	assert_int_equal(F->srv->stats.allocations, 1);
}

static void test_refresh_zero_deletes_allocation(void **state)
{
	(void)state;
	il_five_tuple ft = client();
	creds c;
	allocate_alice(&ft, &c);
	assert_int_equal(request(&ft, IL_STUN_REFRESH, NULL, NULL, &c), 0); /* default */
	uint8_t tid[12];
	next_tid(tid);
	uint8_t buf[512];
	size_t len;
	{
		il_stun_builder b;
		il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_REFRESH, IL_STUN_REQUEST, tid);
		il_stun_add_u32(&b, IL_ATTR_LIFETIME, 0);
		il_stun_add_string(&b, IL_ATTR_USERNAME, "alice", 5);
		il_stun_add_string(&b, IL_ATTR_REALM, REALM, strlen(REALM));
		il_stun_add_string(&b, IL_ATTR_NONCE, c.nonce, c.nonce_len);
		il_stun_key key;
		il_stun_key_long_term(&key, IL_STUN_PWALG_MD5, "alice", REALM, "secret");
		il_stun_add_message_integrity(&b, &key);
		len = il_stun_builder_finish(&b, NULL);
	}
	il_turn_server_handle_client(F->srv, &ft, buf, len, F->now);
	const il_stun_msg *m = last();
	assert_int_equal(m->cls, IL_STUN_SUCCESS);
	uint32_t lifetime = 99;
	il_stun_attr_get_u32(m, il_stun_msg_find(m, IL_ATTR_LIFETIME), &lifetime);
	assert_int_equal(lifetime, 0);
	assert_int_equal(F->relay_closes, 1);
	assert_int_equal(F->srv->stats.allocations, 0);
	assert_int_equal(F->events[IL_TURN_EV_ALLOCATION_DELETED], 1);
	/* "A retransmitted Refresh request with a zero "desired lifetime" will
	 * cause a 437" */
	il_turn_server_handle_client(F->srv, &ft, buf, len, F->now);
	assert_int_equal(error_code_of(last()), 437);
	assert_int_equal(F->srv->heap_bytes, 0);
	assert_int_equal(il_turn_server_next_deadline(F->srv), UINT64_MAX);
}

static void add_lifetime(il_stun_builder *b, const void *arg)
{
	add_udp_transport(b, NULL);
	il_stun_add_u32(b, IL_ATTR_LIFETIME, *(const uint32_t *)arg);
}

static uint32_t granted(void)
{
	uint32_t v = 0;
	il_stun_attr_get_u32(last(), il_stun_msg_find(last(), IL_ATTR_LIFETIME), &v);
	return v;
}

static void test_lifetime_capped_at_3600_and_at_least_default(void **state)
{
	(void)state;
	il_five_tuple ft = client();
	creds c = user_creds("alice", "secret");
	challenge_for(&ft, IL_STUN_ALLOCATE, &c);
	uint32_t asked = 86400;
	assert_int_equal(request(&ft, IL_STUN_ALLOCATE, add_lifetime, &asked, &c), 0);
	assert_int_equal(granted(), 3600);
	il_five_tuple ft2 = FT("203.0.113.7:40001", IL_TRANSPORT_UDP);
	creds d = user_creds("alice", "secret");
	challenge_for(&ft2, IL_STUN_ALLOCATE, &d);
	asked = 30;
	assert_int_equal(request(&ft2, IL_STUN_ALLOCATE, add_lifetime, &asked, &d), 0);
	assert_int_equal(granted(), 600);
	asked = 1200;
	il_five_tuple ft3 = FT("203.0.113.7:40002", IL_TRANSPORT_UDP);
	creds e = user_creds("alice", "secret");
	challenge_for(&ft3, IL_STUN_ALLOCATE, &e);
	assert_int_equal(request(&ft3, IL_STUN_ALLOCATE, add_lifetime, &asked, &e), 0);
	assert_int_equal(granted(), 1200);
}

static void test_allocation_expires_after_lifetime_and_relay_closes(void **state)
{
	(void)state;
	il_five_tuple ft = client();
	creds c;
	allocate_alice(&ft, &c);
	assert_int_equal(il_turn_server_next_deadline(F->srv), F->now + 600000);
	advance(599999);
	assert_int_equal(F->srv->stats.allocations, 1);
	advance(1);
	assert_int_equal(F->srv->stats.allocations, 0);
	assert_int_equal(F->relay_closes, 1);
	assert_int_equal(F->events[IL_TURN_EV_ALLOCATION_EXPIRED], 1);
	/* the nonce went stale at the same time; with a fresh one: 437 */
	assert_int_equal(request(&ft, IL_STUN_REFRESH, NULL, NULL, &c), 438);
	take_nonce(last(), &c);
	assert_int_equal(request(&ft, IL_STUN_REFRESH, NULL, NULL, &c), 437);
}

static void test_refresh_extends_lifetime(void **state)
{
	(void)state;
	il_five_tuple ft = client();
	creds c;
	allocate_alice(&ft, &c);
	advance(500000);
	assert_int_equal(request(&ft, IL_STUN_REFRESH, NULL, NULL, &c), 0);
	assert_int_equal(granted(), 600);
	advance(500000);
	assert_int_equal(F->srv->stats.allocations, 1);
	advance(100000);
	assert_int_equal(F->srv->stats.allocations, 0);
}

static void test_refresh_without_allocation_gets_437(void **state)
{
	(void)state;
	il_five_tuple ft = client();
	creds c = user_creds("alice", "secret");
	challenge_for(&ft, IL_STUN_REFRESH, &c);
	assert_int_equal(request(&ft, IL_STUN_REFRESH, NULL, NULL, &c), 437);
}

static void test_allocate_without_requested_transport_gets_400(void **state)
{
	(void)state;
	il_five_tuple ft = client();
	creds c = user_creds("alice", "secret");
	challenge_for(&ft, IL_STUN_ALLOCATE, &c);
	assert_int_equal(request(&ft, IL_STUN_ALLOCATE, NULL, NULL, &c), 400);
}

static void add_transport_99(il_stun_builder *b, const void *arg)
{
	(void)arg;
	il_stun_add_u32(b, IL_ATTR_REQUESTED_TRANSPORT, 99u << 24);
}

static void test_unsupported_requested_transport_gets_442(void **state)
{
	(void)state;
	il_five_tuple ft = client();
	creds c = user_creds("alice", "secret");
	challenge_for(&ft, IL_STUN_ALLOCATE, &c);
	assert_int_equal(request(&ft, IL_STUN_ALLOCATE, add_transport_99, NULL, &c), 442);
}

/* RFC 6062 §5.1: TCP relaying over a UDP client connection: 400. */
static void test_tcp_transport_over_udp_gets_400(void **state)
{
	(void)state;
	il_five_tuple ft = client();
	creds c = user_creds("alice", "secret");
	challenge_for(&ft, IL_STUN_ALLOCATE, &c);
	assert_int_equal(request(&ft, IL_STUN_ALLOCATE, add_tcp_transport, NULL, &c), 400);
	assert_int_equal(F->relay_opens, 0);
}

static void test_allocation_quota_486(void **state)
{
	fixture *f = *state;
	il_turn_server_free(f->srv);
	f->cfg.max_allocations_per_user = 2;
	fixture_start(f);
	creds c;
	il_five_tuple a = FT("203.0.113.7:1", IL_TRANSPORT_UDP), b = FT("203.0.113.7:2", 1),
		      d = FT("203.0.113.7:3", 1);
	allocate_alice(&a, &c);
	allocate_alice(&b, &c);
	creds e = user_creds("alice", "secret");
	challenge_for(&d, IL_STUN_ALLOCATE, &e);
	assert_int_equal(request(&d, IL_STUN_ALLOCATE, add_udp_transport, NULL, &e), 486);
	/* bob is not alice: his quota is his own */
	creds g = user_creds("bob", "hunter2");
	allocate_as(&d, &g, NULL);
	assert_int_equal(F->srv->stats.allocations, 3);
}

static void test_total_allocations_limit_508(void **state)
{
	fixture *f = *state;
	il_turn_server_free(f->srv);
	f->cfg.max_allocations = 1;
	fixture_start(f);
	creds c;
	il_five_tuple a = FT("203.0.113.7:1", IL_TRANSPORT_UDP), b = FT("203.0.113.7:2", 1);
	allocate_alice(&a, &c);
	creds e = user_creds("bob", "hunter2");
	challenge_for(&b, IL_STUN_ALLOCATE, &e);
	assert_int_equal(request(&b, IL_STUN_ALLOCATE, add_udp_transport, NULL, &e), 508);
}

static void test_relay_open_failure_508(void **state)
{
	(void)state;
	il_five_tuple ft = client();
	creds c = user_creds("alice", "secret");
	challenge_for(&ft, IL_STUN_ALLOCATE, &c);
	F->relay_fail = 1;
	assert_int_equal(request(&ft, IL_STUN_ALLOCATE, add_udp_transport, NULL, &c), 508);
	assert_int_equal(F->srv->stats.allocations, 0);
	assert_int_equal(F->srv->heap_bytes, 0);
	assert_int_equal(F->events[IL_TURN_EV_ALLOCATION_REFUSED], 1);
	/* and then it works: nothing was left half made */
	assert_int_equal(request(&ft, IL_STUN_ALLOCATE, add_udp_transport, NULL, &c), 0);
}

static void test_private_relay_address_refused_with_508(void **state)
{
	fixture *f = *state;
	il_turn_server_free(f->srv);
	f->cfg.allow_private_relay = false;
	fixture_start(f);
	il_five_tuple ft = client();
	creds c = user_creds("alice", "secret");
	challenge_for(&ft, IL_STUN_ALLOCATE, &c);
	/* relays bind on 127.0.0.1 in this fixture: never advertise that */
	assert_int_equal(request(&ft, IL_STUN_ALLOCATE, add_udp_transport, NULL, &c), 508);
	assert_int_equal(F->relay_opens, 1);
	assert_int_equal(F->relay_closes, 1);
	assert_int_equal(F->srv->stats.allocations, 0);
}

static void test_external_address_is_advertised_and_judged(void **state)
{
	fixture *f = *state;
	il_turn_server_free(f->srv);
	f->cfg.allow_private_relay = false;
	f->cfg.external_v4 = A("192.0.2.200:0");
	fixture_start(f);
	f->relay_base_v4 = A("10.1.2.3:0"); /* bound behind 1:1 NAT */
	il_five_tuple ft = client();
	creds c;
	il_addr relayed = allocate_alice(&ft, &c);
	il_addr want = A("192.0.2.200:50000");
	assert_true(il_addr_equal(&relayed, &want));
}

static void add_even_port_r(il_stun_builder *b, const void *arg)
{
	(void)arg;
	add_udp_transport(b, NULL);
	uint8_t r = 0x80;
	il_stun_add_raw(b, IL_ATTR_EVEN_PORT, &r, 1);
}

static void test_even_port_with_reservation_returns_token(void **state)
{
	(void)state;
	il_five_tuple ft = client();
	creds c = user_creds("alice", "secret");
	allocate_as(&ft, &c, add_even_port_r);
	assert_true(F->last_even_port);
	assert_true(F->last_reserve);
	const il_stun_attr *tok = il_stun_msg_find(last(), IL_ATTR_RESERVATION_TOKEN);
	assert_non_null(tok);
	assert_memory_equal(il_stun_attr_value(last(), tok), "TOKEN-42", 8);
}

static void add_token_and_even(il_stun_builder *b, const void *arg)
{
	(void)arg;
	add_even_port_r(b, NULL);
	il_stun_add_raw(b, IL_ATTR_RESERVATION_TOKEN, "TOKEN-42", 8);
}

static void test_reservation_token_with_even_port_gets_400(void **state)
{
	(void)state;
	il_five_tuple ft = client();
	creds c = user_creds("alice", "secret");
	challenge_for(&ft, IL_STUN_ALLOCATE, &c);
	assert_int_equal(request(&ft, IL_STUN_ALLOCATE, add_token_and_even, NULL, &c), 400);
}

static void add_family(il_stun_builder *b, const void *arg)
{
	const uint16_t *t = arg; /* t[0]: attribute type, t[1]: family */
	add_udp_transport(b, NULL);
	il_stun_add_u32(b, t[0], (uint32_t)t[1] << 24);
}

static void test_requested_address_family_ipv6(void **state)
{
	(void)state;
	il_five_tuple ft = client();
	creds c = user_creds("alice", "secret");
	challenge_for(&ft, IL_STUN_ALLOCATE, &c);
	uint16_t t[2] = {IL_ATTR_REQUESTED_ADDRESS_FAMILY, IL_AF_INET6};
	assert_int_equal(request(&ft, IL_STUN_ALLOCATE, add_family, t, &c), 0);
	il_addr relayed;
	il_stun_attr_get_addr(last(), il_stun_msg_find(last(), IL_ATTR_XOR_RELAYED_ADDRESS),
			      &relayed);
	assert_int_equal(relayed.family, IL_AF_INET6);
	/* An IPv4 peer on an IPv6-only allocation: 443 (§10.2) */
	assert_int_equal(create_permission(&ft, &c, "93.184.216.34:1"), 443);
}

static void test_disabled_address_family_gets_440(void **state)
{
	fixture *f = *state;
	il_turn_server_free(f->srv);
	f->cfg.relay_ipv6 = false;
	fixture_start(f);
	il_five_tuple ft = client();
	creds c = user_creds("alice", "secret");
	challenge_for(&ft, IL_STUN_ALLOCATE, &c);
	uint16_t t[2] = {IL_ATTR_REQUESTED_ADDRESS_FAMILY, IL_AF_INET6};
	assert_int_equal(request(&ft, IL_STUN_ALLOCATE, add_family, t, &c), 440);
	uint16_t bad[2] = {IL_ATTR_REQUESTED_ADDRESS_FAMILY, 7};
	assert_int_equal(request(&ft, IL_STUN_ALLOCATE, add_family, bad, &c), 440);
}

static void test_dual_stack_allocation_has_two_relayed_addresses(void **state)
{
	(void)state;
	il_five_tuple ft = client();
	creds c = user_creds("alice", "secret");
	challenge_for(&ft, IL_STUN_ALLOCATE, &c);
	uint16_t t[2] = {IL_ATTR_ADDITIONAL_ADDRESS_FAMILY, IL_AF_INET6};
	assert_int_equal(request(&ft, IL_STUN_ALLOCATE, add_family, t, &c), 0);
	const il_stun_msg *m = last();
	int n = 0;
	uint8_t fams = 0;
	for (unsigned i = 0; i < m->attr_count; i++)
		if (m->attrs[i].type == IL_ATTR_XOR_RELAYED_ADDRESS) {
			il_addr a;
			il_stun_attr_get_addr(m, &m->attrs[i], &a);
			fams |= (uint8_t)(1u << a.family);
			n++;
		}
	assert_int_equal(n, 2);
	assert_int_equal(fams, (1u << IL_AF_INET) | (1u << IL_AF_INET6));
	assert_null(il_stun_msg_find(m, IL_ATTR_ADDRESS_ERROR_CODE));
	/* both relayed addresses find the allocation */
	assert_non_null(turn_alloc_find_relayed(F->srv, &(il_addr){.family = IL_AF_INET,
								   .port = 50000,
								   .ip = {127, 0, 0, 1}}));
	il_addr v6 = A("[::1]:50002");
	assert_non_null(turn_alloc_find_relayed(F->srv, &v6));
	/* a permission of each family can be installed */
	assert_int_equal(create_permission(&ft, &c, "93.184.216.34:1"), 0);
	assert_int_equal(create_permission(&ft, &c, "[2606:2800:220:1::1]:1"), 0);
}

static void test_dual_stack_partial_failure_has_address_error_code(void **state)
{
	(void)state;
	il_five_tuple ft = client();
	creds c = user_creds("alice", "secret");
	challenge_for(&ft, IL_STUN_ALLOCATE, &c);
	F->relay_fail_v6 = true;
	uint16_t t[2] = {IL_ATTR_ADDITIONAL_ADDRESS_FAMILY, IL_AF_INET6};
	assert_int_equal(request(&ft, IL_STUN_ALLOCATE, add_family, t, &c), 0);
	const il_stun_attr *aec = il_stun_msg_find(last(), IL_ATTR_ADDRESS_ERROR_CODE);
	assert_non_null(aec);
	const uint8_t *v = il_stun_attr_value(last(), aec);
	assert_int_equal(v[0], IL_AF_INET6);
	assert_int_equal(v[2] * 100 + v[3], 508);
	/* an IPv6 peer cannot be reached through it: 443 */
	assert_int_equal(create_permission(&ft, &c, "[2606:2800:220:1::1]:1"), 443);
}

static void test_additional_family_ipv4_or_with_requested_gets_400(void **state)
{
	(void)state;
	il_five_tuple ft = client();
	creds c = user_creds("alice", "secret");
	challenge_for(&ft, IL_STUN_ALLOCATE, &c);
	uint16_t t[2] = {IL_ATTR_ADDITIONAL_ADDRESS_FAMILY, IL_AF_INET};
	assert_int_equal(request(&ft, IL_STUN_ALLOCATE, add_family, t, &c), 400);
	assert_int_equal(F->relay_opens, 0);
}

static void test_memory_per_allocation_under_2k(void **state)
{
	(void)state;
	il_five_tuple ft = client();
	creds c;
	allocate_alice(&ft, &c);
	for (int i = 0; i < 4; i++) {
		char peer[32];
		snprintf(peer, sizeof peer, "93.184.216.%d:1", 10 + i);
		assert_int_equal(create_permission(&ft, &c, peer), 0);
		assert_int_equal(channel_bind(&ft, &c, (uint16_t)(0x4000 + i), peer), 0);
	}
	/* the allocation, four permissions and channels, its user */
	print_message("sizeof(turn_alloc)=%zu perm=%zu chan=%zu; held with 4+4: %llu bytes\n",
		      sizeof(turn_alloc), sizeof(turn_perm), sizeof(turn_chan),
		      (unsigned long long)F->srv->heap_bytes);
	assert_true(F->srv->heap_bytes < 2048);
	assert_true(sizeof(turn_alloc) <= 300);
}

static void test_client_closed_deletes_tcp_allocation(void **state)
{
	(void)state;
	il_five_tuple ft = FT("203.0.113.7:40000", IL_TRANSPORT_TCP);
	creds c;
	allocate_alice(&ft, &c);
	il_turn_server_client_closed(F->srv, &ft, F->now);
	assert_int_equal(F->srv->stats.allocations, 0);
	assert_int_equal(F->relay_closes, 1);
}

static void add_short_token(il_stun_builder *b, const void *arg)
{
	(void)arg;
	add_udp_transport(b, NULL);
	il_stun_add_raw(b, IL_ATTR_RESERVATION_TOKEN, "TOKEN", 5);
}

static void add_token(il_stun_builder *b, const void *arg)
{
	(void)arg;
	add_udp_transport(b, NULL);
	il_stun_add_raw(b, IL_ATTR_RESERVATION_TOKEN, "TOKEN-42", 8);
}

/* RFC 8656 §7.2 step 5: the token names a reserved relayed address; its
 * family is the reservation's (here IPv6), not the IPv4 default. */
static void test_reservation_token_of_ipv6_reservation_gives_ipv6_relay(void **state)
{
	(void)state;
	F->token_family = IL_AF_INET6;
	il_five_tuple ft = client();
	creds c = user_creds("alice", "secret");
	il_addr relayed = allocate_as(&ft, &c, add_token);
	assert_int_equal(F->last_family, IL_AF_NONE);
	assert_int_equal(relayed.family, IL_AF_INET6);
	assert_int_equal(F->relay_closes, 0);
	assert_int_equal(F->srv->stats.allocations, 1);
	/* the IPv6 allocation relays to IPv6 peers */
	il_peer_policy_allow(&F->srv->peers, &(il_cidr){.base = A("[2001:db8::]:0"), .prefix_len = 32});
	assert_int_equal(create_permission(&ft, &c, "[2001:db8::5]:9"), 0);
	assert_int_equal(create_permission(&ft, &c, "93.184.216.34:9"), 443);
}

/* A reserved family the server no longer hands out: 440, and the
 * reserved socket is closed, not leaked. */
static void test_reservation_token_of_disabled_family_440_and_relay_closed(void **state)
{
	fixture *f = *state;
	il_turn_server_free(f->srv);
	f->cfg.relay_ipv6 = false;
	fixture_start(f);
	f->token_family = IL_AF_INET6;
	il_five_tuple ft = client();
	creds c = user_creds("alice", "secret");
	challenge_for(&ft, IL_STUN_ALLOCATE, &c);
	assert_int_equal(request(&ft, IL_STUN_ALLOCATE, add_token, NULL, &c), 440);
	assert_int_equal(f->relay_opens, 1);
	assert_int_equal(f->relay_closes, 1);
	assert_int_equal(f->srv->stats.allocations, 0);
}

/* relay_open answering another family than asked: closed, 508. */
static void test_relay_open_of_wrong_family_closed_508(void **state)
{
	(void)state;
	F->relay_family_override = IL_AF_INET6;
	il_five_tuple ft = client();
	creds c = user_creds("alice", "secret");
	challenge_for(&ft, IL_STUN_ALLOCATE, &c);
	assert_int_equal(request(&ft, IL_STUN_ALLOCATE, add_udp_transport, NULL, &c), 508);
	assert_int_equal(F->relay_opens, 1);
	assert_int_equal(F->relay_closes, 1);
}

/* A token shorter than 8 bytes is malformed (the decoder drops the
 * message): nothing opened, no allocation. */
static void test_short_reservation_token_opens_nothing(void **state)
{
	(void)state;
	il_five_tuple ft = client();
	creds c = user_creds("alice", "secret");
	challenge_for(&ft, IL_STUN_ALLOCATE, &c);
	uint8_t tid[12];
	next_tid(tid);
	size_t first = send_request(&ft, IL_STUN_ALLOCATE, tid, add_short_token, NULL, &c);
	if (F->n_client > first)
		assert_int_equal(error_code_of(reply_at(first)), 400);
	assert_int_equal(F->relay_opens, 0);
	assert_int_equal(F->srv->stats.allocations, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_allocate_success_has_relayed_mapped_and_lifetime),
		T(test_second_allocate_same_5tuple_gets_437),
		T(test_retransmitted_allocate_gets_same_response),
		T(test_refresh_zero_deletes_allocation),
		T(test_lifetime_capped_at_3600_and_at_least_default),
		T(test_allocation_expires_after_lifetime_and_relay_closes),
		T(test_refresh_extends_lifetime),
		T(test_refresh_without_allocation_gets_437),
		T(test_allocate_without_requested_transport_gets_400),
		T(test_unsupported_requested_transport_gets_442),
		T(test_tcp_transport_over_udp_gets_400),
		T(test_allocation_quota_486),
		T(test_total_allocations_limit_508),
		T(test_relay_open_failure_508),
		T(test_private_relay_address_refused_with_508),
		T(test_external_address_is_advertised_and_judged),
		T(test_even_port_with_reservation_returns_token),
		T(test_reservation_token_with_even_port_gets_400),
		T(test_requested_address_family_ipv6),
		T(test_disabled_address_family_gets_440),
		T(test_dual_stack_allocation_has_two_relayed_addresses),
		T(test_dual_stack_partial_failure_has_address_error_code),
		T(test_additional_family_ipv4_or_with_requested_gets_400),
		T(test_memory_per_allocation_under_2k),
		T(test_client_closed_deletes_tcp_allocation),
		T(test_reservation_token_of_ipv6_reservation_gives_ipv6_relay),
		T(test_reservation_token_of_disabled_family_440_and_relay_closed),
		T(test_relay_open_of_wrong_family_closed_508),
		T(test_short_reservation_token_opens_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
