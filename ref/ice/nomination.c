/* Valid pairs, nomination and selection (RFC 8445 §7.2.5.3.3-4,
 * §7.3.1.5, §8.1): regular nomination by the controlling agent; a
 * controlled agent accepts USE-CANDIDATE in any check, so the aggressive
 * nomination of RFC 5245 peers works too (the highest-priority nominated
 * pair wins, §8.1.1); the selected pair of each component, and the check
 * list reaching Completed (§8.1.2). */
#include <string.h>

#include "ice_internal.h"

/* The pair media should use: the highest-priority nominated valid pair,
 * else (before nomination, §12.1.1) the highest-priority valid pair. */
static int best_pair(const ice_stream *s, unsigned component, bool nominated_only)
{
	int best = -1;
	for (size_t i = 0; i < s->pair_count; i++) {
		const ice_pair *p = &s->pairs[i];
		if (p->component != component || !p->valid || (nominated_only && !p->nominated))
			continue;
		if (best < 0 || p->valid_priority > s->pairs[best].valid_priority)
			best = (int)i;
	}
	return best;
}

void ice_update_selected(il_ice_agent *a, unsigned si, unsigned component, uint64_t now_ms)
{
	ice_stream *s = a->streams[si];
	ice_component *comp = &s->comp[component - 1];
	int best = best_pair(s, component, true);
	if (best < 0)
		best = best_pair(s, component, false);
	uint8_t sel = best < 0 ? NO_INDEX : (uint8_t)best;
	bool nominated = best >= 0 && s->pairs[best].nominated;
	if (sel == comp->selected && nominated == comp->selected_nominated)
		return;
	bool changed = sel != comp->selected;
	comp->selected = sel;
	comp->selected_nominated = nominated;
	if (changed && sel != NO_INDEX && !comp->has_previous)
		ice_consent_start(a, comp, now_ms);
	il_ice_pair_stats stats;
	if (sel != NO_INDEX)
		ice_fill_stats(a, si, &s->pairs[sel], &stats);
	il_ice_event ev = {.type = IL_ICE_EV_SELECTED_PAIR, .stream = si, .component = component,
			   .pair = sel != NO_INDEX ? &stats : NULL};
	ice_emit(a, &ev);
	ice_update_state(a, now_ms);
}

/* §7.2.5.3.3: the pair Succeeded; Frozen pairs of its foundation in
 * every check list become Waiting. */
void ice_pair_succeeded(il_ice_agent *a, unsigned si, unsigned pi, uint64_t now_ms)
{
	ice_stream *s = a->streams[si];
	ice_pair *p = &s->pairs[pi];
	p->state = IL_ICE_PAIR_SUCCEEDED;
	p->valid = true;
	if (s->first_valid_ms == UINT64_MAX)
		s->first_valid_ms = now_ms;
	ice_unfreeze_foundation(a, s, p);
	/* §7.3.1.5: a USE-CANDIDATE that came before the pair was valid. */
	if (p->nominate_on_success && !a->controlling) {
		ice_pair_nominated(a, si, pi, now_ms);
		return;
	}
	ice_update_selected(a, si, p->component, now_ms);
	ice_checklist_update(a, si, now_ms);
}

static bool component_nominated(const ice_stream *s, unsigned component)
{
	for (size_t i = 0; i < s->pair_count; i++)
		if (s->pairs[i].component == component && s->pairs[i].nominated &&
		    s->pairs[i].valid)
			return true;
	return false;
}

/* §8.1.2: "Once there is at least one nominated pair in the valid list
 * for every component of the data stream ... the agent MUST change the
 * state of the checklist to Completed" and stop checking the others. */
static void maybe_complete(il_ice_agent *a, unsigned si, uint64_t now_ms)
{
	ice_stream *s = a->streams[si];
	if (s->list_state != LIST_RUNNING)
		return;
	for (unsigned c = 1; c <= s->components; c++)
		if (!component_nominated(s, c))
			return;
	s->list_state = LIST_COMPLETED;
	for (size_t i = 0; i < s->pair_count; i++) {
		ice_pair *p = &s->pairs[i];
		if (!p->nominated && p->txn.active && !p->txn.use_candidate)
			p->txn.active = false;
		if (p->state == IL_ICE_PAIR_IN_PROGRESS && !p->txn.active)
			p->state = IL_ICE_PAIR_FAILED;
	}
	s->tq_count = 0;
	for (size_t i = 0; i < s->pair_count; i++)
		s->pairs[i].queued = false;
	if (s->restart_selecting)
		ice_restart_selected(a, si, now_ms);
	ice_update_state(a, now_ms);
}

