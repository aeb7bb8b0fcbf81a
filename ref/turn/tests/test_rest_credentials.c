/* Unit tests of the TURN REST API credentials (rest_credentials.h,
 * draft-uberti-behave-turn-rest-00): known values computed outside icelab
 * with the openssl command, minting, the expiry edge, bad usernames,
 * secret rotation and the long-term keys derived from REST passwords. */
#include "icelab/rest_credentials.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char secret_text[] = "icelab-rest-test-secret";
static const char previous_text[] = "previous-secret";
#define SECRET ((const uint8_t *)secret_text), (sizeof secret_text - 1)
#define PREVIOUS ((const uint8_t *)previous_text), (sizeof previous_text - 1)

/* Independently computed:
 *   printf '%s' '1700086400:alice' |
 *     openssl dgst -sha1 -hmac icelab-rest-test-secret -binary | base64 */
static const char alice_username[] = "1700086400:alice";
static const char alice_password[] = "ySOe9CA/QR8+MoFUmQ52f+64gtQ=";
/*   ... the same with -hmac previous-secret */
static const char alice_password_previous[] = "z5Xqg/awK9X7cp4k2pYGvhfjeew=";
/*   printf '%s' '1700000100:bob:laptop' | ... -hmac icelab-rest-test-secret */
static const char bob_username[] = "1700000100:bob:laptop";
static const char bob_password[] = "M3DHRdLIFJzlkmutKVe+BjzsmWw=";

#define NOW 1700000000u /* alice's credential expires one day later */
#define ALICE_EXPIRY 1700086400u

static il_rest_verifier verifier_current(void)
{
	il_rest_verifier v;
	memset(&v, 0, sizeof v);
	v.secret = (const uint8_t *)secret_text;
	v.secret_len = sizeof secret_text - 1;
	return v;
}

static void expect_result(enum il_rest_result got, enum il_rest_result want, const char *what)
{
	if (got != want)
		fail_msg("%s: expected \"%s\", got \"%s\"", what, il_rest_result_name(want),
			 il_rest_result_name(got));
}

/* ---- passwords and minting -------------------------------------------- */

static void test_password_matches_openssl_command_values(void **state)
{
	(void)state;
	char pw[IL_REST_PASSWORD_SIZE];
	assert_int_equal(il_rest_password(SECRET, alice_username, pw), IL_REST_OK);
	assert_string_equal(pw, alice_password);
	assert_int_equal(il_rest_password(PREVIOUS, alice_username, pw), IL_REST_OK);
	assert_string_equal(pw, alice_password_previous);
	assert_int_equal(il_rest_password(SECRET, bob_username, pw), IL_REST_OK);
	assert_string_equal(pw, bob_password);
	assert_int_equal(strlen(pw), IL_REST_PASSWORD_SIZE - 1);
}

static void test_password_refuses_missing_secret(void **state)
{
	(void)state;
	char pw[IL_REST_PASSWORD_SIZE] = "x";
	assert_int_equal(il_rest_password(NULL, 5, alice_username, pw), IL_REST_NO_SECRET);
	assert_string_equal(pw, "");
	assert_int_equal(il_rest_password((const uint8_t *)"k", 0, alice_username, pw),
			 IL_REST_NO_SECRET);
	assert_int_equal(il_rest_password(SECRET, NULL, pw), IL_REST_BAD_FORMAT);
}

static void test_make_writes_expiry_colon_user_and_password(void **state)
{
	(void)state;
	char username[IL_REST_USERNAME_MAX], pw[IL_REST_PASSWORD_SIZE];
	assert_int_equal(il_rest_credential_make(SECRET, "alice", NOW, IL_REST_DEFAULT_TTL_S,
						 username, sizeof username, pw),
			 IL_REST_OK);
	assert_string_equal(username, alice_username);
	assert_string_equal(pw, alice_password);
	/* A user id may hold colons: the first one splits. */
	assert_int_equal(il_rest_credential_make(SECRET, "bob:laptop", NOW, 100, username,
						 sizeof username, pw),
			 IL_REST_OK);
	assert_string_equal(username, bob_username);
	assert_string_equal(pw, bob_password);
}

