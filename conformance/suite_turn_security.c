/* Suite turn-security: what an attacker with or without credentials can
 * make a TURN server do (issue #6 §2), judged from the wire.
 *
 *   auth:        RFC 8489 §9, §9.2.4, §14.6; RFC 8656 §5 (441)
 *   peer policy: RFC 8656 §10.2, §12.2 (403), §11.2, §21.2.2, §21.4
 *
 * Every test ends with a liveness probe (an authenticated Refresh of an
 * allocation it holds, else a Binding from a fresh 5-tuple): a target
 * that stops answering makes the test an error, not a pass.
 *
 * Where RFC 8656 lets the server choose (which peers it refuses, §10.2
 * and §12.2 "MAY impose restrictions"), a peer that is not refused is a
 * failed MAY, a warning; what the RFC does require is checked as MUST:
 * Teredo and 6to4 refused (§21.4), a refused request installs nothing
 * (§10.2), and nothing reaches a peer without permission (§11.2). */
#include "suite_util.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#define OPEN(s)                                                                                   \
	cf_turn s;                                                                                \
	if (cf_turn_open(ctx, &s) < 0)                                                            \
		return

/* ---- liveness ---- */

static void alive(cf_ctx *ctx, cf_turn *s)
{
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	if (cf_stopped(ctx))
		return;
	if (s && s->allocated) {
		uint32_t lt = 600;
		size_t n = cf_turn_request(s, IL_STUN_REFRESH, cf_add_lifetime, &lt, buf, sizeof buf,
					   &m);
		if (!n || m.cls != IL_STUN_SUCCESS) {
			cf_error(ctx, "liveness: an authenticated Refresh of the test's allocation got "
				      "%s",
				 cf_describe(n, &m, what, sizeof what));
			return;
		}
		cf_note(ctx, "liveness: the allocation answers an authenticated Refresh");
		cf_turn_release(s);
		return;
	}
	int c = cf_client(ctx, CF_UDP);
	if (c < 0)
		return;
	uint8_t req[CF_BUF];
	size_t len = cf_build(ctx, req, sizeof req, IL_STUN_BINDING, IL_STUN_REQUEST, NULL, NULL, true);
	if (!len)
		return;
	size_t n = cf_transact(ctx, c, req, len, buf, sizeof buf, &m);
	if (!n)
		cf_error(ctx, "liveness: a Binding request from a fresh 5-tuple went unanswered");
	else
		cf_note(ctx, "liveness: a fresh 5-tuple's Binding got %s",
			cf_describe(n, &m, what, sizeof what));
}

/* ---- raw authenticated requests ---- */

/* Starts an authenticated request: attributes from add, then USERNAME,
 * REALM, NONCE (and PASSWORD-ALGORITHMS/-ALGORITHM when s->sha256). The
 * caller appends the integrity itself. */
static void auth_begin(cf_turn *s, il_stun_builder *b, uint8_t *buf, size_t cap, uint16_t method,
		       cf_attrs_fn add, const void *arg)
{
	uint8_t tid[IL_STUN_TID_LEN];
	cf_new_tid(s->ctx, tid);
	il_stun_builder_init(b, buf, cap, method, IL_STUN_REQUEST, tid);
	if (add)
		add(b, arg);
	il_stun_add_string(b, IL_ATTR_USERNAME, s->user, strlen(s->user));
	il_stun_add_string(b, IL_ATTR_REALM, s->realm, strlen(s->realm));
	il_stun_add_string(b, IL_ATTR_NONCE, s->nonce, s->nonce_len);
	if (s->sha256) {
		il_stun_add_raw(b, IL_ATTR_PASSWORD_ALGORITHMS, s->algs_raw, s->algs_raw_len);
		il_stun_add_password_algorithm(b, IL_STUN_PWALG_SHA256);
	}
}

static void put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Appends a raw attribute after whatever len bytes the message has and
 * fixes the header length. Returns the new length, 0 when it does not fit. */
static size_t append_attr(uint8_t *buf, size_t len, size_t cap, uint16_t type,
			  const uint8_t *value, size_t vlen)
{
	size_t padded = (vlen + 3u) & ~3u;
	if (len + 4 + padded > cap)
		return 0;
	put16(buf + len, type);
	put16(buf + len + 2, vlen);
	memcpy(buf + len + 4, value, vlen);
	memset(buf + len + 4 + vlen, 0, padded - vlen);
	len += 4 + padded;
	put16(buf + 2, len - 20);
	return len;
}

