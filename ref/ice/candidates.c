/* Candidates (RFC 8445 §5.1): priorities (§5.1.2), foundations
 * (§5.1.1.3), the dual-stack and multihomed local preferences of RFC 8421,
 * local and remote candidates of a stream, and peer-reflexive candidates
 * learnt from checks (§7.2.5.3.1, §7.3.1.3). */
#include <stdio.h>
#include <string.h>

#include "ice_internal.h"

const char *il_ice_candidate_type_name(int type)
{
	static const char *const names[] = {"host", "srflx", "prflx", "relay"};
	return type >= 0 && type <= IL_ICE_CAND_RELAY ? names[type] : "?";
}

/* §5.1.2.1: priority = (2^24)*(type preference) + (2^8)*(local preference)
 * + (2^0)*(256 - component ID). */
uint32_t il_ice_candidate_priority(unsigned type_pref, unsigned local_pref, unsigned component)
{
	if (type_pref > 126)
		type_pref = 126;
	if (local_pref > 65535)
		local_pref = 65535;
	if (component < 1)
		component = 1;
	if (component > 256)
		component = 256;
	return ((uint32_t)type_pref << 24) + ((uint32_t)local_pref << 8) + (256u - component);
}

/* §5.1.2.2: "The RECOMMENDED values are 126 for host candidates, 100 for
 * server-reflexive candidates, 110 for peer-reflexive candidates, and 0
 * for relayed candidates." */
unsigned il_ice_type_preference(int type)
{
	switch (type) {
	case IL_ICE_CAND_HOST:
		return IL_ICE_TYPE_PREF_HOST;
	case IL_ICE_CAND_SRFLX:
		return IL_ICE_TYPE_PREF_SRFLX;
	case IL_ICE_CAND_PRFLX:
		return IL_ICE_TYPE_PREF_PRFLX;
	default:
		return IL_ICE_TYPE_PREF_RELAY;
	}
}

/* RFC 8421 §4: "Hi = (N_4 + N_6) / N_4" IPv6 addresses before the first
 * IPv4 one, then the families alternate; §5: "Candidates with IP addresses
 * from an unreliable interface should be ordered at the end". */
void il_ice_local_preferences(const il_addr *addrs, const bool *unreliable, size_t count,
			      uint16_t *prefs)
{
	size_t n4 = 0, n6 = 0;
	for (size_t i = 0; i < count; i++) {
		if (unreliable && unreliable[i])
			continue;
		if (addrs[i].family == IL_AF_INET6)
			n6++;
		else
			n4++;
	}
	size_t head = n4 ? (n4 + n6) / n4 : n6;
	size_t next4 = 0, next6 = 0, taken6 = 0, taken4 = 0;
	unsigned rank = 0;
	bool turn6 = true;
	while (taken4 + taken6 < n4 + n6) {
		bool take6;
		if (taken6 < head && taken6 < n6)
			take6 = true;
		else if (taken6 == n6)
			take6 = false;
		else if (taken4 == n4)
			take6 = true;
		else
			take6 = turn6;
		size_t *cursor = take6 ? &next6 : &next4;
		while ((unreliable && unreliable[*cursor]) ||
		       (addrs[*cursor].family == IL_AF_INET6) != take6)
			(*cursor)++;
		prefs[*cursor] = (uint16_t)(65535 - rank++);
		(*cursor)++;
		if (take6)
			taken6++;
		else
			taken4++;
		/* After the head start, one IPv4 then one IPv6, and so on. */
		turn6 = !take6;
	}
	for (size_t i = 0; i < count; i++)
		if (unreliable && unreliable[i])
			prefs[i] = (uint16_t)(65535 - rank++);
}

static bool ip_equal(const il_addr *x, const il_addr *y)
{
	if (x->family != y->family)
		return false;
	return memcmp(x->ip, y->ip, x->family == IL_AF_INET ? 4 : 16) == 0;
}

/* §5.1.1.3: same foundation for candidates of the same type, base IP,
 * STUN/TURN server IP and transport. Numbers, unique in the agent. */
void ice_assign_foundation(il_ice_agent *a, il_ice_candidate *c)
{
	for (size_t i = 0; i < a->foundation_count; i++) {
		if (a->foundations[i].type == c->type &&
		    a->foundations[i].transport == c->transport &&
		    ip_equal(&a->foundations[i].base, &c->base) &&
		    ip_equal(&a->foundations[i].server, &c->server)) {
			snprintf(c->foundation, sizeof c->foundation, "%zu", i + 1);
			return;
		}
	}
	size_t n = a->foundation_count;
	if (n < a->foundation_cap) {
		a->foundations[n].type = c->type;
		a->foundations[n].transport = c->transport;
		a->foundations[n].base = c->base;
		a->foundations[n].server = c->server;
		a->foundation_count++;
	}
	snprintf(c->foundation, sizeof c->foundation, "%zu", n + 1);
}

