/* icelab pcap replay (issue #7 §5): the client side of a capture's
 * STUN/TURN exchanges resent to a live target, each response compared with
 * the captured one by shape. RFC 8489 §6.2.1 (UDP retransmission), §9.2
 * (long-term credentials: the 401 challenge, 438 Stale Nonce), RFC 8656
 * §5 (the 5-tuple: one local socket per captured client). */
#include "replay.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "icelab/stun_integrity.h"
#include "pcaps.h"

typedef struct rp_exchange {
	uint64_t req_frame, resp_frame;
	il_addr client, server;
	uint8_t *req, *resp;       /* resp NULL: no response captured */
	size_t req_len, resp_len;
} rp_exchange;

struct il_replay {
	rp_exchange *ex;
	size_t n, cap;
	size_t over_cap;           /* requests beyond IL_REPLAY_MAX_EXCHANGES */
};

static uint8_t *dup_bytes(const uint8_t *p, size_t len)
{
	uint8_t *d = malloc(len ? len : 1);
	if (d)
		memcpy(d, p, len);
	return d;
}

/* The 12-bit method of a message's type (RFC 8489 §5). */
static uint16_t method_of(const uint8_t *msg)
{
	uint16_t t = (uint16_t)(msg[0] << 8 | msg[1]);
	return (uint16_t)((t & 0x000F) | ((t & 0x00E0) >> 1) | ((t & 0x3E00) >> 2));
}

/* The reader's hook: requests in order (retransmissions once), and the
 * first response to each from the address the request went to. */
static void collect(void *ctx, uint64_t frame, uint8_t transport, const il_addr *src,
		    const il_addr *dst, const uint8_t *buf, size_t len)
{
	(void)transport;
	il_replay *r = ctx;
	il_stun_msg m;
	if (il_stun_decode(buf, len, &m, NULL) != IL_STUN_OK || m.classic)
		return;
	if (m.cls == IL_STUN_REQUEST) {
		for (size_t i = r->n; i-- > 0;)
			if (memcmp(r->ex[i].req + 8, m.tid, IL_STUN_TID_LEN) == 0 &&
			    il_addr_equal(&r->ex[i].client, src))
				return; /* a retransmission */
		if (r->n == IL_REPLAY_MAX_EXCHANGES) {
			r->over_cap++;
			return;
		}
		if (r->n == r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 64;
			rp_exchange *ex = realloc(r->ex, cap * sizeof *ex);
			if (!ex)
				return;
			r->ex = ex;
			r->cap = cap;
		}
		rp_exchange *e = &r->ex[r->n];
		memset(e, 0, sizeof *e);
		e->req = dup_bytes(buf, len);
		if (!e->req)
			return;
		e->req_len = len;
		e->req_frame = frame;
		e->client = *src;
		e->server = *dst;
		r->n++;
		return;
	}
	if (m.cls != IL_STUN_SUCCESS && m.cls != IL_STUN_ERROR)
		return;
	for (size_t i = r->n; i-- > 0;) {
		rp_exchange *e = &r->ex[i];
		if (e->resp || memcmp(e->req + 8, m.tid, IL_STUN_TID_LEN) != 0 ||
		    !il_addr_equal(&e->client, dst) || !il_addr_equal(&e->server, src))
			continue;
		e->resp = dup_bytes(buf, len);
		e->resp_len = e->resp ? len : 0;
		e->resp_frame = frame;
		return;
	}
}

il_replay *il_replay_load(const char *path, char *err, size_t errlen)
{
	il_replay *r = calloc(1, sizeof *r);
	il_pcap_analysis *a = il_pcap_analysis_new();
	if (!r || !a) {
		snprintf(err, errlen, "out of memory");
		free(r);
		il_pcap_analysis_free(a);
		return NULL;
	}
	il_pcap_set_stun_hook(a, collect, r);
	char perr[PCAP_ERRBUF_SIZE + 64] = "";
	int rc = il_pcap_read_file(a, path, perr, sizeof perr);
	bool nothing = il_pcap_frame_count(a) == 0;
	il_pcap_analysis_free(a);
	if (rc < 0 && nothing) {
		snprintf(err, errlen, "not a readable capture: %s", perr);
		il_replay_free(r);
		return NULL;
	}
	if (rc < 0)
		fprintf(stderr, "icelab pcap: %s: damaged part-way (%s); replaying what was read\n",
			path, perr);
	return r;
}

