/* The runner: selects tests, gives each a cf_ctx over the target, keeps
 * its checks and evidence, and turns them into verdicts (README.md
 * "Verdicts"). Also the ctx API the suites use. */
#include "conformance.h"
#include "runner_internal.h"

#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "icelab/channeldata.h"

#define CTX_MAX_ENDPOINTS 8
#define CTX_BACKLOG 16
#define CTX_MAX_PACKETS 96
#define CTX_PACKET_KEEP 2048 /* bytes of a packet kept as evidence */

typedef struct backlog_pkt {
	uint8_t data[1500];
	size_t len;
} backlog_pkt;

struct cf_ctx {
	cf_target *t;
	cf_result *res;
	const cf_catalogue *cat;
	const cf_run_options *o;
	uint64_t rng;
	uint64_t start_ms, deadline_ms, virtual_ms;
	bool stopped, error, skipped, na;
	int nclients, npeers;
	int client_ix[CTX_MAX_ENDPOINTS];
	il_addr client_addr[CTX_MAX_ENDPOINTS];
	uint8_t client_transport[CTX_MAX_ENDPOINTS];
	il_addr client_dest[CTX_MAX_ENDPOINTS]; /* where the client sends (cf_client_to) */
	backlog_pkt *backlog[CTX_MAX_ENDPOINTS]; /* CTX_BACKLOG each, a ring */
	size_t bl_head[CTX_MAX_ENDPOINTS], bl_count[CTX_MAX_ENDPOINTS];
	int peer_ix[CTX_MAX_ENDPOINTS];
	il_addr peer_addr[CTX_MAX_ENDPOINTS];
	uint8_t peer_transport[CTX_MAX_ENDPOINTS];
	uint32_t seq;
	cf_alloc_track alloc[CTX_MAX_ENDPOINTS]; /* released when the test ends */
	unsigned txns[CTX_MAX_ENDPOINTS];        /* transactions each client made */
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

static char *vformat(const char *fmt, va_list ap)
{
	char *out = NULL;
	if (vasprintf(&out, fmt, ap) < 0)
		return NULL;
	return out;
}

const char *cf_verdict_name(enum cf_verdict v)
{
	static const char *const names[] = {"pass", "fail", "error", "skip", "not-applicable"};
	return v < CF_VERDICT__COUNT ? names[v] : "?";
}

/* ---- ctx ---- */

cf_target *cf_ctx_target(cf_ctx *ctx)
{
	return ctx->t;
}

void cf_random(cf_ctx *ctx, uint8_t *out, size_t len)
{
	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = splitmix64(&ctx->rng);
		for (size_t k = 0; k < 8 && i + k < len; k++)
			out[i + k] = (uint8_t)(v >> (8 * k));
	}
}

void cf_new_tid(cf_ctx *ctx, uint8_t tid[IL_STUN_TID_LEN])
{
	cf_random(ctx, tid, IL_STUN_TID_LEN);
}

static uint64_t elapsed(const cf_ctx *ctx)
{
	return ctx->t->virtual_time ? ctx->virtual_ms : mono_ms() - ctx->start_ms;
}

static bool past_deadline(cf_ctx *ctx)
{
	if (ctx->t->virtual_time || mono_ms() < ctx->deadline_ms)
		return false;
	if (!ctx->stopped)
		cf_error(ctx, "test timeout (%u ms) reached", ctx->o->test_timeout_ms);
	return true;
}

static void record(cf_ctx *ctx, bool sent, const char *kind, int ix, const il_addr *from,
		   const il_addr *to, uint8_t transport, const uint8_t *data, size_t len)
{
	cf_result *r = ctx->res;
	if (r->packet_count >= CTX_MAX_PACKETS)
		return;
	if (r->packet_count == r->packet_cap) {
		size_t cap = r->packet_cap ? r->packet_cap * 2 : 8;
		cf_packet *np = realloc(r->packets, cap * sizeof *np);
		if (!np)
			return;
		r->packets = np;
		r->packet_cap = cap;
	}
	cf_packet *p = &r->packets[r->packet_count];
	memset(p, 0, sizeof *p);
	size_t keep = len < CTX_PACKET_KEEP ? len : CTX_PACKET_KEEP;
	p->data = malloc(keep ? keep : 1);
	if (!p->data)
		return;
	memcpy(p->data, data, keep);
	p->len = keep;
	p->truncated = keep < len;
	p->seq = ++ctx->seq;
	p->t_ms = elapsed(ctx);
	p->sent = sent;
	snprintf(p->endpoint, sizeof p->endpoint, "%s%d", kind, ix + 1);
	p->from = *from;
	p->to = *to;
	p->transport = transport;
	r->packet_count++;
}