int ice_find_local_by_base(const ice_stream *s, const il_addr *base)
{
	/* The local candidate a datagram arrived on: a host or relayed one
	 * (never server-reflexive: §7.3.1.4). */
	for (size_t i = 0; i < s->local_count; i++) {
		const il_ice_candidate *c = &s->local[i];
		if ((c->type == IL_ICE_CAND_HOST || c->type == IL_ICE_CAND_RELAY) &&
		    il_addr_equal(&c->addr, base))
			return (int)i;
	}
	return -1;
}

int ice_find_local_by_addr(const ice_stream *s, unsigned component, const il_addr *addr)
{
	for (size_t i = 0; i < s->local_count; i++)
		if (s->local[i].component == component && il_addr_equal(&s->local[i].addr, addr))
			return (int)i;
	return -1;
}

int ice_find_remote(const ice_stream *s, unsigned component, const il_addr *addr)
{
	for (size_t i = 0; i < s->remote_count; i++)
		if (s->remote[i].component == component && il_addr_equal(&s->remote[i].addr, addr))
			return (int)i;
	return -1;
}

static bool family_ok(const il_addr *addr)
{
	return addr->family == IL_AF_INET || addr->family == IL_AF_INET6;
}

int il_ice_agent_add_local_candidate(il_ice_agent *a, unsigned stream, const il_ice_candidate *c,
				     uint64_t now_ms)
{
	ice_stream *s = ice_stream_get(a, stream);
	if (!s || !c || c->component < 1 || c->component > s->components || !family_ok(&c->addr))
		return IL_ICE_ERR_ARGUMENT;
	if (c->type != IL_ICE_CAND_HOST && c->type != IL_ICE_CAND_SRFLX &&
	    c->type != IL_ICE_CAND_RELAY)
		return IL_ICE_ERR_ARGUMENT;
	if (a->closed)
		return IL_ICE_ERR_STATE;
	il_ice_candidate cand = *c;
	if (cand.type != IL_ICE_CAND_SRFLX || !family_ok(&cand.base))
		cand.base = cand.type == IL_ICE_CAND_SRFLX ? cand.related : cand.addr;
	if (!family_ok(&cand.base))
		return IL_ICE_ERR_ARGUMENT; /* srflx without a base */
	for (size_t i = 0; i < s->local_count; i++)
		if (s->local[i].component == cand.component && s->local[i].type == cand.type &&
		    il_addr_equal(&s->local[i].addr, &cand.addr) &&
		    il_addr_equal(&s->local[i].base, &cand.base))
			return IL_ICE_ERR_DUPLICATE;
	if (s->local_count == s->local_cap)
		return IL_ICE_ERR_FULL;
	if (cand.priority == 0) {
		unsigned same = 0;
		for (size_t i = 0; i < s->local_count; i++)
			if (s->local[i].type == cand.type && s->local[i].component == cand.component)
				same++;
		cand.priority = il_ice_candidate_priority(il_ice_type_preference(cand.type),
							  65535 - same, cand.component);
	}
	if (cand.foundation[0] == '\0')
		ice_assign_foundation(a, &cand);
	if (cand.type == IL_ICE_CAND_SRFLX && cand.related.family == IL_AF_NONE)
		cand.related = cand.base;
	if (cand.type == IL_ICE_CAND_RELAY && cand.related.family == IL_AF_NONE)
		cand.related = c->related;
	unsigned index = (unsigned)s->local_count++;
	s->local[index] = cand;
	ice_pairs_form_for_local(a, stream, index);
	ice_update_state(a, now_ms);
	return (int)index;
}

size_t il_ice_agent_local_candidate_count(const il_ice_agent *a, unsigned stream)
{
	const ice_stream *s = ice_stream_get(a, stream);
	return s ? s->local_count : 0;
}

const il_ice_candidate *il_ice_agent_local_candidate(const il_ice_agent *a, unsigned stream,
						     size_t index)
{
	const ice_stream *s = ice_stream_get(a, stream);
	return s && index < s->local_count ? &s->local[index] : NULL;
}

size_t il_ice_agent_remote_candidate_count(const il_ice_agent *a, unsigned stream)
{
	const ice_stream *s = ice_stream_get(a, stream);
	return s ? s->remote_count : 0;
}

