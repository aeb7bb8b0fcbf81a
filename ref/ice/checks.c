/* Connectivity checks (RFC 8445 §7): sending a check (§7.2.2, §7.2.4)
 * and its retransmissions (§14.3, RFC 8489 §6.2.1), processing the
 * response (§7.2.5: role conflict 487, symmetric addresses, peer-reflexive
 * local candidates, valid pairs), and answering a check (§7.3: integrity,
 * role conflict §7.3.1.1, peer-reflexive remote candidates §7.3.1.3,
 * triggered checks §7.3.1.4, nomination §7.3.1.5).
 *
 * A check request: USERNAME "rufrag:lufrag", PRIORITY (the peer-reflexive
 * priority of the local candidate), ICE-CONTROLLING or ICE-CONTROLLED with
 * the tie-breaker, USE-CANDIDATE when nominating, SOFTWARE, MESSAGE-
 * INTEGRITY with the peer's password, FINGERPRINT. */
#include <string.h>

#include "ice_internal.h"

#define CHECK_BUF 512

void ice_set_role(il_ice_agent *a, bool controlling)
{
	if (a->controlling == controlling)
		return;
	a->controlling = controlling;
	/* §7.3.1.1: "the agent MUST ... recompute the pair priorities". */
	ice_recompute_priorities(a);
	il_ice_event ev = {.type = IL_ICE_EV_ROLE, .controlling = controlling};
	ice_emit(a, &ev);
}

/* §7.2.2: "The PRIORITY attribute MUST be set equal to the priority that
 * would be assigned, based on the algorithm in Section 5.1.2, to a
 * peer-reflexive candidate" with the local candidate's local preference
 * and component. */
static uint32_t prflx_priority(const il_ice_candidate *local)
{
	return il_ice_candidate_priority(IL_ICE_TYPE_PREF_PRFLX, (local->priority >> 8) & 0xFFFF,
					 local->component);
}

size_t ice_build_request(il_ice_agent *a, const ice_stream *s, const il_ice_candidate *local,
			 const ice_txn *txn, uint8_t *buf, size_t cap)
{
	il_stun_builder b;
	il_stun_builder_init(&b, buf, cap, IL_STUN_BINDING, IL_STUN_REQUEST, txn->tid);
	char username[2 * IL_ICE_UFRAG_MAX + 2];
	size_t rl = strlen(s->rufrag), ll = strlen(s->lufrag);
	memcpy(username, s->rufrag, rl);
	username[rl] = ':';
	memcpy(username + rl + 1, s->lufrag, ll);
	il_stun_add_string(&b, IL_ATTR_USERNAME, username, rl + 1 + ll);
	il_stun_add_u32(&b, IL_ATTR_PRIORITY, prflx_priority(local));
	il_stun_add_u64(&b, txn->controlling ? IL_ATTR_ICE_CONTROLLING : IL_ATTR_ICE_CONTROLLED,
			a->tie_breaker);
	if (txn->use_candidate)
		il_stun_add_empty(&b, IL_ATTR_USE_CANDIDATE);
	if (a->cfg.software)
		il_stun_add_string(&b, IL_ATTR_SOFTWARE, a->cfg.software, strlen(a->cfg.software));
	il_stun_add_message_integrity(&b, &s->rkey);
	il_stun_add_fingerprint(&b);
	return il_stun_builder_finish(&b, NULL);
}

static void transmit(il_ice_agent *a, unsigned si, ice_pair *p, const ice_txn *txn)
{
	ice_stream *s = a->streams[si];
	uint8_t buf[CHECK_BUF];
	size_t n = ice_build_request(a, s, &s->local[p->local], txn, buf, sizeof buf);
	if (n == 0)
		return;
	p->requests_sent++;
	a->counters.requests_sent++;
	s->comp[p->component - 1].last_sent_ms = txn->sent_ms;
	ice_send(a, si, p->component, &s->local[p->local], &s->remote[p->remote].addr, buf, n);
}

/* §7.3.1.4: an In-Progress transaction replaced by a triggered check is
 * not retransmitted, "but will wait the duration of the transaction
 * timeout for a response". */
static void cancel_txn(ice_pair *p, uint32_t rm)
{
	if (!p->txn.active)
		return;
	p->old_txn = p->txn;
	p->old_txn.cancelled = true;
	p->old_txn.next_ms = p->txn.next_ms + (uint64_t)p->txn.rto_ms * rm;
	p->txn.active = false;
}