static int add_client(cf_ctx *ctx, int ix, const il_addr *local, int transport)
{
	int c = ctx->nclients++;
	ctx->client_ix[c] = ix;
	ctx->client_addr[c] = *local;
	/* A stream target's clients are connections whatever was asked. */
	ctx->client_transport[c] = (uint8_t)(ctx->t->stream ? ctx->t->stream : transport);
	ctx->client_dest[c] = ctx->t->server; /* cf_client_to: another address */
	ctx->backlog[c] = calloc(CTX_BACKLOG, sizeof(backlog_pkt));
	ctx->bl_head[c] = ctx->bl_count[c] = 0;
	memset(&ctx->alloc[c], 0, sizeof ctx->alloc[c]);
	ctx->txns[c] = 0;
	return c;
}

void cf_evidence(cf_ctx *ctx, bool sent, const char *endpoint, const il_addr *from,
		 const il_addr *to, const uint8_t *data, size_t len)
{
	size_t before = ctx->res->packet_count;
	record(ctx, sent, endpoint, 0, from, to, CF_UDP, data, len);
	if (ctx->res->packet_count > before)
		snprintf(ctx->res->packets[before].endpoint,
			 sizeof ctx->res->packets[before].endpoint, "%s", endpoint);
}

int cf_client(cf_ctx *ctx, int transport)
{
	return cf_client_to(ctx, transport, &ctx->t->server);
}

int cf_client_to(cf_ctx *ctx, int transport, const il_addr *to)
{
	if (ctx->nclients >= CTX_MAX_ENDPOINTS) {
		cf_error(ctx, "too many clients in one test");
		return -1;
	}
	il_addr local;
	int ix;
	if (il_addr_equal(to, &ctx->t->server))
		ix = ctx->t->client_open(ctx->t, transport, &local);
	else if (ctx->t->client_open_to)
		ix = ctx->t->client_open_to(ctx->t, transport, to, &local);
	else
		ix = -1;
	if (ix < 0) {
		cf_error(ctx, "could not open a %s client towards the target",
			 transport == CF_TCP ? "TCP" : "UDP");
		return -1;
	}
	int c = add_client(ctx, ix, &local, transport);
	ctx->client_dest[c] = *to;
	return c;
}

il_addr cf_client_addr(cf_ctx *ctx, int client)
{
	return ctx->client_addr[client];
}

int cf_send(cf_ctx *ctx, int c, const uint8_t *data, size_t len)
{
	if (c < 0 || c >= ctx->nclients)
		return -1;
	record(ctx, true, "client", c, &ctx->client_addr[c], &ctx->client_dest[c],
	       ctx->client_transport[c], data, len);
	if (ctx->t->client_send(ctx->t, ctx->client_ix[c], data, len) < 0) {
		cf_error(ctx, "sending to the target failed");
		return -1;
	}
	return 0;
}

static size_t recv_raw(cf_ctx *ctx, int c, uint8_t *buf, size_t cap, uint32_t timeout_ms)
{
	if (ctx->bl_count[c] > 0) {
		backlog_pkt *b = &ctx->backlog[c][ctx->bl_head[c]];
		ctx->bl_head[c] = (ctx->bl_head[c] + 1) % CTX_BACKLOG;
		ctx->bl_count[c]--;
		size_t n = b->len < cap ? b->len : cap;
		memcpy(buf, b->data, n);
		return n;
	}
	if (ctx->stopped || past_deadline(ctx))
		return 0;
	size_t len = 0;
	int rc = ctx->t->client_recv(ctx->t, ctx->client_ix[c], buf, cap, &len, timeout_ms);
	if (rc < 0) {
		cf_error(ctx, "receiving from the target failed");
		return 0;
	}
	if (rc == 0) {
		ctx->virtual_ms += timeout_ms;
		return 0;
	}
	record(ctx, false, "client", c, &ctx->client_dest[c], &ctx->client_addr[c],
	       ctx->client_transport[c], buf, len);
	return len;
}