void ice_pair_nominated(il_ice_agent *a, unsigned si, unsigned pi, uint64_t now_ms)
{
	ice_stream *s = a->streams[si];
	ice_pair *p = &s->pairs[pi];
	p->nominated = true;
	p->nominating = false;
	p->nominate_on_success = false;
	ice_update_selected(a, si, p->component, now_ms);
	maybe_complete(a, si, now_ms);
}

/* §7.3.1.5, the controlled agent: "If the state of this pair is
 * Succeeded ... The agent sets the nominated flag value of the valid pair
 * to true." Otherwise the triggered check nominates it on success. */
void ice_remote_use_candidate(il_ice_agent *a, unsigned si, unsigned pi, uint64_t now_ms)
{
	ice_stream *s = a->streams[si];
	ice_pair *p = &s->pairs[pi];
	if (p->nominated)
		return;
	if (p->state == IL_ICE_PAIR_SUCCEEDED && p->valid)
		ice_pair_nominated(a, si, pi, now_ms);
	else
		p->nominate_on_success = true;
}

static bool nominating_started(const ice_stream *s, unsigned component)
{
	for (size_t i = 0; i < s->pair_count; i++)
		if (s->pairs[i].component == component &&
		    (s->pairs[i].nominating || s->pairs[i].nominated))
			return true;
	return false;
}

/* No pair of the component still pending with a higher priority. */
static bool nothing_better_pending(const ice_stream *s, unsigned component, uint64_t priority)
{
	for (size_t i = 0; i < s->pair_count; i++) {
		const ice_pair *p = &s->pairs[i];
		if (p->component == component && p->priority > priority &&
		    (p->state == IL_ICE_PAIR_FROZEN || p->state == IL_ICE_PAIR_WAITING ||
		     p->state == IL_ICE_PAIR_IN_PROGRESS))
			return false;
	}
	return true;
}

static bool may_nominate(const il_ice_agent *a, const ice_stream *s)
{
	return a->started && a->controlling && !a->cfg.lite && !a->cfg.aggressive_nomination &&
	       s->list_state == LIST_RUNNING;
}

/* §8.1.1: regular nomination. Every component needs a valid pair; then
 * the best of each is checked again with USE-CANDIDATE. */
void ice_nomination_tick(il_ice_agent *a, unsigned si, uint64_t now_ms)
{
	ice_stream *s = a->streams[si];
	if (!may_nominate(a, s) || s->first_valid_ms == UINT64_MAX)
		return;
	int best[IL_ICE_MAX_COMPONENTS];
	bool ready = now_ms >= s->first_valid_ms + a->cfg.nomination_wait_ms;
	bool all_better_done = true;
	for (unsigned c = 1; c <= s->components; c++) {
		best[c - 1] = best_pair(s, c, false);
		if (best[c - 1] < 0 && !nominating_started(s, c))
			return;
		if (best[c - 1] >= 0 &&
		    !nothing_better_pending(s, c, s->pairs[best[c - 1]].valid_priority))
			all_better_done = false;
	}
	if (!ready && !all_better_done)
		return;
	for (unsigned c = 1; c <= s->components; c++) {
		if (nominating_started(s, c) || best[c - 1] < 0)
			continue;
		ice_pair *p = &s->pairs[best[c - 1]];
		p->nominating = true;
		ice_triggered_enqueue(s, (unsigned)best[c - 1]);
	}
}

uint64_t ice_nomination_deadline(const il_ice_agent *a)
{
	uint64_t d = UINT64_MAX;
	for (unsigned si = 0; si < a->stream_count; si++) {
		const ice_stream *s = a->streams[si];
		if (!may_nominate(a, s) || s->first_valid_ms == UINT64_MAX)
			continue;
		bool pending = false, missing = false, better = false;
		for (unsigned c = 1; c <= s->components; c++) {
			int b = best_pair(s, c, false);
			if (!nominating_started(s, c))
				pending = true;
			if (b < 0 && !nominating_started(s, c))
				missing = true;
			if (b >= 0 && !nothing_better_pending(s, c, s->pairs[b].valid_priority))
				better = true;
		}
		if (pending && !missing)
			d = ice_min(d, better ? s->first_valid_ms + a->cfg.nomination_wait_ms
					      : s->first_valid_ms);
	}
	return d;
}
