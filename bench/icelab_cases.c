/* icelab under test: il_stun_decode alone; decode + FINGERPRINT +
 * MESSAGE-INTEGRITY with a key made once (il_stun_key, pre-keyed, as a
 * server keeps one per credential); and the builder making a typical ICE
 * Binding request and success response. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icelab/stun.h"
#include "icelab/stun_integrity.h"

#include "bench.h"

typedef struct icelab_ctx {
	const uint8_t *buf;
	size_t len;
	bool has_fingerprint;
	bool response;          /* encode: the success response */
	il_stun_key key;
	il_addr mapped;
	bench_encoded out;
} icelab_ctx;

size_t icelab_run_decode(void *ctx, size_t n)
{
	const icelab_ctx *c = ctx;
	size_t bad = 0;
	for (size_t i = 0; i < n; i++) {
		il_stun_msg msg;
		bad += il_stun_decode(c->buf, c->len, &msg, NULL) != IL_STUN_OK;
	}
	return bad;
}

static bool verify_one(const icelab_ctx *c)
{
	il_stun_msg msg;
	if (il_stun_decode(c->buf, c->len, &msg, NULL) != IL_STUN_OK)
		return false;
	if (c->has_fingerprint && il_stun_check_fingerprint(&msg) != IL_STUN_VERDICT_OK)
		return false;
	return il_stun_check_integrity(&msg, &c->key) == IL_STUN_VERDICT_OK;
}

size_t icelab_run_verify(void *ctx, size_t n)
{
	const icelab_ctx *c = ctx;
	size_t bad = 0;
	for (size_t i = 0; i < n; i++)
		bad += !verify_one(c);
	return bad;
}

static size_t encode_one(icelab_ctx *c, enum il_stun_err *err)
{
	il_stun_builder b;
	if (c->response) {
		il_stun_builder_init(&b, c->out.buf, sizeof(c->out.buf), IL_STUN_BINDING,
				     IL_STUN_SUCCESS, bench_ice.tid);
		il_stun_add_xor_addr(&b, IL_ATTR_XOR_MAPPED_ADDRESS, &c->mapped);
	} else {
		il_stun_builder_init(&b, c->out.buf, sizeof(c->out.buf), IL_STUN_BINDING,
				     IL_STUN_REQUEST, bench_ice.tid);
		il_stun_add_string(&b, IL_ATTR_USERNAME, bench_ice.username,
				   strlen(bench_ice.username));
		il_stun_add_u32(&b, IL_ATTR_PRIORITY, bench_ice.priority);
		il_stun_add_u64(&b, IL_ATTR_ICE_CONTROLLING, bench_ice.tie_breaker);
		il_stun_add_empty(&b, IL_ATTR_USE_CANDIDATE);
	}
	il_stun_add_message_integrity(&b, &c->key);
	il_stun_add_fingerprint(&b);
	return il_stun_builder_finish(&b, err);
}

size_t icelab_run_encode(void *ctx, size_t n)
{
	icelab_ctx *c = ctx;
	size_t bad = 0;
	size_t want = c->out.len;
	for (size_t i = 0; i < n; i++)
		bad += encode_one(c, NULL) != want;
	return bad;
}

static icelab_ctx *ctx_new(const bench_msg *m, char *why, size_t why_len)
{
	icelab_ctx *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(why, why_len, "out of memory");
		return NULL;
	}
	if (m != NULL) {
		c->buf = m->buf;
		c->len = m->len;
		c->has_fingerprint = m->fp_off != 0;
	}
	enum il_stun_err err;
	if (m != NULL && m->long_term)
		err = il_stun_key_long_term(&c->key, IL_STUN_PWALG_MD5, RFC5769_LT_USERNAME,
					    RFC5769_LT_REALM, RFC5769_LT_PASSWORD);
	else
		err = il_stun_key_short_term(&c->key, RFC5769_PASSWORD);
	if (err != IL_STUN_OK) {
		snprintf(why, why_len, "making the key: %s", il_stun_err_name(err));
		free(c);
		return NULL;
	}
	return c;
}

void *icelab_decode_new(const bench_msg *m, char *why, size_t why_len)
{
	icelab_ctx *c = ctx_new(m, why, why_len);
	if (c == NULL)
		return NULL;
	il_stun_msg msg;
	il_stun_decode_error derr = {0};
	enum il_stun_err err = il_stun_decode(c->buf, c->len, &msg, &derr);
	if (err != IL_STUN_OK) {
		snprintf(why, why_len, "il_stun_decode: %s at byte %zu", il_stun_err_name(err),
			 derr.offset);
		free(c);
		return NULL;
	}
	return c;
}

void *icelab_verify_new(const bench_msg *m, char *why, size_t why_len)
{
	icelab_ctx *c = icelab_decode_new(m, why, why_len);
	if (c == NULL)
		return NULL;
	il_stun_msg msg;
	il_stun_decode(c->buf, c->len, &msg, NULL);
	enum il_stun_verdict fp = c->has_fingerprint ? il_stun_check_fingerprint(&msg)
						     : IL_STUN_VERDICT_OK;
	enum il_stun_verdict mi = il_stun_check_integrity(&msg, &c->key);
	if (fp != IL_STUN_VERDICT_OK || mi != IL_STUN_VERDICT_OK) {
		snprintf(why, why_len, "fingerprint %s, integrity %s", il_stun_verdict_name(fp),
			 il_stun_verdict_name(mi));
		free(c);
		return NULL;
	}
	return c;
}

void *icelab_encode_new(bool response, char *why, size_t why_len)
{
	icelab_ctx *c = ctx_new(NULL, why, why_len);
	if (c == NULL)
		return NULL;
	c->response = response;
	c->mapped.family = IL_AF_INET;
	c->mapped.port = bench_ice.mapped_port;
	memcpy(c->mapped.ip, bench_ice.mapped_ip, 4);
	/* Build once, reporting the error; the loop then compares lengths. */
	enum il_stun_err err = IL_STUN_OK;
	c->out.len = encode_one(c, &err);
	if (c->out.len == 0) {
		snprintf(why, why_len, "il_stun_builder_finish: %s", il_stun_err_name(err));
		free(c);
		return NULL;
	}
	return c;
}

const bench_encoded *icelab_encode_output(const void *ctx)
{
	return &((const icelab_ctx *)ctx)->out;
}

bool icelab_verify_once(const uint8_t *buf, size_t len, char *why, size_t why_len)
{
	bench_msg m = {.name = "cross-check", .buf = buf, .len = len};
	if (!bench_msg_locate(&m)) {
		snprintf(why, why_len, "attributes not laid out as expected");
		return false;
	}
	icelab_ctx *c = icelab_verify_new(&m, why, why_len);
	bool ok = c != NULL;
	free(c);
	return ok;
}

void icelab_case_free(void *ctx)
{
	free(ctx);
}
