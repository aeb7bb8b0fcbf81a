/* Unit tests of the driver's credential store (ref/io/io_credentials.c):
 * static users, and TURN REST credentials checked by il_rest_long_term_keys
 * (draft-uberti-behave-turn-rest-00 §4.2) with the current and, during a
 * rotation's grace, the previous secret (§5.2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../io_internal.h"
#include "icelab/rest_credentials.h"

#define REALM "example.org"

static char err[1024];
static char state_dir[64];
static il_io_config cfg;

static int setup(void **state)
{
	(void)state;
	snprintf(state_dir, sizeof state_dir, "/tmp/icelab-test-creds.XXXXXX");
	if (!mkdtemp(state_dir))
		return -1;
	il_io_config_defaults(&cfg);
	il_io_config_set(&cfg, "listen", "127.0.0.1:3478", err, sizeof err);
	il_io_config_set(&cfg, "realm", REALM, err, sizeof err);
	il_io_config_set(&cfg, "user", "alice:secret", err, sizeof err);
	il_io_config_set(&cfg, "state-dir", state_dir, err, sizeof err);
	return il_io_config_finish(&cfg, err, sizeof err);
}

static int teardown(void **state)
{
	(void)state;
	il_io_config_release(&cfg);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", state_dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A REST credential "EXPIRY:user" made with the tenant's current secret. */
static void credential(uint64_t expiry, const char *user, char *username, size_t cap,
		       char password[IL_REST_PASSWORD_SIZE])
{
	uint8_t secret[IL_IO_SECRET_LEN], prev[IL_IO_SECRET_LEN];
	uint64_t until;
	assert_int_equal(il_io_secret_load(state_dir, "default", true, secret, prev, &until, err,
					   sizeof err),
			 0);
	char text[2 * IL_IO_SECRET_LEN + 1];
	il_io_secret_text(secret, text);
	assert_int_equal(il_rest_credential_make((const uint8_t *)text, strlen(text), user, 0,
						 expiry, username, cap, password),
			 IL_REST_OK);
}

static bool key_is(const il_stun_key *k, const char *username, const char *password)
{
	il_stun_key want;
	assert_int_equal(il_stun_key_long_term(&want, IL_STUN_PWALG_MD5, username, REALM, password),
			 IL_STUN_OK);
	return memcmp(&want, k, sizeof want) == 0;
}

static void test_static_user_has_one_key(void **state)
{
	(void)state;
	io_creds *c = io_creds_new(&cfg, true, err, sizeof err);
	assert_non_null(c);
	il_stun_key keys[IL_TURN_MAX_KEYS];
	assert_int_equal(io_creds_lookup(c, 0, REALM, "alice", IL_STUN_PWALG_MD5, 1000, keys), 1);
	assert_true(key_is(&keys[0], "alice", "secret"));
	assert_int_equal(io_creds_lookup(c, 0, REALM, "mallory", IL_STUN_PWALG_MD5, 1000, keys), 0);
	assert_int_equal(io_creds_lookup(c, 0, "other.realm", "alice", IL_STUN_PWALG_MD5, 1000,
					 keys),
			 0);
	io_creds_free(c);
}

/* §4.2: "verify that the timestamp ... has not yet been reached": at
 * EXPIRY it is reached; and a username that is not "DIGITS:user" is not
 * a REST one (here, an unknown user). */
static void test_rest_expiry_and_format_follow_the_draft(void **state)
{
	(void)state;
	io_creds *c = io_creds_new(&cfg, true, err, sizeof err);
	assert_non_null(c);
	char username[128], password[IL_REST_PASSWORD_SIZE];
	credential(5000, "web", username, sizeof username, password);
	il_stun_key keys[IL_TURN_MAX_KEYS];
	assert_int_equal(io_creds_lookup(c, 0, REALM, username, IL_STUN_PWALG_MD5, 4999, keys), 1);
	assert_true(key_is(&keys[0], username, password));
	assert_int_equal(io_creds_lookup(c, 0, REALM, username, IL_STUN_PWALG_MD5, 5000, keys), 0);
	assert_int_equal(io_creds_lookup(c, 0, REALM, " 5000:web", IL_STUN_PWALG_MD5, 10, keys), 0);
	assert_int_equal(io_creds_lookup(c, 0, REALM, "5000:", IL_STUN_PWALG_MD5, 10, keys), 0);
	assert_int_equal(io_creds_lookup(c, 0, REALM, "+5000:web", IL_STUN_PWALG_MD5, 10, keys), 0);
	io_creds_free(c);
}

/* After --rotate-secret the store gives both keys while the grace lasts,
 * the current first, then only the current one. Whatever the credential's
 * expiry (no guess from the TTL about which secret made it). */
static void test_rotation_gives_both_keys_during_the_grace_only(void **state)
{
	(void)state;
	char old_user[128], old_pw[IL_REST_PASSWORD_SIZE];
	credential(900000, "web", old_user, sizeof old_user, old_pw);
	uint64_t now = 1000;
	assert_int_equal(il_io_secret_rotate(state_dir, "default", 600, now, err, sizeof err), 0);
	io_creds *c = io_creds_new(&cfg, true, err, sizeof err);
	assert_non_null(c);
	char new_user[128], new_pw[IL_REST_PASSWORD_SIZE];
	credential(900000, "web2", new_user, sizeof new_user, new_pw);
	il_stun_key keys[IL_TURN_MAX_KEYS];
	assert_int_equal(io_creds_lookup(c, 0, REALM, old_user, IL_STUN_PWALG_MD5, now + 10, keys),
			 2);
	assert_false(key_is(&keys[0], old_user, old_pw));
	assert_true(key_is(&keys[1], old_user, old_pw));
	assert_int_equal(io_creds_lookup(c, 0, REALM, new_user, IL_STUN_PWALG_MD5, now + 10, keys),
			 2);
	assert_true(key_is(&keys[0], new_user, new_pw));
	/* the grace is over */
	assert_int_equal(io_creds_lookup(c, 0, REALM, old_user, IL_STUN_PWALG_MD5, now + 600,
					 keys),
			 1);
	assert_false(key_is(&keys[0], old_user, old_pw));
	io_creds_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_static_user_has_one_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rest_expiry_and_format_follow_the_draft, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rotation_gives_both_keys_during_the_grace_only,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
