/* The TURN client core (RFC 8656 §5, §7-§12) with the client side of the
 * long-term credential mechanism (RFC 8489 §9.2.3-§9.2.5): one allocation
 * on one server, over UDP or a stream (TCP, TLS).
 *
 * Every request goes through an "operation" (allocate, refresh,
 * permission, channel) that can be rebuilt with a new transaction id when
 * the server challenges it (401, 438) or refuses DONT-FRAGMENT (420).
 * Requests travel in the STUN transaction table (stun_client.h), which
 * retransmits and times out; this file decides what responses mean.
 * No I/O, no clock, no randomness of its own (ARCHITECTURE.md). */
#include "icelab/turn_client.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "icelab/channeldata.h"

/* USERNAME: "MUST contain a UTF-8-encoded sequence of fewer than 509
 * bytes" (RFC 8489 §14.3); REALM and NONCE: "as long as 763 bytes when
 * decoding" (§14.9, §14.10). */
#define USERNAME_MAX 509
#define PASSWORD_MAX 513
#define TEXT_MAX 764
#define PEERS_PER_REQUEST 8
#define OUT_CAP (IL_STUN_HEADER_LEN + 65536 + 128)
#define STREAM_CAP (65536 + 8)
#define PERMISSION_LIFETIME_MS (300u * 1000u) /* RFC 8656 §9 */

enum op_kind { OP_ALLOCATE = 1, OP_REFRESH, OP_PERMISSION, OP_CHANNEL };
enum entry_state { ENTRY_FREE = 0, ENTRY_PENDING, ENTRY_ACTIVE };

typedef struct op {
	bool active;
	uint8_t kind;           /* enum op_kind */
	bool authenticated;     /* the request carried MESSAGE-INTEGRITY(-SHA256) */
	bool release;           /* Refresh with LIFETIME 0 */
	bool quiet;             /* release after a refused success: no event */
	uint8_t nonce_retries, auth_retries;
	uint8_t npeers;
	uint8_t perm[PEERS_PER_REQUEST]; /* OP_PERMISSION: permission slots */
	uint8_t chan;           /* OP_CHANNEL: channel slot */
} op;

typedef struct permission {
	uint8_t state;          /* enum entry_state */
	bool in_flight;         /* a CreatePermission or ChannelBind covers it */
	bool keep;              /* refresh while the allocation lives */
	il_addr ip;             /* port 0: permissions are per IP (§9) */
	uint64_t refresh_at_ms;
} permission;

typedef struct channel {
	uint8_t state;
	bool in_flight;
	uint16_t number;
	il_addr peer;
	uint64_t refresh_at_ms;
} channel;

/* What the last challenge told us (RFC 8489 §9.2.5), and the key. */
typedef struct auth_state {
	bool have;
	char realm[TEXT_MAX];
	char nonce[TEXT_MAX];
	size_t nonce_len;
	uint8_t algs[64];       /* PASSWORD-ALGORITHMS, copied as received */
	size_t algs_len;
	bool has_algs;
	uint16_t alg;
	bool userhash;
	uint8_t hash[32];
	il_stun_key key;
} auth_state;

struct il_turn_client {
	il_turn_client_config cfg;
	il_turn_client_callbacks cb;
	char username[USERNAME_MAX];
	char password[PASSWORD_MAX];
	char software[TEXT_MAX];
	enum il_turn_client_state state;
	auth_state auth;
	bool df_refused;        /* the server listed DONT-FRAGMENT in a 420 */
	il_addr relayed[2];
	uint8_t relayed_count;
	il_addr mapped;
	uint32_t lifetime_s;
	uint64_t expires_ms, refresh_at_ms;
	uint16_t next_channel;
	permission perms[IL_TURN_CLIENT_MAX_PERMISSIONS];
	channel chans[IL_TURN_CLIENT_MAX_CHANNELS];
	op ops[IL_TURN_CLIENT_MAX_TRANSACTIONS];
	il_stun_txn_table txns;
	il_stun_txn txn_slots[IL_TURN_CLIENT_MAX_TRANSACTIONS];
	char reason[256];
	il_stream stream;
	uint8_t out[OUT_CAP];
	uint8_t stream_buf[];   /* STREAM_CAP bytes when cfg.stream */
};

/* ---- names ---- */

const char *il_turn_client_state_name(enum il_turn_client_state state)
{
	static const char *const names[] = {"idle", "allocating", "allocated", "releasing",
					    "released"};
	return (unsigned)state < sizeof names / sizeof names[0] ? names[state] : "unknown";
}

const char *il_turn_client_event_name(int type)
{
	static const char *const names[] = {
		"none", "allocated", "allocate-failed", "refreshed", "refresh-failed",
		"released", "allocation-lost", "permission-ok", "permission-failed",
		"channel-bound", "channel-failed"};
	return type >= 0 && (size_t)type < sizeof names / sizeof names[0] ? names[type]
									  : "unknown";
}

const char *il_turn_client_failure_name(int failure)
{
	static const char *const names[] = {"none",        "error-response", "timeout",
					    "integrity",   "auth",           "bad-response",
					    "connection",  "expired"};
	return failure >= 0 && (size_t)failure < sizeof names / sizeof names[0] ? names[failure]
										: "unknown";
}

/* ---- small helpers ---- */

static size_t ip_len(uint8_t family)
{
	return family == IL_AF_INET ? 4 : 16;
}

static bool same_ip(const il_addr *a, const il_addr *b)
{
	return a->family == b->family && memcmp(a->ip, b->ip, ip_len(a->family)) == 0;
}

static bool valid_peer(const il_turn_client *c, const il_addr *peer)
{
	if (peer->family != IL_AF_INET && peer->family != IL_AF_INET6)
		return false;
	/* "The client MUST only include XOR-PEER-ADDRESS attributes with
	 * addresses of the same address family as that of the relayed
	 * transport address for the allocation." (§10.1, §12.1) */
	for (unsigned i = 0; i < c->relayed_count; i++)
		if (c->relayed[i].family == peer->family)
			return true;
	return false;
}

static void emit(il_turn_client *c, il_turn_client_event *ev)
{
	if (!ev->reason)
		ev->reason = "";
	if (c->cb.event)
		c->cb.event(c->cb.user, ev);
}

static void emit_simple(il_turn_client *c, int type, int failure, int code, const char *reason)
{
	il_turn_client_event ev = {.type = type, .failure = failure, .error_code = code,
				   .reason = reason};
	emit(c, &ev);
}

static const char *copy_reason(il_turn_client *c, const char *text, size_t len)
{
	if (len >= sizeof c->reason)
		len = sizeof c->reason - 1;
	memcpy(c->reason, text, len);
	c->reason[len] = '\0';
	return c->reason;
}

static bool copy_cstr(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;
	if (n >= cap)
		return false;
	memcpy(dst, src ? src : "", n + 1);
	return true;
}

static permission *find_permission(il_turn_client *c, const il_addr *peer)
{
	for (unsigned i = 0; i < IL_TURN_CLIENT_MAX_PERMISSIONS; i++)
		if (c->perms[i].state != ENTRY_FREE && same_ip(&c->perms[i].ip, peer))
			return &c->perms[i];
	return NULL;
}

static permission *new_permission(il_turn_client *c, const il_addr *peer)
{
	for (unsigned i = 0; i < IL_TURN_CLIENT_MAX_PERMISSIONS; i++) {
		permission *p = &c->perms[i];
		if (p->state != ENTRY_FREE)
			continue;
		memset(p, 0, sizeof *p);
		p->state = ENTRY_PENDING;
		p->keep = true;
		p->ip = *peer;
		p->ip.port = 0;
		return p;
	}
	return NULL;
}

