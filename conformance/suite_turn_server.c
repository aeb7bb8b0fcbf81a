/* Suite turn-server: a TURN server over UDP (RFC 8656 §5-§12 with the
 * long-term credential mechanism of RFC 8489 §9.2), judged from the wire.
 * Tests that need peers use the harness's peers; tests that wait for
 * minutes need virtual time (the builtin target). */
#include "suite_util.h"

#include <stdio.h>
#include <string.h>

#define OPEN(s)                                                                                   \
	cf_turn s;                                                                                \
	if (cf_turn_open(ctx, &s) < 0)                                                            \
		return

static size_t refresh(cf_turn *s, uint32_t lifetime, uint8_t *buf, il_stun_msg *m)
{
	return cf_turn_request(s, IL_STUN_REFRESH, cf_add_lifetime, &lifetime, buf, CF_BUF, m);
}

static uint32_t lifetime_of(const il_stun_msg *m, bool *present)
{
	uint32_t v = 0;
	const il_stun_attr *a = il_stun_msg_find(m, IL_ATTR_LIFETIME);
	*present = a && il_stun_attr_get_u32(m, a, &v) == IL_STUN_OK;
	return v;
}

static void t_challenge(cf_ctx *ctx)
{
	OPEN(s);
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	size_t n = cf_turn_challenge(&s, IL_STUN_ALLOCATE, cf_add_udp_transport, NULL, buf,
				     sizeof buf, &m);
	if (!cf_check_req(ctx, "RFC8656-7.2-1", n && cf_error_code(&m) == 401,
			  "an Allocate without credentials got %s",
			  cf_describe(n, &m, what, sizeof what)))
		return;
	cf_check_req(ctx, "RFC8489-9.2.4-1", true, "401 to a request without MESSAGE-INTEGRITY");
	cf_check_req(ctx, "RFC8489-9.2.4-2", cf_has(&m, IL_ATTR_REALM), "the 401 %s REALM",
		     cf_has(&m, IL_ATTR_REALM) ? "has" : "lacks");
	cf_check_req(ctx, "RFC8489-9.2.4-3", cf_has(&m, IL_ATTR_NONCE), "the 401 %s NONCE",
		     cf_has(&m, IL_ATTR_NONCE) ? "has" : "lacks");
	bool leaks = cf_has(&m, IL_ATTR_USERNAME) || cf_has(&m, IL_ATTR_USERHASH) ||
		     cf_has(&m, IL_ATTR_MESSAGE_INTEGRITY) ||
		     cf_has(&m, IL_ATTR_MESSAGE_INTEGRITY_SHA256);
	cf_check_req(ctx, "RFC8489-9.2.4-4", !leaks,
		     "the 401 has no USERNAME, USERHASH or MESSAGE-INTEGRITY(-SHA256)");
	if (cf_has(&m, IL_ATTR_PASSWORD_ALGORITHMS))
		cf_check_req(ctx, "RFC8489-9.2.4-5", s.algs_feature,
			     "PASSWORD-ALGORITHMS sent: the nonce cookie's Password algorithms "
			     "bit is %s",
			     s.algs_feature ? "set" : "not set");
	cf_check_req(ctx, "RFC8656-5-6", cf_has(&m, IL_ATTR_SOFTWARE),
		     "the Allocate error response %s SOFTWARE",
		     cf_has(&m, IL_ATTR_SOFTWARE) ? "has" : "lacks");
	/* Nothing was allocated: the 5-tuple has no allocation (a Refresh
	 * with valid credentials gets 437). */
	n = refresh(&s, 600, buf, &m);
	cf_check_req(ctx, "RFC8656-7.2-1", n && cf_error_code(&m) == 437,
		     "after the 401, a Refresh on the 5-tuple got %s (437: nothing allocated)",
		     cf_describe(n, &m, what, sizeof what));
}

static void t_nonce_per_source(cf_ctx *ctx)
{
	OPEN(a);
	OPEN(b);
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	cf_turn_challenge(&a, IL_STUN_ALLOCATE, cf_add_udp_transport, NULL, buf, sizeof buf, &m);
	cf_turn_challenge(&b, IL_STUN_ALLOCATE, cf_add_udp_transport, NULL, buf, sizeof buf, &m);
	if (!a.nonce_len || !b.nonce_len) {
		cf_error(ctx, "precondition failed: no NONCE in a 401");
		return;
	}
	cf_check_req(ctx, "RFC8489-9.2.4-6",
		     a.nonce_len != b.nonce_len || memcmp(a.nonce, b.nonce, a.nonce_len) != 0,
		     "two source ports got %s nonces",
		     a.nonce_len != b.nonce_len || memcmp(a.nonce, b.nonce, a.nonce_len) != 0
			     ? "different"
			     : "the same");
}

static void t_allocate_success(cf_ctx *ctx)
{
	OPEN(s);
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	size_t n = cf_turn_allocate_with(&s, NULL, NULL, buf, sizeof buf, &m);
	if (!cf_check_req(ctx, "RFC8656-7.2-10", n && m.cls == IL_STUN_SUCCESS,
			  "an authenticated Allocate got %s", cf_describe(n, &m, what, sizeof what)))
		return;
	cf_check_req(ctx, "RFC8656-7.2-11", cf_has(&m, IL_ATTR_XOR_RELAYED_ADDRESS),
		     "the success response %s XOR-RELAYED-ADDRESS",
		     cf_has(&m, IL_ATTR_XOR_RELAYED_ADDRESS) ? "has" : "lacks");
	cf_check_req(ctx, "RFC8656-7.2-7", s.relayed.family == IL_AF_INET,
		     "no REQUESTED-ADDRESS-FAMILY: the relayed address is %s",
		     s.relayed.family == IL_AF_INET ? "IPv4" : "not IPv4");
	bool has_lt;
	uint32_t lt = lifetime_of(&m, &has_lt);
	cf_check_req(ctx, "RFC8656-7.2-12", has_lt && lt > 0, "LIFETIME %s (%u s)",
		     has_lt ? "present" : "absent", lt);
	il_addr want = cf_client_addr(ctx, s.client);
	char gs[IL_ADDR_STRLEN] = "none", ws[IL_ADDR_STRLEN];
	if (cf_has(&m, IL_ATTR_XOR_MAPPED_ADDRESS))
		il_addr_format(&s.mapped, gs, sizeof gs);
	il_addr_format(&want, ws, sizeof ws);
	cf_check_req(ctx, "RFC8656-7.2-13", il_addr_equal(&s.mapped, &want),
		     "XOR-MAPPED-ADDRESS %s, the request came from %s", gs, ws);
	il_stun_key key;
	cf_turn_key(&s, &key);
	cf_check_req(ctx, "RFC8489-9.2.4-14",
		     il_stun_check_integrity(&m, &key) == IL_STUN_VERDICT_OK,
		     "MESSAGE-INTEGRITY of the success response: %s",
		     il_stun_verdict_name(il_stun_check_integrity(&m, &key)));
	cf_check_req(ctx, "RFC8656-7.2-14", s.relayed.port >= 49152,
		     "relayed port %u in 49152-65535", s.relayed.port);
	cf_check_req(ctx, "RFC8656-7.2-15", s.relayed.port >= 1024,
		     "relayed port %u not a well-known port", s.relayed.port);
	cf_check_req(ctx, "RFC8656-5-6", cf_has(&m, IL_ATTR_SOFTWARE),
		     "the Allocate success response %s SOFTWARE",
		     cf_has(&m, IL_ATTR_SOFTWARE) ? "has" : "lacks");
	cf_turn_release(&s);
}

