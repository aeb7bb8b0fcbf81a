/* The STUN model: transactions matched by transaction id (RFC 8489 §6.3),
 * ICE connectivity checks per candidate pair (RFC 8445 §7.2: USERNAME
 * "RFRAG:LFRAG", PRIORITY, ICE-CONTROLLING/-CONTROLLED, USE-CANDIDATE),
 * and TURN allocations (RFC 8656) keyed by the client's 5-tuple: relayed
 * address, lifetime, permissions (§9), channels (§12), errors, and the
 * unwrapping of Send/Data indications (§11) and ChannelData (§12.4) into
 * the flow between the relayed address and the peer.
 *
 * Transactions are forgotten TRANSACTION_TIMEOUT_US after the request
 * (RFC 8489 Ti = 39.5 s): memory follows the transaction rate, not the
 * capture length. */
#include <stdlib.h>
#include <string.h>

#include "pcaps_internal.h"

#define PERMISSION_LIFETIME_US (300 * US_PER_S) /* RFC 8656 §9 */
#define TXN_MAX_PEERS 4
#define MAX_DEPTH 2

typedef struct txn {
	uint8_t tid[IL_STUN_TID_LEN];
	uint16_t method;
	pa_pkt req;
	bool answered, has_integrity, ice, use_candidate;
	il_addr peers[TXN_MAX_PEERS];
	uint8_t peer_count;
	uint16_t channel;
	bool refresh_zero;
} txn;

/* ---- lookups */

static pa_turn_alloc *alloc_find(il_pcap_analysis *a, const pa_pkt *pkt, bool from_client)
{
	pa_tuple_key key;
	if (from_client)
		pa_key_tuple(&key, pkt->transport, pkt->relayed, &pkt->src, &pkt->dst);
	else
		pa_key_tuple(&key, pkt->transport, pkt->relayed, &pkt->dst, &pkt->src);
	return pa_table_find(&a->allocations, &key);
}

/* The allocation of a message the client sent, made on first sight. */
static pa_turn_alloc *alloc_get(il_pcap_analysis *a, const pa_pkt *pkt)
{
	pa_tuple_key key;
	pa_key_tuple(&key, pkt->transport, pkt->relayed, &pkt->src, &pkt->dst);
	bool created;
	pa_turn_alloc *t = pa_table_get(&a->allocations, &key, sizeof *t, &created);
	if (!t)
		return NULL;
	if (created) {
		t->client = pkt->src;
		t->server = pkt->dst;
		t->transport = pkt->transport;
		t->first_frame = pkt->frame;
	}
	t->last_frame = pkt->frame;
	return t;
}

static bool same_ip(const il_addr *x, const il_addr *y)
{
	return x->family == y->family &&
	       memcmp(x->ip, y->ip, x->family == IL_AF_INET ? 4 : 16) == 0;
}

static pa_turn_peer *peer_get(pa_turn_alloc *t, const il_addr *peer)
{
	for (size_t i = 0; i < t->peer_count; i++)
		if (same_ip(&t->peers[i].peer, peer))
			return &t->peers[i];
	if (t->peer_count == TURN_MAX_PEERS)
		return NULL;
	pa_turn_peer *p = &t->peers[t->peer_count++];
	memset(p, 0, sizeof *p);
	p->peer = *peer;
	return p;
}

static pa_turn_channel *channel_find(pa_turn_alloc *t, uint16_t number)
{
	for (size_t i = 0; i < t->channel_count; i++)
		if (t->channels[i].number == number)
			return &t->channels[i];
	return NULL;
}

static pa_turn_channel *channel_get(pa_turn_alloc *t, uint16_t number)
{
	pa_turn_channel *c = channel_find(t, number);
	if (c || t->channel_count == TURN_MAX_CHANNELS)
		return c;
	c = &t->channels[t->channel_count++];
	memset(c, 0, sizeof *c);
	c->number = number;
	return c;
}

