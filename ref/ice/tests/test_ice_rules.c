/* Unit tests of the ICE agent core, one RFC rule each (RFC 8445, 8421,
 * 8838, 7675): one agent, a peer played by hand-made STUN messages, and
 * virtual time. */
#include "ice_test_util.h"

#define LUFRAG "LOCL"
#define LPWD "localpasswordlocalpass"
#define RUFRAG "REMO"
#define RPWD "remotepasswordremotepw"

static il_addr host_a(void)
{
	return addr4(10, 0, 0, 1, 5001);
}

static il_addr peer_addr(uint8_t last)
{
	return addr4(10, 0, 0, last, 6001);
}

/* Agent 0 with one stream, one host, remote credentials known. */
static net *one_agent(il_ice_config *cfg)
{
	net *n = net_new(10);
	net_agent *a = net_add_agent(n, 0, cfg, 0xC0FFEEu);
	assert_int_equal(il_ice_agent_add_stream(a->agent, 1, LUFRAG, LPWD), 0);
	net_add_host(a, 0, 1, host_a());
	assert_int_equal(il_ice_agent_set_remote_credentials(a->agent, 0, RUFRAG, RPWD, n->now),
			 IL_ICE_OK);
	return n;
}

static void add_remote_host(net *n, il_addr addr, uint32_t priority)
{
	il_ice_candidate c;
	memset(&c, 0, sizeof c);
	snprintf(c.foundation, sizeof c.foundation, "r%u", addr.ip[3]);
	c.component = 1;
	c.type = IL_ICE_CAND_HOST;
	c.priority = priority;
	c.addr = addr;
	assert_true(il_ice_agent_add_remote_candidate(n->agents[0].agent, 0, &c, n->now) >= 0);
}

static il_ice_config config(bool controlling)
{
	il_ice_config c;
	il_ice_config_defaults(&c);
	c.controlling = controlling;
	c.tie_breaker = 1000;
	return c;
}

/* Feeds a request from `from`; returns the decoded answer (queued last). */
static int feed_request(net *n, const req_opts *o, il_addr from, il_stun_msg *answer)
{
	uint8_t buf[512];
	size_t len = build_req(o, buf, sizeof buf);
	size_t before = n->queue_count;
	il_addr to = host_a();
	int rc = il_ice_agent_handle_datagram(n->agents[0].agent, &to, &from, buf, len, n->now);
	if (answer) {
		/* The response is the first packet queued by this request. */
		assert_true(n->queue_count > before);
		const net_packet *p = &n->queue[before];
		assert_int_equal(il_stun_decode(p->data, p->len, answer, NULL), IL_STUN_OK);
	}
	return rc;
}

static int error_code(const il_stun_msg *m)
{
	const il_stun_attr *a = il_stun_msg_find(m, IL_ATTR_ERROR_CODE);
	int code = 0;
	const char *r;
	size_t rl;
	if (a)
		il_stun_attr_get_error_code(m, a, &code, &r, &rl);
	return code;
}

static void test_pair_priority_formula_matches_rfc8445_6_1_2_3(void **state)
{
	(void)state;
	/* 2^32*MIN(G,D) + 2*MAX(G,D) + (G>D?1:0) */
	assert_true(il_ice_pair_priority(2130706431u, 1694498815u) ==
		    (((uint64_t)1694498815u << 32) + 2ull * 2130706431u + 1));
	assert_true(il_ice_pair_priority(1694498815u, 2130706431u) ==
		    (((uint64_t)1694498815u << 32) + 2ull * 2130706431u));
	assert_true(il_ice_pair_priority(7, 7) == ((7ull << 32) + 14));
	assert_true(il_ice_pair_priority(0xFFFFFFFFu, 0xFFFFFFFFu) ==
		    ((0xFFFFFFFFull << 32) + 2ull * 0xFFFFFFFFu));
}