void il_replay_free(il_replay *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->ex[i].req);
		free(r->ex[i].resp);
	}
	free(r->ex);
	free(r);
}

size_t il_replay_request_count(const il_replay *r)
{
	return r->n;
}

/* The server replayed: given, else where the first TURN request went,
 * else where the first request went. */
static const il_addr *pick_server(const il_replay *r, const il_replay_options *o)
{
	if (o->have_server)
		return &o->server;
	for (size_t i = 0; i < r->n; i++)
		if (method_of(r->ex[i].req) != IL_STUN_BINDING)
			return &r->ex[i].server;
	return r->n ? &r->ex[0].server : NULL;
}

bool il_replay_needs_credentials(const il_replay *r, const il_replay_options *o)
{
	const il_addr *server = pick_server(r, o);
	for (size_t i = 0; server && i < r->n; i++) {
		il_stun_msg m;
		if (il_addr_equal(&r->ex[i].server, server) &&
		    il_stun_decode(r->ex[i].req, r->ex[i].req_len, &m, NULL) == IL_STUN_OK &&
		    (m.mi_index >= 0 || m.mi256_index >= 0))
			return true;
	}
	return false;
}

int il_replay_parse_target(const char *url, il_addr *out, char *err, size_t errlen)
{
	if (strncmp(url, "udp://", 6) != 0) {
		snprintf(err, errlen, "target '%s': only udp://HOST:PORT is supported", url);
		return -1;
	}
	const char *hp = url + 6, *colon;
	char host[256];
	if (*hp == '[') {
		const char *end = strchr(hp, ']');
		if (!end || end[1] != ':' || (size_t)(end - hp - 1) >= sizeof host)
			goto bad;
		memcpy(host, hp + 1, (size_t)(end - hp - 1));
		host[end - hp - 1] = '\0';
		colon = end + 1;
	} else {
		colon = strrchr(hp, ':');
		if (!colon || colon == hp || (size_t)(colon - hp) >= sizeof host)
			goto bad;
		memcpy(host, hp, (size_t)(colon - hp));
		host[colon - hp] = '\0';
	}
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535 || colon[1] == '\0')
		goto bad;
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *res = NULL;
	int gai = getaddrinfo(host, NULL, &hints, &res);
	if (gai != 0 || !res) {
		snprintf(err, errlen, "target '%s': %s", url, gai_strerror(gai));
		return -1;
	}
	memset(out, 0, sizeof *out);
	if (res->ai_family == AF_INET) {
		out->family = IL_AF_INET;
		memcpy(out->ip, &((struct sockaddr_in *)res->ai_addr)->sin_addr, 4);
	} else {
		out->family = IL_AF_INET6;
		memcpy(out->ip, &((struct sockaddr_in6 *)res->ai_addr)->sin6_addr, 16);
	}
	out->port = (uint16_t)port;
	freeaddrinfo(res);
	return 0;
bad:
	snprintf(err, errlen, "target '%s': expected udp://HOST:PORT", url);
	return -1;
}

/* ---- shapes */

static int cmp_u16(const void *x, const void *y)
{
	return (int)*(const uint16_t *)x - (int)*(const uint16_t *)y;
}

void il_replay_shape_of(const il_stun_msg *m, il_replay_shape *s)
{
	memset(s, 0, sizeof *s);
	s->method = m->method;
	s->cls = m->cls;
	const il_stun_attr *ec = il_stun_msg_find(m, IL_ATTR_ERROR_CODE);
	const char *reason;
	size_t reason_len;
	if (ec)
		il_stun_attr_get_error_code(m, ec, &s->code, &reason, &reason_len);
	for (size_t i = 0; i < m->attr_count; i++) {
		uint16_t t = m->attrs[i].type;
		if (t == IL_ATTR_SOFTWARE || t == IL_ATTR_FINGERPRINT || m->attrs[i].ignored)
			continue;
		s->types[s->ntypes++] = t;
	}
	qsort(s->types, s->ntypes, sizeof s->types[0], cmp_u16);
	size_t k = 0;
	for (size_t i = 0; i < s->ntypes; i++)
		if (k == 0 || s->types[k - 1] != s->types[i])
			s->types[k++] = s->types[i];
	s->ntypes = k;
}

