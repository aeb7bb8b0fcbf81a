/* Relaying on the TURN server (RFC 8656 §9-12): permissions and
 * CreatePermission, channels and ChannelBind, Send and Data indications,
 * ChannelData both ways, and the peer policy that keeps the relay from
 * reaching what it must not (§21.2.2, §21.1.7, issue #3 §4).
 *
 * The relay path (ChannelData/Send from the client, datagrams from peers)
 * allocates nothing: data to peers is passed from the caller's buffer,
 * data to clients is built in srv->out. Permissions and channels live in
 * two small arrays per allocation, searched linearly (server_internal.h). */
#include "server_internal.h"

#include <string.h>

/* ---- lookups ---- */

turn_perm *turn_perm_find(turn_alloc *a, const il_addr *peer)
{
	/* "Note that only addresses are compared and port numbers are not
	 * considered." (§9) */
	size_t n = peer->family == IL_AF_INET ? 4 : 16;
	for (uint16_t i = 0; i < a->perm_count; i++)
		if (a->perms[i].family == peer->family && memcmp(a->perms[i].ip, peer->ip, n) == 0)
			return &a->perms[i];
	return NULL;
}

static turn_chan *chan_by_number(turn_alloc *a, uint16_t number)
{
	for (uint16_t i = 0; i < a->chan_count; i++)
		if (a->chans[i].number == number)
			return &a->chans[i];
	return NULL;
}

static turn_chan *chan_by_peer(turn_alloc *a, const il_addr *peer)
{
	for (uint16_t i = 0; i < a->chan_count; i++)
		if (il_addr_equal(&a->chans[i].peer, peer))
			return &a->chans[i];
	return NULL;
}

/* The relayed address of a that talks to peers of this family, or NULL
 * (§10.2, §12.2: 443 Peer Address Family Mismatch). */
static const il_addr *relayed_for(const turn_alloc *a, uint8_t family)
{
	for (int i = 0; i < a->relayed_count; i++)
		if (a->relayed[i].family == family)
			return &a->relayed[i];
	return NULL;
}

enum il_peer_verdict turn_peer_check(const il_turn_server *srv, const il_addr *peer)
{
	enum il_peer_verdict v = il_peer_policy_check(&srv->peers, peer);
	if (v != IL_PEER_ALLOWED)
		return v;
	/* The TURN loop attack (§21.1.7): a peer that is one of our relayed
	 * addresses, or our public (external) address. */
	if (turn_alloc_find_relayed(srv, peer))
		return IL_PEER_DENIED_OWN;
	const il_addr *ext = peer->family == IL_AF_INET ? &srv->cfg.external_v4
							 : &srv->cfg.external_v6;
	if (ext->family == peer->family && turn_ip_equal(ext, peer))
		return IL_PEER_DENIED_OWN;
	return IL_PEER_ALLOWED;
}

static void peer_denied(il_turn_server *srv, const il_five_tuple *ft, enum il_peer_verdict v)
{
	srv->stats.dropped_denied++;
	turn_event(srv, IL_TURN_EV_PEER_DENIED, ft, il_peer_verdict_name(v));
}

/* ---- installing ---- */

static bool grow(il_turn_server *srv, void **arr, uint16_t *cap, uint16_t count, uint16_t max,
		 size_t elem)
{
	if (count < *cap)
		return true;
	if (count >= max)
		return false;
	uint16_t n = *cap ? (uint16_t)(*cap * 2) : 4;
	if (n > max)
		n = max;
	void *p = turn_realloc(srv, *arr, (size_t)*cap * elem, (size_t)n * elem);
	if (!p)
		return false;
	*arr = p;
	*cap = n;
	return true;
}

/* Installs or refreshes the permission for peer's IP (§9); false when
 * the array is full. */
static bool perm_install(il_turn_server *srv, turn_alloc *a, const il_addr *peer,
			 uint64_t now_ms, const il_five_tuple *ft)
{
	uint64_t expires = now_ms + (uint64_t)srv->cfg.permission_lifetime_s * 1000u;
	turn_perm *p = turn_perm_find(a, peer);
	if (p) {
		p->expires_ms = expires;
		return true;
	}
	void *arr = a->perms;
	if (!grow(srv, &arr, &a->perm_cap, a->perm_count, srv->cfg.max_permissions, sizeof *p))
		return false;
	a->perms = arr;
	p = &a->perms[a->perm_count++];
	memset(p, 0, sizeof *p);
	p->family = peer->family;
	memcpy(p->ip, peer->ip, peer->family == IL_AF_INET ? 4 : 16);
	p->expires_ms = expires;
	srv->stats.permissions++;
	turn_event(srv, IL_TURN_EV_PERMISSION_CREATED, ft, NULL);
	return true;
}

