/* The libevent driver of the ICE agent (icelab/ice_driver.h): UDP sockets
 * for the host candidates, TCP connections to TURN servers, the clock and
 * the timer at the cores' next deadline, getrandom for the cores'
 * randomness, the gatherer (ice_gather.h: server-reflexive and relayed
 * candidates, RFC 8445 §5.1.1) between the sockets and the agent, and the
 * ICE parts of SDP (RFC 8839 §5) in and out of one media section. */
#include "icelab/ice_driver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SOCKETS_MAX (IL_ICE_DRIVER_MAX_LOCAL * IL_ICE_MAX_COMPONENTS)
#define DGRAM_MAX 65536
#define READS_PER_WAKE 64 /* then back to the loop, so one busy socket starves none */
#define STREAMS_MAX (IL_ICE_GATHER_MAX_SERVERS * IL_ICE_MAX_COMPONENTS)

typedef struct driver_socket {
	il_ice_driver *d;
	int fd;
	unsigned component;
	il_addr addr;            /* bound: the host candidate's base */
	struct event *ev;
} driver_socket;

/* A TCP connection to a TURN server, opened for the gatherer. */
typedef struct driver_stream {
	il_ice_driver *d;
	unsigned id;
	struct bufferevent *bev;
} driver_stream;

struct il_ice_driver {
	struct event_base *base;
	il_ice_agent *agent;
	il_ice_gatherer *gatherer;
	int policy;
	bool gathered;
	il_ice_driver_callbacks cb;
	bool lite;
	unsigned components;
	driver_socket sockets[SOCKETS_MAX];
	size_t socket_count;
	driver_stream streams[STREAMS_MAX];
	struct event *timer;
	il_ice_driver_counters counters;
	uint8_t buf[DGRAM_MAX];
};

