/* The ice-lite and ice-agent suites judged: our bridge (the builtin SBC)
 * and our agents pass; an SBC that breaks a rule is caught as a blocking
 * failure (responses signed with the wrong password, bad credentials met
 * with silence, media following a source that never passed a check); the
 * sdp: target reads an SBC's SDP (ufrag, pwd, ice-lite, legs) and refuses
 * what is not an ICE endpoint; ice-agent is not-applicable off builtin. */
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

#include "cf_test_util.h"

/* True when the result has a failed check of req. */
static bool failed_req(const cf_result *r, const char *req)
{
	for (size_t i = 0; i < r->check_count; i++)
		if (!r->checks[i].ok && strcmp(r->checks[i].req, req) == 0)
			return true;
	return false;
}

static void test_builtin_passes_both_suites(void **state)
{
	(void)state;
	static const char *const suites[2] = {"ice-lite", "ice-agent"};
	for (int s = 0; s < 2; s++) {
		cf_target_options to = {.uri = "builtin"};
		cf_run r;
		run_suite(&r, &to, suites[s]);
		assert_true(r.result_count >= 5);
		for (size_t i = 0; i < r.result_count; i++) {
			const cf_result *x = &r.results[i];
			if (x->verdict != CF_PASS)
				fail_msg("%s: %s: %s", x->id, cf_verdict_name(x->verdict),
					 x->reason ? x->reason : "");
			assert_true(x->check_count > 0 && x->packet_count > 0);
		}
		assert_int_equal(r.exit_code, 0);
		cf_run_free(&r);
	}
}

/* Flips a byte of MESSAGE-INTEGRITY in every success response: as if the
 * SBC signed with another password. */
static void spoil_integrity(void *arg, uint8_t *data, size_t *len, size_t cap)
{
	(void)arg;
	(void)cap;
	il_stun_msg m;
	const il_stun_attr *a =
		stun_attr_in(data, *len, IL_STUN_SUCCESS, IL_ATTR_MESSAGE_INTEGRITY, &m);
	if (a)
		data[a->offset] ^= 0x5a;
}

static void test_wrong_password_signature_fails(void **state)
{
	(void)state;
	cf_target_options to = {.uri = "builtin", .mangle = spoil_integrity};
	cf_run r;
	run_suite(&r, &to, "ice-lite");
	const cf_result *x = find(&r, "ice-lite/check-success");
	assert_int_equal(x->verdict, CF_FAIL);
	assert_true(x->blocking);
	assert_true(failed_req(x, "RFC8445-7.3-2"));
	assert_int_equal(r.exit_code, 1);
	cf_run_free(&r);
}

/* Drops 401 and 400 responses: an SBC that meets bad credentials with
 * silence, which RFC 8489 §9.1.3 does not allow. */
static void drop_auth_errors(void *arg, uint8_t *data, size_t *len, size_t cap)
{
	(void)arg;
	(void)cap;
	int code = stun_error_code(data, *len);
	if (code == 401 || code == 400)
		*len = 0;
}

static void test_silence_on_bad_credentials_fails(void **state)
{
	(void)state;
	cf_target_options to = {.uri = "builtin", .mangle = drop_auth_errors};
	cf_run r;
	run_suite(&r, &to, "ice-lite");
	const cf_result *x = find(&r, "ice-lite/check-wrong-password");
	assert_int_equal(x->verdict, CF_FAIL);
	assert_true(failed_req(x, "RFC8489-9.1.3-3"));
	x = find(&r, "ice-lite/check-no-integrity");
	assert_true(failed_req(x, "RFC8489-9.1.3-1"));
	x = find(&r, "ice-lite/check-unknown-ufrag");
	assert_true(failed_req(x, "RFC8489-9.1.3-2") && failed_req(x, "RFC8445-7.3-3"));
	/* The valid checks are unaffected. */
	assert_int_equal(find(&r, "ice-lite/check-success")->verdict, CF_PASS);
	assert_int_equal(r.exit_code, 1);
	cf_run_free(&r);
}

