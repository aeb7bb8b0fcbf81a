/* The ICE agent (RFC 8445): lifecycle, data streams and components,
 * credentials, the overall state (§8.1.2, with the states a WebRTC stack
 * reports), events, media and statistics. The check lists live in
 * checklist.c, the checks in checks.c.
 *
 * No I/O, no clock, no randomness of its own (ARCHITECTURE.md). */
#include <stdlib.h>
#include <string.h>

#include "ice_internal.h"

static const char *const state_names[] = {"new",    "checking",     "connected", "completed",
					  "failed", "disconnected", "closed"};
static const char *const pair_state_names[] = {"frozen", "waiting", "in-progress", "succeeded",
					       "failed"};
static const char *const event_names[] = {NULL,		   "state",	      "selected-pair",
					  "role",	   "peer-reflexive",  "consent-expired",
					  "restart-done"};

const char *il_ice_state_name(int state)
{
	return state >= 0 && state <= IL_ICE_STATE_CLOSED ? state_names[state] : "?";
}

const char *il_ice_pair_state_name(int state)
{
	return state >= 0 && state <= IL_ICE_PAIR_FAILED ? pair_state_names[state] : "?";
}

const char *il_ice_event_name(int type)
{
	return type >= 1 && type <= IL_ICE_EV_RESTART_DONE ? event_names[type] : "?";
}

void il_ice_config_defaults(il_ice_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->ta_ms = 50;
	cfg->rto_min_ms = 500;
	cfg->rc = 7;
	cfg->rm = 16;
	cfg->max_pairs = 100;
	cfg->nomination_wait_ms = 1000;
	cfg->consent = true;
	cfg->consent_interval_ms = 5000;
	cfg->consent_expiry_ms = 30000;
	cfg->consent_disconnect_ms = 10000;
	cfg->keepalive_ms = 15000;
}

/* ice-char = ALPHA / DIGIT / "+" / "/" (RFC 8839 §5.1). */
bool il_ice_is_ice_chars(const char *text, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = text[i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '+' || ch == '/';
		if (!ok)
			return false;
	}
	return true;
}

static bool credential_ok(const char *text, size_t min, size_t max)
{
	size_t len = strlen(text);
	return len >= min && len <= max && il_ice_is_ice_chars(text, len);
}

void ice_random(il_ice_agent *a, void *out, size_t len)
{
	a->cb.random(a->cb.user, out, len);
}

void ice_random_ice_chars(il_ice_agent *a, char *out, size_t n)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint8_t bytes[64];
	ice_random(a, bytes, n);
	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[bytes[i] & 63];
	out[n] = '\0';
}

il_ice_agent *il_ice_agent_new(const il_ice_config *cfg, const il_ice_callbacks *cb)
{
	if (!cfg || !cb || !cb->random || !cb->send)
		return NULL;
	if (cfg->ta_ms == 0 || cfg->rc == 0 || cfg->max_pairs == 0 ||
	    cfg->max_pairs > IL_ICE_MAX_PAIRS ||
	    cfg->max_local_candidates > IL_ICE_MAX_LOCAL_CANDIDATES ||
	    cfg->max_remote_candidates > IL_ICE_MAX_REMOTE_CANDIDATES)
		return NULL;
	uint32_t locals = cfg->max_local_candidates ? cfg->max_local_candidates
						    : IL_ICE_MAX_LOCAL_CANDIDATES;
	size_t fcap = (size_t)IL_ICE_MAX_STREAMS * locals;
	il_ice_agent *a = calloc(1, sizeof *a + fcap * sizeof(ice_foundation));
	if (!a)
		return NULL;
	a->foundations = (ice_foundation *)(a + 1);
	a->foundation_cap = fcap;
	a->cfg = *cfg;
	a->cfg.max_local_candidates = locals;
	if (!a->cfg.max_remote_candidates)
		a->cfg.max_remote_candidates = IL_ICE_MAX_REMOTE_CANDIDATES;
	a->cb = *cb;
	if (a->cfg.rto_min_ms < 500)
		a->cfg.rto_min_ms = 500; /* §14.3: MUST NOT be smaller than 500 ms */
	if (a->cfg.consent_interval_ms < 5000)
		a->cfg.consent_interval_ms = 5000; /* RFC 7675: never under 4 s after jitter */
	a->controlling = cfg->lite ? false : cfg->controlling;
	a->tie_breaker = cfg->tie_breaker;
	if (a->tie_breaker == 0)
		ice_random(a, &a->tie_breaker, sizeof a->tie_breaker);
	a->state = IL_ICE_STATE_NEW;
	return a;
}

