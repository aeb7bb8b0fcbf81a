/* DTLS-SRTP on a bridge leg (RFC 5763, RFC 5764), against a small
 * OpenSSL peer in this file, memory to memory: the handshake completes
 * with the bridge as server (the peer answers a=setup:active) and as
 * client (a=setup:passive, with a retransmitted ClientHello), each side
 * checks the other's certificate against the SDP fingerprint, SRTP keys
 * from the exporter carry media both ways to and from a plain leg, and
 * a certificate that does not match the signalled fingerprint fails the
 * handshake: an event, and no media. */
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "sbc_crypto_test_util.h"

#define SSRC_A 0x0A0A0A0Au
#define SSRC_P 0x0C0C0C0Cu

static il_addr peer_addr(void) { return a4(198, 51, 100, 30, 6000); }

/* ---- the peer: plain OpenSSL DTLS over memory BIOs ---- */

typedef struct peer {
	SSL_CTX *ctx;
	SSL *ssl;
	BIO *rb, *wb;
	char fp[160];            /* its certificate's, "sha-256 AB:..." */
} peer;

static int accept_any(int ok, X509_STORE_CTX *x)
{
	(void)ok;
	(void)x;
	return 1; /* the fingerprint is checked after the handshake */
}

static void fingerprint_of(X509 *cert, char *out, size_t cap)
{
	unsigned char md[32];
	unsigned n = 0;
	assert_int_equal(X509_digest(cert, EVP_sha256(), md, &n), 1);
	size_t at = (size_t)snprintf(out, cap, "sha-256");
	for (unsigned i = 0; i < n; i++)
		at += (size_t)snprintf(out + at, cap - at, "%c%02X", i ? ':' : ' ', md[i]);
}

static void peer_init(peer *p, bool client)
{
	memset(p, 0, sizeof *p);
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(key);
	X509 *cert = X509_new();
	ASN1_INTEGER_set(X509_get_serialNumber(cert), 7);
	X509_gmtime_adj(X509_getm_notBefore(cert), 0);
	X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
	X509_NAME *name = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"peer", -1, -1, 0);
	X509_set_issuer_name(cert, name);
	X509_set_pubkey(cert, key);
	assert_true(X509_sign(cert, key, EVP_sha256()) > 0);
	fingerprint_of(cert, p->fp, sizeof p->fp);
	p->ctx = SSL_CTX_new(DTLS_method());
	assert_int_equal(SSL_CTX_use_certificate(p->ctx, cert), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(p->ctx, key), 1);
	assert_int_equal(SSL_CTX_set_tlsext_use_srtp(p->ctx, "SRTP_AES128_CM_SHA1_80"), 0);
	SSL_CTX_set_verify(p->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any);
	X509_free(cert);
	EVP_PKEY_free(key);
	p->ssl = SSL_new(p->ctx);
	p->rb = BIO_new(BIO_s_mem());
	p->wb = BIO_new(BIO_s_mem());
	SSL_set_bio(p->ssl, p->rb, p->wb);
	SSL_set_options(p->ssl, SSL_OP_NO_QUERY_MTU);
	SSL_set_mtu(p->ssl, 1200);
	if (client)
		SSL_set_connect_state(p->ssl);
	else
		SSL_set_accept_state(p->ssl);
}

static void peer_free(peer *p)
{
	SSL_free(p->ssl);
	SSL_CTX_free(p->ctx);
}

static void done(t_ctx *t, peer *p)
{
	t_free(t);
	free(t);
	peer_free(p);
}

/* Whatever the peer wrote, as one datagram to the bridge's leg B. */
static void peer_flush(t_ctx *t, peer *p)
{
	uint8_t buf[8192];
	int n = BIO_read(p->wb, buf, sizeof buf);
	if (n <= 0)
		return;
	il_addr from = peer_addr();
	assert_int_equal(t_rx(t, &t->leg[1].bind, &from, buf, (size_t)n), IL_SBC_DGRAM_DTLS);
}

/* Runs both sides until neither has more to say; returns the peer's
 * SSL_do_handshake result. */
