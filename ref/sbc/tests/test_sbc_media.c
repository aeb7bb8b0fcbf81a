/* The SBC media plane, rule by rule (issue #8 §3): latching on a legacy
 * leg, RTP Bleed, the adoption policy, the ICE leg's checked sources,
 * the ICE-lite responder's credentials, RTCP, the media timeout and the
 * pair@connected event. Virtual time; no sockets. */
#include "sbc_test_util.h"

#define PT_PCMU 0

static const uint32_t PHONE_SSRC = 0x11223344u;
static const uint32_t WEB_SSRC = 0x55667788u;

static il_addr phone_nat(void) { return a4(198, 51, 100, 2, 1025); }
static il_addr phone_nat_rtcp(void) { return a4(198, 51, 100, 2, 1026); }
static il_addr phone_sdp(void) { return a4(192, 168, 1, 10, 4000); }
static il_addr web(void) { return a4(198, 51, 100, 3, 61000); }
static il_addr attacker(void) { return a4(198, 51, 100, 66, 5555); }

static t_ctx *setup(bool negotiate)
{
	t_ctx *t = malloc(sizeof *t);
	assert_non_null(t);
	t_config(t);
	t_new(t);
	if (negotiate)
		t_negotiate(t);
	return t;
}

static void teardown(t_ctx *t)
{
	t_free(t);
	free(t);
}

static uint64_t dropped(const t_ctx *t, unsigned leg, int reason)
{
	return t_leg(t, leg).dropped[reason];
}

/* The ICE agent selects its pair on the bridge: a check with USE-CANDIDATE. */
static void select_web(t_ctx *t)
{
	il_addr w = web();
	assert_int_equal(t_check(t, &w, true), IL_SBC_DGRAM_STUN);
	il_sbc_leg_stats st = t_leg(t, 1);
	assert_true(st.has_selected);
	assert_true(il_addr_equal(&st.selected_remote, &w));
}

/* ---- latching ---- */

static void test_latching_learns_first_fitting_source(void **state)
{
	(void)state;
	t_ctx *t = setup(true);
	il_addr p = phone_nat(), w = web();
	/* Payload type 96 is not in the phone's m= line: it does not fit. */
	assert_int_equal(t_rtp(t, 0, &p, 96, 100, PHONE_SSRC), IL_SBC_DGRAM_DROPPED);
	assert_int_equal(dropped(t, 0, IL_SBC_DROP_NOT_FITTING), 1);
	assert_false(t_leg(t, 0).latched[0]);
	/* PCMU fits: the NAT's mapping is learnt, with the SSRC. Nothing to
	 * send it to yet (no ICE pair selected on leg B). */
	assert_int_equal(t_rtp(t, 0, &p, PT_PCMU, 101, PHONE_SSRC), IL_SBC_DGRAM_DROPPED);
	assert_int_equal(dropped(t, 0, IL_SBC_DROP_NO_DESTINATION), 1);
	il_sbc_leg_stats a = t_leg(t, 0);
	assert_true(a.latched[0]);
	assert_true(il_addr_equal(&a.source[0], &p));
	assert_int_equal(a.ssrc, PHONE_SSRC);
	const il_sbc_event *ev = t_last_event(t, IL_SBC_EV_LATCHED);
	assert_non_null(ev);
	assert_int_equal(ev->leg, 0);
	assert_true(il_addr_equal(&ev->addr, &p));
	/* Once the ICE leg has its pair, media flows both ways, each sent to
	 * where the other side's media comes from (symmetric RTP). */
	select_web(t);
	size_t before = t->sent_count;
	assert_int_equal(t_rtp(t, 0, &p, PT_PCMU, 102, PHONE_SSRC), IL_SBC_DGRAM_FORWARDED);
	assert_int_equal(t->sent_count, before + 1);
	assert_true(il_addr_equal(&t_last_sent(t)->remote, &w));
	assert_true(il_addr_equal(&t_last_sent(t)->local, &t->leg[1].bind));
	assert_int_equal(t_rtp(t, 1, &w, PT_PCMU, 7, WEB_SSRC), IL_SBC_DGRAM_FORWARDED);
	assert_true(il_addr_equal(&t_last_sent(t)->remote, &p));
	assert_true(il_addr_equal(&t_last_sent(t)->local, &t->leg[0].bind));
	assert_int_equal(t_leg(t, 0).tx_packets, 1);
	assert_int_equal(t_leg(t, 1).tx_packets, 1);
	teardown(t);
}

