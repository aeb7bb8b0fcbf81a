/* Rate limits of the TURN server core (server_limits.c) with virtual time:
 * the per-source limit on 401 answers (a flood from one source gets
 * silence beyond its bucket, counted; other sources unaffected; a fixed
 * table whatever the number of sources), bandwidth per allocation each
 * way, and a reconfigure closing RFC 6062 connections to peers the new
 * policy denies. */
#include "test_server_util.h"

#define FLOODER "203.0.113.7"

/* n unauthenticated Allocates from ip (a new port each); the number of
 * answers they got. */
static size_t unauthenticated(const char *ip, int n)
{
	size_t answers = 0;
	for (int i = 0; i < n; i++) {
		char text[64];
		snprintf(text, sizeof text, strchr(ip, ':') ? "[%s]:%d" : "%s:%d", ip,
			 10000 + i % 50000);
		il_five_tuple ft = FT(text, IL_TRANSPORT_UDP);
		uint8_t tid[12];
		next_tid(tid);
		size_t first = send_request(&ft, IL_STUN_ALLOCATE, tid, add_udp_transport, NULL, NULL);
		answers += F->n_client - first;
		F->n_client = 0; /* the fixture keeps 64 packets */
	}
	return answers;
}

static int setup_limited(void **state)
{
	setup_config(state);
	F->cfg.max_401_per_second = 10;
	F->cfg.burst_401 = 20;
	fixture_start(F);
	return 0;
}

static void test_401_flood_from_one_source_silenced_beyond_burst(void **state)
{
	(void)state;
	assert_int_equal(unauthenticated(FLOODER, 50), 20);
	assert_int_equal(F->srv->stats.dropped_401_limited, 30);
	assert_int_equal(F->events[IL_TURN_EV_401_LIMITED], 30);
	/* 10 a second come back: 500 ms give 5 */
	F->now += 500;
	assert_int_equal(unauthenticated(FLOODER, 10), 5);
	/* a full second idle never gives more than the burst */
	F->now += 60000;
	assert_int_equal(unauthenticated(FLOODER, 30), 20);
}

static void test_401_flood_does_not_touch_other_sources(void **state)
{
	(void)state;
	assert_int_equal(unauthenticated(FLOODER, 100), 20);
	assert_int_equal(unauthenticated("198.51.100.77", 20), 20);
	assert_int_equal(unauthenticated("2001:db8:1:2::5", 20), 20);
	/* and a user behind another address still allocates */
	il_five_tuple ft = FT("198.51.100.78:4000", IL_TRANSPORT_UDP);
	creds c;
	allocate_alice(&ft, &c);
	assert_int_equal(F->srv->stats.allocations, 1);
}

/* IPv6 sources are counted by /64: a host rotating its interface ids
 * gains nothing; another /64 has its own bucket. */
static void test_401_limit_counts_ipv6_by_64(void **state)
{
	(void)state;
	assert_int_equal(unauthenticated("2001:db8:0:1::1", 15), 15);
	assert_int_equal(unauthenticated("2001:db8:0:1:ffff::9", 15), 5);
	assert_int_equal(unauthenticated("2001:db8:0:2::1", 15), 15);
}

/* Wrong passwords are answered 401 too, and limited like the rest. */
static void test_401_for_wrong_password_limited(void **state)
{
	(void)state;
	il_five_tuple ft = FT(FLOODER ":5000", IL_TRANSPORT_UDP);
	creds c = user_creds("alice", "wrong");
	challenge_for(&ft, IL_STUN_ALLOCATE, &c);
	size_t answers = 0;
	for (int i = 0; i < 30; i++) {
		uint8_t tid[12];
		next_tid(tid);
		size_t first = send_request(&ft, IL_STUN_ALLOCATE, tid, add_udp_transport, NULL, &c);
		answers += F->n_client - first;
	}
	assert_int_equal(answers, 19); /* 20, less the challenge */
	assert_int_equal(F->srv->stats.auth_failures, 30);
	assert_int_equal(F->srv->stats.dropped_401_limited, 11);
}

/* The table is fixed: thousands of sources allocate nothing, and the
 * one-shot sources are evicted before a flooder that is still in debt, so
 * it stays silenced. */
static void test_401_table_bounded_and_flooder_kept(void **state)
{
	(void)state;
	assert_int_equal(unauthenticated(FLOODER, 40), 20);
	uint64_t heap = F->srv->heap_bytes;
	for (int i = 0; i < 5000; i++) {
		char ip[32];
		snprintf(ip, sizeof ip, "100.%d.%d.1", 64 + i / 250, i % 250);
		assert_int_equal(unauthenticated(ip, 1), 1);
	}
	assert_int_equal(F->srv->heap_bytes, heap);
	assert_int_equal(unauthenticated(FLOODER, 10), 0);
}

