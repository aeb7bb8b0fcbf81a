/* TCP and TLS clients (RFC 8656 §3.1, RFC 8489 §6.2.2-6.2.3): a
 * listener per worker (SO_REUSEPORT), a bufferevent per connection
 * (OpenSSL for TLS 1.2 and 1.3), and il_stream to cut STUN messages and
 * ChannelData out of the byte stream. A connection's stream buffer is
 * allocated once, when it is accepted.
 *
 * RFC 6062 TCP relaying lives here too, because it splices client
 * connections: peer data connections (accepted on a TCP relay, or opened
 * by Connect from the relayed address), held with their early bytes
 * until ConnectionBind, then spliced byte for byte with the client data
 * connection (evbuffer to evbuffer, reading paused while the other side
 * is backed up); either side closing closes both (§5.5). */
#include "io_internal.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>

#include "icelab/channeldata.h"

/* RFC 6062: a peer data connection, from a relayed address to a peer. */
struct io_peer_conn {
	uint32_t id;
	bool connecting;      /* Connect: waiting for the TCP handshake */
	uint64_t last_active_ms; /* a byte either way: tcp-idle-timeout counts from here */
	io_core *core;
	struct bufferevent *bev;
	io_conn *client;      /* the client data connection once bound */
	io_peer_conn *next;
};

/* What the peer may send before ConnectionBind: "The server MUST buffer
 * any data received" (§5.2, §5.3), up to this much; then reading stops
 * (TCP flow control holds the peer). Also the most queued toward a slow
 * side of a splice before the other side stops being read. */
#define IO_SPLICE_HIGH (256u * 1024u)

struct io_conn {
	struct bufferevent *bev;
	il_five_tuple ft;
	io_core *core;
	io_peer_conn *peer;   /* RFC 6062: spliced to this peer connection */
	bool ip_counted;      /* holds a max-connections-per-ip slot */
	il_stream st;
	io_conn *next; /* hash chain */
	uint8_t buf[IO_STREAM_CAP];
};

static size_t conn_hash(const il_five_tuple *ft)
{
	uint32_t h = 2166136261u;
	size_t n = ft->remote.family == IL_AF_INET ? 4 : 16;
	for (size_t i = 0; i < n; i++)
		h = (h ^ ft->remote.ip[i]) * 16777619u;
	h = (h ^ ft->remote.port) * 16777619u;
	h = (h ^ ft->local.port) * 16777619u;
	return h % IO_CONN_BUCKETS;
}

static bool ft_equal(const il_five_tuple *a, const il_five_tuple *b)
{
	return a->transport == b->transport && il_addr_equal(&a->remote, &b->remote) &&
	       il_addr_equal(&a->local, &b->local);
}

static io_conn *conn_find(io_worker *w, const il_five_tuple *ft)
{
	for (io_conn *c = w->conns[conn_hash(ft)]; c; c = c->next)
		if (ft_equal(&c->ft, ft))
			return c;
	return NULL;
}

static void conn_unlink(io_worker *w, io_conn *conn)
{
	for (io_conn **pp = &w->conns[conn_hash(&conn->ft)]; *pp; pp = &(*pp)->next) {
		if (*pp == conn) {
			*pp = conn->next;
			w->conn_count--;
			return;
		}
	}
}

/* Closes the connection; tell_core says whether the core should drop the
 * allocation on it (not at shutdown, when the cores go anyway). */
static void conn_close(io_conn *conn, bool tell_core)
{
	io_worker *w = conn->core->w;
	conn_unlink(w, conn);
	w->counters.tcp_closed++;
	if (conn->ip_counted)
		io_conn_ip_release(w->server, &conn->ft.remote);
	if (tell_core) {
		il_turn_server_client_closed(conn->core->srv, &conn->ft, io_now_ms());
		io_tx_flush(w);
		io_core_update_timer(conn->core);
	}
	bufferevent_free(conn->bev);
	free(conn);
}

void io_stream_send(io_worker *w, const il_five_tuple *ft, const uint8_t *data, size_t len)
{
	io_conn *conn = conn_find(w, ft);
	if (!conn)
		return;
	struct evbuffer *out = bufferevent_get_output(conn->bev);
	if (evbuffer_get_length(out) + len > IO_STREAM_MAX_BACKLOG) {
		w->counters.tcp_backlog_dropped++;
		return;
	}
	bufferevent_write(conn->bev, data, len);
}