static size_t append_fingerprint(uint8_t *buf, size_t len, size_t cap)
{
	if (len + 8 > cap)
		return 0;
	put16(buf + 2, len + 8 - 20);
	uint32_t crc = il_stun_fingerprint_value(buf, len);
	uint8_t v[4] = {(uint8_t)(crc >> 24), (uint8_t)(crc >> 16), (uint8_t)(crc >> 8),
			(uint8_t)crc};
	return append_attr(buf, len, cap, IL_ATTR_FINGERPRINT, v, 4);
}

static size_t finish(cf_ctx *ctx, il_stun_builder *b)
{
	enum il_stun_err err;
	size_t len = il_stun_builder_finish(b, &err);
	if (!len)
		cf_error(ctx, "harness bug: building a request failed (%s)", il_stun_err_name(err));
	return len;
}

/* ---- auth ---- */

static void t_no_credentials(cf_ctx *ctx)
{
	OPEN(s);
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	size_t n = cf_turn_challenge(&s, IL_STUN_ALLOCATE, cf_add_udp_transport, NULL, buf,
				     sizeof buf, &m);
	if (cf_check_req(ctx, "RFC8489-9.2.4-1", n && cf_error_code(&m) == 401,
			 "an Allocate without MESSAGE-INTEGRITY got %s",
			 cf_describe(n, &m, what, sizeof what))) {
		cf_check_req(ctx, "RFC8489-9.2.4-2", cf_has(&m, IL_ATTR_REALM), "the 401 %s REALM",
			     cf_has(&m, IL_ATTR_REALM) ? "has" : "lacks");
		cf_check_req(ctx, "RFC8489-9.2.4-3", cf_has(&m, IL_ATTR_NONCE), "the 401 %s NONCE",
			     cf_has(&m, IL_ATTR_NONCE) ? "has" : "lacks");
	}
	/* Nothing allocated: the same 5-tuple, now authenticated, has no
	 * allocation to refresh (437). */
	if (cf_ctx_target(ctx)->has_credentials && s.nonce_len) {
		uint32_t lt = 600;
		n = cf_turn_request(&s, IL_STUN_REFRESH, cf_add_lifetime, &lt, buf, sizeof buf, &m);
		cf_check_req(ctx, "RFC8656-7.2-1", n && cf_error_code(&m) == 437,
			     "after the 401 an authenticated Refresh on the 5-tuple got %s "
			     "(437: nothing was allocated)",
			     cf_describe(n, &m, what, sizeof what));
	}
	alive(ctx, NULL);
}

/* The attribute types of a message, in order, as text. */
static void attr_list(const il_stun_msg *m, char *out, size_t cap)
{
	size_t off = 0;
	out[0] = '\0';
	for (size_t i = 0; i < m->attr_count && off + 8 < cap; i++)
		off += (size_t)snprintf(out + off, cap - off, "%s0x%04x", i ? "," : "",
					m->attrs[i].type);
}

static void t_unknown_user_like_wrong_password(cf_ctx *ctx)
{
	OPEN(a);
	OPEN(b);
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96], la[256], lb[256];
	int ca, cb;
	cf_turn_challenge(&a, IL_STUN_ALLOCATE, cf_add_udp_transport, NULL, buf, sizeof buf, &m);
	a.password = "not-the-password-icelab";
	size_t n = cf_turn_request(&a, IL_STUN_ALLOCATE, cf_add_udp_transport, NULL, buf,
				   sizeof buf, &m);
	ca = n ? cf_error_code(&m) : -1;
	cf_check_req(ctx, "RFC8489-9.2.4-10",
		     n && ca == 401 && cf_has(&m, IL_ATTR_REALM) && cf_has(&m, IL_ATTR_NONCE),
		     "a wrong password got %s (%s REALM and NONCE)",
		     cf_describe(n, &m, what, sizeof what),
		     n && cf_has(&m, IL_ATTR_REALM) && cf_has(&m, IL_ATTR_NONCE) ? "with" : "without");
	if (n)
		attr_list(&m, la, sizeof la);
	else
		snprintf(la, sizeof la, "none");
	cf_turn_challenge(&b, IL_STUN_ALLOCATE, cf_add_udp_transport, NULL, buf, sizeof buf, &m);
	b.user = "no-such-user-icelab";
	n = cf_turn_request(&b, IL_STUN_ALLOCATE, cf_add_udp_transport, NULL, buf, sizeof buf, &m);
	cb = n ? cf_error_code(&m) : -1;
	cf_check_req(ctx, "RFC8489-9.2.4-8",
		     n && cb == 401 && cf_has(&m, IL_ATTR_REALM) && cf_has(&m, IL_ATTR_NONCE),
		     "an unknown username got %s (%s REALM and NONCE)",
		     cf_describe(n, &m, what, sizeof what),
		     n && cf_has(&m, IL_ATTR_REALM) && cf_has(&m, IL_ATTR_NONCE) ? "with" : "without");
	if (n)
		attr_list(&m, lb, sizeof lb);
	else
		snprintf(lb, sizeof lb, "none");
	/* Both MUST be 401 with REALM and NONCE; whether the two answers
	 * are otherwise alike the RFC leaves open, so it is a note. */
	cf_note(ctx, "wrong password: code %d, attributes %s; unknown user: code %d, attributes %s: "
		     "%s",
		ca, la, cb, lb,
		ca == cb && strcmp(la, lb) == 0 ? "answered alike (no user enumeration)"
						: "answered differently (a username can be probed)");
	alive(ctx, NULL);
}