static void test_candidate_priority_with_type_preferences_126_110_100_0(void **state)
{
	(void)state;
	assert_int_equal(il_ice_type_preference(IL_ICE_CAND_HOST), 126);
	assert_int_equal(il_ice_type_preference(IL_ICE_CAND_PRFLX), 110);
	assert_int_equal(il_ice_type_preference(IL_ICE_CAND_SRFLX), 100);
	assert_int_equal(il_ice_type_preference(IL_ICE_CAND_RELAY), 0);
	/* (2^24)*126 + (2^8)*65535 + (256 - 1) */
	assert_int_equal(il_ice_candidate_priority(126, 65535, 1), 2130706431u);
	assert_int_equal(il_ice_candidate_priority(0, 65535, 2), 16777214u);
	assert_int_equal(il_ice_candidate_priority(100, 0, 256), 1677721600u);
}

static void test_local_preferences_give_ipv6_a_head_start_rfc8421(void **state)
{
	(void)state;
	/* RFC 8421 §4: "two IPv4 addresses and six IPv6 addresses ... an IPv4
	 * address after four IPv6 addresses". */
	il_addr addrs[8];
	for (int i = 0; i < 8; i++) {
		memset(&addrs[i], 0, sizeof addrs[i]);
		addrs[i].family = i < 2 ? IL_AF_INET : IL_AF_INET6;
		addrs[i].ip[15] = (uint8_t)i;
	}
	uint16_t prefs[8];
	il_ice_local_preferences(addrs, NULL, 8, prefs);
	/* Order by preference: v6(2) v6(3) v6(4) v6(5) v4(0) v6(6) v4(1) v6(7). */
	const int order[8] = {2, 3, 4, 5, 0, 6, 1, 7};
	for (int r = 0; r < 8; r++)
		assert_int_equal(prefs[order[r]], 65535 - r);
	/* An unreliable interface goes last. */
	bool unreliable[8] = {false, false, true, false, false, false, false, false};
	il_ice_local_preferences(addrs, unreliable, 8, prefs);
	for (int i = 0; i < 8; i++)
		if (i != 2)
			assert_true(prefs[i] > prefs[2]);
}

static void test_foundation_shared_by_same_type_base_and_server(void **state)
{
	(void)state;
	il_ice_config cfg = config(true);
	net *n = one_agent(&cfg);
	il_ice_agent *a = n->agents[0].agent;
	il_ice_candidate c;
	memset(&c, 0, sizeof c);
	c.component = 1;
	c.type = IL_ICE_CAND_SRFLX;
	c.addr = addr4(203, 0, 113, 1, 1000);
	c.base = host_a();
	c.server = addr4(198, 51, 100, 1, 3478);
	int i1 = il_ice_agent_add_local_candidate(a, 0, &c, n->now);
	c.addr.port = 1001;
	c.base.port = 5002;
	int i2 = il_ice_agent_add_local_candidate(a, 0, &c, n->now);
	c.server = addr4(198, 51, 100, 2, 3478);
	c.addr.port = 1002;
	int i3 = il_ice_agent_add_local_candidate(a, 0, &c, n->now);
	assert_true(i1 > 0 && i2 > 0 && i3 > 0);
	const il_ice_candidate *host = il_ice_agent_local_candidate(a, 0, 0);
	const il_ice_candidate *s1 = il_ice_agent_local_candidate(a, 0, (size_t)i1);
	const il_ice_candidate *s2 = il_ice_agent_local_candidate(a, 0, (size_t)i2);
	const il_ice_candidate *s3 = il_ice_agent_local_candidate(a, 0, (size_t)i3);
	assert_string_equal(s1->foundation, s2->foundation);
	assert_string_not_equal(s1->foundation, s3->foundation);
	assert_string_not_equal(s1->foundation, host->foundation);
	/* Priorities: recommended type preference, distinct local preferences. */
	assert_int_equal(s1->priority >> 24, 100);
	assert_true(s1->priority != s2->priority);
	assert_int_equal(host->priority, 2130706431u);
	net_free(n);
}