static void splice_forward(struct bufferevent *from, struct bufferevent *to);
static void peer_close(io_peer_conn *pc, bool tell_core);
static bool peer_idle_check(io_peer_conn *pc, struct bufferevent *bev);

static void conn_read(struct bufferevent *bev, void *arg)
{
	io_conn *conn = arg;
	io_worker *w = conn->core->w;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t chunk[16384];
	bool broken = false;
	w->now_ms = io_now_ms();
	if (conn->peer) { /* a client data connection: bytes go to the peer */
		conn->peer->last_active_ms = w->now_ms;
		splice_forward(bev, conn->peer->bev);
		return;
	}
	while (!broken && !conn->peer && evbuffer_get_length(in) > 0) {
		size_t room = conn->st.cap - (conn->st.end - conn->st.start);
		size_t want = room < sizeof chunk ? room : sizeof chunk;
		int got = evbuffer_copyout(in, chunk, want);
		if (got <= 0)
			break;
		size_t taken = il_stream_push(&conn->st, chunk, (size_t)got);
		evbuffer_drain(in, taken);
		il_stream_frame f;
		il_stun_decode_error derr;
		int r = 0;
		while (!conn->peer && (r = il_stream_next(&conn->st, &f, &derr)) == 1)
			il_turn_server_handle_client(conn->core->srv, &conn->ft, f.bytes, f.len,
						     w->now_ms);
		if (conn->peer) {
			/* ConnectionBind succeeded (io_tcp_peer_bind moved what
			 * followed it in the stream buffer): the rest is data. */
			conn->peer->last_active_ms = w->now_ms;
			splice_forward(bev, conn->peer->bev);
			break;
		}
		if (r < 0) {
			broken = true;
			w->counters.tcp_broken++;
			if (il_log_enabled(IL_LOG_DEBUG)) {
				char a[IL_ADDR_STRLEN];
				il_addr_format(&conn->ft.remote, a, sizeof a);
				il_log(IL_LOG_DEBUG, "stream from %s broken at byte %zu: %s", a,
				       derr.offset, il_stun_err_name(derr.code));
			}
		} else if (taken == 0) {
			break; /* cannot happen: a full buffer is a broken stream */
		}
	}
	io_tx_flush(w);
	io_core_update_timer(conn->core);
	if (broken)
		conn_close(conn, true);
}

