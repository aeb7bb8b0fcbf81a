/* Allocations on the TURN server (RFC 8656 §6-8, RFC 6062 §5.1,
 * RFC 6156 via §7.2 of RFC 8656): Allocate and Refresh, the allocation
 * tables (5-tuple -> allocation, relayed address -> allocation), the users
 * table (quotas per username, the owner check of §5), refuse-on-private.
 *
 * Refuse-on-private answers 508 (Insufficient Capacity): RFC 8656 §19
 * says 508 in an Allocate response can be "due to the server having no
 * more relayed transport addresses available at that time, having none
 * with the requested properties" — a relayed address no client on the
 * Internet can reach is not an available one, and 508 tells the client to
 * try another server. 437 (Allocation Mismatch) would say the 5-tuple is
 * already in use, which is false and makes clients churn 5-tuples; 403
 * would blame the client's request; 500 would report a bug. */
#include "server_internal.h"

#include <string.h>

/* ---- users ---- */

static uint32_t hash_name(const il_turn_server *srv, const char *name)
{
	uint64_t h = srv->hash_seed ^ 0xcbf29ce484222325ULL;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (uint32_t)h;
}

turn_user *turn_users_get(il_turn_server *srv, const char *name)
{
	uint32_t h = hash_name(srv, name);
	turn_user **bucket = &srv->users[h & srv->table_mask];
	for (turn_user *u = *bucket; u; u = u->next)
		if (u->hash == h && strcmp(u->name, name) == 0)
			return u;
	size_t n = strlen(name);
	turn_user *u = turn_malloc(srv, sizeof *u + n + 1);
	if (!u)
		return NULL;
	u->hash = h;
	memcpy(u->name, name, n + 1);
	u->next = *bucket;
	*bucket = u;
	return u;
}

void turn_users_release(il_turn_server *srv, turn_user *u)
{
	if (u->refs > 0)
		u->refs--;
	if (u->refs > 0)
		return;
	turn_user **p = &srv->users[u->hash & srv->table_mask];
	while (*p && *p != u)
		p = &(*p)->next;
	if (*p)
		*p = u->next;
	turn_free(srv, u, sizeof *u + strlen(u->name) + 1);
}

/* ---- tables ---- */

turn_alloc *turn_alloc_find(const il_turn_server *srv, const il_five_tuple *ft)
{
	for (turn_alloc *a = srv->by_ft[turn_hash_ft(srv, ft) & srv->table_mask]; a;
	     a = a->next_by_ft)
		if (turn_ft_equal(&a->ft, ft))
			return a;
	return NULL;
}

turn_alloc *turn_alloc_find_relayed(const il_turn_server *srv, const il_addr *relayed)
{
	for (turn_relay_node *n = srv->by_relay[turn_hash_addr(srv, relayed, 0) & srv->table_mask];
	     n; n = n->next)
		if (il_addr_equal(&n->alloc->relayed[n->slot], relayed))
			return n->alloc;
	return NULL;
}

static void link_alloc(il_turn_server *srv, turn_alloc *a)
{
	turn_alloc **b = &srv->by_ft[turn_hash_ft(srv, &a->ft) & srv->table_mask];
	a->next_by_ft = *b;
	*b = a;
	for (uint8_t i = 0; i < a->relayed_count; i++) {
		turn_relay_node **rb =
			&srv->by_relay[turn_hash_addr(srv, &a->relayed[i], 0) & srv->table_mask];
		a->relay_node[i].alloc = a;
		a->relay_node[i].slot = i;
		a->relay_node[i].next = *rb;
		*rb = &a->relay_node[i];
	}
}

static void unlink_alloc(il_turn_server *srv, turn_alloc *a)
{
	turn_alloc **p = &srv->by_ft[turn_hash_ft(srv, &a->ft) & srv->table_mask];
	while (*p && *p != a)
		p = &(*p)->next_by_ft;
	if (*p)
		*p = a->next_by_ft;
	for (int i = 0; i < a->relayed_count; i++) {
		turn_relay_node **q =
			&srv->by_relay[turn_hash_addr(srv, &a->relayed[i], 0) & srv->table_mask];
		while (*q && *q != &a->relay_node[i])
			q = &(*q)->next;
		if (*q)
			*q = a->relay_node[i].next;
	}
}

