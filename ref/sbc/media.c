/* The SBC's media plane (issue #8 §3): one datagram on a leg's port,
 * demultiplexed (RFC 7983), STUN to the leg's ICE-lite agent, RTP and
 * RTCP (RFC 3550, RFC 5761 §4) checked against the leg's rules —
 * latching on a legacy leg, the ICE-checked sources on an ICE leg — and
 * forwarded on the other leg, to its latched source or selected pair
 * (symmetric RTP, RFC 4961). */
#include <string.h>

#include "icelab/peer_policy.h"
#include "sbc_crypto.h"
#include "sbc_internal.h"

static const char *const drop_names[] = {
	"not-media",	   "stun-not-ice",   "stun-invalid",	 "dtls",
	"not-negotiated",  "not-fitting",    "strict-source",	 "foreign-source",
	"unchecked-source", "no-destination", "ended",
	"srtp-auth",	   "srtp-replay",    "srtp-no-key",
	"not-relayed",
};
/* One name per reason, in enum order (the crypto and relay additions meet here). */
_Static_assert(sizeof drop_names / sizeof drop_names[0] == IL_SBC_DROP_COUNT, "drop names");

const char *il_sbc_drop_name(int reason)
{
	return reason >= 0 && reason < IL_SBC_DROP_COUNT ? drop_names[reason] : "?";
}

static const char *const event_names[] = {NULL,		   "latched", "source-adopted",
					  "ice-selected",  "media-connected",
					  "dropped",	   "timeout",
					  "dtls-connected", "dtls-failed", "srtp-mismatch",
					  "relay-ready",   "relay-failed"};
_Static_assert(sizeof event_names / sizeof event_names[0] == IL_SBC_EV_RELAY_FAILED + 1,
	       "event names");

const char *il_sbc_event_name(int type)
{
	return type >= 1 && type < (int)(sizeof event_names / sizeof event_names[0])
		       ? event_names[type]
		       : "?";
}

void sbc_emit(il_sbc_session *s, const il_sbc_event *ev)
{
	if (s->cb.event)
		s->cb.event(s->cb.user, ev);
}

/* ---- RTP and RTCP headers (RFC 3550 §5.1, §6.4) ---- */

typedef struct rtp_info {
	bool rtcp;
	uint8_t pt;
	uint16_t seq;
	uint32_t ssrc;
} rtp_info;

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool parse_rtp(const uint8_t *d, size_t len, rtp_info *out)
{
	if (len < 12 || d[0] >> 6 != 2)
		return false;
	size_t hl = 12 + 4u * (d[0] & 0x0f);
	if (d[0] & 0x10) { /* header extension */
		if (len < hl + 4)
			return false;
		hl += 4 + 4u * be16(d + hl + 2);
	}
	if (hl > len)
		return false;
	if ((d[0] & 0x20) && (d[len - 1] == 0 || d[len - 1] > len - hl))
		return false; /* padding */
	out->rtcp = false;
	out->pt = d[1] & 0x7f;
	out->seq = be16(d + 2);
	out->ssrc = be32(d + 8);
	return true;
}

/* The first packet of a compound RTCP packet: version 2, a packet type
 * in 192..223 (RFC 5761 §4), its length within the datagram. */
static bool parse_rtcp(const uint8_t *d, size_t len, rtp_info *out)
{
	if (len < 8 || d[0] >> 6 != 2 || d[1] < 192 || d[1] > 223)
		return false;
	if (((size_t)be16(d + 2) + 1) * 4 > len)
		return false;
	out->rtcp = true;
	out->pt = d[1];
	out->seq = 0;
	out->ssrc = be32(d + 4);
	return true;
}

static bool pt_listed(const sbc_leg *l, uint8_t pt)
{
	return l->peer.pt[pt / 8] & (1u << (pt % 8));
}

/* ---- drops ---- */