static void test_make_refuses_bad_arguments(void **state)
{
	(void)state;
	char username[IL_REST_USERNAME_MAX], pw[IL_REST_PASSWORD_SIZE];
	char long_user[IL_REST_USERNAME_MAX];
	memset(long_user, 'u', sizeof long_user - 1);
	long_user[sizeof long_user - 1] = '\0';
	static const struct {
		const char *user;
		uint64_t now, ttl;
		enum il_rest_result want;
	} cases[] = {
		{"", NOW, 60, IL_REST_BAD_FORMAT},
		{NULL, NOW, 60, IL_REST_BAD_FORMAT},
		{"alice", NOW, 0, IL_REST_BAD_FORMAT},
		{"alice", UINT64_MAX - 5, 10, IL_REST_BAD_FORMAT}, /* expiry overflows */
		{"alice", UINT64_MAX - 10, 10, IL_REST_OK},        /* expiry UINT64_MAX */
	};
	for (size_t i = 0; i < COUNT(cases); i++) {
		enum il_rest_result rc =
			il_rest_credential_make(SECRET, cases[i].user, cases[i].now,
						cases[i].ttl, username, sizeof username, pw);
		expect_result(rc, cases[i].want, cases[i].user ? cases[i].user : "(null)");
		if (rc != IL_REST_OK) {
			assert_string_equal(username, "");
			assert_string_equal(pw, "");
		}
	}
	assert_string_equal(username, "18446744073709551615:alice");
	/* Longer than USERNAME allows (RFC 8489 §14.3: fewer than 509 bytes). */
	expect_result(il_rest_credential_make(SECRET, long_user, NOW, 60, username,
					      sizeof username, pw),
		      IL_REST_BAD_FORMAT, "long user");
	/* 497 'u' + "1700000060:" = 508 bytes: the longest allowed. */
	long_user[IL_REST_USERNAME_MAX - 1 - 11] = '\0';
	expect_result(il_rest_credential_make(SECRET, long_user, NOW, 60, username,
					      sizeof username, pw),
		      IL_REST_OK, "longest user");
	assert_int_equal(strlen(username), IL_REST_USERNAME_MAX - 1);
	/* The caller's buffer too small. */
	char small[16];
	expect_result(
		il_rest_credential_make(SECRET, "alice", NOW, 60, small, sizeof small, pw),
		IL_REST_NO_SPACE, "small buffer");
	assert_string_equal(small, "");
	assert_string_equal(pw, "");
	expect_result(il_rest_credential_make(NULL, 0, "alice", NOW, 60, username,
					      sizeof username, pw),
		      IL_REST_NO_SECRET, "no secret");
}

/* ---- usernames -------------------------------------------------------- */

static void test_username_parse_splits_at_first_colon(void **state)
{
	(void)state;
	uint64_t expiry = 0;
	const char *user = NULL;
	assert_int_equal(il_rest_username_parse(alice_username, &expiry, &user), IL_REST_OK);
	assert_true(expiry == ALICE_EXPIRY);
	assert_string_equal(user, "alice");
	assert_int_equal(il_rest_username_parse(bob_username, &expiry, &user), IL_REST_OK);
	assert_string_equal(user, "bob:laptop");
	assert_int_equal(il_rest_username_parse("0001700086400:alice", &expiry, &user),
			 IL_REST_OK);
	assert_true(expiry == ALICE_EXPIRY);
	assert_int_equal(il_rest_username_parse("18446744073709551615:u", &expiry, &user),
			 IL_REST_OK);
	assert_true(expiry == UINT64_MAX);
	assert_int_equal(il_rest_username_parse("0:u", &expiry, &user), IL_REST_OK);
	assert_true(expiry == 0);
}