void turn_alloc_delete(il_turn_server *srv, turn_alloc *a, enum il_turn_event why,
		       uint64_t now_ms)
{
	(void)now_ms;
	turn_tcp_alloc_gone(srv, a);
	unlink_alloc(srv, a);
	turn_heap_remove(srv, a);
	for (int i = 0; i < a->relayed_count; i++)
		if (srv->cb.relay_close)
			srv->cb.relay_close(srv->cb.user, &a->relayed[i]);
	turn_event(srv, why, &a->ft, a->user->name);
	srv->stats.permissions -= a->perm_count;
	for (uint16_t i = 0; i < a->chan_count; i++)
		if (a->chans[i].state == TURN_CHAN_BOUND)
			srv->stats.channels--;
	srv->stats.allocations--;
	a->user->allocations--;
	turn_users_release(srv, a->user);
	turn_free(srv, a->perms, (size_t)a->perm_cap * sizeof *a->perms);
	turn_free(srv, a->chans, (size_t)a->chan_cap * sizeof *a->chans);
	turn_free(srv, a, sizeof *a);
}

turn_alloc *turn_alloc_for_request(il_turn_server *srv, const il_five_tuple *ft,
				   const il_stun_msg *req, uint64_t now_ms, turn_auth *auth)
{
	if (!turn_authenticate(srv, ft, req, now_ms, NULL, auth))
		return NULL;
	/* "For all TURN messages (including ChannelData) EXCEPT an Allocate
	 * request, if the 5-tuple does not identify an existing allocation,
	 * then the message MUST either be rejected with a 437" (§5) */
	turn_alloc *a = turn_alloc_find(srv, ft);
	if (!a) {
		turn_reply_error(srv, ft, req, auth, 437);
		return NULL;
	}
	/* "... the request does not use the same username as used to create
	 * the allocation, then the request MUST be rejected with a 441" (§5) */
	if (strcmp(a->user->name, auth->username) != 0) {
		srv->stats.auth_failures++;
		turn_event(srv, IL_TURN_EV_AUTH_FAILED, ft, "441");
		turn_reply_error(srv, ft, req, auth, 441);
		return NULL;
	}
	return a;
}

/* ---- Allocate ---- */

/* §7.2: "If the request contains a LIFETIME attribute, then the server
 * computes the minimum of the client's proposed lifetime and the server's
 * maximum allowed lifetime. If this computed value is greater than the
 * default lifetime, then the server uses the computed lifetime ...
 * Otherwise, the server uses the default lifetime." (§8.2 alike) */
static uint32_t desired_lifetime(const il_turn_server *srv, const il_stun_msg *req,
				 bool *zero)
{
	const il_stun_attr *lt = il_stun_msg_find(req, IL_ATTR_LIFETIME);
	uint32_t v = 0;
	*zero = false;
	if (!lt || il_stun_attr_get_u32(req, lt, &v) != IL_STUN_OK)
		return srv->cfg.default_lifetime_s;
	if (v == 0) {
		*zero = true;
		return 0;
	}
	if (v > srv->cfg.max_lifetime_s)
		v = srv->cfg.max_lifetime_s;
	return v > srv->cfg.default_lifetime_s ? v : srv->cfg.default_lifetime_s;
}

static void send_allocate_success(il_turn_server *srv, const turn_alloc *a,
				  const il_stun_msg *req, const turn_auth *auth)
{
	il_stun_builder b;
	turn_reply_begin(srv, &b, req, IL_STUN_SUCCESS);
	for (int i = 0; i < a->relayed_count; i++)
		il_stun_add_xor_addr(&b, IL_ATTR_XOR_RELAYED_ADDRESS, &a->advertised[i]);
	il_stun_add_u32(&b, IL_ATTR_LIFETIME, a->granted_lifetime_s);
	if (a->has_token)
		il_stun_add_raw(&b, IL_ATTR_RESERVATION_TOKEN, a->token, sizeof a->token);
	if (a->addr_error_code) {
		/* §18.12: Family, 13 reserved bits, Class, Number, reason. */
		const char *reason = il_stun_error_reason(a->addr_error_code);
		uint8_t v[4 + 64] = {a->addr_error_family, 0, (uint8_t)(a->addr_error_code / 100),
				     (uint8_t)(a->addr_error_code % 100)};
		size_t rlen = reason ? strlen(reason) : 0;
		if (rlen > 64)
			rlen = 64;
		if (rlen)
			memcpy(v + 4, reason, rlen);
		il_stun_add_raw(&b, IL_ATTR_ADDRESS_ERROR_CODE, v, 4 + rlen);
	}
	il_stun_add_xor_addr(&b, IL_ATTR_XOR_MAPPED_ADDRESS, &a->ft.remote);
	turn_reply_send(srv, &b, &a->ft, auth, true);
}

