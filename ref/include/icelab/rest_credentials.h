/* The TURN REST API (draft-uberti-behave-turn-rest-00): ephemeral
 * long-term credentials that a web service mints with a secret it shares
 * with the TURN server, so the TURN server keeps no user table.
 *
 *   username = EXPIRY ":" USER   EXPIRY in UNIX seconds (§2.2)
 *   password = base64(HMAC-SHA1(secret, username))   (§2.2)
 *
 * The client uses them as long-term credentials (§4.1); the server derives
 * the password from the USERNAME it receives and the secret, checks that
 * EXPIRY "has not yet been reached" (§4.2) and keys MESSAGE-INTEGRITY with
 * the long-term key of that password. Two secrets are accepted during a
 * rotation (§5.2). Pure functions: no I/O, no clock (`now_s` is given).
 *
 * The secret is the exact bytes the web service keys its HMAC with (for a
 * secret kept as text, the text). */
#ifndef ICELAB_REST_CREDENTIALS_H
#define ICELAB_REST_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "icelab/stun_integrity.h"

/* USERNAME is "fewer than 509 bytes" (RFC 8489 §14.3): room with the NUL. */
#define IL_REST_USERNAME_MAX 509
/* base64 of a 20-byte HMAC-SHA1: 28 characters, plus the NUL. */
#define IL_REST_PASSWORD_SIZE 29
/* The draft recommends one day (§2.2). */
#define IL_REST_DEFAULT_TTL_S 86400u

enum il_rest_result {
	IL_REST_OK = 0,
	IL_REST_NOT_REST,   /* no "DIGITS:" prefix: not a REST username */
	IL_REST_BAD_FORMAT, /* REST-like but malformed: empty user, overflow... */
	IL_REST_EXPIRED,    /* EXPIRY <= now: 401 (§4.2) */
	IL_REST_TOO_LONG,   /* EXPIRY beyond now + max_ttl_s */
	IL_REST_MISMATCH,   /* the password is not the one the secrets give */
	IL_REST_NO_SECRET,  /* no secret, or an empty one */
	IL_REST_NO_SPACE,   /* an output buffer is too small */
	IL_REST_CRYPTO,     /* OpenSSL failed, or key derivation did */
};

const char *il_rest_result_name(enum il_rest_result r);

/* What the server accepts. The previous secret, kept after a rotation, is
 * accepted while now_s < previous_until_s; the grace period should be at
 * least the TTL the web service hands out. */
typedef struct il_rest_verifier {
	const uint8_t *secret; /* current */
	size_t secret_len;
	const uint8_t *previous; /* NULL: none */
	size_t previous_len;
	uint64_t previous_until_s;
	/* An EXPIRY further than this beyond now is refused (a web service
	 * writing milliseconds would otherwise mint credentials valid for
	 * millennia); 0: no limit. */
	uint64_t max_ttl_s;
} il_rest_verifier;

/* password = base64(HMAC-SHA1(secret, username)), for any username. */
enum il_rest_result il_rest_password(const uint8_t *secret, size_t secret_len,
				     const char *username,
				     char password[IL_REST_PASSWORD_SIZE]);

/* Mints a credential valid until now_s + ttl_s: username "EXPIRY:user"
 * into username[0..username_cap) and its password. user must be non-empty;
 * ttl_s must be positive. */
enum il_rest_result il_rest_credential_make(const uint8_t *secret, size_t secret_len,
					    const char *user, uint64_t now_s, uint64_t ttl_s,
					    char *username, size_t username_cap,
					    char password[IL_REST_PASSWORD_SIZE]);

/* Splits "EXPIRY:USER" (at the first colon; USER may hold more colons).
 * NOT_REST when the username does not start with decimal digits and a
 * colon (a static user, then); BAD_FORMAT when it does but EXPIRY
 * overflows 64 bits or USER is empty. *user points into username. */
enum il_rest_result il_rest_username_parse(const char *username, uint64_t *expiry_s,
					   const char **user);

/* The passwords a presented username may carry at now_s: one per secret
 * in force, the current secret's first (*count 1 or 2). Refuses a username
 * that is not REST, malformed, expired (EXPIRY <= now_s) or too far ahead. */
enum il_rest_result il_rest_passwords(const il_rest_verifier *v, const char *username,
				      uint64_t now_s, char passwords[2][IL_REST_PASSWORD_SIZE],
				      size_t *count);

/* The same, as long-term keys (RFC 8489 §9.2.2: the REST password is the
 * long-term password): keys[i] is the key of passwords[i]. MESSAGE-INTEGRITY
 * is valid when it checks with any of them. */
enum il_rest_result il_rest_long_term_keys(const il_rest_verifier *v, const char *username,
					   const char *realm,
					   enum il_stun_password_algorithm alg, uint64_t now_s,
					   il_stun_key keys[2], size_t *count);

/* Checks a presented password in constant time against every secret in
 * force: OK, MISMATCH, or why the username is refused. */
enum il_rest_result il_rest_verify_password(const il_rest_verifier *v, const char *username,
					    const char *password, uint64_t now_s);

#endif
