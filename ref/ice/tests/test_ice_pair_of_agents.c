/* Two ICE agents wired in memory (virtual time, 10 ms one-way latency):
 * full against full in both roles, full against lite, several streams and
 * components, a NAT that makes peer-reflexive candidates, role conflict,
 * aggressive nomination, trickle, end-of-candidates, consent expiry and
 * ICE restart (RFC 8445, 8838, 7675). */
#include "ice_test_util.h"

static il_ice_config cfg_full(bool controlling)
{
	il_ice_config c;
	il_ice_config_defaults(&c);
	c.controlling = controlling;
	return c;
}

/* A and B, each with one stream of `components` host candidates. */
static net *pair_setup(const il_ice_config *ca, const il_ice_config *cb, unsigned components)
{
	net *n = net_new(10);
	net_agent *a = net_add_agent(n, 0, ca, 0x1234567u);
	net_agent *b = net_add_agent(n, 1, cb, 0x7654321u);
	assert_int_equal(il_ice_agent_add_stream(a->agent, components, NULL, NULL), 0);
	assert_int_equal(il_ice_agent_add_stream(b->agent, components, NULL, NULL), 0);
	for (unsigned c = 1; c <= components; c++) {
		net_add_host(a, 0, c, addr4(10, 0, 0, 1, (uint16_t)(5000 + c)));
		net_add_host(b, 0, c, addr4(10, 0, 0, 2, (uint16_t)(6000 + c)));
	}
	return n;
}

static void start_both(net *n)
{
	assert_int_equal(il_ice_agent_start(n->agents[0].agent, n->now), IL_ICE_OK);
	assert_int_equal(il_ice_agent_start(n->agents[1].agent, n->now), IL_ICE_OK);
}

/* The selected pairs of the two agents are the two ends of one path. */
static void assert_selected_match(net *n, unsigned stream, unsigned component)
{
	il_ice_pair_stats sa, sb;
	assert_int_equal(il_ice_agent_get_selected_pair(n->agents[0].agent, stream, component, &sa),
			 IL_ICE_OK);
	assert_int_equal(il_ice_agent_get_selected_pair(n->agents[1].agent, stream, component, &sb),
			 IL_ICE_OK);
	assert_true(sa.nominated && sb.nominated && sa.valid && sb.valid);
	assert_true(il_addr_equal(&sa.local.base, &sb.remote.addr) ||
		    il_addr_equal(&sa.local.addr, &sb.remote.addr));
	assert_true(il_addr_equal(&sb.local.base, &sa.remote.addr) ||
		    il_addr_equal(&sb.local.addr, &sa.remote.addr));
}

static void run_full_full(bool a_controlling)
{
	il_ice_config ca = cfg_full(a_controlling), cb = cfg_full(!a_controlling);
	net *n = pair_setup(&ca, &cb, 1);
	net_exchange(&n->agents[0], &n->agents[1], 0, true);
	net_exchange(&n->agents[1], &n->agents[0], 0, true);
	start_both(n);
	net_run(n, 3000);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(il_ice_agent_get_state(n->agents[i].agent), IL_ICE_STATE_COMPLETED);
		assert_true(saw_state(&n->agents[i], IL_ICE_STATE_CHECKING));
		assert_true(saw_state(&n->agents[i], IL_ICE_STATE_CONNECTED));
	}
	assert_true(il_ice_agent_is_controlling(n->agents[0].agent) == a_controlling);
	assert_selected_match(n, 0, 1);
	il_ice_pair_stats s;
	assert_int_equal(il_ice_agent_get_selected_pair(n->agents[0].agent, 0, 1, &s), IL_ICE_OK);
	assert_int_equal(s.local.type, IL_ICE_CAND_HOST);
	assert_int_equal(s.remote.type, IL_ICE_CAND_HOST);
	assert_true(s.rtt_samples >= 1 && s.rtt_ms == 20);
	assert_true(s.requests_sent >= 1 && s.responses_received >= 1);
	assert_true(s.requests_received >= 1 && s.responses_sent >= 1);
	/* Media both ways on the selected pair. */
	const uint8_t rtp[] = {0x80, 0x60, 0, 1, 0, 0, 0, 0};
	assert_int_equal(il_ice_agent_send(n->agents[0].agent, 0, 1, rtp, sizeof rtp, n->now),
			 IL_ICE_OK);
	assert_int_equal(il_ice_agent_send(n->agents[1].agent, 0, 1, rtp, sizeof rtp, n->now),
			 IL_ICE_OK);
	net_run(n, 100);
	assert_int_equal(n->agents[0].data_received, 1);
	assert_int_equal(n->agents[1].data_received, 1);
	assert_int_equal(il_ice_agent_get_selected_pair(n->agents[1].agent, 0, 1, &s), IL_ICE_OK);
	assert_int_equal(s.bytes_received, sizeof rtp);
	assert_int_equal(s.bytes_sent, sizeof rtp);
	net_free(n);
}

