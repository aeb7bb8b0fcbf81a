/* The runner's --jobs and --repeat, and the stream targets' usage errors:
 * a parallel run reports the same tests, verdicts and packets in the same
 * order as a serial one; a test that passes only sometimes is flaky (a
 * fail with the counts); tcp:// and tls:// refuse what cannot work. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conformance.h"
#include "icelab/stun.h"

#include "cf_test_util.h"

static void same_report_as_serial(const cf_run_options *parallel)
{
	cf_target_options to = {.uri = "builtin"};
	cf_run_options serial = {.seed = 9};
	cf_run a, b;
	run_builtin(&a, &to, &serial);
	run_builtin(&b, &to, parallel);
	assert_int_equal(a.result_count, b.result_count);
	assert_true(a.result_count > 40);
	for (size_t i = 0; i < a.result_count; i++) {
		const cf_result *x = &a.results[i], *y = &b.results[i];
		assert_string_equal(x->id, y->id);
		assert_int_equal(x->verdict, y->verdict);
		assert_int_equal(x->check_count, y->check_count);
		assert_int_equal(x->packet_count, y->packet_count);
		for (size_t k = 0; k < x->packet_count; k++) {
			assert_int_equal(x->packets[k].len, y->packets[k].len);
			assert_memory_equal(x->packets[k].data, y->packets[k].data, x->packets[k].len);
		}
	}
	for (int v = 0; v < CF_VERDICT__COUNT; v++)
		assert_int_equal(a.counts[v], b.counts[v]);
	assert_int_equal(a.exit_code, b.exit_code);
	cf_run_free(&a);
	cf_run_free(&b);
}

static void test_jobs_same_report_as_serial(void **state)
{
	(void)state;
	same_report_as_serial(&(cf_run_options){.seed = 9, .jobs = 4});
}

/* --isolate --jobs: children forked from one thread, several at once. */
static void test_isolate_jobs_same_report_as_serial(void **state)
{
	(void)state;
	same_report_as_serial(&(cf_run_options){.seed = 9, .jobs = 3, .isolate = true});
}

/* Binding successes 0-2, 6-8, 12-14... are lost (top bits set: not
 * STUN). A run of binding-success whose three attempts all land in a
 * lost window fails; the others pass at the first attempt. */
static void mangle_windows(void *arg, uint8_t *data, size_t *len, size_t cap)
{
	(void)cap;
	unsigned *n = arg;
	il_stun_msg m;
	if (il_stun_decode(data, *len, &m, NULL) != IL_STUN_OK || m.method != IL_STUN_BINDING ||
	    m.cls != IL_STUN_SUCCESS)
		return;
	if ((*n)++ / 3 % 2 == 0)
		data[0] |= 0xC0;
}

static void test_repeat_reports_flaky(void **state)
{
	(void)state;
	unsigned counter = 0;
	cf_target_options to = {.uri = "builtin", .mangle = mangle_windows, .mangle_arg = &counter};
	/* Runs: fail (0-2), pass (3), pass (4), pass (5), fail (6-8). */
	cf_run_options ro = {.seed = 1, .repeat = 5, .test_glob = "stun-server/binding-success"};
	cf_run run;
	run_builtin(&run, &to, &ro);
	assert_int_equal(run.result_count, 1);
	const cf_result *r = &run.results[0];
	assert_int_equal(r->verdict, CF_FAIL);
	assert_true(r->blocking);
	assert_non_null(strstr(r->reason, "flaky: 3 pass, 2 fail, 0 error in 5 runs"));
	assert_non_null(strstr(r->notes, "repeated 5 times: 3 pass, 2 fail"));
	assert_true(r->packet_count > 0); /* the evidence of a failing run */
	assert_int_equal(run.exit_code, 1);
	cf_run_free(&run);

	/* Consistent verdicts are not flaky: n/a every time over datagrams. */
	ro.test_glob = "stun-server/tcp-binding";
	ro.repeat = 3;
	run_builtin(&run, &to, &ro);
	assert_int_equal(run.results[0].verdict, CF_NOT_APPLICABLE);
	assert_non_null(strstr(run.results[0].notes, "3 not-applicable"));
	assert_int_equal(run.exit_code, 0);
	cf_run_free(&run);
}

static void test_stream_target_usage_errors(void **state)
{
	(void)state;
	char err[256];
	cf_target_options to = {.uri = "tcp://127.0.0.1:1"};
	assert_null(cf_target_open(&to, err, sizeof err));
	assert_non_null(strstr(err, "cannot connect"));
	to.uri = "tls://127.0.0.1:1";
	to.ca_file = "/nonexistent/ca.pem";
	assert_null(cf_target_open(&to, err, sizeof err));
	assert_non_null(strstr(err, "CA"));
	to.uri = "tcp://no-port";
	assert_null(cf_target_open(&to, err, sizeof err));
	assert_non_null(strstr(err, "HOST:PORT"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jobs_same_report_as_serial),
		cmocka_unit_test(test_isolate_jobs_same_report_as_serial),
		cmocka_unit_test(test_repeat_reports_flaky),
		cmocka_unit_test(test_stream_target_usage_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
