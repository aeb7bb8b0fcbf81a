/* Suite ice-lite: an SBC's ICE media endpoint, checked by the harness
 * playing a full, controlling ICE agent (RFC 8445 §7.3, §7.3.2, §8.2,
 * §12.1; RFC 8489 §9.1.3; RFC 7675; RFC 7983). The target says where its
 * ICE leg is and which credentials both sides hold (cf_target.has_ice:
 * the builtin SBC, or --target sdp:...). Each check names its
 * requirement in conformance/requirements/rfc8445.req, rfc7675.req,
 * rfc7983.req or rfc8489.req.
 *
 * On a real target the tests share one session: only the first test,
 * nomination-no-redirect, nominates a pair (RFC 8445 §8.1.1 lets a
 * controlling agent nominate once per component). */
#include "suite_util.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define RTP_LEN 172           /* 12-byte header + 160 bytes of PCMU (20 ms) */
#define MARK_LEN 16
#define UNCHECKED_PACKETS 40  /* from the never-checked source, 100 ms apart */

enum { ROLE_NONE = 0, ROLE_CONTROLLING, ROLE_CONTROLLED };

typedef struct check_opts {
	const char *username;  /* NULL: "TARGET:HARNESS" */
	bool no_username;
	const char *pwd;       /* NULL: the target's; "": no MESSAGE-INTEGRITY */
	int role;
	uint64_t tie_breaker;
	bool use_candidate;
	uint32_t priority;     /* 0: a peer-reflexive priority (RFC 8445 §5.1.2) */
} check_opts;

static bool need_ice(cf_ctx *ctx)
{
	cf_target *t = cf_ctx_target(ctx);
	if (!t->has_ice) {
		cf_not_applicable(ctx, "the target has no ICE media endpoint (use --target sdp:... "
				       "or builtin)");
		return false;
	}
	return true;
}

static int ice_client(cf_ctx *ctx)
{
	cf_target *t = cf_ctx_target(ctx);
	return cf_client_to(ctx, CF_UDP, &t->ice_leg);
}

/* A connectivity check as RFC 8445 §7.2.2 builds it, or spoiled as asked. */
static size_t build_check(cf_ctx *ctx, const check_opts *o, uint8_t *buf, size_t cap)
{
	cf_target *t = cf_ctx_target(ctx);
	uint8_t tid[IL_STUN_TID_LEN];
	cf_new_tid(ctx, tid);
	il_stun_builder b;
	il_stun_builder_init(&b, buf, cap, IL_STUN_BINDING, IL_STUN_REQUEST, tid);
	char user[520];
	if (o->username)
		snprintf(user, sizeof user, "%s", o->username);
	else
		snprintf(user, sizeof user, "%s:%s", t->ice_ufrag, t->ice_peer_ufrag);
	if (!o->no_username)
		il_stun_add_string(&b, IL_ATTR_USERNAME, user, strlen(user));
	/* type preference 110 (prflx), local preference 65535, component 1 */
	il_stun_add_u32(&b, IL_ATTR_PRIORITY,
			o->priority ? o->priority : (110u << 24) | (65535u << 8) | 255u);
	if (o->role == ROLE_CONTROLLING)
		il_stun_add_u64(&b, IL_ATTR_ICE_CONTROLLING, o->tie_breaker);
	else if (o->role == ROLE_CONTROLLED)
		il_stun_add_u64(&b, IL_ATTR_ICE_CONTROLLED, o->tie_breaker);
	if (o->use_candidate)
		il_stun_add_empty(&b, IL_ATTR_USE_CANDIDATE);
	const char *pwd = o->pwd ? o->pwd : t->ice_pwd;
	if (pwd[0]) {
		il_stun_key key;
		if (il_stun_key_short_term(&key, pwd) != IL_STUN_OK) {
			cf_error(ctx, "harness bug: short-term key");
			return 0;
		}
		il_stun_add_message_integrity(&b, &key);
	}
	il_stun_add_fingerprint(&b);
	enum il_stun_err err;
	size_t len = il_stun_builder_finish(&b, &err);
	if (!len)
		cf_error(ctx, "harness bug: building a check failed (%s)", il_stun_err_name(err));
	return len;
}