static void add_transport_99(il_stun_builder *b, const void *arg)
{
	(void)arg;
	il_stun_add_u32(b, IL_ATTR_REQUESTED_TRANSPORT, 99u << 24);
}

/* Challenge with a valid Allocate, then an authenticated one built by add
 * (which must supply REQUESTED-TRANSPORT itself when it wants one). */
static size_t allocate_raw(cf_turn *s, cf_attrs_fn add, const void *arg, uint8_t *buf,
			   il_stun_msg *m)
{
	size_t n = cf_turn_challenge(s, IL_STUN_ALLOCATE, cf_add_udp_transport, NULL, buf, CF_BUF, m);
	if (!n || cf_error_code(m) != 401) {
		cf_error(s->ctx, "precondition failed: no 401 challenge to an Allocate");
		return 0;
	}
	n = cf_turn_request(s, IL_STUN_ALLOCATE, add, arg, buf, CF_BUF, m);
	if (n && m->cls == IL_STUN_SUCCESS)
		s->allocated = true;
	return n;
}

static void t_missing_transport(cf_ctx *ctx)
{
	OPEN(s);
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	size_t n = allocate_raw(&s, NULL, NULL, buf, &m);
	if (cf_stopped(ctx))
		return;
	cf_check_req(ctx, "RFC8656-7.2-3", n && cf_error_code(&m) == 400,
		     "an Allocate without REQUESTED-TRANSPORT got %s",
		     cf_describe(n, &m, what, sizeof what));
	cf_turn_release(&s);
}

static void t_unsupported_transport(cf_ctx *ctx)
{
	OPEN(s);
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	size_t n = allocate_raw(&s, add_transport_99, NULL, buf, &m);
	if (cf_stopped(ctx))
		return;
	cf_check_req(ctx, "RFC8656-7.2-4", n && cf_error_code(&m) == 442,
		     "REQUESTED-TRANSPORT 99 got %s", cf_describe(n, &m, what, sizeof what));
	cf_turn_release(&s);
}

static void t_second_allocate(cf_ctx *ctx)
{
	OPEN(s);
	if (!cf_turn_allocate(&s))
		return;
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	size_t n = cf_turn_request(&s, IL_STUN_ALLOCATE, cf_add_udp_transport, NULL, buf, sizeof buf,
				   &m);
	cf_check_req(ctx, "RFC8656-7.2-2", n && cf_error_code(&m) == 437,
		     "a second Allocate (new transaction) on the same 5-tuple got %s",
		     cf_describe(n, &m, what, sizeof what));
	cf_turn_release(&s);
}

static void t_allocate_retransmission(cf_ctx *ctx)
{
	OPEN(s);
	if (!cf_turn_allocate(&s))
		return;
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	/* The very request again: same transaction id, same nonce. */
	size_t n = cf_turn_request_once(&s, IL_STUN_ALLOCATE, cf_add_udp_transport, NULL,
					s.last_tid, buf, sizeof buf, &m);
	il_addr relayed;
	memset(&relayed, 0, sizeof relayed);
	const il_stun_attr *a = n ? il_stun_msg_find(&m, IL_ATTR_XOR_RELAYED_ADDRESS) : NULL;
	if (a)
		il_stun_attr_get_addr(&m, a, &relayed);
	cf_check_req(ctx, "RFC8489-6.3.1-2",
		     n && m.cls == IL_STUN_SUCCESS && il_addr_equal(&relayed, &s.relayed),
		     "the retransmitted Allocate got %s%s", cf_describe(n, &m, what, sizeof what),
		     n && m.cls == IL_STUN_SUCCESS && !il_addr_equal(&relayed, &s.relayed)
			     ? " with another relayed address"
			     : "");
	cf_turn_release(&s);
}

static void t_wrong_password(cf_ctx *ctx)
{
	OPEN(s);
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	cf_turn_challenge(&s, IL_STUN_ALLOCATE, cf_add_udp_transport, NULL, buf, sizeof buf, &m);
	s.password = "not-the-password";
	size_t n = cf_turn_request(&s, IL_STUN_ALLOCATE, cf_add_udp_transport, NULL, buf, sizeof buf,
				   &m);
	if (!cf_check_req(ctx, "RFC8489-9.2.4-10", n && cf_error_code(&m) == 401,
			  "a wrong password got %s", cf_describe(n, &m, what, sizeof what)))
		return;
	cf_check_req(ctx, "RFC8489-9.2.4-10", cf_has(&m, IL_ATTR_REALM) && cf_has(&m, IL_ATTR_NONCE),
		     "the 401 carries REALM and NONCE");
	cf_check_req(ctx, "RFC8489-9.2.4-11",
		     !cf_has(&m, IL_ATTR_MESSAGE_INTEGRITY) &&
			     !cf_has(&m, IL_ATTR_MESSAGE_INTEGRITY_SHA256),
		     "the 401 carries no MESSAGE-INTEGRITY(-SHA256)");
	/* An unknown user. */
	OPEN(u);
	cf_turn_challenge(&u, IL_STUN_ALLOCATE, cf_add_udp_transport, NULL, buf, sizeof buf, &m);
	u.user = "no-such-user-icelab";
	n = cf_turn_request(&u, IL_STUN_ALLOCATE, cf_add_udp_transport, NULL, buf, sizeof buf, &m);
	if (!cf_check_req(ctx, "RFC8489-9.2.4-8", n && cf_error_code(&m) == 401,
			  "an unknown username got %s", cf_describe(n, &m, what, sizeof what)))
		return;
	cf_check_req(ctx, "RFC8489-9.2.4-8", cf_has(&m, IL_ATTR_REALM) && cf_has(&m, IL_ATTR_NONCE),
		     "the 401 carries REALM and NONCE");
}