static bool has_type(const il_replay_shape *s, uint16_t t)
{
	return bsearch(&t, s->types, s->ntypes, sizeof t, cmp_u16) != NULL;
}

static void type_list(char *note, size_t notelen, const char *label, const il_replay_shape *from,
		      const il_replay_shape *other)
{
	bool first = true;
	for (size_t i = 0; i < from->ntypes; i++) {
		if (has_type(other, from->types[i]))
			continue;
		const il_stun_attr_info *info = il_stun_attr_info_find(from->types[i]);
		size_t used = strlen(note);
		char name[16];
		snprintf(name, sizeof name, "0x%04X", from->types[i]);
		snprintf(note + used, notelen - used, "%s%s%s", first ? (used ? "; " : "") : ",",
			 first ? label : "", info ? info->name : name);
		first = false;
	}
}

bool il_replay_shape_match(const il_replay_shape *captured, const il_replay_shape *live,
			   bool strict, char *note, size_t notelen)
{
	note[0] = '\0';
	bool missing = false, extra = false;
	for (size_t i = 0; i < captured->ntypes; i++)
		missing |= !has_type(live, captured->types[i]);
	for (size_t i = 0; i < live->ntypes; i++)
		extra |= !has_type(captured, live->types[i]);
	bool same = captured->method == live->method && captured->cls == live->cls &&
		    captured->code == live->code;
	if (same) {
		type_list(note, notelen, "missing ", captured, live);
		type_list(note, notelen, "extra ", live, captured);
	}
	return same && !missing && !(strict && extra);
}

/* ---- rewriting */

size_t il_replay_rewrite(const il_stun_msg *c, const uint8_t tid[IL_STUN_TID_LEN],
			 const il_addr *peers_from, const il_addr *peers_to, size_t npeers,
			 const il_replay_auth *auth, uint8_t *out, size_t cap)
{
	il_stun_builder b;
	il_stun_builder_init(&b, out, cap, c->method, c->cls, tid);
	bool fingerprint = false;
	for (size_t i = 0; i < c->attr_count; i++) {
		const il_stun_attr *a = &c->attrs[i];
		if (a->ignored)
			continue;
		switch (a->type) {
		case IL_ATTR_FINGERPRINT:
			fingerprint = true;
			continue;
		case IL_ATTR_MESSAGE_INTEGRITY:
		case IL_ATTR_MESSAGE_INTEGRITY_SHA256:
		case IL_ATTR_USERNAME:
		case IL_ATTR_USERHASH:
		case IL_ATTR_REALM:
		case IL_ATTR_NONCE:
		case IL_ATTR_PASSWORD_ALGORITHM:
		case IL_ATTR_PASSWORD_ALGORITHMS:
			continue; /* recomputed below, for the live target */
		default:
			break;
		}
		const il_stun_attr_info *info = il_stun_attr_info_find(a->type);
		il_addr addr;
		if (info && info->kind == IL_VAL_XOR_ADDR &&
		    il_stun_attr_get_addr(c, a, &addr) == IL_STUN_OK) {
			/* XOR'd with the transaction id: re-encoded with the new one */
			for (size_t p = 0; a->type == IL_ATTR_XOR_PEER_ADDRESS && p < npeers; p++)
				if (il_addr_equal(&addr, &peers_from[p])) {
					addr = peers_to[p];
					break;
				}
			il_stun_add_xor_addr(&b, a->type, &addr);
			continue;
		}
		il_stun_add_raw(&b, a->type, il_stun_attr_value(c, a), a->length);
	}
	if (auth && auth->key) {
		il_stun_add_string(&b, IL_ATTR_USERNAME, auth->user, strlen(auth->user));
		il_stun_add_string(&b, IL_ATTR_REALM, auth->realm, strlen(auth->realm));
		il_stun_add_string(&b, IL_ATTR_NONCE, auth->nonce, strlen(auth->nonce));
		il_stun_add_message_integrity(&b, (const il_stun_key *)auth->key);
	}
	if (fingerprint)
		il_stun_add_fingerprint(&b);
	return il_stun_builder_finish(&b, NULL);
}