static size_t check(cf_ctx *ctx, int c, const check_opts *o, uint8_t *buf, il_stun_msg *m)
{
	uint8_t req[CF_BUF];
	size_t len = build_check(ctx, o, req, sizeof req);
	return len ? cf_transact(ctx, c, req, len, buf, CF_BUF, m) : 0;
}

static check_opts valid_check(void)
{
	/* The largest tie-breaker: a full target that took the controlling
	 * role (it offered) yields it on the first check (RFC 8445 §7.3.1.1),
	 * so the harness stays the controlling agent against any target. */
	check_opts o = {.role = ROLE_CONTROLLING, .tie_breaker = UINT64_MAX};
	return o;
}

/* MESSAGE-INTEGRITY of a response verified with the target's password. */
static bool signed_by_target(cf_ctx *ctx, const il_stun_msg *m)
{
	il_stun_key key;
	if (il_stun_key_short_term(&key, cf_ctx_target(ctx)->ice_pwd) != IL_STUN_OK)
		return false;
	return il_stun_check_integrity(m, &key) == IL_STUN_VERDICT_OK;
}

static bool fingerprint_last_ok(const il_stun_msg *m)
{
	return m->attr_count > 0 && m->attrs[m->attr_count - 1].type == IL_ATTR_FINGERPRINT &&
	       il_stun_check_fingerprint(m) == IL_STUN_VERDICT_OK;
}

/* XOR-MAPPED-ADDRESS equals the client's address; *seen describes it. */
static bool mapped_is(cf_ctx *ctx, int c, const il_stun_msg *m, char *seen, size_t cap)
{
	const il_stun_attr *a = il_stun_msg_find(m, IL_ATTR_XOR_MAPPED_ADDRESS);
	il_addr got, want = cf_client_addr(ctx, c);
	char ws[IL_ADDR_STRLEN], gs[IL_ADDR_STRLEN] = "none";
	bool ok = a && il_stun_attr_get_addr(m, a, &got) == IL_STUN_OK;
	if (ok)
		il_addr_format(&got, gs, sizeof gs);
	il_addr_format(&want, ws, sizeof ws);
	snprintf(seen, cap, "XOR-MAPPED-ADDRESS %s, the check came from %s", gs, ws);
	return ok && il_addr_equal(&got, &want);
}

/* ---- checks and credentials ---- */

static void t_check_success(cf_ctx *ctx)
{
	if (!need_ice(ctx))
		return;
	int c = ice_client(ctx);
	if (c < 0)
		return;
	uint8_t req[CF_BUF], buf[CF_BUF];
	il_stun_msg m;
	char what[96], seen[160];
	check_opts o = valid_check();
	size_t len = build_check(ctx, &o, req, sizeof req);
	if (!len)
		return;
	size_t n = cf_transact(ctx, c, req, len, buf, sizeof buf, &m);
	bool ok = n && m.cls == IL_STUN_SUCCESS;
	cf_check_req(ctx, "RFC8445-7.3-1", n > 0, "a check on the ICE port got %s",
		     cf_describe(n, &m, what, sizeof what));
	cf_check_req(ctx, "RFC8445-2.5-1", ok, "a valid check got %s", what);
	cf_check_req(ctx, "RFC8445-7.3-4", ok, "a valid check got %s", what);
	cf_check_req(ctx, "RFC7983-7-1", n > 0 && m.method == IL_STUN_BINDING,
		     "a datagram starting 0x%02x on the media port was answered as STUN", req[0]);
	if (!ok)
		return;
	cf_check_req(ctx, "RFC8445-7.3.1.2-1", mapped_is(ctx, c, &m, seen, sizeof seen), "%s", seen);
	bool mi = signed_by_target(ctx, &m);
	cf_check_req(ctx, "RFC8445-7.3-2", mi,
		     "the success response %s MESSAGE-INTEGRITY verifying with the target's password",
		     mi ? "carries" : "lacks a");
	cf_check_req(ctx, "RFC8489-9.1.3-4", mi && !cf_has(&m, IL_ATTR_USERNAME),
		     "MESSAGE-INTEGRITY %s, USERNAME %s", mi ? "right" : "missing or wrong",
		     cf_has(&m, IL_ATTR_USERNAME) ? "present" : "absent");
	cf_check_req(ctx, "RFC8445-7.3-6", fingerprint_last_ok(&m),
		     "FINGERPRINT %s", cf_has(&m, IL_ATTR_FINGERPRINT) ? "present" : "absent");
	cf_check_req(ctx, "RFC8445-7.3-5",
		     !cf_has(&m, IL_ATTR_ALTERNATE_SERVER) && memcmp(buf + 4, req + 4, 16) == 0,
		     "no ALTERNATE-SERVER, the RFC 5389 cookie and transaction id echoed");
}