static void add_mi_without_username(il_stun_builder *b, const void *arg)
{
	const cf_turn *s = arg;
	il_stun_key key;
	cf_add_udp_transport(b, NULL);
	il_stun_add_string(b, IL_ATTR_REALM, s->realm, strlen(s->realm));
	il_stun_add_string(b, IL_ATTR_NONCE, s->nonce, s->nonce_len);
	cf_turn_key(s, &key);
	il_stun_add_message_integrity(b, &key);
}

static void t_missing_username(cf_ctx *ctx)
{
	OPEN(s);
	uint8_t buf[CF_BUF], req[CF_BUF];
	il_stun_msg m;
	char what[96];
	cf_turn_challenge(&s, IL_STUN_ALLOCATE, cf_add_udp_transport, NULL, buf, sizeof buf, &m);
	size_t len = cf_build(ctx, req, sizeof req, IL_STUN_ALLOCATE, IL_STUN_REQUEST,
			      add_mi_without_username, &s, true);
	size_t n = cf_transact(ctx, s.client, req, len, buf, sizeof buf, &m);
	cf_check_req(ctx, "RFC8489-9.2.4-7", n && cf_error_code(&m) == 400,
		     "MESSAGE-INTEGRITY without USERNAME got %s",
		     cf_describe(n, &m, what, sizeof what));
}

static void t_sha256(cf_ctx *ctx)
{
	OPEN(s);
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	cf_turn_challenge(&s, IL_STUN_ALLOCATE, cf_add_udp_transport, NULL, buf, sizeof buf, &m);
	bool offers = false;
	for (size_t i = 0; i < s.nalgs; i++)
		offers |= s.algs[i] == IL_STUN_PWALG_SHA256;
	if (!offers) {
		cf_not_applicable(ctx, "the server does not offer SHA-256 in PASSWORD-ALGORITHMS");
		return;
	}
	s.sha256 = true;
	size_t n = cf_turn_request(&s, IL_STUN_ALLOCATE, cf_add_udp_transport, NULL, buf, sizeof buf,
				   &m);
	if (!cf_check_req(ctx, "RFC8489-9.2.4-9", n && m.cls == IL_STUN_SUCCESS,
			  "an Allocate authenticated with SHA-256 got %s",
			  cf_describe(n, &m, what, sizeof what)))
		return;
	s.allocated = true;
	il_stun_key key;
	cf_turn_key(&s, &key);
	enum il_stun_verdict v = il_stun_check_integrity_sha256(&m, &key);
	cf_check_req(ctx, "RFC8489-9.2.4-13", v == IL_STUN_VERDICT_OK,
		     "MESSAGE-INTEGRITY-SHA256 of the response: %s", il_stun_verdict_name(v));
	cf_turn_release(&s);
}

static void t_algorithms_mismatch(cf_ctx *ctx)
{
	OPEN(s);
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	cf_turn_challenge(&s, IL_STUN_ALLOCATE, cf_add_udp_transport, NULL, buf, sizeof buf, &m);
	if (!s.algs_feature || s.algs_raw_len < 4) {
		cf_not_applicable(ctx, "the server does not use PASSWORD-ALGORITHMS");
		return;
	}
	/* Echo a list that differs from the one the server sent: MD5 only
	 * when it sent more, else SHA-256 added. */
	bool offers256 = false;
	for (size_t i = 0; i < s.nalgs; i++)
		offers256 |= s.algs[i] == IL_STUN_PWALG_SHA256;
	static const uint8_t md5_only[4] = {0, 1, 0, 0};
	static const uint8_t both[8] = {0, 1, 0, 0, 0, 2, 0, 0};
	if (s.nalgs > 1) {
		memcpy(s.algs_raw, md5_only, 4);
		s.algs_raw_len = 4;
	} else {
		memcpy(s.algs_raw, both, 8);
		s.algs_raw_len = 8;
	}
	s.sha256 = true;
	(void)offers256;
	size_t n = cf_turn_request(&s, IL_STUN_ALLOCATE, cf_add_udp_transport, NULL, buf, sizeof buf,
				   &m);
	cf_check_req(ctx, "RFC8489-9.2.4-12", n && cf_error_code(&m) == 400,
		     "PASSWORD-ALGORITHMS not as sent got %s", cf_describe(n, &m, what, sizeof what));
	if (n && m.cls == IL_STUN_SUCCESS) {
		s.allocated = true;
		cf_turn_release(&s);
	}
}

static void t_stale_nonce(cf_ctx *ctx)
{
	OPEN(s);
	if (!cf_turn_allocate(&s))
		return;
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	char old[256];
	size_t old_len = s.nonce_len;
	memcpy(old, s.nonce, s.nonce_len);
	/* Refresh every 5 minutes for 65 minutes with the first nonce: the
	 * server should declare it stale within the hour (RFC 8656 §5). */
	uint8_t tid[IL_STUN_TID_LEN];
	bool stale = false;
	for (int i = 0; i < 13 && !stale && !cf_stopped(ctx); i++) {
		cf_sleep(ctx, 5 * 60 * 1000);
		uint32_t lt = 600;
		cf_new_tid(ctx, tid);
		size_t n = cf_turn_request_once(&s, IL_STUN_REFRESH, cf_add_lifetime, &lt, tid, buf,
						sizeof buf, &m);
		if (!n) {
			cf_error(ctx, "a Refresh went unanswered");
			return;
		}
		if (cf_error_code(&m) == 438) {
			stale = true;
			break;
		}
		if (m.cls != IL_STUN_SUCCESS) {
			cf_error(ctx, "a Refresh got %s", cf_describe(n, &m, what, sizeof what));
			return;
		}
	}
	if (!cf_check_req(ctx, "RFC8656-5-2", stale,
			  "the nonce %s stale within 65 minutes", stale ? "became" : "never became"))
		return;
	cf_check_req(ctx, "RFC8489-9.2.4-15", cf_has(&m, IL_ATTR_NONCE) && cf_has(&m, IL_ATTR_REALM),
		     "the 438 carries NONCE and REALM");
	if (s.algs_feature)
		cf_check_req(ctx, "RFC8489-9.2.4-15", cf_has(&m, IL_ATTR_PASSWORD_ALGORITHMS),
			     "the 438 carries PASSWORD-ALGORITHMS");
	const il_stun_attr *a = il_stun_msg_find(&m, IL_ATTR_NONCE);
	const char *text = NULL;
	size_t len = 0;
	if (a)
		il_stun_attr_get_string(&m, a, &text, &len);
	cf_check_req(ctx, "RFC8489-9.2.4-16", a && (len != old_len || memcmp(text, old, len) != 0),
		     "the 438 brings a new nonce");
	if (a && len < sizeof s.nonce) {
		memcpy(s.nonce, text, len);
		s.nonce_len = len;
	}
	uint32_t lt = 600;
	cf_new_tid(ctx, tid);
	size_t n = cf_turn_request_once(&s, IL_STUN_REFRESH, cf_add_lifetime, &lt, tid, buf,
					sizeof buf, &m);
	cf_check_req(ctx, "RFC8489-9.2.4-16", n && m.cls == IL_STUN_SUCCESS,
		     "the Refresh with the 438's nonce got %s", cf_describe(n, &m, what, sizeof what));
}

