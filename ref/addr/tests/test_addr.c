/* Unit tests of transport address text forms: "a.b.c.d:port" and
 * "[v6]:port" (RFC 3986 §3.2.2 brackets, RFC 5952 text for IPv6). */
#include "icelab/addr.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void test_parse_and_format_ipv4(void **state)
{
	(void)state;
	il_addr a;
	assert_int_equal(il_addr_parse("192.0.2.1:32853", &a), 0);
	assert_int_equal(a.family, IL_AF_INET);
	assert_int_equal(a.port, 32853);
	const uint8_t ip[4] = {192, 0, 2, 1};
	assert_memory_equal(a.ip, ip, 4);
	char out[IL_ADDR_STRLEN];
	assert_int_equal(il_addr_format(&a, out, sizeof out), (int)strlen("192.0.2.1:32853"));
	assert_string_equal(out, "192.0.2.1:32853");
	assert_int_equal(il_addr_format_ip(&a, out, sizeof out), 9);
	assert_string_equal(out, "192.0.2.1");

	assert_int_equal(il_addr_parse("0.0.0.0:0", &a), 0);
	assert_int_equal(a.port, 0);
	assert_int_equal(il_addr_parse("255.255.255.255:65535", &a), 0);
	assert_int_equal(a.port, 65535);
	il_addr_format(&a, out, sizeof out);
	assert_string_equal(out, "255.255.255.255:65535");
}

/* IPv6 in brackets, written in its canonical short form (RFC 5952). */
static void test_parse_and_format_ipv6(void **state)
{
	(void)state;
	il_addr a;
	assert_int_equal(il_addr_parse("[2001:db8:1234:5678:11:2233:4455:6677]:32853", &a), 0);
	assert_int_equal(a.family, IL_AF_INET6);
	assert_int_equal(a.port, 32853);
	const uint8_t ip[16] = {0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78,
				0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
	assert_memory_equal(a.ip, ip, 16);
	char out[IL_ADDR_STRLEN];
	assert_true(il_addr_format(&a, out, sizeof out) > 0);
	assert_string_equal(out, "[2001:db8:1234:5678:11:2233:4455:6677]:32853");

	assert_int_equal(il_addr_parse("[2001:0DB8:0:0:0:0:0:1]:3478", &a), 0);
	il_addr_format(&a, out, sizeof out);
	assert_string_equal(out, "[2001:db8::1]:3478");
	assert_int_equal(il_addr_format_ip(&a, out, sizeof out), 11);
	assert_string_equal(out, "2001:db8::1");

	assert_int_equal(il_addr_parse("[::1]:1", &a), 0);
	il_addr_format(&a, out, sizeof out);
	assert_string_equal(out, "[::1]:1");

	/* The longest form fits IL_ADDR_STRLEN. */
	assert_int_equal(il_addr_parse("[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535", &a),
			 0);
	assert_true(il_addr_format(&a, out, sizeof out) > 0);
}

static void test_bad_inputs_are_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"1.2.3.4:65536",   /* port out of range */
		"1.2.3.4:99999999999999999999",
		"1.2.3.4",         /* missing port */
		"1.2.3.4:",        /* empty port */
		"1.2.3.4:-1",
		"1.2.3.4:+80",
		"1.2.3.4: 80",
		"1.2.3.4:80x",
		"[::1]",           /* no port */
		"[::1]:",
		"[::1]80",
		"[::1:80",
		"::1:80",          /* IPv6 without brackets */
		"[1.2.3.4]:80",    /* IPv4 in brackets */
		"1.2.3:80",
		"1.2.3.256:80",
		"example.org:80",  /* names are not addresses */
		"[2001:db8::g]:80",
		"",
		":80",
		"garbage",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		il_addr a;
		if (il_addr_parse(bad[i], &a) == 0)
			fail_msg("\"%s\" was accepted", bad[i]);
	}
}

static void test_format_refuses_small_buffer_and_bad_family(void **state)
{
	(void)state;
	il_addr a;
	assert_int_equal(il_addr_parse("192.0.2.1:32853", &a), 0);
	char out[IL_ADDR_STRLEN];
	assert_int_equal(il_addr_format(&a, out, 15), -1); /* needs 16 with the NUL */
	assert_int_equal(il_addr_format(&a, out, 16), 15);
	assert_int_equal(il_addr_format_ip(&a, out, 9), -1);

	il_addr none = {.family = IL_AF_NONE, .port = 1};
	assert_int_equal(il_addr_format(&none, out, sizeof out), -1);
	assert_int_equal(il_addr_format_ip(&none, out, sizeof out), -1);
	il_addr three = {.family = 3, .port = 1};
	assert_int_equal(il_addr_format(&three, out, sizeof out), -1);
}

static void test_equality_compares_family_port_and_address(void **state)
{
	(void)state;
	il_addr a, b;
	assert_int_equal(il_addr_parse("192.0.2.1:3478", &a), 0);
	assert_int_equal(il_addr_parse("192.0.2.1:3478", &b), 0);
	assert_true(il_addr_equal(&a, &b));
	/* Bytes past the IPv4 address do not matter. */
	b.ip[4] = 0xFF;
	b.ip[15] = 0xFF;
	assert_true(il_addr_equal(&a, &b));

	assert_int_equal(il_addr_parse("192.0.2.1:3479", &b), 0);
	assert_false(il_addr_equal(&a, &b));
	assert_int_equal(il_addr_parse("192.0.2.2:3478", &b), 0);
	assert_false(il_addr_equal(&a, &b));

	/* ::ffff:192.0.2.1 is another family, not the same transport address. */
	assert_int_equal(il_addr_parse("[::ffff:192.0.2.1]:3478", &b), 0);
	assert_false(il_addr_equal(&a, &b));

	il_addr x, y;
	assert_int_equal(il_addr_parse("[2001:db8::1]:5000", &x), 0);
	assert_int_equal(il_addr_parse("[2001:db8::1]:5000", &y), 0);
	assert_true(il_addr_equal(&x, &y));
	y.ip[15] ^= 1;
	assert_false(il_addr_equal(&x, &y));
	y.ip[15] ^= 1;
	y.ip[0] ^= 1;
	assert_false(il_addr_equal(&x, &y));
}

static void test_set_ipv4_from_host_order(void **state)
{
	(void)state;
	il_addr a, b;
	memset(&a, 0xEE, sizeof a);
	il_addr_set_ipv4(&a, 0xC0000201u, 32853);
	assert_int_equal(il_addr_parse("192.0.2.1:32853", &b), 0);
	assert_true(il_addr_equal(&a, &b));
	assert_int_equal(a.ip[4], 0); /* the rest cleared */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_format_ipv4),
		cmocka_unit_test(test_parse_and_format_ipv6),
		cmocka_unit_test(test_bad_inputs_are_refused),
		cmocka_unit_test(test_format_refuses_small_buffer_and_bad_family),
		cmocka_unit_test(test_equality_compares_family_port_and_address),
		cmocka_unit_test(test_set_ipv4_from_host_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
