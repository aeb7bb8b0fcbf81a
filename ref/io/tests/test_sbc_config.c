/* The configuration of `icelab serve --sbc` (ref/io/sbc_config.c): values,
 * refusals with the file and line, cross-option checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "icelab/sbc_serve.h"

static void test_defaults_and_set(void **state)
{
	(void)state;
	il_sbc_serve_config c;
	char err[256];
	il_sbc_serve_defaults(&c);
	assert_int_equal(c.ng.port, 2223);
	assert_int_equal(c.port_min, 30000);
	assert_int_equal(c.port_max, 39999);
	/* No advertised address: refused with a clear message. */
	assert_int_equal(il_sbc_serve_finish(&c, err, sizeof err), -1);
	assert_non_null(strstr(err, "--advertised"));
	assert_int_equal(il_sbc_serve_set(&c, "advertised", "203.0.113.7", err, sizeof err), 0);
	assert_int_equal(il_sbc_serve_set(&c, "port-min", "40000", err, sizeof err), 0);
	assert_int_equal(il_sbc_serve_set(&c, "port-max", "40099", err, sizeof err), 0);
	assert_int_equal(c.port_min, 40000);
	assert_int_equal(c.port_max, 40099);
	assert_int_equal(il_sbc_serve_set(&c, "allow-private-advertised", NULL, err, sizeof err), 0);
	assert_true(c.allow_private_advertised);
	assert_int_equal(il_sbc_serve_set(&c, "ng", "127.0.0.1:22000", err, sizeof err), 0);
	assert_int_equal(c.ng.port, 22000);
	assert_int_equal(il_sbc_serve_finish(&c, err, sizeof err), 0);
	/* Refusals. */
	assert_int_equal(il_sbc_serve_set(&c, "port-min", "70000", err, sizeof err), -1);
	assert_int_equal(il_sbc_serve_set(&c, "port-min", "-1", err, sizeof err), -1);
	assert_int_equal(il_sbc_serve_set(&c, "advertised", "example.org", err, sizeof err), -1);
	assert_int_equal(il_sbc_serve_set(&c, "ng", "127.0.0.1", err, sizeof err), -1);
	assert_int_equal(il_sbc_serve_set(&c, "strict-source", "maybe", err, sizeof err), -1);
	assert_int_equal(il_sbc_serve_set(&c, "log-level", "loud", err, sizeof err), -1);
	assert_int_equal(il_sbc_serve_set(&c, "frobnicate", "1", err, sizeof err), -1);
	/* A range too small for one call's two pairs, an inverted one. */
	c.port_min = 40000;
	c.port_max = 40002;
	assert_int_equal(il_sbc_serve_finish(&c, err, sizeof err), -1);
	c.port_max = 30000;
	assert_int_equal(il_sbc_serve_finish(&c, err, sizeof err), -1);
	/* An IPv6 advertised address takes the IPv6 wildcard bind. */
	il_sbc_serve_defaults(&c);
	assert_int_equal(il_sbc_serve_set(&c, "advertised", "2001:db8::1", err, sizeof err), 0);
	assert_int_equal(il_sbc_serve_finish(&c, err, sizeof err), 0);
	assert_int_equal(c.bind.family, IL_AF_INET6);
	assert_int_equal(il_sbc_serve_set(&c, "bind", "127.0.0.1", err, sizeof err), 0);
	assert_int_equal(il_sbc_serve_finish(&c, err, sizeof err), -1);
}

static void test_file(void **state)
{
	(void)state;
	char path[] = "/tmp/icelab-sbc-conf-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fputs("# comment\n\nadvertised = 198.51.100.9\n  port-min=41000  \nport-max = 41999\n"
	      "log-json = -\n",
	      f);
	fclose(f);
	il_sbc_serve_config c;
	char err[512];
	il_sbc_serve_defaults(&c);
	assert_int_equal(il_sbc_serve_load_file(&c, path, err, sizeof err), 0);
	assert_int_equal(c.port_min, 41000);
	assert_string_equal(c.log_json, "-");
	assert_int_equal(il_sbc_serve_finish(&c, err, sizeof err), 0);
	f = fopen(path, "w");
	fputs("advertised = 198.51.100.9\nport-max = many\n", f);
	fclose(f);
	assert_int_equal(il_sbc_serve_load_file(&c, path, err, sizeof err), -1);
	/* The file, the line and the option. */
	char want[128];
	snprintf(want, sizeof want, "%s:2: port-max:", path);
	assert_non_null(strstr(err, want));
	f = fopen(path, "w");
	fputs("advertised\n", f);
	fclose(f);
	assert_int_equal(il_sbc_serve_load_file(&c, path, err, sizeof err), -1);
	assert_non_null(strstr(err, ":1: expected"));
	unlink(path);
	assert_int_equal(il_sbc_serve_load_file(&c, path, err, sizeof err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_set),
		cmocka_unit_test(test_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