static void t_check_wrong_password(cf_ctx *ctx)
{
	if (!need_ice(ctx))
		return;
	int c = ice_client(ctx);
	if (c < 0)
		return;
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	/* A nomination, so a target that accepts it would also be nominating. */
	check_opts o = valid_check();
	o.pwd = "not-the-target-password-at-all";
	o.use_candidate = true;
	size_t n = check(ctx, c, &o, buf, &m);
	cf_describe(n, &m, what, sizeof what);
	cf_check_req(ctx, "RFC8489-9.1.3-3", n && cf_error_code(&m) == 401,
		     "MESSAGE-INTEGRITY keyed with a wrong password: %s (401 required; RFC 8489 "
		     "§9.1.3 leaves no room for silence)", what);
	cf_check_req(ctx, "RFC8445-7.3.1.5-2", !(n && m.cls == IL_STUN_SUCCESS),
		     "a nomination with a wrong password got %s", what);
}

static void t_check_unknown_ufrag(cf_ctx *ctx)
{
	if (!need_ice(ctx))
		return;
	cf_target *t = cf_ctx_target(ctx);
	char bad[600];
	/* Three usernames the target never issued: another ufrag, the
	 * halves swapped, and its own ufrag without the colon. */
	const char *names[3];
	char other[600], swapped[600];
	snprintf(other, sizeof other, "zz%sX:%s", t->ice_ufrag, t->ice_peer_ufrag);
	snprintf(swapped, sizeof swapped, "%s:%s", t->ice_peer_ufrag, t->ice_ufrag);
	snprintf(bad, sizeof bad, "%s", t->ice_ufrag);
	names[0] = other;
	names[1] = swapped;
	names[2] = bad;
	if (strcmp(t->ice_peer_ufrag, t->ice_ufrag) == 0)
		names[1] = other;
	for (int i = 0; i < 3 && !cf_stopped(ctx); i++) {
		int c = ice_client(ctx);
		if (c < 0)
			return;
		uint8_t buf[CF_BUF];
		il_stun_msg m;
		char what[96];
		check_opts o = valid_check();
		o.username = names[i];
		size_t n = check(ctx, c, &o, buf, &m);
		cf_describe(n, &m, what, sizeof what);
		const char *req = i == 2 ? "RFC8445-7.3-3" : "RFC8489-9.1.3-2";
		cf_check_req(ctx, req, n && cf_error_code(&m) == 401, "USERNAME \"%s\": %s",
			     names[i], what);
	}
}

static void t_check_no_integrity(cf_ctx *ctx)
{
	if (!need_ice(ctx))
		return;
	/* USERNAME without MESSAGE-INTEGRITY (a nomination), then
	 * MESSAGE-INTEGRITY without USERNAME. */
	for (int i = 0; i < 2 && !cf_stopped(ctx); i++) {
		int c = ice_client(ctx);
		if (c < 0)
			return;
		uint8_t buf[CF_BUF];
		il_stun_msg m;
		char what[96];
		check_opts o = valid_check();
		o.pwd = i == 0 ? "" : NULL;
		o.no_username = i == 1;
		o.use_candidate = i == 0;
		size_t n = check(ctx, c, &o, buf, &m);
		cf_describe(n, &m, what, sizeof what);
		cf_check_req(ctx, "RFC8489-9.1.3-1", n && cf_error_code(&m) == 400, "%s: %s",
			     i == 0 ? "USERNAME without MESSAGE-INTEGRITY"
				    : "MESSAGE-INTEGRITY without USERNAME",
			     what);
		if (i == 0)
			cf_check_req(ctx, "RFC8445-7.3.1.5-2", !(n && m.cls == IL_STUN_SUCCESS),
				     "an unauthenticated nomination got %s", what);
	}
}

/* ---- roles (RFC 8445 §6.1.1, §7.3.1.1) ---- */