static pa_ice_pair *pair_get(il_pcap_analysis *a, const pa_pkt *req)
{
	pa_tuple_key key;
	pa_key_tuple(&key, req->transport, req->relayed, &req->src, &req->dst);
	bool created;
	pa_ice_pair *p = pa_table_get(&a->ice_pairs, &key, sizeof *p, &created);
	if (p && created) {
		p->local = req->src;
		p->remote = req->dst;
		p->transport = req->transport;
		p->relayed = req->relayed;
		p->first_frame = req->frame;
		p->first_us = req->ts_us;
	}
	return p;
}

static pa_ice_pair *pair_find(il_pcap_analysis *a, const pa_pkt *req)
{
	pa_tuple_key key;
	pa_key_tuple(&key, req->transport, req->relayed, &req->src, &req->dst);
	return pa_table_find(&a->ice_pairs, &key);
}

/* ---- TURN data: permissions, imbalance, unwrapping */

static void unwrap(il_pcap_analysis *a, const pa_pkt *pkt, const il_addr *src,
		   const il_addr *dst, const uint8_t *data, size_t len)
{
	if (pkt->depth >= MAX_DEPTH)
		return;
	pa_pkt inner = *pkt;
	inner.src = *src;
	inner.dst = *dst;
	inner.transport = 17; /* UDP relaying (RFC 8656); RFC 6062 TCP relays differ */
	inner.relayed = true;
	inner.depth = pkt->depth + 1;
	pa_classify_datagram(a, &inner, data, len);
}

/* Whether the server would relay to this peer now (RFC 8656 §9: a
 * permission lasts 300 s unless refreshed). Judged only for allocations
 * whose creation is in the capture: a permission made before the capture
 * started cannot be seen. */
static void judge_permission(pa_turn_alloc *t, pa_turn_peer *p, const pa_pkt *pkt)
{
	if (!t->created_seen || !p)
		return;
	if (p->state == PERM_GRANTED && pkt->ts_us <= p->granted_us + PERMISSION_LIFETIME_US)
		return;
	if (p->state == PERM_PENDING) {
		p->pending_sends++;
		pa_evidence_add(&p->pending, pkt->frame);
		return;
	}
	p->unpermitted_sends++;
	pa_evidence_add(&p->unpermitted, pkt->frame);
}

static const il_addr *relay_side(const pa_turn_alloc *t)
{
	return t->have_relayed ? &t->relayed : &t->client;
}

static void to_peer(il_pcap_analysis *a, pa_turn_alloc *t, const pa_pkt *pkt,
		    const il_addr *peer, const uint8_t *data, size_t len)
{
	pa_turn_peer *p = peer_get(t, peer);
	if (p) {
		if (!p->to_peer++)
			p->to_peer_first_frame = pkt->frame;
		judge_permission(t, p, pkt);
	}
	unwrap(a, pkt, relay_side(t), peer, data, len);
}

static void from_peer(il_pcap_analysis *a, pa_turn_alloc *t, const pa_pkt *pkt,
		      const il_addr *peer, const uint8_t *data, size_t len)
{
	pa_turn_peer *p = peer_get(t, peer);
	if (p && !p->from_peer++)
		p->from_peer_first_frame = pkt->frame;
	unwrap(a, pkt, peer, relay_side(t), data, len);
}

void pa_turn_channeldata(il_pcap_analysis *a, const pa_pkt *pkt, const il_channeldata *cd)
{
	bool from_client = true;
	pa_turn_alloc *t = alloc_find(a, pkt, true);
	if (!t) {
		t = alloc_find(a, pkt, false);
		from_client = false;
	}
	if (!t)
		return; /* no TURN seen on this 5-tuple: nothing to unwrap with */
	t->last_frame = pkt->frame;
	if (from_client)
		t->cd_to_server++;
	else
		t->cd_from_server++;
	pa_turn_channel *c = channel_find(t, cd->channel);
	if (!c || c->state == PERM_NONE) {
		t->cd_unknown_channel++;
		if (t->created_seen)
			pa_evidence_add(&t->unbound, pkt->frame);
		return;
	}
	if (from_client)
		to_peer(a, t, pkt, &c->peer, cd->data, cd->length);
	else
		from_peer(a, t, pkt, &c->peer, cd->data, cd->length);
}

