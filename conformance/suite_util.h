/* Helpers the suites share: building requests, reading responses, and a
 * TURN client session with the long-term credential mechanism (RFC 8489
 * §9.2) written from the RFC, independent of ref/turn/client.c, so the
 * reference client and server cannot agree on a mistake. */
#ifndef ICELAB_CONFORMANCE_SUITE_UTIL_H
#define ICELAB_CONFORMANCE_SUITE_UTIL_H

#include "conformance.h"

#include "icelab/channeldata.h"
#include "icelab/stun.h"
#include "icelab/stun_integrity.h"

#define CF_BUF 2048

typedef void (*cf_attrs_fn)(il_stun_builder *b, const void *arg);

/* ERROR-CODE's number, 0 when the message is not an error response. */
int cf_error_code(const il_stun_msg *m);
bool cf_has(const il_stun_msg *m, uint16_t type);
/* Builds method/class with attributes from add (may be NULL), then
 * FINGERPRINT when fingerprint is set. Returns the length. */
size_t cf_build(cf_ctx *ctx, uint8_t *buf, size_t cap, uint16_t method, uint8_t cls,
		cf_attrs_fn add, const void *arg, bool fingerprint);
/* True when every attribute's padding bytes in m are zero. */
bool cf_padding_is_zero(const il_stun_msg *m);
/* Checks req: m's address attribute type holds want ("NAME a.b.c.d:p,
 * <source> x" in the message, NAME the attribute's name). */
bool cf_check_address(cf_ctx *ctx, const char *req, const il_stun_msg *m, uint16_t type,
		      const char *name, const il_addr *want, const char *source);
/* "response: 420 Unknown Attribute" / "success" / "no response". */
const char *cf_describe(size_t len, const il_stun_msg *m, char *out, size_t cap);

/* Common attribute adders (arg as documented). */
void cf_add_udp_transport(il_stun_builder *b, const void *arg);   /* arg NULL */
void cf_add_peer(il_stun_builder *b, const void *arg);            /* il_addr */
void cf_add_lifetime(il_stun_builder *b, const void *arg);        /* uint32_t */

typedef struct cf_channel_arg {
	uint16_t number;
	il_addr peer;
	bool omit_number, omit_peer;
} cf_channel_arg;
void cf_add_channel(il_stun_builder *b, const void *arg);

/* A TURN client on one 5-tuple. */
typedef struct cf_turn {
	cf_ctx *ctx;
	int client;
	char realm[256];
	char nonce[256];
	size_t nonce_len;
	uint16_t algs[8];        /* PASSWORD-ALGORITHMS the server sent (pairs flattened) */
	size_t nalgs;
	uint8_t algs_raw[64];    /* the attribute's value as sent, echoed back */
	size_t algs_raw_len;
	bool algs_feature;       /* the nonce cookie's "Password algorithms" bit */
	bool sha256;             /* authenticate with SHA-256 (PASSWORD-ALGORITHM) */
	const char *user, *password;
	il_addr relayed, mapped;
	uint32_t lifetime;
	bool allocated;
	uint8_t last_tid[IL_STUN_TID_LEN];
} cf_turn;

/* A fresh UDP client with the target's credentials. -1: error recorded. */
int cf_turn_open(cf_ctx *ctx, cf_turn *s);
/* Sends an unauthenticated request of method; fills realm/nonce/algs
 * from the 401. Returns the response length (0: none) and the message. */
size_t cf_turn_challenge(cf_turn *s, uint16_t method, cf_attrs_fn add, const void *arg,
			 uint8_t *buf, size_t cap, il_stun_msg *resp);
/* An authenticated request (USERNAME, REALM, NONCE, MESSAGE-INTEGRITY or
 * -SHA256, FINGERPRINT). A 438 is answered once with the new nonce
 * (RFC 8489 §9.2.5). Returns the response length (0: none). */
size_t cf_turn_request(cf_turn *s, uint16_t method, cf_attrs_fn add, const void *arg,
		       uint8_t *buf, size_t cap, il_stun_msg *resp);
/* The same, without the 438 retry, with explicit tid (retransmissions). */
size_t cf_turn_request_once(cf_turn *s, uint16_t method, cf_attrs_fn add, const void *arg,
			    const uint8_t *tid, uint8_t *buf, size_t cap, il_stun_msg *resp);
/* Challenge + Allocate (UDP, extra attributes from add). Returns the
 * response length; on success s->relayed/lifetime/mapped are set. */
size_t cf_turn_allocate_with(cf_turn *s, cf_attrs_fn add, const void *arg, uint8_t *buf,
			     size_t cap, il_stun_msg *resp);
/* A plain allocation as a precondition: an error verdict when it fails. */
bool cf_turn_allocate(cf_turn *s);
/* Precondition helpers: error verdict when the server says no. */
bool cf_turn_permit(cf_turn *s, const il_addr *peer);
bool cf_turn_bind(cf_turn *s, uint16_t channel, const il_addr *peer);
/* Refresh with LIFETIME 0, no checks (cleanup on real servers). */
void cf_turn_release(cf_turn *s);
/* Send indication from the client (not authenticated, RFC 8656 §11.1). */
void cf_turn_send(cf_turn *s, const il_addr *peer, const uint8_t *data, size_t len);
/* The key the session authenticates with. */
bool cf_turn_key(const cf_turn *s, il_stun_key *key);

#endif
