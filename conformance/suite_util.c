/* Helpers shared by the suites (suite_util.h). */
#include "suite_util.h"

#include <stdio.h>
#include <string.h>

int cf_error_code(const il_stun_msg *m)
{
	const il_stun_attr *a = il_stun_msg_find(m, IL_ATTR_ERROR_CODE);
	if (m->cls != IL_STUN_ERROR || !a)
		return 0;
	int code;
	const char *reason;
	size_t rl;
	if (il_stun_attr_get_error_code(m, a, &code, &reason, &rl) != IL_STUN_OK)
		return 0;
	return code;
}

bool cf_has(const il_stun_msg *m, uint16_t type)
{
	return il_stun_msg_find(m, type) != NULL;
}

size_t cf_build(cf_ctx *ctx, uint8_t *buf, size_t cap, uint16_t method, uint8_t cls,
		cf_attrs_fn add, const void *arg, bool fingerprint)
{
	uint8_t tid[IL_STUN_TID_LEN];
	cf_new_tid(ctx, tid);
	il_stun_builder b;
	il_stun_builder_init(&b, buf, cap, method, cls, tid);
	if (add)
		add(&b, arg);
	if (fingerprint)
		il_stun_add_fingerprint(&b);
	enum il_stun_err err;
	size_t len = il_stun_builder_finish(&b, &err);
	if (!len)
		cf_error(ctx, "harness bug: building a request failed (%s)", il_stun_err_name(err));
	return len;
}

bool cf_padding_is_zero(const il_stun_msg *m)
{
	for (size_t i = 0; i < m->attr_count; i++) {
		const il_stun_attr *a = &m->attrs[i];
		size_t end = a->offset + a->length;
		size_t padded = a->offset + ((a->length + 3u) & ~3u);
		for (size_t k = end; k < padded && k < m->len; k++)
			if (m->buf[k] != 0)
				return false;
	}
	return true;
}

bool cf_check_address(cf_ctx *ctx, const char *req, const il_stun_msg *m, uint16_t type,
		      const char *name, const il_addr *want, const char *source)
{
	const il_stun_attr *a = il_stun_msg_find(m, type);
	il_addr got;
	memset(&got, 0, sizeof got);
	char gs[IL_ADDR_STRLEN] = "none", ws[IL_ADDR_STRLEN];
	if (a && il_stun_attr_get_addr(m, a, &got) == IL_STUN_OK)
		il_addr_format(&got, gs, sizeof gs);
	il_addr_format(want, ws, sizeof ws);
	return cf_check_req(ctx, req, a && il_addr_equal(&got, want), "%s %s, %s %s", name, gs,
			    source, ws);
}

const char *cf_describe(size_t len, const il_stun_msg *m, char *out, size_t cap)
{
	if (!len) {
		snprintf(out, cap, "no response");
	} else if (m->cls == IL_STUN_ERROR) {
		int code = cf_error_code(m);
		const char *r = il_stun_error_reason(code);
		snprintf(out, cap, "error response %d%s%s", code, r ? " " : "", r ? r : "");
	} else {
		snprintf(out, cap, "%s %s", il_stun_method_name(m->method) ? il_stun_method_name(m->method) : "?",
			 il_stun_class_name(m->cls));
	}
	return out;
}

void cf_add_udp_transport(il_stun_builder *b, const void *arg)
{
	(void)arg;
	il_stun_add_u32(b, IL_ATTR_REQUESTED_TRANSPORT, 17u << 24);
}

void cf_add_peer(il_stun_builder *b, const void *arg)
{
	il_stun_add_xor_addr(b, IL_ATTR_XOR_PEER_ADDRESS, arg);
}

void cf_add_lifetime(il_stun_builder *b, const void *arg)
{
	il_stun_add_u32(b, IL_ATTR_LIFETIME, *(const uint32_t *)arg);
}

void cf_add_channel(il_stun_builder *b, const void *arg)
{
	const cf_channel_arg *c = arg;
	if (!c->omit_number)
		il_stun_add_channel_number(b, c->number);
	if (!c->omit_peer)
		il_stun_add_xor_addr(b, IL_ATTR_XOR_PEER_ADDRESS, &c->peer);
}

/* ---- TURN session ---- */

int cf_turn_open(cf_ctx *ctx, cf_turn *s)
{
	memset(s, 0, sizeof *s);
	s->ctx = ctx;
	cf_target *t = cf_ctx_target(ctx);
	s->user = t->user;
	s->password = t->password;
	snprintf(s->realm, sizeof s->realm, "%s", t->realm);
	s->client = cf_client(ctx, CF_UDP);
	return s->client;
}