/* A nonce the server never issued, with a valid MESSAGE-INTEGRITY. */
static void t_forged_nonce(cf_ctx *ctx)
{
	OPEN(s);
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	cf_turn_challenge(&s, IL_STUN_ALLOCATE, cf_add_udp_transport, NULL, buf, sizeof buf, &m);
	if (!s.nonce_len) {
		cf_error(ctx, "precondition failed: no NONCE in the 401");
		return;
	}
	/* Same length and cookie, the rest rewritten. */
	size_t keep = s.algs_feature ? IL_STUN_NONCE_COOKIE_LEN : 0;
	for (size_t i = keep; i < s.nonce_len; i++)
		s.nonce[i] = (char)('a' + (s.nonce[i] + 7) % 26);
	uint8_t tid[IL_STUN_TID_LEN];
	cf_new_tid(ctx, tid);
	size_t n = cf_turn_request_once(&s, IL_STUN_ALLOCATE, cf_add_udp_transport, NULL, tid, buf,
					sizeof buf, &m);
	if (n && m.cls == IL_STUN_SUCCESS)
		s.allocated = true;
	if (cf_check_req(ctx, "RFC8489-9.2.4-18", n && cf_error_code(&m) == 438,
			 "an Allocate with a nonce the server never issued got %s",
			 cf_describe(n, &m, what, sizeof what))) {
		cf_check_req(ctx, "RFC8489-9.2.4-15",
			     cf_has(&m, IL_ATTR_NONCE) && cf_has(&m, IL_ATTR_REALM),
			     "the 438 carries NONCE and REALM");
		const il_stun_attr *a = il_stun_msg_find(&m, IL_ATTR_NONCE);
		const char *text;
		size_t len;
		if (a && il_stun_attr_get_string(&m, a, &text, &len) == IL_STUN_OK &&
		    len < sizeof s.nonce) {
			memcpy(s.nonce, text, len);
			s.nonce_len = len;
			cf_new_tid(ctx, tid);
			n = cf_turn_request_once(&s, IL_STUN_ALLOCATE, cf_add_udp_transport, NULL, tid,
						 buf, sizeof buf, &m);
			if (n && m.cls == IL_STUN_SUCCESS)
				s.allocated = true;
			cf_check_req(ctx, "RFC8489-9.2.4-16", n && m.cls == IL_STUN_SUCCESS,
				     "the Allocate retried with the 438's nonce got %s",
				     cf_describe(n, &m, what, sizeof what));
		}
	}
	alive(ctx, &s);
}

/* A whole authenticated request seen on the wire, sent again from
 * another 5-tuple. RFC 8489 §9.2.4 lets the server bind nonces to the
 * source or not; whichever it does, the copy must not create a second
 * allocation unnoticed: it gets a 438 (nonce bound to the source) or is
 * treated as a fresh, valid request. */
static void t_replayed_nonce(cf_ctx *ctx)
{
	OPEN(a);
	OPEN(b);
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	if (!cf_turn_allocate(&a))
		return;
	/* b uses a's nonce without ever asking for one. */
	memcpy(b.nonce, a.nonce, a.nonce_len);
	b.nonce_len = a.nonce_len;
	snprintf(b.realm, sizeof b.realm, "%s", a.realm);
	uint32_t lt = 600;
	uint8_t tid[IL_STUN_TID_LEN];
	cf_new_tid(ctx, tid);
	size_t n = cf_turn_request_once(&b, IL_STUN_REFRESH, cf_add_lifetime, &lt, tid, buf,
					sizeof buf, &m);
	int code = n ? cf_error_code(&m) : -1;
	if (code == 438) {
		cf_note(ctx, "the nonce is bound to its source: another 5-tuple gets a 438");
		cf_check_req(ctx, "RFC8489-9.2.4-15",
			     cf_has(&m, IL_ATTR_NONCE) && cf_has(&m, IL_ATTR_REALM),
			     "the 438 carries NONCE and REALM");
	} else {
		/* Not bound: the request is judged on its own, and b has no
		 * allocation: 437. */
		cf_note(ctx, "another 5-tuple's nonce is accepted (RFC 8489 allows this)");
		cf_check_req(ctx, "RFC8656-5-4", n && code == 437,
			     "a Refresh from a 5-tuple without allocation, with another 5-tuple's "
			     "nonce, got %s (want 438 or 437)",
			     cf_describe(n, &m, what, sizeof what));
	}
	alive(ctx, &a);
}