static void test_401_unlimited_when_rate_is_zero(void **state)
{
	(void)state;
	il_turn_server_free(F->srv);
	F->cfg.max_401_per_second = 0;
	fixture_start(F);
	assert_int_equal(unauthenticated(FLOODER, 500), 500);
	assert_int_equal(F->srv->stats.dropped_401_limited, 0);
}

/* A reconfigure can turn the limit on for a running server. */
static void test_401_limit_set_by_reconfigure(void **state)
{
	(void)state;
	il_turn_server_free(F->srv);
	F->cfg.max_401_per_second = 0;
	fixture_start(F);
	assert_int_equal(unauthenticated(FLOODER, 50), 50);
	il_turn_server_config cfg = F->cfg;
	cfg.max_401_per_second = 1;
	cfg.burst_401 = 3;
	assert_int_equal(il_turn_server_reconfigure(F->srv, &cfg), 0);
	assert_int_equal(unauthenticated(FLOODER, 50), 3);
}

/* ---- bandwidth per allocation ---- */

#define PEER "93.184.216.34:9000"

static il_five_tuple bw_ft;
static creds bw_c;
static il_addr bw_relayed;

/* 80 kbit/s = 10 kB/s: the bucket holds 64 KiB (the floor). */
static int setup_bandwidth(void **state)
{
	setup_config(state);
	F->cfg.max_bps_per_allocation = 80000;
	il_peer_policy_allow(&F->policy, &(il_cidr){.base = A("93.184.216.0:0"), .prefix_len = 24});
	fixture_start(F);
	bw_ft = FT("203.0.113.9:40000", IL_TRANSPORT_UDP);
	bw_relayed = allocate_alice(&bw_ft, &bw_c);
	assert_int_equal(channel_bind(&bw_ft, &bw_c, 0x4000, PEER), 0);
	return 0;
}

/* n ChannelData of len bytes from the client: how many reached the peer. */
static size_t client_sends(int n, size_t len)
{
	uint8_t buf[1100];
	assert_true(len + 4 <= sizeof buf);
	memset(buf, 'x', sizeof buf);
	buf[0] = 0x40;
	buf[1] = 0x00;
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	size_t got = 0;
	F->n_peer = 0;
	for (int i = 0; i < n; i++) {
		il_turn_server_handle_client(F->srv, &bw_ft, buf, len + 4, F->now);
		got += F->n_peer;
		F->n_peer = 0;
	}
	return got;
}

static size_t peer_sends_n(int n, size_t len)
{
	uint8_t buf[1100];
	memset(buf, 'y', sizeof buf);
	il_addr peer = A(PEER);
	size_t got = 0;
	F->n_client = 0;
	for (int i = 0; i < n; i++) {
		il_turn_server_handle_peer(F->srv, &bw_relayed, &peer, buf, len, F->now);
		got += F->n_client;
		F->n_client = 0;
	}
	return got;
}

static void test_bandwidth_drops_beyond_the_bucket_and_refills(void **state)
{
	(void)state;
	assert_int_equal(client_sends(100, 1000), 65); /* 65536 / 1000 */
	assert_int_equal(F->srv->stats.dropped_bandwidth, 35);
	assert_int_equal(F->srv->stats.packets_to_peers, 65);
	assert_int_equal(F->events[IL_TURN_EV_DROPPED_BANDWIDTH], 35);
	/* 10 kB/s: 100 ms refill 1000 bytes, with the 536 left over: one */
	F->now += 100;
	assert_int_equal(client_sends(5, 1000), 1);
	F->now += 1000;
	assert_int_equal(client_sends(20, 1000), 10);
	/* 536 left + 100 in 10 ms: small datagrams pass, a big one not */
	F->now += 10;
	assert_int_equal(client_sends(1, 1000), 0);
	assert_int_equal(client_sends(10, 100), 6);
}

static void test_bandwidth_each_way_has_its_own_bucket(void **state)
{
	(void)state;
	assert_int_equal(client_sends(100, 1000), 65);
	assert_int_equal(peer_sends_n(100, 1000), 65);
	assert_int_equal(F->srv->stats.dropped_bandwidth, 70);
	/* another allocation is not charged */
	il_five_tuple ft2 = FT("203.0.113.9:40001", IL_TRANSPORT_UDP);
	creds c2;
	allocate_alice(&ft2, &c2);
	assert_int_equal(create_permission(&ft2, &c2, PEER), 0);
	F->n_peer = 0;
	send_indication(&ft2, PEER, "hello");
	assert_int_equal(F->n_peer, 1);
}