static int run_handshake(t_ctx *t, peer *p, size_t *cursor)
{
	int r = 0;
	for (int round = 0; round < 20; round++) {
		r = SSL_do_handshake(p->ssl);
		peer_flush(t, p);
		bool any = false;
		il_addr to = peer_addr();
		for (; *cursor < t->sent_count; (*cursor)++) {
			const t_sent *s = &t->sent[*cursor];
			if (s->data[0] < 20 || s->data[0] > 63 || !il_addr_equal(&s->remote, &to))
				continue;
			assert_true(s->len < sizeof s->data); /* not cut short by the recorder */
			BIO_write(p->rb, s->data, (int)s->len);
			r = SSL_do_handshake(p->ssl);
			peer_flush(t, p);
			any = true;
		}
		if (!any && BIO_ctrl_pending(p->wb) == 0)
			break;
	}
	ERR_clear_error();
	return r;
}

/* RFC 5764 §4.2 on the peer's side: its key and the bridge's. */
static void peer_keys(peer *p, bool client, uint8_t tx[30], uint8_t rx[30])
{
	uint8_t km[60];
	assert_int_equal(SSL_export_keying_material(p->ssl, km, sizeof km, "EXTRACTOR-dtls_srtp", 19,
						    NULL, 0, 0),
			 1);
	const uint8_t *ck = km, *sk = km + 16, *cs = km + 32, *ss = km + 46;
	memcpy(tx, client ? ck : sk, 16);
	memcpy(tx + 16, client ? cs : ss, 14);
	memcpy(rx, client ? sk : ck, 16);
	memcpy(rx + 16, client ? ss : cs, 14);
}

/* ---- the call: a plain phone on A, the DTLS peer on B ---- */

static t_ctx *dtls_call(const char *peer_fp, const char *setup)
{
	t_ctx *t = malloc(sizeof *t);
	assert_non_null(t);
	t_config(t);
	t->leg[1].ice = false;
	t->leg[1].rtcp_mux = true;
	t->leg[1].profile = IL_SBC_PROFILE_DTLS;
	t_new(t);
	char offer[2048], answer[2048];
	sdp_plain(offer, sizeof offer, "198.51.100.10", 4000);
	assert_true(il_sbc_session_offer(t->s, IL_SBC_LEG_A, offer, strlen(offer), t->offer_out,
					 sizeof t->offer_out, t->now, NULL) > 0);
	snprintf(answer, sizeof answer,
		 "v=0\r\n"
		 "o=- 9 1 IN IP4 198.51.100.30\r\n"
		 "s=-\r\n"
		 "c=IN IP4 198.51.100.30\r\n"
		 "t=0 0\r\n"
		 "m=audio 6000 UDP/TLS/RTP/SAVPF 0\r\n"
		 "a=rtpmap:0 PCMU/8000\r\n"
		 "a=rtcp-mux\r\n"
		 "a=fingerprint:%s\r\n"
		 "a=setup:%s\r\n"
		 "a=tls-id:0123456789abcdef\r\n",
		 peer_fp, setup);
	int n = il_sbc_session_answer(t->s, IL_SBC_LEG_B, answer, strlen(answer), t->answer_out,
				      sizeof t->answer_out, t->now, NULL);
	assert_true(n > 0);
	return t;
}

/* The bridge's fingerprint from its offer toward the peer. */
static void bridge_fp(const t_ctx *t, char *out, size_t cap)
{
	const char *p = strstr(t->offer_out, "a=fingerprint:");
	assert_non_null(p);
	p += strlen("a=fingerprint:");
	size_t n = strcspn(p, "\r\n");
	assert_true(n < cap);
	memcpy(out, p, n);
	out[n] = '\0';
}

static void media_both_ways(t_ctx *t, peer *p, bool peer_client)
{
	uint8_t tx[30], rx[30];
	peer_keys(p, peer_client, tx, rx);
	srtp_t p_tx = t_srtp(T_AES80, tx, false), p_rx = t_srtp(T_AES80, rx, true);
	il_addr pa = phone_a(), pp = peer_addr();
	for (uint16_t seq = 1; seq <= 5; seq++) {
		assert_int_equal(t_srtp_rtp(t, 1, &pp, p_tx, seq, SSRC_P), IL_SBC_DGRAM_FORWARDED);
		assert_last_is_plain(t, seq, SSRC_P);
		assert_int_equal(t_plain_rtp(t, 0, &pa, seq, SSRC_A), IL_SBC_DGRAM_FORWARDED);
		assert_true(il_addr_equal(&t_last_sent(t)->remote, &pp));
		assert_last_unprotects(t, p_rx, seq, SSRC_A);
	}
	il_sbc_leg_stats b = t_leg(t, 1);
	assert_int_equal(b.srtp_unprotected, 5);
	assert_int_equal(b.srtp_protected, 5);
	srtp_dealloc(p_tx);
	srtp_dealloc(p_rx);
}

