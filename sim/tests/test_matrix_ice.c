/* ICE across the NAT presets (issue #4 §2, issue #5 §4): the whole ICE
 * matrix against its RFC expectations, the classic cells spelled out,
 * determinism, gathering policies (relay-only never sends a check from a
 * host or server-reflexive address; no-host never signals a host
 * candidate), and ICE restart after a NAT flushes its mappings mid-call. */
#include "sim_test_util.h"

#include <stdio.h>
#include <stdlib.h>

#include "icelab/ice.h"
#include "icelab/ice_gather.h"
#include "icelab/sim_ice.h"

static void print_cell(const char *l, const char *r, int mode, const il_sim_ice_result *c)
{
	print_error("%s %s x %s: got %s (%s/%s, %d media), expected %s: %s\n",
		    il_sim_ice_mode_name(mode), l, r, il_sim_ice_outcome_name(c->outcome),
		    il_ice_candidate_type_name(c->local_type),
		    il_ice_candidate_type_name(c->remote_type), c->media,
		    il_sim_ice_outcome_name(c->expected), c->detail);
}

static void test_every_ice_cell_matches_its_expectation(void **state)
{
	(void)state;
	il_sim_ice_matrix m;
	assert_int_equal(il_sim_ice_matrix_run(1, &m), 0);
	for (int mode = 0; mode < IL_SIM_ICE_MODE_COUNT; mode++)
		for (size_t l = 0; l < m.preset_count; l++)
			for (size_t r = 0; r < m.preset_count; r++) {
				il_sim_ice_result *c = il_sim_ice_matrix_cell(&m, mode, l, r);
				if (c->outcome != c->expected ||
				    (c->outcome != IL_SIM_ICE_FAILED && !c->media))
					print_cell(m.presets[l], m.presets[r], mode, c);
			}
	if (getenv("ICELAB_PRINT_MATRIX"))
		il_sim_ice_matrix_print(&m, stdout);
	assert_int_equal(m.mismatches, 0);
	assert_int_equal(il_sim_ice_matrix_write_json(&m, 1, "/tmp/icelab_sim_ice_matrix.json"), 0);
	il_sim_ice_matrix_free(&m);
	remove("/tmp/icelab_sim_ice_matrix.json");
}

static il_sim_ice_result run_cell(const char *l, const char *r, int mode, int pol_a, int pol_b,
				  uint64_t seed)
{
	il_sim_ice_opts o = {.mode = mode, .policy = {pol_a, pol_b}};
	il_sim_ice_result res;
	char err[160];
	int rc = il_sim_ice_pair_run(l, r, &o, seed, &res, err, sizeof err);
	if (rc)
		print_error("%s\n", err);
	assert_int_equal(rc, 0);
	return res;
}

/* RFC 8445 §6.1.2.3 with RFC 4787: the textbook outcomes. */
static void test_classic_ice_outcomes(void **state)
{
	(void)state;
	struct {
		const char *l, *r;
		int mode, outcome;
	} cases[] = {
		{"open", "open", IL_SIM_ICE_NO_TURN, IL_SIM_ICE_HOST},
		{"full-cone", "full-cone", IL_SIM_ICE_NO_TURN, IL_SIM_ICE_DIRECT},
		{"port-restricted-cone", "port-restricted-cone", IL_SIM_ICE_NO_TURN,
		 IL_SIM_ICE_DIRECT},
		{"symmetric", "restricted-cone", IL_SIM_ICE_NO_TURN, IL_SIM_ICE_DIRECT},
		/* Both sides symmetric: only a relay gets through. */
		{"symmetric", "symmetric", IL_SIM_ICE_NO_TURN, IL_SIM_ICE_FAILED},
		{"symmetric", "symmetric", IL_SIM_ICE_TURN_UDP, IL_SIM_ICE_RELAY},
		{"symmetric", "port-restricted-cone", IL_SIM_ICE_TURN_UDP, IL_SIM_ICE_RELAY},
		/* A UDP-blocked side: TURN over TCP 443 only. */
		{"udp-blocked", "open", IL_SIM_ICE_NO_TURN, IL_SIM_ICE_FAILED},
		{"udp-blocked", "open", IL_SIM_ICE_TURN_UDP, IL_SIM_ICE_FAILED},
		{"udp-blocked", "symmetric", IL_SIM_ICE_TURN_TCP, IL_SIM_ICE_RELAY},
		{"udp-blocked", "udp-blocked", IL_SIM_ICE_TURN_TCP, IL_SIM_ICE_RELAY},
		/* A direct path beats a relay whenever it exists. */
		{"full-cone", "symmetric", IL_SIM_ICE_TURN_UDP, IL_SIM_ICE_DIRECT},
		{"cgn", "cgn", IL_SIM_ICE_TURN_TCP, IL_SIM_ICE_DIRECT},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		il_sim_ice_result c = run_cell(cases[i].l, cases[i].r, cases[i].mode,
					       IL_ICE_GATHER_ALL, IL_ICE_GATHER_ALL, 5);
		if (c.outcome != cases[i].outcome || c.expected != cases[i].outcome)
			print_cell(cases[i].l, cases[i].r, cases[i].mode, &c);
		assert_int_equal(c.outcome, cases[i].outcome);
		assert_int_equal(c.expected, cases[i].outcome);
	}
}

/* A symmetric NAT's checks leave from a new mapping: the peer learns a
 * peer-reflexive candidate (RFC 8445 §7.3.1.3), and the symmetric side's
 * own view of its local candidate is peer-reflexive too (§7.2.5.3.1). */
