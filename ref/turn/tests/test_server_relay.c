/* Relaying on the TURN server core (RFC 8656 §9-12): permissions,
 * channels and their binding rules, Send/Data indications, ChannelData
 * both ways, the peer policy (issue #3 §4) and expiry. */
#include "test_server_util.h"

#define PEER "93.184.216.34:5000"
#define PEER2 "93.184.216.35:5000"

static il_five_tuple ft;
static creds c;
static il_addr relayed;

static void add_udp_one_hour(il_stun_builder *b, const void *arg)
{
	(void)arg;
	add_udp_transport(b, NULL);
	il_stun_add_u32(b, IL_ATTR_LIFETIME, 3600);
}

/* An allocation of one hour, so channel timers can run their course. */
static int setup_allocated(void **state)
{
	setup(state);
	ft = FT("203.0.113.7:40000", IL_TRANSPORT_UDP);
	c = user_creds("alice", "secret");
	relayed = allocate_as(&ft, &c, add_udp_one_hour);
	return 0;
}

static void peer_sends(const char *peer, const char *data)
{
	il_addr p = A(peer);
	il_turn_server_handle_peer(F->srv, &relayed, &p, (const uint8_t *)data, strlen(data),
				   F->now);
}

static void client_channeldata(uint16_t number, const char *data)
{
	uint8_t buf[256];
	size_t len = il_channeldata_encode(buf, sizeof buf, number, (const uint8_t *)data,
					   strlen(data), false);
	il_turn_server_handle_client(F->srv, &ft, buf, len, F->now);
}

static void test_send_indication_to_permitted_peer_is_relayed(void **state)
{
	(void)state;
	assert_int_equal(create_permission(&ft, &c, "93.184.216.34:1"), 0);
	send_indication(&ft, PEER, "hello");
	assert_int_equal(F->n_peer, 1);
	assert_int_equal(F->to_peer[0].len, 5);
	assert_memory_equal(F->to_peer[0].data, "hello", 5);
	il_addr p = A(PEER);
	assert_true(il_addr_equal(&F->to_peer[0].ft.remote, &p));
	assert_true(il_addr_equal(&F->to_peer[0].ft.local, &relayed));
	assert_false(F->to_peer[0].df);
	assert_int_equal(F->srv->stats.packets_to_peers, 1);
	assert_int_equal(F->srv->stats.bytes_to_peers, 5);
}

static void test_send_to_unpermitted_peer_dropped(void **state)
{
	(void)state;
	size_t sent = F->n_client;
	send_indication(&ft, PEER, "hello");
	assert_int_equal(F->n_peer, 0);
	assert_int_equal(F->n_client, sent); /* indications are never answered */
	assert_int_equal(F->srv->stats.dropped_no_permission, 1);
}

static void test_send_to_denied_peer_dropped_even_with_permission_elsewhere(void **state)
{
	(void)state;
	send_indication(&ft, "169.254.169.254:80", "GET /latest/meta-data");
	send_indication(&ft, "127.0.0.1:22", "x");
	assert_int_equal(F->n_peer, 0);
	assert_int_equal(F->srv->stats.dropped_denied, 2);
}

static void test_create_permission_denied_peer_403_nothing_installed(void **state)
{
	(void)state;
	uint8_t tid[12];
	next_tid(tid);
	static const char *const peers[] = {"93.184.216.34:1", "10.0.0.1:1", "93.184.216.35:1"};
	il_addr addrs[3];
	for (int i = 0; i < 3; i++)
		addrs[i] = A(peers[i]);
	uint8_t buf[512];
	il_stun_builder b;
	il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_CREATEPERMISSION, IL_STUN_REQUEST, tid);
	for (int i = 0; i < 3; i++)
		il_stun_add_xor_addr(&b, IL_ATTR_XOR_PEER_ADDRESS, &addrs[i]);
	il_stun_add_string(&b, IL_ATTR_USERNAME, "alice", 5);
	il_stun_add_string(&b, IL_ATTR_REALM, REALM, strlen(REALM));
	il_stun_add_string(&b, IL_ATTR_NONCE, c.nonce, c.nonce_len);
	il_stun_key key;
	il_stun_key_long_term(&key, IL_STUN_PWALG_MD5, "alice", REALM, "secret");
	il_stun_add_message_integrity(&b, &key);
	size_t len = il_stun_builder_finish(&b, NULL);
	il_turn_server_handle_client(F->srv, &ft, buf, len, F->now);
	assert_int_equal(error_code_of(last()), 403);
	assert_int_equal(F->srv->stats.permissions, 0);
	assert_int_equal(F->events[IL_TURN_EV_PEER_DENIED], 1);
	/* the allowed peers of that request got no permission */
	send_indication(&ft, "93.184.216.34:1", "x");
	assert_int_equal(F->n_peer, 0);
}