void ice_check_send(il_ice_agent *a, unsigned si, unsigned pi, uint64_t now_ms)
{
	ice_stream *s = a->streams[si];
	ice_pair *p = &s->pairs[pi];
	cancel_txn(p, a->cfg.rm);
	ice_txn *t = &p->txn;
	memset(t, 0, sizeof *t);
	t->active = true;
	ice_random(a, t->tid, sizeof t->tid);
	t->controlling = a->controlling;
	t->use_candidate = a->controlling && (p->nominating || a->cfg.aggressive_nomination);
	/* §14.3: RTO = MAX(500ms, Ta * (Num-Waiting + Num-In-Progress)). */
	uint64_t rto = (uint64_t)a->cfg.ta_ms * ice_count_pending(a);
	t->rto_ms = (uint32_t)(rto < a->cfg.rto_min_ms ? a->cfg.rto_min_ms : rto);
	t->interval_ms = t->rto_ms;
	t->sends = 1;
	t->sent_ms = now_ms;
	t->next_ms = now_ms + (a->cfg.rc == 1 ? (uint64_t)t->rto_ms * a->cfg.rm : t->rto_ms);
	if (p->state != IL_ICE_PAIR_SUCCEEDED) /* a nominating check keeps it Succeeded */
		p->state = IL_ICE_PAIR_IN_PROGRESS;
	transmit(a, si, p, t);
}

static void check_failed(il_ice_agent *a, unsigned si, unsigned pi, bool use_candidate,
			 uint64_t now_ms)
{
	ice_stream *s = a->streams[si];
	ice_pair *p = &s->pairs[pi];
	if (p->valid && !use_candidate && !p->nominate_on_success)
		return; /* a repeated check of a valid pair: it stays valid */
	/* §7.3.1.5: a failed check after a nomination removes the pair from
	 * the valid list; a failed nominating check cannot nominate. */
	p->state = IL_ICE_PAIR_FAILED;
	p->valid = false;
	p->nominating = false;
	p->nominate_on_success = false;
	ice_update_selected(a, si, p->component, now_ms);
	ice_checklist_update(a, si, now_ms);
}

void ice_checks_timer(il_ice_agent *a, uint64_t now_ms)
{
	for (unsigned si = 0; si < a->stream_count; si++) {
		ice_stream *s = a->streams[si];
		for (size_t pi = 0; pi < s->pair_count; pi++) {
			ice_pair *p = &s->pairs[pi];
			if (p->old_txn.active && now_ms >= p->old_txn.next_ms)
				p->old_txn.active = false;
			ice_txn *t = &p->txn;
			if (!t->active || now_ms < t->next_ms)
				continue;
			if (t->sends >= a->cfg.rc) {
				t->active = false;
				check_failed(a, si, (unsigned)pi, t->use_candidate, now_ms);
				continue;
			}
			t->sends++;
			if (t->sends == a->cfg.rc) {
				t->next_ms = now_ms + (uint64_t)t->rto_ms * a->cfg.rm;
			} else {
				t->interval_ms *= 2;
				t->next_ms = now_ms + t->interval_ms;
			}
			uint64_t first = t->sent_ms;
			t->sent_ms = now_ms; /* for last_sent_ms only */
			transmit(a, si, p, t);
			t->sent_ms = first;
		}
	}
}

uint64_t ice_checks_deadline(const il_ice_agent *a)
{
	uint64_t d = UINT64_MAX;
	for (unsigned si = 0; si < a->stream_count; si++) {
		const ice_stream *s = a->streams[si];
		for (size_t pi = 0; pi < s->pair_count; pi++) {
			if (s->pairs[pi].txn.active)
				d = ice_min(d, s->pairs[pi].txn.next_ms);
			if (s->pairs[pi].old_txn.active)
				d = ice_min(d, s->pairs[pi].old_txn.next_ms);
		}
	}
	return d;
}

/* ---- responses (§7.2.5) ---- */

static bool find_txn(il_ice_agent *a, const il_stun_msg *msg, unsigned *si_out, unsigned *pi_out,
		     ice_txn **txn_out)
{
	for (unsigned si = 0; si < a->stream_count; si++) {
		ice_stream *s = a->streams[si];
		for (size_t pi = 0; pi < s->pair_count; pi++) {
			ice_pair *p = &s->pairs[pi];
			ice_txn *t = NULL;
			if (p->txn.active && memcmp(p->txn.tid, msg->tid, IL_STUN_TID_LEN) == 0)
				t = &p->txn;
			else if (p->old_txn.active &&
				 memcmp(p->old_txn.tid, msg->tid, IL_STUN_TID_LEN) == 0)
				t = &p->old_txn;
			if (t) {
				*si_out = si;
				*pi_out = (unsigned)pi;
				*txn_out = t;
				return true;
			}
		}
	}
	return false;
}