static void t_refresh_lifetime(cf_ctx *ctx)
{
	OPEN(s);
	if (!cf_turn_allocate(&s))
		return;
	uint32_t dflt = s.lifetime;
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	bool has;
	size_t n = refresh(&s, 1200, buf, &m);
	if (!cf_check_req(ctx, "RFC8656-8.2-3", n && m.cls == IL_STUN_SUCCESS,
			  "Refresh LIFETIME 1200 got %s", cf_describe(n, &m, what, sizeof what)))
		return;
	uint32_t lt = lifetime_of(&m, &has);
	cf_check_req(ctx, "RFC8656-8.2-4", has && lt > 0 && lt <= 1200,
		     "Refresh LIFETIME 1200 answered LIFETIME %u (%s)", lt,
		     has ? "present" : "absent");
	cf_check_req(ctx, "RFC8656-5-6", cf_has(&m, IL_ATTR_SOFTWARE),
		     "the Refresh response %s SOFTWARE", cf_has(&m, IL_ATTR_SOFTWARE) ? "has" : "lacks");
	n = refresh(&s, 30, buf, &m);
	lt = n ? lifetime_of(&m, &has) : 0;
	cf_check_req(ctx, "RFC8656-8.2-2", n && m.cls == IL_STUN_SUCCESS && lt + 1 >= dflt,
		     "Refresh LIFETIME 30 (below the default %u) answered LIFETIME %u: the default "
		     "applies",
		     dflt, lt);
	cf_turn_release(&s);
}

static void t_lifetime_capped(cf_ctx *ctx)
{
	OPEN(s);
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	uint32_t huge = 0xFFFFFFFFu;
	size_t n = cf_turn_allocate_with(&s, cf_add_lifetime, &huge, buf, sizeof buf, &m);
	if (!n || m.cls != IL_STUN_SUCCESS) {
		cf_error(ctx, "precondition failed: Allocate with LIFETIME got %s",
			 cf_describe(n, &m, what, sizeof what));
		return;
	}
	cf_check_req(ctx, "RFC8656-7.2-16", s.lifetime <= 3600,
		     "LIFETIME 0xffffffff asked, %u s granted", s.lifetime);
	cf_turn_release(&s);
}

static void t_refresh_zero(cf_ctx *ctx)
{
	OPEN(s);
	if (!cf_turn_allocate(&s))
		return;
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	size_t n = refresh(&s, 0, buf, &m);
	cf_check_req(ctx, "RFC8656-8.2-1", n && m.cls == IL_STUN_SUCCESS,
		     "Refresh LIFETIME 0 got %s", cf_describe(n, &m, what, sizeof what));
	s.allocated = false;
	il_addr peer;
	il_addr_parse("203.0.113.99:9", &peer);
	n = cf_turn_request(&s, IL_STUN_CREATEPERMISSION, cf_add_peer, &peer, buf, sizeof buf, &m);
	cf_check_req(ctx, "RFC8656-8.2-1", n && cf_error_code(&m) == 437,
		     "after the delete, CreatePermission got %s (437: the allocation is gone)",
		     cf_describe(n, &m, what, sizeof what));
	n = cf_turn_request(&s, IL_STUN_ALLOCATE, cf_add_udp_transport, NULL, buf, sizeof buf, &m);
	cf_check_req(ctx, "RFC8656-8.2-1", n && m.cls == IL_STUN_SUCCESS,
		     "a new Allocate on the freed 5-tuple got %s",
		     cf_describe(n, &m, what, sizeof what));
	if (n && m.cls == IL_STUN_SUCCESS)
		s.allocated = true;
	cf_turn_release(&s);
}

static void t_no_allocation_437(cf_ctx *ctx)
{
	OPEN(s);
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	cf_turn_challenge(&s, IL_STUN_ALLOCATE, cf_add_udp_transport, NULL, buf, sizeof buf, &m);
	size_t n = refresh(&s, 600, buf, &m);
	cf_check_req(ctx, "RFC8656-5-4", n && cf_error_code(&m) == 437,
		     "Refresh without an allocation got %s", cf_describe(n, &m, what, sizeof what));
	il_addr peer;
	il_addr_parse("203.0.113.99:9", &peer);
	n = cf_turn_request(&s, IL_STUN_CREATEPERMISSION, cf_add_peer, &peer, buf, sizeof buf, &m);
	cf_check_req(ctx, "RFC8656-5-4", n && cf_error_code(&m) == 437,
		     "CreatePermission without an allocation got %s",
		     cf_describe(n, &m, what, sizeof what));
	/* Indications and ChannelData without allocation: silence. */
	uint8_t data[4] = {1, 2, 3, 4};
	cf_turn_send(&s, &peer, data, sizeof data);
	uint8_t cd[16];
	size_t cdl = il_channeldata_encode(cd, sizeof cd, 0x4000, data, sizeof data, false);
	cf_send(ctx, s.client, cd, cdl);
	cf_check_req(ctx, "RFC8656-5-5", cf_expect_silence(ctx, s.client),
		     "a Send indication and ChannelData without an allocation got no answer");
}

static void t_allocation_expires(cf_ctx *ctx)
{
	OPEN(s);
	if (!cf_turn_allocate(&s))
		return;
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	cf_sleep(ctx, (s.lifetime + 5) * 1000u);
	size_t n = refresh(&s, 600, buf, &m);
	cf_check_req(ctx, "RFC8656-6-1", n && cf_error_code(&m) == 437,
		     "%u s after an allocation of %u s, Refresh got %s", s.lifetime + 5, s.lifetime,
		     cf_describe(n, &m, what, sizeof what));
}