static void test_create_permission_for_own_relayed_address_403(void **state)
{
	(void)state;
	/* The TURN loop (RFC 8656 §21.1.7): even with loopback allowed, our
	 * own relayed address is not a peer. */
	il_peer_policy_allow(&F->srv->peers, &(il_cidr){.base = A("127.0.0.0:0"), .prefix_len = 8});
	char own[64];
	il_addr_format(&relayed, own, sizeof own);
	assert_int_equal(create_permission(&ft, &c, own), 403);
	assert_int_equal(create_permission(&ft, &c, "127.0.0.1:9"), 0);
}

static void test_create_permission_without_peer_gets_400(void **state)
{
	(void)state;
	assert_int_equal(request(&ft, IL_STUN_CREATEPERMISSION, NULL, NULL, &c), 400);
}

static void test_permission_expires_after_300s(void **state)
{
	(void)state;
	assert_int_equal(create_permission(&ft, &c, PEER), 0);
	assert_int_equal(F->srv->stats.permissions, 1);
	advance(299999);
	size_t n = F->n_client;
	peer_sends(PEER, "a");
	assert_int_equal(F->n_client, n + 1);
	advance(1);
	assert_int_equal(F->srv->stats.permissions, 0);
	size_t before = F->n_client;
	peer_sends(PEER, "b");
	assert_int_equal(F->n_client, before);
	send_indication(&ft, PEER, "c");
	assert_int_equal(F->n_peer, 0);
}

static void test_permission_is_by_ip_only(void **state)
{
	(void)state;
	assert_int_equal(create_permission(&ft, &c, "93.184.216.34:1"), 0);
	size_t before = F->n_client;
	peer_sends("93.184.216.34:65000", "from any port");
	assert_int_equal(F->n_client, before + 1);
}

static void test_data_from_peer_without_permission_dropped(void **state)
{
	(void)state;
	size_t before = F->n_client;
	peer_sends(PEER, "spam");
	assert_int_equal(F->n_client, before);
	assert_int_equal(F->srv->stats.dropped_no_permission, 1);
}

static void test_data_from_peer_becomes_data_indication(void **state)
{
	(void)state;
	assert_int_equal(create_permission(&ft, &c, PEER), 0);
	peer_sends(PEER, "payload");
	const il_stun_msg *m = last();
	assert_int_equal(m->method, IL_STUN_DATA);
	assert_int_equal(m->cls, IL_STUN_INDICATION);
	il_addr p;
	il_stun_attr_get_addr(m, il_stun_msg_find(m, IL_ATTR_XOR_PEER_ADDRESS), &p);
	il_addr want = A(PEER);
	assert_true(il_addr_equal(&p, &want));
	const il_stun_attr *d = il_stun_msg_find(m, IL_ATTR_DATA);
	assert_int_equal(d->length, 7);
	assert_memory_equal(il_stun_attr_value(m, d), "payload", 7);
	assert_true(turn_ft_equal(&F->to_client[F->n_client - 1].ft, &ft));
}

