/* The SDP crypto translation (issue #8 §2): RTP/AVP <->
 * UDP/TLS/RTP/SAVPF and SDES a=crypto <-> plain RTP, in both directions
 * of offer and answer; the far leg's a=crypto, a=fingerprint, a=setup,
 * a=tls-id and a=key-mgmt never cross, each leg gets our own keys or
 * fingerprint; the DTLS role we answer with, and why. */
#include "sbc_crypto_test_util.h"

#define BROWSER_FP                                                                           \
	"sha-256 11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:" \
	"BB:CC:DD:EE:FF:00"

static const char WEB_DTLS_OFFER[] =
	"v=0\r\n"
	"o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"
	"s=-\r\n"
	"t=0 0\r\n"
	"a=group:BUNDLE 0\r\n"
	"a=fingerprint:" BROWSER_FP "\r\n"
	"m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\n"
	"c=IN IP4 0.0.0.0\r\n"
	"a=mid:0\r\n"
	"a=rtpmap:111 opus/48000/2\r\n"
	"a=rtpmap:0 PCMU/8000\r\n"
	"a=ice-ufrag:" WEB_UFRAG "\r\n"
	"a=ice-pwd:" WEB_PWD "\r\n"
	"a=setup:actpass\r\n"
	"a=tls-id:89J2LRATQ3ULA24G9AHWVR31VJWSLB68\r\n"
	"a=rtcp-mux\r\n"
	"a=candidate:1 1 udp 2130706431 192.168.2.20 50000 typ host\r\n"
	"a=sendrecv\r\n";

static t_ctx *session(bool b_ice, int b_profile)
{
	t_ctx *t = malloc(sizeof *t);
	assert_non_null(t);
	t_config(t);
	t->leg[1].ice = b_ice;
	t->leg[1].rtcp_mux = false;
	t->leg[1].profile = b_profile;
	t_new(t);
	return t;
}

static void end(t_ctx *t)
{
	t_free(t);
	free(t);
}

static void offer(t_ctx *t, unsigned from, const char *sdp)
{
	il_sdp_error err;
	int n = il_sbc_session_offer(t->s, from, sdp, strlen(sdp), t->offer_out, sizeof t->offer_out,
				     t->now, &err);
	if (n < 0)
		print_error("offer: %d %s\n", n, err.message);
	assert_true(n > 0);
}

static void answer(t_ctx *t, unsigned from, const char *sdp)
{
	il_sdp_error err;
	int n = il_sbc_session_answer(t->s, from, sdp, strlen(sdp), t->answer_out,
				      sizeof t->answer_out, t->now, &err);
	if (n < 0)
		print_error("answer: %d %s\n", n, err.message);
	assert_true(n > 0);
}

static void assert_no_crypto_lines(const char *sdp)
{
	static const char *const lines[] = {"a=crypto", "a=fingerprint", "a=setup", "a=tls-id",
					    "a=key-mgmt"};
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		if (strstr(sdp, lines[i]))
			print_error("%s in:\n%s", lines[i], sdp);
		assert_null(strstr(sdp, lines[i]));
	}
}