static channel *find_channel_by_peer(il_turn_client *c, const il_addr *peer)
{
	for (unsigned i = 0; i < IL_TURN_CLIENT_MAX_CHANNELS; i++)
		if (c->chans[i].state != ENTRY_FREE && il_addr_equal(&c->chans[i].peer, peer))
			return &c->chans[i];
	return NULL;
}

static channel *find_channel_by_number(il_turn_client *c, uint16_t number)
{
	for (unsigned i = 0; i < IL_TURN_CLIENT_MAX_CHANNELS; i++)
		if (c->chans[i].state != ENTRY_FREE && c->chans[i].number == number)
			return &c->chans[i];
	return NULL;
}

static op *new_op(il_turn_client *c, uint8_t kind)
{
	for (unsigned i = 0; i < IL_TURN_CLIENT_MAX_TRANSACTIONS; i++) {
		if (c->ops[i].active)
			continue;
		memset(&c->ops[i], 0, sizeof c->ops[i]);
		c->ops[i].active = true;
		c->ops[i].kind = kind;
		return &c->ops[i];
	}
	return NULL;
}

static bool op_of_kind_active(const il_turn_client *c, uint8_t kind)
{
	for (unsigned i = 0; i < IL_TURN_CLIENT_MAX_TRANSACTIONS; i++)
		if (c->ops[i].active && c->ops[i].kind == kind)
			return true;
	return false;
}

/* Forgets the allocation's state: transactions (silently), operations,
 * permissions, channels. */
static void clear_allocation(il_turn_client *c)
{
	il_stun_txn_end_all(&c->txns, 0, 0);
	memset(c->ops, 0, sizeof c->ops);
	memset(c->perms, 0, sizeof c->perms);
	memset(c->chans, 0, sizeof c->chans);
	c->relayed_count = 0;
}

static void allocation_lost(il_turn_client *c, int failure, int code, const char *reason)
{
	clear_allocation(c);
	c->state = IL_TURN_CLIENT_RELEASED;
	emit_simple(c, IL_TURN_CLIENT_EV_ALLOCATION_LOST, failure, code, reason);
}

/* ---- building requests ---- */

/* Credentials for a request (RFC 8489 §9.2.3.2, §9.2.5): USERNAME or
 * USERHASH, REALM, NONCE, PASSWORD-ALGORITHMS and PASSWORD-ALGORITHM when
 * the server sent a list, then the integrity attribute. */
static void add_credentials(il_turn_client *c, il_stun_builder *b, op *o)
{
	const auth_state *a = &c->auth;
	o->authenticated = false;
	if (!a->have || !c->cfg.username)
		return;
	/* "If the "nonce cookie" is present and has the STUN Security Feature
	 * "Username anonymity" bit set to 1, then the USERHASH attribute MUST
	 * be used; else, the USERNAME attribute MUST be used." */
	if (a->userhash)
		il_stun_add_raw(b, IL_ATTR_USERHASH, a->hash, sizeof a->hash);
	else
		il_stun_add_string(b, IL_ATTR_USERNAME, c->username, strlen(c->username));
	il_stun_add_string(b, IL_ATTR_REALM, a->realm, strlen(a->realm));
	il_stun_add_string(b, IL_ATTR_NONCE, a->nonce, a->nonce_len);
	if (a->has_algs) {
		/* "If the response contains a PASSWORD-ALGORITHMS attribute, the
		 * request MUST contain the PASSWORD-ALGORITHMS attribute with the
		 * same content" ... "all the subsequent requests MUST be
		 * authenticated using MESSAGE-INTEGRITY-SHA256 only." */
		il_stun_add_raw(b, IL_ATTR_PASSWORD_ALGORITHMS, a->algs, a->algs_len);
		il_stun_add_password_algorithm(b, a->alg);
		il_stun_add_message_integrity_sha256(b, &a->key, 32);
	} else {
		il_stun_add_message_integrity(b, &a->key);
	}
	o->authenticated = true;
}

static void add_software(il_turn_client *c, il_stun_builder *b)
{
	/* "The client SHOULD include the SOFTWARE attribute in all Allocate
	 * and Refresh requests" (RFC 8656 §5). */
	if (c->software[0])
		il_stun_add_string(b, IL_ATTR_SOFTWARE, c->software, strlen(c->software));
}

static void add_allocate_attributes(il_turn_client *c, il_stun_builder *b)
{
	const il_turn_client_config *cfg = &c->cfg;
	/* "The client MUST include a REQUESTED-TRANSPORT attribute"; UDP is
	 * protocol 17 (§7.1, §18.8). */
	il_stun_add_u32(b, IL_ATTR_REQUESTED_TRANSPORT, 17u << 24);
	if (cfg->use_reservation_token) {
		il_stun_add_raw(b, IL_ATTR_RESERVATION_TOKEN, cfg->reservation_token, 8);
	} else {
		if (cfg->requested_family)
			il_stun_add_u32(b, IL_ATTR_REQUESTED_ADDRESS_FAMILY,
					(uint32_t)cfg->requested_family << 24);
		else if (cfg->additional_ipv6)
			il_stun_add_u32(b, IL_ATTR_ADDITIONAL_ADDRESS_FAMILY,
					(uint32_t)IL_AF_INET6 << 24);
		if (cfg->even_port) {
			uint8_t r = cfg->reserve_next ? 0x80 : 0x00;
			il_stun_add_raw(b, IL_ATTR_EVEN_PORT, &r, 1);
		}
	}
	if (cfg->lifetime_s)
		il_stun_add_u32(b, IL_ATTR_LIFETIME, cfg->lifetime_s);
	if (cfg->dont_fragment && !c->df_refused)
		il_stun_add_empty(b, IL_ATTR_DONT_FRAGMENT);
	add_software(c, b);
}

static size_t build_request(il_turn_client *c, op *o, uint8_t *buf, size_t cap)
{
	static const uint16_t methods[] = {
		[OP_ALLOCATE] = IL_STUN_ALLOCATE, [OP_REFRESH] = IL_STUN_REFRESH,
		[OP_PERMISSION] = IL_STUN_CREATEPERMISSION, [OP_CHANNEL] = IL_STUN_CHANNELBIND};
	uint8_t tid[IL_STUN_TID_LEN];
	c->cb.random(c->cb.user, tid, sizeof tid);
	il_stun_builder b;
	il_stun_builder_init(&b, buf, cap, methods[o->kind], IL_STUN_REQUEST, tid);
	switch (o->kind) {
	case OP_ALLOCATE:
		add_allocate_attributes(c, &b);
		break;
	case OP_REFRESH:
		/* "If the client wishes to immediately delete an existing
		 * allocation, it includes a LIFETIME attribute with a value of
		 * zero." (§8.1) */
		if (o->release)
			il_stun_add_u32(&b, IL_ATTR_LIFETIME, 0);
		else if (c->cfg.lifetime_s)
			il_stun_add_u32(&b, IL_ATTR_LIFETIME, c->cfg.lifetime_s);
		add_software(c, &b);
		break;
	case OP_PERMISSION:
		for (unsigned i = 0; i < o->npeers; i++)
			il_stun_add_xor_addr(&b, IL_ATTR_XOR_PEER_ADDRESS, &c->perms[o->perm[i]].ip);
		break;
	case OP_CHANNEL:
		il_stun_add_channel_number(&b, c->chans[o->chan].number);
		il_stun_add_xor_addr(&b, IL_ATTR_XOR_PEER_ADDRESS, &c->chans[o->chan].peer);
		break;
	}
	add_credentials(c, &b, o);
	if (c->cfg.fingerprint)
		il_stun_add_fingerprint(&b);
	return il_stun_builder_finish(&b, NULL);
}