static uint8_t attr_u8(const il_stun_msg *req, const il_stun_attr *at)
{
	return at && at->length >= 1 ? il_stun_attr_value(req, at)[0] : 0;
}

/* What the request asks for, after the checks of §7.2 steps 3-9. */
typedef struct alloc_request {
	bool tcp, dont_fragment, even_port, reserve_next;
	const uint8_t *token;
	uint8_t families[2];
	size_t family_count;
	/* A family of a dual request refused by policy: ADDRESS-ERROR-CODE 440. */
	uint8_t refused_family;
} alloc_request;

static bool family_enabled(const il_turn_server *srv, uint8_t family)
{
	return (family == IL_AF_INET && srv->cfg.relay_ipv4) ||
	       (family == IL_AF_INET6 && srv->cfg.relay_ipv6);
}

/* Returns 0 with *r filled, or the error code to answer. */
static int parse_allocate(const il_turn_server *srv, const il_five_tuple *ft,
			  const il_stun_msg *req, alloc_request *r)
{
	memset(r, 0, sizeof *r);
	/* "If the REQUESTED-TRANSPORT attribute is not included or is
	 * malformed, the server rejects the request with a 400 ... if the
	 * attribute ... specifies a protocol that is not supported by the
	 * server, the server rejects the request with a 442" (§7.2 step 3) */
	const il_stun_attr *rt = il_stun_msg_find(req, IL_ATTR_REQUESTED_TRANSPORT);
	if (!rt || rt->length != 4)
		return 400;
	uint8_t proto = attr_u8(req, rt);
	if (proto == TURN_PROTO_TCP && srv->cb.tcp_connect) {
		/* RFC 6062 §5.1: "If the client connection transport is not TCP
		 * or TLS, the server MUST reject the request with a 400" */
		if (ft->transport != IL_TRANSPORT_TCP && ft->transport != IL_TRANSPORT_TLS)
			return 400;
		r->tcp = true;
	} else if (proto != TURN_PROTO_UDP) {
		return 442;
	}
	const il_stun_attr *df = il_stun_msg_find(req, IL_ATTR_DONT_FRAGMENT);
	const il_stun_attr *even = il_stun_msg_find(req, IL_ATTR_EVEN_PORT);
	const il_stun_attr *token = il_stun_msg_find(req, IL_ATTR_RESERVATION_TOKEN);
	const il_stun_attr *raf = il_stun_msg_find(req, IL_ATTR_REQUESTED_ADDRESS_FAMILY);
	const il_stun_attr *aaf = il_stun_msg_find(req, IL_ATTR_ADDITIONAL_ADDRESS_FAMILY);
	/* RFC 6062 §5.1: "If the request contains the DONT-FRAGMENT,
	 * EVEN-PORT, or RESERVATION-TOKEN attribute, the server MUST reject
	 * the request with a 400" */
	if (r->tcp && (df || even || token))
		return 400;
	/* Step 4: we can set DF (the driver does), so DONT-FRAGMENT is known. */
	r->dont_fragment = df != NULL;
	/* Step 5: RESERVATION-TOKEN with EVEN-PORT or an address family: 400. */
	if (token && (even || raf || aaf))
		return 400;
	if (token) {
		/* The reservation decides the family (§7.2 step 5: the token
		 * "uniquely identifies a relayed transport address being held in
		 * reserve"): relay_open is asked for IL_AF_NONE, "whatever family
		 * the reservation has", which may be IPv6. */
		if (token->length != 8)
			return 400;
		r->token = il_stun_attr_value(req, token);
		r->families[r->family_count++] = IL_AF_NONE;
		return 0;
	}
	/* Step 6: both family attributes: 400. */
	if (raf && aaf)
		return 400;
	r->even_port = even != NULL;
	r->reserve_next = even && (attr_u8(req, even) & 0x80);
	/* Step 8: "EVEN-PORT attribute with the R bit set to 1 ... and the
	 * request also contains an ADDITIONAL-ADDRESS-FAMILY: 400" */
	if (r->reserve_next && aaf)
		return 400;
	if (aaf) {
		/* Step 9: "The attribute value of 0x02 (IPv6 address) is the only
		 * valid value" (§18.11); 0x01 is named as a 400. */
		if (attr_u8(req, aaf) != IL_AF_INET6)
			return 400;
		for (uint8_t f = IL_AF_INET; f <= IL_AF_INET6; f++) {
			if (family_enabled(srv, f))
				r->families[r->family_count++] = f;
			else
				r->refused_family = f;
		}
		/* Neither family can be had: "If the server cannot satisfy the
		 * request, then the server rejects the request with a 508". */
		return r->family_count ? 0 : 508;
	}
	/* Step 7: a family we do not support or that is disabled: 440;
	 * without the attribute, IPv4. */
	uint8_t family = raf ? attr_u8(req, raf) : IL_AF_INET;
	if ((family != IL_AF_INET && family != IL_AF_INET6) || !family_enabled(srv, family))
		return 440;
	r->families[r->family_count++] = family;
	return 0;
}