static void test_srflx_local_pruned_to_its_host_base(void **state)
{
	(void)state;
	il_ice_config cfg = config(true);
	net *n = one_agent(&cfg);
	il_ice_candidate c;
	memset(&c, 0, sizeof c);
	c.component = 1;
	c.type = IL_ICE_CAND_SRFLX;
	c.addr = addr4(203, 0, 113, 1, 1000);
	c.base = host_a();
	assert_true(il_ice_agent_add_local_candidate(n->agents[0].agent, 0, &c, n->now) > 0);
	add_remote_host(n, peer_addr(2), 2130706431u);
	/* §6.1.2.4: (srflx, R) becomes (host, R), a duplicate: one pair. */
	assert_int_equal(il_ice_agent_pair_count(n->agents[0].agent, 0), 1);
	il_ice_pair_stats s;
	il_ice_agent_get_pair(n->agents[0].agent, 0, 0, &s);
	assert_int_equal(s.local.type, IL_ICE_CAND_HOST);
	net_free(n);
}

static void test_check_request_carries_username_priority_role_integrity_fingerprint(void **state)
{
	(void)state;
	il_ice_config cfg = config(true);
	net *n = one_agent(&cfg);
	add_remote_host(n, peer_addr(2), 2130706431u);
	assert_int_equal(il_ice_agent_start(n->agents[0].agent, n->now), IL_ICE_OK);
	il_ice_agent_timer(n->agents[0].agent, n->now);
	assert_int_equal(n->queue_count, 1);
	il_stun_msg m;
	assert_int_equal(il_stun_decode(n->queue[0].data, n->queue[0].len, &m, NULL), IL_STUN_OK);
	assert_int_equal(m.cls, IL_STUN_REQUEST);
	const char *user;
	size_t ulen;
	assert_int_equal(il_stun_attr_get_string(&m, il_stun_msg_find(&m, IL_ATTR_USERNAME), &user,
						 &ulen),
			 IL_STUN_OK);
	assert_int_equal(ulen, 9);
	assert_memory_equal(user, RUFRAG ":" LUFRAG, 9);
	uint32_t prio;
	il_stun_attr_get_u32(&m, il_stun_msg_find(&m, IL_ATTR_PRIORITY), &prio);
	assert_int_equal(prio, il_ice_candidate_priority(110, 65535, 1));
	uint64_t tb;
	il_stun_attr_get_u64(&m, il_stun_msg_find(&m, IL_ATTR_ICE_CONTROLLING), &tb);
	assert_true(tb == 1000);
	assert_null(il_stun_msg_find(&m, IL_ATTR_USE_CANDIDATE));
	il_stun_key k;
	il_stun_key_short_term(&k, RPWD);
	assert_int_equal(il_stun_check_integrity(&m, &k), IL_STUN_VERDICT_OK);
	assert_int_equal(il_stun_check_fingerprint(&m), IL_STUN_VERDICT_OK);
	assert_true(il_addr_equal(&n->queue[0].src, &(il_addr){0}) ||
		    il_addr_equal(&n->queue[0].src, &(il_addr){.family = IL_AF_INET,
							       .port = 5001,
							       .ip = {10, 0, 0, 1}}));
	net_free(n);
}

static void test_checks_paced_every_ta(void **state)
{
	(void)state;
	il_ice_config cfg = config(true);
	net *n = one_agent(&cfg);
	for (uint8_t i = 2; i < 6; i++)
		add_remote_host(n, peer_addr(i), 2130706431u - i);
	il_ice_agent *a = n->agents[0].agent;
	assert_int_equal(il_ice_agent_start(a, n->now), IL_ICE_OK);
	uint64_t t0 = n->now;
	net_run(n, 160);
	/* Four checks, one every Ta = 50 ms (each pair has its own
	 * foundation, so all start Waiting). */
	assert_int_equal(n->agents[0].stun_requests_sent, 4);
	for (unsigned i = 0; i < 4; i++)
		assert_true(n->agents[0].last_send_ms[i] == t0 + 50 * i);
	net_free(n);
}

