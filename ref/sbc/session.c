/* The SBC media session (issue #8 §1, §2): its two legs, the offer and
 * answer that pass through it, the ICE-lite agent of an ICE leg, the
 * media timeout, and the query of a leg. The datagram path is media.c.
 *
 * Which legs speak ICE: the offerer's leg when its offer carries ICE
 * credentials (the answer toward it then carries ICE-lite); the
 * answerer's leg when leg_config.ice put ICE-lite in the offer toward it
 * and its answer carries credentials. rtcp-mux likewise (RFC 5761 §5.1.1:
 * only when offered and answered). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbc_crypto.h"
#include "sbc_internal.h"

static const char *const state_names[] = {"new", "offered", "answered", "connected", "ended"};

const char *il_sbc_state_name(int state)
{
	return state >= 0 && state <= IL_SBC_STATE_ENDED ? state_names[state] : "?";
}

void il_sbc_config_defaults(il_sbc_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->adopt_packets = 5;
	cfg->adopt_max_seq_gap = 3;
	cfg->prefer_sdp_ms = 2000;
	cfg->media_timeout_ms = 60000;
}

/* ---- the ICE-lite agent of a leg ---- */

static void agent_random(void *user, uint8_t *out, size_t len)
{
	sbc_leg *l = user;
	l->s->cb.random(l->s->cb.user, out, len);
}

static void agent_send(void *user, unsigned stream, unsigned component,
		       const il_ice_candidate *local, const il_addr *remote, const uint8_t *data,
		       size_t len)
{
	(void)stream;
	(void)component;
	sbc_leg *l = user;
	if (local->type == IL_ICE_CAND_RELAY) { /* force-relay: through the allocation */
		sbc_relay_send(l, remote, data, len);
		return;
	}
	l->s->cb.send(l->s->cb.user, &local->base, remote, data, len);
}

static void agent_event(void *user, const il_ice_event *ev)
{
	sbc_leg *l = user;
	if (ev->type != IL_ICE_EV_SELECTED_PAIR || ev->component < 1 ||
	    ev->component > IL_ICE_MAX_COMPONENTS)
		return;
	l->has_media_pair[ev->component - 1] = ev->pair != NULL;
	if (!ev->pair)
		return;
	l->media_remote[ev->component - 1] = ev->pair->remote.addr;
	sbc_relay_selected(l, &ev->pair->remote.addr); /* force-relay: a channel for it */
	il_sbc_event e = {.type = IL_SBC_EV_ICE_SELECTED,
			  .leg = l->index,
			  .component = ev->component,
			  .addr = ev->pair->remote.addr,
			  .local_type = ev->pair->local.type,
			  .remote_type = ev->pair->remote.type};
	sbc_emit(l->s, &e);
}

static void leg_free_agent(sbc_leg *l)
{
	il_ice_agent_free(l->agent);
	l->agent = NULL;
	l->components = 0;
	memset(l->has_media_pair, 0, sizeof l->has_media_pair);
}

/* An ICE-lite agent with one host candidate per component on our bind
 * address. ufrag/pwd
 * NULL: new random credentials. */