/* Builds the operation's request with a new transaction id and starts its
 * transaction. Returns 0, or -1 (the operation stays untouched). */
static int send_op(il_turn_client *c, op *o, uint64_t now_ms)
{
	uint8_t req[IL_STUN_TXN_MSG_MAX];
	size_t len = build_request(c, o, req, sizeof req);
	if (!len)
		return -1;
	return il_stun_txn_start(&c->txns, req, len, (uint32_t)(o - c->ops), now_ms) ? 0 : -1;
}

/* ---- operation outcomes ---- */

static void finish_release(il_turn_client *c, op *o, int failure, int code, const char *reason)
{
	bool quiet = o->quiet;
	clear_allocation(c);
	c->state = IL_TURN_CLIENT_RELEASED;
	if (!quiet)
		emit_simple(c, IL_TURN_CLIENT_EV_RELEASED, failure, code, reason);
}

/* An operation ended without success: an error response, a timeout, an
 * integrity failure. The op slot is freed first: events may start others. */
static void op_failed(il_turn_client *c, op *o, int failure, int code, const char *reason,
		      const il_addr *alternate, uint64_t now_ms)
{
	op done = *o;
	o->active = false;
	/* "A client receiving a 437 error response to a request other than
	 * Allocate MUST assume the allocation no longer exists." (§5) */
	if (code == 437 && done.kind != OP_ALLOCATE) {
		if (done.release) /* "...its request as having effectively succeeded" (§8.3) */
			finish_release(c, &done, IL_TURN_CLIENT_FAIL_NONE, 0, NULL);
		else
			allocation_lost(c, failure, code, reason);
		return;
	}
	il_turn_client_event ev = {.failure = failure, .error_code = code, .reason = reason};
	switch (done.kind) {
	case OP_ALLOCATE:
		clear_allocation(c);
		c->state = IL_TURN_CLIENT_RELEASED;
		ev.type = IL_TURN_CLIENT_EV_ALLOCATE_FAILED;
		if (alternate)
			ev.alternate = *alternate;
		emit(c, &ev);
		break;
	case OP_REFRESH:
		if (done.release) {
			finish_release(c, &done, failure, code, reason);
			break;
		}
		/* Try again at once while the allocation lives; the expiry
		 * check in the timer ends it otherwise. */
		if (failure == IL_TURN_CLIENT_FAIL_TIMEOUT)
			c->refresh_at_ms = now_ms;
		else
			c->refresh_at_ms = c->expires_ms;
		ev.type = IL_TURN_CLIENT_EV_REFRESH_FAILED;
		emit(c, &ev);
		break;
	case OP_PERMISSION:
		for (unsigned i = 0; i < done.npeers; i++) {
			permission *p = &c->perms[done.perm[i]];
			if (p->state == ENTRY_FREE)
				continue;
			ev.type = IL_TURN_CLIENT_EV_PERMISSION_FAILED;
			ev.peer = p->ip;
			p->state = ENTRY_FREE;
			emit(c, &ev);
		}
		break;
	case OP_CHANNEL: {
		channel *ch = &c->chans[done.chan];
		if (ch->state == ENTRY_FREE)
			break;
		ev.type = IL_TURN_CLIENT_EV_CHANNEL_FAILED;
		ev.peer = ch->peer;
		ev.channel = ch->number;
		ch->state = ENTRY_FREE;
		emit(c, &ev);
		break;
	}
	}
}

static void on_txn_failed(void *user, uint32_t tag, enum il_stun_txn_failure why,
			  uint64_t now_ms)
{
	il_turn_client *c = user;
	if (tag >= IL_TURN_CLIENT_MAX_TRANSACTIONS || !c->ops[tag].active)
		return;
	int failure = why == IL_STUN_TXN_INTEGRITY_VIOLATED   ? IL_TURN_CLIENT_FAIL_INTEGRITY
		      : why == IL_STUN_TXN_CONNECTION_FAILED ? IL_TURN_CLIENT_FAIL_CONNECTION
							     : IL_TURN_CLIENT_FAIL_TIMEOUT;
	op_failed(c, &c->ops[tag], failure, 0, NULL, NULL, now_ms);
}

static void on_txn_send(void *user, const uint8_t *data, size_t len)
{
	il_turn_client *c = user;
	c->cb.send(c->cb.user, data, len);
}

static void set_lifetime(il_turn_client *c, uint32_t lifetime_s, uint64_t now_ms)
{
	uint32_t margin = c->cfg.refresh_margin_s;
	c->lifetime_s = lifetime_s;
	c->expires_ms = now_ms + (uint64_t)lifetime_s * 1000;
	uint64_t before = lifetime_s >= 2 * margin ? (uint64_t)(lifetime_s - margin) * 1000
						   : (uint64_t)lifetime_s * 500;
	c->refresh_at_ms = now_ms + before;
}

/* §7.3: relayed address(es), mapped address, lifetime, and what the server
 * could not allocate. */
static void allocate_succeeded(il_turn_client *c, op *o, const il_stun_msg *msg,
			       uint64_t now_ms)
{
	il_turn_client_event ev = {.type = IL_TURN_CLIENT_EV_ALLOCATED};
	for (unsigned i = 0; i < msg->attr_count && ev.relayed_count < 2; i++) {
		const il_stun_attr *a = &msg->attrs[i];
		if (a->type == IL_ATTR_XOR_RELAYED_ADDRESS && !a->ignored &&
		    il_stun_attr_get_addr(msg, a, &ev.relayed[ev.relayed_count]) == IL_STUN_OK)
			ev.relayed_count++;
	}
	const il_stun_attr *a = il_stun_msg_find(msg, IL_ATTR_LIFETIME);
	if (!ev.relayed_count || !a || il_stun_attr_get_u32(msg, a, &ev.lifetime_s) != IL_STUN_OK) {
		op_failed(c, o, IL_TURN_CLIENT_FAIL_BAD_RESPONSE, 0,
			  "success without XOR-RELAYED-ADDRESS or LIFETIME", NULL, now_ms);
		return;
	}
	if ((a = il_stun_msg_find(msg, IL_ATTR_XOR_MAPPED_ADDRESS)))
		il_stun_attr_get_addr(msg, a, &ev.mapped);
	if ((a = il_stun_msg_find(msg, IL_ATTR_RESERVATION_TOKEN)) && a->length == 8) {
		ev.has_reservation_token = true;
		memcpy(ev.reservation_token, il_stun_attr_value(msg, a), 8);
	}
	if ((a = il_stun_msg_find(msg, IL_ATTR_ADDRESS_ERROR_CODE)) && a->length >= 4) {
		const uint8_t *v = il_stun_attr_value(msg, a);
		ev.address_error_family = v[0];
		ev.address_error_code = (v[2] & 0x07) * 100 + v[3];
	}
	o->active = false;
	memcpy(c->relayed, ev.relayed, sizeof c->relayed);
	c->relayed_count = ev.relayed_count;
	c->mapped = ev.mapped;
	set_lifetime(c, ev.lifetime_s, now_ms);
	/* "the client MUST check that the mapped address and the relayed
	 * transport address or addresses are part of an address family or
	 * families that the client understands and is prepared to handle ...
	 * If these addresses are not ..., then the client MUST delete the
	 * allocation" (§7.3). We are prepared for the family we asked for. */
	uint8_t want = c->cfg.requested_family;
	if (want && ev.relayed[0].family != want) {
		op *rel = new_op(c, OP_REFRESH);
		c->state = IL_TURN_CLIENT_RELEASING;
		if (rel) {
			rel->release = rel->quiet = true;
			if (send_op(c, rel, now_ms) != 0)
				rel->active = false;
		}
		if (!rel || !rel->active) {
			clear_allocation(c);
			c->state = IL_TURN_CLIENT_RELEASED;
		}
		emit_simple(c, IL_TURN_CLIENT_EV_ALLOCATE_FAILED, IL_TURN_CLIENT_FAIL_BAD_RESPONSE,
			    0, "relayed address of a family not requested");
		return;
	}
	c->state = IL_TURN_CLIENT_ALLOCATED;
	emit(c, &ev);
}