/* A Refresh whose LIFETIME was rewritten after MESSAGE-INTEGRITY was
 * computed (FINGERPRINT recomputed, so only the MAC can tell). */
static void t_tampered_body(cf_ctx *ctx)
{
	OPEN(s);
	if (!cf_turn_allocate(&s))
		return;
	uint8_t buf[CF_BUF], req[CF_BUF];
	il_stun_msg m;
	char what[96];
	il_stun_builder b;
	uint32_t lt = 600;
	auth_begin(&s, &b, req, sizeof req, IL_STUN_REFRESH, cf_add_lifetime, &lt);
	il_stun_key key;
	cf_turn_key(&s, &key);
	if (s.sha256)
		il_stun_add_message_integrity_sha256(&b, &key, 32);
	else
		il_stun_add_message_integrity(&b, &key);
	size_t len = finish(ctx, &b);
	if (!len)
		return;
	/* LIFETIME is the first attribute: its value at offset 24. */
	req[24] = req[25] = req[26] = req[27] = 0;
	len = append_fingerprint(req, len, sizeof req);
	size_t n = cf_transact(ctx, s.client, req, len, buf, sizeof buf, &m);
	cf_check_req(ctx, "RFC8489-9.2.4-10", n && cf_error_code(&m) == 401,
		     "a Refresh whose LIFETIME was changed to 0 after signing got %s",
		     cf_describe(n, &m, what, sizeof what));
	if (n && m.cls == IL_STUN_SUCCESS)
		s.allocated = false; /* it obeyed the tampered LIFETIME 0 */
	/* The allocation must still be there. */
	n = cf_turn_request(&s, IL_STUN_REFRESH, cf_add_lifetime, &lt, buf, sizeof buf, &m);
	cf_check_req(ctx, "RFC8489-9.2.4-10", n && m.cls == IL_STUN_SUCCESS,
		     "afterwards a genuine Refresh got %s (the allocation survived)",
		     cf_describe(n, &m, what, sizeof what));
	if (n && m.cls == IL_STUN_SUCCESS)
		s.allocated = true;
	alive(ctx, &s);
}

/* An Allocate whose MESSAGE-INTEGRITY-SHA256 is the real HMAC truncated
 * to a length §14.6 forbids: a server that accepted it would let a
 * 4-byte MAC through. */
static void t_mi_sha256_bad_length(cf_ctx *ctx)
{
	static const size_t lengths[] = {4, 12, 18};
	for (size_t i = 0; i < sizeof lengths / sizeof lengths[0] && !cf_stopped(ctx); i++) {
		OPEN(s);
		uint8_t buf[CF_BUF], req[CF_BUF];
		il_stun_msg m;
		char what[96];
		cf_turn_challenge(&s, IL_STUN_ALLOCATE, cf_add_udp_transport, NULL, buf, sizeof buf,
				  &m);
		for (size_t k = 0; k < s.nalgs; k++)
			s.sha256 |= s.algs[k] == IL_STUN_PWALG_SHA256;
		il_stun_builder b;
		auth_begin(&s, &b, req, sizeof req, IL_STUN_ALLOCATE, cf_add_udp_transport, NULL);
		size_t len = finish(ctx, &b);
		if (!len)
			return;
		il_stun_key key;
		cf_turn_key(&s, &key);
		size_t L = lengths[i], padded = (L + 3u) & ~3u;
		put16(req + 2, len + 4 + padded - 20);
		uint8_t mac[EVP_MAX_MD_SIZE];
		unsigned mac_len = 0;
		if (!HMAC(EVP_sha256(), key.raw, key.raw_len, req, len, mac, &mac_len)) {
			cf_error(ctx, "harness: HMAC-SHA256 failed");
			return;
		}
		len = append_attr(req, len, sizeof req, IL_ATTR_MESSAGE_INTEGRITY_SHA256, mac, L);
		len = append_fingerprint(req, len, sizeof req);
		size_t n = cf_transact(ctx, s.client, req, len, buf, sizeof buf, &m);
		int code = n ? cf_error_code(&m) : 0;
		if (n && m.cls == IL_STUN_SUCCESS)
			s.allocated = true;
		cf_check_req(ctx, "RFC8489-14.6-1", n == 0 || code == 400 || code == 401,
			     "MESSAGE-INTEGRITY-SHA256 of %zu bytes got %s (want 400, 401 or "
			     "silence)",
			     L, cf_describe(n, &m, what, sizeof what));
		cf_turn_release(&s);
	}
	alive(ctx, NULL);
}

