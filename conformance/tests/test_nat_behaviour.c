/* nat-behaviour and turn-security's robustness and exhaustion tests
 * judged: the builtin target with and without its RFC 5780 alternate
 * address, and faults injected into what it sends (a wrong
 * RESPONSE-ORIGIN, non-zero padding) are caught as failures; waived
 * failures in report.html; --isolate turns a crash into an error. */
#include <setjmp.h>
#include <signal.h>
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

static void no_alternate(void *arg, void *cfg)
{
	(void)arg;
	il_turn_server_config *c = cfg;
	memset(&c->other_address, 0, sizeof c->other_address);
}

/* Without an alternate address the reference answers CHANGE-REQUEST with
 * a 420 and the tests that need one do not apply. */
static void test_without_alternate_address(void **state)
{
	(void)state;
	cf_target_options to = {.uri = "builtin", .configure = no_alternate};
	cf_run run;
	run_suite(&run, &to, "nat-behaviour");
	assert_int_equal(find(&run, "nat-behaviour/no-alternate-420")->verdict, CF_PASS);
	assert_int_equal(find(&run, "nat-behaviour/binding-attributes")->verdict, CF_PASS);
	assert_int_equal(find(&run, "nat-behaviour/change-ip")->verdict, CF_NOT_APPLICABLE);
	assert_int_equal(run.exit_code, 0);
	cf_run_free(&run);
}

/* RESPONSE-ORIGIN's port off by one: the source no longer matches. */
static void mangle_origin(void *arg, uint8_t *data, size_t *len, size_t cap)
{
	(void)arg;
	(void)cap;
	il_stun_msg m;
	const il_stun_attr *a = stun_attr_in(data, *len, -1, IL_ATTR_RESPONSE_ORIGIN, &m);
	if (a)
		data[a->offset + 3] ^= 1;
	resign(data, *len);
}

static void test_wrong_response_origin_fails(void **state)
{
	(void)state;
	cf_target_options to = {.uri = "builtin", .mangle = mangle_origin};
	cf_run run;
	run_suite(&run, &to, "nat-behaviour");
	const cf_result *r = find(&run, "nat-behaviour/change-ip");
	assert_int_equal(r->verdict, CF_FAIL);
	assert_true(r->blocking);
	assert_non_null(strstr(r->reason, "RFC5780-6.1-7"));
	assert_int_equal(run.exit_code, 1);
	cf_run_free(&run);
}

/* A non-zero padding byte after SOFTWARE ("icelab builtin", 14 bytes). */
static void mangle_padding(void *arg, uint8_t *data, size_t *len, size_t cap)
{
	(void)arg;
	(void)cap;
	il_stun_msg m;
	const il_stun_attr *a = stun_attr_in(data, *len, -1, IL_ATTR_SOFTWARE, &m);
	if (a && a->length % 4)
		data[a->offset + a->length] = 0xff;
	resign(data, *len);
}

static void test_nonzero_padding_fails_robustness(void **state)
{
	(void)state;
	cf_target_options to = {.uri = "builtin", .mangle = mangle_padding};
	cf_run run;
	run_suite(&run, &to, "turn-security");
	const cf_result *r = find(&run, "turn-security/robustness-edge");
	assert_int_equal(r->verdict, CF_FAIL);
	assert_non_null(strstr(r->reason, "RFC8489-14-3"));
	cf_run_free(&run);
}

/* Limits off: no 401 limit is a warning (MAY), no quota not-applicable. */
static void no_limits(void *arg, void *cfg)
{
	(void)arg;
	il_turn_server_config *c = cfg;
	c->max_401_per_second = 0;
	c->max_allocations_per_user = 100;
	c->max_permissions = 1000;
}

static void test_no_limits_warn_not_fail(void **state)
{
	(void)state;
	cf_target_options to = {.uri = "builtin", .configure = no_limits};
	cf_run run;
	run_suite(&run, &to, "turn-security");
	const cf_result *r = find(&run, "turn-security/limit-401-per-source");
	assert_int_equal(r->verdict, CF_FAIL);
	assert_true(r->warning && !r->blocking);
	assert_int_equal(find(&run, "turn-security/exhaustion-allocation-quota")->verdict,
			 CF_NOT_APPLICABLE);
	assert_int_equal(find(&run, "turn-security/exhaustion-permissions-508")->verdict,
			 CF_NOT_APPLICABLE);
	assert_int_equal(run.exit_code, 0);
	cf_run_free(&run);
}

/* A waived failure shows in report.html as waived, with its reason, and
 * the page has a filter for waived tests. */