void il_ice_agent_free(il_ice_agent *a)
{
	if (!a)
		return;
	for (unsigned i = 0; i < a->stream_count; i++)
		free(a->streams[i]);
	free(a);
}

ice_stream *ice_stream_get(const il_ice_agent *a, unsigned stream)
{
	return stream < a->stream_count ? a->streams[stream] : NULL;
}

static int set_local_credentials(il_ice_agent *a, ice_stream *s, const char *ufrag,
				 const char *pwd)
{
	if ((ufrag && !credential_ok(ufrag, 4, IL_ICE_UFRAG_MAX)) ||
	    (pwd && !credential_ok(pwd, 22, IL_ICE_PWD_MAX)))
		return IL_ICE_ERR_ARGUMENT;
	if (ufrag)
		strcpy(s->lufrag, ufrag);
	else
		ice_random_ice_chars(a, s->lufrag, 8);
	if (pwd)
		strcpy(s->lpwd, pwd);
	else
		ice_random_ice_chars(a, s->lpwd, 24);
	return il_stun_key_short_term(&s->lkey, s->lpwd) == IL_STUN_OK ? IL_ICE_OK
									: IL_ICE_ERR_ARGUMENT;
}

/* One allocation: the stream, its pairs, candidates and triggered queue
 * (in that order: each part's alignment holds after the one before). */
static ice_stream *stream_new(const il_ice_agent *a)
{
	size_t np = a->cfg.max_pairs, nl = a->cfg.max_local_candidates,
	       nr = a->cfg.max_remote_candidates;
	ice_stream *s = calloc(1, sizeof *s + np * sizeof(ice_pair) +
					  (nl + nr) * sizeof(il_ice_candidate) + np);
	if (!s)
		return NULL;
	s->pairs = (ice_pair *)(s + 1);
	s->local = (il_ice_candidate *)(s->pairs + np);
	s->remote = s->local + nl;
	s->triggered = (uint8_t *)(s->remote + nr);
	s->pair_cap = np;
	s->local_cap = nl;
	s->remote_cap = nr;
	return s;
}

int il_ice_agent_add_stream(il_ice_agent *a, unsigned components, const char *ufrag,
			    const char *pwd)
{
	if (a->closed)
		return IL_ICE_ERR_STATE;
	if (components == 0 || components > IL_ICE_MAX_COMPONENTS)
		return IL_ICE_ERR_ARGUMENT;
	if (a->stream_count == IL_ICE_MAX_STREAMS)
		return IL_ICE_ERR_FULL;
	ice_stream *s = stream_new(a);
	if (!s)
		return IL_ICE_ERR_FULL;
	s->components = components;
	s->first_valid_ms = UINT64_MAX;
	for (unsigned c = 0; c < IL_ICE_MAX_COMPONENTS; c++) {
		s->comp[c].selected = NO_INDEX;
		s->comp[c].consent_next_ms = UINT64_MAX;
	}
	int rc = set_local_credentials(a, s, ufrag, pwd);
	if (rc != IL_ICE_OK) {
		free(s);
		return rc;
	}
	a->streams[a->stream_count] = s;
	return (int)a->stream_count++;
}

int ice_set_local_credentials(il_ice_agent *a, ice_stream *s, const char *ufrag,
			      const char *pwd)
{
	return set_local_credentials(a, s, ufrag, pwd);
}

const char *il_ice_agent_local_ufrag(const il_ice_agent *a, unsigned stream)
{
	const ice_stream *s = ice_stream_get(a, stream);
	return s ? s->lufrag : NULL;
}

