/* STUN integrity and credentials (RFC 8489 §9, §14.5-14.7, §14.11-14.13,
 * §18.1): MESSAGE-INTEGRITY (HMAC-SHA1), MESSAGE-INTEGRITY-SHA256,
 * FINGERPRINT, short-term and long-term keys, USERHASH, PASSWORD-ALGORITHM(S)
 * and the nonce cookie.
 *
 * A key (il_stun_key) holds the HMAC state already keyed, so verifying a
 * message costs two hash finalisations and no key schedule: a server sees
 * the same few credentials over and over and keeps one il_stun_key each. */
#ifndef ICELAB_STUN_INTEGRITY_H
#define ICELAB_STUN_INTEGRITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "icelab/stun.h"

enum il_stun_password_algorithm {
	IL_STUN_PWALG_MD5 = 0x0001,
	IL_STUN_PWALG_SHA256 = 0x0002,
};

/* Security feature bits carried in the nonce cookie (§9.2, §18.1):
 * bit 0 is the most significant bit of the 24. */
#define IL_STUN_FEATURE_PASSWORD_ALGORITHMS (1u << 23)
#define IL_STUN_FEATURE_USERNAME_ANONYMITY (1u << 22)
#define IL_STUN_NONCE_COOKIE "obMatJos2"
#define IL_STUN_NONCE_COOKIE_LEN 13 /* "obMatJos2" + 4 base64 characters */

/* Opaque keyed state; its size is public so callers can embed it. */
typedef struct il_stun_key {
	uint8_t raw[32];
	uint8_t raw_len;
	_Alignas(16) uint8_t state[448]; /* pre-keyed HMAC-SHA1 and HMAC-SHA256 */
} il_stun_key;

/* A key from raw bytes (16 for MD5 long-term, 32 for SHA-256, any for
 * short-term). */
enum il_stun_err il_stun_key_from_bytes(il_stun_key *key, const uint8_t *bytes, size_t len);
/* Short-term: key = OpaqueString(password) (§9.1.1). */
enum il_stun_err il_stun_key_short_term(il_stun_key *key, const char *password);
/* Long-term: key = H(username ":" OpaqueString(realm) ":"
 * OpaqueString(password)), H = MD5 or SHA-256 (§9.2.2). */
enum il_stun_err il_stun_key_long_term(il_stun_key *key, enum il_stun_password_algorithm alg,
				       const char *username, const char *realm,
				       const char *password);
/* USERHASH = SHA-256(OpaqueString(username) ":" OpaqueString(realm)) (§14.4). */
enum il_stun_err il_stun_userhash(const char *username, const char *realm, uint8_t out[32]);
/* SASLprep (RFC 4013) through libidn; out is NUL-terminated. The
 * precursor of OpaqueString that RFC 8489's own vectors follow. */
enum il_stun_err il_stun_saslprep(const char *in, char *out, size_t out_len);

enum il_stun_verdict {
	IL_STUN_VERDICT_ABSENT = 0,
	IL_STUN_VERDICT_OK,
	IL_STUN_VERDICT_MISMATCH,
	IL_STUN_VERDICT_UNCHECKED, /* present, but no key given */
};
const char *il_stun_verdict_name(enum il_stun_verdict v); /* "ok", "mismatch"... */

enum il_stun_verdict il_stun_check_fingerprint(const il_stun_msg *msg);
/* key may be NULL: then a present attribute is UNCHECKED. */
enum il_stun_verdict il_stun_check_integrity(const il_stun_msg *msg, const il_stun_key *key);
enum il_stun_verdict il_stun_check_integrity_sha256(const il_stun_msg *msg,
						    const il_stun_key *key);

/* Appends MESSAGE-INTEGRITY (20 bytes). */
void il_stun_add_message_integrity(il_stun_builder *b, const il_stun_key *key);
/* Appends MESSAGE-INTEGRITY-SHA256 truncated to len bytes: 16..32, a
 * multiple of 4 (§14.6). */
void il_stun_add_message_integrity_sha256(il_stun_builder *b, const il_stun_key *key,
					  size_t len);
/* Appends FINGERPRINT; must be the last attribute. */
void il_stun_add_fingerprint(il_stun_builder *b);
/* CRC-32 of data XOR 0x5354554E (§14.7). */
uint32_t il_stun_fingerprint_value(const uint8_t *data, size_t len);

/* Nonce cookie: writes "obMatJos2" + base64 of the 24 feature bits
 * (13 characters, no NUL). */
void il_stun_nonce_cookie_write(uint32_t features, char out[IL_STUN_NONCE_COOKIE_LEN]);
/* True when nonce starts with a nonce cookie; *features gets its bits. */
bool il_stun_nonce_cookie_parse(const char *nonce, size_t len, uint32_t *features);

/* PASSWORD-ALGORITHMS list: fills up to max (algorithm, params length)
 * pairs; *count receives how many. */
enum il_stun_err il_stun_attr_get_password_algorithms(const il_stun_msg *msg,
						      const il_stun_attr *a, uint16_t *algs,
						      size_t max, size_t *count);
enum il_stun_err il_stun_attr_get_password_algorithm(const il_stun_msg *msg,
						     const il_stun_attr *a, uint16_t *alg);
void il_stun_add_password_algorithm(il_stun_builder *b, uint16_t alg);
void il_stun_add_password_algorithms(il_stun_builder *b, const uint16_t *algs, size_t count);

/* Constant-time comparison of MACs. */
bool il_stun_mac_equal(const uint8_t *a, const uint8_t *b, size_t len);

#endif
