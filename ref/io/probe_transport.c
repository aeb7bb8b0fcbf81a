/* Client sockets of `icelab probe`: a connected UDP socket read with an
 * event, or a TCP connection in a bufferevent, with OpenSSL on top for TLS
 * (RFC 8489 §6.2.3: the client checks the server's certificate and its
 * identity; TLS 1.2 at least, as RFC 8656 §3.1 asks of TURN). */
#include "probe_internal.h"

#include "io_internal.h"

#include <errno.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>

#define UDP_RX_MAX 65536

struct probe_conn {
	struct event_base *base;
	int transport;
	probe_conn_callbacks cb;
	il_probe_conn_info info;
	int fd;                   /* UDP */
	struct event *rx_ev;      /* UDP: readable */
	struct event *up_ev;      /* UDP: "connected", from the loop */
	struct bufferevent *bev;  /* TCP, TLS */
	SSL_CTX *ssl_ctx;
	bool closed;
	bool connected;           /* TCP/TLS: connected (and TLS handshake done) */
	char icmp[128];
	uint8_t rx[UDP_RX_MAX];
};

uint64_t probe_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t probe_now_ms(void)
{
	return probe_now_us() / 1000u;
}

void probe_random(void *user, uint8_t *out, size_t len)
{
	(void)user;
	if (RAND_bytes(out, (int)len) != 1)
		abort(); /* no randomness: transaction ids would repeat */
}

static int resolve(const il_probe_target *t, il_addr *out, char *err, size_t err_len)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = t->transport == IL_PROBE_UDP ? SOCK_DGRAM
									     : SOCK_STREAM};
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(t->host, NULL, &hints, &res);
	if (rc != 0 || !res) {
		snprintf(err, err_len, "cannot resolve '%s': %s", t->host, gai_strerror(rc));
		return -1;
	}
	io_addr_from_sockaddr(res->ai_addr, out);
	out->port = t->port;
	freeaddrinfo(res);
	return out->family == IL_AF_NONE ? -1 : 0;
}

static void fill_local(probe_conn *c, int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		io_addr_from_sockaddr((struct sockaddr *)&ss, &c->info.local);
}

/* ---- UDP ---- */

static void udp_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	probe_conn *c = arg;
	for (int i = 0; i < 64 && !c->closed; i++) {
		ssize_t n = recv(fd, c->rx, sizeof c->rx, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			/* A connected UDP socket reports ICMP errors (port
			 * unreachable) here; the transaction layer keeps going
			 * (RFC 8489 does not stop on them), so only note it. */
			snprintf(c->icmp, sizeof c->icmp, "%s", strerror(errno));
			continue;
		}
		c->cb.data(c->cb.user, c->rx, (size_t)n);
	}
}

static void udp_up(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	probe_conn *c = arg;
	c->cb.connected(c->cb.user);
}

static int udp_open(probe_conn *c, char *err, size_t err_len)
{
	struct sockaddr_storage ss;
	socklen_t sl = io_sockaddr_from(&c->info.server, &ss);
	c->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&ss, sl) < 0) {
		snprintf(err, err_len, "udp socket: %s", strerror(errno));
		return -1;
	}
	fill_local(c, c->fd);
	c->rx_ev = event_new(c->base, c->fd, EV_READ | EV_PERSIST, udp_readable, c);
	c->up_ev = evtimer_new(c->base, udp_up, c);
	if (!c->rx_ev || !c->up_ev) {
		snprintf(err, err_len, "udp: no memory for events");
		return -1;
	}
	struct timeval now = {0, 0};
	event_add(c->rx_ev, NULL);
	evtimer_add(c->up_ev, &now);
	return 0;
}

/* ---- TCP and TLS ---- */

static void stream_readable(struct bufferevent *bev, void *arg)
{
	probe_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	while (!c->closed && evbuffer_get_length(in) > 0) {
		int n = evbuffer_remove(in, c->rx, sizeof c->rx);
		if (n <= 0)
			break;
		c->cb.data(c->cb.user, c->rx, (size_t)n);
	}
}

static void tls_failure(probe_conn *c, char *out, size_t out_len)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	long verify = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
	unsigned long e = bufferevent_get_openssl_error(c->bev);
	if (verify != X509_V_OK)
		snprintf(out, out_len, "tls: certificate not trusted: %s (--ca FILE, or --insecure for a lab)",
			 X509_verify_cert_error_string(verify));
	else if (e)
		snprintf(out, out_len, "tls: %s", ERR_reason_error_string(e));
	else
		snprintf(out, out_len, "tls: handshake failed");
}

static void stream_event(struct bufferevent *bev, short what, void *arg)
{
	probe_conn *c = arg;
	if (what & BEV_EVENT_CONNECTED) {
		int fd = bufferevent_getfd(bev);
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		fill_local(c, fd);
		c->connected = true;
		if (c->transport == IL_PROBE_TLS) {
			SSL *ssl = bufferevent_openssl_get_ssl(bev);
			snprintf(c->info.tls_version, sizeof c->info.tls_version, "%s",
				 SSL_get_version(ssl));
			snprintf(c->info.tls_cipher, sizeof c->info.tls_cipher, "%s",
				 SSL_get_cipher_name(ssl));
		}
		c->cb.connected(c->cb.user);
		return;
	}
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) || c->closed)
		return;
	c->closed = true;
	char why[256];
	int sock_err = EVUTIL_SOCKET_ERROR();
	if (c->transport == IL_PROBE_TLS && (what & BEV_EVENT_ERROR) &&
	    (bufferevent_get_openssl_error(bev) || !c->info.tls_version[0]))
		tls_failure(c, why, sizeof why);
	else if (what & BEV_EVENT_EOF)
		snprintf(why, sizeof why, "the server closed the connection");
	else
		snprintf(why, sizeof why, "%s%s", c->connected ? "" : "connect: ",
			 evutil_socket_error_to_string(sock_err));
	c->cb.closed(c->cb.user, why);
}