/* A Refresh whose LIFETIME 0 comes after MESSAGE-INTEGRITY: the server
 * must act as if it were not there (default lifetime, allocation kept). */
static void t_attributes_after_mi(cf_ctx *ctx)
{
	OPEN(s);
	if (!cf_turn_allocate(&s))
		return;
	s.sha256 = false; /* the rule is about MESSAGE-INTEGRITY */
	uint8_t buf[CF_BUF], req[CF_BUF];
	il_stun_msg m;
	char what[96];
	il_stun_builder b;
	auth_begin(&s, &b, req, sizeof req, IL_STUN_REFRESH, NULL, NULL);
	il_stun_key key;
	cf_turn_key(&s, &key);
	il_stun_add_message_integrity(&b, &key);
	size_t len = finish(ctx, &b);
	if (!len)
		return;
	static const uint8_t zero[4] = {0, 0, 0, 0};
	len = append_attr(req, len, sizeof req, IL_ATTR_LIFETIME, zero, 4);
	len = append_fingerprint(req, len, sizeof req);
	size_t n = cf_transact(ctx, s.client, req, len, buf, sizeof buf, &m);
	const il_stun_attr *a = n ? il_stun_msg_find(&m, IL_ATTR_LIFETIME) : NULL;
	uint32_t lt = 0;
	if (a)
		il_stun_attr_get_u32(&m, a, &lt);
	cf_check_req(ctx, "RFC8489-9-1", n && m.cls == IL_STUN_SUCCESS && lt > 0,
		     "a Refresh with LIFETIME 0 after MESSAGE-INTEGRITY got %s with LIFETIME %u "
		     "(want success with a non-zero lifetime)",
		     cf_describe(n, &m, what, sizeof what), lt);
	/* Still allocated? */
	uint32_t again = 600;
	n = cf_turn_request(&s, IL_STUN_REFRESH, cf_add_lifetime, &again, buf, sizeof buf, &m);
	cf_check_req(ctx, "RFC8489-9-1", n && m.cls == IL_STUN_SUCCESS,
		     "afterwards a genuine Refresh got %s (the allocation survived)",
		     cf_describe(n, &m, what, sizeof what));
	s.allocated = n && m.cls == IL_STUN_SUCCESS;
	alive(ctx, &s);
}

/* Another user's valid credentials on alice's allocation (same 5-tuple). */
static void t_wrong_user_441(cf_ctx *ctx)
{
	OPEN(s);
	if (!cf_turn_allocate(&s))
		return;
	cf_target *t = cf_ctx_target(ctx);
	cf_turn other = s;
	other.user = t->user2;
	other.password = t->password2;
	other.sha256 = false;
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	uint32_t lt = 0; /* a Refresh 0 would delete alice's allocation */
	size_t n = cf_turn_request(&other, IL_STUN_REFRESH, cf_add_lifetime, &lt, buf, sizeof buf,
				   &m);
	cf_check_req(ctx, "RFC8656-5-3", n && cf_error_code(&m) == 441,
		     "a Refresh (LIFETIME 0) authenticated as %s on %s's allocation got %s",
		     other.user, s.user, cf_describe(n, &m, what, sizeof what));
	il_addr peer;
	il_addr_parse("203.0.113.99:5000", &peer);
	n = cf_turn_request(&other, IL_STUN_CREATEPERMISSION, cf_add_peer, &peer, buf, sizeof buf,
			    &m);
	cf_check_req(ctx, "RFC8656-5-3", n && cf_error_code(&m) == 441,
		     "a CreatePermission authenticated as %s on %s's allocation got %s", other.user,
		     s.user, cf_describe(n, &m, what, sizeof what));
	s.nonce_len = other.nonce_len; /* a 438 may have renewed it */
	memcpy(s.nonce, other.nonce, other.nonce_len);
	alive(ctx, &s);
}

/* ---- peer policy ---- */

typedef struct peer_case {
	const char *addr;
	const char *what;
	const char *req; /* the requirement a success breaks */
} peer_case;

static const peer_case v4_cases[] = {
	{"127.0.0.1:5000", "loopback 127.0.0.1", NULL},
	{"127.1.2.3:5000", "loopback 127.1.2.3", NULL},
	{"0.0.0.0:5000", "this-host 0.0.0.0", NULL},
	{"0.1.2.3:5000", "this-network 0/8", NULL},
	{"10.0.0.1:5000", "private 10/8", NULL},
	{"172.16.0.1:5000", "private 172.16/12", NULL},
	{"172.31.255.254:5000", "private 172.16/12 (top)", NULL},
	{"192.168.1.1:5000", "private 192.168/16", NULL},
	{"100.64.0.1:5000", "shared CGN 100.64/10", NULL},
	{"169.254.169.254:80", "cloud metadata 169.254.169.254", NULL},
	{"169.254.1.1:5000", "link-local 169.254/16", NULL},
	{"224.0.0.1:5000", "multicast 224.0.0.1", NULL},
	{"239.255.255.250:1900", "multicast 239.255.255.250 (SSDP)", NULL},
	{"240.0.0.1:5000", "reserved 240/4", NULL},
	{"255.255.255.255:5000", "limited broadcast", NULL},
};