const char *il_ice_agent_local_pwd(const il_ice_agent *a, unsigned stream)
{
	const ice_stream *s = ice_stream_get(a, stream);
	return s ? s->lpwd : NULL;
}

int il_ice_agent_set_remote_credentials(il_ice_agent *a, unsigned stream, const char *ufrag,
					const char *pwd, uint64_t now_ms)
{
	ice_stream *s = ice_stream_get(a, stream);
	if (!s || !ufrag || !pwd)
		return IL_ICE_ERR_ARGUMENT;
	if (!credential_ok(ufrag, 4, IL_ICE_UFRAG_MAX) || !credential_ok(pwd, 22, IL_ICE_PWD_MAX))
		return IL_ICE_ERR_ARGUMENT;
	bool restart = s->have_remote && (strcmp(s->rufrag, ufrag) != 0 || strcmp(s->rpwd, pwd) != 0);
	il_stun_key key;
	if (il_stun_key_short_term(&key, pwd) != IL_STUN_OK)
		return IL_ICE_ERR_ARGUMENT;
	if (restart)
		ice_restart_remote(a, stream, now_ms);
	strcpy(s->rufrag, ufrag);
	strcpy(s->rpwd, pwd);
	s->rkey = key;
	s->have_remote = true;
	return IL_ICE_OK;
}

void il_ice_agent_set_remote_lite(il_ice_agent *a, bool lite)
{
	a->remote_lite = lite;
}

int il_ice_agent_start(il_ice_agent *a, uint64_t now_ms)
{
	if (a->closed || a->started)
		return IL_ICE_ERR_STATE;
	/* §6.1.1: a full agent facing a lite one is controlling; two lite
	 * agents keep the roles they were given (the offerer controls). */
	if (!a->cfg.lite && a->remote_lite)
		a->controlling = true;
	a->started = true;
	ice_recompute_priorities(a);
	ice_checklist_init_states(a);
	a->next_check_ms = now_ms;
	ice_update_state(a, now_ms);
	return IL_ICE_OK;
}

void il_ice_agent_close(il_ice_agent *a, uint64_t now_ms)
{
	if (a->closed)
		return;
	a->closed = true;
	for (unsigned i = 0; i < a->stream_count; i++) {
		ice_stream *s = a->streams[i];
		for (size_t p = 0; p < s->pair_count; p++) {
			s->pairs[p].txn.active = false;
			s->pairs[p].old_txn.active = false;
		}
		for (unsigned c = 0; c < IL_ICE_MAX_COMPONENTS; c++) {
			s->comp[c].consent_next_ms = UINT64_MAX;
			memset(s->comp[c].consent, 0, sizeof s->comp[c].consent);
		}
	}
	ice_update_state(a, now_ms);
}

void ice_emit(il_ice_agent *a, const il_ice_event *ev)
{
	if (a->cb.event)
		a->cb.event(a->cb.user, ev);
}

static int compute_state(const il_ice_agent *a)
{
	if (a->closed)
		return IL_ICE_STATE_CLOSED;
	if (!a->started)
		return IL_ICE_STATE_NEW;
	bool all_selected = a->stream_count > 0, all_completed = true, disconnected = false;
	for (unsigned i = 0; i < a->stream_count; i++) {
		const ice_stream *s = a->streams[i];
		if (s->list_state == LIST_FAILED)
			return IL_ICE_STATE_FAILED;
		if (s->list_state != LIST_COMPLETED)
			all_completed = false;
		for (unsigned c = 0; c < s->components; c++) {
			const ice_component *comp = &s->comp[c];
			if (comp->consent_expired)
				return IL_ICE_STATE_FAILED;
			if (comp->selected == NO_INDEX && !comp->has_previous)
				all_selected = false;
			if (comp->disconnected)
				disconnected = true;
		}
	}
	if (!all_selected)
		return IL_ICE_STATE_CHECKING;
	if (disconnected)
		return IL_ICE_STATE_DISCONNECTED;
	return all_completed ? IL_ICE_STATE_COMPLETED : IL_ICE_STATE_CONNECTED;
}

