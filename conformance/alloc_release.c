/* Releasing a test's allocations when it ends. Tests leave allocations
 * on real servers; a later client whose ephemeral port the kernel hands
 * out again would then find its 5-tuple taken and get 437 (RFC 8656
 * §7.2). So the runner watches each client's transactions for a
 * successful Allocate and, at the end of the test, sends a Refresh with
 * LIFETIME 0 (§7.3) with the same credentials: best effort, quiet (not a
 * check, not evidence), bounded in time. */
#include "runner_internal.h"

#include <string.h>

#include "icelab/stun.h"
#include "icelab/stun_integrity.h"

#define REL_PASSWORD_MAX 128

static void copy_attr(const il_stun_msg *m, uint16_t type, void *out, size_t cap, size_t *len,
		      bool nul)
{
	const il_stun_attr *a = il_stun_msg_find(m, type);
	if (!a || a->length + (nul ? 1u : 0u) > cap)
		return;
	memcpy(out, il_stun_attr_value(m, a), a->length);
	*len = a->length;
	if (nul)
		((char *)out)[a->length] = 0;
}

/* The nonce (and PASSWORD-ALGORITHMS) a 401/438 gave: the next request
 * authenticates with them (RFC 8489 §9.2.5). */
static void take_nonce(cf_alloc_track *a, const il_stun_msg *resp)
{
	copy_attr(resp, IL_ATTR_NONCE, a->nonce, sizeof a->nonce, &a->nonce_len, false);
	copy_attr(resp, IL_ATTR_PASSWORD_ALGORITHMS, a->algs_raw, sizeof a->algs_raw,
		  &a->algs_raw_len, false);
}

void cf_alloc_observe(const cf_target *t, cf_alloc_track *a, const uint8_t *req, size_t len,
		      const il_stun_msg *resp)
{
	il_stun_msg q;
	if (il_stun_decode(req, len, &q, NULL) != IL_STUN_OK || q.cls != IL_STUN_REQUEST)
		return;
	if (resp->cls == IL_STUN_ERROR && il_stun_msg_find(resp, IL_ATTR_NONCE)) {
		take_nonce(a, resp);
		return;
	}
	if (resp->cls != IL_STUN_SUCCESS)
		return;
	if (q.method == IL_STUN_REFRESH) {
		const il_stun_attr *l = il_stun_msg_find(&q, IL_ATTR_LIFETIME);
		uint32_t life = 1;
		if (l && il_stun_attr_get_u32(&q, l, &life) == IL_STUN_OK && life == 0)
			a->allocated = false; /* the test released it itself */
		return;
	}
	if (q.method != IL_STUN_ALLOCATE || !il_stun_msg_find(&q, IL_ATTR_USERNAME))
		return;
	size_t ul = 0, rl = 0;
	char user[sizeof a->user];
	user[0] = 0;
	copy_attr(&q, IL_ATTR_USERNAME, user, sizeof user, &ul, true);
	/* Only the target's own users: their passwords are known. */
	if (t->has_credentials && strcmp(user, t->user) == 0)
		a->password = t->password;
	else if (t->has_user2 && strcmp(user, t->user2) == 0)
		a->password = t->password2;
	else
		return;
	memcpy(a->user, user, sizeof user);
	a->realm[0] = 0;
	copy_attr(&q, IL_ATTR_REALM, a->realm, sizeof a->realm, &rl, true);
	copy_attr(&q, IL_ATTR_NONCE, a->nonce, sizeof a->nonce, &a->nonce_len, false);
	copy_attr(&q, IL_ATTR_PASSWORD_ALGORITHMS, a->algs_raw, sizeof a->algs_raw,
		  &a->algs_raw_len, false);
	const il_stun_attr *pa = il_stun_msg_find(&q, IL_ATTR_PASSWORD_ALGORITHM);
	a->sha256 = pa && pa->length >= 2 && il_stun_attr_value(&q, pa)[1] == IL_STUN_PWALG_SHA256;
	a->allocated = true;
}

static size_t build_refresh(const cf_alloc_track *a, const uint8_t tid[IL_STUN_TID_LEN],
			    uint8_t *buf, size_t cap)
{
	il_stun_key key;
	enum il_stun_password_algorithm alg = a->sha256 ? IL_STUN_PWALG_SHA256 : IL_STUN_PWALG_MD5;
	if (il_stun_key_long_term(&key, alg, a->user, a->realm, a->password) != IL_STUN_OK)
		return 0;
	il_stun_builder b;
	il_stun_builder_init(&b, buf, cap, IL_STUN_REFRESH, IL_STUN_REQUEST, tid);
	il_stun_add_u32(&b, IL_ATTR_LIFETIME, 0);
	il_stun_add_string(&b, IL_ATTR_USERNAME, a->user, strlen(a->user));
	il_stun_add_string(&b, IL_ATTR_REALM, a->realm, strlen(a->realm));
	il_stun_add_raw(&b, IL_ATTR_NONCE, a->nonce, a->nonce_len);
	if (a->sha256) {
		il_stun_add_raw(&b, IL_ATTR_PASSWORD_ALGORITHMS, a->algs_raw, a->algs_raw_len);
		il_stun_add_password_algorithm(&b, IL_STUN_PWALG_SHA256);
		il_stun_add_message_integrity_sha256(&b, &key, 32);
	} else {
		il_stun_add_message_integrity(&b, &key);
	}
	il_stun_add_fingerprint(&b);
	enum il_stun_err err;
	return il_stun_builder_finish(&b, &err);
}

bool cf_alloc_release(cf_target *t, int ix, cf_alloc_track *a, const uint8_t tids[2][12],
		      uint64_t deadline_ms, uint64_t (*now_ms)(void))
{
	if (!a->allocated)
		return false;
	a->allocated = false;
	for (int attempt = 0; attempt < 2; attempt++) {
		uint8_t req[1024], buf[2048];
		size_t len = build_refresh(a, tids[attempt], req, sizeof req);
		if (!len || t->client_send(t, ix, req, len) < 0)
			return false;
		for (;;) {
			uint64_t now = now_ms();
			if (now >= deadline_ms)
				return false;
			size_t n = 0;
			if (t->client_recv(t, ix, buf, sizeof buf, &n, (uint32_t)(deadline_ms - now)) <=
			    0)
				return false;
			il_stun_msg m;
			if (n < IL_STUN_HEADER_LEN || memcmp(buf + 8, tids[attempt], 12) != 0 ||
			    il_stun_decode(buf, n, &m, NULL) != IL_STUN_OK)
				continue; /* data or a stray: not our response */
			if (m.cls == IL_STUN_SUCCESS)
				return true;
			const il_stun_attr *e = il_stun_msg_find(&m, IL_ATTR_ERROR_CODE);
			const uint8_t *v = e && e->length >= 4 ? il_stun_attr_value(&m, e) : NULL;
			/* 438 Stale Nonce: once more with the new one (§9.2.5). */
			if (!v || (v[2] & 7) * 100 + v[3] != 438 || !il_stun_msg_find(&m, IL_ATTR_NONCE))
				return false;
			take_nonce(a, &m);
			break;
		}
	}
	return false;
}