static void test_latching_prefers_the_sdp_address(void **state)
{
	(void)state;
	t_ctx *t = setup(true);
	il_addr p = phone_nat(), sdp = phone_sdp();
	t_rtp(t, 0, &p, PT_PCMU, 1, PHONE_SSRC);
	assert_true(il_addr_equal(&t_leg(t, 0).source[0], &p));
	/* Within prefer_sdp_ms the SDP address takes the provisional latch. */
	t->now += 500;
	t_rtp(t, 0, &sdp, PT_PCMU, 2, PHONE_SSRC);
	il_sbc_leg_stats a = t_leg(t, 0);
	assert_true(il_addr_equal(&a.source[0], &sdp));
	const il_sbc_event *ev = t_last_event(t, IL_SBC_EV_LATCHED);
	assert_true(il_addr_equal(&ev->addr, &sdp));
	assert_true(il_addr_equal(&ev->previous, &p));
	/* ... and is then firm: the first source is foreign now. */
	t_rtp(t, 0, &p, PT_PCMU, 3, PHONE_SSRC);
	assert_int_equal(dropped(t, 0, IL_SBC_DROP_FOREIGN_SOURCE), 1);
	teardown(t);

	/* After the window a latch off the SDP address is firm. */
	t = setup(true);
	t_rtp(t, 0, &p, PT_PCMU, 1, PHONE_SSRC);
	t->now += t->cfg.prefer_sdp_ms;
	t_rtp(t, 0, &sdp, PT_PCMU, 2, PHONE_SSRC);
	assert_true(il_addr_equal(&t_leg(t, 0).source[0], &p));
	assert_int_equal(dropped(t, 0, IL_SBC_DROP_FOREIGN_SOURCE), 1);
	teardown(t);
}

static void test_strict_mode_latches_only_on_the_sdp_address(void **state)
{
	(void)state;
	t_ctx *t = malloc(sizeof *t);
	t_config(t);
	t->cfg.strict_source = true;
	t_new(t);
	t_negotiate(t);
	il_addr p = phone_nat(), sdp = phone_sdp();
	t_rtp(t, 0, &p, PT_PCMU, 1, PHONE_SSRC);
	assert_int_equal(dropped(t, 0, IL_SBC_DROP_STRICT_SOURCE), 1);
	assert_false(t_leg(t, 0).latched[0]);
	t_rtp(t, 0, &sdp, PT_PCMU, 2, PHONE_SSRC);
	assert_true(t_leg(t, 0).latched[0]);
	assert_true(il_addr_equal(&t_leg(t, 0).source[0], &sdp));
	teardown(t);
}

/* ---- RTP Bleed ---- */