static void refresh_succeeded(il_turn_client *c, op *o, const il_stun_msg *msg,
			      uint64_t now_ms)
{
	op done = *o;
	o->active = false;
	if (done.release) {
		finish_release(c, &done, IL_TURN_CLIENT_FAIL_NONE, 0, NULL);
		return;
	}
	/* "it updates its copy of the allocation data structure with the
	 * time-to-expiry value contained in the response" (§8.3) */
	uint32_t lifetime = c->lifetime_s;
	const il_stun_attr *a = il_stun_msg_find(msg, IL_ATTR_LIFETIME);
	if (a)
		il_stun_attr_get_u32(msg, a, &lifetime);
	if (lifetime == 0) {
		allocation_lost(c, IL_TURN_CLIENT_FAIL_BAD_RESPONSE, 0, "refreshed with lifetime 0");
		return;
	}
	set_lifetime(c, lifetime, now_ms);
	il_turn_client_event ev = {.type = IL_TURN_CLIENT_EV_REFRESHED, .lifetime_s = lifetime};
	emit(c, &ev);
}

static void permission_confirmed(il_turn_client *c, permission *p, uint64_t now_ms,
				 bool report)
{
	bool first = p->state == ENTRY_PENDING;
	p->state = ENTRY_ACTIVE;
	p->in_flight = false;
	p->refresh_at_ms = now_ms + (uint64_t)c->cfg.permission_refresh_s * 1000;
	il_addr ip = p->ip;
	if (!p->keep)
		p->state = ENTRY_FREE;
	if (first && report) {
		il_turn_client_event ev = {.type = IL_TURN_CLIENT_EV_PERMISSION_OK, .peer = ip};
		emit(c, &ev);
	}
}

static void permission_succeeded(il_turn_client *c, op *o, uint64_t now_ms)
{
	op done = *o;
	o->active = false;
	/* "the client updates its data structures to indicate that the
	 * permissions have been installed or refreshed" (§10.3) */
	for (unsigned i = 0; i < done.npeers && c->state == IL_TURN_CLIENT_ALLOCATED; i++) {
		permission *p = &c->perms[done.perm[i]];
		if (p->state != ENTRY_FREE)
			permission_confirmed(c, p, now_ms, true);
	}
}

static void channel_succeeded(il_turn_client *c, op *o, uint64_t now_ms)
{
	op done = *o;
	o->active = false;
	channel *ch = &c->chans[done.chan];
	if (ch->state == ENTRY_FREE)
		return;
	bool first = ch->state == ENTRY_PENDING;
	ch->state = ENTRY_ACTIVE;
	ch->in_flight = false;
	ch->refresh_at_ms = now_ms + (uint64_t)c->cfg.channel_refresh_s * 1000;
	/* "It also updates its data structures to record that the
	 * corresponding permission has been installed or refreshed." (§12.3) */
	permission *p = find_permission(c, &ch->peer);
	if (!p)
		p = new_permission(c, &ch->peer);
	if (p && !p->in_flight)
		permission_confirmed(c, p, now_ms, false);
	if (first) {
		il_turn_client_event ev = {.type = IL_TURN_CLIENT_EV_CHANNEL_BOUND,
					   .peer = ch->peer, .channel = ch->number};
		emit(c, &ev);
	}
}

static bool lists_unknown(const il_stun_msg *msg, uint16_t type)
{
	const il_stun_attr *a = il_stun_msg_find(msg, IL_ATTR_UNKNOWN_ATTRIBUTES);
	uint16_t types[IL_STUN_MAX_UNKNOWN];
	size_t n = 0;
	if (!a || il_stun_attr_get_unknown(msg, a, types, IL_STUN_MAX_UNKNOWN, &n) != IL_STUN_OK)
		return false;
	for (size_t i = 0; i < n && i < IL_STUN_MAX_UNKNOWN; i++)
		if (types[i] == type)
			return true;
	return false;
}

static void op_error_response(il_turn_client *c, op *o, const il_stun_msg *msg, int code,
			      const char *reason, uint64_t now_ms)
{
	/* "If the client included a DONT-FRAGMENT attribute in the request
	 * and the server rejected the request with a 420 error code and
	 * listed the DONT-FRAGMENT attribute in the UNKNOWN-ATTRIBUTES
	 * attribute ... [it] MAY choose to retry the Allocate request without
	 * the DONT-FRAGMENT attribute." (§7.4) */
	if (o->kind == OP_ALLOCATE && code == 420 && c->cfg.dont_fragment && !c->df_refused &&
	    lists_unknown(msg, IL_ATTR_DONT_FRAGMENT)) {
		c->df_refused = true;
		if (send_op(c, o, now_ms) == 0)
			return;
	}
	il_addr alternate = {0};
	const il_stun_attr *a = il_stun_msg_find(msg, IL_ATTR_ALTERNATE_SERVER);
	bool has_alternate = code == 300 && a && il_stun_attr_get_addr(msg, a, &alternate) == IL_STUN_OK;
	op_failed(c, o, IL_TURN_CLIENT_FAIL_ERROR_RESPONSE, code, reason,
		  has_alternate ? &alternate : NULL, now_ms);
}

/* ---- credentials: the challenge (401, 438) ---- */

/* The first algorithm of PASSWORD-ALGORITHMS we support, or 0. */
static uint16_t choose_algorithm(const il_turn_client *c, const il_stun_msg *msg,
				 const il_stun_attr *list)
{
	uint16_t algs[16];
	size_t n = 0;
	if (il_stun_attr_get_password_algorithms(msg, list, algs, 16, &n) != IL_STUN_OK)
		return 0;
	/* "the request MUST contain a PASSWORD-ALGORITHM attribute with the
	 * first algorithm supported on the list" (RFC 8489 §9.2.5) */
	for (size_t i = 0; i < n && i < 16; i++) {
		if (algs[i] == IL_STUN_PWALG_SHA256)
			return algs[i];
		if (algs[i] == IL_STUN_PWALG_MD5 && c->cfg.allow_md5)
			return algs[i];
	}
	return 0;
}

/* Learns realm, nonce, algorithm and key from a challenge into *next.
 * Returns NULL, or why the request must not be retried. */