static bool need_lite(cf_ctx *ctx)
{
	if (!need_ice(ctx))
		return false;
	if (!cf_ctx_target(ctx)->ice_lite) {
		cf_not_applicable(ctx, "the target is a full agent (no a=ice-lite): its role depends "
				       "on who offered; the roles of full agents are the ice-agent "
				       "suite's");
		return false;
	}
	return true;
}

static void t_role_controlling(cf_ctx *ctx)
{
	if (!need_lite(ctx))
		return;
	static const uint64_t tbs[2] = {0, UINT64_MAX};
	for (int i = 0; i < 2 && !cf_stopped(ctx); i++) {
		int c = ice_client(ctx);
		if (c < 0)
			return;
		uint8_t buf[CF_BUF];
		il_stun_msg m;
		char what[96];
		check_opts o = valid_check();
		o.tie_breaker = tbs[i];
		size_t n = check(ctx, c, &o, buf, &m);
		cf_check_req(ctx, "RFC8445-6.1.1-2", n && m.cls == IL_STUN_SUCCESS,
			     "ICE-CONTROLLING with tie-breaker 0x%016" PRIx64 " to a lite agent: %s",
			     tbs[i], cf_describe(n, &m, what, sizeof what));
	}
}

static void t_role_conflict_controlled(cf_ctx *ctx)
{
	if (!need_lite(ctx))
		return;
	int c = ice_client(ctx);
	if (c < 0)
		return;
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96], seen[160];
	/* Both claim controlled, ours the largest tie-breaker. §7.3.1.1 is
	 * written for full agents (487 here); a lite agent has no procedure to
	 * switch roles, so a success is as conforming as a 487. Either way
	 * the answer is signed. */
	check_opts o = valid_check();
	o.role = ROLE_CONTROLLED;
	o.tie_breaker = UINT64_MAX;
	size_t n = check(ctx, c, &o, buf, &m);
	cf_describe(n, &m, what, sizeof what);
	bool answered = n && (m.cls == IL_STUN_SUCCESS || cf_error_code(&m) == 487);
	if (!cf_check_req(ctx, "RFC8445-7.3-4", answered,
			  "ICE-CONTROLLED with the largest tie-breaker: %s (success or 487)", what))
		return;
	cf_note(ctx, "a lite agent answered a role conflict with %s", what);
	cf_check_req(ctx, "RFC8445-7.3-2", signed_by_target(ctx, &m) && fingerprint_last_ok(&m),
		     "the %s is signed with the target's password and ends with FINGERPRINT", what);
	if (m.cls == IL_STUN_SUCCESS)
		cf_check_req(ctx, "RFC8445-7.3-2", mapped_is(ctx, c, &m, seen, sizeof seen), "%s",
			     seen);
}

/* ---- consent (RFC 7675) ---- */

static void t_consent_later(cf_ctx *ctx)
{
	if (!need_ice(ctx))
		return;
	int c = ice_client(ctx);
	if (c < 0)
		return;
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96], seen[160];
	check_opts o = valid_check();
	size_t n = check(ctx, c, &o, buf, &m);
	if (!n || m.cls != IL_STUN_SUCCESS) {
		cf_error(ctx, "precondition failed: the first check got %s",
			 cf_describe(n, &m, what, sizeof what));
		return;
	}
	/* Past the 30 s consent window when time is virtual; one consent
	 * period (5 s, RFC 7675 §5.1) on a real target. */
	uint32_t waits = cf_ctx_target(ctx)->virtual_time ? 7 : 1;
	for (uint32_t i = 0; i < waits && !cf_stopped(ctx); i++) {
		cf_sleep(ctx, 5000);
		n = check(ctx, c, &o, buf, &m);
		cf_describe(n, &m, what, sizeof what);
		if (!cf_check_req(ctx, "RFC7675-5.1-2", n && m.cls == IL_STUN_SUCCESS,
				  "consent check %u, %u s later: %s", i + 1, 5 * (i + 1), what))
			return;
	}
	cf_check_req(ctx, "RFC8489-9.1.3-4", signed_by_target(ctx, &m),
		     "the last consent response is signed with the target's password");
	cf_check_req(ctx, "RFC8445-7.3-2", mapped_is(ctx, c, &m, seen, sizeof seen), "%s", seen);
}

/* ---- nomination and the media path ---- */