size_t cf_recv(cf_ctx *ctx, int c, uint8_t *buf, size_t cap, uint32_t timeout_ms)
{
	if (c < 0 || c >= ctx->nclients)
		return 0;
	return recv_raw(ctx, c, buf, cap, timeout_ms ? timeout_ms : ctx->o->recv_timeout_ms);
}

static void backlog_push(cf_ctx *ctx, int c, const uint8_t *data, size_t len)
{
	if (ctx->bl_count[c] == CTX_BACKLOG || len > sizeof ctx->backlog[c][0].data)
		return;
	backlog_pkt *b = &ctx->backlog[c][(ctx->bl_head[c] + ctx->bl_count[c]) % CTX_BACKLOG];
	memcpy(b->data, data, len);
	b->len = len;
	ctx->bl_count[c]++;
}

/* A brand-new UDP client's first request, an Allocate, got 437: its
 * 5-tuple cannot hold an allocation unless an earlier test or run left
 * one on a port the kernel gave out again (RFC 8656 §7.2). That is the
 * harness's doing, not the target's: the client moves to a new socket
 * once, and the evidence says so. */
static bool harness_collision(cf_ctx *ctx, int c, const uint8_t *req, const il_stun_msg *resp)
{
	uint16_t type = (uint16_t)(req[0] << 8 | req[1]);
	if (ctx->txns[c] != 1 || ctx->t->virtual_time || ctx->t->stream ||
	    strcmp(ctx->t->kind, "udp") != 0 || type != IL_STUN_ALLOCATE ||
	    resp->cls != IL_STUN_ERROR || !il_addr_equal(&ctx->client_dest[c], &ctx->t->server))
		return false;
	const il_stun_attr *e = il_stun_msg_find(resp, IL_ATTR_ERROR_CODE);
	const uint8_t *v = e && e->length >= 4 ? il_stun_attr_value(resp, e) : NULL;
	if (!v || (v[2] & 7) * 100 + v[3] != 437)
		return false;
	il_addr local, old = ctx->client_addr[c];
	int ix = ctx->t->client_open(ctx->t, CF_UDP, &local);
	if (ix < 0)
		return false;
	ctx->client_ix[c] = ix;
	ctx->client_addr[c] = local;
	ctx->bl_head[c] = ctx->bl_count[c] = 0;
	char a[64], b[64];
	il_addr_format(&old, a, sizeof a);
	il_addr_format(&local, b, sizeof b);
	cf_note(ctx, "harness: client %d's first Allocate from %s got 437 (an allocation left by "
		     "an earlier test or run on a reused port); retried from %s",
		c + 1, a, b);
	return true;
}

size_t cf_transact(cf_ctx *ctx, int c, const uint8_t *req, size_t len, uint8_t *buf, size_t cap,
		   il_stun_msg *resp)
{
	if (c < 0 || c >= ctx->nclients || len < IL_STUN_HEADER_LEN)
		return 0;
	ctx->txns[c]++;
	/* The transaction id: 12 bytes after the cookie, or 16 (RFC 3489). */
	const uint8_t *tid = req + 4;
	size_t tid_len = 16;
	bool udp = ctx->client_transport[c] == CF_UDP; /* streams: no retransmission (§6.2.2) */
	int attempts = udp ? 3 : 1;
	uint32_t wait = ctx->o->recv_timeout_ms;
	/* Packets that are not our response wait in a side list and go back
	 * to the backlog at the end (cf_recv returns them later). */
	backlog_pkt *others = calloc(CTX_BACKLOG, sizeof *others);
	size_t nothers = 0, got = 0;
	for (int a = 0; a < attempts && !got && !ctx->stopped; a++) {
		if (cf_send(ctx, c, req, len) < 0)
			break;
		uint32_t budget = udp ? wait << a : wait * 4;
		while (!got && !ctx->stopped) {
			size_t n = recv_raw(ctx, c, buf, cap, budget);
			if (n == 0)
				break;
			if (n >= IL_STUN_HEADER_LEN && memcmp(buf + 4, tid, tid_len) == 0 &&
			    il_stun_decode(buf, n, resp, NULL) == IL_STUN_OK &&
			    (resp->cls == IL_STUN_SUCCESS || resp->cls == IL_STUN_ERROR)) {
				got = n;
			} else if (others && nothers < CTX_BACKLOG && n <= sizeof others[0].data) {
				memcpy(others[nothers].data, buf, n);
				others[nothers++].len = n;
			}
		}
	}
	for (size_t i = 0; i < nothers; i++)
		backlog_push(ctx, c, others[i].data, others[i].len);
	free(others);
	if (got) {
		il_stun_decode(buf, got, resp, NULL); /* buf may have been reused */
		if (harness_collision(ctx, c, req, resp))
			return cf_transact(ctx, c, req, len, buf, cap, resp);
		cf_alloc_observe(ctx->t, &ctx->alloc[c], req, len, resp);
	}
	return got;
}