static il_addr advertised_address(const il_turn_server *srv, const il_addr *relayed)
{
	const il_addr *ext = relayed->family == IL_AF_INET ? &srv->cfg.external_v4
							    : &srv->cfg.external_v6;
	il_addr adv = *relayed;
	if (ext->family == relayed->family)
		memcpy(adv.ip, ext->ip, sizeof adv.ip);
	return adv;
}

/* Opens the relay of one family (IL_AF_NONE with a RESERVATION-TOKEN:
 * the reservation's). 0 on success; else the error code for this family
 * (508, or 440 for a reserved family this server no longer hands out).
 * Whatever relay_open opened is closed again on every failure. */
static int open_relay(il_turn_server *srv, const il_five_tuple *ft, const alloc_request *r,
		      uint8_t family, turn_alloc *a)
{
	if (!srv->cb.relay_open)
		return 508;
	il_addr relayed;
	uint8_t token[8] = {0};
	memset(&relayed, 0, sizeof relayed);
	if (srv->cb.relay_open(srv->cb.user, family,
			       r->tcp ? IL_TRANSPORT_TCP : IL_TRANSPORT_UDP, r->even_port,
			       r->reserve_next, r->token, &relayed, token) != 0) {
		turn_event(srv, IL_TURN_EV_ALLOCATION_REFUSED, ft, "relay_open failed");
		return 508;
	}
	bool known = relayed.family == IL_AF_INET || relayed.family == IL_AF_INET6;
	if (!known || (family != IL_AF_NONE && relayed.family != family)) {
		/* The driver opened something we did not ask for. */
		if (srv->cb.relay_close)
			srv->cb.relay_close(srv->cb.user, &relayed);
		turn_event(srv, IL_TURN_EV_ALLOCATION_REFUSED, ft, "relay_open: wrong family");
		return 508;
	}
	if (!family_enabled(srv, relayed.family)) {
		/* A reservation of a family disabled since (reconfigure). */
		if (srv->cb.relay_close)
			srv->cb.relay_close(srv->cb.user, &relayed);
		return 440;
	}
	il_addr adv = advertised_address(srv, &relayed);
	/* Refuse-on-private (issue #3 §4): never hand out a relayed address
	 * a client on the Internet cannot reach. */
	if (!srv->cfg.allow_private_relay && il_addr_is_private(&adv)) {
		if (srv->cb.relay_close)
			srv->cb.relay_close(srv->cb.user, &relayed);
		turn_event(srv, IL_TURN_EV_ALLOCATION_REFUSED, ft,
			   "advertised relayed address is private; set an external address or "
			   "allow_private_relay");
		return 508;
	}
	a->relayed[a->relayed_count] = relayed;
	a->advertised[a->relayed_count] = adv;
	a->relayed_count++;
	if (r->reserve_next) {
		memcpy(a->token, token, sizeof a->token);
		a->has_token = true;
	}
	return 0;
}