/* Used on an IPv6 allocation; on an IPv4 one they meet 443 first. */
static const peer_case v6_cases[] = {
	{"[::1]:5000", "loopback ::1", NULL},
	{"[::]:5000", "unspecified ::", NULL},
	{"[::ffff:127.0.0.1]:5000", "IPv4-mapped loopback", NULL},
	{"[::ffff:10.0.0.1]:5000", "IPv4-mapped private", NULL},
	{"[::ffff:169.254.169.254]:80", "IPv4-mapped metadata", NULL},
	{"[::127.0.0.1]:5000", "IPv4-compatible loopback", NULL},
	{"[fc00::1]:5000", "unique local fc00::/7", NULL},
	{"[fd00:ec2::254]:80", "cloud metadata fd00:ec2::254", NULL},
	{"[fe80::1]:5000", "link-local fe80::/10", NULL},
	{"[ff02::1]:5000", "multicast ff02::1", NULL},
	{"[64:ff9b::7f00:1]:5000", "NAT64 of 127.0.0.1", NULL},
	{"[64:ff9b::a00:1]:5000", "NAT64 of 10.0.0.1", NULL},
	{"[2002:7f00:1::1]:5000", "6to4 of 127.0.0.1", "RFC8656-21.4-1"},
	{"[2002:cb00:7163::1]:5000", "6to4 of 203.0.113.99", "RFC8656-21.4-1"},
	{"[2001:0:4136:e378:8000:63bf:3fff:fdd2]:5000", "Teredo", "RFC8656-21.4-1"},
};

/* One request per case; a success is a permission or channel to where it
 * should not go. */
static void probe_peers(cf_ctx *ctx, cf_turn *s, const peer_case *cases, size_t count,
			bool channel)
{
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	const char *may = channel ? "RFC8656-12.2-8" : "RFC8656-10.2-4";
	for (size_t i = 0; i < count && !cf_stopped(ctx); i++) {
		il_addr peer;
		if (il_addr_parse(cases[i].addr, &peer) < 0) {
			cf_error(ctx, "harness bug: bad peer %s", cases[i].addr);
			return;
		}
		size_t n;
		if (channel) {
			cf_channel_arg ca = {.number = (uint16_t)(0x4000 + i), .peer = peer};
			n = cf_turn_request(s, IL_STUN_CHANNELBIND, cf_add_channel, &ca, buf,
					    sizeof buf, &m);
		} else {
			n = cf_turn_request(s, IL_STUN_CREATEPERMISSION, cf_add_peer, &peer, buf,
					    sizeof buf, &m);
		}
		if (!n) {
			cf_error(ctx, "%s to %s (%s) went unanswered",
				 channel ? "ChannelBind" : "CreatePermission", cases[i].addr,
				 cases[i].what);
			return;
		}
		int code = cf_error_code(&m);
		bool refused = m.cls == IL_STUN_ERROR;
		if (cases[i].req)
			cf_check_req(ctx, cases[i].req, refused,
				     "%s to %s (%s) got %s",
				     channel ? "ChannelBind" : "CreatePermission", cases[i].addr,
				     cases[i].what, cf_describe(n, &m, what, sizeof what));
		cf_check_req(ctx, may, code == 403 || (code == 443 && peer.family != s->relayed.family),
			     "%s to %s (%s) got %s (want 403)",
			     channel ? "ChannelBind" : "CreatePermission", cases[i].addr,
			     cases[i].what, cf_describe(n, &m, what, sizeof what));
	}
}

/* The target's own addresses: its listener and this allocation's relay
 * (the loop of RFC 8656 §21.1.7). */
static void probe_own(cf_ctx *ctx, cf_turn *s, bool channel)
{
	char a[2][IL_ADDR_STRLEN + 2];
	il_addr_format(&cf_ctx_target(ctx)->server, a[0], sizeof a[0]);
	il_addr_format(&s->relayed, a[1], sizeof a[1]);
	peer_case own[2] = {{a[0], "the target's listening address", NULL},
			    {a[1], "the allocation's own relayed address", NULL}};
	probe_peers(ctx, s, own, 2, channel);
}