/* A WebRTC browser (ICE, DTLS-SRTP) calls a legacy phone (plain RTP). */
static void test_dtls_browser_to_plain_phone(void **state)
{
	(void)state;
	t_ctx *t = session(false, IL_SBC_PROFILE_RTP);
	offer(t, IL_SBC_LEG_A, WEB_DTLS_OFFER);
	assert_non_null(strstr(t->offer_out, "m=audio 40002 RTP/AVP 111 0\r\n"));
	assert_no_crypto_lines(t->offer_out);
	char phone[1024];
	sdp_plain(phone, sizeof phone, "198.51.100.20", 5000);
	answer(t, IL_SBC_LEG_B, phone);
	/* Back to the browser: its proto, our fingerprint, and active. */
	assert_non_null(strstr(t->answer_out, "m=audio 40000 UDP/TLS/RTP/SAVPF 0 101\r\n"));
	assert_int_equal(count_substr(t->answer_out, "a=fingerprint:sha-256 "), 1);
	assert_null(strstr(t->answer_out, BROWSER_FP));
	assert_non_null(strstr(t->answer_out, "a=setup:active\r\n"));
	assert_null(strstr(t->answer_out, "a=crypto"));
	assert_null(strstr(t->answer_out, "a=tls-id"));
	assert_non_null(strstr(t->answer_out, "a=ice-lite"));
	if (getenv("SBC_DUMP"))
		print_message("offer toward B:\n%s\nanswer toward A:\n%s\n", t->offer_out, t->answer_out);
	il_sbc_leg_stats a = t_leg(t, 0), b = t_leg(t, 1);
	assert_int_equal(a.profile, IL_SBC_PROFILE_DTLS);
	assert_int_equal(b.profile, IL_SBC_PROFILE_RTP);
	/* Active, but no ICE pair yet: the ClientHello waits for one. */
	assert_int_equal(a.dtls_state, IL_SBC_DTLS_WAITING);
	assert_true(il_sbc_session_next_deadline(t->s) > t->now);
	end(t);
}

/* A plain phone calls a WebRTC leg: the offer toward it is DTLS-SRTP
 * with our fingerprint and actpass; its answer's lines stay on its leg. */
static void test_plain_phone_to_dtls_leg(void **state)
{
	(void)state;
	t_ctx *t = session(true, IL_SBC_PROFILE_DTLS);
	char phone[1024];
	sdp_plain(phone, sizeof phone, "198.51.100.10", 4000);
	offer(t, IL_SBC_LEG_A, phone);
	assert_non_null(strstr(t->offer_out, "m=audio 40002 UDP/TLS/RTP/SAVPF 0 101\r\n"));
	assert_non_null(strstr(t->offer_out, "a=fingerprint:sha-256 "));
	assert_non_null(strstr(t->offer_out, "a=setup:actpass\r\n"));
	assert_null(strstr(t->offer_out, "a=crypto"));
	char web[2048];
	snprintf(web, sizeof web,
		 "v=0\r\n"
		 "o=- 1 1 IN IP4 192.168.2.20\r\n"
		 "s=-\r\n"
		 "t=0 0\r\n"
		 "m=audio 50000 UDP/TLS/RTP/SAVPF 0\r\n"
		 "c=IN IP4 192.168.2.20\r\n"
		 "a=rtpmap:0 PCMU/8000\r\n"
		 "a=ice-ufrag:" WEB_UFRAG "\r\n"
		 "a=ice-pwd:" WEB_PWD "\r\n"
		 "a=fingerprint:" BROWSER_FP "\r\n"
		 "a=setup:passive\r\n"
		 "a=candidate:1 1 udp 2130706431 192.168.2.20 50000 typ host\r\n");
	answer(t, IL_SBC_LEG_B, web);
	assert_non_null(strstr(t->answer_out, "m=audio 40000 RTP/AVP 0\r\n"));
	assert_no_crypto_lines(t->answer_out);
	/* It said passive: the bridge is the DTLS client on that leg. */
	il_sbc_leg_stats b = t_leg(t, 1);
	assert_int_equal(b.profile, IL_SBC_PROFILE_DTLS);
	assert_int_equal(b.dtls_state, IL_SBC_DTLS_WAITING);
	end(t);
}

/* RFC 5763 §5 recommends answering actpass with active; a legacy leg
 * whose SDP address we may not send to gets passive instead: its
 * ClientHello then opens its NAT and shows us where it is. */
