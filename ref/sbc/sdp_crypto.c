/* The SDP crypto translation (issue #8 §2): per leg a media profile —
 * plain RTP/AVP, SDES (RTP/SAVP[F] with a=crypto, RFC 4568) or
 * DTLS-SRTP (UDP/TLS/RTP/SAVP[F] with a=fingerprint and a=setup, RFC
 * 5763, RFC 8122) — and each leg gets our own keys or fingerprint: the
 * far leg's a=crypto, a=fingerprint, a=setup, a=tls-id, a=connection
 * and a=key-mgmt never cross the bridge.
 *
 * Offers toward a leg say what leg_config.profile asks (SAME: what the
 * offering leg speaks), and on a re-offer what the leg agreed. SDES
 * offers carry AES_CM_128_HMAC_SHA1_80 (tag 1) and _32 (tag 2), a key
 * each; the answer's tag picks ours. Toward an SDES offerer we answer
 * its first line we can run, with our key in that suite.
 *
 * DTLS roles (RFC 5763 §5, RFC 4145 §4): our offers say actpass. When
 * the peer offers actpass we answer active, as §5 recommends (the
 * handshake starts while the answer is on its way) — except on a legacy
 * leg whose SDP address we may not send to (private, unspecified): then
 * passive, so that the peer's ClientHello opens its NAT and shows us
 * where it is. An offer of active gets passive and passive gets active;
 * in an answer, active makes us the server and passive the client. */
#include <stdio.h>
#include <string.h>

#include "sbc_crypto.h"

static bool starts(const il_sdp_line *l, const char *prefix)
{
	size_t n = strlen(prefix);
	return l->len >= n && memcmp(l->text, prefix, n) == 0;
}

static bool foreign_crypto(const il_sdp_line *l)
{
	return starts(l, "a=crypto:") || starts(l, "a=fingerprint:") || starts(l, "a=setup:") ||
	       starts(l, "a=tls-id:") || starts(l, "a=connection:") || starts(l, "a=key-mgmt:");
}

static void strip_lines(il_sdp_line *lines, size_t *count)
{
	size_t out = 0;
	for (size_t i = 0; i < *count; i++)
		if (!foreign_crypto(&lines[i]))
			lines[out++] = lines[i];
	*count = out;
}

static int profile_of(const char *proto)
{
	if (strstr(proto, "TLS/RTP/SAVP"))
		return IL_SBC_PROFILE_DTLS;
	if (strstr(proto, "RTP/SAVP"))
		return IL_SBC_PROFILE_SDES;
	return IL_SBC_PROFILE_RTP;
}

/* The value of the first "prefix..." line of the section, else of the
 * session (a=fingerprint and a=setup may be at either level). */
static bool find_value(const il_sdp_session *sdp, const il_sdp_media *m, const char *prefix,
		       char *out, size_t cap)
{
	size_t n = strlen(prefix);
	for (int level = 0; level < 2; level++) {
		const il_sdp_line *lines = level ? sdp->lines : m->lines;
		size_t count = level ? sdp->line_count : m->line_count;
		for (size_t i = 0; i < count; i++) {
			if (!starts(&lines[i], prefix))
				continue;
			size_t v = lines[i].len - n;
			if (v >= cap)
				return false;
			memcpy(out, lines[i].text + n, v);
			out[v] = '\0';
			return true;
		}
	}
	return false;
}

static void leg_plain(sbc_leg *l)
{
	sbc_leg_crypto *c = l->crypto;
	if (!c)
		return;
	sbc_srtp_clear(&c->rx);
	sbc_srtp_clear(&c->tx);
	sbc_dtls_free(c->dtls);
	c->dtls = NULL;
	c->profile = IL_SBC_PROFILE_RTP;
}

static void random_key(il_sbc_session *s, sbc_sdes *k, unsigned tag, int suite)
{
	k->tag = tag;
	k->suite = suite;
	s->cb.random(s->cb.user, k->key, sbc_suite_key_len(suite));
}

/* ---- the peer's SDP ---- */

