/* Force-relay and SDES on the same leg (the two features together, as
 * media.c orders them): leg B, an ICE browser speaking SDES, is relayed
 * by the real TURN server core in memory; leg A is a plain phone. The
 * offer toward B carries only the relay candidate and our a=crypto; what
 * the TURN server hands over (Data indication or ChannelData) is
 * unwrapped first, then authenticated, then checked against the ICE
 * pair: a forged packet through the relay is an srtp-auth drop and
 * never reaches the phone; the phone's RTP leaves through the relay
 * protected under our key. */
#include "sbc_crypto_test_util.h"

#include "icelab/sbc_relay.h"

#define TURN_USER "relayuser"
#define TURN_PASS "relaypass"
#include "sbc_turn_test_util.h"

typedef struct rx {
	il_addr from, to;
	size_t len;
	uint8_t data[600];
} rx;

typedef struct rw {
	t_ctx t;
	t_turn_srv ts;
	il_addr turn, web;
	rx to_peer[64];
	size_t to_peer_count;
	size_t pumped;
} rw;

static rw W;

static void to_client(void *user, const il_five_tuple *ft, const uint8_t *data, size_t len)
{
	rw *w = user;
	il_sbc_session_handle_datagram(w->t.s, &ft->remote, &ft->local, data, len, w->t.now);
}

static void to_peer(void *user, const il_addr *relayed, const il_addr *peer, const uint8_t *data,
		    size_t len)
{
	rw *w = user;
	assert_true(w->to_peer_count < 64 && len <= sizeof w->to_peer[0].data);
	rx *p = &w->to_peer[w->to_peer_count++];
	p->from = *relayed;
	p->to = *peer;
	p->len = len;
	memcpy(p->data, data, len);
}

static void pump(rw *w)
{
	t_turn_pump(&w->ts, &w->turn, &w->t, &w->pumped);
}

static void from_web(rw *w, const uint8_t *data, size_t len)
{
	il_turn_server_handle_peer(w->ts.srv, &w->ts.relayed, &w->web, data, len, w->t.now);
	pump(w);
}

static const char WEB_SDES_ANSWER[] =
	"v=0\r\n"
	"o=- 2002 1 IN IP4 198.51.100.3\r\n"
	"s=-\r\n"
	"t=0 0\r\n"
	"m=audio 61000 RTP/SAVP 0\r\n"
	"c=IN IP4 198.51.100.3\r\n"
	"a=rtcp-mux\r\n"
	"a=ice-ufrag:" WEB_UFRAG "\r\n"
	"a=ice-pwd:" WEB_PWD "\r\n"
	"a=candidate:2 1 udp 1694498815 198.51.100.3 61000 typ srflx raddr 192.168.2.20 rport "
	"50000\r\n"
	"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_X_B64 "\r\n";