static int leg_make_agent(sbc_leg *l, unsigned components, const char *ufrag, const char *pwd,
			  uint64_t now_ms)
{
	char keep_ufrag[IL_ICE_UFRAG_MAX + 1], keep_pwd[IL_ICE_PWD_MAX + 1];
	if (ufrag) { /* they may point into the agent we free */
		snprintf(keep_ufrag, sizeof keep_ufrag, "%s", ufrag);
		snprintf(keep_pwd, sizeof keep_pwd, "%s", pwd);
	}
	leg_free_agent(l);
	il_ice_config cfg;
	il_ice_config_defaults(&cfg);
	cfg.lite = true;
	cfg.consent = false;
	cfg.software = l->s->cfg.software;
	/* ICE-lite: one candidate of ours per component (host, or relayed),
	 * remote ones only from checks that came with our credentials: a few
	 * per leg, not the maxima of a full agent (RSS per call, §7). */
	cfg.max_local_candidates = 2;
	cfg.max_remote_candidates = 16;
	cfg.max_pairs = 16;
	il_ice_callbacks cb = {.user = l, .random = agent_random, .send = agent_send,
			       .event = agent_event};
	l->agent = il_ice_agent_new(&cfg, &cb);
	if (!l->agent ||
	    il_ice_agent_add_stream(l->agent, components, ufrag ? keep_ufrag : NULL,
				    ufrag ? keep_pwd : NULL) != 0)
		goto fail;
	for (unsigned comp = 1; comp <= components; comp++) {
		il_ice_candidate c;
		memset(&c, 0, sizeof c);
		c.component = (uint16_t)comp;
		c.type = IL_ICE_CAND_HOST;
		c.transport = IL_ICE_TRANSPORT_UDP;
		c.priority = il_ice_candidate_priority(IL_ICE_TYPE_PREF_HOST, 65535, comp);
		/* The agent knows its candidate as our bind address (it
		 * makes a host candidate its own base): the public address is
		 * what the SDP says, and the 1:1 mapping in front of us
		 * brings the checks here. */
		c.addr = comp == 1 ? l->cfg.bind : l->rtcp_bind;
		sbc_relay_candidate(l, &c); /* force-relay: the relayed one instead */
		if (il_ice_agent_add_local_candidate(l->agent, 0, &c, now_ms) < 0)
			goto fail;
	}
	il_ice_agent_local_end_of_candidates(l->agent, 0, now_ms);
	if (il_ice_agent_start(l->agent, now_ms) != IL_ICE_OK)
		goto fail;
	l->components = components;
	return IL_SBC_OK;
fail:
	leg_free_agent(l);
	return IL_SBC_ERR_ICE;
}

/* The agent a leg needs for `ice` with `mux`: kept when it fits (same
 * credentials when only the component count changes). */
static int leg_ensure_agent(sbc_leg *l, bool ice, bool mux, uint64_t now_ms)
{
	if (!ice) {
		leg_free_agent(l);
		return IL_SBC_OK;
	}
	unsigned components = mux ? 1 : 2;
	if (l->agent && l->components == components)
		return IL_SBC_OK;
	if (l->agent)
		return leg_make_agent(l, components, il_ice_agent_local_ufrag(l->agent, 0),
				      il_ice_agent_local_pwd(l->agent, 0), now_ms);
	return leg_make_agent(l, components, NULL, NULL, now_ms);
}

/* The candidates of the peer's SDP (being parsed into s->sdp), so that a
 * check from one of them comes from a known remote candidate, of its
 * signalled type, not a peer-reflexive one (RFC 8445 §7.3.1.3). Ones the
 * agent refuses (a component it lacks, a repeat, TCP) are left out. */
static void leg_add_remote_candidates(sbc_leg *l, uint64_t now_ms)
{
	const il_sdp_session *sdp = l->s->sdp;
	int mi = sdp ? il_sbc_sdp_bridged_media(sdp) : -1;
	if (mi < 0)
		return;
	const il_sdp_media *m = &sdp->media[mi];
	for (size_t i = 0; i < m->candidate_count; i++)
		if (m->candidates[i].cand.transport == IL_ICE_TRANSPORT_UDP)
			(void)il_ice_agent_add_remote_candidate(l->agent, 0, &m->candidates[i].cand,
								now_ms);
}

/* The peer's credentials; changed ones on a known leg are an ICE restart
 * (RFC 8445 §9): we answer it with new credentials of our own. */
static int leg_set_remote_ice(sbc_leg *l, const sbc_peer_sdp *old, uint64_t now_ms)
{
	if (!l->agent || !l->peer.ice)
		return IL_SBC_OK;
	bool restart = old->present && old->ice && (strcmp(old->ufrag, l->peer.ufrag) != 0 ||
						     strcmp(old->pwd, l->peer.pwd) != 0);
	if (restart && il_ice_agent_restart(l->agent, 0, NULL, NULL, now_ms) != IL_ICE_OK)
		return IL_SBC_ERR_ICE;
	if (il_ice_agent_set_remote_credentials(l->agent, 0, l->peer.ufrag, l->peer.pwd, now_ms) !=
	    IL_ICE_OK)
		return IL_SBC_ERR_ICE;
	leg_add_remote_candidates(l, now_ms);
	return IL_SBC_OK;
}