static void conn_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	io_conn *conn = arg;
	if ((what & BEV_EVENT_TIMEOUT) && conn->peer && peer_idle_check(conn->peer, bev))
		return;
	if ((what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) && conn->peer) {
		/* RFC 6062 §5.5: either side closing closes the other. */
		peer_close(conn->peer, true);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		conn->core->w->counters.tcp_idle_closed++;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		if (il_log_enabled(IL_LOG_DEBUG)) {
			char a[IL_ADDR_STRLEN];
			il_addr_format(&conn->ft.remote, a, sizeof a);
			unsigned long e = bufferevent_get_openssl_error(bev);
			il_log(IL_LOG_DEBUG, "%s client %s: %s%s%s",
			       conn->ft.transport == IL_TRANSPORT_TLS ? "tls" : "tcp", a,
			       what & BEV_EVENT_EOF ? "closed" : what & BEV_EVENT_TIMEOUT ? "idle" : "error",
			       e ? ": " : "", e ? ERR_reason_error_string(e) : "");
		}
		conn_close(conn, true);
	}
}

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
		      int socklen, void *arg)
{
	(void)lev;
	(void)socklen;
	io_tcp_listener *l = arg;
	io_core *core = l->core;
	io_worker *w = core->w;
	il_addr remote;
	io_addr_from_sockaddr(sa, &remote);
	/* max-connections-per-ip: one source cannot hold every descriptor;
	 * beyond its share the connection is accepted and closed at once
	 * (before any TLS handshake: it costs nothing more). */
	bool counted = false;
	if (!io_conn_ip_acquire(w->server, &remote, w->cfg->max_connections_per_ip, &counted)) {
		w->counters.tcp_refused_per_ip++;
		if (il_log_enabled(IL_LOG_DEBUG)) {
			char a[IL_ADDR_STRLEN];
			il_addr_format(&remote, a, sizeof a);
			il_log(IL_LOG_DEBUG, "tcp client %s: over max-connections-per-ip, closed", a);
		}
		evutil_closesocket(fd);
		return;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	io_conn *conn = malloc(sizeof *conn);
	if (!conn) {
		if (counted)
			io_conn_ip_release(w->server, &remote);
		close(fd);
		return;
	}
	memset(conn, 0, offsetof(io_conn, buf));
	conn->core = core;
	conn->ip_counted = counted;
	conn->ft.transport = l->tls ? IL_TRANSPORT_TLS : IL_TRANSPORT_TCP;
	io_addr_from_sockaddr(sa, &conn->ft.remote);
	conn->ft.local = l->local;
	if (io_addr_is_wildcard(&l->local)) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
			io_addr_from_sockaddr((struct sockaddr *)&ss, &conn->ft.local);
	}
	il_stream_init(&conn->st, conn->buf, sizeof conn->buf);
	if (w->cfg->rfc5766_channels)
		il_stream_set_channel_range(&conn->st, IL_CHANNELS_RFC5766);
	if (l->tls) {
		SSL *ssl = SSL_new(w->server->ssl);
		conn->bev = ssl ? bufferevent_openssl_socket_new(w->base, fd, ssl,
								   BUFFEREVENT_SSL_ACCEPTING,
								   BEV_OPT_CLOSE_ON_FREE)
				: NULL;
		if (conn->bev)
			bufferevent_openssl_set_allow_dirty_shutdown(conn->bev, 1);
		else if (ssl)
			SSL_free(ssl);
	} else {
		conn->bev = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
	}
	if (!conn->bev) {
		if (counted)
			io_conn_ip_release(w->server, &remote);
		close(fd);
		free(conn);
		return;
	}
	bufferevent_setcb(conn->bev, conn_read, NULL, conn_event, conn);
	struct timeval idle = {.tv_sec = w->cfg->tcp_idle_timeout_s};
	bufferevent_set_timeouts(conn->bev, &idle, NULL);
	bufferevent_enable(conn->bev, EV_READ | EV_WRITE);
	size_t h = conn_hash(&conn->ft);
	conn->next = w->conns[h];
	w->conns[h] = conn;
	w->conn_count++;
	w->counters.tcp_accepted++;
}