bool cf_expect_silence(cf_ctx *ctx, int c)
{
	uint8_t buf[1500];
	return recv_raw(ctx, c, buf, sizeof buf, ctx->o->silence_ms) == 0 && !ctx->error;
}

int cf_peer(cf_ctx *ctx)
{
	if (ctx->npeers >= CTX_MAX_ENDPOINTS || !ctx->t->peer_open) {
		cf_error(ctx, "no peer available");
		return -1;
	}
	il_addr a;
	int ix = ctx->t->peer_open(ctx->t, &a);
	if (ix < 0) {
		cf_error(ctx, "could not open a peer");
		return -1;
	}
	int p = ctx->npeers++;
	ctx->peer_ix[p] = ix;
	ctx->peer_addr[p] = a;
	ctx->peer_transport[p] = CF_UDP;
	return p;
}

int cf_stream_transport(cf_ctx *ctx)
{
	return ctx->t->stream;
}

int cf_client_raw(cf_ctx *ctx, int c)
{
	if (c < 0 || c >= ctx->nclients || !ctx->t->client_raw)
		return -1;
	return ctx->t->client_raw(ctx->t, ctx->client_ix[c]);
}

static int add_tcp_peer(cf_ctx *ctx, int ix, const il_addr *addr)
{
	if (ix < 0)
		return -1;
	if (ctx->npeers >= CTX_MAX_ENDPOINTS) {
		cf_error(ctx, "too many peers in one test");
		return -1;
	}
	int p = ctx->npeers++;
	ctx->peer_ix[p] = ix;
	ctx->peer_addr[p] = *addr;
	ctx->peer_transport[p] = CF_TCP;
	return p;
}

int cf_peer_tcp_listen(cf_ctx *ctx)
{
	il_addr a;
	if (!ctx->t->peer_tcp_listen || ctx->npeers >= CTX_MAX_ENDPOINTS) {
		cf_error(ctx, "no TCP peer available");
		return -1;
	}
	int p = add_tcp_peer(ctx, ctx->t->peer_tcp_listen(ctx->t, &a), &a);
	if (p < 0)
		cf_error(ctx, "could not open a TCP listener");
	return p;
}

int cf_peer_tcp_accept(cf_ctx *ctx, int listener, il_addr *remote, uint32_t timeout_ms)
{
	if (listener < 0 || listener >= ctx->npeers || !ctx->t->peer_tcp_accept || ctx->stopped ||
	    past_deadline(ctx))
		return -1;
	int ix = ctx->t->peer_tcp_accept(ctx->t, ctx->peer_ix[listener], remote,
					 timeout_ms ? timeout_ms : ctx->o->recv_timeout_ms);
	if (ix < 0)
		return -1;
	/* The accepted connection's own end is the listener's address. */
	return add_tcp_peer(ctx, ix, &ctx->peer_addr[listener]);
}

void cf_client_close(cf_ctx *ctx, int c)
{
	if (c >= 0 && c < ctx->nclients && ctx->t->client_close)
		ctx->t->client_close(ctx->t, ctx->client_ix[c]);
}

bool cf_client_closed(cf_ctx *ctx, int c)
{
	return c >= 0 && c < ctx->nclients && ctx->t->client_closed &&
	       ctx->t->client_closed(ctx->t, ctx->client_ix[c]);
}

void cf_peer_close(cf_ctx *ctx, int p)
{
	if (p >= 0 && p < ctx->npeers && ctx->t->peer_close)
		ctx->t->peer_close(ctx->t, ctx->peer_ix[p]);
}

int cf_peer_tcp_connect(cf_ctx *ctx, const il_addr *to)
{
	il_addr local;
	if (!ctx->t->peer_tcp_connect || ctx->stopped)
		return -1;
	return add_tcp_peer(ctx, ctx->t->peer_tcp_connect(ctx->t, to, &local), &local);
}

