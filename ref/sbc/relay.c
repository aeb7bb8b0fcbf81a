/* Force-relay on an SBC leg (issue #8 §4, sbc_relay.h): the leg's
 * allocation on our TURN server (RFC 8656) through the TURN client core,
 * the checks for an offer or answer toward the leg, the relayed
 * candidate of its ICE-lite agent and its SDP, permissions for the
 * peer's candidates (§9), a channel for the selected pair (§12), and the
 * datagram path: what comes from the TURN server is unwrapped and handed
 * to the session as if it arrived on the relayed address; what the leg's
 * agent sends goes back through the allocation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icelab/peer_policy.h"
#include "icelab/sbc_relay.h"
#include "icelab/turn_client.h"
#include "sbc_internal.h"

struct sbc_relay {
	sbc_leg *l;
	il_turn_client *turn;
	int state;               /* enum il_sbc_relay_state */
	il_addr relayed;
	uint64_t now_ms;         /* of the call in progress: the TURN client's callbacks need it */
	int inner_rc;            /* what a relayed datagram did; -1: none came */
	char error[160];
	uint64_t permissions, channels, unsent;
};

static const char *const state_names[] = {"off", "allocating", "ready", "failed"};

const char *il_sbc_relay_state_name(int state)
{
	return state >= 0 && state <= IL_SBC_RELAY_FAILED ? state_names[state] : "?";
}

const char *il_sbc_session_relay_error(const il_sbc_session *s, unsigned leg)
{
	if (!s || leg > 1 || !s->leg[leg].relay)
		return "";
	return s->leg[leg].relay->error;
}

static void relay_fail(sbc_relay *r, const char *what, const il_turn_client_event *ev)
{
	r->state = IL_SBC_RELAY_FAILED;
	if (ev && ev->error_code)
		snprintf(r->error, sizeof r->error, "TURN %s: %s %d %s", what,
			 il_turn_client_failure_name(ev->failure), ev->error_code, ev->reason);
	else if (ev)
		snprintf(r->error, sizeof r->error, "TURN %s: %s", what,
			 il_turn_client_failure_name(ev->failure));
	else
		snprintf(r->error, sizeof r->error, "%s", what);
	il_sbc_event e = {.type = IL_SBC_EV_RELAY_FAILED, .leg = r->l->index, .text = r->error};
	sbc_emit(r->l->s, &e);
}

/* ---- the TURN client's callbacks ---- */

static void turn_random(void *user, uint8_t *out, size_t len)
{
	sbc_relay *r = user;
	r->l->s->cb.random(r->l->s->cb.user, out, len);
}

/* Everything for the TURN server leaves from the leg's own port. */
static void turn_send(void *user, const uint8_t *data, size_t len)
{
	sbc_relay *r = user;
	il_sbc_session *s = r->l->s;
	s->cb.send(s->cb.user, &r->l->cfg.bind, &s->cfg.turn_server, data, len);
}

static void turn_event(void *user, const il_turn_client_event *ev)
{
	sbc_relay *r = user;
	switch (ev->type) {
	case IL_TURN_CLIENT_EV_ALLOCATED: {
		r->state = IL_SBC_RELAY_READY;
		r->relayed = ev->relayed[0];
		r->error[0] = '\0';
		il_sbc_event e = {.type = IL_SBC_EV_RELAY_READY, .leg = r->l->index,
				  .addr = r->relayed};
		sbc_emit(r->l->s, &e);
		break;
	}
	case IL_TURN_CLIENT_EV_ALLOCATE_FAILED:
		relay_fail(r, "allocation failed", ev);
		break;
	case IL_TURN_CLIENT_EV_ALLOCATION_LOST:
		/* The leg goes silent: media never falls back to a host path. */
		relay_fail(r, "allocation lost", ev);
		break;
	case IL_TURN_CLIENT_EV_RELEASED:
		r->state = IL_SBC_RELAY_FAILED;
		snprintf(r->error, sizeof r->error, "force-relay: released (the session ended)");
		break;
	case IL_TURN_CLIENT_EV_PERMISSION_OK:
		r->permissions++;
		break;
	case IL_TURN_CLIENT_EV_CHANNEL_BOUND:
		r->channels++;
		break;
	default:
		/* Refused: a channel (Send indications go on), or a
		 * permission (that peer stays out of reach). */
		break;
	}
}

/* A datagram from a peer, unwrapped (Data indication or ChannelData): it
 * arrived on the relayed address. */
static void turn_data(void *user, const il_addr *peer, const uint8_t *data, size_t len)
{
	sbc_relay *r = user;
	r->inner_rc = il_sbc_session_handle_datagram(r->l->s, &r->relayed, peer, data, len,
						     r->now_ms);
}

