/* Unit tests of ref/sdp (RFC 8839 §5, RFC 8838 §15, RFC 8866 §5):
 * candidate lines in and out, ICE attributes, the c=/m=/o= lines, and
 * errors that name the line and the problem. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "icelab/sdp.h"

static void parse_ok(const char *text, il_sdp_candidate *c)
{
	il_sdp_error err;
	int rc = il_sdp_candidate_parse(text, strlen(text), c, &err);
	if (rc != IL_SDP_OK)
		fail_msg("%s: %s", text, err.message);
}

static void assert_round_trip(const char *text)
{
	il_sdp_candidate c;
	parse_ok(text, &c);
	char out[512];
	int n = il_sdp_candidate_write(&c, out, sizeof out);
	assert_true(n > 0);
	const char *value = strncmp(text, "a=", 2) == 0 ? text + 2 : text;
	assert_string_equal(out, value);
}

static void test_candidate_host_fields_parsed(void **state)
{
	(void)state;
	il_sdp_candidate c;
	parse_ok("a=candidate:1 1 UDP 2130706431 192.0.2.1 5000 typ host", &c);
	assert_string_equal(c.cand.foundation, "1");
	assert_int_equal(c.cand.component, 1);
	assert_int_equal(c.cand.transport, IL_ICE_TRANSPORT_UDP);
	assert_int_equal(c.cand.priority, 2130706431u);
	assert_int_equal(c.cand.type, IL_ICE_CAND_HOST);
	il_addr want;
	assert_int_equal(il_addr_parse("192.0.2.1:5000", &want), 0);
	assert_true(il_addr_equal(&c.cand.addr, &want));
	assert_int_equal(c.cand.related.family, IL_AF_NONE);
	assert_int_equal(c.generation, -1);
}

static void test_candidate_srflx_raddr_rport_and_generation(void **state)
{
	(void)state;
	il_sdp_candidate c;
	parse_ok("candidate:842163049 1 udp 1677729535 203.0.113.7 40001 typ srflx raddr "
		 "10.0.0.1 rport 5000 generation 0 ufrag abcd network-cost 999",
		 &c);
	assert_int_equal(c.cand.type, IL_ICE_CAND_SRFLX);
	assert_int_equal(c.cand.related.port, 5000);
	assert_int_equal(c.generation, 0);
	/* Unknown extensions are kept, in order. */
	assert_string_equal(c.extensions, " ufrag abcd network-cost 999");
}

static void test_candidate_round_trips_with_extensions_in_order(void **state)
{
	(void)state;
	assert_round_trip("a=candidate:1 1 UDP 2130706431 192.0.2.1 5000 typ host");
	assert_round_trip("candidate:2 2 UDP 16777215 198.51.100.9 3478 typ relay raddr "
			  "203.0.113.7 rport 40001 generation 1 x-zeta 1 x-alpha 2");
	assert_round_trip("candidate:3 1 TCP 2105524479 2001:db8::1 9 typ host tcptype active");
	assert_round_trip("candidate:4 1 UDP 1845501695 2001:db8::2 7000 typ prflx raddr "
			  "2001:db8::1 rport 7001");
}

static void test_candidate_fqdn_address_is_kept(void **state)
{
	(void)state;
	il_sdp_candidate c;
	parse_ok("candidate:1 1 udp 2113937151 4b1a8c1e-1234-5678.local 54321 typ host", &c);
	assert_int_equal(c.cand.addr.family, IL_AF_NONE);
	assert_string_equal(c.hostname, "4b1a8c1e-1234-5678.local");
	assert_int_equal(c.cand.addr.port, 54321);
	char out[256];
	assert_true(il_sdp_candidate_write(&c, out, sizeof out) > 0);
	assert_non_null(strstr(out, "4b1a8c1e-1234-5678.local 54321"));
}

