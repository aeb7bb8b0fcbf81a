/* The preset matrix against its RFC 4787 expectations, the example
 * scenarios, and scenario file errors (one line with the place). */
#include "sim_test_util.h"

#include <stdio.h>
#include <stdlib.h>

#include "icelab/sim_run.h"

static void test_every_cell_matches_its_expectation(void **state)
{
	(void)state;
	il_sim_matrix m;
	assert_int_equal(il_sim_matrix_run(1, &m), 0);
	for (int mode = 0; mode < IL_SIM_MODE_COUNT; mode++)
		for (size_t l = 0; l < m.preset_count; l++)
			for (size_t r = 0; r < m.preset_count; r++) {
				il_sim_pair_result *c = il_sim_matrix_cell(&m, mode, l, r);
				if (c->ok != c->expected)
					print_error("%s %s x %s: got %d, expected %d (%s)\n",
						    il_sim_mode_name(mode), m.presets[l], m.presets[r],
						    c->ok, c->expected, c->detail);
			}
	assert_int_equal(m.mismatches, 0);
	assert_int_equal(il_sim_matrix_write_json(&m, 1, "/tmp/icelab_sim_matrix.json"), 0);
	il_sim_matrix_free(&m);
	remove("/tmp/icelab_sim_matrix.json");
}

/* The classic outcomes, spelled out (RFC 4787 §4, §5; RFC 5128 §3.3). */
static void test_known_outcomes(void **state)
{
	(void)state;
	struct {
		const char *l, *r;
		int mode;
		bool ok;
	} cases[] = {
		{"symmetric", "symmetric", IL_SIM_MODE_DIRECT, false},
		{"symmetric", "port-restricted-cone", IL_SIM_MODE_DIRECT, false},
		{"symmetric", "restricted-cone", IL_SIM_MODE_DIRECT, true},
		{"symmetric-random", "full-cone", IL_SIM_MODE_DIRECT, true},
		{"port-restricted-cone", "port-restricted-cone", IL_SIM_MODE_DIRECT, true},
		{"cgn", "cgn", IL_SIM_MODE_DIRECT, true},
		{"udp-blocked", "open", IL_SIM_MODE_DIRECT, false},
		{"udp-blocked", "open", IL_SIM_MODE_TURN_UDP, false},
		{"udp-blocked", "udp-blocked", IL_SIM_MODE_TURN_TCP, true},
		{"symmetric", "symmetric", IL_SIM_MODE_TURN_UDP, true},
		/* The answer leaves an APDM NAT from a new port: APDF drops it. */
		{"mapping=apdm,filtering=eif", "symmetric", IL_SIM_MODE_DIRECT, false},
		{"mapping=apdm,filtering=eif", "full-cone", IL_SIM_MODE_DIRECT, true},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		il_sim_pair_result r;
		char err[160];
		assert_int_equal(il_sim_pair_run(cases[i].l, cases[i].r, cases[i].mode, 3, NULL, &r,
						 err, sizeof err), 0);
		if (r.ok != cases[i].ok || r.expected != cases[i].ok)
			print_error("%s x %s %s: ok %d expected %d want %d\n", cases[i].l, cases[i].r,
				    il_sim_mode_name(cases[i].mode), r.ok, r.expected, cases[i].ok);
		assert_int_equal(r.ok, cases[i].ok);
		assert_int_equal(r.expected, cases[i].ok);
	}
}

static void test_matrix_is_deterministic(void **state)
{
	(void)state;
	il_sim_pair_result a, b;
	char err[160];
	il_sim_pair_run("symmetric-random", "cgn", IL_SIM_MODE_TURN_TCP, 11, NULL, &a, err, sizeof err);
	il_sim_pair_run("symmetric-random", "cgn", IL_SIM_MODE_TURN_TCP, 11, NULL, &b, err, sizeof err);
	assert_int_equal(a.time_ms, b.time_ms);
	assert_int_equal(a.packets, b.packets);
}