static void test_third_party_mid_call_is_dropped(void **state)
{
	(void)state;
	t_ctx *t = setup(true);
	il_addr p = phone_nat(), w = web(), x = attacker();
	select_web(t);
	for (uint16_t seq = 1; seq <= 10; seq++) {
		assert_int_equal(t_rtp(t, 0, &p, PT_PCMU, seq, PHONE_SSRC), IL_SBC_DGRAM_FORWARDED);
		assert_int_equal(t_rtp(t, 1, &w, PT_PCMU, seq, WEB_SSRC), IL_SBC_DGRAM_FORWARDED);
	}
	size_t sent = t->sent_count;
	/* The attacker sprays the phone leg's port: with its own SSRC, and
	 * even with the phone's SSRC and the next sequence numbers. */
	for (uint16_t i = 0; i < 20; i++) {
		assert_int_equal(t_rtp(t, 0, &x, PT_PCMU, (uint16_t)(1000 + i), 0xdeadbeef),
				 IL_SBC_DGRAM_DROPPED);
		assert_int_equal(t_rtp(t, 0, &x, PT_PCMU, (uint16_t)(11 + i), PHONE_SSRC),
				 IL_SBC_DGRAM_DROPPED);
	}
	/* ... and the ICE leg's port. */
	for (uint16_t i = 0; i < 5; i++)
		assert_int_equal(t_rtp(t, 1, &x, PT_PCMU, i, WEB_SSRC), IL_SBC_DGRAM_DROPPED);
	assert_int_equal(t->sent_count, sent);
	assert_int_equal(dropped(t, 0, IL_SBC_DROP_FOREIGN_SOURCE), 40);
	assert_int_equal(dropped(t, 1, IL_SBC_DROP_UNCHECKED_SOURCE), 5);
	const il_sbc_event *ev = t_last_event(t, IL_SBC_EV_DROPPED);
	assert_true(il_addr_equal(&ev->addr, &x));
	/* The call goes on where it was. */
	assert_int_equal(t_rtp(t, 1, &w, PT_PCMU, 11, WEB_SSRC), IL_SBC_DGRAM_FORWARDED);
	assert_true(il_addr_equal(&t_last_sent(t)->remote, &p));
	assert_int_equal(t_rtp(t, 0, &p, PT_PCMU, 31, PHONE_SSRC), IL_SBC_DGRAM_FORWARDED);
	assert_true(il_addr_equal(&t_last_sent(t)->remote, &w));
	assert_int_equal(t_leg(t, 0).adoptions, 0);
	teardown(t);
}

static void test_adoption_policy_needs_n_consecutive_in_sequence_packets(void **state)
{
	(void)state;
	t_ctx *t = malloc(sizeof *t);
	t_config(t);
	t->cfg.adopt_new_source = true;
	t->cfg.adopt_packets = 5;
	t_new(t);
	t_negotiate(t);
	select_web(t);
	il_addr p = phone_nat(), x = attacker(), rebound = a4(198, 51, 100, 2, 2048);
	for (uint16_t seq = 100; seq <= 104; seq++)
		t_rtp(t, 0, &p, PT_PCMU, seq, PHONE_SSRC);
	/* Another SSRC, however in sequence: never. */
	for (uint16_t seq = 105; seq < 125; seq++)
		assert_int_equal(t_rtp(t, 0, &x, PT_PCMU, seq, 0xdeadbeef), IL_SBC_DGRAM_DROPPED);
	/* The right SSRC with sequence numbers that do not continue: never. */
	for (uint16_t i = 0; i < 20; i++)
		assert_int_equal(t_rtp(t, 0, &x, PT_PCMU, (uint16_t)(105 + 7 * i), PHONE_SSRC),
				 IL_SBC_DGRAM_DROPPED);
	assert_int_equal(t_leg(t, 0).adoptions, 0);
	/* A NAT rebinding: the same stream from a new port. Four packets,
	 * then the old source speaks: the count starts again. */
	for (uint16_t seq = 105; seq <= 108; seq++)
		assert_int_equal(t_rtp(t, 0, &rebound, PT_PCMU, seq, PHONE_SSRC),
				 IL_SBC_DGRAM_DROPPED);
	assert_int_equal(t_rtp(t, 0, &p, PT_PCMU, 109, PHONE_SSRC), IL_SBC_DGRAM_FORWARDED);
	for (uint16_t seq = 110; seq <= 113; seq++)
		assert_int_equal(t_rtp(t, 0, &rebound, PT_PCMU, seq, PHONE_SSRC),
				 IL_SBC_DGRAM_DROPPED);
	assert_int_equal(t_leg(t, 0).adoptions, 0);
	/* The fifth in a row is adopted and forwarded. */
	assert_int_equal(t_rtp(t, 0, &rebound, PT_PCMU, 114, PHONE_SSRC), IL_SBC_DGRAM_FORWARDED);
	il_sbc_leg_stats a = t_leg(t, 0);
	assert_int_equal(a.adoptions, 1);
	assert_true(il_addr_equal(&a.source[0], &rebound));
	const il_sbc_event *ev = t_last_event(t, IL_SBC_EV_SOURCE_ADOPTED);
	assert_non_null(ev);
	assert_true(il_addr_equal(&ev->previous, &p));
	/* Media toward the phone follows; the old source is foreign now. */
	il_addr w = web();
	t_rtp(t, 1, &w, PT_PCMU, 1, WEB_SSRC);
	assert_true(il_addr_equal(&t_last_sent(t)->remote, &rebound));
	assert_int_equal(t_rtp(t, 0, &p, PT_PCMU, 115, PHONE_SSRC), IL_SBC_DGRAM_DROPPED);
	teardown(t);
}

