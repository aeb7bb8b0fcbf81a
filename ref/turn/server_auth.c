/* Long-term credentials on the TURN server (RFC 8489 §9.2, RFC 8656 §5,
 * §7.2 step 1): the REALM/NONCE challenge, stale nonces (438),
 * PASSWORD-ALGORITHMS with MD5 and SHA-256 and the bid-down checks of
 * §9.2.4, USERHASH, MESSAGE-INTEGRITY and MESSAGE-INTEGRITY-SHA256.
 *
 * Nonces need no per-client state, so a flood of unauthenticated
 * requests costs a MAC computation each and no memory:
 *
 *   nonce = cookie || base64(expiry || HMAC-SHA256(secret, cookie ||
 *           expiry || transport || client address || server address)[0..16))
 *
 * cookie is "obMatJos2" + the security feature bits (§9.2), expiry the
 * caller's now_ms at which the nonce goes stale (8 bytes). A nonce is
 * verified by recomputing its MAC: the feature bits are covered by it, so
 * a middlebox that clears the "Password algorithms" bit (and strips
 * PASSWORD-ALGORITHMS to force MD5) produces a nonce we refuse. The MAC
 * binds the nonce to the 5-tuple it was issued to, as §9.2.4 requires ("MUST
 * NOT choose the same NONCE for two requests unless they have the same
 * source IP address and port"). */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init & co: plain structs, no heap */
#include "server_internal.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <string.h>

_Static_assert(sizeof(SHA256_CTX) <= sizeof(((il_turn_server *)0)->nonce_ipad_state),
	       "nonce HMAC state too small");

void turn_auth_init(il_turn_server *srv)
{
	/* HMAC (RFC 2104) keyed once: the inner and outer states after the
	 * padded key block. */
	uint8_t block[64];
	SHA256_CTX *in = (SHA256_CTX *)(void *)srv->nonce_ipad_state;
	SHA256_CTX *out = (SHA256_CTX *)(void *)srv->nonce_opad_state;
	for (int pass = 0; pass < 2; pass++) {
		memset(block, 0, sizeof block);
		memcpy(block, srv->cfg.nonce_secret, sizeof srv->cfg.nonce_secret);
		for (size_t i = 0; i < sizeof block; i++)
			block[i] ^= pass == 0 ? 0x36 : 0x5c;
		SHA256_CTX *c = pass == 0 ? in : out;
		SHA256_Init(c);
		SHA256_Update(c, block, sizeof block);
	}
	OPENSSL_cleanse(block, sizeof block);
}

static size_t put_addr(uint8_t *p, const il_addr *a)
{
	size_t n = a->family == IL_AF_INET ? 4 : 16;
	p[0] = a->family;
	p[1] = (uint8_t)(a->port >> 8);
	p[2] = (uint8_t)a->port;
	memcpy(p + 3, a->ip, n);
	return 3 + n;
}

static void nonce_mac(il_turn_server *srv, const il_five_tuple *ft, const char *cookie,
		      const uint8_t expiry[8], uint8_t mac[TURN_NONCE_MAC_LEN])
{
	uint8_t input[IL_STUN_NONCE_COOKIE_LEN + 8 + 1 + 2 * 19];
	size_t n = 0;
	memcpy(input, cookie, IL_STUN_NONCE_COOKIE_LEN);
	n += IL_STUN_NONCE_COOKIE_LEN;
	memcpy(input + n, expiry, 8);
	n += 8;
	input[n++] = ft->transport;
	n += put_addr(input + n, &ft->remote);
	n += put_addr(input + n, &ft->local);
	uint8_t digest[32];
	SHA256_CTX c = *(const SHA256_CTX *)(const void *)srv->nonce_ipad_state;
	SHA256_Update(&c, input, n);
	SHA256_Final(digest, &c);
	c = *(const SHA256_CTX *)(const void *)srv->nonce_opad_state;
	SHA256_Update(&c, digest, sizeof digest);
	SHA256_Final(digest, &c);
	memcpy(mac, digest, TURN_NONCE_MAC_LEN);
}

static uint32_t security_features(const il_turn_server *srv)
{
	uint32_t f = 0;
	/* "If the server adds a PASSWORD-ALGORITHMS attribute, it MUST set
	 * the STUN Security Feature "Password algorithms" bit to 1." and "The
	 * server MAY support anonymous username, in which case it MUST set
	 * the ... "Username anonymity" bit" (§9.2.4) */
	if (srv->cfg.allow_sha256)
		f |= IL_STUN_FEATURE_PASSWORD_ALGORITHMS;
	if (srv->cfg.userhash_lookup)
		f |= IL_STUN_FEATURE_USERNAME_ANONYMITY;
	return f;
}