/* Anything not starting with decimal digits and a colon is a static user
 * name, not a REST one: the server looks it up elsewhere. */
static void test_username_without_digits_colon_is_not_rest(void **state)
{
	(void)state;
	static const char *const cases[] = {
		"alice",    "abc:user", "12a:user",   ":alice", "-5:alice",   "+5:alice",
		" 5:alice", "5 :alice", "0x10:alice", "",       "1700086400",
	};
	for (size_t i = 0; i < COUNT(cases); i++) {
		uint64_t expiry = 42;
		const char *user = NULL;
		expect_result(il_rest_username_parse(cases[i], &expiry, &user),
			      IL_REST_NOT_REST, cases[i]);
		assert_true(expiry == 42);
	}
	uint64_t expiry;
	const char *user;
	assert_int_equal(il_rest_username_parse(NULL, &expiry, &user), IL_REST_NOT_REST);
}

static void test_username_malformed_is_bad_format(void **state)
{
	(void)state;
	char too_long[IL_REST_USERNAME_MAX + 1];
	memcpy(too_long, "1700086400:", 11);
	memset(too_long + 11, 'u', sizeof too_long - 12);
	too_long[sizeof too_long - 1] = '\0';
	static const char *const cases[] = {
		"1700086400:",               /* empty user */
		"18446744073709551616:u",    /* UINT64_MAX + 1 */
		"99999999999999999999999:u", /* far beyond */
		"184467440737095516150:u",   /* UINT64_MAX * 10 */
	};
	for (size_t i = 0; i < COUNT(cases); i++) {
		uint64_t expiry;
		const char *user;
		expect_result(il_rest_username_parse(cases[i], &expiry, &user),
			      IL_REST_BAD_FORMAT, cases[i]);
	}
	uint64_t expiry;
	const char *user;
	assert_int_equal(strlen(too_long), IL_REST_USERNAME_MAX);
	expect_result(il_rest_username_parse(too_long, &expiry, &user), IL_REST_BAD_FORMAT,
		      "509 bytes");
	too_long[IL_REST_USERNAME_MAX - 1] = '\0';
	expect_result(il_rest_username_parse(too_long, &expiry, &user), IL_REST_OK,
		      "508 bytes");
}

/* ---- verification ----------------------------------------------------- */

/* "verify that the timestamp ... has not yet been reached" (§4.2): valid
 * while now < EXPIRY; at EXPIRY it has been reached. */
static void test_expiry_edge_now_equal_expiry_is_expired(void **state)
{
	(void)state;
	il_rest_verifier v = verifier_current();
	expect_result(il_rest_verify_password(&v, alice_username, alice_password, NOW),
		      IL_REST_OK, "minted");
	expect_result(
		il_rest_verify_password(&v, alice_username, alice_password, ALICE_EXPIRY - 1),
		IL_REST_OK, "last second");
	expect_result(il_rest_verify_password(&v, alice_username, alice_password, ALICE_EXPIRY),
		      IL_REST_EXPIRED, "at expiry");
	expect_result(
		il_rest_verify_password(&v, alice_username, alice_password, ALICE_EXPIRY + 1),
		IL_REST_EXPIRED, "after");
	expect_result(il_rest_verify_password(&v, "0:u", "x", 0), IL_REST_EXPIRED, "zero");
}

static void test_make_then_verify_round_trip(void **state)
{
	(void)state;
	il_rest_verifier v = verifier_current();
	char username[IL_REST_USERNAME_MAX], pw[IL_REST_PASSWORD_SIZE];
	assert_int_equal(il_rest_credential_make(SECRET, "carol", 5000, 600, username,
						 sizeof username, pw),
			 IL_REST_OK);
	assert_string_equal(username, "5600:carol");
	expect_result(il_rest_verify_password(&v, username, pw, 5000), IL_REST_OK, "fresh");
	expect_result(il_rest_verify_password(&v, username, pw, 5599), IL_REST_OK, "last");
	expect_result(il_rest_verify_password(&v, username, pw, 5600), IL_REST_EXPIRED, "end");
}