static void test_check_retransmits_with_doubling_rto_then_fails(void **state)
{
	(void)state;
	il_ice_config cfg = config(true);
	net *n = one_agent(&cfg);
	add_remote_host(n, peer_addr(2), 2130706431u);
	il_ice_agent_local_end_of_candidates(n->agents[0].agent, 0, n->now);
	il_ice_agent_remote_end_of_candidates(n->agents[0].agent, 0, n->now);
	il_ice_agent_start(n->agents[0].agent, n->now);
	uint64_t t0 = n->now;
	net_run(n, 39000);
	/* RTO 500 ms (the floor of §14.3), Rc = 7: 0, 500, 1500, 3500,
	 * 7500, 15500, 31500. */
	const uint64_t at[7] = {0, 500, 1500, 3500, 7500, 15500, 31500};
	assert_int_equal(n->agents[0].stun_requests_sent, 7);
	for (int i = 0; i < 7; i++)
		assert_true(n->agents[0].last_send_ms[i] == t0 + at[i]);
	assert_int_equal(il_ice_agent_get_state(n->agents[0].agent), IL_ICE_STATE_CHECKING);
	/* ... and Rm = 16 RTOs after the last: the pair fails, then the list. */
	net_run(n, 1000);
	il_ice_pair_stats s;
	il_ice_agent_get_pair(n->agents[0].agent, 0, 0, &s);
	assert_int_equal(s.state, IL_ICE_PAIR_FAILED);
	assert_int_equal(il_ice_agent_get_state(n->agents[0].agent), IL_ICE_STATE_FAILED);
	net_free(n);
}

static void test_peer_reflexive_candidate_learnt_from_request(void **state)
{
	(void)state;
	il_ice_config cfg = config(false);
	net *n = one_agent(&cfg);
	il_ice_agent *a = n->agents[0].agent;
	il_ice_agent_start(a, n->now);
	req_opts o = {.username = LUFRAG ":" RUFRAG, .pwd = LPWD, .priority = 1845501695u,
		      .role = 1, .tie_breaker = 5, .tid_byte = 1};
	il_addr from = addr4(198, 51, 100, 77, 41000);
	il_stun_msg resp;
	assert_int_equal(feed_request(n, &o, from, &resp), IL_ICE_DGRAM_STUN);
	assert_int_equal(resp.cls, IL_STUN_SUCCESS);
	il_addr mapped;
	il_stun_attr_get_addr(&resp, il_stun_msg_find(&resp, IL_ATTR_XOR_MAPPED_ADDRESS), &mapped);
	assert_true(il_addr_equal(&mapped, &from));
	il_stun_key k;
	il_stun_key_short_term(&k, LPWD);
	assert_int_equal(il_stun_check_integrity(&resp, &k), IL_STUN_VERDICT_OK);
	/* §7.3.1.3: a prflx remote candidate with the PRIORITY of the request. */
	assert_int_equal(il_ice_agent_remote_candidate_count(a, 0), 1);
	const il_ice_candidate *r = il_ice_agent_remote_candidate(a, 0, 0);
	assert_int_equal(r->type, IL_ICE_CAND_PRFLX);
	assert_int_equal(r->priority, 1845501695u);
	assert_true(il_addr_equal(&r->addr, &from));
	assert_int_equal(count_events(&n->agents[0], IL_ICE_EV_PEER_REFLEXIVE), 1);
	/* A signalled candidate at that address later replaces its type. */
	il_ice_candidate c = *r;
	c.type = IL_ICE_CAND_SRFLX;
	strcpy(c.foundation, "sig");
	assert_int_equal(il_ice_agent_add_remote_candidate(a, 0, &c, n->now), 0);
	assert_int_equal(il_ice_agent_remote_candidate(a, 0, 0)->type, IL_ICE_CAND_SRFLX);
	net_free(n);
}