/* ---- the ICE leg ---- */

static void test_ice_leg_ignores_unchecked_sources(void **state)
{
	(void)state;
	t_ctx *t = setup(true);
	il_addr p = phone_nat(), w = web(), other = a4(198, 51, 100, 3, 61001);
	t_rtp(t, 0, &p, PT_PCMU, 1, PHONE_SSRC); /* the phone is latched */
	/* 198.51.100.3:61000 is a candidate in the SDP, but it has passed
	 * no check: its media is not taken. */
	assert_int_equal(t_rtp(t, 1, &w, PT_PCMU, 1, WEB_SSRC), IL_SBC_DGRAM_DROPPED);
	assert_int_equal(dropped(t, 1, IL_SBC_DROP_UNCHECKED_SOURCE), 1);
	/* A check with valid credentials from it: now it is. */
	assert_int_equal(t_check(t, &w, false), IL_SBC_DGRAM_STUN);
	assert_int_equal(t_rtp(t, 1, &w, PT_PCMU, 2, WEB_SSRC), IL_SBC_DGRAM_FORWARDED);
	/* Media toward the ICE leg waits for the selected pair. */
	assert_int_equal(t_rtp(t, 0, &p, PT_PCMU, 2, PHONE_SSRC), IL_SBC_DGRAM_DROPPED);
	assert_int_equal(dropped(t, 0, IL_SBC_DROP_NO_DESTINATION), 2);
	assert_int_equal(t_check(t, &w, true), IL_SBC_DGRAM_STUN);
	assert_int_equal(t_rtp(t, 0, &p, PT_PCMU, 3, PHONE_SSRC), IL_SBC_DGRAM_FORWARDED);
	assert_true(il_addr_equal(&t_last_sent(t)->remote, &w));
	/* Another source after selection: dropped until it passes a check;
	 * media out stays on the selected pair either way. */
	assert_int_equal(t_rtp(t, 1, &other, PT_PCMU, 3, WEB_SSRC), IL_SBC_DGRAM_DROPPED);
	assert_int_equal(dropped(t, 1, IL_SBC_DROP_UNCHECKED_SOURCE), 2);
	assert_int_equal(t_check(t, &other, false), IL_SBC_DGRAM_STUN);
	assert_int_equal(t_rtp(t, 1, &other, PT_PCMU, 4, WEB_SSRC), IL_SBC_DGRAM_FORWARDED);
	assert_int_equal(t_rtp(t, 0, &p, PT_PCMU, 4, PHONE_SSRC), IL_SBC_DGRAM_FORWARDED);
	assert_true(il_addr_equal(&t_last_sent(t)->remote, &w));
	assert_int_equal(t_count_events(t, IL_SBC_EV_ICE_SELECTED), 1);
	teardown(t);
}

/* An ICE restart offered by the ICE leg (RFC 8445 §9): the bridge answers
 * with new credentials of its own, media goes on over the old pair until
 * a new one is selected, and the phone's leg is untouched. */