void ice_update_state(il_ice_agent *a, uint64_t now_ms)
{
	(void)now_ms;
	int state = compute_state(a);
	if (state == a->state)
		return;
	a->state = state;
	il_ice_event ev = {.type = IL_ICE_EV_STATE, .state = state};
	ice_emit(a, &ev);
}

void ice_send(il_ice_agent *a, unsigned stream, unsigned component, const il_ice_candidate *local,
	      const il_addr *remote, const uint8_t *data, size_t len)
{
	a->cb.send(a->cb.user, stream, component, local, remote, data, len);
}

/* The pair media of a component goes on: the selected one, or during a
 * restart the one selected before it. */
ice_pair *ice_media_pair(ice_stream *s, ice_component *comp, const il_ice_candidate **local,
			 const il_addr **remote)
{
	if (comp->has_previous) {
		*local = &comp->prev_local;
		*remote = &comp->prev_remote;
		return &comp->prev_pair;
	}
	if (comp->selected != NO_INDEX) {
		ice_pair *p = &s->pairs[comp->selected];
		*local = &s->local[p->local];
		*remote = &s->remote[p->remote].addr;
		return p;
	}
	return NULL;
}

int il_ice_agent_send(il_ice_agent *a, unsigned stream, unsigned component, const uint8_t *data,
		      size_t len, uint64_t now_ms)
{
	ice_stream *s = ice_stream_get(a, stream);
	if (!s || component == 0 || component > s->components)
		return IL_ICE_ERR_ARGUMENT;
	if (a->closed)
		return IL_ICE_ERR_STATE;
	ice_component *comp = &s->comp[component - 1];
	const il_ice_candidate *local;
	const il_addr *remote;
	ice_pair *p = ice_media_pair(s, comp, &local, &remote);
	if (!p)
		return IL_ICE_ERR_NO_PAIR;
	/* RFC 7675 §5.1: after expiry the endpoint MUST cease transmission. */
	if (comp->consent_expired)
		return IL_ICE_ERR_NO_CONSENT;
	p->packets_sent++;
	p->bytes_sent += len;
	comp->last_sent_ms = now_ms;
	ice_send(a, stream, component, local, remote, data, len);
	return IL_ICE_OK;
}

/* Media from remote on local: the pair it belongs to. */
static bool deliver_data(il_ice_agent *a, const il_addr *local, const il_addr *remote,
			 const uint8_t *data, size_t len)
{
	for (unsigned si = 0; si < a->stream_count; si++) {
		ice_stream *s = a->streams[si];
		for (unsigned c = 0; c < s->components; c++) {
			ice_component *comp = &s->comp[c];
			const il_ice_candidate *l;
			const il_addr *r;
			ice_pair *p = ice_media_pair(s, comp, &l, &r);
			if (!p || !il_addr_equal(&l->base, local) || !il_addr_equal(r, remote))
				continue;
			p->packets_received++;
			p->bytes_received += len;
			if (a->cb.data)
				a->cb.data(a->cb.user, si, c + 1, data, len);
			return true;
		}
		/* Before selection: any pair on this 5-tuple (§12.1.1 lets
		 * the peer send on a valid pair before nomination). */
		for (size_t i = 0; i < s->pair_count; i++) {
			ice_pair *p = &s->pairs[i];
			if (!il_addr_equal(&s->local[p->local].base, local) ||
			    !il_addr_equal(&s->remote[p->remote].addr, remote))
				continue;
			p->packets_received++;
			p->bytes_received += len;
			if (a->cb.data)
				a->cb.data(a->cb.user, si, p->component, data, len);
			return true;
		}
	}
	return false;
}

int il_ice_agent_handle_datagram(il_ice_agent *a, const il_addr *local, const il_addr *remote,
				 const uint8_t *data, size_t len, uint64_t now_ms)
{
	if (a->closed || !local || !remote || !data) {
		a->counters.dropped++;
		return IL_ICE_DGRAM_DROPPED;
	}
	if (il_stun_is_stun(data, len))
		return ice_handle_stun(a, local, remote, data, len, now_ms);
	if (deliver_data(a, local, remote, data, len))
		return IL_ICE_DGRAM_DATA;
	a->counters.dropped++;
	return IL_ICE_DGRAM_DROPPED;
}