il_addr cf_peer_addr(cf_ctx *ctx, int p)
{
	return ctx->peer_addr[p];
}

int cf_peer_send(cf_ctx *ctx, int p, const il_addr *to, const uint8_t *data, size_t len)
{
	if (p < 0 || p >= ctx->npeers)
		return -1;
	record(ctx, true, "peer", p, &ctx->peer_addr[p], to, ctx->peer_transport[p], data, len);
	if (ctx->t->peer_send(ctx->t, ctx->peer_ix[p], to, data, len) < 0) {
		cf_error(ctx, "sending from a peer failed");
		return -1;
	}
	return 0;
}

int cf_peer_recv(cf_ctx *ctx, int p, uint8_t *buf, size_t cap, size_t *out_len, il_addr *from,
		 uint32_t timeout_ms)
{
	*out_len = 0;
	if (p < 0 || p >= ctx->npeers || ctx->stopped || past_deadline(ctx))
		return 0;
	if (!timeout_ms)
		timeout_ms = ctx->o->recv_timeout_ms;
	size_t len = 0;
	il_addr src;
	memset(&src, 0, sizeof src);
	int rc = ctx->t->peer_recv(ctx->t, ctx->peer_ix[p], buf, cap, &len, &src, timeout_ms);
	if (rc < 0) {
		cf_error(ctx, "receiving at a peer failed");
		return 0;
	}
	if (rc == 0) {
		ctx->virtual_ms += timeout_ms;
		return 0;
	}
	if (from)
		*from = src;
	record(ctx, false, "peer", p, &src, &ctx->peer_addr[p], ctx->peer_transport[p], buf, len);
	*out_len = len;
	return 1;
}

void cf_sleep(cf_ctx *ctx, uint32_t ms)
{
	ctx->virtual_ms += ms;
	ctx->t->sleep_ms(ctx->t, ms);
}

bool cf_check_req(cf_ctx *ctx, const char *req, bool ok, const char *fmt, ...)
{
	const cf_requirement *r = cf_catalogue_find(ctx->cat, req);
	if (!r) {
		cf_error(ctx, "harness bug: check of %s, which the catalogue does not have", req);
		return false;
	}
	cf_result *res = ctx->res;
	if (res->check_count == res->check_cap) {
		size_t cap = res->check_cap ? res->check_cap * 2 : 8;
		cf_check *nc = realloc(res->checks, cap * sizeof *nc);
		if (!nc)
			return ok;
		res->checks = nc;
		res->check_cap = cap;
	}
	cf_check *c = &res->checks[res->check_count++];
	memset(c, 0, sizeof *c);
	snprintf(c->req, sizeof c->req, "%s", req);
	c->level = r->level;
	c->ok = ok;
	va_list ap;
	va_start(ap, fmt);
	c->message = vformat(fmt, ap);
	va_end(ap);
	return ok;
}

static void stop(cf_ctx *ctx, const char *fmt, va_list ap)
{
	if (ctx->stopped)
		return;
	ctx->stopped = true;
	free(ctx->res->reason);
	ctx->res->reason = vformat(fmt, ap);
}

void cf_skip(cf_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (!ctx->stopped)
		ctx->skipped = true;
	stop(ctx, fmt, ap);
	va_end(ap);
}

void cf_not_applicable(cf_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (!ctx->stopped)
		ctx->na = true;
	stop(ctx, fmt, ap);
	va_end(ap);
}

void cf_error(cf_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (!ctx->stopped)
		ctx->error = true;
	stop(ctx, fmt, ap);
	va_end(ap);
}

void cf_note(cf_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *line = vformat(fmt, ap);
	va_end(ap);
	if (!line)
		return;
	char *old = ctx->res->notes;
	char *joined = NULL;
	if (asprintf(&joined, "%s%s%s", old ? old : "", old ? "\n" : "", line) >= 0) {
		free(old);
		ctx->res->notes = joined;
	}
	free(line);
}

bool cf_stopped(const cf_ctx *ctx)
{
	return ctx->stopped;
}

/* ---- RFC 5780: clients that see where each response comes from ---- */

