/* `analyze --call ID` (issue #7 §4): the analysis restricted to one SIP
 * call. A first pass over the whole capture finds the call and the
 * transport addresses that belong to it: its signalling addresses, every
 * media address either side advertised (c=/m= and ICE candidates), the
 * sources and destinations its RTP was seen with, then, to a fixed point,
 * the other end of every ICE candidate pair touching one of them and the
 * client, server and relayed address of every TURN allocation touching
 * one. The second pass reads the capture again and keeps only UDP and TCP
 * packets from or to such an address, and SIP messages of that Call-ID:
 * every report (text, JSON, HTML) then covers that call alone, with the
 * capture's frame numbers. */
#include <stdlib.h>
#include <string.h>

#include "pcaps_internal.h"

#define SCOPE_ROUNDS 4

static bool scope_has(const pa_table *t, const il_addr *x)
{
	uint8_t key[19];
	pa_key_addr(key, x);
	return pa_table_find(t, key) != NULL;
}

static bool scope_add(pa_table *t, const il_addr *x)
{
	if (!x->family)
		return false;
	uint8_t key[19];
	pa_key_addr(key, x);
	bool created = false;
	pa_table_get(t, key, sizeof key, &created);
	return created;
}

bool pa_scope_pass(const il_pcap_analysis *a, const pa_pkt *pkt)
{
	return scope_has(&a->scope, &pkt->src) || scope_has(&a->scope, &pkt->dst);
}

static const pa_call *call_find(const il_pcap_analysis *a, const char *call_id)
{
	char key[CALL_ID_MAX];
	memset(key, 0, sizeof key);
	size_t n = strlen(call_id);
	if (n >= CALL_ID_MAX)
		return NULL;
	memcpy(key, call_id, n);
	return pa_table_find(&a->calls, key);
}

int il_pcap_scope_to_call(il_pcap_analysis *a, const il_pcap_analysis *full, const char *call_id,
			  char *err, size_t errlen)
{
	const pa_call *c = call_find(full, call_id);
	if (!c) {
		size_t n;
		pa_call **v = pa_calls_sorted(full, &n);
		int w = snprintf(err, errlen, "no SIP call with Call-ID '%s' (%zu call(s)%s", call_id,
				 n, n ? ": " : "");
		for (size_t i = 0; v && i < n && i < 5 && w > 0 && (size_t)w < errlen; i++)
			w += snprintf(err + w, errlen - (size_t)w, "%s%s", i ? ", " : "",
				      v[i]->call_id);
		if (w > 0 && (size_t)w < errlen)
			snprintf(err + w, errlen - (size_t)w, "%s)", n > 5 ? ", ..." : "");
		free(v);
		return -1;
	}
	pa_table *t = &a->scope;
	pa_table_free(t);
	pa_table_init(t, 19);
	snprintf(a->scope_call_id, sizeof a->scope_call_id, "%s", call_id);
	scope_add(t, &c->caller_sig);
	scope_add(t, &c->callee_sig);
	for (uint8_t m = 0; m < c->media_count && m < CALL_MAX_MEDIA; m++)
		for (int s = 0; s < 2; s++) {
			const pa_call_side *x = &c->sides[m][s];
			for (uint8_t i = 0; i < x->adv_count; i++)
				scope_add(t, &x->adv[i]);
			for (uint8_t i = 0; i < x->source_count; i++)
				scope_add(t, &x->sources[i].addr);
			for (uint8_t i = 0; i < x->dest_count; i++)
				scope_add(t, &x->dests[i].addr);
		}
	/* ICE and TURN reach addresses no SDP named (peer-reflexive
	 * candidates, a TURN client's host address behind its relayed one). */
	for (int round = 0; round < SCOPE_ROUNDS; round++) {
		bool grew = false;
		for (size_t i = 0; i < full->ice_pairs.cap; i++) {
			const pa_ice_pair *p = full->ice_pairs.slots[i];
			if (p && (scope_has(t, &p->local) || scope_has(t, &p->remote))) {
				grew |= scope_add(t, &p->local);
				grew |= scope_add(t, &p->remote);
			}
		}
		for (size_t i = 0; i < full->allocations.cap; i++) {
			const pa_turn_alloc *x = full->allocations.slots[i];
			if (x && (scope_has(t, &x->client) ||
				  (x->have_relayed && scope_has(t, &x->relayed)))) {
				grew |= scope_add(t, &x->client);
				grew |= scope_add(t, &x->server);
				if (x->have_relayed)
					grew |= scope_add(t, &x->relayed);
			}
		}
		if (!grew)
			break;
	}
	return 0;
}