void turn_nonce_make(il_turn_server *srv, const il_five_tuple *ft, uint64_t now_ms,
		     char out[TURN_NONCE_LEN])
{
	uint64_t expiry = now_ms + (uint64_t)srv->cfg.nonce_lifetime_s * 1000u;
	uint8_t blob[8 + TURN_NONCE_MAC_LEN];
	for (int i = 0; i < 8; i++)
		blob[i] = (uint8_t)(expiry >> (56 - 8 * i));
	il_stun_nonce_cookie_write(security_features(srv), out);
	nonce_mac(srv, ft, out, blob, blob + 8);
	unsigned char b64[33];
	EVP_EncodeBlock(b64, blob, sizeof blob); /* 24 bytes: 32 characters, no '=' */
	memcpy(out + IL_STUN_NONCE_COOKIE_LEN, b64, 32);
}

enum turn_nonce_verdict turn_nonce_check(il_turn_server *srv, const il_five_tuple *ft,
					 const char *nonce, size_t len, uint64_t now_ms)
{
	if (len != TURN_NONCE_LEN)
		return TURN_NONCE_FORGED;
	uint8_t blob[8 + TURN_NONCE_MAC_LEN + 3];
	if (EVP_DecodeBlock(blob, (const unsigned char *)nonce + IL_STUN_NONCE_COOKIE_LEN, 32) !=
	    24)
		return TURN_NONCE_FORGED;
	uint8_t mac[TURN_NONCE_MAC_LEN];
	nonce_mac(srv, ft, nonce, blob, mac);
	if (!il_stun_mac_equal(mac, blob + 8, sizeof mac))
		return TURN_NONCE_FORGED;
	uint64_t expiry = 0;
	for (int i = 0; i < 8; i++)
		expiry = expiry << 8 | blob[i];
	return now_ms < expiry ? TURN_NONCE_VALID : TURN_NONCE_EXPIRED;
}

/* Our PASSWORD-ALGORITHMS, in order of preference (§14.11); 0 entries
 * when SHA-256 is not offered (then the attribute is not sent). */
static size_t offered_algorithms(const il_turn_server *srv, uint16_t algs[2])
{
	size_t n = 0;
	if (!srv->cfg.allow_sha256)
		return 0;
	algs[n++] = IL_STUN_PWALG_SHA256;
	if (srv->cfg.allow_md5)
		algs[n++] = IL_STUN_PWALG_MD5;
	return n;
}

/* 401 or 438 with REALM, a fresh NONCE and PASSWORD-ALGORITHMS (§9.2.4).
 * Every cause of a 401 after the first request (unknown user, wrong
 * password, wrong realm, unknown algorithm) goes through here, so they
 * cannot be told apart from the answer. */
static void challenge(il_turn_server *srv, const il_five_tuple *ft, const il_stun_msg *req,
		      int code, uint64_t now_ms)
{
	/* A source over its rate of 401s gets silence (server_limits.c); a
	 * 438 needs a valid MESSAGE-INTEGRITY, so only users get those. */
	if (code == 401 && !turn_limit_401(srv, ft, now_ms))
		return;
	char nonce[TURN_NONCE_LEN];
	uint16_t algs[2];
	size_t n_algs = offered_algorithms(srv, algs);
	turn_nonce_make(srv, ft, now_ms, nonce);
	il_stun_builder b;
	turn_reply_begin(srv, &b, req, IL_STUN_ERROR);
	il_stun_add_error_code(&b, code, il_stun_error_reason(code));
	il_stun_add_string(&b, IL_ATTR_REALM, srv->realm, strlen(srv->realm));
	il_stun_add_string(&b, IL_ATTR_NONCE, nonce, sizeof nonce);
	if (n_algs)
		il_stun_add_password_algorithms(&b, algs, n_algs);
	turn_reply_send(srv, &b, ft, NULL, true);
}

static void auth_failed(il_turn_server *srv, const il_five_tuple *ft, const il_stun_msg *req,
			uint64_t now_ms)
{
	srv->stats.auth_failures++;
	turn_event(srv, IL_TURN_EV_AUTH_FAILED, ft, "401");
	challenge(srv, ft, req, 401, now_ms);
}

/* §9.2.4 bid-down checks when the nonce cookie has the "Password
 * algorithms" bit: *alg gets the algorithm to process the request with;
 * false: 400. */