static void test_full_full_a_controlling_completes(void **state)
{
	(void)state;
	run_full_full(true);
}

static void test_full_full_b_controlling_completes(void **state)
{
	(void)state;
	run_full_full(false);
}

static void test_full_agent_facing_lite_peer_takes_control_and_completes(void **state)
{
	(void)state;
	il_ice_config ca = cfg_full(false), cb = cfg_full(false);
	cb.lite = true;
	net *n = pair_setup(&ca, &cb, 1);
	il_ice_agent_set_remote_lite(n->agents[0].agent, true);
	net_exchange(&n->agents[0], &n->agents[1], 0, true);
	net_exchange(&n->agents[1], &n->agents[0], 0, true);
	start_both(n);
	net_run(n, 3000);
	assert_true(il_ice_agent_is_controlling(n->agents[0].agent));
	assert_false(il_ice_agent_is_controlling(n->agents[1].agent));
	assert_int_equal(il_ice_agent_get_state(n->agents[0].agent), IL_ICE_STATE_COMPLETED);
	assert_int_equal(il_ice_agent_get_state(n->agents[1].agent), IL_ICE_STATE_COMPLETED);
	assert_selected_match(n, 0, 1);
	/* The lite agent never sent a check. */
	assert_int_equal(n->agents[1].stun_requests_sent, 0);
	net_free(n);
}

static void test_two_streams_two_components_all_selected(void **state)
{
	(void)state;
	il_ice_config ca = cfg_full(true), cb = cfg_full(false);
	net *n = pair_setup(&ca, &cb, 2);
	assert_int_equal(il_ice_agent_add_stream(n->agents[0].agent, 2, NULL, NULL), 1);
	assert_int_equal(il_ice_agent_add_stream(n->agents[1].agent, 2, NULL, NULL), 1);
	for (unsigned c = 1; c <= 2; c++) {
		net_add_host(&n->agents[0], 1, c, addr4(10, 0, 0, 1, (uint16_t)(7000 + c)));
		net_add_host(&n->agents[1], 1, c, addr4(10, 0, 0, 2, (uint16_t)(8000 + c)));
	}
	for (unsigned s = 0; s < 2; s++) {
		net_exchange(&n->agents[0], &n->agents[1], s, true);
		net_exchange(&n->agents[1], &n->agents[0], s, true);
	}
	start_both(n);
	net_run(n, 5000);
	assert_int_equal(il_ice_agent_get_state(n->agents[0].agent), IL_ICE_STATE_COMPLETED);
	assert_int_equal(il_ice_agent_get_state(n->agents[1].agent), IL_ICE_STATE_COMPLETED);
	for (unsigned s = 0; s < 2; s++)
		for (unsigned c = 1; c <= 2; c++)
			assert_selected_match(n, s, c);
	net_free(n);
}

