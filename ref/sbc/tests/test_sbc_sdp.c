/* The SBC's offer/answer rewrite (issue #8 §2): the public address in
 * c=, o= and m=, no private address in any line, ICE-lite added toward
 * an ICE leg and stripped toward a legacy one, rtcp-mux added and
 * stripped, private or loopback advertised addresses refused. */
#include "sbc_test_util.h"

static const char WEB_OFFER[] =
	"v=0\r\n"
	"o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"
	"s=-\r\n"
	"t=0 0\r\n"
	"a=group:BUNDLE 0 1\r\n"
	"a=ice-options:trickle\r\n"
	"m=audio 9 RTP/AVP 0 101\r\n"
	"c=IN IP4 0.0.0.0\r\n"
	"a=rtcp:9 IN IP4 0.0.0.0\r\n"
	"a=mid:0\r\n"
	"a=rtpmap:0 PCMU/8000\r\n"
	"a=rtpmap:101 telephone-event/8000\r\n"
	"a=ice-ufrag:" WEB_UFRAG "\r\n"
	"a=ice-pwd:" WEB_PWD "\r\n"
	"a=ice-pacing:50\r\n"
	"a=rtcp-mux\r\n"
	"a=rtcp-mux-only\r\n"
	"a=candidate:1 1 udp 2130706431 192.168.2.20 50000 typ host\r\n"
	"a=candidate:2 1 udp 1694498815 198.51.100.3 61000 typ srflx raddr 192.168.2.20 rport "
	"50000\r\n"
	"a=end-of-candidates\r\n"
	"a=sendrecv\r\n"
	"m=video 9 RTP/AVP 96\r\n"
	"c=IN IP4 0.0.0.0\r\n"
	"a=mid:1\r\n"
	"a=rtpmap:96 VP8/90000\r\n"
	"a=x-local-address 192.168.2.20\r\n";

static const char PHONE_ANSWER[] = "v=0\r\n"
				   "o=phone 77 1 IN IP4 192.168.1.10\r\n"
				   "s=192.168.1.10\r\n"
				   "c=IN IP4 192.168.1.10\r\n"
				   "t=0 0\r\n"
				   "m=audio 4000 RTP/AVP 0 101\r\n"
				   "a=rtpmap:0 PCMU/8000\r\n"
				   "a=rtcp:4001 IN IP4 192.168.1.10\r\n"
				   "a=sendrecv\r\n"
				   "m=video 0 RTP/AVP 96\r\n";

static t_ctx *setup_web_to_phone(void)
{
	t_ctx *t = malloc(sizeof *t);
	assert_non_null(t);
	t_config(t);
	/* Leg A: the ICE agent offers; leg B: the legacy phone. */
	t->leg[0].ice = false;
	t->leg[1].ice = false;
	t->leg[1].rtcp_mux = false;
	t_new(t);
	return t;
}

/* Every line of text: none names any of the IPs. */
static void assert_no_line_names(const char *text, const char *const *ips, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		il_addr ip;
		char buf[IL_ADDR_STRLEN + 8];
		snprintf(buf, sizeof buf, "%s:1", ips[i]);
		assert_int_equal(il_addr_parse(buf, &ip), 0);
		unsigned line = il_sbc_sdp_find_ip(text, strlen(text), &ip);
		if (line)
			print_error("%s named on line %u of:\n%s", ips[i], line, text);
		assert_int_equal(line, 0);
	}
}

static il_sdp_session *parse(const char *text)
{
	il_sdp_session *s = malloc(sizeof *s);
	il_sdp_error err;
	assert_non_null(s);
	int rc = il_sdp_parse(text, strlen(text), s, &err);
	if (rc != IL_SDP_OK)
		print_error("%s\n%s", err.message, text);
	assert_int_equal(rc, IL_SDP_OK);
	return s;
}