static bool get_addr(const il_stun_msg *m, uint16_t type, il_addr *out)
{
	const il_stun_attr *at = il_stun_msg_find(m, type);
	if (!at)
		return false;
	memset(out, 0, sizeof *out);
	return il_stun_attr_get_addr(m, at, out) == IL_STUN_OK;
}

static void indication(il_pcap_analysis *a, const pa_pkt *pkt, const il_stun_msg *m)
{
	if (m->method != IL_STUN_SEND && m->method != IL_STUN_DATA)
		return;
	il_addr peer;
	const il_stun_attr *data = il_stun_msg_find(m, IL_ATTR_DATA);
	if (!get_addr(m, IL_ATTR_XOR_PEER_ADDRESS, &peer) || !data)
		return;
	const uint8_t *bytes = il_stun_attr_value(m, data);
	if (m->method == IL_STUN_SEND) {
		pa_turn_alloc *t = alloc_get(a, pkt);
		if (!t)
			return;
		t->send_ind++;
		to_peer(a, t, pkt, &peer, bytes, data->length);
	} else {
		pa_turn_alloc *t = alloc_find(a, pkt, false);
		if (!t)
			return;
		t->last_frame = pkt->frame;
		t->data_ind++;
		from_peer(a, t, pkt, &peer, bytes, data->length);
	}
}

/* ---- requests and responses */

static void request(il_pcap_analysis *a, const pa_pkt *pkt, const il_stun_msg *m)
{
	bool created;
	txn *x = pa_table_get(&a->transactions, m->buf + 8, sizeof *x, &created);
	if (!x)
		return;
	if (!created) {
		a->stun_retransmits++;
		if (x->ice) {
			pa_ice_pair *p = pair_find(a, &x->req);
			if (p)
				p->retransmits++;
		}
		return;
	}
	x->method = m->method;
	x->req = *pkt;
	x->has_integrity = m->mi_index >= 0 || m->mi256_index >= 0;
	const il_stun_attr *user = il_stun_msg_find(m, IL_ATTR_USERNAME);
	const char *utext = NULL;
	size_t ulen = 0;
	if (user)
		il_stun_attr_get_string(m, user, &utext, &ulen);
	switch (m->method) {
	case IL_STUN_BINDING: {
		bool colon = utext && memchr(utext, ':', ulen);
		x->ice = colon || il_stun_msg_find(m, IL_ATTR_PRIORITY) ||
			 il_stun_msg_find(m, IL_ATTR_ICE_CONTROLLING) ||
			 il_stun_msg_find(m, IL_ATTR_ICE_CONTROLLED);
		if (!x->ice)
			break;
		x->use_candidate = il_stun_msg_find(m, IL_ATTR_USE_CANDIDATE) != NULL;
		pa_ice_pair *p = pair_get(a, pkt);
		if (!p)
			break;
		p->requests++;
		p->last_request_us = pkt->ts_us;
		pa_evidence_add(&p->evidence, pkt->frame);
		if (utext && !p->username[0]) {
			size_t n = ulen < sizeof p->username - 1 ? ulen : sizeof p->username - 1;
			memcpy(p->username, utext, n);
			p->username[n] = 0;
		}
		if (il_stun_msg_find(m, IL_ATTR_ICE_CONTROLLING))
			p->role = 1;
		else if (il_stun_msg_find(m, IL_ATTR_ICE_CONTROLLED))
			p->role = 2;
		break;
	}
	case IL_STUN_ALLOCATE:
	case IL_STUN_REFRESH:
		if (alloc_get(a, pkt) && m->method == IL_STUN_REFRESH) {
			uint32_t life = 1;
			const il_stun_attr *lt = il_stun_msg_find(m, IL_ATTR_LIFETIME);
			if (lt)
				il_stun_attr_get_u32(m, lt, &life);
			x->refresh_zero = life == 0;
		}
		break;
	case IL_STUN_CREATEPERMISSION:
	case IL_STUN_CHANNELBIND: {
		pa_turn_alloc *t = alloc_get(a, pkt);
		for (uint16_t i = 0; i < m->attr_count && x->peer_count < TXN_MAX_PEERS; i++) {
			const il_stun_attr *at = &m->attrs[i];
			if (at->type != IL_ATTR_XOR_PEER_ADDRESS || at->ignored)
				continue;
			il_addr peer;
			memset(&peer, 0, sizeof peer);
			if (il_stun_attr_get_addr(m, at, &peer) != IL_STUN_OK)
				continue;
			x->peers[x->peer_count++] = peer;
			pa_turn_peer *p = t ? peer_get(t, &peer) : NULL;
			if (p && p->state != PERM_GRANTED) {
				p->state = PERM_PENDING;
				p->request_frame = pkt->frame;
			}
		}
		const il_stun_attr *ch = il_stun_msg_find(m, IL_ATTR_CHANNEL_NUMBER);
		if (m->method == IL_STUN_CHANNELBIND && ch && t && x->peer_count &&
		    il_stun_attr_get_channel(m, ch, &x->channel) == IL_STUN_OK) {
			pa_turn_channel *c = channel_get(t, x->channel);
			if (c && c->state != PERM_GRANTED) {
				c->state = PERM_PENDING;
				c->peer = x->peers[0];
			}
		}
		break;
	}
	default:
		break;
	}
}

