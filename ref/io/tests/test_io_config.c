/* Unit tests of the serve configuration (ref/io/io_config.c) and of the
 * tenant secrets and REST credentials on disk (ref/io/io_credentials.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "icelab/io.h"
#include "icelab/rest_credentials.h"

static char err[1024];

static il_io_config *fresh(void)
{
	il_io_config *cfg = malloc(sizeof *cfg);
	assert_non_null(cfg);
	il_io_config_defaults(cfg);
	return cfg;
}

static void drop(il_io_config *cfg)
{
	il_io_config_release(cfg);
	free(cfg);
}

/* A temporary file with text; returns its path (static buffer). */
static const char *write_temp(const char *text)
{
	static char path[64];
	snprintf(path, sizeof path, "/tmp/icelab-test-conf.XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_defaults_are_the_documented_ones(void **state)
{
	(void)state;
	il_io_config *cfg = fresh();
	assert_int_equal(cfg->min_port, 49152);
	assert_int_equal(cfg->max_port, 65535);
	assert_int_equal(cfg->default_lifetime_s, 600);
	assert_int_equal(cfg->max_lifetime_s, 3600);
	assert_true(cfg->udp && cfg->tcp);
	assert_false(cfg->allow_private_relay);
	assert_int_equal(cfg->peers.allowed_count, 0);
	assert_string_equal(cfg->tenants[0].name, "default");
	assert_int_equal(il_io_config_finish(cfg, err, sizeof err), 0);
	assert_int_equal(cfg->listen_count, 2); /* 0.0.0.0:3478 and [::]:3478 */
	assert_int_equal(cfg->listen[0].addr.port, 3478);
	assert_true(cfg->workers >= 1);
	drop(cfg);
}

static void test_flag_value_sets_the_option(void **state)
{
	(void)state;
	il_io_config *cfg = fresh();
	assert_int_equal(il_io_config_set(cfg, "min-port", "50000", err, sizeof err), 0);
	assert_int_equal(il_io_config_set(cfg, "allow-private-relay", NULL, err, sizeof err), 0);
	assert_int_equal(il_io_config_set(cfg, "allow-peer", "127.0.0.0/8", err, sizeof err), 0);
	assert_int_equal(il_io_config_set(cfg, "log-level", "debug", err, sizeof err), 0);
	assert_int_equal(cfg->min_port, 50000);
	assert_true(cfg->allow_private_relay);
	assert_int_equal(cfg->peers.allowed_count, 1);
	assert_int_equal(cfg->log_level, IL_LOG_DEBUG);
	drop(cfg);
}

static void test_bad_values_say_what_is_wrong(void **state)
{
	(void)state;
	il_io_config *cfg = fresh();
	assert_int_equal(il_io_config_set(cfg, "min-port", "70000", err, sizeof err), -1);
	assert_non_null(strstr(err, "70000"));
	assert_int_equal(il_io_config_set(cfg, "min-port", "-1", err, sizeof err), -1);
	assert_int_equal(il_io_config_set(cfg, "min-port", "12x", err, sizeof err), -1);
	assert_int_equal(il_io_config_set(cfg, "listen", "127.0.0.1", err, sizeof err), -1);
	assert_non_null(strstr(err, "ADDR:PORT"));
	assert_int_equal(il_io_config_set(cfg, "allow-peer", "10.0.0.0/33", err, sizeof err), -1);
	assert_int_equal(il_io_config_set(cfg, "user", "nocolon", err, sizeof err), -1);
	assert_int_equal(il_io_config_set(cfg, "user", ":pw", err, sizeof err), -1);
	assert_int_equal(il_io_config_set(cfg, "tls-min-version", "1.1", err, sizeof err), -1);
	assert_int_equal(il_io_config_set(cfg, "log-level", "loud", err, sizeof err), -1);
	assert_int_equal(il_io_config_set(cfg, "no-such-option", "1", err, sizeof err), -1);
	assert_int_equal(il_io_config_set(cfg, "config", "x", err, sizeof err), -1);
	assert_int_equal(il_io_config_set(cfg, "external-ip", "example.org", err, sizeof err), -1);
	assert_int_equal(cfg->min_port, 49152); /* untouched by refused values */
	drop(cfg);
}

/* The limits of issue #3 §4: defaults as documented in
 * conf/icelab-serve.conf, values checked. */
static void test_limits_defaults_and_values(void **state)
{
	(void)state;
	il_io_config *cfg = fresh();
	assert_int_equal(cfg->max_401_per_second, 50);
	assert_int_equal(cfg->max_401_burst, 100);
	assert_int_equal(cfg->max_bps_per_allocation, 0);
	assert_int_equal(cfg->max_connections_per_ip, 256);
	assert_int_equal(il_io_config_set(cfg, "max-bps-per-allocation", "2000000", err, sizeof err), 0);
	assert_int_equal(cfg->max_bps_per_allocation, 2000000);
	assert_int_equal(il_io_config_set(cfg, "max-bps-per-allocation", "0", err, sizeof err), 0);
	assert_int_equal(il_io_config_set(cfg, "max-bps-per-allocation", "100", err, sizeof err), -1);
	assert_non_null(strstr(err, "8000"));
	assert_int_equal(il_io_config_set(cfg, "max-bps-per-allocation", "-5", err, sizeof err), -1);
	assert_int_equal(il_io_config_set(cfg, "max-bps-per-allocation", "9x", err, sizeof err), -1);
	assert_int_equal(il_io_config_set(cfg, "max-401-per-second", "0", err, sizeof err), 0);
	assert_int_equal(il_io_config_set(cfg, "max-401-burst", "0", err, sizeof err), -1);
	assert_int_equal(il_io_config_set(cfg, "max-connections-per-ip", "3", err, sizeof err), 0);
	assert_int_equal(cfg->max_connections_per_ip, 3);
	assert_int_equal(il_io_config_set(cfg, "tcp-idle-timeout", "1", err, sizeof err), -1);
	drop(cfg);
}

static void test_first_listen_replaces_the_defaults(void **state)
{
	(void)state;
	il_io_config *cfg = fresh();
	assert_int_equal(il_io_config_set(cfg, "listen", "127.0.0.1:3479", err, sizeof err), 0);
	assert_int_equal(il_io_config_set(cfg, "listen", "[::1]:3479", err, sizeof err), 0);
	assert_int_equal(il_io_config_finish(cfg, err, sizeof err), 0);
	assert_int_equal(cfg->listen_count, 2);
	assert_int_equal(cfg->listen[1].addr.family, IL_AF_INET6);
	assert_int_equal(cfg->listen[1].addr.port, 3479);
	drop(cfg);
}

static void test_user_given_twice_keeps_the_last_password(void **state)
{
	(void)state;
	il_io_config *cfg = fresh();
	assert_int_equal(il_io_config_set(cfg, "user", "alice:one", err, sizeof err), 0);
	assert_int_equal(il_io_config_set(cfg, "user", "alice:two:with:colons", err, sizeof err), 0);
	assert_int_equal(cfg->tenants[0].user_count, 1);
	assert_string_equal(cfg->tenants[0].users[0].password, "two:with:colons");
	drop(cfg);
}

static void test_file_sets_options_and_tenants(void **state)
{
	(void)state;
	const char *path = write_temp("# comment\n"
				      "\n"
				      "listen = 127.0.0.1:3478\n"
				      "realm = example.org\n"
				      "  user = alice:secret  \n"
				      "allow-private-relay = true\n"
				      "no-tcp = false\n"
				      "[tenant acme]\n"
				      "realm = acme.example\n"
				      "listen = 127.0.0.1:3480\n"
				      "user = carol:pw\n");
	il_io_config *cfg = fresh();
	assert_int_equal(il_io_config_load_file(cfg, path, err, sizeof err), 0);
	unlink(path);
	assert_int_equal(il_io_config_finish(cfg, err, sizeof err), 0);
	assert_string_equal(cfg->tenants[0].realm, "example.org");
	assert_string_equal(cfg->tenants[0].users[0].name, "alice");
	assert_true(cfg->allow_private_relay);
	assert_true(cfg->tcp);
	assert_int_equal(cfg->tenant_count, 2);
	assert_string_equal(cfg->tenants[1].name, "acme");
	assert_string_equal(cfg->tenants[1].realm, "acme.example");
	assert_int_equal(cfg->tenants[1].user_count, 1);
	assert_int_equal(cfg->listen_count, 2);
	assert_int_equal(cfg->listen[1].tenant, 1);
	assert_int_equal(il_io_config_tenant_find(cfg, "acme"), 1);
	assert_int_equal(il_io_config_tenant_find(cfg, "nobody"), -1);
	drop(cfg);
}

static void test_file_error_names_path_line_and_option(void **state)
{
	(void)state;
	const char *path = write_temp("realm = x\nmax-port = lots\n");
	il_io_config *cfg = fresh();
	assert_int_equal(il_io_config_load_file(cfg, path, err, sizeof err), -1);
	char want[128];
	snprintf(want, sizeof want, "%s:2: max-port: 'lots'", path);
	assert_non_null(strstr(err, want));
	unlink(path);
	drop(cfg);

	path = write_temp("bogus = 1\n");
	cfg = fresh();
	assert_int_equal(il_io_config_load_file(cfg, path, err, sizeof err), -1);
	assert_non_null(strstr(err, ":1: unknown option 'bogus'"));
	unlink(path);
	drop(cfg);

	path = write_temp("[tenant acme]\nworkers = 2\n");
	cfg = fresh();
	assert_int_equal(il_io_config_load_file(cfg, path, err, sizeof err), -1);
	assert_non_null(strstr(err, ":2: workers: not a per-tenant option"));
	unlink(path);
	drop(cfg);

	path = write_temp("[tenant bad/name]\n");
	cfg = fresh();
	assert_int_equal(il_io_config_load_file(cfg, path, err, sizeof err), -1);
	unlink(path);
	drop(cfg);

	path = write_temp("listen\n");
	cfg = fresh();
	assert_int_equal(il_io_config_load_file(cfg, path, err, sizeof err), -1);
	assert_non_null(strstr(err, ":1: listen: needs"));
	unlink(path);
	drop(cfg);
}

static void test_finish_checks_what_needs_the_whole_picture(void **state)
{
	(void)state;
	il_io_config *cfg = fresh();
	il_io_config_set(cfg, "min-port", "60000", err, sizeof err);
	il_io_config_set(cfg, "max-port", "50000", err, sizeof err);
	assert_int_equal(il_io_config_finish(cfg, err, sizeof err), -1);
	assert_non_null(strstr(err, "min-port"));
	drop(cfg);

	cfg = fresh();
	il_io_config_set(cfg, "tls-listen", "127.0.0.1:5349", err, sizeof err);
	assert_int_equal(il_io_config_finish(cfg, err, sizeof err), -1);
	assert_non_null(strstr(err, "tls-listen: needs --cert and --key"));
	drop(cfg);

	cfg = fresh();
	il_io_config_set(cfg, "listen", "127.0.0.1:3478", err, sizeof err);
	il_io_config_set(cfg, "listen", "127.0.0.1:3478", err, sizeof err);
	assert_int_equal(il_io_config_finish(cfg, err, sizeof err), -1);
	assert_non_null(strstr(err, "given twice"));
	drop(cfg);

	cfg = fresh();
	il_io_config_set(cfg, "no-md5", NULL, err, sizeof err);
	il_io_config_set(cfg, "no-sha256", NULL, err, sizeof err);
	assert_int_equal(il_io_config_finish(cfg, err, sizeof err), -1);
	drop(cfg);

	cfg = fresh();
	il_io_config_set(cfg, "users-file", "/nonexistent/users", err, sizeof err);
	assert_int_equal(il_io_config_finish(cfg, err, sizeof err), -1);
	assert_non_null(strstr(err, "users-file: /nonexistent/users"));
	drop(cfg);
}

static void test_users_file_is_read_at_finish(void **state)
{
	(void)state;
	const char *path = write_temp("# users\nalice:secret\n\nbob:hunter2\n");
	il_io_config *cfg = fresh();
	assert_int_equal(il_io_config_set(cfg, "users-file", path, err, sizeof err), 0);
	assert_int_equal(il_io_config_finish(cfg, err, sizeof err), 0);
	unlink(path);
	assert_int_equal(cfg->tenants[0].user_count, 2);
	assert_string_equal(cfg->tenants[0].users[1].name, "bob");
	drop(cfg);
}

static void test_every_option_is_documented(void **state)
{
	(void)state;
	size_t n;
	const il_io_option *o = il_io_config_options(&n);
	assert_true(n > 30);
	for (size_t i = 0; i < n; i++) {
		assert_non_null(o[i].help);
		assert_true(strlen(o[i].help) > 5);
		assert_true(!o[i].has_value || o[i].value_name);
		assert_ptr_equal(il_io_config_option_find(o[i].name), &o[i]);
	}
}

static char state_dir[64];

static int make_state_dir(void **state)
{
	(void)state;
	snprintf(state_dir, sizeof state_dir, "/tmp/icelab-test-state.XXXXXX");
	return mkdtemp(state_dir) ? 0 : -1;
}

static int remove_state_dir(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", state_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_secret_is_created_0600_then_read_back(void **state)
{
	(void)state;
	uint8_t s1[IL_IO_SECRET_LEN], s2[IL_IO_SECRET_LEN], prev[IL_IO_SECRET_LEN];
	uint64_t until;
	assert_int_equal(il_io_secret_load(state_dir, "t1", false, s1, prev, &until, err,
					   sizeof err),
			 -1); /* absent, not asked to create */
	assert_int_equal(il_io_secret_load(state_dir, "t1", true, s1, prev, &until, err,
					   sizeof err),
			 0);
	char path[128];
	snprintf(path, sizeof path, "%s/t1/secret", state_dir);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(il_io_secret_load(state_dir, "t1", true, s2, prev, &until, err,
					   sizeof err),
			 0);
	assert_memory_equal(s1, s2, sizeof s1);
	assert_int_equal(until, 0);
}

static void test_rotation_keeps_the_previous_secret_for_the_grace(void **state)
{
	(void)state;
	uint8_t before[IL_IO_SECRET_LEN], after[IL_IO_SECRET_LEN], prev[IL_IO_SECRET_LEN];
	uint64_t until;
	assert_int_equal(il_io_secret_load(state_dir, "t2", true, before, prev, &until, err,
					   sizeof err),
			 0);
	assert_int_equal(il_io_secret_rotate(state_dir, "t2", 3600, 1000000, err, sizeof err), 0);
	assert_int_equal(il_io_secret_load(state_dir, "t2", true, after, prev, &until, err,
					   sizeof err),
			 0);
	assert_memory_not_equal(before, after, sizeof before);
	assert_memory_equal(before, prev, sizeof before);
	assert_int_equal(until, 1003600);
}

static void test_printed_credential_verifies_with_the_secret_text(void **state)
{
	(void)state;
	il_io_config *cfg = fresh();
	il_io_config_set(cfg, "listen", "127.0.0.1:3478", err, sizeof err);
	il_io_config_set(cfg, "rest-ttl", "600", err, sizeof err);
	assert_int_equal(il_io_config_finish(cfg, err, sizeof err), 0);
	uint8_t secret[IL_IO_SECRET_LEN];
	memset(secret, 0xab, sizeof secret);
	char *json = il_io_ice_servers_json(cfg, 0, secret, 1700000000, "web1");
	assert_non_null(json);
	assert_non_null(strstr(json, "\"turn:127.0.0.1:3478?transport=udp\""));
	assert_non_null(strstr(json, "\"turn:127.0.0.1:3478?transport=tcp\""));
	assert_non_null(strstr(json, "\"username\":\"1700000600:web1\""));
	/* The credential is base64(HMAC-SHA1(hex text of the secret, username)). */
	char text[2 * IL_IO_SECRET_LEN + 1], password[IL_REST_PASSWORD_SIZE];
	il_io_secret_text(secret, text);
	assert_int_equal(il_rest_password((const uint8_t *)text, strlen(text), "1700000600:web1",
					  password),
			 IL_REST_OK);
	char want[80];
	snprintf(want, sizeof want, "\"credential\":\"%s\"", password);
	assert_non_null(strstr(json, want));
	free(json);
	drop(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_are_the_documented_ones),
		cmocka_unit_test(test_flag_value_sets_the_option),
		cmocka_unit_test(test_bad_values_say_what_is_wrong),
		cmocka_unit_test(test_limits_defaults_and_values),
		cmocka_unit_test(test_first_listen_replaces_the_defaults),
		cmocka_unit_test(test_user_given_twice_keeps_the_last_password),
		cmocka_unit_test(test_file_sets_options_and_tenants),
		cmocka_unit_test(test_file_error_names_path_line_and_option),
		cmocka_unit_test(test_finish_checks_what_needs_the_whole_picture),
		cmocka_unit_test(test_users_file_is_read_at_finish),
		cmocka_unit_test(test_every_option_is_documented),
		cmocka_unit_test_setup_teardown(test_secret_is_created_0600_then_read_back,
						make_state_dir, remove_state_dir),
		cmocka_unit_test_setup_teardown(test_rotation_keeps_the_previous_secret_for_the_grace,
						make_state_dir, remove_state_dir),
		cmocka_unit_test(test_printed_credential_verifies_with_the_secret_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