static void test_answer_role_toward_actpass(void **state)
{
	(void)state;
	static const char *const ips[] = {"198.51.100.10", "192.168.1.10"};
	static const char *const want[] = {"a=setup:active\r\n", "a=setup:passive\r\n"};
	for (int i = 0; i < 2; i++) {
		t_ctx *t = session(false, IL_SBC_PROFILE_RTP);
		char legacy_dtls[2048], phone[1024];
		snprintf(legacy_dtls, sizeof legacy_dtls,
			 "v=0\r\n"
			 "o=- 1 1 IN IP4 %s\r\n"
			 "s=-\r\n"
			 "c=IN IP4 %s\r\n"
			 "t=0 0\r\n"
			 "m=audio 4000 UDP/TLS/RTP/SAVP 0\r\n"
			 "a=rtpmap:0 PCMU/8000\r\n"
			 "a=fingerprint:" BROWSER_FP "\r\n"
			 "a=setup:actpass\r\n",
			 ips[i], ips[i]);
		offer(t, IL_SBC_LEG_A, legacy_dtls);
		sdp_plain(phone, sizeof phone, "198.51.100.20", 5000);
		answer(t, IL_SBC_LEG_B, phone);
		assert_non_null(strstr(t->answer_out, "m=audio 40000 UDP/TLS/RTP/SAVP 0 101\r\n"));
		assert_non_null(strstr(t->answer_out, want[i]));
		assert_int_equal(t_leg(t, 0).dtls_state,
				 i == 0 ? IL_SBC_DTLS_WAITING : IL_SBC_DTLS_HANDSHAKING);
		end(t);
	}
	/* actpass in an answer is not allowed (RFC 4145 §4). */
	t_ctx *t = session(false, IL_SBC_PROFILE_DTLS);
	char phone[1024], bad[2048];
	sdp_plain(phone, sizeof phone, "198.51.100.10", 4000);
	offer(t, IL_SBC_LEG_A, phone);
	snprintf(bad, sizeof bad,
		 "v=0\r\no=- 1 1 IN IP4 198.51.100.30\r\ns=-\r\nc=IN IP4 198.51.100.30\r\nt=0 0\r\n"
		 "m=audio 6000 UDP/TLS/RTP/SAVPF 0\r\na=fingerprint:" BROWSER_FP "\r\n"
		 "a=setup:actpass\r\n");
	assert_int_equal(il_sbc_session_answer(t->s, IL_SBC_LEG_B, bad, strlen(bad), t->answer_out,
					       sizeof t->answer_out, t->now, NULL),
			 IL_SBC_ERR_CRYPTO);
	/* Nor is a DTLS answer without a fingerprint. */
	snprintf(bad, sizeof bad,
		 "v=0\r\no=- 1 1 IN IP4 198.51.100.30\r\ns=-\r\nc=IN IP4 198.51.100.30\r\nt=0 0\r\n"
		 "m=audio 6000 UDP/TLS/RTP/SAVPF 0\r\na=setup:active\r\n");
	assert_int_equal(il_sbc_session_answer(t->s, IL_SBC_LEG_B, bad, strlen(bad), t->answer_out,
					       sizeof t->answer_out, t->now, NULL),
			 IL_SBC_ERR_CRYPTO);
	/* Nor one whose fingerprint does not parse, or has the wrong length. */
	static const char *const fps[] = {"sha-256 ZZ:11", "sha-256 AB:CD", "md5 AB:CD", "sha-256"};
	for (size_t i = 0; i < sizeof fps / sizeof fps[0]; i++) {
		snprintf(bad, sizeof bad,
			 "v=0\r\no=- 1 1 IN IP4 198.51.100.30\r\ns=-\r\nc=IN IP4 198.51.100.30\r\n"
			 "t=0 0\r\nm=audio 6000 UDP/TLS/RTP/SAVPF 0\r\na=fingerprint:%s\r\n"
			 "a=setup:active\r\n",
			 fps[i]);
		assert_int_equal(il_sbc_session_answer(t->s, IL_SBC_LEG_B, bad, strlen(bad),
						       t->answer_out, sizeof t->answer_out, t->now,
						       NULL),
				 IL_SBC_ERR_CRYPTO);
	}
	end(t);
}

/* SDES on both legs (profile "same"): the bridge terminates SRTP on
 * each; neither leg's key reaches the other; a re-offer keeps ours. */
