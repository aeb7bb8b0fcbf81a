/* The TURN server core (turn_server.h): the object, the dispatch of what a
 * client sends (RFC 8656 §5, RFC 8489 §6.3), timers, tables and the reply
 * helpers shared by server_*.c. Sans-I/O: time comes as now_ms, output
 * goes through the callbacks (ARCHITECTURE.md). */
#include "server_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- configuration and lifetime of the object ---- */

void il_turn_server_config_defaults(il_turn_server_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->realm = "icelab";
	cfg->software = "icelab";
	cfg->default_lifetime_s = 600;   /* RFC 8656 §6: "default lifetime value of 600 seconds" */
	cfg->max_lifetime_s = 3600;      /* §7.2: "RECOMMENDED ... no more than 3600 seconds" */
	cfg->permission_lifetime_s = 300; /* §9: "The Permission Lifetime MUST be 300 seconds" */
	cfg->channel_lifetime_s = 600;   /* §12: "A channel binding lasts for 10 minutes" */
	cfg->nonce_lifetime_s = 600;     /* §5: "SHOULD expire the nonce at least once every hour" */
	cfg->max_allocations = 50000;
	cfg->max_allocations_per_user = 100;
	cfg->max_permissions = 32;
	cfg->max_channels = 32;
	/* max_401_per_second and max_bps_per_allocation stay 0 (no limit):
	 * a core embedded in a simulator or a conformance target sees one
	 * source only; `icelab serve` sets 50 a second, bursts of 100. */
	cfg->allow_md5 = true;
	cfg->allow_sha256 = true;
	cfg->relay_ipv4 = true;
	cfg->relay_ipv6 = true;
}

