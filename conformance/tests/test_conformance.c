/* The harness judged: the catalogue parses and agrees with the tests, the
 * reference passes every suite on the builtin target, and a target that
 * breaks a rule is caught (a MUST fails the run, a SHOULD only warns
 * unless --strict). Faults are injected by rewriting what the builtin
 * server sends (cf_target_options.mangle). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conformance.h"
#include "icelab/stun.h"
#include "icelab/stun_integrity.h"
#include "icelab/turn_server.h"

#include "cf_test_util.h"

static void test_catalogue_parse_rejects_bad_lines(void **state)
{
	(void)state;
	cf_catalogue c;
	memset(&c, 0, sizeof c);
	char err[256];
	assert_int_equal(cf_catalogue_parse(&c, "x.req",
					    "RFC8489-6.3-1 | MUST | server | text | a/b\n", err,
					    sizeof err),
			 0);
	assert_string_equal(c.reqs[0].rfc, "8489");
	assert_string_equal(c.reqs[0].section, "6.3");
	assert_int_equal(cf_catalogue_parse(&c, "x.req", "RFC8489-6.3-1 | MUST | server | t | -\n",
					    err, sizeof err),
			 -1); /* duplicate */
	assert_non_null(strstr(err, "duplicate"));
	assert_int_equal(cf_catalogue_parse(&c, "x.req", "RFC8489-6.3-2 | OUGHT | server | t | -\n",
					    err, sizeof err),
			 -1);
	assert_int_equal(cf_catalogue_parse(&c, "x.req", "RFC8489-6.3 | MUST | server | t | -\n",
					    err, sizeof err),
			 -1);
	assert_int_equal(cf_catalogue_parse(&c, "x.req",
					    "RFC8489-6.3-3 | MUST | server | t | untestable:\n", err,
					    sizeof err),
			 -1);
	assert_int_equal(cf_catalogue_parse(&c, "x.req", "RFC8489-6.3-4 | MUST | server | t\n", err,
					    sizeof err),
			 -1);
	cf_catalogue_free(&c);
}

/* Every test the catalogue names exists, and every test is named. */
static void test_catalogue_names_existing_tests(void **state)
{
	(void)state;
	size_t n;
	const cf_test *tests = cf_tests_all(&n);
	for (size_t i = 0; i < cat.count; i++) {
		if (!cat.reqs[i].tests)
			continue;
		char *copy = strdup(cat.reqs[i].tests), *save = NULL;
		for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
			bool found = false;
			for (size_t k = 0; k < n; k++) {
				char id[128];
				snprintf(id, sizeof id, "%s/%s", tests[k].suite, tests[k].name);
				found |= strcmp(id, t) == 0;
			}
			if (!found)
				fail_msg("%s names %s, which does not exist", cat.reqs[i].id, t);
		}
		free(copy);
	}
	for (size_t k = 0; k < n; k++) {
		char id[128];
		snprintf(id, sizeof id, "%s/%s", tests[k].suite, tests[k].name);
		bool named = false;
		for (size_t i = 0; i < cat.count; i++)
			named |= cf_requirement_names_test(&cat.reqs[i], id);
		if (!named)
			fail_msg("no requirement names test %s", id);
	}
}

/* The reference passes everything, and every check a test makes is of a
 * requirement that names that test (the catalogue cannot drift). */
static void test_reference_passes_and_checks_match_catalogue(void **state)
{
	(void)state;
	cf_target_options to = {.uri = "builtin"};
	cf_run_options ro = {.seed = 1};
	cf_run run;
	run_builtin(&run, &to, &ro);
	for (size_t i = 0; i < run.result_count; i++) {
		const cf_result *r = &run.results[i];
		/* Stream-only tests cannot run over the builtin's datagrams. */
		if (r->verdict == CF_NOT_APPLICABLE && (r->test->needs & CF_NEEDS_STREAM))
			continue;
		/* The builtin target has an RFC 5780 alternate address, so the
		 * test of a server without one does not apply to it
		 * (test_nat_behaviour.c runs it without). */
		if (r->verdict != CF_PASS &&
		    !(r->verdict == CF_NOT_APPLICABLE &&
		      strcmp(r->id, "nat-behaviour/no-alternate-420") == 0))
			fail_msg("%s: %s: %s", r->id, cf_verdict_name(r->verdict),
				 r->reason ? r->reason : "");
		for (size_t k = 0; k < r->check_count; k++) {
			const cf_requirement *q = cf_catalogue_find(&cat, r->checks[k].req);
			assert_non_null(q);
			if (!cf_requirement_names_test(q, r->id))
				fail_msg("%s checks %s, whose catalogue entry does not name it",
					 r->id, q->id);
		}
		assert_true(r->packet_count > 0);
	}
	assert_int_equal(run.exit_code, 0);
	cf_run_free(&run);
}

