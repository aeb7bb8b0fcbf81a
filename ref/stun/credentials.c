/* STUN credentials (RFC 8489 §9): string preparation, short-term and
 * long-term keys, USERHASH, PASSWORD-ALGORITHM(S) and the nonce cookie
 * with its security feature bits. */
#include "icelab/stun_integrity.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stringprep.h>

enum il_stun_err il_stun_saslprep(const char *in, char *out, size_t out_len)
{
	/* RFC 8489 names OpaqueString (RFC 8265); its own vectors (RFC 5769
	 * §2.4, RFC 8489 B.1) are only reproducible with SASLprep (RFC 4013),
	 * which maps U+00AD to nothing and applies NFKC. libidn implements it;
	 * we never hand-write Unicode tables. */
	char *prepared = NULL;
	if (stringprep_profile(in, &prepared, "SASLprep", 0) != STRINGPREP_OK)
		return IL_STUN_ERR_SASLPREP;
	size_t n = strlen(prepared);
	enum il_stun_err rc = IL_STUN_OK;
	if (n >= out_len)
		rc = IL_STUN_ERR_NO_SPACE;
	else
		memcpy(out, prepared, n + 1);
	OPENSSL_cleanse(prepared, n);
	free(prepared);
	return rc;
}

enum il_stun_err il_stun_key_short_term(il_stun_key *key, const char *password)
{
	/* "key = OpaqueString(password)" (§9.1.1) */
	char prepared[1024];
	enum il_stun_err rc = il_stun_saslprep(password, prepared, sizeof prepared);
	if (rc == IL_STUN_OK)
		rc = il_stun_key_from_bytes(key, (const uint8_t *)prepared, strlen(prepared));
	OPENSSL_cleanse(prepared, sizeof prepared);
	return rc;
}

static enum il_stun_err digest_joined(const EVP_MD *md, const char *a, const char *b,
				      const char *c, uint8_t *out, unsigned *out_len)
{
	char joined[3 * 1024 + 3];
	char pa[1024], pb[1024], pc[1024];
	enum il_stun_err rc = il_stun_saslprep(a, pa, sizeof pa);
	if (rc == IL_STUN_OK)
		rc = il_stun_saslprep(b, pb, sizeof pb);
	if (rc == IL_STUN_OK && c)
		rc = il_stun_saslprep(c, pc, sizeof pc);
	if (rc != IL_STUN_OK)
		return rc;
	int n = c ? snprintf(joined, sizeof joined, "%s:%s:%s", pa, pb, pc)
		  : snprintf(joined, sizeof joined, "%s:%s", pa, pb);
	if (n < 0 || (size_t)n >= sizeof joined)
		return IL_STUN_ERR_NO_SPACE;
	if (!EVP_Digest(joined, (size_t)n, out, out_len, md, NULL))
		rc = IL_STUN_ERR_UNSUPPORTED_ALGORITHM;
	OPENSSL_cleanse(joined, sizeof joined);
	OPENSSL_cleanse(pc, sizeof pc);
	return rc;
}

enum il_stun_err il_stun_key_long_term(il_stun_key *key, enum il_stun_password_algorithm alg,
				       const char *username, const char *realm,
				       const char *password)
{
	/* key = MD5(username ":" OpaqueString(realm) ":" OpaqueString(password))
	 * or SHA-256 of the same with PASSWORD-ALGORITHM SHA-256 (§9.2.2). */
	const EVP_MD *md = alg == IL_STUN_PWALG_MD5      ? EVP_md5()
			   : alg == IL_STUN_PWALG_SHA256 ? EVP_sha256()
							 : NULL;
	if (!md)
		return IL_STUN_ERR_UNSUPPORTED_ALGORITHM;
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	enum il_stun_err rc = digest_joined(md, username, realm, password, digest, &len);
	if (rc == IL_STUN_OK)
		rc = il_stun_key_from_bytes(key, digest, len);
	OPENSSL_cleanse(digest, sizeof digest);
	return rc;
}

