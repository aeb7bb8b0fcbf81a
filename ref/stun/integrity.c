/* MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and FINGERPRINT (RFC 8489
 * §14.5-14.7), and their keys (§9.1.1, §9.2.2).
 *
 * HMAC is computed from OpenSSL's SHA-1 and SHA-256 compression states,
 * keyed once per credential (RFC 2104 §4 notes that the inner and outer
 * states can be precomputed): a verification then hashes the message and
 * nothing else, with no allocation. OpenSSL's one-shot HMAC() checks this
 * in the unit tests. */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA1_Init & co: plain structs, no heap */
#include "icelab/stun_integrity.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <string.h>
#include <zlib.h>

typedef struct keyed_state {
	SHA_CTX sha1_inner, sha1_outer;
	SHA256_CTX sha256_inner, sha256_outer;
} keyed_state;

_Static_assert(sizeof(keyed_state) <= sizeof(((il_stun_key *)0)->state),
	       "il_stun_key.state too small for the keyed hash states");

static keyed_state *state_of(const il_stun_key *key)
{
	return (keyed_state *)(void *)key->state;
}

static void pad_key(const uint8_t *key, size_t len, uint8_t block[64], uint8_t xor_byte,
		    bool sha256)
{
	uint8_t hashed[32];
	/* RFC 2104 §2: keys longer than the block are hashed first. */
	if (len > 64) {
		if (sha256)
			SHA256(key, len, hashed);
		else
			SHA1(key, len, hashed);
		key = hashed;
		len = sha256 ? 32 : 20;
	}
	memset(block, 0, 64);
	memcpy(block, key, len);
	for (int i = 0; i < 64; i++)
		block[i] ^= xor_byte;
}

enum il_stun_err il_stun_key_from_bytes(il_stun_key *key, const uint8_t *bytes, size_t len)
{
	uint8_t block[64];
	keyed_state *st = state_of(key);
	memset(key, 0, sizeof *key);
	key->raw_len = (uint8_t)(len < sizeof key->raw ? len : sizeof key->raw);
	memcpy(key->raw, bytes, key->raw_len);

	pad_key(bytes, len, block, 0x36, false);
	SHA1_Init(&st->sha1_inner);
	SHA1_Update(&st->sha1_inner, block, 64);
	pad_key(bytes, len, block, 0x5c, false);
	SHA1_Init(&st->sha1_outer);
	SHA1_Update(&st->sha1_outer, block, 64);

	pad_key(bytes, len, block, 0x36, true);
	SHA256_Init(&st->sha256_inner);
	SHA256_Update(&st->sha256_inner, block, 64);
	pad_key(bytes, len, block, 0x5c, true);
	SHA256_Init(&st->sha256_outer);
	SHA256_Update(&st->sha256_outer, block, 64);
	OPENSSL_cleanse(block, sizeof block);
	return IL_STUN_OK;
}

/* HMAC over the header with its length field replaced by hdr_len, then
 * body bytes buf[20..end). */
static void hmac_sha1(const il_stun_key *key, const uint8_t *buf, size_t end, uint16_t hdr_len,
		      uint8_t out[20])
{
	const keyed_state *st = state_of(key);
	uint8_t hdr[IL_STUN_HEADER_LEN];
	memcpy(hdr, buf, sizeof hdr);
	hdr[2] = (uint8_t)(hdr_len >> 8);
	hdr[3] = (uint8_t)hdr_len;
	SHA_CTX c = st->sha1_inner;
	SHA1_Update(&c, hdr, sizeof hdr);
	SHA1_Update(&c, buf + IL_STUN_HEADER_LEN, end - IL_STUN_HEADER_LEN);
	SHA1_Final(out, &c);
	c = st->sha1_outer;
	SHA1_Update(&c, out, 20);
	SHA1_Final(out, &c);
}

static void hmac_sha256(const il_stun_key *key, const uint8_t *buf, size_t end,
			uint16_t hdr_len, uint8_t out[32])
{
	const keyed_state *st = state_of(key);
	uint8_t hdr[IL_STUN_HEADER_LEN];
	memcpy(hdr, buf, sizeof hdr);
	hdr[2] = (uint8_t)(hdr_len >> 8);
	hdr[3] = (uint8_t)hdr_len;
	SHA256_CTX c = st->sha256_inner;
	SHA256_Update(&c, hdr, sizeof hdr);
	SHA256_Update(&c, buf + IL_STUN_HEADER_LEN, end - IL_STUN_HEADER_LEN);
	SHA256_Final(out, &c);
	c = st->sha256_outer;
	SHA256_Update(&c, out, 32);
	SHA256_Final(out, &c);
}

bool il_stun_mac_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

const char *il_stun_verdict_name(enum il_stun_verdict v)
{
	switch (v) {
	case IL_STUN_VERDICT_OK:
		return "ok";
	case IL_STUN_VERDICT_MISMATCH:
		return "mismatch";
	case IL_STUN_VERDICT_UNCHECKED:
		return "unchecked";
	default:
		return "absent";
	}
}

