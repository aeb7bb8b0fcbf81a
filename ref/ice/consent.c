/* Consent freshness (RFC 7675) on the pairs media goes on, and
 * keepalives (RFC 8445 §11) when consent is off.
 *
 * "each interval MUST be randomized from between 0.8 and 1.2 times the
 * basic period" (§5.1); "Each STUN binding request for consent is
 * transmitted once only" and "a response might be for a previous request",
 * so the last CONSENT_TXNS requests are awaited at once; "Consent expires
 * after 30 seconds ... the endpoint MUST cease transmission on that
 * 5-tuple" and "STUN consent responses received after consent expiry do
 * not re-establish consent". Lite agents send no consent requests. */
#include <string.h>

#include "ice_internal.h"

static bool consent_on(const il_ice_agent *a)
{
	return a->cfg.consent && !a->cfg.lite;
}

static uint64_t jittered(il_ice_agent *a)
{
	uint32_t r;
	ice_random(a, &r, sizeof r);
	uint64_t base = a->cfg.consent_interval_ms;
	uint64_t span = base * 4 / 10;      /* 0.8 .. 1.2 x base */
	return base * 8 / 10 + (span ? r % (span + 1) : 0);
}

void ice_consent_start(il_ice_agent *a, ice_component *c, uint64_t now_ms)
{
	c->consent_ok_ms = now_ms;
	c->consent_expired = false;
	c->disconnected = false;
	memset(c->consent, 0, sizeof c->consent);
	c->consent_next_ms = consent_on(a) ? now_ms + jittered(a) : UINT64_MAX;
	if (c->last_sent_ms == 0)
		c->last_sent_ms = now_ms;
}

static void send_consent(il_ice_agent *a, unsigned si, unsigned component, ice_pair *p,
			 const il_ice_candidate *local, const il_addr *remote, uint64_t now_ms)
{
	ice_stream *s = a->streams[si];
	ice_component *c = &s->comp[component - 1];
	/* The oldest slot makes room: its request is given up. */
	ice_txn *t = &c->consent[0];
	for (unsigned i = 0; i < CONSENT_TXNS; i++) {
		if (!c->consent[i].active) {
			t = &c->consent[i];
			break;
		}
		if (c->consent[i].sent_ms < t->sent_ms)
			t = &c->consent[i];
	}
	memset(t, 0, sizeof *t);
	t->active = true;
	t->controlling = a->controlling;
	t->sent_ms = now_ms;
	ice_random(a, t->tid, sizeof t->tid);
	uint8_t buf[512];
	size_t n = ice_build_request(a, s, local, t, buf, sizeof buf);
	if (n == 0)
		return;
	p->consent_requests_sent++;
	p->requests_sent++;
	a->counters.requests_sent++;
	c->last_sent_ms = now_ms;
	ice_send(a, si, component, local, remote, buf, n);
}

static void send_keepalive(il_ice_agent *a, unsigned si, unsigned component,
			   const il_ice_candidate *local, const il_addr *remote, uint64_t now_ms)
{
	uint8_t tid[IL_STUN_TID_LEN], buf[64];
	ice_random(a, tid, sizeof tid);
	il_stun_builder b;
	il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_BINDING, IL_STUN_INDICATION, tid);
	il_stun_add_fingerprint(&b);
	size_t n = il_stun_builder_finish(&b, NULL);
	a->streams[si]->comp[component - 1].last_sent_ms = now_ms;
	if (n)
		ice_send(a, si, component, local, remote, buf, n);
}