/* ---- the live run */

#define RP_MAX_CLIENTS 256
#define RP_MAX_PEERS 256
#define RP_RTO_MS 250 /* first retransmission; doubled after each (RFC 8489 §6.2.1) */

typedef struct rp_client {
	il_addr captured;
	int fd;
	char realm[256], nonce[256];
	bool have_nonce;
} rp_client;

typedef struct rp_run {
	const il_replay_options *o;
	rp_client clients[RP_MAX_CLIENTS];
	size_t nclients;
	il_addr peers_from[RP_MAX_PEERS], peers_to[RP_MAX_PEERS];
	size_t npeers;
	size_t matched, differed, uncompared, challenges;
} rp_run;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

/* One local socket per captured client address: the target sees as many
 * 5-tuples as the capture had clients. */
static rp_client *client_get(rp_run *run, const il_addr *captured, char *err, size_t errlen)
{
	for (size_t i = 0; i < run->nclients; i++)
		if (il_addr_equal(&run->clients[i].captured, captured))
			return &run->clients[i];
	if (run->nclients == RP_MAX_CLIENTS) {
		snprintf(err, errlen, "more than %d clients in the capture", RP_MAX_CLIENTS);
		return NULL;
	}
	struct sockaddr_storage ss;
	socklen_t sl = to_sockaddr(&run->o->target, &ss);
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		snprintf(err, errlen, "socket to the target: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	rp_client *c = &run->clients[run->nclients++];
	memset(c, 0, sizeof *c);
	c->captured = *captured;
	c->fd = fd;
	return c;
}

/* Each distinct captured peer becomes peer_host (or the target's IP) with
 * its captured port, the next free port when two would collide. */
static void peer_map_add(rp_run *run, const il_addr *peer)
{
	for (size_t i = 0; i < run->npeers; i++)
		if (il_addr_equal(&run->peers_from[i], peer))
			return;
	if (run->npeers == RP_MAX_PEERS)
		return;
	il_addr to = *peer;
	if (!run->o->peer_keep) {
		to = run->o->peer_host.family ? run->o->peer_host : run->o->target;
		to.port = peer->port;
		for (size_t i = 0; i < run->npeers; i++)
			if (il_addr_equal(&run->peers_to[i], &to)) {
				to.port = (uint16_t)(to.port == 65535 ? 1024 : to.port + 1);
				i = (size_t)-1; /* again from the start */
			}
	}
	run->peers_from[run->npeers] = *peer;
	run->peers_to[run->npeers++] = to;
}

/* Sends and waits for the response with this tid; retransmits. Returns
 * the response length, 0 on timeout, -1 on a socket error. */
static long transact(int fd, const uint8_t *req, size_t len, int timeout_ms, uint8_t *rx,
		     size_t rxcap, il_stun_msg *resp)
{
	int64_t start = now_ms(), next = start;
	int rto = RP_RTO_MS;
	for (;;) {
		int64_t t = now_ms();
		if (t - start >= timeout_ms)
			return 0;
		if (t >= next) {
			if (send(fd, req, len, 0) < 0 && errno != ECONNREFUSED)
				return -1;
			next = t + rto;
			rto *= 2;
		}
		int64_t wait = next - t;
		if (start + timeout_ms - t < wait)
			wait = start + timeout_ms - t;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, (int)(wait > 0 ? wait : 0)) <= 0)
			continue;
		ssize_t n = recv(fd, rx, rxcap, 0);
		if (n < 0)
			continue; /* ICMP port unreachable: keep trying until the timeout */
		if (il_stun_decode(rx, (size_t)n, resp, NULL) == IL_STUN_OK &&
		    (resp->cls == IL_STUN_SUCCESS || resp->cls == IL_STUN_ERROR) &&
		    memcmp(resp->tid, req + 8, IL_STUN_TID_LEN) == 0)
			return n;
	}
}

/* A 401 or 438 carrying NONCE (and REALM): the target's challenge
 * (RFC 8489 §9.2.4). Stores them; true when it was one. */