static pa_turn_error *turn_error_get(pa_turn_alloc *t, uint16_t method, int code)
{
	for (size_t i = 0; i < t->error_count; i++)
		if (t->errors[i].method == method && t->errors[i].code == code)
			return &t->errors[i];
	if (t->error_count == TURN_MAX_ERRORS)
		return NULL;
	pa_turn_error *e = &t->errors[t->error_count++];
	memset(e, 0, sizeof *e);
	e->method = method;
	e->code = code;
	return e;
}

static void grant(pa_turn_alloc *t, const txn *x, const pa_pkt *pkt)
{
	for (uint8_t i = 0; i < x->peer_count; i++) {
		pa_turn_peer *p = peer_get(t, &x->peers[i]);
		if (!p)
			continue;
		p->state = PERM_GRANTED;
		p->ever_granted = true;
		p->granted_us = pkt->ts_us;
		p->response_frame = pkt->frame;
		pa_evidence_add(&p->grant, x->req.frame);
		pa_evidence_add(&p->grant, pkt->frame);
	}
	if (x->method == IL_STUN_CHANNELBIND && x->channel) {
		pa_turn_channel *c = channel_get(t, x->channel);
		if (c) {
			c->state = PERM_GRANTED;
			c->peer = x->peers[0];
			c->frame = pkt->frame;
		}
	}
}

/* A refused or unanswered CreatePermission/ChannelBind: what was sent
 * while it was pending went nowhere. */
static void refuse(pa_turn_alloc *t, const txn *x, int state)
{
	for (uint8_t i = 0; i < x->peer_count; i++) {
		pa_turn_peer *p = peer_get(t, &x->peers[i]);
		if (!p || p->state == PERM_GRANTED)
			continue;
		p->state = state;
		p->unpermitted_sends += p->pending_sends;
		for (uint8_t k = 0; k < p->pending.count; k++)
			pa_evidence_add(&p->unpermitted, p->pending.frames[k]);
		p->pending_sends = 0;
		p->pending.count = 0;
	}
	if (x->method == IL_STUN_CHANNELBIND && x->channel) {
		pa_turn_channel *c = channel_find(t, x->channel);
		if (c && c->state != PERM_GRANTED)
			c->state = PERM_NONE;
	}
}

