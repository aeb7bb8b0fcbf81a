/* Internals of the SBC's SRTP, DTLS-SRTP and SDP crypto translation
 * (srtp.c, dtls.c, sdp_crypto.c, crypto_leg.c), and the hooks the rest
 * of ref/sbc calls. A leg that speaks plain RTP has no crypto state. */
#ifndef ICELAB_SBC_CRYPTO_H
#define ICELAB_SBC_CRYPTO_H

#include <srtp2/srtp.h>

#include "sbc_internal.h"

#define SBC_CRYPTO_MAX_PACKET 4096   /* larger RTP on an SRTP leg is dropped */
#define SBC_KEY_MAX 30               /* master key || salt: 16 + 14 */
#define SBC_MISMATCH_PACKETS 10      /* auth failures in a row, none passed: report */

/* ---- SRTP suites and contexts (srtp.c) ---- */

enum sbc_suite {
	SBC_SUITE_NONE = 0,
	SBC_SUITE_AES_CM_80,         /* AES_CM_128_HMAC_SHA1_80 (RFC 4568 §6.2.1) */
	SBC_SUITE_AES_CM_32,         /* AES_CM_128_HMAC_SHA1_32 (RFC 4568 §6.2.2) */
	SBC_SUITE_GCM_128,           /* AEAD_AES_128_GCM (RFC 7714 §12) */
	SBC_SUITE_COUNT
};

/* The SDES name, key||salt length; NULL / 0 for an unknown suite. */
const char *sbc_suite_name(int suite);
size_t sbc_suite_key_len(int suite);
int sbc_suite_from_name(const char *name, size_t len);
/* True when this libsrtp2 build can run the suite. */
bool sbc_suite_available(int suite);

/* One direction of one leg: a libsrtp2 session for any SSRC. */
typedef struct sbc_srtp {
	srtp_t ctx;                  /* made on the first packet (see sbc_srtp_set) */
	bool keyed;                  /* false: no keys */
	bool inbound;
	int suite;
	uint8_t key[SBC_KEY_MAX];
} sbc_srtp;

/* Keys (re)set; unchanged keys keep the context (its replay window and
 * rollover counters). 0, or -1 when this libsrtp2 cannot run the suite.
 * The libsrtp2 context is made by the first protect or unprotect: with
 * Debian's libsrtp2 (NSS inside) one costs about 29 KiB, and a call that
 * never carries media need not pay it (RSS per idle call, issue #8 §7). */
int sbc_srtp_set(sbc_srtp *x, int suite, const uint8_t *key, bool inbound);
void sbc_srtp_clear(sbc_srtp *x);
/* In place in buf (cap >= len + SRTP_MAX_TRAILER_LEN for protect).
 * Return the srtp_err_status_t. */
int sbc_srtp_protect(sbc_srtp *x, bool rtcp, uint8_t *buf, size_t *len, size_t cap);
int sbc_srtp_unprotect(sbc_srtp *x, bool rtcp, uint8_t *buf, size_t *len);

/* An a=crypto line (RFC 4568 §9.1): tag, suite, one inline key. */
typedef struct sbc_sdes {
	unsigned tag;
	int suite;
	uint8_t key[SBC_KEY_MAX];
} sbc_sdes;
/* "a=crypto:..." (or the value after "a="): 0, or -1 when malformed,
 * an unknown or unavailable suite, or parameters we do not implement
 * (MKI, session parameters). */
int sbc_sdes_parse(const char *line, size_t len, sbc_sdes *out);
/* "a=crypto:TAG SUITE inline:BASE64" into out. */
int sbc_sdes_format(const sbc_sdes *c, char *out, size_t cap);

/* ---- DTLS endpoints (dtls.c) ---- */

typedef struct sbc_dtls sbc_dtls;
typedef struct sbc_dtls_ctx sbc_dtls_ctx;  /* the certificate and SSL_CTX */

/* A self-signed P-256 certificate (RFC 5763 §5: self-signed is fine,
 * the fingerprint in the SDP is what binds it). NULL on failure. */
sbc_dtls_ctx *sbc_dtls_ctx_new(void);
void sbc_dtls_ctx_free(sbc_dtls_ctx *c);
/* The bridge's one certificate, made on first use and kept for the
 * process (RFC 5763 does not ask for one per call; a session then costs
 * no key generation and no SSL_CTX). NULL when it cannot be made. */
sbc_dtls_ctx *sbc_dtls_ctx_shared(void);
/* "sha-256 AB:CD:..." (RFC 8122 §5) */
const char *sbc_dtls_ctx_fingerprint(const sbc_dtls_ctx *c);

/* Records out go to send(user, data, len), one datagram each. */
typedef void (*sbc_dtls_send_fn)(void *user, const uint8_t *data, size_t len);
/* The peer's fingerprint "sha-256 AB:CD:..." (hash names of RFC 8122
 * §5: sha-1, sha-224, sha-256, sha-384, sha-512). NULL when it does not
 * parse. */
sbc_dtls *sbc_dtls_new(sbc_dtls_ctx *c, bool client, const char *peer_fingerprint,
		       sbc_dtls_send_fn send, void *user);