static bool take_challenge(rp_client *c, const il_stun_msg *m)
{
	if (m->cls != IL_STUN_ERROR)
		return false;
	const il_stun_attr *ec = il_stun_msg_find(m, IL_ATTR_ERROR_CODE);
	int code = 0;
	const char *reason;
	size_t reason_len;
	if (!ec || il_stun_attr_get_error_code(m, ec, &code, &reason, &reason_len) != IL_STUN_OK ||
	    (code != 401 && code != 438))
		return false;
	const il_stun_attr *na = il_stun_msg_find(m, IL_ATTR_NONCE);
	const il_stun_attr *ra = il_stun_msg_find(m, IL_ATTR_REALM);
	const char *text;
	size_t len;
	if (!na || il_stun_attr_get_string(m, na, &text, &len) != IL_STUN_OK ||
	    len >= sizeof c->nonce)
		return false;
	memcpy(c->nonce, text, len);
	c->nonce[len] = '\0';
	if (ra && il_stun_attr_get_string(m, ra, &text, &len) == IL_STUN_OK &&
	    len < sizeof c->realm) {
		memcpy(c->realm, text, len);
		c->realm[len] = '\0';
	}
	c->have_nonce = true;
	return true;
}

static void describe(const il_replay_shape *s, bool present, char *out, size_t cap)
{
	if (!present)
		snprintf(out, cap, "none");
	else if (s->cls == IL_STUN_ERROR)
		snprintf(out, cap, "error %d", s->code);
	else
		snprintf(out, cap, "%s", il_stun_class_name(s->cls));
}

/* Sends the rewritten request, authenticated when auth: first without
 * credentials when the client has no nonce yet (the target challenges,
 * RFC 8489 §9.2.3), then once more with the target's fresh nonce after a
 * 401/438 to an authenticated attempt. The final response is in resp. */
static long send_request(rp_run *run, rp_client *c, const il_stun_msg *req, bool auth,
			 uint8_t *rx, size_t rxcap, il_stun_msg *resp, char *err, size_t errlen)
{
	int authenticated = 0;
	for (int round = 0; round < 3; round++) {
		uint8_t tid[IL_STUN_TID_LEN], out[2048];
		if (getrandom(tid, sizeof tid, 0) != (ssize_t)sizeof tid) {
			snprintf(err, errlen, "getrandom: %s", strerror(errno));
			return -1;
		}
		il_stun_key key;
		il_replay_auth creds = {run->o->user, c->realm, c->nonce, NULL};
		if (auth && c->have_nonce &&
		    il_stun_key_long_term(&key, IL_STUN_PWALG_MD5, run->o->user, c->realm,
					  run->o->password) == IL_STUN_OK)
			creds.key = &key;
		size_t len = il_replay_rewrite(req, tid, run->peers_from, run->peers_to,
					       run->npeers, &creds, out, sizeof out);
		if (!len) {
			snprintf(err, errlen, "cannot rebuild the request of a captured exchange");
			return -1;
		}
		long n = transact(c->fd, out, len, run->o->timeout_ms, rx, rxcap, resp);
		if (n <= 0)
			return n;
		bool challenged = take_challenge(c, resp);
		if (!auth || !challenged)
			return n;
		if (!creds.key) {
			run->challenges++;
			continue;
		}
		if (++authenticated == 2)
			return n;
	}
	return (long)resp->len;
}

