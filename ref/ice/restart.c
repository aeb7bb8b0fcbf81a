/* ICE restart (RFC 8445 §9, RFC 8839 §4.4.1.1.2): new local credentials;
 * when the peer's new credentials come, its candidates and the pairs go
 * and the check list runs again, while media (and consent, RFC 7675 §5.1)
 * stays on the previously selected pairs until the new check list selects
 * its own. A restart offer that is abandoned before the peer's new
 * credentials come is rolled back: the old local credentials return. */
#include <string.h>

#include "ice_internal.h"

int il_ice_agent_restart(il_ice_agent *a, unsigned stream, const char *ufrag, const char *pwd,
			 uint64_t now_ms)
{
	ice_stream *s = ice_stream_get(a, stream);
	if (!s)
		return IL_ICE_ERR_ARGUMENT;
	if (a->closed)
		return IL_ICE_ERR_STATE;
	char old_ufrag[IL_ICE_UFRAG_MAX + 1], old_pwd[IL_ICE_PWD_MAX + 1];
	il_stun_key old_key = s->lkey;
	strcpy(old_ufrag, s->lufrag);
	strcpy(old_pwd, s->lpwd);
	int rc = ice_set_local_credentials(a, s, ufrag, pwd);
	if (rc != IL_ICE_OK) {
		strcpy(s->lufrag, old_ufrag);
		strcpy(s->lpwd, old_pwd);
		s->lkey = old_key;
		return rc;
	}
	/* §9: the new ufrag and pwd "MUST be different"; a random draw that
	 * repeats them is drawn again once (8 chars: practically never). */
	if (strcmp(s->lufrag, old_ufrag) == 0 && !ufrag)
		ice_random_ice_chars(a, s->lufrag, 8);
	if (!s->restart_pending) {
		strcpy(s->old_lufrag, old_ufrag);
		strcpy(s->old_lpwd, old_pwd);
		s->old_lkey = old_key;
	}
	s->old_local_valid = true;
	s->restart_pending = true;
	(void)now_ms;
	return IL_ICE_OK;
}

int il_ice_agent_restart_rollback(il_ice_agent *a, unsigned stream, uint64_t now_ms)
{
	ice_stream *s = ice_stream_get(a, stream);
	if (!s)
		return IL_ICE_ERR_ARGUMENT;
	if (!s->restart_pending)
		return IL_ICE_ERR_STATE;
	strcpy(s->lufrag, s->old_lufrag);
	strcpy(s->lpwd, s->old_lpwd);
	s->lkey = s->old_lkey;
	s->restart_pending = false;
	s->old_local_valid = false;
	(void)now_ms;
	return IL_ICE_OK;
}

/* The peer's credentials changed: it restarted (or answered our
 * restart). */
void ice_restart_remote(il_ice_agent *a, unsigned si, uint64_t now_ms)
{
	ice_stream *s = a->streams[si];
	for (unsigned ci = 0; ci < s->components; ci++) {
		ice_component *c = &s->comp[ci];
		if (c->selected != NO_INDEX && !c->has_previous) {
			const ice_pair *p = &s->pairs[c->selected];
			c->prev_local = s->local[p->local];
			c->prev_remote = s->remote[p->remote].addr;
			c->prev_pair = *p;
			c->prev_pair.txn.active = false;
			c->prev_pair.old_txn.active = false;
			c->has_previous = true;
		}
		c->selected = NO_INDEX;
		c->selected_nominated = false;
	}
	/* Local peer-reflexive candidates were learnt with the old session;
	 * gathered ones stay. */
	size_t kept = 0;
	for (size_t i = 0; i < s->local_count; i++)
		if (s->local[i].type != IL_ICE_CAND_PRFLX)
			s->local[kept++] = s->local[i];
	s->local_count = kept;
	s->remote_count = 0;
	s->pair_count = 0;
	s->tq_head = s->tq_count = 0;
	s->list_state = LIST_RUNNING;
	s->remote_eoc = false;
	s->first_valid_ms = UINT64_MAX;
	s->restart_pending = false; /* the peer has the new credentials: no rollback */
	s->restart_selecting = true;
	ice_update_state(a, now_ms);
}

/* The restarted check list completed: media moves to the new pairs. */
void ice_restart_selected(il_ice_agent *a, unsigned si, uint64_t now_ms)
{
	ice_stream *s = a->streams[si];
	s->restart_selecting = false;
	s->old_local_valid = false;
	for (unsigned ci = 0; ci < s->components; ci++) {
		ice_component *c = &s->comp[ci];
		if (c->has_previous) {
			c->has_previous = false;
			ice_consent_start(a, c, now_ms);
		}
	}
	il_ice_event ev = {.type = IL_ICE_EV_RESTART_DONE, .stream = si};
	ice_emit(a, &ev);
}