static void test_private_addresses_never_appear_in_any_line(void **state)
{
	(void)state;
	static const char *const private_ips[] = {"10.0.0.5", "192.168.1.10", "192.168.2.20",
						  "127.0.0.1"};
	/* Legacy phone to ICE leg, both directions. */
	t_ctx *t = malloc(sizeof *t);
	t_config(t);
	t_new(t);
	t_negotiate(t);
	assert_no_line_names(t->offer_out, private_ips, 4);
	assert_no_line_names(t->answer_out, private_ips, 4);
	t_free(t);
	free(t);
	/* An ICE offer to a legacy phone, and the phone's answer whose
	 * session name is its private address. */
	t = setup_web_to_phone();
	il_sdp_error err;
	int n = il_sbc_session_offer(t->s, 0, WEB_OFFER, strlen(WEB_OFFER), t->offer_out,
				     sizeof t->offer_out, t->now, &err);
	assert_true(n > 0);
	assert_no_line_names(t->offer_out, private_ips, 4);
	n = il_sbc_session_answer(t->s, 1, PHONE_ANSWER, strlen(PHONE_ANSWER), t->answer_out,
				  sizeof t->answer_out, t->now, &err);
	assert_true(n > 0);
	assert_no_line_names(t->answer_out, private_ips, 4);
	assert_non_null(strstr(t->answer_out, "\r\ns=-\r\n"));
	t_free(t);
	free(t);
}

static void test_offer_rewrites_c_o_m_to_the_public_address(void **state)
{
	(void)state;
	t_ctx *t = malloc(sizeof *t);
	t_config(t);
	t_new(t);
	t_negotiate(t);
	il_sdp_session *s = parse(t->offer_out);
	assert_string_equal(s->origin.address, "203.0.113.10");
	assert_string_equal(s->origin.addrtype, "IP4");
	assert_string_equal(s->origin.username, "phone");
	assert_true(s->conn.present);
	assert_string_equal(s->conn.address, "203.0.113.10");
	assert_int_equal(s->media[0].port, 40002); /* leg B's port */
	assert_string_equal(s->media[0].formats, "0 8 101");
	free(s);
	s = parse(t->answer_out);
	assert_string_equal(s->conn.address, "203.0.113.10");
	assert_int_equal(s->media[0].port, 40000); /* leg A's port */
	free(s);
	t_free(t);
	free(t);
}

static void test_toward_an_ice_leg_ice_lite_with_one_host_candidate(void **state)
{
	(void)state;
	t_ctx *t = malloc(sizeof *t);
	t_config(t);
	t_new(t);
	t_negotiate(t);
	il_sdp_session *s = parse(t->offer_out);
	assert_true(s->ice_lite);
	const il_sdp_media *m = &s->media[0];
	assert_true(m->rtcp_mux);
	assert_true(il_sdp_ufrag_valid(t->ufrag_b, strlen(t->ufrag_b)));
	assert_true(il_sdp_pwd_valid(t->pwd_b, strlen(t->pwd_b)));
	assert_string_equal(t->ufrag_b,
			    il_ice_agent_local_ufrag(il_sbc_session_ice_agent(t->s, 1), 0));
	assert_int_equal(m->candidate_count, 1);
	const il_ice_candidate *c = &m->candidates[0].cand;
	assert_int_equal(c->type, IL_ICE_CAND_HOST);
	assert_int_equal(c->component, 1);
	il_addr pub = a4(203, 0, 113, 10, 40002);
	assert_true(il_addr_equal(&c->addr, &pub));
	assert_true(m->ice.end_of_candidates);
	free(s);
	/* Without rtcp-mux toward it: a candidate per component. */
	t_free(t);
	t->leg[1].rtcp_mux = false;
	t_new(t);
	char out[4096];
	int n = il_sbc_session_offer(t->s, 0, PHONE_OFFER, strlen(PHONE_OFFER), out, sizeof out,
				     t->now, NULL);
	assert_true(n > 0);
	s = parse(out);
	assert_false(s->media[0].rtcp_mux);
	assert_int_equal(s->media[0].candidate_count, 2);
	assert_int_equal(s->media[0].candidates[1].cand.component, 2);
	assert_int_equal(s->media[0].candidates[1].cand.addr.port, 40003);
	free(s);
	t_free(t);
	free(t);
}