/* Room for the permissions of peers[0..n) that are not installed yet. */
static bool perms_fit(const il_turn_server *srv, turn_alloc *a, const il_addr *peers, size_t n)
{
	size_t needed = 0;
	for (size_t i = 0; i < n; i++) {
		bool dup = turn_perm_find(a, &peers[i]) != NULL;
		for (size_t k = 0; k < i && !dup; k++)
			dup = turn_ip_equal(&peers[k], &peers[i]);
		needed += !dup;
	}
	return a->perm_count + needed <= srv->cfg.max_permissions;
}

/* ---- CreatePermission (§10.2) ---- */

void turn_handle_create_permission(il_turn_server *srv, const il_five_tuple *ft,
				   const il_stun_msg *req, uint64_t now_ms)
{
	turn_auth auth;
	turn_alloc *a = turn_alloc_for_request(srv, ft, req, now_ms, &auth);
	if (!a)
		return;
	il_addr peers[IL_STUN_MAX_ATTRS];
	size_t n = 0;
	int code = 0;
	/* "The CreatePermission request MUST contain at least one
	 * XOR-PEER-ADDRESS attribute ... If no such attribute exists, or if
	 * any of these attributes are invalid, then a 400" */
	for (unsigned i = 0; i < req->attr_count && !code; i++) {
		const il_stun_attr *at = &req->attrs[i];
		if (at->type != IL_ATTR_XOR_PEER_ADDRESS || at->ignored)
			continue;
		if (il_stun_attr_get_addr(req, at, &peers[n]) != IL_STUN_OK)
			code = 400;
		else
			n++;
	}
	if (!code && n == 0)
		code = 400;
	/* "If an XOR-PEER-ADDRESS attribute contains an address of an address
	 * family that is not the same as that of a relayed transport address
	 * for the allocation, the server MUST generate an error response with
	 * the 443" */
	for (size_t i = 0; i < n && !code; i++)
		if (!relayed_for(a, peers[i].family))
			code = 443;
	/* "The server MAY impose restrictions on the IP address allowed in
	 * the XOR-PEER-ADDRESS attribute; if a value is not allowed, the
	 * server rejects the request with a 403": one denied peer refuses the
	 * whole request, and nothing is installed. */
	for (size_t i = 0; i < n && !code; i++) {
		enum il_peer_verdict v = turn_peer_check(srv, &peers[i]);
		if (v != IL_PEER_ALLOWED) {
			peer_denied(srv, ft, v);
			code = 403;
		}
	}
	/* "... unable to satisfy the request due to some capacity limit or
	 * similar, then a 508" */
	if (!code && !perms_fit(srv, a, peers, n))
		code = 508;
	for (size_t i = 0; i < n && !code; i++)
		if (!perm_install(srv, a, &peers[i], now_ms, ft))
			code = 508; /* out of memory mid-way: the rest stay out */
	if (code) {
		turn_reply_error(srv, ft, req, &auth, code);
		if (code == 508)
			turn_schedule(srv, a);
		return;
	}
	turn_schedule(srv, a);
	il_stun_builder b;
	turn_reply_begin(srv, &b, req, IL_STUN_SUCCESS);
	turn_reply_send(srv, &b, ft, &auth, false);
}

/* ---- ChannelBind (§12.2) ---- */