static bool choose_algorithm(const il_turn_server *srv, const il_stun_msg *req,
			     bool cookie_has_pa, enum il_stun_password_algorithm *alg)
{
	const il_stun_attr *pa = il_stun_msg_find(req, IL_ATTR_PASSWORD_ALGORITHM);
	const il_stun_attr *pas = il_stun_msg_find(req, IL_ATTR_PASSWORD_ALGORITHMS);
	uint16_t chosen = IL_STUN_PWALG_MD5;
	if (pa && il_stun_attr_get_password_algorithm(req, pa, &chosen) != IL_STUN_OK)
		return false;
	*alg = (enum il_stun_password_algorithm)chosen;
	if (!cookie_has_pa)
		return true;
	/* "If the request contains neither the PASSWORD-ALGORITHMS nor the
	 * PASSWORD-ALGORITHM algorithm, then the request is processed as
	 * though PASSWORD-ALGORITHM were MD5." */
	if (!pa && !pas) {
		*alg = IL_STUN_PWALG_MD5;
		return true;
	}
	/* "Otherwise, unless (1) PASSWORD-ALGORITHM and PASSWORD-ALGORITHMS
	 * are both present, (2) PASSWORD-ALGORITHMS matches the value sent in
	 * the response that sent this NONCE, and (3) PASSWORD-ALGORITHM
	 * matches one of the entries in PASSWORD-ALGORITHMS, the server MUST
	 * generate an error response with an error code of 400" */
	if (!pa || !pas)
		return false;
	uint16_t ours[2], theirs[16];
	size_t n_ours = offered_algorithms(srv, ours), n_theirs = 0;
	if (il_stun_attr_get_password_algorithms(req, pas, theirs, 16, &n_theirs) != IL_STUN_OK ||
	    n_theirs != n_ours)
		return false;
	bool listed = false;
	for (size_t i = 0; i < n_ours; i++) {
		if (theirs[i] != ours[i])
			return false;
		listed |= theirs[i] == chosen;
	}
	return listed;
}

static bool text_equal(const char *a, size_t alen, const char *z)
{
	return alen == strlen(z) && memcmp(a, z, alen) == 0;
}

/* The user's keys: keys_lookup when configured, else key_lookup's one. */
static size_t user_keys(il_turn_server *srv, const char *username,
			enum il_stun_password_algorithm alg, uint64_t now_s,
			il_stun_key keys[IL_TURN_MAX_KEYS])
{
	if (srv->cfg.keys_lookup) {
		size_t n = srv->cfg.keys_lookup(srv->cb.user, srv->realm, username, alg, now_s, keys);
		return n > IL_TURN_MAX_KEYS ? IL_TURN_MAX_KEYS : n;
	}
	if (srv->cfg.key_lookup &&
	    srv->cfg.key_lookup(srv->cb.user, srv->realm, username, alg, now_s, &keys[0]))
		return 1;
	return 0;
}

/* Fills keys[0..n) for the request's USERNAME (or USERHASH) and
 * auth->username; returns n, 0 when nobody matches. */
static size_t lookup_keys(il_turn_server *srv, const il_stun_msg *req,
			  enum il_stun_password_algorithm alg, uint64_t now_ms, turn_auth *auth,
			  il_stun_key keys[IL_TURN_MAX_KEYS])
{
	if ((alg == IL_STUN_PWALG_MD5 && !srv->cfg.allow_md5) ||
	    (alg == IL_STUN_PWALG_SHA256 && !srv->cfg.allow_sha256) ||
	    (alg != IL_STUN_PWALG_MD5 && alg != IL_STUN_PWALG_SHA256))
		return 0;
	uint64_t now_s = turn_unix_s(srv, now_ms);
	const il_stun_attr *uname = il_stun_msg_find(req, IL_ATTR_USERNAME);
	if (uname) {
		const char *text;
		size_t len;
		il_stun_attr_get_string(req, uname, &text, &len);
		if (len >= sizeof auth->username || memchr(text, '\0', len))
			return 0;
		memcpy(auth->username, text, len);
		auth->username[len] = '\0';
		return user_keys(srv, auth->username, alg, now_s, keys);
	}
	const il_stun_attr *uhash = il_stun_msg_find(req, IL_ATTR_USERHASH);
	if (!uhash || uhash->length != 32 || !srv->cfg.userhash_lookup)
		return 0;
	auth->username[0] = '\0';
	bool ok = srv->cfg.userhash_lookup(srv->cb.user, srv->realm, il_stun_attr_value(req, uhash),
					   alg, now_s, &keys[0], auth->username,
					   sizeof auth->username);
	auth->username[sizeof auth->username - 1] = '\0';
	return ok && auth->username[0] != '\0' ? 1 : 0;
}