static int tls_setup(probe_conn *c, const il_probe_target *t, const il_probe_tls *tls,
		     SSL **out, char *err, size_t err_len)
{
	c->ssl_ctx = SSL_CTX_new(TLS_client_method());
	if (!c->ssl_ctx) {
		snprintf(err, err_len, "tls: cannot create a context");
		return -1;
	}
	SSL_CTX_set_min_proto_version(c->ssl_ctx, TLS1_2_VERSION);
	if (!tls->insecure) {
		int ok = tls->ca_file ? SSL_CTX_load_verify_locations(c->ssl_ctx, tls->ca_file, NULL)
				      : SSL_CTX_set_default_verify_paths(c->ssl_ctx);
		if (ok != 1) {
			snprintf(err, err_len, "tls: cannot load CAs%s%s: %s",
				 tls->ca_file ? " from " : "", tls->ca_file ? tls->ca_file : "",
				 ERR_reason_error_string(ERR_get_error()));
			return -1;
		}
		SSL_CTX_set_verify(c->ssl_ctx, SSL_VERIFY_PEER, NULL);
	}
	SSL *ssl = SSL_new(c->ssl_ctx);
	if (!ssl) {
		snprintf(err, err_len, "tls: no memory");
		return -1;
	}
	struct in6_addr scratch;
	bool literal = inet_pton(AF_INET, t->host, &scratch) == 1 ||
		       inet_pton(AF_INET6, t->host, &scratch) == 1;
	/* SNI carries host names only (RFC 6066 §3: "Literal IPv4 and IPv6
	 * addresses are not permitted"). */
	if (!literal)
		SSL_set_tlsext_host_name(ssl, t->host);
	if (!tls->insecure) {
		X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
		int ok = literal ? X509_VERIFY_PARAM_set1_ip_asc(param, t->host)
				 : SSL_set1_host(ssl, t->host);
		if (ok != 1) {
			SSL_free(ssl);
			snprintf(err, err_len, "tls: cannot check the name '%s'", t->host);
			return -1;
		}
	}
	*out = ssl;
	return 0;
}

static int stream_open(probe_conn *c, const il_probe_target *t, const il_probe_tls *tls,
		       char *err, size_t err_len)
{
	if (c->transport == IL_PROBE_TLS) {
		SSL *ssl;
		if (tls_setup(c, t, tls, &ssl, err, err_len) < 0)
			return -1;
		c->bev = bufferevent_openssl_socket_new(c->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
							BEV_OPT_CLOSE_ON_FREE);
		if (!c->bev) {
			SSL_free(ssl);
		} else {
			bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
		}
	} else {
		c->bev = bufferevent_socket_new(c->base, -1, BEV_OPT_CLOSE_ON_FREE);
	}
	if (!c->bev) {
		snprintf(err, err_len, "%s: cannot create a connection", il_probe_transport_name(c->transport));
		return -1;
	}
	bufferevent_setcb(c->bev, stream_readable, NULL, stream_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	struct sockaddr_storage ss;
	socklen_t sl = io_sockaddr_from(&c->info.server, &ss);
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&ss, (int)sl) < 0) {
		snprintf(err, err_len, "connect: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- the connection ---- */

probe_conn *probe_conn_open(struct event_base *base, const il_probe_target *t,
			    const il_probe_tls *tls, const probe_conn_callbacks *cb, char *err,
			    size_t err_len)
{
	probe_conn *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, err_len, "no memory");
		return NULL;
	}
	c->base = base;
	c->transport = t->transport;
	c->cb = *cb;
	c->fd = -1;
	if (resolve(t, &c->info.server, err, err_len) < 0 ||
	    (t->transport == IL_PROBE_UDP ? udp_open(c, err, err_len)
					  : stream_open(c, t, tls, err, err_len)) < 0) {
		probe_conn_free(c);
		return NULL;
	}
	return c;
}

void probe_conn_send(probe_conn *c, const uint8_t *data, size_t len)
{
	if (c->closed)
		return;
	if (c->transport == IL_PROBE_UDP) {
		/* Datagrams may be lost; a full socket buffer is a loss too. */
		if (send(c->fd, data, len, 0) < 0 && errno != EAGAIN)
			snprintf(c->icmp, sizeof c->icmp, "%s", strerror(errno));
		return;
	}
	bufferevent_write(c->bev, data, len);
}

const il_probe_conn_info *probe_conn_info(const probe_conn *c)
{
	return &c->info;
}

const char *probe_conn_icmp_error(const probe_conn *c)
{
	return c->icmp;
}

void probe_conn_free(probe_conn *c)
{
	if (!c)
		return;
	if (c->rx_ev)
		event_free(c->rx_ev);
	if (c->up_ev)
		event_free(c->up_ev);
	if (c->fd >= 0)
		close(c->fd);
	if (c->bev)
		bufferevent_free(c->bev);
	if (c->ssl_ctx)
		SSL_CTX_free(c->ssl_ctx);
	free(c);
}