static void test_sdes_both_legs_keys_never_cross(void **state)
{
	(void)state;
	t_ctx *t = session(false, IL_SBC_PROFILE_SAME);
	char a_offer[2048], b_answer[2048];
	sdp_sdes(a_offer, sizeof a_offer, "198.51.100.10", 4000,
		 "a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:" KEY_A_B64 "\r\n"
		 "a=key-mgmt:mikey AQAFgM0XflABAAAAAAAAAAAAAAsAyO\r\n");
	offer(t, IL_SBC_LEG_A, a_offer);
	assert_non_null(strstr(t->offer_out, "m=audio 40002 RTP/SAVP 0 101\r\n"));
	assert_int_equal(count_substr(t->offer_out, "a=crypto:"), 2);
	assert_null(strstr(t->offer_out, KEY_A_B64));
	assert_null(strstr(t->offer_out, "a=key-mgmt"));
	uint8_t offered[30];
	key_of_tag(t->offer_out, 1, offered);
	char first_offer[4096];
	snprintf(first_offer, sizeof first_offer, "%s", t->offer_out);

	sdp_sdes(b_answer, sizeof b_answer, "198.51.100.20", 5000,
		 "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_X_B64 "\r\n");
	answer(t, IL_SBC_LEG_B, b_answer);
	assert_int_equal(count_substr(t->answer_out, "a=crypto:"), 1);
	assert_non_null(strstr(t->answer_out, "a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:"));
	assert_null(strstr(t->answer_out, KEY_X_B64));
	assert_null(strstr(t->answer_out, KEY_A_B64));
	uint8_t ours_a[30];
	key_of_tag(t->answer_out, 7, ours_a);
	assert_memory_not_equal(ours_a, offered, 30); /* a key per leg */

	/* A re-offer from A (same key): the same offer toward B, keys and all. */
	offer(t, IL_SBC_LEG_A, a_offer);
	assert_string_equal(t->offer_out, first_offer);
	answer(t, IL_SBC_LEG_B, b_answer);
	uint8_t again[30];
	key_of_tag(t->answer_out, 7, again);
	assert_memory_equal(again, ours_a, 30);
	/* An answer naming a tag we never offered is refused. */
	offer(t, IL_SBC_LEG_A, a_offer);
	sdp_sdes(b_answer, sizeof b_answer, "198.51.100.20", 5000,
		 "a=crypto:9 AES_CM_128_HMAC_SHA1_80 inline:" KEY_X_B64 "\r\n");
	assert_int_equal(il_sbc_session_answer(t->s, IL_SBC_LEG_B, b_answer, strlen(b_answer),
					       t->answer_out, sizeof t->answer_out, t->now, NULL),
			 IL_SBC_ERR_CRYPTO);
	end(t);
}

static void test_profile_names(void **state)
{
	(void)state;
	assert_int_equal(il_sbc_profile_parse("UDP/TLS/RTP/SAVPF"), IL_SBC_PROFILE_DTLS);
	assert_int_equal(il_sbc_profile_parse("RTP/SAVP"), IL_SBC_PROFILE_SDES);
	assert_int_equal(il_sbc_profile_parse("RTP/AVP"), IL_SBC_PROFILE_RTP);
	assert_int_equal(il_sbc_profile_parse("dtls"), IL_SBC_PROFILE_DTLS);
	assert_int_equal(il_sbc_profile_parse("RTP/XYZ"), -1);
	assert_int_equal(il_sbc_profile_parse(NULL), -1);
	assert_string_equal(il_sbc_profile_name(IL_SBC_PROFILE_SDES), "sdes");
	assert_string_equal(il_sbc_dtls_state_name(IL_SBC_DTLS_CONNECTED), "connected");
	assert_string_equal(il_sbc_drop_name(IL_SBC_DROP_SRTP_NO_KEY), "srtp-no-key");
	assert_string_equal(il_sbc_drop_name(IL_SBC_DROP_COUNT), "?");
	assert_string_equal(il_sbc_event_name(IL_SBC_EV_DTLS_CONNECTED), "dtls-connected");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dtls_browser_to_plain_phone),
		cmocka_unit_test(test_plain_phone_to_dtls_leg),
		cmocka_unit_test(test_answer_role_toward_actpass),
		cmocka_unit_test(test_sdes_both_legs_keys_never_cross),
		cmocka_unit_test(test_profile_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