static const char *learn_challenge(il_turn_client *c, const il_stun_msg *msg, auth_state *next)
{
	const il_stun_attr *realm = il_stun_msg_find(msg, IL_ATTR_REALM);
	const il_stun_attr *nonce = il_stun_msg_find(msg, IL_ATTR_NONCE);
	const il_stun_attr *list = il_stun_msg_find(msg, IL_ATTR_PASSWORD_ALGORITHMS);
	if (!realm || !nonce || realm->length >= TEXT_MAX || nonce->length >= TEXT_MAX)
		return "challenge without a usable REALM and NONCE";
	const char *nonce_text = (const char *)il_stun_attr_value(msg, nonce);
	const char *realm_text = (const char *)il_stun_attr_value(msg, realm);
	if (memchr(realm_text, '\0', realm->length))
		return "REALM with a NUL byte";
	uint32_t features = 0;
	bool cookie = il_stun_nonce_cookie_parse(nonce_text, nonce->length, &features);
	/* "If so and the "nonce cookie" has the STUN Security Feature
	 * "Password algorithms" bit set to 1 but no PASSWORD-ALGORITHMS
	 * attribute is present, then the client MUST NOT retry the request
	 * with a new transaction." */
	if (cookie && (features & IL_STUN_FEATURE_PASSWORD_ALGORITHMS) && !list)
		return "nonce cookie announces PASSWORD-ALGORITHMS but none came";
	memset(next, 0, sizeof *next);
	next->have = true;
	memcpy(next->realm, realm_text, realm->length);
	memcpy(next->nonce, nonce_text, nonce->length);
	next->nonce_len = nonce->length;
	if (list) {
		/* "If the response contains a PASSWORD-ALGORITHMS attribute, and
		 * this attribute does not contain any algorithm that is
		 * supported by the client, then the client MUST NOT retry" */
		next->alg = choose_algorithm(c, msg, list);
		if (!next->alg || list->length > sizeof next->algs)
			return "no supported algorithm in PASSWORD-ALGORITHMS";
		memcpy(next->algs, il_stun_attr_value(msg, list), list->length);
		next->algs_len = list->length;
		next->has_algs = true;
	} else {
		if (!c->cfg.allow_md5)
			return "server offers MD5 only and MD5 is not allowed";
		next->alg = IL_STUN_PWALG_MD5;
	}
	if (il_stun_key_long_term(&next->key, next->alg, c->username, next->realm,
				  c->password) != IL_STUN_OK)
		return "credentials refused by SASLprep";
	if (cookie && (features & IL_STUN_FEATURE_USERNAME_ANONYMITY)) {
		next->userhash = true;
		if (il_stun_userhash(c->username, next->realm, next->hash) != IL_STUN_OK)
			return "username refused by SASLprep";
	}
	return NULL;
}

/* RFC 8489 §9.2.5 for 401 and 438: retry with credentials or the new
 * nonce, within bounds, or report the error. */
static void handle_challenge(il_turn_client *c, op *o, il_stun_txn *txn, const il_stun_msg *msg,
			     int code, const char *reason, uint64_t now_ms)
{
	il_stun_txn_complete(&c->txns, txn, now_ms);
	int failure = IL_TURN_CLIENT_FAIL_ERROR_RESPONSE;
	const char *why = NULL;
	if (!c->cfg.username) {
		why = reason;
	} else if (code == 401 && o->authenticated) {
		/* "The client MUST NOT perform this retry if it is not changing
		 * the USERNAME, USERHASH, REALM, or its associated password from
		 * the previous attempt." Only a new realm changes anything. */
		const il_stun_attr *realm = il_stun_msg_find(msg, IL_ATTR_REALM);
		bool same = !realm || (realm->length == strlen(c->auth.realm) &&
				       memcmp(il_stun_attr_value(msg, realm), c->auth.realm,
					      realm->length) == 0);
		if (same || o->auth_retries >= 2)
			why = reason;
	} else if (code == 438 && o->nonce_retries >= c->cfg.max_nonce_retries) {
		why = reason;
	}
	auth_state next;
	const char *refused = why ? NULL : learn_challenge(c, msg, &next);
	if (refused) {
		why = refused;
		failure = IL_TURN_CLIENT_FAIL_AUTH;
	}
	if (!why) {
		OPENSSL_cleanse(&c->auth, sizeof c->auth);
		c->auth = next;
		if (code == 401)
			o->auth_retries++;
		else
			o->nonce_retries++;
		if (send_op(c, o, now_ms) != 0) {
			why = "request with credentials does not fit";
			failure = IL_TURN_CLIENT_FAIL_AUTH;
		}
	}
	OPENSSL_cleanse(&next, sizeof next);
	if (why)
		op_failed(c, o, failure, code, why, NULL, now_ms);
}

/* ---- responses ---- */

/* RFC 8489 §9.2.5: may this response be believed? */
static bool response_trusted(il_turn_client *c, const op *o, const il_stun_msg *msg, int code)
{
	/* "For all other responses, if the NONCE attribute starts with the
	 * "nonce cookie" with the STUN Security Feature "Password algorithms"
	 * bit set to 1 but PASSWORD-ALGORITHMS is not present, the response
	 * MUST be ignored." */
	const il_stun_attr *nonce = il_stun_msg_find(msg, IL_ATTR_NONCE);
	uint32_t features = 0;
	if (nonce &&
	    il_stun_nonce_cookie_parse((const char *)il_stun_attr_value(msg, nonce), nonce->length,
				       &features) &&
	    (features & IL_STUN_FEATURE_PASSWORD_ALGORITHMS) &&
	    !il_stun_msg_find(msg, IL_ATTR_PASSWORD_ALGORITHMS))
		return false;
	if (o->authenticated) {
		/* "If the value does not match, or if both MESSAGE-INTEGRITY and
		 * MESSAGE-INTEGRITY-SHA256 are absent ... the response MUST be
		 * discarded" */
		enum il_stun_verdict v256 = il_stun_check_integrity_sha256(msg, &c->auth.key);
		enum il_stun_verdict v1 = il_stun_check_integrity(msg, &c->auth.key);
		if (v256 == IL_STUN_VERDICT_MISMATCH || v1 == IL_STUN_VERDICT_MISMATCH)
			return false;
		return v256 == IL_STUN_VERDICT_OK || v1 == IL_STUN_VERDICT_OK;
	}
	/* "If the response is an error response with an error code of 400
	 * (Bad Request) and does not contain either the MESSAGE-INTEGRITY or
	 * MESSAGE-INTEGRITY-SHA256 attribute, then the response MUST be
	 * discarded, as if it were never received." */
	return !(msg->cls == IL_STUN_ERROR && code == 400 && msg->mi_index < 0 &&
		 msg->mi256_index < 0);
}

static int handle_response(il_turn_client *c, const il_stun_msg *msg, uint64_t now_ms)
{
	il_stun_txn *txn = il_stun_txn_match(&c->txns, msg);
	if (!txn || txn->tag >= IL_TURN_CLIENT_MAX_TRANSACTIONS || !c->ops[txn->tag].active)
		return 0;
	op *o = &c->ops[txn->tag];
	int code = 0;
	const char *reason = "";
	if (msg->cls == IL_STUN_ERROR) {
		const il_stun_attr *a = il_stun_msg_find(msg, IL_ATTR_ERROR_CODE);
		const char *text = NULL;
		size_t text_len = 0;
		if (!a || il_stun_attr_get_error_code(msg, a, &code, &text, &text_len) != IL_STUN_OK)
			return 0; /* an error response must carry ERROR-CODE */
		reason = copy_reason(c, text, text_len);
		if (code == 401 || code == 438) {
			handle_challenge(c, o, txn, msg, code, reason, now_ms);
			return 1;
		}
	}
	if (!response_trusted(c, o, msg, code)) {
		il_stun_txn_discard_response(&c->txns, txn, now_ms);
		return 0;
	}
	il_stun_txn_complete(&c->txns, txn, now_ms);
	if (msg->cls == IL_STUN_ERROR) {
		op_error_response(c, o, msg, code, reason, now_ms);
		return 1;
	}
	switch (o->kind) {
	case OP_ALLOCATE:
		allocate_succeeded(c, o, msg, now_ms);
		break;
	case OP_REFRESH:
		refresh_succeeded(c, o, msg, now_ms);
		break;
	case OP_PERMISSION:
		permission_succeeded(c, o, now_ms);
		break;
	case OP_CHANNEL:
		channel_succeeded(c, o, now_ms);
		break;
	}
	return 1;
}

