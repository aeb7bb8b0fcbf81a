/* ICE-lite (RFC 8445 §2.7, §7.3.2, §8.2): a lite agent has host
 * candidates only, is always controlled when its peer is full, answers
 * checks and sends none of its own, and learns the selected pair from the
 * USE-CANDIDATE of the full agent's checks. The full-agent side of a lite
 * peer is il_ice_agent_set_remote_lite: it takes the controlling role and
 * expects no triggered checks from the peer. */
#include "ice_internal.h"

bool ice_lite_active(const il_ice_agent *a)
{
	return a->cfg.lite;
}

/* §7.3.2 / §8.2.1: "a lite agent ... when it receives a Binding request
 * with USE-CANDIDATE ... the candidate pair ... is added to the valid list
 * and its nominated flag is set"; with several (RFC 5245 aggressive
 * nomination), the highest-priority nominated pair is selected. */
void ice_lite_use_candidate(il_ice_agent *a, unsigned si, unsigned pi, uint64_t now_ms)
{
	ice_stream *s = a->streams[si];
	ice_pair *p = &s->pairs[pi];
	if (p->nominated)
		return;
	p->state = IL_ICE_PAIR_SUCCEEDED;
	p->valid = true;
	if (s->first_valid_ms == UINT64_MAX)
		s->first_valid_ms = now_ms;
	ice_pair_nominated(a, si, pi, now_ms);
}