static void test_ice_restart_leaves_the_legacy_leg_untouched(void **state)
{
	(void)state;
	t_ctx *t = setup(true);
	select_web(t);
	il_addr p = phone_nat(), w = web();
	t_rtp(t, 0, &p, PT_PCMU, 1, PHONE_SSRC);
	char old_ufrag[sizeof t->ufrag_b];
	snprintf(old_ufrag, sizeof old_ufrag, "%s", t->ufrag_b);
	/* The re-offer from leg B with new credentials, then the phone's answer. */
	static const char reoffer[] =
		"v=0\r\n"
		"o=- 2002 2 IN IP4 192.168.2.20\r\n"
		"s=-\r\n"
		"t=0 0\r\n"
		"m=audio 50000 RTP/AVP 0 101\r\n"
		"c=IN IP4 192.168.2.20\r\n"
		"a=rtpmap:0 PCMU/8000\r\n"
		"a=rtcp-mux\r\n"
		"a=ice-ufrag:NEWu\r\n"
		"a=ice-pwd:newpasswordnewpassword12\r\n";
	char out[4096], answer[4096];
	int n = il_sbc_session_offer(t->s, IL_SBC_LEG_B, reoffer, strlen(reoffer), out, sizeof out,
				     t->now, NULL);
	assert_true(n > 0);
	assert_null(strstr(out, "a=ice")); /* toward the phone: no ICE */
	n = il_sbc_session_answer(t->s, IL_SBC_LEG_A, PHONE_OFFER, strlen(PHONE_OFFER), answer,
				  sizeof answer, t->now, NULL);
	assert_true(n > 0);
	assert_non_null(strstr(answer, "a=ice-lite"));
	assert_null(strstr(answer, old_ufrag));
	/* The phone's latch holds; media still crosses on the old pair. */
	il_sbc_leg_stats a = t_leg(t, 0);
	assert_true(a.latched[0]);
	assert_true(il_addr_equal(&a.source[0], &p));
	int rc = t_rtp(t, 0, &p, PT_PCMU, 2, PHONE_SSRC);
	if (rc != IL_SBC_DGRAM_FORWARDED)
		print_error("dropped: %s, ice %s\n",
			    il_sbc_drop_name(t_last_event(t, IL_SBC_EV_DROPPED)->reason),
			    il_ice_state_name(t_leg(t, 1).ice_state));
	assert_int_equal(rc, IL_SBC_DGRAM_FORWARDED);
	assert_true(il_addr_equal(&t_last_sent(t)->remote, &w));
	assert_int_equal(t_rtp(t, 1, &w, PT_PCMU, 2, WEB_SSRC), IL_SBC_DGRAM_FORWARDED);
	assert_true(il_addr_equal(&t_last_sent(t)->remote, &p));
	/* The new check list: the new credentials select a new pair (the
	 * browser moved to another address); media follows it. */
	il_ice_agent *agent = il_sbc_session_ice_agent(t->s, IL_SBC_LEG_B);
	assert_string_not_equal(il_ice_agent_local_ufrag(agent, 0), old_ufrag);
	assert_non_null(strstr(answer, il_ice_agent_local_ufrag(agent, 0)));
	char user[600];
	uint8_t buf[512];
	snprintf(user, sizeof user, "%s:NEWu", il_ice_agent_local_ufrag(agent, 0));
	size_t len = build_check(buf, sizeof buf, user, il_ice_agent_local_pwd(agent, 0), true, 9);
	il_addr moved = a4(198, 51, 100, 4, 62000);
	assert_int_equal(t_rx(t, &t->leg[1].bind, &moved, buf, len), IL_SBC_DGRAM_STUN);
	assert_int_equal(t_rtp(t, 0, &p, PT_PCMU, 3, PHONE_SSRC), IL_SBC_DGRAM_FORWARDED);
	assert_true(il_addr_equal(&t_last_sent(t)->remote, &moved));
	assert_int_equal(t_rtp(t, 1, &moved, PT_PCMU, 3, WEB_SSRC), IL_SBC_DGRAM_FORWARDED);
	assert_true(il_addr_equal(&t_leg(t, 0).source[0], &p));
	teardown(t);
}

static int decode_response(const t_sent *sent, il_stun_msg *msg)
{
	assert_int_equal(il_stun_decode(sent->data, sent->len, msg, NULL), IL_STUN_OK);
	if (msg->cls == IL_STUN_SUCCESS)
		return 0;
	const il_stun_attr *ea = il_stun_msg_find(msg, IL_ATTR_ERROR_CODE);
	assert_non_null(ea);
	int code;
	const char *reason;
	size_t rlen;
	assert_int_equal(il_stun_attr_get_error_code(msg, ea, &code, &reason, &rlen), IL_STUN_OK);
	return code;
}