/* §11.4: Data indication → data from a peer. */
static int handle_data_indication(il_turn_client *c, const il_stun_msg *msg)
{
	const il_stun_attr *pa = il_stun_msg_find(msg, IL_ATTR_XOR_PEER_ADDRESS);
	const il_stun_attr *da = il_stun_msg_find(msg, IL_ATTR_DATA);
	il_addr peer;
	/* "it checks that the Data indication contains an XOR-PEER-ADDRESS
	 * attribute and discards the indication if it does not. The client
	 * SHOULD also check that the XOR-PEER-ADDRESS attribute value contains
	 * an IP address with which the client believes there is an active
	 * permission and discard the Data indication otherwise." A
	 * permission being installed counts: the server may relay as soon as
	 * it installed it. */
	if (!pa || il_stun_attr_get_addr(msg, pa, &peer) != IL_STUN_OK ||
	    !find_permission(c, &peer))
		return 0;
	/* Indications with ICMP instead of DATA (§11.6) are not reported. */
	if (!da)
		return 0;
	if (c->cb.data)
		c->cb.data(c->cb.user, &peer, il_stun_attr_value(msg, da), da->length);
	return 1;
}

static int handle_stun(il_turn_client *c, const uint8_t *data, size_t len, uint64_t now_ms)
{
	il_stun_msg msg;
	if (il_stun_decode(data, len, &msg, NULL) != IL_STUN_OK || msg.classic ||
	    il_stun_check_fingerprint(&msg) == IL_STUN_VERDICT_MISMATCH)
		return 0;
	if (msg.cls == IL_STUN_INDICATION)
		return msg.method == IL_STUN_DATA && (c->state == IL_TURN_CLIENT_ALLOCATED ||
						      c->state == IL_TURN_CLIENT_RELEASING)
			       ? handle_data_indication(c, &msg)
			       : 0;
	if (msg.cls == IL_STUN_REQUEST)
		return 0;
	return handle_response(c, &msg, now_ms);
}

static int handle_channeldata(il_turn_client *c, const uint8_t *data, size_t len)
{
	il_channeldata cd;
	if (il_channeldata_decode(data, len, &cd, NULL) != IL_STUN_OK)
		return 0;
	if (c->state != IL_TURN_CLIENT_ALLOCATED && c->state != IL_TURN_CLIENT_RELEASING)
		return 0;
	/* "the client SHOULD be prepared to receive ChannelData messages on
	 * the channel from the server as soon as it has sent the ChannelBind
	 * request" (§12); an unknown channel: discarded (§12.6). */
	channel *ch = find_channel_by_number(c, cd.channel);
	if (!ch)
		return 0;
	if (c->cb.data)
		c->cb.data(c->cb.user, &ch->peer, cd.data, cd.length);
	return 1;
}

static int handle_frame(il_turn_client *c, const uint8_t *data, size_t len, uint64_t now_ms)
{
	if (len >= 4 && (data[0] & 0xC0) == 0x40)
		return handle_channeldata(c, data, len);
	return handle_stun(c, data, len, now_ms);
}

/* ---- public API ---- */

void il_turn_client_config_defaults(il_turn_client_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	il_stun_txn_config_defaults(&cfg->txn, false);
	cfg->allow_md5 = true;
	cfg->max_nonce_retries = 3;
	cfg->refresh_margin_s = 60;
	cfg->permission_refresh_s = 240;
	cfg->channel_refresh_s = 540;
}

static bool config_valid(const il_turn_client_config *cfg, const il_turn_client_callbacks *cb)
{
	if (!cb->random || !cb->send)
		return false;
	if (cfg->requested_family > IL_AF_INET6)
		return false;
	/* "Clients MUST NOT include REQUESTED-ADDRESS-FAMILY and
	 * ADDITIONAL-ADDRESS-FAMILY attributes in the same request" and not
	 * ADDITIONAL-ADDRESS-FAMILY with EVEN-PORT R=1 (§7.1). */
	if (cfg->requested_family && cfg->additional_ipv6)
		return false;
	if (cfg->additional_ipv6 && cfg->even_port && cfg->reserve_next)
		return false;
	/* "If the RESERVATION-TOKEN attribute is included, then the client
	 * MUST omit the EVEN-PORT attribute" (§7.1). The family attributes
	 * are omitted too; say so by refusing the combination. */
	if (cfg->use_reservation_token &&
	    (cfg->even_port || cfg->requested_family || cfg->additional_ipv6))
		return false;
	if (cfg->username && !cfg->password)
		return false;
	return cfg->permission_refresh_s > 0 && cfg->permission_refresh_s < 300 &&
	       cfg->channel_refresh_s > 0 && cfg->channel_refresh_s < 600;
}

il_turn_client *il_turn_client_new(const il_turn_client_config *cfg,
				   const il_turn_client_callbacks *cb)
{
	if (!config_valid(cfg, cb))
		return NULL;
	size_t extra = cfg->stream ? STREAM_CAP : 0;
	il_turn_client *c = calloc(1, sizeof *c + extra);
	if (!c)
		return NULL;
	c->cfg = *cfg;
	c->cb = *cb;
	if (!copy_cstr(c->username, sizeof c->username, cfg->username) ||
	    !copy_cstr(c->password, sizeof c->password, cfg->password) ||
	    !copy_cstr(c->software, sizeof c->software, cfg->software)) {
		il_turn_client_free(c);
		return NULL;
	}
	c->cfg.username = cfg->username ? c->username : NULL;
	c->cfg.password = c->password;
	c->cfg.software = c->software;
	c->cfg.txn.reliable = cfg->stream;
	il_stun_txn_callbacks tcb = {.user = c, .send = on_txn_send, .failed = on_txn_failed};
	il_stun_txn_table_init(&c->txns, c->txn_slots, IL_TURN_CLIENT_MAX_TRANSACTIONS,
			       &c->cfg.txn, &tcb);
	if (cfg->stream)
		il_stream_init(&c->stream, c->stream_buf, STREAM_CAP);
	c->next_channel = IL_CHANNEL_MIN;
	return c;
}

void il_turn_client_free(il_turn_client *c)
{
	if (!c)
		return;
	OPENSSL_cleanse(c->password, sizeof c->password);
	OPENSSL_cleanse(&c->auth, sizeof c->auth);
	free(c);
}

int il_turn_client_allocate(il_turn_client *c, uint64_t now_ms)
{
	if (c->state != IL_TURN_CLIENT_IDLE && c->state != IL_TURN_CLIENT_RELEASED)
		return IL_TURN_CLIENT_ERR_STATE;
	clear_allocation(c);
	if (c->cfg.stream)
		il_stream_init(&c->stream, c->stream_buf, STREAM_CAP);
	op *o = new_op(c, OP_ALLOCATE);
	if (!o || send_op(c, o, now_ms) != 0) {
		if (o)
			o->active = false;
		return IL_TURN_CLIENT_ERR_FULL;
	}
	c->state = IL_TURN_CLIENT_ALLOCATING;
	return IL_TURN_CLIENT_OK;
}