/* ---- lifecycle ---- */

static int leg_init(il_sbc_session *s, unsigned index, const il_sbc_leg_config *cfg)
{
	sbc_leg *l = &s->leg[index];
	if (!cfg || (cfg->bind.family != IL_AF_INET && cfg->bind.family != IL_AF_INET6) ||
	    cfg->bind.port == 0 || cfg->bind.port == UINT16_MAX)
		return IL_SBC_ERR_ARGUMENT;
	l->s = s;
	l->index = index;
	l->cfg = *cfg;
	l->rtcp_bind = cfg->bind;
	l->rtcp_bind.port++;
	l->advertised = s->cfg.advertised;
	l->advertised.port = cfg->bind.port;
	return IL_SBC_OK;
}

il_sbc_session *il_sbc_session_new(const il_sbc_config *cfg, const il_sbc_leg_config *leg_a,
				   const il_sbc_leg_config *leg_b, const il_sbc_callbacks *cb,
				   uint64_t now_ms, int *err)
{
	int dummy;
	if (!err)
		err = &dummy;
	*err = IL_SBC_ERR_ARGUMENT;
	if (!cfg || !cb || !cb->send || !cb->random)
		return NULL;
	if (!il_sbc_advertised_ok(&cfg->advertised, cfg->allow_private_advertised)) {
		*err = IL_SBC_ERR_PRIVATE;
		return NULL;
	}
	il_sbc_session *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->cfg = *cfg;
	if (s->cfg.adopt_packets == 0)
		s->cfg.adopt_packets = 1;
	if (s->cfg.adopt_max_seq_gap == 0)
		s->cfg.adopt_max_seq_gap = 1;
	s->cb = *cb;
	s->last_media_ms = now_ms;
	if (leg_init(s, 0, leg_a) != IL_SBC_OK || leg_init(s, 1, leg_b) != IL_SBC_OK) {
		il_sbc_session_free(s);
		return NULL;
	}
	/* Force-relay legs start their allocations now (relay.c). */
	if (sbc_relay_start(&s->leg[0], now_ms) != IL_SBC_OK ||
	    sbc_relay_start(&s->leg[1], now_ms) != IL_SBC_OK) {
		il_sbc_session_free(s);
		return NULL;
	}
	*err = IL_SBC_OK;
	return s;
}

void il_sbc_session_free(il_sbc_session *s)
{
	if (!s)
		return;
	for (int i = 0; i < 2; i++) {
		sbc_relay_free(&s->leg[i]);
		leg_free_agent(&s->leg[i]);
	}
	sbc_crypto_free(s);
	free(s->sdp);
	free(s);
}

/* ---- offer / answer ---- */

static void parse_payload_types(const char *formats, uint8_t pt[16])
{
	memset(pt, 0, 16);
	const char *p = formats;
	while (*p) {
		while (*p == ' ')
			p++;
		unsigned v = 0, digits = 0;
		while (*p >= '0' && *p <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(*p++ - '0');
			digits++;
		}
		if (digits && v < 128 && (*p == ' ' || *p == '\0'))
			pt[v / 8] |= (uint8_t)(1u << (v % 8));
		while (*p && *p != ' ')
			p++;
	}
}

/* "a=rtcp:PORT [IN IP4 addr]" (RFC 3605) among the kept lines. */
static void parse_rtcp_attribute(const il_sdp_media *m, il_addr *rtcp)
{
	for (size_t i = 0; i < m->line_count; i++) {
		const il_sdp_line *l = &m->lines[i];
		if (l->len < 8 || memcmp(l->text, "a=rtcp:", 7) != 0)
			continue;
		char buf[128];
		size_t n = l->len - 7 < sizeof buf - 1 ? l->len - 7 : sizeof buf - 1;
		memcpy(buf, l->text + 7, n);
		buf[n] = '\0';
		unsigned port;
		char ip[64];
		int got = sscanf(buf, "%u IN IP%*1[46] %63s", &port, ip);
		if (got < 1 || port == 0 || port > 65535)
			return;
		rtcp->port = (uint16_t)port;
		if (got == 2) {
			char text[IL_ADDR_STRLEN + 8];
			il_addr a;
			snprintf(text, sizeof text, strchr(ip, ':') ? "[%s]:%u" : "%s:%u", ip, port);
			if (il_addr_parse(text, &a) == 0)
				*rtcp = a;
		}
		return;
	}
}