static void t_createpermission_400(cf_ctx *ctx)
{
	OPEN(s);
	if (!cf_turn_allocate(&s))
		return;
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	size_t n = cf_turn_request(&s, IL_STUN_CREATEPERMISSION, NULL, NULL, buf, sizeof buf, &m);
	cf_check_req(ctx, "RFC8656-10.2-1", n && cf_error_code(&m) == 400,
		     "CreatePermission without XOR-PEER-ADDRESS got %s",
		     cf_describe(n, &m, what, sizeof what));
	il_addr v6;
	il_addr_parse("[2001:db8::1]:9", &v6);
	n = cf_turn_request(&s, IL_STUN_CREATEPERMISSION, cf_add_peer, &v6, buf, sizeof buf, &m);
	cf_check_req(ctx, "RFC8656-10.2-2", n && cf_error_code(&m) == 443,
		     "an IPv6 peer on an IPv4 allocation got %s",
		     cf_describe(n, &m, what, sizeof what));
	cf_turn_release(&s);
}

/* The peer sends, the client must receive it as Data or ChannelData;
 * returns the received length (0: nothing). */
static size_t client_gets(cf_ctx *ctx, cf_turn *s, uint8_t *buf)
{
	return cf_recv(ctx, s->client, buf, CF_BUF, 0);
}

static void t_send_and_data(cf_ctx *ctx)
{
	OPEN(s);
	int p = cf_peer(ctx);
	if (p < 0 || !cf_turn_allocate(&s))
		return;
	il_addr peer = cf_peer_addr(ctx, p);
	il_addr any_port = peer;
	any_port.port = 9; /* the permission ignores the port (§10.2) */
	if (!cf_turn_permit(&s, &any_port))
		return;
	cf_check_req(ctx, "RFC8656-10.2-3", true, "CreatePermission succeeded");
	static const uint8_t hello[] = "hello peer";
	cf_turn_send(&s, &peer, hello, sizeof hello - 1);
	uint8_t buf[CF_BUF];
	size_t len;
	il_addr from;
	int got = cf_peer_recv(ctx, p, buf, sizeof buf, &len, &from, 0);
	char fs[IL_ADDR_STRLEN] = "-", rs[IL_ADDR_STRLEN];
	if (got)
		il_addr_format(&from, fs, sizeof fs);
	il_addr_format(&s.relayed, rs, sizeof rs);
	cf_check_req(ctx, "RFC8656-11.2-1",
		     got && len == sizeof hello - 1 && memcmp(buf, hello, len) == 0,
		     "the peer %s the Send indication's data", got ? "received" : "did not receive");
	if (got)
		cf_check_req(ctx, "RFC8656-11.2-2", il_addr_equal(&from, &s.relayed),
			     "the datagram came from %s, the relayed address is %s", fs, rs);
	static const uint8_t back[] = "hello client";
	cf_peer_send(ctx, p, &s.relayed, back, sizeof back - 1);
	size_t n = client_gets(ctx, &s, buf);
	il_stun_msg m;
	bool is_data = n && il_stun_decode(buf, n, &m, NULL) == IL_STUN_OK &&
		       m.method == IL_STUN_DATA && m.cls == IL_STUN_INDICATION;
	if (!cf_check_req(ctx, "RFC8656-11.3-1", is_data,
			  "the peer's datagram reached the client as %s",
			  !n ? "nothing" : is_data ? "a Data indication" : "something else"))
		return;
	const il_stun_attr *pa = il_stun_msg_find(&m, IL_ATTR_XOR_PEER_ADDRESS);
	const il_stun_attr *da = il_stun_msg_find(&m, IL_ATTR_DATA);
	il_addr pgot;
	memset(&pgot, 0, sizeof pgot);
	if (pa)
		il_stun_attr_get_addr(&m, pa, &pgot);
	cf_check_req(ctx, "RFC8656-11.3-1",
		     pa && da && il_addr_equal(&pgot, &peer) && da->length == sizeof back - 1 &&
			     memcmp(il_stun_attr_value(&m, da), back, da->length) == 0,
		     "the Data indication carries the peer's address and data");
	cf_turn_release(&s);
}

static void t_no_permission(cf_ctx *ctx)
{
	OPEN(s);
	int p = cf_peer(ctx);
	if (p < 0 || !cf_turn_allocate(&s))
		return;
	il_addr peer = cf_peer_addr(ctx, p);
	static const uint8_t data[] = "no permission";
	cf_turn_send(&s, &peer, data, sizeof data - 1);
	uint8_t buf[CF_BUF];
	size_t len;
	int got = cf_peer_recv(ctx, p, buf, sizeof buf, &len, NULL, 300);
	cf_check_req(ctx, "RFC8656-11.2-3", !got,
		     "a Send indication to a peer without permission %s relayed",
		     got ? "was" : "was not");
	cf_peer_send(ctx, p, &s.relayed, data, sizeof data - 1);
	cf_check_req(ctx, "RFC8656-9-2", cf_expect_silence(ctx, s.client),
		     "a datagram from a peer without permission is not relayed to the client");
	cf_turn_release(&s);
}

static void t_permission_lifetime(cf_ctx *ctx)
{
	OPEN(s);
	int p = cf_peer(ctx);
	if (p < 0 || !cf_turn_allocate(&s))
		return;
	il_addr peer = cf_peer_addr(ctx, p);
	if (!cf_turn_permit(&s, &peer))
		return;
	uint8_t buf[CF_BUF];
	static const uint8_t data[] = "x";
	/* A Send indication at 200 s must not refresh the permission. */
	cf_sleep(ctx, 200 * 1000);
	cf_turn_send(&s, &peer, data, 1);
	size_t len;
	cf_peer_recv(ctx, p, buf, sizeof buf, &len, NULL, 0);
	cf_sleep(ctx, 80 * 1000);
	cf_peer_send(ctx, p, &s.relayed, data, 1);
	size_t n = cf_recv(ctx, s.client, buf, sizeof buf, 0);
	cf_check_req(ctx, "RFC8656-9-1", n > 0, "at about 280 s the permission still relays");
	cf_sleep(ctx, 30 * 1000);
	cf_peer_send(ctx, p, &s.relayed, data, 1);
	cf_check_req(ctx, "RFC8656-9-1", cf_expect_silence(ctx, s.client),
		     "at about 310 s the permission has expired (300 s, not refreshed by Send)");
	cf_check_req(ctx, "RFC8656-11.2-4", true, "Send did not refresh the permission");
}