static void test_bandwidth_unlimited_by_default(void **state)
{
	(void)state;
	il_turn_server_config cfg = F->cfg;
	cfg.max_bps_per_allocation = 0;
	assert_int_equal(il_turn_server_reconfigure(F->srv, &cfg), 0);
	assert_int_equal(client_sends(500, 1000), 500);
	assert_int_equal(peer_sends_n(500, 1000), 500);
	assert_int_equal(F->srv->stats.dropped_bandwidth, 0);
	il_turn_server_config d;
	il_turn_server_config_defaults(&d);
	assert_int_equal(d.max_bps_per_allocation, 0);
}

/* ---- reconfigure and RFC 6062 connections ---- */

static uint32_t connect_to(const il_five_tuple *ft, creds *c, const char *peer_text)
{
	il_addr peer = A(peer_text);
	uint8_t tid[12];
	next_tid(tid);
	size_t first = send_request(ft, IL_STUN_CONNECT, tid, add_peer, &peer, c);
	assert_int_equal(F->n_client, first);
	uint32_t id = F->last_conn_id;
	il_turn_server_tcp_connected(F->srv, id, true, F->now);
	assert_int_equal(reply_at(first)->cls, IL_STUN_SUCCESS);
	return id;
}

static void test_reconfigure_closes_tcp_connections_to_denied_peers(void **state)
{
	(void)state;
	il_peer_policy_allow(&F->srv->peers, &(il_cidr){.base = A("93.184.216.0:0"), .prefix_len = 24});
	il_five_tuple ft = FT("203.0.113.7:40000", IL_TRANSPORT_TCP);
	creds c = user_creds("alice", "secret");
	allocate_as(&ft, &c, add_tcp_transport);
	assert_int_equal(create_permission(&ft, &c, "93.184.216.34:80"), 0);
	assert_int_equal(create_permission(&ft, &c, "93.184.216.35:80"), 0);
	uint32_t denied = connect_to(&ft, &c, "93.184.216.34:80");
	uint32_t kept = connect_to(&ft, &c, "93.184.216.35:80");
	assert_int_equal(F->srv->conn_count, 2);

	il_peer_policy p = F->policy;
	il_peer_policy_allow(&p, &(il_cidr){.base = A("93.184.216.0:0"), .prefix_len = 24});
	il_cidr deny;
	assert_int_equal(il_cidr_parse("93.184.216.34/32", &deny), 0);
	assert_int_equal(il_peer_policy_deny(&p, &deny), 0);
	il_turn_server_config cfg = F->cfg;
	cfg.peers = &p;
	int closes = F->tcp_closes;
	assert_int_equal(il_turn_server_reconfigure(F->srv, &cfg), 0);
	assert_int_equal(F->tcp_closes, closes + 1);
	assert_int_equal(F->last_closed_id, denied);
	assert_int_equal(F->srv->stats.tcp_closed_by_policy, 1);
	assert_int_equal(F->events[IL_TURN_EV_TCP_CLOSED_BY_POLICY], 1);
	assert_int_equal(F->srv->conn_count, 1);
	/* the other connection is still known to the core */
	il_turn_server_tcp_closed(F->srv, kept, F->now);
	assert_int_equal(F->srv->conn_count, 0);
	/* and a reconfigure that denies nothing closes nothing */
	assert_int_equal(il_turn_server_reconfigure(F->srv, &cfg), 0);
	assert_int_equal(F->tcp_closes, closes + 1);
}

int main(void)
{
#define L(name) cmocka_unit_test_setup_teardown(name, setup_limited, teardown)
#define B(name) cmocka_unit_test_setup_teardown(name, setup_bandwidth, teardown)
	const struct CMUnitTest tests[] = {
		L(test_401_flood_from_one_source_silenced_beyond_burst),
		L(test_401_flood_does_not_touch_other_sources),
		L(test_401_limit_counts_ipv6_by_64),
		L(test_401_for_wrong_password_limited),
		L(test_401_table_bounded_and_flooder_kept),
		L(test_401_unlimited_when_rate_is_zero),
		L(test_401_limit_set_by_reconfigure),
		B(test_bandwidth_drops_beyond_the_bucket_and_refills),
		B(test_bandwidth_each_way_has_its_own_bucket),
		B(test_bandwidth_unlimited_by_default),
		cmocka_unit_test_setup_teardown(test_reconfigure_closes_tcp_connections_to_denied_peers,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
