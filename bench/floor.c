/* The floor: what verifying a STUN message cannot avoid. HMAC-SHA1 over
 * the bytes MESSAGE-INTEGRITY covers (RFC 8489 §14.5: the message up to
 * the attribute, with the header length adjusted to end after it), from a
 * context keyed once; CRC-32 (zlib) over the bytes FINGERPRINT covers
 * (§14.7); a compare of each; no parsing, no lookup, nothing else.
 *
 * The adjusted length sits in the first SHA-1 block, which is therefore
 * hashed from a 64-byte copy with the length patched (measured faster
 * than hashing a patched 20-byte header and then the rest).
 *
 * Ways of keeping the keyed state, fastest first:
 *   FLOOR_SHA_CTX      the inner and outer SHA_CTX after the key block,
 *                      copied per message (SHA1_* are deprecated in
 *                      OpenSSL 3, hence OPENSSL_SUPPRESS_DEPRECATED here);
 *   FLOOR_SHA_CTX_SPAN the same, hashing the received bytes as one span
 *                      with the length left unpatched: not a verification
 *                      (it is compared with its own precomputed MAC), the
 *                      cost of the hashing alone, for reference;
 *   FLOOR_EVP_REINIT   one EVP_MAC_CTX, re-initialised with a NULL key
 *                      (OpenSSL keeps the keyed state);
 *   FLOOR_EVP_DUP      EVP_MAC_CTX_dup of a keyed context per message. */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/sha.h>
#include <zlib.h>

#include "bench.h"

#define FP_XOR 0x5354554Eu

typedef struct floor_ctx {
	enum floor_kind kind;
	const uint8_t *buf;
	size_t hmac_len;        /* bytes before MESSAGE-INTEGRITY */
	size_t crc_len;         /* bytes before FINGERPRINT; 0: none */
	size_t first_len;       /* bytes of the first block: min(64, hmac_len) */
	const uint8_t *mac;     /* the MAC to match */
	uint8_t span_mac[20];   /* FLOOR_SHA_CTX_SPAN: its own MAC */
	uint32_t fingerprint;   /* the FINGERPRINT value in the message */
	SHA_CTX inner, outer;   /* FLOOR_SHA_CTX */
	EVP_MAC *evp_mac;       /* FLOOR_EVP_* */
	EVP_MAC_CTX *evp_ctx;
} floor_ctx;

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool crc_ok(const floor_ctx *f)
{
	if (f->crc_len == 0)
		return true;
	uint32_t crc = (uint32_t)crc32(0L, f->buf, (uInt)f->crc_len);
	return (crc ^ FP_XOR) == f->fingerprint;
}

/* The first block of the MI input: the header length set to end after
 * MESSAGE-INTEGRITY. */
static void first_block(const floor_ctx *f, uint8_t block[64])
{
	memcpy(block, f->buf, f->first_len);
	size_t mi_len = f->hmac_len + 24 - 20;
	block[2] = (uint8_t)(mi_len >> 8);
	block[3] = (uint8_t)mi_len;
}

static bool sha_ctx_one(const floor_ctx *f)
{
	uint8_t block[64], digest[SHA_DIGEST_LENGTH];
	first_block(f, block);
	SHA_CTX c = f->inner;
	SHA1_Update(&c, block, f->first_len);
	SHA1_Update(&c, f->buf + f->first_len, f->hmac_len - f->first_len);
	SHA1_Final(digest, &c);
	c = f->outer;
	SHA1_Update(&c, digest, sizeof(digest));
	SHA1_Final(digest, &c);
	return memcmp(digest, f->mac, sizeof(digest)) == 0 && crc_ok(f);
}

static void sha_ctx_span(const floor_ctx *f, uint8_t digest[SHA_DIGEST_LENGTH])
{
	SHA_CTX c = f->inner;
	SHA1_Update(&c, f->buf, f->hmac_len);
	SHA1_Final(digest, &c);
	c = f->outer;
	SHA1_Update(&c, digest, SHA_DIGEST_LENGTH);
	SHA1_Final(digest, &c);
}

static bool sha_ctx_span_one(const floor_ctx *f)
{
	uint8_t digest[SHA_DIGEST_LENGTH];
	sha_ctx_span(f, digest);
	return memcmp(digest, f->span_mac, sizeof(digest)) == 0 && crc_ok(f);
}

static bool evp_mac_finish(EVP_MAC_CTX *ctx, const floor_ctx *f)
{
	uint8_t block[64], digest[EVP_MAX_MD_SIZE];
	size_t out_len = 0;
	first_block(f, block);
	if (!EVP_MAC_update(ctx, block, f->first_len) ||
	    !EVP_MAC_update(ctx, f->buf + f->first_len, f->hmac_len - f->first_len) ||
	    !EVP_MAC_final(ctx, digest, &out_len, sizeof(digest)) || out_len != 20)
		return false;
	return memcmp(digest, f->mac, 20) == 0 && crc_ok(f);
}