static int sdes_from_peer(il_sbc_session *s, sbc_leg *l, const il_sdp_media *m, bool is_offer)
{
	sbc_leg_crypto *c = l->crypto;
	sbc_sdes got;
	const sbc_sdes *ours = NULL;
	bool found = false;
	for (size_t i = 0; i < m->line_count && !found; i++) {
		if (!starts(&m->lines[i], "a=crypto:") ||
		    sbc_sdes_parse(m->lines[i].text, m->lines[i].len, &got) != 0)
			continue;
		if (is_offer) {
			found = true;
			break;
		}
		/* An answer picks one of the lines we offered (RFC 4568 §7.1.3). */
		for (size_t k = 0; k < c->offered_count; k++)
			if (c->offered[k].tag == got.tag && c->offered[k].suite == got.suite)
				ours = &c->offered[k], found = true;
	}
	if (!found)
		return IL_SBC_ERR_CRYPTO;
	if (is_offer) {
		/* A re-offer of the same suite keeps our key (and the
		 * peer's stream state when its key is the same too). */
		if (c->our_sdes.suite != got.suite)
			random_key(s, &c->our_sdes, got.tag, got.suite);
		c->our_sdes.tag = got.tag;
	} else {
		c->our_sdes = *ours;
	}
	c->peer_sdes = got;
	sbc_dtls_free(c->dtls);
	c->dtls = NULL;
	if (sbc_srtp_set(&c->rx, got.suite, got.key, true) != 0 ||
	    sbc_srtp_set(&c->tx, c->our_sdes.suite, c->our_sdes.key, false) != 0)
		return IL_SBC_ERR_CRYPTO;
	return IL_SBC_OK;
}

static int setup_of(const char *v)
{
	if (strcmp(v, "actpass") == 0)
		return SBC_SETUP_ACTPASS;
	if (strcmp(v, "active") == 0)
		return SBC_SETUP_ACTIVE;
	if (strcmp(v, "passive") == 0)
		return SBC_SETUP_PASSIVE;
	return SBC_SETUP_NONE; /* holdconn, or nonsense */
}

static int dtls_from_peer(sbc_leg *l, const il_sdp_session *sdp,
			  const il_sdp_media *m, bool is_offer)
{
	sbc_leg_crypto *c = l->crypto;
	char fp[sizeof c->peer_fp], setup[16];
	if (!find_value(sdp, m, "a=fingerprint:", fp, sizeof fp))
		return IL_SBC_ERR_CRYPTO;
	/* RFC 4145 §4: no a=setup means active. */
	int peer = find_value(sdp, m, "a=setup:", setup, sizeof setup) ? setup_of(setup)
									: SBC_SETUP_ACTIVE;
	bool client;
	il_addr to;
	if (peer == SBC_SETUP_ACTIVE)
		client = false;
	else if (peer == SBC_SETUP_PASSIVE)
		client = true;
	else if (peer == SBC_SETUP_ACTPASS && is_offer)
		client = l->ice || sbc_leg_destination(l, &to);
	else
		return IL_SBC_ERR_CRYPTO; /* actpass is for offers only; holdconn */
	sbc_dtls_ctx *ctx = sbc_dtls_ctx_shared();
	if (!ctx)
		return IL_SBC_ERR_CRYPTO;
	/* The same fingerprint and role on a re-offer: the same association
	 * (RFC 5763 §6.6), keys and all. */
	if (c->dtls && c->we_client == client && strcmp(sbc_dtls_peer_fingerprint(c->dtls), fp) == 0)
		return IL_SBC_OK;
	sbc_dtls_free(c->dtls);
	sbc_srtp_clear(&c->rx);
	sbc_srtp_clear(&c->tx);
	c->dtls = sbc_dtls_new(ctx, client, fp, sbc_crypto_dtls_send, l);
	if (!c->dtls)
		return IL_SBC_ERR_CRYPTO;
	snprintf(c->peer_fp, sizeof c->peer_fp, "%s", fp);
	c->peer_setup = peer;
	c->we_client = client;
	c->dtls_reported = false;
	memset(&c->dtls_remote, 0, sizeof c->dtls_remote);
	return IL_SBC_OK;
}

int sbc_crypto_peer_sdp(il_sbc_session *s, sbc_leg *from, const il_sdp_session *sdp, int mi,
			bool is_offer, uint64_t now_ms)
{
	const il_sdp_media *m = &sdp->media[mi];
	int profile = profile_of(m->proto);
	if (profile == IL_SBC_PROFILE_RTP) {
		leg_plain(from);
		return IL_SBC_OK;
	}
	sbc_leg_crypto *c = sbc_leg_crypto_get(from);
	if (!c)
		return IL_SBC_ERR_CRYPTO;
	c->now_ms = now_ms;
	c->profile = profile;
	snprintf(c->proto, sizeof c->proto, "%s", m->proto);
	int rc = profile == IL_SBC_PROFILE_SDES ? sdes_from_peer(s, from, m, is_offer)
						: dtls_from_peer(from, sdp, m, is_offer);
	if (rc != IL_SBC_OK)
		leg_plain(from);
	return rc;
}