int io_tcp_socket(const il_addr *local, char *err, size_t err_len)
{
	int af = local->family == IL_AF_INET ? AF_INET : AF_INET6;
	int fd = socket(af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, err_len, "socket: %s", strerror(errno));
		return -1;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	if (af == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	struct sockaddr_storage ss;
	socklen_t sl = io_sockaddr_from(local, &ss);
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 1024) < 0) {
		snprintf(err, err_len, "bind: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int io_tcp_listener_start(io_worker *w, io_tcp_listener *l)
{
	l->lev = evconnlistener_new(w->base, on_accept, l, LEV_OPT_CLOSE_ON_FREE, -1, l->fd);
	return l->lev ? 0 : -1;
}

void io_stream_close_all(io_worker *w)
{
	while (w->peer_conns)
		peer_close(w->peer_conns, false);
	for (size_t b = 0; b < IO_CONN_BUCKETS; b++)
		while (w->conns[b])
			conn_close(w->conns[b], false);
}

SSL_CTX *io_tls_context(const il_io_config *cfg, char *err, size_t err_len)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		snprintf(err, err_len, "tls: cannot create a context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, cfg->tls_min_version);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert_file) != 1) {
		snprintf(err, err_len, "cert: %s: %s", cfg->cert_file,
			 ERR_reason_error_string(ERR_get_error()));
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, cfg->key_file, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, err_len, "key: %s: %s", cfg->key_file,
			 ERR_reason_error_string(ERR_get_error()));
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* ---- RFC 6062: peer data connections and the splice ---- */

static io_peer_conn *peer_find(io_worker *w, uint32_t id)
{
	for (io_peer_conn *pc = w->peer_conns; pc; pc = pc->next)
		if (pc->id == id)
			return pc;
	return NULL;
}

/* Moves what from has read to to's output; stops reading from when to is
 * backed up (its write callback resumes it). */
static void splice_forward(struct bufferevent *from, struct bufferevent *to)
{
	struct evbuffer *out = bufferevent_get_output(to);
	evbuffer_add_buffer(out, bufferevent_get_input(from));
	if (evbuffer_get_length(out) > IO_SPLICE_HIGH)
		bufferevent_disable(from, EV_READ);
}

/* The other side drained: read from this side again. */
static void splice_resume(struct bufferevent *other)
{
	if (other && !(bufferevent_get_enabled(other) & EV_READ))
		bufferevent_enable(other, EV_READ);
}

static void conn_write(struct bufferevent *bev, void *arg)
{
	(void)bev;
	io_conn *conn = arg;
	if (conn->peer)
		splice_resume(conn->peer->bev);
}

/* Closes a peer data connection and its client data connection (§5.5);
 * tell_core: the core still knows the connection (not when it asked). */
static void peer_close(io_peer_conn *pc, bool tell_core)
{
	io_core *core = pc->core;
	io_worker *w = core->w;
	for (io_peer_conn **pp = &w->peer_conns; *pp; pp = &(*pp)->next) {
		if (*pp == pc) {
			*pp = pc->next;
			break;
		}
	}
	if (pc->client) {
		pc->client->peer = NULL;
		conn_close(pc->client, false); /* a data connection: no allocation */
	}
	bufferevent_free(pc->bev);
	uint32_t id = pc->id;
	free(pc);
	if (tell_core) {
		il_turn_server_tcp_closed(core->srv, id, io_now_ms());
		io_tx_flush(w);
		io_core_update_timer(core);
	}
}

/* tcp-idle-timeout on a spliced pair (or a peer waiting for its bind):
 * a read timeout on one side is idleness only if no byte went the other
 * way either. True: not idle, reading on bev resumed. */
static bool peer_idle_check(io_peer_conn *pc, struct bufferevent *bev)
{
	io_worker *w = pc->core->w;
	uint64_t idle_ms = (uint64_t)w->cfg->tcp_idle_timeout_s * 1000u;
	uint64_t now = io_now_ms();
	if (now - pc->last_active_ms < idle_ms) {
		bufferevent_enable(bev, EV_READ);
		return true;
	}
	w->counters.tcp_idle_closed++;
	return false;
}

/* After the handshake (or the accept): the idle timeout instead of the
 * connect timeout. */
static void peer_set_idle_timeout(io_peer_conn *pc)
{
	struct timeval idle = {.tv_sec = pc->core->w->cfg->tcp_idle_timeout_s};
	bufferevent_set_timeouts(pc->bev, &idle, NULL);
	pc->last_active_ms = io_now_ms();
}

static void peer_read(struct bufferevent *bev, void *arg)
{
	io_peer_conn *pc = arg;
	pc->last_active_ms = io_now_ms();
	/* Before ConnectionBind the bytes wait in the input buffer (the
	 * watermark stops reading at IO_SPLICE_HIGH). */
	if (pc->client)
		splice_forward(bev, pc->client->bev);
}

static void peer_write(struct bufferevent *bev, void *arg)
{
	(void)bev;
	io_peer_conn *pc = arg;
	if (pc->client)
		splice_resume(pc->client->bev);
}

static void peer_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	io_peer_conn *pc = arg;
	io_core *core = pc->core;
	io_worker *w = core->w;
	if (pc->connecting && (what & BEV_EVENT_CONNECTED)) {
		pc->connecting = false;
		peer_set_idle_timeout(pc);
		bufferevent_enable(pc->bev, EV_READ | EV_WRITE);
		il_turn_server_tcp_connected(core->srv, pc->id, true, io_now_ms());
		io_tx_flush(w);
		io_core_update_timer(core);
		return;
	}
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)))
		return;
	if (!pc->connecting && (what & BEV_EVENT_TIMEOUT) && peer_idle_check(pc, bev))
		return;
	if (pc->connecting) {
		/* "If the connection attempt fails or times out, the server
		 * MUST return a 447" (§5.2): the core answers and forgets it. */
		uint32_t id = pc->id;
		pc->connecting = false;
		peer_close(pc, false);
		il_turn_server_tcp_connected(core->srv, id, false, io_now_ms());
		io_tx_flush(w);
		io_core_update_timer(core);
		return;
	}
	peer_close(pc, true);
}