static int channel_bind(il_turn_server *srv, const il_five_tuple *ft, const il_stun_msg *req,
			turn_alloc *a, uint64_t now_ms)
{
	const il_stun_attr *cn = il_stun_msg_find(req, IL_ATTR_CHANNEL_NUMBER);
	const il_stun_attr *pa = il_stun_msg_find(req, IL_ATTR_XOR_PEER_ADDRESS);
	uint16_t number = 0;
	il_addr peer;
	/* "The request contains both a CHANNEL-NUMBER and an XOR-PEER-ADDRESS
	 * attribute; The channel number is in the range 0x4000 through
	 * 0x4FFF" -- else 400 (0x7FFF with rfc5766_channels, RFC 5766 §11).
	 * RFC 6062 allocations relay over TCP: no channels there. */
	if (!cn || !pa || il_stun_attr_get_channel(req, cn, &number) != IL_STUN_OK ||
	    !il_channel_in_range(number, turn_channel_range(srv)) || il_stun_attr_get_addr(req, pa, &peer) != IL_STUN_OK ||
	    a->tcp)
		return 400;
	if (!relayed_for(a, peer.family))
		return 443;
	enum il_peer_verdict v = turn_peer_check(srv, &peer);
	if (v != IL_PEER_ALLOWED) {
		peer_denied(srv, ft, v);
		return 403;
	}
	/* "The channel number is not currently bound to a different transport
	 * address (same transport address is OK); The transport address is
	 * not currently bound to a different channel number." A binding that
	 * expired less than 5 minutes ago still holds both (§12: "MUST NOT be
	 * rebound to a different transport address until 5 minutes after"). */
	turn_chan *by_number = chan_by_number(a, number);
	turn_chan *by_peer = chan_by_peer(a, &peer);
	if ((by_number && !il_addr_equal(&by_number->peer, &peer)) ||
	    (by_peer && by_peer->number != number))
		return 400;
	if (!turn_perm_find(a, &peer) && a->perm_count >= srv->cfg.max_permissions)
		return 508;
	turn_chan *c = by_number;
	if (!c) {
		void *arr = a->chans;
		if (!grow(srv, &arr, &a->chan_cap, a->chan_count, srv->cfg.max_channels, sizeof *c))
			return 508;
		a->chans = arr;
		c = &a->chans[a->chan_count++];
		memset(c, 0, sizeof *c);
		c->number = number;
		c->peer = peer;
		c->state = TURN_CHAN_COOLDOWN; /* becomes BOUND below */
	}
	if (!perm_install(srv, a, &peer, now_ms, ft)) {
		if (!by_number)
			a->chan_count--;
		return 508;
	}
	if (c->state != TURN_CHAN_BOUND) {
		c->state = TURN_CHAN_BOUND;
		srv->stats.channels++;
		turn_event(srv, IL_TURN_EV_CHANNEL_BOUND, ft, NULL);
	}
	/* Binding or rebinding to the same peer resets the 10 minutes. */
	c->expires_ms = now_ms + (uint64_t)srv->cfg.channel_lifetime_s * 1000u;
	turn_schedule(srv, a);
	return 0;
}

void turn_handle_channel_bind(il_turn_server *srv, const il_five_tuple *ft,
			      const il_stun_msg *req, uint64_t now_ms)
{
	turn_auth auth;
	turn_alloc *a = turn_alloc_for_request(srv, ft, req, now_ms, &auth);
	if (!a)
		return;
	int code = channel_bind(srv, ft, req, a, now_ms);
	if (code) {
		turn_reply_error(srv, ft, req, &auth, code);
		return;
	}
	il_stun_builder b;
	turn_reply_begin(srv, &b, req, IL_STUN_SUCCESS);
	turn_reply_send(srv, &b, ft, &auth, false);
}

/* ---- data from the client ---- */

static void to_peer(il_turn_server *srv, turn_alloc *a, const il_addr *peer,
		    const uint8_t *data, size_t len, bool df, uint64_t now_ms)
{
	const il_addr *relayed = relayed_for(a, peer->family);
	if (!relayed || !srv->cb.send_to_peer)
		return;
	if (!turn_rate_take(srv, a, TURN_TO_PEER, len, now_ms))
		return;
	srv->cb.send_to_peer(srv->cb.user, relayed, peer, data, len, df || a->dont_fragment);
	srv->stats.packets_to_peers++;
	srv->stats.bytes_to_peers += len;
}

static turn_alloc *alloc_for_data(il_turn_server *srv, const il_five_tuple *ft)
{
	turn_alloc *a = turn_alloc_find(srv, ft);
	/* "... or be silently ignored (if it is an indication or a
	 * ChannelData message)" (§5) */
	if (!a || a->tcp) {
		srv->stats.dropped_no_allocation++;
		turn_event(srv, IL_TURN_EV_DROPPED_NO_ALLOCATION, ft, NULL);
		return NULL;
	}
	return a;
}