static void test_html_marks_waived(void **state)
{
	(void)state;
	cf_target_options to = {.uri = "builtin", .mangle = mangle_origin};
	cf_run run;
	run_suite(&run, &to, "nat-behaviour");
	char dir[] = "/tmp/icelab-natsec-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char bl[256], html[256], err[256];
	snprintf(bl, sizeof bl, "%s/baseline.json", dir);
	snprintf(html, sizeof html, "%s/report.html", dir);
	FILE *f = fopen(bl, "w");
	assert_non_null(f);
	fputs("{\"schema\": \"icelab-conformance-baseline\", \"schema_version\": 1, "
	      "\"target\": \"test\", \"waivers\": [{\"test\": \"nat-behaviour/change-ip\", "
	      "\"requirement\": \"RFC5780-6.1-7\", \"reason\": \"origin-off-by-one-known\"}]}\n",
	      f);
	fclose(f);
	cf_baseline b;
	assert_int_equal(cf_baseline_load(&b, bl, err, sizeof err), 0);
	cf_run_apply_baseline(&run, &b);
	assert_true(find(&run, "nat-behaviour/change-ip")->waived);
	assert_int_equal(cf_report_write_html(&run, html, err, sizeof err), 0);
	f = fopen(html, "r");
	assert_non_null(f);
	static char page[1 << 20];
	size_t n = fread(page, 1, sizeof page - 1, f);
	page[n] = '\0';
	fclose(f);
	assert_non_null(strstr(page, "id=\"t-nat-behaviour-change-ip\" class=\"t-fail t-waived\""));
	assert_non_null(strstr(page, "origin-off-by-one-known"));
	assert_non_null(strstr(page, "value=\"waived\""));
	/* An unwaived failure stays plain. */
	assert_non_null(strstr(page, "id=\"t-nat-behaviour-change-port\" class=\"t-fail\""));
	unlink(bl);
	unlink(html);
	rmdir(dir);
	cf_baseline_free(&b);
	cf_run_free(&run);
}

/* The target crashes (SIGSEGV) whenever it answers a 420: with
 * --isolate those tests end in error and every other test still runs. */
static void mangle_crash_on_420(void *arg, uint8_t *data, size_t *len, size_t cap)
{
	(void)arg;
	(void)cap;
	if (stun_error_code(data, *len) == 420)
		raise(SIGSEGV);
}

/* jobs > 1: children forked by several worker threads at once. */
static void isolate_survives_a_crash(unsigned jobs, unsigned repeat)
{
	cf_target_options to = {.uri = "builtin", .mangle = mangle_crash_on_420};
	char err[256];
	cf_target *t = cf_target_open(&to, err, sizeof err);
	assert_non_null(t);
	const char *suites[] = {"stun-server"};
	cf_run_options ro = {.seed = 1, .suites = suites, .suite_count = 1, .isolate = true,
			     .jobs = jobs, .repeat = repeat};
	cf_run run;
	assert_int_equal(cf_run_tests(&run, t, &cat, &ro, err, sizeof err), 0);
	cf_target_close(t);
	size_t n, n_stream;
	cf_suite_stun_server(&n);
	cf_suite_stun_stream(&n_stream); /* stun-server's stream tests: not-applicable here */
	assert_int_equal(run.result_count, n + n_stream); /* the run completed */
	const cf_result *r = find(&run, "stun-server/unknown-required-420");
	assert_int_equal(r->verdict, CF_ERROR);
	assert_non_null(strstr(r->reason, "the test process died"));
	assert_int_equal(find(&run, "stun-server/binding-success")->verdict, CF_PASS);
	assert_int_equal(find(&run, "stun-server/xor-mapped-address")->verdict, CF_PASS);
	/* Only tests that make the target send a 420 crash; every child
	 * that did not crash brought back its whole result. */
	for (size_t i = 0; i < run.result_count; i++)
		if (run.results[i].verdict == CF_ERROR)
			assert_non_null(strstr(run.results[i].reason, "signal 11"));
	assert_true(run.counts[CF_ERROR] >= 1 && run.counts[CF_ERROR] <= 3);
	assert_true(run.counts[CF_PASS] >= 5);
	assert_int_equal(run.exit_code, 1);
	cf_run_free(&run);
}

static void test_isolate_survives_a_crash(void **state)
{
	(void)state;
	isolate_survives_a_crash(1, 1);
}

static void test_isolate_with_jobs_and_repeat(void **state)
{
	(void)state;
	isolate_survives_a_crash(3, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_without_alternate_address),
		cmocka_unit_test(test_wrong_response_origin_fails),
		cmocka_unit_test(test_nonzero_padding_fails_robustness),
		cmocka_unit_test(test_no_limits_warn_not_fail),
		cmocka_unit_test(test_html_marks_waived),
		cmocka_unit_test(test_isolate_survives_a_crash),
		cmocka_unit_test(test_isolate_with_jobs_and_repeat),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