static void t_channel_bind(cf_ctx *ctx)
{
	OPEN(s);
	int p = cf_peer(ctx);
	if (p < 0 || !cf_turn_allocate(&s))
		return;
	il_addr peer = cf_peer_addr(ctx, p);
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	cf_channel_arg ca = {.number = 0x4000, .peer = peer};
	size_t n = cf_turn_request(&s, IL_STUN_CHANNELBIND, cf_add_channel, &ca, buf, sizeof buf, &m);
	if (!cf_check_req(ctx, "RFC8656-12.2-5", n && m.cls == IL_STUN_SUCCESS,
			  "ChannelBind 0x4000 got %s", cf_describe(n, &m, what, sizeof what)))
		return;
	/* Client to peer over the channel. */
	static const uint8_t data[] = "over channel";
	uint8_t cd[64];
	size_t cdl = il_channeldata_encode(cd, sizeof cd, 0x4000, data, sizeof data - 1, false);
	cf_send(ctx, s.client, cd, cdl);
	size_t len;
	il_addr from;
	int got = cf_peer_recv(ctx, p, buf, sizeof buf, &len, &from, 0);
	cf_check_req(ctx, "RFC8656-12.6-3",
		     got && len == sizeof data - 1 && memcmp(buf, data, len) == 0 &&
			     il_addr_equal(&from, &s.relayed),
		     "ChannelData %s the peer from the relayed address",
		     got ? "reached" : "did not reach");
	/* Peer to client: ChannelData, and the bind installed the permission. */
	cf_peer_send(ctx, p, &s.relayed, data, sizeof data - 1);
	n = cf_recv(ctx, s.client, buf, sizeof buf, 0);
	il_channeldata chd;
	bool is_cd = n && il_channeldata_decode(buf, n, &chd, NULL) == IL_STUN_OK;
	cf_check_req(ctx, "RFC8656-12.2-6", n > 0,
		     "without CreatePermission, the peer's datagram %s the client (the bind "
		     "installs a permission)",
		     n ? "reached" : "did not reach");
	if (n)
		cf_check_req(ctx, "RFC8656-12.5-1",
			     is_cd && chd.channel == 0x4000 && chd.length == sizeof data - 1,
			     "the peer's data came as %s",
			     is_cd ? "ChannelData" : "something other than ChannelData");
	/* Zero-length ChannelData still makes a datagram (§12.6). */
	cdl = il_channeldata_encode(cd, sizeof cd, 0x4000, NULL, 0, false);
	cf_send(ctx, s.client, cd, cdl);
	got = cf_peer_recv(ctx, p, buf, sizeof buf, &len, &from, 0);
	cf_check_req(ctx, "RFC8656-12.6-4", got && len == 0,
		     "zero-length ChannelData %s an empty datagram to the peer",
		     got ? "made" : "did not make");
	cf_turn_release(&s);
}

static void t_channel_bind_400(cf_ctx *ctx)
{
	OPEN(s);
	if (!cf_turn_allocate(&s))
		return;
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	il_addr peer;
	il_addr_parse("203.0.113.77:5000", &peer);
	static const uint16_t bad[] = {0x3FFF, 0x5000, 0x0000, 0xFFFF};
	for (size_t i = 0; i < 4; i++) {
		cf_channel_arg ca = {.number = bad[i], .peer = peer};
		size_t n = cf_turn_request(&s, IL_STUN_CHANNELBIND, cf_add_channel, &ca, buf,
					   sizeof buf, &m);
		cf_check_req(ctx, "RFC8656-12.2-2", n && cf_error_code(&m) == 400,
			     "channel 0x%04x got %s", bad[i], cf_describe(n, &m, what, sizeof what));
	}
	cf_channel_arg no_num = {.number = 0x4000, .peer = peer, .omit_number = true};
	size_t n = cf_turn_request(&s, IL_STUN_CHANNELBIND, cf_add_channel, &no_num, buf, sizeof buf,
				   &m);
	cf_check_req(ctx, "RFC8656-12.2-1", n && cf_error_code(&m) == 400,
		     "ChannelBind without CHANNEL-NUMBER got %s",
		     cf_describe(n, &m, what, sizeof what));
	cf_channel_arg no_peer = {.number = 0x4000, .peer = peer, .omit_peer = true};
	n = cf_turn_request(&s, IL_STUN_CHANNELBIND, cf_add_channel, &no_peer, buf, sizeof buf, &m);
	cf_check_req(ctx, "RFC8656-12.2-1", n && cf_error_code(&m) == 400,
		     "ChannelBind without XOR-PEER-ADDRESS got %s",
		     cf_describe(n, &m, what, sizeof what));
	il_addr v6;
	il_addr_parse("[2001:db8::1]:5000", &v6);
	cf_channel_arg fam = {.number = 0x4000, .peer = v6};
	n = cf_turn_request(&s, IL_STUN_CHANNELBIND, cf_add_channel, &fam, buf, sizeof buf, &m);
	cf_check_req(ctx, "RFC8656-12.2-7", n && cf_error_code(&m) == 443,
		     "an IPv6 peer on an IPv4 allocation got %s",
		     cf_describe(n, &m, what, sizeof what));
	cf_turn_release(&s);
}

static void t_channel_rebind(cf_ctx *ctx)
{
	OPEN(s);
	if (!cf_turn_allocate(&s))
		return;
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	il_addr a, b;
	il_addr_parse("203.0.113.80:5000", &a);
	il_addr_parse("203.0.113.81:5000", &b);
	if (!cf_turn_bind(&s, 0x4001, &a))
		return;
	cf_channel_arg other_peer = {.number = 0x4001, .peer = b};
	size_t n = cf_turn_request(&s, IL_STUN_CHANNELBIND, cf_add_channel, &other_peer, buf,
				   sizeof buf, &m);
	cf_check_req(ctx, "RFC8656-12.2-3", n && cf_error_code(&m) == 400,
		     "channel 0x4001 (bound to A) for peer B got %s",
		     cf_describe(n, &m, what, sizeof what));
	cf_channel_arg other_chan = {.number = 0x4002, .peer = a};
	n = cf_turn_request(&s, IL_STUN_CHANNELBIND, cf_add_channel, &other_chan, buf, sizeof buf,
			    &m);
	cf_check_req(ctx, "RFC8656-12.2-4", n && cf_error_code(&m) == 400,
		     "peer A (bound to 0x4001) on channel 0x4002 got %s",
		     cf_describe(n, &m, what, sizeof what));
	cf_channel_arg same = {.number = 0x4001, .peer = a};
	n = cf_turn_request(&s, IL_STUN_CHANNELBIND, cf_add_channel, &same, buf, sizeof buf, &m);
	cf_check_req(ctx, "RFC8656-12.2-3", n && m.cls == IL_STUN_SUCCESS,
		     "the same binding again (a refresh) got %s",
		     cf_describe(n, &m, what, sizeof what));
	cf_turn_release(&s);
}