static void test_nat_gives_peer_reflexive_candidates_on_both_sides(void **state)
{
	(void)state;
	il_ice_config ca = cfg_full(true), cb = cfg_full(false);
	net *n = pair_setup(&ca, &cb, 1);
	/* A sits behind a NAT: its host is not reachable, only its mapping. */
	net_agent *a = &n->agents[0];
	a->nat = true;
	a->nat_inside = addr4(10, 0, 0, 1, 5001);
	a->nat_outside = addr4(203, 0, 113, 7, 40001);
	net_exchange(a, &n->agents[1], 0, true);
	net_exchange(&n->agents[1], a, 0, true);
	start_both(n);
	net_run(n, 3000);
	assert_int_equal(il_ice_agent_get_state(a->agent), IL_ICE_STATE_COMPLETED);
	assert_int_equal(il_ice_agent_get_state(n->agents[1].agent), IL_ICE_STATE_COMPLETED);
	il_ice_pair_stats sb, sa;
	assert_int_equal(il_ice_agent_get_selected_pair(n->agents[1].agent, 0, 1, &sb), IL_ICE_OK);
	assert_int_equal(sb.remote.type, IL_ICE_CAND_PRFLX);
	assert_true(il_addr_equal(&sb.remote.addr, &a->nat_outside));
	assert_int_equal(il_ice_agent_get_selected_pair(a->agent, 0, 1, &sa), IL_ICE_OK);
	assert_int_equal(sa.local.type, IL_ICE_CAND_PRFLX);
	assert_true(il_addr_equal(&sa.local.addr, &a->nat_outside));
	assert_true(count_events(a, IL_ICE_EV_PEER_REFLEXIVE) >= 1);
	assert_true(count_events(&n->agents[1], IL_ICE_EV_PEER_REFLEXIVE) >= 1);
	net_free(n);
}

static void test_both_controlling_resolve_role_conflict_and_complete(void **state)
{
	(void)state;
	il_ice_config ca = cfg_full(true), cb = cfg_full(true);
	ca.tie_breaker = 10;
	cb.tie_breaker = 20;
	net *n = pair_setup(&ca, &cb, 1);
	net_exchange(&n->agents[0], &n->agents[1], 0, true);
	net_exchange(&n->agents[1], &n->agents[0], 0, true);
	start_both(n);
	net_run(n, 5000);
	/* B's tie-breaker is larger: B stays controlling, A yields. */
	assert_false(il_ice_agent_is_controlling(n->agents[0].agent));
	assert_true(il_ice_agent_is_controlling(n->agents[1].agent));
	assert_int_equal(count_events(&n->agents[0], IL_ICE_EV_ROLE), 1);
	assert_int_equal(il_ice_agent_get_state(n->agents[0].agent), IL_ICE_STATE_COMPLETED);
	assert_int_equal(il_ice_agent_get_state(n->agents[1].agent), IL_ICE_STATE_COMPLETED);
	assert_selected_match(n, 0, 1);
	net_free(n);
}

static void test_controlled_accepts_aggressive_nomination(void **state)
{
	(void)state;
	il_ice_config ca = cfg_full(true), cb = cfg_full(false);
	ca.aggressive_nomination = true;
	net *n = pair_setup(&ca, &cb, 1);
	net_exchange(&n->agents[0], &n->agents[1], 0, true);
	net_exchange(&n->agents[1], &n->agents[0], 0, true);
	start_both(n);
	net_run(n, 3000);
	assert_int_equal(il_ice_agent_get_state(n->agents[1].agent), IL_ICE_STATE_COMPLETED);
	assert_int_equal(il_ice_agent_get_state(n->agents[0].agent), IL_ICE_STATE_COMPLETED);
	assert_selected_match(n, 0, 1);
	net_free(n);
}

static void test_trickle_candidates_after_start_connect(void **state)
{
	(void)state;
	il_ice_config ca = cfg_full(true), cb = cfg_full(false);
	net *n = pair_setup(&ca, &cb, 1);
	net_agent *a = &n->agents[0], *b = &n->agents[1];
	/* Credentials only, then start: nothing to check yet. */
	il_ice_agent_set_remote_credentials(b->agent, 0, il_ice_agent_local_ufrag(a->agent, 0),
					    il_ice_agent_local_pwd(a->agent, 0), n->now);
	il_ice_agent_set_remote_credentials(a->agent, 0, il_ice_agent_local_ufrag(b->agent, 0),
					    il_ice_agent_local_pwd(b->agent, 0), n->now);
	start_both(n);
	net_run(n, 500);
	assert_int_equal(il_ice_agent_get_state(a->agent), IL_ICE_STATE_CHECKING);
	assert_int_equal(il_ice_agent_pair_count(a->agent, 0), 0);
	net_exchange(b, a, 0, false); /* B's candidate trickles to A */
	net_run(n, 3000);
	assert_int_equal(il_ice_agent_get_state(a->agent), IL_ICE_STATE_COMPLETED);
	assert_int_equal(il_ice_agent_get_state(b->agent), IL_ICE_STATE_COMPLETED);
	net_free(n);
}