static int copy_text(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;
	if (n >= cap)
		return -1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

static int apply_config(il_turn_server *srv, const il_turn_server_config *cfg)
{
	if (!cfg->realm || !*cfg->realm || cfg->default_lifetime_s == 0 ||
	    cfg->max_lifetime_s < cfg->default_lifetime_s || cfg->permission_lifetime_s == 0 ||
	    cfg->channel_lifetime_s == 0 || cfg->nonce_lifetime_s == 0 ||
	    cfg->max_allocations == 0 || (!cfg->allow_md5 && !cfg->allow_sha256) ||
	    cfg->max_401_per_second > 1000000 || cfg->burst_401 > 1000000 ||
	    cfg->max_bps_per_allocation > (1ull << 40))
		return -1;
	if (copy_text(srv->realm, sizeof srv->realm, cfg->realm) < 0 ||
	    copy_text(srv->software, sizeof srv->software, cfg->software) < 0)
		return -1;
	srv->cfg = *cfg;
	srv->cfg.realm = srv->realm;
	srv->cfg.software = cfg->software ? srv->software : NULL;
	/* The policy is copied: the caller may free or rebuild its own. No
	 * policy given is the default one: special-purpose ranges denied. */
	if (cfg->peers)
		srv->peers = *cfg->peers;
	else
		il_peer_policy_init(&srv->peers);
	srv->cfg.peers = &srv->peers;
	return 0;
}

il_turn_server *il_turn_server_new(const il_turn_server_config *cfg,
				   const il_turn_server_callbacks *cb)
{
	if (!cfg || !cb || !cb->send_to_client)
		return NULL;
	il_turn_server *srv = calloc(1, sizeof *srv);
	if (!srv)
		return NULL;
	srv->cb = *cb;
	if (apply_config(srv, cfg) < 0 || cfg->max_allocations > (1u << 30)) {
		free(srv);
		return NULL;
	}
	uint32_t buckets = 64;
	while (buckets < cfg->max_allocations)
		buckets <<= 1;
	srv->table_mask = buckets - 1;
	srv->heap_cap = cfg->max_allocations;
	srv->by_ft = calloc(buckets, sizeof *srv->by_ft);
	srv->by_relay = calloc(buckets, sizeof *srv->by_relay);
	srv->users = calloc(buckets, sizeof *srv->users);
	srv->heap = calloc(srv->heap_cap, sizeof *srv->heap);
	srv->limits = calloc(TURN_LIMIT_SOURCES, sizeof *srv->limits);
	if (!srv->by_ft || !srv->by_relay || !srv->users || !srv->heap || !srv->limits) {
		il_turn_server_free(srv);
		return NULL;
	}
	/* The hash seed keeps an attacker who picks client ports from
	 * aiming at one bucket; randomness comes from the caller. */
	if (cb->random)
		cb->random(cb->user, (uint8_t *)&srv->hash_seed, sizeof srv->hash_seed);
	srv->next_conn_id = 1;
	turn_auth_init(srv);
	return srv;
}

void il_turn_server_free(il_turn_server *srv)
{
	if (!srv)
		return;
	if (srv->heap) {
		/* No callbacks here: the driver closes its own sockets. */
		for (uint32_t i = 0; i < srv->heap_len; i++) {
			turn_alloc *a = srv->heap[i];
			free(a->perms);
			free(a->chans);
			free(a);
		}
	}
	for (turn_conn *c = srv->conns, *next; c; c = next) {
		next = c->next;
		free(c);
	}
	if (srv->users) {
		for (uint32_t i = 0; i <= srv->table_mask; i++)
			for (turn_user *u = srv->users[i], *next; u; u = next) {
				next = u->next;
				free(u);
			}
	}
	free(srv->by_ft);
	free(srv->by_relay);
	free(srv->users);
	free(srv->heap);
	free(srv->limits);
	free(srv);
}

int il_turn_server_reconfigure(il_turn_server *srv, const il_turn_server_config *cfg)
{
	/* The tables were sized from max_allocations: it may shrink, not grow. */
	if (!cfg || cfg->max_allocations > srv->heap_cap)
		return -1;
	uint8_t secret[32];
	memcpy(secret, srv->cfg.nonce_secret, sizeof secret);
	if (apply_config(srv, cfg) < 0)
		return -1;
	if (memcmp(secret, cfg->nonce_secret, sizeof secret) != 0)
		turn_auth_init(srv);
	/* A peer the new policy denies keeps no permission or channel: what
	 * an operator closes is closed now, not when the entries expire. */
	for (uint32_t i = 0; i < srv->heap_len; i++)
		turn_relay_drop_denied(srv, srv->heap[i]);
	turn_tcp_drop_denied(srv);
	return 0;
}

void il_turn_server_get_stats(const il_turn_server *srv, il_turn_server_stats *out)
{
	*out = srv->stats;
}

/* ---- memory accounting: every byte the core holds beyond its tables ---- */

void *turn_malloc(il_turn_server *srv, size_t n)
{
	void *p = calloc(1, n);
	if (p)
		srv->heap_bytes += n;
	return p;
}

void *turn_realloc(il_turn_server *srv, void *p, size_t old_n, size_t new_n)
{
	void *q = realloc(p, new_n);
	if (q)
		srv->heap_bytes += new_n - old_n;
	return q;
}

void turn_free(il_turn_server *srv, void *p, size_t n)
{
	if (!p)
		return;
	srv->heap_bytes -= n;
	free(p);
}

/* ---- hashing ---- */

static uint64_t mix64(uint64_t h)
{
	/* The 64-bit finaliser of MurmurHash3: every input bit reaches every
	 * output bit; the secret seed goes in first. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static uint64_t hash_addr64(uint64_t h, const il_addr *a)
{
	uint64_t w0 = 0, w1 = 0;
	size_t n = a->family == IL_AF_INET ? 4 : 16;
	memcpy(&w0, a->ip, n < 8 ? n : 8);
	if (n > 8)
		memcpy(&w1, a->ip + 8, 8);
	h = mix64(h ^ w0);
	h = mix64(h ^ w1 ^ ((uint64_t)a->port << 8 | a->family));
	return h;
}

uint32_t turn_hash_addr(const il_turn_server *srv, const il_addr *a, uint32_t extra)
{
	return (uint32_t)hash_addr64(srv->hash_seed ^ extra, a);
}

uint32_t turn_hash_ft(const il_turn_server *srv, const il_five_tuple *ft)
{
	uint64_t h = hash_addr64(srv->hash_seed ^ ft->transport, &ft->remote);
	return (uint32_t)hash_addr64(h, &ft->local);
}

bool turn_ft_equal(const il_five_tuple *a, const il_five_tuple *b)
{
	return a->transport == b->transport && il_addr_equal(&a->remote, &b->remote) &&
	       il_addr_equal(&a->local, &b->local);
}

bool turn_ip_equal(const il_addr *a, const il_addr *b)
{
	return a->family == b->family &&
	       memcmp(a->ip, b->ip, a->family == IL_AF_INET ? 4 : 16) == 0;
}

void turn_event(il_turn_server *srv, enum il_turn_event ev, const il_five_tuple *ft,
		const char *detail)
{
	if (srv->cb.event)
		srv->cb.event(srv->cb.user, (int)ev, ft, detail);
}

uint64_t turn_unix_s(const il_turn_server *srv, uint64_t now_ms)
{
	int64_t t = (int64_t)now_ms + srv->cfg.wall_clock_offset_ms;
	return t < 0 ? 0 : (uint64_t)t / 1000u;
}

/* ---- replies ---- */

void turn_reply_begin(il_turn_server *srv, il_stun_builder *b, const il_stun_msg *req,
		      uint8_t cls)
{
	il_stun_builder_init(b, srv->out, sizeof srv->out, req->method, cls, req->tid);
}

void turn_reply_send(il_turn_server *srv, il_stun_builder *b, const il_five_tuple *ft,
		     const turn_auth *auth, bool software)
{
	if (software && srv->cfg.software)
		il_stun_add_string(b, IL_ATTR_SOFTWARE, srv->software, strlen(srv->software));
	/* RFC 8489 §9.2.4: responses to an authenticated request carry the
	 * integrity computed with the key that authenticated it. */
	if (auth) {
		if (auth->mi_sha256)
			il_stun_add_message_integrity_sha256(b, &auth->key, 32);
		else
			il_stun_add_message_integrity(b, &auth->key);
	}
	il_stun_add_fingerprint(b);
	size_t len = il_stun_builder_finish(b, NULL);
	if (len)
		srv->cb.send_to_client(srv->cb.user, ft, srv->out, len);
}

void turn_reply_error(il_turn_server *srv, const il_five_tuple *ft, const il_stun_msg *req,
		      const turn_auth *auth, int code)
{
	il_stun_builder b;
	turn_reply_begin(srv, &b, req, IL_STUN_ERROR);
	il_stun_add_error_code(&b, code, il_stun_error_reason(code));
	turn_reply_send(srv, &b, ft, auth, true);
}

/* ---- dispatch ---- */

void turn_reply_420(il_turn_server *srv, const il_five_tuple *ft, const il_stun_msg *req,
		    const uint16_t *types, size_t count)
{
	/* "If the request contains one or more unknown comprehension-required
	 * attributes, the server replies with an error response with an error
	 * code of 420 (Unknown Attribute) and includes an UNKNOWN-ATTRIBUTES
	 * attribute in the response that lists the unknown
	 * comprehension-required attributes." (RFC 8489 §6.3.1.1) */
	il_stun_builder b;
	turn_reply_begin(srv, &b, req, IL_STUN_ERROR);
	il_stun_add_error_code(&b, 420, il_stun_error_reason(420));
	il_stun_add_unknown_attributes(&b, types, count);
	turn_reply_send(srv, &b, ft, NULL, true);
}

/* RFC 5780 attributes are understood only when behaviour discovery is on
 * (other_address set, UDP); otherwise they are unknown
 * comprehension-required attributes like any other. */
static size_t unknown_attributes(const il_turn_server *srv, const il_five_tuple *ft,
				 const il_stun_msg *msg, uint16_t *types)
{
	size_t n = 0;
	for (unsigned i = 0; i < msg->unknown_required_count; i++)
		types[n++] = msg->unknown_required[i];
	bool rfc5780 = msg->method == IL_STUN_BINDING && ft->transport == IL_TRANSPORT_UDP &&
		       srv->cfg.other_address.family != IL_AF_NONE;
	if (!rfc5780) {
		static const uint16_t discovery[] = {IL_ATTR_CHANGE_REQUEST, IL_ATTR_RESPONSE_PORT,
						     IL_ATTR_PADDING};
		for (size_t k = 0; k < 3; k++)
			if (il_stun_msg_find(msg, discovery[k]) && n < IL_STUN_MAX_UNKNOWN + 3)
				types[n++] = discovery[k];
	}
	return n;
}

static void handle_request(il_turn_server *srv, const il_five_tuple *ft, const il_stun_msg *req,
			   uint64_t now_ms)
{
	uint16_t unknown[IL_STUN_MAX_UNKNOWN + 3];
	size_t n_unknown = unknown_attributes(srv, ft, req, unknown);
	if (n_unknown) {
		turn_reply_420(srv, ft, req, unknown, n_unknown);
		return;
	}
	switch (req->method) {
	case IL_STUN_BINDING:
		turn_handle_binding(srv, ft, req);
		return;
	case IL_STUN_ALLOCATE:
		turn_handle_allocate(srv, ft, req, now_ms);
		return;
	case IL_STUN_REFRESH:
		turn_handle_refresh(srv, ft, req, now_ms);
		return;
	case IL_STUN_CREATEPERMISSION:
		turn_handle_create_permission(srv, ft, req, now_ms);
		return;
	case IL_STUN_CHANNELBIND:
		turn_handle_channel_bind(srv, ft, req, now_ms);
		return;
	case IL_STUN_CONNECT:
		turn_handle_connect(srv, ft, req, now_ms);
		return;
	case IL_STUN_CONNECTIONBIND:
		turn_handle_connection_bind(srv, ft, req, now_ms);
		return;
	default:
		/* A method we do not implement: a request we cannot process
		 * is a bad one (RFC 8489 §6.3.1, 400). */
		turn_reply_error(srv, ft, req, NULL, 400);
		return;
	}
}

void il_turn_server_handle_client(il_turn_server *srv, const il_five_tuple *ft,
				  const uint8_t *data, size_t len, uint64_t now_ms)
{
	/* RFC 7983 / RFC 8656 §12: first byte 64..79 is ChannelData; with
	 * RFC 5766 channels also 80..127 (unassigned in RFC 7983). */
	uint8_t cd_last = srv->cfg.rfc5766_channels ? 0x7F : 0x4F;
	if (len >= 1 && data[0] >= 0x40 && data[0] <= cd_last) {
		turn_handle_channeldata(srv, ft, data, len, now_ms);
		return;
	}
	il_stun_msg msg;
	if (il_stun_decode(data, len, &msg, NULL) != IL_STUN_OK) {
		/* Not a STUN message we can read: silence (RFC 8489 §6.3). */
		srv->stats.dropped_malformed++;
		turn_event(srv, IL_TURN_EV_DROPPED_MALFORMED, ft, "undecodable");
		return;
	}
	/* "If the FINGERPRINT extension is being used ... If any errors are
	 * detected, the message is silently discarded." (RFC 8489 §7.3) */
	if (il_stun_check_fingerprint(&msg) == IL_STUN_VERDICT_MISMATCH) {
		srv->stats.dropped_malformed++;
		turn_event(srv, IL_TURN_EV_DROPPED_MALFORMED, ft, "fingerprint");
		return;
	}
	/* TURN "does not use the backwards-compatibility mechanism" (RFC 8656
	 * §5): RFC 3489 messages are Binding only. */
	if (msg.classic && msg.method != IL_STUN_BINDING) {
		srv->stats.dropped_malformed++;
		return;
	}
	switch (msg.cls) {
	case IL_STUN_REQUEST:
		handle_request(srv, ft, &msg, now_ms);
		return;
	case IL_STUN_INDICATION:
		/* Indications are never answered, whatever is wrong with them
		 * (RFC 8489 §6.3.2). */
		if (msg.unknown_required_count) {
			srv->stats.dropped_malformed++;
			return;
		}
		if (msg.method == IL_STUN_SEND)
			turn_handle_send(srv, ft, &msg, now_ms);
		return; /* Binding indications are keepalives */
	default:
		/* A response from a client: never answer it (no error for an
		 * error, RFC 8489 §6.3.3, §6.3.4). */
		srv->stats.dropped_malformed++;
		return;
	}
}

void il_turn_server_client_closed(il_turn_server *srv, const il_five_tuple *ft,
				  uint64_t now_ms)
{
	/* RFC 8656 §3.1 / RFC 6062 §5.5: over TCP and TLS the allocation
	 * lives with its control connection. */
	turn_alloc *a = turn_alloc_find(srv, ft);
	if (a)
		turn_alloc_delete(srv, a, IL_TURN_EV_ALLOCATION_DELETED, now_ms);
}

/* ---- timers: a min-heap of allocations by their earliest deadline ---- */

static void heap_swap(il_turn_server *srv, uint32_t i, uint32_t j)
{
	turn_alloc *t = srv->heap[i];
	srv->heap[i] = srv->heap[j];
	srv->heap[j] = t;
	srv->heap[i]->heap_index = i;
	srv->heap[j]->heap_index = j;
}

static void heap_fix(il_turn_server *srv, uint32_t i)
{
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (srv->heap[parent]->deadline_ms <= srv->heap[i]->deadline_ms)
			break;
		heap_swap(srv, i, parent);
		i = parent;
	}
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < srv->heap_len && srv->heap[l]->deadline_ms < srv->heap[m]->deadline_ms)
			m = l;
		if (r < srv->heap_len && srv->heap[r]->deadline_ms < srv->heap[m]->deadline_ms)
			m = r;
		if (m == i)
			break;
		heap_swap(srv, i, m);
		i = m;
	}
}