void sbc_dtls_free(sbc_dtls *d);
bool sbc_dtls_is_client(const sbc_dtls *d);
/* The client's first flight. */
void sbc_dtls_start(sbc_dtls *d, uint64_t now_ms);
/* A datagram whose first byte is 20..63 (RFC 7983). */
void sbc_dtls_handle(sbc_dtls *d, const uint8_t *data, size_t len, uint64_t now_ms);
void sbc_dtls_timer(sbc_dtls *d, uint64_t now_ms);
uint64_t sbc_dtls_deadline(const sbc_dtls *d);
int sbc_dtls_state(const sbc_dtls *d);   /* enum il_sbc_dtls_state */
const char *sbc_dtls_error(const sbc_dtls *d);
/* Connected: the negotiated suite and our (local) and the peer's
 * key||salt (RFC 5764 §4.2). Returns the suite or SBC_SUITE_NONE. */
int sbc_dtls_keys(const sbc_dtls *d, uint8_t local[SBC_KEY_MAX], uint8_t remote[SBC_KEY_MAX]);
/* The peer fingerprint as given (for "is this the same association"). */
const char *sbc_dtls_peer_fingerprint(const sbc_dtls *d);

/* ---- a leg's crypto (crypto_leg.c, sdp_crypto.c) ---- */

enum sbc_setup { SBC_SETUP_NONE = 0, SBC_SETUP_ACTPASS, SBC_SETUP_ACTIVE, SBC_SETUP_PASSIVE };

#define SBC_OFFER_SUITES 2  /* what we offer: AES_CM_128_HMAC_SHA1_80, _32 */

typedef struct sbc_leg_crypto {
	int profile;                 /* negotiated: IL_SBC_PROFILE_RTP, _SDES, _DTLS */
	char proto[IL_SDP_TOKEN_MAX];/* the peer's m= proto, echoed in our answer */
	/* SDES: the peer's chosen line, our key in that suite. */
	sbc_sdes peer_sdes;
	sbc_sdes our_sdes;
	/* What we offered toward this leg: one key per suite, tags 1.. */
	sbc_sdes offered[SBC_OFFER_SUITES];
	size_t offered_count;
	int offered_profile;         /* what the last offer toward the leg said */
	/* DTLS: the peer's a=setup and fingerprint, our role. */
	int peer_setup;
	char peer_fp[200];
	bool we_client;
	sbc_dtls *dtls;
	il_addr dtls_remote;         /* legacy leg, before latching: the handshake's peer */
	bool dtls_reported;          /* CONNECTED or FAILED emitted */
	sbc_srtp rx, tx;             /* unprotect the peer's, protect ours */
	uint64_t unprotected, protected_;
	uint32_t fail_streak;        /* authentication failures since the last success */
	uint64_t now_ms;             /* of the call that runs the DTLS endpoint */
	char text[160];              /* event text */
} sbc_leg_crypto;

sbc_leg_crypto *sbc_leg_crypto_get(sbc_leg *l);  /* allocates; NULL when out of memory */
void sbc_crypto_free(il_sbc_session *s);

/* session.c, pass_through: after peer_from_sdp, the peer's crypto ... */
int sbc_crypto_peer_sdp(il_sbc_session *s, sbc_leg *from, const il_sdp_session *sdp, int mi,
			bool is_offer, uint64_t now_ms);
/* ... and after il_sbc_sdp_rewrite, ours toward leg `to`. */
int sbc_crypto_rewrite(il_sbc_session *s, sbc_leg *to, const sbc_leg *from, il_sdp_session *sdp,
		       int mi, bool is_offer, uint64_t now_ms);

/* media.c: true when the leg's media is SRTP. */
bool sbc_crypto_srtp_leg(const sbc_leg *l);
bool sbc_crypto_dtls_leg(const sbc_leg *l);
bool sbc_crypto_dtls_failed(const sbc_leg *l);  /* its handshake failed: DTLS is dropped */
/* Authenticates and decrypts *data into the session's buffer: -1 when
 * it passed (*data, *len then the plain packet), else the drop reason. */
int sbc_crypto_unprotect(sbc_leg *l, bool rtcp, const uint8_t **data, size_t *len,
			 const il_addr *from);
/* Protects toward an SRTP leg: false when it cannot (no keys yet). */
bool sbc_crypto_protect(sbc_leg *l, bool rtcp, const uint8_t **data, size_t *len);
/* A DTLS record from an accepted source. */
int sbc_crypto_handle_dtls(sbc_leg *l, const il_addr *remote, const uint8_t *data, size_t len,
			   uint64_t now_ms);
void sbc_crypto_timer(il_sbc_session *s, uint64_t now_ms);
uint64_t sbc_crypto_next_deadline(const il_sbc_session *s);
void sbc_crypto_leg_stats(const sbc_leg *l, il_sbc_leg_stats *out);
/* The DTLS endpoint's records to the leg's peer (user: the sbc_leg). */
void sbc_crypto_dtls_send(void *user, const uint8_t *data, size_t len);

/* media.c: where the bridge sends on a leg now; false when nowhere. */
bool sbc_leg_destination(const sbc_leg *l, il_addr *to);

#endif
