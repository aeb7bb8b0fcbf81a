/* Suite turn-server over a stream (tcp://, tls://): ChannelData framing
 * over TCP (RFC 8656 §12.5, §12.6) and TCP allocations (RFC 6062): a
 * control connection, Connect and ConnectionAttempt, ConnectionBind on
 * data connections of the target's transport, and TCP peers the harness
 * runs on the local address that routes to the target. Checks name
 * conformance/requirements/rfc6062.req and rfc8656.req. */
#include "suite_util.h"

#include <stdio.h>
#include <string.h>

#define TR_TCP 6u      /* REQUESTED-TRANSPORT: TCP (RFC 6062 §4.1) */
#define TR_WAIT 2000u  /* ms for the server's TCP work on loopback */

#define OPEN(s)                                                                                   \
	cf_turn s;                                                                                \
	if (cf_turn_open(ctx, &s) < 0)                                                            \
		return

typedef struct tcp_alloc_arg {
	uint8_t protocol;
	uint16_t extra;        /* an attribute to add (0: none) */
} tcp_alloc_arg;

static void add_tcp_alloc(il_stun_builder *b, const void *arg)
{
	const tcp_alloc_arg *a = arg;
	il_stun_add_u32(b, IL_ATTR_REQUESTED_TRANSPORT, (uint32_t)a->protocol << 24);
	static const uint8_t token[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	uint8_t even = 0x80;
	if (a->extra == IL_ATTR_EVEN_PORT)
		il_stun_add_raw(b, IL_ATTR_EVEN_PORT, &even, 1);
	else if (a->extra == IL_ATTR_RESERVATION_TOKEN)
		il_stun_add_raw(b, IL_ATTR_RESERVATION_TOKEN, token, sizeof token);
	else if (a->extra == IL_ATTR_DONT_FRAGMENT)
		il_stun_add_raw(b, IL_ATTR_DONT_FRAGMENT, NULL, 0);
}

/* An Allocate with REQUESTED-TRANSPORT protocol (and extra): challenge
 * first when the session has no nonce yet. Returns the response length. */
static size_t tcp_allocate(cf_turn *s, const tcp_alloc_arg *a, uint8_t *buf, il_stun_msg *m)
{
	size_t n;
	if (!s->nonce_len) {
		n = cf_turn_challenge(s, IL_STUN_ALLOCATE, add_tcp_alloc, a, buf, CF_BUF, m);
		if (!n || cf_error_code(m) != 401)
			return n;
	}
	n = cf_turn_request(s, IL_STUN_ALLOCATE, add_tcp_alloc, a, buf, CF_BUF, m);
	const il_stun_attr *r;
	if (n && m->cls == IL_STUN_SUCCESS && (r = il_stun_msg_find(m, IL_ATTR_XOR_RELAYED_ADDRESS))) {
		il_stun_attr_get_addr(m, r, &s->relayed);
		s->allocated = true;
	}
	return n;
}

/* A TCP allocation as a precondition; not-applicable when the target
 * does not do RFC 6062 (442, RFC 8656 §7.2). */
static bool need_tcp_allocation(cf_ctx *ctx, cf_turn *s)
{
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	tcp_alloc_arg a = {TR_TCP, 0};
	size_t n = tcp_allocate(s, &a, buf, &m);
	if (cf_stopped(ctx))
		return false;
	if (n && cf_error_code(&m) == 442) {
		cf_not_applicable(ctx, "the target does not offer TCP allocations (442): no RFC 6062");
		return false;
	}
	if (!s->allocated) {
		cf_error(ctx, "precondition failed: a TCP Allocate got %s",
			 cf_describe(n, &m, what, sizeof what));
		return false;
	}
	return true;
}

static uint32_t connection_id(const il_stun_msg *m, bool *present)
{
	uint32_t id = 0;
	const il_stun_attr *a = il_stun_msg_find(m, IL_ATTR_CONNECTION_ID);
	*present = a && il_stun_attr_get_u32(m, a, &id) == IL_STUN_OK;
	return id;
}

static void add_connection_id(il_stun_builder *b, const void *arg)
{
	if (arg)
		il_stun_add_u32(b, IL_ATTR_CONNECTION_ID, *(const uint32_t *)arg);
}

static size_t connect_to(cf_turn *s, const il_addr *peer, uint8_t *buf, il_stun_msg *m)
{
	return cf_turn_request(s, IL_STUN_CONNECT, peer ? cf_add_peer : NULL, peer, buf, CF_BUF, m);
}

/* ConnectionBind on a new connection d with the control connection's
 * credentials (RFC 6062 §4.3: same method and credentials): first with
 * the realm and nonce the server gave the control connection, as a client
 * with cached credentials does (RFC 8489 §9.2.3; a 438 brings a fresh
 * nonce), then after a challenge of its own when that gets a 401. id
 * NULL: without CONNECTION-ID. Returns the response length. */
static size_t connection_bind(cf_ctx *ctx, const cf_turn *control, cf_turn *d,
			      const uint32_t *id, uint8_t *buf, il_stun_msg *m)
{
	if (cf_turn_open(ctx, d) < 0)
		return 0;
	memcpy(d->realm, control->realm, sizeof d->realm);
	memcpy(d->nonce, control->nonce, sizeof d->nonce);
	d->nonce_len = control->nonce_len;
	size_t n = cf_turn_request(d, IL_STUN_CONNECTIONBIND, add_connection_id, id, buf, CF_BUF, m);
	if (n && cf_error_code(m) == 401) {
		n = cf_turn_challenge(d, IL_STUN_CONNECTIONBIND, add_connection_id, id, buf, CF_BUF,
				      m);
		if (n && cf_error_code(m) == 401)
			n = cf_turn_request(d, IL_STUN_CONNECTIONBIND, add_connection_id, id, buf,
					    CF_BUF, m);
	}
	if (n && m->cls == IL_STUN_SUCCESS)
		cf_client_raw(ctx, d->client);
	return n;
}

/* Reads exactly want bytes from a TCP peer (several reads). */
static bool peer_read(cf_ctx *ctx, int p, const char *want)
{
	uint8_t got[256];
	size_t have = 0, wl = strlen(want);
	while (have < wl) {
		size_t len;
		if (!cf_peer_recv(ctx, p, got + have, sizeof got - have, &len, NULL, TR_WAIT) || !len)
			return false;
		have += len;
	}
	return have == wl && memcmp(got, want, wl) == 0;
}

/* Reads exactly want bytes from a raw client data connection. */
static bool client_read(cf_ctx *ctx, int c, const char *want)
{
	uint8_t got[CF_BUF];
	size_t have = 0, wl = strlen(want);
	while (have < wl) {
		size_t n = cf_recv(ctx, c, got + have, sizeof got - have, TR_WAIT);
		if (!n)
			return false;
		have += n;
	}
	return have == wl && memcmp(got, want, wl) == 0;
}

/* ConnectionBind of id on a new connection d (an error verdict when it
 * fails), then whether the peer's early bytes come first on it. */
static int bind_and_read(cf_ctx *ctx, const cf_turn *control, cf_turn *d, uint32_t id,
			 const char *early)
{
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	size_t n = connection_bind(ctx, control, d, &id, buf, &m);
	if (!n || m.cls != IL_STUN_SUCCESS) {
		cf_error(ctx, "precondition failed: ConnectionBind got %s",
			 cf_describe(n, &m, what, sizeof what));
		return -1;
	}
	return client_read(ctx, d->client, early);
}

/* True when the TCP peer's connection is closed (EOF) within TR_WAIT. */
static bool peer_sees_close(cf_ctx *ctx, int p)
{
	uint8_t buf[256];
	size_t len;
	for (int i = 0; i < 8; i++) {
		if (!cf_peer_recv(ctx, p, buf, sizeof buf, &len, NULL, TR_WAIT))
			return false; /* silent: still open */
		if (len == 0)
			return true;
	}
	return false;
}

/* ---- ChannelData framing over TCP (RFC 8656 §12.5, §12.6) ---- */

static void t_channeldata_framing(cf_ctx *ctx)
{
	OPEN(s);
	int p = cf_peer(ctx);
	if (p < 0 || !cf_turn_allocate(&s))
		return;
	il_addr peer = cf_peer_addr(ctx, p);
	if (!cf_turn_bind(&s, 0x4000, &peer))
		return;
	/* Two padded ChannelData messages and a Binding request in one
	 * segment: the peer gets the data without padding, the request
	 * is still found where the padding ends. */
	uint8_t seg[256], buf[CF_BUF];
	size_t off = il_channeldata_encode(seg, sizeof seg, 0x4000, (const uint8_t *)"abcde", 5, true);
	off += il_channeldata_encode(seg + off, sizeof seg - off, 0x4000, (const uint8_t *)"xyz", 3,
				     true);
	size_t bl = cf_build(ctx, seg + off, sizeof seg - off, IL_STUN_BINDING, IL_STUN_REQUEST, NULL,
			     NULL, true);
	if (!bl)
		return;
	uint8_t tid[IL_STUN_TID_LEN];
	memcpy(tid, seg + off + 8, sizeof tid);
	cf_send(ctx, s.client, seg, off + bl);
	size_t len;
	int g1 = cf_peer_recv(ctx, p, buf, sizeof buf, &len, NULL, 0);
	bool first = g1 && len == 5 && memcmp(buf, "abcde", 5) == 0;
	int g2 = cf_peer_recv(ctx, p, buf, sizeof buf, &len, NULL, 0);
	bool second = g2 && len == 3 && memcmp(buf, "xyz", 3) == 0;
	cf_check_req(ctx, "RFC8656-12.6-6", first && second,
		     "padded ChannelData of 5 and 3 bytes reached the peer as %s and %s",
		     first ? "5 bytes" : "something else", second ? "3 bytes" : "something else");
	bool answered = false;
	for (int i = 0; i < 4 && !answered; i++) {
		size_t n = cf_recv(ctx, s.client, buf, sizeof buf, 0);
		if (!n)
			break;
		answered = n >= 20 && memcmp(buf + 8, tid, sizeof tid) == 0;
	}
	cf_check_req(ctx, "RFC8656-12.6-6", answered,
		     "the Binding request after the padding %s", answered ? "was answered" :
		     "got no response (the server lost the framing)");
	/* The other way: odd lengths from the peer, then a response, all
	 * on one stream; the reassembler hands each ChannelData over with
	 * the 4-byte alignment the server gave it. */
	cf_peer_send(ctx, p, &s.relayed, (const uint8_t *)"12345", 5);
	cf_peer_send(ctx, p, &s.relayed, (const uint8_t *)"678", 3);
	cf_sleep(ctx, 100);
	bl = cf_build(ctx, seg, sizeof seg, IL_STUN_BINDING, IL_STUN_REQUEST, NULL, NULL, true);
	memcpy(tid, seg + 8, sizeof tid);
	cf_send(ctx, s.client, seg, bl);
	size_t sizes[2] = {0, 0}, lens[2] = {0, 0}, frames = 0;
	answered = false;
	for (int i = 0; i < 6 && !answered; i++) {
		size_t n = cf_recv(ctx, s.client, buf, sizeof buf, 0);
		if (!n)
			break;
		il_channeldata cd;
		if (buf[0] >= 0x40 && buf[0] <= 0x4F && frames < 2 &&
		    il_channeldata_decode(buf, n, &cd, NULL) == IL_STUN_OK) {
			sizes[frames] = n;
			lens[frames++] = cd.length;
		} else {
			answered = n >= 20 && memcmp(buf + 8, tid, sizeof tid) == 0;
		}
	}
	cf_check_req(ctx, "RFC8656-12.5-2",
		     frames == 2 && lens[0] == 5 && lens[1] == 3 && sizes[0] == 12 && sizes[1] == 8 &&
			     answered,
		     "peer data of 5 and 3 bytes came as %zu ChannelData (%zu/%zu bytes of data in "
		     "%zu/%zu bytes on the stream, padded ones are 12 and 8) and the response %s",
		     frames, lens[0], lens[1], sizes[0], sizes[1], answered ? "followed in step" :
		     "was not found (the framing was lost)");
	cf_turn_release(&s);
}

/* ---- RFC 6062 ---- */

static void t_tcp_allocate(cf_ctx *ctx)
{
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	OPEN(s);
	if (!need_tcp_allocation(ctx, &s))
		return;
	const il_stun_attr *tok = NULL;
	OPEN(u);
	size_t n = cf_turn_allocate_with(&u, NULL, NULL, buf, sizeof buf, &m);
	cf_check_req(ctx, "RFC6062-5.1-2", n && m.cls == IL_STUN_SUCCESS,
		     "a UDP Allocate over the %s connection got %s",
		     cf_stream_transport(ctx) == CF_TLS ? "TLS" : "TCP",
		     cf_describe(n, &m, what, sizeof what));
	cf_turn_release(&u);
	OPEN(t);
	tcp_alloc_arg sctp = {132, 0};
	n = tcp_allocate(&t, &sctp, buf, &m);
	cf_check_req(ctx, "RFC6062-5.1-1", n && cf_error_code(&m) == 442,
		     "REQUESTED-TRANSPORT 132 (SCTP) got %s", cf_describe(n, &m, what, sizeof what));
	static const uint16_t bad[] = {IL_ATTR_DONT_FRAGMENT, IL_ATTR_EVEN_PORT,
				       IL_ATTR_RESERVATION_TOKEN};
	static const char *const names[] = {"DONT-FRAGMENT", "EVEN-PORT", "RESERVATION-TOKEN"};
	for (size_t i = 0; i < 3 && !cf_stopped(ctx); i++) {
		tcp_alloc_arg a = {TR_TCP, bad[i]};
		n = tcp_allocate(&t, &a, buf, &m);
		cf_check_req(ctx, "RFC6062-5.1-5", n && cf_error_code(&m) == 400,
			     "a TCP Allocate with %s got %s", names[i],
			     cf_describe(n, &m, what, sizeof what));
		if (t.allocated)
			break; /* accepted: later requests would be 437 */
	}
	if (!t.allocated) {
		tcp_alloc_arg a = {TR_TCP, 0};
		n = tcp_allocate(&t, &a, buf, &m);
		if (n && m.cls == IL_STUN_SUCCESS)
			tok = il_stun_msg_find(&m, IL_ATTR_RESERVATION_TOKEN);
		cf_check_req(ctx, "RFC6062-5.1-7", n && m.cls == IL_STUN_SUCCESS && !tok,
			     "a TCP Allocate got %s%s", cf_describe(n, &m, what, sizeof what),
			     tok ? " with RESERVATION-TOKEN" : " without RESERVATION-TOKEN");
	}
	cf_turn_release(&t);
	cf_turn_release(&s);
}

static void t_tcp_allocate_over_udp(cf_ctx *ctx)
{
	OPEN(s);
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	tcp_alloc_arg a = {TR_TCP, 0};
	size_t n = tcp_allocate(&s, &a, buf, &m);
	if (n && cf_error_code(&m) == 442) {
		cf_not_applicable(ctx, "the target does not offer TCP allocations (442): no RFC 6062");
		return;
	}
	cf_check_req(ctx, "RFC6062-5.1-4", n && cf_error_code(&m) == 400,
		     "a TCP Allocate over UDP got %s", cf_describe(n, &m, what, sizeof what));
	if (s.allocated)
		cf_turn_release(&s);
	uint32_t id = 0x12345678;
	n = cf_turn_request(&s, IL_STUN_CONNECTIONBIND, add_connection_id, &id, buf, sizeof buf, &m);
	cf_check_req(ctx, "RFC6062-5.4-1", n && cf_error_code(&m) == 400,
		     "ConnectionBind over UDP got %s", cf_describe(n, &m, what, sizeof what));
}

static void t_tcp_connect(cf_ctx *ctx)
{
	OPEN(s);
	int l1 = cf_peer_tcp_listen(ctx), l2 = cf_peer_tcp_listen(ctx);
	if (l1 < 0 || l2 < 0 || !need_tcp_allocation(ctx, &s))
		return;
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	il_addr a1 = cf_peer_addr(ctx, l1), a2 = cf_peer_addr(ctx, l2), remote;
	size_t n = connect_to(&s, &a1, buf, &m);
	bool has_id;
	uint32_t id1 = connection_id(&m, &has_id);
	if (!cf_check_req(ctx, "RFC6062-5.2-10", n && m.cls == IL_STUN_SUCCESS && has_id,
			  "Connect to the harness's listener got %s%s",
			  cf_describe(n, &m, what, sizeof what),
			  n && m.cls == IL_STUN_SUCCESS && !has_id ? " without CONNECTION-ID" : ""))
		return;
	int p1 = cf_peer_tcp_accept(ctx, l1, &remote, TR_WAIT);
	char rs[IL_ADDR_STRLEN] = "nobody", ws[IL_ADDR_STRLEN];
	if (p1 >= 0)
		il_addr_format(&remote, rs, sizeof rs);
	il_addr_format(&s.relayed, ws, sizeof ws);
	if (!cf_check_req(ctx, "RFC6062-5.2-6", p1 >= 0 && il_addr_equal(&remote, &s.relayed),
			  "the listener was connected from %s, the relayed address is %s", rs, ws))
		return;
	/* Before ConnectionBind: the server holds what the peer sends. */
	cf_peer_send(ctx, p1, &s.relayed, (const uint8_t *)"early from peer", 15);
	n = connect_to(&s, &a1, buf, &m);
	cf_check_req(ctx, "RFC6062-5.2-3", n && cf_error_code(&m) == 446,
		     "a second Connect to the same peer (its connection pending) got %s",
		     cf_describe(n, &m, what, sizeof what));
	n = connect_to(&s, &a2, buf, &m);
	uint32_t id2 = connection_id(&m, &has_id);
	cf_check_req(ctx, "RFC6062-5.2-11", n && m.cls == IL_STUN_SUCCESS && has_id && id2 != id1,
		     "Connect to a second listener got %s, CONNECTION-ID 0x%08x after 0x%08x",
		     cf_describe(n, &m, what, sizeof what), id2, id1);
	int p2 = cf_peer_tcp_accept(ctx, l2, &remote, TR_WAIT);
	cf_turn d;
	int early = bind_and_read(ctx, &s, &d, id1, "early from peer");
	if (early < 0)
		return;
	cf_check_req(ctx, "RFC6062-5.2-9", early,
		     "what the peer sent before ConnectionBind %s the client data connection",
		     early ? "reached" : "did not reach");
	cf_check_req(ctx, "RFC6062-5.4-4", early, "peer bytes relayed as they are");
	cf_send(ctx, d.client, (const uint8_t *)"client to peer", 14);
	cf_check_req(ctx, "RFC6062-5.4-3", peer_read(ctx, p1, "client to peer"),
		     "the client data connection's bytes reached the peer as they are");
	cf_peer_send(ctx, p1, &s.relayed, (const uint8_t *)"peer to client", 14);
	cf_check_req(ctx, "RFC6062-5.4-4", client_read(ctx, d.client, "peer to client"),
		     "the peer's bytes reached the client data connection as they are");
	cf_peer_close(ctx, p1);
	uint8_t tmp[64];
	bool closed = false;
	for (int i = 0; i < 8 && !closed && !cf_stopped(ctx); i++)
		closed = !cf_recv(ctx, d.client, tmp, sizeof tmp, TR_WAIT / 4) &&
			 cf_client_closed(ctx, d.client);
	cf_check_req(ctx, "RFC6062-5.5-3", closed,
		     "after the peer closed, the client data connection was %s", closed ? "closed" :
		     "still open");
	/* Ending the allocation closes its other (pending) peer connection. */
	cf_turn_release(&s);
	if (p2 >= 0 && !cf_ctx_target(ctx)->virtual_time)
		cf_check_req(ctx, "RFC6062-5.5-1", peer_sees_close(ctx, p2),
			     "after Refresh LIFETIME 0 the pending peer data connection was closed");
}

/* A TCP peer's connection to a relayed address. A peer learns the
 * address from the client, some time after the Allocate succeeded: a
 * refusal right after the response is tried again 200 ms later, and
 * noted (the RFC does not say the listener is up before the response). */
static int relay_connect(cf_ctx *ctx, const il_addr *relayed)
{
	int p = cf_peer_tcp_connect(ctx, relayed);
	if (p >= 0 || cf_stopped(ctx))
		return p;
	cf_sleep(ctx, 200);
	p = cf_peer_tcp_connect(ctx, relayed);
	cf_note(ctx, "a TCP connection to the relayed address right after the Allocate success "
		     "was refused; 200 ms later it %s", p >= 0 ? "was accepted" : "was refused too");
	return p;
}

static void t_connection_attempt(cf_ctx *ctx)
{
	OPEN(s);
	OPEN(bare);
	if (!need_tcp_allocation(ctx, &s) || !need_tcp_allocation(ctx, &bare))
		return;
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	/* No permission on `bare`: accepted, then closed, and not announced. */
	int q = relay_connect(ctx, &bare.relayed);
	cf_check_req(ctx, "RFC6062-5.1-8", q >= 0, "a TCP connection to a relayed address %s",
		     q >= 0 ? "was accepted" : "was refused");
	if (q < 0)
		return;
	bool dropped = peer_sees_close(ctx, q);
	size_t n = cf_recv(ctx, bare.client, buf, sizeof buf, 0);
	cf_check_req(ctx, "RFC6062-5.3-3", dropped && !n,
		     "a peer without permission: connection %s, %s on the control connection",
		     dropped ? "closed" : "kept open", n ? "something arrived" : "nothing");
	cf_turn_release(&bare);
	il_addr me = cf_client_addr(ctx, s.client);
	me.port = 9;
	if (!cf_turn_permit(&s, &me))
		return;
	int p = relay_connect(ctx, &s.relayed);
	cf_check_req(ctx, "RFC6062-5.3-1", p >= 0, "a permitted peer's connection %s",
		     p >= 0 ? "was accepted" : "was refused");
	cf_check_req(ctx, "RFC6062-5.1-6", p >= 0, "the relayed address of a TCP allocation is TCP");
	if (p < 0)
		return;
	il_addr peer = cf_peer_addr(ctx, p);
	cf_peer_send(ctx, p, &s.relayed, (const uint8_t *)"early bytes", 11);
	n = 0;
	for (int i = 0; i < 4; i++) {
		n = cf_recv(ctx, s.client, buf, sizeof buf, TR_WAIT);
		if (!n || (il_stun_decode(buf, n, &m, NULL) == IL_STUN_OK &&
			   m.method == IL_STUN_CONNECTIONATTEMPT && m.cls == IL_STUN_INDICATION))
			break;
		n = 0;
	}
	bool has_id;
	uint32_t id = n ? connection_id(&m, &has_id) : 0;
	il_addr said;
	memset(&said, 0, sizeof said);
	const il_stun_attr *xa = n ? il_stun_msg_find(&m, IL_ATTR_XOR_PEER_ADDRESS) : NULL;
	if (xa)
		il_stun_attr_get_addr(&m, xa, &said);
	char ss[IL_ADDR_STRLEN] = "none", ps[IL_ADDR_STRLEN];
	if (xa)
		il_addr_format(&said, ss, sizeof ss);
	il_addr_format(&peer, ps, sizeof ps);
	if (!cf_check_req(ctx, "RFC6062-5.3-4", n && has_id && il_addr_equal(&said, &peer),
			  "ConnectionAttempt %s, CONNECTION-ID %s, XOR-PEER-ADDRESS %s (peer %s)",
			  n ? "received" : "not received", n && has_id ? "present" : "missing", ss,
			  ps))
		return;
	cf_turn d;
	int early = bind_and_read(ctx, &s, &d, id, "early bytes");
	if (early < 0)
		return;
	cf_check_req(ctx, "RFC6062-5.3-2", early,
		     "what the peer sent before ConnectionBind %s the client",
		     early ? "reached" : "did not reach");
	cf_send(ctx, d.client, (const uint8_t *)"hello peer", 10);
	cf_check_req(ctx, "RFC6062-5.4-3", peer_read(ctx, p, "hello peer"),
		     "the client's bytes reached the peer as they are");
	cf_peer_send(ctx, p, &s.relayed, (const uint8_t *)"hello client", 12);
	cf_check_req(ctx, "RFC6062-5.4-4", client_read(ctx, d.client, "hello client"),
		     "the peer's bytes reached the client as they are");
	cf_client_close(ctx, d.client);
	cf_check_req(ctx, "RFC6062-5.5-2", peer_sees_close(ctx, p),
		     "after the client data connection closed, the peer's was closed");
	cf_turn_release(&s);
}

static void t_connect_errors(cf_ctx *ctx)
{
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	OPEN(none);
	int l = cf_peer_tcp_listen(ctx);
	if (l < 0)
		return;
	il_addr a = cf_peer_addr(ctx, l);
	/* A nonce first (the 401 of an Allocate), then Connect with no
	 * allocation on this connection. */
	tcp_alloc_arg probe = {TR_TCP, 0};
	cf_turn_challenge(&none, IL_STUN_ALLOCATE, add_tcp_alloc, &probe, buf, sizeof buf, &m);
	size_t n = connect_to(&none, &a, buf, &m);
	cf_check_req(ctx, "RFC6062-5.2-1", n && cf_error_code(&m) == 437,
		     "Connect on a connection without allocation got %s",
		     cf_describe(n, &m, what, sizeof what));
	OPEN(s);
	if (!need_tcp_allocation(ctx, &s))
		return;
	n = connect_to(&s, NULL, buf, &m);
	cf_check_req(ctx, "RFC6062-5.2-4", n && cf_error_code(&m) == 400,
		     "Connect without XOR-PEER-ADDRESS got %s", cf_describe(n, &m, what, sizeof what));
	/* Nobody listens there any more: the connection is refused. */
	cf_peer_close(ctx, l);
	n = connect_to(&s, &a, buf, &m);
	cf_check_req(ctx, "RFC6062-5.2-7", n && cf_error_code(&m) == 447,
		     "Connect to a closed port got %s", cf_describe(n, &m, what, sizeof what));
	cf_turn d1, d2, d3;
	uint32_t bogus = 0x0badc0de;
	/* Without credentials, ConnectionBind is challenged like any
	 * request under the long-term mechanism. */
	if (cf_turn_open(ctx, &d3) < 0)
		return;
	n = cf_turn_challenge(&d3, IL_STUN_CONNECTIONBIND, add_connection_id, &bogus, buf,
			      sizeof buf, &m);
	cf_check_req(ctx, "RFC8489-9.2.4-1", n && cf_error_code(&m) == 401,
		     "a ConnectionBind without MESSAGE-INTEGRITY got %s",
		     cf_describe(n, &m, what, sizeof what));
	n = connection_bind(ctx, &s, &d1, &bogus, buf, &m);
	cf_check_req(ctx, "RFC6062-5.4-2", n && cf_error_code(&m) == 400,
		     "ConnectionBind with an unknown CONNECTION-ID got %s",
		     cf_describe(n, &m, what, sizeof what));
	n = connection_bind(ctx, &s, &d2, NULL, buf, &m);
	cf_check_req(ctx, "RFC6062-5.4-2", n && cf_error_code(&m) == 400,
		     "ConnectionBind without CONNECTION-ID got %s",
		     cf_describe(n, &m, what, sizeof what));
	cf_turn_release(&s);
}

static void t_connect_forbidden(cf_ctx *ctx)
{
	OPEN(s);
	int l = cf_peer_tcp_listen(ctx);
	if (l < 0 || !need_tcp_allocation(ctx, &s))
		return;
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	il_addr a = cf_peer_addr(ctx, l), remote;
	size_t n = connect_to(&s, &a, buf, &m);
	if (n && m.cls == IL_STUN_SUCCESS) {
		cf_not_applicable(ctx, "the target lets the harness's peer (%s) through: run this "
				       "test against the target's production peer policy",
				  "loopback");
		cf_turn_release(&s);
		return;
	}
	int p = cf_peer_tcp_accept(ctx, l, &remote, 300);
	cf_check_req(ctx, "RFC6062-5.2-5", n && cf_error_code(&m) == 403 && p < 0,
		     "Connect to a peer the target does not relay to got %s; the peer was %s",
		     cf_describe(n, &m, what, sizeof what), p < 0 ? "not contacted" : "contacted");
	cf_turn_release(&s);
}

static const cf_test tests[] = {
	{"turn-server", "channeldata-tcp-framing", "ChannelData over TCP: padded both ways",
	 CF_NEEDS_CREDENTIALS | CF_NEEDS_PEER | CF_NEEDS_STREAM, t_channeldata_framing},
	{"turn-server", "tcp-allocate", "RFC 6062 TCP Allocate: transports, forbidden attributes",
	 CF_NEEDS_CREDENTIALS | CF_NEEDS_STREAM, t_tcp_allocate},
	{"turn-server", "tcp-allocate-over-udp-400", "RFC 6062 over UDP: Allocate TCP and "
	 "ConnectionBind get 400", CF_NEEDS_CREDENTIALS | CF_NEEDS_UDP, t_tcp_allocate_over_udp},
	{"turn-server", "tcp-connect", "RFC 6062 Connect, ConnectionBind, data both ways, 446",
	 CF_NEEDS_CREDENTIALS | CF_NEEDS_PEER | CF_NEEDS_STREAM, t_tcp_connect},
	{"turn-server", "tcp-connection-attempt",
	 "RFC 6062 ConnectionAttempt from a peer, permissions, close", CF_NEEDS_CREDENTIALS |
	 CF_NEEDS_PEER | CF_NEEDS_STREAM, t_connection_attempt},
	{"turn-server", "tcp-connect-errors", "RFC 6062 errors: 437, 400, 447",
	 CF_NEEDS_CREDENTIALS | CF_NEEDS_PEER | CF_NEEDS_STREAM, t_connect_errors},
	{"turn-server", "tcp-connect-forbidden-403", "RFC 6062 Connect to a refused peer: 403",
	 CF_NEEDS_CREDENTIALS | CF_NEEDS_PEER | CF_NEEDS_STREAM, t_connect_forbidden},
};

const cf_test *cf_suite_turn_tcp(size_t *count)
{
	*count = sizeof tests / sizeof tests[0];
	return tests;
}