void il_ice_agent_timer(il_ice_agent *a, uint64_t now_ms)
{
	if (a->closed || !a->started)
		return;
	ice_checks_timer(a, now_ms);
	for (unsigned si = 0; si < a->stream_count; si++)
		ice_nomination_tick(a, si, now_ms);
	ice_checklist_tick(a, now_ms);
	ice_consent_timer(a, now_ms);
	ice_update_state(a, now_ms);
}

uint64_t il_ice_agent_next_deadline(const il_ice_agent *a)
{
	if (a->closed || !a->started)
		return UINT64_MAX;
	uint64_t d = ice_checklist_deadline(a);
	d = ice_min(d, ice_checks_deadline(a));
	d = ice_min(d, ice_nomination_deadline(a));
	d = ice_min(d, ice_consent_deadline(a));
	return d;
}

int il_ice_agent_get_state(const il_ice_agent *a)
{
	return a->state;
}

bool il_ice_agent_is_controlling(const il_ice_agent *a)
{
	return a->controlling;
}

uint64_t il_ice_agent_tie_breaker(const il_ice_agent *a)
{
	return a->tie_breaker;
}

void il_ice_agent_get_counters(const il_ice_agent *a, il_ice_counters *out)
{
	*out = a->counters;
}

size_t il_ice_agent_pair_count(const il_ice_agent *a, unsigned stream)
{
	const ice_stream *s = ice_stream_get(a, stream);
	return s ? s->pair_count : 0;
}

void ice_fill_stats(const il_ice_agent *a, unsigned si, const ice_pair *p, il_ice_pair_stats *out)
{
	const ice_stream *s = a->streams[si];
	memset(out, 0, sizeof *out);
	out->stream = si;
	out->component = p->component;
	out->local = s->local[p->valid ? p->valid_local : p->local];
	out->remote = s->remote[p->remote];
	out->priority = p->valid ? p->valid_priority : p->priority;
	out->state = p->state;
	out->valid = p->valid;
	out->nominated = p->nominated;
	const ice_component *comp = &s->comp[p->component - 1];
	out->selected = comp->selected != NO_INDEX && &s->pairs[comp->selected] == p;
	out->consent_expired = out->selected && comp->consent_expired;
	out->rtt_ms = p->rtt_ms;
	out->total_rtt_ms = p->total_rtt_ms;
	out->rtt_samples = p->rtt_samples;
	out->requests_sent = p->requests_sent;
	out->requests_received = p->requests_received;
	out->responses_sent = p->responses_sent;
	out->responses_received = p->responses_received;
	out->consent_requests_sent = p->consent_requests_sent;
	out->packets_sent = p->packets_sent;
	out->packets_received = p->packets_received;
	out->bytes_sent = p->bytes_sent;
	out->bytes_received = p->bytes_received;
	out->last_response_ms = p->last_response_ms;
}

int il_ice_agent_get_pair(const il_ice_agent *a, unsigned stream, size_t index,
			  il_ice_pair_stats *out)
{
	const ice_stream *s = ice_stream_get(a, stream);
	if (!s || index >= s->pair_count)
		return IL_ICE_ERR_ARGUMENT;
	ice_fill_stats(a, stream, &s->pairs[index], out);
	return IL_ICE_OK;
}

int il_ice_agent_get_selected_pair(const il_ice_agent *a, unsigned stream, unsigned component,
				   il_ice_pair_stats *out)
{
	const ice_stream *s = ice_stream_get(a, stream);
	if (!s || component == 0 || component > s->components)
		return IL_ICE_ERR_ARGUMENT;
	const ice_component *comp = &s->comp[component - 1];
	if (comp->selected == NO_INDEX)
		return IL_ICE_ERR_NO_PAIR;
	ice_fill_stats(a, stream, &s->pairs[comp->selected], out);
	return IL_ICE_OK;
}
