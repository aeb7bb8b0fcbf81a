/* Unit tests of the targets of `icelab probe` (ref/io/probe_url.c): the
 * udp:// tcp:// tls:// URLs, stun:/stuns: (RFC 7064) and turn:/turns:
 * (RFC 7065). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "icelab/probe.h"

static char err[256];

static il_probe_target stun_ok(const char *text)
{
	il_probe_target t;
	err[0] = '\0';
	int rc = il_probe_parse_stun_target(text, &t, err, sizeof err);
	if (rc != 0)
		fail_msg("%s: %s", text, err);
	return t;
}

static il_probe_target turn_ok(const char *text)
{
	il_probe_target t;
	err[0] = '\0';
	int rc = il_probe_parse_turn_uri(text, &t, err, sizeof err);
	if (rc != 0)
		fail_msg("%s: %s", text, err);
	return t;
}

static void stun_bad(const char *text, const char *why)
{
	il_probe_target t;
	err[0] = '\0';
	assert_int_equal(il_probe_parse_stun_target(text, &t, err, sizeof err), -1);
	if (!strstr(err, why))
		fail_msg("%s: '%s' does not say '%s'", text, err, why);
}

static void turn_bad(const char *text, const char *why)
{
	il_probe_target t;
	err[0] = '\0';
	assert_int_equal(il_probe_parse_turn_uri(text, &t, err, sizeof err), -1);
	if (!strstr(err, why))
		fail_msg("%s: '%s' does not say '%s'", text, err, why);
}

static void test_stun_urls_give_transport_host_and_port(void **state)
{
	(void)state;
	il_probe_target t = stun_ok("udp://127.0.0.1:3478");
	assert_int_equal(t.transport, IL_PROBE_UDP);
	assert_string_equal(t.host, "127.0.0.1");
	assert_int_equal(t.port, 3478);
	t = stun_ok("tcp://stun.example.org:19302");
	assert_int_equal(t.transport, IL_PROBE_TCP);
	assert_string_equal(t.host, "stun.example.org");
	assert_int_equal(t.port, 19302);
	t = stun_ok("TLS://[::1]:443");
	assert_int_equal(t.transport, IL_PROBE_TLS);
	assert_string_equal(t.host, "::1");
	assert_int_equal(t.port, 443);
}

static void test_stun_default_ports_are_3478_and_5349_for_tls(void **state)
{
	(void)state;
	assert_int_equal(stun_ok("udp://example.org").port, 3478);
	assert_int_equal(stun_ok("tcp://example.org").port, 3478);
	assert_int_equal(stun_ok("tls://example.org").port, 5349);
	il_probe_target t = stun_ok("stun:example.org");
	assert_int_equal(t.transport, IL_PROBE_UDP);
	assert_int_equal(t.port, 3478);
	t = stun_ok("stuns:[2001:db8::1]");
	assert_int_equal(t.transport, IL_PROBE_TLS);
	assert_string_equal(t.host, "2001:db8::1");
	assert_int_equal(t.port, 5349);
}

static void test_stun_targets_refused_with_the_reason(void **state)
{
	(void)state;
	stun_bad("", "empty");
	stun_bad("http://example.org", "want udp://");
	stun_bad("udp://", "no host");
	stun_bad("udp://:3478", "no host");
	stun_bad("udp://example.org:0", "bad port");
	stun_bad("udp://example.org:65536", "bad port");
	stun_bad("udp://example.org:34x", "bad port");
	stun_bad("udp://example.org:", "bad port");
	stun_bad("udp://::1:3478", "brackets");
	stun_bad("udp://[::1:3478", "without ']'");
	stun_bad("udp://[not-v6]:3478", "bad IPv6");
	stun_bad("udp://[]:3478", "bad IPv6");
	stun_bad("udp://[::1]x", "bad port");
	stun_bad("udp://ex ample.org", "bad character");
	stun_bad("udp://user@example.org", "only HOST");
	stun_bad("udp://example.org/path", "only HOST");
	stun_bad("stun://example.org", "no '//'");
}

static void test_turn_uris_default_to_udp_and_tls(void **state)
{
	(void)state;
	il_probe_target t = turn_ok("turn:127.0.0.1:3478");
	assert_int_equal(t.transport, IL_PROBE_UDP);
	assert_string_equal(t.host, "127.0.0.1");
	assert_int_equal(t.port, 3478);
	t = turn_ok("turn:example.org");
	assert_int_equal(t.port, 3478);
	t = turn_ok("turns:example.org");
	assert_int_equal(t.transport, IL_PROBE_TLS);
	assert_int_equal(t.port, 5349);
}

static void test_turn_transport_query_selects_tcp_or_udp(void **state)
{
	(void)state;
	assert_int_equal(turn_ok("turn:example.org?transport=tcp").transport, IL_PROBE_TCP);
	assert_int_equal(turn_ok("turn:example.org:80?transport=udp").transport, IL_PROBE_UDP);
	assert_int_equal(turn_ok("turn:example.org?transport=TCP").transport, IL_PROBE_TCP);
	il_probe_target t = turn_ok("turns:[::1]:5350?transport=tcp");
	assert_int_equal(t.transport, IL_PROBE_TLS);
	assert_string_equal(t.host, "::1");
	assert_int_equal(t.port, 5350);
}

static void test_turn_uris_refused_with_the_reason(void **state)
{
	(void)state;
	turn_bad("", "empty");
	turn_bad("stun:example.org", "want turn:");
	turn_bad("turn://example.org:3478", "no '//'");
	turn_bad("turns:example.org?transport=udp", "DTLS");
	turn_bad("turn:example.org?transport=sctp", "neither udp nor tcp");
	turn_bad("turn:example.org?foo=bar", "only query");
	turn_bad("turn:alice@example.org", "only HOST");
	turn_bad("turn:example.org:99999", "bad port");
	turn_bad("turn:2001:db8::1", "brackets");
}

static void test_transport_names(void **state)
{
	(void)state;
	assert_string_equal(il_probe_transport_name(IL_PROBE_UDP), "udp");
	assert_string_equal(il_probe_transport_name(IL_PROBE_TCP), "tcp");
	assert_string_equal(il_probe_transport_name(IL_PROBE_TLS), "tls");
	assert_string_equal(il_probe_transport_name(0), "?");
}

static void test_long_host_is_refused_not_truncated(void **state)
{
	(void)state;
	char text[400] = "udp://";
	memset(text + 6, 'a', 300);
	text[306] = '\0';
	stun_bad(text, "too long");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stun_urls_give_transport_host_and_port),
		cmocka_unit_test(test_stun_default_ports_are_3478_and_5349_for_tls),
		cmocka_unit_test(test_stun_targets_refused_with_the_reason),
		cmocka_unit_test(test_turn_uris_default_to_udp_and_tls),
		cmocka_unit_test(test_turn_transport_query_selects_tcp_or_udp),
		cmocka_unit_test(test_turn_uris_refused_with_the_reason),
		cmocka_unit_test(test_transport_names),
		cmocka_unit_test(test_long_host_is_refused_not_truncated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