static void test_ice_lite_answers_only_valid_credentials(void **state)
{
	(void)state;
	t_ctx *t = setup(true);
	il_addr w = web();
	char user[600];
	uint8_t buf[512];
	il_stun_msg msg;
	/* Our ufrag with a wrong password: 401, unsigned, no pair learnt. */
	snprintf(user, sizeof user, "%s:%s", t->ufrag_b, WEB_UFRAG);
	size_t n = build_check(buf, sizeof buf, user, "wrongpasswordwrongpassw", true, 1);
	assert_int_equal(t_rx(t, &t->leg[1].bind, &w, buf, n), IL_SBC_DGRAM_STUN);
	assert_int_equal(decode_response(t_last_sent(t), &msg), 401);
	assert_true(msg.mi_index < 0);
	/* Someone else's ufrag: 401. */
	n = build_check(buf, sizeof buf, "nobody:" WEB_UFRAG, t->pwd_b, true, 2);
	t_rx(t, &t->leg[1].bind, &w, buf, n);
	assert_int_equal(decode_response(t_last_sent(t), &msg), 401);
	assert_false(t_leg(t, 1).has_selected);
	assert_int_equal(t_rtp(t, 1, &w, PT_PCMU, 1, WEB_SSRC), IL_SBC_DGRAM_DROPPED);
	assert_int_equal(dropped(t, 1, IL_SBC_DROP_UNCHECKED_SOURCE), 1);
	/* Valid: a success response from our bind address to the sender,
	 * its mapped address, signed with our password; USE-CANDIDATE
	 * selects the pair. */
	assert_int_equal(t_check(t, &w, true), IL_SBC_DGRAM_STUN);
	const t_sent *resp = t_last_sent(t);
	assert_true(il_addr_equal(&resp->local, &t->leg[1].bind));
	assert_true(il_addr_equal(&resp->remote, &w));
	assert_int_equal(decode_response(resp, &msg), 0);
	il_stun_key key;
	il_stun_key_short_term(&key, t->pwd_b);
	assert_int_equal(il_stun_check_integrity(&msg, &key), IL_STUN_VERDICT_OK);
	il_addr mapped;
	assert_int_equal(il_stun_attr_get_addr(&msg, il_stun_msg_find(&msg,
								      IL_ATTR_XOR_MAPPED_ADDRESS),
					       &mapped),
			 IL_STUN_OK);
	assert_true(il_addr_equal(&mapped, &w));
	assert_true(t_leg(t, 1).has_selected);
	const il_sbc_event *ev = t_last_event(t, IL_SBC_EV_ICE_SELECTED);
	assert_non_null(ev);
	/* The sender is the candidate the web's SDP signalled: its type, not
	 * peer-reflexive (RFC 8445 §7.3.1.3). */
	assert_int_equal(ev->remote_type, IL_ICE_CAND_SRFLX);
	/* STUN on the legacy leg: not ours to answer. */
	size_t sent = t->sent_count;
	il_addr p = phone_nat();
	assert_int_equal(t_rx(t, &t->leg[0].bind, &p, buf, n), IL_SBC_DGRAM_DROPPED);
	assert_int_equal(dropped(t, 0, IL_SBC_DROP_STUN_NOT_ICE), 1);
	assert_int_equal(t->sent_count, sent);
	teardown(t);
}

/* ---- RTCP ---- */