static void test_data_from_peer_uses_channel_when_bound(void **state)
{
	(void)state;
	assert_int_equal(channel_bind(&ft, &c, 0x4001, PEER), 0);
	peer_sends(PEER, "payload");
	sent_pkt *p = &F->to_client[F->n_client - 1];
	il_channeldata cd;
	assert_int_equal(il_channeldata_decode(p->data, p->len, &cd, NULL), IL_STUN_OK);
	assert_int_equal(cd.channel, 0x4001);
	assert_int_equal(cd.length, 7);
	assert_memory_equal(cd.data, "payload", 7);
	assert_int_equal(p->len, 11); /* no padding over UDP */
	/* another port of the same IP: permitted, but no channel */
	peer_sends("93.184.216.34:5001", "x");
	assert_int_equal(reply_at(F->n_client - 1)->method, IL_STUN_DATA);
}

static void test_channeldata_over_tcp_is_padded(void **state)
{
	(void)state;
	il_five_tuple tcp = FT("203.0.113.8:40000", IL_TRANSPORT_TCP);
	creds d;
	il_addr r = allocate_alice(&tcp, &d);
	assert_int_equal(channel_bind(&tcp, &d, 0x4001, PEER), 0);
	il_addr p = A(PEER);
	il_turn_server_handle_peer(F->srv, &r, &p, (const uint8_t *)"abcde", 5, F->now);
	assert_int_equal(F->to_client[F->n_client - 1].len, 12);
}

static void test_channeldata_from_client_reaches_peer(void **state)
{
	(void)state;
	assert_int_equal(channel_bind(&ft, &c, 0x4FFF, PEER), 0);
	client_channeldata(0x4FFF, "media");
	assert_int_equal(F->n_peer, 1);
	assert_memory_equal(F->to_peer[0].data, "media", 5);
	il_addr p = A(PEER);
	assert_true(il_addr_equal(&F->to_peer[0].ft.remote, &p));
}

static void test_channeldata_on_unbound_channel_dropped(void **state)
{
	(void)state;
	client_channeldata(0x4002, "media");
	assert_int_equal(F->n_peer, 0);
	/* and from a 5-tuple without allocation */
	il_five_tuple other = FT("203.0.113.9:1", IL_TRANSPORT_UDP);
	uint8_t buf[16];
	size_t len = il_channeldata_encode(buf, sizeof buf, 0x4002, (const uint8_t *)"x", 1, false);
	il_turn_server_handle_client(F->srv, &other, buf, len, F->now);
	assert_int_equal(F->n_peer, 0);
	assert_int_equal(F->srv->stats.dropped_no_allocation, 1);
}

static void test_channel_bind_rules_number_bound_to_other_peer_400(void **state)
{
	(void)state;
	assert_int_equal(channel_bind(&ft, &c, 0x4001, PEER), 0);
	assert_int_equal(channel_bind(&ft, &c, 0x4001, PEER2), 400);
	/* same IP, other port is another transport address */
	assert_int_equal(channel_bind(&ft, &c, 0x4001, "93.184.216.34:5001"), 400);
}

static void test_channel_bind_rules_peer_on_two_channels_400(void **state)
{
	(void)state;
	assert_int_equal(channel_bind(&ft, &c, 0x4001, PEER), 0);
	assert_int_equal(channel_bind(&ft, &c, 0x4002, PEER), 400);
	assert_int_equal(F->srv->stats.channels, 1);
}

static void test_channel_bind_rules_number_out_of_range_400(void **state)
{
	(void)state;
	assert_int_equal(channel_bind(&ft, &c, 0x3FFF, PEER), 400);
	assert_int_equal(channel_bind(&ft, &c, 0x5000, PEER), 400);
	assert_int_equal(F->srv->stats.channels, 0);
	assert_int_equal(F->srv->stats.permissions, 0);
}

static void test_channel_bind_rules_rebind_refreshes(void **state)
{
	(void)state;
	assert_int_equal(channel_bind(&ft, &c, 0x4001, PEER), 0);
	advance(500000);
	assert_int_equal(channel_bind(&ft, &c, 0x4001, PEER), 0); /* refresh */
	advance(500000); /* 1000 s after the first bind, 500 s after the refresh */
	assert_int_equal(F->srv->stats.channels, 1);
	advance(100000);
	assert_int_equal(F->srv->stats.channels, 0);
}