static void no_permission(il_turn_server *srv, const il_five_tuple *ft)
{
	srv->stats.dropped_no_permission++;
	turn_event(srv, IL_TURN_EV_DROPPED_NO_PERMISSION, ft, NULL);
}

void turn_handle_send(il_turn_server *srv, const il_five_tuple *ft, const il_stun_msg *ind,
		      uint64_t now_ms)
{
	turn_alloc *a = alloc_for_data(srv, ft);
	if (!a)
		return;
	/* "The Send indication MUST contain both an XOR-PEER-ADDRESS
	 * attribute and a DATA attribute. If one of these attributes is
	 * missing or invalid, then the message is discarded." (§11.2) */
	const il_stun_attr *pa = il_stun_msg_find(ind, IL_ATTR_XOR_PEER_ADDRESS);
	const il_stun_attr *data = il_stun_msg_find(ind, IL_ATTR_DATA);
	il_addr peer;
	if (!pa || !data || il_stun_attr_get_addr(ind, pa, &peer) != IL_STUN_OK ||
	    !relayed_for(a, peer.family)) {
		srv->stats.dropped_malformed++;
		turn_event(srv, IL_TURN_EV_DROPPED_MALFORMED, ft, "send indication");
		return;
	}
	/* "The server MAY impose restrictions on the IP address and port
	 * values allowed in the XOR-PEER-ADDRESS attribute; if a value is not
	 * allowed, the server silently discards the Send indication." */
	enum il_peer_verdict v = turn_peer_check(srv, &peer);
	if (v != IL_PEER_ALLOWED) {
		peer_denied(srv, ft, v);
		return;
	}
	/* "If no such permission exists, the message is discarded. Note that
	 * a Send indication never causes the server to refresh the
	 * permission." */
	if (!turn_perm_find(a, &peer)) {
		no_permission(srv, ft);
		return;
	}
	bool df = il_stun_msg_find(ind, IL_ATTR_DONT_FRAGMENT) != NULL;
	to_peer(srv, a, &peer, il_stun_attr_value(ind, data), data->length, df, now_ms);
}

void turn_handle_channeldata(il_turn_server *srv, const il_five_tuple *ft,
			     const uint8_t *data, size_t len, uint64_t now_ms)
{
	il_channeldata cd;
	/* Reserved numbers and datagrams shorter than their length are
	 * "silently discarded" (§12.6). */
	if (il_channeldata_decode_range(data, len, turn_channel_range(srv), &cd, NULL) !=
	    IL_STUN_OK) {
		srv->stats.dropped_malformed++;
		turn_event(srv, IL_TURN_EV_DROPPED_MALFORMED, ft, "channeldata");
		return;
	}
	turn_alloc *a = alloc_for_data(srv, ft);
	if (!a)
		return;
	/* "If the ChannelData message is received on a channel that is not
	 * bound to any peer, then the message is silently discarded." The
	 * peer must also still have a permission: a channel outlives its
	 * permission (600 s against 300 s) and data to an unpermitted peer is
	 * never relayed. The peer passed the policy when it was bound. The
	 * receipt "MUST NOT refresh either the channel binding or the
	 * permission". */
	turn_chan *c = chan_by_number(a, cd.channel);
	if (!c || c->state != TURN_CHAN_BOUND || !turn_perm_find(a, &c->peer)) {
		no_permission(srv, ft);
		return;
	}
	to_peer(srv, a, &c->peer, cd.data, cd.length, false, now_ms);
}

/* ---- data from peers (§11.3, §12.7) ---- */