static void test_triggered_check_on_incoming_request(void **state)
{
	(void)state;
	il_ice_config cfg = config(false);
	net *n = one_agent(&cfg);
	il_ice_agent *a = n->agents[0].agent;
	for (uint8_t i = 2; i < 5; i++)
		add_remote_host(n, peer_addr(i), 2000000000u + i); /* .4 is the best */
	il_ice_agent_start(a, n->now);
	il_ice_agent_timer(a, n->now); /* first ordinary check: the best pair (.4) */
	n->now += 50;
	/* A request from .2: the next check, due now, is the triggered one. */
	req_opts o = {.username = LUFRAG ":" RUFRAG, .pwd = LPWD, .priority = 1845501695u,
		      .role = 1, .tie_breaker = 5, .tid_byte = 2};
	feed_request(n, &o, peer_addr(2), NULL);
	size_t before = n->queue_count;
	il_ice_agent_timer(a, n->now);
	assert_int_equal(n->queue_count, before + 1);
	il_addr to = n->queue[before].dst;
	il_addr want = peer_addr(2);
	assert_true(il_addr_equal(&to, &want));
	net_free(n);
}

static void test_role_conflict_controlling_with_lower_tiebreaker_switches_role(void **state)
{
	(void)state;
	il_ice_config cfg = config(true); /* tie-breaker 1000 */
	net *n = one_agent(&cfg);
	add_remote_host(n, peer_addr(2), 2130706431u);
	il_ice_agent_start(n->agents[0].agent, n->now);
	req_opts o = {.username = LUFRAG ":" RUFRAG, .pwd = LPWD, .priority = 1845501695u,
		      .role = 1, .tie_breaker = 2000, .tid_byte = 3};
	il_stun_msg resp;
	feed_request(n, &o, peer_addr(2), &resp);
	/* §7.3.1.1: ours is smaller: switch to controlled and answer. */
	assert_int_equal(resp.cls, IL_STUN_SUCCESS);
	assert_false(il_ice_agent_is_controlling(n->agents[0].agent));
	assert_int_equal(count_events(&n->agents[0], IL_ICE_EV_ROLE), 1);
	/* Pair priorities are recomputed for the new role (G is theirs). */
	il_ice_pair_stats s;
	il_ice_agent_get_pair(n->agents[0].agent, 0, 0, &s);
	assert_true(s.priority == il_ice_pair_priority(2130706431u, 2130706431u));
	net_free(n);
}

static void test_487_on_role_conflict_when_we_win(void **state)
{
	(void)state;
	il_ice_config cfg = config(true);
	net *n = one_agent(&cfg);
	il_ice_agent_start(n->agents[0].agent, n->now);
	req_opts o = {.username = LUFRAG ":" RUFRAG, .pwd = LPWD, .priority = 1845501695u,
		      .role = 1, .tie_breaker = 1000, /* equal: we win */ .tid_byte = 4};
	il_stun_msg resp;
	feed_request(n, &o, peer_addr(2), &resp);
	assert_int_equal(resp.cls, IL_STUN_ERROR);
	assert_int_equal(error_code(&resp), 487);
	il_stun_key k;
	il_stun_key_short_term(&k, LPWD);
	assert_int_equal(il_stun_check_integrity(&resp, &k), IL_STUN_VERDICT_OK);
	assert_true(il_ice_agent_is_controlling(n->agents[0].agent));
	/* No candidate is learnt from a rejected request. */
	assert_int_equal(il_ice_agent_remote_candidate_count(n->agents[0].agent, 0), 0);
	net_free(n);
}

static void test_controlled_with_higher_tiebreaker_becomes_controlling(void **state)
{
	(void)state;
	il_ice_config cfg = config(false);
	net *n = one_agent(&cfg);
	il_ice_agent_start(n->agents[0].agent, n->now);
	req_opts o = {.username = LUFRAG ":" RUFRAG, .pwd = LPWD, .priority = 1845501695u,
		      .role = -1, .tie_breaker = 999, .tid_byte = 5};
	il_stun_msg resp;
	feed_request(n, &o, peer_addr(2), &resp);
	assert_int_equal(resp.cls, IL_STUN_SUCCESS);
	assert_true(il_ice_agent_is_controlling(n->agents[0].agent));
	/* And a controlled agent that loses answers 487. */
	il_ice_config cfg2 = config(false);
	net *n2 = one_agent(&cfg2);
	il_ice_agent_start(n2->agents[0].agent, n2->now);
	o.tie_breaker = 1001;
	feed_request(n2, &o, peer_addr(2), &resp);
	assert_int_equal(error_code(&resp), 487);
	assert_false(il_ice_agent_is_controlling(n2->agents[0].agent));
	net_free(n);
	net_free(n2);
}