static void ice_response(il_pcap_analysis *a, const txn *x, const pa_pkt *pkt, bool ok,
			 int code)
{
	pa_ice_pair *p = pair_find(a, &x->req);
	if (!p)
		return;
	if (ok) {
		double rtt = (double)(pkt->ts_us - x->req.ts_us) / 1000.0;
		if (!p->rtt_n || rtt < p->rtt_min_ms)
			p->rtt_min_ms = rtt;
		if (rtt > p->rtt_max_ms)
			p->rtt_max_ms = rtt;
		p->rtt_sum_ms += rtt;
		p->rtt_n++;
		if (!p->successes++)
			p->first_success_us = pkt->ts_us;
		p->last_success_frame = pkt->frame;
		p->last_success_us = pkt->ts_us;
		p->unanswered_after_success = 0;
		p->first_unanswered_after_success_frame = 0;
		if (x->use_candidate && !p->nominated) {
			p->nominated = true;
			p->nominated_frame = pkt->frame;
			p->nominated_us = pkt->ts_us;
		}
		return;
	}
	p->errors++;
	p->last_error = code;
	p->error_counts[code == 401 ? 0 : code == 487 ? 1 : code == 400 ? 3 : 2]++;
	pa_evidence_add(&p->evidence, pkt->frame);
}

static void response(il_pcap_analysis *a, const pa_pkt *pkt, const il_stun_msg *m)
{
	txn *x = pa_table_find(&a->transactions, m->buf + 8);
	if (!x) {
		a->unmatched_responses++;
		return;
	}
	if (x->answered)
		return; /* a retransmitted response */
	x->answered = true;
	bool ok = m->cls == IL_STUN_SUCCESS;
	int code = 0;
	if (!ok) {
		const il_stun_attr *ec = il_stun_msg_find(m, IL_ATTR_ERROR_CODE);
		const char *reason;
		size_t rlen;
		if (ec)
			il_stun_attr_get_error_code(m, ec, &code, &reason, &rlen);
	}
	if (x->ice) {
		ice_response(a, x, pkt, ok, code);
		return;
	}
	if (x->method == IL_STUN_BINDING || x->method > 0xf)
		return;
	pa_turn_alloc *t = alloc_find(a, &x->req, true);
	if (!t)
		return;
	t->last_frame = pkt->frame;
	if (ok) {
		t->last_ok_frame[x->method] = pkt->frame;
		for (size_t i = 0; i < t->error_count; i++)
			if (t->errors[i].method == x->method)
				t->errors[i].retried_ok = true;
	} else {
		pa_turn_error *e = turn_error_get(t, x->method, code);
		if (e) {
			e->count++;
			e->retried_ok = false;
			e->with_integrity |= x->has_integrity;
			pa_evidence_add(&e->evidence, x->req.frame);
			pa_evidence_add(&e->evidence, pkt->frame);
		}
	}
	switch (x->method) {
	case IL_STUN_ALLOCATE:
		if (!ok)
			break;
		t->created_seen = true;
		t->deleted = false;
		t->alloc_frame = pkt->frame;
		t->have_relayed = get_addr(m, IL_ATTR_XOR_RELAYED_ADDRESS, &t->relayed);
		get_addr(m, IL_ATTR_XOR_MAPPED_ADDRESS, &t->mapped);
		{
			const il_stun_attr *lt = il_stun_msg_find(m, IL_ATTR_LIFETIME);
			if (lt)
				il_stun_attr_get_u32(m, lt, &t->lifetime);
		}
		break;
	case IL_STUN_REFRESH:
		if (ok && x->refresh_zero)
			t->deleted = true;
		break;
	case IL_STUN_CREATEPERMISSION:
	case IL_STUN_CHANNELBIND:
		if (ok)
			grant(t, x, pkt);
		else
			refuse(t, x, PERM_REFUSED);
		break;
	default:
		break;
	}
}