static void t_peers_v4(cf_ctx *ctx, bool channel)
{
	OPEN(s);
	if (!cf_turn_allocate(&s))
		return;
	probe_peers(ctx, &s, v4_cases, sizeof v4_cases / sizeof v4_cases[0], channel);
	probe_own(ctx, &s, channel);
	alive(ctx, &s);
}

static void t_peers_v4_permission(cf_ctx *ctx)
{
	t_peers_v4(ctx, false);
}

static void t_peers_v4_channel(cf_ctx *ctx)
{
	t_peers_v4(ctx, true);
}

static void add_family_v6(il_stun_builder *b, const void *arg)
{
	(void)arg;
	il_stun_add_u32(b, IL_ATTR_REQUESTED_ADDRESS_FAMILY, 0x02000000u);
}

static void t_peers_v6(cf_ctx *ctx)
{
	OPEN(s);
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	size_t n = cf_turn_allocate_with(&s, add_family_v6, NULL, buf, sizeof buf, &m);
	if (!n || m.cls != IL_STUN_SUCCESS || s.relayed.family != IL_AF_INET6) {
		cf_turn_release(&s);
		/* The IPv6 forms on an IPv4 allocation: any refusal will do. */
		OPEN(v4);
		if (!cf_turn_allocate(&v4))
			return;
		cf_note(ctx, "no IPv6 allocation (%s): the IPv6 peers are tried on an IPv4 one",
			cf_describe(n, &m, what, sizeof what));
		probe_peers(ctx, &v4, v6_cases, sizeof v6_cases / sizeof v6_cases[0], false);
		alive(ctx, &v4);
		return;
	}
	probe_peers(ctx, &s, v6_cases, sizeof v6_cases / sizeof v6_cases[0], false);
	probe_peers(ctx, &s, v6_cases, sizeof v6_cases / sizeof v6_cases[0], true);
	alive(ctx, &s);
}

typedef struct two_peers {
	il_addr a, b;
} two_peers;

static void add_two_peers(il_stun_builder *b, const void *arg)
{
	const two_peers *p = arg;
	il_stun_add_xor_addr(b, IL_ATTR_XOR_PEER_ADDRESS, &p->a);
	il_stun_add_xor_addr(b, IL_ATTR_XOR_PEER_ADDRESS, &p->b);
}

/* Finds, on a scratch allocation, one peer address the target refuses. */
static bool find_denied(cf_ctx *ctx, cf_turn *scratch, il_addr *out)
{
	static const char *const candidates[] = {"127.0.0.1:5000", "10.0.0.1:5000",
						 "169.254.169.254:80", "0.0.0.0:5000",
						 "192.168.1.1:5000"};
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
		il_addr_parse(candidates[i], out);
		size_t n = cf_turn_request(scratch, IL_STUN_CREATEPERMISSION, cf_add_peer, out, buf,
					   sizeof buf, &m);
		if (cf_stopped(ctx))
			return false;
		if (n && cf_error_code(&m) == 403)
			return true;
	}
	return false;
}

/* CreatePermission for [allowed, denied]: refused whole, nothing
 * installed (the allowed peer's datagrams do not reach the client), and
 * a denied loopback canary hears nothing from a Send indication. */