int il_replay_run(il_replay *r, const il_replay_options *o, FILE *out, char *err, size_t errlen)
{
	const il_addr *server = pick_server(r, o);
	size_t selected = 0;
	for (size_t i = 0; server && i < r->n; i++)
		selected += il_addr_equal(&r->ex[i].server, server);
	if (!selected) {
		snprintf(err, errlen, "no STUN/TURN request to replay in the capture");
		return -1;
	}
	rp_run *run = calloc(1, sizeof *run);
	if (!run) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	run->o = o;
	int rc = 0;
	for (size_t i = 0; i < r->n; i++) {
		il_stun_msg m;
		if (!il_addr_equal(&r->ex[i].server, server) ||
		    il_stun_decode(r->ex[i].req, r->ex[i].req_len, &m, NULL) != IL_STUN_OK)
			continue;
		const il_stun_attr *pa = il_stun_msg_find(&m, IL_ATTR_XOR_PEER_ADDRESS);
		il_addr peer;
		for (size_t k = 0; pa && k < m.attr_count; k++)
			if (m.attrs[k].type == IL_ATTR_XOR_PEER_ADDRESS &&
			    il_stun_attr_get_addr(&m, &m.attrs[k], &peer) == IL_STUN_OK)
				peer_map_add(run, &peer);
	}
	char sv[IL_ADDR_STRLEN], tg[IL_ADDR_STRLEN];
	il_addr_format(server, sv, sizeof sv);
	il_addr_format(&o->target, tg, sizeof tg);
	fprintf(out, "replaying %zu request%s sent to %s in the capture, to udp://%s\n", selected,
		selected == 1 ? "" : "s", sv, tg);
	for (size_t p = 0; p < run->npeers; p++) {
		char f[IL_ADDR_STRLEN], t[IL_ADDR_STRLEN];
		il_addr_format(&run->peers_from[p], f, sizeof f);
		il_addr_format(&run->peers_to[p], t, sizeof t);
		fprintf(out, "  peer %s -> %s\n", f, t);
	}
	if (r->over_cap)
		fprintf(out, "  (%zu requests beyond the first %d not replayed)\n", r->over_cap,
			IL_REPLAY_MAX_EXCHANGES);
	fprintf(out, "%4s %7s %-18s %-10s %-10s %s\n", "#", "frame", "request", "captured", "live",
		"result");
	size_t row = 0;
	for (size_t i = 0; i < r->n && rc == 0; i++) {
		rp_exchange *e = &r->ex[i];
		il_stun_msg req, cap_resp, live;
		if (!il_addr_equal(&e->server, server) ||
		    il_stun_decode(e->req, e->req_len, &req, NULL) != IL_STUN_OK)
			continue;
		rp_client *c = client_get(run, &e->client, err, errlen);
		if (!c) {
			rc = -1;
			break;
		}
		bool auth = req.mi_index >= 0 || req.mi256_index >= 0;
		uint8_t rx[2048];
		long n = send_request(run, c, &req, auth, rx, sizeof rx, &live, err, errlen);
		if (n < 0) {
			rc = -1;
			break;
		}
		il_replay_shape cs = {0}, ls = {0};
		bool have_cap = e->resp &&
				il_stun_decode(e->resp, e->resp_len, &cap_resp, NULL) == IL_STUN_OK;
		if (have_cap)
			il_replay_shape_of(&cap_resp, &cs);
		if (n > 0)
			il_replay_shape_of(&live, &ls);
		char cd[24], ld[24], note[512] = "";
		describe(&cs, have_cap, cd, sizeof cd);
		describe(&ls, n > 0, ld, sizeof ld);
		const char *verdict;
		if (!have_cap) {
			verdict = "not compared (no captured response)";
			run->uncompared++;
		} else if (n == 0) {
			verdict = "DIFFERENT (no live response)";
			run->differed++;
		} else if (il_replay_shape_match(&cs, &ls, o->strict, note, sizeof note)) {
			verdict = "match";
			run->matched++;
		} else {
			verdict = "DIFFERENT";
			run->differed++;
		}
		const char *mname = il_stun_method_name(req.method);
		char mbuf[16];
		if (!mname) {
			snprintf(mbuf, sizeof mbuf, "0x%03x", req.method);
			mname = mbuf;
		}
		fprintf(out, "%4zu %7llu %-18s %-10s %-10s %s%s%s%s\n", ++row,
			(unsigned long long)e->req_frame, mname, cd, ld, verdict, note[0] ? " (" : "",
			note, note[0] ? ")" : "");
	}
	if (rc == 0) {
		fprintf(out, "summary: %zu exchange%s, %zu matched, %zu different, %zu not compared; "
			     "%zu challenge%s answered, %zu client%s\n",
			row, row == 1 ? "" : "s", run->matched, run->differed, run->uncompared,
			run->challenges, run->challenges == 1 ? "" : "s", run->nclients,
			run->nclients == 1 ? "" : "s");
		rc = run->differed ? 1 : 0;
	}
	for (size_t i = 0; i < run->nclients; i++)
		close(run->clients[i].fd);
	free(run);
	return rc;
}
