/* The tcp://HOST:PORT and tls://HOST:PORT targets: a real server over
 * TCP, or TLS over TCP with OpenSSL. Each client is a connection of its
 * own; what the server sends is cut into STUN and ChannelData frames by
 * ref/stun's stream reassembler (RFC 8489 §6.2.2, RFC 8656 §12.5), so a
 * test receives one message per cf_recv. A ChannelData frame is handed
 * over with its stream padding, so tests can judge it. After
 * ConnectionBind (RFC 6062 §5.4) a client's connection is raw bytes.
 *
 * Peers: UDP sockets like udp:// (bound on the local address that routes
 * to the target), and TCP listeners and connections for RFC 6062. */
#include "conformance.h"
#include "target_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "icelab/channeldata.h"

#define ST_MAX 8
#define ST_PEERS 16
#define ST_CONNECT_MS 3000 /* TCP connect and TLS handshake */

typedef struct st_client {
	int fd;
	SSL *ssl;
	il_stream st;
	uint8_t *buf;   /* the reassembler's storage, IL_STREAM_MIN_CAP */
	bool raw;       /* RFC 6062 data connection: bytes as they come */
	bool broken;    /* the server broke the framing: the rest is raw */
	bool closed;    /* the server closed (or reset) the connection */
} st_client;

enum st_peer_kind { ST_PEER_UDP = 1, ST_PEER_LISTEN, ST_PEER_TCP };

typedef struct st_peer {
	int fd;
	enum st_peer_kind kind;
	il_addr remote; /* ST_PEER_TCP */
} st_peer;