static void test_rtcp_latches_on_its_port_and_crosses_to_mux(void **state)
{
	(void)state;
	t_ctx *t = setup(true);
	select_web(t);
	il_addr p = phone_nat(), pr = phone_nat_rtcp(), w = web(), x = attacker();
	il_addr rtcp_bind = t->leg[0].bind;
	rtcp_bind.port++;
	uint8_t buf[16];
	size_t n = make_rtcp(buf, PHONE_SSRC);
	/* Before the RTP latch nothing vouches for an RTCP source. */
	assert_int_equal(t_rx(t, &rtcp_bind, &pr, buf, n), IL_SBC_DGRAM_DROPPED);
	assert_int_equal(dropped(t, 0, IL_SBC_DROP_NOT_FITTING), 1);
	t_rtp(t, 0, &p, PT_PCMU, 1, PHONE_SSRC);
	/* A stranger's report, then the phone's (its SSRC): the phone's latches. */
	size_t xn = make_rtcp(buf, 0xdeadbeef);
	assert_int_equal(t_rx(t, &rtcp_bind, &x, buf, xn), IL_SBC_DGRAM_DROPPED);
	n = make_rtcp(buf, PHONE_SSRC);
	assert_int_equal(t_rx(t, &rtcp_bind, &pr, buf, n), IL_SBC_DGRAM_FORWARDED);
	assert_true(t_leg(t, 0).latched[1]);
	/* Muxed toward the ICE leg: the RTP pair. */
	assert_true(il_addr_equal(&t_last_sent(t)->remote, &w));
	assert_true(il_addr_equal(&t_last_sent(t)->local, &t->leg[1].bind));
	/* The ICE side's muxed RTCP goes to the phone's RTCP source, from
	 * our RTCP port. */
	n = make_rtcp(buf, WEB_SSRC);
	assert_int_equal(t_rx(t, &t->leg[1].bind, &w, buf, n), IL_SBC_DGRAM_FORWARDED);
	assert_true(il_addr_equal(&t_last_sent(t)->remote, &pr));
	assert_true(il_addr_equal(&t_last_sent(t)->local, &rtcp_bind));
	assert_int_equal(t_leg(t, 0).tx_rtcp, 1);
	assert_int_equal(t_leg(t, 1).tx_rtcp, 1);
	teardown(t);
}

/* ---- the call's life ---- */

static void test_media_timeout_ends_a_dead_call(void **state)
{
	(void)state;
	t_ctx *t = malloc(sizeof *t);
	t_config(t);
	t->cfg.media_timeout_ms = 30000;
	t_new(t);
	/* Ringing is not dead: no media deadline before the answer. */
	il_sdp_error err;
	assert_true(il_sbc_session_offer(t->s, 0, PHONE_OFFER, strlen(PHONE_OFFER), t->offer_out,
					 sizeof t->offer_out, t->now, &err) > 0);
	assert_int_equal(il_sbc_session_next_deadline(t->s), UINT64_MAX);
	t->now = 5000;
	t_free(t);
	t_new(t);
	t_negotiate(t); /* answered at 5000 */
	assert_int_equal(il_sbc_session_next_deadline(t->s), 35000);
	il_addr p = phone_nat();
	t->now = 20000;
	t_rtp(t, 0, &p, PT_PCMU, 1, PHONE_SSRC); /* media keeps it alive */
	assert_int_equal(il_sbc_session_next_deadline(t->s), 50000);
	il_sbc_session_timer(t->s, 49999);
	assert_int_equal(il_sbc_session_state(t->s), IL_SBC_STATE_ANSWERED);
	/* A packet the bridge drops does not keep the call alive. */
	t->now = 45000;
	il_addr x = attacker();
	t_rtp(t, 0, &x, PT_PCMU, 9, 0xdeadbeef);
	assert_int_equal(il_sbc_session_next_deadline(t->s), 50000);
	il_sbc_session_timer(t->s, 50000);
	assert_int_equal(il_sbc_session_state(t->s), IL_SBC_STATE_ENDED);
	assert_int_equal(t_count_events(t, IL_SBC_EV_TIMEOUT), 1);
	t->now = 50001;
	assert_int_equal(t_rtp(t, 0, &p, PT_PCMU, 2, PHONE_SSRC), IL_SBC_DGRAM_DROPPED);
	assert_int_equal(dropped(t, 0, IL_SBC_DROP_ENDED), 1);
	assert_int_equal(il_sbc_session_offer(t->s, 0, PHONE_OFFER, strlen(PHONE_OFFER),
					      t->offer_out, sizeof t->offer_out, t->now, &err),
			 IL_SBC_ERR_STATE);
	teardown(t);
}