static void expect_candidate_error(const char *text, const char *words)
{
	il_sdp_candidate c;
	il_sdp_error err;
	assert_int_equal(il_sdp_candidate_parse(text, strlen(text), &c, &err), IL_SDP_ERR_SYNTAX);
	if (!strstr(err.message, words))
		fail_msg("\"%s\": message \"%s\" lacks \"%s\"", text, err.message, words);
}

static void test_candidate_bad_priority_rejected_by_name(void **state)
{
	(void)state;
	expect_candidate_error("candidate:1 1 UDP 0 192.0.2.1 5000 typ host", "bad priority");
	expect_candidate_error("candidate:1 1 UDP 2147483648 192.0.2.1 5000 typ host",
			       "bad priority");
	expect_candidate_error("candidate:1 1 UDP 12a 192.0.2.1 5000 typ host", "bad priority");
}

static void test_candidate_bad_fields_rejected_by_name(void **state)
{
	(void)state;
	expect_candidate_error("candidate:1 1 UDP 1 192.0.2.300 5000 typ host", "bad address");
	expect_candidate_error("candidate:1 1 UDP 1 192.0.2.1 65536 typ host", "bad port");
	expect_candidate_error("candidate:1 0 UDP 1 192.0.2.1 5 typ host", "component");
	expect_candidate_error("candidate:1 257 UDP 1 192.0.2.1 5 typ host", "component");
	expect_candidate_error("candidate:f_o 1 UDP 1 192.0.2.1 5 typ host", "foundation");
	expect_candidate_error("candidate:123456789012345678901234567890123 1 UDP 1 192.0.2.1 5 "
			       "typ host",
			       "foundation");
	expect_candidate_error("candidate:1 1 SCTP 1 192.0.2.1 5 typ host", "transport");
	expect_candidate_error("candidate:1 1 UDP 1 192.0.2.1 5 type host", "\"typ\"");
	expect_candidate_error("candidate:1 1 UDP 1 192.0.2.1 5 typ nat", "candidate type");
	expect_candidate_error("candidate:1 1 UDP 1 192.0.2.1 5 typ host generation", "value");
	expect_candidate_error("candidate:1 1 TCP 1 192.0.2.1 5 typ host", "tcptype");
	expect_candidate_error("candidate:1 1 UDP 1 192.0.2.1", "fields");
}

static const char *const offer =
	"v=0\r\n"
	"o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"
	"s=-\r\n"
	"t=0 0\r\n"
	"a=group:BUNDLE 0\r\n"
	"a=ice-lite\r\n"
	"a=ice-options:trickle ice2\r\n"
	"m=audio 40001 UDP/TLS/RTP/SAVPF 111 0\r\n"
	"c=IN IP4 203.0.113.7\r\n"
	"a=rtcp:9 IN IP4 0.0.0.0\r\n"
	"a=ice-ufrag:F7gI\r\n"
	"a=ice-pwd:x9cml/YzichV2+XlhiMu8g\r\n"
	"a=mid:0\r\n"
	"a=candidate:1 1 UDP 2130706431 10.0.0.1 5000 typ host\r\n"
	"a=candidate:2 1 UDP 1694498815 203.0.113.7 40001 typ srflx raddr 10.0.0.1 rport 5000\r\n"
	"a=end-of-candidates\r\n"
	"a=remote-candidates:1 198.51.100.2 6000\r\n"
	"a=rtcp-mux\r\n"
	"a=rtpmap:111 opus/48000/2\r\n";