typedef struct stream_target {
	bool tls;
	char host[256]; /* SNI and certificate name */
	SSL_CTX *ssl_ctx;
	struct sockaddr_storage server;
	socklen_t server_len;
	st_client clients[ST_MAX];
	int nclients;
	st_peer peers[ST_PEERS];
	int npeers;
} stream_target;

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void set_timeouts(int fd, uint32_t ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (long)(ms % 1000) * 1000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* A blocking TCP connection within ST_CONNECT_MS, -1 when refused or slow. */
static int tcp_connect(const struct sockaddr_storage *to, socklen_t to_len,
		       const struct sockaddr_storage *bind_to, socklen_t bind_len)
{
	int fd = socket(to->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (bind_to && bind(fd, (const struct sockaddr *)bind_to, bind_len) < 0)
		goto fail;
	if (connect(fd, (const struct sockaddr *)to, to_len) < 0) {
		if (errno != EINPROGRESS)
			goto fail;
		struct pollfd pfd = {.fd = fd, .events = POLLOUT};
		int rc;
		while ((rc = poll(&pfd, 1, ST_CONNECT_MS)) < 0 && errno == EINTR)
			;
		int soerr = 0;
		socklen_t sl = sizeof soerr;
		if (rc <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr)
			goto fail;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	/* Each cf_send is one segment: the framing tests rely on it. */
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	set_timeouts(fd, ST_CONNECT_MS);
	return fd;
fail:
	close(fd);
	return -1;
}

static bool is_ip_literal(const char *host)
{
	uint8_t tmp[16];
	return inet_pton(AF_INET, host, tmp) == 1 || inet_pton(AF_INET6, host, tmp) == 1;
}

static SSL *tls_handshake(stream_target *s, int fd)
{
	SSL *ssl = SSL_new(s->ssl_ctx);
	if (!ssl)
		return NULL;
	SSL_set_fd(ssl, fd);
	/* SNI carries a host name, never an address literal (RFC 6066 §3);
	 * the certificate is checked against either. */
	if (!is_ip_literal(s->host))
		SSL_set_tlsext_host_name(ssl, s->host);
	X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
	if (is_ip_literal(s->host))
		X509_VERIFY_PARAM_set1_ip_asc(vp, s->host);
	else
		X509_VERIFY_PARAM_set1_host(vp, s->host, 0);
	if (SSL_connect(ssl) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

static int st_client_open(cf_target *t, int transport, il_addr *local)
{
	stream_target *s = t->impl;
	(void)transport; /* every client of a stream target is a connection */
	if (s->nclients == ST_MAX)
		return -1;
	st_client *c = &s->clients[s->nclients];
	memset(c, 0, sizeof *c);
	c->fd = tcp_connect(&s->server, s->server_len, NULL, 0);
	if (c->fd < 0)
		return -1;
	if (s->tls && !(c->ssl = tls_handshake(s, c->fd))) {
		close(c->fd);
		return -1;
	}
	c->buf = malloc(IL_STREAM_MIN_CAP);
	if (!c->buf) {
		SSL_free(c->ssl);
		close(c->fd);
		return -1;
	}
	il_stream_init(&c->st, c->buf, IL_STREAM_MIN_CAP);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	getsockname(c->fd, (struct sockaddr *)&ss, &sl);
	cf_net_to_il((struct sockaddr *)&ss, local);
	return s->nclients++;
}

static int st_client_send(cf_target *t, int ix, const uint8_t *data, size_t len)
{
	stream_target *s = t->impl;
	if (ix < 0 || ix >= s->nclients)
		return -1;
	st_client *c = &s->clients[ix];
	if (c->ssl) {
		if (len == 0 || SSL_write(c->ssl, data, (int)len) == (int)len)
			return 0;
		/* Closed by the server, like EPIPE below: its silence. */
		c->closed = true;
		ERR_clear_error();
		return 0;
	}
	size_t off = 0;
	while (off < len) {
		ssize_t n = send(c->fd, data + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
			c->closed = true; /* the server closed: its silence */
			return 0;
		}
		if (n < 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* Reads what the connection has within timeout_ms into the reassembler:
 * 1 bytes taken, 0 nothing yet, 2 closed by the server, -1 error. */
static int fill(st_client *c, uint32_t timeout_ms)
{
	if (!(c->ssl && SSL_pending(c->ssl) > 0)) {
		int rc = cf_net_wait_readable(c->fd, timeout_ms);
		if (rc <= 0)
			return rc;
	}
	uint8_t tmp[4096];
	int n;
	if (c->ssl) {
		/* Readable may be a record without application data (a TLS
		 * 1.3 session ticket): read without blocking. */
		int fl = fcntl(c->fd, F_GETFL);
		fcntl(c->fd, F_SETFL, fl | O_NONBLOCK);
		n = SSL_read(c->ssl, tmp, sizeof tmp);
		fcntl(c->fd, F_SETFL, fl);
		if (n <= 0) {
			int e = SSL_get_error(c->ssl, n);
			if (e == SSL_ERROR_WANT_READ)
				return 0;
			return e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL ||
					       e == SSL_ERROR_SSL
				       ? 2
				       : -1;
		}
	} else {
		ssize_t r = recv(c->fd, tmp, sizeof tmp, 0);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			return 0;
		if (r <= 0) /* closed or reset by the server: no more bytes */
			return r == 0 || errno == ECONNRESET ? 2 : -1;
		n = (int)r;
	}
	size_t taken = il_stream_push(&c->st, tmp, (size_t)n);
	return taken == (size_t)n ? 1 : -1; /* a frame larger than the buffer */
}

/* Unframed bytes waiting in the reassembler (raw mode). */
static size_t take_raw(st_client *c, uint8_t *buf, size_t cap)
{
	size_t avail = c->st.end - c->st.start;
	size_t n = avail < cap ? avail : cap;
	memcpy(buf, c->st.buf + c->st.start, n);
	c->st.start += n;
	if (c->st.start == c->st.end)
		c->st.start = c->st.end = 0;
	return n;
}

static int st_client_recv(cf_target *t, int ix, uint8_t *buf, size_t cap, size_t *len,
			  uint32_t timeout_ms)
{
	stream_target *s = t->impl;
	if (ix < 0 || ix >= s->nclients)
		return -1;
	st_client *c = &s->clients[ix];
	uint64_t deadline = now_ms() + timeout_ms;
	for (;;) {
		if (c->raw || c->broken) {
			if (c->st.end > c->st.start) {
				*len = take_raw(c, buf, cap);
				return 1;
			}
		} else {
			il_stream_frame f;
			il_stun_decode_error derr;
			int r = il_stream_next(&c->st, &f, &derr);
			if (r == 1) {
				/* ChannelData keeps its padding (§12.5): the
				 * reassembler skipped it, the bytes are still
				 * in the buffer behind the frame. */
				size_t n = f.kind == IL_FRAME_CHANNELDATA ? (f.len + 3) & ~(size_t)3
									  : f.len;
				if (n > cap)
					n = cap;
				memcpy(buf, f.bytes, n);
				*len = n;
				return 1;
			}
			if (r < 0) {
				/* Not STUN or ChannelData: the test sees the
				 * rest as it is and judges it. */
				c->broken = true;
				c->st.err = IL_STUN_OK;
				continue;
			}
		}
		uint64_t now = now_ms();
		if (now >= deadline || c->closed)
			return 0; /* a closed connection brings nothing more */
		int rc = fill(c, (uint32_t)(deadline - now));
		if (rc < 0)
			return -1;
		if (rc == 2)
			c->closed = true;
	}
}

static int st_client_raw(cf_target *t, int ix)
{
	stream_target *s = t->impl;
	if (ix < 0 || ix >= s->nclients)
		return -1;
	s->clients[ix].raw = true;
	return 0;
}

static void st_client_close(cf_target *t, int ix)
{
	stream_target *s = t->impl;
	if (ix >= 0 && ix < s->nclients)
		shutdown(s->clients[ix].fd, SHUT_RDWR); /* the fd goes at reset */
}

static bool st_client_closed(cf_target *t, int ix)
{
	stream_target *s = t->impl;
	return ix >= 0 && ix < s->nclients && s->clients[ix].closed;
}

/* ---- peers ---- */

static int add_peer(stream_target *s, int fd, enum st_peer_kind kind, const il_addr *remote)
{
	if (s->npeers == ST_PEERS) {
		close(fd);
		return -1;
	}
	st_peer *p = &s->peers[s->npeers];
	p->fd = fd;
	p->kind = kind;
	if (remote)
		p->remote = *remote;
	else
		memset(&p->remote, 0, sizeof p->remote);
	return s->npeers++;
}

static int local_addr(int fd, il_addr *addr)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return -1;
	cf_net_to_il((struct sockaddr *)&ss, addr);
	return 0;
}

static int bound_socket(stream_target *s, int type)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	if (cf_net_local_towards(&s->server, s->server_len, &ss, &sl) < 0)
		return -1;
	int fd = socket(ss.ss_family, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int st_peer_open(cf_target *t, il_addr *addr)
{
	stream_target *s = t->impl;
	int fd = bound_socket(s, SOCK_DGRAM);
	if (fd < 0 || local_addr(fd, addr) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return add_peer(s, fd, ST_PEER_UDP, NULL);
}

static int st_peer_tcp_listen(cf_target *t, il_addr *addr)
{
	stream_target *s = t->impl;
	int fd = bound_socket(s, SOCK_STREAM);
	if (fd < 0)
		return -1;
	if (listen(fd, 8) < 0 || local_addr(fd, addr) < 0) {
		close(fd);
		return -1;
	}
	return add_peer(s, fd, ST_PEER_LISTEN, NULL);
}

static int st_peer_tcp_accept(cf_target *t, int listener, il_addr *remote, uint32_t timeout_ms)
{
	stream_target *s = t->impl;
	if (listener < 0 || listener >= s->npeers || s->peers[listener].kind != ST_PEER_LISTEN ||
	    s->peers[listener].fd < 0)
		return -1;
	if (cf_net_wait_readable(s->peers[listener].fd, timeout_ms) <= 0)
		return -1;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	int fd = accept4(s->peers[listener].fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
	if (fd < 0)
		return -1;
	cf_net_to_il((struct sockaddr *)&ss, remote);
	set_timeouts(fd, ST_CONNECT_MS);
	return add_peer(s, fd, ST_PEER_TCP, remote);
}

static int st_peer_tcp_connect(cf_target *t, const il_addr *to, il_addr *local)
{
	stream_target *s = t->impl;
	struct sockaddr_storage dst, src;
	socklen_t dl = cf_net_from_il(to, &dst), sl;
	if (cf_net_local_towards(&s->server, s->server_len, &src, &sl) < 0)
		return -1;
	int fd = tcp_connect(&dst, dl, &src, sl);
	if (fd < 0 || local_addr(fd, local) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return add_peer(s, fd, ST_PEER_TCP, to);
}

static int st_peer_send(cf_target *t, int ix, const il_addr *to, const uint8_t *data, size_t len)
{
	stream_target *s = t->impl;
	if (ix < 0 || ix >= s->npeers)
		return -1;
	st_peer *p = &s->peers[ix];
	if (p->kind == ST_PEER_TCP)
		return send(p->fd, data, len, MSG_NOSIGNAL) == (ssize_t)len ||
				       errno == EPIPE || errno == ECONNRESET
			       ? 0
			       : -1;
	if (p->kind != ST_PEER_UDP)
		return -1;
	struct sockaddr_storage ss;
	socklen_t sl = cf_net_from_il(to, &ss);
	if (sendto(p->fd, data, len, 0, (struct sockaddr *)&ss, sl) < 0 && errno != ECONNREFUSED)
		return -1;
	return 0;
}

static int st_peer_recv(cf_target *t, int ix, uint8_t *buf, size_t cap, size_t *len,
			il_addr *from, uint32_t timeout_ms)
{
	stream_target *s = t->impl;
	if (ix < 0 || ix >= s->npeers || s->peers[ix].kind == ST_PEER_LISTEN)
		return -1;
	st_peer *p = &s->peers[ix];
	for (;;) {
		int rc = cf_net_wait_readable(p->fd, timeout_ms);
		if (rc <= 0)
			return rc < 0 ? -1 : 0;
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		ssize_t n = recvfrom(p->fd, buf, cap, 0, (struct sockaddr *)&ss, &sl);
		if (n < 0 && (errno == ECONNREFUSED || errno == EINTR))
			continue;
		if (n < 0 && p->kind == ST_PEER_TCP && errno == ECONNRESET)
			n = 0; /* reset: closed, as far as the test is concerned */
		if (n < 0)
			return -1;
		if (p->kind == ST_PEER_TCP)
			*from = p->remote;
		else
			cf_net_to_il((struct sockaddr *)&ss, from);
		*len = (size_t)n;
		return 1;
	}
}

static void st_peer_close(cf_target *t, int ix)
{
	stream_target *s = t->impl;
	if (ix < 0 || ix >= s->npeers || s->peers[ix].fd < 0)
		return;
	if (s->peers[ix].kind == ST_PEER_TCP) {
		shutdown(s->peers[ix].fd, SHUT_RDWR); /* the fd goes at reset */
	} else if (s->peers[ix].kind == ST_PEER_LISTEN) {
		/* A closed listener frees its port: connections get refused. */
		close(s->peers[ix].fd);
		s->peers[ix].fd = -1;
	}
}

static void st_sleep(cf_target *t, uint32_t ms)
{
	(void)t;
	cf_net_sleep_ms(ms);
}

static void st_close_all(stream_target *s)
{
	for (int i = 0; i < s->nclients; i++) {
		st_client *c = &s->clients[i];
		if (c->ssl) {
			SSL_shutdown(c->ssl);
			SSL_free(c->ssl);
		}
		close(c->fd);
		free(c->buf);
	}
	for (int i = 0; i < s->npeers; i++)
		if (s->peers[i].fd >= 0)
			close(s->peers[i].fd);
	s->nclients = s->npeers = 0;
}

static int st_reset(cf_target *t, uint64_t seed)
{
	(void)seed;
	st_close_all(t->impl);
	return 0;
}

static void st_destroy(cf_target *t)
{
	stream_target *s = t->impl;
	st_close_all(s);
	if (s->ssl_ctx)
		SSL_CTX_free(s->ssl_ctx);
	free(s);
	free(t);
}

static SSL_CTX *tls_context(const cf_target_options *opts, char *err, size_t err_len)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		snprintf(err, err_len, "TLS: cannot create a context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (opts->insecure) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		return ctx;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	int ok = opts->ca_file ? SSL_CTX_load_verify_locations(ctx, opts->ca_file, NULL)
			       : SSL_CTX_set_default_verify_paths(ctx);
	if (ok != 1) {
		snprintf(err, err_len, "TLS: cannot load CA %s: %s",
			 opts->ca_file ? opts->ca_file : "(system default)",
			 ERR_reason_error_string(ERR_get_error()) ? ERR_reason_error_string(ERR_get_error())
								  : "unreadable");
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

cf_target *cf_target_stream_open(const cf_target_options *opts, const char *hostport, bool tls,
				 char *err, size_t err_len)
{
	stream_target *s = calloc(1, sizeof *s);
	cf_target *t = calloc(1, sizeof *t);
	if (!s || !t) {
		free(s);
		free(t);
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	s->tls = tls;
	/* SSL_write to a connection the server closed would raise SIGPIPE
	 * and end the run; a closed connection is the target's answer. */
	struct sigaction sa;
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
	if (cf_net_resolve(tls ? "tls" : "tcp", hostport, SOCK_STREAM, &s->server, &s->server_len,
			   s->host, sizeof s->host, err, err_len) < 0 ||
	    (tls && !(s->ssl_ctx = tls_context(opts, err, err_len)))) {
		free(s);
		free(t);
		return NULL;
	}
	/* One connection now: an unreachable target or a certificate that
	 * does not verify is a usage error before any test runs. */
	int fd = tcp_connect(&s->server, s->server_len, NULL, 0);
	if (fd < 0) {
		snprintf(err, err_len, "target '%s': cannot connect", opts->uri);
		goto fail;
	}
	if (tls) {
		SSL *ssl = tls_handshake(s, fd);
		if (!ssl) {
			unsigned long e = ERR_peek_last_error();
			snprintf(err, err_len, "target '%s': TLS handshake failed: %s%s", opts->uri,
				 e ? ERR_reason_error_string(e) : "closed",
				 opts->insecure ? "" : " (--ca FILE to verify, --insecure to skip)");
			close(fd);
			goto fail;
		}
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	close(fd);
	t->kind = tls ? "tls" : "tcp";
	t->stream = tls ? CF_TLS : CF_TCP;
	cf_net_to_il((struct sockaddr *)&s->server, &t->server);
	cf_net_take_identity(t, opts);
	t->client_open = st_client_open;
	t->client_send = st_client_send;
	t->client_recv = st_client_recv;
	t->client_raw = st_client_raw;
	t->peer_open = st_peer_open;
	t->peer_send = st_peer_send;
	t->peer_recv = st_peer_recv;
	t->peer_tcp_listen = st_peer_tcp_listen;
	t->peer_tcp_accept = st_peer_tcp_accept;
	t->peer_tcp_connect = st_peer_tcp_connect;
	t->client_close = st_client_close;
	t->client_closed = st_client_closed;
	t->peer_close = st_peer_close;
	t->sleep_ms = st_sleep;
	t->reset = st_reset;
	t->destroy = st_destroy;
	t->impl = s;
	return t;
fail:
	if (s->ssl_ctx)
		SSL_CTX_free(s->ssl_ctx);
	free(s);
	free(t);
	return NULL;
}