void il_turn_server_handle_peer(il_turn_server *srv, const il_addr *relayed,
				const il_addr *peer, const uint8_t *data, size_t len,
				uint64_t now_ms)
{
	turn_alloc *a = turn_alloc_find_relayed(srv, relayed);
	if (!a) {
		srv->stats.dropped_no_allocation++;
		return;
	}
	/* "If no match is found, relaying is not permitted and the server
	 * silently discards the UDP datagram." (§9) */
	if (!turn_perm_find(a, peer)) {
		no_permission(srv, &a->ft);
		return;
	}
	if (!turn_rate_take(srv, a, TURN_FROM_PEER, len, now_ms))
		return;
	size_t out_len = 0;
	turn_chan *c = chan_by_peer(a, peer);
	if (c && c->state == TURN_CHAN_BOUND) {
		/* "The server ... MUST use the ChannelData message if a channel
		 * has been bound to the peer." Over TCP and TLS it "MUST be
		 * padded to a multiple of four bytes" (§12.5). */
		bool stream = a->ft.transport == IL_TRANSPORT_TCP ||
			      a->ft.transport == IL_TRANSPORT_TLS;
		out_len = il_channeldata_encode_range(srv->out, sizeof srv->out,
						      turn_channel_range(srv), c->number, data,
						      len, stream);
	} else {
		/* A Data indication with XOR-PEER-ADDRESS and DATA (§11.3). */
		il_stun_builder b;
		uint8_t tid[IL_STUN_TID_LEN];
		if (srv->cb.random)
			srv->cb.random(srv->cb.user, tid, sizeof tid);
		else
			memset(tid, 0, sizeof tid);
		il_stun_builder_init(&b, srv->out, sizeof srv->out, IL_STUN_DATA,
				     IL_STUN_INDICATION, tid);
		il_stun_add_xor_addr(&b, IL_ATTR_XOR_PEER_ADDRESS, peer);
		il_stun_add_raw(&b, IL_ATTR_DATA, data, len);
		out_len = il_stun_builder_finish(&b, NULL);
	}
	if (!out_len) {
		srv->stats.dropped_malformed++; /* too large to frame */
		return;
	}
	srv->cb.send_to_client(srv->cb.user, &a->ft, srv->out, out_len);
	srv->stats.packets_from_peers++;
	srv->stats.bytes_from_peers += len;
}

/* ---- expiry ---- */

uint64_t turn_relay_next_deadline(const turn_alloc *a)
{
	uint64_t d = UINT64_MAX;
	for (uint16_t i = 0; i < a->perm_count; i++)
		if (a->perms[i].expires_ms < d)
			d = a->perms[i].expires_ms;
	for (uint16_t i = 0; i < a->chan_count; i++)
		if (a->chans[i].expires_ms < d)
			d = a->chans[i].expires_ms;
	return d;
}

uint64_t turn_relay_expire(il_turn_server *srv, turn_alloc *a, uint64_t now_ms)
{
	/* "Each permission's time-to-expiry decreases down once per second
	 * until it reaches zero, at which point, the permission expires and
	 * is deleted." (§9) */
	for (uint16_t i = 0; i < a->perm_count;) {
		if (a->perms[i].expires_ms <= now_ms) {
			a->perms[i] = a->perms[--a->perm_count];
			srv->stats.permissions--;
		} else {
			i++;
		}
	}
	/* "When the channel binding expires, the channel becomes unbound";
	 * number and peer stay reserved 5 more minutes (§12). */
	for (uint16_t i = 0; i < a->chan_count;) {
		turn_chan *c = &a->chans[i];
		if (c->state == TURN_CHAN_BOUND && c->expires_ms <= now_ms) {
			c->state = TURN_CHAN_COOLDOWN;
			c->expires_ms += TURN_CHANNEL_COOLDOWN_MS;
			srv->stats.channels--;
		}
		if (c->state == TURN_CHAN_COOLDOWN && c->expires_ms <= now_ms)
			*c = a->chans[--a->chan_count];
		else
			i++;
	}
	return turn_relay_next_deadline(a);
}

void turn_relay_drop_denied(il_turn_server *srv, turn_alloc *a)
{
	bool changed = false;
	for (uint16_t i = 0; i < a->perm_count;) {
		il_addr peer;
		memset(&peer, 0, sizeof peer);
		peer.family = a->perms[i].family;
		memcpy(peer.ip, a->perms[i].ip, sizeof peer.ip);
		if (turn_peer_check(srv, &peer) != IL_PEER_ALLOWED) {
			a->perms[i] = a->perms[--a->perm_count];
			srv->stats.permissions--;
			changed = true;
		} else {
			i++;
		}
	}
	for (uint16_t i = 0; i < a->chan_count;) {
		turn_chan *c = &a->chans[i];
		if (turn_peer_check(srv, &c->peer) != IL_PEER_ALLOWED) {
			if (c->state == TURN_CHAN_BOUND)
				srv->stats.channels--;
			*c = a->chans[--a->chan_count];
			changed = true;
		} else {
			i++;
		}
	}
	if (changed)
		turn_schedule(srv, a);
}