static void test_487_response_switches_role_and_checks_again(void **state)
{
	(void)state;
	il_ice_config cfg = config(true);
	net *n = one_agent(&cfg);
	add_remote_host(n, peer_addr(2), 2130706431u);
	il_ice_agent *a = n->agents[0].agent;
	il_ice_agent_start(a, n->now);
	il_ice_agent_timer(a, n->now);
	il_stun_msg req;
	assert_int_equal(il_stun_decode(n->queue[0].data, n->queue[0].len, &req, NULL), IL_STUN_OK);
	uint8_t buf[256];
	il_stun_builder b;
	il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_BINDING, IL_STUN_ERROR, req.tid);
	il_stun_add_error_code(&b, 487, "Role Conflict");
	il_stun_key k;
	il_stun_key_short_term(&k, RPWD);
	il_stun_add_message_integrity(&b, &k);
	il_stun_add_fingerprint(&b);
	size_t len = il_stun_builder_finish(&b, NULL);
	n->now += 20;
	il_addr local = host_a(), from = peer_addr(2);
	assert_int_equal(il_ice_agent_handle_datagram(a, &local, &from, buf, len, n->now),
			 IL_ICE_DGRAM_STUN);
	/* §7.2.5.1: the request had ICE-CONTROLLING: now controlled, and the
	 * pair is checked again with ICE-CONTROLLED. */
	assert_false(il_ice_agent_is_controlling(a));
	n->now += 50;
	size_t before = n->queue_count;
	il_ice_agent_timer(a, n->now);
	assert_int_equal(n->queue_count, before + 1);
	il_stun_msg again;
	il_stun_decode(n->queue[before].data, n->queue[before].len, &again, NULL);
	assert_non_null(il_stun_msg_find(&again, IL_ATTR_ICE_CONTROLLED));
	net_free(n);
}

static void test_bad_integrity_gets_401_and_missing_integrity_400(void **state)
{
	(void)state;
	il_ice_config cfg = config(false);
	net *n = one_agent(&cfg);
	il_ice_agent_start(n->agents[0].agent, n->now);
	req_opts o = {.username = LUFRAG ":" RUFRAG, .pwd = "wrongpasswordwrongpass",
		      .priority = 1, .role = 1, .tie_breaker = 5, .tid_byte = 6};
	il_stun_msg resp;
	feed_request(n, &o, peer_addr(2), &resp);
	assert_int_equal(error_code(&resp), 401);
	assert_true(resp.mi_index < 0);
	o.no_integrity = true;
	feed_request(n, &o, peer_addr(2), &resp);
	assert_int_equal(error_code(&resp), 400);
	o.no_integrity = false;
	o.pwd = LPWD;
	o.username = "NOPE:" RUFRAG;
	feed_request(n, &o, peer_addr(2), &resp);
	assert_int_equal(error_code(&resp), 401);
	/* Nothing was learnt from any of them. */
	assert_int_equal(il_ice_agent_remote_candidate_count(n->agents[0].agent, 0), 0);
	/* A request to an address that is none of our bases is dropped. */
	uint8_t buf[256];
	size_t len = build_req(&o, buf, sizeof buf);
	il_addr other = addr4(10, 9, 9, 9, 1), from = peer_addr(2);
	assert_int_equal(il_ice_agent_handle_datagram(n->agents[0].agent, &other, &from, buf, len,
						      n->now),
			 IL_ICE_DGRAM_DROPPED);
	net_free(n);
}