bool turn_authenticate(il_turn_server *srv, const il_five_tuple *ft, const il_stun_msg *req,
		       uint64_t now_ms, const il_five_tuple *alt_ft, turn_auth *auth)
{
	/* "If the message does not contain a MESSAGE-INTEGRITY or
	 * MESSAGE-INTEGRITY-SHA256 attribute, the server MUST generate an
	 * error response with an error code of 401" with REALM and NONCE. */
	if (req->mi_index < 0 && req->mi256_index < 0) {
		srv->stats.challenges++;
		challenge(srv, ft, req, 401, now_ms);
		return false;
	}
	/* "... but is missing either the USERNAME or USERHASH, REALM, or
	 * NONCE attribute, the server MUST generate an error response with an
	 * error code of 400" */
	const il_stun_attr *realm = il_stun_msg_find(req, IL_ATTR_REALM);
	const il_stun_attr *nonce = il_stun_msg_find(req, IL_ATTR_NONCE);
	if ((!il_stun_msg_find(req, IL_ATTR_USERNAME) && !il_stun_msg_find(req, IL_ATTR_USERHASH)) ||
	    !realm || !nonce) {
		turn_reply_error(srv, ft, req, NULL, 400);
		return false;
	}
	const char *nonce_text, *realm_text;
	size_t nonce_len, realm_len;
	il_stun_attr_get_string(req, nonce, &nonce_text, &nonce_len);
	il_stun_attr_get_string(req, realm, &realm_text, &realm_len);
	uint32_t features = 0;
	bool cookie = il_stun_nonce_cookie_parse(nonce_text, nonce_len, &features);
	enum il_stun_password_algorithm alg;
	if (!choose_algorithm(srv, req, cookie && (features & IL_STUN_FEATURE_PASSWORD_ALGORITHMS),
			      &alg)) {
		srv->stats.auth_failures++;
		turn_event(srv, IL_TURN_EV_AUTH_FAILED, ft, "password-algorithms mismatch");
		turn_reply_error(srv, ft, req, NULL, 400);
		return false;
	}
	/* Unknown user, other realm, algorithm not offered, wrong password:
	 * one answer, a 401 challenge (§9.2.4). */
	auth->alg = alg;
	il_stun_key keys[IL_TURN_MAX_KEYS];
	size_t n_keys = 0;
	if (text_equal(realm_text, realm_len, srv->realm))
		n_keys = lookup_keys(srv, req, alg, now_ms, auth, keys);
	/* "If the MESSAGE-INTEGRITY-SHA256 attribute is present, compute the
	 * value ... Otherwise, using the same password, compute the value for
	 * the MESSAGE-INTEGRITY attribute". With two keys (a REST secret and
	 * the one it replaced) the first that verifies is the user's; the
	 * response is keyed with it. */
	auth->mi_sha256 = req->mi256_index >= 0;
	bool verified = false;
	for (size_t i = 0; i < n_keys && !verified; i++) {
		enum il_stun_verdict v = auth->mi_sha256
						 ? il_stun_check_integrity_sha256(req, &keys[i])
						 : il_stun_check_integrity(req, &keys[i]);
		if (v == IL_STUN_VERDICT_OK) {
			auth->key = keys[i];
			auth->key_index = (uint8_t)i;
			verified = true;
		}
	}
	OPENSSL_cleanse(keys, sizeof keys);
	if (!verified) {
		auth_failed(srv, ft, req, now_ms);
		return false;
	}
	/* "If the NONCE is no longer valid, the server MUST generate an error
	 * response with an error code of 438 (Stale Nonce)" with a valid
	 * NONCE, REALM and PASSWORD-ALGORITHMS. A nonce we cannot verify
	 * (another 5-tuple's, a previous secret's) is no longer valid either. */
	enum turn_nonce_verdict nv = turn_nonce_check(srv, ft, nonce_text, nonce_len, now_ms);
	if (nv != TURN_NONCE_VALID && alt_ft)
		nv = turn_nonce_check(srv, alt_ft, nonce_text, nonce_len, now_ms);
	if (nv != TURN_NONCE_VALID) {
		srv->stats.challenges++;
		challenge(srv, ft, req, 438, now_ms);
		return false;
	}
	return true;
}

bool turn_auth_for_user(il_turn_server *srv, const char *username,
			enum il_stun_password_algorithm alg, bool mi_sha256, uint8_t key_index,
			uint64_t now_ms, turn_auth *auth)
{
	size_t n = strlen(username);
	if (n >= sizeof auth->username)
		return false;
	memcpy(auth->username, username, n + 1);
	auth->alg = alg;
	auth->mi_sha256 = mi_sha256;
	il_stun_key keys[IL_TURN_MAX_KEYS];
	size_t n_keys = user_keys(srv, username, alg, turn_unix_s(srv, now_ms), keys);
	/* The key that authenticated the request, if the user still has it. */
	bool ok = key_index < n_keys;
	if (ok) {
		auth->key = keys[key_index];
		auth->key_index = key_index;
	}
	OPENSSL_cleanse(keys, sizeof keys);
	return ok;
}
