/* Check lists (RFC 8445 §6.1.2, §6.1.4, §7.2.5.3.3, §7.2.5.4): forming
 * and pruning pairs, the pair priority formula, the initial states, the
 * pacing of checks every Ta across the check list set with triggered
 * checks first, unfreezing by foundation, the states of pairs formed
 * after the checks started (RFC 8838 §12), and the failure of a check
 * list (RFC 8445 §7.2.5.4 with the trickle conditions of RFC 8838 §8). */
#include <string.h>

#include "ice_internal.h"

/* §6.1.2.3: "pair priority = 2^32*MIN(G,D) + 2*MAX(G,D) + (G>D?1:0)". */
uint64_t il_ice_pair_priority(uint32_t g, uint32_t d)
{
	uint64_t lo = g < d ? g : d, hi = g < d ? d : g;
	return (lo << 32) + 2 * hi + (g > d ? 1 : 0);
}

uint64_t ice_pair_priority_of(const il_ice_agent *a, const ice_stream *s, unsigned local,
			      unsigned remote)
{
	uint32_t l = s->local[local].priority, r = s->remote[remote].priority;
	return a->controlling ? il_ice_pair_priority(l, r) : il_ice_pair_priority(r, l);
}

int ice_pair_find(const ice_stream *s, unsigned local, unsigned remote)
{
	for (size_t i = 0; i < s->pair_count; i++)
		if (s->pairs[i].local == local && s->pairs[i].remote == remote)
			return (int)i;
	return -1;
}

bool ice_pair_same_foundation(const ice_stream *s1, const ice_pair *p1, const ice_stream *s2,
			      const ice_pair *p2)
{
	return strcmp(s1->local[p1->local].foundation, s2->local[p2->local].foundation) == 0 &&
	       strcmp(s1->remote[p1->remote].foundation, s2->remote[p2->remote].foundation) == 0;
}

/* "Topmost in its column" (RFC 8838 §12 rule 1, RFC 8445 §6.1.2.6): no
 * pair of the same foundation sits in an earlier check list, a lower
 * component, or higher in the same component. */
static bool is_topmost(const il_ice_agent *a, unsigned si, const ice_pair *p)
{
	for (unsigned sj = 0; sj <= si && sj < a->stream_count; sj++) {
		const ice_stream *s = a->streams[sj];
		for (size_t i = 0; i < s->pair_count; i++) {
			const ice_pair *q = &s->pairs[i];
			if (q == p || !ice_pair_same_foundation(a->streams[si], p, s, q))
				continue;
			if (sj < si || q->component < p->component ||
			    (q->component == p->component && q->priority > p->priority))
				return false;
		}
	}
	return true;
}

static bool foundation_has_state(const il_ice_agent *a, const ice_stream *from, const ice_pair *p,
				 int state1, int state2)
{
	for (unsigned sj = 0; sj < a->stream_count; sj++) {
		const ice_stream *s = a->streams[sj];
		for (size_t i = 0; i < s->pair_count; i++) {
			const ice_pair *q = &s->pairs[i];
			if (q != p && (q->state == state1 || q->state == state2) &&
			    ice_pair_same_foundation(from, p, s, q))
				return true;
		}
	}
	return false;
}

/* RFC 8838 §12: the state of a pair formed after the checks started. */
static void set_new_pair_state(il_ice_agent *a, unsigned si, ice_pair *p)
{
	ice_stream *s = a->streams[si];
	if (is_topmost(a, si, p) ||
	    foundation_has_state(a, s, p, IL_ICE_PAIR_SUCCEEDED, IL_ICE_PAIR_SUCCEEDED))
		p->state = IL_ICE_PAIR_WAITING;
	else
		p->state = IL_ICE_PAIR_FROZEN;
}