/* One CreatePermission for the permission slots listed. */
static int start_permission_op(il_turn_client *c, const uint8_t *slots, unsigned n,
			       uint64_t now_ms)
{
	op *o = new_op(c, OP_PERMISSION);
	if (!o)
		return IL_TURN_CLIENT_ERR_FULL;
	o->npeers = (uint8_t)n;
	memcpy(o->perm, slots, n);
	if (send_op(c, o, now_ms) != 0) {
		o->active = false;
		return IL_TURN_CLIENT_ERR_FULL;
	}
	for (unsigned i = 0; i < n; i++)
		c->perms[slots[i]].in_flight = true;
	return IL_TURN_CLIENT_OK;
}

int il_turn_client_create_permission(il_turn_client *c, const il_addr *peers, size_t count,
				     uint64_t now_ms)
{
	if (c->state != IL_TURN_CLIENT_ALLOCATED)
		return IL_TURN_CLIENT_ERR_STATE;
	if (count == 0 || count > PEERS_PER_REQUEST)
		return IL_TURN_CLIENT_ERR_ARGUMENT;
	for (size_t i = 0; i < count; i++)
		if (!valid_peer(c, &peers[i]))
			return IL_TURN_CLIENT_ERR_ARGUMENT;
	uint8_t slots[PEERS_PER_REQUEST];
	unsigned n = 0;
	for (size_t i = 0; i < count; i++) {
		permission *p = find_permission(c, &peers[i]);
		if (p) {
			p->keep = true; /* installed or on its way: refreshed by the timer */
			continue;
		}
		if (!(p = new_permission(c, &peers[i]))) {
			for (unsigned k = 0; k < n; k++)
				c->perms[slots[k]].state = ENTRY_FREE;
			return IL_TURN_CLIENT_ERR_FULL;
		}
		slots[n++] = (uint8_t)(p - c->perms);
	}
	if (n == 0)
		return IL_TURN_CLIENT_OK;
	int rc = start_permission_op(c, slots, n, now_ms);
	if (rc != IL_TURN_CLIENT_OK)
		for (unsigned k = 0; k < n; k++)
			c->perms[slots[k]].state = ENTRY_FREE;
	return rc;
}

void il_turn_client_forget_permission(il_turn_client *c, const il_addr *peer)
{
	permission *p = find_permission(c, peer);
	if (!p)
		return;
	if (p->in_flight)
		p->keep = false; /* freed when its request ends */
	else
		p->state = ENTRY_FREE;
}

static uint16_t pick_channel_number(il_turn_client *c)
{
	for (unsigned tries = 0; tries <= IL_CHANNEL_MAX - IL_CHANNEL_MIN; tries++) {
		uint16_t n = c->next_channel;
		c->next_channel = n == IL_CHANNEL_MAX ? IL_CHANNEL_MIN : (uint16_t)(n + 1);
		if (!find_channel_by_number(c, n))
			return n;
	}
	return 0;
}

static int start_channel_op(il_turn_client *c, channel *ch, uint64_t now_ms)
{
	op *o = new_op(c, OP_CHANNEL);
	if (!o)
		return IL_TURN_CLIENT_ERR_FULL;
	o->chan = (uint8_t)(ch - c->chans);
	if (send_op(c, o, now_ms) != 0) {
		o->active = false;
		return IL_TURN_CLIENT_ERR_FULL;
	}
	ch->in_flight = true;
	return IL_TURN_CLIENT_OK;
}

int il_turn_client_bind_channel(il_turn_client *c, const il_addr *peer, uint16_t *channel_out,
				uint64_t now_ms)
{
	if (c->state != IL_TURN_CLIENT_ALLOCATED)
		return IL_TURN_CLIENT_ERR_STATE;
	if (!valid_peer(c, peer))
		return IL_TURN_CLIENT_ERR_ARGUMENT;
	channel *ch = find_channel_by_peer(c, peer);
	if (!ch) {
		for (unsigned i = 0; i < IL_TURN_CLIENT_MAX_CHANNELS && !ch; i++)
			if (c->chans[i].state == ENTRY_FREE)
				ch = &c->chans[i];
		uint16_t number = ch ? pick_channel_number(c) : 0;
		if (!number)
			return IL_TURN_CLIENT_ERR_FULL;
		memset(ch, 0, sizeof *ch);
		ch->state = ENTRY_PENDING;
		ch->number = number;
		ch->peer = *peer;
		int rc = start_channel_op(c, ch, now_ms);
		if (rc != IL_TURN_CLIENT_OK) {
			ch->state = ENTRY_FREE;
			return rc;
		}
	}
	if (channel_out)
		*channel_out = ch->number;
	return IL_TURN_CLIENT_OK;
}

int il_turn_client_send(il_turn_client *c, const il_addr *peer, const uint8_t *data,
			size_t len, uint64_t now_ms)
{
	(void)now_ms;
	if (c->state != IL_TURN_CLIENT_ALLOCATED)
		return IL_TURN_CLIENT_ERR_STATE;
	channel *ch = find_channel_by_peer(c, peer);
	if (ch && ch->state == ENTRY_ACTIVE) {
		/* "Over TCP and TLS-over-TCP, the ChannelData message MUST be
		 * padded to a multiple of four bytes" (§12.5). */
		size_t n = il_channeldata_encode(c->out, sizeof c->out, ch->number, data, len,
						 c->cfg.stream);
		if (!n)
			return IL_TURN_CLIENT_ERR_ARGUMENT;
		c->cb.send(c->cb.user, c->out, n);
		return IL_TURN_CLIENT_OK;
	}
	/* "the client MUST ensure that there is a permission installed for
	 * the IP address of the peer to which the Send indication is being
	 * sent" (§11.1) */
	permission *p = find_permission(c, peer);
	if (!p || p->state != ENTRY_ACTIVE)
		return IL_TURN_CLIENT_ERR_NO_PERMISSION;
	uint8_t tid[IL_STUN_TID_LEN];
	c->cb.random(c->cb.user, tid, sizeof tid);
	il_stun_builder b;
	il_stun_builder_init(&b, c->out, sizeof c->out, IL_STUN_SEND, IL_STUN_INDICATION, tid);
	il_stun_add_xor_addr(&b, IL_ATTR_XOR_PEER_ADDRESS, peer);
	il_stun_add_raw(&b, IL_ATTR_DATA, data, len);
	if (c->cfg.dont_fragment && !c->df_refused)
		il_stun_add_empty(&b, IL_ATTR_DONT_FRAGMENT);
	if (c->cfg.fingerprint)
		il_stun_add_fingerprint(&b);
	size_t n = il_stun_builder_finish(&b, NULL);
	if (!n)
		return IL_TURN_CLIENT_ERR_ARGUMENT;
	c->cb.send(c->cb.user, c->out, n);
	return IL_TURN_CLIENT_OK;
}

static int start_refresh(il_turn_client *c, bool release, uint64_t now_ms)
{
	op *o = new_op(c, OP_REFRESH);
	if (!o)
		return IL_TURN_CLIENT_ERR_FULL;
	o->release = release;
	if (send_op(c, o, now_ms) != 0) {
		o->active = false;
		return IL_TURN_CLIENT_ERR_FULL;
	}
	return IL_TURN_CLIENT_OK;
}

int il_turn_client_refresh(il_turn_client *c, uint64_t now_ms)
{
	if (c->state != IL_TURN_CLIENT_ALLOCATED)
		return IL_TURN_CLIENT_ERR_STATE;
	if (op_of_kind_active(c, OP_REFRESH))
		return IL_TURN_CLIENT_OK;
	return start_refresh(c, false, now_ms);
}