static int handle_response(il_ice_agent *a, const il_stun_msg *msg, const il_addr *local,
			   const il_addr *remote, uint64_t now_ms)
{
	unsigned si, pi;
	ice_txn *t;
	if (!find_txn(a, msg, &si, &pi, &t)) {
		for (unsigned s = 0; s < a->stream_count; s++)
			if (ice_consent_handle_response(a, s, msg, local, remote, now_ms))
				return IL_ICE_DGRAM_STUN;
		a->counters.dropped++;
		return IL_ICE_DGRAM_DROPPED;
	}
	ice_stream *s = a->streams[si];
	ice_pair *p = &s->pairs[pi];
	/* RFC 8489 §9.1.4: a response that fails integrity is discarded
	 * (the transaction goes on). */
	if (il_stun_check_integrity(msg, &s->rkey) != IL_STUN_VERDICT_OK) {
		a->counters.dropped++;
		return IL_ICE_DGRAM_DROPPED;
	}
	ice_txn txn = *t;
	t->active = false;
	a->counters.responses_received++;
	p->responses_received++;

	/* §7.2.5.2.1: "the check fails if the source transport address of
	 * the response does not match the destination transport address of
	 * the request, or the destination ... does not match the source". */
	if (!il_addr_equal(remote, &s->remote[p->remote].addr) ||
	    !il_addr_equal(local, &s->local[p->local].base)) {
		check_failed(a, si, pi, true, now_ms);
		return IL_ICE_DGRAM_STUN;
	}
	if (msg->cls == IL_STUN_ERROR) {
		const il_stun_attr *ea = il_stun_msg_find(msg, IL_ATTR_ERROR_CODE);
		int code = 0;
		const char *reason;
		size_t rlen;
		if (ea)
			(void)il_stun_attr_get_error_code(msg, ea, &code, &reason, &rlen);
		if (code == 487) {
			/* §7.2.5.1: switch to the role opposite to the one
			 * the request was sent in, and check the pair again. */
			a->counters.role_conflicts++;
			if (txn.controlling == a->controlling)
				ice_set_role(a, !txn.controlling);
			p->state = IL_ICE_PAIR_WAITING;
			ice_triggered_enqueue(s, pi);
			return IL_ICE_DGRAM_STUN;
		}
		check_failed(a, si, pi, true, now_ms);
		return IL_ICE_DGRAM_STUN;
	}
	const il_stun_attr *xa = il_stun_msg_find(msg, IL_ATTR_XOR_MAPPED_ADDRESS);
	il_addr mapped;
	if (!xa || il_stun_attr_get_addr(msg, xa, &mapped) != IL_STUN_OK) {
		check_failed(a, si, pi, true, now_ms);
		return IL_ICE_DGRAM_STUN;
	}
	uint32_t rtt = (uint32_t)(now_ms - txn.sent_ms);
	p->rtt_ms = rtt;
	p->total_rtt_ms += rtt;
	p->rtt_samples++;
	p->last_response_ms = now_ms;
	/* §7.2.5.3.1: a mapped address that is no local candidate is a new
	 * peer-reflexive local candidate, with the priority of PRIORITY. */
	int lj = ice_find_local_by_addr(s, p->component, &mapped);
	if (lj < 0)
		lj = ice_add_local_prflx(a, si, p, &mapped, prflx_priority(&s->local[p->local]));
	if (lj < 0)
		lj = p->local;
	/* §7.2.5.3.2: the valid pair is (mapped candidate, remote). */
	p->valid_local = (uint8_t)lj;
	p->valid_priority = ice_pair_priority_of(a, s, (unsigned)lj, p->remote);
	ice_pair_succeeded(a, si, pi, now_ms);
	if (txn.use_candidate && txn.controlling && a->controlling)
		ice_pair_nominated(a, si, pi, now_ms);
	return IL_ICE_DGRAM_STUN;
}

/* ---- requests (§7.3) ---- */

static void send_response(il_ice_agent *a, unsigned si, unsigned component,
			  const il_ice_candidate *local, const il_addr *remote,
			  const il_stun_msg *req, int error, const il_stun_key *key)
{
	uint8_t buf[CHECK_BUF];
	il_stun_builder b;
	il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_BINDING,
			     error ? IL_STUN_ERROR : IL_STUN_SUCCESS, req->tid);
	if (error) {
		il_stun_add_error_code(&b, error, il_stun_error_reason(error));
		if (error == 420)
			il_stun_add_unknown_attributes(&b, req->unknown_required,
						       req->unknown_required_count);
		a->counters.errors_sent++;
	} else {
		il_stun_add_xor_addr(&b, IL_ATTR_XOR_MAPPED_ADDRESS, remote);
		a->counters.responses_sent++;
	}
	if (a->cfg.software)
		il_stun_add_string(&b, IL_ATTR_SOFTWARE, a->cfg.software, strlen(a->cfg.software));
	if (key)
		il_stun_add_message_integrity(&b, key);
	il_stun_add_fingerprint(&b);
	size_t n = il_stun_builder_finish(&b, NULL);
	if (n)
		ice_send(a, si, component, local, remote, buf, n);
}