void turn_handle_allocate(il_turn_server *srv, const il_five_tuple *ft, const il_stun_msg *req,
			  uint64_t now_ms)
{
	turn_auth auth;
	/* Step 1: authentication. */
	if (!turn_authenticate(srv, ft, req, now_ms, NULL, &auth))
		return;
	/* Step 2: "The server checks if the 5-tuple is currently in use by an
	 * existing allocation. If yes, the server rejects the request with a
	 * 437" -- unless it is a retransmission of the request that made it,
	 * which gets the same success response again (§7.2 NOTE, §5). */
	turn_alloc *a = turn_alloc_find(srv, ft);
	if (a) {
		if (memcmp(a->tid, req->tid, IL_STUN_TID_LEN) == 0 &&
		    strcmp(a->user->name, auth.username) == 0)
			send_allocate_success(srv, a, req, &auth);
		else
			turn_reply_error(srv, ft, req, &auth, 437);
		return;
	}
	alloc_request r;
	int code = parse_allocate(srv, ft, req, &r);
	if (code) {
		turn_reply_error(srv, ft, req, &auth, code);
		return;
	}
	/* Step 10 and capacity: 486 per username, 508 in total. */
	if (srv->heap_len >= srv->cfg.max_allocations) {
		turn_event(srv, IL_TURN_EV_ALLOCATION_REFUSED, ft, "max_allocations");
		turn_reply_error(srv, ft, req, &auth, 508);
		return;
	}
	turn_user *u = turn_users_get(srv, auth.username);
	if (!u) {
		turn_reply_error(srv, ft, req, &auth, 508);
		return;
	}
	u->refs++;
	if (srv->cfg.max_allocations_per_user &&
	    u->allocations >= srv->cfg.max_allocations_per_user) {
		turn_users_release(srv, u);
		turn_event(srv, IL_TURN_EV_ALLOCATION_REFUSED, ft, "max_allocations_per_user");
		turn_reply_error(srv, ft, req, &auth, 486);
		return;
	}
	a = turn_malloc(srv, sizeof *a);
	if (!a) {
		turn_users_release(srv, u);
		turn_reply_error(srv, ft, req, &auth, 508);
		return;
	}
	a->heap_index = UINT32_MAX;
	a->ft = *ft;
	a->user = u;
	turn_rate_init(srv, a, now_ms);
	int first_code = 0;
	for (size_t i = 0; i < r.family_count; i++) {
		code = open_relay(srv, ft, &r, r.families[i], a);
		if (code && !first_code)
			first_code = code;
		if (code && r.family_count == 2) {
			/* "If the server can partially meet the request ... it
			 * includes ADDRESS-ERROR-CODE attribute in the success
			 * response" (§7.2 step 9) */
			a->addr_error_family = r.families[i];
			a->addr_error_code = (uint16_t)code;
		}
	}
	if (a->relayed_count == 0) {
		turn_users_release(srv, u);
		turn_free(srv, a, sizeof *a);
		turn_reply_error(srv, ft, req, &auth, first_code ? first_code : 508);
		return;
	}
	if (r.refused_family) {
		a->addr_error_family = r.refused_family;
		a->addr_error_code = 440;
	}
	bool zero;
	a->granted_lifetime_s = desired_lifetime(srv, req, &zero);
	if (zero) /* LIFETIME 0 on an Allocate means nothing: the default */
		a->granted_lifetime_s = srv->cfg.default_lifetime_s;
	a->expires_ms = now_ms + (uint64_t)a->granted_lifetime_s * 1000u;
	memcpy(a->tid, req->tid, IL_STUN_TID_LEN);
	a->tcp = r.tcp;
	a->dont_fragment = r.dont_fragment;
	u->allocations++;
	link_alloc(srv, a);
	turn_schedule(srv, a);
	srv->stats.allocations++;
	turn_event(srv, IL_TURN_EV_ALLOCATION_CREATED, ft, u->name);
	send_allocate_success(srv, a, req, &auth);
}

/* ---- Refresh (§8.2) ---- */

void turn_handle_refresh(il_turn_server *srv, const il_five_tuple *ft, const il_stun_msg *req,
			 uint64_t now_ms)
{
	turn_auth auth;
	turn_alloc *a = turn_alloc_for_request(srv, ft, req, now_ms, &auth);
	if (!a)
		return;
	/* "If the server receives a Refresh Request with a
	 * REQUESTED-ADDRESS-FAMILY attribute and the attribute value does not
	 * match the address family of the allocation, the server MUST reply
	 * with a 443" */
	const il_stun_attr *raf = il_stun_msg_find(req, IL_ATTR_REQUESTED_ADDRESS_FAMILY);
	if (raf) {
		uint8_t family = attr_u8(req, raf);
		bool match = false;
		for (int i = 0; i < a->relayed_count; i++)
			match |= a->relayed[i].family == family;
		if (!match) {
			turn_reply_error(srv, ft, req, &auth, 443);
			return;
		}
	}
	bool zero;
	uint32_t lifetime = desired_lifetime(srv, req, &zero);
	il_stun_builder b;
	turn_reply_begin(srv, &b, req, IL_STUN_SUCCESS);
	il_stun_add_u32(&b, IL_ATTR_LIFETIME, lifetime);
	if (zero) {
		/* "If the "desired lifetime" is zero, then the request succeeds
		 * and the allocation is deleted." */
		turn_alloc_delete(srv, a, IL_TURN_EV_ALLOCATION_DELETED, now_ms);
	} else {
		a->expires_ms = now_ms + (uint64_t)lifetime * 1000u;
		turn_schedule(srv, a);
	}
	turn_reply_send(srv, &b, ft, &auth, true);
}
