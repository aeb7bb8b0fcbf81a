/* A leg's crypto on the media path (issue #8 §3): SRTP and SRTCP
 * unprotected on the way in, before any latching or source decision
 * (media.c calls us first), protected on the way out; DTLS records to
 * the leg's DTLS-SRTP endpoint, its retransmission timer, and the SRTP
 * keys it exports. A leg without crypto state is plain RTP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbc_crypto.h"

static const char *const profile_names[] = {"same", "rtp", "sdes", "dtls"};

const char *il_sbc_profile_name(int profile)
{
	return profile >= 0 && profile <= IL_SBC_PROFILE_DTLS ? profile_names[profile] : "?";
}

int il_sbc_profile_parse(const char *text)
{
	static const struct {
		const char *name;
		int profile;
	} names[] = {{"same", IL_SBC_PROFILE_SAME},
		     {"rtp", IL_SBC_PROFILE_RTP},
		     {"sdes", IL_SBC_PROFILE_SDES},
		     {"dtls", IL_SBC_PROFILE_DTLS},
		     {"RTP/AVP", IL_SBC_PROFILE_RTP},
		     {"RTP/AVPF", IL_SBC_PROFILE_RTP},
		     {"RTP/SAVP", IL_SBC_PROFILE_SDES},
		     {"RTP/SAVPF", IL_SBC_PROFILE_SDES},
		     {"UDP/TLS/RTP/SAVP", IL_SBC_PROFILE_DTLS},
		     {"UDP/TLS/RTP/SAVPF", IL_SBC_PROFILE_DTLS}};
	for (size_t i = 0; text && i < sizeof names / sizeof names[0]; i++)
		if (strcmp(text, names[i].name) == 0)
			return names[i].profile;
	return -1;
}

static const char *const dtls_state_names[] = {"none", "waiting", "handshaking", "connected",
					       "failed"};

const char *il_sbc_dtls_state_name(int state)
{
	return state >= 0 && state <= IL_SBC_DTLS_FAILED ? dtls_state_names[state] : "?";
}

/* ---- state ---- */

sbc_leg_crypto *sbc_leg_crypto_get(sbc_leg *l)
{
	if (!l->crypto) {
		l->crypto = calloc(1, sizeof *l->crypto);
		if (l->crypto)
			l->crypto->profile = IL_SBC_PROFILE_RTP;
	}
	return l->crypto;
}

/* A packet unprotected or protected lives here until it is forwarded,
 * within one call of il_sbc_session_handle_datagram: one pair of
 * buffers per thread, not per session. */
static _Thread_local uint8_t rx_buf[SBC_CRYPTO_MAX_PACKET];
static _Thread_local uint8_t tx_buf[SBC_CRYPTO_MAX_PACKET + SRTP_MAX_TRAILER_LEN];

void sbc_crypto_free(il_sbc_session *s)
{
	for (int i = 0; i < 2; i++) {
		sbc_leg_crypto *c = s->leg[i].crypto;
		if (!c)
			continue;
		sbc_srtp_clear(&c->rx);
		sbc_srtp_clear(&c->tx);
		sbc_dtls_free(c->dtls);
		free(c);
		s->leg[i].crypto = NULL;
	}
}

bool sbc_crypto_srtp_leg(const sbc_leg *l)
{
	return l->crypto && (l->crypto->profile == IL_SBC_PROFILE_SDES ||
			     l->crypto->profile == IL_SBC_PROFILE_DTLS);
}

bool sbc_crypto_dtls_leg(const sbc_leg *l)
{
	return l->crypto && l->crypto->profile == IL_SBC_PROFILE_DTLS && l->crypto->dtls;
}

bool sbc_crypto_dtls_failed(const sbc_leg *l)
{
	return sbc_crypto_dtls_leg(l) && sbc_dtls_state(l->crypto->dtls) == IL_SBC_DTLS_FAILED;
}

/* ---- SRTP ---- */

int sbc_crypto_unprotect(sbc_leg *l, bool rtcp, const uint8_t **data, size_t *len,
			 const il_addr *from)
{
	sbc_leg_crypto *c = l->crypto;
	if (!c->rx.keyed)
		return IL_SBC_DROP_SRTP_NO_KEY;
	if (*len > SBC_CRYPTO_MAX_PACKET)
		return IL_SBC_DROP_NOT_MEDIA;
	memcpy(rx_buf, *data, *len);
	size_t n = *len;
	int st = sbc_srtp_unprotect(&c->rx, rtcp, rx_buf, &n);
	if (st == srtp_err_status_ok) {
		c->fail_streak = 0;
		c->unprotected++;
		*data = rx_buf;
		*len = n;
		return -1;
	}
	if (st == srtp_err_status_replay_fail || st == srtp_err_status_replay_old)
		return IL_SBC_DROP_SRTP_REPLAY;
	/* Wrong keys look like a stream of authentication failures: say
	 * so once per run of them, beside the per-packet drops. */
	if (++c->fail_streak == SBC_MISMATCH_PACKETS) {
		snprintf(c->text, sizeof c->text,
			 "%u SRTP packets in a row failed authentication (%s, %llu passed before): "
			 "the keys differ",
			 c->fail_streak, sbc_suite_name(c->rx.suite),
			 (unsigned long long)c->unprotected);
		il_sbc_event ev = {.type = IL_SBC_EV_SRTP_MISMATCH, .leg = l->index, .addr = *from,
				   .text = c->text};
		sbc_emit(l->s, &ev);
	}
	return IL_SBC_DROP_SRTP_AUTH;
}