/* The stream a USERNAME "lufrag:rufrag" is for, and the key to check it. */
static int stream_for_username(const il_ice_agent *a, const char *user, size_t len,
			       const il_stun_key **key)
{
	const char *colon = memchr(user, ':', len);
	if (!colon)
		return -1;
	size_t ul = (size_t)(colon - user);
	for (unsigned si = 0; si < a->stream_count; si++) {
		const ice_stream *s = a->streams[si];
		if (strlen(s->lufrag) == ul && memcmp(s->lufrag, user, ul) == 0) {
			*key = &s->lkey;
			return (int)si;
		}
		if (s->old_local_valid && strlen(s->old_lufrag) == ul &&
		    memcmp(s->old_lufrag, user, ul) == 0) {
			*key = &s->old_lkey;
			return (int)si;
		}
	}
	return -1;
}

/* Any local host or relayed candidate with this base, to answer from. */
static const il_ice_candidate *any_local(const il_ice_agent *a, const il_addr *base,
					 unsigned *si_out)
{
	for (unsigned si = 0; si < a->stream_count; si++) {
		int li = ice_find_local_by_base(a->streams[si], base);
		if (li >= 0) {
			*si_out = si;
			return &a->streams[si]->local[li];
		}
	}
	return NULL;
}

/* §7.3.1.4 for a full agent: the pair of the request, then a triggered
 * check for it. Returns the pair index or -1. */
static int triggered_check(il_ice_agent *a, unsigned si, unsigned li, unsigned ri)
{
	ice_stream *s = a->streams[si];
	int pi = ice_pair_find(s, li, ri);
	if (pi < 0) {
		pi = ice_pair_add(a, si, li, ri);
		if (pi < 0)
			return -1;
		s->pairs[pi].state = IL_ICE_PAIR_WAITING;
		ice_triggered_enqueue(s, (unsigned)pi);
		return pi;
	}
	ice_pair *p = &s->pairs[pi];
	switch (p->state) {
	case IL_ICE_PAIR_SUCCEEDED:
		break; /* "nothing further is done" */
	case IL_ICE_PAIR_IN_PROGRESS:
		cancel_txn(p, a->cfg.rm);
		p->state = IL_ICE_PAIR_WAITING;
		ice_triggered_enqueue(s, (unsigned)pi);
		break;
	default: /* Waiting, Frozen, Failed */
		p->state = IL_ICE_PAIR_WAITING;
		ice_triggered_enqueue(s, (unsigned)pi);
		if (s->list_state == LIST_FAILED)
			s->list_state = LIST_RUNNING;
		break;
	}
	return pi;
}