static void test_lite_agent_learns_nominated_pair_from_use_candidate(void **state)
{
	(void)state;
	il_ice_config cfg = config(false);
	cfg.lite = true;
	net *n = one_agent(&cfg);
	il_ice_agent *a = n->agents[0].agent;
	il_ice_agent_start(a, n->now);
	net_run(n, 5000);
	assert_int_equal(n->agents[0].stun_requests_sent, 0); /* no checks of its own */
	req_opts o = {.username = LUFRAG ":" RUFRAG, .pwd = LPWD, .priority = 1845501695u,
		      .role = 1, .tie_breaker = 5, .tid_byte = 7};
	il_stun_msg resp;
	feed_request(n, &o, peer_addr(2), &resp);
	assert_int_equal(resp.cls, IL_STUN_SUCCESS);
	assert_int_equal(il_ice_agent_get_state(a), IL_ICE_STATE_CHECKING);
	o.use_candidate = true;
	o.tid_byte = 8;
	feed_request(n, &o, peer_addr(3), &resp);
	il_ice_pair_stats s;
	assert_int_equal(il_ice_agent_get_selected_pair(a, 0, 1, &s), IL_ICE_OK);
	il_addr want = peer_addr(3);
	assert_true(il_addr_equal(&s.remote.addr, &want));
	assert_true(s.nominated);
	assert_int_equal(il_ice_agent_get_state(a), IL_ICE_STATE_COMPLETED);
	net_run(n, 60000);
	assert_int_equal(n->agents[0].stun_requests_sent, 0); /* no consent either */
	assert_int_equal(il_ice_agent_get_state(a), IL_ICE_STATE_COMPLETED);
	net_free(n);
}

static void test_trickle_candidate_added_after_checks_start(void **state)
{
	(void)state;
	il_ice_config cfg = config(true);
	net *n = one_agent(&cfg);
	il_ice_agent *a = n->agents[0].agent;
	il_ice_agent_start(a, n->now);
	net_run(n, 200);
	assert_int_equal(n->agents[0].stun_requests_sent, 0);
	add_remote_host(n, peer_addr(2), 2130706431u);
	/* RFC 8838 §12 rule 1: topmost pair of its foundation: Waiting. */
	il_ice_pair_stats s;
	il_ice_agent_get_pair(a, 0, 0, &s);
	assert_int_equal(s.state, IL_ICE_PAIR_WAITING);
	net_run(n, 1);
	assert_int_equal(n->agents[0].stun_requests_sent, 1);
	net_free(n);
}

static void test_end_of_candidates_lets_checklist_fail(void **state)
{
	(void)state;
	il_ice_config cfg = config(true);
	net *n = one_agent(&cfg);
	il_ice_agent *a = n->agents[0].agent;
	add_remote_host(n, peer_addr(2), 2130706431u);
	il_ice_agent_start(a, n->now);
	il_ice_agent_local_end_of_candidates(a, 0, n->now);
	net_run(n, 45000);
	/* All pairs failed, but the peer may still trickle: not failed. */
	assert_int_equal(il_ice_agent_get_state(a), IL_ICE_STATE_CHECKING);
	il_ice_agent_remote_end_of_candidates(a, 0, n->now);
	assert_int_equal(il_ice_agent_get_state(a), IL_ICE_STATE_FAILED);
	/* RFC 8838 §14: candidates after end-of-candidates are ignored. */
	il_ice_candidate c;
	memset(&c, 0, sizeof c);
	strcpy(c.foundation, "late");
	c.component = 1;
	c.priority = 1;
	c.addr = peer_addr(9);
	assert_int_equal(il_ice_agent_add_remote_candidate(a, 0, &c, n->now), IL_ICE_ERR_STATE);
	net_free(n);
}