static int drop(sbc_leg *l, unsigned component, int reason, const il_addr *from)
{
	l->st.dropped[reason]++;
	il_sbc_event ev = {.type = IL_SBC_EV_DROPPED,
			   .leg = l->index,
			   .component = component,
			   .reason = reason,
			   .addr = *from};
	sbc_emit(l->s, &ev);
	return IL_SBC_DGRAM_DROPPED;
}

/* ---- an ICE leg ---- */

/* RFC 8445 §2.7 for a lite agent: media from the selected pair (or
 * during a restart the one selected before), or from an address that
 * sent a check with valid credentials (a pair the agent answered); never
 * from one that only appeared in SDP. Returns -1 when accepted, else the
 * drop reason. */
static int ice_accept(sbc_leg *l, unsigned comp, const il_addr *local, const il_addr *remote)
{
	if (l->has_media_pair[comp - 1] && il_addr_equal(&l->media_remote[comp - 1], remote))
		return -1; /* our one base per component is the port it came in on */
	il_ice_pair_stats ps;
	size_t n = il_ice_agent_pair_count(l->agent, 0);
	for (size_t i = 0; i < n; i++) {
		if (il_ice_agent_get_pair(l->agent, 0, i, &ps) != IL_ICE_OK)
			continue;
		if (ps.component == comp && ps.requests_received > 0 &&
		    il_addr_equal(&ps.remote.addr, remote) && il_addr_equal(&ps.local.base, local))
			return -1;
	}
	return IL_SBC_DROP_UNCHECKED_SOURCE;
}

/* ---- a legacy leg: latching ---- */

static void emit_latch(sbc_leg *l, int type, unsigned component, const il_addr *addr,
		       const il_addr *previous)
{
	il_sbc_event ev = {.type = type, .leg = l->index, .component = component, .addr = *addr,
			   .ssrc = l->ssrc};
	if (previous)
		ev.previous = *previous;
	sbc_emit(l->s, &ev);
}

static void latch_rtp(sbc_leg *l, const il_addr *remote, const rtp_info *h, uint64_t now_ms,
		      const il_addr *previous)
{
	l->latched[0] = true;
	l->source[0] = *remote;
	l->provisional = !il_addr_equal(remote, &l->peer.rtp);
	l->latched_ms = now_ms;
	l->ssrc = h->ssrc;
	l->last_seq = h->seq;
	l->cand_active = false;
	emit_latch(l, IL_SBC_EV_LATCHED, 1, remote, previous);
}

/* The adoption policy: the learnt SSRC, the first packet within
 * RTP_MAX_DROPOUT ahead of the latched stream, then each within
 * adopt_max_seq_gap of the one before, adopt_packets in a row. */
static bool adopt_step(sbc_leg *l, const il_addr *remote, const rtp_info *h)
{
	const il_sbc_config *cfg = &l->s->cfg;
	if (h->ssrc != l->ssrc || !pt_listed(l, h->pt)) {
		l->cand_active = false;
		return false;
	}
	if (!l->cand_active || !il_addr_equal(&l->cand, remote)) {
		uint16_t d = (uint16_t)(h->seq - l->last_seq);
		if (d == 0 || d > RTP_MAX_DROPOUT) {
			l->cand_active = false;
			return false;
		}
		l->cand_active = true;
		l->cand = *remote;
		l->cand_count = 1;
		l->cand_seq = h->seq;
	} else {
		uint16_t d = (uint16_t)(h->seq - l->cand_seq);
		if (d == 0 || d > cfg->adopt_max_seq_gap) {
			l->cand_active = false;
			return false;
		}
		l->cand_count++;
		l->cand_seq = h->seq;
	}
	return l->cand_count >= cfg->adopt_packets;
}