uint32_t il_stun_fingerprint_value(const uint8_t *data, size_t len)
{
	return (uint32_t)crc32_z(0, data, len) ^ 0x5354554Eu;
}

enum il_stun_verdict il_stun_check_fingerprint(const il_stun_msg *msg)
{
	if (msg->fingerprint_index < 0)
		return IL_STUN_VERDICT_ABSENT;
	const il_stun_attr *a = &msg->attrs[msg->fingerprint_index];
	/* "the CRC-32 of the STUN message up to (but excluding) the
	 * FINGERPRINT attribute itself, XOR'ed with the 32-bit value
	 * 0x5354554e" (§14.7); FINGERPRINT is last, so the header length
	 * already covers it as the computation requires. */
	const uint8_t *v = msg->buf + a->offset;
	uint32_t got = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
	return il_stun_fingerprint_value(msg->buf, a->offset - 4u) == got
		       ? IL_STUN_VERDICT_OK
		       : IL_STUN_VERDICT_MISMATCH;
}

enum il_stun_verdict il_stun_check_integrity(const il_stun_msg *msg, const il_stun_key *key)
{
	if (msg->mi_index < 0)
		return IL_STUN_VERDICT_ABSENT;
	if (!key)
		return IL_STUN_VERDICT_UNCHECKED;
	const il_stun_attr *a = &msg->attrs[msg->mi_index];
	/* "The text used as input to HMAC is the STUN message, up to and
	 * including the attribute preceding the MESSAGE-INTEGRITY attribute.
	 * The Length field of the STUN message header is adjusted to point to
	 * the end of the MESSAGE-INTEGRITY attribute." (§14.5) */
	uint8_t mac[20];
	size_t start = a->offset - 4u;
	hmac_sha1(key, msg->buf, start, (uint16_t)(a->offset + 20 - IL_STUN_HEADER_LEN), mac);
	return il_stun_mac_equal(mac, msg->buf + a->offset, 20) ? IL_STUN_VERDICT_OK
								 : IL_STUN_VERDICT_MISMATCH;
}

enum il_stun_verdict il_stun_check_integrity_sha256(const il_stun_msg *msg,
						    const il_stun_key *key)
{
	if (msg->mi256_index < 0)
		return IL_STUN_VERDICT_ABSENT;
	if (!key)
		return IL_STUN_VERDICT_UNCHECKED;
	const il_stun_attr *a = &msg->attrs[msg->mi256_index];
	/* Same input rule as MESSAGE-INTEGRITY; the value is "an initial
	 * portion of the HMAC-SHA-256" of the attribute's length (§14.6). */
	uint8_t mac[32];
	size_t start = a->offset - 4u;
	hmac_sha256(key, msg->buf, start,
		    (uint16_t)(a->offset + a->length - IL_STUN_HEADER_LEN), mac);
	return il_stun_mac_equal(mac, msg->buf + a->offset, a->length) ? IL_STUN_VERDICT_OK
									: IL_STUN_VERDICT_MISMATCH;
}

/* Appends an attribute whose value is computed over everything before it
 * with the header length already covering it; returns the value or NULL. */
static uint8_t *append_computed(il_stun_builder *b, uint16_t type, size_t len, size_t *start)
{
	*start = b->len;
	uint8_t zeros[32] = {0};
	il_stun_add_raw(b, type, zeros, len);
	return b->err == IL_STUN_OK ? b->buf + *start + 4 : NULL;
}

void il_stun_add_message_integrity(il_stun_builder *b, const il_stun_key *key)
{
	size_t start;
	uint8_t *v = append_computed(b, IL_ATTR_MESSAGE_INTEGRITY, 20, &start);
	if (v)
		hmac_sha1(key, b->buf, start, (uint16_t)(b->len - IL_STUN_HEADER_LEN), v);
}

void il_stun_add_message_integrity_sha256(il_stun_builder *b, const il_stun_key *key,
					  size_t len)
{
	if (b->err == IL_STUN_OK && (len < 16 || len > 32 || len % 4)) {
		b->err = IL_STUN_ERR_INVALID_ARGUMENT;
		return;
	}
	size_t start;
	uint8_t *v = append_computed(b, IL_ATTR_MESSAGE_INTEGRITY_SHA256, len, &start);
	if (!v)
		return;
	uint8_t mac[32];
	hmac_sha256(key, b->buf, start, (uint16_t)(b->len - IL_STUN_HEADER_LEN), mac);
	memcpy(v, mac, len);
}

void il_stun_add_fingerprint(il_stun_builder *b)
{
	size_t start;
	uint8_t *v = append_computed(b, IL_ATTR_FINGERPRINT, 4, &start);
	if (!v)
		return;
	uint32_t fp = il_stun_fingerprint_value(b->buf, start);
	v[0] = (uint8_t)(fp >> 24);
	v[1] = (uint8_t)(fp >> 16);
	v[2] = (uint8_t)(fp >> 8);
	v[3] = (uint8_t)fp;
}