/* ---- lifecycle ---- */

int sbc_relay_start(sbc_leg *l, uint64_t now_ms)
{
	il_sbc_session *s = l->s;
	if (!l->cfg.force_relay)
		return IL_SBC_OK;
	const il_addr *srv = &s->cfg.turn_server;
	if (!l->cfg.ice || (srv->family != IL_AF_INET && srv->family != IL_AF_INET6) ||
	    srv->port == 0)
		return IL_SBC_ERR_ARGUMENT; /* force-relay is for an ICE leg with a TURN server */
	sbc_relay *r = calloc(1, sizeof *r);
	if (!r)
		return IL_SBC_ERR_ARGUMENT;
	r->l = l;
	r->now_ms = now_ms;
	r->inner_rc = -1;
	il_turn_client_config tc;
	il_turn_client_config_defaults(&tc);
	tc.username = s->cfg.turn_username;
	tc.password = s->cfg.turn_password;
	tc.software = s->cfg.software;
	tc.requested_family = l->cfg.bind.family;
	il_turn_client_callbacks cb = {.user = r, .random = turn_random, .send = turn_send,
				       .event = turn_event, .data = turn_data};
	r->turn = il_turn_client_new(&tc, &cb);
	l->relay = r;
	if (!r->turn) {
		sbc_relay_free(l);
		return IL_SBC_ERR_ARGUMENT;
	}
	r->state = IL_SBC_RELAY_ALLOCATING;
	if (il_turn_client_allocate(r->turn, now_ms) != IL_TURN_CLIENT_OK)
		relay_fail(r, "allocation could not start", NULL);
	return IL_SBC_OK;
}

/* A clean goodbye: Refresh with LIFETIME 0 (RFC 8656 §8.1), sent once. */
void sbc_relay_free(sbc_leg *l)
{
	sbc_relay *r = l->relay;
	if (!r)
		return;
	if (r->turn && r->state == IL_SBC_RELAY_READY)
		il_turn_client_release(r->turn, r->now_ms);
	il_turn_client_free(r->turn);
	free(r);
	l->relay = NULL;
}

/* ---- offer / answer ---- */

static int relay_ready(sbc_relay *r)
{
	if (r->state == IL_SBC_RELAY_READY)
		return IL_SBC_OK;
	return r->state == IL_SBC_RELAY_ALLOCATING ? IL_SBC_ERR_RELAY_PENDING : IL_SBC_ERR_RELAY;
}

static int refuse(sbc_relay *r, const char *why)
{
	snprintf(r->error, sizeof r->error, "force-relay: %s", why);
	return IL_SBC_ERR_RELAY;
}

int sbc_relay_check(sbc_leg *l, bool ice, bool mux)
{
	sbc_relay *r = l->relay;
	if (!r)
		return IL_SBC_OK;
	if (!ice)
		return refuse(r, "the leg's SDP has no ICE credentials (a relayed leg needs ICE)");
	if (!mux)
		return refuse(r, "the leg's SDP has no a=rtcp-mux (one relayed candidate only)");
	return relay_ready(r);
}

int sbc_relay_check_offer(sbc_leg *l)
{
	sbc_relay *r = l->relay;
	if (!r)
		return IL_SBC_OK;
	if (!l->offered_ice)
		return refuse(r, "the leg no longer speaks ICE");
	l->offered_mux = true; /* one allocation: RTP and RTCP on the relayed port */
	return relay_ready(r);
}

void sbc_relay_candidate(const sbc_leg *l, il_ice_candidate *c)
{
	if (!l->relay)
		return;
	c->type = IL_ICE_CAND_RELAY;
	c->addr = c->base = l->relay->relayed;
	memset(&c->related, 0, sizeof c->related);
	c->related.family = c->addr.family; /* 0.0.0.0:0: our addresses stay ours */
	c->priority = il_ice_candidate_priority(IL_ICE_TYPE_PREF_RELAY, 65535, c->component);
}

void sbc_relay_sdp(const sbc_leg *l, il_sbc_sdp_params *rw)
{
	if (!l->relay || l->relay->state != IL_SBC_RELAY_READY)
		return;
	rw->advertised = l->relay->relayed;
	rw->advertised.port = 0;
	rw->port = l->relay->relayed.port;
	rw->relay = true;
}