int il_turn_client_release(il_turn_client *c, uint64_t now_ms)
{
	if (c->state != IL_TURN_CLIENT_ALLOCATED)
		return IL_TURN_CLIENT_ERR_STATE;
	/* Nothing else matters once the allocation goes: drop what is in
	 * flight, then delete it (§8.1). */
	clear_allocation(c);
	int rc = start_refresh(c, true, now_ms);
	if (rc != IL_TURN_CLIENT_OK)
		return rc;
	c->state = IL_TURN_CLIENT_RELEASING;
	return IL_TURN_CLIENT_OK;
}

int il_turn_client_handle_datagram(il_turn_client *c, const uint8_t *data, size_t len,
				   uint64_t now_ms)
{
	return handle_frame(c, data, len, now_ms);
}

int il_turn_client_handle_stream(il_turn_client *c, const uint8_t *data, size_t len,
				 uint64_t now_ms)
{
	if (!c->cfg.stream)
		return IL_TURN_CLIENT_ERR_STATE;
	int used = 0;
	size_t off = 0;
	for (;;) {
		size_t took = il_stream_push(&c->stream, data + off, len - off);
		off += took;
		il_stream_frame f;
		int r, frames = 0;
		while ((r = il_stream_next(&c->stream, &f, NULL)) == 1) {
			frames++;
			used += handle_frame(c, f.bytes, f.len, now_ms);
		}
		if (r < 0)
			return IL_TURN_CLIENT_ERR_STREAM;
		if (off >= len)
			return used;
		if (took == 0 && frames == 0)
			return IL_TURN_CLIENT_ERR_STREAM; /* cannot happen: the buffer holds a frame */
	}
}

void il_turn_client_stream_closed(il_turn_client *c, uint64_t now_ms)
{
	(void)now_ms;
	enum il_turn_client_state was = c->state;
	if (was == IL_TURN_CLIENT_IDLE || was == IL_TURN_CLIENT_RELEASED)
		return;
	/* "if the TCP connection is reset or fails before a response is
	 * received, any request/response transaction in progress is
	 * considered to have failed" (RFC 8489 §6.2.2); the allocation is
	 * tied to the connection's 5-tuple and goes with it. */
	clear_allocation(c);
	c->state = IL_TURN_CLIENT_RELEASED;
	int type = was == IL_TURN_CLIENT_ALLOCATING ? IL_TURN_CLIENT_EV_ALLOCATE_FAILED
		   : was == IL_TURN_CLIENT_RELEASING ? IL_TURN_CLIENT_EV_RELEASED
						     : IL_TURN_CLIENT_EV_ALLOCATION_LOST;
	emit_simple(c, type, IL_TURN_CLIENT_FAIL_CONNECTION, 0, "connection closed");
}

/* Permissions due for refresh, batched into CreatePermission requests. */
static void refresh_permissions(il_turn_client *c, uint64_t now_ms)
{
	uint8_t slots[PEERS_PER_REQUEST];
	unsigned n = 0;
	for (unsigned i = 0; i <= IL_TURN_CLIENT_MAX_PERMISSIONS; i++) {
		if (i < IL_TURN_CLIENT_MAX_PERMISSIONS) {
			permission *p = &c->perms[i];
			if (p->state == ENTRY_ACTIVE && p->keep && !p->in_flight &&
			    p->refresh_at_ms <= now_ms)
				slots[n++] = (uint8_t)i;
		}
		if (n == PEERS_PER_REQUEST || (i == IL_TURN_CLIENT_MAX_PERMISSIONS && n)) {
			if (start_permission_op(c, slots, n, now_ms) != IL_TURN_CLIENT_OK)
				for (unsigned k = 0; k < n; k++) /* table full: try again in 1 s */
					c->perms[slots[k]].refresh_at_ms = now_ms + 1000;
			n = 0;
		}
	}
}

static void refresh_channels(il_turn_client *c, uint64_t now_ms)
{
	for (unsigned i = 0; i < IL_TURN_CLIENT_MAX_CHANNELS; i++) {
		channel *ch = &c->chans[i];
		/* "Rebinding a channel to the same transport address that it is
		 * already bound to provides a way to refresh a channel binding"
		 * (§12.1) */
		if (ch->state == ENTRY_ACTIVE && !ch->in_flight && ch->refresh_at_ms <= now_ms &&
		    start_channel_op(c, ch, now_ms) != IL_TURN_CLIENT_OK)
			ch->refresh_at_ms = now_ms + 1000;
	}
}

void il_turn_client_timer(il_turn_client *c, uint64_t now_ms)
{
	il_stun_txn_timer(&c->txns, now_ms);
	if (c->state != IL_TURN_CLIENT_ALLOCATED)
		return;
	if (now_ms >= c->expires_ms) {
		allocation_lost(c, IL_TURN_CLIENT_FAIL_EXPIRED, 0, "lifetime ran out");
		return;
	}
	/* "If a client wishes to continue using an allocation, then the client
	 * MUST refresh it before it expires." (§8) */
	if (now_ms >= c->refresh_at_ms && !op_of_kind_active(c, OP_REFRESH) &&
	    start_refresh(c, false, now_ms) != IL_TURN_CLIENT_OK)
		c->refresh_at_ms = now_ms + 1000;
	refresh_permissions(c, now_ms);
	refresh_channels(c, now_ms);
}

uint64_t il_turn_client_next_deadline(const il_turn_client *c)
{
	uint64_t next = il_stun_txn_next_deadline(&c->txns);
	if (c->state != IL_TURN_CLIENT_ALLOCATED)
		return next;
	if (c->expires_ms < next)
		next = c->expires_ms;
	if (!op_of_kind_active(c, OP_REFRESH) && c->refresh_at_ms < next)
		next = c->refresh_at_ms;
	for (unsigned i = 0; i < IL_TURN_CLIENT_MAX_PERMISSIONS; i++) {
		const permission *p = &c->perms[i];
		if (p->state == ENTRY_ACTIVE && p->keep && !p->in_flight && p->refresh_at_ms < next)
			next = p->refresh_at_ms;
	}
	for (unsigned i = 0; i < IL_TURN_CLIENT_MAX_CHANNELS; i++) {
		const channel *ch = &c->chans[i];
		if (ch->state == ENTRY_ACTIVE && !ch->in_flight && ch->refresh_at_ms < next)
			next = ch->refresh_at_ms;
	}
	return next;
}

enum il_turn_client_state il_turn_client_get_state(const il_turn_client *c)
{
	return c->state;
}

const il_addr *il_turn_client_relayed(const il_turn_client *c, uint8_t family)
{
	for (unsigned i = 0; i < c->relayed_count; i++)
		if (family == IL_AF_NONE || c->relayed[i].family == family)
			return &c->relayed[i];
	return NULL;
}

uint16_t il_turn_client_channel(const il_turn_client *c, const il_addr *peer)
{
	for (unsigned i = 0; i < IL_TURN_CLIENT_MAX_CHANNELS; i++)
		if (c->chans[i].state == ENTRY_ACTIVE && il_addr_equal(&c->chans[i].peer, peer))
			return c->chans[i].number;
	return 0;
}

bool il_turn_client_has_permission(const il_turn_client *c, const il_addr *peer)
{
	for (unsigned i = 0; i < IL_TURN_CLIENT_MAX_PERMISSIONS; i++)
		if (c->perms[i].state == ENTRY_ACTIVE && same_ip(&c->perms[i].ip, peer))
			return true;
	return false;
}