static void t_channeldata_unbound(cf_ctx *ctx)
{
	OPEN(s);
	int p = cf_peer(ctx);
	if (p < 0 || !cf_turn_allocate(&s))
		return;
	il_addr peer = cf_peer_addr(ctx, p);
	if (!cf_turn_bind(&s, 0x4000, &peer))
		return;
	static const uint8_t data[] = "stray";
	uint8_t cd[64], buf[CF_BUF];
	size_t cdl = il_channeldata_encode(cd, sizeof cd, 0x4abc, data, sizeof data - 1, false);
	cf_send(ctx, s.client, cd, cdl);
	size_t len;
	int got = cf_peer_recv(ctx, p, buf, sizeof buf, &len, NULL, 300);
	cf_check_req(ctx, "RFC8656-12.6-2", !got, "ChannelData on unbound channel 0x4abc %s",
		     got ? "was relayed" : "was dropped");
	/* Claimed length past the datagram: dropped (§12.6). */
	cdl = il_channeldata_encode(cd, sizeof cd, 0x4000, data, sizeof data - 1, false);
	cd[3] = (uint8_t)(cd[3] + 20);
	cf_send(ctx, s.client, cd, cdl);
	got = cf_peer_recv(ctx, p, buf, sizeof buf, &len, NULL, 300);
	cf_check_req(ctx, "RFC8656-12.6-1", !got, "ChannelData longer than its datagram %s",
		     got ? "was relayed" : "was dropped");
	cf_turn_release(&s);
}

static void add_even_port(il_stun_builder *b, const void *arg)
{
	uint8_t r = *(const uint8_t *)arg ? 0x80 : 0x00;
	il_stun_add_raw(b, IL_ATTR_EVEN_PORT, &r, 1);
}

static void add_token(il_stun_builder *b, const void *arg)
{
	cf_add_udp_transport(b, NULL);
	il_stun_add_raw(b, IL_ATTR_RESERVATION_TOKEN, arg, 8);
}

static void t_even_port(cf_ctx *ctx)
{
	OPEN(s);
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	uint8_t r = 1;
	size_t n = cf_turn_allocate_with(&s, add_even_port, &r, buf, sizeof buf, &m);
	if (n && cf_error_code(&m) == 508) {
		cf_not_applicable(ctx, "the server cannot reserve port pairs (508)");
		return;
	}
	if (!cf_check_req(ctx, "RFC8656-7.2-17", n && m.cls == IL_STUN_SUCCESS,
			  "EVEN-PORT R=1 got %s", cf_describe(n, &m, what, sizeof what)))
		return;
	cf_check_req(ctx, "RFC8656-7.2-17", (s.relayed.port & 1) == 0, "relayed port %u is even",
		     s.relayed.port);
	const il_stun_attr *t = il_stun_msg_find(&m, IL_ATTR_RESERVATION_TOKEN);
	if (!cf_check_req(ctx, "RFC8656-7.2-18", t && t->length == 8,
			  "the response %s RESERVATION-TOKEN", t ? "has" : "lacks"))
		return;
	uint8_t token[8];
	memcpy(token, il_stun_attr_value(&m, t), 8);
	OPEN(s2);
	n = cf_turn_challenge(&s2, IL_STUN_ALLOCATE, cf_add_udp_transport, NULL, buf, sizeof buf, &m);
	n = cf_turn_request(&s2, IL_STUN_ALLOCATE, add_token, token, buf, sizeof buf, &m);
	il_addr relayed2;
	memset(&relayed2, 0, sizeof relayed2);
	const il_stun_attr *ra = n ? il_stun_msg_find(&m, IL_ATTR_XOR_RELAYED_ADDRESS) : NULL;
	if (ra)
		il_stun_attr_get_addr(&m, ra, &relayed2);
	if (n && m.cls == IL_STUN_SUCCESS)
		s2.allocated = true;
	cf_check_req(ctx, "RFC8656-7.2-19",
		     n && m.cls == IL_STUN_SUCCESS && relayed2.port == s.relayed.port + 1,
		     "the token's Allocate got %s, relayed port %u (reserved: %u)",
		     cf_describe(n, &m, what, sizeof what), relayed2.port, s.relayed.port + 1);
	cf_turn_release(&s2);
	cf_turn_release(&s);
}

static void add_token_and_even(il_stun_builder *b, const void *arg)
{
	(void)arg;
	static const uint8_t token[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	uint8_t r = 0;
	cf_add_udp_transport(b, NULL);
	il_stun_add_raw(b, IL_ATTR_RESERVATION_TOKEN, token, 8);
	il_stun_add_raw(b, IL_ATTR_EVEN_PORT, &r, 1);
}

static void add_both_families(il_stun_builder *b, const void *arg)
{
	(void)arg;
	cf_add_udp_transport(b, NULL);
	il_stun_add_u32(b, IL_ATTR_REQUESTED_ADDRESS_FAMILY, 0x01000000u);
	il_stun_add_u32(b, IL_ATTR_ADDITIONAL_ADDRESS_FAMILY, 0x02000000u);
}

static void add_additional_v4(il_stun_builder *b, const void *arg)
{
	(void)arg;
	cf_add_udp_transport(b, NULL);
	il_stun_add_u32(b, IL_ATTR_ADDITIONAL_ADDRESS_FAMILY, 0x01000000u);
}

static void add_bogus_token(il_stun_builder *b, const void *arg)
{
	(void)arg;
	static const uint8_t token[8] = {9, 9, 9, 9, 9, 9, 9, 9};
	cf_add_udp_transport(b, NULL);
	il_stun_add_raw(b, IL_ATTR_RESERVATION_TOKEN, token, 8);
}

static void t_allocate_400s(cf_ctx *ctx)
{
	static const struct {
		cf_attrs_fn add;
		const char *req, *what;
		int code;
	} cases[] = {
		{add_token_and_even, "RFC8656-7.2-5", "RESERVATION-TOKEN with EVEN-PORT", 400},
		{add_both_families, "RFC8656-7.2-6",
		 "REQUESTED-ADDRESS-FAMILY with ADDITIONAL-ADDRESS-FAMILY", 400},
		{add_additional_v4, "RFC8656-7.2-9", "ADDITIONAL-ADDRESS-FAMILY IPv4", 400},
		{add_bogus_token, "RFC8656-7.2-20", "an unknown RESERVATION-TOKEN", 508},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0] && !cf_stopped(ctx); i++) {
		OPEN(s);
		uint8_t buf[CF_BUF];
		il_stun_msg m;
		char what[96];
		size_t n = allocate_raw(&s, cases[i].add, NULL, buf, &m);
		if (cf_stopped(ctx))
			return;
		cf_check_req(ctx, cases[i].req, n && cf_error_code(&m) == cases[i].code,
			     "%s got %s (want %d)", cases[i].what,
			     cf_describe(n, &m, what, sizeof what), cases[i].code);
		cf_turn_release(&s);
	}
}