static void test_credentials_follow_rfc8839_lengths(void **state)
{
	(void)state;
	il_ice_config cfg = config(true);
	net *n = one_agent(&cfg);
	il_ice_agent *a = n->agents[0].agent;
	assert_int_equal(il_ice_agent_add_stream(a, 1, "abc", LPWD), IL_ICE_ERR_ARGUMENT);
	assert_int_equal(il_ice_agent_add_stream(a, 1, "abcd", "short"), IL_ICE_ERR_ARGUMENT);
	assert_int_equal(il_ice_agent_add_stream(a, 1, "ab:d", LPWD), IL_ICE_ERR_ARGUMENT);
	assert_int_equal(il_ice_agent_set_remote_credentials(a, 0, "abcd", "x", n->now),
			 IL_ICE_ERR_ARGUMENT);
	int s = il_ice_agent_add_stream(a, 2, NULL, NULL);
	assert_int_equal(s, 1);
	const char *u = il_ice_agent_local_ufrag(a, 1), *p = il_ice_agent_local_pwd(a, 1);
	assert_true(strlen(u) >= 4 && il_ice_is_ice_chars(u, strlen(u)));
	assert_true(strlen(p) >= 22 && il_ice_is_ice_chars(p, strlen(p)));
	net_free(n);
}

static void test_consent_interval_randomized_between_4_and_6_s(void **state)
{
	(void)state;
	/* Two full agents: look at the gaps between A's consent requests. */
	net *n = net_new(5);
	il_ice_config ca = config(true), cb = config(false);
	cb.tie_breaker = 7;
	net_agent *a = net_add_agent(n, 0, &ca, 11), *b = net_add_agent(n, 1, &cb, 22);
	il_ice_agent_add_stream(a->agent, 1, NULL, NULL);
	il_ice_agent_add_stream(b->agent, 1, NULL, NULL);
	net_add_host(a, 0, 1, addr4(10, 0, 0, 1, 1));
	net_add_host(b, 0, 1, addr4(10, 0, 0, 2, 2));
	net_exchange(a, b, 0, true);
	net_exchange(b, a, 0, true);
	il_ice_agent_start(a->agent, n->now);
	il_ice_agent_start(b->agent, n->now);
	net_run(n, 3000);
	unsigned first = a->stun_requests_sent, sends_before = a->sends;
	(void)sends_before;
	uint64_t start = n->now;
	net_run(n, 120000);
	unsigned consent = a->stun_requests_sent - first;
	/* 120 s at one request per 4..6 s. */
	assert_true(consent >= 20 && consent <= 30);
	(void)start;
	net_free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pair_priority_formula_matches_rfc8445_6_1_2_3),
		cmocka_unit_test(test_candidate_priority_with_type_preferences_126_110_100_0),
		cmocka_unit_test(test_local_preferences_give_ipv6_a_head_start_rfc8421),
		cmocka_unit_test(test_foundation_shared_by_same_type_base_and_server),
		cmocka_unit_test(test_srflx_local_pruned_to_its_host_base),
		cmocka_unit_test(test_check_request_carries_username_priority_role_integrity_fingerprint),
		cmocka_unit_test(test_checks_paced_every_ta),
		cmocka_unit_test(test_check_retransmits_with_doubling_rto_then_fails),
		cmocka_unit_test(test_peer_reflexive_candidate_learnt_from_request),
		cmocka_unit_test(test_triggered_check_on_incoming_request),
		cmocka_unit_test(test_role_conflict_controlling_with_lower_tiebreaker_switches_role),
		cmocka_unit_test(test_487_on_role_conflict_when_we_win),
		cmocka_unit_test(test_controlled_with_higher_tiebreaker_becomes_controlling),
		cmocka_unit_test(test_487_response_switches_role_and_checks_again),
		cmocka_unit_test(test_bad_integrity_gets_401_and_missing_integrity_400),
		cmocka_unit_test(test_lite_agent_learns_nominated_pair_from_use_candidate),
		cmocka_unit_test(test_trickle_candidate_added_after_checks_start),
		cmocka_unit_test(test_end_of_candidates_lets_checklist_fail),
		cmocka_unit_test(test_credentials_follow_rfc8839_lengths),
		cmocka_unit_test(test_consent_interval_randomized_between_4_and_6_s),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