static void test_wrong_or_tampered_passwords_mismatch(void **state)
{
	(void)state;
	il_rest_verifier v = verifier_current();
	char altered[] = "ySOe9CA/QR8+MoFUmQ52f+64gtQ=";
	altered[5] ^= 1;
	static const struct {
		const char *username, *password;
	} cases[] = {
		{"1700086400:alice", "ySOe9CA/QR8+MoFUmQ52f+64gtQ"},   /* truncated */
		{"1700086400:alice", "ySOe9CA/QR8+MoFUmQ52f+64gtQ=="}, /* longer */
		{"1700086400:alice", ""},
		{"1800000000:alice", "ySOe9CA/QR8+MoFUmQ52f+64gtQ="}, /* expiry pushed */
		{"1700086400:alicf", "ySOe9CA/QR8+MoFUmQ52f+64gtQ="}, /* another user */
		{"1700086400:alice", "z5Xqg/awK9X7cp4k2pYGvhfjeew="}, /* previous secret */
	};
	for (size_t i = 0; i < COUNT(cases); i++)
		expect_result(
			il_rest_verify_password(&v, cases[i].username, cases[i].password, NOW),
			IL_REST_MISMATCH, cases[i].password);
	expect_result(il_rest_verify_password(&v, alice_username, altered, NOW),
		      IL_REST_MISMATCH, "one bit");
	expect_result(il_rest_verify_password(&v, alice_username, NULL, NOW), IL_REST_MISMATCH,
		      "null");
}

static void test_refused_usernames_yield_no_passwords(void **state)
{
	(void)state;
	il_rest_verifier v = verifier_current();
	static const struct {
		const char *username;
		enum il_rest_result want;
	} cases[] = {
		{"alice", IL_REST_NOT_REST},
		{"abc:user", IL_REST_NOT_REST},
		{"1700086400:", IL_REST_BAD_FORMAT},
		{"99999999999999999999999:alice", IL_REST_BAD_FORMAT},
		{"1690000000:alice", IL_REST_EXPIRED},
	};
	for (size_t i = 0; i < COUNT(cases); i++) {
		char pws[2][IL_REST_PASSWORD_SIZE];
		memset(pws, 'x', sizeof pws);
		size_t count = 9;
		expect_result(il_rest_passwords(&v, cases[i].username, NOW, pws, &count),
			      cases[i].want, cases[i].username);
		assert_int_equal(count, 0);
		assert_string_equal(pws[0], "");
		assert_string_equal(pws[1], "");
	}
}

/* A web service writing milliseconds mints an EXPIRY ~50 000 years ahead:
 * max_ttl_s refuses it. */
static void test_max_ttl_refuses_far_expiry(void **state)
{
	(void)state;
	il_rest_verifier v = verifier_current();
	v.max_ttl_s = 2 * 86400;
	char username[IL_REST_USERNAME_MAX], pw[IL_REST_PASSWORD_SIZE];
	assert_int_equal(il_rest_credential_make(SECRET, "dave", NOW, 2 * 86400, username,
						 sizeof username, pw),
			 IL_REST_OK);
	expect_result(il_rest_verify_password(&v, username, pw, NOW), IL_REST_OK, "at max");
	assert_int_equal(il_rest_credential_make(SECRET, "dave", NOW, 2 * 86400 + 1, username,
						 sizeof username, pw),
			 IL_REST_OK);
	expect_result(il_rest_verify_password(&v, username, pw, NOW), IL_REST_TOO_LONG,
		      "past max");
	assert_int_equal(il_rest_password(SECRET, "1700000000000:dave", pw), IL_REST_OK);
	expect_result(il_rest_verify_password(&v, "1700000000000:dave", pw, NOW),
		      IL_REST_TOO_LONG, "milliseconds");
	v.max_ttl_s = 0;
	expect_result(il_rest_verify_password(&v, "1700000000000:dave", pw, NOW), IL_REST_OK,
		      "no limit");
	assert_int_equal(il_rest_password(SECRET, "18446744073709551615:dave", pw), IL_REST_OK);
	expect_result(il_rest_verify_password(&v, "18446744073709551615:dave", pw, NOW),
		      IL_REST_OK, "UINT64_MAX, no limit");
	v.max_ttl_s = 1;
	expect_result(il_rest_verify_password(&v, "18446744073709551615:dave", pw, NOW),
		      IL_REST_TOO_LONG, "UINT64_MAX");
}