int ice_pair_add(il_ice_agent *a, unsigned si, unsigned local, unsigned remote)
{
	ice_stream *s = a->streams[si];
	int found = ice_pair_find(s, local, remote);
	if (found >= 0)
		return found;
	/* §6.1.2.5: the check list is limited (cfg.max_pairs); once full,
	 * a new pair replaces a Failed one or is dropped. */
	size_t index = s->pair_count;
	if (index >= a->cfg.max_pairs) {
		for (index = 0; index < s->pair_count; index++)
			if (s->pairs[index].state == IL_ICE_PAIR_FAILED && !s->pairs[index].queued &&
			    s->comp[s->pairs[index].component - 1].selected != index)
				break;
		if (index == s->pair_count)
			return -1;
	} else {
		s->pair_count++;
	}
	ice_pair *p = &s->pairs[index];
	memset(p, 0, sizeof *p);
	p->local = (uint8_t)local;
	p->remote = (uint8_t)remote;
	p->valid_local = (uint8_t)local;
	p->component = (uint8_t)s->local[local].component;
	p->priority = ice_pair_priority_of(a, s, local, remote);
	p->valid_priority = p->priority;
	p->state = IL_ICE_PAIR_FROZEN;
	if (a->started)
		set_new_pair_state(a, si, p);
	return (int)index;
}

/* §6.1.2.4: a server-reflexive local candidate is replaced by its base
 * (the host candidate with that address); peer-reflexive locals are never
 * paired (§7.2.5.3.1). Returns the local to pair, or -1. */
static int pairing_local(const ice_stream *s, unsigned li)
{
	const il_ice_candidate *l = &s->local[li];
	if (l->type == IL_ICE_CAND_PRFLX)
		return -1;
	if (l->type != IL_ICE_CAND_SRFLX)
		return (int)li;
	for (size_t i = 0; i < s->local_count; i++)
		if (s->local[i].type == IL_ICE_CAND_HOST && s->local[i].component == l->component &&
		    il_addr_equal(&s->local[i].addr, &l->base))
			return (int)i;
	return (int)li;
}

static bool can_pair(const ice_stream *s, unsigned li, unsigned ri)
{
	const il_ice_candidate *l = &s->local[li], *r = &s->remote[ri];
	/* §6.1.2.2: same component, same transport and address family. */
	return l->component == r->component && l->transport == r->transport &&
	       l->addr.family == r->addr.family && r->transport == IL_ICE_TRANSPORT_UDP;
}

void ice_pairs_form_for_local(il_ice_agent *a, unsigned si, unsigned local)
{
	ice_stream *s = a->streams[si];
	int li = pairing_local(s, local);
	if (li < 0 || s->list_state != LIST_RUNNING)
		return;
	for (size_t ri = 0; ri < s->remote_count; ri++)
		if (can_pair(s, (unsigned)li, (unsigned)ri))
			(void)ice_pair_add(a, si, (unsigned)li, (unsigned)ri);
}

void ice_pairs_form_for_remote(il_ice_agent *a, unsigned si, unsigned remote)
{
	ice_stream *s = a->streams[si];
	if (s->list_state != LIST_RUNNING)
		return;
	for (size_t l = 0; l < s->local_count; l++) {
		int li = pairing_local(s, (unsigned)l);
		if (li >= 0 && can_pair(s, (unsigned)li, remote))
			(void)ice_pair_add(a, si, (unsigned)li, remote);
	}
}

void ice_recompute_priorities(il_ice_agent *a)
{
	for (unsigned si = 0; si < a->stream_count; si++) {
		ice_stream *s = a->streams[si];
		for (size_t i = 0; i < s->pair_count; i++) {
			ice_pair *p = &s->pairs[i];
			p->priority = ice_pair_priority_of(a, s, p->local, p->remote);
			p->valid_priority = ice_pair_priority_of(a, s, p->valid_local, p->remote);
		}
	}
}

/* §6.1.2.6: in the first check list, for each foundation, the pair with
 * the lowest component ID and then the highest priority is Waiting; every
 * other pair is Frozen. */