static void test_channel_bind_rules_installs_permission(void **state)
{
	(void)state;
	assert_int_equal(channel_bind(&ft, &c, 0x4001, PEER), 0);
	assert_int_equal(F->srv->stats.permissions, 1);
	send_indication(&ft, PEER, "via permission from ChannelBind");
	assert_int_equal(F->n_peer, 1);
}

static void test_channel_bind_rules_unusable_for_5_minutes_after_expiry(void **state)
{
	(void)state;
	assert_int_equal(channel_bind(&ft, &c, 0x4001, PEER), 0);
	advance(600000); /* the binding expires */
	assert_int_equal(F->srv->stats.channels, 0);
	/* the nonce is stale by now; take a fresh one */
	assert_int_equal(channel_bind(&ft, &c, 0x4001, PEER2), 438);
	take_nonce(last(), &c);
	assert_int_equal(channel_bind(&ft, &c, 0x4001, PEER2), 400);
	assert_int_equal(channel_bind(&ft, &c, 0x4002, PEER), 400);
	/* data from the peer no longer uses the expired channel */
	assert_int_equal(create_permission(&ft, &c, PEER), 0);
	peer_sends(PEER, "x");
	assert_int_equal(reply_at(F->n_client - 1)->method, IL_STUN_DATA);
	advance(299999);
	assert_int_equal(channel_bind(&ft, &c, 0x4001, PEER2), 400);
	advance(1); /* 5 minutes after the expiry */
	assert_int_equal(channel_bind(&ft, &c, 0x4001, PEER2), 0);
}

static void test_channel_bind_same_pair_after_expiry_rebinds(void **state)
{
	(void)state;
	assert_int_equal(channel_bind(&ft, &c, 0x4001, PEER), 0);
	advance(600000);
	assert_int_equal(channel_bind(&ft, &c, 0x4001, PEER), 438);
	take_nonce(last(), &c);
	assert_int_equal(channel_bind(&ft, &c, 0x4001, PEER), 0);
	assert_int_equal(F->srv->stats.channels, 1);
}

static void test_channel_bind_denied_peer_403(void **state)
{
	(void)state;
	assert_int_equal(channel_bind(&ft, &c, 0x4001, "192.168.1.1:5000"), 403);
	assert_int_equal(channel_bind(&ft, &c, 0x4001, "100.64.0.1:5000"), 403);
	assert_int_equal(F->srv->stats.channels, 0);
	assert_int_equal(F->srv->stats.permissions, 0);
}

static void test_channel_bind_peer_family_mismatch_443(void **state)
{
	(void)state;
	assert_int_equal(channel_bind(&ft, &c, 0x4001, "[2606:2800:220:1::1]:5000"), 443);
}

static void test_permission_quota_508(void **state)
{
	fixture *f = *state;
	il_turn_server_free(f->srv);
	f->cfg.max_permissions = 2;
	fixture_start(f);
	relayed = allocate_alice(&ft, &c);
	assert_int_equal(create_permission(&ft, &c, "93.184.216.1:1"), 0);
	assert_int_equal(create_permission(&ft, &c, "93.184.216.2:1"), 0);
	assert_int_equal(create_permission(&ft, &c, "93.184.216.1:1"), 0); /* refresh */
	assert_int_equal(create_permission(&ft, &c, "93.184.216.3:1"), 508);
	assert_int_equal(channel_bind(&ft, &c, 0x4000, "93.184.216.3:1"), 508);
	assert_int_equal(F->srv->stats.permissions, 2);
	assert_int_equal(F->srv->stats.channels, 0);
}

static void test_channel_quota_508(void **state)
{
	fixture *f = *state;
	il_turn_server_free(f->srv);
	f->cfg.max_channels = 1;
	fixture_start(f);
	relayed = allocate_alice(&ft, &c);
	assert_int_equal(channel_bind(&ft, &c, 0x4000, PEER), 0);
	assert_int_equal(channel_bind(&ft, &c, 0x4001, PEER2), 508);
}