static void test_session_ice_attributes_parsed(void **state)
{
	(void)state;
	il_sdp_session *s = malloc(sizeof *s);
	il_sdp_error err;
	int rc = il_sdp_parse(offer, strlen(offer), s, &err);
	if (rc != IL_SDP_OK)
		fail_msg("%s", err.message);
	assert_true(s->ice_lite);
	assert_true(s->ice.trickle && s->ice.ice2);
	assert_string_equal(s->origin.sess_id, "4611731400430051336");
	assert_string_equal(s->origin.address, "127.0.0.1");
	assert_int_equal(s->media_count, 1);
	il_sdp_media *m = &s->media[0];
	assert_string_equal(m->media, "audio");
	assert_int_equal(m->port, 40001);
	assert_string_equal(m->proto, "UDP/TLS/RTP/SAVPF");
	assert_string_equal(m->formats, "111 0");
	assert_true(m->conn.present);
	assert_string_equal(m->conn.address, "203.0.113.7");
	assert_string_equal(il_sdp_media_ufrag(s, m), "F7gI");
	assert_string_equal(il_sdp_media_pwd(s, m), "x9cml/YzichV2+XlhiMu8g");
	assert_int_equal(m->candidate_count, 2);
	assert_int_equal(m->candidates[1].cand.type, IL_ICE_CAND_SRFLX);
	assert_true(m->ice.end_of_candidates);
	assert_true(m->rtcp_mux);
	assert_int_equal(m->remote_candidate_count, 1);
	assert_int_equal(m->remote_candidates[0].addr.port, 6000);
	/* a=rtcp, a=mid, a=rtpmap kept verbatim. */
	assert_int_equal(m->line_count, 3);
	assert_memory_equal(m->lines[1].text, "a=mid:0", 7);
	free(s);
}

static void test_sbc_rewrites_c_m_o_and_candidates(void **state)
{
	(void)state;
	il_sdp_session *s = malloc(sizeof *s);
	il_sdp_session *again = malloc(sizeof *again);
	assert_int_equal(il_sdp_parse(offer, strlen(offer), s, NULL), IL_SDP_OK);
	il_sdp_media *m = &s->media[0];
	strcpy(s->origin.address, "192.0.2.10");
	strcpy(s->origin.sess_version, "3");
	strcpy(m->conn.address, "192.0.2.10");
	m->port = 20000;
	m->candidate_count = 1;
	il_ice_candidate c;
	memset(&c, 0, sizeof c);
	strcpy(c.foundation, "sbc1");
	c.component = 1;
	c.type = IL_ICE_CAND_HOST;
	c.priority = il_ice_candidate_priority(126, 65535, 1);
	il_addr_parse("192.0.2.10:20000", &c.addr);
	il_sdp_candidate_from_ice(&m->candidates[0], &c);
	char out[4096];
	int n = il_sdp_write(s, out, sizeof out);
	assert_true(n > 0);
	assert_non_null(strstr(out, "o=- 4611731400430051336 3 IN IP4 192.0.2.10\r\n"));
	assert_non_null(strstr(out, "m=audio 20000 UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 192.0.2.10\r\n"
				    "a=rtcp:9"));
	assert_non_null(strstr(out, "a=candidate:sbc1 1 UDP 2130706431 192.0.2.10 20000 typ host\r\n"));
	assert_null(strstr(out, "10.0.0.1 5000"));
	assert_non_null(strstr(out, "a=rtpmap:111 opus/48000/2\r\n"));
	assert_non_null(strstr(out, "a=ice-lite\r\n"));
	/* What we write parses again to the same model. */
	il_sdp_error err;
	int rc = il_sdp_parse(out, (size_t)n, again, &err);
	if (rc != IL_SDP_OK)
		fail_msg("%s\n%s", err.message, out);
	assert_int_equal(again->media[0].port, 20000);
	assert_int_equal(again->media[0].candidate_count, 1);
	assert_string_equal(again->media[0].ice.ufrag, "F7gI");
	assert_int_equal(again->media[0].line_count, 3);
	char out2[4096];
	int n2 = il_sdp_write(again, out2, sizeof out2);
	assert_int_equal(n, n2);
	assert_memory_equal(out, out2, (size_t)n);
	/* Too small a buffer is an error, never an overflow. */
	assert_int_equal(il_sdp_write(s, out, 64), IL_SDP_ERR_SPACE);
	free(s);
	free(again);
}