static void test_symmetric_side_is_seen_as_peer_reflexive(void **state)
{
	(void)state;
	il_sim_ice_result c = run_cell("symmetric", "full-cone", IL_SIM_ICE_NO_TURN,
				       IL_ICE_GATHER_ALL, IL_ICE_GATHER_ALL, 2);
	assert_int_equal(c.outcome, IL_SIM_ICE_DIRECT);
	assert_int_equal(c.local_type, IL_ICE_CAND_PRFLX);
	c = run_cell("full-cone", "full-cone", IL_SIM_ICE_NO_TURN, IL_ICE_GATHER_ALL,
		     IL_ICE_GATHER_ALL, 2);
	assert_int_equal(c.local_type, IL_ICE_CAND_SRFLX);
	assert_int_equal(c.remote_type, IL_ICE_CAND_SRFLX);
}

static void test_ice_cell_is_deterministic(void **state)
{
	(void)state;
	il_sim_ice_result a = run_cell("symmetric-random", "cgn", IL_SIM_ICE_TURN_TCP,
				       IL_ICE_GATHER_ALL, IL_ICE_GATHER_ALL, 11);
	il_sim_ice_result b = run_cell("symmetric-random", "cgn", IL_SIM_ICE_TURN_TCP,
				       IL_ICE_GATHER_ALL, IL_ICE_GATHER_ALL, 11);
	assert_int_equal(a.time_ms, b.time_ms);
	assert_int_equal(a.checks, b.checks);
	assert_int_equal(a.packets, b.packets);
}

/* Issue #5 §2: relay-only offers and uses relayed candidates only. Two
 * open hosts that could talk host to host still go through the relays. */
static void test_relay_only_policy_connects_through_relays(void **state)
{
	(void)state;
	il_sim_ice_result c = run_cell("open", "open", IL_SIM_ICE_TURN_UDP,
				       IL_ICE_GATHER_RELAY_ONLY, IL_ICE_GATHER_ALL, 3);
	assert_int_equal(c.outcome, IL_SIM_ICE_RELAY);
	assert_int_equal(c.local_type, IL_ICE_CAND_RELAY);
	assert_true(c.media);
	c = run_cell("full-cone", "open", IL_SIM_ICE_TURN_TCP, IL_ICE_GATHER_RELAY_ONLY,
		     IL_ICE_GATHER_RELAY_ONLY, 3);
	assert_int_equal(c.outcome, IL_SIM_ICE_RELAY);
	assert_int_equal(c.local_type, IL_ICE_CAND_RELAY);
	assert_int_equal(c.remote_type, IL_ICE_CAND_RELAY);
	/* Without a TURN server a relay-only agent has nothing. */
	c = run_cell("open", "open", IL_SIM_ICE_NO_TURN, IL_ICE_GATHER_RELAY_ONLY,
		     IL_ICE_GATHER_ALL, 3);
	assert_int_equal(c.outcome, IL_SIM_ICE_FAILED);
}

/* Issue #5 §4: a mapping flushed mid-call (a NAT reboot with random
 * ports: the new mapping differs). Consent is lost after 30 s without a
 * response (RFC 7675 §5.1), alice restarts ICE (RFC 8445 §9) and gathers
 * a new server-reflexive candidate, bob answers, a new pair carries the
 * media. */
static void test_restart_after_mapping_flush_selects_a_new_pair(void **state)
{
	(void)state;
	il_sim_ice_restart_result r;
	char err[160];
	assert_int_equal(il_sim_ice_restart_run("port-restricted-cone,ports=random",
						"port-restricted-cone", IL_SIM_ICE_NO_TURN, 7, 5000,
						&r, err, sizeof err),
			 0);
	if (getenv("ICELAB_PRINT_MATRIX"))
		printf("restart: before %s/%s, consent lost after %llu ms, recovered in %llu ms, "
		       "after %s/%s, new pair %d, %u checks\n",
		       il_ice_candidate_type_name(r.before_local),
		       il_ice_candidate_type_name(r.before_remote),
		       (unsigned long long)r.consent_lost_ms, (unsigned long long)r.recovery_ms,
		       il_ice_candidate_type_name(r.after_local),
		       il_ice_candidate_type_name(r.after_remote), r.new_pair, r.checks);
	assert_true(r.connected);
	assert_int_equal(r.before_local, IL_ICE_CAND_SRFLX);
	assert_true(r.consent_lost);
	/* RFC 7675 §5.1: 30 s after the last response, which came at most one
	 * consent interval (5 s +20%) before the flush. */
	assert_true(r.consent_lost_ms >= 30000 - 6000 && r.consent_lost_ms <= 30000);
	assert_true(r.restarted);
	assert_true(r.recovered);
	assert_true(r.new_pair);
	assert_int_equal(r.after_local, IL_ICE_CAND_SRFLX);
	/* Restart: signalling (50 ms each way), a Binding round trip, checks,
	 * and regular nomination (at most nomination_wait_ms = 1 s after the
	 * first valid pair, RFC 8445 §8.1.1): under 2 s after consent loss. */
	assert_true(r.recovery_ms > r.consent_lost_ms && r.recovery_ms < r.consent_lost_ms + 2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classic_ice_outcomes),
		cmocka_unit_test(test_symmetric_side_is_seen_as_peer_reflexive),
		cmocka_unit_test(test_ice_cell_is_deterministic),
		cmocka_unit_test(test_relay_only_policy_connects_through_relays),
		cmocka_unit_test(test_restart_after_mapping_flush_selects_a_new_pair),
		cmocka_unit_test(test_every_ice_cell_matches_its_expectation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