void pa_stun_message(il_pcap_analysis *a, const pa_pkt *pkt, const il_stun_msg *m)
{
	uint64_t (*counts)[4] = pkt->relayed ? a->relayed_stun_counts : a->stun_counts;
	if (m->method < 16)
		counts[m->method][m->cls & 3]++;
	else
		a->stun_other_method++;
	if (m->method != IL_STUN_SEND && m->method != IL_STUN_DATA) {
		static const char *cls[4] = {"request", "indication", "success", "error"};
		const char *name = il_stun_method_name(m->method);
		int code = 0;
		const il_stun_attr *ec = m->cls == IL_STUN_ERROR ? il_stun_msg_find(m, IL_ATTR_ERROR_CODE)
								 : NULL;
		const char *reason;
		size_t rlen;
		if (ec)
			il_stun_attr_get_error_code(m, ec, &code, &reason, &rlen);
		if (code)
			pa_event_log(a, pkt, "%s %d", name ? name : "STUN", code);
		else
			pa_event_log(a, pkt, "%s %s%s", name ? name : "STUN", cls[m->cls & 3],
				     il_stun_msg_find(m, IL_ATTR_USE_CANDIDATE) ? " USE-CAND" : "");
	}
	switch (m->cls) {
	case IL_STUN_REQUEST:
		request(a, pkt, m);
		break;
	case IL_STUN_INDICATION:
		indication(a, pkt, m);
		break;
	default:
		response(a, pkt, m);
		break;
	}
}

/* ---- time-outs */

static void no_response(il_pcap_analysis *a, const txn *x)
{
	if (x->ice) {
		pa_ice_pair *p = pair_find(a, &x->req);
		if (!p)
			return;
		p->no_response++;
		if (p->successes && x->req.ts_us > p->last_success_us) {
			/* time-outs come in table order, not in frame order */
			if (!p->unanswered_after_success++ ||
			    x->req.frame < p->first_unanswered_after_success_frame)
				p->first_unanswered_after_success_frame = x->req.frame;
			if (x->req.frame > p->last_unanswered_frame)
				p->last_unanswered_frame = x->req.frame;
		}
		return;
	}
	if (x->method == IL_STUN_CREATEPERMISSION || x->method == IL_STUN_CHANNELBIND) {
		pa_turn_alloc *t = alloc_find(a, &x->req, true);
		if (t)
			refuse(t, x, PERM_NONE);
	}
}

/* An unanswered request counts as "no response" only when its flow (either
 * direction; retransmissions included) went on for NO_RESPONSE_GRACE_US
 * after it: a capture that stops, or a merged capture whose clock jumps,
 * says nothing about the answer. */
static bool flow_went_on(const il_pcap_analysis *a, const pa_pkt *req)
{
	const pa_flow *f = pa_flow_find(a, req->transport, req->relayed, &req->src, &req->dst);
	const pa_flow *r = pa_flow_find(a, req->transport, req->relayed, &req->dst, &req->src);
	uint64_t last = f ? f->last_us : 0;
	if (r && r->last_us > last)
		last = r->last_us;
	return last >= req->ts_us + NO_RESPONSE_GRACE_US;
}

void pa_stun_expire(il_pcap_analysis *a, uint64_t now_us, bool at_end)
{
	pa_table *t = &a->transactions;
	if (!t->count)
		return;
	/* Collect first: removal moves entries around. */
	uint8_t (*keys)[IL_STUN_TID_LEN] = malloc(t->count * IL_STUN_TID_LEN);
	if (!keys)
		return;
	size_t n = 0;
	for (size_t i = 0; i < t->cap; i++) {
		txn *x = t->slots[i];
		if (!x)
			continue;
		if (!at_end && x->req.ts_us + TRANSACTION_TIMEOUT_US > now_us)
			continue;
		if (!x->answered) {
			if (flow_went_on(a, &x->req))
				no_response(a, x);
			else
				a->pending_at_end++;
		}
		memcpy(keys[n++], x->tid, IL_STUN_TID_LEN);
	}
	for (size_t i = 0; i < n; i++)
		pa_table_remove(t, keys[i]);
	free(keys);
}