static void test_sdp_toward_and_from_the_dtls_leg(void **state)
{
	(void)state;
	peer p;
	peer_init(&p, true);
	t_ctx *t = dtls_call(p.fp, "active");
	assert_non_null(strstr(t->offer_out, "m=audio 40002 UDP/TLS/RTP/SAVPF 0 101"));
	assert_non_null(strstr(t->offer_out, "a=fingerprint:sha-256 "));
	assert_non_null(strstr(t->offer_out, "a=setup:actpass"));
	assert_null(strstr(t->offer_out, "a=crypto"));
	/* Back to the plain phone: none of the peer's DTLS lines. */
	assert_non_null(strstr(t->answer_out, "m=audio 40000 RTP/AVP 0"));
	assert_null(strstr(t->answer_out, "a=fingerprint"));
	assert_null(strstr(t->answer_out, "a=setup"));
	assert_null(strstr(t->answer_out, "a=tls-id"));
	il_sbc_leg_stats b = t_leg(t, 1);
	assert_int_equal(b.profile, IL_SBC_PROFILE_DTLS);
	assert_int_equal(b.dtls_state, IL_SBC_DTLS_HANDSHAKING); /* a server waits */
	assert_false(b.srtp_rx || b.srtp_tx);
	/* SRTP before the handshake: no keys to check it with, dropped. */
	uint8_t junk_key[30] = {1};
	srtp_t early = t_srtp(T_AES80, junk_key, false);
	il_addr pp = peer_addr();
	assert_int_equal(t_srtp_rtp(t, 1, &pp, early, 1, SSRC_P), IL_SBC_DGRAM_DROPPED);
	assert_int_equal(t_leg(t, 1).dropped[IL_SBC_DROP_SRTP_NO_KEY], 1);
	srtp_dealloc(early);
	done(t, &p);
}

static void test_handshake_bridge_as_server_then_srtp_both_ways(void **state)
{
	(void)state;
	peer p;
	peer_init(&p, true);
	t_ctx *t = dtls_call(p.fp, "active");
	size_t cursor = t->sent_count;
	assert_int_equal(run_handshake(t, &p, &cursor), 1);
	il_sbc_leg_stats b = t_leg(t, 1);
	assert_int_equal(b.dtls_state, IL_SBC_DTLS_CONNECTED);
	assert_true(b.srtp_rx && b.srtp_tx);
	const il_sbc_event *ev = t_last_event(t, IL_SBC_EV_DTLS_CONNECTED);
	assert_non_null(ev);
	assert_int_equal(ev->leg, 1);
	assert_string_equal(ev->text, "dtls-srtp server AES_CM_128_HMAC_SHA1_80");
	/* The peer sees the certificate the bridge's SDP announced. */
	X509 *cert = SSL_get1_peer_certificate(p.ssl);
	assert_non_null(cert);
	char got[160], want[160];
	fingerprint_of(cert, got, sizeof got);
	X509_free(cert);
	bridge_fp(t, want, sizeof want);
	assert_string_equal(got, want);
	media_both_ways(t, &p, true);
	assert_int_equal(t_count_events(t, IL_SBC_EV_DTLS_FAILED), 0);
	done(t, &p);
}