static void test_same_seed_same_evidence(void **state)
{
	(void)state;
	cf_target_options to = {.uri = "builtin"};
	cf_run_options ro = {.seed = 42};
	cf_run a, b;
	run_builtin(&a, &to, &ro);
	run_builtin(&b, &to, &ro);
	assert_int_equal(a.result_count, b.result_count);
	for (size_t i = 0; i < a.result_count; i++) {
		assert_int_equal(a.results[i].packet_count, b.results[i].packet_count);
		for (size_t k = 0; k < a.results[i].packet_count; k++) {
			assert_int_equal(a.results[i].packets[k].len, b.results[i].packets[k].len);
			assert_memory_equal(a.results[i].packets[k].data, b.results[i].packets[k].data,
					    a.results[i].packets[k].len);
		}
	}
	cf_run_free(&a);
	cf_run_free(&b);
}

/* ---- faults ---- */

/* XOR-MAPPED-ADDRESS's port off by one in every Binding success. */
static void mangle_mapped_port(void *arg, uint8_t *data, size_t *len, size_t cap)
{
	(void)arg;
	(void)cap;
	il_stun_msg m;
	if (il_stun_decode(data, *len, &m, NULL) != IL_STUN_OK || m.method != IL_STUN_BINDING ||
	    m.cls != IL_STUN_SUCCESS)
		return;
	const il_stun_attr *a = il_stun_msg_find(&m, IL_ATTR_XOR_MAPPED_ADDRESS);
	if (a)
		data[a->offset + 3] ^= 1;
	resign(data, *len);
}

static void test_wrong_mapped_address_fails_the_run(void **state)
{
	(void)state;
	cf_target_options to = {.uri = "builtin", .mangle = mangle_mapped_port};
	cf_run_options ro = {.seed = 1, .suites = (const char *[]){"stun-server"}, .suite_count = 1};
	cf_run run;
	run_builtin(&run, &to, &ro);
	const cf_result *r = find(&run, "stun-server/xor-mapped-address");
	assert_int_equal(r->verdict, CF_FAIL);
	assert_true(r->blocking);
	assert_non_null(strstr(r->reason, "RFC8489-6.3.1.1-4"));
	assert_int_equal(run.exit_code, 1);
	cf_run_free(&run);
}

/* SOFTWARE removed (type rewritten to an unknown optional attribute). */
static void mangle_drop_software(void *arg, uint8_t *data, size_t *len, size_t cap)
{
	(void)arg;
	(void)cap;
	il_stun_msg m;
	if (il_stun_decode(data, *len, &m, NULL) != IL_STUN_OK)
		return;
	const il_stun_attr *a = il_stun_msg_find(&m, IL_ATTR_SOFTWARE);
	if (!a || (m.mi_index >= 0 && a < &m.attrs[m.mi_index]))
		return; /* would break MESSAGE-INTEGRITY: leave those */
	data[a->offset - 4] = 0xC0;
	data[a->offset - 3] = 0x77;
	resign(data, *len);
}

static void test_missing_software_is_a_warning_unless_strict(void **state)
{
	(void)state;
	cf_target_options to = {.uri = "builtin", .mangle = mangle_drop_software};
	cf_run_options ro = {.seed = 1, .test_glob = "stun-server/software"};
	cf_run run;
	run_builtin(&run, &to, &ro);
	assert_int_equal(run.result_count, 1);
	assert_int_equal(run.results[0].verdict, CF_FAIL);
	assert_false(run.results[0].blocking);
	assert_true(run.results[0].warning);
	assert_int_equal(run.exit_code, 0);
	cf_run_free(&run);
	ro.strict = true;
	run_builtin(&run, &to, &ro);
	assert_true(run.results[0].blocking);
	assert_int_equal(run.exit_code, 1);
	cf_run_free(&run);
}