static void permit(sbc_relay *r, const il_addr *peer, uint64_t now_ms)
{
	static const uint8_t zero[16];
	if (peer->family != r->relayed.family ||
	    !memcmp(peer->ip, zero, peer->family == IL_AF_INET ? 4 : 16))
		return;
	/* A private or loopback candidate (the browser's host address) is
	 * out of our public relay's reach, and a server following RFC 8656
	 * §21.2.2 refuses it (403): ask only in labs. */
	if (il_addr_is_private(peer) && !r->l->s->cfg.allow_private_advertised)
		return;
	if (il_turn_client_has_permission(r->turn, peer))
		return;
	/* One request per IP (§9.1: a request is installed whole or not at
	 * all), so a refused private address does not take the rest down. */
	il_turn_client_create_permission(r->turn, peer, 1, now_ms);
}

void sbc_relay_permit_sdp(sbc_leg *l, const il_sdp_session *sdp, int mi, uint64_t now_ms)
{
	sbc_relay *r = l->relay;
	if (!r || r->state != IL_SBC_RELAY_READY || mi < 0)
		return;
	r->now_ms = now_ms;
	const il_sdp_media *m = &sdp->media[mi];
	for (size_t i = 0; i < m->candidate_count; i++)
		permit(r, &m->candidates[i].cand.addr, now_ms);
	if (l->peer.rtp.family != IL_AF_NONE)
		permit(r, &l->peer.rtp, now_ms);
}

/* ---- the datagram path ---- */

bool sbc_relay_owns(const sbc_leg *l, const il_addr *local)
{
	return l->relay && l->relay->state == IL_SBC_RELAY_READY &&
	       il_addr_equal(local, &l->relay->relayed);
}

int sbc_relay_datagram(sbc_leg *l, unsigned component, const il_addr *remote, const uint8_t *data,
		       size_t len, uint64_t now_ms)
{
	sbc_relay *r = l->relay;
	if (component != 1 || !il_addr_equal(remote, &l->s->cfg.turn_server))
		return -1;
	r->now_ms = now_ms;
	r->inner_rc = -1;
	il_turn_client_handle_datagram(r->turn, data, len, now_ms);
	int inner = r->inner_rc;
	r->inner_rc = -1;
	return inner >= 0 ? inner : IL_SBC_DGRAM_RELAY;
}

void sbc_relay_send(sbc_leg *l, const il_addr *remote, const uint8_t *data, size_t len)
{
	sbc_relay *r = l->relay;
	if (!r || r->state != IL_SBC_RELAY_READY)
		return;
	if (il_turn_client_send(r->turn, remote, data, len, r->now_ms) ==
	    IL_TURN_CLIENT_ERR_NO_PERMISSION) {
		r->unsent++;
		permit(r, remote, r->now_ms);
	}
}

void sbc_relay_selected(sbc_leg *l, const il_addr *remote)
{
	sbc_relay *r = l->relay;
	if (r && r->state == IL_SBC_RELAY_READY)
		il_turn_client_bind_channel(r->turn, remote, NULL, r->now_ms);
}

/* ---- timers and query ---- */

static bool ended_unreleased(const il_sbc_session *s, const sbc_relay *r)
{
	return s->state == IL_SBC_STATE_ENDED && r->state == IL_SBC_RELAY_READY &&
	       il_turn_client_get_state(r->turn) == IL_TURN_CLIENT_ALLOCATED;
}

void sbc_relay_timer(il_sbc_session *s, uint64_t now_ms)
{
	for (int i = 0; i < 2; i++) {
		sbc_relay *r = s->leg[i].relay;
		if (!r)
			continue;
		r->now_ms = now_ms;
		/* A dead call gives its relayed address back (RFC 8656 §8.1)
		 * rather than refreshing it for nobody. */
		if (ended_unreleased(s, r))
			il_turn_client_release(r->turn, now_ms);
		il_turn_client_timer(r->turn, now_ms);
	}
}

uint64_t sbc_relay_next_deadline(const il_sbc_session *s)
{
	uint64_t d = UINT64_MAX;
	for (int i = 0; i < 2; i++) {
		const sbc_relay *r = s->leg[i].relay;
		if (!r)
			continue;
		uint64_t t = il_turn_client_next_deadline(r->turn);
		if (ended_unreleased(s, r))
			t = 0; /* due now: the release (sbc_relay_timer) */
		if (t < d)
			d = t;
	}
	return d;
}

void sbc_relay_stats(const sbc_leg *l, il_sbc_leg_stats *out)
{
	const sbc_relay *r = l->relay;
	if (!r)
		return;
	out->force_relay = true;
	out->relay_state = r->state;
	out->relay_permissions = r->permissions;
	out->relay_channels = r->channels;
	out->relay_unsent = r->unsent;
	if (r->state == IL_SBC_RELAY_READY) {
		out->relayed = r->relayed;
		out->advertised = r->relayed;
	}
}