static size_t rtp(uint8_t *out, uint32_t ssrc, uint16_t seq, const uint8_t mark[MARK_LEN])
{
	memset(out, 0xff, RTP_LEN); /* PCMU silence */
	out[0] = 0x80;              /* version 2 */
	out[1] = 0;                 /* PT 0, PCMU: in every SDP the harness writes */
	out[2] = (uint8_t)(seq >> 8);
	out[3] = (uint8_t)seq;
	uint32_t ts = (uint32_t)seq * 160u;
	for (int i = 0; i < 4; i++) {
		out[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
		out[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
	}
	memcpy(out + 12, mark, MARK_LEN);
	return RTP_LEN;
}

static bool has_mark(const uint8_t *p, size_t n, const uint8_t mark[MARK_LEN])
{
	/* The SBC may rewrite the header; the payload is ours. */
	return n >= 12 + MARK_LEN && (p[0] & 0xC0) == 0x80 && memcmp(p + 12, mark, MARK_LEN) == 0;
}

/* A full target checks the harness too (RFC 8445 §7.2): a Binding
 * request arriving at a client is answered as a full agent answers it,
 * signed with the harness's password. True when buf was such a request. */
static bool answer_check(cf_ctx *ctx, int c, const uint8_t *buf, size_t n)
{
	cf_target *t = cf_ctx_target(ctx);
	il_stun_msg m;
	if (n < IL_STUN_HEADER_LEN || buf[0] > 3 || il_stun_decode(buf, n, &m, NULL) != IL_STUN_OK ||
	    m.cls != IL_STUN_REQUEST || m.method != IL_STUN_BINDING)
		return false;
	il_stun_key key;
	if (!t->ice_peer_pwd[0] || il_stun_key_short_term(&key, t->ice_peer_pwd) != IL_STUN_OK ||
	    il_stun_check_integrity(&m, &key) != IL_STUN_VERDICT_OK)
		return true; /* not ours to answer: dropped, as a full agent may */
	uint8_t out[CF_BUF];
	il_stun_builder b;
	il_stun_builder_init(&b, out, sizeof out, IL_STUN_BINDING, IL_STUN_SUCCESS, buf + 8);
	il_stun_add_xor_addr(&b, IL_ATTR_XOR_MAPPED_ADDRESS, &t->ice_leg);
	il_stun_add_message_integrity(&b, &key);
	il_stun_add_fingerprint(&b);
	enum il_stun_err err;
	size_t len = il_stun_builder_finish(&b, &err);
	if (len)
		cf_send(ctx, c, out, len);
	return true;
}

/* Answers the target's checks at a client until it is quiet for wait_ms. */
static void serve_checks(cf_ctx *ctx, int c, uint32_t wait_ms)
{
	uint8_t buf[CF_BUF];
	for (int i = 0; i < 16 && !cf_stopped(ctx); i++) {
		size_t n = cf_recv(ctx, c, buf, sizeof buf, wait_ms);
		if (n == 0)
			return;
		answer_check(ctx, c, buf, n);
	}
}

/* Waits at a client for media carrying mark; STUN (a full target's
 * checks) and other media are skipped. True when it came. */
static bool client_gets(cf_ctx *ctx, int c, const uint8_t mark[MARK_LEN], uint32_t wait_ms,
			int *other_media)
{
	uint8_t buf[CF_BUF];
	for (int i = 0; i < 32 && !cf_stopped(ctx); i++) {
		size_t n = cf_recv(ctx, c, buf, sizeof buf, wait_ms);
		if (n == 0)
			return false;
		if (has_mark(buf, n, mark))
			return true;
		if (answer_check(ctx, c, buf, n))
			continue;
		if (other_media && n > 0 && buf[0] >= 128 && buf[0] <= 191)
			(*other_media)++;
	}
	return false;
}

/* Drains a client: how many packets carried mark (*other_media: other
 * RTP), until nothing comes for wait_ms. */
static int count_marked(cf_ctx *ctx, int c, const uint8_t mark[MARK_LEN], uint32_t wait_ms,
			int *other_media)
{
	uint8_t buf[CF_BUF];
	int n_marked = 0;
	for (int i = 0; i < 64 && !cf_stopped(ctx); i++) {
		size_t n = cf_recv(ctx, c, buf, sizeof buf, wait_ms);
		if (n == 0)
			break;
		if (has_mark(buf, n, mark))
			n_marked++;
		else if (answer_check(ctx, c, buf, n))
			continue;
		else if (other_media && buf[0] >= 128 && buf[0] <= 191)
			(*other_media)++;
	}
	return n_marked;
}

static bool peer_gets(cf_ctx *ctx, int p, const uint8_t *want, size_t want_len, uint32_t wait_ms,
		      il_addr *from)
{
	uint8_t buf[CF_BUF];
	size_t n;
	for (int i = 0; i < 32 && !cf_stopped(ctx); i++) {
		if (!cf_peer_recv(ctx, p, buf, sizeof buf, &n, from, wait_ms))
			return false;
		if (want_len == 1 ? n > 0 && buf[0] == want[0] : has_mark(buf, n, want))
			return true;
	}
	return false;
}

static void t_nomination_no_redirect(cf_ctx *ctx)
{
	if (!need_ice(ctx))
		return;
	cf_target *t = cf_ctx_target(ctx);
	if (!t->has_legacy) {
		cf_not_applicable(ctx, "needs the target's legacy leg (sdp:ICE,PEER,LEGACY)");
		return;
	}
	int c1 = ice_client(ctx), phone = cf_peer(ctx);
	if (c1 < 0 || phone < 0)
		return;
	uint8_t buf[CF_BUF], pkt[RTP_LEN], mark[4][MARK_LEN];
	il_stun_msg m;
	char what[96];
	for (int i = 0; i < 4; i++)
		cf_random(ctx, mark[i], MARK_LEN);
	check_opts o = valid_check();
	o.use_candidate = true;
	size_t n = check(ctx, c1, &o, buf, &m);
	if (!cf_check_req(ctx, "RFC8445-7.3.2-1", n && m.cls == IL_STUN_SUCCESS,
			  "a valid check with USE-CANDIDATE got %s",
			  cf_describe(n, &m, what, sizeof what)))
		return;
	/* A full target checks the pair itself before it sends (§7.3.1.4,
	 * §7.3.1.5): the harness answers. Then the legacy phone talks first
	 * (a latching legacy leg learns it), and its media must reach the
	 * nominated pair's remote: client1. */
	uint32_t wait = t->virtual_time ? 100 : 0;
	serve_checks(ctx, c1, t->virtual_time ? 100 : 500);
	for (uint16_t s = 0; s < 3; s++) {
		rtp(pkt, 0x5eed0001u, (uint16_t)(100 + s), mark[0]);
		cf_peer_send(ctx, phone, &t->legacy_leg, pkt, RTP_LEN);
	}
	bool got = client_gets(ctx, c1, mark[0], wait, NULL);
	cf_check_req(ctx, "RFC8445-8.2-1", got,
		     "the legacy leg's RTP %s the nominated address (client1)",
		     got ? "reached" : "did not reach");
	cf_check_req(ctx, "RFC8445-12.1.1-2", got, "media sent to the pair's remote: %s",
		     got ? "yes" : "nothing arrived");
	/* client1's RTP goes to the phone: media and STUN share the port. */
	for (uint16_t s = 0; s < 3; s++) {
		rtp(pkt, 0xc11e0001u, (uint16_t)(7000 + s), mark[1]);
		cf_send(ctx, c1, pkt, RTP_LEN);
	}
	il_addr from;
	got = peer_gets(ctx, phone, mark[1], MARK_LEN, wait, &from);
	cf_check_req(ctx, "RFC7983-7-2", got, "RTP on the ICE port from the nominated pair %s",
		     got ? "was forwarded to the legacy leg" : "was not forwarded");
	cf_check_req(ctx, "RFC8445-12.2-1", got, "media from the nominated pair %s",
		     got ? "accepted" : "not accepted");
	/* A first byte no range of RFC 7983 claims must go nowhere. */
	uint8_t junk[RTP_LEN];
	rtp(junk, 0xc11e0001u, 7003, mark[1]);
	junk[0] = 0xF5;
	cf_send(ctx, c1, junk, sizeof junk);
	bool junk_fwd = peer_gets(ctx, phone, junk, 1, t->virtual_time ? 0 : 500, NULL);
	cf_check_req(ctx, "RFC7983-7-3", !junk_fwd,
		     "a datagram starting 0xF5 on the ICE port was %s", junk_fwd ? "forwarded"
										 : "dropped");
	/* A source that never passed a check sends RTP continuing client1's
	 * stream (the strongest case for a latching SBC) for 4 s, longer than
	 * the few seconds after which SBCs commonly confirm a new source,
	 * while the phone keeps talking; none of the phone's media may go
	 * to it, and what comes after must still reach client1 (RFC 8445
	 * §12.1: the selected pair only, for as long as the session lasts).
	 * 10 packets a second keep the evidence within its limit. */
	int c2 = ice_client(ctx);
	if (c2 < 0)
		return;
	for (uint16_t s = 0; s < UNCHECKED_PACKETS && !cf_stopped(ctx); s++) {
		rtp(pkt, 0xc11e0001u, (uint16_t)(7004 + s), mark[2]);
		cf_send(ctx, c2, pkt, RTP_LEN);
		if (s % 5 == 4) {
			rtp(pkt, 0x5eed0001u, (uint16_t)(103 + s / 5), mark[3]);
			cf_peer_send(ctx, phone, &t->legacy_leg, pkt, RTP_LEN);
		}
		cf_sleep(ctx, 100);
	}
	for (uint16_t s = 0; s < 3; s++) {
		rtp(pkt, 0x5eed0001u, (uint16_t)(103 + UNCHECKED_PACKETS / 5 + s), mark[3]);
		cf_peer_send(ctx, phone, &t->legacy_leg, pkt, RTP_LEN);
	}
	int at_c1 = count_marked(ctx, c1, mark[3], wait, NULL);
	int stray = 0;
	int at_c2 = count_marked(ctx, c2, mark[3], t->virtual_time ? 0 : 500, &stray);
	int fwd = 0;
	while (peer_gets(ctx, phone, mark[2], MARK_LEN, t->virtual_time ? 0 : 200, NULL))
		fwd++;
	cf_note(ctx, "the unchecked source client2 sent %d RTP packets: %d were forwarded to the "
		     "legacy leg", UNCHECKED_PACKETS, fwd);
	cf_check_req(ctx, "RFC8445-12.1-1", at_c1 > 0 && at_c2 == 0,
		     "while and after an unchecked source sent RTP for 4 s, the phone's %d packets "
		     "went %d to the nominated client1, %d to the unchecked client2",
		     UNCHECKED_PACKETS / 5 + 3, at_c1, at_c2);
	cf_check_req(ctx, "RFC7675-5.1-1", at_c2 == 0 && stray == 0,
		     "the unchecked source client2, which never had a check answered, received "
		     "%d packets of media", at_c2 + stray);
}

static const cf_test tests[] = {
	/* First: right after ICE completes is when an SBC still learning its
	 * endpoints (the call's first seconds) follows a new source; on a
	 * real target's one call it is also the only nomination (§8.1.1). */
	{"ice-lite", "nomination-no-redirect",
	 "USE-CANDIDATE selects the pair; media stays on it when an unchecked source sends RTP", 0,
	 t_nomination_no_redirect},
	{"ice-lite", "check-success",
	 "A valid check is answered: success, XOR-MAPPED-ADDRESS, signed, FINGERPRINT", 0,
	 t_check_success},
	{"ice-lite", "check-wrong-password",
	 "A check (nomination) signed with a wrong password gets a 401", 0, t_check_wrong_password},
	{"ice-lite", "check-unknown-ufrag",
	 "USERNAMEs the target did not issue (other ufrag, swapped, no colon) get a 401", 0,
	 t_check_unknown_ufrag},
	{"ice-lite", "check-no-integrity",
	 "A check without MESSAGE-INTEGRITY or without USERNAME gets a 400", 0,
	 t_check_no_integrity},
	{"ice-lite", "role-controlling",
	 "A lite agent is controlled: ICE-CONTROLLING is no conflict, whatever the tie-breaker", 0,
	 t_role_controlling},
	{"ice-lite", "role-conflict-controlled",
	 "Both controlled: the lite agent answers (success or 487), signed", 0,
	 t_role_conflict_controlled},
	{"ice-lite", "consent-later",
	 "Consent checks are answered later in the session (past 30 s when time is virtual)", 0,
	 t_consent_later},
};

const cf_test *cf_suite_ice_lite(size_t *count)
{
	*count = sizeof tests / sizeof tests[0];
	return tests;
}
