/* RFC 5780 discovery (nat_discovery.h) through each NAT preset of the
 * simulator, against the simulated server with OTHER-ADDRESS (issue #4
 * §3: "It classifies every simulator preset correctly (a test per
 * preset)"). The expected answer of each test is the preset's own
 * definition (presets.c), not a recording of what the code said. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "icelab/sim_run.h"

typedef struct expect {
	bool udp_blocked;
	enum il_natd_mapping mapping;
	enum il_natd_filtering filtering;
	enum il_natd_tristate hairpin;
	const char *classic;
} expect;

static il_natd_result discover(const char *desc, uint32_t lifetime_max_ms, uint64_t seed)
{
	il_sim_discovery_opts o;
	il_sim_discovery_opts_defaults(&o);
	o.seed = seed;
	o.lifetime_max_ms = lifetime_max_ms;
	il_natd_result r;
	char err[160] = "";
	int rc = il_sim_discover(desc, &o, &r, err, sizeof err);
	if (rc != 0)
		fail_msg("%s: %s", desc, err);
	assert_true(r.done);
	return r;
}

static void check(const char *desc, const expect *e)
{
	il_natd_result r = discover(desc, 0, 7);
	if (r.udp_blocked != e->udp_blocked || r.mapping != e->mapping ||
	    r.filtering != e->filtering || r.hairpin != e->hairpin)
		fail_msg("%s: got blocked=%d mapping=%s filtering=%s hairpin=%s (%s)", desc,
			 r.udp_blocked, il_natd_mapping_name(r.mapping, true),
			 il_natd_filtering_name(r.filtering, true), il_natd_tristate_name(r.hairpin),
			 r.error);
	assert_string_equal(il_natd_classic_name(&r), e->classic);
	if (!e->udp_blocked) {
		assert_true(r.rfc5780);
		assert_string_equal(r.error, "");
	}
}

static void test_open_is_no_nat_and_unfiltered(void **state)
{
	(void)state;
	expect e = {false, IL_NATD_MAPPING_NO_NAT, IL_NATD_FILTERING_EIF, IL_NATD_UNTESTED, "open"};
	check("open", &e);
}

static void test_full_cone_is_eim_eif_with_hairpin(void **state)
{
	(void)state;
	expect e = {false, IL_NATD_MAPPING_EIM, IL_NATD_FILTERING_EIF, IL_NATD_YES, "full-cone"};
	check("full-cone", &e);
}

static void test_restricted_cone_is_eim_adf(void **state)
{
	(void)state;
	expect e = {false, IL_NATD_MAPPING_EIM, IL_NATD_FILTERING_ADF, IL_NATD_YES,
		    "restricted-cone"};
	check("restricted-cone", &e);
}

static void test_port_restricted_cone_is_eim_apdf(void **state)
{
	(void)state;
	expect e = {false, IL_NATD_MAPPING_EIM, IL_NATD_FILTERING_APDF, IL_NATD_YES,
		    "port-restricted-cone"};
	check("port-restricted-cone", &e);
}

static void test_symmetric_is_apdm_apdf_without_hairpin(void **state)
{
	(void)state;
	expect e = {false, IL_NATD_MAPPING_APDM, IL_NATD_FILTERING_APDF, IL_NATD_NO, "symmetric"};
	check("symmetric", &e);
}

static void test_symmetric_random_is_apdm_apdf_without_hairpin(void **state)
{
	(void)state;
	expect e = {false, IL_NATD_MAPPING_APDM, IL_NATD_FILTERING_APDF, IL_NATD_NO, "symmetric"};
	check("symmetric-random", &e);
}

static void test_udp_blocked_is_reported_blocked(void **state)
{
	(void)state;
	expect e = {true, IL_NATD_MAPPING_UNKNOWN, IL_NATD_FILTERING_UNKNOWN, IL_NATD_UNTESTED,
		    "udp-blocked"};
	check("udp-blocked", &e);
}

/* Home EIM/ADF behind carrier EIM/EIF: the path maps EIM and filters ADF
 * (the stricter of the two), and the carrier hairpins. */
static void test_cgn_is_eim_adf_through_two_nats(void **state)
{
	(void)state;
	expect e = {false, IL_NATD_MAPPING_EIM, IL_NATD_FILTERING_ADF, IL_NATD_YES,
		    "restricted-cone"};
	check("cgn", &e);
}

static void test_custom_adm_is_address_dependent(void **state)
{
	(void)state;
	expect e = {false, IL_NATD_MAPPING_ADM, IL_NATD_FILTERING_ADF, IL_NATD_NO, "symmetric"};
	check("mapping=adm,filtering=adf,hairpin=off", &e);
}

/* §4.6 against the NAT's own timeout (and the default of RFC 4787
 * REQ-5, 2 min): the bracket holds the configured value. */
static void test_binding_lifetime_brackets_the_nat_timeout(void **state)
{
	(void)state;
	static const struct {
		const char *desc;
		uint32_t timeout_ms;
	} cases[] = {{"port-restricted-cone", 120000}, {"symmetric,timeout=30s", 30000}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		il_natd_result r = discover(cases[i].desc, 300000, 3);
		assert_int_equal(r.lifetime_tested, IL_NATD_YES);
		if (!(r.lifetime_lo_ms < cases[i].timeout_ms &&
		      r.lifetime_hi_ms >= cases[i].timeout_ms &&
		      r.lifetime_hi_ms - r.lifetime_lo_ms <= 1000))
			fail_msg("%s: lifetime in (%u, %u] ms, want %u", cases[i].desc,
				 r.lifetime_lo_ms, r.lifetime_hi_ms, cases[i].timeout_ms);
	}
}

static void test_server_without_rfc5780_is_reported(void **state)
{
	(void)state;
	il_sim_discovery_opts o;
	il_sim_discovery_opts_defaults(&o);
	o.no_rfc5780 = true;
	il_natd_result r;
	char err[160];
	assert_int_equal(il_sim_discover("full-cone", &o, &r, err, sizeof err), 0);
	assert_false(r.rfc5780);
	assert_int_equal(r.mapping, IL_NATD_MAPPING_UNKNOWN);
	assert_int_equal(r.hairpin, IL_NATD_YES);
}

static void test_same_seed_same_answer(void **state)
{
	(void)state;
	il_natd_result a = discover("symmetric-random", 0, 11);
	il_natd_result b = discover("symmetric-random", 0, 11);
	assert_memory_equal(&a.mapped, &b.mapped, sizeof a.mapped);
	assert_memory_equal(&a.mapped3, &b.mapped3, sizeof a.mapped3);
	assert_int_equal(a.finished_ms, b.finished_ms);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_is_no_nat_and_unfiltered),
		cmocka_unit_test(test_full_cone_is_eim_eif_with_hairpin),
		cmocka_unit_test(test_restricted_cone_is_eim_adf),
		cmocka_unit_test(test_port_restricted_cone_is_eim_apdf),
		cmocka_unit_test(test_symmetric_is_apdm_apdf_without_hairpin),
		cmocka_unit_test(test_symmetric_random_is_apdm_apdf_without_hairpin),
		cmocka_unit_test(test_udp_blocked_is_reported_blocked),
		cmocka_unit_test(test_cgn_is_eim_adf_through_two_nats),
		cmocka_unit_test(test_custom_adm_is_address_dependent),
		cmocka_unit_test(test_binding_lifetime_brackets_the_nat_timeout),
		cmocka_unit_test(test_server_without_rfc5780_is_reported),
		cmocka_unit_test(test_same_seed_same_answer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