/* Every response swallowed: tests see silence. */
static void mangle_swallow(void *arg, uint8_t *data, size_t *len, size_t cap)
{
	(void)arg;
	(void)data;
	(void)cap;
	*len = 0;
}

static void test_silent_target_fails_not_passes(void **state)
{
	(void)state;
	cf_target_options to = {.uri = "builtin", .mangle = mangle_swallow};
	cf_run_options ro = {.seed = 1};
	cf_run run;
	run_builtin(&run, &to, &ro);
	/* Silence-expecting checks may pass, but no test that needs an answer does. */
	const cf_result *r = find(&run, "stun-server/binding-success");
	assert_int_equal(r->verdict, CF_FAIL);
	r = find(&run, "turn-server/allocate-success");
	assert_true(r->verdict == CF_FAIL || r->verdict == CF_ERROR);
	assert_int_equal(run.exit_code, 1);
	cf_run_free(&run);
}

/* Channel numbers: the builtin core configured normally rejects 0x5000;
 * a core that accepted it would fail. Simulated by rewriting the 400 to
 * a success for ChannelBind. */
static void mangle_channelbind_ok(void *arg, uint8_t *data, size_t *len, size_t cap)
{
	(void)arg;
	(void)cap;
	il_stun_msg m;
	if (il_stun_decode(data, *len, &m, NULL) != IL_STUN_OK || m.method != IL_STUN_CHANNELBIND ||
	    m.cls != IL_STUN_ERROR)
		return;
	uint8_t tid[12];
	memcpy(tid, data + 8, 12);
	il_stun_builder b;
	il_stun_builder_init(&b, data, 64, IL_STUN_CHANNELBIND, IL_STUN_SUCCESS, tid);
	*len = il_stun_builder_finish(&b, NULL);
}

static void test_accepting_bad_channel_fails(void **state)
{
	(void)state;
	cf_target_options to = {.uri = "builtin", .mangle = mangle_channelbind_ok};
	cf_run_options ro = {.seed = 1, .test_glob = "channelbind-errors"};
	cf_run run;
	run_builtin(&run, &to, &ro);
	assert_int_equal(run.results[0].verdict, CF_FAIL);
	assert_non_null(strstr(run.results[0].reason, "RFC8656-12.2-2"));
	cf_run_free(&run);
}

static void test_reports_are_written(void **state)
{
	(void)state;
	cf_target_options to = {.uri = "builtin"};
	cf_run_options ro = {.seed = 7, .test_glob = "stun-server/*"};
	cf_run run;
	run_builtin(&run, &to, &ro);
	char dir[] = "/tmp/icelab-conf-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char err[256];
	assert_int_equal(cf_report_write_all(&run, dir, err, sizeof err), 0);
	char path[512];
	snprintf(path, sizeof path, "%s/report.json", dir);
	json_error_t je;
	json_t *doc = json_load_file(path, 0, &je);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "schema")),
			    "icelab-conformance-report");
	assert_int_equal(json_integer_value(json_object_get(doc, "schema_version")), 1);
	json_t *tests = json_object_get(doc, "tests");
	assert_int_equal(json_array_size(tests), run.result_count);
	json_t *ev = json_object_get(json_array_get(tests, 0), "evidence");
	assert_true(json_array_size(ev) > 0);
	assert_non_null(json_object_get(json_array_get(ev, 0), "hex"));
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(json_array_get(ev, 0), "decoded"),
						  "kind")),
		"stun");
	json_decref(doc);
	const char *files[] = {"report.json", "junit.xml", "report.html"};
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		assert_int_equal(unlink(path), 0);
	}
	rmdir(dir);
	cf_run_free(&run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_catalogue_parse_rejects_bad_lines),
		cmocka_unit_test(test_catalogue_names_existing_tests),
		cmocka_unit_test(test_reference_passes_and_checks_match_catalogue),
		cmocka_unit_test(test_same_seed_same_evidence),
		cmocka_unit_test(test_wrong_mapped_address_fails_the_run),
		cmocka_unit_test(test_missing_software_is_a_warning_unless_strict),
		cmocka_unit_test(test_silent_target_fails_not_passes),
		cmocka_unit_test(test_accepting_bad_channel_fails),
		cmocka_unit_test(test_reports_are_written),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