bool sbc_crypto_protect(sbc_leg *l, bool rtcp, const uint8_t **data, size_t *len)
{
	sbc_leg_crypto *c = l->crypto;
	if (!c->tx.keyed || *len > SBC_CRYPTO_MAX_PACKET)
		return false;
	memcpy(tx_buf, *data, *len);
	size_t n = *len;
	if (sbc_srtp_protect(&c->tx, rtcp, tx_buf, &n, sizeof tx_buf) != srtp_err_status_ok)
		return false;
	c->protected_++;
	*data = tx_buf;
	*len = n;
	return true;
}

/* ---- DTLS ---- */

/* Where the handshake goes: the ICE pair; on a legacy leg the latched
 * source, else whoever spoke DTLS to us (the handshake and the
 * fingerprint authenticate it), else the SDP address. */
static bool dtls_destination(const sbc_leg *l, il_addr *to)
{
	if (!l->ice && !l->latched[0] && l->crypto->dtls_remote.family != IL_AF_NONE) {
		*to = l->crypto->dtls_remote;
		return true;
	}
	return sbc_leg_destination(l, to);
}

void sbc_crypto_dtls_send(void *user, const uint8_t *data, size_t len)
{
	sbc_leg *l = user;
	if (l->ice) {
		if (l->agent)
			il_ice_agent_send(l->agent, 0, 1, data, len, l->crypto->now_ms);
		return;
	}
	il_addr to;
	if (dtls_destination(l, &to))
		l->s->cb.send(l->s->cb.user, &l->cfg.bind, &to, data, len);
}

/* The handshake's outcome, once: keys to libsrtp2 and an event. */
static void dtls_progress(sbc_leg *l)
{
	sbc_leg_crypto *c = l->crypto;
	int st = sbc_dtls_state(c->dtls);
	if (c->dtls_reported || (st != IL_SBC_DTLS_CONNECTED && st != IL_SBC_DTLS_FAILED))
		return;
	c->dtls_reported = true;
	il_sbc_event ev = {.leg = l->index, .component = 1, .text = c->text};
	dtls_destination(l, &ev.addr);
	uint8_t local[SBC_KEY_MAX], remote[SBC_KEY_MAX];
	int suite = sbc_dtls_keys(c->dtls, local, remote);
	if (st == IL_SBC_DTLS_CONNECTED && sbc_srtp_set(&c->rx, suite, remote, true) == 0 &&
	    sbc_srtp_set(&c->tx, suite, local, false) == 0) {
		ev.type = IL_SBC_EV_DTLS_CONNECTED;
		snprintf(c->text, sizeof c->text, "dtls-srtp %s %s",
			 sbc_dtls_is_client(c->dtls) ? "client" : "server", sbc_suite_name(suite));
	} else {
		sbc_srtp_clear(&c->rx);
		sbc_srtp_clear(&c->tx);
		ev.type = IL_SBC_EV_DTLS_FAILED;
		snprintf(c->text, sizeof c->text, "dtls-srtp: %s",
			 sbc_dtls_error(c->dtls)[0] ? sbc_dtls_error(c->dtls) : "no SRTP keys");
	}
	memset(local, 0, sizeof local);
	memset(remote, 0, sizeof remote);
	sbc_emit(l->s, &ev);
}

int sbc_crypto_handle_dtls(sbc_leg *l, const il_addr *remote, const uint8_t *data, size_t len,
			   uint64_t now_ms)
{
	sbc_leg_crypto *c = l->crypto;
	if (!l->ice && !l->latched[0])
		c->dtls_remote = *remote;
	c->now_ms = now_ms;
	sbc_dtls_handle(c->dtls, data, len, now_ms);
	dtls_progress(l);
	return IL_SBC_DGRAM_DTLS;
}

/* A client waits until it has somewhere to send its ClientHello. */
static bool dtls_ready_to_start(const sbc_leg *l)
{
	il_addr to;
	return sbc_crypto_dtls_leg(l) && sbc_dtls_state(l->crypto->dtls) == IL_SBC_DTLS_WAITING &&
	       dtls_destination(l, &to);
}

void sbc_crypto_timer(il_sbc_session *s, uint64_t now_ms)
{
	for (int i = 0; i < 2; i++) {
		sbc_leg *l = &s->leg[i];
		if (!sbc_crypto_dtls_leg(l))
			continue;
		l->crypto->now_ms = now_ms;
		if (dtls_ready_to_start(l))
			sbc_dtls_start(l->crypto->dtls, now_ms);
		sbc_dtls_timer(l->crypto->dtls, now_ms);
		dtls_progress(l);
	}
}

uint64_t sbc_crypto_next_deadline(const il_sbc_session *s)
{
	uint64_t d = UINT64_MAX;
	for (int i = 0; i < 2; i++) {
		const sbc_leg *l = &s->leg[i];
		if (!sbc_crypto_dtls_leg(l))
			continue;
		if (dtls_ready_to_start(l))
			return 0; /* now */
		uint64_t t = sbc_dtls_deadline(l->crypto->dtls);
		if (t < d)
			d = t;
	}
	return d;
}

void sbc_crypto_leg_stats(const sbc_leg *l, il_sbc_leg_stats *out)
{
	const sbc_leg_crypto *c = l->crypto;
	out->profile = c ? c->profile : IL_SBC_PROFILE_RTP;
	if (!out->negotiated)
		out->profile = IL_SBC_PROFILE_SAME;
	out->srtp_rx = c && c->rx.keyed;
	out->srtp_tx = c && c->tx.keyed;
	out->dtls_state = c && c->dtls ? sbc_dtls_state(c->dtls) : IL_SBC_DTLS_NONE;
	out->srtp_unprotected = c ? c->unprotected : 0;
	out->srtp_protected = c ? c->protected_ : 0;
}