static void test_sdes_through_the_relay(void **state)
{
	(void)state;
	rw *w = &W;
	memset(w, 0, sizeof *w);
	t_config(&w->t);
	w->turn = a4(198, 51, 100, 1, 3478);
	w->web = a4(198, 51, 100, 3, 61000);
	w->ts.relayed = a4(198, 51, 100, 1, 49152);
	w->ts.user = w;
	w->ts.to_client = to_client;
	w->ts.to_peer = to_peer;
	t_turn_srv_start(&w->ts, "icelab.test", 7);
	w->t.cfg.turn_server = w->turn;
	w->t.cfg.turn_username = TURN_USER;
	w->t.cfg.turn_password = TURN_PASS;
	w->t.leg[1].force_relay = true;
	w->t.leg[1].profile = IL_SBC_PROFILE_SDES;
	t_new(&w->t);
	pump(w); /* the allocation */
	assert_int_equal(t_leg(&w->t, 1).relay_state, IL_SBC_RELAY_READY);

	il_sdp_error err;
	int n = il_sbc_session_offer(w->t.s, 0, PHONE_OFFER, strlen(PHONE_OFFER), w->t.offer_out,
				     sizeof w->t.offer_out, w->t.now, &err);
	assert_true(n > 0);
	const char *o = w->t.offer_out;
	assert_non_null(strstr(o, "m=audio 49152 RTP/SAVP "));
	assert_non_null(strstr(o, " 198.51.100.1 49152 typ relay"));
	assert_int_equal(count_substr(o, "a=candidate:"), 1);
	uint8_t ours[30];
	key_of_tag(o, 1, ours); /* what the browser decrypts with */
	const char *uf = strstr(o, "a=ice-ufrag:") + 12, *pw = strstr(o, "a=ice-pwd:") + 10;
	snprintf(w->t.ufrag_b, sizeof w->t.ufrag_b, "%.*s", (int)strcspn(uf, "\r"), uf);
	snprintf(w->t.pwd_b, sizeof w->t.pwd_b, "%.*s", (int)strcspn(pw, "\r"), pw);
	n = il_sbc_session_answer(w->t.s, 1, WEB_SDES_ANSWER, strlen(WEB_SDES_ANSWER),
				  w->t.answer_out, sizeof w->t.answer_out, w->t.now, &err);
	assert_true(n > 0);
	assert_non_null(strstr(w->t.answer_out, "RTP/AVP")); /* the phone stays plain */
	assert_null(strstr(w->t.answer_out, "a=crypto"));
	pump(w); /* the permission for the browser's srflx */

	/* The browser's check through the relay selects the pair. */
	uint8_t buf[600];
	char user[IL_ICE_UFRAG_MAX * 2 + 2];
	snprintf(user, sizeof user, "%.*s:%s", IL_ICE_UFRAG_MAX, w->t.ufrag_b, WEB_UFRAG);
	size_t len = build_check(buf, sizeof buf, user, w->t.pwd_b, true, 3);
	from_web(w, buf, len);
	assert_true(t_leg(&w->t, 1).has_selected);

	/* The phone's RTP (it latches) goes out of the relayed address,
	 * under our key. */
	il_addr phone = a4(198, 51, 100, 2, 5000);
	size_t seen = w->to_peer_count;
	assert_int_equal(t_plain_rtp(&w->t, 0, &phone, 100, 0x11111111), IL_SBC_DGRAM_FORWARDED);
	pump(w);
	assert_true(w->to_peer_count > seen);
	rx *last = &w->to_peer[w->to_peer_count - 1];
	assert_true(il_addr_equal(&last->from, &w->ts.relayed));
	assert_true(il_addr_equal(&last->to, &w->web));
	srtp_t web_rx = t_srtp(T_AES80, ours, true);
	int plen = (int)last->len;
	assert_true(plen > 172);
	assert_int_equal(srtp_unprotect(web_rx, last->data, &plen), srtp_err_status_ok);
	assert_int_equal(plen, 172);
	/* A forged SRTP packet through the relay: dropped on authentication,
	 * nothing to the phone. */
	uint8_t wrong[30];
	b64_key(KEY_A_B64, wrong);
	srtp_t forger = t_srtp(T_AES80, wrong, false);
	size_t before = w->t.sent_count;
	len = t_srtp_packet(forger, buf, 1, 0x0badcafe);
	from_web(w, buf, len);
	assert_int_equal(t_leg(&w->t, 1).dropped[IL_SBC_DROP_SRTP_AUTH], 1);
	assert_int_equal(t_leg(&w->t, 0).tx_packets, 0); /* the phone got nothing */
	for (size_t i = before; i < w->t.sent_count; i++)
		assert_true(il_addr_equal(&w->t.sent[i].remote, &w->turn));

	/* The browser's real SRTP: unwrapped, unprotected, plain to the phone. */
	uint8_t theirs[30];
	b64_key(KEY_X_B64, theirs);
	srtp_t web_tx = t_srtp(T_AES80, theirs, false);
	len = t_srtp_packet(web_tx, buf, 7, 0x22222222);
	from_web(w, buf, len);
	assert_int_equal(t_leg(&w->t, 1).srtp_unprotected, 1);
	assert_last_is_plain(&w->t, 7, 0x22222222);
	assert_true(il_addr_equal(&t_last_sent(&w->t)->remote, &phone));
	assert_int_equal(t_leg(&w->t, 0).tx_packets, 1);

	srtp_dealloc(forger);
	srtp_dealloc(web_tx);
	srtp_dealloc(web_rx);
	t_free(&w->t);
	il_turn_server_free(w->ts.srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sdes_through_the_relay),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
