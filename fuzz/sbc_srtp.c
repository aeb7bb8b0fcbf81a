/* Fuzz target sbc_srtp: the SBC media path with SRTP on one leg (issue
 * #8 §3). Each input is a fresh session: leg A speaks SDES (a fixed key
 * in its offer), leg B plain RTP; then a sequence of datagrams, each
 *
 *   [flags 1][length 2, big-endian][bytes]
 *
 * flags bit 0: leg B (else A); bit 1: the RTCP port; bit 2: protect the
 * bytes first with leg A's key (an authentic SRTP or SRTCP packet, so
 * the paths after authentication are reached); the low byte of the
 * length also advances the clock.
 *
 * Invariants: on leg A a datagram that was not protected by the harness
 * is never forwarded (it cannot authenticate); everything the bridge
 * sends toward A authenticates under the key of its answer to A (a
 * replay of an index is allowed: B may repeat a sequence number); a
 * datagram the bridge sends has a length within bounds. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "icelab/sbc.h"

#include "fuzz_check.h"

#define KEY_B64 "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"

static const char OFFER_A[] = "v=0\r\n"
			      "o=a 1 1 IN IP4 198.51.100.10\r\n"
			      "s=-\r\n"
			      "c=IN IP4 198.51.100.10\r\n"
			      "t=0 0\r\n"
			      "m=audio 4000 RTP/SAVP 0 8 101\r\n"
			      "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_B64 "\r\n";
static const char ANSWER_B[] = "v=0\r\n"
			       "o=b 1 1 IN IP4 198.51.100.20\r\n"
			       "s=-\r\n"
			       "c=IN IP4 198.51.100.20\r\n"
			       "t=0 0\r\n"
			       "m=audio 5000 RTP/AVP 0 8 101\r\n";

typedef struct harness {
	il_addr bind_a;
	il_sbc_srtp *to_a;           /* unprotects what the bridge sends to A */
	uint64_t rng;
} harness;

static void h_random(void *user, uint8_t *out, size_t len)
{
	harness *h = user;
	for (size_t i = 0; i < len; i++) {
		h->rng = h->rng * 6364136223846793005ull + 1442695040888963407ull;
		out[i] = (uint8_t)(h->rng >> 56);
	}
}

static void h_send(void *user, const il_addr *local, const il_addr *remote, const uint8_t *data,
		   size_t len)
{
	(void)remote;
	harness *h = user;
	FUZZ_CHECK(len > 0 && len <= 4096 + IL_SBC_SRTP_MAX_TRAILER);
	il_addr rtp = *local;
	rtp.port = h->bind_a.port;
	bool leg_a = il_addr_equal(&rtp, &h->bind_a) &&
		     (local->port == h->bind_a.port || local->port == h->bind_a.port + 1);
	if (!leg_a || !h->to_a)
		return; /* toward B: plain, whatever B sent */
	uint8_t buf[4096 + IL_SBC_SRTP_MAX_TRAILER];
	memcpy(buf, data, len);
	bool rtcp = local->port != h->bind_a.port || (len >= 2 && data[1] >= 192 && data[1] <= 223);
	int st = il_sbc_srtp_unprotect(h->to_a, rtcp, buf, &len);
	FUZZ_CHECK(st == IL_SBC_SRTP_OK || st == IL_SBC_SRTP_REPLAY);
}

static bool key_from(const char *sdp, uint8_t key[30])
{
	const char *p = strstr(sdp, "inline:");
	uint8_t raw[33];
	if (!p || EVP_DecodeBlock(raw, (const unsigned char *)p + 7, 40) != 30)
		return false;
	memcpy(key, raw, 30);
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	harness h = {.rng = 42};
	il_sbc_config cfg;
	il_sbc_config_defaults(&cfg);
	il_addr_parse("203.0.113.10:0", &cfg.advertised);
	il_sbc_leg_config a = {.profile = IL_SBC_PROFILE_SAME}, b = {.profile = IL_SBC_PROFILE_RTP};
	il_addr_parse("203.0.113.10:40000", &a.bind);
	il_addr_parse("203.0.113.10:40002", &b.bind);
	h.bind_a = a.bind;
	il_sbc_callbacks cb = {.user = &h, .random = h_random, .send = h_send};
	uint64_t now = 1000;
	il_sbc_session *s = il_sbc_session_new(&cfg, &a, &b, &cb, now, NULL);
	FUZZ_CHECK(s != NULL);
	static char out[8192];
	uint8_t ka[30], kb[30];
	FUZZ_CHECK(il_sbc_session_offer(s, 0, OFFER_A, strlen(OFFER_A), out, sizeof out, now, NULL) > 0);
	FUZZ_CHECK(il_sbc_session_answer(s, 1, ANSWER_B, strlen(ANSWER_B), out, sizeof out, now,
					 NULL) > 0);
	FUZZ_CHECK(key_from(out, kb) && key_from(OFFER_A, ka));
	h.to_a = il_sbc_srtp_new("AES_CM_128_HMAC_SHA1_80", kb, true);
	il_sbc_srtp *from_a = il_sbc_srtp_new("AES_CM_128_HMAC_SHA1_80", ka, false);
	FUZZ_CHECK(h.to_a && from_a);

	size_t at = 0;
	while (at + 3 <= size) {
		uint8_t flags = data[at];
		size_t len = fuzz_be16(data + at + 1) % 2048;
		at += 3;
		if (len > size - at)
			len = size - at;
		uint8_t buf[2048 + IL_SBC_SRTP_MAX_TRAILER];
		memcpy(buf, data + at, len);
		at += len;
		now += len & 0xff;
		bool leg_b = flags & 1, rtcp_port = flags & 2, protect = flags & 4;
		if (protect && !leg_b) {
			bool rtcp = rtcp_port || (len >= 2 && buf[1] >= 192 && buf[1] <= 223);
			if (il_sbc_srtp_protect(from_a, rtcp, buf, &len, sizeof buf) != IL_SBC_SRTP_OK)
				continue;
		}
		il_addr local = leg_b ? b.bind : a.bind, remote;
		il_addr_parse(leg_b ? "198.51.100.20:5000" : "198.51.100.10:4000", &remote);
		if (rtcp_port) {
			local.port++;
			remote.port++;
		}
		int r = il_sbc_session_handle_datagram(s, &local, &remote, buf, len, now);
		FUZZ_CHECK(r >= IL_SBC_DGRAM_DROPPED && r <= IL_SBC_DGRAM_DTLS);
		if (!leg_b && !protect && len > 0 && buf[0] >= 128 && buf[0] <= 191)
			FUZZ_CHECK(r != IL_SBC_DGRAM_FORWARDED);
		il_sbc_session_timer(s, now);
	}
	il_sbc_leg_stats st;
	FUZZ_CHECK(il_sbc_session_get_leg(s, 0, &st) == IL_SBC_OK);
	FUZZ_CHECK(st.profile == IL_SBC_PROFILE_SDES && st.srtp_rx && st.srtp_tx);
	il_sbc_session_free(s);
	il_sbc_srtp_free(h.to_a);
	il_sbc_srtp_free(from_a);
	return 0;
}
