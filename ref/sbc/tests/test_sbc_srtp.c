/* SDES SRTP through the bridge (issue #8 §3), rule by rule: a plain
 * leg and an SRTP leg hear each other both ways, RTP and RTCP; a packet
 * that fails authentication is dropped before latching and never
 * teaches a source, even under the adoption policy; a replay is
 * dropped; a key mismatch is reported; each leg has its own keys. */
#include "sbc_crypto_test_util.h"

#define SSRC_A 0x0A0A0A0Au
#define SSRC_B 0x0B0B0B0Bu

/* Leg A speaks SDES with the given a=crypto lines, leg B plain RTP (or
 * what profile_b says); both legacy, both on public SDP addresses. */
static t_ctx *call(const char *offer_a, const char *answer_b, int profile_b)
{
	t_ctx *t = malloc(sizeof *t);
	assert_non_null(t);
	t_config(t);
	t->leg[1].ice = false;
	t->leg[1].rtcp_mux = false;
	t->leg[1].profile = profile_b;
	t_new(t);
	il_sdp_error err;
	int n = il_sbc_session_offer(t->s, IL_SBC_LEG_A, offer_a, strlen(offer_a), t->offer_out,
				     sizeof t->offer_out, t->now, &err);
	if (n < 0)
		print_error("offer: %d %s\n", n, err.message);
	assert_true(n > 0);
	n = il_sbc_session_answer(t->s, IL_SBC_LEG_B, answer_b, strlen(answer_b), t->answer_out,
				  sizeof t->answer_out, t->now, &err);
	if (n < 0)
		print_error("answer: %d %s\n", n, err.message);
	assert_true(n > 0);
	return t;
}