static void test_handshake_bridge_as_client_with_retransmission(void **state)
{
	(void)state;
	peer p;
	peer_init(&p, false);
	t_ctx *t = dtls_call(p.fp, "passive");
	assert_int_equal(t_leg(t, 1).dtls_state, IL_SBC_DTLS_WAITING);
	/* It has somewhere to send (the SDP address is public): due now. */
	assert_int_equal(il_sbc_session_next_deadline(t->s), 0);
	size_t cursor = t->sent_count;
	il_sbc_session_timer(t->s, t->now);
	assert_int_equal(t->sent_count, cursor + 1);
	assert_int_equal(t->sent[cursor].data[0], 22); /* a handshake record */
	assert_int_equal(t_leg(t, 1).dtls_state, IL_SBC_DTLS_HANDSHAKING);
	/* The ClientHello is lost: the retransmission timer (RFC 6347
	 * §4.2.4.1, 1 s) sends it again. OpenSSL times it on the wall
	 * clock, so wait that long for real. */
	uint64_t d = il_sbc_session_next_deadline(t->s);
	assert_true(d > t->now && d <= t->now + 1000);
	cursor = t->sent_count;
	usleep(1100 * 1000);
	t->now = d;
	il_sbc_session_timer(t->s, t->now);
	assert_int_equal(t->sent_count, cursor + 1);
	assert_int_equal(t->sent[cursor].data[0], 22);
	/* The peer gets the second one, and the handshake completes. */
	assert_int_equal(run_handshake(t, &p, &cursor), 1);
	assert_int_equal(t_leg(t, 1).dtls_state, IL_SBC_DTLS_CONNECTED);
	assert_string_equal(t_last_event(t, IL_SBC_EV_DTLS_CONNECTED)->text,
			    "dtls-srtp client AES_CM_128_HMAC_SHA1_80");
	assert_true(il_sbc_session_next_deadline(t->s) > t->now + 1000); /* no DTLS timer */
	media_both_ways(t, &p, false);
	done(t, &p);
}

static void test_wrong_fingerprint_fails_the_handshake(void **state)
{
	(void)state;
	peer p;
	peer_init(&p, true);
	/* The SDP names another certificate than the one the peer shows. */
	char wrong[160];
	snprintf(wrong, sizeof wrong, "%s", p.fp);
	size_t last = strlen(wrong) - 1;
	wrong[last] = wrong[last] == '0' ? '1' : '0';
	t_ctx *t = dtls_call(wrong, "active");
	size_t cursor = t->sent_count;
	assert_true(run_handshake(t, &p, &cursor) != 1);
	il_sbc_leg_stats b = t_leg(t, 1);
	assert_int_equal(b.dtls_state, IL_SBC_DTLS_FAILED);
	assert_false(b.srtp_rx || b.srtp_tx);
	assert_int_equal(t_count_events(t, IL_SBC_EV_DTLS_CONNECTED), 0);
	assert_int_equal(t_count_events(t, IL_SBC_EV_DTLS_FAILED), 1);
	const il_sbc_event *ev = t_last_event(t, IL_SBC_EV_DTLS_FAILED);
	assert_int_equal(ev->leg, 1);
	assert_non_null(strstr(ev->text, "fingerprint"));
	assert_string_equal(il_sbc_event_name(ev->type), "dtls-failed");
	/* No media crosses: the peer's packets have no keys to pass. */
	uint8_t k[30] = {9};
	srtp_t s = t_srtp(T_AES80, k, false);
	il_addr pp = peer_addr(), pa = phone_a();
	assert_int_equal(t_srtp_rtp(t, 1, &pp, s, 1, SSRC_P), IL_SBC_DGRAM_DROPPED);
	assert_int_equal(t_plain_rtp(t, 0, &pa, 1, SSRC_A), IL_SBC_DGRAM_DROPPED);
	assert_int_equal(t_leg(t, 1).dropped[IL_SBC_DROP_SRTP_NO_KEY], 1);
	assert_int_equal(t_leg(t, 0).dropped[IL_SBC_DROP_NO_DESTINATION], 1);
	assert_int_equal(t_leg(t, 1).tx_packets + t_leg(t, 0).tx_packets, 0);
	/* The peer's DTLS after the failure is dropped, counted. */
	uint8_t again[40] = {22, 0xfe, 0xfd};
	uint64_t before = t_leg(t, 1).dropped[IL_SBC_DROP_DTLS];
	assert_int_equal(t_rx(t, &t->leg[1].bind, &pp, again, sizeof again), IL_SBC_DGRAM_DROPPED);
	assert_int_equal(t_leg(t, 1).dropped[IL_SBC_DROP_DTLS], before + 1);
	srtp_dealloc(s);
	done(t, &p);
}

/* On an ICE leg the bridge (ICE-lite, DTLS client here) starts the
 * handshake only once a check selected a pair, and takes DTLS only from
 * a source that passed a check. */