static io_peer_conn *peer_new(io_core *c, evutil_socket_t fd, uint32_t id, bool connecting)
{
	io_worker *w = c->w;
	io_peer_conn *pc = calloc(1, sizeof *pc);
	if (!pc)
		return NULL;
	pc->bev = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!pc->bev) {
		free(pc);
		return NULL;
	}
	pc->id = id;
	pc->core = c;
	pc->connecting = connecting;
	bufferevent_setcb(pc->bev, peer_read, peer_write, peer_event, pc);
	bufferevent_setwatermark(pc->bev, EV_READ, 0, IO_SPLICE_HIGH);
	/* §5.3: "If no ConnectionBind request ... within 30 seconds" the
	 * core closes it (tcp_close); a connect gets the same bound. */
	struct timeval connect_to = {.tv_sec = 30};
	if (connecting)
		bufferevent_set_timeouts(pc->bev, NULL, &connect_to);
	pc->next = w->peer_conns;
	w->peer_conns = pc;
	return pc;
}

void io_tcp_peer_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
			int socklen, void *arg)
{
	(void)lev;
	(void)socklen;
	io_relay *r = arg;
	io_core *c = r->core;
	io_worker *w = c->w;
	il_addr peer;
	io_addr_from_sockaddr(sa, &peer);
	w->now_ms = io_now_ms();
	/* §5.3: no permission (or a denied peer): "close the connection with
	 * the peer immediately after it has been accepted". */
	uint32_t id = il_turn_server_tcp_peer_accepted(c->srv, &r->addr, &peer, w->now_ms);
	io_peer_conn *pc = id ? peer_new(c, fd, id, false) : NULL;
	if (!pc) {
		evutil_closesocket(fd);
		if (id)
			il_turn_server_tcp_closed(c->srv, id, w->now_ms);
	} else {
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		peer_set_idle_timeout(pc);
		bufferevent_enable(pc->bev, EV_READ | EV_WRITE);
	}
	io_tx_flush(w);
	io_core_update_timer(c);
}

int io_tcp_peer_connect(io_core *c, const il_addr *relayed, const il_addr *peer, uint32_t id)
{
	/* §5.2: "the server MUST ... open a TCP connection from the relayed
	 * transport address to the peer". */
	int fd = io_tcp_relay_socket(relayed);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	io_peer_conn *pc = peer_new(c, fd, id, true);
	if (!pc) {
		close(fd);
		return -1;
	}
	struct sockaddr_storage ss;
	socklen_t sl = io_sockaddr_from(peer, &ss);
	if (bufferevent_socket_connect(pc->bev, (struct sockaddr *)&ss, (int)sl) < 0) {
		peer_close(pc, false);
		return -1;
	}
	return 0;
}

void io_tcp_peer_bind(io_core *c, const il_five_tuple *ft, uint32_t id)
{
	io_worker *w = c->w;
	io_conn *conn = conn_find(w, ft);
	io_peer_conn *pc = peer_find(w, id);
	if (!conn || !pc || conn->peer || pc->client) {
		if (pc)
			peer_close(pc, true);
		return;
	}
	/* §5.4: from now on "the server ... MUST relay any data" both ways.
	 * What followed ConnectionBind in the stream buffer is data already,
	 * and what the peer sent before is delivered first. */
	conn->peer = pc;
	pc->client = conn;
	size_t left = conn->st.end - conn->st.start;
	if (left)
		bufferevent_write(pc->bev, conn->st.buf + conn->st.start, left);
	conn->st.start = conn->st.end = 0;
	bufferevent_setcb(conn->bev, conn_read, conn_write, conn_event, conn);
	bufferevent_setwatermark(pc->bev, EV_READ, 0, 0);
	splice_forward(pc->bev, conn->bev);
	bufferevent_enable(pc->bev, EV_READ | EV_WRITE);
}

void io_tcp_peer_close(io_core *c, uint32_t id)
{
	io_peer_conn *pc = peer_find(c->w, id);
	if (pc)
		peer_close(pc, false);
}