static bool evp_reinit_one(const floor_ctx *f)
{
	if (!EVP_MAC_init(f->evp_ctx, NULL, 0, NULL))
		return false;
	return evp_mac_finish(f->evp_ctx, f);
}

static bool evp_dup_one(const floor_ctx *f)
{
	EVP_MAC_CTX *c = EVP_MAC_CTX_dup(f->evp_ctx);
	if (c == NULL)
		return false;
	bool ok = evp_mac_finish(c, f);
	EVP_MAC_CTX_free(c);
	return ok;
}

size_t floor_run(void *ctx, size_t n)
{
	const floor_ctx *f = ctx;
	size_t bad = 0;
	switch (f->kind) {
	case FLOOR_SHA_CTX:
		for (size_t i = 0; i < n; i++)
			bad += !sha_ctx_one(f);
		break;
	case FLOOR_SHA_CTX_SPAN:
		for (size_t i = 0; i < n; i++)
			bad += !sha_ctx_span_one(f);
		break;
	case FLOOR_EVP_REINIT:
		for (size_t i = 0; i < n; i++)
			bad += !evp_reinit_one(f);
		break;
	case FLOOR_EVP_DUP:
		for (size_t i = 0; i < n; i++)
			bad += !evp_dup_one(f);
		break;
	}
	return bad;
}

/* HMAC (RFC 2104) keyed once: the states after hashing K^ipad and K^opad. */
static void sha_ctx_key(floor_ctx *f, const uint8_t *key, size_t key_len)
{
	uint8_t block[SHA_CBLOCK] = {0};
	if (key_len > SHA_CBLOCK)
		SHA1(key, key_len, block);
	else
		memcpy(block, key, key_len);
	uint8_t pad[SHA_CBLOCK];
	for (size_t i = 0; i < SHA_CBLOCK; i++)
		pad[i] = block[i] ^ 0x36;
	SHA1_Init(&f->inner);
	SHA1_Update(&f->inner, pad, sizeof(pad));
	for (size_t i = 0; i < SHA_CBLOCK; i++)
		pad[i] = block[i] ^ 0x5c;
	SHA1_Init(&f->outer);
	SHA1_Update(&f->outer, pad, sizeof(pad));
}

static bool evp_key(floor_ctx *f, const uint8_t *key, size_t key_len)
{
	f->evp_mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (f->evp_mac == NULL)
		return false;
	f->evp_ctx = EVP_MAC_CTX_new(f->evp_mac);
	if (f->evp_ctx == NULL)
		return false;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA1", 0),
		OSSL_PARAM_construct_end(),
	};
	return EVP_MAC_init(f->evp_ctx, key, key_len, params) == 1;
}

void *floor_new(enum floor_kind kind, const bench_msg *m, const uint8_t *key, size_t key_len,
		char *why, size_t why_len)
{
	floor_ctx *f = calloc(1, sizeof(*f));
	if (f == NULL) {
		snprintf(why, why_len, "out of memory");
		return NULL;
	}
	f->kind = kind;
	f->buf = m->buf;
	f->hmac_len = m->mi_off;
	f->crc_len = m->fp_off;
	f->mac = m->buf + m->mi_off + 4;
	f->fingerprint = m->fp_off ? get32(m->buf + m->fp_off + 4) : 0;
	f->first_len = m->mi_off < 64 ? m->mi_off : 64;
	if (kind == FLOOR_SHA_CTX || kind == FLOOR_SHA_CTX_SPAN) {
		sha_ctx_key(f, key, key_len);
		sha_ctx_span(f, f->span_mac);
	} else if (!evp_key(f, key, key_len)) {
		snprintf(why, why_len, "EVP_MAC HMAC-SHA1 set-up failed");
		floor_free(f);
		return NULL;
	}
	if (floor_run(f, 1) != 0) {
		snprintf(why, why_len, "floor MAC/CRC does not match the message's");
		floor_free(f);
		return NULL;
	}
	return f;
}

void floor_free(void *ctx)
{
	floor_ctx *f = ctx;
	if (f == NULL)
		return;
	EVP_MAC_CTX_free(f->evp_ctx);
	EVP_MAC_free(f->evp_mac);
	free(f);
}

void floor_long_term_key(const char *username, const char *realm, const char *password,
			 uint8_t out[16])
{
	char text[256];
	int n = snprintf(text, sizeof(text), "%s:%s:%s", username, realm, password);
	unsigned int out_len = 0;
	if (n < 0 || (size_t)n >= sizeof(text) ||
	    !EVP_Digest(text, (size_t)n, out, &out_len, EVP_md5(), NULL))
		memset(out, 0, 16);
}

const char *floor_openssl_version(void)
{
	return OpenSSL_version(OPENSSL_VERSION);
}

const char *floor_zlib_version(void)
{
	return zlibVersion();
}