static int latch_accept_rtp(sbc_leg *l, const il_addr *remote, const rtp_info *h, uint64_t now_ms)
{
	const il_sbc_config *cfg = &l->s->cfg;
	bool from_sdp = il_addr_equal(remote, &l->peer.rtp);
	if (!l->latched[0]) {
		if (!pt_listed(l, h->pt))
			return IL_SBC_DROP_NOT_FITTING;
		if (cfg->strict_source && !from_sdp)
			return IL_SBC_DROP_STRICT_SOURCE;
		latch_rtp(l, remote, h, now_ms, NULL);
		return -1;
	}
	if (il_addr_equal(remote, &l->source[0])) {
		l->ssrc = h->ssrc; /* a new SSRC on the same 5-tuple (RFC 3550 §8.2) */
		l->last_seq = h->seq;
		l->cand_active = false; /* the latched source is alive: no rebinding */
		return -1;
	}
	/* Prefer the SDP address: it takes over a provisional latch. */
	if (l->provisional && from_sdp && pt_listed(l, h->pt) &&
	    now_ms < l->latched_ms + cfg->prefer_sdp_ms) {
		il_addr previous = l->source[0];
		latch_rtp(l, remote, h, now_ms, &previous);
		l->latched[1] = false;
		return -1;
	}
	if (!cfg->adopt_new_source || !adopt_step(l, remote, h))
		return IL_SBC_DROP_FOREIGN_SOURCE;
	il_addr previous = l->source[0];
	l->source[0] = *remote;
	l->provisional = false;
	l->last_seq = h->seq;
	l->cand_active = false;
	l->latched[1] = false; /* RTCP latches again, on the learnt SSRC */
	l->st.adoptions++;
	emit_latch(l, IL_SBC_EV_SOURCE_ADOPTED, 1, remote, &previous);
	return -1;
}

/* RTCP on its own port: from the SDP's RTCP address, or carrying the
 * SSRC learnt on RTP. */
static int latch_accept_rtcp(sbc_leg *l, const il_addr *remote, const rtp_info *h)
{
	if (l->latched[1])
		return il_addr_equal(remote, &l->source[1]) ? -1 : IL_SBC_DROP_FOREIGN_SOURCE;
	bool from_sdp = il_addr_equal(remote, &l->peer.rtcp);
	if (l->s->cfg.strict_source && !from_sdp)
		return IL_SBC_DROP_STRICT_SOURCE;
	if (!from_sdp && !(l->latched[0] && h->ssrc == l->ssrc))
		return IL_SBC_DROP_NOT_FITTING;
	l->latched[1] = true;
	l->source[1] = *remote;
	emit_latch(l, IL_SBC_EV_LATCHED, 2, remote, NULL);
	return -1;
}

static int latch_accept(sbc_leg *l, unsigned component, const il_addr *remote, const rtp_info *h,
			uint64_t now_ms)
{
	if (component == 2)
		return latch_accept_rtcp(l, remote, h);
	if (!h->rtcp)
		return latch_accept_rtp(l, remote, h, now_ms);
	/* RTCP multiplexed on the RTP port: only from the latched source. */
	if (!l->latched[0])
		return IL_SBC_DROP_NOT_FITTING;
	return il_addr_equal(remote, &l->source[0]) ? -1 : IL_SBC_DROP_FOREIGN_SOURCE;
}

/* ---- forwarding ---- */

/* Before latching, the SDP address, unless it is one we cannot reach
 * (private, unless configured) or none (0.0.0.0, FQDN). */
static bool sdp_destination(const sbc_leg *l, const il_addr *a)
{
	static const uint8_t zero[16];
	if (a->family == IL_AF_NONE || a->port == 0 ||
	    memcmp(a->ip, zero, a->family == IL_AF_INET ? 4 : 16) == 0)
		return false;
	return l->s->cfg.send_to_private_sdp || !il_addr_is_private(a);
}