static void test_consent_expiry_when_peer_disappears_stops_sending(void **state)
{
	(void)state;
	il_ice_config ca = cfg_full(true), cb = cfg_full(false);
	net *n = pair_setup(&ca, &cb, 1);
	net_exchange(&n->agents[0], &n->agents[1], 0, true);
	net_exchange(&n->agents[1], &n->agents[0], 0, true);
	start_both(n);
	net_run(n, 3000);
	assert_int_equal(il_ice_agent_get_state(n->agents[0].agent), IL_ICE_STATE_COMPLETED);
	/* Consent keeps the pair alive for a minute. */
	net_run(n, 60000);
	assert_int_equal(il_ice_agent_get_state(n->agents[0].agent), IL_ICE_STATE_COMPLETED);
	il_ice_pair_stats s;
	il_ice_agent_get_selected_pair(n->agents[0].agent, 0, 1, &s);
	assert_true(s.consent_requests_sent >= 10 && s.consent_requests_sent <= 16);
	/* B vanishes. */
	n->agents[1].blackhole = true;
	uint64_t gone = n->now;
	net_run(n, 12000);
	assert_int_equal(il_ice_agent_get_state(n->agents[0].agent), IL_ICE_STATE_DISCONNECTED);
	net_run(n, 20000);
	assert_int_equal(il_ice_agent_get_state(n->agents[0].agent), IL_ICE_STATE_FAILED);
	assert_int_equal(count_events(&n->agents[0], IL_ICE_EV_CONSENT_EXPIRED), 1);
	assert_true(s.last_response_ms <= gone);
	const uint8_t rtp[4] = {0x80, 0, 0, 0};
	assert_int_equal(il_ice_agent_send(n->agents[0].agent, 0, 1, rtp, 4, n->now),
			 IL_ICE_ERR_NO_CONSENT);
	net_free(n);
}

static void test_end_of_candidates_lets_unreachable_peer_fail(void **state)
{
	(void)state;
	il_ice_config ca = cfg_full(true), cb = cfg_full(false);
	net *n = pair_setup(&ca, &cb, 1);
	n->agents[1].blackhole = true;
	n->agents[0].nat = true; /* A unreachable too: B's checks go nowhere */
	n->agents[0].nat_inside = addr4(10, 0, 0, 1, 5001);
	n->agents[0].nat_outside = addr4(203, 0, 113, 9, 1);
	n->agents[0].blackhole = false;
	net_exchange(&n->agents[0], &n->agents[1], 0, false);
	net_exchange(&n->agents[1], &n->agents[0], 0, false);
	start_both(n);
	net_run(n, 60000);
	/* Without end-of-candidates the check list waits for more. */
	assert_int_equal(il_ice_agent_get_state(n->agents[0].agent), IL_ICE_STATE_CHECKING);
	il_ice_agent_remote_end_of_candidates(n->agents[0].agent, 0, n->now);
	il_ice_agent_local_end_of_candidates(n->agents[0].agent, 0, n->now);
	net_run(n, 10);
	assert_int_equal(il_ice_agent_get_state(n->agents[0].agent), IL_ICE_STATE_FAILED);
	net_free(n);
}