static void take_challenge(cf_turn *s, const il_stun_msg *m)
{
	const il_stun_attr *a;
	const char *text;
	size_t len;
	if ((a = il_stun_msg_find(m, IL_ATTR_REALM)) &&
	    il_stun_attr_get_string(m, a, &text, &len) == IL_STUN_OK && len < sizeof s->realm) {
		memcpy(s->realm, text, len);
		s->realm[len] = '\0';
	}
	if ((a = il_stun_msg_find(m, IL_ATTR_NONCE)) &&
	    il_stun_attr_get_string(m, a, &text, &len) == IL_STUN_OK && len < sizeof s->nonce) {
		memcpy(s->nonce, text, len);
		s->nonce_len = len;
		uint32_t features = 0;
		s->algs_feature = il_stun_nonce_cookie_parse(text, len, &features) &&
				  (features & IL_STUN_FEATURE_PASSWORD_ALGORITHMS);
	}
	if ((a = il_stun_msg_find(m, IL_ATTR_PASSWORD_ALGORITHMS)) &&
	    a->length <= sizeof s->algs_raw) {
		memcpy(s->algs_raw, il_stun_attr_value(m, a), a->length);
		s->algs_raw_len = a->length;
		il_stun_attr_get_password_algorithms(m, a, s->algs, 8, &s->nalgs);
		if (s->nalgs > 8)
			s->nalgs = 8;
	}
}

size_t cf_turn_challenge(cf_turn *s, uint16_t method, cf_attrs_fn add, const void *arg,
			 uint8_t *buf, size_t cap, il_stun_msg *resp)
{
	uint8_t req[CF_BUF];
	size_t len = cf_build(s->ctx, req, sizeof req, method, IL_STUN_REQUEST, add, arg, true);
	if (!len)
		return 0;
	size_t n = cf_transact(s->ctx, s->client, req, len, buf, cap, resp);
	if (n && cf_error_code(resp) == 401)
		take_challenge(s, resp);
	return n;
}

bool cf_turn_key(const cf_turn *s, il_stun_key *key)
{
	enum il_stun_password_algorithm alg = s->sha256 ? IL_STUN_PWALG_SHA256 : IL_STUN_PWALG_MD5;
	return il_stun_key_long_term(key, alg, s->user, s->realm, s->password) == IL_STUN_OK;
}

size_t cf_turn_request_once(cf_turn *s, uint16_t method, cf_attrs_fn add, const void *arg,
			    const uint8_t *tid, uint8_t *buf, size_t cap, il_stun_msg *resp)
{
	uint8_t req[CF_BUF];
	il_stun_key key;
	if (!cf_turn_key(s, &key)) {
		cf_error(s->ctx, "the credentials cannot be prepared (OpaqueString refused them)");
		return 0;
	}
	il_stun_builder b;
	il_stun_builder_init(&b, req, sizeof req, method, IL_STUN_REQUEST, tid);
	if (add)
		add(&b, arg);
	il_stun_add_string(&b, IL_ATTR_USERNAME, s->user, strlen(s->user));
	il_stun_add_string(&b, IL_ATTR_REALM, s->realm, strlen(s->realm));
	il_stun_add_string(&b, IL_ATTR_NONCE, s->nonce, s->nonce_len);
	if (s->sha256) {
		/* RFC 8489 §9.2.5: echo PASSWORD-ALGORITHMS, pick one. */
		il_stun_add_raw(&b, IL_ATTR_PASSWORD_ALGORITHMS, s->algs_raw, s->algs_raw_len);
		il_stun_add_password_algorithm(&b, IL_STUN_PWALG_SHA256);
		il_stun_add_message_integrity_sha256(&b, &key, 32);
	} else {
		il_stun_add_message_integrity(&b, &key);
	}
	il_stun_add_fingerprint(&b);
	enum il_stun_err err;
	size_t len = il_stun_builder_finish(&b, &err);
	if (!len) {
		cf_error(s->ctx, "harness bug: building a request failed (%s)", il_stun_err_name(err));
		return 0;
	}
	return cf_transact(s->ctx, s->client, req, len, buf, cap, resp);
}

size_t cf_turn_request(cf_turn *s, uint16_t method, cf_attrs_fn add, const void *arg,
		       uint8_t *buf, size_t cap, il_stun_msg *resp)
{
	cf_new_tid(s->ctx, s->last_tid);
	size_t n = cf_turn_request_once(s, method, add, arg, s->last_tid, buf, cap, resp);
	if (n && cf_error_code(resp) == 438) {
		take_challenge(s, resp);
		cf_new_tid(s->ctx, s->last_tid);
		n = cf_turn_request_once(s, method, add, arg, s->last_tid, buf, cap, resp);
	}
	return n;
}