static void test_dtls_on_an_ice_leg_waits_for_the_checked_pair(void **state)
{
	(void)state;
	peer p;
	peer_init(&p, false);
	t_ctx *t = malloc(sizeof *t);
	assert_non_null(t);
	t_config(t); /* leg B: ICE, rtcp-mux */
	t->leg[1].profile = IL_SBC_PROFILE_DTLS;
	t_new(t);
	char offer[2048], answer[2048];
	sdp_plain(offer, sizeof offer, "198.51.100.10", 4000);
	assert_true(il_sbc_session_offer(t->s, IL_SBC_LEG_A, offer, strlen(offer), t->offer_out,
					 sizeof t->offer_out, t->now, NULL) > 0);
	il_sdp_session *sdp = malloc(sizeof *sdp);
	assert_non_null(sdp);
	assert_int_equal(il_sdp_parse(t->offer_out, strlen(t->offer_out), sdp, NULL), IL_SDP_OK);
	snprintf(t->ufrag_b, sizeof t->ufrag_b, "%s", il_sdp_media_ufrag(sdp, &sdp->media[0]));
	snprintf(t->pwd_b, sizeof t->pwd_b, "%s", il_sdp_media_pwd(sdp, &sdp->media[0]));
	free(sdp);
	snprintf(answer, sizeof answer,
		 "v=0\r\n"
		 "o=- 9 1 IN IP4 198.51.100.30\r\n"
		 "s=-\r\n"
		 "t=0 0\r\n"
		 "m=audio 6000 UDP/TLS/RTP/SAVPF 0\r\n"
		 "c=IN IP4 198.51.100.30\r\n"
		 "a=rtpmap:0 PCMU/8000\r\n"
		 "a=rtcp-mux\r\n"
		 "a=ice-ufrag:" WEB_UFRAG "\r\n"
		 "a=ice-pwd:" WEB_PWD "\r\n"
		 "a=candidate:1 1 udp 2130706431 198.51.100.30 6000 typ host\r\n"
		 "a=fingerprint:%s\r\n"
		 "a=setup:passive\r\n",
		 p.fp);
	assert_true(il_sbc_session_answer(t->s, IL_SBC_LEG_B, answer, strlen(answer), t->answer_out,
					  sizeof t->answer_out, t->now, NULL) > 0);
	/* No pair yet: nothing to start. DTLS from anywhere is refused. */
	assert_int_equal(t_leg(t, 1).dtls_state, IL_SBC_DTLS_WAITING);
	assert_true(il_sbc_session_next_deadline(t->s) > t->now);
	il_addr pp = peer_addr(), x = a4(198, 51, 100, 66, 5555);
	uint8_t hello[40] = {22, 0xfe, 0xfd};
	assert_int_equal(t_rx(t, &t->leg[1].bind, &pp, hello, sizeof hello), IL_SBC_DGRAM_DROPPED);
	assert_int_equal(t_leg(t, 1).dropped[IL_SBC_DROP_UNCHECKED_SOURCE], 1);
	/* The peer's check with USE-CANDIDATE selects the pair: due now. */
	assert_int_equal(t_check(t, &pp, true), IL_SBC_DGRAM_STUN);
	assert_int_equal(il_sbc_session_next_deadline(t->s), 0);
	size_t cursor = t->sent_count;
	il_sbc_session_timer(t->s, t->now);
	assert_int_equal(t_leg(t, 1).dtls_state, IL_SBC_DTLS_HANDSHAKING);
	/* A stranger's DTLS still goes nowhere. */
	assert_int_equal(t_rx(t, &t->leg[1].bind, &x, hello, sizeof hello), IL_SBC_DGRAM_DROPPED);
	assert_int_equal(t_leg(t, 1).dropped[IL_SBC_DROP_UNCHECKED_SOURCE], 2);
	assert_int_equal(run_handshake(t, &p, &cursor), 1);
	assert_int_equal(t_leg(t, 1).dtls_state, IL_SBC_DTLS_CONNECTED);
	media_both_ways(t, &p, false);
	done(t, &p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sdp_toward_and_from_the_dtls_leg),
		cmocka_unit_test(test_handshake_bridge_as_server_then_srtp_both_ways),
		cmocka_unit_test(test_handshake_bridge_as_client_with_retransmission),
		cmocka_unit_test(test_wrong_fingerprint_fails_the_handshake),
		cmocka_unit_test(test_dtls_on_an_ice_leg_waits_for_the_checked_pair),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