int cf_client_any(cf_ctx *ctx, int near)
{
	cf_target *t = ctx->t;
	if (!t->client_open_any || !t->client_send_to || !t->client_recv_from) {
		cf_skip(ctx, "the %s target cannot tell a response's source address", t->kind);
		return -1;
	}
	if (ctx->nclients >= CTX_MAX_ENDPOINTS || (near >= ctx->nclients)) {
		cf_error(ctx, "harness bug: too many clients, or no client %d", near);
		return -1;
	}
	il_addr local;
	int ix = t->client_open_any(t, near >= 0 ? ctx->client_ix[near] : -1, &local);
	if (ix < 0) {
		cf_error(ctx, "could not open a UDP client towards the target");
		return -1;
	}
	return add_client(ctx, ix, &local, CF_UDP);
}

size_t cf_recv_from(cf_ctx *ctx, int c, uint8_t *buf, size_t cap, il_addr *from,
		    uint32_t timeout_ms)
{
	if (c < 0 || c >= ctx->nclients || !ctx->t->client_recv_from || ctx->stopped ||
	    past_deadline(ctx))
		return 0;
	if (!timeout_ms)
		timeout_ms = ctx->o->recv_timeout_ms;
	size_t len = 0;
	il_addr src;
	memset(&src, 0, sizeof src);
	int rc = ctx->t->client_recv_from(ctx->t, ctx->client_ix[c], buf, cap, &len, &src,
					  timeout_ms);
	if (rc < 0) {
		cf_error(ctx, "receiving from the target failed");
		return 0;
	}
	if (rc == 0) {
		ctx->virtual_ms += timeout_ms;
		return 0;
	}
	if (from)
		*from = src;
	record(ctx, false, "client", c, &src, &ctx->client_addr[c], ctx->client_transport[c], buf,
	       len);
	return len;
}

int cf_send_to(cf_ctx *ctx, int c, const il_addr *to, const uint8_t *data, size_t len)
{
	cf_target *t = ctx->t;
	if (c < 0 || c >= ctx->nclients || !t->client_send_to)
		return -1;
	const il_addr *dst = to ? to : &t->server;
	record(ctx, true, "client", c, &ctx->client_addr[c], dst, CF_UDP, data, len);
	if (t->client_send_to(t, ctx->client_ix[c], dst, data, len) < 0) {
		cf_error(ctx, "sending to the target failed");
		return -1;
	}
	return 0;
}

size_t cf_transact_to(cf_ctx *ctx, int c, const il_addr *to, const uint8_t *req, size_t len,
		      uint8_t *buf, size_t cap, il_stun_msg *resp, il_addr *from)
{
	cf_target *t = ctx->t;
	if (c < 0 || c >= ctx->nclients || len < IL_STUN_HEADER_LEN || !t->client_send_to)
		return 0;
	const il_addr *dst = to ? to : &t->server;
	size_t got = 0;
	/* Packets that are not the response (a stray, a duplicate) are kept
	 * as evidence only: RFC 5780 tests look at one response at a time. */
	for (int a = 0; a < 3 && !got && !ctx->stopped; a++) {
		if (cf_send_to(ctx, c, dst, req, len) < 0)
			break;
		uint32_t budget = ctx->o->recv_timeout_ms << a;
		for (;;) {
			il_addr src;
			size_t n = cf_recv_from(ctx, c, buf, cap, &src, budget);
			if (n == 0)
				break;
			if (n >= IL_STUN_HEADER_LEN && memcmp(buf + 4, req + 4, 16) == 0 &&
			    il_stun_decode(buf, n, resp, NULL) == IL_STUN_OK &&
			    (resp->cls == IL_STUN_SUCCESS || resp->cls == IL_STUN_ERROR)) {
				got = n;
				if (from)
					*from = src;
				break;
			}
		}
	}
	return got;
}

/* ---- the run ---- */

static bool selected(const cf_test *t, const cf_run_options *o)
{
	if (o->suites && o->suite_count) {
		bool in = false;
		for (size_t i = 0; i < o->suite_count; i++)
			in |= strcmp(o->suites[i], t->suite) == 0;
		if (!in)
			return false;
	}
	if (o->test_glob) {
		char id[128];
		snprintf(id, sizeof id, "%s/%s", t->suite, t->name);
		if (fnmatch(o->test_glob, id, 0) != 0 && fnmatch(o->test_glob, t->name, 0) != 0)
			return false;
	}
	return true;
}