const il_ice_candidate *il_ice_agent_remote_candidate(const il_ice_agent *a, unsigned stream,
						      size_t index)
{
	const ice_stream *s = ice_stream_get(a, stream);
	return s && index < s->remote_count ? &s->remote[index] : NULL;
}

int il_ice_agent_add_remote_candidate(il_ice_agent *a, unsigned stream, const il_ice_candidate *c,
				      uint64_t now_ms)
{
	ice_stream *s = ice_stream_get(a, stream);
	if (!s || !c || c->component < 1 || c->component > s->components || !family_ok(&c->addr) ||
	    c->type > IL_ICE_CAND_RELAY || c->priority == 0)
		return IL_ICE_ERR_ARGUMENT;
	/* RFC 8838 §14: "After an agent has received an end-of-candidates
	 * indication, it MUST ignore any newly received candidates". */
	if (a->closed || s->remote_eoc)
		return IL_ICE_ERR_STATE;
	int known = ice_find_remote(s, c->component, &c->addr);
	if (known >= 0) {
		il_ice_candidate *r = &s->remote[known];
		if (r->type != IL_ICE_CAND_PRFLX)
			return IL_ICE_ERR_DUPLICATE;
		/* RFC 8838 §11.4: a signalled candidate that was learnt as
		 * peer-reflexive replaces it (its type and foundation). */
		memcpy(r->foundation, c->foundation, sizeof r->foundation);
		r->foundation[IL_ICE_FOUNDATION_MAX] = '\0';
		r->type = c->type;
		r->related = c->related;
		return known;
	}
	if (s->remote_count == s->remote_cap)
		return IL_ICE_ERR_FULL;
	unsigned index = (unsigned)s->remote_count++;
	s->remote[index] = *c;
	s->remote[index].foundation[IL_ICE_FOUNDATION_MAX] = '\0';
	memset(&s->remote[index].base, 0, sizeof(il_addr));
	memset(&s->remote[index].server, 0, sizeof(il_addr));
	if (c->transport == IL_ICE_TRANSPORT_UDP)
		ice_pairs_form_for_remote(a, stream, index);
	ice_checklist_update(a, stream, now_ms);
	ice_update_state(a, now_ms);
	return (int)index;
}

/* §7.3.1.3: "the agent MUST create a peer-reflexive candidate ... its
 * priority is the value of the PRIORITY attribute ... the foundation is an
 * arbitrary value, different from the foundations of all other remote
 * candidates." */
int ice_add_remote_prflx(il_ice_agent *a, unsigned si, unsigned component, const il_addr *addr,
			 uint32_t priority)
{
	ice_stream *s = a->streams[si];
	if (s->remote_count == s->remote_cap)
		return -1;
	unsigned index = (unsigned)s->remote_count++;
	il_ice_candidate *r = &s->remote[index];
	memset(r, 0, sizeof *r);
	snprintf(r->foundation, sizeof r->foundation, "prflx%u", ++s->prflx_serial);
	r->component = (uint16_t)component;
	r->transport = IL_ICE_TRANSPORT_UDP;
	r->type = IL_ICE_CAND_PRFLX;
	r->priority = priority;
	r->addr = *addr;
	il_ice_event ev = {.type = IL_ICE_EV_PEER_REFLEXIVE, .stream = si, .component = component,
			   .candidate = r};
	ice_emit(a, &ev);
	return (int)index;
}

/* §7.2.5.3.1: the mapped address of a response matches no local
 * candidate: a local peer-reflexive one, with the PRIORITY of the request,
 * the base of the pair; it is not paired (§7.2.5.3.1). */
int ice_add_local_prflx(il_ice_agent *a, unsigned si, const ice_pair *p, const il_addr *mapped,
			uint32_t priority)
{
	ice_stream *s = a->streams[si];
	if (s->local_count == s->local_cap)
		return -1;
	const il_ice_candidate *base = &s->local[p->local];
	unsigned index = (unsigned)s->local_count++;
	il_ice_candidate *l = &s->local[index];
	memset(l, 0, sizeof *l);
	l->component = p->component;
	l->transport = IL_ICE_TRANSPORT_UDP;
	l->type = IL_ICE_CAND_PRFLX;
	l->priority = priority;
	l->addr = *mapped;
	l->base = base->base;
	l->related = base->base;
	l->server = base->server;
	ice_assign_foundation(a, l);
	il_ice_event ev = {.type = IL_ICE_EV_PEER_REFLEXIVE, .stream = si, .component = p->component,
			   .candidate = l, .local = true};
	ice_emit(a, &ev);
	return (int)index;
}