static void peer_from_sdp(sbc_peer_sdp *p, const il_sdp_session *sdp, int mi)
{
	const il_sdp_media *m = &sdp->media[mi];
	memset(p, 0, sizeof *p);
	p->present = true;
	const il_sdp_connection *c = m->conn.present ? &m->conn : &sdp->conn;
	if (c->present) {
		char text[IL_SDP_HOST_MAX + 16];
		snprintf(text, sizeof text, strchr(c->address, ':') ? "[%s]:%u" : "%s:%u",
			 c->address, m->port);
		if (il_addr_parse(text, &p->rtp) != 0)
			memset(&p->rtp, 0, sizeof p->rtp);
	}
	p->rtcp_mux = m->rtcp_mux;
	p->rtcp = p->rtp;
	if (p->rtp.family != IL_AF_NONE && !p->rtcp_mux)
		p->rtcp.port = (uint16_t)(p->rtp.port + 1);
	parse_rtcp_attribute(m, &p->rtcp);
	const char *ufrag = il_sdp_media_ufrag(sdp, m), *pwd = il_sdp_media_pwd(sdp, m);
	if (ufrag && pwd) {
		p->ice = true;
		snprintf(p->ufrag, sizeof p->ufrag, "%s", ufrag);
		snprintf(p->pwd, sizeof p->pwd, "%s", pwd);
	}
	parse_payload_types(m->formats, p->pt);
}

static bool ip_is_unspecified(const il_addr *a)
{
	static const uint8_t zero[16];
	return a->family == IL_AF_NONE ||
	       memcmp(a->ip, zero, a->family == IL_AF_INET ? 4 : 16) == 0;
}

static void add_forbidden(il_sbc_sdp_params *rw, const il_addr *ip)
{
	if (ip_is_unspecified(ip) || rw->forbidden_count == IL_SBC_MAX_FORBIDDEN)
		return;
	il_addr a = *ip;
	a.port = 0;
	il_addr adv = rw->advertised;
	adv.port = 0;
	if (il_addr_equal(&a, &adv))
		return;
	for (size_t i = 0; i < rw->forbidden_count; i++)
		if (il_addr_equal(&rw->forbidden[i], &a))
			return;
	rw->forbidden[rw->forbidden_count++] = a;
}

static void add_forbidden_text(il_sbc_sdp_params *rw, const char *ip)
{
	char text[IL_SDP_HOST_MAX + 16];
	il_addr a;
	snprintf(text, sizeof text, strchr(ip, ':') ? "[%s]:1" : "%s:1", ip);
	if (il_addr_parse(text, &a) == 0)
		add_forbidden(rw, &a);
}

/* The far leg's own addresses (origin, connections, candidates) and our
 * binds: none of them may cross the bridge. */
static void collect_forbidden(il_sbc_sdp_params *rw, const il_sdp_session *sdp,
			      const il_sbc_session *s)
{
	add_forbidden(rw, &s->leg[0].cfg.bind);
	add_forbidden(rw, &s->leg[1].cfg.bind);
	add_forbidden_text(rw, sdp->origin.address);
	if (sdp->conn.present)
		add_forbidden_text(rw, sdp->conn.address);
	for (size_t i = 0; i < sdp->media_count; i++) {
		const il_sdp_media *m = &sdp->media[i];
		if (m->conn.present)
			add_forbidden_text(rw, m->conn.address);
		for (size_t c = 0; c < m->candidate_count; c++) {
			add_forbidden(rw, &m->candidates[c].cand.addr);
			add_forbidden(rw, &m->candidates[c].cand.related);
		}
	}
}

/* Parses the SDP from leg `from`, records it as that leg's peer SDP and
 * writes the rewritten description toward leg `to`. */