enum il_stun_err il_stun_userhash(const char *username, const char *realm, uint8_t out[32])
{
	/* "userhash = SHA-256(OpaqueString(username) ":" OpaqueString(realm))"
	 * (§14.4) */
	unsigned len = 0;
	return digest_joined(EVP_sha256(), username, realm, NULL, out, &len);
}

void il_stun_nonce_cookie_write(uint32_t features, char out[IL_STUN_NONCE_COOKIE_LEN])
{
	/* "nonce-cookie = "obMatJos2" + base64 of the 24-bit Security Feature
	 * set, bit 0 the most significant bit of the first byte" (§9.2). */
	const uint8_t bytes[3] = {(uint8_t)(features >> 16), (uint8_t)(features >> 8),
				  (uint8_t)features};
	unsigned char b64[5];
	EVP_EncodeBlock(b64, bytes, 3);
	memcpy(out, IL_STUN_NONCE_COOKIE, 9);
	memcpy(out + 9, b64, 4);
}

bool il_stun_nonce_cookie_parse(const char *nonce, size_t len, uint32_t *features)
{
	if (len < IL_STUN_NONCE_COOKIE_LEN || memcmp(nonce, IL_STUN_NONCE_COOKIE, 9) != 0)
		return false;
	/* Three bytes make exactly four base64 characters: no '=' padding. */
	if (memchr(nonce + 9, '=', 4))
		return false;
	unsigned char bytes[4];
	if (EVP_DecodeBlock(bytes, (const unsigned char *)nonce + 9, 4) != 3)
		return false;
	*features = (uint32_t)bytes[0] << 16 | (uint32_t)bytes[1] << 8 | bytes[2];
	return true;
}

enum il_stun_err il_stun_attr_get_password_algorithms(const il_stun_msg *msg,
						      const il_stun_attr *a, uint16_t *algs,
						      size_t max, size_t *count)
{
	const uint8_t *v = il_stun_attr_value(msg, a);
	size_t pos = 0, n = 0;
	while (pos < a->length) {
		if (a->length - pos < 4)
			return IL_STUN_ERR_ATTR_BAD_LENGTH;
		size_t params = (size_t)(v[pos + 2] << 8 | v[pos + 3]);
		size_t step = 4 + ((params + 3) & ~(size_t)3);
		if (step > a->length - pos)
			return IL_STUN_ERR_ATTR_BAD_LENGTH;
		if (n < max)
			algs[n] = (uint16_t)(v[pos] << 8 | v[pos + 1]);
		n++;
		pos += step;
	}
	*count = n;
	return IL_STUN_OK;
}

enum il_stun_err il_stun_attr_get_password_algorithm(const il_stun_msg *msg,
						     const il_stun_attr *a, uint16_t *alg)
{
	if (a->length < 4)
		return IL_STUN_ERR_ATTR_BAD_LENGTH;
	const uint8_t *v = il_stun_attr_value(msg, a);
	*alg = (uint16_t)(v[0] << 8 | v[1]);
	return IL_STUN_OK;
}

void il_stun_add_password_algorithm(il_stun_builder *b, uint16_t alg)
{
	/* MD5 and SHA-256 have no parameters (§14.12, §18.5). */
	const uint8_t v[4] = {(uint8_t)(alg >> 8), (uint8_t)alg, 0, 0};
	il_stun_add_raw(b, IL_ATTR_PASSWORD_ALGORITHM, v, sizeof v);
}

void il_stun_add_password_algorithms(il_stun_builder *b, const uint16_t *algs, size_t count)
{
	uint8_t v[4 * 16];
	if (count > 16) {
		if (b->err == IL_STUN_OK)
			b->err = IL_STUN_ERR_INVALID_ARGUMENT;
		return;
	}
	for (size_t i = 0; i < count; i++) {
		v[4 * i] = (uint8_t)(algs[i] >> 8);
		v[4 * i + 1] = (uint8_t)algs[i];
		v[4 * i + 2] = v[4 * i + 3] = 0;
	}
	il_stun_add_raw(b, IL_ATTR_PASSWORD_ALGORITHMS, v, 4 * count);
}