static int handle_request(il_ice_agent *a, const il_stun_msg *msg, const il_addr *local,
			  const il_addr *remote, uint64_t now_ms)
{
	a->counters.requests_received++;
	unsigned any_si = 0;
	const il_ice_candidate *answer_from = any_local(a, local, &any_si);
	if (!answer_from) {
		a->counters.dropped++;
		return IL_ICE_DGRAM_DROPPED; /* not one of our bases */
	}
	/* §7.3 / RFC 8489 §9.1.3: without MESSAGE-INTEGRITY or USERNAME:
	 * 400; an unknown username or a bad MAC: 401, unsigned. */
	const il_stun_attr *ua = il_stun_msg_find(msg, IL_ATTR_USERNAME);
	if (msg->mi_index < 0 || !ua) {
		send_response(a, any_si, answer_from->component, answer_from, remote, msg, 400, NULL);
		return IL_ICE_DGRAM_STUN;
	}
	const char *user;
	size_t ulen;
	const il_stun_key *key = NULL;
	int si = -1;
	if (il_stun_attr_get_string(msg, ua, &user, &ulen) == IL_STUN_OK)
		si = stream_for_username(a, user, ulen, &key);
	if (si < 0 || il_stun_check_integrity(msg, key) != IL_STUN_VERDICT_OK) {
		send_response(a, any_si, answer_from->component, answer_from, remote, msg, 401, NULL);
		return IL_ICE_DGRAM_STUN;
	}
	ice_stream *s = a->streams[si];
	int li = ice_find_local_by_base(s, local);
	if (li < 0) {
		a->counters.dropped++;
		return IL_ICE_DGRAM_DROPPED; /* a base of another stream */
	}
	const il_ice_candidate *lc = &s->local[li];
	unsigned comp = lc->component;
	if (msg->unknown_required_count > 0) {
		send_response(a, (unsigned)si, comp, lc, remote, msg, 420, key);
		return IL_ICE_DGRAM_STUN;
	}
	const il_stun_attr *pa = il_stun_msg_find(msg, IL_ATTR_PRIORITY);
	uint32_t prio;
	if (!pa || il_stun_attr_get_u32(msg, pa, &prio) != IL_STUN_OK || prio == 0) {
		send_response(a, (unsigned)si, comp, lc, remote, msg, 400, key);
		return IL_ICE_DGRAM_STUN;
	}
	/* §7.3.1.1: role conflicts (full agents). */
	if (!a->cfg.lite) {
		const il_stun_attr *ca = il_stun_msg_find(msg, a->controlling
								   ? IL_ATTR_ICE_CONTROLLING
								   : IL_ATTR_ICE_CONTROLLED);
		uint64_t theirs;
		if (ca && il_stun_attr_get_u64(msg, ca, &theirs) == IL_STUN_OK) {
			a->counters.role_conflicts++;
			/* Controlling: "If the agent's tiebreaker value is
			 * larger than or equal to the contents of the
			 * ICE-CONTROLLING attribute, the agent generates a
			 * Binding error response ... 487"; otherwise it
			 * switches to controlled. Controlled: larger or
			 * equal switches to controlling; otherwise 487. */
			bool we_win = a->tie_breaker >= theirs;
			if (a->controlling == we_win) {
				send_response(a, (unsigned)si, comp, lc, remote, msg, 487, key);
				return IL_ICE_DGRAM_STUN;
			}
			ice_set_role(a, !a->controlling);
		}
	}
	send_response(a, (unsigned)si, comp, lc, remote, msg, 0, key);

	/* §7.3.1.3: learn a peer-reflexive remote candidate. */
	int ri = ice_find_remote(s, comp, remote);
	if (ri < 0)
		ri = ice_add_remote_prflx(a, (unsigned)si, comp, remote, prio);
	if (ri < 0)
		return IL_ICE_DGRAM_STUN;
	bool use_candidate = il_stun_msg_find(msg, IL_ATTR_USE_CANDIDATE) != NULL;
	int pi;
	if (a->cfg.lite) {
		pi = ice_pair_find(s, (unsigned)li, (unsigned)ri);
		if (pi < 0)
			pi = ice_pair_add(a, (unsigned)si, (unsigned)li, (unsigned)ri);
		if (pi < 0)
			return IL_ICE_DGRAM_STUN;
		s->pairs[pi].requests_received++;
		s->pairs[pi].responses_sent++;
		if (use_candidate)
			ice_lite_use_candidate(a, (unsigned)si, (unsigned)pi, now_ms);
		return IL_ICE_DGRAM_STUN;
	}
	pi = triggered_check(a, (unsigned)si, (unsigned)li, (unsigned)ri);
	if (pi < 0)
		return IL_ICE_DGRAM_STUN;
	s->pairs[pi].requests_received++;
	s->pairs[pi].responses_sent++;
	/* §7.3.1.5: USE-CANDIDATE from the controlling agent. */
	if (use_candidate && !a->controlling)
		ice_remote_use_candidate(a, (unsigned)si, (unsigned)pi, now_ms);
	return IL_ICE_DGRAM_STUN;
}

int ice_handle_stun(il_ice_agent *a, const il_addr *local, const il_addr *remote,
		    const uint8_t *data, size_t len, uint64_t now_ms)
{
	il_stun_msg msg;
	if (il_stun_decode(data, len, &msg, NULL) != IL_STUN_OK || msg.classic ||
	    msg.method != IL_STUN_BINDING ||
	    il_stun_check_fingerprint(&msg) == IL_STUN_VERDICT_MISMATCH) {
		a->counters.dropped++;
		return IL_ICE_DGRAM_DROPPED;
	}
	switch (msg.cls) {
	case IL_STUN_REQUEST:
		return handle_request(a, &msg, local, remote, now_ms);
	case IL_STUN_SUCCESS:
	case IL_STUN_ERROR:
		return handle_response(a, &msg, local, remote, now_ms);
	default:
		return IL_ICE_DGRAM_STUN; /* a keepalive indication (§11) */
	}
}