static int pass_through(il_sbc_session *s, unsigned from, const char *sdp, size_t len,
			char *out, size_t cap, uint64_t now_ms, il_sdp_error *err, bool is_offer)
{
	sbc_leg *lf = &s->leg[from], *lt = &s->leg[1 - from];
	if (il_sdp_parse(sdp, len, s->sdp, err) != IL_SDP_OK)
		return IL_SBC_ERR_SDP;
	int mi = il_sbc_sdp_bridged_media(s->sdp);
	if (mi < 0)
		return IL_SBC_ERR_NO_MEDIA;
	sbc_peer_sdp old = lf->peer;
	peer_from_sdp(&lf->peer, s->sdp, mi);
	int rc;
	if (is_offer) {
		/* The offerer's leg speaks what it offered; toward the other
		 * leg we offer what its configuration says, or on a re-offer
		 * what was agreed. */
		lf->ice = lf->peer.ice;
		lf->rtcp_mux = lf->peer.rtcp_mux;
		if (!lt->peer.present) {
			lt->offered_ice = lt->cfg.ice;
			lt->offered_mux = lt->cfg.rtcp_mux;
		} else {
			lt->offered_ice = lt->ice;
			lt->offered_mux = lt->rtcp_mux;
		}
		rc = sbc_relay_check(lf, lf->ice, lf->rtcp_mux);
		if (rc == IL_SBC_OK)
			rc = sbc_relay_check_offer(lt);
		if (rc == IL_SBC_OK)
			rc = leg_ensure_agent(lf, lf->ice, lf->rtcp_mux, now_ms);
		if (rc == IL_SBC_OK)
			rc = leg_ensure_agent(lt, lt->offered_ice, lt->offered_mux, now_ms);
	} else {
		lf->ice = lf->offered_ice && lf->peer.ice;
		lf->rtcp_mux = lf->offered_mux && lf->peer.rtcp_mux;
		rc = sbc_relay_check(lf, lf->ice, lf->rtcp_mux);
		if (rc == IL_SBC_OK)
			rc = leg_ensure_agent(lf, lf->ice, lf->rtcp_mux, now_ms);
	}
	if (rc == IL_SBC_OK)
		rc = leg_set_remote_ice(lf, &old, now_ms);
	if (rc == IL_SBC_OK) /* SRTP keys, DTLS role (sdp_crypto.c) */
		rc = sbc_crypto_peer_sdp(s, lf, s->sdp, mi, is_offer, now_ms);
	if (rc == IL_SBC_ERR_RELAY_PENDING || rc == IL_SBC_ERR_RELAY)
		lf->peer = old; /* not taken: the same SDP may come again */
	if (rc != IL_SBC_OK)
		return rc;
	sbc_relay_permit_sdp(lf, s->sdp, mi, now_ms); /* force-relay: §9 permissions */

	bool to_ice = is_offer ? lt->offered_ice : lt->ice;
	bool to_mux = is_offer ? lt->offered_mux : lt->rtcp_mux;
	il_sbc_sdp_params rw = {
		.advertised = s->cfg.advertised,
		.allow_private = s->cfg.allow_private_advertised,
		.port = lt->cfg.bind.port,
		.media = mi,
		.ice = to_ice,
		.ufrag = lt->agent ? il_ice_agent_local_ufrag(lt->agent, 0) : NULL,
		.pwd = lt->agent ? il_ice_agent_local_pwd(lt->agent, 0) : NULL,
		.rtcp_mux = to_mux,
	};
	sbc_relay_sdp(lt, &rw); /* force-relay: the relayed address and candidate */
	collect_forbidden(&rw, s->sdp, s);
	rc = il_sbc_sdp_rewrite(s->sdp, &rw);
	if (rc == IL_SBC_OK) /* our crypto toward lt, none of lf's */
		rc = sbc_crypto_rewrite(s, lt, lf, s->sdp, mi, is_offer, now_ms);
	if (rc != IL_SBC_OK)
		return rc;
	int n = il_sdp_write(s->sdp, out, cap);
	if (n == IL_SDP_ERR_SPACE)
		return IL_SBC_ERR_SPACE;
	if (n < 0)
		return IL_SBC_ERR_SDP;
	/* The promise of §2: a private bind address never appears in any
	 * line we write. */
	for (int i = 0; i < 2; i++) {
		il_addr bind = s->leg[i].cfg.bind, adv = s->cfg.advertised;
		bind.port = adv.port = 0;
		if (!il_addr_equal(&bind, &adv) && il_sbc_sdp_find_ip(out, (size_t)n, &bind)) {
			out[0] = '\0';
			return IL_SBC_ERR_LEAK;
		}
	}
	return n;
}