static void test_media_connected_names_candidate_types_and_counters(void **state)
{
	(void)state;
	t_ctx *t = setup(true);
	select_web(t);
	il_addr p = phone_nat(), w = web();
	t_rtp(t, 0, &p, PT_PCMU, 1, PHONE_SSRC);
	t_rtp(t, 0, &p, PT_PCMU, 2, PHONE_SSRC);
	assert_int_equal(t_count_events(t, IL_SBC_EV_MEDIA_CONNECTED), 0);
	t_rtp(t, 1, &w, PT_PCMU, 1, WEB_SSRC);
	assert_int_equal(t_count_events(t, IL_SBC_EV_MEDIA_CONNECTED), 1);
	assert_int_equal(il_sbc_session_state(t->s), IL_SBC_STATE_CONNECTED);
	const char *line = t_last_event(t, IL_SBC_EV_MEDIA_CONNECTED)->text;
	assert_string_equal(line, "pair@connected"
				  " a=rtp local=host 203.0.113.10:40000 remote=latched 198.51.100.2:1025"
				  " b=ice local=host 203.0.113.10:40002 remote=srflx 198.51.100.3:61000"
				  " a->b=2/344 b->a=1/172");
	t_rtp(t, 1, &w, PT_PCMU, 2, WEB_SSRC);
	assert_int_equal(t_count_events(t, IL_SBC_EV_MEDIA_CONNECTED), 1);
	teardown(t);
}

static void test_garbage_and_dtls_are_dropped_by_reason(void **state)
{
	(void)state;
	t_ctx *t = setup(true);
	il_addr p = phone_nat();
	uint8_t junk[40] = {0x47, 1, 2, 3};
	assert_int_equal(t_rx(t, &t->leg[0].bind, &p, junk, sizeof junk), IL_SBC_DGRAM_DROPPED);
	junk[0] = 22; /* a DTLS handshake record */
	assert_int_equal(t_rx(t, &t->leg[0].bind, &p, junk, sizeof junk), IL_SBC_DGRAM_DROPPED);
	junk[0] = 0x80; /* RTP, but shorter than its header */
	assert_int_equal(t_rx(t, &t->leg[0].bind, &p, junk, 8), IL_SBC_DGRAM_DROPPED);
	junk[0] = 0x8f; /* 15 CSRCs announced, 40 bytes given */
	assert_int_equal(t_rx(t, &t->leg[0].bind, &p, junk, sizeof junk), IL_SBC_DGRAM_DROPPED);
	assert_int_equal(dropped(t, 0, IL_SBC_DROP_NOT_MEDIA), 3);
	assert_int_equal(dropped(t, 0, IL_SBC_DROP_DTLS), 1);
	assert_false(t_leg(t, 0).latched[0]);
	/* Not one of the session's ports: not counted, not an event. */
	il_addr elsewhere = a4(10, 0, 0, 5, 5000);
	size_t events = t->event_count;
	assert_int_equal(t_rx(t, &elsewhere, &p, junk, sizeof junk), IL_SBC_DGRAM_DROPPED);
	assert_int_equal(t->event_count, events);
	assert_false(il_sbc_session_owns(t->s, &elsewhere));
	assert_true(il_sbc_session_owns(t->s, &t->leg[1].bind));
	teardown(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_latching_learns_first_fitting_source),
		cmocka_unit_test(test_latching_prefers_the_sdp_address),
		cmocka_unit_test(test_strict_mode_latches_only_on_the_sdp_address),
		cmocka_unit_test(test_third_party_mid_call_is_dropped),
		cmocka_unit_test(test_adoption_policy_needs_n_consecutive_in_sequence_packets),
		cmocka_unit_test(test_ice_leg_ignores_unchecked_sources),
		cmocka_unit_test(test_ice_lite_answers_only_valid_credentials),
		cmocka_unit_test(test_ice_restart_leaves_the_legacy_leg_untouched),
		cmocka_unit_test(test_rtcp_latches_on_its_port_and_crosses_to_mux),
		cmocka_unit_test(test_media_timeout_ends_a_dead_call),
		cmocka_unit_test(test_media_connected_names_candidate_types_and_counters),
		cmocka_unit_test(test_garbage_and_dtls_are_dropped_by_reason),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