static void test_toward_a_legacy_leg_ice_and_mux_are_stripped(void **state)
{
	(void)state;
	t_ctx *t = setup_web_to_phone();
	int n = il_sbc_session_offer(t->s, 0, WEB_OFFER, strlen(WEB_OFFER), t->offer_out,
				     sizeof t->offer_out, t->now, NULL);
	assert_true(n > 0);
	il_sdp_session *s = parse(t->offer_out);
	assert_false(s->ice_lite);
	assert_string_equal(s->ice.ufrag, "");
	assert_string_equal(s->ice.options, "");
	for (size_t i = 0; i < s->media_count; i++) {
		assert_int_equal(s->media[i].candidate_count, 0);
		assert_string_equal(s->media[i].ice.ufrag, "");
		assert_false(s->media[i].ice.end_of_candidates);
		assert_false(s->media[i].rtcp_mux);
	}
	assert_null(strstr(t->offer_out, "a=ice-"));
	assert_null(strstr(t->offer_out, "a=rtcp-mux"));
	assert_null(strstr(t->offer_out, "a=rtcp:"));
	assert_null(strstr(t->offer_out, "BUNDLE"));
	/* One section is bridged; the video section is declined. */
	assert_int_equal(s->media_count, 2);
	assert_int_equal(s->media[0].port, 40002);
	assert_int_equal(s->media[1].port, 0);
	free(s);
	/* The answer toward the ICE offerer: ICE-lite, and rtcp-mux since it
	 * offered it, though the phone knows neither. */
	n = il_sbc_session_answer(t->s, 1, PHONE_ANSWER, strlen(PHONE_ANSWER), t->answer_out,
				  sizeof t->answer_out, t->now, NULL);
	assert_true(n > 0);
	s = parse(t->answer_out);
	assert_true(s->ice_lite);
	assert_true(s->media[0].rtcp_mux);
	assert_int_equal(s->media[0].candidate_count, 1);
	assert_int_equal(s->media[0].port, 40000);
	free(s);
	il_sbc_leg_stats a = t_leg(t, 0), b = t_leg(t, 1);
	assert_true(a.ice && a.rtcp_mux);
	assert_false(b.ice || b.rtcp_mux);
	t_free(t);
	free(t);
}

static void test_answer_without_ice_makes_the_leg_legacy(void **state)
{
	(void)state;
	/* We offer ICE-lite toward leg B, which answers as a plain phone. */
	t_ctx *t = malloc(sizeof *t);
	t_config(t);
	t_new(t);
	char offer[4096], answer[4096];
	assert_true(il_sbc_session_offer(t->s, 0, PHONE_OFFER, strlen(PHONE_OFFER), offer,
					 sizeof offer, t->now, NULL) > 0);
	assert_non_null(il_sbc_session_ice_agent(t->s, 1));
	assert_true(il_sbc_session_answer(t->s, 1, PHONE_ANSWER, strlen(PHONE_ANSWER), answer,
					  sizeof answer, t->now, NULL) > 0);
	assert_null(il_sbc_session_ice_agent(t->s, 1));
	assert_false(t_leg(t, 1).ice);
	assert_null(strstr(answer, "a=ice"));
	/* An answer from the offerer's own leg is out of turn. */
	assert_int_equal(il_sbc_session_answer(t->s, 0, PHONE_ANSWER, strlen(PHONE_ANSWER), answer,
					       sizeof answer, t->now, NULL),
			 IL_SBC_ERR_STATE);
	t_free(t);
	free(t);
}

static void test_private_or_loopback_advertised_address_is_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {"10.1.2.3:0", "192.168.0.1:0", "127.0.0.1:0",
					  "[::1]:0",	"[fe80::1]:0", "0.0.0.0:0"};
	t_ctx *t = malloc(sizeof *t);
	il_sbc_callbacks cb = {.user = t, .random = t_random, .send = t_send};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		t_config(t);
		assert_int_equal(il_addr_parse(bad[i], &t->cfg.advertised), 0);
		int err = 0;
		assert_null(il_sbc_session_new(&t->cfg, &t->leg[0], &t->leg[1], &cb, 0, &err));
		assert_int_equal(err, IL_SBC_ERR_PRIVATE);
	}
	/* Explicitly allowed (a lab on loopback): accepted; never 0.0.0.0. */
	t_config(t);
	t->cfg.allow_private_advertised = true;
	il_addr_parse("127.0.0.1:0", &t->cfg.advertised);
	il_sbc_session *s = il_sbc_session_new(&t->cfg, &t->leg[0], &t->leg[1], &cb, 0, NULL);
	assert_non_null(s);
	il_sbc_session_free(s);
	il_addr_parse("0.0.0.0:0", &t->cfg.advertised);
	assert_null(il_sbc_session_new(&t->cfg, &t->leg[0], &t->leg[1], &cb, 0, NULL));
	/* The rewrite alone refuses it too. */
	il_sdp_session *sdp = parse(PHONE_OFFER);
	il_sbc_sdp_params rw = {.port = 40000, .media = 0};
	il_addr_parse("192.168.0.1:0", &rw.advertised);
	assert_int_equal(il_sbc_sdp_rewrite(sdp, &rw), IL_SBC_ERR_PRIVATE);
	rw.allow_private = true;
	assert_int_equal(il_sbc_sdp_rewrite(sdp, &rw), IL_SBC_OK);
	free(sdp);
	free(t);
}