/* §5.2: two secrets during a rotation; the previous one only until the
 * end of its grace period. */
static void test_rotation_accepts_previous_secret_during_grace(void **state)
{
	(void)state;
	il_rest_verifier v = verifier_current();
	v.previous = (const uint8_t *)previous_text;
	v.previous_len = sizeof previous_text - 1;
	v.previous_until_s = NOW + 3600;
	char pws[2][IL_REST_PASSWORD_SIZE];
	size_t count = 0;
	assert_int_equal(il_rest_passwords(&v, alice_username, NOW, pws, &count), IL_REST_OK);
	assert_int_equal(count, 2);
	assert_string_equal(pws[0], alice_password);
	assert_string_equal(pws[1], alice_password_previous);
	expect_result(il_rest_verify_password(&v, alice_username, alice_password, NOW + 3599),
		      IL_REST_OK, "current in grace");
	expect_result(il_rest_verify_password(&v, alice_username, alice_password_previous,
					      NOW + 3599),
		      IL_REST_OK, "previous in grace");
	expect_result(il_rest_verify_password(&v, alice_username, alice_password_previous,
					      NOW + 3600),
		      IL_REST_MISMATCH, "previous after grace");
	expect_result(il_rest_verify_password(&v, alice_username, alice_password, NOW + 3600),
		      IL_REST_OK, "current after grace");
	assert_int_equal(il_rest_passwords(&v, alice_username, NOW + 3600, pws, &count),
			 IL_REST_OK);
	assert_int_equal(count, 1);
	/* An empty previous secret counts as none. */
	v.previous_len = 0;
	assert_int_equal(il_rest_passwords(&v, alice_username, NOW, pws, &count), IL_REST_OK);
	assert_int_equal(count, 1);
}

static void test_verifier_without_current_secret_refuses(void **state)
{
	(void)state;
	il_rest_verifier v;
	memset(&v, 0, sizeof v);
	v.previous = (const uint8_t *)previous_text;
	v.previous_len = sizeof previous_text - 1;
	v.previous_until_s = UINT64_MAX;
	char pws[2][IL_REST_PASSWORD_SIZE];
	size_t count = 7;
	assert_int_equal(il_rest_passwords(&v, alice_username, NOW, pws, &count),
			 IL_REST_NO_SECRET);
	assert_int_equal(count, 0);
	expect_result(il_rest_verify_password(&v, alice_username, alice_password_previous, NOW),
		      IL_REST_NO_SECRET, "no current");
}

/* ---- long-term keys --------------------------------------------------- */