static void t_mixed_installs_nothing(cf_ctx *ctx)
{
	OPEN(s);
	OPEN(scratch);
	if (!cf_turn_allocate(&s) || !cf_turn_allocate(&scratch))
		return;
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96], as[IL_ADDR_STRLEN], ds[IL_ADDR_STRLEN];
	int p = cf_peer(ctx);
	if (p < 0)
		return;
	il_addr canary = cf_peer_addr(ctx, p);
	/* Is the harness's peer allowed? Ask on the scratch allocation. */
	size_t n = cf_turn_request(&scratch, IL_STUN_CREATEPERMISSION, cf_add_peer, &canary, buf,
				   sizeof buf, &m);
	bool peer_allowed = n && m.cls == IL_STUN_SUCCESS;
	two_peers tp;
	if (peer_allowed) {
		tp.a = canary;
	} else {
		il_addr_parse("203.0.113.77:5000", &tp.a);
		n = cf_turn_request(&scratch, IL_STUN_CREATEPERMISSION, cf_add_peer, &tp.a, buf,
				    sizeof buf, &m);
		if (!n || m.cls != IL_STUN_SUCCESS) {
			cf_not_applicable(ctx, "the target refuses both the harness's peer and "
					       "203.0.113.77: no allowed peer to mix");
			return;
		}
	}
	if (!find_denied(ctx, &scratch, &tp.b)) {
		if (!cf_stopped(ctx))
			cf_not_applicable(ctx, "the target refuses none of 127.0.0.1, 10.0.0.1, "
					       "169.254.169.254, 0.0.0.0, 192.168.1.1");
		return;
	}
	cf_turn_release(&scratch);
	il_addr_format(&tp.a, as, sizeof as);
	il_addr_format(&tp.b, ds, sizeof ds);
	n = cf_turn_request(&s, IL_STUN_CREATEPERMISSION, add_two_peers, &tp, buf, sizeof buf, &m);
	cf_check_req(ctx, "RFC8656-10.2-5", n && m.cls == IL_STUN_ERROR,
		     "CreatePermission [%s allowed, %s refused alone] got %s", as, ds,
		     cf_describe(n, &m, what, sizeof what));
	cf_check_req(ctx, "RFC8656-10.2-4", n && cf_error_code(&m) == 403,
		     "the mixed request got %s (want 403)", cf_describe(n, &m, what, sizeof what));
	if (peer_allowed) {
		/* The allowed peer writes to the relay: no permission, so the
		 * client hears nothing. */
		static const uint8_t probe[] = "icelab-mixed-probe";
		cf_peer_send(ctx, p, &s.relayed, probe, sizeof probe - 1);
		bool quiet = cf_expect_silence(ctx, s.client);
		cf_check_req(ctx, "RFC8656-10.2-5", quiet,
			     "after the refused request, a datagram from %s %s the client", as,
			     quiet ? "did not reach" : "reached");
	} else {
		/* The harness's peer is refused: it is the canary. A Send
		 * indication to it must not be relayed. */
		static const uint8_t probe[] = "icelab-canary";
		cf_turn_send(&s, &canary, probe, sizeof probe - 1);
		uint8_t pb[256];
		size_t pl = 0;
		il_addr from;
		int got = cf_peer_recv(ctx, p, pb, sizeof pb, &pl, &from, 0);
		il_addr_format(&canary, as, sizeof as);
		cf_check_req(ctx, "RFC8656-11.2-3", got == 0,
			     "a Send indication to the refused canary %s %s", as,
			     got == 0 ? "was not relayed" : "was relayed");
	}
	alive(ctx, &s);
}

static const cf_test tests[] = {
	{"turn-security", "auth-no-credentials-401",
	 "No credentials: 401 with REALM and NONCE, nothing allocated", 0, t_no_credentials},
	{"turn-security", "auth-unknown-user-like-wrong-password",
	 "Unknown user and wrong password: both 401 with REALM and NONCE", CF_NEEDS_CREDENTIALS,
	 t_unknown_user_like_wrong_password},
	{"turn-security", "auth-forged-nonce-438", "A nonce never issued: 438, and its fresh nonce "
	 "works", CF_NEEDS_CREDENTIALS, t_forged_nonce},
	{"turn-security", "auth-replayed-nonce", "Another 5-tuple's nonce: 438 or judged on its own",
	 CF_NEEDS_CREDENTIALS, t_replayed_nonce},
	{"turn-security", "auth-tampered-body-401",
	 "A signed Refresh changed after signing: 401, allocation kept", CF_NEEDS_CREDENTIALS,
	 t_tampered_body},
	{"turn-security", "auth-mi-sha256-bad-length",
	 "MESSAGE-INTEGRITY-SHA256 of 4, 12, 18 bytes: refused", CF_NEEDS_CREDENTIALS,
	 t_mi_sha256_bad_length},
	{"turn-security", "auth-attributes-after-mi-ignored",
	 "LIFETIME 0 after MESSAGE-INTEGRITY: ignored", CF_NEEDS_CREDENTIALS,
	 t_attributes_after_mi},
	{"turn-security", "auth-other-user-441", "Another user's credentials on an allocation: 441",
	 CF_NEEDS_CREDENTIALS | CF_NEEDS_USER2, t_wrong_user_441},
	{"turn-security", "peer-policy-createpermission-ipv4",
	 "CreatePermission to loopback, private, metadata, multicast, reserved, own: 403",
	 CF_NEEDS_CREDENTIALS, t_peers_v4_permission},
	{"turn-security", "peer-policy-channelbind-ipv4",
	 "ChannelBind to loopback, private, metadata, multicast, reserved, own: 403",
	 CF_NEEDS_CREDENTIALS, t_peers_v4_channel},
	{"turn-security", "peer-policy-ipv6",
	 "IPv6 peers (::1, ::, mapped, ULA, link-local, NAT64, 6to4, Teredo): refused",
	 CF_NEEDS_CREDENTIALS, t_peers_v6},
	{"turn-security", "peer-policy-mixed-installs-nothing",
	 "One allowed and one refused peer: 403, nothing installed; the canary hears nothing",
	 CF_NEEDS_CREDENTIALS | CF_NEEDS_PEER, t_mixed_installs_nothing},
};

const cf_test *cf_suite_turn_security(size_t *count)
{
	*count = sizeof tests / sizeof tests[0];
	return tests;
}