static void component_timer(il_ice_agent *a, unsigned si, unsigned component, uint64_t now_ms)
{
	ice_stream *s = a->streams[si];
	ice_component *c = &s->comp[component - 1];
	const il_ice_candidate *local;
	const il_addr *remote;
	ice_pair *p = ice_media_pair(s, c, &local, &remote);
	if (!p || c->consent_expired)
		return;
	if (!consent_on(a)) {
		if (!a->cfg.lite && a->cfg.keepalive_ms &&
		    now_ms >= c->last_sent_ms + a->cfg.keepalive_ms)
			send_keepalive(a, si, component, local, remote, now_ms);
		return;
	}
	if (now_ms >= c->consent_ok_ms + a->cfg.consent_expiry_ms) {
		c->consent_expired = true;
		c->consent_next_ms = UINT64_MAX;
		/* "All outstanding STUN consent transactions for a candidate
		 * pair MUST be discarded when consent expires." */
		memset(c->consent, 0, sizeof c->consent);
		il_ice_event ev = {.type = IL_ICE_EV_CONSENT_EXPIRED, .stream = si,
				   .component = component};
		ice_emit(a, &ev);
		return;
	}
	if (!c->disconnected && a->cfg.consent_disconnect_ms &&
	    now_ms >= c->consent_ok_ms + a->cfg.consent_disconnect_ms)
		c->disconnected = true;
	if (now_ms >= c->consent_next_ms) {
		c->consent_next_ms = now_ms + jittered(a);
		send_consent(a, si, component, p, local, remote, now_ms);
	}
}

void ice_consent_timer(il_ice_agent *a, uint64_t now_ms)
{
	for (unsigned si = 0; si < a->stream_count; si++)
		for (unsigned c = 1; c <= a->streams[si]->components; c++)
			component_timer(a, si, c, now_ms);
}

uint64_t ice_consent_deadline(const il_ice_agent *a)
{
	uint64_t d = UINT64_MAX;
	for (unsigned si = 0; si < a->stream_count; si++) {
		ice_stream *s = a->streams[si];
		for (unsigned ci = 0; ci < s->components; ci++) {
			ice_component *c = &s->comp[ci];
			const il_ice_candidate *l;
			const il_addr *r;
			if (!ice_media_pair(s, c, &l, &r) || c->consent_expired)
				continue;
			if (!consent_on(a)) {
				if (!a->cfg.lite && a->cfg.keepalive_ms)
					d = ice_min(d, c->last_sent_ms + a->cfg.keepalive_ms);
				continue;
			}
			d = ice_min(d, c->consent_next_ms);
			d = ice_min(d, c->consent_ok_ms + a->cfg.consent_expiry_ms);
			if (!c->disconnected && a->cfg.consent_disconnect_ms)
				d = ice_min(d, c->consent_ok_ms + a->cfg.consent_disconnect_ms);
		}
	}
	return d;
}

bool ice_consent_handle_response(il_ice_agent *a, unsigned si, const il_stun_msg *msg,
				 const il_addr *local, const il_addr *remote, uint64_t now_ms)
{
	ice_stream *s = a->streams[si];
	for (unsigned ci = 0; ci < s->components; ci++) {
		ice_component *c = &s->comp[ci];
		for (unsigned k = 0; k < CONSENT_TXNS; k++) {
			ice_txn *t = &c->consent[k];
			if (!t->active || memcmp(t->tid, msg->tid, IL_STUN_TID_LEN) != 0)
				continue;
			if (il_stun_check_integrity(msg, &s->rkey) != IL_STUN_VERDICT_OK)
				return false; /* not from the peer: ignored */
			t->active = false;
			const il_ice_candidate *l;
			const il_addr *r;
			ice_pair *p = ice_media_pair(s, c, &l, &r);
			if (!p || c->consent_expired || msg->cls != IL_STUN_SUCCESS ||
			    !il_addr_equal(&l->base, local) || !il_addr_equal(r, remote))
				return true;
			uint32_t rtt = (uint32_t)(now_ms - t->sent_ms);
			p->rtt_ms = rtt;
			p->total_rtt_ms += rtt;
			p->rtt_samples++;
			p->responses_received++;
			p->last_response_ms = now_ms;
			a->counters.responses_received++;
			c->consent_ok_ms = now_ms;
			if (c->disconnected) {
				c->disconnected = false;
				ice_update_state(a, now_ms);
			}
			return true;
		}
	}
	return false;
}