static void add_family_v6(il_stun_builder *b, const void *arg)
{
	(void)arg;
	il_stun_add_u32(b, IL_ATTR_REQUESTED_ADDRESS_FAMILY, 0x02000000u);
}

static void t_family_v6(cf_ctx *ctx)
{
	OPEN(s);
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	size_t n = cf_turn_allocate_with(&s, add_family_v6, NULL, buf, sizeof buf, &m);
	bool ok = n && (cf_error_code(&m) == 440 ||
			(m.cls == IL_STUN_SUCCESS && s.relayed.family == IL_AF_INET6));
	cf_check_req(ctx, "RFC8656-7.2-8", ok,
		     "REQUESTED-ADDRESS-FAMILY IPv6 got %s%s", cf_describe(n, &m, what, sizeof what),
		     n && m.cls == IL_STUN_SUCCESS && s.relayed.family != IL_AF_INET6
			     ? " with a relayed address that is not IPv6"
			     : "");
	cf_turn_release(&s);
}

static const cf_test tests[] = {
	{"turn-server", "allocate-401-challenge",
	 "Allocate without credentials: 401 with REALM and NONCE, nothing allocated", 0,
	 t_challenge},
	{"turn-server", "nonce-per-source", "Different sources get different nonces", 0,
	 t_nonce_per_source},
	{"turn-server", "allocate-success", "An authenticated Allocate and its response",
	 CF_NEEDS_CREDENTIALS, t_allocate_success},
	{"turn-server", "allocate-missing-transport-400", "No REQUESTED-TRANSPORT: 400",
	 CF_NEEDS_CREDENTIALS, t_missing_transport},
	{"turn-server", "allocate-unsupported-transport-442", "Unknown transport protocol: 442",
	 CF_NEEDS_CREDENTIALS, t_unsupported_transport},
	{"turn-server", "allocate-bad-combinations", "Forbidden attribute combinations: 400/508",
	 CF_NEEDS_CREDENTIALS, t_allocate_400s},
	{"turn-server", "allocate-ipv6-family", "REQUESTED-ADDRESS-FAMILY IPv6: IPv6 relay or 440",
	 CF_NEEDS_CREDENTIALS, t_family_v6},
	{"turn-server", "allocate-even-port", "EVEN-PORT and RESERVATION-TOKEN",
	 CF_NEEDS_CREDENTIALS, t_even_port},
	{"turn-server", "allocate-mismatch-437", "A second Allocate on the same 5-tuple: 437",
	 CF_NEEDS_CREDENTIALS, t_second_allocate},
	{"turn-server", "allocate-retransmission", "A retransmitted Allocate is not a second one",
	 CF_NEEDS_CREDENTIALS | CF_NEEDS_UDP, t_allocate_retransmission},
	{"turn-server", "auth-wrong-credentials-401", "Wrong password and unknown user: 401",
	 CF_NEEDS_CREDENTIALS, t_wrong_password},
	{"turn-server", "auth-missing-username-400", "MESSAGE-INTEGRITY without USERNAME: 400", 0,
	 t_missing_username},
	{"turn-server", "auth-sha256", "PASSWORD-ALGORITHMS: SHA-256 when offered",
	 CF_NEEDS_CREDENTIALS, t_sha256},
	{"turn-server", "auth-algorithms-mismatch-400",
	 "PASSWORD-ALGORITHMS not echoed as sent: 400", CF_NEEDS_CREDENTIALS,
	 t_algorithms_mismatch},
	{"turn-server", "stale-nonce-438", "A stale nonce: 438 with a fresh nonce",
	 CF_NEEDS_CREDENTIALS | CF_NEEDS_VIRTUAL_TIME, t_stale_nonce},
	{"turn-server", "refresh-lifetime", "Refresh and the lifetime rules", CF_NEEDS_CREDENTIALS,
	 t_refresh_lifetime},
	{"turn-server", "allocate-lifetime-capped", "A huge LIFETIME is capped",
	 CF_NEEDS_CREDENTIALS, t_lifetime_capped},
	{"turn-server", "refresh-zero-deletes", "Refresh LIFETIME 0 deletes the allocation",
	 CF_NEEDS_CREDENTIALS, t_refresh_zero},
	{"turn-server", "no-allocation-437", "Requests without an allocation: 437; indications "
	 "ignored", CF_NEEDS_CREDENTIALS, t_no_allocation_437},
	{"turn-server", "allocation-expires", "An allocation not refreshed expires",
	 CF_NEEDS_CREDENTIALS | CF_NEEDS_VIRTUAL_TIME, t_allocation_expires},
	{"turn-server", "createpermission-errors", "CreatePermission: 400 and 443",
	 CF_NEEDS_CREDENTIALS, t_createpermission_400},
	{"turn-server", "send-and-data", "CreatePermission, Send and Data indications",
	 CF_NEEDS_CREDENTIALS | CF_NEEDS_PEER, t_send_and_data},
	{"turn-server", "no-permission-dropped", "Without permission nothing is relayed",
	 CF_NEEDS_CREDENTIALS | CF_NEEDS_PEER, t_no_permission},
	{"turn-server", "permission-lifetime", "Permissions last 300 s; Send does not refresh",
	 CF_NEEDS_CREDENTIALS | CF_NEEDS_PEER | CF_NEEDS_VIRTUAL_TIME, t_permission_lifetime},
	{"turn-server", "channelbind-and-channeldata", "ChannelBind, ChannelData both ways",
	 CF_NEEDS_CREDENTIALS | CF_NEEDS_PEER, t_channel_bind},
	{"turn-server", "channelbind-errors", "ChannelBind: invalid numbers and attributes",
	 CF_NEEDS_CREDENTIALS, t_channel_bind_400},
	{"turn-server", "channelbind-rebind-rules", "A channel and a peer bind to one another only",
	 CF_NEEDS_CREDENTIALS, t_channel_rebind},
	{"turn-server", "channeldata-invalid-dropped", "ChannelData unbound or too long: dropped",
	 CF_NEEDS_CREDENTIALS | CF_NEEDS_PEER | CF_NEEDS_UDP, t_channeldata_unbound},
};

const cf_test *cf_suite_turn_server(size_t *count)
{
	*count = sizeof tests / sizeof tests[0];
	return tests;
}