static void expect_sdp_error(const char *text, unsigned line, const char *words)
{
	il_sdp_session *s = malloc(sizeof *s);
	il_sdp_error err;
	assert_true(il_sdp_parse(text, strlen(text), s, &err) < 0);
	if (err.line != line || !strstr(err.message, words))
		fail_msg("got line %u \"%s\", want line %u with \"%s\"", err.line, err.message, line,
			 words);
	free(s);
}

static void test_ufrag_and_pwd_length_and_charset_errors_name_the_line(void **state)
{
	(void)state;
	expect_sdp_error("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\na=ice-ufrag:abc\r\n", 4,
			 "a=ice-ufrag: 3 characters, 4 to 256");
	expect_sdp_error("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\na=ice-ufrag:ab_cd\r\n", 4,
			 "bad character");
	expect_sdp_error("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nm=audio 1 RTP/AVP 0\r\n"
			 "a=ice-pwd:short\r\n",
			 5, "a=ice-pwd: 5 characters, 22 to 256");
	char longufrag[400] = "v=0\no=- 1 1 IN IP4 1.2.3.4\na=ice-ufrag:";
	size_t at = strlen(longufrag);
	memset(longufrag + at, 'a', 257);
	strcpy(longufrag + at + 257, "\n");
	expect_sdp_error(longufrag, 3, "257 characters");
}

static void test_c_m_o_errors_name_the_line(void **state)
{
	(void)state;
	expect_sdp_error("v=1\r\n", 1, "v=0");
	expect_sdp_error("v=0\r\no=- x 1 IN IP4 1.2.3.4\r\n", 2, "o=: sess-id");
	expect_sdp_error("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nc=IN IP4 2001:db8::1\r\n", 3,
			 "is not IP4");
	expect_sdp_error("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nc=IN IP5 1.2.3.4\r\n", 3,
			 "address type");
	expect_sdp_error("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 70000 RTP/AVP 0\r\n", 3,
			 "bad port");
	expect_sdp_error("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\n"
			 "a=candidate:1 1 UDP 99999999999 1.2.3.4 5 typ host\r\n",
			 4, "a=candidate: bad priority");
	expect_sdp_error("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\na=ice-lite\r\n", 4,
			 "session level only");
	expect_sdp_error("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\n"
			 "a=remote-candidates:1 1.2.3.4\r\n",
			 4, "triples");
	expect_sdp_error("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nbogus\r\n", 3, "<type>=<value>");
	expect_sdp_error("v=0\r\ns=-\r\n", 2, "no o= line");
}

static void test_ufrag_pwd_validators_follow_rfc8839_5_4(void **state)
{
	(void)state;
	assert_true(il_sdp_ufrag_valid("abcd", 4));
	assert_false(il_sdp_ufrag_valid("abc", 3));
	assert_true(il_sdp_ufrag_valid("a+/9", 4));
	assert_false(il_sdp_ufrag_valid("ab-d", 4));
	assert_true(il_sdp_pwd_valid("abcdefghijklmnopqrstuv", 22));
	assert_false(il_sdp_pwd_valid("abcdefghijklmnopqrstu", 21));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_candidate_host_fields_parsed),
		cmocka_unit_test(test_candidate_srflx_raddr_rport_and_generation),
		cmocka_unit_test(test_candidate_round_trips_with_extensions_in_order),
		cmocka_unit_test(test_candidate_fqdn_address_is_kept),
		cmocka_unit_test(test_candidate_bad_priority_rejected_by_name),
		cmocka_unit_test(test_candidate_bad_fields_rejected_by_name),
		cmocka_unit_test(test_session_ice_attributes_parsed),
		cmocka_unit_test(test_sbc_rewrites_c_m_o_and_candidates),
		cmocka_unit_test(test_ufrag_and_pwd_length_and_charset_errors_name_the_line),
		cmocka_unit_test(test_c_m_o_errors_name_the_line),
		cmocka_unit_test(test_ufrag_pwd_validators_follow_rfc8839_5_4),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