static void test_send_indication_dont_fragment_passed(void **state)
{
	(void)state;
	assert_int_equal(create_permission(&ft, &c, PEER), 0);
	uint8_t buf[256], tid[12];
	next_tid(tid);
	il_stun_builder b;
	il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_SEND, IL_STUN_INDICATION, tid);
	il_addr p = A(PEER);
	il_stun_add_xor_addr(&b, IL_ATTR_XOR_PEER_ADDRESS, &p);
	il_stun_add_raw(&b, IL_ATTR_DATA, "df", 2);
	il_stun_add_empty(&b, IL_ATTR_DONT_FRAGMENT);
	size_t len = il_stun_builder_finish(&b, NULL);
	il_turn_server_handle_client(F->srv, &ft, buf, len, F->now);
	assert_int_equal(F->n_peer, 1);
	assert_true(F->to_peer[0].df);
}

static void test_send_indication_without_data_dropped(void **state)
{
	(void)state;
	assert_int_equal(create_permission(&ft, &c, PEER), 0);
	il_addr p = A(PEER);
	uint8_t buf[256], tid[12];
	next_tid(tid);
	size_t len = build_request(buf, sizeof buf, IL_STUN_SEND, IL_STUN_INDICATION, tid, add_peer,
				   &p, NULL);
	il_turn_server_handle_client(F->srv, &ft, buf, len, F->now);
	assert_int_equal(F->n_peer, 0);
	assert_int_equal(F->srv->stats.dropped_malformed, 1);
}

static void test_next_deadline_tracks_permissions(void **state)
{
	(void)state;
	assert_int_equal(create_permission(&ft, &c, PEER), 0);
	assert_int_equal(il_turn_server_next_deadline(F->srv), F->now + 300000);
	advance(300000);
	assert_int_equal(il_turn_server_next_deadline(F->srv), F->now + 3300000); /* allocation */
}

/* RFC 8656 §12 by default: 0x5000-0x7FFF is 400 and ChannelData on it is
 * dropped. */
static void test_channel_0x7fff_refused_by_default(void **state)
{
	(void)state;
	assert_int_equal(channel_bind(&ft, &c, 0x7FFF, PEER), 400);
	uint8_t buf[16] = {0x7F, 0xFF, 0x00, 0x01, 'x', 0, 0, 0};
	il_turn_server_handle_client(F->srv, &ft, buf, 5, F->now);
	assert_int_equal(F->n_peer, 0);
}

/* rfc5766_channels: 0x4000-0x7FFF (RFC 5766 §11) both ways, over UDP
 * (client to peer, peer to client); 0x8000 still 400. */
static int setup_rfc5766(void **state)
{
	setup_config(state);
	F->cfg.rfc5766_channels = true;
	fixture_start(F);
	ft = FT("203.0.113.7:40000", IL_TRANSPORT_UDP);
	c = user_creds("alice", "secret");
	relayed = allocate_as(&ft, &c, add_udp_one_hour);
	return 0;
}

static void test_rfc5766_channels_bind_and_relay_0x7fff(void **state)
{
	(void)state;
	assert_int_equal(channel_bind(&ft, &c, 0x8000, PEER), 400);
	assert_int_equal(channel_bind(&ft, &c, 0x7FFF, PEER), 0);
	assert_int_equal(channel_bind(&ft, &c, 0x5000, PEER2), 0);
	uint8_t buf[16] = {0x7F, 0xFF, 0x00, 0x05, 'm', 'e', 'd', 'i', 'a'};
	il_turn_server_handle_client(F->srv, &ft, buf, 9, F->now);
	assert_int_equal(F->n_peer, 1);
	assert_memory_equal(F->to_peer[0].data, "media", 5);
	il_addr p = A(PEER);
	assert_true(il_addr_equal(&F->to_peer[0].ft.remote, &p));
	peer_sends(PEER2, "back");
	sent_pkt *out = &F->to_client[F->n_client - 1];
	il_channeldata cd;
	assert_int_equal(il_channeldata_decode_range(out->data, out->len, IL_CHANNELS_RFC5766, &cd,
						     NULL),
			 IL_STUN_OK);
	assert_int_equal(cd.channel, 0x5000);
	assert_int_equal(cd.length, 4);
	assert_memory_equal(cd.data, "back", 4);
}