/* The parse scratch (il_sdp_session, about 190 KiB) exists only while an
 * offer or answer passes: an idle call keeps none (issue #8 §7: RSS per
 * call). */
static int pass_through_scratch(il_sbc_session *s, unsigned from, const char *sdp, size_t len,
				char *out, size_t cap, uint64_t now_ms, il_sdp_error *err,
				bool is_offer)
{
	s->sdp = malloc(sizeof *s->sdp);
	if (!s->sdp)
		return IL_SBC_ERR_ARGUMENT;
	int n = pass_through(s, from, sdp, len, out, cap, now_ms, err, is_offer);
	free(s->sdp);
	s->sdp = NULL;
	return n;
}

int il_sbc_session_offer(il_sbc_session *s, unsigned from, const char *sdp, size_t len, char *out,
			 size_t cap, uint64_t now_ms, il_sdp_error *err)
{
	if (!s || from > 1 || !sdp || !out || cap == 0)
		return IL_SBC_ERR_ARGUMENT;
	if (s->state == IL_SBC_STATE_ENDED)
		return IL_SBC_ERR_STATE;
	int n = pass_through_scratch(s, from, sdp, len, out, cap, now_ms, err, true);
	if (n < 0)
		return n;
	s->offer_pending = true;
	s->offerer = from;
	if (s->state == IL_SBC_STATE_NEW)
		s->state = IL_SBC_STATE_OFFERED;
	return n;
}

int il_sbc_session_answer(il_sbc_session *s, unsigned from, const char *sdp, size_t len,
			  char *out, size_t cap, uint64_t now_ms, il_sdp_error *err)
{
	if (!s || from > 1 || !sdp || !out || cap == 0)
		return IL_SBC_ERR_ARGUMENT;
	if (s->state == IL_SBC_STATE_ENDED || !s->offer_pending || from == s->offerer)
		return IL_SBC_ERR_STATE;
	int n = pass_through_scratch(s, from, sdp, len, out, cap, now_ms, err, false);
	if (n < 0)
		return n;
	s->offer_pending = false;
	if (s->state < IL_SBC_STATE_ANSWERED) {
		s->state = IL_SBC_STATE_ANSWERED;
		s->last_media_ms = now_ms; /* the media timeout counts from the answer */
	}
	return n;
}

/* ---- timers ---- */

void il_sbc_session_timer(il_sbc_session *s, uint64_t now_ms)
{
	sbc_relay_timer(s, now_ms); /* allocation, permission and channel refreshes */
	for (int i = 0; i < 2; i++)
		if (s->leg[i].agent)
			il_ice_agent_timer(s->leg[i].agent, now_ms);
	sbc_crypto_timer(s, now_ms); /* DTLS: start, retransmit */
	if (s->state != IL_SBC_STATE_ANSWERED && s->state != IL_SBC_STATE_CONNECTED)
		return;
	if (s->cfg.media_timeout_ms == 0 || now_ms < s->last_media_ms + s->cfg.media_timeout_ms)
		return;
	/* A dead call: no media from either leg for the timeout. */
	s->state = IL_SBC_STATE_ENDED;
	for (int i = 0; i < 2; i++)
		if (s->leg[i].agent)
			il_ice_agent_close(s->leg[i].agent, now_ms);
	il_sbc_event ev = {.type = IL_SBC_EV_TIMEOUT};
	sbc_emit(s, &ev);
}