static bool forward(sbc_leg *out, bool rtcp, const uint8_t *data, size_t len, uint64_t now_ms)
{
	if (!out->peer.present)
		return false;
	/* Toward an SRTP leg: our key for it (none yet: nowhere to send). */
	bool srtp = sbc_crypto_srtp_leg(out);
	if (out->ice) {
		unsigned comp = rtcp && !out->rtcp_mux ? 2 : 1;
		if (!out->agent || (srtp && !sbc_crypto_protect(out, rtcp, &data, &len)) ||
		    il_ice_agent_send(out->agent, 0, comp, data, len, now_ms) != IL_ICE_OK)
			return false;
	} else {
		bool own_port = rtcp && !out->rtcp_mux;
		unsigned k = own_port ? 1 : 0;
		const il_addr *to = NULL;
		if (out->latched[k])
			to = &out->source[k];
		else if (sdp_destination(out, own_port ? &out->peer.rtcp : &out->peer.rtp))
			to = own_port ? &out->peer.rtcp : &out->peer.rtp;
		if (!to || (srtp && !sbc_crypto_protect(out, rtcp, &data, &len)))
			return false;
		const il_addr *from = own_port ? &out->rtcp_bind : &out->cfg.bind;
		out->s->cb.send(out->s->cb.user, from, to, data, len);
	}
	out->st.tx_packets++;
	out->st.tx_bytes += len;
	if (rtcp)
		out->st.tx_rtcp++;
	return true;
}

static void check_connected(il_sbc_session *s)
{
	if (s->state != IL_SBC_STATE_ANSWERED || !s->leg[0].st.tx_packets ||
	    !s->leg[1].st.tx_packets)
		return;
	s->state = IL_SBC_STATE_CONNECTED;
	/* On the stack: the line is the event's, for its callback only (an
	 * idle call keeps no 512 bytes for it). */
	char line[512];
	if (il_sbc_session_format_connected(s, line, sizeof line) < 0)
		line[0] = '\0';
	il_sbc_event ev = {.type = IL_SBC_EV_MEDIA_CONNECTED, .text = line};
	sbc_emit(s, &ev);
}

/* ---- the datagram path ---- */

bool il_sbc_session_owns(const il_sbc_session *s, const il_addr *local)
{
	for (int i = 0; i < 2; i++)
		if (il_addr_equal(local, &s->leg[i].cfg.bind) ||
		    il_addr_equal(local, &s->leg[i].rtcp_bind))
			return true;
	return false;
}

static int handle_stun(sbc_leg *l, unsigned component, const il_addr *local,
		       const il_addr *remote, const uint8_t *data, size_t len, uint64_t now_ms)
{
	if (!l->agent)
		return drop(l, component, IL_SBC_DROP_STUN_NOT_ICE, remote);
	l->st.stun_in++;
	if (il_ice_agent_handle_datagram(l->agent, local, remote, data, len, now_ms) ==
	    IL_ICE_DGRAM_DROPPED)
		return drop(l, component, IL_SBC_DROP_STUN_INVALID, remote);
	return IL_SBC_DGRAM_STUN;
}

/* DTLS (RFC 7983: 20..63) goes to the leg's DTLS-SRTP endpoint, from
 * where media may come from: on an ICE leg a checked source, on a
 * legacy leg the latched source once there is one. */
static int handle_dtls(sbc_leg *l, unsigned component, const il_addr *local,
		       const il_addr *remote, const uint8_t *data, size_t len, uint64_t now_ms)
{
	if (!sbc_crypto_dtls_leg(l) || component != 1 || sbc_crypto_dtls_failed(l))
		return drop(l, component, IL_SBC_DROP_DTLS, remote);
	int reason = -1;
	if (l->ice)
		reason = l->agent ? ice_accept(l, 1, local, remote) : IL_SBC_DROP_UNCHECKED_SOURCE;
	else if (l->latched[0] && !il_addr_equal(remote, &l->source[0]))
		reason = IL_SBC_DROP_FOREIGN_SOURCE;
	if (reason >= 0)
		return drop(l, component, reason, remote);
	return sbc_crypto_handle_dtls(l, remote, data, len, now_ms);
}