/* Reconfigure (SIGHUP) with a policy that denies a peer: its permission
 * and channel go at once; other peers keep theirs. */
static void test_reconfigure_drops_permissions_and_channels_of_denied_peers(void **state)
{
	(void)state;
	assert_int_equal(channel_bind(&ft, &c, 0x4001, PEER), 0);
	assert_int_equal(create_permission(&ft, &c, PEER2), 0);
	assert_int_equal(F->srv->stats.permissions, 2);
	assert_int_equal(F->srv->stats.channels, 1);
	il_peer_policy denied;
	il_peer_policy_init(&denied);
	il_cidr cidr;
	assert_int_equal(il_cidr_parse("93.184.216.34/32", &cidr), 0);
	assert_int_equal(il_peer_policy_deny(&denied, &cidr), 0);
	il_turn_server_config cfg = F->cfg;
	cfg.peers = &denied;
	assert_int_equal(il_turn_server_reconfigure(F->srv, &cfg), 0);
	assert_int_equal(F->srv->stats.permissions, 1);
	assert_int_equal(F->srv->stats.channels, 0);
	size_t before = F->n_client;
	peer_sends(PEER, "x"); /* no permission any more */
	assert_int_equal(F->n_client, before);
	client_channeldata(0x4001, "y"); /* the channel is gone */
	send_indication(&ft, PEER, "z");
	assert_int_equal(F->n_peer, 0);
	peer_sends(PEER2, "still"); /* the other peer keeps its permission */
	assert_int_equal(F->n_client, before + 1);
	/* the timers still work without the dropped entries */
	advance(300000);
	assert_int_equal(F->srv->stats.permissions, 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup_allocated, teardown)
	const struct CMUnitTest tests[] = {
		T(test_send_indication_to_permitted_peer_is_relayed),
		T(test_send_to_unpermitted_peer_dropped),
		T(test_send_to_denied_peer_dropped_even_with_permission_elsewhere),
		T(test_create_permission_denied_peer_403_nothing_installed),
		T(test_create_permission_for_own_relayed_address_403),
		T(test_create_permission_without_peer_gets_400),
		T(test_permission_expires_after_300s),
		T(test_permission_is_by_ip_only),
		T(test_data_from_peer_without_permission_dropped),
		T(test_data_from_peer_becomes_data_indication),
		T(test_data_from_peer_uses_channel_when_bound),
		T(test_channeldata_over_tcp_is_padded),
		T(test_channeldata_from_client_reaches_peer),
		T(test_channeldata_on_unbound_channel_dropped),
		T(test_channel_bind_rules_number_bound_to_other_peer_400),
		T(test_channel_bind_rules_peer_on_two_channels_400),
		T(test_channel_bind_rules_number_out_of_range_400),
		T(test_channel_bind_rules_rebind_refreshes),
		T(test_channel_bind_rules_installs_permission),
		T(test_channel_bind_rules_unusable_for_5_minutes_after_expiry),
		T(test_channel_bind_same_pair_after_expiry_rebinds),
		T(test_channel_bind_denied_peer_403),
		T(test_channel_bind_peer_family_mismatch_443),
		T(test_permission_quota_508),
		T(test_channel_quota_508),
		T(test_send_indication_dont_fragment_passed),
		T(test_send_indication_without_data_dropped),
		T(test_next_deadline_tracks_permissions),
		T(test_channel_0x7fff_refused_by_default),
		T(test_reconfigure_drops_permissions_and_channels_of_denied_peers),
		cmocka_unit_test_setup_teardown(test_rfc5766_channels_bind_and_relay_0x7fff,
						setup_rfc5766, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