uint64_t il_sbc_session_next_deadline(const il_sbc_session *s)
{
	uint64_t d = UINT64_MAX;
	for (int i = 0; i < 2; i++) {
		if (!s->leg[i].agent)
			continue;
		uint64_t a = il_ice_agent_next_deadline(s->leg[i].agent);
		if (a < d)
			d = a;
	}
	uint64_t c = sbc_crypto_next_deadline(s);
	if (c < d)
		d = c;
	uint64_t r = sbc_relay_next_deadline(s);
	if (r < d)
		d = r;
	if ((s->state == IL_SBC_STATE_ANSWERED || s->state == IL_SBC_STATE_CONNECTED) &&
	    s->cfg.media_timeout_ms) {
		uint64_t t = s->last_media_ms + s->cfg.media_timeout_ms;
		if (t < d)
			d = t;
	}
	return d;
}

/* ---- query ---- */

int il_sbc_session_state(const il_sbc_session *s)
{
	return s->state;
}

int il_sbc_session_get_leg(const il_sbc_session *s, unsigned leg, il_sbc_leg_stats *out)
{
	if (!s || leg > 1 || !out)
		return IL_SBC_ERR_ARGUMENT;
	const sbc_leg *l = &s->leg[leg];
	*out = l->st;
	out->negotiated = l->peer.present;
	out->ice = l->ice;
	out->rtcp_mux = l->rtcp_mux;
	out->advertised = l->advertised;
	out->sdp_rtp = l->peer.rtp;
	out->sdp_rtcp = l->peer.rtcp;
	for (int i = 0; i < 2; i++) {
		out->latched[i] = l->latched[i];
		out->source[i] = l->source[i];
	}
	out->ssrc = l->ssrc;
	out->ice_state = l->agent ? il_ice_agent_get_state(l->agent) : IL_ICE_STATE_NEW;
	il_ice_pair_stats ps;
	out->has_selected = l->agent && il_ice_agent_get_selected_pair(l->agent, 0, 1, &ps) == IL_ICE_OK;
	if (out->has_selected) {
		out->selected_remote = ps.remote.addr;
		out->selected_remote_type = ps.remote.type;
	}
	sbc_crypto_leg_stats(l, out);
	sbc_relay_stats(l, out);
	return IL_SBC_OK;
}

il_ice_agent *il_sbc_session_ice_agent(il_sbc_session *s, unsigned leg)
{
	return s && leg <= 1 ? s->leg[leg].agent : NULL;
}

static bool put(char *out, size_t cap, size_t *at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static bool put(char *out, size_t cap, size_t *at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out + *at, cap - *at, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - *at)
		return false;
	*at += (size_t)n;
	return true;
}

int il_sbc_session_format_connected(const il_sbc_session *s, char *out, size_t cap)
{
	size_t at = 0;
	if (!out || cap == 0 || !put(out, cap, &at, "pair@connected"))
		return -1;
	for (unsigned i = 0; i < 2; i++) {
		il_sbc_leg_stats st;
		il_sbc_session_get_leg(s, i, &st);
		char local[IL_ADDR_STRLEN], remote[IL_ADDR_STRLEN] = "-";
		il_addr_format(&st.advertised, local, sizeof local);
		const char *rtype = "none";
		if (st.ice && st.has_selected) {
			rtype = il_ice_candidate_type_name(st.selected_remote_type);
			il_addr_format(&st.selected_remote, remote, sizeof remote);
		} else if (!st.ice && st.latched[0]) {
			/* A legacy leg: the source we latched, named as the
			 * SDP address or a learnt one. */
			rtype = il_addr_equal(&st.source[0], &st.sdp_rtp) ? "sdp" : "latched";
			il_addr_format(&st.source[0], remote, sizeof remote);
		}
		if (!put(out, cap, &at, " %s=%s local=%s %s remote=%s %s", i ? "b" : "a",
			 st.ice ? "ice" : "rtp", st.force_relay ? "relay" : "host", local, rtype,
			 remote))
			return -1;
	}
	const il_sbc_leg_stats *a = &s->leg[0].st, *b = &s->leg[1].st;
	if (!put(out, cap, &at, " a->b=%llu/%llu b->a=%llu/%llu",
		 (unsigned long long)b->tx_packets, (unsigned long long)b->tx_bytes,
		 (unsigned long long)a->tx_packets, (unsigned long long)a->tx_bytes))
		return -1;
	return (int)at;
}