static const char *unmet_need(const cf_test *t, const cf_target *tg)
{
	if ((t->needs & CF_NEEDS_CREDENTIALS) && !tg->has_credentials)
		return "needs TURN credentials (--user, --password)";
	if ((t->needs & CF_NEEDS_USER2) && !tg->has_user2)
		return "needs a second TURN user (--user2, --password2)";
	if ((t->needs & CF_NEEDS_PEER) && !tg->peer_open)
		return "needs harness-run peers reachable from the relay";
	if ((t->needs & CF_NEEDS_VIRTUAL_TIME) && !tg->virtual_time)
		return "waits for minutes: run against the builtin target (virtual time)";
	return NULL;
}

/* A test over a transport it does not use is not-applicable. */
static const char *unmet_transport(const cf_test *t, const cf_target *tg)
{
	if ((t->needs & CF_NEEDS_UDP) && tg->stream)
		return "needs datagrams to the target: runs over udp:// and builtin";
	if ((t->needs & CF_NEEDS_STREAM) && !tg->stream)
		return "needs a TCP or TLS connection to the target: runs over tcp:// and tls://";
	return NULL;
}

static void judge(cf_ctx *ctx, cf_result *r, bool strict)
{
	const cf_check *first_fail = NULL;
	bool must_failed = false, should_failed = false;
	for (size_t i = 0; i < r->check_count; i++) {
		const cf_check *c = &r->checks[i];
		if (c->ok)
			continue;
		if (!first_fail)
			first_fail = c;
		must_failed |= c->level == CF_MUST;
		should_failed |= c->level != CF_MUST;
	}
	if (ctx->error) {
		r->verdict = CF_ERROR;
	} else if (first_fail) {
		r->verdict = CF_FAIL;
		r->blocking = must_failed || (strict && should_failed);
		r->warning = !r->blocking;
		free(r->reason);
		if (asprintf(&r->reason, "%s (%s): %s", first_fail->req,
			     cf_level_name(first_fail->level),
			     first_fail->message ? first_fail->message : "") < 0)
			r->reason = NULL;
	} else if (ctx->skipped) {
		r->verdict = CF_SKIP;
	} else if (ctx->na) {
		r->verdict = CF_NOT_APPLICABLE;
	} else if (r->check_count == 0) {
		r->verdict = CF_ERROR;
		r->reason = strdup("harness bug: the test made no check");
	} else {
		r->verdict = CF_PASS;
	}
}

/* Each client still holding an allocation releases it (alloc_release.c),
 * 200 ms at most per client; real targets only: the builtin's core goes
 * with the test, and an sdp: target has no TURN allocations. */
static void release_allocations(cf_ctx *ctx)
{
	cf_target *t = ctx->t;
	if (t->virtual_time || strcmp(t->kind, "sdp") == 0)
		return;
	int released = 0, tried = 0;
	for (int c = 0; c < ctx->nclients; c++) {
		if (!ctx->alloc[c].allocated ||
		    (t->client_closed && t->client_closed(t, ctx->client_ix[c])))
			continue;
		uint8_t tids[2][12];
		cf_random(ctx, &tids[0][0], sizeof tids);
		tried++;
		released += cf_alloc_release(t, ctx->client_ix[c], &ctx->alloc[c], tids,
					     mono_ms() + 200, mono_ms);
	}
	if (tried)
		cf_note(ctx, "harness: released %d of %d allocation(s) after the test (Refresh, "
			     "LIFETIME 0, RFC 8656 §7.3)",
			released, tried);
}

void cf_run_one(cf_run *run, cf_target *t, const cf_test *test, cf_result *r,
		unsigned repetition)
{
	memset(r, 0, sizeof *r);
	r->test = test;
	snprintf(r->id, sizeof r->id, "%s/%s", test->suite, test->name);
	cf_ctx ctx;
	memset(&ctx, 0, sizeof ctx);
	ctx.t = t;
	ctx.res = r;
	ctx.cat = run->cat;
	ctx.o = &run->opts;
	/* Repetition k > 0 gets its own, still reproducible, randomness. */
	ctx.rng = run->opts.seed ^ fnv1a(r->id);
	for (unsigned k = 0; k < repetition; k++)
		ctx.rng ^= splitmix64(&ctx.rng);
	const char *na = unmet_transport(test, t);
	if (na) {
		r->verdict = CF_NOT_APPLICABLE;
		r->reason = strdup(na);
		return;
	}
	const char *need = unmet_need(test, t);
	if (need) {
		r->verdict = CF_SKIP;
		r->reason = strdup(need);
		return;
	}
	ctx.start_ms = mono_ms();
	ctx.deadline_ms = ctx.start_ms + run->opts.test_timeout_ms;
	if (t->reset(t, ctx.rng) < 0) {
		r->verdict = CF_ERROR;
		r->reason = strdup("the target could not be reset for this test");
		return;
	}
	test->run(&ctx);
	judge(&ctx, r, run->opts.strict);
	release_allocations(&ctx);
	r->duration_ms = t->virtual_time ? ctx.virtual_ms : mono_ms() - ctx.start_ms;
	for (int i = 0; i < ctx.nclients; i++)
		free(ctx.backlog[i]);
}