/* Recomputes a's earliest deadline and places it in the heap (inserting
 * it when new: heap_index == UINT32_MAX). */
void turn_schedule(il_turn_server *srv, turn_alloc *a)
{
	uint64_t d = turn_relay_next_deadline(a);
	a->deadline_ms = a->expires_ms < d ? a->expires_ms : d;
	if (a->heap_index == UINT32_MAX) {
		a->heap_index = srv->heap_len;
		srv->heap[srv->heap_len++] = a;
	}
	heap_fix(srv, a->heap_index);
}

void turn_heap_remove(il_turn_server *srv, turn_alloc *a)
{
	uint32_t i = a->heap_index;
	if (i == UINT32_MAX)
		return;
	srv->heap_len--;
	if (i != srv->heap_len) {
		srv->heap[i] = srv->heap[srv->heap_len];
		srv->heap[i]->heap_index = i;
		heap_fix(srv, i);
	}
	a->heap_index = UINT32_MAX;
}

void il_turn_server_timer(il_turn_server *srv, uint64_t now_ms)
{
	while (srv->heap_len && srv->heap[0]->deadline_ms <= now_ms) {
		turn_alloc *a = srv->heap[0];
		if (a->expires_ms <= now_ms) {
			turn_alloc_delete(srv, a, IL_TURN_EV_ALLOCATION_EXPIRED, now_ms);
			continue;
		}
		turn_relay_expire(srv, a, now_ms);
		turn_schedule(srv, a);
	}
	turn_tcp_expire(srv, now_ms);
}

uint64_t il_turn_server_next_deadline(const il_turn_server *srv)
{
	uint64_t d = srv->heap_len ? srv->heap[0]->deadline_ms : UINT64_MAX;
	uint64_t t = turn_tcp_next_deadline(srv);
	return t < d ? t : d;
}