static void hex_to_bytes(const char *hex, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* The REST password is the long-term password (§4.1). Keys computed with
 *   printf '%s' '1700086400:alice:example.org:<password>' | openssl dgst -md5
 * (and -sha256): RFC 8489 §9.2.2, OpaqueString leaving ASCII unchanged. */
static void test_long_term_keys_match_independent_digests(void **state)
{
	(void)state;
	il_rest_verifier v = verifier_current();
	v.previous = (const uint8_t *)previous_text;
	v.previous_len = sizeof previous_text - 1;
	v.previous_until_s = NOW + 1;
	il_stun_key keys[2];
	size_t count = 0;
	uint8_t want[32];
	assert_int_equal(il_rest_long_term_keys(&v, alice_username, "example.org",
						IL_STUN_PWALG_MD5, NOW, keys, &count),
			 IL_REST_OK);
	assert_int_equal(count, 2);
	hex_to_bytes("b97fdb70b956c76dc02e81f9853964c8", want, 16);
	assert_int_equal(keys[0].raw_len, 16);
	assert_memory_equal(keys[0].raw, want, 16);
	hex_to_bytes("5bd7ebadf881e74f3f7fcff272f1b459", want, 16);
	assert_memory_equal(keys[1].raw, want, 16);

	assert_int_equal(il_rest_long_term_keys(&v, alice_username, "example.org",
						IL_STUN_PWALG_SHA256, NOW + 1, keys, &count),
			 IL_REST_OK);
	assert_int_equal(count, 1);
	hex_to_bytes("54a1ec3e6ff09bb3b61bb1877a4ee564096378dbb354d466d4f4d4db5c519f5d", want,
		     32);
	assert_int_equal(keys[0].raw_len, 32);
	assert_memory_equal(keys[0].raw, want, 32);

	/* The same key as il_stun_key_long_term with the password by hand. */
	il_stun_key by_hand;
	assert_int_equal(il_stun_key_long_term(&by_hand, IL_STUN_PWALG_SHA256, alice_username,
					       "example.org", alice_password),
			 IL_STUN_OK);
	assert_memory_equal(by_hand.raw, keys[0].raw, 32);
}

static void test_long_term_keys_refuse_expired_and_bad_algorithm(void **state)
{
	(void)state;
	il_rest_verifier v = verifier_current();
	il_stun_key keys[2];
	size_t count = 5;
	assert_int_equal(il_rest_long_term_keys(&v, alice_username, "example.org",
						IL_STUN_PWALG_MD5, ALICE_EXPIRY, keys, &count),
			 IL_REST_EXPIRED);
	assert_int_equal(count, 0);
	assert_int_equal(il_rest_long_term_keys(&v, "alice", "example.org", IL_STUN_PWALG_MD5,
						NOW, keys, &count),
			 IL_REST_NOT_REST);
	assert_int_equal(il_rest_long_term_keys(&v, alice_username, "example.org",
						(enum il_stun_password_algorithm)7, NOW, keys,
						&count),
			 IL_REST_CRYPTO);
	assert_int_equal(count, 0);
}

static void test_result_names_are_distinct(void **state)
{
	(void)state;
	const char *names[IL_REST_CRYPTO + 1];
	for (int r = 0; r <= IL_REST_CRYPTO; r++) {
		names[r] = il_rest_result_name((enum il_rest_result)r);
		assert_string_not_equal(names[r], "unknown");
		for (int k = 0; k < r; k++)
			assert_string_not_equal(names[r], names[k]);
	}
	assert_string_equal(il_rest_result_name((enum il_rest_result)99), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_password_matches_openssl_command_values),
		cmocka_unit_test(test_password_refuses_missing_secret),
		cmocka_unit_test(test_make_writes_expiry_colon_user_and_password),
		cmocka_unit_test(test_make_refuses_bad_arguments),
		cmocka_unit_test(test_username_parse_splits_at_first_colon),
		cmocka_unit_test(test_username_without_digits_colon_is_not_rest),
		cmocka_unit_test(test_username_malformed_is_bad_format),
		cmocka_unit_test(test_expiry_edge_now_equal_expiry_is_expired),
		cmocka_unit_test(test_make_then_verify_round_trip),
		cmocka_unit_test(test_wrong_or_tampered_passwords_mismatch),
		cmocka_unit_test(test_refused_usernames_yield_no_passwords),
		cmocka_unit_test(test_max_ttl_refuses_far_expiry),
		cmocka_unit_test(test_rotation_accepts_previous_secret_during_grace),
		cmocka_unit_test(test_verifier_without_current_secret_refuses),
		cmocka_unit_test(test_long_term_keys_match_independent_digests),
		cmocka_unit_test(test_long_term_keys_refuse_expired_and_bad_algorithm),
		cmocka_unit_test(test_result_names_are_distinct),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