void cf_result_free(cf_result *r)
{
	for (size_t k = 0; k < r->check_count; k++)
		free(r->checks[k].message);
	for (size_t k = 0; k < r->packet_count; k++)
		free(r->packets[k].data);
	free(r->checks);
	free(r->packets);
	free(r->reason);
	free(r->notes);
	free(r->waiver);
}

int cf_run_tests(cf_run *run, cf_target *t, const cf_catalogue *cat, const cf_run_options *o,
		 char *err, size_t err_len)
{
	memset(run, 0, sizeof *run);
	run->opts = *o;
	if (!run->opts.recv_timeout_ms)
		run->opts.recv_timeout_ms = 500;
	if (!run->opts.silence_ms)
		run->opts.silence_ms = 300;
	if (!run->opts.test_timeout_ms)
		run->opts.test_timeout_ms = 20000;
	run->cat = cat;
	snprintf(run->target_uri, sizeof run->target_uri, "%s", t->uri);
	snprintf(run->target_kind, sizeof run->target_kind, "%s", t->kind);
	snprintf(run->target_user, sizeof run->target_user, "%s", t->user);
	snprintf(run->target_realm, sizeof run->target_realm, "%s", t->realm);
	snprintf(run->target_password, sizeof run->target_password, "%s", t->password);
	/* An sdp: target is one call of an SBC: its tests run once each, in
	 * order (the first nominates, RFC 8445 §8.1.1), never side by side. */
	if (strcmp(t->kind, "sdp") == 0 && (o->jobs > 1 || o->repeat > 1)) {
		snprintf(err, err_len, "--jobs and --repeat do not apply to an sdp: target (one "
				       "SBC call: each test once, in order)");
		return -1;
	}
	for (size_t i = 0; i < o->suite_count; i++) {
		bool known = false;
		for (const char *const *n = cf_suite_names(); *n; n++)
			known |= strcmp(*n, o->suites[i]) == 0;
		if (!known) {
			snprintf(err, err_len, "unknown suite '%s'", o->suites[i]);
			return -1;
		}
	}
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(run->started_at, sizeof run->started_at, "%Y-%m-%dT%H:%M:%SZ", &tm);
	char stamp[32];
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	snprintf(run->run_id, sizeof run->run_id, "%s-%s-%llu", stamp, t->kind,
		 (unsigned long long)o->seed);

	size_t n;
	const cf_test *tests = cf_tests_all(&n);
	size_t chosen = 0;
	for (size_t i = 0; i < n; i++)
		chosen += selected(&tests[i], o);
	if (chosen == 0) {
		snprintf(err, err_len, "no test matches the --suite/--test selection");
		return -1;
	}
	run->results = calloc(chosen, sizeof *run->results);
	if (!run->results) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	const cf_test **order = calloc(chosen, sizeof *order);
	if (!order) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (selected(&tests[i], o))
			order[run->result_count++] = &tests[i];
	uint64_t start = mono_ms();
	cf_run_schedule(run, t, order, chosen);
	free(order);
	for (size_t i = 0; i < run->result_count; i++) {
		const cf_result *r = &run->results[i];
		run->counts[r->verdict]++;
		run->warnings += r->warning;
		run->blocking += r->blocking;
	}
	run->duration_ms = mono_ms() - start;
	run->exit_code = run->blocking || run->counts[CF_ERROR] ? 1 : 0;
	return 0;
}

void cf_run_free(cf_run *run)
{
	for (size_t i = 0; i < run->result_count; i++)
		cf_result_free(&run->results[i]);
	free(run->results);
	memset(run, 0, sizeof *run);
}