static void test_restart_media_stays_on_old_pair_until_new_selected(void **state)
{
	(void)state;
	il_ice_config ca = cfg_full(true), cb = cfg_full(false);
	net *n = pair_setup(&ca, &cb, 1);
	net_agent *a = &n->agents[0], *b = &n->agents[1];
	net_exchange(a, b, 0, true);
	net_exchange(b, a, 0, true);
	start_both(n);
	net_run(n, 3000);
	assert_int_equal(il_ice_agent_get_state(a->agent), IL_ICE_STATE_COMPLETED);
	char old_ufrag[64];
	strcpy(old_ufrag, il_ice_agent_local_ufrag(a->agent, 0));
	/* A offers a restart; B answers with a restart of its own. */
	assert_int_equal(il_ice_agent_restart(a->agent, 0, NULL, NULL, n->now), IL_ICE_OK);
	assert_string_not_equal(old_ufrag, il_ice_agent_local_ufrag(a->agent, 0));
	net_exchange(a, b, 0, true);
	assert_int_equal(il_ice_agent_restart(b->agent, 0, NULL, NULL, n->now), IL_ICE_OK);
	/* Media still flows on the old pair before the answer arrives. */
	const uint8_t rtp[4] = {0x80, 0, 0, 1};
	assert_int_equal(il_ice_agent_send(b->agent, 0, 1, rtp, 4, n->now), IL_ICE_OK);
	net_run(n, 100);
	assert_int_equal(a->data_received, 1);
	net_exchange(b, a, 0, true);
	assert_int_equal(il_ice_agent_send(a->agent, 0, 1, rtp, 4, n->now), IL_ICE_OK);
	net_run(n, 3000);
	assert_int_equal(b->data_received, 1);
	assert_int_equal(count_events(a, IL_ICE_EV_RESTART_DONE), 1);
	assert_int_equal(count_events(b, IL_ICE_EV_RESTART_DONE), 1);
	assert_int_equal(il_ice_agent_get_state(a->agent), IL_ICE_STATE_COMPLETED);
	assert_int_equal(il_ice_agent_get_state(b->agent), IL_ICE_STATE_COMPLETED);
	assert_selected_match(n, 0, 1);
	/* The old credentials are no longer accepted. */
	net_run(n, 40000);
	assert_int_equal(il_ice_agent_get_state(a->agent), IL_ICE_STATE_COMPLETED);
	net_free(n);
}

static void test_restart_rollback_restores_credentials(void **state)
{
	(void)state;
	il_ice_config ca = cfg_full(true), cb = cfg_full(false);
	net *n = pair_setup(&ca, &cb, 1);
	net_agent *a = &n->agents[0], *b = &n->agents[1];
	net_exchange(a, b, 0, true);
	net_exchange(b, a, 0, true);
	start_both(n);
	net_run(n, 3000);
	char ufrag[64], pwd[64];
	strcpy(ufrag, il_ice_agent_local_ufrag(a->agent, 0));
	strcpy(pwd, il_ice_agent_local_pwd(a->agent, 0));
	assert_int_equal(il_ice_agent_restart_rollback(a->agent, 0, n->now), IL_ICE_ERR_STATE);
	assert_int_equal(il_ice_agent_restart(a->agent, 0, NULL, NULL, n->now), IL_ICE_OK);
	assert_string_not_equal(ufrag, il_ice_agent_local_ufrag(a->agent, 0));
	assert_int_equal(il_ice_agent_restart_rollback(a->agent, 0, n->now), IL_ICE_OK);
	assert_string_equal(ufrag, il_ice_agent_local_ufrag(a->agent, 0));
	assert_string_equal(pwd, il_ice_agent_local_pwd(a->agent, 0));
	/* The session goes on: B's consent checks still answered. */
	net_run(n, 40000);
	assert_int_equal(il_ice_agent_get_state(a->agent), IL_ICE_STATE_COMPLETED);
	assert_int_equal(il_ice_agent_get_state(b->agent), IL_ICE_STATE_COMPLETED);
	net_free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_full_a_controlling_completes),
		cmocka_unit_test(test_full_full_b_controlling_completes),
		cmocka_unit_test(test_full_agent_facing_lite_peer_takes_control_and_completes),
		cmocka_unit_test(test_two_streams_two_components_all_selected),
		cmocka_unit_test(test_nat_gives_peer_reflexive_candidates_on_both_sides),
		cmocka_unit_test(test_both_controlling_resolve_role_conflict_and_complete),
		cmocka_unit_test(test_controlled_accepts_aggressive_nomination),
		cmocka_unit_test(test_trickle_candidates_after_start_connect),
		cmocka_unit_test(test_consent_expiry_when_peer_disappears_stops_sending),
		cmocka_unit_test(test_end_of_candidates_lets_unreachable_peer_fail),
		cmocka_unit_test(test_restart_media_stays_on_old_pair_until_new_selected),
		cmocka_unit_test(test_restart_rollback_restores_credentials),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
