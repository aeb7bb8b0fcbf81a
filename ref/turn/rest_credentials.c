/* TURN REST API credentials (draft-uberti-behave-turn-rest-00 §2.2, §4.2,
 * §5.2): minting "EXPIRY:USER" usernames with their HMAC-SHA1 passwords,
 * and deriving, on the server, the passwords and long-term keys a
 * presented username may carry. See rest_credentials.h. */
#include "icelab/rest_credentials.h"

#include <inttypes.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#define HMAC_SHA1_LEN 20
#define PASSWORD_LEN (IL_REST_PASSWORD_SIZE - 1)

const char *il_rest_result_name(enum il_rest_result r)
{
	switch (r) {
	case IL_REST_OK:
		return "ok";
	case IL_REST_NOT_REST:
		return "not a REST username";
	case IL_REST_BAD_FORMAT:
		return "malformed REST username";
	case IL_REST_EXPIRED:
		return "expired";
	case IL_REST_TOO_LONG:
		return "expiry too far ahead";
	case IL_REST_MISMATCH:
		return "password mismatch";
	case IL_REST_NO_SECRET:
		return "no secret";
	case IL_REST_NO_SPACE:
		return "no space";
	case IL_REST_CRYPTO:
		return "crypto failure";
	}
	return "unknown";
}

static bool secret_usable(const uint8_t *secret, size_t len)
{
	return secret && len > 0 && len <= INT_MAX;
}

enum il_rest_result il_rest_password(const uint8_t *secret, size_t secret_len,
				     const char *username, char password[IL_REST_PASSWORD_SIZE])
{
	/* "performing base64(hmac(secret key, returned username))" with
	 * HMAC-SHA1 (§2.2). */
	password[0] = '\0';
	if (!secret_usable(secret, secret_len))
		return IL_REST_NO_SECRET;
	if (!username)
		return IL_REST_BAD_FORMAT;
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned mac_len = 0;
	if (!HMAC(EVP_sha1(), secret, (int)secret_len, (const uint8_t *)username,
		  strlen(username), mac, &mac_len) ||
	    mac_len != HMAC_SHA1_LEN) {
		OPENSSL_cleanse(mac, sizeof mac);
		return IL_REST_CRYPTO;
	}
	/* EVP_EncodeBlock writes 28 characters and a NUL for 20 bytes. */
	EVP_EncodeBlock((unsigned char *)password, mac, HMAC_SHA1_LEN);
	OPENSSL_cleanse(mac, sizeof mac);
	return IL_REST_OK;
}

enum il_rest_result il_rest_credential_make(const uint8_t *secret, size_t secret_len,
					    const char *user, uint64_t now_s, uint64_t ttl_s,
					    char *username, size_t username_cap,
					    char password[IL_REST_PASSWORD_SIZE])
{
	password[0] = '\0';
	if (username_cap > 0)
		username[0] = '\0';
	if (!secret_usable(secret, secret_len))
		return IL_REST_NO_SECRET;
	/* An empty user id would pool every user under one quota; a zero TTL
	 * would mint a credential already expired. */
	if (!user || !*user || ttl_s == 0 || ttl_s > UINT64_MAX - now_s)
		return IL_REST_BAD_FORMAT;
	/* "a colon-delimited combination of the expiration timestamp and the
	 * username parameter" (§2.2); UNIX timestamps as recommended there. */
	int n = snprintf(username, username_cap, "%" PRIu64 ":%s", now_s + ttl_s, user);
	if (n < 0 || (size_t)n >= IL_REST_USERNAME_MAX) {
		if (username_cap > 0)
			username[0] = '\0';
		return IL_REST_BAD_FORMAT; /* too long for USERNAME */
	}
	if ((size_t)n >= username_cap) {
		if (username_cap > 0)
			username[0] = '\0';
		return IL_REST_NO_SPACE;
	}
	enum il_rest_result rc = il_rest_password(secret, secret_len, username, password);
	if (rc != IL_REST_OK)
		username[0] = '\0';
	return rc;
}