static void fail(char *err, size_t err_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(char *err, size_t err_len, const char *fmt, ...)
{
	if (!err || !err_len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
}

uint64_t il_ice_driver_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- addresses ---- */

static socklen_t to_sockaddr(const il_addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	if (a->family == IL_AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(a->port);
		memcpy(&s4->sin_addr, a->ip, 4);
		return sizeof *s4;
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(a->port);
	memcpy(&s6->sin6_addr, a->ip, 16);
	return sizeof *s6;
}

static void from_sockaddr(const struct sockaddr_storage *ss, il_addr *out)
{
	memset(out, 0, sizeof *out);
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		out->family = IL_AF_INET;
		out->port = ntohs(s4->sin_port);
		memcpy(out->ip, &s4->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		out->family = IL_AF_INET6;
		out->port = ntohs(s6->sin6_port);
		memcpy(out->ip, &s6->sin6_addr, 16);
	}
}

static bool is_wildcard(const il_addr *a)
{
	static const uint8_t zero[16];
	return memcmp(a->ip, zero, a->family == IL_AF_INET ? 4 : 16) == 0;
}

/* ---- the core's callbacks ---- */

static void on_random(void *user, uint8_t *out, size_t len)
{
	(void)user;
	size_t at = 0;
	while (at < len) {
		ssize_t n = getrandom(out + at, len - at, 0);
		if (n > 0)
			at += (size_t)n;
		else if (errno != EINTR)
			abort(); /* no entropy source at all: nothing safe to do */
	}
}

static driver_socket *socket_for_base(il_ice_driver *d, const il_addr *base)
{
	for (size_t i = 0; i < d->socket_count; i++)
		if (il_addr_equal(&d->sockets[i].addr, base))
			return &d->sockets[i];
	return NULL;
}

/* A datagram from the host socket bound to base (the gatherer's send:
 * checks and media from host candidates, STUN and TURN over UDP). */
static void send_from_base(void *user, const il_addr *base, const il_addr *to,
			   const uint8_t *data, size_t len)
{
	il_ice_driver *d = user;
	driver_socket *s = socket_for_base(d, base);
	if (!s) {
		d->counters.send_errors++;
		return;
	}
	struct sockaddr_storage ss;
	socklen_t sl = to_sockaddr(to, &ss);
	if (sendto(s->fd, data, len, 0, (struct sockaddr *)&ss, sl) < 0)
		d->counters.send_errors++;
	else
		d->counters.datagrams_sent++;
}

/* The agent's send: the gatherer routes it (relayed locals through their
 * TURN client; the policy refuses what it must). */
static void on_send(void *user, unsigned stream, unsigned component, const il_ice_candidate *local,
		    const il_addr *remote, const uint8_t *data, size_t len)
{
	(void)stream;
	(void)component;
	il_ice_driver *d = user;
	if (!d->gatherer ||
	    il_ice_gatherer_send(d->gatherer, local, remote, data, len, il_ice_driver_now_ms()) !=
		    IL_ICE_OK)
		d->counters.send_errors++;
}

static void on_event(void *user, const il_ice_event *ev)
{
	il_ice_driver *d = user;
	if (d->cb.event)
		d->cb.event(d->cb.user, ev);
}

static void on_data(void *user, unsigned stream, unsigned component, const uint8_t *data,
		    size_t len)
{
	(void)stream;
	il_ice_driver *d = user;
	if (d->cb.data)
		d->cb.data(d->cb.user, component, data, len);
}

/* ---- timer and sockets ---- */

void il_ice_driver_rearm(il_ice_driver *d)
{
	uint64_t deadline = il_ice_agent_next_deadline(d->agent);
	if (d->gatherer) {
		uint64_t g = il_ice_gatherer_next_deadline(d->gatherer);
		deadline = g < deadline ? g : deadline;
	}
	if (deadline == UINT64_MAX) {
		evtimer_del(d->timer);
		return;
	}
	uint64_t now = il_ice_driver_now_ms();
	uint64_t wait = deadline > now ? deadline - now : 0;
	struct timeval tv = {.tv_sec = (time_t)(wait / 1000), .tv_usec = (suseconds_t)(wait % 1000) * 1000};
	evtimer_add(d->timer, &tv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	il_ice_driver *d = arg;
	uint64_t now = il_ice_driver_now_ms();
	if (d->gatherer)
		il_ice_gatherer_timer(d->gatherer, now);
	il_ice_agent_timer(d->agent, now);
	il_ice_driver_rearm(d);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	driver_socket *s = arg;
	il_ice_driver *d = s->d;
	for (int i = 0; i < READS_PER_WAKE; i++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof from;
		ssize_t n = recvfrom(fd, d->buf, sizeof d->buf, 0, (struct sockaddr *)&from, &fl);
		if (n < 0)
			break; /* EAGAIN, or an ICMP error reported on the socket */
		il_addr remote;
		from_sockaddr(&from, &remote);
		d->counters.datagrams_received++;
		int r = il_ice_gatherer_handle_datagram(d->gatherer, &s->addr, &remote, d->buf,
							(size_t)n, il_ice_driver_now_ms());
		if (r == IL_ICE_DGRAM_DROPPED)
			d->counters.dropped++;
	}
	il_ice_driver_rearm(d);
}

static int open_socket(il_ice_driver *d, const il_addr *local, unsigned component, char *err,
		       size_t err_len)
{
	char text[IL_ADDR_STRLEN];
	il_addr_format(local, text, sizeof text);
	if (local->family != IL_AF_INET && local->family != IL_AF_INET6) {
		fail(err, err_len, "local address %zu: no address family", d->socket_count);
		return -1;
	}
	if (is_wildcard(local)) {
		fail(err, err_len, "%s: a wildcard is no host candidate; give an interface address",
		     text);
		return -1;
	}
	int fd = socket(local->family == IL_AF_INET ? AF_INET : AF_INET6,
			SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fail(err, err_len, "socket: %s", strerror(errno));
		return -1;
	}
	if (local->family == IL_AF_INET6) {
		int one = 1;
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	}
	il_addr want = *local;
	if (component > 1)
		want.port = 0; /* the given port is component 1's */
	struct sockaddr_storage ss;
	socklen_t sl = to_sockaddr(&want, &ss);
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		fail(err, err_len, "bind %s: %s", text, strerror(errno));
		close(fd);
		return -1;
	}
	sl = sizeof ss;
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	driver_socket *s = &d->sockets[d->socket_count];
	s->d = d;
	s->fd = fd;
	s->component = component;
	from_sockaddr(&ss, &s->addr);
	s->ev = event_new(d->base, fd, EV_READ | EV_PERSIST, on_readable, s);
	if (!s->ev || event_add(s->ev, NULL) != 0) {
		fail(err, err_len, "event_new: out of memory");
		if (s->ev)
			event_free(s->ev);
		close(fd);
		return -1;
	}
	d->socket_count++;
	return 0;
}

/* ---- TCP to TURN servers (RFC 8656 §3.1 over TCP, RFC 6062 framing in the client) ---- */

static void stream_read(struct bufferevent *bev, void *arg)
{
	driver_stream *st = arg;
	il_ice_driver *d = st->d;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len;
	while ((len = evbuffer_get_length(in)) > 0) {
		size_t n = len < sizeof d->buf ? len : sizeof d->buf;
		evbuffer_remove(in, d->buf, n);
		il_ice_gatherer_stream_data(d->gatherer, st->id, d->buf, n, il_ice_driver_now_ms());
		if (!st->bev)
			return; /* closed on the way */
	}
	il_ice_driver_rearm(d);
}

static void stream_close(driver_stream *st)
{
	if (st->bev)
		bufferevent_free(st->bev);
	st->bev = NULL;
}

static void stream_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	driver_stream *st = arg;
	il_ice_driver *d = st->d;
	uint64_t now = il_ice_driver_now_ms();
	if (what & BEV_EVENT_CONNECTED) {
		il_ice_gatherer_stream_connected(d->gatherer, st->id, now);
	} else if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		stream_close(st);
		il_ice_gatherer_stream_closed(d->gatherer, st->id, now);
	}
	il_ice_driver_rearm(d);
}

static int stream_open(void *user, unsigned id, const il_addr *base, const il_addr *server,
		       int transport)
{
	il_ice_driver *d = user;
	if (transport != IL_ICE_SERVER_TCP || id >= STREAMS_MAX || d->streams[id].bev)
		return -1; /* TLS: not in this driver yet */
	int fd = socket(server->family == IL_AF_INET ? AF_INET : AF_INET6,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	il_addr from = *base;
	from.port = 0; /* the host candidate's IP, any port */
	struct sockaddr_storage ss;
	socklen_t sl = to_sockaddr(&from, &ss);
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		close(fd);
		return -1;
	}
	driver_stream *st = &d->streams[id];
	st->d = d;
	st->id = id;
	st->bev = bufferevent_socket_new(d->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!st->bev) {
		close(fd);
		return -1;
	}
	bufferevent_setcb(st->bev, stream_read, NULL, stream_event, st);
	bufferevent_enable(st->bev, EV_READ | EV_WRITE);
	sl = to_sockaddr(server, &ss);
	if (bufferevent_socket_connect(st->bev, (struct sockaddr *)&ss, (int)sl) < 0) {
		stream_close(st);
		return -1;
	}
	return 0;
}

static int stream_send(void *user, unsigned id, const uint8_t *data, size_t len)
{
	il_ice_driver *d = user;
	if (id >= STREAMS_MAX || !d->streams[id].bev)
		return -1;
	return bufferevent_write(d->streams[id].bev, data, len) == 0 ? 0 : -1;
}

/* ---- the gatherer's callbacks ---- */

static void on_candidate(void *user, unsigned stream, const il_ice_candidate *c)
{
	(void)stream;
	il_ice_driver *d = user;
	if (c || d->gathered)
		return; /* the SDP is written from the agent's list once gathering ends */
	d->gathered = true;
	if (d->cb.gathered)
		d->cb.gathered(d->cb.user);
}

static int start_gathering(il_ice_driver *d, const il_ice_driver_config *cfg, char *err,
			   size_t err_len)
{
	il_ice_gather_config gcfg;
	il_ice_gather_config_defaults(&gcfg);
	gcfg.policy = cfg->policy;
	gcfg.software = cfg->ice.software;
	il_ice_gather_callbacks gcb = {.user = d,
				       .random = on_random,
				       .send = send_from_base,
				       .stream_open = stream_open,
				       .stream_send = stream_send,
				       .candidate = on_candidate};
	d->gatherer = il_ice_gatherer_new(&gcfg, &gcb, d->agent, 0);
	if (!d->gatherer) {
		fail(err, err_len, "bad gathering policy %d or out of memory", cfg->policy);
		return -1;
	}
	for (size_t i = 0; i < d->socket_count; i++)
		if (il_ice_gatherer_add_host(d->gatherer, d->sockets[i].component,
					     &d->sockets[i].addr, false) != 0) {
			fail(err, err_len, "more than %d host sockets", IL_ICE_GATHER_MAX_HOSTS);
			return -1;
		}
	for (size_t i = 0; i < cfg->stun_count; i++)
		if (il_ice_gatherer_add_stun_server(d->gatherer, &cfg->stun[i]) != 0) {
			fail(err, err_len, "STUN server %zu refused (address family?)", i + 1);
			return -1;
		}
	for (size_t i = 0; i < cfg->turn_count; i++) {
		const il_ice_driver_turn *t = &cfg->turn[i];
		if (t->transport != IL_ICE_SERVER_UDP && t->transport != IL_ICE_SERVER_TCP) {
			fail(err, err_len, "TURN server %zu: UDP or TCP only", i + 1);
			return -1;
		}
		if (il_ice_gatherer_add_turn_server(d->gatherer, &t->server, t->transport,
						    t->username, t->password) != 0) {
			fail(err, err_len, "TURN server %zu refused (address family, credentials?)",
			     i + 1);
			return -1;
		}
	}
	if (cfg->policy == IL_ICE_GATHER_RELAY_ONLY && cfg->turn_count == 0) {
		fail(err, err_len, "the relay-only policy needs a TURN server");
		return -1;
	}
	if (il_ice_gatherer_start(d->gatherer, il_ice_driver_now_ms()) != 0) {
		fail(err, err_len, "nothing to gather from");
		return -1;
	}
	return 0;
}

/* ---- lifecycle ---- */

void il_ice_driver_config_defaults(il_ice_driver_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	il_ice_config_defaults(&cfg->ice);
	cfg->components = 1;
}

il_ice_driver *il_ice_driver_new(struct event_base *base, const il_ice_driver_config *cfg,
				 const il_ice_driver_callbacks *cb, char *err, size_t err_len)
{
	unsigned components = cfg->components ? cfg->components : 1;
	if (components > IL_ICE_MAX_COMPONENTS) {
		fail(err, err_len, "%u components: at most %d", components, IL_ICE_MAX_COMPONENTS);
		return NULL;
	}
	if (cfg->local_count == 0 || cfg->local_count > IL_ICE_DRIVER_MAX_LOCAL) {
		fail(err, err_len, "%zu local addresses: 1 to %d needed", cfg->local_count,
		     IL_ICE_DRIVER_MAX_LOCAL);
		return NULL;
	}
	il_ice_driver *d = calloc(1, sizeof *d);
	if (!d) {
		fail(err, err_len, "out of memory");
		return NULL;
	}
	d->base = base;
	d->lite = cfg->ice.lite;
	d->components = components;
	if (cb)
		d->cb = *cb;
	il_ice_callbacks icb = {
		.user = d, .random = on_random, .send = on_send, .event = on_event, .data = on_data};
	d->agent = il_ice_agent_new(&cfg->ice, &icb);
	d->timer = evtimer_new(base, on_timer, d);
	if (!d->agent || !d->timer) {
		fail(err, err_len, "bad ICE configuration or out of memory");
		il_ice_driver_free(d);
		return NULL;
	}
	if (il_ice_agent_add_stream(d->agent, components, cfg->ufrag, cfg->pwd) != 0) {
		fail(err, err_len, "bad ufrag or pwd (4..256 and 22..256 ice-chars)");
		il_ice_driver_free(d);
		return NULL;
	}
	d->policy = cfg->policy;
	for (size_t i = 0; i < cfg->local_count; i++)
		for (unsigned c = 1; c <= components; c++)
			if (open_socket(d, &cfg->local[i], c, err, err_len) != 0) {
				il_ice_driver_free(d);
				return NULL;
			}
	if (start_gathering(d, cfg, err, err_len) != 0) {
		il_ice_driver_free(d);
		return NULL;
	}
	il_ice_driver_rearm(d);
	return d;
}

void il_ice_driver_free(il_ice_driver *d)
{
	if (!d)
		return;
	if (d->gatherer) {
		/* Refresh with lifetime 0 (RFC 8656 §7.2), sent now, not retried. */
		il_ice_gatherer_release(d->gatherer, il_ice_driver_now_ms());
		for (size_t i = 0; i < STREAMS_MAX; i++)
			if (d->streams[i].bev) /* what is queued, now: the loop will not run again */
				evbuffer_write(bufferevent_get_output(d->streams[i].bev),
					       bufferevent_getfd(d->streams[i].bev));
		il_ice_gatherer_free(d->gatherer);
	}
	for (size_t i = 0; i < STREAMS_MAX; i++)
		stream_close(&d->streams[i]);
	for (size_t i = 0; i < d->socket_count; i++) {
		event_free(d->sockets[i].ev);
		close(d->sockets[i].fd);
	}
	if (d->timer)
		event_free(d->timer);
	il_ice_agent_free(d->agent);
	free(d);
}

il_ice_agent *il_ice_driver_agent(il_ice_driver *d)
{
	return d->agent;
}

void il_ice_driver_get_counters(const il_ice_driver *d, il_ice_driver_counters *out)
{
	*out = d->counters;
}

bool il_ice_driver_gathering_done(const il_ice_driver *d)
{
	return d->gathered;
}

void il_ice_driver_get_gather_stats(const il_ice_driver *d, il_ice_gather_stats *out)
{
	if (d->gatherer)
		il_ice_gatherer_get_stats(d->gatherer, out);
	else
		memset(out, 0, sizeof *out);
}

int il_ice_driver_start(il_ice_driver *d)
{
	int rc = il_ice_agent_start(d->agent, il_ice_driver_now_ms());
	il_ice_driver_rearm(d);
	return rc;
}

int il_ice_driver_send(il_ice_driver *d, unsigned component, const uint8_t *data, size_t len)
{
	int rc = il_ice_agent_send(d->agent, 0, component, data, len, il_ice_driver_now_ms());
	il_ice_driver_rearm(d);
	return rc;
}

void il_ice_driver_close(il_ice_driver *d)
{
	il_ice_agent_close(d->agent, il_ice_driver_now_ms());
	il_ice_driver_rearm(d);
}

/* ---- SDP ---- */

int il_ice_driver_local_sdp(il_ice_driver *d, char *out, size_t cap)
{
	il_sdp_session *s = calloc(1, sizeof *s);
	if (!s)
		return IL_SDP_ERR_SPACE;
	/* The default candidate (c=, m= port; RFC 8839 §4.2): the first one
	 * we offer. */
	const il_ice_candidate *first = NULL;
	for (size_t i = 0; !first && i < il_ice_agent_local_candidate_count(d->agent, 0); i++) {
		const il_ice_candidate *c = il_ice_agent_local_candidate(d->agent, 0, i);
		if (c->type != IL_ICE_CAND_PRFLX &&
		    (c->type != IL_ICE_CAND_HOST || d->policy == IL_ICE_GATHER_ALL))
			first = c;
	}
	bool v6 = first && first->addr.family == IL_AF_INET6;
	char ip[IL_ADDR_STRLEN] = "0.0.0.0";
	if (first)
		il_addr_format_ip(&first->addr, ip, sizeof ip);
	uint8_t id[4];
	on_random(NULL, id, sizeof id);
	il_sdp_origin *o = &s->origin;
	snprintf(o->username, sizeof o->username, "icelab");
	uint32_t sess = ((uint32_t)id[0] << 24 | (uint32_t)id[1] << 16 | (uint32_t)id[2] << 8 |
			 id[3]) >> 1;
	snprintf(o->sess_id, sizeof o->sess_id, "%u", (unsigned)sess);
	snprintf(o->sess_version, sizeof o->sess_version, "1");
	snprintf(o->nettype, sizeof o->nettype, "IN");
	snprintf(o->addrtype, sizeof o->addrtype, v6 ? "IP6" : "IP4");
	snprintf(o->address, sizeof o->address, "%s", ip);
	static const char sline[] = "s=-", tline[] = "t=0 0";
	s->lines[0] = (il_sdp_line){sline, sizeof sline - 1};
	s->lines[1] = (il_sdp_line){tline, sizeof tline - 1};
	s->line_count = 2;
	s->ice_lite = d->lite;
	s->media_count = 1;
	il_sdp_media *m = &s->media[0];
	snprintf(m->media, sizeof m->media, "audio");
	m->port = first ? first->addr.port : 9;
	snprintf(m->proto, sizeof m->proto, "RTP/AVP");
	snprintf(m->formats, sizeof m->formats, "0");
	m->conn.present = true;
	snprintf(m->conn.nettype, sizeof m->conn.nettype, "IN");
	snprintf(m->conn.addrtype, sizeof m->conn.addrtype, v6 ? "IP6" : "IP4");
	snprintf(m->conn.address, sizeof m->conn.address, "%s", ip);
	m->rtcp_mux = d->components == 1;
	snprintf(m->ice.ufrag, sizeof m->ice.ufrag, "%s", il_ice_agent_local_ufrag(d->agent, 0));
	snprintf(m->ice.pwd, sizeof m->ice.pwd, "%s", il_ice_agent_local_pwd(d->agent, 0));
	m->ice.end_of_candidates = d->gathered;
	size_t n = il_ice_agent_local_candidate_count(d->agent, 0);
	for (size_t i = 0; i < n && m->candidate_count < IL_SDP_MAX_CANDIDATES; i++) {
		const il_ice_candidate *c = il_ice_agent_local_candidate(d->agent, 0, i);
		if (c->type == IL_ICE_CAND_PRFLX)
			continue; /* learnt during checks: never signalled (§5.1.1) */
		if (c->type == IL_ICE_CAND_HOST && d->policy != IL_ICE_GATHER_ALL)
			continue; /* no-host (privacy): a base, never offered */
		il_sdp_candidate_from_ice(&m->candidates[m->candidate_count++], c);
	}
	int len = il_sdp_write(s, out, cap);
	free(s);
	return len;
}

int il_ice_driver_set_remote_sdp(il_ice_driver *d, const il_sdp_session *sdp, size_t media,
				 size_t *skipped, char *err, size_t err_len)
{
	if (skipped)
		*skipped = 0;
	if (media >= sdp->media_count) {
		fail(err, err_len, "the description has no media section %zu", media + 1);
		return -1;
	}
	const il_sdp_media *m = &sdp->media[media];
	const char *ufrag = il_sdp_media_ufrag(sdp, m), *pwd = il_sdp_media_pwd(sdp, m);
	if (!ufrag || !pwd) {
		fail(err, err_len, "media section %zu: no a=ice-ufrag or a=ice-pwd", media + 1);
		return -1;
	}
	uint64_t now = il_ice_driver_now_ms();
	if (il_ice_agent_set_remote_credentials(d->agent, 0, ufrag, pwd, now) != 0) {
		fail(err, err_len, "media section %zu: the agent refused the credentials", media + 1);
		return -1;
	}
	il_ice_agent_set_remote_lite(d->agent, sdp->ice_lite);
	size_t added = 0;
	for (size_t i = 0; i < m->candidate_count; i++) {
		const il_ice_candidate *c = &m->candidates[i].cand;
		bool usable = c->transport == IL_ICE_TRANSPORT_UDP && c->addr.family != IL_AF_NONE &&
			      c->component >= 1 && c->component <= d->components;
		/* Through the gatherer: a TURN permission for its IP too. */
		int rc = usable ? il_ice_gatherer_add_remote_candidate(d->gatherer, c, now) : -1;
		if (rc >= 0)
			added++;
		else if (rc != IL_ICE_ERR_DUPLICATE && skipped)
			(*skipped)++;
	}
	if (added == 0) {
		fail(err, err_len, "media section %zu: no usable UDP candidate", media + 1);
		return -1;
	}
	il_ice_agent_remote_end_of_candidates(d->agent, 0, now);
	il_ice_driver_rearm(d);
	return 0;
}