static void test_following_an_unchecked_source_fails(void **state)
{
	(void)state;
	cf_target_options to = {.uri = "builtin", .sbc_follow_source = true};
	cf_run r;
	run_suite(&r, &to, "ice-lite");
	const cf_result *x = find(&r, "ice-lite/nomination-no-redirect");
	assert_int_equal(x->verdict, CF_FAIL);
	assert_true(x->blocking);
	assert_true(failed_req(x, "RFC8445-12.1-1"));
	assert_true(failed_req(x, "RFC7675-5.1-1"));
	/* Before the unchecked source spoke, media was on the nominated pair. */
	assert_false(failed_req(x, "RFC8445-8.2-1"));
	assert_int_equal(r.exit_code, 1);
	cf_run_free(&r);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* What rtpengine 10.5 wrote with ICE=force ICE-lite=forward (trimmed). */
static const char SBC_OFFER[] = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
				"t=0 0\r\na=ice-lite\r\nm=audio 42000 RTP/AVP 0\r\n"
				"a=rtpmap:0 PCMU/8000\r\na=sendrecv\r\na=rtcp:42001\r\n"
				"a=ice-ufrag:6kP6V8Wg\r\na=ice-pwd:6uGJ4aApWhYiaVrnz15ugzx2uC\r\n"
				"a=candidate:Eq6X 1 UDP 2130706431 127.0.0.1 42000 typ host\r\n";
static const char HARNESS_ANSWER[] =
	"v=0\r\no=- 2 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
	"m=audio 24012 RTP/AVP 0\r\na=ice-ufrag:cfharness\r\n"
	"a=ice-pwd:conformanceIcePassword0123\r\n";
static const char SBC_ANSWER[] = "v=0\r\no=- 2 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
				 "t=0 0\r\nm=audio 42014 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

static void test_sdp_target_reads_the_sbc(void **state)
{
	(void)state;
	char dir[] = "/tmp/icelab-sdp-XXXXXX", a[96], b[96], c[96], uri[320], err[256];
	assert_non_null(mkdtemp(dir));
	snprintf(a, sizeof a, "%s/offer-out.sdp", dir);
	snprintf(b, sizeof b, "%s/answer-in.sdp", dir);
	snprintf(c, sizeof c, "%s/answer-out.sdp", dir);
	write_file(a, SBC_OFFER);
	write_file(b, HARNESS_ANSWER);
	write_file(c, SBC_ANSWER);
	snprintf(uri, sizeof uri, "sdp:%s,%s,%s", a, b, c);
	cf_target_options to = {.uri = uri};
	cf_target *t = cf_target_open(&to, err, sizeof err);
	if (!t)
		fail_msg("%s", err);
	char text[IL_ADDR_STRLEN];
	il_addr_format(&t->ice_leg, text, sizeof text);
	assert_string_equal(text, "127.0.0.1:42000");
	assert_true(il_addr_equal(&t->ice_leg, &t->server));
	assert_string_equal(t->ice_ufrag, "6kP6V8Wg");
	assert_string_equal(t->ice_pwd, "6uGJ4aApWhYiaVrnz15ugzx2uC");
	assert_string_equal(t->ice_peer_ufrag, "cfharness");
	assert_string_equal(t->ice_peer_pwd, "conformanceIcePassword0123");
	assert_true(t->has_ice && t->ice_lite && t->has_legacy);
	il_addr_format(&t->legacy_leg, text, sizeof text);
	assert_string_equal(text, "127.0.0.1:42014");
	assert_string_equal(t->kind, "sdp");
	cf_target_close(t);

	/* ice-agent needs the builtin target: not-applicable here, and no
	 * packet is sent. */
	t = cf_target_open(&to, err, sizeof err);
	assert_non_null(t);
	const char *suites[1] = {"ice-agent"};
	cf_run_options ro = {.seed = 1, .suites = suites, .suite_count = 1};
	cf_run r;
	assert_int_equal(cf_run_tests(&r, t, &cat, &ro, err, sizeof err), 0);
	assert_int_equal(r.counts[CF_NOT_APPLICABLE], r.result_count);
	assert_int_equal(r.exit_code, 0);
	cf_run_free(&r);
	cf_target_close(t);

	/* The legacy-leg SDP is not an ICE endpoint; a missing file. */
	snprintf(uri, sizeof uri, "sdp:%s", c);
	assert_null(cf_target_open(&to, err, sizeof err));
	assert_non_null(strstr(err, "ice-ufrag"));
	snprintf(uri, sizeof uri, "sdp:%s/none.sdp", dir);
	assert_null(cf_target_open(&to, err, sizeof err));
	assert_non_null(strstr(err, "none.sdp"));
	to.uri = "sdp:";
	assert_null(cf_target_open(&to, err, sizeof err));
	unlink(a);
	unlink(b);
	unlink(c);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_passes_both_suites),
		cmocka_unit_test(test_wrong_password_signature_fails),
		cmocka_unit_test(test_silence_on_bad_credentials_fails),
		cmocka_unit_test(test_following_an_unchecked_source_fails),
		cmocka_unit_test(test_sdp_target_reads_the_sbc),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
