/* TURN TCP relaying, the core's part (RFC 6062 §5): Connect, ConnectionBind,
 * ConnectionAttempt and the lifetime of peer data connections.
 *
 * What the core keeps is the state machine of each peer data connection:
 *
 *   Connect --tcp_connect--> CONNECTING --tcp_connected(ok)--> PENDING_BIND
 *   peer connects: il_turn_server_tcp_peer_accepted ------> PENDING_BIND
 *   PENDING_BIND --ConnectionBind on a new client connection--> BOUND
 *   PENDING_BIND for 30 s, or the allocation gone --> tcp_close
 *
 * The bytes themselves never pass through the core: once BOUND, the
 * driver splices the client data connection and the peer data
 * connection (tcp_bind), buffering what the peer sent before (§5.2, §5.3:
 * "The server MUST buffer any data received"). The driver tells the core
 * when either side closes (il_turn_server_tcp_closed) and closes the other
 * side itself (§5.5). Connections are few per allocation and kept in a
 * list; CONNECTION-IDs are random (unguessable) and never 0. */
#include "server_internal.h"

#include <string.h>

static turn_conn *conn_find(const il_turn_server *srv, uint32_t id)
{
	for (turn_conn *c = srv->conns; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

static void conn_remove(il_turn_server *srv, turn_conn *c)
{
	turn_conn **p = &srv->conns;
	while (*p && *p != c)
		p = &(*p)->next;
	if (*p)
		*p = c->next;
	srv->conn_count--;
	turn_free(srv, c, sizeof *c);
}

static turn_conn *conn_new(il_turn_server *srv, turn_alloc *a, const il_addr *peer,
			   uint8_t state)
{
	unsigned per_alloc = 0;
	for (turn_conn *c = srv->conns; c; c = c->next)
		per_alloc += c->alloc == a;
	/* The bound on connections per allocation is max_permissions: each
	 * needs a permitted (or Connect-ed) peer anyway. */
	if (per_alloc >= srv->cfg.max_permissions)
		return NULL;
	turn_conn *c = turn_malloc(srv, sizeof *c);
	if (!c)
		return NULL;
	do {
		if (srv->cb.random)
			srv->cb.random(srv->cb.user, (uint8_t *)&c->id, sizeof c->id);
		else
			c->id = srv->next_conn_id++;
	} while (c->id == 0 || conn_find(srv, c->id));
	c->alloc = a;
	c->peer = *peer;
	c->state = state;
	c->deadline_ms = UINT64_MAX;
	c->next = srv->conns;
	srv->conns = c;
	srv->conn_count++;
	return c;
}

static const il_addr *tcp_relayed_for(const turn_alloc *a, uint8_t family)
{
	for (int i = 0; i < a->relayed_count; i++)
		if (a->relayed[i].family == family)
			return &a->relayed[i];
	return NULL;
}

/* ---- Connect (§5.2) ---- */

static int connect_checks(il_turn_server *srv, const il_five_tuple *ft, const il_stun_msg *req,
			  turn_alloc *a, il_addr *peer)
{
	/* Connect belongs to an RFC 6062 allocation. */
	if (!a->tcp)
		return 400;
	/* "If the request does not contain an XOR-PEER-ADDRESS attribute, or
	 * if such attribute is invalid, the server MUST return a 400" */
	const il_stun_attr *pa = il_stun_msg_find(req, IL_ATTR_XOR_PEER_ADDRESS);
	if (!pa || il_stun_attr_get_addr(req, pa, peer) != IL_STUN_OK)
		return 400;
	if (!tcp_relayed_for(a, peer->family))
		return 443;
	/* "If the new connection is forbidden by local policy, the server
	 * MUST reject the request with a 403" */
	enum il_peer_verdict v = turn_peer_check(srv, peer);
	if (v != IL_PEER_ALLOWED) {
		srv->stats.dropped_denied++;
		turn_event(srv, IL_TURN_EV_PEER_DENIED, ft, il_peer_verdict_name(v));
		return 403;
	}
	/* "If the server is currently processing a Connect request for this
	 * allocation with the same XOR-PEER-ADDRESS, it MUST return a 446" and
	 * likewise when "the resulting client and peer data connections are
	 * either pending or active". */
	for (turn_conn *c = srv->conns; c; c = c->next)
		if (c->alloc == a && il_addr_equal(&c->peer, peer))
			return 446;
	return 0;
}

void turn_handle_connect(il_turn_server *srv, const il_five_tuple *ft, const il_stun_msg *req,
			 uint64_t now_ms)
{
	turn_auth auth;
	/* "If the request is received on a TCP connection for which no
	 * allocation exists, the server MUST return a 437" */
	turn_alloc *a = turn_alloc_for_request(srv, ft, req, now_ms, &auth);
	if (!a)
		return;
	il_addr peer;
	int code = connect_checks(srv, ft, req, a, &peer);
	turn_conn *c = NULL;
	if (!code) {
		c = conn_new(srv, a, &peer, TURN_CONN_CONNECTING);
		if (!c)
			code = 508;
	}
	if (!code) {
		memcpy(c->tid, req->tid, IL_STUN_TID_LEN);
		c->alg = auth.alg;
		c->mi_sha256 = auth.mi_sha256;
		c->key_index = auth.key_index;
		/* "If the connection attempt fails or times out, the server MUST
		 * return a 447": at once when it cannot even start. */
		if (!srv->cb.tcp_connect ||
		    srv->cb.tcp_connect(srv->cb.user, tcp_relayed_for(a, peer.family), &peer,
					c->id) != 0) {
			conn_remove(srv, c);
			code = 447;
		}
	}
	if (code)
		turn_reply_error(srv, ft, req, &auth, code);
	/* Otherwise the answer waits for il_turn_server_tcp_connected. */
}

void il_turn_server_tcp_connected(il_turn_server *srv, uint32_t connection_id, bool ok,
				  uint64_t now_ms)
{
	turn_conn *c = conn_find(srv, connection_id);
	if (!c || c->state != TURN_CONN_CONNECTING)
		return;
	turn_alloc *a = c->alloc;
	turn_auth auth;
	bool keyed = turn_auth_for_user(srv, a->user->name, c->alg, c->mi_sha256, c->key_index,
					now_ms, &auth);
	il_stun_builder b;
	il_stun_builder_init(&b, srv->out, sizeof srv->out, IL_STUN_CONNECT,
			     ok ? IL_STUN_SUCCESS : IL_STUN_ERROR, c->tid);
	if (ok) {
		/* "The server MUST include the CONNECTION-ID attribute in the
		 * Connect success response." and close the peer data connection
		 * if no ConnectionBind comes within 30 seconds. */
		il_stun_add_u32(&b, IL_ATTR_CONNECTION_ID, c->id);
		c->state = TURN_CONN_PENDING_BIND;
		c->deadline_ms = now_ms + TURN_TCP_BIND_TIMEOUT_MS;
		srv->stats.tcp_connections++;
		turn_event(srv, IL_TURN_EV_TCP_CONNECTION, &a->ft, "connect");
	} else {
		il_stun_add_error_code(&b, 447, il_stun_error_reason(447));
	}
	/* The credential may have gone in between (REST expiry): then the
	 * answer goes unsigned and the client will discard it. */
	il_five_tuple ft = a->ft;
	if (!ok)
		conn_remove(srv, c);
	turn_reply_send(srv, &b, &ft, keyed ? &auth : NULL, false);
}

/* ---- inbound connections (§5.3) ---- */

uint32_t il_turn_server_tcp_peer_accepted(il_turn_server *srv, const il_addr *relayed,
					  const il_addr *peer, uint64_t now_ms)
{
	turn_alloc *a = turn_alloc_find_relayed(srv, relayed);
	if (!a || !a->tcp)
		return 0;
	/* "If no permission for this peer has been installed for this
	 * allocation, the server MUST close the connection with the peer
	 * immediately after it has been accepted." */
	if (!turn_perm_find(a, peer)) {
		srv->stats.dropped_no_permission++;
		turn_event(srv, IL_TURN_EV_DROPPED_NO_PERMISSION, &a->ft, "tcp");
		return 0;
	}
	if (turn_peer_check(srv, peer) != IL_PEER_ALLOWED) {
		srv->stats.dropped_denied++;
		return 0;
	}
	turn_conn *c = conn_new(srv, a, peer, TURN_CONN_PENDING_BIND);
	if (!c)
		return 0;
	c->deadline_ms = now_ms + TURN_TCP_BIND_TIMEOUT_MS;
	/* "The indication MUST include an XOR-PEER-ADDRESS attribute
	 * containing the peer's transport address, as well as a CONNECTION-ID
	 * attribute uniquely identifying the peer data connection." */
	uint8_t tid[IL_STUN_TID_LEN] = {0};
	if (srv->cb.random)
		srv->cb.random(srv->cb.user, tid, sizeof tid);
	il_stun_builder b;
	il_stun_builder_init(&b, srv->out, sizeof srv->out, IL_STUN_CONNECTIONATTEMPT,
			     IL_STUN_INDICATION, tid);
	il_stun_add_xor_addr(&b, IL_ATTR_XOR_PEER_ADDRESS, peer);
	il_stun_add_u32(&b, IL_ATTR_CONNECTION_ID, c->id);
	turn_reply_send(srv, &b, &a->ft, NULL, false);
	srv->stats.tcp_connections++;
	turn_event(srv, IL_TURN_EV_TCP_CONNECTION, &a->ft, "accepted");
	return c->id;
}

/* ---- ConnectionBind (§5.4) ---- */

void turn_handle_connection_bind(il_turn_server *srv, const il_five_tuple *ft,
				 const il_stun_msg *req, uint64_t now_ms)
{
	/* "If the client connection transport is not TCP or TLS, the server
	 * MUST return a 400" */
	if (ft->transport != IL_TRANSPORT_TCP && ft->transport != IL_TRANSPORT_TLS) {
		turn_reply_error(srv, ft, req, NULL, 400);
		return;
	}
	const il_stun_attr *cid = il_stun_msg_find(req, IL_ATTR_CONNECTION_ID);
	uint32_t id = 0;
	if (cid)
		il_stun_attr_get_u32(req, cid, &id);
	turn_conn *c = id ? conn_find(srv, id) : NULL;
	/* The nonce was issued on the control connection: accept it here too. */
	turn_auth auth;
	if (!turn_authenticate(srv, ft, req, now_ms, c ? &c->alloc->ft : NULL, &auth))
		return;
	/* "If the request does not contain the CONNECTION-ID attribute, or if
	 * this attribute does not refer to an existing pending connection, the
	 * server MUST return a 400". A connection that carries an allocation
	 * is a control connection, not a data one. */
	if (!c || c->state != TURN_CONN_PENDING_BIND || turn_alloc_find(srv, ft)) {
		turn_reply_error(srv, ft, req, &auth, 400);
		return;
	}
	if (strcmp(c->alloc->user->name, auth.username) != 0) {
		srv->stats.auth_failures++;
		turn_reply_error(srv, ft, req, &auth, 441);
		return;
	}
	c->state = TURN_CONN_BOUND;
	c->deadline_ms = UINT64_MAX;
	il_stun_builder b;
	turn_reply_begin(srv, &b, req, IL_STUN_SUCCESS);
	turn_reply_send(srv, &b, ft, &auth, false);
	if (srv->cb.tcp_bind)
		srv->cb.tcp_bind(srv->cb.user, ft, c->id);
}

/* ---- lifetime (§5.5) ---- */

void il_turn_server_tcp_closed(il_turn_server *srv, uint32_t connection_id, uint64_t now_ms)
{
	(void)now_ms;
	turn_conn *c = conn_find(srv, connection_id);
	if (c)
		conn_remove(srv, c);
}

void turn_tcp_alloc_gone(il_turn_server *srv, turn_alloc *a)
{
	/* "If the allocation associated with a data connection expires, the
	 * data connection MUST be closed." */
	for (turn_conn *c = srv->conns, *next; c; c = next) {
		next = c->next;
		if (c->alloc != a)
			continue;
		if (srv->cb.tcp_close)
			srv->cb.tcp_close(srv->cb.user, c->id);
		conn_remove(srv, c);
	}
}

void turn_tcp_expire(il_turn_server *srv, uint64_t now_ms)
{
	for (turn_conn *c = srv->conns, *next; c; c = next) {
		next = c->next;
		if (c->state == TURN_CONN_PENDING_BIND && c->deadline_ms <= now_ms) {
			if (srv->cb.tcp_close)
				srv->cb.tcp_close(srv->cb.user, c->id);
			conn_remove(srv, c);
		}
	}
}

void turn_tcp_drop_denied(il_turn_server *srv)
{
	/* RFC 6062 §5.2: "If the new connection is forbidden by local policy,
	 * the server MUST reject the request with a 403" -- and a connection
	 * the operator forbids after the fact is closed, not left to run. */
	for (turn_conn *c = srv->conns, *next; c; c = next) {
		next = c->next;
		if (turn_peer_check(srv, &c->peer) == IL_PEER_ALLOWED)
			continue;
		srv->stats.tcp_closed_by_policy++;
		turn_event(srv, IL_TURN_EV_TCP_CLOSED_BY_POLICY, &c->alloc->ft, NULL);
		if (srv->cb.tcp_close)
			srv->cb.tcp_close(srv->cb.user, c->id);
		conn_remove(srv, c);
	}
}

uint64_t turn_tcp_next_deadline(const il_turn_server *srv)
{
	uint64_t d = UINT64_MAX;
	for (const turn_conn *c = srv->conns; c; c = c->next)
		if (c->deadline_ms < d)
			d = c->deadline_ms;
	return d;
}