static void test_ipv6_advertised_address(void **state)
{
	(void)state;
	t_ctx *t = malloc(sizeof *t);
	t_config(t);
	il_addr_parse("[2001:db8::10]:0", &t->cfg.advertised);
	t_new(t);
	t_negotiate(t);
	il_sdp_session *s = parse(t->offer_out);
	assert_string_equal(s->conn.addrtype, "IP6");
	assert_string_equal(s->conn.address, "2001:db8::10");
	assert_string_equal(s->origin.addrtype, "IP6");
	assert_int_equal(s->media[0].candidates[0].cand.addr.family, IL_AF_INET6);
	free(s);
	t_free(t);
	free(t);
}

static void test_find_ip_matches_whole_tokens_only(void **state)
{
	(void)state;
	const char text[] = "v=0\r\nc=IN IP4 10.0.0.50\r\na=x:110.0.0.5\r\na=y 10.0.0.5\r\n";
	il_addr ip = a4(10, 0, 0, 5, 0);
	assert_int_equal(il_sbc_sdp_find_ip(text, strlen(text), &ip), 4);
	il_addr other = a4(10, 0, 0, 6, 0);
	assert_int_equal(il_sbc_sdp_find_ip(text, strlen(text), &other), 0);
}

static void test_bad_sdp_and_no_media_are_reported(void **state)
{
	(void)state;
	t_ctx *t = malloc(sizeof *t);
	t_config(t);
	t_new(t);
	char out[4096];
	il_sdp_error err;
	const char bad[] = "v=0\r\nthis is not sdp\r\n";
	assert_int_equal(il_sbc_session_offer(t->s, 0, bad, strlen(bad), out, sizeof out, 0, &err),
			 IL_SBC_ERR_SDP);
	assert_int_equal(err.line, 2);
	const char none[] = "v=0\r\no=- 1 1 IN IP4 198.51.100.9\r\ns=-\r\nt=0 0\r\n"
			    "m=audio 0 RTP/AVP 0\r\n";
	assert_int_equal(il_sbc_session_offer(t->s, 0, none, strlen(none), out, sizeof out, 0, &err),
			 IL_SBC_ERR_NO_MEDIA);
	assert_int_equal(il_sbc_session_offer(t->s, 0, PHONE_OFFER, strlen(PHONE_OFFER), out, 64, 0,
					      &err),
			 IL_SBC_ERR_SPACE);
	assert_int_equal(il_sbc_session_state(t->s), IL_SBC_STATE_NEW);
	t_free(t);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_private_addresses_never_appear_in_any_line),
		cmocka_unit_test(test_offer_rewrites_c_o_m_to_the_public_address),
		cmocka_unit_test(test_toward_an_ice_leg_ice_lite_with_one_host_candidate),
		cmocka_unit_test(test_toward_a_legacy_leg_ice_and_mux_are_stripped),
		cmocka_unit_test(test_answer_without_ice_makes_the_leg_legacy),
		cmocka_unit_test(test_private_or_loopback_advertised_address_is_refused),
		cmocka_unit_test(test_ipv6_advertised_address),
		cmocka_unit_test(test_find_ip_matches_whole_tokens_only),
		cmocka_unit_test(test_bad_sdp_and_no_media_are_reported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