static t_ctx *sdes_to_plain(void)
{
	char offer[2048], answer[2048];
	sdp_sdes(offer, sizeof offer, "198.51.100.10", 4000,
		 "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_A_B64 "\r\n");
	sdp_plain(answer, sizeof answer, "198.51.100.20", 5000);
	return call(offer, answer, IL_SBC_PROFILE_RTP);
}

static void done(t_ctx *t, srtp_t a, srtp_t b)
{
	if (a)
		srtp_dealloc(a);
	if (b)
		srtp_dealloc(b);
	t_free(t);
	free(t);
}

static uint64_t dropped(const t_ctx *t, unsigned leg, int reason)
{
	return t_leg(t, leg).dropped[reason];
}

static void test_sdes_leg_and_plain_leg_both_ways(void **state)
{
	(void)state;
	t_ctx *t = sdes_to_plain();
	/* Toward the plain leg: plain RTP, no key of anybody's. */
	assert_non_null(strstr(t->offer_out, "m=audio 40002 RTP/AVP 0 101"));
	assert_null(strstr(t->offer_out, "a=crypto"));
	/* Back to the SDES phone: our own key, in the suite and tag it chose. */
	assert_non_null(strstr(t->answer_out, "m=audio 40000 RTP/SAVP 0 101"));
	assert_int_equal(count_substr(t->answer_out, "a=crypto:"), 1);
	assert_non_null(strstr(t->answer_out, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"));
	assert_null(strstr(t->answer_out, KEY_A_B64));

	uint8_t ka[30], kb[30];
	b64_key(KEY_A_B64, ka);
	assert_int_equal(key_of_tag(t->answer_out, 1, kb), 30);
	srtp_t a_tx = t_srtp(T_AES80, ka, false), a_rx = t_srtp(T_AES80, kb, true);
	il_addr pa = phone_a(), pb = phone_b();
	for (uint16_t seq = 1; seq <= 5; seq++) {
		/* SRTP in from A, plain out to B ... */
		assert_int_equal(t_srtp_rtp(t, 0, &pa, a_tx, seq, SSRC_A), IL_SBC_DGRAM_FORWARDED);
		assert_last_is_plain(t, seq, SSRC_A);
		assert_true(il_addr_equal(&t_last_sent(t)->remote, &pb));
		/* ... plain in from B, SRTP out to A under our key. */
		assert_int_equal(t_plain_rtp(t, 1, &pb, (uint16_t)(100 + seq), SSRC_B),
				 IL_SBC_DGRAM_FORWARDED);
		assert_last_unprotects(t, a_rx, (uint16_t)(100 + seq), SSRC_B);
		assert_true(il_addr_equal(&t_last_sent(t)->remote, &pa));
	}
	/* SRTCP on A's RTCP port goes out as plain RTCP on B's. */
	uint8_t rtcp[64];
	int n = (int)make_rtcp(rtcp, SSRC_A);
	assert_int_equal(srtp_protect_rtcp(a_tx, rtcp, &n), srtp_err_status_ok);
	il_addr rtcp_bind = t->leg[0].bind, pa_rtcp = phone_a_rtcp();
	rtcp_bind.port++;
	assert_int_equal(t_rx(t, &rtcp_bind, &pa_rtcp, rtcp, (size_t)n), IL_SBC_DGRAM_FORWARDED);
	uint8_t plain_rr[8];
	make_rtcp(plain_rr, SSRC_A);
	assert_int_equal(t_last_sent(t)->len, 8);
	assert_memory_equal(t_last_sent(t)->data, plain_rr, 8);
	/* Plain RTCP from B goes to A's RTCP port as SRTCP under our key. */
	il_addr b_rtcp_bind = t->leg[1].bind, pb_rtcp = pb;
	b_rtcp_bind.port++;
	pb_rtcp.port++;
	n = (int)make_rtcp(rtcp, SSRC_B);
	assert_int_equal(t_rx(t, &b_rtcp_bind, &pb_rtcp, rtcp, (size_t)n), IL_SBC_DGRAM_FORWARDED);
	assert_true(il_addr_equal(&t_last_sent(t)->remote, &pa_rtcp));
	n = (int)t_last_sent(t)->len;
	assert_true(n > 8 + 4); /* the SRTCP index and a tag */
	memcpy(rtcp, t_last_sent(t)->data, (size_t)n);
	assert_int_equal(srtp_unprotect_rtcp(a_rx, rtcp, &n), srtp_err_status_ok);
	make_rtcp(plain_rr, SSRC_B);
	assert_int_equal(n, 8);
	assert_memory_equal(rtcp, plain_rr, 8);

	il_sbc_leg_stats a = t_leg(t, 0), b = t_leg(t, 1);
	assert_int_equal(a.profile, IL_SBC_PROFILE_SDES);
	assert_int_equal(b.profile, IL_SBC_PROFILE_RTP);
	assert_true(a.srtp_rx && a.srtp_tx);
	assert_false(b.srtp_rx || b.srtp_tx);
	assert_int_equal(a.srtp_unprotected, 6);
	assert_int_equal(a.srtp_protected, 6);
	assert_int_equal(a.rx_packets, 6);
	assert_int_equal(a.tx_packets, 6);
	assert_int_equal(b.tx_packets, 6);
	assert_int_equal(il_sbc_session_state(t->s), IL_SBC_STATE_CONNECTED);
	done(t, a_tx, a_rx);
}

static void test_auth_failure_is_dropped_before_latching(void **state)
{
	(void)state;
	t_ctx *t = sdes_to_plain();
	uint8_t ka[30], kx[30];
	b64_key(KEY_A_B64, ka);
	b64_key(KEY_X_B64, kx);
	srtp_t good = t_srtp(T_AES80, ka, false), bad = t_srtp(T_AES80, kx, false);
	il_addr pa = phone_a(), x = a4(198, 51, 100, 66, 5555);
	size_t sent = t->sent_count;
	/* A stranger without the key: every packet fails, none latches. */
	for (uint16_t seq = 1; seq <= 12; seq++)
		assert_int_equal(t_srtp_rtp(t, 0, &x, bad, seq, SSRC_A), IL_SBC_DGRAM_DROPPED);
	assert_int_equal(dropped(t, 0, IL_SBC_DROP_SRTP_AUTH), 12);
	assert_false(t_leg(t, 0).latched[0]);
	assert_int_equal(t->sent_count, sent);
	const il_sbc_event *ev = t_last_event(t, IL_SBC_EV_DROPPED);
	assert_int_equal(ev->reason, IL_SBC_DROP_SRTP_AUTH);
	assert_string_equal(il_sbc_drop_name(ev->reason), "srtp-auth");
	/* ... and the run of failures is reported once, as a mismatch. */
	assert_int_equal(t_count_events(t, IL_SBC_EV_SRTP_MISMATCH), 1);
	ev = t_last_event(t, IL_SBC_EV_SRTP_MISMATCH);
	assert_int_equal(ev->leg, 0);
	assert_true(il_addr_equal(&ev->addr, &x));
	assert_non_null(strstr(ev->text, "keys differ"));
	assert_string_equal(il_sbc_event_name(IL_SBC_EV_SRTP_MISMATCH), "srtp-mismatch");

	/* One flipped payload byte of a real packet: dropped too. */
	uint8_t buf[172 + SRTP_MAX_TRAILER_LEN];
	size_t n = t_srtp_packet(good, buf, 1, SSRC_A);
	buf[40] ^= 1;
	assert_int_equal(t_rx(t, &t->leg[0].bind, &pa, buf, n), IL_SBC_DGRAM_DROPPED);
	assert_int_equal(dropped(t, 0, IL_SBC_DROP_SRTP_AUTH), 13);
	assert_false(t_leg(t, 0).latched[0]);
	/* The phone's real packets latch. */
	for (uint16_t seq = 2; seq <= 4; seq++)
		assert_int_equal(t_srtp_rtp(t, 0, &pa, good, seq, SSRC_A), IL_SBC_DGRAM_FORWARDED);
	il_sbc_leg_stats a = t_leg(t, 0);
	assert_true(a.latched[0] && il_addr_equal(&a.source[0], &pa));
	t_free(t);
	free(t);

	/* With the adoption policy on, a stranger sending the learnt SSRC
	 * with continuing sequence numbers but no key never gets adopted:
	 * its packets stop at authentication, before the source rules. */
	t = sdes_to_plain();
	il_sbc_session_free(t->s);
	t->cfg.adopt_new_source = true;
	t->cfg.adopt_packets = 3;
	t_new(t);
	char offer[2048], answer[2048];
	sdp_sdes(offer, sizeof offer, "198.51.100.10", 4000,
		 "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_A_B64 "\r\n");
	sdp_plain(answer, sizeof answer, "198.51.100.20", 5000);
	assert_true(il_sbc_session_offer(t->s, 0, offer, strlen(offer), t->offer_out,
					 sizeof t->offer_out, t->now, NULL) > 0);
	assert_true(il_sbc_session_answer(t->s, 1, answer, strlen(answer), t->answer_out,
					  sizeof t->answer_out, t->now, NULL) > 0);
	srtp_dealloc(good);
	srtp_dealloc(bad);
	good = t_srtp(T_AES80, ka, false);
	bad = t_srtp(T_AES80, kx, false);
	assert_int_equal(t_srtp_rtp(t, 0, &pa, good, 10, SSRC_A), IL_SBC_DGRAM_FORWARDED);
	for (uint16_t seq = 11; seq <= 20; seq++)
		assert_int_equal(t_srtp_rtp(t, 0, &x, bad, seq, SSRC_A), IL_SBC_DGRAM_DROPPED);
	a = t_leg(t, 0);
	assert_int_equal(a.adoptions, 0);
	assert_true(il_addr_equal(&a.source[0], &pa));
	assert_int_equal(a.dropped[IL_SBC_DROP_SRTP_AUTH], 10);
	assert_int_equal(a.dropped[IL_SBC_DROP_FOREIGN_SOURCE], 0);
	done(t, good, bad);
}

static void test_replayed_packet_is_dropped(void **state)
{
	(void)state;
	t_ctx *t = sdes_to_plain();
	uint8_t ka[30];
	b64_key(KEY_A_B64, ka);
	srtp_t a_tx = t_srtp(T_AES80, ka, false);
	il_addr pa = phone_a(), x = a4(198, 51, 100, 66, 5555);
	uint8_t buf[172 + SRTP_MAX_TRAILER_LEN];
	size_t n = t_srtp_packet(a_tx, buf, 1, SSRC_A);
	assert_int_equal(t_rx(t, &t->leg[0].bind, &pa, buf, n), IL_SBC_DGRAM_FORWARDED);
	size_t sent = t->sent_count;
	/* The same packet again, from the phone or captured and sent by a
	 * third party: authentic, but a replay (RFC 3711 §3.3.2). */
	assert_int_equal(t_rx(t, &t->leg[0].bind, &pa, buf, n), IL_SBC_DGRAM_DROPPED);
	assert_int_equal(t_rx(t, &t->leg[0].bind, &x, buf, n), IL_SBC_DGRAM_DROPPED);
	assert_int_equal(dropped(t, 0, IL_SBC_DROP_SRTP_REPLAY), 2);
	assert_string_equal(il_sbc_drop_name(IL_SBC_DROP_SRTP_REPLAY), "srtp-replay");
	assert_int_equal(t->sent_count, sent);
	assert_int_equal(t_leg(t, 0).rx_packets, 1);
	assert_int_equal(t_count_events(t, IL_SBC_EV_SRTP_MISMATCH), 0);
	done(t, a_tx, NULL);
}

static void test_wrong_key_is_detected(void **state)
{
	(void)state;
	t_ctx *t = sdes_to_plain();
	/* The phone signalled KEY_A but encrypts with KEY_X. */
	uint8_t ka[30], kx[30];
	b64_key(KEY_A_B64, ka);
	b64_key(KEY_X_B64, kx);
	srtp_t wrong = t_srtp(T_AES80, kx, false);
	il_addr pa = phone_a(), pb = phone_b();
	for (uint16_t seq = 1; seq <= 50; seq++)
		t_srtp_rtp(t, 0, &pa, wrong, seq, SSRC_A);
	il_sbc_leg_stats a = t_leg(t, 0), b = t_leg(t, 1);
	assert_int_equal(a.dropped[IL_SBC_DROP_SRTP_AUTH], 50);
	assert_int_equal(a.rx_packets, 0);
	assert_int_equal(b.tx_packets, 0);
	assert_false(a.latched[0]);
	/* Reported once for the run of 50, not 50 times. */
	assert_int_equal(t_count_events(t, IL_SBC_EV_SRTP_MISMATCH), 1);
	/* Our key toward A is ours: the phone's own key does not open it. */
	srtp_t own = t_srtp(T_AES80, ka, true);
	assert_int_equal(t_plain_rtp(t, 1, &pb, 1, SSRC_B), IL_SBC_DGRAM_FORWARDED);
	uint8_t buf[600];
	int n = (int)t_last_sent(t)->len;
	memcpy(buf, t_last_sent(t)->data, (size_t)n);
	assert_int_equal(srtp_unprotect(own, buf, &n), srtp_err_status_auth_fail);
	done(t, wrong, own);
}

/* A plain phone on A, an SDES leg on B: our offer carries two suites,
 * B picks the 32-bit tag, and media flows both ways. */
static void test_plain_leg_to_sdes_leg_both_ways(void **state)
{
	(void)state;
	char offer[2048], answer[2048];
	sdp_plain(offer, sizeof offer, "198.51.100.10", 4000);
	sdp_sdes(answer, sizeof answer, "198.51.100.20", 5000,
		 "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" KEY_X_B64 "\r\n");
	t_ctx *t = call(offer, answer, IL_SBC_PROFILE_SDES);
	assert_non_null(strstr(t->offer_out, "m=audio 40002 RTP/SAVP 0 101"));
	assert_non_null(strstr(t->offer_out, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"));
	assert_non_null(strstr(t->offer_out, "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:"));
	assert_non_null(strstr(t->answer_out, "m=audio 40000 RTP/AVP 0 101"));
	assert_null(strstr(t->answer_out, "a=crypto"));
	uint8_t kx[30], ours[30];
	b64_key(KEY_X_B64, kx);
	key_of_tag(t->offer_out, 2, ours);
	srtp_t b_tx = t_srtp(T_AES32, kx, false), b_rx = t_srtp(T_AES32, ours, true);
	il_addr pa = phone_a(), pb = phone_b();
	for (uint16_t seq = 1; seq <= 3; seq++) {
		assert_int_equal(t_srtp_rtp(t, 1, &pb, b_tx, seq, SSRC_B), IL_SBC_DGRAM_FORWARDED);
		assert_last_is_plain(t, seq, SSRC_B);
		assert_int_equal(t_plain_rtp(t, 0, &pa, seq, SSRC_A), IL_SBC_DGRAM_FORWARDED);
		assert_int_equal(t_last_sent(t)->len, 172 + 4); /* the 32-bit tag */
		assert_last_unprotects(t, b_rx, seq, SSRC_A);
	}
	il_sbc_leg_stats b = t_leg(t, 1);
	assert_int_equal(b.profile, IL_SBC_PROFILE_SDES);
	assert_int_equal(b.srtp_unprotected, 3);
	assert_int_equal(b.srtp_protected, 3);
	done(t, b_tx, b_rx);
}

static bool gcm_available(void)
{
	srtp_policy_t p;
	memset(&p, 0, sizeof p);
	srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
	srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
	p.ssrc.type = ssrc_any_inbound;
	uint8_t key[30] = {0};
	p.key = key;
	srtp_t ctx;
	(void)srtp_init();
	if (srtp_create(&ctx, &p) != srtp_err_status_ok)
		return false;
	srtp_dealloc(ctx);
	return true;
}

static void test_gcm_and_unusable_lines(void **state)
{
	(void)state;
	char offer[2048], answer[2048];
	sdp_plain(answer, sizeof answer, "198.51.100.20", 5000);
	/* An MKI (which we do not do) and an unknown suite are passed
	 * over; the lifetime on the usable line is fine. */
	sdp_sdes(offer, sizeof offer, "198.51.100.10", 4000,
		 "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_X_B64 "|2^20|1:4\r\n"
		 "a=crypto:2 F8_128_HMAC_SHA1_80 inline:" KEY_X_B64 "\r\n"
		 "a=crypto:3 AES_CM_128_HMAC_SHA1_32 inline:" KEY_A_B64 "|2^31\r\n");
	t_ctx *t = call(offer, answer, IL_SBC_PROFILE_RTP);
	assert_int_equal(count_substr(t->answer_out, "a=crypto:"), 1);
	assert_non_null(strstr(t->answer_out, "a=crypto:3 AES_CM_128_HMAC_SHA1_32 inline:"));
	t_free(t);
	free(t);

	/* Nothing usable: the offer is refused. */
	t = malloc(sizeof *t);
	t_config(t);
	t_new(t);
	sdp_sdes(offer, sizeof offer, "198.51.100.10", 4000,
		 "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_X_B64 "|2^20|1:4\r\n"
		 "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:c2hvcnQ=\r\n");
	assert_int_equal(il_sbc_session_offer(t->s, 0, offer, strlen(offer), t->offer_out,
					      sizeof t->offer_out, t->now, NULL),
			 IL_SBC_ERR_CRYPTO);
	t_free(t);
	free(t);

	if (!gcm_available()) {
		print_message("AEAD_AES_128_GCM: not in this libsrtp2 build, skipped\n");
		return;
	}
	static const char gcm_b64[] = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHA==";
	char line[128];
	snprintf(line, sizeof line, "a=crypto:5 AEAD_AES_128_GCM inline:%s\r\n", gcm_b64);
	sdp_sdes(offer, sizeof offer, "198.51.100.10", 4000, line);
	t = call(offer, answer, IL_SBC_PROFILE_RTP);
	assert_non_null(strstr(t->answer_out, "a=crypto:5 AEAD_AES_128_GCM inline:"));
	uint8_t kg[30] = {0}, ours[30] = {0};
	for (int i = 0; i < 28; i++)
		kg[i] = (uint8_t)(i + 1);
	assert_int_equal(key_of_tag(t->answer_out, 5, ours), 28);
	srtp_t a_tx = t_srtp(T_GCM, kg, false), a_rx = t_srtp(T_GCM, ours, true);
	il_addr pa = phone_a(), pb = phone_b();
	assert_int_equal(t_srtp_rtp(t, 0, &pa, a_tx, 1, SSRC_A), IL_SBC_DGRAM_FORWARDED);
	assert_last_is_plain(t, 1, SSRC_A);
	assert_int_equal(t_plain_rtp(t, 1, &pb, 9, SSRC_B), IL_SBC_DGRAM_FORWARDED);
	assert_last_unprotects(t, a_rx, 9, SSRC_B);
	done(t, a_tx, a_rx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sdes_leg_and_plain_leg_both_ways),
		cmocka_unit_test(test_auth_failure_is_dropped_before_latching),
		cmocka_unit_test(test_replayed_packet_is_dropped),
		cmocka_unit_test(test_wrong_key_is_detected),
		cmocka_unit_test(test_plain_leg_to_sdes_leg_both_ways),
		cmocka_unit_test(test_gcm_and_unusable_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