static void test_example_scenarios_hold(void **state)
{
	(void)state;
	const char *files[] = {"sim/scenarios/symmetric-vs-full-cone.json",
			       "sim/scenarios/udp-blocked-turn-tcp.json"};
	for (size_t i = 0; i < 2; i++) {
		il_sim_scenario_opts o;
		memset(&o, 0, sizeof o);
		il_sim_scenario_result res;
		char err[512];
		int rc = il_sim_scenario_run(files[i], &o, &res, err, sizeof err);
		if (rc)
			print_error("%s\n", err);
		assert_int_equal(rc, 0);
		assert_true(res.expectations >= 4);
		assert_int_equal(res.failed, 0);
	}
}

static void expect_error(const char *json, const char *want)
{
	const char *path = "/tmp/icelab_sim_bad.json";
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(json, f);
	fclose(f);
	il_sim_scenario_opts o;
	memset(&o, 0, sizeof o);
	il_sim_scenario_result res;
	char err[512];
	assert_int_equal(il_sim_scenario_run(path, &o, &res, err, sizeof err), -1);
	if (!strstr(err, want))
		print_error("got '%s', want '%s'\n", err, want);
	assert_non_null(strstr(err, want));
	assert_null(strchr(err, '\n'));
	remove(path);
}

static void test_scenario_errors_name_the_place(void **state)
{
	(void)state;
	expect_error("{\n  \"nodes\": [\n    {\"name\": \"a\",}\n  ]\n}\n",
		     "/tmp/icelab_sim_bad.json:3:");
	expect_error("{\"nodes\": [], \"links\": [], \"actors\": [], \"colour\": 1}",
		     "/tmp/icelab_sim_bad.json: $: unknown key 'colour'");
	expect_error("{\"nodes\": [{\"name\": \"a\", \"type\": \"host\"}, {\"name\": \"b\", \"type\": \"router\"}],"
		     " \"links\": [{\"a\": \"a\", \"a_addr\": \"10.0.0/24\", \"b\": \"b\", \"b_addr\": \"10.0.0.1/24\"}],"
		     " \"actors\": []}",
		     "$.links[0]: node 'a': bad address '10.0.0/24'");
	expect_error("{\"nodes\": [{\"name\": \"a\", \"type\": \"host\"}, {\"name\": \"b\", \"type\": \"router\", \"nat\": \"symetric\", \"outside\": \"l\"}],"
		     " \"links\": [{\"name\": \"l\", \"a\": \"a\", \"a_addr\": \"10.0.0.2/24\", \"b\": \"b\", \"b_addr\": \"10.0.0.1/24\"}],"
		     " \"actors\": []}",
		     "$.nodes[1].nat: unknown NAT preset 'symetric'");
	expect_error("{\"nodes\": [{\"name\": \"a\", \"type\": \"host\"}, {\"name\": \"b\", \"type\": \"router\"}],"
		     " \"links\": [{\"a\": \"a\", \"a_addr\": \"10.0.0.2/24\", \"b\": \"b\", \"b_addr\": \"10.0.0.1/24\"}],"
		     " \"actors\": [{\"type\": \"peer\", \"name\": \"p\", \"host\": \"a\", \"probe\": \"q\"}]}",
		     "$.actors[0].probe: no peer named 'q'");
	expect_error("{\"nodes\": [{\"name\": \"a\", \"type\": \"host\"}], \"links\": [{\"a\": \"a\", \"b\": \"zz\"}], \"actors\": []}",
		     "$.links[0].b: no node named 'zz'");
	expect_error("{\"nodes\": [], \"links\": [], \"actors\": [], \"events\": [{\"at\": \"soon\", \"do\": \"flush\"}]}",
		     "$.events[0].at: want a duration");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_cell_matches_its_expectation),
		cmocka_unit_test(test_known_outcomes),
		cmocka_unit_test(test_matrix_is_deterministic),
		cmocka_unit_test(test_example_scenarios_hold),
		cmocka_unit_test(test_scenario_errors_name_the_place),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