/* ---- what we write toward a leg ---- */

/* The lines we add live here until pass_through has written the SDP
 * (il_sdp_line points into them): per thread, not per session. */
static _Thread_local char added[SBC_OFFER_SUITES + 2][256];

static int add_line(il_sdp_media *m, size_t slot, const char *text)
{
	if (m->line_count == IL_SDP_MAX_LINES || slot >= sizeof added / sizeof added[0])
		return IL_SBC_ERR_SPACE;
	snprintf(added[slot], sizeof added[slot], "%s", text);
	m->lines[m->line_count++] = (il_sdp_line){added[slot], strlen(added[slot])};
	return IL_SBC_OK;
}

static int add_sdes(il_sdp_media *m, size_t slot, const sbc_sdes *k)
{
	char line[256];
	if (sbc_sdes_format(k, line, sizeof line) < 0)
		return IL_SBC_ERR_CRYPTO;
	return add_line(m, slot, line);
}

static int add_dtls(il_sdp_media *m, const char *setup)
{
	sbc_dtls_ctx *ctx = sbc_dtls_ctx_shared();
	if (!ctx)
		return IL_SBC_ERR_CRYPTO;
	char line[256];
	snprintf(line, sizeof line, "a=fingerprint:%s", sbc_dtls_ctx_fingerprint(ctx));
	int rc = add_line(m, 0, line);
	snprintf(line, sizeof line, "a=setup:%s", setup);
	return rc == IL_SBC_OK ? add_line(m, 1, line) : rc;
}

static int our_offer(il_sbc_session *s, sbc_leg *to, il_sdp_media *m, int target)
{
	sbc_leg_crypto *c = sbc_leg_crypto_get(to);
	if (!c)
		return IL_SBC_ERR_CRYPTO;
	c->offered_profile = target;
	if (target == IL_SBC_PROFILE_DTLS)
		return add_dtls(m, "actpass");
	static const int offer_suites[SBC_OFFER_SUITES] = {SBC_SUITE_AES_CM_80, SBC_SUITE_AES_CM_32};
	if (c->offered_count != SBC_OFFER_SUITES) { /* keys stay across re-offers */
		for (size_t i = 0; i < SBC_OFFER_SUITES; i++)
			random_key(s, &c->offered[i], (unsigned)i + 1, offer_suites[i]);
		c->offered_count = SBC_OFFER_SUITES;
	}
	for (size_t i = 0; i < c->offered_count; i++) {
		int rc = add_sdes(m, i, &c->offered[i]);
		if (rc != IL_SBC_OK)
			return rc;
	}
	return IL_SBC_OK;
}

int sbc_crypto_rewrite(il_sbc_session *s, sbc_leg *to, const sbc_leg *from, il_sdp_session *sdp,
		       int mi, bool is_offer, uint64_t now_ms)
{
	(void)now_ms;
	strip_lines(sdp->lines, &sdp->line_count);
	for (size_t i = 0; i < sdp->media_count; i++)
		strip_lines(sdp->media[i].lines, &sdp->media[i].line_count);
	il_sdp_media *m = &sdp->media[mi];
	int source = from->crypto ? from->crypto->profile : IL_SBC_PROFILE_RTP;
	int target;
	if (!is_offer)
		target = to->crypto ? to->crypto->profile : IL_SBC_PROFILE_RTP; /* as it offered */
	else if (to->peer.present)
		target = to->crypto ? to->crypto->profile : IL_SBC_PROFILE_RTP; /* as agreed */
	else if (to->cfg.profile >= IL_SBC_PROFILE_RTP && to->cfg.profile <= IL_SBC_PROFILE_DTLS)
		target = to->cfg.profile;
	else
		target = source;
	if (target == IL_SBC_PROFILE_RTP) {
		if (source != IL_SBC_PROFILE_RTP)
			snprintf(m->proto, sizeof m->proto, "RTP/AVP");
		return IL_SBC_OK;
	}
	if (!is_offer) {
		/* The answer's proto is the offer's (RFC 3264 §6.1). */
		sbc_leg_crypto *c = to->crypto;
		snprintf(m->proto, sizeof m->proto, "%s", c->proto);
		if (target == IL_SBC_PROFILE_SDES)
			return add_sdes(m, 0, &c->our_sdes);
		return add_dtls(m, c->we_client ? "active" : "passive");
	}
	if (target != source)
		snprintf(m->proto, sizeof m->proto, "%s",
			 target == IL_SBC_PROFILE_SDES ? "RTP/SAVP" : "UDP/TLS/RTP/SAVPF");
	return our_offer(s, to, m, target);
}