void ice_checklist_init_states(il_ice_agent *a)
{
	for (unsigned si = 0; si < a->stream_count; si++) {
		ice_stream *s = a->streams[si];
		for (size_t i = 0; i < s->pair_count; i++)
			if (s->pairs[i].state == IL_ICE_PAIR_FROZEN && si == 0 &&
			    is_topmost(a, si, &s->pairs[i]))
				s->pairs[i].state = IL_ICE_PAIR_WAITING;
	}
}

void ice_triggered_enqueue(ice_stream *s, unsigned pair)
{
	ice_pair *p = &s->pairs[pair];
	if (p->queued || s->tq_count == s->pair_cap)
		return;
	p->queued = true;
	s->triggered[(s->tq_head + s->tq_count++) % s->pair_cap] = (uint8_t)pair;
}

static int triggered_pop(ice_stream *s)
{
	while (s->tq_count > 0) {
		unsigned pi = s->triggered[s->tq_head];
		s->tq_head = (s->tq_head + 1) % s->pair_cap;
		s->tq_count--;
		ice_pair *p = &s->pairs[pi];
		p->queued = false;
		if (p->state == IL_ICE_PAIR_WAITING || (p->nominating && p->valid))
			return (int)pi;
	}
	return -1;
}

/* §7.2.5.3.3: "The agent MUST set the states for all other Frozen
 * candidate pairs in all checklists with the same foundation to Waiting." */
void ice_unfreeze_foundation(il_ice_agent *a, const ice_stream *from, const ice_pair *p)
{
	for (unsigned sj = 0; sj < a->stream_count; sj++) {
		ice_stream *s = a->streams[sj];
		for (size_t i = 0; i < s->pair_count; i++) {
			ice_pair *q = &s->pairs[i];
			if (q != p && q->state == IL_ICE_PAIR_FROZEN &&
			    ice_pair_same_foundation(from, p, s, q))
				q->state = IL_ICE_PAIR_WAITING;
		}
	}
}

static int best_waiting(const ice_stream *s)
{
	int best = -1;
	for (size_t i = 0; i < s->pair_count; i++)
		if (s->pairs[i].state == IL_ICE_PAIR_WAITING &&
		    (best < 0 || s->pairs[i].priority > s->pairs[best].priority))
			best = (int)i;
	return best;
}

/* §6.1.4.2: "If there is no pair in the Waiting state, and if there are
 * one or more pairs in the Frozen state, the agent checks the foundation
 * associated with each pair in the Frozen state. For a given foundation,
 * if there is no pair (in any checklist in the checklist set) in the
 * Waiting or In-Progress state, the agent puts the pair state to Waiting." */
static void unfreeze_idle_foundations(il_ice_agent *a, unsigned si)
{
	ice_stream *s = a->streams[si];
	for (size_t i = 0; i < s->pair_count; i++) {
		ice_pair *p = &s->pairs[i];
		if (p->state != IL_ICE_PAIR_FROZEN)
			continue;
		if (foundation_has_state(a, s, p, IL_ICE_PAIR_WAITING, IL_ICE_PAIR_IN_PROGRESS))
			continue;
		/* The topmost Frozen pair of this foundation in this list. */
		bool best = true;
		for (size_t j = 0; j < s->pair_count && best; j++) {
			const ice_pair *q = &s->pairs[j];
			if (j != i && q->state == IL_ICE_PAIR_FROZEN &&
			    ice_pair_same_foundation(s, p, s, q) &&
			    (q->component < p->component ||
			     (q->component == p->component && q->priority > p->priority)))
				best = false;
		}
		if (best)
			p->state = IL_ICE_PAIR_WAITING;
	}
}

static bool list_checkable(const ice_stream *s)
{
	return s->list_state == LIST_RUNNING && s->have_remote;
}

static bool list_has_work(const ice_stream *s)
{
	if (!list_checkable(s))
		return false;
	if (s->tq_count > 0)
		return true;
	for (size_t i = 0; i < s->pair_count; i++)
		if (s->pairs[i].state == IL_ICE_PAIR_WAITING ||
		    s->pairs[i].state == IL_ICE_PAIR_FROZEN)
			return true;
	return false;
}