bool sbc_leg_destination(const sbc_leg *l, il_addr *to)
{
	if (l->ice) {
		if (!l->has_media_pair[0])
			return false;
		*to = l->media_remote[0];
		return true;
	}
	if (l->latched[0]) {
		*to = l->source[0];
		return true;
	}
	if (!sdp_destination(l, &l->peer.rtp))
		return false;
	*to = l->peer.rtp;
	return true;
}

int il_sbc_session_handle_datagram(il_sbc_session *s, const il_addr *local, const il_addr *remote,
				   const uint8_t *data, size_t len, uint64_t now_ms)
{
	if (!s || !local || !remote || !data)
		return IL_SBC_DGRAM_DROPPED;
	sbc_leg *l = NULL;
	unsigned component = 0;
	for (unsigned i = 0; i < 2 && !l; i++) {
		if (il_addr_equal(local, &s->leg[i].cfg.bind))
			component = 1;
		else if (il_addr_equal(local, &s->leg[i].rtcp_bind))
			component = 2;
		else if (sbc_relay_owns(&s->leg[i], local))
			component = 1; /* unwrapped by the leg's TURN client (relay.c) */
		if (component)
			l = &s->leg[i];
	}
	if (!l)
		return IL_SBC_DGRAM_DROPPED; /* not our port: the driver's business */
	if (l->relay && !sbc_relay_owns(l, local)) {
		/* Force-relay: the leg's port hears only our TURN server. */
		int r = sbc_relay_datagram(l, component, remote, data, len, now_ms);
		return r >= 0 ? r : drop(l, component, IL_SBC_DROP_NOT_RELAYED, remote);
	}
	if (s->state == IL_SBC_STATE_ENDED)
		return drop(l, component, IL_SBC_DROP_ENDED, remote);
	if (len == 0)
		return drop(l, component, IL_SBC_DROP_NOT_MEDIA, remote);
	/* RFC 7983 §7: the first byte tells STUN, DTLS and RTP/RTCP apart. */
	uint8_t b = data[0];
	if (b <= 3)
		return handle_stun(l, component, local, remote, data, len, now_ms);
	if (b >= 20 && b <= 63)
		return handle_dtls(l, component, local, remote, data, len, now_ms);
	if (b < 128 || b > 191)
		return drop(l, component, IL_SBC_DROP_NOT_MEDIA, remote);
	rtp_info h;
	bool rtcp = component == 2 || (len >= 2 && data[1] >= 192 && data[1] <= 223);
	/* RFC 3711 §3.3: authenticate before anything looks at the packet:
	 * a packet that fails never latches nor teaches a source. */
	if (sbc_crypto_srtp_leg(l)) {
		int why = sbc_crypto_unprotect(l, rtcp, &data, &len, remote);
		if (why >= 0)
			return drop(l, component, why, remote);
	}
	if (!(rtcp ? parse_rtcp(data, len, &h) : parse_rtp(data, len, &h)))
		return drop(l, component, IL_SBC_DROP_NOT_MEDIA, remote);
	if (!l->peer.present)
		return drop(l, component, IL_SBC_DROP_NOT_NEGOTIATED, remote);
	int reason;
	if (l->ice) {
		unsigned comp = component == 2 ? 2 : 1; /* muxed RTCP is component 1 */
		reason = l->agent ? ice_accept(l, comp, local, remote) : IL_SBC_DROP_UNCHECKED_SOURCE;
	} else {
		reason = latch_accept(l, component, remote, &h, now_ms);
	}
	if (reason >= 0)
		return drop(l, component, reason, remote);
	l->st.rx_packets++;
	l->st.rx_bytes += len;
	if (rtcp)
		l->st.rx_rtcp++;
	l->st.last_rx_ms = now_ms;
	s->last_media_ms = now_ms;
	if (!forward(&s->leg[1 - l->index], rtcp, data, len, now_ms))
		return drop(l, component, IL_SBC_DROP_NO_DESTINATION, remote);
	check_connected(s);
	return IL_SBC_DGRAM_FORWARDED;
}
