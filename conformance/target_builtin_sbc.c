/* The builtin target's SBC: ref/sbc in process (builtin_sbc.h). Per test a
 * fresh session is negotiated the way a SIP call would: the legacy phone
 * (the harness's first peer, 203.0.113.10:50000) offers plain RTP/AVP on
 * leg A, the bridge writes an ICE-lite offer for leg B, and the harness
 * answers it as a full agent (ufrag cfharness) from its first client's
 * address. The ICE leg's ufrag and pwd are read back from the bridge's
 * offer, as target_sdp.c reads them from a real SBC's. */
#include "builtin_sbc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icelab/sbc.h"
#include "icelab/sdp.h"

struct cf_builtin_sbc {
	cf_target_options opts;
	cf_builtin_sbc_deliver deliver;
	void *user;
	il_sbc_session *s;
	il_addr legacy, ice;
	uint64_t rng;
	il_addr last_rtp_source;   /* the fault sbc_follow_source sends here */
	bool has_last_source;
};

static void sbc_random(void *user, uint8_t *out, size_t len)
{
	cf_builtin_sbc *b = user;
	for (size_t i = 0; i < len; i++) {
		uint64_t z = (b->rng += 0x9E3779B97F4A7C15ull);
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
		out[i] = (uint8_t)(z >> 29);
	}
}

static void sbc_send(void *user, const il_addr *local, const il_addr *remote, const uint8_t *data,
		     size_t len)
{
	cf_builtin_sbc *b = user;
	const il_addr *to = remote;
	/* The injected fault: ICE-leg media follows the newest source. */
	if (b->opts.sbc_follow_source && b->has_last_source && il_addr_equal(local, &b->ice) &&
	    len > 0 && data[0] >= 128 && data[0] <= 191)
		to = &b->last_rtp_source;
	b->deliver(b->user, local, to, data, len);
}

cf_builtin_sbc *cf_builtin_sbc_new(const cf_target_options *opts, cf_builtin_sbc_deliver deliver,
				   void *user)
{
	cf_builtin_sbc *b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	b->opts = *opts;
	b->deliver = deliver;
	b->user = user;
	il_addr_parse(CF_BUILTIN_SBC_LEGACY, &b->legacy);
	il_addr_parse(CF_BUILTIN_SBC_ICE, &b->ice);
	return b;
}

void cf_builtin_sbc_free(cf_builtin_sbc *b)
{
	if (!b)
		return;
	il_sbc_session_free(b->s);
	free(b);
}

static const char *ip_text(const il_addr *a, char *out, size_t cap)
{
	il_addr_format_ip(a, out, cap);
	return out;
}

int cf_builtin_sbc_reset(cf_builtin_sbc *b, cf_target *t, uint64_t seed, const il_addr *phone,
			 const il_addr *harness, uint64_t now_ms)
{
	il_sbc_session_free(b->s);
	b->s = NULL;
	b->rng = seed ^ 0x5bc5bc5bc5bc5bc5ull;
	b->has_last_source = false;
	il_sbc_config cfg;
	il_sbc_config_defaults(&cfg);
	il_addr_parse("192.0.2.1:0", &cfg.advertised);
	cfg.allow_private_advertised = true; /* a documentation address */
	cfg.software = "icelab builtin sbc";
	if (b->opts.configure_sbc)
		b->opts.configure_sbc(b->opts.configure_arg, &cfg);
	il_sbc_leg_config a = {.bind = b->legacy, .ice = false, .rtcp_mux = false};
	il_sbc_leg_config ice = {.bind = b->ice, .ice = true, .rtcp_mux = true};
	il_sbc_callbacks cb = {.user = b, .random = sbc_random, .send = sbc_send};
	int err = 0;
	b->s = il_sbc_session_new(&cfg, &a, &ice, &cb, now_ms, &err);
	if (!b->s)
		return -1;
	char pip[64], hip[64], sdp[1024];
	char *out = malloc(8192);
	il_sdp_session *parsed = malloc(sizeof *parsed);
	il_sdp_error serr;
	int rc = -1;
	if (!out || !parsed)
		goto done;
	snprintf(sdp, sizeof sdp,
		 "v=0\r\no=phone 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
		 "m=audio %u RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n",
		 ip_text(phone, pip, sizeof pip), pip, phone->port);
	int n = il_sbc_session_offer(b->s, IL_SBC_LEG_A, sdp, strlen(sdp), out, 8192, now_ms, &serr);
	if (n <= 0 || il_sdp_parse(out, (size_t)n, parsed, &serr) != IL_SDP_OK ||
	    parsed->media_count == 0)
		goto done;
	const char *uf = il_sdp_media_ufrag(parsed, &parsed->media[0]);
	const char *pw = il_sdp_media_pwd(parsed, &parsed->media[0]);
	if (!uf || !pw)
		goto done;
	snprintf(t->ice_ufrag, sizeof t->ice_ufrag, "%s", uf);
	snprintf(t->ice_pwd, sizeof t->ice_pwd, "%s", pw);
	t->ice_lite = parsed->ice_lite;
	snprintf(sdp, sizeof sdp,
		 "v=0\r\no=harness 2 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
		 "m=audio %u RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\na=rtcp-mux\r\n"
		 "a=ice-ufrag:" CF_BUILTIN_SBC_PEER_UFRAG "\r\na=ice-pwd:" CF_BUILTIN_SBC_PEER_PWD
		 "\r\na=candidate:1 1 udp 2130706431 %s %u typ host\r\n",
		 ip_text(harness, hip, sizeof hip), hip, harness->port, hip, harness->port);
	n = il_sbc_session_answer(b->s, IL_SBC_LEG_B, sdp, strlen(sdp), out, 8192, now_ms, &serr);
	if (n <= 0)
		goto done;
	snprintf(t->ice_peer_ufrag, sizeof t->ice_peer_ufrag, CF_BUILTIN_SBC_PEER_UFRAG);
	snprintf(t->ice_peer_pwd, sizeof t->ice_peer_pwd, CF_BUILTIN_SBC_PEER_PWD);
	t->has_ice = t->has_legacy = true;
	t->ice_leg = b->ice;
	t->legacy_leg = b->legacy;
	rc = 0;
done:
	free(out);
	free(parsed);
	return rc;
}

bool cf_builtin_sbc_owns(const cf_builtin_sbc *b, const il_addr *to)
{
	return b->s && il_sbc_session_owns(b->s, to);
}

void cf_builtin_sbc_input(cf_builtin_sbc *b, const il_addr *to, const il_addr *from,
			  const uint8_t *data, size_t len, uint64_t now_ms)
{
	if (!b->s)
		return;
	if (il_addr_equal(to, &b->ice) && len > 0 && data[0] >= 128 && data[0] <= 191) {
		b->last_rtp_source = *from;
		b->has_last_source = true;
	}
	il_sbc_session_handle_datagram(b->s, to, from, data, len, now_ms);
}

void cf_builtin_sbc_timer(cf_builtin_sbc *b, uint64_t now_ms)
{
	if (b->s && il_sbc_session_next_deadline(b->s) <= now_ms)
		il_sbc_session_timer(b->s, now_ms);
}