static int next_pair(il_ice_agent *a, unsigned si)
{
	ice_stream *s = a->streams[si];
	int pi = triggered_pop(s);
	if (pi >= 0)
		return pi;
	pi = best_waiting(s);
	if (pi >= 0)
		return pi;
	unfreeze_idle_foundations(a, si);
	return best_waiting(s);
}

/* One check every Ta over the whole check list set (§14.2), the check
 * lists in turn (§6.1.4.2); an empty list passes its turn at once (RFC
 * 8838 §8). */
void ice_checklist_tick(il_ice_agent *a, uint64_t now_ms)
{
	if (ice_lite_active(a) || now_ms < a->next_check_ms || a->stream_count == 0)
		return;
	for (unsigned k = 0; k < a->stream_count; k++) {
		unsigned si = (a->rr_stream + k) % a->stream_count;
		if (!list_checkable(a->streams[si]))
			continue;
		int pi = next_pair(a, si);
		if (pi < 0)
			continue;
		a->rr_stream = (si + 1) % a->stream_count;
		a->next_check_ms = now_ms + a->cfg.ta_ms;
		ice_check_send(a, si, (unsigned)pi, now_ms);
		return;
	}
}

uint64_t ice_checklist_deadline(const il_ice_agent *a)
{
	if (ice_lite_active(a))
		return UINT64_MAX;
	for (unsigned si = 0; si < a->stream_count; si++)
		if (list_has_work(a->streams[si]))
			return a->next_check_ms;
	return UINT64_MAX;
}

uint32_t ice_count_pending(const il_ice_agent *a)
{
	uint32_t n = 0;
	for (unsigned si = 0; si < a->stream_count; si++) {
		const ice_stream *s = a->streams[si];
		for (size_t i = 0; i < s->pair_count; i++)
			if (s->pairs[i].state == IL_ICE_PAIR_WAITING ||
			    s->pairs[i].state == IL_ICE_PAIR_IN_PROGRESS)
				n++;
	}
	return n;
}

/* §7.2.5.4 and RFC 8838 §8: a Running check list fails when every pair
 * is Succeeded or Failed, some component has no valid pair, local
 * gathering is over and the peer sent end-of-candidates. */
void ice_checklist_update(il_ice_agent *a, unsigned si, uint64_t now_ms)
{
	ice_stream *s = a->streams[si];
	if (!a->started || s->list_state != LIST_RUNNING || a->cfg.lite)
		return;
	if (!s->local_eoc || !s->remote_eoc)
		return;
	for (size_t i = 0; i < s->pair_count; i++)
		if (s->pairs[i].state != IL_ICE_PAIR_SUCCEEDED &&
		    s->pairs[i].state != IL_ICE_PAIR_FAILED)
			return;
	bool all_valid = true;
	for (unsigned c = 1; c <= s->components; c++) {
		bool valid = false;
		for (size_t i = 0; i < s->pair_count; i++)
			if (s->pairs[i].component == c && s->pairs[i].valid)
				valid = true;
		if (!valid)
			all_valid = false;
	}
	if (all_valid)
		return;
	s->list_state = LIST_FAILED;
	ice_update_state(a, now_ms);
}

void il_ice_agent_local_end_of_candidates(il_ice_agent *a, unsigned stream, uint64_t now_ms)
{
	ice_stream *s = ice_stream_get(a, stream);
	if (!s)
		return;
	s->local_eoc = true;
	ice_checklist_update(a, stream, now_ms);
}

void il_ice_agent_remote_end_of_candidates(il_ice_agent *a, unsigned stream, uint64_t now_ms)
{
	ice_stream *s = ice_stream_get(a, stream);
	if (!s)
		return;
	s->remote_eoc = true;
	ice_checklist_update(a, stream, now_ms);
}
