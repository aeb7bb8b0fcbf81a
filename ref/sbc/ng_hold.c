/* Held ng commands (issue #8 §4, §5): an offer or answer toward a
 * force-relay leg whose TURN allocation is under way
 * (IL_SBC_ERR_RELAY_PENDING) is kept whole and run again once the
 * allocation is ready or failed, or answered with an error after
 * NG_HOLD_MS; the caller polls (il_sbc_ng_poll) and sends the reply to
 * where the command came from. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icelab/sbc_relay.h"
#include "ng_internal.h"

/* Keeps the command until the allocation is ready: false when the table
 * of held commands is full (an error reply then). */
bool ng_hold(ng_ctx *x, il_sbc_call *c, bool created)
{
	il_sbc_ng *ng = x->ng;
	for (int i = 0; i < NG_HELD; i++) {
		ng_held *h = &ng->held[i];
		if (h->msg)
			continue;
		h->msg = malloc(x->msg_len);
		if (!h->msg)
			return false;
		memcpy(h->msg, x->msg, x->msg_len);
		h->len = x->msg_len;
		h->cookie_len = x->cookie_len;
		memset(&h->to, 0, sizeof h->to);
		if (x->from)
			h->to = *x->from;
		const char *id = il_sbc_call_id(c);
		h->id_len = strlen(id);
		memcpy(h->call_id, id, h->id_len + 1);
		h->created = created;
		h->deadline_ms = x->now_ms + NG_HOLD_MS;
		ng->held_count++;
		x->held = true;
		return true;
	}
	return false;
}

ng_held *ng_held_find(il_sbc_ng *ng, const uint8_t *cookie, size_t len)
{
	for (int i = 0; ng->held_count && i < NG_HELD; i++) {
		ng_held *h = &ng->held[i];
		if (h->msg && h->cookie_len == len && memcmp(h->msg, cookie, len) == 0)
			return h;
	}
	return NULL;
}

size_t il_sbc_ng_held_count(const il_sbc_ng *ng)
{
	return ng->held_count;
}

void il_sbc_ng_set_policy(il_sbc_ng *ng, const il_sbc_policy *p)
{
	ng->policy = p;
}

static bool relay_allocating(il_sbc_session *s)
{
	for (unsigned i = 0; i < 2; i++) {
		il_sbc_leg_stats st;
		if (il_sbc_session_get_leg(s, i, &st) == IL_SBC_OK &&
		    st.relay_state == IL_SBC_RELAY_ALLOCATING)
			return true;
	}
	return false;
}

/* An error reply to a held command, cached like any reply. */
static size_t held_error(il_sbc_ng *ng, const ng_held *h, const char *reason, char *out,
			 size_t cap, uint64_t now_ms)
{
	il_benc_writer w;
	il_benc_writer_init(&w, out, cap);
	il_benc_put_raw(&w, h->msg, h->cookie_len + 1);
	ng_ctx x = {.ng = ng, .w = &w, .mark = w.len};
	ng_reply_error(&x, reason);
	ng->errors++;
	ng_cache_store(ng, h->msg, h->cookie_len, out, w.len, now_ms);
	return w.overflow ? 0 : w.len;
}

void il_sbc_ng_poll(il_sbc_ng *ng, char *out, size_t cap, uint64_t now_ms,
		    il_sbc_ng_reply_fn fn, void *user)
{
	for (int i = 0; ng->held_count && i < NG_HELD; i++) {
		ng_held *h = &ng->held[i];
		if (!h->msg)
			continue;
		il_sbc_call *c = il_sbc_bridge_find(ng->b, h->call_id, h->id_len);
		bool waiting = c && relay_allocating(il_sbc_call_session(c));
		if (waiting && now_ms < h->deadline_ms)
			continue;
		ng_held mine = *h; /* the slot is free again: run may hold the command anew */
		h->msg = NULL;
		ng->held_count--;
		size_t n;
		if (!c) {
			n = held_error(ng, &mine, "the call ended while its TURN allocation was under way",
				       out, cap, now_ms);
		} else if (waiting) {
			char reason[96];
			snprintf(reason, sizeof reason,
				 "force-relay: no TURN allocation within %u ms", NG_HOLD_MS);
			n = held_error(ng, &mine, reason, out, cap, now_ms);
			if (mine.created)
				il_sbc_bridge_delete(ng->b, c, "relay-timeout", now_ms);
		} else {
			n = ng_run(ng, mine.msg, mine.len, mine.cookie_len, out, cap, now_ms, &mine.to,
				mine.created);
		}
		if (n && fn)
			fn(user, &mine.to, out, n);
		free(mine.msg);
	}
}