typedef struct alloc_arg {
	cf_attrs_fn add;
	const void *arg;
} alloc_arg;

static void add_alloc(il_stun_builder *b, const void *arg)
{
	const alloc_arg *a = arg;
	cf_add_udp_transport(b, NULL);
	if (a->add)
		a->add(b, a->arg);
}

size_t cf_turn_allocate_with(cf_turn *s, cf_attrs_fn add, const void *arg, uint8_t *buf,
			     size_t cap, il_stun_msg *resp)
{
	alloc_arg aa = {add, arg};
	size_t n = cf_turn_challenge(s, IL_STUN_ALLOCATE, add_alloc, &aa, buf, cap, resp);
	if (!n || cf_error_code(resp) != 401)
		return n;
	n = cf_turn_request(s, IL_STUN_ALLOCATE, add_alloc, &aa, buf, cap, resp);
	if (n && resp->cls == IL_STUN_SUCCESS) {
		const il_stun_attr *a;
		s->allocated = true;
		if ((a = il_stun_msg_find(resp, IL_ATTR_XOR_RELAYED_ADDRESS)))
			il_stun_attr_get_addr(resp, a, &s->relayed);
		if ((a = il_stun_msg_find(resp, IL_ATTR_XOR_MAPPED_ADDRESS)))
			il_stun_attr_get_addr(resp, a, &s->mapped);
		if ((a = il_stun_msg_find(resp, IL_ATTR_LIFETIME)))
			il_stun_attr_get_u32(resp, a, &s->lifetime);
	}
	return n;
}

bool cf_turn_allocate(cf_turn *s)
{
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	size_t n = cf_turn_allocate_with(s, NULL, NULL, buf, sizeof buf, &m);
	if (cf_stopped(s->ctx))
		return false;
	if (!n || m.cls != IL_STUN_SUCCESS || s->relayed.family == IL_AF_NONE) {
		cf_error(s->ctx, "precondition failed: Allocate got %s (turn-server/allocate-* "
				 "tests judge it)",
			 cf_describe(n, &m, what, sizeof what));
		return false;
	}
	return true;
}

bool cf_turn_permit(cf_turn *s, const il_addr *peer)
{
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	size_t n = cf_turn_request(s, IL_STUN_CREATEPERMISSION, cf_add_peer, peer, buf, sizeof buf,
				   &m);
	if (n && m.cls == IL_STUN_SUCCESS)
		return true;
	cf_error(s->ctx, "precondition failed: CreatePermission got %s",
		 cf_describe(n, &m, what, sizeof what));
	return false;
}

bool cf_turn_bind(cf_turn *s, uint16_t channel, const il_addr *peer)
{
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	cf_channel_arg ca = {.number = channel, .peer = *peer};
	size_t n = cf_turn_request(s, IL_STUN_CHANNELBIND, cf_add_channel, &ca, buf, sizeof buf, &m);
	if (n && m.cls == IL_STUN_SUCCESS)
		return true;
	cf_error(s->ctx, "precondition failed: ChannelBind got %s",
		 cf_describe(n, &m, what, sizeof what));
	return false;
}

void cf_turn_release(cf_turn *s)
{
	if (!s->allocated || cf_ctx_target(s->ctx)->virtual_time || cf_stopped(s->ctx))
		return;
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	uint32_t zero = 0;
	cf_turn_request(s, IL_STUN_REFRESH, cf_add_lifetime, &zero, buf, sizeof buf, &m);
	s->allocated = false;
}

typedef struct send_arg {
	const il_addr *peer;
	const uint8_t *data;
	size_t len;
} send_arg;

static void add_send(il_stun_builder *b, const void *arg)
{
	const send_arg *sa = arg;
	il_stun_add_xor_addr(b, IL_ATTR_XOR_PEER_ADDRESS, sa->peer);
	il_stun_add_raw(b, IL_ATTR_DATA, sa->data, sa->len);
}

void cf_turn_send(cf_turn *s, const il_addr *peer, const uint8_t *data, size_t len)
{
	uint8_t buf[CF_BUF];
	send_arg sa = {peer, data, len};
	size_t n = cf_build(s->ctx, buf, sizeof buf, IL_STUN_SEND, IL_STUN_INDICATION, add_send, &sa,
			    true);
	if (n)
		cf_send(s->ctx, s->client, buf, n);
}