enum il_rest_result il_rest_username_parse(const char *username, uint64_t *expiry_s,
					   const char **user)
{
	/* "the TURN server MUST split the USERNAME attribute into its
	 * timestamp and user id components" (§4.2). */
	if (!username)
		return IL_REST_NOT_REST;
	const char *colon = strchr(username, ':');
	if (!colon || colon == username)
		return IL_REST_NOT_REST;
	for (const char *p = username; p < colon; p++)
		if (*p < '0' || *p > '9')
			return IL_REST_NOT_REST;
	uint64_t v = 0;
	for (const char *p = username; p < colon; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return IL_REST_BAD_FORMAT;
		v = v * 10 + d;
	}
	if (colon[1] == '\0' || strlen(username) >= IL_REST_USERNAME_MAX)
		return IL_REST_BAD_FORMAT;
	*expiry_s = v;
	*user = colon + 1;
	return IL_REST_OK;
}

/* The username is REST, well formed and in force at now_s. */
static enum il_rest_result check_username(const il_rest_verifier *v, const char *username,
					  uint64_t now_s)
{
	uint64_t expiry;
	const char *user;
	enum il_rest_result rc = il_rest_username_parse(username, &expiry, &user);
	if (rc != IL_REST_OK)
		return rc;
	/* "verify that the timestamp, which indicates when the credentials
	 * expire, has not yet been reached" (§4.2): at EXPIRY it is reached. */
	if (expiry <= now_s)
		return IL_REST_EXPIRED;
	if (v->max_ttl_s && expiry - now_s > v->max_ttl_s)
		return IL_REST_TOO_LONG;
	return IL_REST_OK;
}

enum il_rest_result il_rest_passwords(const il_rest_verifier *v, const char *username,
				      uint64_t now_s, char passwords[2][IL_REST_PASSWORD_SIZE],
				      size_t *count)
{
	*count = 0;
	passwords[0][0] = passwords[1][0] = '\0';
	if (!secret_usable(v->secret, v->secret_len))
		return IL_REST_NO_SECRET;
	enum il_rest_result rc = check_username(v, username, now_s);
	if (rc != IL_REST_OK)
		return rc;
	/* "the TURN server SHOULD be able to validate incoming
	 * MESSAGE-INTEGRITY tokens based on at least 2 shared secrets at any
	 * time" (§5.2). */
	rc = il_rest_password(v->secret, v->secret_len, username, passwords[0]);
	if (rc != IL_REST_OK)
		return rc;
	*count = 1;
	if (secret_usable(v->previous, v->previous_len) && now_s < v->previous_until_s) {
		rc = il_rest_password(v->previous, v->previous_len, username, passwords[1]);
		if (rc != IL_REST_OK) {
			OPENSSL_cleanse(passwords, 2 * IL_REST_PASSWORD_SIZE);
			*count = 0;
			return rc;
		}
		*count = 2;
	}
	return IL_REST_OK;
}

enum il_rest_result il_rest_long_term_keys(const il_rest_verifier *v, const char *username,
					   const char *realm,
					   enum il_stun_password_algorithm alg, uint64_t now_s,
					   il_stun_key keys[2], size_t *count)
{
	/* The client uses "the "password" value for the password input to the
	 * MESSAGE-INTEGRITY hash" of the long-term mechanism (§4.1). */
	char passwords[2][IL_REST_PASSWORD_SIZE];
	size_t n = 0;
	*count = 0;
	enum il_rest_result rc = il_rest_passwords(v, username, now_s, passwords, &n);
	for (size_t i = 0; rc == IL_REST_OK && i < n; i++)
		if (il_stun_key_long_term(&keys[i], alg, username, realm, passwords[i]) !=
		    IL_STUN_OK)
			rc = IL_REST_CRYPTO;
	OPENSSL_cleanse(passwords, sizeof passwords);
	if (rc != IL_REST_OK) {
		OPENSSL_cleanse(keys, 2 * sizeof keys[0]);
		return rc;
	}
	*count = n;
	return IL_REST_OK;
}

enum il_rest_result il_rest_verify_password(const il_rest_verifier *v, const char *username,
					    const char *password, uint64_t now_s)
{
	char passwords[2][IL_REST_PASSWORD_SIZE];
	size_t n = 0;
	enum il_rest_result rc = il_rest_passwords(v, username, now_s, passwords, &n);
	if (rc != IL_REST_OK)
		return rc;
	/* Every candidate is compared, in constant time; only the length,
	 * which is public, decides early. */
	bool match = false;
	if (password && strlen(password) == PASSWORD_LEN)
		for (size_t i = 0; i < n; i++)
			match |= CRYPTO_memcmp(password, passwords[i], PASSWORD_LEN) == 0;
	OPENSSL_cleanse(passwords, sizeof passwords);
	return match ? IL_REST_OK : IL_REST_MISMATCH;
}
