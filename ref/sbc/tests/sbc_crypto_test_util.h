/* Shared by the SBC crypto tests: the far ends' own SRTP (libsrtp2 used
 * directly, as a phone would), keys in and out of a=crypto lines, and
 * calls between a phone on leg A and a phone on leg B whose SDP
 * addresses are public (so the bridge may send to them before
 * latching). Header-only. */
#ifndef SBC_CRYPTO_TEST_UTIL_H
#define SBC_CRYPTO_TEST_UTIL_H

#include <srtp2/srtp.h>

#include <openssl/evp.h>

#include "sbc_test_util.h"

/* A fixed SDES key (key || salt, 30 bytes) and its base64. */
#define KEY_A_B64 "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
#define KEY_X_B64 "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVowMTIz" /* another one */

static inline il_addr phone_a(void) { return a4(198, 51, 100, 10, 4000); }
static inline il_addr phone_a_rtcp(void) { return a4(198, 51, 100, 10, 4001); }
static inline il_addr phone_b(void) { return a4(198, 51, 100, 20, 5000); }

static inline void sdp_plain(char *out, size_t cap, const char *ip, unsigned port)
{
	snprintf(out, cap,
		 "v=0\r\n"
		 "o=phone 7 1 IN IP4 %s\r\n"
		 "s=call\r\n"
		 "c=IN IP4 %s\r\n"
		 "t=0 0\r\n"
		 "m=audio %u RTP/AVP 0 101\r\n"
		 "a=rtpmap:0 PCMU/8000\r\n"
		 "a=rtpmap:101 telephone-event/8000\r\n"
		 "a=sendrecv\r\n",
		 ip, ip, port);
}

/* An SDES description: crypto is "a=crypto:..." lines, CRLF each. */
static inline void sdp_sdes(char *out, size_t cap, const char *ip, unsigned port,
			    const char *crypto)
{
	snprintf(out, cap,
		 "v=0\r\n"
		 "o=phone 8 1 IN IP4 %s\r\n"
		 "s=call\r\n"
		 "c=IN IP4 %s\r\n"
		 "t=0 0\r\n"
		 "m=audio %u RTP/SAVP 0 101\r\n"
		 "a=rtpmap:0 PCMU/8000\r\n"
		 "a=rtpmap:101 telephone-event/8000\r\n"
		 "%s"
		 "a=sendrecv\r\n",
		 ip, ip, port, crypto);
}

static inline size_t count_substr(const char *text, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* The key of the a=crypto line with this tag in text (30 or 28 bytes). */
static inline size_t key_of_tag(const char *text, unsigned tag, uint8_t *key)
{
	char prefix[32];
	snprintf(prefix, sizeof prefix, "a=crypto:%u ", tag);
	const char *p = strstr(text, prefix);
	assert_non_null(p);
	p = strstr(p, "inline:");
	assert_non_null(p);
	p += 7;
	size_t n = strcspn(p, "|\r\n ");
	assert_true(n == 40);
	uint8_t raw[33];
	int got = EVP_DecodeBlock(raw, (const unsigned char *)p, (int)n);
	assert_true(got == 30);
	size_t klen = p[n - 1] == '=' ? 28 : 30;
	memcpy(key, raw, klen);
	return klen;
}

static inline void b64_key(const char *b64, uint8_t key[30])
{
	uint8_t raw[33];
	assert_int_equal(EVP_DecodeBlock(raw, (const unsigned char *)b64, 40), 30);
	memcpy(key, raw, 30);
}

/* A far end's libsrtp2 session, as the phone runs it. */
typedef enum { T_AES80, T_AES32, T_GCM } t_suite;

static inline srtp_t t_srtp(t_suite suite, const uint8_t *key, bool inbound)
{
	/* Once per process; a second call (the bridge made one) refuses to
	 * register the ciphers again, which is fine. */
	static bool init;
	if (!init) {
		(void)srtp_init();
		init = true;
	}
	srtp_policy_t p;
	memset(&p, 0, sizeof p);
	if (suite == T_AES80) {
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
	} else if (suite == T_AES32) {
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p.rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
	} else {
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
	}
	p.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
	uint8_t k[30];
	memcpy(k, key, 30);
	p.key = k;
	p.window_size = 128;
	srtp_t ctx = NULL;
	assert_int_equal(srtp_create(&ctx, &p), srtp_err_status_ok);
	return ctx;
}

/* RTP protected with ctx into buf (172 bytes of plain RTP + trailer). */
static inline size_t t_srtp_packet(srtp_t ctx, uint8_t *buf, uint16_t seq, uint32_t ssrc)
{
	int n = (int)make_rtp(buf, 0, seq, ssrc);
	memset(buf + 12, (uint8_t)seq, (size_t)n - 12); /* a payload to recognise */
	assert_int_equal(srtp_protect(ctx, buf, &n), srtp_err_status_ok);
	return (size_t)n;
}

static inline int t_srtp_rtp(t_ctx *t, unsigned leg, const il_addr *from, srtp_t ctx,
			     uint16_t seq, uint32_t ssrc)
{
	uint8_t buf[172 + SRTP_MAX_TRAILER_LEN];
	size_t n = t_srtp_packet(ctx, buf, seq, ssrc);
	return t_rx(t, &t->leg[leg].bind, from, buf, n);
}

/* Plain RTP with the recognisable payload of t_srtp_packet. */
static inline int t_plain_rtp(t_ctx *t, unsigned leg, const il_addr *from, uint16_t seq,
			      uint32_t ssrc)
{
	uint8_t buf[172];
	size_t n = make_rtp(buf, 0, seq, ssrc);
	memset(buf + 12, (uint8_t)seq, n - 12);
	return t_rx(t, &t->leg[leg].bind, from, buf, n);
}

/* The last datagram sent is that plain packet. */
static inline void assert_last_is_plain(const t_ctx *t, uint16_t seq, uint32_t ssrc)
{
	uint8_t want[172];
	size_t n = make_rtp(want, 0, seq, ssrc);
	memset(want + 12, (uint8_t)seq, n - 12);
	const t_sent *p = t_last_sent(t);
	assert_non_null(p);
	assert_int_equal(p->len, n);
	assert_memory_equal(p->data, want, n);
}

/* The last datagram sent unprotects with ctx to that plain packet. */
static inline void assert_last_unprotects(const t_ctx *t, srtp_t ctx, uint16_t seq, uint32_t ssrc)
{
	const t_sent *p = t_last_sent(t);
	assert_non_null(p);
	uint8_t buf[600];
	memcpy(buf, p->data, p->len);
	int n = (int)p->len;
	assert_true(n > 172); /* a tag was added */
	assert_int_equal(srtp_unprotect(ctx, buf, &n), srtp_err_status_ok);
	uint8_t want[172];
	size_t wn = make_rtp(want, 0, seq, ssrc);
	memset(want + 12, (uint8_t)seq, wn - 12);
	assert_int_equal((size_t)n, wn);
	assert_memory_equal(buf, want, wn);
}

#endif
